"""Each command's own checks and effects, the order of checks, and the clock rules."""

from __future__ import annotations

import copy
from datetime import datetime, timedelta, timezone
from typing import Any

import pytest

from backend import procedure as p
from tests.backend.procedure.procedure_helpers import (
    ADMIN,
    AMOUNT,
    ARBITRATOR,
    AWARD,
    BUYER,
    CONFLICTED,
    COURT,
    DAY,
    GUARANTEE,
    MEDIATOR,
    PANEL,
    PANEL_AWARD,
    SELLER,
    SPARE,
    STRANGER,
    T0,
    addr,
    alloc,
    blank,
    deadline_of,
    entered_at,
    file_claim,
    h,
    step,
    to_awarded,
    to_enforced,
    to_evidence,
    to_facilitation,
    to_final,
    to_negotiation,
    to_panel,
    to_panel_appointment,
    to_record_closed,
    to_settled,
)


def refused(case, cmd, now, error):
    """Assert ``cmd`` is refused with exactly ``error`` and the case did not change."""
    snapshot = copy.deepcopy(case)  # taken before: apply must leave the case as it was
    with pytest.raises(error) as info:
        p.apply(case, cmd, now)
    assert type(info.value) is error
    assert case == snapshot
    return info.value


# -- filing ---------------------------------------------------------------------------

def test_file_claim_freezes_escrow_and_notifies_respondent() -> None:
    case = blank()
    cmd = p.FileClaim(actor=BUYER, sequence=0, dispute_type="not_as_described",  # type: ignore[arg-type]
                      remedy="partial_refund", claimed_amount=400, statement_hash=h(1).upper()  # type: ignore[arg-type]
                      .replace("0X", "0x"))
    new, effects = p.apply(case, cmd, T0)
    assert (new.stage, new.claimant, new.respondent) == (p.Stage.FILED, BUYER, SELLER)
    assert new.dispute_type is p.DisputeType.NOT_AS_DESCRIBED and new.statement_hash == h(1)
    assert new.deadline == T0 + 10 * DAY and p.next_deadline(new) == T0 + 10 * DAY
    assert effects[0] == p.FreezeEscrow(order_id=7, case_id=case.case_id)
    assert effects[1] == p.NotifyParties(kind="claim_filed", recipients=(SELLER,))
    assert p.DeadlineSet(case_id=case.case_id, stage=p.Stage.FILED, at=T0 + 10 * DAY) in effects


def test_seller_files_buyer_refuses_to_pay_and_becomes_claimant() -> None:
    case = step(blank(), p.FileClaim, SELLER, dispute_type=p.DisputeType.BUYER_REFUSES_TO_PAY,
                remedy=p.Remedy.RELEASE_PAYMENT, claimed_amount=AMOUNT, statement_hash=h(2))
    assert (case.claimant, case.respondent) == (SELLER, BUYER)
    assert p.Role.CLAIMANT in case.roles_of(SELLER) and p.Role.RESPONDENT in case.roles_of(BUYER)


@pytest.mark.parametrize(
    ("actor", "dispute", "remedy", "claimed"),
    [
        (SELLER, "goods_not_received", "full_refund", AMOUNT),  # a buyer's claim
        (BUYER, "buyer_refuses_to_pay", "release_payment", AMOUNT),  # a seller's claim
        (BUYER, "goods_not_received", "full_refund", AMOUNT - 1),  # full must be whole
        (BUYER, "not_as_described", "return_and_refund", 1),
        (BUYER, "not_as_described", "partial_refund", AMOUNT),  # partial must be less
    ],
)
def test_file_claim_content_refusals(actor, dispute, remedy, claimed) -> None:
    cmd = p.FileClaim(actor=actor, sequence=0, dispute_type=dispute, remedy=remedy,
                      claimed_amount=claimed, statement_hash=h(1))
    refused(blank(), cmd, T0, p.InvalidCommand)


def test_stranger_cannot_file_and_nobody_files_twice() -> None:
    cmd = p.FileClaim(actor=STRANGER, sequence=0, dispute_type="goods_not_received",  # type: ignore[arg-type]
                      remedy="full_refund", claimed_amount=AMOUNT, statement_hash=h(1))  # type: ignore[arg-type]
    refused(blank(), cmd, T0, p.WrongActor)
    case = file_claim()
    again = p.FileClaim(actor=BUYER, sequence=1, dispute_type="goods_not_received",  # type: ignore[arg-type]
                        remedy="full_refund", claimed_amount=AMOUNT, statement_hash=h(1))  # type: ignore[arg-type]
    refused(case, again, T0, p.WrongStage)
    # the seller is now the respondent: filing is not among a respondent's commands
    seller = p.FileClaim(actor=SELLER, sequence=1, dispute_type="buyer_refuses_to_pay",  # type: ignore[arg-type]
                         remedy="release_payment", claimed_amount=AMOUNT, statement_hash=h(1))  # type: ignore[arg-type]
    refused(case, seller, T0, p.WrongActor)


# -- order of checks, sequence, clock -------------------------------------------------

def test_stale_and_future_sequences_are_refused() -> None:
    case = file_claim()
    for seq in (0, 2, 10**6):
        cmd = p.MakeOffer(actor=SELLER, sequence=seq, offer_id="x", allocation=alloc(1))
        err = refused(case, cmd, T0, p.StaleSequence)
        assert "expected sequence 1" in str(err) and f"found {seq}" in str(err)


def test_replaying_an_accepted_command_is_refused() -> None:
    case = file_claim()
    cmd = p.MakeOffer(actor=SELLER, sequence=1, offer_id="x", allocation=alloc(1))
    new, _ = p.apply(case, cmd, T0)
    refused(new, cmd, T0, p.StaleSequence)


def test_check_order_actor_before_sequence_before_stage_before_deadline() -> None:
    case = file_claim()
    late = deadline_of(case) + timedelta(seconds=1)
    # a stranger with a stale sequence in the wrong stage after the deadline: WrongActor
    refused(case, p.CloseRecord(actor=STRANGER, sequence=99), late, p.WrongActor)
    # a party with a stale sequence, wrong stage, late: StaleSequence
    refused(case, p.Object(actor=BUYER, sequence=99, reasons_hash=h(1)), late, p.StaleSequence)
    # right sequence, wrong stage, late: WrongStage
    refused(case, p.Object(actor=BUYER, sequence=1, reasons_hash=h(1)), late, p.WrongStage)
    # right stage, late: DeadlinePassed, even for a command whose content is also bad
    bad = p.MakeOffer(actor=BUYER, sequence=1, offer_id="x",
                      allocation=p.Allocation(to_buyer=AMOUNT, to_seller=1))
    refused(case, bad, late, p.DeadlinePassed)
    refused(case, bad, late - timedelta(seconds=2), p.InvalidAllocation)


def test_deadline_instant_itself_is_late() -> None:
    case = file_claim()
    cmd = p.MakeOffer(actor=SELLER, sequence=1, offer_id="x", allocation=alloc(1))
    refused(case, cmd, case.deadline, p.DeadlinePassed)
    p.apply(case, cmd, deadline_of(case) - timedelta(microseconds=1))


@pytest.mark.parametrize(
    "now",
    [
        datetime(2026, 1, 5, 9, 0),  # naive
        datetime(2026, 1, 5, 9, 0, tzinfo=timezone(timedelta(hours=8))),  # not UTC
        "2026-01-05T09:00:00Z",
        T0 - timedelta(seconds=1),  # before the stage began: the clock ran backwards
    ],
)
def test_bad_clocks_are_refused(now) -> None:
    case = file_claim()
    cmd = p.MakeOffer(actor=SELLER, sequence=1, offer_id="x", allocation=alloc(1))
    refused(case, cmd, now, p.InvalidClock)
    with pytest.raises(p.InvalidClock):
        p.advance(case, now)


def test_apply_refuses_a_non_command() -> None:
    refused(blank(), object(), T0, p.InvalidCommand)


# -- negotiation and settlement -------------------------------------------------------

def test_claimant_offer_keeps_filed_respondent_offer_opens_negotiation() -> None:
    case = step(file_claim(), p.MakeOffer, BUYER, offer_id="b1", allocation=alloc(AMOUNT))
    assert case.stage is p.Stage.FILED
    deadline = case.deadline
    case = step(case, p.MakeOffer, SELLER, T0 + DAY, offer_id="s1", allocation=alloc(10))
    assert case.stage is p.Stage.NEGOTIATION
    assert case.deadline == deadline  # negotiation runs on the filing's clock


def test_offer_signed_by_both_executes_the_settlement() -> None:
    case = to_negotiation()
    new, effects = p.apply(case, p.AcceptOffer(actor=BUYER, sequence=case.next_sequence,
                                               offer_id="s1"), T0)
    assert new.stage is p.Stage.SETTLED and new.settlement == alloc(AMOUNT // 10)
    assert p.ExecuteSettlement(order_id=7, case_id=case.case_id,
                               allocation=alloc(AMOUNT // 10)) in effects
    assert new.deadline is None and p.next_deadline(new) is None


def test_respondent_accepting_claimants_offer_while_filed_settles() -> None:
    case = step(file_claim(), p.MakeOffer, BUYER, offer_id="b1", allocation=alloc(AMOUNT // 2))
    case = step(case, p.AcceptOffer, SELLER, offer_id="b1")
    assert case.stage is p.Stage.SETTLED


def test_offer_refusals() -> None:
    case = to_negotiation()
    n = case.next_sequence
    # allocations must sum to the escrow exactly and respect the guarantee cap
    for bad in (p.Allocation(to_buyer=1, to_seller=1),
                p.Allocation(to_buyer=AMOUNT, to_seller=1),
                alloc(0, compensation=GUARANTEE + 1)):
        refused(case, p.MakeOffer(actor=BUYER, sequence=n, offer_id="b", allocation=bad), T0,
                p.InvalidAllocation)
    refused(case, p.MakeOffer(actor=BUYER, sequence=n, offer_id="s1", allocation=alloc(1)), T0,
            p.DuplicateAction)
    refused(case, p.AcceptOffer(actor=BUYER, sequence=n, offer_id="zz"), T0, p.UnknownOffer)
    refused(case, p.AcceptOffer(actor=SELLER, sequence=n, offer_id="s1"), T0, p.DuplicateAction)
    refused(case, p.WithdrawOffer(actor=BUYER, sequence=n, offer_id="s1"), T0, p.UnknownOffer)
    withdrawn = step(case, p.WithdrawOffer, SELLER, offer_id="s1")
    refused(withdrawn, p.AcceptOffer(actor=BUYER, sequence=n + 1, offer_id="s1"), T0,
            p.UnknownOffer)
    refused(withdrawn, p.WithdrawOffer(actor=SELLER, sequence=n + 1, offer_id="s1"), T0,
            p.UnknownOffer)


def test_compensation_up_to_the_guarantee_is_accepted() -> None:
    case = step(to_negotiation(), p.MakeOffer, BUYER, offer_id="b",
                allocation=alloc(0, compensation=GUARANTEE))
    offer = case.offer("b")
    assert offer is not None and offer.allocation.compensation == GUARANTEE


def test_request_facilitation_ends_negotiation_early() -> None:
    case = step(to_negotiation(), p.RequestFacilitation, SELLER, T0 + DAY)
    assert case.stage is p.Stage.FACILITATION
    assert case.deadline == T0 + DAY + 10 * DAY


# -- facilitation ---------------------------------------------------------------------

def test_entering_facilitation_requests_a_mediator() -> None:
    case = to_negotiation()
    new, effects = p.apply(case, p.RequestFacilitation(actor=BUYER, sequence=case.next_sequence),
                           T0)
    assert p.AppointmentRequested(role=p.Role.MEDIATOR, by=new.deadline) in effects


def test_mediator_conflict_check_and_single_appointment() -> None:
    case = to_facilitation(mediator=False)
    n = case.next_sequence
    for bad in (BUYER, SELLER, ADMIN, COURT, CONFLICTED):
        refused(case, p.AppointMediator(actor=ADMIN, sequence=n, mediator=bad), T0,
                p.ConflictOfInterest)
    case = step(case, p.AppointMediator, ADMIN, mediator=MEDIATOR)
    refused(case, p.AppointMediator(actor=ADMIN, sequence=n + 1, mediator=SPARE), T0,
            p.DuplicateAction)


def test_mediator_proposal_needs_both_parties() -> None:
    case = step(to_facilitation(), p.ProposeSettlement, MEDIATOR, offer_id="m1",
                allocation=alloc(AMOUNT // 3))
    case = step(case, p.PublishPreEvaluation, MEDIATOR, recommended="partial_refund",
                report_hash=h(5))
    assert case.pre_evaluation == (p.Outcome.PARTIAL_REFUND, h(5))
    case = step(case, p.AcceptOffer, BUYER, offer_id="m1")
    assert case.stage is p.Stage.FACILITATION
    case = step(case, p.AcceptOffer, SELLER, offer_id="m1")
    assert case.stage is p.Stage.SETTLED and case.settlement == alloc(AMOUNT // 3)


def test_a_party_cannot_propose_as_mediator_nor_mediator_offer_as_party() -> None:
    case = to_facilitation()
    n = case.next_sequence
    refused(case, p.ProposeSettlement(actor=BUYER, sequence=n, offer_id="x", allocation=alloc(1)),
            T0, p.WrongActor)
    refused(case, p.MakeOffer(actor=MEDIATOR, sequence=n, offer_id="x", allocation=alloc(1)),
            T0, p.WrongActor)


def test_impasse_goes_to_arbitration_when_agreed_else_litigation() -> None:
    agreed = step(to_facilitation(), p.DeclareImpasse, MEDIATOR)
    assert agreed.stage is p.Stage.ARBITRATOR_APPOINTMENT
    one_sided = step(to_negotiation(), p.AgreeToArbitrate, BUYER)
    one_sided = step(one_sided, p.RequestFacilitation, BUYER)
    one_sided = step(one_sided, p.AppointMediator, ADMIN, mediator=MEDIATOR)
    assert step(one_sided, p.DeclareImpasse, MEDIATOR).stage is p.Stage.CLOSED_FOR_LITIGATION
    in_terms = step(to_facilitation(agreed=False, arbitration_agreed=True), p.DeclareImpasse,
                    MEDIATOR)
    assert in_terms.stage is p.Stage.ARBITRATOR_APPOINTMENT


def test_agree_to_arbitrate_twice_or_when_in_terms_is_duplicate() -> None:
    case = step(to_negotiation(), p.AgreeToArbitrate, BUYER)
    refused(case, p.AgreeToArbitrate(actor=BUYER, sequence=case.next_sequence), T0,
            p.DuplicateAction)
    terms = to_negotiation(arbitration_agreed=True)
    refused(terms, p.AgreeToArbitrate(actor=SELLER, sequence=terms.next_sequence), T0,
            p.DuplicateAction)


# -- arbitration ----------------------------------------------------------------------

def test_arbitrator_conflict_check() -> None:
    case = step(to_facilitation(), p.DeclareImpasse, MEDIATOR)
    n = case.next_sequence
    for bad in (BUYER, SELLER, ADMIN, COURT, CONFLICTED, MEDIATOR):
        err = refused(case, p.AppointArbitrator(actor=ADMIN, sequence=n, arbitrator=bad), T0,
                      p.ConflictOfInterest)
        assert err.code == "conflict_of_interest" and err.http_status_hint == 422
    new, effects = p.apply(case, p.AppointArbitrator(actor=ADMIN, sequence=n,
                                                     arbitrator=ARBITRATOR), T0)
    assert new.stage is p.Stage.EVIDENCE and new.deadline == T0 + 7 * DAY
    assert p.AppointOnChain(order_id=7, case_id=case.case_id, arbitrators=(ARBITRATOR,),
                            round=0) in effects


def test_only_the_institution_appoints() -> None:
    case = step(to_facilitation(), p.DeclareImpasse, MEDIATOR)
    for actor in (BUYER, MEDIATOR, ARBITRATOR, COURT, STRANGER):
        refused(case, p.AppointArbitrator(actor=actor, sequence=case.next_sequence,
                                          arbitrator=ARBITRATOR), T0, p.WrongActor)


def test_answer_is_respondents_once() -> None:
    case = to_evidence()
    n = case.next_sequence
    refused(case, p.SubmitAnswer(actor=BUYER, sequence=n, answer_hash=h(3)), T0, p.WrongActor)
    case = step(case, p.SubmitAnswer, SELLER, answer_hash=h(3))
    assert case.answer_hash == h(3)
    refused(case, p.SubmitAnswer(actor=SELLER, sequence=n + 1, answer_hash=h(4)), T0,
            p.DuplicateAction)


def test_evidence_ids_unique_and_record_bounded() -> None:
    rules = p.CaseRules(max_evidence_items=2)
    case = to_evidence(rules=rules)
    case = step(case, p.SubmitEvidence, BUYER, evidence_id="e1", kind="photo", commitment=h(1))
    refused(case, p.SubmitEvidence(actor=SELLER, sequence=case.next_sequence, evidence_id="e1",
                                   kind="photo", commitment=h(2)), T0, p.DuplicateAction)  # type: ignore[arg-type]
    case = step(case, p.SubmitEvidence, SELLER, evidence_id="e2", kind="video", commitment=h(2))
    refused(case, p.SubmitEvidence(actor=SELLER, sequence=case.next_sequence, evidence_id="e3",
                                   kind="photo", commitment=h(3)), T0, p.InvalidCommand)  # type: ignore[arg-type]


def test_arbitrator_closes_record_then_awards() -> None:
    case = to_evidence()
    refused(case, p.IssueAward(actor=ARBITRATOR, sequence=case.next_sequence, **AWARD), T0,
            p.WrongStage)
    case = step(case, p.CloseRecord, ARBITRATOR, T0 + DAY)
    assert case.stage is p.Stage.RECORD_CLOSED and case.record_closed_at == T0 + DAY
    assert case.deadline == T0 + 11 * DAY
    refused(case, p.SubmitEvidence(actor=BUYER, sequence=case.next_sequence, evidence_id="late",
                                   kind="photo", commitment=h(9)), T0 + DAY, p.WrongStage)  # type: ignore[arg-type]
    refused(case, p.IssueAward(actor=SPARE, sequence=case.next_sequence, **AWARD), T0 + DAY,
            p.WrongActor)
    new, effects = p.apply(case, p.IssueAward(actor=ARBITRATOR, sequence=case.next_sequence,
                                              **AWARD), T0 + 2 * DAY)
    assert new.stage is p.Stage.AWARDED and new.award is not None
    assert new.award.award_hash == AWARD["award_hash"]
    # submitted at once, so the escrow's objection window runs alongside the case's
    assert effects[0] == p.SubmitAwardToEscrow(order_id=7, case_id=case.case_id,
                                               award=p.AwardTerms(**AWARD), round=0)
    assert new.deadline == T0 + 12 * DAY


@pytest.mark.parametrize(
    "allocation",
    [p.Allocation(to_buyer=AMOUNT, to_seller=1), alloc(0, compensation=GUARANTEE + 1)],
)
def test_award_allocation_checked(allocation) -> None:
    case = to_record_closed()
    refused(case, p.IssueAward(actor=ARBITRATOR, sequence=case.next_sequence,
                               allocation=allocation, award_hash=h(1)), T0, p.InvalidAllocation)


# -- objection and panel --------------------------------------------------------------

def test_objection_once_by_a_party() -> None:
    case = to_awarded()
    n = case.next_sequence
    for actor in (ARBITRATOR, ADMIN, STRANGER, COURT):
        refused(case, p.Object(actor=actor, sequence=n, reasons_hash=h(1)), T0, p.WrongActor)
    awarded = to_awarded()
    _, effects = p.apply(awarded, p.Object(actor=SELLER, sequence=awarded.next_sequence,
                                           reasons_hash=h(0x0B)), T0)
    assert effects[0] == p.ObjectOnChain(order_id=7, case_id=awarded.case_id, party=SELLER)
    case = to_panel_appointment()
    assert case.objection_by == SELLER
    for actor in (SELLER, BUYER):  # once: neither may object again
        refused(case, p.Object(actor=actor, sequence=case.next_sequence, reasons_hash=h(2)), T0,
                p.WrongStage)


def test_objection_after_window_refused() -> None:
    case = to_awarded()
    refused(case, p.Object(actor=BUYER, sequence=case.next_sequence, reasons_hash=h(1)),
            case.deadline, p.DeadlinePassed)


def test_panel_conflict_check() -> None:
    case = to_panel_appointment()
    n = case.next_sequence
    for bad in (ARBITRATOR, MEDIATOR, BUYER, CONFLICTED, ADMIN):
        refused(case, p.AppointPanel(actor=ADMIN, sequence=n, panel=(bad, PANEL[1], PANEL[2])),
                T0, p.ConflictOfInterest)
    _, effects = p.apply(case, p.AppointPanel(actor=ADMIN, sequence=n, panel=PANEL), T0)
    assert p.AppointOnChain(order_id=7, case_id=case.case_id, arbitrators=PANEL, round=1) \
        in effects


def test_panel_award_needs_two_matching_signatures() -> None:
    case = to_panel()
    other: dict[str, Any] = dict(allocation=alloc(AMOUNT), award_hash=h(0xD15))
    case = step(case, p.IssuePanelAward, PANEL[0], **PANEL_AWARD)
    assert case.stage is p.Stage.PANEL
    refused(case, p.IssuePanelAward(actor=PANEL[0], sequence=case.next_sequence, **PANEL_AWARD),
            T0, p.DuplicateAction)
    refused(case, p.IssuePanelAward(actor=ARBITRATOR, sequence=case.next_sequence,
                                    **PANEL_AWARD), T0, p.WrongActor)
    case = step(case, p.IssuePanelAward, PANEL[1], **other)  # a dissent
    assert case.stage is p.Stage.PANEL and case.panel_award is None
    case = step(case, p.IssuePanelAward, PANEL[2], **PANEL_AWARD)
    assert case.stage is p.Stage.AWARDED_BY_PANEL
    assert case.final_award == p.AwardTerms(**PANEL_AWARD)


def test_panel_award_is_final_no_second_objection() -> None:
    case = step(to_panel(), p.IssuePanelAward, PANEL[0], **PANEL_AWARD)
    case = step(case, p.IssuePanelAward, PANEL[1], **PANEL_AWARD)
    refused(case, p.Object(actor=BUYER, sequence=case.next_sequence, reasons_hash=h(1)), T0,
            p.WrongStage)
    _, effects = p.apply(case, p.Enforce(actor=STRANGER, sequence=case.next_sequence), T0)
    assert p.SubmitAwardToEscrow(order_id=7, case_id=case.case_id,
                                 award=p.AwardTerms(**PANEL_AWARD), round=1) in effects


# -- enforcement and the court --------------------------------------------------------

def test_enforce_is_open_to_anyone_only_when_final() -> None:
    awarded = to_awarded()
    refused(awarded, p.Enforce(actor=STRANGER, sequence=awarded.next_sequence), T0, p.WrongStage)
    final = to_final()
    for actor in (STRANGER, BUYER, SELLER, addr(0x1234)):
        new, effects = p.apply(final, p.Enforce(actor=actor, sequence=final.next_sequence),
                               entered_at(final))
        assert effects[0] == p.ExecuteAwardOnEscrow(order_id=7, case_id=final.case_id)
        assert new.stage is p.Stage.FINAL and new.enforcement_requested


def test_record_enforcement_must_match_award_and_come_from_institution() -> None:
    case = to_final()
    n, now = case.next_sequence, entered_at(case)
    refused(case, p.RecordEnforcement(actor=BUYER, sequence=n, tx_hash=h(1),
                                      allocation=AWARD["allocation"]), now, p.WrongActor)
    refused(case, p.RecordEnforcement(actor=ADMIN, sequence=n, tx_hash=h(1),
                                      allocation=alloc(AMOUNT)), now, p.InvalidAllocation)
    comp = AWARD["allocation"].compensation
    with pytest.raises(p.InvalidCommand):
        p.RecordEnforcement(actor=ADMIN, sequence=n, tx_hash=h(1),
                            allocation=AWARD["allocation"], compensation_shortfall=comp + 1)
    new = step(case, p.RecordEnforcement, ADMIN, now, tx_hash=h(1),
               allocation=AWARD["allocation"], compensation_shortfall=comp // 4)
    assert new.stage is p.Stage.ENFORCED and new.enforcement_tx == h(1)
    assert new.compensation_shortfall == comp // 4


def test_court_confirms_or_refuses_with_reasons() -> None:
    case = to_enforced()
    now = entered_at(case)
    for actor in (BUYER, ADMIN, ARBITRATOR):
        refused(case, p.ConfirmJudicially(actor=actor, sequence=case.next_sequence,
                                          package_hash=h(1), court_reference="R"), now,
                p.WrongActor)
    confirmed = step(case, p.ConfirmJudicially, COURT, now, package_hash=h(1),
                     court_reference="R-7")
    assert confirmed.stage is p.Stage.JUDICIALLY_CONFIRMED
    assert confirmed.court_decision == p.CourtDecision(
        court=COURT, confirmed=True, package_hash=h(1), court_reference="R-7")
    refusal = step(to_settled(), p.RefuseConfirmation, COURT, package_hash=h(2),
                   court_reference="R-8", reasons_hash=h(3),
                   reasons="public policy")
    assert refusal.stage is p.Stage.CONFIRMATION_REFUSED
    assert refusal.court_decision == p.CourtDecision(
        court=COURT, confirmed=False, package_hash=h(2), court_reference="R-8",
        reasons_hash=h(3), reasons="public policy")
    with pytest.raises(p.CaseClosed):
        p.apply(refusal, p.ConfirmJudicially(actor=COURT, sequence=refusal.next_sequence,
                                             package_hash=h(3), court_reference="R"), now)


def test_offers_expire() -> None:
    case = to_negotiation()
    n = case.next_sequence
    refused(case, p.MakeOffer(actor=BUYER, sequence=n, offer_id="b", allocation=alloc(1),
                              expires_at=T0), T0, p.InvalidCommand)
    case = step(case, p.MakeOffer, BUYER, T0, offer_id="b", allocation=alloc(1),
                expires_at=T0 + DAY)
    accept = p.AcceptOffer(actor=SELLER, sequence=case.next_sequence, offer_id="b")
    err = refused(case, accept, T0 + DAY, p.UnknownOffer)
    assert "expired" in str(err)
    assert p.apply(case, accept, T0 + DAY - timedelta(seconds=1))[0].stage is p.Stage.SETTLED


def test_the_core_names_each_command_once() -> None:
    """The core's own names (its AnchorStep effects); outside it, the step table's actions."""
    assert p.FileClaim.action() == "file_claim"
    assert p.PublishPreEvaluation.action() == "publish_pre_evaluation"
    assert p.IssuePanelAward.action() == "issue_panel_award"
    assert len({cls.action() for cls in p.COMMAND_TYPES}) == len(p.COMMAND_TYPES)
