"""Tables of the jury track outside a case (docs/jury.md §1): the assessor pool's steps.

Rule: the pool is a hash chain of signed ``ProceduralStep``s of its own (``POOL_ID`` is
its case id, backend/jury/_pool.py); one row per step, in sequence, never changed. The
pool, each case's eligible snapshot and the assessors' standing are computed from these
rows and from the cases (nothing derived is stored, so nothing can disagree). Schema owned
by Alembic revision 0012.
"""

from __future__ import annotations

from datetime import datetime

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from backend.db.models import ADDRESS, HASH
from backend.db.types import FreeJson, RecordColumn, UTCDateTime, utcnow

__all__ = ["PoolStepRow"]


class PoolStepRow(SQLModel, table=True):
    """One signed step of the assessor pool (apply, admit, suspend, reinstate, declare)."""

    __tablename__ = "assessor_pool_step"

    sequence: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    action: str = Field(max_length=64)
    assessor: str = Field(max_length=ADDRESS, index=True)
    signer: str = Field(max_length=ADDRESS)
    record: RecordColumn = Field(sa_type=sa.JSON, nullable=False)  # SignedRecord JSON
    payload: FreeJson = Field(sa_type=sa.JSON, nullable=False)  # SHA-256 = payloadHash
    # an institution step an admin signed: the admin's own record, kept beside it
    authorization: RecordColumn | None = Field(default=None, sa_type=sa.JSON)
    record_hash: str = Field(max_length=HASH, unique=True)
    created_at: datetime = Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)
