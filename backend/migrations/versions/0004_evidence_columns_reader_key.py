"""evidence upload metadata columns; reader_key table

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-24

* ``evidence_item.kind``, ``claimed_media_type``, ``upload_session``: were keys of the
  ``wrapped_keys`` JSON (``kind``, ``claimedMediaType``, ``session``). Added nullable,
  filled from the JSON (the keys are then removed from it: one place for each fact), then
  made NOT NULL. A row without a key gets the service's default ("other", "", "").
* ``reader_key``: a case member's X25519 public key, one per (case, address). Was a
  ``case_event`` row of kind ``encryption_key`` per registration, the latest per address
  winning: the latest is copied (``registered_at`` = its time) and the events deleted.

Downgrade puts both back where 0003 keeps them: the three values into ``wrapped_keys``,
and one ``encryption_key`` event per reader key (the replaced keys' events are gone; the
latest was the only one in effect). Rows are copied in Python through SQLAlchemy's JSON
type, the same code on SQLite and PostgreSQL.
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

KEY_EVENT = "encryption_key"
# column -> (key in wrapped_keys before 0004, value when the key is missing)
MOVED = {"kind": ("kind", "other"), "claimed_media_type": ("claimedMediaType", ""),
         "upload_session": ("session", "")}

_ITEM = sa.table(
    "evidence_item",
    sa.column("id", sa.Integer()),
    sa.column("wrapped_keys", sa.JSON()),
    sa.column("kind", sa.String(32)),
    sa.column("claimed_media_type", sa.String(127)),
    sa.column("upload_session", sa.String(80)),
)
_EVENT = sa.table(
    "case_event",
    sa.column("id", sa.Integer()),
    sa.column("case_id", sa.String(66)),
    sa.column("at", sa.DateTime(timezone=True)),
    sa.column("kind", sa.String(32)),
    sa.column("data", sa.JSON()),
)
_READER = sa.table(
    "reader_key",
    sa.column("id", sa.Integer()),
    sa.column("case_id", sa.String(66)),
    sa.column("address", sa.String(42)),
    sa.column("public_key", sa.String(66)),
    sa.column("registered_at", sa.DateTime(timezone=True)),
)


def _fit(column: str, value: object) -> str:
    """`value` as text cut to the column's length."""
    kind = _ITEM.c[column].type
    assert isinstance(kind, sa.String) and kind.length is not None
    return str(value)[: kind.length]


def upgrade() -> None:
    with op.batch_alter_table("evidence_item", schema=None) as batch_op:
        batch_op.add_column(sa.Column("kind", sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column("claimed_media_type", sa.String(length=127),
                                      nullable=True))
        batch_op.add_column(sa.Column("upload_session", sa.String(length=80), nullable=True))
    conn = op.get_bind()
    for row in conn.execute(sa.select(_ITEM.c.id, _ITEM.c.wrapped_keys)).all():
        wk = dict(row.wrapped_keys or {})
        values = {col: _fit(col, wk.pop(key, default)) for col, (key, default) in MOVED.items()}
        conn.execute(sa.update(_ITEM).where(_ITEM.c.id == row.id)
                     .values(wrapped_keys=wk, **values))
    with op.batch_alter_table("evidence_item", schema=None) as batch_op:
        for col in MOVED:
            batch_op.alter_column(col, existing_type=_ITEM.c[col].type, nullable=False)

    op.create_table(
        "reader_key",
        sa.Column("id", sa.Integer(), nullable=False),
        sa.Column("case_id", sa.String(length=66), nullable=False),
        sa.Column("address", sa.String(length=42), nullable=False),
        sa.Column("public_key", sa.String(length=66), nullable=False),
        sa.Column("registered_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["case_id"], ["arb_case.id"], name=op.f("fk_reader_key_case_id_arb_case")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_reader_key")),
        sa.UniqueConstraint("case_id", "address", name=op.f("uq_reader_key_case_id_address")),
    )
    latest: dict[tuple[str, str], dict[str, object]] = {}
    events = conn.execute(sa.select(_EVENT).where(_EVENT.c.kind == KEY_EVENT)
                          .order_by(_EVENT.c.id)).all()
    for ev in events:  # in id order: the latest registration per (case, address) wins
        latest[(ev.case_id, ev.data["address"])] = {
            "case_id": ev.case_id, "address": ev.data["address"],
            "public_key": ev.data["publicKey"], "registered_at": ev.at}
    if latest:
        conn.execute(sa.insert(_READER), list(latest.values()))
    conn.execute(sa.delete(_EVENT).where(_EVENT.c.kind == KEY_EVENT))


def downgrade() -> None:
    conn = op.get_bind()
    keys = conn.execute(sa.select(_READER).order_by(_READER.c.registered_at,
                                                    _READER.c.id)).all()
    if keys:
        conn.execute(sa.insert(_EVENT), [
            {"case_id": k.case_id, "at": k.registered_at, "kind": KEY_EVENT,
             "data": {"address": k.address, "publicKey": k.public_key}} for k in keys])
    op.drop_table("reader_key")

    for row in conn.execute(sa.select(_ITEM)).all():
        wk = dict(row.wrapped_keys or {})
        for col, (key, _default) in MOVED.items():
            wk[key] = getattr(row, col)
        conn.execute(sa.update(_ITEM).where(_ITEM.c.id == row.id).values(wrapped_keys=wk))
    with op.batch_alter_table("evidence_item", schema=None) as batch_op:
        for col in reversed(list(MOVED)):
            batch_op.drop_column(col)
