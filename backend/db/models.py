"""The service's tables (SQLModel), one class per table.

Rules for this module:

* The schema is owned by Alembic (`backend/migrations/`). A change here needs a new
  revision; `tests/backend/db/test_migrations.py` fails while models and migrations differ,
  on SQLite and on PostgreSQL.
* Portable types only: strings, integers, JSON, `UTCDateTime`. Hashes and signatures are
  0x-prefixed lower-case hex strings, addresses are EIP-55 checksummed strings, uint256
  values (order ids, amounts) are decimal strings: SQLite has no 256-bit integers.
* Status fields are `StrEnum`s stored as short strings (no database ENUM types, so adding a
  status needs no DDL).
* One command commits its state, step, leaf and notices in one transaction, at the edge
  (STYLE.md section 9); nothing here commits.
* Optimistic concurrency on a case: an update sets ``next_sequence = n + 1`` ``WHERE
  next_sequence = n``; zero rows updated means another request won, and the command is
  refused as stale.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from backend.db.types import FreeJson, RecordColumn, UTCDateTime, WrappedKeysColumn, utcnow

__all__ = [
    "Account",
    "AnchorBatch",
    "AnchorInclusion",
    "AnchorStatus",
    "AuthNonce",
    "AuthSession",
    "Case",
    "EvidenceItem",
    "Leaf",
    "LeafKind",
    "Notice",
    "NoticeStatus",
    "Participant",
    "Step",
]

ADDRESS = 42  # 0x + 40 hex
HASH = 66  # 0x + 64 hex
SIGNATURE = 132  # 0x + 65 bytes
CID = 128
UINT256 = 78  # decimal digits of 2**256 - 1

# Deterministic constraint names, so that migrations can name what they drop and both
# backends agree (SQLite would otherwise leave them unnamed).
SQLModel.metadata.naming_convention = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class AnchorStatus(StrEnum):
    """Life of a root on one chain (`AnchorInclusion`; docs/persistence.md has the
    transitions). A batch is PENDING or CONFIRMED (on every chain)."""

    PENDING = "pending"  # claimed, root computed, nothing sent yet
    SENT = "sent"  # raw transaction signed and recorded (tx_hash known), maybe broadcast
    CONFIRMED = "confirmed"  # receipt with status 1 and enough confirmations
    FAILED = "failed"  # attempts exhausted; kept, `retry_failed` requeues it


class LeafKind(StrEnum):
    STEP = "step"
    EVIDENCE = "evidence"
    ATTACHMENT = "attachment"  # an escrow record (Award, Settlement) a step carries
    CONTRACT = "contract"  # the signed contract of sale the case's order binds (SaleContract)


class NoticeStatus(StrEnum):
    PENDING = "pending"
    SENT = "sent"
    FAILED = "failed"  # attempts exhausted; error says why
    OUTBOX_ONLY = "outbox_only"  # no SMTP configured or no e-mail known: kept as record


class Account(SQLModel, table=True):
    """A wallet that signed in at least once, with its contact details."""

    __tablename__ = "account"

    address: str = Field(primary_key=True, max_length=ADDRESS)
    display_name: str = Field(default="", max_length=200)
    email: str | None = Field(default=None, max_length=320)
    preferred_language: str = Field(default="en", max_length=16)
    created_at: datetime = _created()


class AuthNonce(SQLModel, table=True):
    """A one-time sign-in challenge; consumed (used_at set) by the first valid signature."""

    __tablename__ = "auth_nonce"

    nonce: str = Field(primary_key=True, max_length=64)
    address: str = Field(max_length=ADDRESS, index=True)
    message: str = Field(sa_type=sa.Text)
    issued_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    used_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class AuthSession(SQLModel, table=True):
    """A signed-in wallet. Only the token's SHA-256 is stored, never the token."""

    __tablename__ = "auth_session"

    id: int | None = Field(default=None, primary_key=True)
    token_sha256: str = Field(max_length=HASH, unique=True)
    address: str = Field(foreign_key="account.address", max_length=ADDRESS, index=True)
    created_at: datetime = _created()
    expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    revoked_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Case(SQLModel, table=True):
    """One dispute about one escrowed order; `state` is the procedure's CaseState as JSON."""

    __tablename__ = "arb_case"  # "case" is an SQL keyword
    __table_args__ = (
        sa.Index("ix_arb_case_next_deadline", "next_deadline"),
    )

    id: str = Field(primary_key=True, max_length=HASH)  # bytes32 caseId, 0x-hex
    order_id: str = Field(max_length=UINT256, index=True)  # escrow's uint256, decimal
    claimant: str = Field(max_length=ADDRESS)
    respondent: str = Field(max_length=ADDRESS)
    stage: str = Field(max_length=32, index=True)
    state: FreeJson = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    next_sequence: int = Field(default=0, nullable=False)
    next_deadline: datetime | None = Field(default=None, sa_type=UTCDateTime)
    created_at: datetime = _created()
    updated_at: datetime = _created()


class Participant(SQLModel, table=True):
    """Who holds which role in a case (claimant, mediator, arbitrator, panel, court, ...)."""

    __tablename__ = "participant"
    __table_args__ = (sa.UniqueConstraint("case_id", "address", "role"),)

    id: int | None = Field(default=None, primary_key=True)
    # no index of its own: the unique constraint's index starts with case_id (0016)
    case_id: str = Field(foreign_key="arb_case.id", max_length=HASH)
    address: str = Field(max_length=ADDRESS, index=True)
    role: str = Field(max_length=32)
    appointed_at: datetime = _created()
    removed_at: datetime | None = Field(default=None, sa_type=UTCDateTime)


class Step(SQLModel, table=True):
    """One signed procedural record of a case, linked to the previous by its hash."""

    __tablename__ = "step"
    __table_args__ = (sa.UniqueConstraint("case_id", "sequence"),)

    id: int | None = Field(default=None, primary_key=True)
    # no index of its own: (case_id, sequence)'s serves every query by case (0016)
    case_id: str = Field(foreign_key="arb_case.id", max_length=HASH)
    sequence: int = Field(nullable=False)
    kind: str = Field(max_length=64)
    record: RecordColumn = Field(sa_type=sa.JSON, nullable=False)  # the signed record
    signature: str = Field(max_length=SIGNATURE)
    signer: str = Field(max_length=ADDRESS)
    record_hash: str = Field(max_length=HASH, unique=True)
    prev_hash: str = Field(max_length=HASH)
    cid: str | None = Field(default=None, max_length=CID)
    created_at: datetime = _created()


class EvidenceItem(SQLModel, table=True):
    """An uploaded, encrypted, committed evidence file (plain bytes never stored here)."""

    __tablename__ = "evidence_item"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="arb_case.id", max_length=HASH, index=True)
    submitter: str = Field(max_length=ADDRESS)
    filename: str = Field(max_length=255)
    media_type: str = Field(max_length=127)  # sniffed from the bytes, not the client's
    size: int = Field(sa_type=sa.BigInteger, nullable=False)
    sha256: str = Field(max_length=HASH)
    salt: str = Field(max_length=HASH)
    commitment: str = Field(max_length=HASH, unique=True)
    cid: str = Field(max_length=CID)  # of the encrypted container
    kind: str = Field(default="other", max_length=32)  # procedure.EvidenceKind value
    claimed_media_type: str = Field(default="", max_length=127)  # the client's, recorded only
    upload_session: str = Field(default="", max_length=80)  # "auth-session:<id>" of the upload
    # {"keywraps": KeyWraps JSON, "service": its public key, "recipients": {address: key}}
    wrapped_keys: WrappedKeysColumn = Field(default_factory=dict, sa_type=sa.JSON,
                                            nullable=False)
    disclosed_to: list[str] = Field(default_factory=list, sa_type=sa.JSON, nullable=False)
    record: RecordColumn | None = Field(default=None, sa_type=sa.JSON)  # signed submission
    signature: str | None = Field(default=None, max_length=SIGNATURE)
    provenance: list[FreeJson] = Field(
        default_factory=list, sa_type=sa.JSON, nullable=False
    )
    created_at: datetime = _created()


class AnchorBatch(SQLModel, table=True):
    """One Merkle root, anchored on every configured chain (an `AnchorInclusion` per chain);
    created, with its root, before anything is sent.

    `status` is PENDING until every inclusion of the batch is CONFIRMED, then CONFIRMED
    (the worker sets it in the transaction that confirms the last one): the package and
    the pages need "anchored everywhere it was sent" in one column.
    """

    __tablename__ = "anchor_batch"

    id: int | None = Field(default=None, primary_key=True)
    root: str = Field(max_length=HASH, unique=True)
    leaf_count: int = Field(nullable=False)
    status: AnchorStatus = Field(
        default=AnchorStatus.PENDING, sa_type=sa.String(16), nullable=False, index=True
    )
    timestamp_token: bytes | None = Field(default=None, sa_type=sa.LargeBinary)  # RFC 3161
    created_at: datetime = _created()
    updated_at: datetime = _created()


class AnchorInclusion(SQLModel, table=True):
    """A batch's root on one anchoring chain: its transaction, written ahead, and where it
    landed. One row per (batch, chain); the anchoring worker's state machine runs per row,
    so a chain that is down holds up only its own rows."""

    __tablename__ = "anchor_inclusion"
    __table_args__ = (
        sa.UniqueConstraint("batch_id", "chain_id"),
        sa.Index("ix_anchor_inclusion_chain_status", "chain_id", "status"),
    )

    id: int | None = Field(default=None, primary_key=True)
    batch_id: int = Field(foreign_key="anchor_batch.id", nullable=False)
    chain_id: int = Field(sa_type=sa.BigInteger, nullable=False)
    contract: str = Field(max_length=ADDRESS)
    status: AnchorStatus = Field(
        default=AnchorStatus.PENDING, sa_type=sa.String(16), nullable=False
    )
    nonce: int | None = Field(default=None, sa_type=sa.BigInteger)
    raw_tx: str | None = Field(default=None, sa_type=sa.Text)  # written before broadcast
    tx_hash: str | None = Field(default=None, max_length=HASH)
    block_number: int | None = Field(default=None, sa_type=sa.BigInteger)
    block_hash: str | None = Field(default=None, max_length=HASH)
    block_time: datetime | None = Field(default=None, sa_type=UTCDateTime)
    attempts: int = Field(default=0, nullable=False)
    last_error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _created()
    updated_at: datetime = _created()


class Leaf(SQLModel, table=True):
    """A step or evidence item waiting for, or holding, its place in an anchor batch."""

    __tablename__ = "leaf"
    __table_args__ = (
        sa.UniqueConstraint("kind", "ref_id"),
        sa.Index("ix_leaf_unbatched", "batch_id", "id"),
    )

    id: int | None = Field(default=None, primary_key=True)
    kind: LeafKind = Field(sa_type=sa.String(16), nullable=False)
    ref_id: int = Field(nullable=False)  # Step.id or EvidenceItem.id
    case_id: str = Field(foreign_key="arb_case.id", max_length=HASH, index=True)
    # The StandardMerkleTree leaf values (evidence.merkle.LEAF_ENCODING, 0x-hex) and their
    # hash; the worker rebuilds the tree from the values and checks the stored hash.
    value: list[str] = Field(sa_type=sa.JSON, nullable=False)
    leaf_hash: str = Field(max_length=HASH, unique=True)
    batch_id: int | None = Field(default=None, foreign_key="anchor_batch.id")
    proof: list[str] | None = Field(default=None, sa_type=sa.JSON)
    created_at: datetime = _created()


class Notice(SQLModel, table=True):
    """A notice to a participant (the outbox); SMTP delivery is recorded on the row."""

    __tablename__ = "notice"
    __table_args__ = (sa.Index("ix_notice_status_next", "status", "next_attempt_at"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str | None = Field(default=None, foreign_key="arb_case.id", max_length=HASH,
                                index=True)
    recipient: str = Field(max_length=ADDRESS)
    email: str | None = Field(default=None, max_length=320)
    kind: str = Field(max_length=64)
    language: str = Field(default="en", max_length=16)
    subject: str = Field(max_length=300)
    body: str = Field(sa_type=sa.Text)
    status: NoticeStatus = Field(
        default=NoticeStatus.PENDING, sa_type=sa.String(16), nullable=False
    )
    attempts: int = Field(default=0, nullable=False)
    next_attempt_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    delivered_at: datetime | None = Field(default=None, sa_type=UTCDateTime)
    error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _created()
