"""Every entry of the transition tables is exercised, and every missing entry is refused."""

from __future__ import annotations

import copy

import pytest

from backend import procedure as p
from backend.procedure._machine import ROLE_ORDER
from tests.backend.procedure.procedure_helpers import (
    ACTOR_OF_ROLE,
    FAST_RULES,
    JURY_RULES,
    SIDE_OF_RETURN_STEP,
    STAGE_BUILDERS,
    command,
    now_of,
    prepare,
    to_facilitation,
)

ENTRIES = [
    (role, stage, cls, target)
    for role, stages in p.COMMAND_TRANSITIONS.items()
    for stage, row in stages.items()
    for cls, target in row.items()
]
CASES = {stage: build() for stage, build in STAGE_BUILDERS.items()}


def test_every_stage_has_a_builder() -> None:
    assert set(CASES) == set(p.Stage)
    for stage, case in CASES.items():
        assert case.stage is stage


@pytest.mark.parametrize(
    ("role", "stage", "cls", "target"),
    ENTRIES,
    ids=[f"{r}-{s}-{c.__name__}" for r, s, c, _ in ENTRIES],
)
def test_every_command_transition(role, stage, cls, target) -> None:
    actor = ACTOR_OF_ROLE[role]
    base = CASES[stage]
    if cls is p.AgreeToArbitrate and actor in base.arbitration_agreed_by:
        base = to_facilitation(agreed=False)
    if cls is p.AppointMediator:
        base = to_facilitation(mediator=False)
    if cls is p.ChooseJuryTrack:  # a small claim without the order's jury clause
        base = STAGE_BUILDERS[stage](rules=JURY_RULES)
    if cls is p.ProposeFastTrack:  # a small claim under rules that open the fast track
        base = STAGE_BUILDERS[stage](rules=FAST_RULES)
    case = prepare(base, cls, actor)
    assert case.stage is stage
    side = SIDE_OF_RETURN_STEP.get(cls)
    if side is not None and actor != side:  # the other side: its handler refuses
        with pytest.raises(p.WrongActor):
            p.apply(case, command(case, cls, actor), now_of(case))
        actor = side
    before_seq = case.next_sequence
    new, effects = p.apply(case, command(case, cls, actor), now_of(case))
    allowed = set(p.outcomes(target))
    assert new.stage in allowed
    assert new.next_sequence == before_seq + 1
    anchors = [e for e in effects if isinstance(e, p.AnchorStep)]
    assert anchors == [p.AnchorStep(case_id=case.case_id, step=cls.action(),
                                    sequence=before_seq, at=now_of(case))]
    changed = [e for e in effects if isinstance(e, p.StageChanged)]
    if new.stage is stage:
        assert changed == []
    else:
        assert changed == [p.StageChanged(case_id=case.case_id, stage_from=stage,
                                          stage_to=new.stage, at=now_of(case),
                                          by_default=False)]


def _refusals():
    for stage in p.Stage:
        for cls in p.COMMAND_TYPES:
            for role in ROLE_ORDER:
                if cls in p.COMMAND_TRANSITIONS.get(role, {}).get(stage, {}):
                    continue
                yield stage, cls, role


REFUSALS = list(_refusals())  # every (stage, command, role) the tables leave out


def _may_ever(role: p.Role, cls) -> bool:
    return any(cls in row for row in p.COMMAND_TRANSITIONS.get(role, {}).values())


def _expected_error(case: p.CaseState, cls, actor: str) -> type[p.ProcedureError] | None:
    """The refusal the tables call for, worked out independently of ``apply``'s code
    (None: another role the actor holds admits the command, e.g. ANYONE)."""
    if case.stage in p.TERMINAL_STAGES:
        return p.CaseClosed
    roles = case.roles_of(actor)
    if not any(_may_ever(r, cls) for r in roles):
        return p.WrongActor
    side = SIDE_OF_RETURN_STEP.get(cls)
    if side is not None and actor != side:  # one side's step: the other side is refused
        return p.WrongActor
    if any(cls in p.COMMAND_TRANSITIONS.get(r, {}).get(case.stage, {}) for r in roles):
        return None
    return p.WrongStage


def _behaviour(stage: p.Stage, cls, role: p.Role) -> str | None:
    """The rule that refuses this missing entry: which check of ``apply`` answers, and for
    the role checks which role's membership rule is consulted. Entries sharing a rule take
    the same path through ``apply``; one of each is a test case of its own."""
    case = CASES[stage]
    expected = _expected_error(case, cls, ACTOR_OF_ROLE[role])
    if expected is None:
        return None
    if expected is p.CaseClosed:
        elsewhere = "its-role-issues-elsewhere" if _may_ever(role, cls) else "never-its-role"
        return f"CaseClosed-before-any-role-check-{elsewhere}"
    return f"{expected.__name__}-{role}"


def _one_per_behaviour() -> dict[str, tuple[p.Stage, type[p.Command], p.Role]]:
    chosen: dict[str, tuple[p.Stage, type[p.Command], p.Role]] = {}
    for entry in REFUSALS:
        behaviour = _behaviour(*entry)
        if behaviour is not None:
            chosen.setdefault(behaviour, entry)
    return chosen


BEHAVIOURS = _one_per_behaviour()


def _refuse(stage: p.Stage, cls, role: p.Role, before: p.CaseState | None = None
            ) -> p.ProcedureError | None:
    """Apply the missing entry; the error it raised (None if it was admitted), after
    checking the case it was applied to is unchanged (compared with a deep copy, ``before``
    when given: one the caller made of the case as it is now)."""
    case = CASES[stage]
    if before is None:
        before = copy.deepcopy(case)
    try:
        p.apply(case, command(case, cls, ACTOR_OF_ROLE[role]), now_of(case))
    except p.ProcedureError as e:
        assert case == before, (stage, cls, role)
        return e
    return None


@pytest.mark.parametrize(("stage", "cls", "role"), list(BEHAVIOURS.values()),
                         ids=list(BEHAVIOURS))
def test_each_refusal_rule_refuses_and_changes_nothing(stage, cls, role) -> None:
    expected = _expected_error(CASES[stage], cls, ACTOR_OF_ROLE[role])
    error = _refuse(stage, cls, role)
    assert type(error) is expected
    assert error.code == expected.code
    assert cls.__name__ in str(error)


def test_the_refusal_rules_cover_every_check_and_role() -> None:
    """Each check of the tables refuses something, and each role is refused both for a
    command it never issues and for one it issues only elsewhere (where the tables have
    such a command)."""
    assert {b.split("-")[0] for b in BEHAVIOURS} == {"CaseClosed", "WrongActor", "WrongStage"}
    for role in ROLE_ORDER:
        if any(not _may_ever(role, cls) for cls in p.COMMAND_TYPES):
            assert f"WrongActor-{role}" in BEHAVIOURS, role


def test_every_missing_entry_is_refused_by_its_rule() -> None:
    """The whole table, in one test: every entry it leaves out is refused with the error
    its rule names (or admitted through another role the actor holds)."""
    wrong = []
    # One deep copy per stage instead of one per entry (they were 85% of this test's ~5 s of
    # CPU): a refusal leaves the case equal to the copy, which _refuse asserts each time;
    # after an admitted entry (not checked, as before) the next one copies the case again.
    copies: dict[p.Stage, p.CaseState] = {}
    for stage, cls, role in REFUSALS:
        expected = _expected_error(CASES[stage], cls, ACTOR_OF_ROLE[role])
        if stage not in copies:
            copies[stage] = copy.deepcopy(CASES[stage])
        error = _refuse(stage, cls, role, copies[stage])
        if error is None:
            del copies[stage]
        if type(error) is not (expected or type(None)):
            wrong.append((stage, cls.__name__, role, expected, error))
    assert wrong == []
    assert len(REFUSALS) > 1000  # the sweep saw the table, not an empty product


@pytest.mark.parametrize("stage", sorted(p.TERMINAL_STAGES))
def test_terminal_stages_have_no_exits(stage) -> None:
    assert all(stage not in stages for stages in p.COMMAND_TRANSITIONS.values())
    assert stage not in p.DEADLINE_TRANSITIONS
    case = CASES[stage]
    assert p.next_deadline(case) is None
    later = now_of(case) + 10_000 * (p.DEFAULT_RULES.period("award_days"))
    assert p.advance(case, later) == (case, [])


def _targets(target) -> set[p.Stage]:
    return set(p.outcomes(target))


def test_every_stage_is_reachable_in_the_tables() -> None:
    """Breadth-first over both tables from NOT_FILED reaches every stage."""
    edges: dict[p.Stage, set[p.Stage]] = {}
    for _role, _stage, _cls, target in ENTRIES:
        edges.setdefault(_stage, set()).update(_targets(target))
    for stage, target in p.DEADLINE_TRANSITIONS.items():
        edges.setdefault(stage, set()).update(_targets(target))
    seen, todo = {p.Stage.NOT_FILED}, [p.Stage.NOT_FILED]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(p.Stage)


def test_non_terminal_stages_all_have_an_exit() -> None:
    for stage in set(p.Stage) - p.TERMINAL_STAGES:
        exits = {t for stages in p.COMMAND_TRANSITIONS.values()
                 for row in [stages.get(stage, {})] for t in row.values()}
        exits |= {p.DEADLINE_TRANSITIONS[stage]} if stage in p.DEADLINE_TRANSITIONS else set()
        assert any(s != stage for t in exits for s in _targets(t)), stage


def test_stages_with_deadlines_have_deadline_transitions() -> None:
    assert set(p.STAGE_CLOCKS) == set(p.DEADLINE_TRANSITIONS)


def _guards(target) -> set[str]:
    if isinstance(target, p.Choice):
        return {target.guard} | _guards(target.if_false)
    return set()


def test_guards_named_in_tables_exist() -> None:
    named = {g for *_, t in ENTRIES for g in _guards(t)}
    named |= {g for t in p.DEADLINE_TRANSITIONS.values() for g in _guards(t)}
    assert named == set(p.GUARDS)


def test_claimant_and_respondent_share_one_rule_set() -> None:
    """Rule 2: outside filing and the answer, both parties have identical rows."""
    claimant = p.COMMAND_TRANSITIONS[p.Role.CLAIMANT]
    respondent = p.COMMAND_TRANSITIONS[p.Role.RESPONDENT]
    for stage in (p.Stage.NEGOTIATION, p.Stage.FACILITATION, p.Stage.ARBITRATOR_APPOINTMENT,
                  p.Stage.RECORD_CLOSED, p.Stage.AWARDED):
        assert claimant[stage] == respondent[stage]
    extra = set(respondent[p.Stage.EVIDENCE]) - set(claimant[p.Stage.EVIDENCE])
    assert extra == {p.SubmitAnswer}


@pytest.mark.parametrize("stage", list(p.Stage))
def test_allowed_commands_agree_with_apply(stage) -> None:
    """allowed_commands() lists exactly the commands that pass the table-level checks."""
    case = CASES[stage]
    now = now_of(case)
    table_errors = (p.CaseClosed, p.WrongActor, p.WrongStage, p.DeadlinePassed)
    for actor in {*ACTOR_OF_ROLE.values()}:
        allowed = set(p.allowed_commands(case, actor, now))
        for cls in p.COMMAND_TYPES:
            try:
                p.apply(case, command(case, cls, actor), now)
                refused_by_table = False
            except table_errors:
                refused_by_table = True
            except p.InvalidCommand:
                refused_by_table = False
            assert (cls in allowed) == (not refused_by_table), (stage, actor, cls)
    if case.deadline is not None:
        assert p.allowed_commands(case, ACTOR_OF_ROLE[p.Role.CLAIMANT], case.deadline) == ()
