"""Default proceedings: missed deadlines advance the case, with an injected clock."""

from __future__ import annotations

from dataclasses import replace
from datetime import timedelta

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from backend import procedure as p
from tests.backend.procedure.procedure_helpers import (
    ADMIN,
    ARBITRATOR,
    AWARD,
    BUYER,
    DAY,
    SELLER,
    SPARE,
    STAGE_BUILDERS,
    STRANGER,
    T0,
    alloc,
    deadline_of,
    entered_at,
    file_claim,
    h,
    step,
    to_awarded,
    to_evidence,
    to_facilitation,
    to_negotiation,
    to_panel,
    to_panel_appointment,
    to_record_closed,
)

S = p.Stage
SECOND = timedelta(seconds=1)


def test_nothing_happens_before_a_deadline() -> None:
    case = file_claim()
    assert p.advance(case, deadline_of(case) - SECOND) == (case, [])


def test_silent_respondent_moves_case_to_facilitation() -> None:
    case = file_claim()
    new, effects = p.advance(case, T0 + 10 * DAY)
    assert new.stage is S.FACILITATION
    assert new.stage_entered_at == T0 + 10 * DAY and new.deadline == T0 + 20 * DAY
    # the default is recorded as a step of the chain (the institution signs it)
    assert new.next_sequence == case.next_sequence + 1
    assert effects[0] == p.AnchorStep(case_id=case.case_id, step="deadline_missed.filed",
                                      sequence=None, at=T0 + 10 * DAY)
    assert p.StageChanged(case_id=case.case_id, stage_from=S.FILED, stage_to=S.FACILITATION,
                          at=T0 + 10 * DAY, by_default=True) in effects
    assert p.AppointmentRequested(role=p.Role.MEDIATOR, by=T0 + 20 * DAY) in effects


def test_negotiation_runs_on_the_filing_clock() -> None:
    case = step(file_claim(), p.MakeOffer, SELLER, T0 + 9 * DAY, offer_id="s",
                allocation=alloc(1))
    assert case.stage is S.NEGOTIATION and case.deadline == T0 + 10 * DAY
    assert p.advance(case, T0 + 10 * DAY)[0].stage is S.FACILITATION


def test_facilitation_without_agreement_closes_for_litigation() -> None:
    case = to_facilitation(agreed=False)
    new, effects = p.advance(case, deadline_of(case))
    assert new.stage is S.CLOSED_FOR_LITIGATION and p.next_deadline(new) is None
    assert p.ResolveEscrowByTimeout(order_id=7, case_id=case.case_id) in effects


def test_defaults_chain_until_nothing_changes() -> None:
    """Agreed in terms, nobody acts: facilitation, no tribunal appointed, litigation."""
    case = file_claim(arbitration_agreed=True)
    new, effects = p.advance(case, T0 + 365 * DAY)
    path = [(e.stage_from, e.stage_to, e.at) for e in effects if isinstance(e, p.StageChanged)]
    assert path == [
        (S.FILED, S.FACILITATION, T0 + 10 * DAY),
        (S.FACILITATION, S.ARBITRATOR_APPOINTMENT, T0 + 20 * DAY),
        (S.ARBITRATOR_APPOINTMENT, S.CLOSED_FOR_LITIGATION, T0 + 25 * DAY),
    ]
    assert new.stage is S.CLOSED_FOR_LITIGATION


def test_evidence_period_end_closes_the_record() -> None:
    case = to_evidence()
    new, _ = p.advance(case, deadline_of(case))
    assert new.stage is S.RECORD_CLOSED and new.record_closed_at == T0 + 7 * DAY
    assert new.deadline == T0 + 17 * DAY  # award 10 days after the record closes


def test_missed_award_replaces_arbitrator_then_litigation() -> None:
    case = to_record_closed(rules=p.CaseRules(max_reappointments=1))
    due = deadline_of(case)
    case, effects = p.advance(case, due)
    assert case.stage is S.ARBITRATOR_APPOINTMENT
    assert case.arbitrator is None and case.former_arbitrators == (ARBITRATOR,)
    assert p.AppointmentRequested(role=p.Role.ARBITRATOR, by=due + 5 * DAY) in effects
    # the late arbitrator can neither award nor be reappointed
    with pytest.raises(p.WrongActor):
        p.apply(case, p.IssueAward(actor=ARBITRATOR, sequence=case.next_sequence, **AWARD), due)
    with pytest.raises(p.ConflictOfInterest):
        p.apply(case, p.AppointArbitrator(actor=ADMIN, sequence=case.next_sequence,
                                          arbitrator=ARBITRATOR), due)
    # a replacement goes straight to the closed record with a fresh award deadline
    case = step(case, p.AppointArbitrator, ADMIN, due + DAY, arbitrator=SPARE)
    assert case.stage is S.RECORD_CLOSED and deadline_of(case) == due + 11 * DAY
    assert case.record_closed_at == T0  # the record stays closed as it was
    case, effects = p.advance(case, deadline_of(case))
    assert case.stage is S.CLOSED_FOR_LITIGATION  # max_reappointments = 1
    assert p.ResolveEscrowByTimeout(order_id=7, case_id=case.case_id) in effects


def test_no_reappointment_by_default_the_escrow_cannot_replace() -> None:
    case = to_record_closed()
    assert p.DEFAULT_RULES.max_reappointments == 0
    assert p.advance(case, deadline_of(case))[0].stage is S.CLOSED_FOR_LITIGATION


def test_objection_window_passes_award_becomes_final() -> None:
    case = to_awarded()
    new, _ = p.advance(case, deadline_of(case))
    assert new.stage is S.FINAL and p.next_deadline(new) is None
    new, effects = p.apply(new, p.Enforce(actor=STRANGER, sequence=new.next_sequence),
                           deadline_of(case))
    assert effects[0] == p.ExecuteAwardOnEscrow(order_id=7, case_id=case.case_id)


@pytest.mark.parametrize("build", [to_panel_appointment, to_panel])
def test_objection_without_panel_decision_leaves_for_litigation(build) -> None:
    case = build()
    assert p.advance(case, case.deadline)[0].stage is S.CLOSED_FOR_LITIGATION


def test_custom_rules_change_deadlines() -> None:
    rules = p.CaseRules(negotiation_days=3, facilitation_days=2)
    case = file_claim(rules=rules)
    assert case.deadline == T0 + 3 * DAY
    assert p.advance(case, T0 + 3 * DAY)[0].deadline == T0 + 5 * DAY


@pytest.mark.parametrize("bad", [0, -1, 366, 1.5, True, "10"])
def test_rules_are_checked(bad) -> None:
    with pytest.raises(p.InvalidCommand):
        p.CaseRules(evidence_days=bad)


def test_a_late_command_sees_deadline_passed_until_advanced() -> None:
    case = to_negotiation()
    late = deadline_of(case) + DAY
    cmd = p.AgreeToArbitrate(actor=BUYER, sequence=case.next_sequence)
    with pytest.raises(p.DeadlinePassed):
        p.apply(case, cmd, late)
    advanced, _ = p.advance(case, late)
    with pytest.raises(p.StaleSequence):  # the default took the command's position
        p.apply(advanced, cmd, late)
    p.apply(advanced, replace(cmd, sequence=advanced.next_sequence), late)  # facilitation


OFFSETS = st.integers(min_value=0, max_value=80 * 24 * 3600)


@settings(max_examples=60, deadline=None)
@given(stage=st.sampled_from(sorted(STAGE_BUILDERS)), t1=OFFSETS, t2=OFFSETS)
def test_advance_composes(stage, t1, t2) -> None:
    """advance(advance(c, t1), t2) == advance(c, t2) when t1 <= t2: scheduler lag is harmless."""
    case = STAGE_BUILDERS[stage]()
    start = case.stage_entered_at or T0
    first, second = sorted((t1, t2))
    a = start + timedelta(seconds=first)
    b = start + timedelta(seconds=second)
    once, _ = p.advance(case, b)
    twice, _ = p.advance(p.advance(case, a)[0], b)
    assert once == twice
    after = p.next_deadline(once)
    assert after is None or after > b
    missed = sum(1 for e in p.advance(case, b)[1] if isinstance(e, p.AnchorStep))
    assert once.next_sequence == case.next_sequence + missed  # one position per default


def test_answers_hash_is_normalised() -> None:
    case = step(to_evidence(), p.SubmitAnswer, SELLER,
                answer_hash="0x" + "AB" * 32)
    assert case.answer_hash == "0x" + "ab" * 32 and h(0) != case.answer_hash


ESCROW_DEFAULTS = dict(appointment=30 * DAY, award=30 * DAY, objection=10 * DAY,
                       panel_appointment=10 * DAY, panel_award=30 * DAY)


def test_default_rules_fit_the_escrows_default_timeouts() -> None:
    assert p.DEFAULT_RULES.escrow_conflicts(**ESCROW_DEFAULTS) == ()
    # the escrow executes jury verdicts: the default jury track fits its timeouts too
    assert p.CaseRules(jury_max_amount=100).escrow_conflicts(**ESCROW_DEFAULTS) == ()


@pytest.mark.parametrize(
    ("rules", "fragment"),
    [
        (p.CaseRules(negotiation_days=15, facilitation_days=10), "appointment timeout"),
        (p.CaseRules(max_reappointments=2), "award timeout"),
        (p.CaseRules(objection_days=11), "objection window"),
        (p.CaseRules(appointment_days=10), "panel appointment"),
        (p.CaseRules(award_days=30), "panel award"),
        (p.CaseRules(jury_max_amount=100, negotiation_days=12, facilitation_days=15),
         "jury track (negotiation"),
        (p.CaseRules(jury_max_amount=100, jury_vote_days=14), "jury track (acceptances"),
    ],
)
def test_rules_that_the_escrow_would_overtake_are_reported(rules, fragment) -> None:
    problems = rules.escrow_conflicts(**ESCROW_DEFAULTS)
    assert any(fragment in text for text in problems), problems


def test_an_objection_window_in_seconds_for_a_development_escrow() -> None:
    """``objection_seconds`` replaces objection_days (the embedded chain's 5 s escrow)."""
    rules = p.CaseRules(objection_seconds=5)
    case = to_awarded(rules=rules)
    assert deadline_of(case) == entered_at(case) + 5 * SECOND
    assert p.advance(case, deadline_of(case) - SECOND)[0].stage is S.AWARDED
    assert p.advance(case, deadline_of(case))[0].stage is S.FINAL
    assert rules.escrow_conflicts(**{**ESCROW_DEFAULTS, "objection": timedelta(seconds=5)}) == ()
    assert p.CaseRules(objection_seconds=6).escrow_conflicts(
        **{**ESCROW_DEFAULTS, "objection": timedelta(seconds=5)})
    restored = p.case_from_dict(p.case_to_dict(case))
    assert restored.rules.objection_seconds == 5 and restored == case


@pytest.mark.parametrize("bad", [0, -1, 86_400, 1.5, True, "5"])
def test_objection_seconds_must_be_under_a_day(bad) -> None:
    with pytest.raises(p.InvalidCommand, match="objection_seconds"):
        p.CaseRules(objection_seconds=bad)


def test_rules_stored_before_objection_seconds_still_load() -> None:
    doc = p.case_to_dict(to_awarded())
    case = doc["case"]
    assert isinstance(case, dict) and isinstance(case["rules"], dict)
    del case["rules"]["objection_seconds"]
    assert p.case_from_dict(doc).rules.objection_seconds is None
