"""The few calls the verifier makes into `evidence.log` (the log's pure core), in one place.

The verifier, the monitor and `verify-absence` read log entries, checkpoints, receipts
and proofs only through these functions, so the formats live in `evidence.log` alone
(docs/log.md) and nothing here hashes a tree node itself.
"""

from __future__ import annotations

from collections.abc import Sequence
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


def _log() -> Any:
    import evidence.log as log

    return log


def decode_entry(raw: bytes) -> Entry:
    raise NotImplementedError


def inclusion_ok(entry: bytes, index: int, size: int, proof: Sequence[bytes],
                 root: bytes) -> bool:
    raise NotImplementedError


def consistency_ok(old: int, new: int, proof: Sequence[bytes], old_root: bytes,
                   new_root: bytes) -> bool:
    raise NotImplementedError


def frontier_root(frontier: Sequence[bytes], size: int) -> bytes:
    raise NotImplementedError


def root_after(frontier: Sequence[bytes], size: int, entries: Sequence[bytes]) -> bytes:
    raise NotImplementedError


def open_checkpoint(note: bytes, keys: Sequence[str]) -> Note:
    raise NotImplementedError


def note_headline(note: bytes) -> str:
    """The note's first lines for a message (origin and size), never more."""
    lines = note.decode("utf-8", "replace").splitlines()
    return repr(" ".join(lines[:2])[:120])


def checkpoint_leaf(note: bytes) -> tuple[tuple[str, ...], tuple[str, ...]]:
    raise NotImplementedError


def oz_leaf_proven(encoding: Sequence[str], value: Sequence[Any], proof: Sequence[bytes],
                   root: bytes) -> bool:
    from evidence.merkle import leaf_hash, verify

    try:
        verify(list(proof), root, leaf_hash(list(encoding), list(value)))
    except (EvidenceError, ValueError, TypeError):
        return False
    return True


def open_receipt(obj: Any, keys: Sequence[str]) -> Receipt:
    raise NotImplementedError


def open_absence(obj: Any, keys: Sequence[str]) -> Absence:
    raise NotImplementedError
