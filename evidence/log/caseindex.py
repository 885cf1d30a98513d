"""The log's per-case index: "these are all of case X" in O(k + log C), not a range scan.

Theory of operation (docs/log.md §14):

* **Case log.** A case's entries, in index order, form their own RFC 6962 tree whose leaf
  i is ``uint64(global index) ‖ entry`` (106 bytes): the case log binds each entry to its
  place in the institution's log.
* **Case head.** ``caseId ‖ uint64(size) ‖ uint64(last index) ‖ case-log root`` (80
  bytes): how many entries the case has in the log of n entries, the last one's index,
  and the root of those entries' case log.
* **Index tree.** At a checkpoint of size n, an RFC 6962 tree of the heads of every case
  with an entry below n, sorted by caseId (one leaf per case). The checkpoint note
  carries its leaf count and root in one extension line, ``chainarb-case-index <count>
  <base64 root>``, under the institution's signature.
* **Completeness from the index.** A package gives its case's head, its position and
  inclusion proof in the index tree; the verifier recomputes the case-log root from the
  package's own entries of the case (each also proven into the log itself) and compares
  size, last index and root. Equal means the package holds every entry of the case below
  n: nothing dropped, inserted or moved.
* **Who checks the index.** The index is a function of the log's entries (``heads_of``):
  anyone holding the entries (a monitor, an auditor, ``chainarb log check``) recomputes it
  for a checkpoint and compares the signed root. A signed index root that the entries do
  not give convicts the institution, as a split view does. The package's range proof
  (``proofs/log.json`` "range") stays the self-contained alternative and is what a
  checkpoint without the extension line gets.

Pure: bytes in, bytes out; ``MerkleLog`` over a ``MemoryNodeStore`` does the hashing.
"""

from __future__ import annotations

import base64
import binascii
import itertools
import struct
from collections.abc import Iterable, Sequence
from dataclasses import dataclass

from evidence.log.entry import ENTRY_SIZE
from evidence.log.errors import LogEntryError, NoteFormatError
from evidence.log.hashing import HASH_SIZE, leaf_hash
from evidence.log.proofs import verify_inclusion
from evidence.log.tree import MerkleLog

__all__ = [
    "HEAD_SIZE",
    "INDEX_EXTENSION",
    "CaseHead",
    "case_leaf",
    "case_root",
    "heads_of",
    "index_extension",
    "index_of",
    "index_tree",
    "verify_case_head",
]

INDEX_EXTENSION = "chainarb-case-index"
HEAD_SIZE = 80
_U64 = struct.Struct(">Q")


def case_leaf(index: int, entry: bytes) -> bytes:
    """Leaf of the case log: the entry's global index (uint64 big-endian), then the entry."""
    if len(entry) != ENTRY_SIZE:
        raise LogEntryError(f"case log: an entry is {ENTRY_SIZE} bytes, found {len(entry)}")
    return _U64.pack(index) + entry


def case_root(entries: Sequence[tuple[int, bytes]]) -> bytes:
    """The case log's root over (global index, entry) pairs, in the given order."""
    return MerkleLog.of(case_leaf(i, e) for i, e in entries).root()


@dataclass(frozen=True)
class CaseHead:
    """One case's place in the index: its entry count, last index and case-log root."""

    case_id: bytes
    size: int
    last_index: int
    root: bytes

    def encode(self) -> bytes:
        return self.case_id + _U64.pack(self.size) + _U64.pack(self.last_index) + self.root

    @classmethod
    def decode(cls, data: bytes) -> CaseHead:
        if len(data) != HEAD_SIZE:
            raise LogEntryError(f"case head: expected {HEAD_SIZE} bytes, found {len(data)}")
        return cls(data[:32], _U64.unpack(data[32:40])[0], _U64.unpack(data[40:48])[0],
                   data[48:80])


def heads_of(entries: Iterable[tuple[int, bytes]]) -> list[CaseHead]:
    """Every case's head in a log given as (index, entry) pairs in index order, sorted by
    case id: what anyone holding the entries recomputes to audit a signed index root."""
    trees: dict[bytes, tuple[MerkleLog, int]] = {}
    for index, entry in entries:
        case = entry[2:34]
        tree, _ = trees.get(case) or (MerkleLog(), 0)
        tree.append(case_leaf(index, entry))
        trees[case] = (tree, index)
    return [CaseHead(c, t.size, last, t.root()) for c, (t, last) in sorted(trees.items())]


def index_tree(heads: Sequence[CaseHead]) -> MerkleLog:
    """The index tree over `heads` (sorted by case id; refused otherwise)."""
    ids = [h.case_id for h in heads]
    if any(a >= b for a, b in itertools.pairwise(ids)):
        raise ValueError("case heads must be sorted by case id, one per case")
    return MerkleLog.of(h.encode() for h in heads)


def index_extension(count: int, root: bytes) -> str:
    """The checkpoint's extension line naming the index tree."""
    return f"{INDEX_EXTENSION} {count} {base64.b64encode(root).decode()}"


def index_of(extensions: Sequence[str]) -> tuple[int, bytes] | None:
    """(count, root) of the index a checkpoint's extension lines name (None: no index)."""
    for line in extensions:
        parts = line.split(" ")
        if parts[0] != INDEX_EXTENSION:
            continue
        if len(parts) != 3 or not parts[1].isdigit():
            raise NoteFormatError(f"case index line {line!r}: expected '{INDEX_EXTENSION} "
                                  "<count> <base64 root>'")
        try:
            root = base64.b64decode(parts[2], validate=True)
        except (binascii.Error, ValueError):
            raise NoteFormatError(f"case index line {line!r}: root not base64") from None
        if len(root) != HASH_SIZE:
            raise NoteFormatError(f"case index line {line!r}: root not {HASH_SIZE} bytes")
        return int(parts[1]), root
    return None


def verify_case_head(head: CaseHead, position: int, count: int, proof: Sequence[bytes],
                     root: bytes) -> None:
    """`head` is leaf `position` of the index tree of `count` leaves with `root`
    (InclusionProofError, or LogRangeError for a position outside it)."""
    verify_inclusion(position, count, leaf_hash(head.encode()), proof, root)
