"""What the pre-evaluation reads from an order's performance evidence (pure).

Decision (docs/performance-evidence.md, "What the pre-evaluation reads"): the tracking
status is the latest *origin-verified* event of the forward shipment (a carrier's or
marketplace's signed webhook); a party's own record never sets it, because it is that
party's claim. A party's own delivery or tracking record still counts as that party's
evidence of its kind (so the rules can say "the seller shows its own proof of delivery
without carrier tracking", PE-GNR-5). Return-leg and inspection events do not change the
forward tracking.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime
from typing import TypedDict

from backend.procedure import (
    CaseState,
    EvidenceKind,
    PreEvaluationFacts,
    TrackingStatus,
    facts_from_case,
)

from ._events import EventType

__all__ = ["FORWARD", "PerformanceFacts", "RecordedEvent", "TrackingBasisJson", "evidence_facts",
           "performance_facts"]

FORWARD: dict[EventType, TrackingStatus] = {
    EventType.SHIPPED: TrackingStatus.IN_TRANSIT,
    EventType.IN_TRANSIT: TrackingStatus.IN_TRANSIT,
    EventType.OUT_FOR_DELIVERY: TrackingStatus.IN_TRANSIT,
    EventType.DELIVERY_FAILED: TrackingStatus.IN_TRANSIT,
    EventType.DELIVERED: TrackingStatus.DELIVERED,
    EventType.DELIVERED_SIGNED: TrackingStatus.DELIVERED_SIGNED,
    EventType.LOST: TrackingStatus.LOST,
    EventType.DAMAGED: TrackingStatus.DAMAGED,
    EventType.RETURNED_TO_SENDER: TrackingStatus.RETURNED_TO_SENDER,
}
_PARTY_KIND: dict[EventType, EvidenceKind] = {
    EventType.SHIPPED: EvidenceKind.TRACKING_RECORD,
    EventType.IN_TRANSIT: EvidenceKind.TRACKING_RECORD,
    EventType.OUT_FOR_DELIVERY: EvidenceKind.TRACKING_RECORD,
    EventType.DELIVERED: EvidenceKind.DELIVERY_CONFIRMATION,
    EventType.DELIVERED_SIGNED: EvidenceKind.DELIVERY_CONFIRMATION,
}


@dataclass(frozen=True, kw_only=True)
class RecordedEvent:
    """One recorded event as the rules see it (no content beyond its type)."""

    item_id: int
    type: EventType
    occurred_at: datetime
    origin_verified: bool
    submitter: str = ""  # a party's address for its own record; "" for a sender


@dataclass(frozen=True, kw_only=True)
class PerformanceFacts:
    tracking: TrackingStatus
    tracking_item: int | None  # the recorded event that set it
    buyer_kinds: frozenset[EvidenceKind] = frozenset()
    seller_kinds: frozenset[EvidenceKind] = frozenset()


def performance_facts(events: list[RecordedEvent], *, buyer: str, seller: str
                      ) -> PerformanceFacts:
    """The tracking status and the parties' own evidence kinds from the recorded events."""
    forward = [e for e in events if e.origin_verified and e.type in FORWARD]
    latest = max(forward, key=lambda e: (e.occurred_at, e.item_id), default=None)
    kinds: dict[str, set[EvidenceKind]] = {buyer: set(), seller: set()}
    for e in events:
        if not e.origin_verified and e.submitter in kinds and e.type in _PARTY_KIND:
            kinds[e.submitter].add(_PARTY_KIND[e.type])
    return PerformanceFacts(
        tracking=FORWARD[latest.type] if latest else TrackingStatus.NO_TRACKING,
        tracking_item=latest.item_id if latest else None,
        buyer_kinds=frozenset(kinds[buyer]), seller_kinds=frozenset(kinds[seller]))


_SOURCES = {
    "evidence": ("the latest origin-verified event of the forward shipment",
                 "正向运输中最新一条来源已验证的物流事件"),
    "no_evidence": ("no origin-verified tracking event is recorded for the order",
                    "该订单没有来源已验证的物流事件记录"),
    "hypothesis": ("the mediator's hypothesis, not evidence", "调解员的假设，并非证据"),
}


class TrackingBasisJson(TypedDict):
    """Where a pre-evaluation's tracking status came from (its report's ``basis``), and the
    kinds of performance records each party made."""

    tracking: str
    trackingSource: str  # evidence, no_evidence or hypothesis
    trackingSourceWords: dict[str, str]
    trackingItem: int | None
    partyRecords: dict[str, list[str]]


def evidence_facts(case: CaseState, perf: PerformanceFacts, *,
                   hypothesis: TrackingStatus | None = None
                   ) -> tuple[PreEvaluationFacts, TrackingBasisJson]:
    """The pre-evaluation's facts with tracking and delivery records read from the
    performance evidence, and the basis the report states (its ``basis`` key): where the
    tracking status came from. A ``hypothesis`` replaces the tracking, and says so."""
    if hypothesis is not None:
        tracking, source, item = hypothesis, "hypothesis", None
    elif perf.tracking_item is not None:
        tracking, source, item = perf.tracking, "evidence", perf.tracking_item
    else:
        tracking, source, item = TrackingStatus.NO_TRACKING, "no_evidence", None
    base = facts_from_case(case, tracking)
    facts = replace(base, buyer_evidence=base.buyer_evidence | perf.buyer_kinds,
                    seller_evidence=base.seller_evidence | perf.seller_kinds)
    en, zh = _SOURCES[source]
    basis: TrackingBasisJson = {
        "tracking": tracking.value, "trackingSource": source,
        "trackingSourceWords": {"en": en, "zh-Hans": zh},
        "trackingItem": item,
        "partyRecords": {"buyer": sorted(k.value for k in perf.buyer_kinds),
                         "seller": sorted(k.value for k in perf.seller_kinds)}}
    return facts, basis
