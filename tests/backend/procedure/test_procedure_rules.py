"""Disclosure rules, the pre-evaluation rules, command construction and the error classes."""

from __future__ import annotations

import re
from dataclasses import replace
from datetime import datetime
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from backend import procedure as p
from evidence.errors import InvalidRecord
from evidence.orders import Allocation
from tests.backend.procedure.procedure_helpers import (
    ADMIN,
    AMOUNT,
    ARBITRATOR,
    BUYER,
    COURT,
    GUARANTEE,
    MEDIATOR,
    PANEL,
    SELLER,
    SPARE,
    STRANGER,
    addr,
    alloc,
    deadline_of,
    entered_at,
    h,
    step,
    to_enforced,
    to_evidence,
    to_facilitation,
    to_negotiation,
    to_panel,
    to_record_closed,
)

DOCS = Path(__file__).resolve().parents[3] / "docs" / "procedure.md"


def submit(case, actor, eid, kind="photo"):
    return step(case, p.SubmitEvidence, actor, evidence_id=eid, kind=kind, commitment=h(len(eid)))


def seen(case, viewer) -> set[str]:
    return {e.evidence_id for e in p.visible_evidence(case, viewer)}


# -- disclosure -----------------------------------------------------------------------

def test_negotiation_evidence_is_exchanged_caucus_evidence_is_the_mediators() -> None:
    case = submit(to_negotiation(), BUYER, "neg-b")
    case = step(case, p.AgreeToArbitrate, BUYER)
    case = step(case, p.AgreeToArbitrate, SELLER)
    case = step(case, p.RequestFacilitation, SELLER)
    case = submit(case, SELLER, "cau-s")  # before the mediator is appointed
    assert seen(case, SELLER) == {"neg-b", "cau-s"}
    assert seen(case, BUYER) == {"neg-b"}
    case = step(case, p.AppointMediator, ADMIN, mediator=MEDIATOR)
    assert seen(case, MEDIATOR) == {"neg-b", "cau-s"}
    case = step(case, p.DeclareImpasse, MEDIATOR)
    case = step(case, p.AppointArbitrator, ADMIN, arbitrator=ARBITRATOR)
    case = submit(case, SELLER, "arb-s")
    # the tribunal never sees caucus material; the other party sees arbitration evidence
    assert seen(case, ARBITRATOR) == {"neg-b", "arb-s"}
    assert seen(case, BUYER) == {"neg-b", "arb-s"}
    assert seen(case, MEDIATOR) == {"neg-b", "cau-s"}  # not the arbitration record
    for outsider in (ADMIN, STRANGER, SPARE, COURT):
        assert seen(case, outsider) == set()


def test_evidence_notice_follows_disclosure() -> None:
    case = to_facilitation()
    _, effects = p.apply(case, p.SubmitEvidence(actor=BUYER, sequence=case.next_sequence,
                                                  evidence_id="c", kind="invoice",  # type: ignore[arg-type]
                                                  commitment=h(1)), entered_at(case))
    notices = [e for e in effects if isinstance(e, p.NotifyParties)]
    assert notices == [p.NotifyParties(kind="evidence_submitted", recipients=(MEDIATOR,))]
    case = to_evidence()
    _, effects = p.apply(case, p.SubmitEvidence(actor=BUYER, sequence=case.next_sequence,
                                                evidence_id="a", kind="photo",  # type: ignore[arg-type]
                                                commitment=h(1)), entered_at(case))
    notices = [e for e in effects if isinstance(e, p.NotifyParties)]
    assert notices[0].recipients == (SELLER, ARBITRATOR)  # not the former mediator


def test_replaced_arbitrator_loses_access_panel_gains_it() -> None:
    case = submit(to_evidence(), BUYER, "e1")
    assert seen(case, ARBITRATOR) == {"e1"}
    case = step(case, p.CloseRecord, ARBITRATOR)
    case, _ = p.advance(case, deadline_of(case))
    assert case.arbitrator is None and seen(case, ARBITRATOR) == set()
    panel = submit(to_evidence(), SELLER, "e2")
    assert seen(panel, PANEL[0]) == set()
    panel = to_panel()
    for member in PANEL:
        assert seen(panel, member) == seen(panel, panel.arbitrator)


def test_court_reads_only_after_a_result() -> None:
    case = submit(to_evidence(), BUYER, "e1")
    assert seen(case, COURT) == set()
    enforced = to_enforced()
    enforced = replace(enforced, evidence=case.evidence)
    assert seen(enforced, COURT) == {"e1"}


# -- pre-evaluation -------------------------------------------------------------------

def facts(dispute="not_as_described", remedy="partial_refund", claimed=AMOUNT // 4,
          tracking="delivered", buyer=(), seller=()) -> p.PreEvaluationFacts:
    return p.PreEvaluationFacts(
        dispute_type=dispute, remedy=remedy, amount=AMOUNT, claimed_amount=claimed,
        guarantee=GUARANTEE, tracking=tracking,
        buyer_evidence=frozenset(buyer), seller_evidence=frozenset(seller))


PE_CASES = [
    # (facts kwargs, outcome, to_buyer, compensation, confidence, rules)
    (dict(dispute="goods_not_received", remedy="full_refund", claimed=AMOUNT, tracking="lost"),
     "full_refund", AMOUNT, 0, "high", ["PE-GNR-1"]),
    (dict(dispute="goods_not_received", remedy="full_refund", claimed=AMOUNT,
          tracking="delivered_signed"), "release_to_seller", 0, 0, "high", ["PE-GNR-2"]),
    (dict(dispute="goods_not_received", remedy="full_refund", claimed=AMOUNT,
          tracking="delivered"), "release_to_seller", 0, 0, "medium", ["PE-GNR-3"]),
    (dict(dispute="goods_not_received", remedy="full_refund", claimed=AMOUNT,
          tracking="in_transit"), "full_refund", AMOUNT, 0, "low", ["PE-GNR-4"]),
    (dict(dispute="goods_not_received", remedy="full_refund", claimed=AMOUNT,
          tracking="no_tracking", seller={"delivery_confirmation"}),
     "release_to_seller", 0, 0, "low", ["PE-GNR-5"]),
    (dict(), "release_to_seller", 0, 0, "medium", ["PE-NAD-1"]),
    (dict(buyer={"inspection_report"}), "partial_refund", AMOUNT // 4, 0, "high",
     ["PE-NAD-2", "PE-REM-2"]),
    (dict(buyer={"photo"}, seller={"video"}), "partial_refund", AMOUNT // 2, 0, "low",
     ["PE-NAD-3"]),
    (dict(remedy="return_and_refund", claimed=AMOUNT, buyer={"photo"}), "return_and_refund",
     AMOUNT, 0, "medium", ["PE-NAD-4", "PE-REM-1"]),
    (dict(dispute="logistics_loss_or_damage", remedy="full_refund", claimed=AMOUNT,
          tracking="lost"), "full_refund", AMOUNT, 0, "high", ["PE-LOG-1"]),
    (dict(dispute="logistics_loss_or_damage", remedy="full_refund", claimed=AMOUNT,
          tracking="damaged"), "full_refund", AMOUNT, 0, "medium", ["PE-LOG-2"]),
    (dict(dispute="logistics_loss_or_damage", remedy="full_refund", claimed=AMOUNT,
          tracking="delivered_signed"), "release_to_seller", 0, 0, "high", ["PE-LOG-3"]),
    (dict(dispute="logistics_loss_or_damage", remedy="full_refund", claimed=AMOUNT,
          tracking="in_transit"), "release_to_seller", 0, 0, "low", ["PE-LOG-4"]),
    (dict(dispute="buyer_refuses_to_pay", remedy="release_payment", claimed=AMOUNT,
          tracking="in_transit"), "full_refund", AMOUNT, 0, "medium", ["PE-BRP-1"]),
    (dict(dispute="buyer_refuses_to_pay", remedy="release_payment", claimed=AMOUNT,
          buyer={"video"}), "partial_refund", AMOUNT // 2, 0, "low", ["PE-BRP-2"]),
    (dict(dispute="buyer_refuses_to_pay", remedy="release_payment", claimed=AMOUNT,
          tracking="delivered_signed"), "release_to_seller", 0, 0, "high", ["PE-BRP-3"]),
    (dict(remedy="compensation", claimed=GUARANTEE // 2, buyer={"inspection_report"}),
     "return_and_refund", AMOUNT, GUARANTEE // 2, "high", ["PE-NAD-2", "PE-REM-1", "PE-CMP-1"]),
    (dict(remedy="compensation", claimed=GUARANTEE * 2, buyer={"photo", "invoice"}),
     "return_and_refund", AMOUNT, GUARANTEE, "medium",
     ["PE-NAD-4", "PE-REM-1", "PE-CMP-1", "PE-CMP-3"]),
    (dict(remedy="compensation", claimed=GUARANTEE, buyer={"photo"}),
     "return_and_refund", AMOUNT, 0, "medium", ["PE-NAD-4", "PE-REM-1", "PE-CMP-2"]),
]


@pytest.mark.parametrize(("kw", "outcome", "to_buyer", "comp", "confidence", "rules"), PE_CASES)
def test_pre_evaluation_rules(kw, outcome, to_buyer, comp, confidence, rules) -> None:
    report = p.pre_evaluate(facts(**kw))
    assert report.outcome == outcome and report.confidence == confidence
    assert report.allocation == alloc(to_buyer, compensation=comp)
    assert [r.rule for r in report.reasons] == rules
    doc = report.as_dict()
    assert doc["binding"] is False and doc["version"] == 1
    assert set(doc["disclaimer"]) == {"en", "zh-Hans"}
    for reason in doc["reasons"]:
        assert reason["en"] and re.search(r"[\u4e00-\u9fff]", reason["zh-Hans"])


def test_every_rule_is_tested_and_documented() -> None:
    from backend.procedure._preevaluation import RULES

    used = {r for *_, rules in PE_CASES for r in rules}
    assert used == set(RULES)
    text = DOCS.read_text(encoding="utf-8")
    for rule in RULES:
        assert rule in text, f"{rule} missing from docs/procedure.md"


EVIDENCE = st.frozensets(st.sampled_from(list(p.EvidenceKind)))


@given(dispute=st.sampled_from(list(p.DisputeType)), remedy=st.sampled_from(list(p.Remedy)),
       amount=st.integers(1, 10**30), claimed=st.integers(0, 10**30),
       guarantee=st.integers(0, 10**30), tracking=st.sampled_from(list(p.TrackingStatus)),
       buyer=EVIDENCE, seller=EVIDENCE)
def test_pre_evaluation_is_total_and_balanced(dispute, remedy, amount, claimed, guarantee,
                                              tracking, buyer, seller) -> None:
    f = p.PreEvaluationFacts(dispute_type=dispute, remedy=remedy, amount=amount,
                             claimed_amount=claimed, guarantee=guarantee, tracking=tracking,
                             buyer_evidence=buyer, seller_evidence=seller)
    report = p.pre_evaluate(f)
    assert report.allocation.to_buyer + report.allocation.to_seller == amount
    assert report.allocation.compensation <= guarantee
    assert report.reasons and report == p.pre_evaluate(f)  # deterministic


def test_facts_from_case_collects_kinds_by_side() -> None:
    case = submit(to_negotiation(), BUYER, "b", "photo")
    case = submit(case, SELLER, "s", "tracking_record")
    f = p.facts_from_case(case, p.TrackingStatus.DELIVERED)
    assert f.buyer_evidence == {p.EvidenceKind.PHOTO}
    assert f.seller_evidence == {p.EvidenceKind.TRACKING_RECORD}
    assert f.amount == AMOUNT and f.claimed_amount == case.claimed_amount
    with pytest.raises(p.InvalidCommand):
        p.facts_from_case(replace(case, dispute_type=None), p.TrackingStatus.DELIVERED)


@pytest.mark.parametrize("bad", [dict(amount=0), dict(claimed_amount=1.5),
                                 dict(tracking="teleported"), dict(buyer_evidence={"photo"}),
                                 dict(buyer_evidence=frozenset({"selfie"}))])
def test_pre_evaluation_facts_checked(bad) -> None:
    base = dict(dispute_type="not_as_described", remedy="full_refund", amount=10,
                claimed_amount=10, guarantee=0, tracking="delivered")
    with pytest.raises(p.InvalidCommand):
        p.PreEvaluationFacts(**{**base, **bad})


# -- commands are checked when built --------------------------------------------------

GOOD = addr(0xB0)


@pytest.mark.parametrize(
    ("cls", "fields"),
    [
        (p.MakeOffer, dict(actor=GOOD.lower(), sequence=0, offer_id="o", allocation=alloc(1))),
        (p.MakeOffer, dict(actor="0x123", sequence=0, offer_id="o", allocation=alloc(1))),
        (p.MakeOffer, dict(actor=GOOD, sequence=-1, offer_id="o", allocation=alloc(1))),
        (p.MakeOffer, dict(actor=GOOD, sequence=True, offer_id="o", allocation=alloc(1))),
        (p.MakeOffer, dict(actor=GOOD, sequence=0, offer_id="", allocation=alloc(1))),
        (p.MakeOffer, dict(actor=GOOD, sequence=0, offer_id="a b", allocation=alloc(1))),
        (p.MakeOffer, dict(actor=GOOD, sequence=0, offer_id="x" * 81, allocation=alloc(1))),
        (p.MakeOffer, dict(actor=GOOD, sequence=0, offer_id="o", allocation=(1, 2))),
        (p.SubmitEvidence, dict(actor=GOOD, sequence=0, evidence_id="e", kind="selfie",
                                commitment=h(1))),
        (p.SubmitEvidence, dict(actor=GOOD, sequence=0, evidence_id="e", kind="photo",
                                commitment="0x" + "g" * 64)),
        (p.SubmitEvidence, dict(actor=GOOD, sequence=0, evidence_id="e", kind="photo",
                                commitment=h(1)[:-2])),
        (p.FileClaim, dict(actor=GOOD, sequence=0, dispute_type="goods_not_received",
                           remedy="release_payment", claimed_amount=1, statement_hash=h(1))),
        (p.FileClaim, dict(actor=GOOD, sequence=0, dispute_type="buyer_refuses_to_pay",
                           remedy="full_refund", claimed_amount=1, statement_hash=h(1))),
        (p.FileClaim, dict(actor=GOOD, sequence=0, dispute_type="goods_not_received",
                           remedy="full_refund", claimed_amount=0, statement_hash=h(1))),
        (p.FileClaim, dict(actor=GOOD, sequence=0, dispute_type="goods_not_received",
                           remedy="full_refund", claimed_amount=1.0, statement_hash=h(1))),
        (p.AppointPanel, dict(actor=GOOD, sequence=0, panel=PANEL[:2])),
        (p.AppointPanel, dict(actor=GOOD, sequence=0, panel=(PANEL[0], PANEL[0], PANEL[1]))),
        (p.AppointPanel, dict(actor=GOOD, sequence=0, panel=list(PANEL))),
        (p.RefuseConfirmation, dict(actor=GOOD, sequence=0, package_hash=h(1),
                                    court_reference="R", reasons_hash=h(2), reasons="  ")),
        (p.RefuseConfirmation, dict(actor=GOOD, sequence=0, package_hash=h(1),
                                    court_reference="R", reasons_hash=h(0), reasons="why")),
        (p.RefuseConfirmation, dict(actor=GOOD, sequence=0, package_hash=h(1),
                                    court_reference="R\n", reasons_hash=h(2), reasons="why")),
        (p.ConfirmJudicially, dict(actor=GOOD, sequence=0, package_hash=h(1),
                                   court_reference="法" * 90)),
        (p.ConfirmJudicially, dict(actor=GOOD, sequence=0, package_hash=h(1),
                                   court_reference="")),
        (p.SubmitEvidence, dict(actor=GOOD, sequence=0, evidence_id="e", kind="photo",
                                commitment=h(1), content_cid="bafy " + "a" * 10)),
        (p.SubmitEvidence, dict(actor=GOOD, sequence=0, evidence_id="e", kind="photo",
                                commitment=h(1), content_cid="b" * 129)),
        (p.MakeOffer, dict(actor=GOOD, sequence=0, offer_id="o", allocation=alloc(1),
                           expires_at=datetime(2026, 1, 1))),
        (p.RefuseConfirmation, dict(actor=GOOD, sequence=0, package_hash=h(1),
                                    court_reference="R", reasons_hash=h(2),
                                    reasons="x" * 4001)),
        (p.AppointArbitrator, dict(actor=GOOD, sequence=0, arbitrator=None)),
    ],
)
def test_invalid_commands_cannot_be_built(cls, fields) -> None:
    with pytest.raises(p.InvalidCommand):
        cls(**fields)


def test_commands_are_frozen_and_keyword_only() -> None:
    cmd = p.CloseRecord(actor=GOOD, sequence=3)
    with pytest.raises(AttributeError):
        cmd.sequence = 4  # type: ignore[misc]
    with pytest.raises(TypeError):
        p.CloseRecord(GOOD, 3)  # type: ignore[call-arg]
    with pytest.raises(TypeError):
        p.Command(actor=GOOD, sequence=0)


@pytest.mark.parametrize("bad", [dict(to_buyer=-1, to_seller=1), dict(to_buyer=1.0, to_seller=0),
                                 dict(to_buyer=1, to_seller=0, compensation=-5),
                                 dict(to_buyer=False, to_seller=1)])
def test_allocations_are_non_negative_integers(bad) -> None:
    """The core's Allocation is the signed records' (evidence.orders): a bad amount is the
    record format's refusal, before any command is built."""
    assert p.Allocation is Allocation
    with pytest.raises(InvalidRecord, match=r"allocation\.(to_buyer|compensation)"):
        p.Allocation(**bad)


def test_new_case_checks_its_inputs() -> None:
    order = p.Order(order_id=1, buyer=BUYER, seller=SELLER, amount=5)
    with pytest.raises(p.InvalidCommand):
        p.new_case(case_id=h(1), order=order, institution=set())
    with pytest.raises(p.InvalidCommand):
        p.new_case(case_id=h(1), order=order, institution={BUYER})
    with pytest.raises(p.InvalidCommand):
        p.new_case(case_id="case-1", order=order, institution={ADMIN})
    with pytest.raises(p.InvalidCommand):
        p.Order(order_id=1, buyer=BUYER, seller=BUYER, amount=5)
    with pytest.raises(p.InvalidCommand):
        p.Order(order_id=1, buyer=BUYER, seller=SELLER, amount=0)


# -- errors ---------------------------------------------------------------------------

def test_procedure_error_is_abstract_and_hints_are_set() -> None:
    with pytest.raises(TypeError):
        p.ProcedureError("x")
    expected = {
        p.WrongActor: ("wrong_actor", 403), p.WrongStage: ("wrong_stage", 409),
        p.CaseClosed: ("case_closed", 409), p.StaleSequence: ("stale_sequence", 409),
        p.DeadlinePassed: ("deadline_passed", 409), p.InvalidCommand: ("invalid_command", 422),
        p.InvalidAllocation: ("invalid_allocation", 422),
        p.ConflictOfInterest: ("conflict_of_interest", 422),
        p.UnknownOffer: ("unknown_offer", 404), p.DuplicateAction: ("duplicate_action", 409),
        p.InvalidClock: ("invalid_clock", 500),
    }
    for cls, (code, status) in expected.items():
        err = cls("m")
        assert (err.code, err.http_status_hint, err.message) == (code, status, "m")
        assert isinstance(err, p.ProcedureError)
    assert issubclass(p.InvalidCommand, ValueError) and issubclass(p.CaseClosed, p.WrongStage)


def test_messages_say_expected_and_found() -> None:
    case = to_record_closed()
    with pytest.raises(p.InvalidAllocation) as info:
        p.apply(case, p.IssueAward(actor=ARBITRATOR, sequence=case.next_sequence,
                                   allocation=p.Allocation(to_buyer=1, to_seller=1),
                                   award_hash=h(1)), entered_at(case))
    assert f"equal the escrowed {AMOUNT}" in str(info.value) and "found 1 + 1 = 2" in str(
        info.value)
