"""A Hypothesis RuleBasedStateMachine drives random command sequences against the tables.

Invariants: an accepted command raises the sequence by exactly one and lands in a stage
its table entry allows; a refusal changes nothing and is the error the tables predict
(case closed, wrong actor, stale sequence, wrong stage, deadline passed) or a content
refusal; terminal stages have no exits; advance() never moves a case backwards in time.
Across all runs every stage is reached (checked by the last test).
"""

from __future__ import annotations

import copy
import json
from dataclasses import replace
from datetime import timedelta

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
)

from backend import procedure as p
from backend.procedure._machine import ROLE_ORDER
from tests.backend.procedure.procedure_helpers import (
    ACTOR_OF_ROLE,
    AMOUNT,
    JURY_RULES,
    RETURN_AWARD,
    SIDE_OF_RETURN_STEP,
    SPARE,
    STRANGER,
    T0,
    blank,
    fields_for,
)

ACTORS = sorted({*ACTOR_OF_ROLE.values(), SPARE, STRANGER})
REACHED: set[p.Stage] = set()
R, S = p.Role, p.Stage
FORWARD: dict[p.Stage, list[tuple[p.Role, type[p.Command]]]] = {
    S.NOT_FILED: [(R.CLAIMANT, p.FileClaim)],
    S.FILED: [(R.RESPONDENT, p.MakeOffer), (R.CLAIMANT, p.RequestFacilitation)],
    S.NEGOTIATION: [(R.CLAIMANT, p.AgreeToArbitrate), (R.RESPONDENT, p.AgreeToArbitrate),
                    (R.RESPONDENT, p.RequestFacilitation)],
    S.FACILITATION: [(R.INSTITUTION, p.AppointMediator), (R.CLAIMANT, p.AgreeToArbitrate),
                     (R.RESPONDENT, p.AgreeToArbitrate), (R.MEDIATOR, p.DeclareImpasse),
                     (R.MEDIATOR, p.ProposeFastTrack)],
    S.ARBITRATOR_APPOINTMENT: [(R.INSTITUTION, p.AppointArbitrator)],
    S.EVIDENCE: [(R.CLAIMANT, p.SubmitEvidence), (R.RESPONDENT, p.SubmitAnswer),
                 (R.ARBITRATOR, p.CloseRecord)],
    S.RECORD_CLOSED: [(R.ARBITRATOR, p.IssueAward)],
    S.AWARDED: [(R.CLAIMANT, p.Object), (R.RESPONDENT, p.Object)],
    S.PANEL_APPOINTMENT: [(R.INSTITUTION, p.AppointPanel)],
    S.PANEL: [(R.PANELIST, p.IssuePanelAward)],
    S.FINAL: [(R.ANYONE, p.Enforce), (R.INSTITUTION, p.RecordEnforcement)],
    S.AWARDED_BY_PANEL: [(R.ANYONE, p.Enforce), (R.INSTITUTION, p.RecordEnforcement)],
    S.SETTLED: [(R.COURT, p.ConfirmJudicially), (R.COURT, p.RefuseConfirmation)],
    S.ENFORCED: [(R.COURT, p.ConfirmJudicially), (R.COURT, p.RefuseConfirmation)],
    S.JURY_DRAW: [(R.INSTITUTION, p.CommitJurySeed), (R.INSTITUTION, p.DrawJury)],
    S.JURY_ACCEPTANCE: [(R.JUROR, p.AcceptJuryDuty)],
    S.JURY_VOTING: [(R.JUROR, p.CommitVote)],
    S.JURY_REVEAL: [(R.JUROR, p.RevealVote)],
    S.JURY_TALLY: [(R.INSTITUTION, p.RecordTally)],
    S.JURY_DECIDED: [(R.CLAIMANT, p.Object), (R.RESPONDENT, p.Object)],
    S.JURY_FINAL: [(R.INSTITUTION, p.RecordEnforcement)],
    S.RETURN_PENDING: [(R.CLAIMANT, p.ShipReturn)],
    S.RETURN_SHIPPED: [(R.RESPONDENT, p.ConfirmReturnReceipt),
                       (R.RESPONDENT, p.DisputeReturnReceipt),
                       (R.INSTITUTION, p.RecordReturnDelivery)],
}
TO_THE_JURY = {  # the way from filing to the draw on a case with the order's jury clause
    S.NOT_FILED: (R.CLAIMANT, p.FileClaim),
    S.FILED: (R.RESPONDENT, p.MakeOffer),
    S.NEGOTIATION: (R.RESPONDENT, p.RequestFacilitation),
    S.FACILITATION: (R.MEDIATOR, p.DeclareImpasse),
}
JURY_STEPS = {S.JURY_ACCEPTANCE: p.AcceptJuryDuty, S.JURY_VOTING: p.CommitVote,
              S.JURY_REVEAL: p.RevealVote}
MAX_STEP = 6 * 3600  # small steps: most commands arrive within their stage


def predicted_refusal(case, cmd, now) -> type[p.ProcedureError] | None:
    """The table-level refusal for ``cmd``, or None when only content checks remain."""
    if case.stage in p.TERMINAL_STAGES:
        return p.CaseClosed
    roles = case.roles_of(cmd.actor)
    table = p.COMMAND_TRANSITIONS
    if not any(type(cmd) in row for r in roles for row in table.get(r, {}).values()):
        return p.WrongActor
    side = SIDE_OF_RETURN_STEP.get(type(cmd))
    if side is not None and cmd.actor != side:  # a party step of one side of the order
        return p.WrongActor
    if cmd.sequence != case.next_sequence:
        return p.StaleSequence
    if not any(type(cmd) in table.get(r, {}).get(case.stage, {}) for r in roles):
        return p.WrongStage
    if case.deadline is not None and case.stage in p.DEADLINE_TRANSITIONS and now >= case.deadline:
        return p.DeadlinePassed
    return None


def target_of(case, cmd):
    for role in ROLE_ORDER:
        if role in case.roles_of(cmd.actor):
            entry = p.COMMAND_TRANSITIONS.get(role, {}).get(case.stage, {}).get(type(cmd))
            if entry is not None:
                return set(p.outcomes(entry))
    raise AssertionError("accepted without a table entry")


class ProcedureMachine(RuleBasedStateMachine):
    # a quarter of the runs on the jury track (its own rule walks it quickly); the rest
    # keep the main line's deep stages visited
    # an eighth of the runs under rules that open the fast track to this order (docs/jury.md)
    @initialize(agreed=st.booleans(), jury=st.sampled_from([False, False, False, True]),
                fast=st.sampled_from([False] * 7 + [True]))
    def start(self, agreed: bool, jury: bool, fast: bool) -> None:
        rules = JURY_RULES if jury else p.DEFAULT_RULES
        if fast:
            rules = replace(rules, fast_track_max_amount=AMOUNT)
        self.fast = fast
        self.case = blank(arbitration_agreed=agreed, jury=jury, rules=rules)
        self.now = T0
        self.accepted = 0
        REACHED.add(self.case.stage)

    def _try(self, cmd: p.Command) -> None:
        before = self.case
        snapshot = copy.deepcopy(before)  # taken before apply, compared after a refusal
        expected = predicted_refusal(before, cmd, self.now)
        try:
            new, effects = p.apply(before, cmd, self.now)
        except p.ProcedureError as err:
            assert before == snapshot  # refusal changes nothing
            if expected is not None:
                assert type(err) is expected, (err, expected)
            else:
                assert isinstance(err, p.InvalidCommand), err
            return
        assert expected is None, f"accepted although {expected.__name__} was predicted"
        assert new.next_sequence == before.next_sequence + 1
        assert new.stage in target_of(before, cmd)
        assert any(isinstance(e, p.AnchorStep) and e.sequence == cmd.sequence for e in effects)
        self.case = new
        self.accepted += 1
        REACHED.add(new.stage)

    @rule(data=st.data())
    def allowed_command(self, data) -> None:
        """A command the tables admit for some role in this stage, with valid fields."""
        options = [
            (role, cls)
            for role in ROLE_ORDER
            for cls in p.COMMAND_TRANSITIONS.get(role, {}).get(self.case.stage, {})
        ]
        if not options:
            return
        self._table_command(data, *data.draw(st.sampled_from(options)))

    def _jurors_to_act(self, cls) -> list[str]:
        """Jurors who have not yet taken step ``cls`` (all of them when none is left)."""
        j = self.case.jury
        done = {p.AcceptJuryDuty: set(j.accepted),
                p.CommitVote: {v.juror for v in j.votes},
                p.RevealVote: {v.juror for v in j.votes if v.choice is not None}}.get(cls, set())
        return sorted(set(j.jurors) - done) or sorted(j.jurors)

    def _table_command(self, data, role, cls) -> None:
        actor = ACTOR_OF_ROLE[role]
        if role is p.Role.CLAIMANT and self.case.claimant is None:
            actor = data.draw(st.sampled_from(sorted(self.case.parties)))
        if role is p.Role.PANELIST and self.case.panel:
            actor = data.draw(st.sampled_from(sorted(self.case.panel)))
        if role is p.Role.ARBITRATOR and self.case.arbitrator:
            actor = self.case.arbitrator
        if role is p.Role.JUROR and self.case.jury.jurors:
            actor = data.draw(st.sampled_from(self._jurors_to_act(cls)))
        fields = fields_for(self.case, cls, actor)
        if cls is p.IssueAward and data.draw(st.integers(0, 2)) == 0:
            fields = dict(RETURN_AWARD)  # a return-and-refund award: the return stage follows
        try:
            cmd = cls(actor=actor, sequence=self.case.next_sequence, **fields)
        except p.InvalidCommand:
            return
        self._try(cmd)

    @rule(data=st.data())
    def forward_command(self, data) -> None:
        """A step along the main line (no settlement shortcut), so deep stages get visited."""
        if self.case.stage in (S.AWARDED, S.JURY_DECIDED, S.JURY_VOTING,
                               S.FAST_TRACK_PROPOSED, S.RETURN_PENDING, S.RETURN_SHIPPED) \
                and data.draw(st.integers(0, 2)) == 0:
            self.scheduler_fires_at_next_deadline()  # the main line: nobody objects in time
            return
        options = [(r, c) for r, c in FORWARD.get(self.case.stage, ())
                   if c in p.COMMAND_TRANSITIONS[r].get(self.case.stage, {})]
        if options:
            self._table_command(data, *data.draw(st.sampled_from(options)))

    @precondition(lambda self: self.fast)
    @rule()
    def the_fast_track_acts(self) -> None:
        """The fast track's own way once the case is in facilitation: the mediator appointed,
        the pre-evaluation proposed (refused, as the table says, without a binding agreement),
        and the objection window running out with nobody objecting. Its stages are otherwise
        one command among many in one run of eight, too rare for the random walk alone."""
        admin, mediator = ACTOR_OF_ROLE[R.INSTITUTION], ACTOR_OF_ROLE[R.MEDIATOR]
        if self.case.stage is S.FACILITATION:
            steps = [(admin, p.AppointMediator)] if self.case.mediator is None else []
            for actor, cls in [*steps, (mediator, p.ProposeFastTrack)]:
                try:
                    cmd = cls(actor=actor, sequence=self.case.next_sequence,
                              **fields_for(self.case, cls, actor))
                except p.InvalidCommand:
                    return
                self._try(cmd)
        elif self.case.stage is S.FAST_TRACK_PROPOSED:
            self.scheduler_fires_at_next_deadline()

    @precondition(lambda self: self.case.stage is S.RETURN_PENDING)
    @rule()
    def the_claimant_ships_the_return(self) -> None:
        """The return's own way once a return-and-refund award reached its stage: its
        stages are otherwise one command among many after an award drawn one time in three,
        and whether a run of the random walk reached the last one depended on the run."""
        role, cls = R.CLAIMANT, p.ShipReturn
        actor = ACTOR_OF_ROLE[role]
        try:
            cmd = cls(actor=actor, sequence=self.case.next_sequence,
                      **fields_for(self.case, cls, actor))
        except p.InvalidCommand:
            return
        self._try(cmd)

    @precondition(lambda self: self.case.order.jury_agreed)
    @rule()
    def the_jury_acts(self) -> None:
        """Take the jury track's next steps until its stage stops changing (bounded)."""
        for _ in range(12):
            before = (self.case.stage, self.case.next_sequence)
            self._jury_step()
            if (self.case.stage, self.case.next_sequence) == before:
                return

    def _jury_step(self) -> None:
        """The jury track's next steps at once: the institution commits and draws, every
        juror who has not yet done so takes the stage's own step (accept, commit, reveal),
        the institution tallies, and the vote and objection windows run out. The jury's path
        is long; this keeps its deep stages visited by the random runs."""
        stage = self.case.stage
        admin = ACTOR_OF_ROLE[R.INSTITUTION]
        if self.case.order.jury_agreed and stage in TO_THE_JURY:
            role, cls = TO_THE_JURY[stage]
            if cls is p.DeclareImpasse and self.case.mediator is None:
                role, cls = R.INSTITUTION, p.AppointMediator
            actor = self.case.order.buyer if role is R.CLAIMANT and self.case.claimant is None \
                else ACTOR_OF_ROLE[role]
            if role is R.RESPONDENT and self.case.respondent is not None:
                actor = self.case.respondent
            try:
                cmd = cls(actor=actor, sequence=self.case.next_sequence,
                          **fields_for(self.case, cls, actor))
            except p.InvalidCommand:
                return
            self._try(cmd)
        elif stage is S.JURY_DRAW:
            for cls in (p.CommitJurySeed, p.DrawJury):
                self._try(cls(actor=admin, sequence=self.case.next_sequence,
                              **fields_for(self.case, cls, admin)))
        elif stage is S.JURY_TALLY:
            self._try(p.RecordTally(actor=admin, sequence=self.case.next_sequence,
                                    **fields_for(self.case, p.RecordTally, admin)))
        elif stage in JURY_STEPS:
            cls = JURY_STEPS[stage]
            for juror in self._jurors_to_act(cls):
                if self.case.stage is not stage:
                    break
                self._try(cls(actor=juror, sequence=self.case.next_sequence,
                              **fields_for(self.case, cls, juror)))
        if stage in (S.JURY_VOTING, S.JURY_REVEAL, S.JURY_DECIDED) and self.case.stage is stage:
            self.scheduler_fires_at_next_deadline()  # the jurors have acted: the window ends

    @rule(cls=st.sampled_from(p.COMMAND_TYPES), actor=st.sampled_from(ACTORS),
          seq_offset=st.sampled_from([0, 0, 0, -1, 1, 7]))
    def any_command(self, cls, actor, seq_offset) -> None:
        """Any command by anyone, sometimes with a wrong sequence."""
        sequence = self.case.next_sequence + seq_offset
        if sequence < 0:
            return
        try:
            cmd = cls(actor=actor, sequence=sequence, **fields_for(self.case, cls, actor))
        except p.InvalidCommand:
            return
        self._try(cmd)

    @rule(seconds=st.integers(min_value=0, max_value=MAX_STEP))
    def time_passes(self, seconds: int) -> None:
        self.now += timedelta(seconds=seconds)

    @rule()
    def scheduler_fires_at_next_deadline(self) -> None:
        """What the real scheduler does: wake at next_deadline(case) and advance."""
        due = p.next_deadline(self.case)
        if due is not None:
            self._advance_to(due)

    @rule(seconds=st.sampled_from([0, 3600, 24 * 3600, 6 * 24 * 3600, 30 * 24 * 3600]))
    def scheduler_runs(self, seconds: int) -> None:
        self._advance_to(self.now + timedelta(seconds=seconds))

    def _advance_to(self, when) -> None:
        self.now = max(self.now, when)
        before = self.case
        new, effects = p.advance(before, self.now)
        defaults = sum(1 for e in effects if isinstance(e, p.AnchorStep) and e.sequence is None)
        assert new.next_sequence == before.next_sequence + defaults  # each default is recorded
        if new.stage is before.stage:
            assert new == before and effects == []
        else:
            chain = [e for e in effects if isinstance(e, p.StageChanged)]
            assert chain[0].stage_from is before.stage and chain[-1].stage_to is new.stage
            assert all(e.by_default for e in chain)
            assert all(e.stage_from in p.DEADLINE_TRANSITIONS for e in chain)
            assert all(e.at <= self.now for e in chain)
            REACHED.update(e.stage_to for e in chain)  # stages passed through by default
        due = p.next_deadline(new)
        assert due is None or due > self.now
        self.case = new
        REACHED.add(new.stage)

    @invariant()
    def consistent(self) -> None:
        case = getattr(self, "case", None)
        if case is None:
            return
        if case.stage in p.TERMINAL_STAGES or case.stage not in p.DEADLINE_TRANSITIONS:
            assert p.next_deadline(case) is None
        if case.settlement is not None:
            assert case.stage in {p.Stage.SETTLED, p.Stage.JUDICIALLY_CONFIRMED,
                                  p.Stage.CONFIRMATION_REFUSED}
        for offer in case.offers:
            a = offer.allocation
            assert a.to_buyer + a.to_seller == case.order.amount
            assert a.compensation <= case.order.guarantee
        assert case.next_sequence >= self.accepted
        if case is not getattr(self, "stored", None):  # only when the case changed
            text = json.dumps(p.case_to_dict(case), separators=(",", ":"))
            assert p.case_to_json(case) == text  # the cached encoding is the plain one
            assert p.case_from_dict(json.loads(text)) == case  # the database form loses nothing
            self.stored = case


ProcedureMachine.TestCase.settings = settings(
    max_examples=600,
    stateful_step_count=60,
    deadline=None,
    derandomize=True,
    database=None,  # the same examples on every machine: coverage must not depend on a local DB
    suppress_health_check=[HealthCheck.too_slow],
)
TestProcedureMachine = ProcedureMachine.TestCase


def test_zz_every_stage_reached_by_the_machine() -> None:
    """Runs after the machine (file order): the random runs reached every stage."""
    assert set(p.Stage) - REACHED == set()
