"""Tables of performance evidence (docs/performance-evidence.md): events recorded during an
order, before any dispute, and the webhooks refused.

Rules as in backend/db/models.py (portable types, 0x-hex, decimal uint256, short status
strings; schema owned by Alembic, revision 0007; nothing here commits).

* ``PerformanceItem``: one recorded event, encrypted in IPFS like any evidence item
  (commitment, CID, key wraps) with its signed provenance log, bound to the order's case id
  (known before the case exists: ``case_id_for_order``). ``source`` is ``webhook:<sender>``
  or the party's address; ``(source, event_id)`` is unique: a replay cannot be stored twice.
* ``PerformanceCursor``: the last accepted sequence per (source, order, shipment): the
  out-of-order check, one locked row per shipment.
* ``WebhookRefusal``: every refused webhook, for the institution to read.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from backend.db.models import ADDRESS, CID, HASH, UINT256
from backend.db.types import FreeJson, UTCDateTime, WrappedKeysColumn, utcnow

__all__ = ["PerformanceCursor", "PerformanceItem", "WebhookRefusal"]


class PerformanceItem(SQLModel, table=True):
    __tablename__ = "performance_item"
    __table_args__ = (sa.UniqueConstraint("source", "event_id"),)

    id: int | None = Field(default=None, primary_key=True)
    order_id: str = Field(max_length=UINT256, index=True)
    case_id: str = Field(max_length=HASH, index=True)  # case_id_for_order (no FK: may not exist)
    attached_at: datetime | None = Field(default=None, sa_type=UTCDateTime)  # to the filed case
    origin: str = Field(max_length=16)  # origin-verified | party-submitted
    source: str = Field(max_length=64)  # webhook:<sender id> | the party's address
    submitter: str = Field(default="", max_length=ADDRESS)  # the party, for its own record
    event_id: str = Field(max_length=128)
    shipment: str = Field(max_length=64)
    sequence: int = Field(sa_type=sa.BigInteger, nullable=False)
    event_type: str = Field(max_length=32)
    occurred_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    captured_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    signed_timestamp: int | None = Field(default=None, sa_type=sa.BigInteger)
    signature: str = Field(default="", max_length=200)  # the webhook's, as sent
    size: int = Field(nullable=False)
    sha256: str = Field(max_length=HASH)
    salt: str = Field(max_length=HASH)
    commitment: str = Field(max_length=HASH, unique=True)
    cid: str = Field(max_length=CID)
    wrapped_keys: WrappedKeysColumn = Field(default_factory=dict, sa_type=sa.JSON,
                                            nullable=False)
    provenance: list[FreeJson] = Field(default_factory=list, sa_type=sa.JSON,
                                       nullable=False)


class PerformanceCursor(SQLModel, table=True):
    __tablename__ = "performance_cursor"
    __table_args__ = (sa.UniqueConstraint("source", "order_id", "shipment"),)

    id: int | None = Field(default=None, primary_key=True)
    source: str = Field(max_length=64)
    order_id: str = Field(max_length=UINT256)
    shipment: str = Field(max_length=64)
    last_sequence: int = Field(sa_type=sa.BigInteger, nullable=False)
    last_item: int = Field(nullable=False)


class WebhookRefusal(SQLModel, table=True):
    __tablename__ = "webhook_refusal"

    id: int | None = Field(default=None, primary_key=True)
    at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False,
                         index=True)
    sender: str = Field(max_length=64, index=True)  # as the request named it
    code: str = Field(max_length=40)
    detail: str = Field(sa_type=sa.Text)
    event_id: str = Field(default="", max_length=128)
    order_id: str = Field(default="", max_length=UINT256)
    body_sha256: str = Field(max_length=HASH)
    signed_timestamp: str = Field(default="", max_length=20)
    remote: str = Field(default="", max_length=64)
