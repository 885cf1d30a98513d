"""sale_contract table

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-06

Contracts of sale proposed at checkout (backend/db/service_models.py ``SaleContract``,
docs/contract-of-sale.md): the signed ``ContractOfSale`` record, its status, its IPFS bundle
and the escrow order and case that bind it. A new table, nothing to copy; downgrade drops
it.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "sale_contract",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("record_hash", sa.String(length=66), nullable=False),
        sa.Column("buyer", sa.String(length=42), nullable=False),
        sa.Column("seller", sa.String(length=42), nullable=False),
        sa.Column("status", sa.String(length=16), nullable=False),
        sa.Column("record", sa.JSON(), nullable=False),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("cid", sa.String(length=128), nullable=True),
        sa.Column("data_key_wraps", sa.Text(), nullable=True),
        sa.Column("order_id", sa.Integer(), nullable=True),
        sa.Column("case_id", sa.String(length=66), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["arb_case.id"], name=op.f("fk_sale_contract_case_id_arb_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_sale_contract")),
        sa.UniqueConstraint("record_hash", name=op.f("uq_sale_contract_record_hash")),
        sa.UniqueConstraint("order_id", name=op.f("uq_sale_contract_order_id")),
    )
    with op.batch_alter_table("sale_contract", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_sale_contract_buyer"), ["buyer"], unique=False)
        batch_op.create_index(batch_op.f("ix_sale_contract_seller"), ["seller"], unique=False)


def downgrade() -> None:
    with op.batch_alter_table("sale_contract", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_sale_contract_seller"))
        batch_op.drop_index(batch_op.f("ix_sale_contract_buyer"))
    op.drop_table("sale_contract")
