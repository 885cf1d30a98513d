"""Ethereum block headers, receipts and receipts-trie proofs, checked offline.

Theory of operation (docs/judicial-package.md, "Block proofs"):

* A block's hash is keccak-256 of its RLP header. The header commits to `receiptsRoot`,
  the root of a Merkle-Patricia trie whose key for the i-th receipt of the block is
  `rlp(i)` and whose value is the receipt's consensus encoding (EIP-2718: a typed
  receipt is its type byte followed by `rlp([status, cumulativeGasUsed, logsBloom,
  logs])`; a legacy receipt is the RLP list alone). So one block hash, confirmed once
  from a source the court chooses, proves every log of every receipt shown to be in that
  block: hash the header, walk the proof from `receiptsRoot`, decode the receipt.
* Pure: bytes in, values out. Building headers and receipts from JSON-RPC answers
  (`header_from_rpc`, `receipt_from_rpc`) takes dicts; no node is called here
  (`evidence.chainproofs` reads the node).
* The ecosystem's implementations do the hard parts: `rlp` for the encoding, `trie`'s
  `HexaryTrie` for building tries and walking proofs; tests hold both to anvil's
  `receiptsRoot` and to npm `@ethereumjs/trie`.
* Bounded: a header is at most `MAX_HEADER` bytes and 15 to 21 fields (London to Prague),
  a proof at most `MAX_PROOF_NODES` nodes of at most `MAX_NODE` bytes, a receipt at most
  `MAX_RECEIPT` bytes; anything else is refused before it is decoded.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict

import rlp
from trie import HexaryTrie
from trie.exceptions import BadTrieProof
from trie.exceptions import ValidationError as TrieNodeInvalid

from evidence._keccak import keccak256
from evidence.errors import FormatError, ProofError

__all__ = [
    "HEADER_FIELDS",
    "BlockHeader",
    "ChainHeader",
    "Log",
    "ProvenReceipt",
    "Receipt",
    "RpcLog",
    "logs_bloom",
    "prove_receipt",
    "prove_receipts",
    "receipts_root",
    "verify_receipt",
]

MAX_HEADER = 4096
MAX_RECEIPT = 1 << 20
MAX_NODE = 1 << 20
MAX_PROOF_NODES = 64

HEADER_FIELDS: tuple[tuple[str, str], ...] = (
    # (JSON-RPC name, kind): the order of the RLP list. "h" bytes as given, "i" integer.
    ("parentHash", "h"),
    ("sha3Uncles", "h"),
    ("miner", "h"),
    ("stateRoot", "h"),
    ("transactionsRoot", "h"),
    ("receiptsRoot", "h"),
    ("logsBloom", "h"),
    ("difficulty", "i"),
    ("number", "i"),
    ("gasLimit", "i"),
    ("gasUsed", "i"),
    ("timestamp", "i"),
    ("extraData", "h"),
    ("mixHash", "h"),
    ("nonce", "h"),
    ("baseFeePerGas", "i"),  # London
    ("withdrawalsRoot", "h"),  # Shanghai
    ("blobGasUsed", "i"),  # Cancun
    ("excessBlobGas", "i"),
    ("parentBeaconBlockRoot", "h"),
    ("requestsHash", "h"),  # Prague
)
"""Header fields in RLP order. A header carries the first 15 plus those its fork adds."""

_SIZES = {"parentHash": 32, "sha3Uncles": 32, "miner": 20, "stateRoot": 32,
          "transactionsRoot": 32, "receiptsRoot": 32, "logsBloom": 256, "mixHash": 32,
          "nonce": 8, "withdrawalsRoot": 32, "parentBeaconBlockRoot": 32, "requestsHash": 32}
_MIN_FIELDS = 15


def _bytes(value: object, size: int | None = None) -> bytes:
    """A JSON-RPC hex string (or bytes) as bytes, left-padded to `size` when given
    (eth-tester shortens an all-zero bloom to `0x00`)."""
    if isinstance(value, bytes | bytearray):
        raw = bytes(value)
    elif isinstance(value, str):
        text = value.removeprefix("0x")
        raw = bytes.fromhex(text if len(text) % 2 == 0 else "0" + text)
    else:
        raise FormatError(f"expected hex bytes, found {type(value).__name__}")
    if size is not None:
        if len(raw) > size:
            raise FormatError(f"expected {size} bytes, found {len(raw)}")
        raw = raw.rjust(size, b"\0")
    return raw


def _int(value: object) -> int:
    if isinstance(value, bool):
        raise FormatError("expected an integer, found a boolean")
    if isinstance(value, int):
        return value
    if isinstance(value, str):
        return int(value, 16) if value.startswith("0x") else int(value)
    raise FormatError(f"expected an integer, found {type(value).__name__}")


def _listed(value: object, what: str) -> Sequence[object]:
    """A JSON-RPC list (a list, or the tuple web3 may make of it)."""
    if isinstance(value, Sequence) and not isinstance(value, str | bytes | bytearray):
        return value
    raise FormatError(f"{what}: expected a list, found {type(value).__name__}")


def _entry(value: object) -> Mapping[str, object]:
    """A receipt's log entry: an object (a dict, or web3's AttributeDict)."""
    if isinstance(value, Mapping):
        return value
    raise FormatError(f"receipt log: expected an object, found {type(value).__name__}")


def _uint(raw: bytes, name: str) -> int:
    if raw[:1] == b"\0":
        raise FormatError(f"header field {name}: integer with a leading zero byte")
    return int.from_bytes(raw, "big")


@dataclass(frozen=True)
class BlockHeader:
    """A block header as its RLP bytes; every value is read from them."""

    rlp: bytes
    fields: tuple[bytes, ...]

    @classmethod
    def from_rlp(cls, raw: bytes) -> BlockHeader:
        """Decode and check the shape (15 to 21 byte-string fields, fixed sizes)."""
        if len(raw) > MAX_HEADER:
            raise FormatError(f"block header of {len(raw)} bytes, more than {MAX_HEADER}")
        try:
            items = rlp.decode(raw, strict=True)
        except rlp.exceptions.DecodingError as exc:
            raise FormatError(f"block header is not RLP ({exc})") from exc
        if not isinstance(items, list) or not _MIN_FIELDS <= len(items) <= len(HEADER_FIELDS):
            raise FormatError(
                f"block header: expected a list of {_MIN_FIELDS} to {len(HEADER_FIELDS)} fields")
        for (name, kind), item in zip(HEADER_FIELDS, items, strict=False):
            if not isinstance(item, bytes):
                raise FormatError(f"block header field {name} is a list")
            size = _SIZES.get(name)
            if size is not None and len(item) != size:
                raise FormatError(f"block header field {name}: {len(item)} bytes, not {size}")
            if kind == "i":
                _uint(item, name)
        return cls(bytes(raw), tuple(items))

    @classmethod
    def from_rpc(cls, block: Mapping[str, object]) -> BlockHeader:
        """The header of an `eth_getBlockBy*` answer: the fields it has, in RLP order.

        The caller compares `hash` with the node's `hash`: a node whose fields do not
        hash to its block (an unknown fork's extra field) is refused there."""
        items: list[bytes | int] = []
        for name, kind in HEADER_FIELDS:
            if name not in block or block[name] is None:
                if len(items) < _MIN_FIELDS:
                    raise FormatError(f"block without {name}")
                break
            if kind == "i":
                items.append(_int(block[name]))
            else:
                items.append(_bytes(block[name], _SIZES.get(name)))
        return cls.from_rlp(rlp.encode(items))

    @property
    def hash(self) -> bytes:
        return keccak256(self.rlp)

    def _field(self, name: str) -> bytes:
        index = next(i for i, (n, _) in enumerate(HEADER_FIELDS) if n == name)
        return self.fields[index]

    @property
    def parent_hash(self) -> bytes:
        return self._field("parentHash")

    @property
    def receipts_root(self) -> bytes:
        return self._field("receiptsRoot")

    @property
    def number(self) -> int:
        return _uint(self._field("number"), "number")

    @property
    def timestamp(self) -> int:
        return _uint(self._field("timestamp"), "timestamp")


class RpcLog(TypedDict):
    """A receipt's log entry as a node answers it and `evidence.events.decode_log` reads
    it (topics and data as bytes)."""

    address: str
    topics: list[bytes]
    data: bytes


@dataclass(frozen=True)
class Log:
    """One log of a receipt: the emitting contract, its topics and data."""

    address: bytes
    topics: tuple[bytes, ...]
    data: bytes

    def as_rpc(self) -> RpcLog:
        """The shape `evidence.events.decode_log` reads (a receipt's log entry)."""
        return {"address": "0x" + self.address.hex(), "topics": list(self.topics),
                "data": self.data}


def logs_bloom(logs: Sequence[Log]) -> bytes:
    """The 2048-bit bloom of `logs` (yellow paper, M3:2048): address and each topic."""
    bloom = 0
    for log in logs:
        for item in (log.address, *log.topics):
            h = keccak256(item)
            for i in (0, 2, 4):
                bloom |= 1 << (int.from_bytes(h[i:i + 2], "big") & 2047)
    return bloom.to_bytes(256, "big")


@dataclass(frozen=True)
class Receipt:
    """A transaction receipt in its consensus form (what the receipts trie holds)."""

    type: int
    status: int
    cumulative_gas_used: int
    bloom: bytes
    logs: tuple[Log, ...]

    def encode(self) -> bytes:
        body = rlp.encode([
            b"\x01" if self.status == 1 else b"",
            self.cumulative_gas_used,
            self.bloom,
            [[log.address, list(log.topics), log.data] for log in self.logs],
        ])
        return bytes(body) if self.type == 0 else bytes([self.type]) + body

    @classmethod
    def decode(cls, raw: bytes) -> Receipt:
        """A receipt from its consensus encoding; refuses anything else."""
        if not raw or len(raw) > MAX_RECEIPT:
            raise FormatError(f"receipt of {len(raw)} bytes (1 to {MAX_RECEIPT})")
        kind, body = (0, raw) if raw[0] >= 0xC0 else (raw[0], raw[1:])
        if kind > 0x7F:
            raise FormatError(f"receipt type 0x{kind:02x} is not an EIP-2718 type")
        try:
            items = rlp.decode(body, strict=True)
            status, gas, bloom, logs = items
            parsed = tuple(
                Log(bytes(a), tuple(bytes(t) for t in topics), bytes(d))
                for a, topics, d in logs
            )
        except (rlp.exceptions.DecodingError, ValueError, TypeError) as exc:
            raise FormatError(f"receipt is not [status, gas, bloom, logs] ({exc})") from exc
        if status not in (b"", b"\x01") or len(bloom) != 256 or not isinstance(gas, bytes):
            raise FormatError("receipt: status, bloom or gas malformed (pre-Byzantium roots "
                              "are not read)")
        if any(len(log.address) != 20 or len(log.topics) > 4
               or any(len(t) != 32 for t in log.topics) for log in parsed):
            raise FormatError("receipt: a log's address or topics are malformed")
        return cls(kind, 1 if status else 0, _uint(gas, "cumulativeGasUsed"), bytes(bloom),
                   parsed)

    @classmethod
    def from_rpc(cls, receipt: Mapping[str, object]) -> Receipt:
        """From an `eth_getTransactionReceipt`/`eth_getBlockReceipts` entry. The bloom is
        recomputed from the logs (eth-tester leaves it out); a node's own bloom, when it
        gives one, must agree."""
        logs = tuple(
            Log(_bytes(entry["address"], 20),
                tuple(_bytes(t, 32) for t in _listed(entry["topics"], "log topics")),
                _bytes(entry["data"]))
            for entry in map(_entry, _listed(receipt["logs"], "receipt logs"))
        )
        bloom = logs_bloom(logs)
        given = receipt.get("logsBloom")
        if given is not None and _bytes(given, 256) != bloom:
            raise FormatError("the node's logsBloom differs from the bloom of its logs")
        return cls(_int(receipt.get("type", 0) or 0), _int(receipt["status"]),
                   _int(receipt["cumulativeGasUsed"]), bloom, logs)


def _key(index: int) -> bytes:
    return bytes(rlp.encode(index))


def _trie(encoded: Sequence[bytes]) -> HexaryTrie:
    t = HexaryTrie({})
    for i, value in enumerate(encoded):
        t.set(_key(i), value)
    return t


def receipts_root(encoded: Sequence[bytes]) -> bytes:
    """The receipts trie root of a block's receipts (consensus encodings, in order)."""
    return bytes(_trie(encoded).root_hash)


def prove_receipt(encoded: Sequence[bytes], index: int) -> tuple[bytes, ...]:
    """The proof of receipt `index`: the RLP trie nodes from the root to its value (the
    form `eth_getProof` uses), each node RLP-encoded."""
    return prove_receipts(encoded)[index]


def prove_receipts(encoded: Sequence[bytes]) -> list[tuple[bytes, ...]]:
    """The proof of every receipt of a block (the trie built once), in index order."""
    t = _trie(encoded)
    return [tuple(rlp.encode(node) for node in t.get_proof(_key(i)))
            for i in range(len(encoded))]


def verify_receipt(root: bytes, index: int, proof: Sequence[bytes]) -> Receipt:
    """The receipt at `index` of the trie with root `root`, read through `proof`.

    Raises ProofError when the proof does not lead from `root` to a value at that key,
    FormatError when the value is not a receipt."""
    if len(proof) > MAX_PROOF_NODES or any(len(n) > MAX_NODE for n in proof):
        raise ProofError(f"receipt proof: more than {MAX_PROOF_NODES} nodes or an oversized one")
    try:
        nodes = tuple(rlp.decode(n, strict=True) for n in proof)
        value = HexaryTrie.get_from_proof(root, _key(index), nodes)
    except (BadTrieProof, TrieNodeInvalid, rlp.exceptions.DecodingError, ValueError,
            TypeError, KeyError, IndexError) as exc:
        raise ProofError(
            f"receipt {index}: the proof does not lead from receiptsRoot 0x{root.hex()} "
            f"({type(exc).__name__})") from exc
    if not value:
        raise ProofError(f"receipt {index}: receiptsRoot 0x{root.hex()} holds no receipt there")
    return Receipt.decode(bytes(value))


@dataclass(frozen=True, kw_only=True)
class ChainHeader:
    """A block header and the chain it belongs to (a header does not name its chain)."""

    chain_id: int
    header: BlockHeader


@dataclass(frozen=True, kw_only=True)
class ProvenReceipt:
    """A transaction's receipt with its inclusion proof in its block's receipts trie."""

    chain_id: int
    tx_hash: bytes
    block_hash: bytes
    index: int
    receipt: bytes
    proof: tuple[bytes, ...]
