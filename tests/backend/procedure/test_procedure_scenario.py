"""The demo's case (issue 4, item 8) through the core alone, with an injected clock.

A buyer pays a seller abroad; the goods are not as described; negotiation fails; mediation
with a pre-evaluation fails; arbitration (agreed in the order's terms); both parties submit
evidence; the award grants a partial refund plus compensation from the guarantee; the
objection window passes; the award executes on the escrow; the court confirms.
"""

from __future__ import annotations

import hashlib
import json

from backend import procedure as p
from tests.backend.procedure.procedure_helpers import (
    ADMIN,
    AMOUNT,
    ARBITRATOR,
    BUYER,
    COURT,
    GUARANTEE,
    MEDIATOR,
    SELLER,
    STRANGER,
    T0,
    alloc,
    blank,
    h,
)
from tests.support.clock import Clock

S = p.Stage


def assert_stored_text_is_plain(case: p.CaseState) -> None:
    """The stored text built from cached parts is byte for byte the plain encoding."""
    assert p.case_to_json(case) == json.dumps(p.case_to_dict(case), separators=(",", ":"))


def test_demo_case_from_filing_to_confirmation() -> None:
    clock = Clock(T0)
    case = blank(arbitration_agreed=True)
    stages = [case.stage]
    effects_seen: list[p.Effect] = []

    def act(cls, actor, **fields):
        nonlocal case
        cmd = cls(actor=actor, sequence=case.next_sequence, **fields)
        case, effects = p.apply(case, cmd, clock.now)
        effects_seen.extend(effects)
        assert_stored_text_is_plain(case)
        if case.stage != stages[-1]:
            stages.append(case.stage)

    def wait_for_deadline():
        nonlocal case
        due = p.next_deadline(case)
        assert due is not None
        clock.now = due
        case, effects = p.advance(case, clock.now)
        effects_seen.extend(effects)
        assert_stored_text_is_plain(case)
        stages.append(case.stage)

    act(p.FileClaim, BUYER, dispute_type="not_as_described", remedy="compensation",
        claimed_amount=GUARANTEE // 3, statement_hash=h(1))
    clock.advance(days=1)
    act(p.MakeOffer, SELLER, offer_id="s1", allocation=alloc(AMOUNT // 10))
    act(p.SubmitEvidence, BUYER, evidence_id="photos", kind="photo", commitment=h(2))
    clock.advance(days=1)
    act(p.MakeOffer, BUYER, offer_id="b1", allocation=alloc(AMOUNT // 2, GUARANTEE // 3))
    wait_for_deadline()  # negotiation fails
    act(p.AppointMediator, ADMIN, mediator=MEDIATOR)
    report = p.pre_evaluate(p.facts_from_case(case, p.TrackingStatus.DELIVERED_SIGNED))
    assert report.outcome is p.Outcome.RETURN_AND_REFUND  # unrebutted photos, NAD
    report_hash = "0x" + hashlib.sha256(
        json.dumps(report.as_dict(), sort_keys=True, ensure_ascii=False).encode()).hexdigest()
    act(p.PublishPreEvaluation, MEDIATOR, recommended=report.outcome, report_hash=report_hash)
    act(p.ProposeSettlement, MEDIATOR, offer_id="m1", allocation=alloc(AMOUNT // 2))
    act(p.AcceptOffer, BUYER, offer_id="m1")
    clock.advance(days=2)
    act(p.DeclareImpasse, MEDIATOR)  # the seller never accepts
    act(p.AppointArbitrator, ADMIN, arbitrator=ARBITRATOR)
    act(p.SubmitEvidence, BUYER, evidence_id="inspection", kind="inspection_report",
        commitment=h(3), content_cid="bafybeib2aw")
    act(p.SubmitEvidence, SELLER, evidence_id="packing", kind="video", commitment=h(4))
    act(p.SubmitAnswer, SELLER, answer_hash=h(5))
    clock.advance(days=3)
    act(p.CloseRecord, ARBITRATOR)
    clock.advance(days=4)
    award = alloc(AMOUNT * 3 // 10, compensation=GUARANTEE // 5)
    act(p.IssueAward, ARBITRATOR, allocation=award, award_hash=h(6))
    wait_for_deadline()  # nobody objects
    act(p.Enforce, STRANGER)
    act(p.RecordEnforcement, ADMIN, tx_hash=h(7), allocation=award)
    act(p.ConfirmJudicially, COURT, package_hash=h(8), court_reference="(2026) Zhe 01 Min 1")

    assert stages == [S.NOT_FILED, S.FILED, S.NEGOTIATION, S.FACILITATION,
                      S.ARBITRATOR_APPOINTMENT, S.EVIDENCE, S.RECORD_CLOSED, S.AWARDED,
                      S.FINAL, S.ENFORCED, S.JUDICIALLY_CONFIRMED]
    # 18 signed commands and the two defaults the institution records
    assert case.next_sequence == 20 and case.final_award is not None
    assert case.final_award.allocation == award
    kinds = [type(e).__name__ for e in effects_seen if type(e).__name__ in {
        "FreezeEscrow", "AppointOnChain", "SubmitAwardToEscrow", "ExecuteAwardOnEscrow",
        "ExecuteSettlement"}]
    assert kinds == ["FreezeEscrow", "AppointOnChain", "SubmitAwardToEscrow",
                     "ExecuteAwardOnEscrow"]
    anchored = [e for e in effects_seen if isinstance(e, p.AnchorStep)]
    signed = [a.sequence for a in anchored if a.sequence is not None]
    assert len(signed) == 18 and signed == sorted(set(signed)) and signed[-1] == 19
    assert sum(1 for a in anchored if a.sequence is None) == 2  # the two defaults
    # the court sees the arbitration record, but not the seller's or buyer's caucus items
    assert {e.evidence_id for e in p.visible_evidence(case, COURT)} == {
        "photos", "inspection", "packing"}
    # the whole case survives its database form
    assert p.case_from_dict(json.loads(json.dumps(p.case_to_dict(case)))) == case
