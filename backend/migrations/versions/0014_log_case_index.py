"""the log's per-case index: log_case (each case's heads), log_index_head (entries covered)

Revision ID: 0014
Revises: 0012
Create Date: 2026-12-06

Issue 15 (docs/log.md §14; backend/db/log_models.py): one row per case with entries in the
log: the case log's size, the index of its last entry, its root and frontier
(evidence.log.caseindex), over the entries ``log_index_head`` says the index covers. The
anchoring worker extends the heads to the size it signs (appends do nothing for it) and
signs the root of the index tree of the heads in each checkpoint (an extension line); a
package proves its case complete with one head and its proof instead of a range of every
entry accepted while the case ran.

Upgrade fills both from the entries already in the log (in index order), so the first
checkpoint after it indexes every case. Downgrade drops it (checkpoints signed with
an index line stay valid notes; packages fall back to the range).
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0014"
down_revision: str | None = "0012"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "log_case",
        sa.Column("case_id", sa.String(length=66), nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.Column("last_idx", sa.BigInteger(), nullable=False),
        sa.Column("root", sa.String(length=66), nullable=False),
        sa.Column("frontier", sa.JSON(), nullable=False),
        sa.PrimaryKeyConstraint("case_id", name=op.f("pk_log_case")),
    )
    op.create_table(
        "log_index_head",
        sa.Column("id", sa.Integer(), autoincrement=False, nullable=False),
        sa.Column("size", sa.BigInteger(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_log_index_head")),
    )
    from evidence.log.caseindex import case_leaf
    from evidence.log.hashing import leaf_hash
    from evidence.log.proofs import extend_frontier, root_from_frontier

    conn = op.get_bind()
    heads: dict[str, tuple[int, int, list[bytes]]] = {}
    rows = conn.execute(sa.text("SELECT idx, case_id, entry FROM log_entry ORDER BY idx"))
    covered = 0
    for idx, case_id, entry in rows:
        covered = int(idx) + 1
        size, _, frontier = heads.get(case_id, (0, 0, []))
        size, frontier = extend_frontier(size, frontier, [leaf_hash(case_leaf(
            int(idx), bytes.fromhex(entry[2:])))])
        heads[case_id] = (size, int(idx), frontier)
    table = sa.table("log_case", sa.column("case_id"), sa.column("size"),
                     sa.column("last_idx"), sa.column("root"), sa.column("frontier", sa.JSON))
    if heads:
        op.bulk_insert(table, [
            {"case_id": c, "size": s, "last_idx": last,
             "root": "0x" + root_from_frontier(s, f).hex(),
             "frontier": ["0x" + h.hex() for h in f]}
            for c, (s, last, f) in heads.items()])
    op.bulk_insert(sa.table("log_index_head", sa.column("id"), sa.column("size")),
                   [{"id": 1, "size": covered}])


def downgrade() -> None:
    op.drop_table("log_index_head")
    op.drop_table("log_case")
