"""fewer pages per step: redundant indexes dropped; SQLite's log tables keyed by their own key

Revision ID: 0016
Revises: 0015
Create Date: 2026-12-06

Issue 10 (bench/README.md, eighth round): every b-tree a step's rows touch is at least one
more database page written per signed action (a WAL frame on SQLite, a WAL record and a
dirty buffer on PostgreSQL).

* Four indexes on ``case_id`` alone are dropped: each is the first column of a unique
  constraint on the same table (``step`` (case_id, sequence), ``offer_signature`` (case_id,
  offer_id, signer), ``participant`` (case_id, address, role), ``court_access`` (case_id,
  court)), whose index serves every query by ``case_id`` (and its ORDER BY sequence) as
  well; tests/backend/db/test_query_plans.py holds the plans.
* ``step_detail``'s index on ``case_id`` is dropped: the three queries that used it find a
  case's details through its steps (``details_of_case``: a join on the step's unique
  (case_id, sequence) index and the details' primary key), in step order.
* SQLite only: ``log_entry.idx`` becomes ``INTEGER PRIMARY KEY`` (SQLite's rowid: the table
  is keyed by the index, no separate primary-key index; was ``BIGINT``, which SQLite keeps
  as a rowid table plus an index) and ``log_node`` a ``WITHOUT ROWID`` table (the rows are
  stored in their (level, idx) key's b-tree, no second one). Same columns, values, and
  constraint names; the rows are copied. PostgreSQL's tables are unchanged.

Downgrade restores the five indexes and, on SQLite, the previous form of the two tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0016"
down_revision: str | None = "0015"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# (index, table): each a prefix of a unique constraint of its table
_PREFIX_INDEXES = (
    ("ix_step_case_id", "step"),
    ("ix_offer_signature_case_id", "offer_signature"),
    ("ix_participant_case_id", "participant"),
    ("ix_court_access_case_id", "court_access"),
)
# and the details' own (their queries go through the step's unique index)
_DROPPED = (*_PREFIX_INDEXES, ("ix_step_detail_case_id", "step_detail"))


def _log_entry(name: str, idx_type: sa.types.TypeEngine[int]) -> None:
    op.create_table(
        name,
        sa.Column("idx", idx_type, autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.String(length=66), nullable=False),
        sa.Column("record_hash", sa.String(length=66), nullable=False),
        sa.Column("signatures_hash", sa.String(length=66), nullable=False),
        sa.Column("entry", sa.String(length=256), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("idx", name="pk_log_entry"),
        sa.UniqueConstraint("entry", name="uq_log_entry_entry"),
    )


def _log_node(name: str, with_rowid: bool) -> None:
    op.create_table(
        name,
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name="pk_log_node"),
        **({} if with_rowid else {"sqlite_with_rowid": False}),
    )


def _rebuild_sqlite_log_tables(keyed: bool) -> None:
    """Copy both tables into their new form (``keyed``: INTEGER PRIMARY KEY / WITHOUT
    ROWID; else the BIGINT / rowid form of revision 0009), indexes recreated."""
    op.drop_index("ix_log_entry_case_idx", table_name="log_entry")
    op.drop_index("ix_log_entry_record_hash", table_name="log_entry")
    op.rename_table("log_entry", "_log_entry_0016")
    _log_entry("log_entry", sa.Integer() if keyed else sa.BigInteger())
    op.execute("INSERT INTO log_entry (idx, kind, case_id, record_hash, signatures_hash, "
               "entry, ref_id, accepted_at) SELECT idx, kind, case_id, record_hash, "
               "signatures_hash, entry, ref_id, accepted_at FROM _log_entry_0016")
    op.drop_table("_log_entry_0016")
    op.create_index("ix_log_entry_case_idx", "log_entry", ["case_id", "idx"], unique=False)
    op.create_index("ix_log_entry_record_hash", "log_entry", ["record_hash"], unique=False)
    op.rename_table("log_node", "_log_node_0016")
    _log_node("log_node", with_rowid=not keyed)
    op.execute("INSERT INTO log_node (level, idx, hash) "
               "SELECT level, idx, hash FROM _log_node_0016")
    op.drop_table("_log_node_0016")


def upgrade() -> None:
    for index, table in _DROPPED:
        op.drop_index(index, table_name=table)
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite_log_tables(keyed=True)


def downgrade() -> None:
    if op.get_bind().dialect.name == "sqlite":
        _rebuild_sqlite_log_tables(keyed=False)
    for index, table in _DROPPED:
        op.create_index(index, table, ["case_id"], unique=False)
