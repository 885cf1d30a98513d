"""Merkle batches compatible with OpenZeppelin's StandardMerkleTree (@openzeppelin/merkle-tree
1.x, format "standard-v1") and `MerkleProof.verify` on-chain.

Rules (docs/evidence.md, "Merkle batches", is the normative text):

* leaf hash = keccak256(keccak256(abi.encode(types, values))). The double hash keeps a leaf
  from ever equalling an inner node (the 64-byte-leaf warning in `MerkleProof.sol`).
* inner node = keccak256(min(a, b) ‖ max(a, b)) (`Hashes.commutativeKeccak256`), so a proof
  is a plain list of siblings, no left/right flags.
* shape: leaf hashes sorted ascending (stable), laid out in an array-based complete binary
  tree of 2n-1 nodes: leaf i at index 2n-2-i, node i's children at 2i+1 and 2i+2, the root
  at 0. A tree of one leaf has that leaf as root and empty proofs.
* chainarb's leaves: `LEAF_ENCODING = ["bytes32", "bytes32", "bytes32"]` =
  (caseId, recordHash, signaturesHash) of a signed record (evidence.records).
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import encode as abi_encode
from eth_abi.exceptions import EncodingError

from evidence import safejson
from evidence._keccak import keccak256
from evidence.errors import FormatError, ProofError
from evidence.safejson import JSON, JsonObject

__all__ = [
    "LEAF_ENCODING",
    "StandardMerkleTree",
    "hash_pair",
    "leaf_hash",
    "process_proof",
    "record_leaf",
    "verify",
]

LEAF_ENCODING: tuple[str, ...] = ("bytes32", "bytes32", "bytes32")
MAX_PROOF_LENGTH = 256
DUMP_FORMAT = "standard-v1"
MAX_DUMP_JSON = 256 << 20  # a dump read from a file (the CLI reads batches up to 256 MiB)


def _node(value: bytes | str, what: str) -> bytes:
    if isinstance(value, str):
        try:
            value = bytes.fromhex(value.removeprefix("0x"))
        except ValueError:
            raise ProofError(f"{what}: expected 0x + 64 hex digits, found {value!r}") from None
    if not isinstance(value, bytes | bytearray) or len(value) != 32:
        raise ProofError(f"{what}: expected 32 bytes")
    return bytes(value)


def _decode_value(sol_type: str, value: Any) -> Any:
    """JSON form (hex strings, decimal strings) to what eth_abi encodes."""
    if isinstance(value, str) and (sol_type.startswith("bytes") or sol_type == "address"):
        if sol_type == "address":
            return value
        return bytes.fromhex(value.removeprefix("0x"))
    if isinstance(value, str) and (sol_type.startswith(("uint", "int"))):
        return int(value, 0)
    return value


def leaf_hash(types: Sequence[str], values: Sequence[Any]) -> bytes:
    """keccak256(keccak256(abi.encode(types, values))), as `standardLeafHash`."""
    if len(types) != len(values):
        raise FormatError(f"leaf: {len(types)} types but {len(values)} values")
    encoded = _bytes32_words(types, values)
    if encoded is None:
        try:
            decoded = [_decode_value(t, v) for t, v in zip(types, values, strict=True)]
            encoded = abi_encode(list(types), decoded)
        except (EncodingError, ValueError, TypeError) as exc:
            raise FormatError(f"leaf: values do not encode as {list(types)} ({exc})") from None
    return keccak256(keccak256(encoded))


def _bytes32_words(types: Sequence[str], values: Sequence[Any]) -> bytes | None:
    """The ABI encoding of an all-bytes32 leaf (chainarb's), without eth_abi: a static
    tuple of bytes32 encodes as the plain concatenation of its 32-byte values. eth_abi
    was a third of a leaf's cost. None (take the general path, which also words the
    errors) for anything else, including hex that is not exactly 32 bytes (eth_abi pads
    a shorter value; the general path does that)."""
    words = []
    for t, v in zip(types, values, strict=True):
        if t != "bytes32":
            return None
        if isinstance(v, str) and len(v) == 66 and v[:2] == "0x":
            try:
                word = bytes.fromhex(v[2:])
            except ValueError:
                return None
        elif isinstance(v, bytes):
            word = v
        else:
            return None
        if len(word) != 32:
            return None
        words.append(word)
    return b"".join(words)


def hash_pair(a: bytes, b: bytes) -> bytes:
    """`Hashes.commutativeKeccak256`: hash the sorted pair."""
    return keccak256(a + b) if a <= b else keccak256(b + a)


def process_proof(leaf: bytes | str, proof: Sequence[bytes | str]) -> bytes:
    """Fold the proof over the leaf hash; the result is the root it leads to."""
    if len(proof) > MAX_PROOF_LENGTH:
        raise ProofError(f"proof: {len(proof)} nodes, more than {MAX_PROOF_LENGTH}")
    node = _node(leaf, "leaf hash")
    for i, sibling in enumerate(proof):
        node = hash_pair(node, _node(sibling, f"proof[{i}]"))
    return node


def verify(proof: Sequence[bytes | str], root: bytes | str, leaf: bytes | str) -> None:
    """Check that `proof` leads from the leaf hash to `root`; ProofError otherwise."""
    want = _node(root, "root")
    got = process_proof(leaf, proof)
    if got != want:
        raise ProofError(
            f"proof leads to root 0x{got.hex()}, expected 0x{want.hex()}: the leaf is not in "
            "that batch, or the proof belongs to another batch"
        )


def record_leaf(case_id: bytes, record_hash: bytes, signatures_hash: bytes) -> tuple[str, ...]:
    """The leaf values (hex, as `StandardMerkleTree.of` takes them) of a signed record."""
    return tuple(
        "0x" + _node(v, n).hex()
        for v, n in (
            (case_id, "caseId"),
            (record_hash, "recordHash"),
            (signatures_hash, "signaturesHash"),
        )
    )


@dataclass(frozen=True)
class StandardMerkleTree:
    """A built tree: `tree` (all 2n-1 nodes), `values` with their tree indices."""

    leaf_encoding: tuple[str, ...]
    tree: tuple[bytes, ...]
    values: tuple[tuple[Any, ...], ...]
    tree_indices: tuple[int, ...]

    @classmethod
    def of(
        cls, values: Sequence[Sequence[Any]], leaf_encoding: Sequence[str] = LEAF_ENCODING
    ) -> StandardMerkleTree:
        if not values:
            raise FormatError("Merkle tree: expected at least one leaf")
        encoding = tuple(leaf_encoding)
        hashed = sorted(
            ((leaf_hash(encoding, v), i) for i, v in enumerate(values)), key=lambda hv: hv[0]
        )
        n = len(hashed)
        tree: list[bytes] = [b""] * (2 * n - 1)
        tree_indices = [0] * n
        for pos, (h, value_index) in enumerate(hashed):
            tree[len(tree) - 1 - pos] = h
            tree_indices[value_index] = len(tree) - 1 - pos
        for i in range(len(tree) - 1 - n, -1, -1):
            tree[i] = hash_pair(tree[2 * i + 1], tree[2 * i + 2])
        return cls(encoding, tuple(tree), tuple(tuple(v) for v in values), tuple(tree_indices))

    @property
    def root(self) -> bytes:
        return self.tree[0]

    def __len__(self) -> int:
        return len(self.values)

    def leaf_hash_at(self, index: int) -> bytes:
        return self.tree[self.tree_indices[index]]

    def proof(self, index: int) -> list[bytes]:
        """Siblings from the leaf of `values[index]` up to (not including) the root."""
        if not 0 <= index < len(self.values):
            raise ProofError(f"leaf index {index} out of range 0..{len(self.values) - 1}")
        i = self.tree_indices[index]
        out = []
        while i > 0:
            out.append(self.tree[i + 1 if i % 2 else i - 1])
            i = (i - 1) // 2
        return out

    def index_of(self, value: Sequence[Any]) -> int:
        h = leaf_hash(self.leaf_encoding, value)
        for vi, ti in enumerate(self.tree_indices):
            if self.tree[ti] == h:
                return vi
        raise ProofError("leaf is not in this tree")

    # -- dump/load in @openzeppelin/merkle-tree's JSON format --

    def dump(self) -> JsonObject:
        return {
            "format": DUMP_FORMAT,
            "leafEncoding": list(self.leaf_encoding),
            "tree": ["0x" + n.hex() for n in self.tree],
            "values": [
                {"value": list(v), "treeIndex": t}
                for v, t in zip(self.values, self.tree_indices, strict=True)
            ],
        }

    def dumps(self) -> bytes:
        return json.dumps(self.dump(), sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def load(cls, data: JsonObject | bytes | str) -> StandardMerkleTree:
        """Load a dump (ours or the npm library's) and check every node and leaf."""
        if isinstance(data, dict):
            obj: JSON | dict[str, Any] = data
        else:
            try:
                obj = safejson.loads(data, what="Merkle dump", max_bytes=MAX_DUMP_JSON)
            except (safejson.JsonTooDeep, safejson.JsonTooLarge):
                raise
            except FormatError:
                raise FormatError("Merkle dump: not JSON") from None
        if not isinstance(obj, dict) or obj.get("format") != DUMP_FORMAT:
            raise FormatError(f"Merkle dump: expected format {DUMP_FORMAT!r}")
        dump: dict[str, Any] = obj  # its fields' shapes are checked by the reads below
        try:
            encoding = tuple(dump["leafEncoding"])
            tree = tuple(_node(n, "tree node") for n in dump["tree"])
            values = tuple(tuple(v["value"]) for v in dump["values"])
            indices = tuple(int(v["treeIndex"]) for v in dump["values"])
        except (KeyError, TypeError, ValueError):
            raise FormatError("Merkle dump: missing or malformed fields") from None
        n = len(tree)
        if n == 0 or n % 2 == 0:
            raise ProofError(f"Merkle dump: {n} nodes is not a complete tree of 2k-1 nodes")
        for i in range(n):
            left, right = 2 * i + 1, 2 * i + 2
            if right < n and tree[i] != hash_pair(tree[left], tree[right]):
                raise ProofError(f"Merkle dump: node {i} is not the hash of its children")
        if len(values) != (n + 1) // 2 or len(set(indices)) != len(indices):
            raise ProofError("Merkle dump: values do not match the leaves one to one")
        for v, t in zip(values, indices, strict=True):
            if not (n // 2 <= t < n) or tree[t] != leaf_hash(encoding, v):
                raise ProofError(f"Merkle dump: value at tree index {t} does not match")
        return cls(encoding, tree, values, indices)
