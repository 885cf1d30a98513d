"""step data keys wrapped for the service key

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-24

Adds ``step_detail.data_key_wraps`` (Text): the data key of a confidential step bundle as
``chainarb.keywraps`` JSON for the service's X25519 key. The service writes no plaintext
key from this revision on (``data_key`` and an attachment's ``dataKey`` are the legacy
forms).

Upgrade is schema only. Wrapping a legacy key needs its container's header, which is in
IPFS, not in the database, so the service seals legacy rows at start
(``backend.services.keys.seal_legacy_keys``) and accepts them until then
(docs/persistence.md, "Keys at rest").

Downgrade restores the plaintext form revision 0002 reads (``data_key``; ``dataKey`` in
place of an attachment's ``keywraps``), which needs the service key: from
``config.attributes["institution_key"]``, else the settings of the environment (as
``env.py`` takes the URL). Without a key that opens the wraps it refuses, rather than drop
the only copy of the keys. The key derivation below is frozen here on purpose: it is a
stored format (``backend.services.keys.service_x25519_key``), and a migration must not
change when application code does.
"""

from collections.abc import Sequence
from typing import Any

import sqlalchemy as sa
from alembic import context, op
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_STEP_DETAIL = sa.table(
    "step_detail",
    sa.column("step_id", sa.Integer()),
    sa.column("attachments", sa.JSON()),
    sa.column("data_key", sa.String(66)),
    sa.column("data_key_wraps", sa.Text()),
)


def upgrade() -> None:
    with op.batch_alter_table("step_detail", schema=None) as batch_op:
        batch_op.add_column(sa.Column("data_key_wraps", sa.Text(), nullable=True))


def downgrade() -> None:
    conn = op.get_bind()
    rows = conn.execute(sa.select(_STEP_DETAIL).where(sa.or_(
        _STEP_DETAIL.c.data_key_wraps.is_not(None),
        sa.cast(_STEP_DETAIL.c.attachments, sa.Text).contains('"keywraps"')))).all()
    if rows:
        unwrap = _unwrapper()
        for row in rows:
            data_key = row.data_key
            if row.data_key_wraps is not None and data_key is None:
                data_key = "0x" + unwrap(row.data_key_wraps).hex()
            attachments = []
            for att in row.attachments:
                if "keywraps" in att:
                    plain = {k: v for k, v in att.items() if k != "keywraps"}
                    plain["dataKey"] = "0x" + unwrap(str(att["keywraps"])).hex()
                    att = plain
                attachments.append(att)
            conn.execute(sa.update(_STEP_DETAIL).where(
                _STEP_DETAIL.c.step_id == row.step_id).values(
                data_key=data_key, attachments=attachments))
    with op.batch_alter_table("step_detail", schema=None) as batch_op:
        batch_op.drop_column("data_key_wraps")


def _unwrapper() -> Any:
    """A function from KeyWraps JSON to the data key, with the service's X25519 key."""
    from evidence.encryption import KeyWraps

    key = context.config.attributes.get("institution_key")
    if key is None:
        try:
            from backend.settings import load_settings

            key = load_settings().institution_private_key()
        except Exception as exc:  # no usable settings: say what the downgrade needs
            raise RuntimeError(_NEEDS_KEY + f" (settings: {type(exc).__name__})") from None
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=b"chainarb.service-x25519.v1",
                info=b"").derive(bytes.fromhex(str(key).removeprefix("0x")))
    private = X25519PrivateKey.from_private_bytes(seed)

    def unwrap(keywraps: str) -> bytes:
        try:
            return KeyWraps.from_json(keywraps).unwrap(private)
        except Exception as exc:
            raise RuntimeError(_NEEDS_KEY + f": {type(exc).__name__}: {exc}") from None

    return unwrap


_NEEDS_KEY = ("downgrading below 0003 writes the step data keys back in plaintext, which "
              "needs the service key: set CHAINARB_INSTITUTION_KEY to the institution key "
              "these keys were wrapped for (or pass config.attributes['institution_key'])")
