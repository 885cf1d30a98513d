"""Merkle batches: literal vectors, @openzeppelin/merkle-tree, OpenZeppelin MerkleProof on a
real EVM, proofs for any number of leaves, and proofs that must fail."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account
from eth_utils import keccak
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.errors import FormatError, ProofError
from evidence.merkle import (
    LEAF_ENCODING,
    StandardMerkleTree,
    hash_pair,
    leaf_hash,
    process_proof,
    record_leaf,
    verify,
)
from evidence.records import Domain, EvidenceSubmission

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "tests/vectors/merkle.json").read_text())

bytes32 = st.binary(min_size=32, max_size=32).map(lambda b: "0x" + b.hex())
leaf_values = st.tuples(bytes32, bytes32, bytes32)


def _node_merkle(payload: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(
        ["node", "tests/js/merkle.mjs"],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=120,
    )
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


@pytest.mark.parametrize("vec", VECTORS["trees"], ids=lambda v: v["name"])
def test_vectors(vec: dict[str, Any]) -> None:
    tree = StandardMerkleTree.of(vec["values"], vec["leafEncoding"])
    assert _hex(tree.root) == vec["root"]
    for i, value in enumerate(vec["values"]):
        assert _hex(leaf_hash(vec["leafEncoding"], value)) == vec["leafHashes"][i]
        assert [_hex(p) for p in tree.proof(i)] == vec["proofs"][i]
        verify(vec["proofs"][i], vec["root"], vec["leafHashes"][i])


def test_openzeppelin_readme_example() -> None:
    """The root printed in @openzeppelin/merkle-tree's README, an independent literal."""
    tree = StandardMerkleTree.of(
        [
            ["0x1111111111111111111111111111111111111111", "5000000000000000000"],
            ["0x2222222222222222222222222222222222222222", "2500000000000000000"],
        ],
        ["address", "uint256"],
    )
    assert tree.root.hex() == "d4dee0beab2d53f2cc83e567171bd2820e49898130a22622b10ead383e90bd77"


def test_single_leaf_tree() -> None:
    """Limit case: the root is the leaf hash and the proof is empty."""
    value = record_leaf(b"\x01" * 32, b"\x02" * 32, b"\x03" * 32)
    tree = StandardMerkleTree.of([value])
    assert tree.root == leaf_hash(LEAF_ENCODING, value)
    assert tree.proof(0) == []
    verify([], tree.root, tree.root)


def test_leaf_is_double_hashed_abi_encoding() -> None:
    a, b, c = b"\x01" * 32, b"\x02" * 32, b"\x03" * 32
    assert leaf_hash(LEAF_ENCODING, record_leaf(a, b, c)) == keccak(keccak(a + b + c))
    x, y = keccak(b"x"), keccak(b"y")
    assert hash_pair(x, y) == hash_pair(y, x) == keccak(min(x, y) + max(x, y))


@settings(max_examples=60, deadline=None)
@given(values=st.lists(leaf_values, min_size=1, max_size=40))
def test_every_leaf_proves_for_any_count(values: list[tuple[str, str, str]]) -> None:
    tree = StandardMerkleTree.of(values)
    assert len(tree.tree) == 2 * len(values) - 1
    for i, value in enumerate(values):
        proof = tree.proof(i)
        leaf = leaf_hash(LEAF_ENCODING, value)
        assert process_proof(leaf, proof) == tree.root
        verify(proof, tree.root, leaf)
        assert len(proof) <= len(values).bit_length()
    # a dump loads back to the same tree
    assert StandardMerkleTree.load(tree.dumps()) == tree


@settings(max_examples=40, deadline=None)
@given(
    values=st.lists(leaf_values, min_size=2, max_size=20, unique=True),
    other=st.lists(leaf_values, min_size=1, max_size=20),
    outsider=leaf_values,
)
def test_wrong_proofs_fail(
    values: list[tuple[str, str, str]],
    other: list[tuple[str, str, str]],
    outsider: tuple[str, str, str],
) -> None:
    tree = StandardMerkleTree.of(values)
    other_tree = StandardMerkleTree.of(other)
    leaf0 = leaf_hash(LEAF_ENCODING, values[0])
    # a proof checked against another batch's root
    if other_tree.root != tree.root:
        with pytest.raises(ProofError, match="another batch"):
            verify(tree.proof(0), other_tree.root, leaf0)
    # another leaf's proof, and a leaf that is not in the tree
    if tree.proof(0) != tree.proof(1):
        with pytest.raises(ProofError):
            verify(tree.proof(1), tree.root, leaf0)
    if outsider not in values:
        with pytest.raises(ProofError):
            verify(tree.proof(0), tree.root, leaf_hash(LEAF_ENCODING, outsider))
        with pytest.raises(ProofError, match="not in this tree"):
            tree.index_of(outsider)
    # a tampered sibling
    proof = tree.proof(0)
    if proof:
        proof[0] = keccak(proof[0])
        with pytest.raises(ProofError):
            verify(proof, tree.root, leaf0)


def test_inner_node_is_not_a_leaf() -> None:
    """Second-preimage: an inner node presented as a leaf with a shorter proof fails,
    because leaves are double-hashed and the inner node is not a leaf hash."""
    values = [record_leaf(bytes([i]) * 32, b"\x00" * 32, b"\x00" * 32) for i in range(4)]
    tree = StandardMerkleTree.of(values)
    inner = tree.tree[1]
    assert process_proof(inner, [tree.tree[2]]) == tree.root  # the raw fold does reach it...
    # ...but no value hashes to it
    assert inner not in {leaf_hash(LEAF_ENCODING, v) for v in values}


def test_malformed_inputs() -> None:
    with pytest.raises(FormatError, match="at least one"):
        StandardMerkleTree.of([])
    with pytest.raises(FormatError):
        leaf_hash(LEAF_ENCODING, ("0x12", "0x34"))
    with pytest.raises(FormatError):
        leaf_hash(["uint8"], [256])
    with pytest.raises(ProofError):
        verify(["0x1234"], b"\x00" * 32, b"\x00" * 32)
    with pytest.raises(ProofError, match="more than"):
        process_proof(b"\x00" * 32, [b"\x00" * 32] * 257)
    with pytest.raises(ProofError, match="out of range"):
        StandardMerkleTree.of([record_leaf(b"\x01" * 32, b"\x02" * 32, b"\x03" * 32)]).proof(1)


def test_tampered_dump_refused() -> None:
    values = [record_leaf(bytes([i]) * 32, b"\x00" * 32, b"\x00" * 32) for i in range(3)]
    dump = StandardMerkleTree.of(values).dump()
    bad_node = json.loads(json.dumps(dump))
    bad_node["tree"][0] = "0x" + "00" * 32
    with pytest.raises(ProofError, match="node 0"):
        StandardMerkleTree.load(bad_node)
    bad_value = json.loads(json.dumps(dump))
    bad_value["values"][0]["value"][1] = "0x" + "11" * 32
    with pytest.raises(ProofError, match="does not match"):
        StandardMerkleTree.load(bad_value)
    with pytest.raises(FormatError):
        StandardMerkleTree.load({**dump, "format": "simple-v1"})


@pytest.mark.node
def test_matches_openzeppelin_merkle_tree() -> None:
    """Same roots and proofs as npm @openzeppelin/merkle-tree, for 1..33 leaves (odd
    counts, powers of two and one past them) and a tree with duplicate values; each side
    loads the other's dump."""
    rng_values = [
        [_hex(keccak(f"{n}/{i}/{j}".encode())) for j in range(3)]
        for n in range(1, 34)
        for i in range(n)
    ]
    trees, pos = [], 0
    for n in range(1, 34):
        trees.append(rng_values[pos : pos + n])
        pos += n
    trees.append([rng_values[0], rng_values[1], rng_values[0]])  # duplicates
    ours = [StandardMerkleTree.of(v) for v in trees]
    out = _node_merkle(
        {
            "trees": [{"types": list(LEAF_ENCODING), "values": v} for v in trees],
            "load": [t.dump() for t in ours],
        }
    )
    for tree, values, js, loaded in zip(ours, trees, out["trees"], out["load"], strict=True):
        assert js["root"] == _hex(tree.root)
        assert js["proofs"] == [[_hex(p) for p in tree.proof(i)] for i in range(len(values))]
        assert StandardMerkleTree.load(js["dump"]) == tree
        assert loaded == {"ok": True, "root": _hex(tree.root)}


def test_onchain_merkleproof_verify_accepts_our_proofs(evidence_check: Any) -> None:
    """OpenZeppelin MerkleProof.verifyCalldata on py-evm: every proof of a batch of signed
    records passes, and the leaf is computed the same way in Solidity."""
    contract, chain_id = evidence_check
    dom = Domain(chain_id=chain_id, verifying_contract=contract.address)
    key = "0x" + "42" * 32
    me = Account.from_key(key).address
    case = keccak(b"case-1")
    signed = [
        EvidenceSubmission(
            case_id=case, sequence=i, prev_hash=keccak(bytes([i])), submitter=me,
            commitment=keccak(b"c" + bytes([i])), content_cid=f"bafy{i}", signed_at=1764000000,
        ).sign(key, dom)
        for i in range(7)
    ]
    values = [record_leaf(case, s.record_hash, s.signatures_hash) for s in signed]
    assert values == [s.merkle_leaf() for s in signed]
    tree = StandardMerkleTree.of(values)
    for i, (s, value) in enumerate(zip(signed, values, strict=True)):
        leaf = contract.functions.leafOf(case, s.record_hash, s.signatures_hash).call()
        assert leaf == leaf_hash(LEAF_ENCODING, value)
        assert contract.functions.verifyProof(tree.proof(i), tree.root, leaf).call() is True
    # and a proof for another root is refused on-chain as well
    other = StandardMerkleTree.of(values[:3])
    leaf = leaf_hash(LEAF_ENCODING, values[5])
    assert contract.functions.verifyProof(tree.proof(5), other.root, leaf).call() is False
