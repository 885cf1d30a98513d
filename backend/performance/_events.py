"""The events of an order's performance, declared once, and the body that carries one.

A carrier's or marketplace's webhook and a party's own record carry the same JSON object
(docs/performance-evidence.md, "Event"); ``parse_event`` is the one reader of it and names
the first field that does not fit, so a refusal says exactly what to fix.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any, NotRequired, TypedDict

from evidence.errors import FormatError
from evidence.safejson import loads

__all__ = ["EVENT_TYPES", "EventType", "MalformedEvent", "PerformanceEvent",
           "PerformanceEventJson", "parse_event"]


class EventType(StrEnum):
    SHIPPED = "shipped"
    IN_TRANSIT = "in_transit"
    OUT_FOR_DELIVERY = "out_for_delivery"
    DELIVERY_FAILED = "delivery_failed"
    DELIVERED = "delivered"
    DELIVERED_SIGNED = "delivered_signed"
    LOST = "lost"
    DAMAGED = "damaged"
    RETURNED_TO_SENDER = "returned_to_sender"
    INSPECTED = "inspected"
    RETURN_SHIPPED = "return_shipped"
    RETURN_DELIVERED = "return_delivered"


# Each type's words, English and Simplified Chinese (shown wherever an event is shown).
EVENT_TYPES: dict[EventType, tuple[str, str]] = {
    EventType.SHIPPED: ("shipped", "已发货"),
    EventType.IN_TRANSIT: ("in transit", "运输中"),
    EventType.OUT_FOR_DELIVERY: ("out for delivery", "派送中"),
    EventType.DELIVERY_FAILED: ("delivery attempt failed", "投递失败"),
    EventType.DELIVERED: ("delivered", "已妥投"),
    EventType.DELIVERED_SIGNED: ("delivered, signed for", "已签收"),
    EventType.LOST: ("lost", "丢失"),
    EventType.DAMAGED: ("damaged in transit", "运输途中损坏"),
    EventType.RETURNED_TO_SENDER: ("returned to sender", "退回寄件人"),
    EventType.INSPECTED: ("inspected", "已验货"),
    EventType.RETURN_SHIPPED: ("return shipped", "退货已寄出"),
    EventType.RETURN_DELIVERED: ("return delivered", "退货已送达"),
}
assert set(EVENT_TYPES) == set(EventType)

MAX_EVENT_BYTES = 16 * 1024  # one event is a few hundred bytes
_ID = re.compile(r"[A-Za-z0-9._:\-]{1,128}")
_SHIPMENT = re.compile(r"[A-Za-z0-9._:\-]{1,64}")
_ORDER = re.compile(r"[0-9]{1,78}")
_TIME = re.compile(r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(\.\d{1,6})?Z")
_REQUIRED = ("eventId", "orderId", "shipment", "sequence", "type", "occurredAt")
_OPTIONAL = {"location": 200, "signedBy": 200, "note": 500}


class MalformedEvent(ValueError):  # noqa: N818 - names the refusal
    """The body is not an event; the message names the field."""


class PerformanceEventJson(TypedDict):
    """An event as a body carries it (``parse_event`` reads it back); the optional members
    only when not empty."""

    eventId: str
    orderId: str
    shipment: str
    sequence: int
    type: str
    occurredAt: str
    location: NotRequired[str]
    signedBy: NotRequired[str]
    note: NotRequired[str]


@dataclass(frozen=True, kw_only=True)
class PerformanceEvent:
    event_id: str
    order_id: int
    shipment: str
    sequence: int
    type: EventType
    occurred_at: datetime
    location: str = ""
    signed_by: str = ""
    note: str = ""

    def to_json_obj(self) -> PerformanceEventJson:
        out: PerformanceEventJson = {
            "eventId": self.event_id, "orderId": str(self.order_id), "shipment": self.shipment,
            "sequence": self.sequence, "type": self.type.value,
            "occurredAt": self.occurred_at.strftime("%Y-%m-%dT%H:%M:%SZ")}
        if self.location:
            out["location"] = self.location
        if self.signed_by:
            out["signedBy"] = self.signed_by
        if self.note:
            out["note"] = self.note
        return out


def _str(obj: dict[str, Any], key: str, pattern: re.Pattern[str]) -> str:
    value = obj[key]
    if not isinstance(value, str) or not pattern.fullmatch(value):
        raise MalformedEvent(f"{key}: expected a string matching {pattern.pattern}, "
                             f"found {value!r:.80}")
    return value


def parse_event(body: bytes | dict[str, object]) -> PerformanceEvent:
    """The event a body carries (JSON bytes, or the object already parsed); raises
    ``MalformedEvent`` naming the first field that does not fit."""
    obj: Any = body
    if isinstance(body, bytes):
        try:
            obj = loads(body, what="webhook body", max_bytes=MAX_EVENT_BYTES, max_depth=4)
        except (FormatError, UnicodeDecodeError, ValueError) as exc:
            raise MalformedEvent(f"the body is not UTF-8 JSON ({exc})") from None
    if not isinstance(obj, dict):
        raise MalformedEvent("the body must be a JSON object")
    missing = [k for k in _REQUIRED if k not in obj]
    if missing:
        raise MalformedEvent(f"missing field(s): {', '.join(missing)}")
    unknown = sorted(set(obj) - set(_REQUIRED) - set(_OPTIONAL))
    if unknown:
        raise MalformedEvent(f"unknown field(s): {', '.join(unknown)}")
    seq = obj["sequence"]
    if not isinstance(seq, int) or isinstance(seq, bool) or not 1 <= seq < 2**53:
        raise MalformedEvent(f"sequence: expected an integer from 1, found {seq!r:.40}")
    try:
        kind = EventType(obj["type"])
    except ValueError:
        raise MalformedEvent(f"type: expected one of {[t.value for t in EventType]}, "
                             f"found {obj['type']!r:.40}") from None
    occurred = _str(obj, "occurredAt", _TIME)
    extra: dict[str, str] = {}
    for key, limit in _OPTIONAL.items():
        value = obj.get(key, "")
        if not isinstance(value, str) or len(value) > limit or \
                any(ord(c) < 32 for c in value):
            raise MalformedEvent(f"{key}: expected a one-line string of at most {limit} "
                                 "characters")
        extra[key] = value
    if kind is EventType.DELIVERED_SIGNED and not extra["signedBy"].strip():
        raise MalformedEvent("signedBy: a delivered_signed event names who signed for it")
    try:
        at = datetime.strptime(occurred.rstrip("Z").split(".")[0], "%Y-%m-%dT%H:%M:%S")
    except ValueError:
        raise MalformedEvent(f"occurredAt: not a date and time ({occurred!r})") from None
    return PerformanceEvent(
        event_id=_str(obj, "eventId", _ID), order_id=int(_str(obj, "orderId", _ORDER)),
        shipment=_str(obj, "shipment", _SHIPMENT), sequence=seq, type=kind,
        occurred_at=at.replace(tzinfo=UTC), location=extra["location"],
        signed_by=extra["signedBy"], note=extra["note"])
