"""Tables of the HTTP service (backend/services): what the core tables do not hold.

Rules (as in backend/db/models.py): portable types only, hashes and signatures 0x-hex,
addresses EIP-55, uint256 as decimal strings, statuses as short strings; the schema is
owned by Alembic (revision 0002); nothing here commits.

* ``StepDetail``: per signed step, what the record's hashes point at (the canonical
  payload whose SHA-256 is ``payloadHash``, the carried Settlement/Award records, the admin's
  signed authorisation of an institution step) and how its IPFS bundle is protected (its
  data key wrapped for the service key; a carried document's key likewise, as the
  attachment's ``keywraps``).
* ``ChainAction``: the outbox of chain effects (freeze, appoint, settle, award), executed
  after the command's transaction commits, retried, with the transaction hash recorded.
* ``CaseEvent``: stage changes and deadlines for the timeline (defaults included).
* ``OfferSignature``: each party's signature on the escrow's ``Settlement`` for an offer.
* ``CourtAccount`` / ``CourtAccess``: courts registered by an admin and the cases they read.
* ``IdentityRecord``: signed records saying who someone is, outside the step chain: a
  person's ``Profile`` (their own, or issued by the institution for a court or neutral) and
  a neutral's ``Disclosure`` on an appointment (with its case). Never changed; the newest
  profile of a subject is the one in effect.
* ``SaleContract``: a contract of sale proposed at checkout (docs/contract-of-sale.md), its
  buyer's and seller's signatures as they arrive, the IPFS bundle once both signed, and the
  escrow order (and so the case) that binds it.
* ``ReaderKey``: a case member's X25519 public key for offline decryption of evidence (one
  per member and case; registering again replaces it).
* ``StepBlock``: the IPFS blocks of each step's bundle on the local store, written in the
  step's own transaction (backend/db/blocks.py; revision 0015).
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel, col, select
from sqlmodel.sql.expression import SelectOfScalar

from backend.db.models import ADDRESS, CID, HASH, SIGNATURE, Step
from backend.db.types import FreeJson, RecordColumn, UTCDateTime, utcnow

__all__ = [
    "CaseEvent",
    "ChainAction",
    "ChainActionStatus",
    "CourtAccess",
    "CourtAccount",
    "IdentityRecord",
    "OfferSignature",
    "ReaderKey",
    "SaleContract",
    "SaleContractStatus",
    "StepBlock",
    "StepDetail",
    "details_of_case",
]


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class ChainActionStatus(StrEnum):
    PENDING = "pending"  # to be sent by the institution key (retried)
    AWAITING_PARTY = "awaiting_party"  # only a party can send it (raiseDispute): we watch
    DONE = "done"  # mined (tx_hash) or observed on-chain
    FAILED = "failed"  # attempts exhausted; error says why


class StepDetail(SQLModel, table=True):
    """What a step's record points at, kept beside the core ``step`` row."""

    __tablename__ = "step_detail"

    step_id: int = Field(primary_key=True, foreign_key="step.id")
    # kept as written, not indexed (0016): a case's details are found through its steps'
    # (case_id, sequence) index (``details_of_case``)
    case_id: str = Field(foreign_key="arb_case.id", max_length=HASH)
    action: str = Field(max_length=64)
    command: FreeJson = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    payload: str | None = Field(default=None, sa_type=sa.Text)  # canonical JSON signed over
    attachments: list[FreeJson] = Field(
        default_factory=list, sa_type=sa.JSON, nullable=False
    )
    authorization: FreeJson | None = Field(default=None, sa_type=sa.JSON)
    confidential: bool = Field(default=False, nullable=False)
    # The bundle's data key, wrapped for the service's X25519 key (``KeyWraps`` JSON;
    # backend/services/keys.py). ``data_key`` is the plaintext form of rows written before
    # revision 0003: never written now, sealed into ``data_key_wraps`` at service start.
    data_key: str | None = Field(default=None, max_length=HASH)
    data_key_wraps: str | None = Field(default=None, sa_type=sa.Text)
    bundle_cid: str | None = Field(default=None, max_length=CID)
    signed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    created_at: datetime = _created()


class StepBlock(SQLModel, table=True):
    """One IPFS block of a step's bundle, keyed like a flatfs file by its CID's multihash
    (raw and dag-pb blocks of the same bytes are one row); written with the step's rows so
    the step and its block commit (or vanish) together (backend/db/blocks.py)."""

    __tablename__ = "step_block"

    multihash: bytes = Field(sa_type=sa.LargeBinary, primary_key=True)
    data: bytes = Field(sa_type=sa.LargeBinary, nullable=False)


def details_of_case(case_id: str) -> SelectOfScalar[StepDetail]:
    """The details of a case's steps, in step order: joined to their steps, whose unique
    (case_id, sequence) index finds them (revision 0016 dropped the details' own index on
    case_id: one page fewer written per step). Callers add their own conditions."""
    return select(StepDetail).join(Step, col(Step.id) == col(StepDetail.step_id)).where(
        col(Step.case_id) == case_id).order_by(col(StepDetail.step_id))


class ChainAction(SQLModel, table=True):
    """One chain effect of a command, executed after commit and retried until done."""

    __tablename__ = "chain_action"
    __table_args__ = (sa.Index("ix_chain_action_status", "status", "id"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="arb_case.id", max_length=HASH, index=True)
    kind: str = Field(max_length=32)
    payload: FreeJson = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)
    status: ChainActionStatus = Field(
        default=ChainActionStatus.PENDING, sa_type=sa.String(16), nullable=False
    )
    attempts: int = Field(default=0, nullable=False)
    tx_hash: str | None = Field(default=None, max_length=HASH)
    error: str | None = Field(default=None, sa_type=sa.Text)
    created_at: datetime = _created()
    updated_at: datetime = _created()


class CaseEvent(SQLModel, table=True):
    """A stage change or a deadline of a case, for the timeline."""

    __tablename__ = "case_event"

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="arb_case.id", max_length=HASH, index=True)
    at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    kind: str = Field(max_length=32)
    data: dict[str, Any] = Field(default_factory=dict, sa_type=sa.JSON, nullable=False)


class OfferSignature(SQLModel, table=True):
    """A party's signature on the escrow ``Settlement`` an offer stands for."""

    __tablename__ = "offer_signature"
    __table_args__ = (sa.UniqueConstraint("case_id", "offer_id", "signer"),)

    id: int | None = Field(default=None, primary_key=True)
    # no index of its own: the unique constraint's index starts with case_id (0016)
    case_id: str = Field(foreign_key="arb_case.id", max_length=HASH)
    offer_id: str = Field(max_length=80)
    signer: str = Field(max_length=ADDRESS)
    signature: str = Field(max_length=SIGNATURE)
    record_hash: str = Field(max_length=HASH)
    created_at: datetime = _created()


class CourtAccount(SQLModel, table=True):
    """A court's wallet, registered by an institution admin."""

    __tablename__ = "court_account"

    address: str = Field(primary_key=True, max_length=ADDRESS)
    name: str = Field(max_length=200)
    registered_by: str = Field(max_length=ADDRESS)
    created_at: datetime = _created()


class CourtAccess(SQLModel, table=True):
    """A court given read access to one case (and the right to confirm its result)."""

    __tablename__ = "court_access"
    __table_args__ = (sa.UniqueConstraint("case_id", "court"),)

    id: int | None = Field(default=None, primary_key=True)
    # no index of its own: the unique constraint's index starts with case_id (0016)
    case_id: str = Field(foreign_key="arb_case.id", max_length=HASH)
    court: str = Field(foreign_key="court_account.address", max_length=ADDRESS)
    granted_by: str = Field(max_length=ADDRESS)
    created_at: datetime = _created()


class ReaderKey(SQLModel, table=True):
    """A case member's X25519 public key: evidence it may read gets a key wrap for it."""

    __tablename__ = "reader_key"
    __table_args__ = (sa.UniqueConstraint("case_id", "address"),)

    id: int | None = Field(default=None, primary_key=True)
    case_id: str = Field(foreign_key="arb_case.id", max_length=HASH)
    address: str = Field(max_length=ADDRESS)
    public_key: str = Field(max_length=HASH)  # 0x + 32 bytes
    registered_at: datetime = Field(sa_type=UTCDateTime, nullable=False)


class IdentityRecord(SQLModel, table=True):
    """A signed ``Profile`` or ``Disclosure`` (evidence/records.py), kept as received."""

    __tablename__ = "identity_record"

    id: int | None = Field(default=None, primary_key=True)
    kind: str = Field(max_length=16)  # the record type: Profile or Disclosure
    subject: str = Field(max_length=ADDRESS, index=True)  # profile's subject, appointee
    issuer: str = Field(max_length=ADDRESS)  # who signed it
    case_id: str | None = Field(default=None, foreign_key="arb_case.id", max_length=HASH,
                                index=True)  # a disclosure's case; None for a profile
    record_hash: str = Field(max_length=HASH, unique=True)
    record: RecordColumn = Field(sa_type=sa.JSON, nullable=False)  # canonical JSON object
    signed_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    received_at: datetime = _created()


class SaleContractStatus(StrEnum):
    PROPOSED = "proposed"  # stored; one or no party has signed
    SIGNED = "signed"  # buyer and seller signed; stored in IPFS
    BOUND = "bound"  # an escrow order binds it; its case exists and its leaf is queued


class SaleContract(SQLModel, table=True):
    """A ``ContractOfSale`` record (evidence/records.py) and its signatures so far."""

    __tablename__ = "sale_contract"

    id: int | None = Field(default=None, primary_key=True)
    record_hash: str = Field(max_length=HASH, unique=True)
    buyer: str = Field(max_length=ADDRESS, index=True)
    seller: str = Field(max_length=ADDRESS, index=True)
    status: SaleContractStatus = Field(sa_type=sa.String(16), nullable=False)
    record: RecordColumn = Field(sa_type=sa.JSON, nullable=False)  # SignedRecord JSON
    offer_expires_at: datetime = Field(sa_type=UTCDateTime, nullable=False)
    cid: str | None = Field(default=None, max_length=CID)  # the bundle, once signed
    data_key_wraps: str | None = Field(default=None, sa_type=sa.Text)
    order_id: int | None = Field(default=None, unique=True)
    case_id: str | None = Field(default=None, foreign_key="arb_case.id", max_length=HASH)
    created_at: datetime = _created()
    updated_at: datetime = _created()
