"""identity_record table

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-05

Signed ``Profile`` and ``Disclosure`` records (backend/db/service_models.py
``IdentityRecord``): who a person is, in words they (or the institution, for a court or
neutral) signed, and a neutral's disclosure on an appointment. A new table, nothing to
copy; downgrade drops it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "identity_record",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("kind", sa.String(length=16), nullable=False),
        sa.Column("subject", sa.String(length=42), nullable=False),
        sa.Column("issuer", sa.String(length=42), nullable=False),
        sa.Column("case_id", sa.String(length=66), nullable=True),
        sa.Column("record_hash", sa.String(length=66), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("signed_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["arb_case.id"], name=op.f("fk_identity_record_case_id_arb_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_identity_record")),
        sa.UniqueConstraint("record_hash", name=op.f("uq_identity_record_record_hash")),
    )
    with op.batch_alter_table("identity_record", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_identity_record_case_id"), ["case_id"],
                              unique=False)
        batch_op.create_index(batch_op.f("ix_identity_record_subject"), ["subject"],
                              unique=False)


def downgrade() -> None:
    with op.batch_alter_table("identity_record", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_identity_record_subject"))
        batch_op.drop_index(batch_op.f("ix_identity_record_case_id"))
    op.drop_table("identity_record")
