"""Key custody: every data key the service stores is wrapped for the service's X25519 key.

Rules (docs/persistence.md, "Keys at rest"; docs/evidence-upload.md, "Keys"):

* The service's X25519 key is derived from the institution key (one secret to keep, not
  two): ``HKDF-SHA256(ikm = institution key, salt = "chainarb.service-x25519.v1")``. The
  derivation is a stored format: changing it makes every stored wrap unreadable.
* A data key at rest is a ``chainarb.keywraps`` JSON (``evidence.encryption.KeyWraps``):
  ECIES over X25519, bound to its container's header hash, so a database dump alone opens
  nothing (the institution key is not in the database) and a wrap moved to another
  container fails. Evidence items, confidential step bundles (``step_detail.
  data_key_wraps``) and documents carried by a step (the attachment's ``keywraps``) all
  follow this rule; no plaintext key is written.
* Rows written before revision 0003 hold plaintext keys (``step_detail.data_key``, an
  attachment's ``dataKey``). ``seal_legacy_keys`` wraps them at service start (it needs
  each container's header, which only the blockstore has, so it cannot run inside the
  schema migration) and clears the plaintext; until it has run, readers accept the
  legacy form.
* Nothing here logs or returns key material to a user: ``public_attachment`` strips it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import sqlalchemy as sa
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, or_, select

from backend.db import begin_exclusive
from backend.db.service_models import StepDetail
from evidence.encryption import (
    HEADER_SIZE,
    EphemeralWrapper,
    Header,
    KeyWraps,
    public_key_bytes,
)
from evidence.errors import EvidenceError
from evidence.ipfs import Blockstore, cat
from evidence.safejson import JSON, JsonObject

__all__ = [
    "KEY_FIELDS",
    "SealReport",
    "ServiceKey",
    "container_header",
    "public_attachment",
    "seal_legacy_keys",
    "service_x25519_key",
]

SERVICE_KEY_SALT = b"chainarb.service-x25519.v1"
# Attachment fields that hold key material (the wrapped form and the pre-0003 plain one).
KEY_FIELDS = frozenset({"keywraps", "dataKey"})


def service_x25519_key(institution_key: str) -> X25519PrivateKey:
    """The service's X25519 key, derived from the institution key (one secret to keep)."""
    raw = bytes.fromhex(institution_key.removeprefix("0x"))
    seed = HKDF(algorithm=hashes.SHA256(), length=32, salt=SERVICE_KEY_SALT,
                info=b"").derive(raw)
    return X25519PrivateKey.from_private_bytes(seed)


@dataclass(frozen=True)
class ServiceKey:
    """The service's X25519 key pair: wraps data keys for storage and opens them again."""

    private: X25519PrivateKey = field(repr=False)
    public: bytes
    # the wraps' ephemeral key, reused for a bounded count and time: an X25519 key
    # generation and exchange were two thirds of a wrap's CPU (evidence.encryption,
    # "Reusing an ephemeral key", says why that is safe here: this process holds
    # ``private`` anyway)
    _wrapper: EphemeralWrapper = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "_wrapper", EphemeralWrapper(self.public))

    @classmethod
    def from_institution_key(cls, institution_key: str) -> ServiceKey:
        private = service_x25519_key(institution_key)
        return cls(private, public_key_bytes(private.public_key()))

    def __repr__(self) -> str:
        return f"ServiceKey(public=0x{self.public.hex()})"

    def wrap(self, data_key: bytes, header: Header) -> str:
        """``KeyWraps`` JSON of ``data_key`` for this key. ``header``: the container's
        header (``encrypt_stream``'s result); a key that does not open it is refused."""
        return self._wrapper.wrap(data_key, header).to_json().decode()

    def unwrap(self, keywraps: str | bytes) -> bytes:
        """The data key in ``keywraps``; ``NotARecipient`` if this key has no wrap there,
        ``CiphertextTampered`` if the wrap was changed."""
        return KeyWraps.from_json(keywraps).unwrap(self.private)

    def step_data_key(self, detail: StepDetail) -> bytes | None:
        """The data key of a step's encrypted IPFS bundle (None: the bundle is plain)."""
        if detail.data_key_wraps is not None:
            return self.unwrap(detail.data_key_wraps)
        if detail.data_key is not None:  # stored before 0003, not sealed yet
            return bytes.fromhex(detail.data_key.removeprefix("0x"))
        return None

    def document_key(self, attachment: Mapping[str, object]) -> bytes:
        """The data key of a document a step carries (award, pre-evaluation report)."""
        if "keywraps" in attachment:
            return self.unwrap(str(attachment["keywraps"]))
        if "dataKey" in attachment:  # stored before 0003, not sealed yet
            return bytes.fromhex(str(attachment["dataKey"]).removeprefix("0x"))
        raise EvidenceError(f"document {attachment.get('cid')}: no data key stored with it")


def public_attachment(attachment: Mapping[str, JSON]) -> JsonObject:
    """An attachment as shown to users: no key material (wrapped or not)."""
    return {k: v for k, v in attachment.items() if k not in KEY_FIELDS}


def container_header(cid: str, blockstore: Blockstore) -> Header:
    """The header of the encrypted container at ``cid`` (its first bytes only). A root
    block the store does not hold is refused at once (kubo would otherwise search the
    network for it until its timeout)."""
    if not blockstore.has(cid):
        raise LookupError(f"block {cid} is not in the blockstore")
    head = b""
    for chunk in cat(cid, blockstore):
        head += chunk
        if len(head) >= HEADER_SIZE:
            break
    return Header.from_bytes(head)


@dataclass
class SealReport:
    """What ``seal_legacy_keys`` did: keys wrapped, and rows it could not seal (why)."""

    sealed: int = 0
    failed: dict[int, str] = field(default_factory=dict)  # step_detail.step_id -> reason


def _legacy_ids(session: Session) -> list[int]:
    """Step ids of rows that may hold a plaintext key (the bundle's or a document's)."""
    return list(session.exec(select(StepDetail.step_id).where(or_(
        col(StepDetail.data_key).is_not(None),
        sa.cast(col(StepDetail.attachments), sa.Text).contains('"dataKey"')))
        .order_by(col(StepDetail.step_id))).all())


def seal_legacy_keys(sessions: sessionmaker[Session], key: ServiceKey,
                     blockstore: Blockstore) -> SealReport:
    """Wrap every plaintext data key left by revisions before 0003, and clear it.

    Idempotent, and safe when several processes start at once (each row is sealed under
    the write lock, in its own transaction: the plaintext goes only in the commit that
    writes its wrap, so a crash loses nothing). A row whose container cannot be read (kubo
    unreachable) or whose key does not open its container is left as it is and reported;
    readers still accept it, and the next start tries again.
    """
    report = SealReport()
    with sessions() as session:
        ids = _legacy_ids(session)
    for step_id in ids:
        with sessions() as session:
            begin_exclusive(session)
            row = session.get(StepDetail, step_id)
            try:
                sealed = _seal_row(row, key, blockstore) if row is not None else 0
            except (EvidenceError, OSError, ValueError, LookupError) as exc:
                session.rollback()
                report.failed[step_id] = f"{type(exc).__name__}: {exc}"
                continue
            if sealed:
                session.add(row)
                session.commit()
                report.sealed += sealed
            else:
                session.rollback()  # matched the text search only, or sealed meanwhile
    return report


def _seal_row(row: StepDetail, key: ServiceKey, blockstore: Blockstore) -> int:
    """Seal one row in memory (the caller commits); returns the number of keys wrapped."""
    sealed = 0
    if row.data_key is not None:
        if row.bundle_cid is None:
            raise ValueError("a data key without a bundle CID")
        data_key = bytes.fromhex(row.data_key.removeprefix("0x"))
        row.data_key_wraps = key.wrap(data_key, container_header(row.bundle_cid, blockstore))
        row.data_key = None
        sealed += 1
    attachments: list[dict[str, Any]] = []
    for att in (dict(a) for a in row.attachments):
        if "dataKey" in att:
            data_key = bytes.fromhex(str(att["dataKey"]).removeprefix("0x"))
            att = {k: v for k, v in att.items() if k != "dataKey"}
            att["keywraps"] = key.wrap(data_key, container_header(str(att["cid"]), blockstore))
            sealed += 1
        attachments.append(att)
    row.attachments = attachments  # a new list: the JSON column sees the change
    return sealed

