"""``chainarb demo --scenario fast-track`` end to end, in a fresh process on a temporary data
dir: the small claim's pre-evaluation is proposed, binds when the window passes and the
escrow pays it out; the last stdout line's JSON is checked against the chain read back here.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from backend.chain import Transactor, decode_logs
from backend.chain.contracts import EscrowContract
from backend.gateway import load_deployment, open_chain
from backend.settings import Settings
from evidence.events import uint_of

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

CHAINARB = str(Path(sys.executable).with_name("chainarb"))
UNIT = 10**6


def _run(data_dir: Path) -> tuple[dict[str, Any], str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINARB_")}
    env |= {"CHAINARB_DATA_DIR": str(data_dir), "COLUMNS": "160"}
    done = subprocess.run([CHAINARB, "demo", "--scenario", "fast-track"], env=env,
                          capture_output=True, text=True, timeout=400, check=False)
    assert done.returncode == 0, f"demo failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return json.loads(done.stdout.rstrip("\n").splitlines()[-1]), done.stdout


def test_the_fast_track_runs_to_its_execution_on_chain(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    result, out = _run(data_dir)
    assert result["scenario"] == "fast-track" and result["final_stage"] == "enforced"
    for stage in ("filed", "facilitation", "fast_track_proposed", "fast_track_final",
                  "enforced"):
        assert stage in result["stages"], (stage, result["stages"])
    assert "arbitrator_appointment" not in result["stages"]  # nobody objected
    # the pre-evaluation (PE-NAD-4, PE-REM-2): the claimed partial refund of 240 of 480
    assert result["proposal"] == {"to_buyer": "240.000000", "to_seller": "240.000000",
                                  "compensation": "0.000000",
                                  "report_hash": result["proposal"]["report_hash"]}
    assert (result["buyer_refund"], result["seller_payout"]) == ("240.000000", "240.000000")
    assert result["anchored_items"] == result["leaves"] >= result["steps"] >= 9
    assert "PE-NAD-4" in out and "快速程序" in out
    # the chain says the same: the escrow executed the pending fast-track decision
    settings = Settings(data_dir=data_dir)
    with open_chain(settings) as handle:
        dep = load_deployment(settings)
        assert dep is not None and dep.escrow
        escrow = EscrowContract(Transactor(handle.w3), dep.escrow)
        receipt = handle.w3.eth.get_transaction_receipt(result["execute_tx"])
        resolved = [e.args for e in decode_logs(receipt["logs"]) if e.name == "OrderResolved"]
        case_id = escrow.order(result["order"]).case_id.hex()
    assert len(resolved) == 1 and uint_of(resolved[0], "orderId") == result["order"]
    assert (uint_of(resolved[0], "toBuyer"), uint_of(resolved[0], "toSeller")) == (
        240 * UNIT, 240 * UNIT)
    assert case_id == result["case"][2:]
    assert Decimal(result["buyer_refund"]) * UNIT == uint_of(resolved[0], "toBuyer")
