"""`LogEntry`: the bytes the log appends for each record the service accepts.

Fixed-size and public: hashes only, never a record's content (a confidential document's
entry shows its case and three hashes, nothing a reader could invert). 98 bytes:

    offset  size  field
    0       1     version          0x01
    1       1     kind             0x01 step, 0x02 evidence, 0x03 attachment, 0x04 contract,
                                   0x05 identity, 0x06 backfill, 0x07 performance,
                                   0x08 provenance
    2       32    caseId           the case (bytes32, as in every record)
    34      32    recordHash       the record's EIP-712 digest (evidence.records)
    66      32    signaturesHash   keccak256 of its sorted signatures (SignedRecord)

The last three are exactly the values of the record's anchored StandardMerkleTree leaf
(`evidence.merkle.record_leaf`), so a verifier holding a package matches a log entry to a
record without anything but the package. The kind is the service's leaf kind
(backend LeafKind); evidence is named by its `EvidenceSubmission`, whose digest covers the
salted commitment, never the plain file hash.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from enum import IntEnum

from typing_extensions import TypedDict

from evidence.log.errors import LogEntryError
from evidence.log.hashing import leaf_hash

__all__ = ["ENTRY_SIZE", "ENTRY_VERSION", "EntryKind", "LogEntry", "LogEntryJson"]


class LogEntryJson(TypedDict):
    """An entry's JSON form: its kind's label and three 0x-hashes (receipts, leaf lookups)."""

    kind: str
    caseId: str
    recordHash: str
    signaturesHash: str

ENTRY_VERSION = 1
ENTRY_SIZE = 98
_HEX64 = re.compile(r"0x[0-9a-fA-F]{64}\Z")


class EntryKind(IntEnum):
    """What a log entry records; the names are the service's leaf kinds."""

    STEP = 1  # a signed procedural record (ProceduralStep, Objection, Settlement offer, ...)
    EVIDENCE = 2  # an EvidenceSubmission
    ATTACHMENT = 3  # an escrow record (Award, Settlement) a step carries
    CONTRACT = 4  # the contract of sale its order binds, under that order's case
    IDENTITY = 5  # a Profile (caseId zero: bound to no case) or a neutral's Disclosure
    BACKFILL = 6  # a record accepted before the log began, appended late (docs/log.md §12)
    PERFORMANCE = 7  # a carrier's, marketplace's or party's event captured during an order
    PROVENANCE = 8  # an entry of an item's provenance log, signed by the service

    @classmethod
    def named(cls, name: str) -> EntryKind:
        """The kind called `name` ("step", "evidence", "attachment", "contract", ...)."""
        try:
            return cls[name.upper()]
        except KeyError:
            known = ", ".join(k.name.lower() for k in cls)
            raise LogEntryError(f"entry kind: expected one of {known}, found {name!r}") from None

    @property
    def label(self) -> str:
        return self.name.lower()


def _b32(value: object, what: str) -> bytes:
    if isinstance(value, str):
        if not _HEX64.match(value):
            raise LogEntryError(f"{what}: expected 0x + 64 hex digits, found {value!r}")
        return bytes.fromhex(value[2:])
    if not isinstance(value, bytes | bytearray) or len(value) != 32:
        raise LogEntryError(f"{what}: expected 32 bytes")
    return bytes(value)


@dataclass(frozen=True)
class LogEntry:
    """One appended record: kind, case and the record's two hashes (checked when built)."""

    kind: EntryKind
    case_id: bytes
    record_hash: bytes
    signatures_hash: bytes

    def __post_init__(self) -> None:
        try:
            kind = EntryKind(self.kind)
        except ValueError:
            raise LogEntryError(f"entry kind: unknown kind {self.kind!r}") from None
        object.__setattr__(self, "kind", kind)
        for name in ("case_id", "record_hash", "signatures_hash"):
            object.__setattr__(self, name, _b32(getattr(self, name), name))

    @classmethod
    def of(cls, kind: EntryKind | str, case_id: object, record_hash: object,
           signatures_hash: object) -> LogEntry:
        """From bytes or 0x-hex values and a kind or its name (the service's leaf row)."""
        k = EntryKind.named(kind) if isinstance(kind, str) else kind
        return cls(k, _b32(case_id, "caseId"), _b32(record_hash, "recordHash"),
                   _b32(signatures_hash, "signaturesHash"))

    def encode(self) -> bytes:
        """The 98 bytes the log hashes (version, kind, caseId, recordHash, signaturesHash)."""
        return (bytes((ENTRY_VERSION, int(self.kind))) + self.case_id + self.record_hash
                + self.signatures_hash)

    @classmethod
    def decode(cls, data: bytes) -> LogEntry:
        """The entry encoded in `data`; LogEntryError for any other length, version or kind."""
        if not isinstance(data, bytes | bytearray):
            raise LogEntryError(f"entry: expected bytes, found {type(data).__name__}")
        if len(data) != ENTRY_SIZE:
            raise LogEntryError(f"entry: expected {ENTRY_SIZE} bytes, found {len(data)}")
        if data[0] != ENTRY_VERSION:
            raise LogEntryError(f"entry: version {data[0]} is not {ENTRY_VERSION}, the only "
                                "version this library reads")
        try:
            kind = EntryKind(data[1])
        except ValueError:
            raise LogEntryError(f"entry: unknown kind {data[1]}") from None
        return cls(kind, bytes(data[2:34]), bytes(data[34:66]), bytes(data[66:98]))

    def leaf_hash(self) -> bytes:
        """SHA-256(0x00 ‖ encode()): the entry's leaf in the log."""
        return leaf_hash(self.encode())

    def to_json(self) -> LogEntryJson:
        """The JSON form (receipts, the public leaf lookup)."""
        return {
            "kind": self.kind.label,
            "caseId": "0x" + self.case_id.hex(),
            "recordHash": "0x" + self.record_hash.hex(),
            "signaturesHash": "0x" + self.signatures_hash.hex(),
        }

    @classmethod
    def from_json(cls, obj: object) -> LogEntry:
        if not isinstance(obj, dict) or set(obj) != {"kind", "caseId", "recordHash",
                                                     "signaturesHash"}:
            raise LogEntryError("entry JSON: expected exactly kind, caseId, recordHash, "
                                "signaturesHash")
        kind = obj["kind"]
        if not isinstance(kind, str):
            raise LogEntryError(f"entry kind: expected a string, found {kind!r}")
        return cls.of(kind, obj["caseId"], obj["recordHash"], obj["signaturesHash"])
