"""The few calls the verifier makes into `evidence.log` (the log's pure core), in one place.

The verifier, the monitor and `verify-absence` read log entries, checkpoints, receipts
and proofs only through these functions, so the formats live in `evidence.log` alone
(docs/log.md) and nothing here hashes a tree node itself.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from evidence.errors import EvidenceError

__all__ = [
    "Absence",
    "Entry",
    "Note",
    "Receipt",
    "checkpoint_leaf",
    "consistency_ok",
    "decode_entry",
    "frontier_root",
    "inclusion_ok",
    "note_headline",
    "open_absence",
    "open_checkpoint",
    "open_receipt",
    "oz_leaf_proven",
    "root_after",
]


class LogApiError(EvidenceError):
    """A log object that does not verify (the message says why)."""


@dataclass(frozen=True)
class Entry:
    kind: str
    case_id: bytes
    record_hash: bytes


@dataclass(frozen=True)
class Note:
    origin: str
    size: int
    root: bytes
    signer: str


@dataclass(frozen=True)
class Receipt:
    origin: str
    index: int
    entry: Entry
    entry_bytes: bytes
    accepted_at: str
    checkpoint: tuple[int, bytes] | None  # (size, root) of the checkpoint its proof reaches


@dataclass(frozen=True)
class Absence:
    origin: str
    case_id: bytes
    start: Note
    end: Note
    entries: int
    by_index: bool = False  # version 2: the case's heads in the signed per-case indexes


def decode_entry(raw: bytes) -> Entry:
    """The entry's kind, case and record hash (`evidence.log.LogEntry`)."""
    from evidence.log import LogEntry

    e = LogEntry.decode(raw)
    return Entry(e.kind.label, e.case_id, e.record_hash)


def inclusion_ok(entry: bytes, index: int, size: int, proof: Sequence[bytes],
                 root: bytes) -> bool:
    """Whether `entry` (encoded) is at `index` of the tree of `size` with `root`."""
    from evidence.log import leaf_hash, verify_inclusion

    try:
        verify_inclusion(index, size, leaf_hash(entry), list(proof), root)
    except (EvidenceError, ValueError):
        return False
    return True


def consistency_ok(old: int, new: int, proof: Sequence[bytes], old_root: bytes,
                   new_root: bytes) -> bool:
    """Whether the tree (new, new_root) extends (old, old_root) by `proof` (RFC 9162)."""
    from evidence.log import verify_consistency

    try:
        verify_consistency(old, new, old_root, new_root, list(proof))
    except (EvidenceError, ValueError):
        return False
    return True


def frontier_root(frontier: Sequence[bytes], size: int) -> bytes:
    """The root of the tree of `size` whose compact range is `frontier`."""
    from evidence.log import root_from_frontier

    return root_from_frontier(size, list(frontier))


def root_after(frontier: Sequence[bytes], size: int, entries: Sequence[bytes]) -> bytes:
    """The root after appending the encoded `entries` to the tree (size, frontier)."""
    from evidence.log import root_after as after

    return after(size, list(frontier), list(entries))[1]


def open_checkpoint(note: bytes, keys: Sequence[str]) -> Note:
    """The checkpoint of a signed note, verified against the institution's `keys`."""
    from evidence.log import verify_checkpoint

    try:
        cp = verify_checkpoint(note, list(keys))
    except UnicodeDecodeError as exc:
        raise LogApiError(f"not UTF-8 text ({exc.reason})") from None
    return Note(cp.origin, cp.size, cp.root, cp.signers[0] if cp.signers else "")


def note_headline(note: bytes) -> str:
    """The note's first lines for a message (origin and size), never more."""
    lines = note.decode("utf-8", "replace").splitlines()
    return repr(" ".join(lines[:2])[:120])


def checkpoint_leaf(note: bytes) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(encoding, values) of the StandardMerkleTree leaf that anchors this signed note in a
    round's batch (`evidence.log_leaf`, docs/log.md)."""
    from evidence.log import Checkpoint
    from evidence.log.note import Note as SignedNote
    from evidence.log_leaf import checkpoint_leaf as leaf
    from evidence.merkle import LEAF_ENCODING

    text = note.decode()
    cp = Checkpoint.parse_body(SignedNote.parse(text).text)
    return tuple(LEAF_ENCODING), tuple(leaf(text, cp.root))


def oz_leaf_proven(encoding: Sequence[str], value: Sequence[Any], proof: Sequence[bytes],
                   root: bytes) -> bool:
    from evidence.merkle import leaf_hash, verify

    try:
        verify(list(proof), root, leaf_hash(list(encoding), list(value)))
    except (EvidenceError, ValueError, TypeError):
        return False
    return True


def open_receipt(obj: Mapping[str, object], keys: Sequence[str]) -> Receipt:
    """A receipt verified against the institution's `keys` (its inclusion proof too, when it
    carries one)."""
    from evidence.log import verify_receipt

    v = verify_receipt(obj, list(keys))
    r = v.receipt
    cp = (v.checkpoint.size, v.checkpoint.root) if v.checkpoint is not None else None
    return Receipt(r.origin, r.index, Entry(r.entry.kind.label, r.entry.case_id,
                                            r.entry.record_hash),
                   r.entry.encode(), r.accepted_at.isoformat().replace("+00:00", "Z"), cp)


def open_absence(obj: Mapping[str, object], keys: Sequence[str]) -> Absence:
    """A proof of absence verified end to end against the institution's `keys`."""
    from evidence.log import verify_absence

    v = verify_absence(obj, list(keys))
    a, b = v.first, v.second
    return Absence(v.proof.origin, v.proof.case_id,
                   Note(a.origin, a.size, a.root, a.signers[0] if a.signers else ""),
                   Note(b.origin, b.size, b.root, b.signers[0] if b.signers else ""),
                   len(v.proof.entries), by_index=v.proof.body()["version"] == 2)


@dataclass(frozen=True)
class CaseHeadView:
    case_id: bytes
    size: int
    last_index: int
    root: bytes


def index_line(note: bytes) -> tuple[int, bytes] | None:
    """(count, root) of the per-case index a signed checkpoint names (None: it names none)."""
    from evidence.log import Checkpoint
    from evidence.log.caseindex import index_of
    from evidence.log.note import Note as SignedNote

    cp = Checkpoint.parse_body(SignedNote.parse(note.decode()).text)
    return index_of(cp.extensions)


def case_head(head: bytes, position: int, count: int, proof: Sequence[bytes],
              root: bytes) -> CaseHeadView:
    """The case head proven at `position` of the index (count, root); raises otherwise."""
    from evidence.log.caseindex import CaseHead, verify_case_head

    h = CaseHead.decode(head)
    verify_case_head(h, position, count, list(proof), root)
    return CaseHeadView(h.case_id, h.size, h.last_index, h.root)


def case_in_index(note: bytes, placed: Sequence[Any], case_id: bytes) -> CaseHeadView | None:
    """The case's head in the signed per-case index of checkpoint `note`, from the heads a
    service lists for it (JSON: its own, or its neighbours when it has none); None when the
    neighbours prove it has none. Raises when they prove neither."""
    from evidence.log import Checkpoint
    from evidence.log.absence_index import PlacedHead, head_at
    from evidence.log.note import Note as SignedNote

    cp = Checkpoint.parse_body(SignedNote.parse(note.decode()).text)
    heads = [PlacedHead.from_json(h, f"head {n}") for n, h in enumerate(placed)]
    h = head_at(cp, heads, case_id)
    return None if h is None else CaseHeadView(h.case_id, h.size, h.last_index, h.root)


def case_log_root(entries: Sequence[tuple[int, bytes]]) -> bytes:
    """The case log's root over (index, entry) pairs in index order."""
    from evidence.log.caseindex import case_root

    return case_root(list(entries))
