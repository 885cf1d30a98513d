"""The fast track in the core (issue 14 item 6, docs/jury.md "Fast track"): the mediator's
rule-based pre-evaluation of a small claim proposed as the resolution; it binds unless a
party objects within the short window, then the escrow executes it; an objection sends
the case to the jury (when its track applies) or a sole arbitrator.

Refusals are tests: above the threshold, with the track off, without a binding agreement,
an allocation that does not sum or whose outcome says otherwise, an objection by anyone
but a party, after the window, or twice.
"""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest

from backend import procedure as p
from tests.backend.procedure.procedure_helpers import (
    ADMIN,
    AMOUNT,
    ARBITRATOR,
    BUYER,
    CASE_ID,
    DAY,
    FAST_PROPOSAL,
    FAST_RULES,
    JURY_RULES,
    MEDIATOR,
    SELLER,
    STRANGER,
    alloc,
    deadline_of,
    entered_at,
    h,
    step,
    to_facilitation,
    to_fast_track_final,
    to_fast_track_proposed,
)

S = p.Stage


def _propose(case: p.CaseState, **over) -> tuple[p.CaseState, list[p.Effect]]:
    fields = {**FAST_PROPOSAL, **over}
    return p.apply(case, p.ProposeFastTrack(actor=MEDIATOR, sequence=case.next_sequence,
                                            **fields), entered_at(case))


def test_the_proposal_opens_a_three_day_window_and_goes_to_the_escrow() -> None:
    case = to_facilitation(rules=FAST_RULES)
    new, effects = _propose(case)
    assert new.stage is S.FAST_TRACK_PROPOSED
    assert deadline_of(new) == entered_at(case) + 3 * DAY  # the default window
    assert new.fast_track == p.FastTrack(
        recommended=p.Outcome.PARTIAL_REFUND, allocation=alloc(AMOUNT // 2),
        report_hash=h(0xFA57), proposed_at=entered_at(case))
    assert new.pre_evaluation == (p.Outcome.PARTIAL_REFUND, h(0xFA57))  # the reasons
    assert new.final_award is None  # nothing binds during the window
    submit = [e for e in effects if isinstance(e, p.SubmitFastTrackToEscrow)]
    assert submit == [p.SubmitFastTrackToEscrow(
        order_id=7, case_id=CASE_ID, allocation=alloc(AMOUNT // 2), report_hash=h(0xFA57),
        window_seconds=3 * 86_400)]
    told = [e for e in effects if isinstance(e, p.NotifyParties)
            and e.kind == "fast_track_proposed"]
    assert told and set(told[0].recipients) == {BUYER, SELLER}


def test_no_objection_binds_and_the_escrow_executes_it() -> None:
    case = to_fast_track_proposed()
    final, effects = p.advance(case, deadline_of(case))
    assert final.stage is S.FAST_TRACK_FINAL
    assert final.fast_track is not None and final.fast_track.bound
    assert final.final_award == p.AwardTerms(allocation=alloc(AMOUNT // 2),
                                             award_hash=h(0xFA57))
    assert p.ExecuteFastTrackOnEscrow(order_id=7, case_id=CASE_ID,
                                      allocation=alloc(AMOUNT // 2)) in effects
    assert any(isinstance(e, p.AnchorStep) and e.step == "deadline_missed.fast_track_proposed"
               for e in effects)
    assert p.next_deadline(final) is None  # it waits for the escrow, never for a party
    # the service records the escrow's payout; it must be the proposal's allocation
    with pytest.raises(p.InvalidAllocation):
        p.apply(final, p.RecordEnforcement(actor=ADMIN, sequence=final.next_sequence,
                                           tx_hash=h(7), allocation=alloc(0)),
                entered_at(final))
    enforced = step(final, p.RecordEnforcement, ADMIN, entered_at(final), tx_hash=h(7),
                    allocation=alloc(AMOUNT // 2))
    assert enforced.stage is S.ENFORCED


def test_the_window_is_the_setting_and_never_longer_than_the_objection_window() -> None:
    rules = replace(FAST_RULES, fast_track_days=5)
    case = to_fast_track_proposed(rules=rules)
    assert deadline_of(case) - entered_at(case) == 5 * DAY
    short = replace(FAST_RULES, objection_seconds=5)  # a development chain's escrow
    case = to_fast_track_proposed(rules=short)
    assert deadline_of(case) - entered_at(case) == timedelta(seconds=5)
    with pytest.raises(p.InvalidCommand, match="fast_track_days"):
        p.CaseRules(fast_track_days=0)
    with pytest.raises(p.InvalidCommand, match="fast_track_max_amount"):
        p.CaseRules(fast_track_max_amount=-1)


def test_an_objection_goes_to_a_sole_arbitrator() -> None:
    case = to_fast_track_proposed()
    new, effects = p.apply(case, p.ObjectToFastTrack(actor=SELLER, sequence=case.next_sequence),
                           entered_at(case) + DAY)
    assert new.stage is S.ARBITRATOR_APPOINTMENT
    assert new.fast_track is not None
    assert new.fast_track.objected_by == SELLER and not new.fast_track.bound
    assert new.final_award is None
    assert p.FastTrackObjectedOnChain(order_id=7, case_id=CASE_ID, party=SELLER) in effects
    assert any(isinstance(e, p.AppointmentRequested) and e.role is p.Role.ARBITRATOR
               for e in effects)
    # the mediator who proposed it may not decide it
    with pytest.raises(p.ConflictOfInterest):
        p.apply(new, p.AppointArbitrator(actor=ADMIN, sequence=new.next_sequence,
                                         arbitrator=MEDIATOR), entered_at(new))
    new = step(new, p.AppointArbitrator, ADMIN, entered_at(new), arbitrator=ARBITRATOR)
    assert new.stage is S.EVIDENCE
    # the report (the reasons) stays in the record for the arbitrator
    assert new.pre_evaluation == (p.Outcome.PARTIAL_REFUND, h(0xFA57))


def test_an_objection_goes_to_the_jury_when_its_track_applies() -> None:
    rules = replace(JURY_RULES, fast_track_max_amount=AMOUNT)
    case = to_fast_track_proposed(rules=rules, jury=True, agreed=False)
    case = step(case, p.ObjectToFastTrack, BUYER, entered_at(case))
    assert case.stage is S.JURY_DRAW


@pytest.mark.parametrize("actor", [MEDIATOR, ADMIN, STRANGER, ARBITRATOR])
def test_only_a_party_objects(actor: str) -> None:
    case = to_fast_track_proposed()
    with pytest.raises(p.WrongActor):
        p.apply(case, p.ObjectToFastTrack(actor=actor, sequence=case.next_sequence),
                entered_at(case))


def test_an_objection_after_the_window_is_refused() -> None:
    case = to_fast_track_proposed()
    late = p.ObjectToFastTrack(actor=BUYER, sequence=case.next_sequence)
    with pytest.raises(p.DeadlinePassed):
        p.apply(case, late, deadline_of(case))
    final, _ = p.advance(case, deadline_of(case))
    with pytest.raises(p.WrongStage):
        p.apply(final, replace(late, sequence=final.next_sequence), entered_at(final))


def test_the_objection_is_the_partys_one_objection() -> None:
    """Like the jury's verdict (docs/jury.md): no objection lies against the decision that
    follows a fast-track objection, as on the escrow."""
    case = to_fast_track_proposed()
    case = step(case, p.ObjectToFastTrack, BUYER, entered_at(case))
    case = step(case, p.AppointArbitrator, ADMIN, entered_at(case), arbitrator=ARBITRATOR)
    case = step(case, p.CloseRecord, ARBITRATOR, entered_at(case))
    case = step(case, p.IssueAward, ARBITRATOR, entered_at(case),
                allocation=alloc(AMOUNT // 3), award_hash=h(0xA))
    assert case.final_award is not None
    assert case.final_award.allocation == alloc(AMOUNT // 3)  # the arbitrator's
    with pytest.raises(p.DuplicateAction):
        p.apply(case, p.Object(actor=SELLER, sequence=case.next_sequence,
                               reasons_hash=h(0xB)), entered_at(case))


def test_above_the_threshold_or_with_the_track_off_it_is_refused() -> None:
    over = replace(FAST_RULES, fast_track_max_amount=AMOUNT - 1)
    with pytest.raises(p.InvalidCommand, match=f"at most {AMOUNT - 1}"):
        _propose(to_facilitation(rules=over))
    with pytest.raises(p.InvalidCommand, match="off"):
        _propose(to_facilitation())  # DEFAULT_RULES: fast_track_max_amount 0


def test_without_a_binding_agreement_it_is_refused() -> None:
    """Silence binds only where the parties agreed to a binding decision (arbitration or the
    jury), whose decider then hears the objection."""
    case = to_facilitation(rules=FAST_RULES, agreed=False)
    with pytest.raises(p.InvalidCommand, match="binding"):
        _propose(case)


@pytest.mark.parametrize(("recommended", "to_buyer"), [
    (p.Outcome.FULL_REFUND, AMOUNT // 2),
    (p.Outcome.RETURN_AND_REFUND, 0),
    (p.Outcome.RELEASE_TO_SELLER, AMOUNT),
    (p.Outcome.PARTIAL_REFUND, AMOUNT),
])
def test_the_outcome_must_describe_the_allocation(recommended, to_buyer) -> None:
    with pytest.raises(p.InvalidAllocation, match="not a"):
        _propose(to_facilitation(rules=FAST_RULES), recommended=recommended,
                 allocation=alloc(to_buyer))


def test_an_allocation_that_does_not_sum_or_exceeds_the_guarantee_is_refused() -> None:
    case = to_facilitation(rules=FAST_RULES)
    with pytest.raises(p.InvalidAllocation, match="escrowed"):
        _propose(case, allocation=p.Allocation(to_buyer=1, to_seller=1, compensation=0))
    with pytest.raises(p.InvalidAllocation, match="guarantee"):
        _propose(case, allocation=alloc(AMOUNT // 2, compensation=10**18))


@pytest.mark.parametrize("actor", [BUYER, SELLER, ADMIN, STRANGER])
def test_only_the_mediator_proposes(actor: str) -> None:
    case = to_facilitation(rules=FAST_RULES)
    with pytest.raises(p.WrongActor):
        p.apply(case, p.ProposeFastTrack(actor=actor, sequence=case.next_sequence,
                                         **FAST_PROPOSAL), entered_at(case))


def test_advance_is_idempotent_across_the_window() -> None:
    case = to_fast_track_proposed()
    later = deadline_of(case) + 2 * DAY
    once, _ = p.advance(case, later)
    twice, _ = p.advance(p.advance(case, deadline_of(case))[0], later)
    assert once == twice and once.stage is S.FAST_TRACK_FINAL


def test_the_case_round_trips_through_its_json_form() -> None:
    for case in (to_fast_track_proposed(), to_fast_track_final()):
        assert p.case_from_dict(p.case_to_dict(case)) == case
