"""`chainarb demo --scenario jury` end to end in a fresh process (issue 14; docs/jury.md §7).

A small claim goes from filing through a 7-person jury's verdict to the payment on chain;
the last stdout line's JSON is checked against the embedded chain read back here: the
draw block's header recomputes the jury from the revealed seed and the service's snapshot,
the seed's anchor precedes that block; the escrow's JuryAppointed, DecisionSubmitted and
OrderResolved events, the majority, and the parties' balances.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path

import pytest
from web3 import Web3

from backend.chain import Transactor, decode_logs
from backend.chain.contracts import EscrowContract, Resolution
from backend.gateway import load_deployment, open_chain
from backend.settings import Settings
from evidence import jury as public_jury

pytestmark = [pytest.mark.slow]

CHAINARB = str(Path(sys.executable).with_name("chainarb"))
UNIT = 10**6


def test_the_jury_scenario_pays_the_verdict_on_chain(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINARB_")}
    env |= {"CHAINARB_DATA_DIR": str(data_dir), "COLUMNS": "160"}
    done = subprocess.run([CHAINARB, "demo", "--scenario", "jury"], env=env,
                          capture_output=True, text=True, timeout=400, check=False)
    assert done.returncode == 0, f"demo failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    result = json.loads(done.stdout.rstrip("\n").splitlines()[-1])
    assert result["scenario"] == "jury"
    assert len(result["jurors"]) == 7 == len(set(result["jurors"]))
    assert result["counts"] == [1, 5, 1]
    draw = result["draw"]  # from the service's snapshot of the nine admitted assessors
    assert len(draw["pool"]) == 9 and set(result["jurors"]) <= set(draw["pool"])
    assert "0x" + public_jury.pool_snapshot_hash(draw["pool"]).hex() == draw["pool_hash"]
    assert draw["seed_anchor_block"] < draw["draw_block"]
    assert result["stages"][-4:] == ["jury_tally", "jury_decided", "jury_final", "enforced"]
    assert result["resolution"] == "JURY_VERDICT_EXECUTED"
    assert result["buyer_refund"] == result["verdict"]["to_buyer"]
    assert result["seller_payout"] == result["verdict"]["to_seller"]

    settings = Settings(data_dir=data_dir)
    with open_chain(settings) as handle:
        dep = load_deployment(settings)
        assert dep is not None and dep.escrow == result["escrow"]
        address = Web3.to_checksum_address(result["escrow"])
        escrow = EscrowContract(Transactor(handle.w3), address)
        order = escrow.order(result["order"])
        assert order.resolution == Resolution.JURY_VERDICT_EXECUTED
        receipt = handle.w3.eth.get_transaction_receipt(result["enforcement_tx"])
        paid = [e.args for e in decode_logs(receipt["logs"]) if e.name == "OrderResolved"]
        assert paid[0]["toBuyer"] == int(Decimal(result["verdict"]["to_buyer"]) * UNIT)
        case = bytes.fromhex(result["case"][2:])
        # the draw block's header on the chain gives the same jury from the revealed seed
        block = handle.w3.eth.get_block(draw["draw_block"])
        block_hash, randao = "0x" + bytes(block["hash"]).hex(), "0x" + bytes(
            block["mixHash"]).hex()
        assert (block_hash, randao) == (draw["block_hash"], draw["prevrandao"])
        randomness = public_jury.draw_randomness(result["case"], 0, draw["seed"], block_hash,
                                                 randao, draw["pool_hash"])
        assert list(public_jury.draw(draw["pool"], 7, randomness)) == result["jurors"]
        names = {e.name for e in decode_logs(handle.w3.eth.get_logs(
            {"address": address, "fromBlock": 0, "topics": [None, None, "0x" + case.hex()]}))}
        assert {"JuryAppointed", "DecisionSubmitted"} <= names
