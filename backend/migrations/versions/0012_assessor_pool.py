"""the assessor pool's signed steps: assessor_pool_step

Revision ID: 0012
Revises: 0009
Create Date: 2026-12-06

Issue 14 (docs/jury.md §1; backend/db/jury_models.py): the pool of public assessors as a
hash chain of signed steps, one row per step. A new table, nothing to copy. Downgrade
drops it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0012"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "assessor_pool_step",
        sa.Column("sequence", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("assessor", sa.String(length=42), nullable=False),
        sa.Column("signer", sa.String(length=42), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("payload", sa.JSON(), nullable=False),
        sa.Column("authorization", sa.JSON(), nullable=True),
        sa.Column("record_hash", sa.String(length=66), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.PrimaryKeyConstraint("sequence", name=op.f("pk_assessor_pool_step")),
        sa.UniqueConstraint("record_hash", name=op.f("uq_assessor_pool_step_record_hash")),
    )
    with op.batch_alter_table("assessor_pool_step", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_assessor_pool_step_assessor"), ["assessor"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("assessor_pool_step", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_assessor_pool_step_assessor"))
    op.drop_table("assessor_pool_step")
