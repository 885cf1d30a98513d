"""The main job end to end: `chainarb demo` in a fresh process on a temporary data dir.

Runs the demo twice on the same data dir (the second run must work on what the first left:
same contracts, a new order and case), checks the last stdout line's JSON against the
embedded chain read back in this process (balances, the escrow's OrderResolved event),
then `chainarb verify` of the package in a new process; a tampered copy must fail.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import time
import zipfile
from decimal import Decimal
from pathlib import Path
from typing import Any

import httpx
import pytest

from backend.chain import TokenContract, Transactor, decode_logs
from backend.chain.contracts import EscrowContract
from backend.gateway import load_deployment, open_chain
from backend.settings import Settings
from evidence.events import uint_of

pytestmark = [pytest.mark.anvil, pytest.mark.slow]

CHAINARB = str(Path(sys.executable).with_name("chainarb"))
UNIT = 10**6


def _env(data_dir: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINARB_")}
    env |= {"CHAINARB_DATA_DIR": str(data_dir), "COLUMNS": "160"}
    return env


def _run_demo(data_dir: Path) -> tuple[dict[str, Any], str]:
    done = subprocess.run([CHAINARB, "demo"], env=_env(data_dir), capture_output=True,
                          text=True, timeout=400, check=False)
    assert done.returncode == 0, f"demo failed:\n{done.stdout[-4000:]}\n{done.stderr[-4000:]}"
    last = done.stdout.rstrip("\n").splitlines()[-1]
    return json.loads(last), done.stdout


@pytest.fixture(scope="module")
def runs(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[dict[str, Any]], str]:
    data_dir = tmp_path_factory.mktemp("demo") / "data"
    first, out = _run_demo(data_dir)
    second, _ = _run_demo(data_dir)
    return data_dir, [first, second], out


def _units(amount: str) -> int:
    return int(Decimal(amount) * UNIT)


def test_result_line_names_the_whole_loop(runs: tuple[Path, list[dict[str, Any]], str]
                                          ) -> None:
    _data_dir, (result, _), out = runs
    for key in ("case", "stages", "buyer_refund", "seller_payout", "compensation",
                "anchored_items", "package", "package_verified"):
        assert key in result, key
    assert result["package_verified"] is True
    assert Path(result["package"]).is_file()
    assert result["stages"][:2] == ["not_filed", "filed"]
    for stage in ("negotiation", "facilitation", "arbitrator_appointment", "evidence",
                  "record_closed", "awarded", "final", "enforced", "judicially_confirmed"):
        assert stage in result["stages"], stage
    assert result["stages"][-1] == "judicially_confirmed"
    # Every step and every evidence item was anchored (immediate anchoring in the demo).
    assert result["anchored_items"] == result["leaves"] >= result["steps"] >= 19
    assert (result["buyer_refund"], result["seller_payout"], result["compensation"]) == (
        "180.000000", "300.000000", "42.500000")
    # Readable output: amounts exact, bilingual labels, tx hashes and CIDs shown.
    assert "42.500000 tUSD" in out and "司法确认" in out and "anchored root" in out
    assert "bafkrei" in out
    # The loop opens at checkout: a contract of sale signed by both and bound to the order
    # (its clause the agreement to arbitrate), the carrier's signed events as the goods travel.
    assert result["contract_of_sale"].startswith("0x") and len(result["contract_of_sale"]) == 66
    assert result["carrier_events"] == 4
    assert "openOrderWithContract" in out and "仲裁协议于下单时成立" in out
    assert out.count("origin-verified") >= 4 and "arbitration agreement" in out


def test_amounts_equal_the_chain(runs: tuple[Path, list[dict[str, Any]], str]) -> None:
    data_dir, (result, _), _ = runs
    settings = Settings(data_dir=data_dir)
    with open_chain(settings) as handle:
        dep = load_deployment(settings)
        assert dep is not None and dep.token and dep.escrow
        tx = Transactor(handle.w3)
        usdc = TokenContract(tx, dep.token)
        escrow = EscrowContract(tx, dep.escrow)
        receipt = handle.w3.eth.get_transaction_receipt(result["enforcement_tx"])
        resolved = [e.args for e in decode_logs(receipt["logs"]) if e.name == "OrderResolved"]
        buyer = usdc.balance_of(result["buyer"])
        seller = usdc.balance_of(result["seller"])
        guarantee = escrow.guarantee(result["seller"], dep.token).balance
    assert len(resolved) == 1 and uint_of(resolved[0], "orderId") == result["order"]
    assert uint_of(resolved[0], "toBuyer") == _units(result["buyer_refund"])
    assert uint_of(resolved[0], "toSeller") == _units(result["seller_payout"])
    assert uint_of(resolved[0], "compensationPaid") == _units(result["compensation"])
    # Each party started with 1,000 tUSD: the buyer paid 480 into escrow, the seller
    # deposited a 200 guarantee.
    assert buyer == 1_000 * UNIT - 480 * UNIT + _units(result["buyer_refund"]) \
        + _units(result["compensation"])
    assert seller == 1_000 * UNIT - 200 * UNIT + _units(result["seller_payout"])
    assert guarantee == 200 * UNIT - _units(result["compensation"]) \
        == _units(result["guarantee_left"])


def test_second_run_on_the_same_data_dir_is_a_new_case(
        runs: tuple[Path, list[dict[str, Any]], str]) -> None:
    _data_dir, (first, second), _ = runs
    assert second["package_verified"] is True
    assert second["case"] != first["case"] and second["order"] == first["order"] + 1
    assert second["escrow"] == first["escrow"]  # deployed once per data dir
    assert second["buyer"] != first["buyer"]


def test_chainarb_verify_in_a_new_process(runs: tuple[Path, list[dict[str, Any]], str],
                                          tmp_path: Path) -> None:
    data_dir, (result, _), _ = runs
    done = subprocess.run([CHAINARB, "verify", result["package"], "--json"],
                          env=_env(data_dir), capture_output=True, text=True, timeout=120,
                          check=False)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    report = json.loads(done.stdout)
    assert report["ok"] is True
    # From an empty folder, with no installation: the package and the hashes of the blocks
    # it rests on, obtained elsewhere (here: the chain's answers above), are enough.
    court = tmp_path / "court"
    court.mkdir()
    checkpoint = court / "checkpoint.json"
    chains: dict[str, list[str]] = {}
    for b in report["blocks"]:
        chains.setdefault(b["chainId"], []).append(b["hash"])
    checkpoint.write_text(json.dumps({"chains": chains}))
    alone = subprocess.run([CHAINARB, "verify", result["package"], "--checkpoint",
                            str(checkpoint)], cwd=court,
                           env={**_env(court / "no-installation"), "CHAINARB_LANG": "en"},
                           capture_output=True, text=True, timeout=120, check=False)
    assert alone.returncode == 0, alone.stdout[-3000:] + alone.stderr[-2000:]
    assert "All checks passed." in alone.stdout
    # A tampered copy (one evidence byte changed) fails, and the failing check is named.
    bad = tmp_path / "tampered.zip"
    with zipfile.ZipFile(result["package"]) as src, zipfile.ZipFile(bad, "w") as dst:
        names = src.namelist()
        target = next(n for n in names if n.startswith("evidence/") and n.endswith(".txt"))
        for name in names:
            data = src.read(name)
            if name == target:
                data = bytes([data[0] ^ 1]) + data[1:]
            dst.writestr(name, data)
    done = subprocess.run([CHAINARB, "verify", str(bad), "--json"], env=_env(data_dir),
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 1, done.stdout[-2000:]
    failed = {c["name"] for c in json.loads(done.stdout)["checks"] if c["status"] == "fail"}
    assert "files" in failed


def test_contract_level_demo_still_runs(tmp_path: Path) -> None:
    done = subprocess.run([CHAINARB, "demo", "--contracts-only"], env=_env(tmp_path),
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-2000:]
    assert "AWARD_EXECUTED" in done.stdout
    shutil.rmtree(tmp_path, ignore_errors=True)


def test_serve_on_the_demo_data_dir_answers_every_demo_case(
        runs: tuple[Path, list[dict[str, Any]], str], tmp_path: Path) -> None:
    """The installation the demo leaves is usable: `chainarb serve` on the real clock reads
    and ticks every demo case (a demo that moved the clocks made each one a 500)."""
    from eth_account import Account

    from tests.backend.serve_process import free_port, running_serve, serve_env

    data_dir, results, _ = runs
    staff = Account.create()
    env = serve_env(data_dir, free_port(), CHAINARB_INSTITUTION_ADMINS=staff.address)
    with running_serve(env, tmp_path) as served:
        assert served.health["escrow"] == results[0]["escrow"]
        assert served.health["chainId"] == results[0]["chain_id"]
        auth = served.sign_in(staff)
        listed = httpx.get(f"{served.base}/cases", headers=auth)
        assert listed.status_code == 200
        assert {c["caseId"]: c["stage"] for c in listed.json()} == {
            r["case"]: "judicially_confirmed" for r in results}
        for result in results:
            view = httpx.get(f"{served.base}/cases/{result['case']}", headers=auth)
            assert view.status_code == 200, view.text
            assert view.json()["stage"] == "judicially_confirmed"
            timeline = httpx.get(f"{served.base}/cases/{result['case']}/timeline",
                                 headers=auth)
            assert timeline.status_code == 200, timeline.text
            steps = [i for i in timeline.json() if i["type"] == "step"]
            assert len(steps) == result["steps"]
        tick = httpx.post(f"{served.base}/admin/tick", headers=auth)
        assert tick.status_code == 200, tick.text
        assert tick.json()["advanced"] == [] and tick.json()["chain_errors"] == []
    out = served.output[0]
    assert "invalid_clock" not in out and "Traceback" not in out and " 500 " not in out


def test_timestamp_tokens_are_dated_with_the_blocks_they_stamp(
        runs: tuple[Path, list[dict[str, Any]], str]) -> None:
    """No clock is moved, so each RFC 3161 genTime follows its anchoring block's time by
    seconds (a demo that moved the chain 10 days ahead had tokens 10 days before)."""
    from evidence.timestamp import parse_response

    _data_dir, (result, _), _ = runs
    with zipfile.ZipFile(result["package"]) as z:
        anchors = json.loads(z.read("proofs/anchors.json"))["anchors"]
        # one root per anchoring round; a round carries every leaf pending when it runs, so
        # two steps signed within the same moment share one (17 to 18 roots in our runs)
        assert len(anchors) >= 12
        for anchor in anchors:
            token = parse_response(z.read(anchor["timestamp"]))
            lag = token.gen_time.timestamp() - int(anchor["blockTime"])
            assert -2 <= lag <= 120, (anchor["blockNumber"], anchor["blockTime"],
                                      token.gen_time.isoformat())


def test_the_demo_moves_no_clock_and_waits_the_objection_window(
        runs: tuple[Path, list[dict[str, Any]], str]) -> None:
    from backend.gateway import DEV_OBJECTION_SECONDS

    data_dir, _results, out = runs
    assert f"the {DEV_OBJECTION_SECONDS}-second objection window" in out
    assert "advance-time" not in out
    settings = Settings(data_dir=data_dir)
    with open_chain(settings) as handle:
        dep = load_deployment(settings)
        assert dep is not None and dep.escrow
        window = EscrowContract(Transactor(handle.w3), dep.escrow).timeouts().objection
        latest = int(handle.w3.eth.get_block("latest")["timestamp"])
    assert window == DEV_OBJECTION_SECONDS
    # The chain's clock is the real one: its last block is dated between the demo's start (the
    # data dir's creation) and now, give or take a slow machine's two minutes.
    started = data_dir.parent.stat().st_mtime
    assert started - 120 < latest < time.time() + 120, (started, latest, time.time())
    assert not (data_dir / "chain" / "time.json").exists()  # no offset was ever saved


def test_a_data_dir_the_demo_cannot_finish_in_real_time_is_refused(tmp_path: Path) -> None:
    """A data dir whose escrow has a window of days (as the clock-moving demo deployed) is
    refused before any case is opened, saying what to do."""
    from eth_account import Account

    from backend.chain import Timeouts, deploy_anchor, deploy_escrow, deploy_token
    from backend.gateway import Deployment, ensure_deployment

    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir)

    def days_long(handle: Any) -> Deployment:
        institution = Account.from_key(settings.institution_private_key())
        tx = Transactor(handle.w3)
        escrow = deploy_escrow(tx, institution, timeouts=Timeouts(),
                               institutions=[institution.address])
        return Deployment(chain_id=handle.chain_id, anchor=deploy_anchor(tx, institution).address,
                          escrow=escrow.address, token=deploy_token(tx, institution).address,
                          deployer=institution.address)

    with open_chain(settings) as handle:
        ensure_deployment(handle, settings, days_long)
    done = subprocess.run([CHAINARB, "demo"], env=_env(data_dir), capture_output=True,
                          text=True, timeout=300, check=False)
    assert done.returncode == 1, done.stdout[-2000:] + done.stderr[-2000:]
    assert "objection window of 864000 s" in done.stderr
    assert "point CHAINARB_DATA_DIR at a new directory" in done.stderr
    assert "Traceback" not in done.stderr
