"""The log's tree and proofs: the RFC 6962 vectors every CT implementation tests against,
a proof for every leaf and every pair of sizes, proofs that must fail, the node store."""

from __future__ import annotations

from collections.abc import Sequence

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.errors import ProofError
from evidence.log import (
    EMPTY_ROOT,
    ConsistencyProofError,
    InclusionProofError,
    LogRangeError,
    MemoryNodeStore,
    MerkleLog,
    MissingNode,
    extend_frontier,
    frontier_sizes,
    leaf_hash,
    node_hash,
    root_after,
    root_from_frontier,
    root_from_inclusion,
    verify_consistency,
    verify_inclusion,
)

# --- RFC 6962 test vectors ----------------------------------------------------------------
# Source: github.com/transparency-dev/merkle (the Go library behind Trillian, Tessera and the
# CT ecosystem), testonly/constants.go (LeafInputs, NodeHashes, RootHashes, CompactTrees) and
# proof/verify_test.go (inclusionProofs, consistencyProofs), the same 8-leaf tree as
# Google's certificate-transparency C++ merkle_tree_test.cc. Copied as data, hex for hex.
# In verify_test.go the inclusion vectors name leaves counting from 1; below from 0.

LEAF_INPUTS = [bytes.fromhex(h) for h in (
    "", "00", "10", "2021", "3031", "40414243", "5051525354555657",
    "606162636465666768696a6b6c6d6e6f",
)]

NODE_HASHES = [  # NODE_HASHES[level][index]
    [
        "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
        "96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
        "0298d122906dcfc10892cb53a73992fc5b9f493ea4c9badb27b791b4127a7fe7",
        "07506a85fd9dd2f120eb694f86011e5bb4662e5c415a62917033d4a9624487e7",
        "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
        "4271a26be0d8a84f0bd54c8c302e7cb3a3b5d1fa6780a40bcce2873477dab658",
        "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
        "46f6ffadd3d06a09ff3c5860d2755c8b9819db7df44251788c7d8e3180de8eb1",
    ],
    [
        "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
        "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
        "0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
        "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
    ],
    [
        "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
        "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4",
    ],
    ["5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328"],
]

ROOT_HASHES = [  # by tree size, 0..8
    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855",
    "6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
    "fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125",
    "aeb6bcfe274b70a14fb067a5e5578264db0fa9b51af5e0ba159158f329e06e77",
    "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7",
    "4e3bbb1f7b478dcfe71fb631631519a3bca12c9aefca1612bfce4c13a86264d4",
    "76e67dadbcdf1e10e1b74ddc608abd2f98dfb16fbce75277b5232a127f2087ef",
    "ddb89be403809e325750d3d263cd78929c2942b7942a34b77e122c9594a74c8c",
    "5dc9da79a70659a9ad559cb701ded9a2ab9d823aad2f4960cfe370eff4604328",
]

COMPACT_TREES = [  # the frontier of each size, as (level, index) into NODE_HASHES
    [], [(0, 0)], [(1, 0)], [(1, 0), (0, 2)], [(2, 0)], [(2, 0), (0, 4)], [(2, 0), (1, 2)],
    [(2, 0), (1, 2), (0, 6)], [(3, 0)],
]

INCLUSION_PROOFS = [  # (leaf index from 0, tree size, proof)
    (0, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (5, 8, ["bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 3, ["fac54203e7cc696cf0dfcb42c92a1d9dbaf70ad9e621f4bd8d98662f00e3c125"]),
    (1, 5, ["6e340b9cffb37a989ca544e6bb780a2c78901d3fb33738768511a30617afa01d",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (0, 1, []),
]

CONSISTENCY_PROOFS = [  # (size1, size2, proof)
    (1, 1, []),
    (1, 8, ["96a296d224f285c67bee93c30f8a309157f0daa35dc5b87e410b78630a09cfc7",
            "5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "6b47aaf29ee3c2af9af889bc1fb9254dabd31177f16232dd6aab035ca39bf6e4"]),
    (6, 8, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "ca854ea128ed050b41b35ffc1b87b8eb2bde461e9e3b5596ece6b9d5975a0ae0",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
    (2, 5, ["5f083f0a1a33ca076a95279832580db3e0ef4584bdff1f54c8a360f50de3031e",
            "bc1a0643b12e4d2d7c77918f44e0f4f79a838b6cf9ec5b5c283e1f4d88599e6b"]),
    (6, 7, ["0ebc5d3437fbe2db158b9f126a1d118e308181031d0a949f8dededebc558ef6a",
            "b08693ec2e721597130641e8211e7eedccb4c26413963eee6c1e2ed16ffb1a5f",
            "d37ee418976dd95753c1c73862b9398fa2a2cf9b4ff0fdfe8b30cd95209614b7"]),
]

SOME_HASH = bytes.fromhex("abacaba000000000000000000000000000000000000000000060061e00123456")


def _h(hexes: list[str]) -> list[bytes]:
    return [bytes.fromhex(x) for x in hexes]


@pytest.fixture(scope="module")
def vector_log() -> MerkleLog:
    return MerkleLog.of(LEAF_INPUTS)


def test_empty_tree_root_is_sha256_of_nothing() -> None:
    assert EMPTY_ROOT.hex() == ROOT_HASHES[0]
    assert MerkleLog().root() == EMPTY_ROOT


def test_vector_roots_for_every_size(vector_log: MerkleLog) -> None:
    for size, want in enumerate(ROOT_HASHES):
        assert vector_log.root(size).hex() == want, size


def test_vector_node_hashes(vector_log: MerkleLog) -> None:
    for level, row in enumerate(NODE_HASHES):
        found = vector_log.store.get_nodes([(level, i) for i in range(len(row))])
        assert [found[(level, i)].hex() for i in range(len(row))] == row
    assert [leaf_hash(x).hex() for x in LEAF_INPUTS] == NODE_HASHES[0]
    assert node_hash(bytes.fromhex(NODE_HASHES[0][0]),
                     bytes.fromhex(NODE_HASHES[0][1])).hex() == NODE_HASHES[1][0]


def test_vector_frontiers(vector_log: MerkleLog) -> None:
    for size, keys in enumerate(COMPACT_TREES):
        want = [NODE_HASHES[level][index] for level, index in keys]
        assert [h.hex() for h in vector_log.frontier(size)] == want
        assert root_from_frontier(size, _h(want)).hex() == ROOT_HASHES[size]
        assert [1 << level for level, _ in keys] == frontier_sizes(size)


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_vector_inclusion_proofs(vector_log: MerkleLog, index: int, size: int,
                                 proof: list[str]) -> None:
    assert [h.hex() for h in vector_log.inclusion_proof(index, size)] == proof
    root = bytes.fromhex(ROOT_HASHES[size])
    leaf = leaf_hash(LEAF_INPUTS[index])
    verify_inclusion(index, size, leaf, _h(proof), root)
    assert root_from_inclusion(index, size, leaf, _h(proof)) == root


@pytest.mark.parametrize(("size1", "size2", "proof"), CONSISTENCY_PROOFS)
def test_vector_consistency_proofs(vector_log: MerkleLog, size1: int, size2: int,
                                   proof: list[str]) -> None:
    assert [h.hex() for h in vector_log.consistency_proof(size1, size2)] == proof
    verify_consistency(size1, size2, bytes.fromhex(ROOT_HASHES[size1]),
                       bytes.fromhex(ROOT_HASHES[size2]), _h(proof))


# --- corrupted proofs (the probes of transparency-dev/merkle's verify_test.go) ------------


def _inclusion_probes(index: int, size: int, proof: list[bytes], root: bytes,
                      leaf: bytes) -> list[tuple[str, int, int, bytes, list[bytes], bytes]]:
    probes = [
        ("index - 1", index - 1, size, leaf, proof, root),
        ("index + 1", index + 1, size, leaf, proof, root),
        ("index ^ 2", index ^ 2, size, leaf, proof, root),
        ("size * 2", index, size * 2, leaf, proof, root),
        ("size // 2", index, size // 2, leaf, proof, root),
        ("wrong leaf", index, size, SOME_HASH, proof, root),
        ("empty root", index, size, leaf, proof, EMPTY_ROOT),
        ("random root", index, size, leaf, proof, SOME_HASH),
        ("trailing root", index, size, leaf, [*proof, root], root),
        ("preceding root", index, size, leaf, [root, *proof], root),
    ]
    for i in range(len(proof)):
        bad = list(proof)
        bad[i] = bytes([bad[i][0] ^ 8]) + bad[i][1:]
        probes.append((f"proof[{i}] bit 3 flipped", index, size, leaf, bad, root))
    if proof:
        probes.append(("removed last", index, size, leaf, proof[:-1], root))
    if len(proof) > 1:
        probes.append(("inserted", index, size, leaf, [proof[0], SOME_HASH, *proof[1:]], root))
    return probes


@pytest.mark.parametrize(("index", "size", "proof"), INCLUSION_PROOFS)
def test_corrupted_inclusion_proofs_fail(index: int, size: int, proof: list[str]) -> None:
    root, leaf = bytes.fromhex(ROOT_HASHES[size]), leaf_hash(LEAF_INPUTS[index])
    for name, i, n, lf, p, r in _inclusion_probes(index, size, _h(proof), root, leaf):
        with pytest.raises((InclusionProofError, LogRangeError)):
            verify_inclusion(i, n, lf, p, r)
            pytest.fail(f"accepted: {name}")


@pytest.mark.parametrize(("size1", "size2", "proof"),
                         [v for v in CONSISTENCY_PROOFS if v[2]])
def test_corrupted_consistency_proofs_fail(size1: int, size2: int, proof: list[str]) -> None:
    r1, r2, p = bytes.fromhex(ROOT_HASHES[size1]), bytes.fromhex(ROOT_HASHES[size2]), _h(proof)
    probes = [
        ("size1 - 1", size1 - 1, size2, r1, r2, p),
        ("size1 + 1", size1 + 1, size2, r1, r2, p),
        ("size1 ^ 2", size1 ^ 2, size2, r1, r2, p),
        ("size2 * 2", size1, size2 * 2, r1, r2, p),
        ("size2 // 2", size1, size2 // 2, r1, r2, p),
        ("wrong root1", size1, size2, SOME_HASH, r2, p),
        ("wrong root2", size1, size2, r1, SOME_HASH, p),
        ("swapped roots", size1, size2, r2, r1, p),
        ("empty proof", size1, size2, r1, r2, []),
        ("trailing root1", size1, size2, r1, r2, [*p, r1]),
        ("trailing root2", size1, size2, r1, r2, [*p, r2]),
        ("preceding root1", size1, size2, r1, r2, [r1, *p]),
        ("preceding root2", size1, size2, r1, r2, [r2, *p]),
        ("preceding proof[0]", size1, size2, r1, r2, [p[0], *p]),
        ("truncated", size1, size2, r1, r2, p[:-1]),
    ]
    for i in range(len(p)):
        bad = list(p)
        bad[i] = bytes([bad[i][0] ^ 16]) + bad[i][1:]
        probes.append((f"proof[{i}] bit 4 flipped", size1, size2, r1, r2, bad))
    for name, m, n, a, b, q in probes:
        with pytest.raises((ConsistencyProofError, LogRangeError)):
            verify_consistency(m, n, a, b, q)
            pytest.fail(f"accepted: {name}")


def test_consistency_edge_cases() -> None:
    r = bytes.fromhex(ROOT_HASHES[3])
    verify_consistency(0, 0, EMPTY_ROOT, EMPTY_ROOT, [])
    verify_consistency(0, 3, EMPTY_ROOT, r, [])
    verify_consistency(3, 3, r, r, [])
    with pytest.raises(ConsistencyProofError, match="a log only grows"):
        verify_consistency(3, 2, r, r, [SOME_HASH])
    with pytest.raises(ConsistencyProofError, match="split view"):
        verify_consistency(3, 3, r, SOME_HASH, [])
    with pytest.raises(ConsistencyProofError, match="must be empty"):
        verify_consistency(3, 3, r, r, [EMPTY_ROOT])
    with pytest.raises(ConsistencyProofError, match="size 0 has root"):
        verify_consistency(0, 3, SOME_HASH, r, [])
    with pytest.raises(ConsistencyProofError, match="32-byte"):
        verify_consistency(1, 3, b"short", r, [SOME_HASH])
    with pytest.raises(ConsistencyProofError, match="at most 64"):
        verify_consistency(1, 3, r, r, [SOME_HASH] * 65)


def test_inclusion_edge_cases() -> None:
    leaf = leaf_hash(b"data")
    verify_inclusion(0, 1, leaf, [], leaf)  # one leaf: the root is the leaf hash
    with pytest.raises(InclusionProofError, match="not below tree size"):
        verify_inclusion(0, 0, leaf, [], EMPTY_ROOT)
    with pytest.raises(InclusionProofError, match="not below tree size"):
        verify_inclusion(2, 1, leaf, [], leaf)
    with pytest.raises(InclusionProofError, match="32-byte"):
        verify_inclusion(0, 1, b"", [], leaf)
    with pytest.raises(InclusionProofError, match="more than"):
        verify_inclusion(0, 1, leaf, [leaf], leaf)
    with pytest.raises(InclusionProofError, match="at most 64"):
        verify_inclusion(0, 1, leaf, [leaf] * 65, leaf)
    with pytest.raises(LogRangeError):
        verify_inclusion(-1, 1, leaf, [], leaf)
    with pytest.raises(LogRangeError):
        verify_inclusion(0, 1 << 63, leaf, [], leaf)
    assert issubclass(InclusionProofError, ProofError)


# --- properties ---------------------------------------------------------------------------


def _flip(data: bytes, bit: int) -> bytes:
    i = (bit // 8) % len(data)
    return data[:i] + bytes([data[i] ^ (1 << (bit % 8))]) + data[i + 1:]


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=300), st.data())
def test_every_inclusion_proof_verifies_and_any_flipped_bit_fails(n: int, data: st.DataObject,
                                                                  ) -> None:
    log = MerkleLog.of(i.to_bytes(4, "big") for i in range(n))
    size = data.draw(st.integers(min_value=1, max_value=n), label="size")
    index = data.draw(st.integers(min_value=0, max_value=size - 1), label="index")
    proof, root = log.inclusion_proof(index, size), log.root(size)
    leaf = leaf_hash(index.to_bytes(4, "big"))
    verify_inclusion(index, size, leaf, proof, root)
    bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
    what = data.draw(st.sampled_from(["leaf", "root", "proof"]), label="what")
    if what == "proof" and not proof:
        what = "leaf"
    with pytest.raises(InclusionProofError):
        if what == "leaf":
            verify_inclusion(index, size, _flip(leaf, bit), proof, root)
        elif what == "root":
            verify_inclusion(index, size, leaf, proof, _flip(root, bit))
        else:
            k = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="k")
            bad = list(proof)
            bad[k] = _flip(bad[k], bit)
            verify_inclusion(index, size, leaf, bad, root)


@settings(max_examples=60, deadline=None)
@given(st.integers(min_value=1, max_value=300), st.data())
def test_every_consistency_proof_verifies_and_any_flipped_bit_fails(n: int,
                                                                    data: st.DataObject) -> None:
    log = MerkleLog.of(i.to_bytes(4, "big") for i in range(n))
    size2 = data.draw(st.integers(min_value=1, max_value=n), label="size2")
    size1 = data.draw(st.integers(min_value=1, max_value=size2), label="size1")
    proof = log.consistency_proof(size1, size2)
    r1, r2 = log.root(size1), log.root(size2)
    verify_consistency(size1, size2, r1, r2, proof)
    bit = data.draw(st.integers(min_value=0, max_value=255), label="bit")
    targets = ["root1", "root2"] + (["proof"] if proof else [])
    what = data.draw(st.sampled_from(targets), label="what")
    with pytest.raises(ConsistencyProofError):
        if what == "root1":
            verify_consistency(size1, size2, _flip(r1, bit), r2, proof)
        elif what == "root2":
            verify_consistency(size1, size2, r1, _flip(r2, bit), proof)
        else:
            k = data.draw(st.integers(min_value=0, max_value=len(proof) - 1), label="k")
            bad = list(proof)
            bad[k] = _flip(bad[k], bit)
            verify_consistency(size1, size2, r1, r2, bad)


def test_all_proofs_of_small_trees() -> None:
    """Exhaustive for sizes up to 33: every leaf in every size, every pair of sizes."""
    log = MerkleLog.of(bytes([i]) for i in range(33))
    roots = [log.root(s) for s in range(34)]
    for size in range(1, 34):
        for index in range(size):
            verify_inclusion(index, size, leaf_hash(bytes([index])),
                             log.inclusion_proof(index, size), roots[size])
        for size1 in range(size + 1):
            verify_consistency(size1, size, roots[size1], roots[size],
                               log.consistency_proof(size1, size))


@settings(max_examples=40, deadline=None)
@given(st.lists(st.binary(max_size=40), max_size=200), st.data())
def test_frontier_plus_entries_gives_the_later_root(entries: list[bytes],
                                                    data: st.DataObject) -> None:
    log = MerkleLog.of(entries)
    m = data.draw(st.integers(min_value=0, max_value=len(entries)), label="m")
    frontier = log.frontier(m)
    assert root_from_frontier(m, frontier) == log.root(m)
    assert root_after(m, frontier, entries[m:]) == (len(entries), log.root())
    size, nodes = extend_frontier(m, frontier, [leaf_hash(e) for e in entries[m:]])
    assert (size, nodes) == (len(entries), log.frontier())


def test_append_paths_agree() -> None:
    """append, append_leaf_hash, extend and open-then-append build the same nodes."""
    entries = [i.to_bytes(3, "big") for i in range(1000)]
    one = MerkleLog()
    for e in entries:
        one.append(e)
    two = MerkleLog()
    two.extend(entries[:500])
    for e in entries[500:]:
        two.append_leaf_hash(leaf_hash(e))
    three = MerkleLog.open(two.store, 700)
    assert three.root() == one.root(700)
    four = MerkleLog(MemoryNodeStore())
    four.extend(entries[:700])
    reopened = MerkleLog.open(four.store, 700)
    assert reopened.extend_leaf_hashes(leaf_hash(e) for e in entries[700:]) == range(700, 1000)
    assert one.root() == two.root() == reopened.root()
    assert isinstance(one.store, MemoryNodeStore) and isinstance(reopened.store, MemoryNodeStore)
    assert all(one.store.level(k) == reopened.store.level(k) for k in range(11))
    assert one.store.levels == reopened.store.levels and len(one.store.levels) == 10
    assert [len(one.store.level(k)) for k in range(11)] == [1000 >> k for k in range(11)]
    assert one.store.leaf_count() == 1000
    assert one.leaf_hash(999) == leaf_hash(entries[999])


def test_the_store_is_append_only() -> None:
    store = MemoryNodeStore()
    log = MerkleLog.of([b"a", b"b", b"c"], store)
    store.put_nodes([(0, 1, leaf_hash(b"b"))])  # the same node again: no change
    assert log.root(2) == MerkleLog.of([b"a", b"b"]).root()
    with pytest.raises(ValueError, match="already stored with another hash"):
        store.put_nodes([(0, 1, leaf_hash(b"x"))])
    with pytest.raises(ValueError, match="arrive in order"):
        MemoryNodeStore().put_nodes([(0, 5, SOME_HASH)])


def test_a_damaged_store_is_named() -> None:
    log = MerkleLog.of([b"a", b"b", b"c"])
    with pytest.raises(MissingNode, match=r"node \(1, 0\)"):
        MerkleLog.open(MemoryNodeStore(), 3)
    empty = MerkleLog.open(MemoryNodeStore(), 0)
    assert empty.root() == EMPTY_ROOT
    assert log.size == len(log) == 3


def test_ranges_are_refused() -> None:
    log = MerkleLog.of([b"a", b"b", b"c"])
    for call in (lambda: log.root(4), lambda: log.inclusion_proof(3, 3),
                 lambda: log.inclusion_proof(0, 0), lambda: log.consistency_proof(3, 2),
                 lambda: log.consistency_proof(-1), lambda: log.frontier(-1),
                 lambda: log.leaf_hash(3), lambda: MerkleLog.open(MemoryNodeStore(), -1),
                 lambda: log.root(True)):
        with pytest.raises(LogRangeError):
            call()
    with pytest.raises(ValueError, match="32 bytes"):
        log.append_leaf_hash(b"short")
    with pytest.raises(InclusionProofError, match="one per set bit"):
        root_from_frontier(3, [SOME_HASH])


class _FailingStore(MemoryNodeStore):
    """Refuses every write once `fail` is set (a database that lost its connection)."""

    fail = False

    def put_nodes(self, nodes: Sequence[tuple[int, int, bytes]]) -> None:
        if self.fail:
            raise ConnectionError("database gone")
        super().put_nodes(nodes)


def test_a_refused_write_leaves_the_tree_as_it_was() -> None:
    """Every append path: even index, one node completed, several completed, batches."""
    store = _FailingStore()
    log = MerkleLog(store)
    ref = MerkleLog()
    for i in range(40):
        before = (log.size, log.root(), log.frontier())
        store.fail = True
        entry = bytes([i])
        with pytest.raises(ConnectionError):
            log.append(entry)
        assert (log.size, log.root(), log.frontier()) == before
        with pytest.raises(ConnectionError):
            log.append_leaf_hash(leaf_hash(entry))
        assert (log.size, log.root(), log.frontier()) == before
        with pytest.raises(ConnectionError):
            log.extend([entry, b"more"])
        assert (log.size, log.root(), log.frontier()) == before
        store.fail = False
        log.append(bytes([i]))
        ref.append(bytes([i]))
        assert log.root() == ref.root()


def test_the_owned_memory_path_writes_what_put_nodes_writes() -> None:
    """A tree given no store writes its own memory directly; one given a MemoryNodeStore
    goes through put_nodes: the same nodes, level by level, for every size."""
    owned, checked = MerkleLog(), MerkleLog(MemoryNodeStore())
    for i in range(1100):
        e = i.to_bytes(4, "big")
        assert owned.append(e) == checked.append(e) == i
        if i % 97 == 0:
            assert owned.root() == checked.root()
    assert isinstance(owned.store, MemoryNodeStore) and isinstance(checked.store, MemoryNodeStore)
    assert owned.store.levels == checked.store.levels
    assert owned.store.leaf_count() == 1100


def test_a_store_a_tree_made_is_that_trees_alone() -> None:
    """Another tree opened on the store a tree made may read it, not write to it (the
    owner writes there without checks)."""
    owner = MerkleLog.of([b"a", b"b", b"c"])
    reader = MerkleLog.open(owner.store, 3)
    assert reader.root() == owner.root()
    with pytest.raises(ValueError, match="belongs to the tree that made it"):
        reader.append(b"d")
    assert reader.size == 3
    owner.extend([b"d", b"e"])
    owner.append_leaf_hash(leaf_hash(b"f"))
    assert owner.root() == MerkleLog.of([b"a", b"b", b"c", b"d", b"e", b"f"],
                                        MemoryNodeStore()).root()


def test_resume_from_a_kept_frontier_appends_as_open_does() -> None:
    """``MerkleLog.resume`` (the service's kept frontier) continues the tree exactly as
    ``open`` (which reads the frontier back) does; a frontier of the wrong shape is refused."""
    from evidence.log import MemoryNodeStore

    for size in (0, 1, 2, 5, 8, 13):
        a, b = MemoryNodeStore(), MemoryNodeStore()
        MerkleLog.of((bytes([i]) * 98 for i in range(size)), a)
        MerkleLog.of((bytes([i]) * 98 for i in range(size)), b)
        opened = MerkleLog.open(a, size)
        resumed = MerkleLog.resume(b, size, opened.frontier())
        for i in range(size, size + 7):
            assert opened.append(bytes([i]) * 98) == resumed.append(bytes([i]) * 98)
            assert opened.root() == resumed.root()
        assert a.levels == b.levels
    with pytest.raises(ValueError, match="frontier"):
        MerkleLog.resume(MemoryNodeStore(), 3, [b"\x00" * 32])
