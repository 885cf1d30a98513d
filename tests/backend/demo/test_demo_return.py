"""``chainarb demo --scenario return`` end to end in a fresh process on a temporary data dir:
the case runs through the service's steps to ``enforced`` and a verified package; the last
stdout line's JSON is checked against the embedded chain read back in this process (the order
resolved as ReturnReceived, the refund's OrderResolved, the buyer's balance, the return
stage's events in order)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from decimal import Decimal
from pathlib import Path
from typing import Any

import pytest

from backend.chain import Resolution, Status, TokenContract, Transactor, decode_logs
from backend.chain.contracts import EscrowContract
from backend.gateway import load_deployment, open_chain
from backend.settings import Settings

pytestmark = [pytest.mark.slow]

CHAINARB = str(Path(sys.executable).with_name("chainarb"))
UNIT = 10**6


@pytest.fixture(scope="module")
def run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any], str]:
    data_dir = tmp_path_factory.mktemp("demo-return") / "data"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINARB_")}
    env |= {"CHAINARB_DATA_DIR": str(data_dir), "COLUMNS": "160"}
    done = subprocess.run([CHAINARB, "demo", "--scenario", "return"], env=env,
                          capture_output=True, text=True, timeout=400, check=False)
    assert done.returncode == 0, f"demo failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    return data_dir, json.loads(done.stdout.rstrip("\n").splitlines()[-1]), done.stdout


def test_the_return_scenario_ends_with_the_refund_on_chain(
        run: tuple[Path, dict[str, Any], str]) -> None:
    data_dir, result, out = run
    assert result["scenario"] == "return"
    assert result["resolution"] == Resolution.RETURN_RECEIVED.name
    assert result["case_stage"] == "enforced" and result["package_verified"] is True
    stages = result["stages"]
    assert stages.index("awarded") < stages.index("final") < stages.index("return_pending") \
        < stages.index("return_shipped") < stages.index("enforced")
    # the return stage ran through the service's steps, each signed and anchored
    steps = result["steps"]
    at = steps.index("award.issued")
    assert steps[at:at + 6] == ["award.issued", "deadline_missed.awarded",
                                "enforcement.requested", "enforcement.recorded",
                                "return.shipped", "return.received"]
    assert result["award"]["refund"]["to_buyer"] == result["buyer_refund"]
    assert Decimal(result["buyer_refund"]) > 0 and Decimal(result["seller_payout"]) == 0
    assert "退货退款" in out
    settings = Settings(data_dir=data_dir)
    with open_chain(settings) as handle:
        deployment = load_deployment(settings)
        assert deployment is not None and deployment.escrow is not None
        assert deployment.token is not None
        tx = Transactor(handle.w3)
        escrow = EscrowContract(tx, deployment.escrow)
        order = escrow.order(result["order"])
        assert (order.status, order.resolution) == (Status.RESOLVED, Resolution.RETURN_RECEIVED)
        assert "0x" + order.case_id.hex() == result["case"]
        names = []
        for key in ("submit_return_award", "return_requested", "return_shipped", "refund"):
            receipt = handle.w3.eth.get_transaction_receipt(result["txs"][key])
            names += [e.name for e in decode_logs(receipt["logs"])
                      if e.address == deployment.escrow]
        assert names == ["AwardSubmitted", "ReturnTermsRecorded", "ReturnRequested",
                         "ReturnShipped", "OrderResolved"]
        refund = next(e for e in decode_logs(handle.w3.eth.get_transaction_receipt(
            result["txs"]["refund"])["logs"]) if e.name == "OrderResolved")
        assert refund.args["toBuyer"] == int(Decimal(result["buyer_refund"]) * UNIT)
        token = TokenContract(tx, deployment.token)
        assert token.balance_of(result["buyer"]) >= refund.args["toBuyer"]
