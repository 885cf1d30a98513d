"""EvidenceAnchor and the read-only lookup in `evidence.chain` (usable without the backend)."""

from __future__ import annotations

import subprocess
import sys

import pytest

from backend.chain import decode_logs, errors
from backend.chain.devchain import is_in_process
from evidence.chain import AnchorContractMissing, AnchorRecord, lookup_anchor
from evidence.errors import InvalidAddress, InvalidRecord
from tests.contracts.helpers import Env

ROOT = bytes.fromhex("5a" * 32)


def test_anchor_records_time_block_and_sender(env: Env) -> None:
    created = env.anchor.contract.functions.anchor(ROOT, 10).call({"from": env.other.address})
    assert created is True
    result = env.anchor.anchor(env.other, ROOT, 10)
    assert list(result.events) == [
        env.ev("RootAnchored", env.anchor.address, root=ROOT, anchorer=env.other.address, count=10)
    ]
    block = env.w3.eth.get_block(result.block_number)
    record = env.anchor.record(ROOT)
    assert record == AnchorRecord(
        root=ROOT,
        timestamp=int(block["timestamp"]),
        block_number=result.block_number,
        anchorer=env.other.address,
        count=10,
        tx_hash=result.tx_hash,
    )
    assert result.gas_used <= 47_000, result.gas_used


def test_anchoring_again_keeps_the_first_record_and_is_cheap(env: Env) -> None:
    first = env.anchor.anchor(env.other, ROOT, 10)
    created = env.anchor.contract.functions.anchor(ROOT, 99).call({"from": env.buyer.address})
    assert created is False
    again = env.anchor.anchor(env.buyer, ROOT, 99)
    assert again.events == ()
    assert again.gas_used <= 30_000, again.gas_used
    record = env.anchor.record(ROOT)
    assert record is not None
    assert (record.anchorer, record.block_number, record.count) == (
        env.other.address,
        first.block_number,
        10,
    )


def test_zero_root_is_refused(env: Env) -> None:
    with pytest.raises(errors.EvidenceAnchorZeroRoot):
        env.anchor.anchor(env.other, bytes(32), 1)


def test_two_workers_racing_in_one_block_both_succeed_with_one_record(env: Env) -> None:
    w3 = env.w3
    if is_in_process(w3):
        tester = w3.provider.ethereum_tester  # type: ignore[attr-defined]
        tester.disable_auto_mine_transactions()
    else:
        w3.provider.make_request("evm_setAutomine", [False])  # type: ignore[arg-type]
    try:
        hashes = []
        for worker in (env.other, env.buyer):
            data = env.anchor.contract.encode_abi("anchor", args=[ROOT, 3])
            tx = {
                "to": env.anchor.address,
                "data": data,
                "value": 0,
                "gas": 100_000,
                "maxFeePerGas": w3.eth.gas_price * 2,
                "maxPriorityFeePerGas": 1,
                "nonce": w3.eth.get_transaction_count(worker.address, "pending"),
                "chainId": w3.eth.chain_id,
            }
            hashes.append(w3.eth.send_raw_transaction(worker.sign_transaction(tx).raw_transaction))
        if is_in_process(w3):
            tester.mine_blocks()
        else:
            w3.provider.make_request("evm_mine", [])  # type: ignore[arg-type]
    finally:
        if is_in_process(w3):
            tester.enable_auto_mine_transactions()
        else:
            w3.provider.make_request("evm_setAutomine", [True])  # type: ignore[arg-type]
    receipts = [w3.eth.get_transaction_receipt(h) for h in hashes]
    assert [r["status"] for r in receipts] == [1, 1]
    assert receipts[0]["blockNumber"] == receipts[1]["blockNumber"]
    events = [(r, e) for r in receipts for e in decode_logs(r["logs"])]
    assert [e.name for _, e in events] == ["RootAnchored"]
    winner, event = events[0]
    record = env.anchor.record(ROOT)
    assert record is not None
    assert (record.anchorer, record.tx_hash) == (
        event.args["anchorer"],
        bytes(winner["transactionHash"]),
    )


def test_lookup_unknown_root_is_none_and_works_from_a_provider(env: Env) -> None:
    assert lookup_anchor(env.w3, env.anchor.address, ROOT) is None
    env.anchor.anchor(env.other, ROOT, 4)
    via_provider = lookup_anchor(env.w3.provider, env.anchor.address, ROOT)
    assert via_provider is not None and via_provider.count == 4
    bare = lookup_anchor(env.w3, env.anchor.address.lower(), ROOT, with_event=False)
    assert bare is not None and (bare.count, bare.tx_hash) == (None, None)
    assert bare.timestamp == via_provider.timestamp


def test_lookup_refuses_bad_inputs(env: Env) -> None:
    with pytest.raises(InvalidRecord):
        lookup_anchor(env.w3, env.anchor.address, b"\x01" * 31)
    with pytest.raises(InvalidAddress):
        lookup_anchor(env.w3, "0x1234", ROOT)
    with pytest.raises(AnchorContractMissing) as info:
        lookup_anchor(env.w3, env.other.address, ROOT)
    assert env.other.address in str(info.value)


def test_evidence_chain_does_not_import_the_backend() -> None:
    code = (
        "import sys, evidence.chain\n"
        "from evidence.chain import anchor_abi\n"
        "assert any(i.get('name') == 'recordOf' for i in anchor_abi())\n"
        "bad = [m for m in sys.modules if m == 'backend' or m.startswith('backend.')]\n"
        "assert not bad, bad\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True)


def test_evidence_abi_is_the_compiled_abi() -> None:
    from backend.chain import load_artifact
    from evidence.chain import anchor_abi

    assert anchor_abi() == list(load_artifact("EvidenceAnchor").abi)
