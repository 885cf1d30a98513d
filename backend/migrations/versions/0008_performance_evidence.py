"""performance_item, performance_cursor, webhook_refusal tables

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-06

Performance evidence recorded during an order (backend/db/performance_models.py;
docs/performance-evidence.md): the recorded events, the per-shipment sequence cursor of the
out-of-order check, and the log of refused webhooks. New tables, nothing to copy; downgrade
drops them.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "performance_cursor",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("order_id", sa.String(length=78), nullable=False),
        sa.Column("shipment", sa.String(length=64), nullable=False),
        sa.Column("last_sequence", sa.BigInteger(), nullable=False),
        sa.Column("last_item", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_performance_cursor")),
        sa.UniqueConstraint(
            "source",
            "order_id",
            "shipment",
            name=op.f("uq_performance_cursor_source_order_id_shipment"),
        ),
    )
    op.create_table(
        "performance_item",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("order_id", sa.String(length=78), nullable=False),
        sa.Column("case_id", sa.String(length=66), nullable=False),
        sa.Column("attached_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("origin", sa.String(length=16), nullable=False),
        sa.Column("source", sa.String(length=64), nullable=False),
        sa.Column("submitter", sa.String(length=42), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("shipment", sa.String(length=64), nullable=False),
        sa.Column("sequence", sa.BigInteger(), nullable=False),
        sa.Column("event_type", sa.String(length=32), nullable=False),
        sa.Column("occurred_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("captured_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("signed_timestamp", sa.BigInteger(), nullable=True),
        sa.Column("signature", sa.String(length=200), nullable=False),
        sa.Column("size", sa.Integer(), nullable=False),
        sa.Column("sha256", sa.String(length=66), nullable=False),
        sa.Column("salt", sa.String(length=66), nullable=False),
        sa.Column("commitment", sa.String(length=66), nullable=False),
        sa.Column("cid", sa.String(length=128), nullable=False),
        sa.Column("wrapped_keys", sa.JSON(), nullable=False),
        sa.Column("provenance", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_performance_item")),
        sa.UniqueConstraint("commitment", name=op.f("uq_performance_item_commitment")),
        sa.UniqueConstraint("source", "event_id", name=op.f("uq_performance_item_source_event_id")),
    )
    with op.batch_alter_table("performance_item", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_performance_item_case_id"), ["case_id"], unique=False)
        batch_op.create_index(
            batch_op.f("ix_performance_item_order_id"), ["order_id"], unique=False
        )

    op.create_table(
        "webhook_refusal",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("sender", sa.String(length=64), nullable=False),
        sa.Column("code", sa.String(length=40), nullable=False),
        sa.Column("detail", sa.Text(), nullable=False),
        sa.Column("event_id", sa.String(length=128), nullable=False),
        sa.Column("order_id", sa.String(length=78), nullable=False),
        sa.Column("body_sha256", sa.String(length=66), nullable=False),
        sa.Column("signed_timestamp", sa.String(length=20), nullable=False),
        sa.Column("remote", sa.String(length=64), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_refusal")),
    )
    with op.batch_alter_table("webhook_refusal", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_webhook_refusal_at"), ["at"], unique=False)
        batch_op.create_index(batch_op.f("ix_webhook_refusal_sender"), ["sender"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("webhook_refusal", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_webhook_refusal_sender"))
        batch_op.drop_index(batch_op.f("ix_webhook_refusal_at"))

    op.drop_table("webhook_refusal")
    with op.batch_alter_table("performance_item", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_performance_item_order_id"))
        batch_op.drop_index(batch_op.f("ix_performance_item_case_id"))

    op.drop_table("performance_item")
    op.drop_table("performance_cursor")
