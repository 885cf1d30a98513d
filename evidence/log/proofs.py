"""Verifiers of the log's proofs: pure functions of hashes, what a court or monitor runs.

* `verify_inclusion` / `root_from_inclusion`: RFC 9162 §2.1.3.2, the bit-walk over
  (leaf index, tree size - 1).
* `verify_consistency`: RFC 9162 §2.1.4.2. Two edge cases the RFC leaves to the caller are
  decided here: size 0 is consistent with any later tree if its root is the empty-tree
  hash and the proof is empty; equal sizes need equal roots and an empty proof.
* A **frontier** (compact range) of a tree of size n is the list of roots of its perfect
  subtrees, one per set bit of n, the largest (leftmost) first. It is all that is needed
  to go on appending: `root_from_frontier`, `extend_frontier` and `root_after` rebuild the
  root of a later tree from a frontier and the leaves appended since, which is how a proof
  of absence is checked (evidence.log.absence).

Every function checks lengths first and raises a precise `ProofError` subclass; none
returns a bare bool, so a failure cannot be ignored by accident.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

from evidence.log.errors import ConsistencyProofError, InclusionProofError, LogRangeError
from evidence.log.hashing import EMPTY_ROOT, HASH_SIZE, leaf_hash, node_hash

__all__ = [
    "MAX_PROOF_LENGTH",
    "MAX_TREE_SIZE",
    "extend_frontier",
    "frontier_sizes",
    "root_after",
    "root_from_frontier",
    "root_from_inclusion",
    "verify_consistency",
    "verify_inclusion",
]

# 2**63 - 1 leaves: a uint64 tree size (C2SP, RFC 9162) that also fits a signed BIGINT.
MAX_TREE_SIZE = (1 << 63) - 1
# A proof in a tree of at most 2**63 leaves has at most 63 (inclusion) or 64 (consistency,
# with the prepended first root) hashes; anything longer is refused before any hashing.
MAX_PROOF_LENGTH = 64


def _hash(value: bytes, what: str, error: type[Exception]) -> bytes:
    if not isinstance(value, bytes | bytearray) or len(value) != HASH_SIZE:
        found = len(value) if isinstance(value, bytes | bytearray) else type(value).__name__
        raise error(f"{what}: expected a {HASH_SIZE}-byte SHA-256 hash, found {found}")
    return bytes(value)


def _size(value: int, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= MAX_TREE_SIZE:
        raise LogRangeError(f"{what}: expected an integer in [0, 2**63), found {value!r}")
    return value


def root_from_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes]) -> bytes:
    """The root that `proof` leads to from `leaf` (a leaf hash) at `index` of a tree of
    `size` leaves (RFC 9162 §2.1.3.2 steps 1-4). Raises InclusionProofError when the proof
    has the wrong length for (index, size)."""
    _size(index, "leaf index")
    _size(size, "tree size")
    if index >= size:
        raise InclusionProofError(f"leaf index {index} is not below tree size {size}")
    if len(proof) > MAX_PROOF_LENGTH:
        raise InclusionProofError(f"inclusion proof: {len(proof)} hashes, at most "
                                  f"{MAX_PROOF_LENGTH}")
    r = _hash(leaf, "leaf hash", InclusionProofError)
    fn, sn = index, size - 1
    for i, p in enumerate(proof):
        p = _hash(p, f"inclusion proof[{i}]", InclusionProofError)
        if sn == 0:
            raise InclusionProofError(
                f"inclusion proof: {len(proof)} hashes, more than leaf {index} of a tree of "
                f"{size} needs"
            )
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            r = node_hash(r, p)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise InclusionProofError(
            f"inclusion proof: {len(proof)} hashes, fewer than leaf {index} of a tree of "
            f"{size} needs"
        )
    return r


def verify_inclusion(index: int, size: int, leaf: bytes, proof: Sequence[bytes],
                     root: bytes) -> None:
    """Check that `leaf` (a leaf hash) is at `index` of the tree of `size` leaves whose root
    is `root`; InclusionProofError otherwise."""
    want = _hash(root, "root", InclusionProofError)
    got = root_from_inclusion(index, size, leaf, proof)
    if got != want:
        raise InclusionProofError(
            f"inclusion proof of leaf {index} in a tree of {size} leads to root "
            f"{got.hex()}, expected {want.hex()}: the entry is not at that index of that tree"
        )


def verify_consistency(size1: int, size2: int, root1: bytes, root2: bytes,
                       proof: Sequence[bytes]) -> None:
    """Check that the tree of `size2` leaves with `root2` extends the tree of `size1` leaves
    with `root1` (RFC 9162 §2.1.4.2); ConsistencyProofError otherwise."""
    _size(size1, "first tree size")
    _size(size2, "second tree size")
    r1 = _hash(root1, "first root", ConsistencyProofError)
    r2 = _hash(root2, "second root", ConsistencyProofError)
    if size1 > size2:
        raise ConsistencyProofError(
            f"tree size went back from {size1} to {size2}: a log only grows"
        )
    if len(proof) > MAX_PROOF_LENGTH:
        raise ConsistencyProofError(f"consistency proof: {len(proof)} hashes, at most "
                                    f"{MAX_PROOF_LENGTH}")
    nodes = [_hash(p, f"consistency proof[{i}]", ConsistencyProofError)
             for i, p in enumerate(proof)]
    if size1 == size2 or size1 == 0:
        if nodes:
            raise ConsistencyProofError(
                f"consistency proof from {size1} to {size2} must be empty, found "
                f"{len(nodes)} hashes"
            )
        if size1 == 0 and r1 != EMPTY_ROOT:
            raise ConsistencyProofError(
                f"a tree of size 0 has root {EMPTY_ROOT.hex()} (SHA-256 of nothing), found "
                f"{r1.hex()}"
            )
        if size1 == size2 and r1 != r2:
            raise ConsistencyProofError(
                f"two different roots for the same tree size {size1}: {r1.hex()} and "
                f"{r2.hex()} (a split view)"
            )
        return
    if not nodes:
        raise ConsistencyProofError(f"consistency proof from {size1} to {size2} is empty")
    if size1 & (size1 - 1) == 0:  # a power of two: the first tree is a subtree of the second
        nodes = [r1, *nodes]
    fn, sn = size1 - 1, size2 - 1
    while fn & 1:
        fn >>= 1
        sn >>= 1
    fr = sr = nodes[0]
    for c in nodes[1:]:
        if sn == 0:
            raise ConsistencyProofError(
                f"consistency proof from {size1} to {size2}: {len(proof)} hashes, more than "
                "needed"
            )
        if fn & 1 or fn == sn:
            fr = node_hash(c, fr)
            sr = node_hash(c, sr)
            if not fn & 1:
                while fn and not fn & 1:
                    fn >>= 1
                    sn >>= 1
        else:
            sr = node_hash(sr, c)
        fn >>= 1
        sn >>= 1
    if sn != 0:
        raise ConsistencyProofError(
            f"consistency proof from {size1} to {size2}: {len(proof)} hashes, fewer than "
            "needed"
        )
    if fr != r1:
        raise ConsistencyProofError(
            f"consistency proof from {size1} to {size2} rebuilds the first root as "
            f"{fr.hex()}, expected {r1.hex()}: the earlier tree is not a prefix of the later"
        )
    if sr != r2:
        raise ConsistencyProofError(
            f"consistency proof from {size1} to {size2} rebuilds the second root as "
            f"{sr.hex()}, expected {r2.hex()}: the later tree does not extend the earlier"
        )


# --- frontiers (compact ranges [0, size)) -----------------------------------------------


def frontier_sizes(size: int) -> list[int]:
    """The leaf counts of the perfect subtrees a tree of `size` leaves splits into, left to
    right (the set bits of `size`, highest first)."""
    _size(size, "tree size")
    return [1 << b for b in range(size.bit_length() - 1, -1, -1) if size >> b & 1]


def _frontier(size: int, frontier: Sequence[bytes]) -> list[bytes]:
    want = bin(_size(size, "tree size")).count("1")
    if len(frontier) != want:
        raise InclusionProofError(
            f"frontier of a tree of {size} leaves has {want} hashes (one per set bit of the "
            f"size), found {len(frontier)}"
        )
    return [_hash(h, f"frontier[{i}]", InclusionProofError) for i, h in enumerate(frontier)]


def root_from_frontier(size: int, frontier: Sequence[bytes]) -> bytes:
    """The root of the tree of `size` leaves whose frontier is `frontier`: the subtree roots
    folded from the right (RFC 6962's split at the largest power of two, applied at each
    step)."""
    nodes = _frontier(size, frontier)
    if not nodes:
        return EMPTY_ROOT
    r = nodes[-1]
    for h in reversed(nodes[:-1]):
        r = node_hash(h, r)
    return r


def extend_frontier(size: int, frontier: Sequence[bytes],
                    leaf_hashes: Iterable[bytes]) -> tuple[int, list[bytes]]:
    """The (size, frontier) after appending `leaf_hashes` (leaf hashes, in order) to the tree
    of `size` leaves with `frontier`."""
    nodes = _frontier(size, frontier)
    n = size
    for i, h in enumerate(leaf_hashes):
        h = _hash(h, f"appended leaf hash [{i}]", InclusionProofError)
        k = n
        while k & 1:
            h = node_hash(nodes.pop(), h)
            k >>= 1
        nodes.append(h)
        n += 1
        if n > MAX_TREE_SIZE:
            raise LogRangeError("tree size would exceed 2**63 - 1")
    return n, nodes


def root_after(size: int, frontier: Sequence[bytes],
               entries: Iterable[bytes]) -> tuple[int, bytes]:
    """(size, root) of the tree of `size` leaves with `frontier` after appending `entries`
    (encoded entries, hashed here with the leaf prefix)."""
    n, nodes = extend_frontier(size, frontier, (leaf_hash(e) for e in entries))
    return n, root_from_frontier(n, nodes)
