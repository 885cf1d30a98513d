"""the institution's log: log_head, log_entry, log_node, log_checkpoint

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-06

Issue 15 (docs/log.md, "Service"; backend/db/log_models.py): the log's size (one counter
row, created by the first append), its entries in acceptance order, the complete nodes of
its RFC 6962 tree, and the checkpoints the anchoring worker signed (with the batch that
carries each, or why it was refused). New tables, nothing to copy: records accepted
before this revision are not in the log (the log starts empty; its first checkpoint
covers what is accepted from then on). Downgrade drops the four tables.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "log_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_head")),
    )
    op.create_table(
        "log_entry",
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("case_id", sa.String(length=66), nullable=False),
        sa.Column("record_hash", sa.String(length=66), nullable=False),
        sa.Column("signatures_hash", sa.String(length=66), nullable=False),
        sa.Column("entry", sa.String(length=256), nullable=False),
        sa.Column("ref_id", sa.Integer(), nullable=True),
        sa.Column("accepted_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("idx", name=op.f("pk_log_entry")),
        sa.UniqueConstraint("entry", name=op.f("uq_log_entry_entry")),
    )
    with op.batch_alter_table("log_entry", schema=None) as batch_op:
        batch_op.create_index("ix_log_entry_case_idx", ["case_id", "idx"], unique=False)
        batch_op.create_index("ix_log_entry_record_hash", ["record_hash"], unique=False)
    op.create_table(
        "log_node",
        sa.Column("level", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("idx", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("hash", sa.String(length=66), nullable=False),
        sa.PrimaryKeyConstraint("level", "idx", name=op.f("pk_log_node")),
    )
    op.create_table(
        "log_checkpoint",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("note", sa.Text(), nullable=False),
        sa.Column("batch_id", sa.Integer(), nullable=True),
        sa.Column("leaf_value", sa.JSON(), nullable=True),
        sa.Column("leaf_hash", sa.String(length=66), nullable=True),
        sa.Column("proof", sa.JSON(), nullable=True),
        sa.Column("refused", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(["batch_id"], ["anchor_batch.id"],
                                name=op.f("fk_log_checkpoint_batch_id_anchor_batch")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_checkpoint")),
        sa.UniqueConstraint("batch_id", name=op.f("uq_log_checkpoint_batch_id")),
    )
    with op.batch_alter_table("log_checkpoint", schema=None) as batch_op:
        batch_op.create_index("ix_log_checkpoint_size", ["size"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("log_checkpoint", schema=None) as batch_op:
        batch_op.drop_index("ix_log_checkpoint_size")
    op.drop_table("log_checkpoint")
    op.drop_table("log_node")
    with op.batch_alter_table("log_entry", schema=None) as batch_op:
        batch_op.drop_index("ix_log_entry_record_hash")
        batch_op.drop_index("ix_log_entry_case_idx")
    op.drop_table("log_entry")
    op.drop_table("log_head")
