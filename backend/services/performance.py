"""Performance evidence at its source: carrier and marketplace webhooks, a party's own record.

Theory of operation (docs/performance-evidence.md has the wire format and the decisions):

1. **Capture.** ``receive_webhook`` checks, in this order, the sender (configured in
   ``CHAINARB_WEBHOOK_SENDERS``), the body's size, the signature (the scheme and key the
   configuration names), the signed timestamp's window, the event's format, the event type
   the sender may send and the order (read from the escrow). A party records its own
   events with ``record_party`` (signed in, buyer or seller of the order).
2. **Store.** The body is encrypted (a fresh data key, wrapped for the service key) into
   IPFS, committed by salted hash like any evidence item, and its provenance log signed by
   the service *at capture*: ``performance.captured`` then ``origin.verified`` (the
   sender's identity and key) or ``party.submitted``. The log is bound to the order's case
   id (``case_id_for_order``), which exists before any case: when the case is filed the
   same log continues with ``case.attached``. The item is appended to the institution's
   log (kind ``performance``, under that case id) in the same write unit as its row, and
   its receipt answers the capture (docs/log.md §12).
3. **Refuse.** In one write unit the event id is checked unseen for its source (a replay)
   and its sequence above the shipment's last accepted one (out of order); every refusal
   of a webhook is written to ``webhook_refusal`` (``refusals`` reads it, for admins).
4. **Read.** The case's members list the order's items with their origin labels; the
   pre-evaluation reads ``facts`` (tracking status from the origin-verified events).
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
import logging
import secrets
from collections.abc import Callable, Mapping, Sequence
from datetime import UTC, datetime
from typing import Annotated, Any, NamedTuple, NotRequired, cast

from pydantic import Field
from sqlalchemy import bindparam
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select
from typing_extensions import TypedDict

from backend import procedure as p
from backend.answers import AS_OBJECT, open_answer
from backend.db import Case
from backend.db.performance_models import PerformanceCursor, PerformanceItem, WebhookRefusal
from backend.db.types import WrappedKeysJson
from backend.log.provenance import log_provenance
from backend.log.service import ReceiptsJson
from backend.log.store import Appended, append_entry
from backend.performance import (
    EVENT_TYPES,
    EventType,
    MalformedEvent,
    PerformanceEvent,
    PerformanceFacts,
    RecordedEvent,
    SenderConfig,
    SenderViewJson,
    WebhookRefused,
    check_window,
    parse_event,
    performance_facts,
    public_view,
    senders_by_id,
    verify_signature,
)
from evidence.commitment import commitment_of
from evidence.encryption import (
    DEFAULT_CHUNK_SIZE,
    Encryptor,
    KeyWraps,
    generate_data_key,
    iter_decrypt,
)
from evidence.errors import EvidenceError
from evidence.ipfs import Blockstore, add_bytes_text, cat
from evidence.judicial.provenance import (
    ORIGIN_LABELS,
    ORIGIN_VERIFIED,
    PARTY_SUBMITTED,
    performance_entry_values,
)
from evidence.records import Domain
from evidence.safejson import JSON, JsonObject

from . import provenance
from .cases import CaseService, case_id_for_order
from .errors import AccessDenied, BadSubmission, NotFound, ServiceError, StaleStep
from .escrow import OrderInfo, UnknownOrder
from .evidence import _TrackingBlockstore
from .keys import ServiceKey
from .transactions import StepTransactions

log = logging.getLogger(__name__)

__all__ = [
    "MAX_WEBHOOK_BYTES",
    "Captured",
    "OriginJson",
    "PerformanceCapturedJson",
    "PerformanceItemJson",
    "PerformanceListJson",
    "PerformanceProvenanceJson",
    "PerformanceService",
    "WebhookError",
    "WebhookRefusalJson",
    "performance_leaf",
]

#: Where an item came from, in both languages (docs/performance-evidence.md).
OriginJson = TypedDict("OriginJson", {
    "label": Annotated[str, Field(description="origin-verified | party-submitted")],
    "en": str,
    "zh-Hans": str,
    "sender": NotRequired[Annotated[Annotated[SenderViewJson, AS_OBJECT] | None, Field(
        default=None, description="origin-verified: the sender's id, names, scheme and key id")]],
    "submitter": NotRequired[str],  # party-submitted: the party
})
OriginJson.__doc__ = "Where an item came from, in both languages (docs/performance-evidence.md)."
open_answer(OriginJson)


class PerformanceFieldsJson(TypedDict):
    """A performance item as its readers see it (its body: GET .../content)."""

    id: int
    orderId: str
    caseId: str
    attached: bool
    eventId: str
    type: str
    typeLabel: dict[str, str]
    shipment: str
    sequence: int
    occurredAt: str
    capturedAt: str
    origin: OriginJson
    sha256: str
    commitment: str
    cid: str
    size: int


class MediaTypeJson(TypedDict):
    """The media type of an item's body."""

    mediaType: str


@open_answer
class PerformanceItemJson(PerformanceFieldsJson, MediaTypeJson):
    """A recorded event of an order's performance, with its origin label."""


@open_answer
class PerformanceCapturedJson(PerformanceFieldsJson, ReceiptsJson, MediaTypeJson):
    """A recorded item, with the receipt of its ``performance`` entry in the log and one
    for each of its other provenance entries (kind ``provenance``)."""


@open_answer
class PerformanceListJson(TypedDict):
    """An order's (or a case's) performance items."""

    items: list[PerformanceItemJson]


@open_answer
class WebhookRefusalJson(TypedDict):
    """A refused webhook, as the refusal log keeps it."""

    id: int
    at: str
    sender: str
    code: str
    detail: str
    eventId: str
    orderId: str
    bodySha256: str
    signedTimestamp: str
    remote: str

MAX_WEBHOOK_BYTES = 16 * 1024  # one event is a few hundred bytes
MEDIA_TYPE = "application/json"
PARTY_CLOCK_SKEW = 300  # seconds a party's occurredAt may be ahead of the service's clock

# Each refusal's HTTP status (the codes are in backend/api/error_codes.py).
REFUSAL_STATUS: Mapping[str, int] = {
    "webhook_unknown_sender": 401, "webhook_unsigned": 401, "webhook_forged": 401,
    "webhook_stale": 401, "webhook_too_large": 413, "webhook_malformed": 422,
    "webhook_event_refused": 403, "webhook_unknown_order": 404, "webhook_replayed": 409,
    "webhook_out_of_order": 409,
}


# The replay and order checks' statements, built once (issue 13: building them for every
# event cost more than running them); the values are bound at each run.
_SEEN = select(PerformanceItem.id).where(
    col(PerformanceItem.source) == bindparam("source"),
    col(PerformanceItem.event_id) == bindparam("event_id"))
_CURSOR = select(PerformanceCursor).where(
    col(PerformanceCursor.source) == bindparam("source"),
    col(PerformanceCursor.order_id) == bindparam("order_id"),
    col(PerformanceCursor.shipment) == bindparam("shipment"))
_CURSOR_LOCKED = _CURSOR.with_for_update()


class _Key(NamedTuple):
    """What the replay and order checks read of an event."""

    source: str
    event_id: str
    order_id: str
    shipment: str
    sequence: int


class Captured(NamedTuple):
    """A recorded item's view and where its entries went in the institution's log: its
    ``performance`` entry and its other provenance entries (kind ``provenance``)."""

    view: PerformanceItemJson
    appended: Appended
    provenance: tuple[Appended, ...] = ()


class PerformanceProvenanceJson(TypedDict):
    """An item's provenance log: its signed entries and where it came from (the route's
    ``ProvenanceOut`` documents it)."""

    itemId: int | None
    commitment: str
    origin: OriginJson
    entries: list[JsonObject]


def performance_leaf(case_id: str, provenance: Sequence[Mapping[str, JSON]],
                     domain: Domain) -> tuple[str, str, str]:
    """(caseId, recordHash, signaturesHash) of a performance item's log entry: its case
    (the order's, ``case_id_for_order``) and its capture entry's digest and signature hash
    (``performance_entry_values``)."""
    record_hash, signatures_hash = performance_entry_values(provenance, domain)
    return case_id, _h(record_hash), _h(signatures_hash)


class WebhookError(ServiceError):
    """A refused webhook (recorded in the refusal log before it is answered)."""

    def __init__(self, refused: WebhookRefused) -> None:
        super().__init__(str(refused), code=refused.code)
        self.http_status = REFUSAL_STATUS[refused.code]


def _h(b: bytes) -> str:
    return "0x" + b.hex()


def _stored(row_id: int | None) -> int:
    """A stored row's id (the insert gave it one)."""
    assert row_id is not None
    return row_id


def _iso(at: datetime) -> str:
    return at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class PerformanceService:
    def __init__(self, sessions: sessionmaker[Session], cases: CaseService, *,
                 blockstore: Blockstore, senders: list[SenderConfig],
                 clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.cases = cases
        self.blockstore = blockstore
        self.senders = senders_by_id(senders)
        self.clock = clock
        self.keys: ServiceKey = cases.keys
        # Group commit, as the steps (backend/services/group_commit.py): concurrent
        # webhooks share one transaction and one commit, each refused on its own.
        self.transactions: StepTransactions[Captured] = StepTransactions(
            cases.repository)
        self._service_key = cases.config.institution_key

    def __repr__(self) -> str:
        return f"PerformanceService(senders={sorted(self.senders)})"

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    # -- capture -----------------------------------------------------------------------

    def receive_webhook(self, sender_id: str, timestamp: str, signature: str | None,
                        body: bytes, remote: str = "") -> Captured:
        """Verify and record one webhook; a refusal is logged, then raised (``WebhookError``)."""
        event: PerformanceEvent | None = None
        try:
            sender = self.senders.get(sender_id)
            if sender is None:
                raise WebhookRefused("webhook_unknown_sender",
                                     f"no sender {sender_id!r:.64} is configured "
                                     "(CHAINARB_WEBHOOK_SENDERS)")
            if len(body) > MAX_WEBHOOK_BYTES:
                raise WebhookRefused("webhook_too_large", f"the body has {len(body)} bytes; "
                                     f"one event is at most {MAX_WEBHOOK_BYTES}")
            verify_signature(sender, timestamp, body, signature)
            signed_at = check_window(sender, timestamp, int(self.now().timestamp()))
            try:
                event = parse_event(body)
            except MalformedEvent as exc:
                raise WebhookRefused("webhook_malformed", str(exc)) from None
            if event.type not in sender.events:
                raise WebhookRefused("webhook_event_refused",
                                     f"{sender.name} is not configured to send "
                                     f"{event.type.value} events (it may send "
                                     f"{', '.join(t.value for t in sender.events)})")
            self._not_future(event, sender.window_seconds)
            self._order(event.order_id, refusal=True)
            origin = {"sender": public_view(sender), "signedTimestamp": str(signed_at),
                      "signature": (signature or "")[:200],
                      "signedMessageSha256": _h(hashlib.sha256(body).digest()),
                      "windowSeconds": str(sender.window_seconds)}
            captured = self._store(event, body, source=f"webhook:{sender.id}", submitter="",
                                   session_ref=f"webhook:{sender.id}", origin=origin,
                                   signed_at=signed_at, signature=(signature or "")[:200])
        except WebhookRefused as refused:
            self._log_refusal(sender_id, refused, body, timestamp, remote, event)
            raise WebhookError(refused) from None
        if event.type is EventType.RETURN_DELIVERED:
            self._return_delivered(event)
        return captured

    def _return_delivered(self, event: PerformanceEvent) -> None:
        """The carrier's origin-verified delivery of a return shipment: the case waiting for
        it records ``return.delivered`` (the refund follows). The captured item stands even
        if that step cannot be written now (it is logged; the seller may still confirm)."""
        try:
            self.cases.scheduler.record_return_delivery(event.order_id, event.shipment)
        except Exception:
            log.exception("return.delivered for order %s (shipment %s) not recorded",
                          event.order_id, event.shipment)

    def record_party(self, user: str, order_id: int, fields: Mapping[str, object],
                     session_ref: str) -> Captured:
        """A party's own record of an event of its order: labelled party-submitted."""
        order = self._order(order_id)
        if user not in (order.buyer, order.seller):
            raise AccessDenied(f"only the buyer or the seller of order {order_id} records its "
                               f"performance; you are {user}")
        body_obj = dict(fields)
        source = user
        with self.sessions() as session:
            seq = session.exec(select(PerformanceCursor.last_sequence).where(
                col(PerformanceCursor.source) == source,
                col(PerformanceCursor.order_id) == str(order_id),
                col(PerformanceCursor.shipment) == str(body_obj.get("shipment", "")))).first()
        body_obj.update({"eventId": f"party-{secrets.token_hex(16)}", "orderId": str(order_id),
                         "sequence": (seq or 0) + 1})
        try:
            event = parse_event(body_obj)
            self._not_future(event, PARTY_CLOCK_SKEW)
        except (MalformedEvent, WebhookRefused) as exc:
            raise BadSubmission(str(exc), code="bad_submission") from None
        body = json.dumps(event.to_json_obj(), sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode()
        role = "buyer" if user == order.buyer else "seller"
        try:
            return self._store(event, body, source=source, submitter=user,
                               session_ref=session_ref, origin={"party": user, "role": role},
                               signed_at=None, signature="")
        except WebhookRefused as refused:  # two records of one party racing on a shipment
            raise WebhookError(refused) from None

    def _not_future(self, event: PerformanceEvent, skew: int) -> None:
        """An event cannot have happened after it was captured (beyond the clocks' skew)."""
        now = self.now()
        if (event.occurred_at - now).total_seconds() > skew:
            raise WebhookRefused("webhook_malformed", f"occurredAt {_iso(event.occurred_at)} "
                                 f"is after the capture ({_iso(now)})")

    def _order(self, order_id: int, *, refusal: bool = False) -> OrderInfo:
        try:
            if not 0 <= order_id < 2**256:
                raise UnknownOrder(order_id)
            return self.cases.port.read_order(order_id)
        except UnknownOrder:
            if refusal:
                raise WebhookRefused("webhook_unknown_order", f"the escrow has no order "
                                     f"{order_id}") from None
            raise NotFound(f"the escrow has no order {order_id}") from None

    def _encrypt(self, body: bytes, store: Blockstore) -> tuple[str, WrappedKeysJson]:
        """The body into IPFS, encrypted: (CID, the key wraps for the service key)."""
        data_key = generate_data_key()
        enc = Encryptor(data_key, DEFAULT_CHUNK_SIZE)
        # one event is one block: its CID's text made directly (add_bytes_text), not
        # through multiformats' CID object (about a third of the capture's CPU, issue 13)
        cid = add_bytes_text(enc.header_bytes + enc.seal(body, final=True), cid_version=1,
                             blockstore=store)
        wraps = KeyWraps.create(data_key, enc.header, [self.keys.public])
        return cid, {"keywraps": wraps.to_json().decode(), "service": _h(self.keys.public),
                     "recipients": {}}

    def _store(self, event: PerformanceEvent, body: bytes, *, source: str, submitter: str,
               session_ref: str, origin: dict[str, Any], signed_at: int | None,
               signature: str) -> Captured:
        now = self.now()
        case_id = case_id_for_order(self.cases.domain, event.order_id)
        sha = hashlib.sha256(body).digest()
        salt = secrets.token_bytes(32)
        commitment = commitment_of(sha, salt)
        with self.sessions() as session:  # cheap refusals first (the unit checks again)
            self._check_new(session, _Key(source, event.event_id, str(event.order_id),
                                          event.shipment, event.sequence), lock=False)
            filed = session.exec(select(Case.id).where(col(Case.id) == case_id)).first() \
                is not None
        store = _TrackingBlockstore(self.blockstore)
        cid, wrapped = self._encrypt(body, store)
        label = PARTY_SUBMITTED if submitter else ORIGIN_VERIFIED
        at = int(now.timestamp())
        steps: list[provenance.ProvenanceStep] = [
            ("performance.captured", submitter, session_ref, at, {
                "orderId": str(event.order_id), "eventId": event.event_id,
                "type": event.type.value, "shipment": event.shipment,
                "sequence": str(event.sequence), "occurredAt": _iso(event.occurred_at),
                "capturedAt": _iso(now), "sha256": _h(sha), "commitment": _h(commitment),
                "cid": cid, "mediaType": MEDIA_TYPE, "size": str(len(body)),
                "origin": label, "originLabel": ORIGIN_LABELS[label]}),
            ("party.submitted" if submitter else "origin.verified", submitter, session_ref,
             at, origin)]
        if filed:
            steps.append(("case.attached", "", "performance-capture", at,
                          {"caseId": case_id, "filedBeforeCapture": True}))
        log = provenance.sign_steps(steps, case_id=bytes.fromhex(case_id[2:]),
                                    commitment=commitment, domain=self.cases.domain,
                                    service_key=self._service_key)
        fields: dict[str, Any] = dict(
            order_id=str(event.order_id), case_id=case_id, attached_at=now if filed else None,
            origin=label, source=source, submitter=submitter, event_id=event.event_id,
            shipment=event.shipment, sequence=event.sequence, event_type=event.type.value,
            occurred_at=event.occurred_at, captured_at=now, signed_timestamp=signed_at,
            signature=signature, size=len(body), sha256=_h(sha), salt=_h(salt),
            commitment=_h(commitment), cid=cid, wrapped_keys=wrapped, provenance=log)

        leaf = performance_leaf(case_id, log, self.cases.domain)

        def unit(session: Session) -> Captured:
            item = PerformanceItem(**fields)  # a fresh row each run (a group may rerun it)
            cursor = self._check_new(session, _Key(item.source, item.event_id, item.order_id,
                                                   item.shipment, item.sequence))
            session.add(item)
            session.flush()
            self._advance_cursor(session, item, cursor)
            # logged with its row: both commit, or neither (docs/log.md §12)
            appended = append_entry(session, kind="performance", case_id=case_id, value=leaf,
                                    ref_id=item.id, now=now)
            rest = log_provenance(session, case_id=case_id, entries=log, logged=1,
                                  domain=self.cases.domain, ref_id=item.id, now=now)
            return Captured(self._view(item), appended, tuple(rest))

        try:
            for attempt in (1, 2, 3):
                try:
                    captured = self.transactions.commit(unit)
                    break
                except StaleStep:
                    # A concurrent twin (the same event id, or the shipment's first cursor
                    # row) committed first: check again against what it wrote.
                    if attempt == 3:
                        raise
        except BaseException:
            store.discard()  # nothing of a refused event stays in the blockstore
            raise
        pin = getattr(self.blockstore, "pin", None)
        if pin is not None:  # kubo: keep the container from garbage collection
            pin(cid)
        return captured

    def _check_new(self, session: Session, item: _Key, *, lock: bool = True
                   ) -> PerformanceCursor | None:
        """Refuse a replay or an event out of order; the shipment's cursor (locked)."""
        seen = session.exec(_SEEN, params={"source": item.source,
                                           "event_id": item.event_id}).first()
        if seen is not None:
            raise WebhookRefused("webhook_replayed", f"event {item.event_id} from "
                                 f"{item.source} is already recorded (item {seen}); a "
                                 "replay is never recorded twice")
        cursor = self._cursor(session, item, lock=lock)
        if cursor is not None and item.sequence <= cursor.last_sequence:
            raise WebhookRefused("webhook_out_of_order", f"shipment {item.shipment}: sequence "
                                 f"{item.sequence} arrives after {cursor.last_sequence} "
                                 f"(item {cursor.last_item}); send a shipment's events in "
                                 "order, each with a higher sequence")
        return cursor

    def _cursor(self, session: Session, item: _Key, *, lock: bool = True
                ) -> PerformanceCursor | None:
        return session.exec(_CURSOR_LOCKED if lock else _CURSOR, params={
            "source": item.source, "order_id": item.order_id,
            "shipment": item.shipment}).first()

    def _advance_cursor(self, session: Session, item: PerformanceItem,
                        cursor: PerformanceCursor | None) -> None:
        assert item.id is not None
        if cursor is None:
            cursor = PerformanceCursor(source=item.source, order_id=item.order_id,
                                       shipment=item.shipment, last_sequence=item.sequence,
                                       last_item=item.id)
        else:
            cursor.last_sequence, cursor.last_item = item.sequence, item.id
        session.add(cursor)

    def _log_refusal(self, sender_id: str, refused: WebhookRefused, body: bytes,
                     timestamp: str, remote: str, event: PerformanceEvent | None) -> None:
        row = WebhookRefusal(
            at=self.now(), sender=sender_id[:64], code=refused.code, detail=str(refused)[:2000],
            event_id=event.event_id if event else "",
            order_id=str(event.order_id) if event else "",
            body_sha256=_h(hashlib.sha256(body).digest()), signed_timestamp=timestamp[:20],
            remote=remote[:64])
        with self.cases.repository.write_session() as session:
            session.add(row)
            session.commit()

    # -- reading -------------------------------------------------------------------------

    def refusals(self, *, after: int = 0, limit: int = 100) -> list[WebhookRefusalJson]:
        """The refusal log, oldest first from ``after`` (an admin's read)."""
        with self.sessions() as session:
            rows = session.exec(select(WebhookRefusal).where(col(WebhookRefusal.id) > after)
                                .order_by(col(WebhookRefusal.id)).limit(limit)).all()
            return [{"id": _stored(r.id), "at": p.to_jsonable(r.at), "sender": r.sender,
                     "code": r.code, "detail": r.detail, "eventId": r.event_id,
                     "orderId": r.order_id, "bodySha256": r.body_sha256,
                     "signedTimestamp": r.signed_timestamp, "remote": r.remote}
                    for r in rows]

    def for_order(self, user: str, order_id: int) -> list[PerformanceItemJson]:
        """A party's (or an admin's) view of its order's items, before any case."""
        order = self._order(order_id)
        if user not in (order.buyer, order.seller) and not self.cases.is_admin(user):
            raise AccessDenied(f"only the parties of order {order_id} see its performance "
                               f"evidence; you are {user}")
        with self.sessions() as session:
            return [self._view(i) for i in self._items(session, str(order_id))]

    def for_case(self, user: str, case_id: str) -> list[PerformanceItemJson]:
        """The case's performance evidence (attached first), for anyone taking part."""
        from .views import check_reader

        case_id = case_id.lower()
        with self.sessions() as session:
            _row, case = self.cases.load_in(session, case_id)
            check_reader(self.cases, session, case, user)
        self.attach(case_id)
        with self.sessions() as session:
            return [self._view(i) for i in self._items(session, str(case.order.order_id))]

    def provenance_log(self, user: str, item_id: int) -> PerformanceProvenanceJson:
        item = self._readable(user, item_id)
        return {"itemId": item.id, "commitment": item.commitment,
                "origin": self._origin(item), "entries": item.provenance}

    def content(self, user: str, item_id: int) -> bytes:
        """The event's body as captured (decrypted, checked against its SHA-256)."""
        item = self._readable(user, item_id)
        key = self.keys.unwrap(item.wrapped_keys["keywraps"])
        container = b"".join(cat(item.cid, self.blockstore))
        body = b"".join(iter_decrypt(io.BytesIO(container), key))
        if _h(hashlib.sha256(body).digest()) != item.sha256:
            raise EvidenceError(f"performance item {item_id}: decrypted content does not hash "
                                f"to {item.sha256}")
        return body

    def _readable(self, user: str, item_id: int) -> PerformanceItem:
        """The item, for the order's parties and admins, and, once a case is open for the
        order, for whoever reads the case (its neutrals, a court given access)."""
        from .views import check_reader

        with self.sessions() as session:
            item = session.get(PerformanceItem, item_id)
            if item is None:
                raise NotFound(f"no performance item {item_id}")
            if session.get(Case, item.case_id) is not None:
                _row, case = self.cases.load_in(session, item.case_id)
                check_reader(self.cases, session, case, user)
                return item
        self.for_order(user, int(item.order_id))  # no case yet: the order's parties
        return item

    def attach(self, case_id: str) -> int:
        """Append ``case.attached`` to the logs of the order's items recorded before the
        case existed (in one write unit); how many were attached."""
        with self.sessions() as session:
            todo = session.exec(select(PerformanceItem.id).where(
                col(PerformanceItem.case_id) == case_id,
                col(PerformanceItem.attached_at).is_(None))).all()
        if not todo:
            return 0
        now = self.now()
        with self.cases.repository.write_session() as session:
            if session.get(Case, case_id) is None:
                return 0
            items = session.exec(select(PerformanceItem).where(
                col(PerformanceItem.case_id) == case_id,
                col(PerformanceItem.attached_at).is_(None))
                .order_by(col(PerformanceItem.id))).all()
            for item in items:
                logged = len(item.provenance)
                item.provenance = provenance.append(
                    item.provenance, [("case.attached", "", "case-filed", int(now.timestamp()),
                                       {"caseId": case_id, "filedBeforeCapture": False})],
                    case_id=bytes.fromhex(case_id[2:]),
                    commitment=bytes.fromhex(item.commitment[2:]), domain=self.cases.domain,
                    service_key=self._service_key)
                item.attached_at = now
                session.add(item)
                log_provenance(session, case_id=case_id, entries=item.provenance,
                               logged=logged, domain=self.cases.domain, ref_id=item.id,
                               now=now)
            session.commit()
            return len(items)

    def facts(self, case: p.CaseState) -> PerformanceFacts:
        """What the pre-evaluation reads of the case's order (attached first)."""
        self.attach(case.case_id)
        with self.sessions() as session:
            events = [RecordedEvent(item_id=i.id or 0, type=EventType(i.event_type),
                                    occurred_at=i.occurred_at,
                                    origin_verified=i.origin == ORIGIN_VERIFIED,
                                    submitter=i.submitter)
                      for i in self._items(session, str(case.order.order_id))]
        return performance_facts(events, buyer=case.order.buyer, seller=case.order.seller)

    def _items(self, session: Session, order_id: str) -> list[PerformanceItem]:
        return list(session.exec(select(PerformanceItem).where(
            col(PerformanceItem.order_id) == order_id).order_by(col(PerformanceItem.id))).all())

    def _origin(self, item: PerformanceItem) -> OriginJson:
        labels = ORIGIN_LABELS[item.origin]
        out: OriginJson = {"label": item.origin, "en": labels["en"],
                           "zh-Hans": labels["zh-Hans"]}
        if item.origin == ORIGIN_VERIFIED:
            sender = self.senders.get(item.source.removeprefix("webhook:"))
            for e in item.provenance:
                entry = e["entry"]
                if isinstance(entry, dict) and entry["action"] == "origin.verified":
                    details = entry["details"]
                    said = details["sender"] if isinstance(details, dict) else None
                    if isinstance(said, dict):  # the service wrote it: public_view(sender)
                        out["sender"] = cast(SenderViewJson, said)
            if "sender" not in out and sender is not None:  # pragma: no cover - log holds it
                out["sender"] = public_view(sender)
        else:
            out["submitter"] = item.submitter
        return out

    def _view(self, item: PerformanceItem) -> PerformanceItemJson:
        en, zh = EVENT_TYPES[EventType(item.event_type)]
        return {"id": _stored(item.id), "orderId": item.order_id, "caseId": item.case_id,
                "attached": item.attached_at is not None, "eventId": item.event_id,
                "type": item.event_type, "typeLabel": {"en": en, "zh-Hans": zh},
                "shipment": item.shipment, "sequence": item.sequence,
                "occurredAt": _iso(item.occurred_at), "capturedAt": _iso(item.captured_at),
                "origin": self._origin(item), "sha256": item.sha256,
                "commitment": item.commitment, "cid": item.cid, "size": item.size,
                "mediaType": MEDIA_TYPE}

    # -- the judicial package ------------------------------------------------------------

    def package_document(self, case: p.CaseState) -> bytes | None:
        """``documents/performance-evidence.json`` of the case's judicial package: every
        item of its order with its origin label (both languages), the body as captured, the
        salt and the signed provenance log, so a court recomputes the hash, the commitment
        and every signature (docs/performance-evidence.md, "In the judicial package");
        None when the order has none."""
        self.attach(case.case_id)
        with self.sessions() as session:
            items = self._items(session, str(case.order.order_id))
        if not items:
            return None
        out = []
        for item in items:
            key = self.keys.unwrap(item.wrapped_keys["keywraps"])
            container = b"".join(cat(item.cid, self.blockstore))
            body = b"".join(iter_decrypt(io.BytesIO(container), key))
            out.append(self._view(item) | {
                "salt": item.salt, "bodyBase64": base64.b64encode(body).decode(),
                "signature": item.signature, "signedTimestamp": item.signed_timestamp,
                "provenance": item.provenance})
        doc = {"caseId": case.case_id, "orderId": str(case.order.order_id),
               "labels": ORIGIN_LABELS, "howToCheck": HOW_TO_CHECK, "items": out}
        return json.dumps(doc, indent=1, sort_keys=True, ensure_ascii=False).encode()


HOW_TO_CHECK = {
    "en": "For each item: SHA-256 of the base64-decoded body equals sha256; commitment = "
          "SHA-256(tag || salt || sha256) as for every evidence item (evidence.commitment); "
          "each provenance entry is signed by the institution key under the case's EIP-712 "
          "domain and bound to caseId and commitment (evidence.judicial.provenance.check_log). "
          "An origin-verified item's origin.verified entry names the sender and its key; "
          "the webhook's own signature and signedTimestamp are given to check it again with "
          "the sender's key.",
    "zh-Hans": "逐项核验：正文（base64 解码后）的 SHA-256 等于 sha256；commitment = "
               "SHA-256(tag || salt || sha256)，与所有证据相同；每条来源记录均由机构密钥按本案 "
               "EIP-712 域签名，并绑定 caseId 与 commitment。来源已验证的条目在 origin.verified "
               "中写明发送方及其密钥，并附回调原签名及签名时间，可用发送方密钥再次核验。",
}
