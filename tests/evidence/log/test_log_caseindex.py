"""The per-case index (docs/log.md §14): case logs, heads, the index tree and its line in a
checkpoint; a head proves exactly a case's entries, and any change is refused."""

from __future__ import annotations

import hashlib

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.errors import EvidenceError
from evidence.log import Checkpoint, EntryKind, LogEntry, MerkleLog, NoteFormatError
from evidence.log.caseindex import (
    CaseHead,
    case_leaf,
    case_root,
    heads_of,
    index_extension,
    index_of,
    index_tree,
    verify_case_head,
)


def _entry(case: int, n: int) -> bytes:
    h = hashlib.sha256(n.to_bytes(8, "big")).digest()
    return LogEntry(EntryKind.STEP, bytes([case]) * 32, h, h[::-1]).encode()


@given(st.lists(st.integers(1, 5), max_size=60))
@settings(max_examples=60, deadline=None)
def test_heads_are_each_cases_own_log(cases: list[int]) -> None:
    entries = [_entry(c, i) for i, c in enumerate(cases)]
    heads = heads_of(enumerate(entries))
    assert [h.case_id for h in heads] == sorted({bytes([c]) * 32 for c in cases})
    for h in heads:
        mine = [(i, e) for i, e in enumerate(entries) if e[2:34] == h.case_id]
        assert (h.size, h.last_index) == (len(mine), mine[-1][0])
        assert h.root == case_root(mine) == MerkleLog.of(case_leaf(i, e) for i, e in mine).root()
        assert CaseHead.decode(h.encode()) == h
    if heads:
        tree = index_tree(heads)
        for pos, h in enumerate(heads):
            verify_case_head(h, pos, len(heads), tree.inclusion_proof(pos), tree.root())


def test_a_changed_head_or_position_is_refused() -> None:
    entries = [_entry(c, i) for i, c in enumerate([1, 2, 1, 3, 1, 2])]
    heads = heads_of(enumerate(entries))
    tree = index_tree(heads)
    proof = tree.inclusion_proof(0)
    h = heads[0]
    for bad in (CaseHead(h.case_id, h.size - 1, h.last_index, h.root),
                CaseHead(h.case_id, h.size, h.last_index - 1, h.root),
                CaseHead(heads[1].case_id, h.size, h.last_index, h.root)):
        with pytest.raises(EvidenceError):
            verify_case_head(bad, 0, len(heads), proof, tree.root())
    with pytest.raises(EvidenceError):
        verify_case_head(h, 1, len(heads), proof, tree.root())
    with pytest.raises(ValueError, match="sorted"):
        index_tree(heads[::-1])


def test_the_index_line_in_a_checkpoint() -> None:
    root = hashlib.sha256(b"index").digest()
    line = index_extension(7, root)
    cp = Checkpoint("chainarb.test/log", 10, hashlib.sha256(b"r").digest(), (line,))
    assert index_of(Checkpoint.parse_body(cp.body()).extensions) == (7, root)
    assert index_of(("other extension",)) is None
    for bad in ("chainarb-case-index 7", "chainarb-case-index x AAAA",
                "chainarb-case-index 7 !!!!", "chainarb-case-index 7 AAAA"):
        with pytest.raises(NoteFormatError):
            index_of((bad,))
