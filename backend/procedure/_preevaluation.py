"""The mediator's pre-evaluation report (ODDRP's "online evaluation"): rule-based.

Deterministic and explainable: the same facts always give the same recommendation, and
every recommendation lists the numbered rules (docs/procedure.md §Pre-evaluation) that
produced it, in English and Simplified Chinese. It is non-binding: the mediator publishes
it (``PublishPreEvaluation``) for the parties to weigh, and no award may rely on it.

Theory: the rules follow where the risk of the goods lies. The seller bears the risk until
delivery (cf. EU Consumer Rights Directive art. 20; CISG art. 69), so without proof of
delivery the buyer is refunded; after delivery the buyer must show the defect; conflicting
evidence of equal weight splits the amount. Compensation beyond the escrow is paid only
on proof of loss and never beyond the seller's guarantee (Alibaba Trade Assurance).
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum
from typing import TypedDict

from ._errors import InvalidCommand
from ._states import (
    Allocation,
    CaseState,
    DisputeType,
    EvidenceKind,
    Outcome,
    Remedy,
    check_amount,
    check_enum,
)

__all__ = [
    "PRE_EVALUATION_VERSION",
    "Confidence",
    "PreEvaluation",
    "PreEvaluationFacts",
    "PreEvaluationReportJson",
    "Reason",
    "TrackingStatus",
    "facts_from_case",
    "pre_evaluate",
]

PRE_EVALUATION_VERSION = 1


class TrackingStatus(StrEnum):
    """What the carrier's tracking says (the edge maps carrier data onto these)."""

    NO_TRACKING = "no_tracking"
    IN_TRANSIT = "in_transit"
    DELIVERED = "delivered"
    DELIVERED_SIGNED = "delivered_signed"
    LOST = "lost"
    DAMAGED = "damaged"
    RETURNED_TO_SENDER = "returned_to_sender"


class Confidence(StrEnum):
    LOW = "low"
    MEDIUM = "medium"
    HIGH = "high"


DEFECT_PROOF = frozenset({EvidenceKind.PHOTO, EvidenceKind.VIDEO, EvidenceKind.INSPECTION_REPORT})
DELIVERY_PROOF = frozenset({EvidenceKind.DELIVERY_CONFIRMATION, EvidenceKind.TRACKING_RECORD})
LOSS_PROOF = frozenset({EvidenceKind.INVOICE, EvidenceKind.INSPECTION_REPORT})
DELIVERED = frozenset({TrackingStatus.DELIVERED, TrackingStatus.DELIVERED_SIGNED})


@dataclass(frozen=True, kw_only=True)
class Reason:
    rule: str
    en: str
    zh: str


# Every rule's text, by id. docs/procedure.md lists the same ids (a test checks it).
RULES: dict[str, tuple[str, str]] = {
    "PE-GNR-1": ("No proof of delivery: the seller bears the risk until delivery; refund.",
                 "无妥投证明：货物交付前风险由卖方承担，建议退款。"),
    "PE-GNR-2": ("The carrier confirms delivery with the buyer's signature; release to the seller.",
                 "承运人确认买方已签收，建议向卖方放款。"),
    "PE-GNR-3": ("Tracking shows delivery without a signature; release to the seller, "
                 "with medium confidence.",
                 "物流显示已妥投但无签收记录，建议向卖方放款（中等可信度）。"),
    "PE-GNR-4": ("The goods are still in transit: delivery is late but not impossible; "
                 "refund unless the parties agree to wait.",
                 "货物仍在运输途中：交付延迟但尚有可能，除非双方同意等待，建议退款。"),
    "PE-GNR-5": ("The seller shows its own proof of delivery without carrier tracking.",
                 "卖方提供了自有的交付证明，但无承运人物流记录。"),
    "PE-NAD-1": ("The buyer shows no photo, video or inspection report of the discrepancy; "
                 "release to the seller.",
                 "买方未提供证明货不对板的照片、视频或检验报告，建议向卖方放款。"),
    "PE-NAD-2": ("An inspection report supports the buyer and the seller has none; "
                 "grant the requested remedy.",
                 "检验报告支持买方主张且卖方未提供检验报告，建议支持买方请求的救济。"),
    "PE-NAD-3": ("Both sides show evidence of equal kind; split the amount.",
                 "双方证据分量相当，建议平分争议金额。"),
    "PE-NAD-4": ("The buyer's photos or video show the discrepancy, unrebutted; "
                 "grant the requested remedy.",
                 "买方的照片或视频显示货不对板且卖方未反驳，建议支持买方请求的救济。"),
    "PE-LOG-1": ("The carrier reports the parcel lost; refund in full.",
                 "承运人报告包裹丢失，建议全额退款。"),
    "PE-LOG-2": ("Damage in transit is shown; the seller bears the transport risk; "
                 "grant the requested remedy.",
                 "有证据显示运输途中损坏，运输风险由卖方承担，建议支持买方请求的救济。"),
    "PE-LOG-3": ("Signed delivery and no evidence of damage; release to the seller.",
                 "已签收且无损坏证据，建议向卖方放款。"),
    "PE-LOG-4": ("No evidence of loss or damage; release to the seller, with low confidence.",
                 "无丢失或损坏证据，建议向卖方放款（低可信度）。"),
    "PE-BRP-1": ("The seller cannot show delivery; the buyer need not pay.",
                 "卖方无法证明已交付，买方无需付款。"),
    "PE-BRP-2": ("Delivered, but the buyer shows a defect; split the amount.",
                 "货物已交付，但买方提供了瑕疵证据，建议平分争议金额。"),
    "PE-BRP-3": ("Delivered and no defect shown; the buyer must pay: release to the seller.",
                 "货物已交付且无瑕疵证据，买方应付款：建议向卖方放款。"),
    "PE-REM-1": ("Goods not as described go back to the seller before the refund.",
                 "货不对板的商品应先退回卖方再退款。"),
    "PE-REM-2": ("The buyer asked for a partial refund; the recommendation does not exceed it.",
                 "买方仅请求部分退款，建议金额不超过其请求。"),
    "PE-CMP-1": ("Compensation on proof of loss (invoice or inspection report), "
                 "capped by the seller's guarantee.",
                 "凭损失证明（发票或检验报告）给予赔偿，以卖方保证金为上限。"),
    "PE-CMP-2": ("Compensation asked, but no invoice or inspection report proves the loss.",
                 "买方请求赔偿，但未提供发票或检验报告证明损失。"),
    "PE-CMP-3": ("The compensation asked exceeds the seller's guarantee; capped at the guarantee.",
                 "请求的赔偿超过卖方保证金，以保证金为限。"),
}

DISCLAIMER = {
    "en": "Non-binding pre-evaluation by fixed rules; it does not bind the parties, the "
    "mediator, an arbitrator or a court, and rests only on the facts listed.",
    "zh-Hans": "本预评估依据固定规则作出，不具有约束力，对当事人、调解员、仲裁员或法院均无拘束力，"
    "且仅基于所列事实。",
}

# What a fast-track proposal's report says instead (docs/jury.md "Fast track"); {window} is
# the objection window in words.
FAST_TRACK_NOTICE = {
    "en": "Proposed by the mediator as the fast-track resolution of this small claim, by "
    "fixed rules and only on the facts listed: it binds the parties, and the escrow pays it "
    "out, unless a party objects within {window}; an objection sends the case to the jury or "
    "a sole arbitrator, who are not bound by it.",
    "zh-Hans": "本报告由调解员依据固定规则、仅基于所列事实，作为本小额争议的快速程序处理建议提出："
    "如任何一方当事人未在{window}内提出异议，即对双方具有约束力，并由托管合约执行付款；"
    "一方提出异议的，案件交由评审团或独任仲裁员裁决，其不受本建议约束。",
}


@dataclass(frozen=True, kw_only=True)
class PreEvaluationFacts:
    """What the rules read. Evidence is by kind only: the rules never read content."""

    dispute_type: DisputeType
    remedy: Remedy
    amount: int  # escrowed, smallest unit
    claimed_amount: int
    guarantee: int
    tracking: TrackingStatus
    buyer_evidence: frozenset[EvidenceKind] = frozenset()
    seller_evidence: frozenset[EvidenceKind] = frozenset()

    def __post_init__(self) -> None:
        object.__setattr__(self, "dispute_type",
                           check_enum("dispute_type", DisputeType, self.dispute_type))
        object.__setattr__(self, "remedy", check_enum("remedy", Remedy, self.remedy))
        object.__setattr__(self, "tracking", check_enum("tracking", TrackingStatus,
                                                        self.tracking))
        check_amount("amount", self.amount, positive=True)
        check_amount("claimed_amount", self.claimed_amount)
        check_amount("guarantee", self.guarantee)
        for name in ("buyer_evidence", "seller_evidence"):
            kinds = getattr(self, name)
            if not isinstance(kinds, frozenset):
                raise InvalidCommand(f"{name}: expected a frozenset, found {type(kinds).__name__}")
            object.__setattr__(
                self, name, frozenset(check_enum(name, EvidenceKind, k) for k in kinds)
            )


class ReportAllocationJson(TypedDict):
    """The report's allocation: what each side is paid, in the token's smallest unit."""

    to_buyer: int
    to_seller: int
    compensation: int


# Keys with a hyphen: the functional form.
ReasonJson = TypedDict("ReasonJson", {"rule": str, "en": str, "zh-Hans": str})
"""One reason of the report: its rule and its words in English and Chinese."""
DisclaimerJson = TypedDict("DisclaimerJson", {"en": str, "zh-Hans": str})
"""What the report binds (or does not), in English and Chinese."""


class PreEvaluationReportJson(TypedDict):
    """``PreEvaluation.as_dict``: the report the edge stores, hashes and publishes."""

    version: int
    binding: bool | str  # False, or "unless_objected" for a fast-track proposal
    outcome: str
    allocation: ReportAllocationJson
    confidence: str
    reasons: list[ReasonJson]
    disclaimer: DisclaimerJson


@dataclass(frozen=True, kw_only=True)
class PreEvaluation:
    outcome: Outcome
    allocation: Allocation
    confidence: Confidence
    reasons: tuple[Reason, ...]

    def as_dict(self, *, fast_track_window: tuple[str, str] | None = None
                ) -> PreEvaluationReportJson:
        """A JSON-ready report: the edge stores it, hashes it and the mediator publishes it.
        With ``fast_track_window`` (the objection window in English and Chinese words) it
        is the report of a fast-track proposal: binding unless a party objects in time."""
        disclaimer: DisclaimerJson = {"en": DISCLAIMER["en"], "zh-Hans": DISCLAIMER["zh-Hans"]}
        binding: bool | str = False
        if fast_track_window is not None:
            en, zh = fast_track_window
            binding = "unless_objected"
            disclaimer = {"en": FAST_TRACK_NOTICE["en"].format(window=en),
                          "zh-Hans": FAST_TRACK_NOTICE["zh-Hans"].format(window=zh)}
        return {
            "version": PRE_EVALUATION_VERSION,
            "binding": binding,
            "outcome": self.outcome.value,
            "allocation": {
                "to_buyer": self.allocation.to_buyer,
                "to_seller": self.allocation.to_seller,
                "compensation": self.allocation.compensation,
            },
            "confidence": self.confidence.value,
            "reasons": [{"rule": r.rule, "en": r.en, "zh-Hans": r.zh} for r in self.reasons],
            "disclaimer": disclaimer,
        }


def _reason(rule: str) -> Reason:
    en, zh = RULES[rule]
    return Reason(rule=rule, en=en, zh=zh)


def _buyer_wins(f: PreEvaluationFacts, rules: list[str]) -> tuple[Outcome, int]:
    """The outcome the buyer's remedy asks for, as (outcome, refund)."""
    if f.remedy is Remedy.PARTIAL_REFUND and 0 < f.claimed_amount < f.amount:
        rules.append("PE-REM-2")
        return Outcome.PARTIAL_REFUND, f.claimed_amount
    if f.dispute_type is DisputeType.NOT_AS_DESCRIBED or f.remedy is Remedy.RETURN_AND_REFUND:
        rules.append("PE-REM-1")
        return Outcome.RETURN_AND_REFUND, f.amount
    return Outcome.FULL_REFUND, f.amount


def _decide(f: PreEvaluationFacts, rules: list[str]) -> tuple[Outcome, int, Confidence]:
    """The escrow part: (outcome, refund to the buyer, confidence)."""
    buyer, seller = f.buyer_evidence, f.seller_evidence
    half = f.amount // 2  # rounded down to the token's smallest unit
    release = (Outcome.RELEASE_TO_SELLER, 0)
    match f.dispute_type:
        case DisputeType.GOODS_NOT_RECEIVED:
            if f.tracking is TrackingStatus.DELIVERED_SIGNED:
                rules.append("PE-GNR-2")
                return (*release, Confidence.HIGH)
            if f.tracking is TrackingStatus.DELIVERED:
                rules.append("PE-GNR-3")
                return (*release, Confidence.MEDIUM)
            if f.tracking is TrackingStatus.IN_TRANSIT:
                rules.append("PE-GNR-4")
                return (Outcome.FULL_REFUND, f.amount, Confidence.LOW)
            if f.tracking is TrackingStatus.NO_TRACKING and seller & DELIVERY_PROOF:
                rules.append("PE-GNR-5")
                return (*release, Confidence.LOW)
            rules.append("PE-GNR-1")
            return (Outcome.FULL_REFUND, f.amount, Confidence.HIGH)
        case DisputeType.NOT_AS_DESCRIBED:
            if not buyer & DEFECT_PROOF:
                rules.append("PE-NAD-1")
                return (*release, Confidence.MEDIUM)
            if EvidenceKind.INSPECTION_REPORT in buyer - seller:
                rules.append("PE-NAD-2")
                return (*_buyer_wins(f, rules), Confidence.HIGH)
            if seller & DEFECT_PROOF:
                rules.append("PE-NAD-3")
                return (Outcome.PARTIAL_REFUND, half, Confidence.LOW)
            rules.append("PE-NAD-4")
            return (*_buyer_wins(f, rules), Confidence.MEDIUM)
        case DisputeType.LOGISTICS_LOSS_OR_DAMAGE:
            if f.tracking in (TrackingStatus.LOST, TrackingStatus.RETURNED_TO_SENDER):
                rules.append("PE-LOG-1")
                return (Outcome.FULL_REFUND, f.amount, Confidence.HIGH)
            if f.tracking is TrackingStatus.DAMAGED or buyer & DEFECT_PROOF:
                rules.append("PE-LOG-2")
                return (*_buyer_wins(f, rules), Confidence.MEDIUM)
            if f.tracking is TrackingStatus.DELIVERED_SIGNED:
                rules.append("PE-LOG-3")
                return (*release, Confidence.HIGH)
            rules.append("PE-LOG-4")
            return (*release, Confidence.LOW)
        case DisputeType.BUYER_REFUSES_TO_PAY:
            if f.tracking not in DELIVERED and not seller & DELIVERY_PROOF:
                rules.append("PE-BRP-1")
                return (Outcome.FULL_REFUND, f.amount, Confidence.MEDIUM)
            if buyer & DEFECT_PROOF:
                rules.append("PE-BRP-2")
                return (Outcome.PARTIAL_REFUND, half, Confidence.LOW)
            rules.append("PE-BRP-3")
            signed = f.tracking is TrackingStatus.DELIVERED_SIGNED
            return (*release, Confidence.HIGH if signed else Confidence.MEDIUM)
    raise AssertionError(f"unhandled dispute type {f.dispute_type}")  # pragma: no cover


def pre_evaluate(facts: PreEvaluationFacts) -> PreEvaluation:
    """Recommend an outcome, an allocation of the escrow and compensation, with reasons."""
    if not isinstance(facts, PreEvaluationFacts):
        raise InvalidCommand(f"expected PreEvaluationFacts, found {type(facts).__name__}")
    rules: list[str] = []
    outcome, refund, confidence = _decide(facts, rules)
    compensation = 0
    if facts.remedy is Remedy.COMPENSATION and outcome is not Outcome.RELEASE_TO_SELLER:
        if facts.buyer_evidence & LOSS_PROOF:
            rules.append("PE-CMP-1")
            compensation = min(facts.claimed_amount, facts.guarantee)
            if facts.claimed_amount > facts.guarantee:
                rules.append("PE-CMP-3")
        else:
            rules.append("PE-CMP-2")
    allocation = Allocation(to_buyer=refund, to_seller=facts.amount - refund,
                            compensation=compensation)
    return PreEvaluation(outcome=outcome, allocation=allocation, confidence=confidence,
                         reasons=tuple(_reason(r) for r in rules))


def facts_from_case(case: CaseState, tracking: TrackingStatus) -> PreEvaluationFacts:
    """Collect the facts from a filed case (evidence kinds by side, all stages so far)."""
    if case.dispute_type is None or case.remedy is None:
        raise InvalidCommand("the case has no claim yet; file it before evaluating it")
    buyer = frozenset(e.kind for e in case.evidence if e.submitted_by == case.order.buyer)
    seller = frozenset(e.kind for e in case.evidence if e.submitted_by == case.order.seller)
    return PreEvaluationFacts(
        dispute_type=case.dispute_type,
        remedy=case.remedy,
        amount=case.order.amount,
        claimed_amount=case.claimed_amount,
        guarantee=case.order.guarantee,
        tracking=tracking,
        buyer_evidence=buyer,
        seller_evidence=seller,
    )
