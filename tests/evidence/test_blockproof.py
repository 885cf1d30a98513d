"""Block headers and receipts-trie proofs (evidence.blockproof) against a real anvil node,
eth-tester's py-evm and npm @ethereumjs/trie; forged headers, receipts and proofs fail."""

from __future__ import annotations

import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import rlp
from eth_utils import keccak
from trie import HexaryTrie
from web3 import Web3

from backend.chain.devchain import AnvilNode, in_process_web3
from evidence.blockproof import (
    MAX_HEADER,
    BlockHeader,
    ChainHeader,
    ProvenReceipt,
    Receipt,
    logs_bloom,
    prove_receipt,
    prove_receipts,
    receipts_root,
    verify_receipt,
)
from evidence.chainproofs import collect_proofs, header_of
from evidence.errors import FormatError, ProofError

ROOT = Path(__file__).resolve().parents[2]

# A contract whose every call emits LOG2(calldata, topic1 = calldata[0:32],
# topic2 = calldata[32:64]): init code copying the 17-byte runtime and returning it.
_RUNTIME = "366000600037602035600035366000a200"
_INIT = "0x6011600c60003960116000f3" + _RUNTIME


def _node_trie(payload: dict[str, Any]) -> dict[str, Any]:
    proc = subprocess.run(["node", "tests/js/receipts_trie.mjs"], input=json.dumps(payload),
                          capture_output=True, text=True, cwd=ROOT, timeout=120)
    assert proc.returncode == 0, proc.stderr
    return json.loads(proc.stdout)


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


@pytest.fixture(scope="module")
def busy_block() -> Iterator[tuple[Web3, list[bytes]]]:
    """One block of 140 transactions (more than 128, so trie keys of one and two bytes) on
    an anvil node of this module: legacy, EIP-2930 and EIP-1559 transfers, and calls
    emitting logs."""
    with AnvilNode() as node:
        yield _busy(node.web3())


def _busy(w3: Web3) -> tuple[Web3, list[bytes]]:
    sender, other = w3.eth.accounts[0], w3.eth.accounts[1]  # type: ignore[misc]
    deployed = w3.eth.wait_for_transaction_receipt(
        w3.eth.send_transaction({"from": sender, "data": _INIT}))  # type: ignore[typeddict-item]
    logger = deployed["contractAddress"]
    w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        nonce = w3.eth.get_transaction_count(sender)
        txs = []
        for i in range(140):
            tx: dict[str, Any] = {"from": sender, "nonce": nonce + i, "gas": 100_000}
            kind = i % 4
            if kind == 0:
                tx |= {"to": other, "value": i, "gasPrice": 3 * 10**9}
            elif kind == 1:
                tx |= {"to": other, "value": i, "gasPrice": 3 * 10**9, "accessList": [
                    {"address": logger, "storageKeys": [_hex(bytes(32))]}], "type": 1}
            else:
                data = i.to_bytes(32, "big") + b"\xab" * 32 + b"payload" * (i % 5)
                tx |= {"to": logger, "data": _hex(data), "maxFeePerGas": 3 * 10**9,
                       "maxPriorityFeePerGas": 10**9}
            txs.append(bytes(w3.eth.send_transaction(tx)))  # type: ignore[arg-type]
        w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    finally:
        w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    return w3, txs


@pytest.fixture(scope="module")
def collected(busy_block: tuple[Web3, list[bytes]]
              ) -> tuple[list[ChainHeader], list[ProvenReceipt]]:
    return collect_proofs(*busy_block)


def test_anvil_block_headers_and_receipts_trie(
        busy_block: tuple[Web3, list[bytes]],
        collected: tuple[list[ChainHeader], list[ProvenReceipt]]) -> None:
    w3, _ = busy_block
    headers, proven = collected
    assert len(headers) == 1 and len(proven) == 140
    block = w3.eth.get_block(headers[0].header.number)
    assert headers[0].header.hash == bytes(block["hash"])
    assert headers[0].header.receipts_root == bytes(block["receiptsRoot"])
    assert headers[0].header.timestamp == block["timestamp"]
    assert headers[0].header.parent_hash == bytes(block["parentHash"])
    assert {r["type"] for r in w3.eth.get_block_receipts(headers[0].header.number)} == {0, 1, 2}
    for p in proven:
        node = w3.eth.get_transaction_receipt(p.tx_hash)  # type: ignore[arg-type]
        got = verify_receipt(headers[0].header.receipts_root, p.index, p.proof)
        assert got.encode() == p.receipt
        assert got.type == node["type"] and got.status == node["status"] == 1
        assert got.cumulative_gas_used == node["cumulativeGasUsed"]
        assert got.bloom == bytes(node["logsBloom"])
        assert [(log.address, log.topics, log.data) for log in got.logs] == [
            (bytes.fromhex(n["address"][2:]), tuple(bytes(t) for t in n["topics"]),
             bytes(n["data"])) for n in node["logs"]]
    assert sum(len(verify_receipt(headers[0].header.receipts_root, p.index, p.proof).logs)
               for p in proven) == 70


def test_ethereumjs_trie_agrees(collected: tuple[list[ChainHeader], list[ProvenReceipt]]
                                ) -> None:
    headers, proven = collected
    values = [p.receipt for p in sorted(proven, key=lambda p: p.index)]
    root = headers[0].header.receipts_root
    theirs = _node_trie({
        "tries": [{"values": [_hex(v) for v in values]}],
        "verify": [{"root": _hex(root), "index": p.index, "proof": [_hex(n) for n in p.proof]}
                   for p in proven],
    })
    assert theirs["tries"][0]["root"] == _hex(root) == _hex(receipts_root(values))
    ours_all = prove_receipts(values)
    for i, nodes in enumerate(theirs["tries"][0]["proofs"]):
        assert nodes == [_hex(n) for n in ours_all[i]]
        ours = verify_receipt(root, i, [bytes.fromhex(n[2:]) for n in nodes])
        assert ours.encode() == values[i]
    assert [v["value"] for v in theirs["verify"]] == [_hex(p.receipt) for p in proven]
    # A proof of a receipt altered in its leaf: both libraries refuse it.
    bad = list(proven[3].proof)
    bad[-1] = bad[-1].replace(b"payload", b"PAYLOAD") if b"payload" in bad[-1] else \
        bad[-1][:-1] + bytes([bad[-1][-1] ^ 1])
    js = _node_trie({"verify": [{"root": _hex(root), "index": proven[3].index,
                                 "proof": [_hex(n) for n in bad]}]})
    assert js["verify"][0]["ok"] is False
    with pytest.raises(ProofError, match="does not lead from receiptsRoot"):
        verify_receipt(root, proven[3].index, bad)


def test_in_process_evm_header_with_padded_extra_data() -> None:
    """eth-tester answers extraData as 32 zero bytes where the header holds none; the
    header is rebuilt only in the form that hashes to the block."""
    w3 = in_process_web3()
    tx = w3.eth.send_transaction({"from": w3.eth.accounts[0], "to": w3.eth.accounts[1],  # type: ignore[misc]
                                  "value": 5})  # type: ignore[typeddict-item]
    headers, proven = collect_proofs(w3, [bytes(tx)])
    block = w3.eth.get_block(headers[0].header.number)
    assert bytes(block["extraData"]) == bytes(32)
    assert headers[0].header.hash == bytes(block["hash"])
    assert verify_receipt(headers[0].header.receipts_root, 0, proven[0].proof).status == 1
    forged = {**block, "timestamp": block["timestamp"] + 1}
    with pytest.raises(ProofError, match="do not hash to its hash"):
        header_of(forged)


def test_forged_header_and_proofs(busy_block: tuple[Web3, list[bytes]]) -> None:
    w3, txs = busy_block
    (chained,), proven = collect_proofs(w3, txs[:3])
    header = chained.header
    fields = list(rlp.decode(header.rlp))
    fields[11] = (header.timestamp - 86_400).to_bytes(4, "big")  # a day earlier
    moved = BlockHeader.from_rlp(rlp.encode(fields))
    assert moved.timestamp == header.timestamp - 86_400 and moved.hash != header.hash
    # Another block's root does not hold this block's receipts.
    other = w3.eth.get_block(header.number - 1)
    with pytest.raises(ProofError):
        verify_receipt(bytes(other["receiptsRoot"]), proven[1].index, proven[1].proof)
    # A proof for index 1 read at index 2 is not a proof of receipt 2.
    with pytest.raises(ProofError):
        verify_receipt(header.receipts_root, proven[1].index + 1, proven[1].proof[:1])
    # A receipt whose log was altered is not the value the trie holds.
    real = Receipt.decode(proven[2].receipt)
    assert real.logs
    altered = Receipt(real.type, real.status, real.cumulative_gas_used, real.bloom,
                      (type(real.logs[0])(real.logs[0].address, real.logs[0].topics,
                                          real.logs[0].data + b"!"),))
    assert verify_receipt(header.receipts_root, proven[2].index, proven[2].proof) == real
    assert altered.encode() != proven[2].receipt


@pytest.mark.parametrize(("raw", "message"), [
    (b"\x01\x02", "not RLP|expected a list"),
    (rlp.encode([b"\x00" * 32] * 14), "15 to 21 fields"),
    (rlp.encode([b"\x00" * 32] * 22), "15 to 21 fields"),
    (rlp.encode([b"\x00" * 31] + [b""] * 14), "parentHash: 31 bytes"),
    (b"\xf9" + b"\x00" * MAX_HEADER, "more than"),
])
def test_malformed_headers_refused(raw: bytes, message: str) -> None:
    with pytest.raises(FormatError, match=message):
        BlockHeader.from_rlp(raw)


def test_receipt_codec_and_bounds() -> None:
    with pytest.raises(FormatError):
        Receipt.decode(b"\x02" + rlp.encode([b"\x05", 1, bytes(256), []]))  # bad status
    with pytest.raises(FormatError):
        Receipt.decode(b"\x80\xc0")  # not an EIP-2718 type
    with pytest.raises(ProofError, match="more than"):
        verify_receipt(bytes(32), 0, [b"\xc0"] * 65)
    for junk in ([b"\xc0"], [b"\x80"], [rlp.encode([b"\x01"] * 3)], [b"\xff\xff"]):
        with pytest.raises(ProofError, match=r"does not lead from|holds no receipt"):
            verify_receipt(keccak(junk[0]), 0, junk)
    legacy = Receipt(0, 1, 21_000, logs_bloom(()), ())
    assert Receipt.decode(legacy.encode()) == legacy and legacy.encode()[0] >= 0xC0
    assert receipts_root([]) == bytes.fromhex(
        "56e81f171bcc55a6ff8345e692c0f86e5b48e01b996cadc001622fb5e363b421")


def test_random_tries_agree_with_ethereumjs() -> None:
    """Tries of 1 to 300 values of 1 to 200 bytes (short values sit inline in their parent
    node, long ones are hashed): same roots and proofs as @ethereumjs/trie, and each
    library accepts the other's proofs."""
    import random

    rnd = random.Random(11)
    tries = [[rnd.randbytes(rnd.choice((1, 2, 5, 20, 31, 32, 33, 70, 200)))
              for _ in range(n)] for n in (1, 2, 17, 129, 300)]
    theirs = _node_trie({"tries": [{"values": [_hex(v) for v in t]} for t in tries]})["tries"]
    for values, js in zip(tries, theirs, strict=True):
        root = receipts_root(values)
        assert js["root"] == _hex(root)
        ours = prove_receipts(values)
        assert prove_receipt(values, len(values) - 1) == ours[-1]
        for i in rnd.sample(range(len(values)), min(len(values), 12)):
            assert js["proofs"][i] == [_hex(n) for n in ours[i]]
            nodes = [bytes.fromhex(n[2:]) for n in js["proofs"][i]]
            assert HexaryTrie.get_from_proof(root, rlp.encode(i), [rlp.decode(n) for n in nodes]) \
                == values[i]
