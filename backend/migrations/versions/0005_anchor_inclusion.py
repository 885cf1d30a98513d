"""anchor_inclusion: a batch's root on each anchoring chain

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-05

Issue 11 part 2: every root goes to each configured anchoring chain, so where a root
landed is recorded per (batch, chain) in ``anchor_inclusion``; ``anchor_batch`` keeps the
root, its leaf count, its RFC 3161 token and a summary status (``confirmed`` once every
inclusion is).

Upgrade: a batch that had a chain (``chain_id`` set: the worker sets it at claim) becomes
one inclusion row with its status, nonce, written-ahead transaction and inclusion; a batch
never assigned a chain gets none (the worker assigns its chains at the next round). The
batch's status becomes ``confirmed`` or ``pending``. Downgrade copies each batch's first
inclusion (lowest id: the primary chain's) back; the other chains' rows are lost, which is
what a single-chain schema can hold. Rows are copied through SQLAlchemy Core, the same
code on SQLite and PostgreSQL; columns are dropped and added with plain ALTER TABLE (SQLite
>= 3.35), never by rebuilding anchor_batch, which leaf rows reference.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# per-chain columns, moved from anchor_batch to anchor_inclusion (name, type, nullable)
MOVED: tuple[tuple[str, Any, bool], ...] = (
    ("nonce", sa.BigInteger(), True),
    ("raw_tx", sa.Text(), True),
    ("tx_hash", sa.String(length=66), True),
    ("block_number", sa.BigInteger(), True),
    ("block_hash", sa.String(length=66), True),
    ("block_time", sa.DateTime(timezone=True), True),
    ("attempts", sa.Integer(), False),
    ("last_error", sa.Text(), True),
)
_BATCH = sa.table(
    "anchor_batch",
    sa.column("id", sa.Integer()),
    sa.column("status", sa.String(16)),
    sa.column("chain_id", sa.BigInteger()),
    sa.column("contract", sa.String(42)),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    *(sa.column(name, kind) for name, kind, _ in MOVED),
)
_INCLUSION = sa.table(
    "anchor_inclusion",
    sa.column("id", sa.Integer()),
    sa.column("batch_id", sa.Integer()),
    sa.column("chain_id", sa.BigInteger()),
    sa.column("contract", sa.String(42)),
    sa.column("status", sa.String(16)),
    sa.column("created_at", sa.DateTime(timezone=True)),
    sa.column("updated_at", sa.DateTime(timezone=True)),
    *(sa.column(name, kind) for name, kind, _ in MOVED),
)
_COPIED = ("chain_id", "contract", "status", "created_at", "updated_at",
           *(name for name, _, _ in MOVED))


def _drop_columns(names: Sequence[str]) -> None:
    """Plain ALTER TABLE ... DROP COLUMN (SQLite >= 3.35 has it): a batch rebuild of
    anchor_batch (copy, drop, rename) would trip the foreign keys of leaf and
    anchor_inclusion, and PRAGMA foreign_keys cannot change inside the migration's
    transaction."""
    for name in names:
        op.drop_column("anchor_batch", name)


def upgrade() -> None:
    op.create_table(
        "anchor_inclusion",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=False),
        sa.Column("chain_id", sa.BigInteger(), nullable=False),
        sa.Column("contract", sa.String(length=42), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        *(sa.Column(name, kind, nullable=nullable) for name, kind, nullable in MOVED),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["anchor_batch.id"],
                                name=op.f("fk_anchor_inclusion_batch_id_anchor_batch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_anchor_inclusion")),
        sa.UniqueConstraint("batch_id", "chain_id",
                            name=op.f("uq_anchor_inclusion_batch_id_chain_id")),
    )
    op.create_index("ix_anchor_inclusion_chain_status", "anchor_inclusion",
                    ["chain_id", "status"], unique=False)
    conn = op.get_bind()
    rows = conn.execute(sa.select(_BATCH).where(_BATCH.c.chain_id.is_not(None),
                                                _BATCH.c.contract.is_not(None))
                        .order_by(_BATCH.c.id)).all()
    if rows:
        conn.execute(sa.insert(_INCLUSION), [
            {"batch_id": r.id, **{c: getattr(r, c) for c in _COPIED}} for r in rows])
    conn.execute(sa.update(_BATCH).where(_BATCH.c.status != "confirmed")
                 .values(status="pending"))
    _drop_columns(("chain_id", "contract", *(n for n, _, _ in MOVED)))


def downgrade() -> None:
    # plain ADD COLUMN (no table rebuild, see _drop_columns); attempts NOT NULL needs its
    # default in the DDL for the rows already there
    op.add_column("anchor_batch", sa.Column("chain_id", sa.BigInteger(), nullable=True))
    op.add_column("anchor_batch", sa.Column("contract", sa.String(length=42), nullable=True))
    for name, kind, nullable in MOVED:
        op.add_column("anchor_batch", sa.Column(
            name, kind, nullable=nullable,
            server_default=None if nullable else sa.text("0")))
    conn = op.get_bind()
    first: dict[int, sa.Row[object]] = {}
    for r in conn.execute(sa.select(_INCLUSION).order_by(_INCLUSION.c.id)).all():
        first.setdefault(r.batch_id, r)
    for batch_id, r in first.items():
        conn.execute(sa.update(_BATCH).where(_BATCH.c.id == batch_id).values(
            **{c: getattr(r, c) for c in _COPIED if c not in ("created_at", "updated_at")}))
    op.drop_index("ix_anchor_inclusion_chain_status", table_name="anchor_inclusion")
    op.drop_table("anchor_inclusion")
