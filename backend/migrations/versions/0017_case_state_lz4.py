"""the case state compressed with lz4 on PostgreSQL

Revision ID: 0017
Revises: 0016
Create Date: 2026-12-07

Issue 10 (bench/README.md, seventeenth round): a case's stored state is the one value a
step writes that is over PostgreSQL's 2 KB TOAST threshold (36 KB at 100 offers; a step's
bundle block 1.4 KB, its record 0.7 KB), and every step writes it anew. With the default
``pglz`` its compression was a fifth of PostgreSQL's CPU in the API benchmark
(``perf record -a``: ``pglz_compress`` 5 % of the machine, the server's processes 25 %);
with ``lz4`` PostgreSQL's CPU per signed offer fell from 0.72-0.94 to 0.62 ms at
saturation and from 1.57-1.90 to 1.27-1.41 ms at half the rate (three alternating pairs).
Values already stored stay as they are (PostgreSQL reads both); new ones are lz4.

A server built without lz4 keeps ``pglz`` (PostgreSQL 14 and later may be built without
it: ``pg_settings`` then does not list it). SQLite stores the text as it is: no change.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0017"
down_revision: str | None = "0016"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

COMPRESSED = (("arb_case", "state"),)
"""(table, column): the values a step rewrites that are over the TOAST threshold."""


def _lz4_available() -> bool:
    bind = op.get_bind()
    if bind.dialect.name != "postgresql":
        return False
    return bool(bind.execute(sa.text(
        "SELECT 'lz4' = ANY(enumvals) FROM pg_settings "
        "WHERE name = 'default_toast_compression'")).scalar())


def _set_compression(method: str) -> None:
    for table, column in COMPRESSED:
        op.execute(f"ALTER TABLE {table} ALTER COLUMN {column} SET COMPRESSION {method}")


def upgrade() -> None:
    if _lz4_available():
        _set_compression("lz4")


def downgrade() -> None:
    if op.get_bind().dialect.name == "postgresql":
        _set_compression("DEFAULT")
