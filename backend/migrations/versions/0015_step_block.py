"""the blocks of step bundles in the database: step_block

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-06

Issue 10 (docs/evidence.md, "Where blocks live"): with the local blockstore the service
writes each step's IPFS block in the step's own transaction (one commit, one fsync, no file)
instead of a file of its own. A new table, nothing to copy: blocks written before stay in
files, where the service still reads them. Downgrade writes the table's blocks out as
files of the configured data dir's local blockstore (``<data dir>/ipfs``, settings from the
environment as the service reads them; only if the table has any), then drops the table,
so the code before this revision finds every block.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0015"
down_revision: str | None = "0014"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "step_block",
        sa.Column("multihash", sa.LargeBinary(), nullable=False),
        sa.Column("data", sa.LargeBinary(), nullable=False),
        sa.PrimaryKeyConstraint("multihash", name=op.f("pk_step_block")),
    )


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.text("SELECT multihash, data FROM step_block")).fetchall()
    if rows:
        from backend.settings import load_settings
        from evidence.ipfs import LocalBlockstore

        files = LocalBlockstore(load_settings().ipfs_dir)
        for multihash, data in rows:
            files.put(bytes(multihash), bytes(data))  # a CIDv0 is its multihash: checked
    op.drop_table("step_block")
