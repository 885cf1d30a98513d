"""Receipts: the institution's signed promise that a record is in its log.

    {
      "format": "chainarb.log-receipt", "version": 1,
      "origin": "chainarb.example/log",          the log
      "index": 41,                               the entry's leaf index
      "entry": {"kind": "step", "caseId": "0x…", "recordHash": "0x…",
                "signaturesHash": "0x…"},        the LogEntry (evidence.log.entry)
      "acceptedAt": "2026-12-06T04:35:02Z",      when the service accepted it (UTC)
      "signer": "0x…",                           the institution address that signed
      "signature": "0x…",                        EIP-191 over canonical JSON of the above
      "inclusion": {                             optional, unsigned, added later:
        "checkpoint": "<signed checkpoint note>",
        "proof": ["0x…", …]                      RFC 9162 inclusion proof of index in it
      }
    }

The signed part is issued at once, with the response that accepted the record; the
inclusion part comes when the first checkpoint covering the index is signed (the service's
`GET /log/proof/inclusion`). A receipt is evidence either way: signed alone it binds the
institution to the entry at that index, so a log (or a package) without it, or with
another entry at that index, is proof of misbehaviour, whoever shows it.
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import datetime

from typing_extensions import TypedDict

from evidence.log import _statement as st
from evidence.log.checkpoint import SignedCheckpoint, check_origin, verify_checkpoint
from evidence.log.entry import LogEntry, LogEntryJson
from evidence.log.errors import (
    CheckpointMismatch,
    InclusionProofError,
    LogEntryError,
    NoteFormatError,
    OriginMismatch,
    StatementFormatError,
)
from evidence.log.note import NoteSigner
from evidence.log.proofs import MAX_PROOF_LENGTH, MAX_TREE_SIZE, verify_inclusion
from evidence.records import canonical_json

__all__ = [
    "MAX_RECEIPT_JSON",
    "RECEIPT_FORMAT",
    "RECEIPT_VERSION",
    "ProvedReceiptJson",
    "Receipt",
    "ReceiptBody",
    "ReceiptInclusion",
    "ReceiptInclusionJson",
    "ReceiptJson",
    "VerifiedReceipt",
    "issue_receipt",
    "issue_receipt_json",
    "verify_receipt",
]

RECEIPT_FORMAT = "chainarb.log-receipt"
RECEIPT_VERSION = 1
MAX_RECEIPT_JSON = 64 * 1024
_SIGNED = ("format", "version", "origin", "index", "entry", "acceptedAt", "signer")


class ReceiptInclusionJson(TypedDict):
    """A receipt's unsigned inclusion: the checkpoint note and the proof's 0x-hashes."""

    checkpoint: str
    proof: list[str]


class ReceiptBody(TypedDict):
    """A receipt's signed fields, in the order they are written."""

    format: str
    version: int
    origin: str
    index: int
    entry: LogEntryJson
    acceptedAt: str
    signer: str


class ReceiptJson(ReceiptBody):
    """The institution's signed promise that the record is in its log at ``index``
    (``chainarb.log-receipt``, docs/log.md), as the API returns it and the CLI saves it (as
    issued: no inclusion yet); keep it: it is evidence."""

    signature: str


class ProvedReceiptJson(ReceiptJson):
    """A receipt with the inclusion proof of its entry to a checkpoint."""

    inclusion: ReceiptInclusionJson


@dataclass(frozen=True)
class ReceiptInclusion:
    """The unsigned half of a receipt: a checkpoint note and the entry's inclusion proof."""

    checkpoint: str
    proof: tuple[bytes, ...]

    def to_json(self) -> ReceiptInclusionJson:
        return {"checkpoint": self.checkpoint, "proof": ["0x" + p.hex() for p in self.proof]}

    @classmethod
    def from_json(cls, obj: object) -> ReceiptInclusion:
        if not isinstance(obj, dict) or set(obj) != {"checkpoint", "proof"}:
            raise StatementFormatError("receipt inclusion: expected exactly checkpoint, proof")
        note, proof = obj["checkpoint"], obj["proof"]
        if not isinstance(note, str):
            raise StatementFormatError("receipt inclusion: checkpoint must be the note's text")
        if not isinstance(proof, list) or len(proof) > MAX_PROOF_LENGTH:
            raise StatementFormatError(f"receipt inclusion: proof must be a list of at most "
                                       f"{MAX_PROOF_LENGTH} hashes")
        return cls(note, tuple(st.hex32(p, f"receipt proof[{i}]") for i, p in enumerate(proof)))


@dataclass(frozen=True)
class Receipt:
    """A receipt as issued (or read back). Build with `issue_receipt` or `from_json`."""

    origin: str
    index: int
    entry: LogEntry
    accepted_at: datetime
    signer: str
    signature: bytes
    inclusion: ReceiptInclusion | None = field(default=None)

    def body(self) -> ReceiptBody:
        """The signed fields (everything but `signature` and `inclusion`)."""
        return {
            "format": RECEIPT_FORMAT,
            "version": RECEIPT_VERSION,
            "origin": self.origin,
            "index": self.index,
            "entry": self.entry.to_json(),
            "acceptedAt": st.iso_time(self.accepted_at),
            "signer": self.signer,
        }

    def to_json(self) -> ReceiptJson | ProvedReceiptJson:
        obj: ReceiptJson = {**self.body(), "signature": "0x" + self.signature.hex()}
        if self.inclusion is None:
            return obj
        return {**obj, "inclusion": self.inclusion.to_json()}

    def dumps(self) -> bytes:
        """Canonical JSON (what the API returns and the CLI saves)."""
        return canonical_json(self.to_json())

    @classmethod
    def from_json(cls, data: bytes | str | Mapping[str, object]) -> Receipt:
        """Read a receipt (no signature check: `verify_receipt` does that)."""
        obj = st.load(data, "receipt", MAX_RECEIPT_JSON)
        st.check_format(obj, RECEIPT_FORMAT, RECEIPT_VERSION, "receipt",
                        (*_SIGNED, "signature"), ("inclusion",))
        try:
            entry = LogEntry.from_json(obj["entry"])
        except LogEntryError as exc:
            raise StatementFormatError(f"receipt entry: {exc}") from None
        try:
            origin = check_origin(obj["origin"])
        except NoteFormatError as exc:
            raise StatementFormatError(f"receipt {exc}") from None
        signer = obj["signer"]
        if not isinstance(signer, str):
            raise StatementFormatError("receipt signer: expected an address")
        inclusion = obj.get("inclusion")
        return cls(
            origin=origin,
            index=st.integer(obj["index"], "receipt index", MAX_TREE_SIZE - 1),
            entry=entry,
            accepted_at=st.parse_time(obj["acceptedAt"], "receipt acceptedAt"),
            signer=signer,
            signature=st.signature_hex(obj["signature"], "receipt signature"),
            inclusion=None if inclusion is None else ReceiptInclusion.from_json(inclusion),
        )

    def with_inclusion(self, checkpoint_note: str, proof: Sequence[bytes]) -> Receipt:
        """This receipt with its inclusion proof to a checkpoint (signature unchanged)."""
        return replace(self, inclusion=ReceiptInclusion(checkpoint_note, tuple(proof)))


def issue_receipt(*, origin: str, index: int, entry: LogEntry, accepted_at: datetime,
                  signer: NoteSigner) -> Receipt:
    """Sign a receipt for `entry` at `index` of log `origin` (the service, at acceptance)."""
    check_origin(origin)
    st.integer(index, "receipt index", MAX_TREE_SIZE - 1)
    # to the second, as signed: the receipt equals what its JSON reads back as
    accepted_at = st.parse_time(st.iso_time(accepted_at), "acceptedAt")
    unsigned = Receipt(origin, index, entry, accepted_at, signer.address, b"")
    return replace(unsigned, signature=st.sign(unsigned.body(), signer))


def issue_receipt_json(*, origin: str, index: int, entry: LogEntry, accepted_at: datetime,
                       signer: NoteSigner) -> ReceiptJson:
    """``issue_receipt(...).to_json()``, the same dict (keys in the same order), with the
    body built and encoded once and no time parsed back: the service signs one per step
    (issue 10). The same checks, and the same errors, as ``issue_receipt``."""
    check_origin(origin)
    st.integer(index, "receipt index", MAX_TREE_SIZE - 1)
    accepted = st.iso_time(accepted_at)
    if not st.TIME_TEXT.match(accepted):  # a year before 1000: refused as issue_receipt does
        st.parse_time(accepted, "acceptedAt")
    body: ReceiptBody = {
        "format": RECEIPT_FORMAT,
        "version": RECEIPT_VERSION,
        "origin": origin,
        "index": index,
        "entry": entry.to_json(),
        "acceptedAt": accepted,
        "signer": signer.address,
    }
    signature = signer.sign(canonical_json(body))
    return {**body, "signature": "0x" + signature.hex()}


@dataclass(frozen=True)
class VerifiedReceipt:
    """A receipt whose signature verified; `checkpoint` is set when its inclusion proof
    verified too."""

    receipt: Receipt
    signer: str
    checkpoint: SignedCheckpoint | None


def verify_receipt(receipt: Receipt | bytes | str | Mapping[str, object], accepted: Collection[str],
                   *, origin: str | None = None, require_inclusion: bool = False,
                   checkpoint: SignedCheckpoint | None = None) -> VerifiedReceipt:
    """Check a receipt: the institution's signature, and (if present or required) that the
    entry is at `index` of the receipt's checkpoint. With `checkpoint` (one the verifier
    already trusts, e.g. anchored), the receipt's checkpoint must be that one.

    Raises StatementFormatError, OriginMismatch, StatementForged, NoteFormatError,
    NoteForged, NoteUnsigned, CheckpointMismatch, InclusionProofError.
    """
    r = receipt if isinstance(receipt, Receipt) else Receipt.from_json(receipt)
    if origin is not None and r.origin != origin:
        raise OriginMismatch(f"receipt of log {r.origin!r}, expected {origin!r}")
    signer = st.check_signature(r.body(), r.signer, r.signature, accepted, "receipt")
    if r.inclusion is None:
        if require_inclusion:
            raise InclusionProofError(f"receipt for index {r.index} carries no inclusion proof")
        return VerifiedReceipt(r, signer, None)
    signed = verify_checkpoint(r.inclusion.checkpoint, accepted, r.origin)
    if checkpoint is not None and (checkpoint.checkpoint.size != signed.size
                                   or checkpoint.root != signed.root
                                   or checkpoint.origin != signed.origin):
        raise CheckpointMismatch(
            f"receipt proves inclusion in checkpoint (size {signed.size}, root "
            f"{signed.root.hex()}), not the expected one (size {checkpoint.size}, root "
            f"{checkpoint.root.hex()})"
        )
    if r.index >= signed.size:
        raise InclusionProofError(f"receipt index {r.index} is not below its checkpoint's "
                                  f"size {signed.size}")
    verify_inclusion(r.index, signed.size, r.entry.leaf_hash(), r.inclusion.proof, signed.root)
    return VerifiedReceipt(r, signer, signed)
