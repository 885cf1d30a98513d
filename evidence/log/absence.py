"""Proof of absence: the institution's signed, checkable statement that no record of a case
entered its log between two checkpoints (what a court relies on when a deadline passed
with no answer).

    {
      "format": "chainarb.log-absence", "version": 1,
      "origin": "chainarb.example/log",
      "caseId": "0x…",
      "from": "<signed checkpoint note A>",      size m, root rA
      "to": "<signed checkpoint note B>",        size n >= m, root rB
      "frontier": ["0x…", …],                    frontier of A (evidence.log.proofs)
      "entries": ["0x<98-byte entry>", …],       the n - m entries at indices m .. n-1
      "issuedAt": "2026-12-06T04:35:02Z",
      "signer": "0x…",
      "signature": "0x…"                         EIP-191 over canonical JSON of the above
    }

Checking needs nothing but the statement and the institution's addresses: both notes are
verified; the frontier must fold to rA; the frontier extended by the entries' leaf hashes
must fold to rB (so the entries are exactly the log's entries m .. n-1, and B extends A);
and no entry may name the case. The signature makes the statement the institution's own
(a false one is evidence against it); the checkpoints, ideally the anchored ones, make it
true. The service signs one only after running the same check (`issue_absence`).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import datetime
from typing import TYPE_CHECKING

from typing_extensions import TypedDict

from evidence.log import _statement as st
from evidence.log.checkpoint import (
    Checkpoint,
    SignedCheckpoint,
    check_origin,
    verify_checkpoint,
)
from evidence.log.entry import ENTRY_SIZE, LogEntry
from evidence.log.errors import (
    AbsenceDisproved,
    CheckpointMismatch,
    ConsistencyProofError,
    InclusionProofError,
    LogEntryError,
    NoteFormatError,
    OriginMismatch,
    StatementFormatError,
    WrongCase,
)
from evidence.log.note import Note, NoteSigner
from evidence.log.proofs import extend_frontier, root_from_frontier
from evidence.records import canonical_json

if TYPE_CHECKING:
    from evidence.log.absence_index import IndexAbsenceProof

__all__ = [
    "ABSENCE_FORMAT",
    "ABSENCE_VERSION",
    "MAX_ABSENCE_ENTRIES",
    "MAX_ABSENCE_JSON",
    "AbsenceBody",
    "AbsenceJson",
    "AbsenceProof",
    "VerifiedAbsence",
    "check_absence",
    "issue_absence",
    "verify_absence",
]

ABSENCE_FORMAT = "chainarb.log-absence"
ABSENCE_VERSION = 1
MAX_ABSENCE_ENTRIES = 100_000
MAX_ABSENCE_JSON = 24 << 20  # 100,000 entries of 2 + 196 hex digits, with room
_SIGNED = ("format", "version", "origin", "caseId", "from", "to", "frontier", "entries",
           "issuedAt", "signer")

#: A proof of absence's signed fields (version 1: the entries between two checkpoints);
#: "from" is a Python keyword, hence the functional form.
AbsenceBody = TypedDict("AbsenceBody", {
    "format": str, "version": int, "origin": str, "caseId": str, "from": str, "to": str,
    "frontier": list[str], "entries": list[str], "issuedAt": str, "signer": str})


class AbsenceJson(AbsenceBody):
    """A proof of absence as the API returns it and the CLI saves it."""

    signature: str


@dataclass(frozen=True)
class AbsenceProof:
    """A proof-of-absence statement (build with `issue_absence` or `from_json`)."""

    origin: str
    case_id: bytes
    first: str  # checkpoint note A
    second: str  # checkpoint note B
    frontier: tuple[bytes, ...]
    entries: tuple[LogEntry, ...]
    issued_at: datetime
    signer: str
    signature: bytes

    def body(self) -> AbsenceBody:
        return {
            "format": ABSENCE_FORMAT,
            "version": ABSENCE_VERSION,
            "origin": self.origin,
            "caseId": "0x" + self.case_id.hex(),
            "from": self.first,
            "to": self.second,
            "frontier": ["0x" + h.hex() for h in self.frontier],
            "entries": ["0x" + e.encode().hex() for e in self.entries],
            "issuedAt": st.iso_time(self.issued_at),
            "signer": self.signer,
        }

    def to_json(self) -> AbsenceJson:
        return {**self.body(), "signature": "0x" + self.signature.hex()}

    def dumps(self) -> bytes:
        return canonical_json(self.to_json())

    @classmethod
    def from_json(cls, data: bytes | str | Mapping[str, object]) -> AbsenceProof:
        """Read a statement (no check: `verify_absence` does that)."""
        obj = read_statement(data, ABSENCE_VERSION, _SIGNED, MAX_ABSENCE_JSON)
        frontier, entries = obj["frontier"], obj["entries"]
        if not isinstance(frontier, list) or len(frontier) > 63:
            raise StatementFormatError("absence proof frontier: expected a list of at most 63 "
                                       "hashes")
        if not isinstance(entries, list) or len(entries) > MAX_ABSENCE_ENTRIES:
            raise StatementFormatError(f"absence proof entries: expected a list of at most "
                                       f"{MAX_ABSENCE_ENTRIES} entries")
        return cls(
            origin=st.text(obj["origin"], "absence proof origin"),
            case_id=st.hex32(obj["caseId"], "absence proof caseId"),
            first=st.text(obj["from"], "absence proof from"),
            second=st.text(obj["to"], "absence proof to"),
            frontier=tuple(st.hex32(h, f"absence proof frontier[{i}]")
                           for i, h in enumerate(frontier)),
            entries=tuple(_entry(e, i) for i, e in enumerate(entries)),
            issued_at=st.parse_time(obj["issuedAt"], "absence proof issuedAt"),
            signer=st.text(obj["signer"], "absence proof signer"),
            signature=st.signature_hex(obj["signature"], "absence proof signature"),
        )


def read_statement(data: bytes | str | Mapping[str, object], version: int,
                   signed: Sequence[str], max_bytes: int) -> Mapping[str, object]:
    """A proof-of-absence statement's JSON object of `version`: its fields (`signed` and
    the signature) and their common part checked (the strings, the origin; a reader takes
    those with ``st.text``, which cannot fail then)."""
    obj = st.load(data, "absence proof", max_bytes)
    st.check_format(obj, ABSENCE_FORMAT, version, "absence proof", (*signed, "signature"))
    for key in ("origin", "from", "to", "signer"):
        if not isinstance(obj[key], str):
            raise StatementFormatError(f"absence proof {key}: expected a string")
    try:
        check_origin(obj["origin"])
    except NoteFormatError as exc:
        raise StatementFormatError(f"absence proof {exc}") from None
    return obj


def _entry(value: object, i: int) -> LogEntry:
    what = f"absence proof entries[{i}]"
    if not isinstance(value, str) or len(value) != 2 + 2 * ENTRY_SIZE or value[:2] != "0x":
        raise StatementFormatError(f"{what}: expected 0x + {2 * ENTRY_SIZE} hex digits")
    try:
        return LogEntry.decode(bytes.fromhex(value[2:]))
    except (ValueError, LogEntryError) as exc:
        raise StatementFormatError(f"{what}: {exc}") from None


def check_absence(case_id: bytes, first: Checkpoint, second: Checkpoint,
                  frontier: Sequence[bytes], entries: Sequence[LogEntry]) -> None:
    """The statement's substance, signatures aside: the frontier is A's, A's frontier plus
    `entries` is B, and no entry names `case_id`.

    Raises OriginMismatch, ConsistencyProofError (B does not extend A with these entries),
    InclusionProofError (the frontier is not A's), AbsenceDisproved.
    """
    if first.origin != second.origin:
        raise OriginMismatch(f"checkpoints of two logs: {first.origin!r} and "
                             f"{second.origin!r}")
    if second.size < first.size:
        raise ConsistencyProofError(f"second checkpoint (size {second.size}) is older than "
                                    f"the first (size {first.size})")
    if len(entries) != second.size - first.size:
        raise ConsistencyProofError(
            f"{len(entries)} entries between checkpoints of sizes {first.size} and "
            f"{second.size}: expected {second.size - first.size}"
        )
    if root_from_frontier(first.size, frontier) != first.root:
        raise InclusionProofError(f"the frontier does not fold to the first checkpoint's root "
                                  f"({first.root.hex()})")
    size, nodes = extend_frontier(first.size, frontier, (e.leaf_hash() for e in entries))
    root = root_from_frontier(size, nodes)
    if root != second.root:
        raise ConsistencyProofError(
            f"the first checkpoint's frontier with the {len(entries)} entries gives root "
            f"{root.hex()}, not the second checkpoint's {second.root.hex()}: these are not the "
            "log's entries between the two"
        )
    for i, e in enumerate(entries):
        if e.case_id == case_id:
            raise AbsenceDisproved(
                f"entry {first.size + i} ({e.kind.label}, record 0x{e.record_hash.hex()}) "
                f"belongs to case 0x{case_id.hex()}: the case is not absent"
            )


def issue_absence(*, origin: str, case_id: bytes, first: str, second: str,
                  frontier: Sequence[bytes], entries: Sequence[LogEntry], issued_at: datetime,
                  signer: NoteSigner) -> AbsenceProof:
    """Check, then sign, that no entry of `case_id` is between checkpoint notes `first` and
    `second` (the institution never signs a false one: check_absence's errors propagate)."""
    check_origin(origin)
    a = Checkpoint.parse_body(Note.parse(first).text)
    b = Checkpoint.parse_body(Note.parse(second).text)
    if a.origin != origin:
        raise OriginMismatch(f"first checkpoint of log {a.origin!r}, expected {origin!r}")
    if len(entries) > MAX_ABSENCE_ENTRIES:
        raise StatementFormatError(f"{len(entries)} entries: split the range (at most "
                                   f"{MAX_ABSENCE_ENTRIES} per statement)")
    check_absence(case_id, a, b, frontier, entries)
    issued_at = st.parse_time(st.iso_time(issued_at), "issuedAt")  # to the second, as signed
    unsigned = AbsenceProof(origin, bytes(case_id), first, second, tuple(frontier),
                            tuple(entries), issued_at, signer.address, b"")
    return replace(unsigned, signature=st.sign(unsigned.body(), signer))


@dataclass(frozen=True)
class VerifiedAbsence:
    """A proof of absence that verified: the case, and the two checkpoints it spans."""

    proof: AbsenceProof | IndexAbsenceProof
    signer: str
    first: SignedCheckpoint
    second: SignedCheckpoint


def verify_absence(proof: AbsenceProof | bytes | str | Mapping[str, object],
                   accepted: Collection[str], *, origin: str | None = None,
                   case_id: bytes | None = None, first: Checkpoint | None = None,
                   second: Checkpoint | None = None) -> VerifiedAbsence:
    """Check a proof of absence end to end. With `case_id`, it must be about that case; with
    `first` / `second` (checkpoints the verifier trusts, e.g. anchored ones), it must span
    exactly those.

    Raises StatementFormatError, OriginMismatch, StatementForged, NoteFormatError,
    NoteForged, NoteUnsigned, CheckpointMismatch, InclusionProofError,
    ConsistencyProofError, AbsenceDisproved, WrongCase.
    """
    from evidence.log.absence_index import (
        INDEX_ABSENCE_VERSION,
        IndexAbsenceProof,
        check_index_absence,
    )

    p: AbsenceProof | IndexAbsenceProof
    if isinstance(proof, AbsenceProof | IndexAbsenceProof):
        p = proof
    elif _version(proof) == INDEX_ABSENCE_VERSION:
        p = IndexAbsenceProof.from_json(proof)
    else:
        p = AbsenceProof.from_json(proof)
    if origin is not None and p.origin != origin:
        raise OriginMismatch(f"absence proof of log {p.origin!r}, expected {origin!r}")
    if case_id is not None and p.case_id != case_id:
        raise WrongCase(f"absence proof is about case 0x{p.case_id.hex()}, not "
                                 f"0x{bytes(case_id).hex()}")
    signer = st.check_signature(p.body(), p.signer, p.signature, accepted, "absence proof")
    a = verify_checkpoint(p.first, accepted, p.origin)
    b = verify_checkpoint(p.second, accepted, p.origin)
    for want, got, name in ((first, a, "first"), (second, b, "second")):
        if want is not None and (want.origin, want.size, want.root) != \
                (got.origin, got.size, got.root):
            raise CheckpointMismatch(
                f"absence proof's {name} checkpoint (size {got.size}, root {got.root.hex()}) "
                f"is not the expected one (size {want.size}, root {want.root.hex()})"
            )
    if isinstance(p, IndexAbsenceProof):
        check_index_absence(p.case_id, a.checkpoint, b.checkpoint, p.consistency,
                            p.heads_first, p.heads_second)
    else:
        check_absence(p.case_id, a.checkpoint, b.checkpoint, p.frontier, p.entries)
    return VerifiedAbsence(p, signer, a, b)


def _version(data: bytes | str | Mapping[str, object]) -> object:
    """The statement's version (1: a range of entries; 2: the per-case index)."""
    obj = st.load(data, "absence proof", MAX_ABSENCE_JSON)
    return obj.get("version")
