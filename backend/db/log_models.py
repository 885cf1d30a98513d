"""Tables of the institution's log (issue 15; docs/log.md, "Service"): its entries in
acceptance order, the complete nodes of its Merkle tree, its size, and its checkpoints.

Rules (as in backend/db/models.py): portable types only, hashes 0x-hex, the schema is
owned by Alembic (revision 0009), nothing here commits.

* ``LogHead``: one row (id 1), the log's size. Every append runs an upsert of this row in
  the appending transaction (``INSERT ... ON CONFLICT (id) DO UPDATE SET size = size + 1
  RETURNING size``): on PostgreSQL the row lock it takes is held until commit, so appends
  are numbered in commit order and never share an index; on SQLite the write lock
  (``BEGIN IMMEDIATE``) already serialises writers. The row appears with the first append
  (no seed row: a database emptied by a test or an operator starts again at 0).
* ``LogEntry``: one row per appended item, keyed by its index: the encoded entry
  (``evidence.log`` LogEntry: hashes only), what it names (kind, case, record hash, the
  row it came from) and when it was accepted. The entries are the log; the nodes can be
  rebuilt from them (``backend.log.rebuild``).
* ``LogNode``: a complete node of the tree, (level, index) -> hash; written once, never
  updated (level 0 holds the leaf hashes).
* ``LogCheckpoint``: a checkpoint the anchoring worker signed, with the batch whose
  StandardMerkleTree carries it as one extra leaf (its leaf values, hash and proof), or
  the reason it was refused (a log not consistent with the last anchored checkpoint).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlmodel import Field, SQLModel

from backend.db.models import HASH
from backend.db.types import UTCDateTime, utcnow

__all__ = ["LogCase", "LogCheckpoint", "LogEntry", "LogHead", "LogIndexHead", "LogNode"]

LOG_HEAD_ID = 1
_INDEX = sa.BigInteger().with_variant(sa.Integer(), "sqlite")


def _created() -> Any:
    return Field(default_factory=utcnow, sa_type=UTCDateTime, nullable=False)


class LogHead(SQLModel, table=True):
    """The log's size: the counter (and lock) row every append updates."""

    __tablename__ = "log_head"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    size: int = Field(sa_type=sa.BigInteger, nullable=False)


class LogEntry(SQLModel, table=True):
    """An appended item: index, encoded entry, and what it names (hashes only)."""

    __tablename__ = "log_entry"
    __table_args__ = (
        sa.Index("ix_log_entry_case_idx", "case_id", "idx"),
        sa.Index("ix_log_entry_record_hash", "record_hash"),
    )

    # SQLite: INTEGER PRIMARY KEY, the table's rowid (0016: no second b-tree for the key;
    # SQLite's integers are 64-bit whatever the declared type)
    idx: int = Field(sa_type=_INDEX, primary_key=True, sa_column_kwargs={
        "autoincrement": False})
    kind: str = Field(max_length=16)
    case_id: str = Field(max_length=HASH)
    # not unique: a carried record (a Settlement) is appended again when it gains a
    # signature (its signaturesHash changes); the encoded entry itself is unique
    record_hash: str = Field(max_length=HASH)
    signatures_hash: str = Field(max_length=HASH)
    entry: str = Field(max_length=256, unique=True)  # 0x-hex of the encoded LogEntry
    ref_id: int | None = Field(default=None)  # Step.id / EvidenceItem.id / carrier Step.id
    accepted_at: datetime = _created()


class LogNode(SQLModel, table=True):
    """A complete node of the log's tree (level 0: the leaf hashes)."""

    __tablename__ = "log_node"
    # SQLite: the rows live in their key's b-tree (0016: no rowid table beside it)
    __table_args__ = {"sqlite_with_rowid": False}

    level: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    idx: int = Field(sa_type=sa.BigInteger, primary_key=True, sa_column_kwargs={
        "autoincrement": False})
    hash: str = Field(max_length=HASH)


class LogCheckpoint(SQLModel, table=True):
    """A signed checkpoint and the anchor batch carrying it (or why it was refused)."""

    __tablename__ = "log_checkpoint"
    __table_args__ = (sa.Index("ix_log_checkpoint_size", "size"),)

    id: int | None = Field(default=None, primary_key=True)
    size: int = Field(sa_type=sa.BigInteger, nullable=False)
    root: str = Field(max_length=HASH)
    note: str = Field(sa_type=sa.Text)  # the C2SP signed note, as signed
    batch_id: int | None = Field(default=None, foreign_key="anchor_batch.id", unique=True)
    leaf_value: list[str] | None = Field(default=None, sa_type=sa.JSON)
    leaf_hash: str | None = Field(default=None, max_length=HASH)
    proof: list[str] | None = Field(default=None, sa_type=sa.JSON)
    refused: str | None = Field(default=None, sa_type=sa.Text)  # why it was not anchored
    created_at: datetime = _created()


class LogCase(SQLModel, table=True):
    """A case's head in the per-case index (revision 0014, docs/log.md §14): its case log's
    size, last entry index, root and frontier over the entries ``LogIndexHead`` covers."""

    __tablename__ = "log_case"

    case_id: str = Field(primary_key=True, max_length=HASH)
    size: int = Field(sa_type=sa.BigInteger, nullable=False)
    last_idx: int = Field(sa_type=sa.BigInteger, nullable=False)
    root: str = Field(max_length=HASH)
    frontier: list[str] = Field(sa_type=sa.JSON, nullable=False)


class LogIndexHead(SQLModel, table=True):
    """How many entries the per-case index covers (one row, id 1): the checkpointer
    extends the heads from there to the size it signs, under this row's lock."""

    __tablename__ = "log_index_head"

    id: int = Field(primary_key=True, sa_column_kwargs={"autoincrement": False})
    size: int = Field(sa_type=sa.BigInteger, nullable=False)
