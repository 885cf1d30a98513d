"""Hardhat compiles the same sources offline to the same bytecode, and runs a local node.

hardhat.config.js hands Hardhat the npm solc (no compiler download). Its output must equal
the committed artifacts of scripts/compile.py byte for byte, the CBOR metadata hash at the
end of the bytecode included: compile.py finds OpenZeppelin through `--include-path
node_modules` (no remapping), so both name its files @openzeppelin/... and record the same
metadata. A remapping would rename them node_modules/@openzeppelin/... in the metadata, and
the test fails then rather than comparing less.

Offline is enforced, not assumed: the compile runs with an empty cache home (no previously
downloaded compiler) and a dead HTTP(S) proxy, so any download attempt would fail.
"""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from web3 import HTTPProvider, Web3

from backend.chain import Timeouts
from backend.chain.artifacts import artifact_names, load_artifact

ROOT = Path(__file__).resolve().parents[2]
HARDHAT = ROOT / "node_modules" / "hardhat" / "internal" / "cli" / "cli.js"
# solc's CBOR trailer with an IPFS hash: {"ipfs": <34-byte multihash>, "solc": <3 bytes>}.
METADATA_TRAILER = re.compile(r"a264697066735822[0-9a-f]{68}64736f6c6343[0-9a-f]{6}0033")

pytestmark = pytest.mark.node


def _hardhat_env(out: Path) -> dict[str, str]:
    env = dict(os.environ)
    env.update(
        CHAINARB_HARDHAT_OUT=str(out),
        HARDHAT_DISABLE_TELEMETRY_PROMPT="true",
        XDG_CACHE_HOME=str(out / "xdg-cache"),
        HTTP_PROXY="http://127.0.0.1:9",
        HTTPS_PROXY="http://127.0.0.1:9",
        http_proxy="http://127.0.0.1:9",
        https_proxy="http://127.0.0.1:9",
    )
    return env


@pytest.fixture(scope="module")
def hardhat_out(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("hardhat")
    proc = subprocess.run(
        ["node", str(HARDHAT), "compile", "--force", "--quiet"],
        cwd=ROOT,
        env=_hardhat_env(out),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, f"npx hardhat compile failed:\n{proc.stdout}\n{proc.stderr}"
    return out / "artifacts"


def _deployable() -> list[str]:
    return [n for n in artifact_names() if load_artifact(n).deployable]


def _hardhat_artifact(out: Path, name: str) -> dict[str, Any]:
    art = load_artifact(name)
    path = out / art.source_name / f"{name}.json"
    assert path.is_file(), f"Hardhat did not build {art.source_name}:{name}"
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def test_hardhat_builds_every_committed_contract(hardhat_out: Path) -> None:
    names = _deployable()
    assert {"ArbitrationEscrow", "EvidenceAnchor", "TestStablecoin"} <= set(names)
    for name in names:
        _hardhat_artifact(hardhat_out, name)
    # contracts/ holds sources only (compile.py's output is package data in backend/chain/).
    assert not (hardhat_out / "contracts" / "artifacts").exists()


@pytest.mark.parametrize("name", _deployable())
def test_same_bytecode_as_compile_py(hardhat_out: Path, name: str) -> None:
    ours = load_artifact(name)
    theirs = _hardhat_artifact(hardhat_out, name)
    assert theirs["abi"] == list(ours.abi)
    assert theirs["deployedBytecode"] == ours.deployed_bytecode
    assert theirs["bytecode"] == ours.bytecode
    # The metadata hash (IPFS) sits in the trailer, so equal code means equal metadata.
    assert len(METADATA_TRAILER.findall(ours.deployed_bytecode.lower())) == 1


def test_same_metadata_as_compile_py(hardhat_out: Path) -> None:
    build_info = next((hardhat_out / "build-info").glob("*.json"))
    output = json.loads(build_info.read_text())["output"]["contracts"]
    for name in ("ArbitrationEscrow", "EvidenceAnchor"):
        ours = json.loads(load_artifact(name).metadata)
        theirs = json.loads(output[load_artifact(name).source_name][name]["metadata"])
        assert ours["compiler"]["version"].startswith("0.8.30+commit.73712a01")
        assert ours["settings"]["evmVersion"] == "cancun"
        assert ours["settings"]["optimizer"] == {"enabled": True, "runs": 200}
        assert ours["settings"].get("remappings", []) == []
        if name == "ArbitrationEscrow":  # EvidenceAnchor imports no OpenZeppelin
            assert "@openzeppelin/contracts/access/AccessControl.sol" in ours["sources"]
        assert not any(k.startswith("node_modules/") for k in ours["sources"])
        assert ours == theirs


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _start_hardhat_node(tmp_path: Path, attempt: int) -> tuple[subprocess.Popen[bytes], int]:
    """Start `hardhat node` on a free port and wait (up to 120 s on a loaded machine) for
    its own "Started ... at http://127.0.0.1:<port>/" line, so another process that took the
    port in the meantime (an anvil answers chain id 31337 too) is never mistaken for it.
    Returns the process and port, or the process (exited) and 0 when the port was taken."""
    port = _free_port()
    log_path = tmp_path / f"node-{attempt}.log"
    with log_path.open("wb") as log:
        proc = subprocess.Popen(
            ["node", str(HARDHAT), "node", "--hostname", "127.0.0.1", "--port", str(port)],
            cwd=ROOT,
            env=_hardhat_env(tmp_path),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    ready = f"at http://127.0.0.1:{port}/"
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        text = log_path.read_text(errors="replace")
        if ready in text:
            return proc, port
        if proc.poll() is not None:
            assert "EADDRINUSE" in text, f"hardhat node exited:\n{text}"
            return proc, 0
        time.sleep(0.1)
    _stop(proc)
    pytest.fail(f"hardhat node did not start within 120 s:\n{log_path.read_text()}")


def _stop(proc: subprocess.Popen[bytes]) -> None:
    if proc.poll() is not None:
        return
    os.killpg(proc.pid, signal.SIGTERM)
    try:
        proc.wait(timeout=10)
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        proc.wait(timeout=10)


@pytest.fixture
def hardhat_node(tmp_path: Path) -> Iterator[Web3]:
    for attempt in range(5):
        proc, port = _start_hardhat_node(tmp_path, attempt)
        if port:
            break
    else:
        pytest.fail("hardhat node found its port taken 5 times in a row")
    try:
        yield Web3(HTTPProvider(f"http://127.0.0.1:{port}", request_kwargs={"timeout": 60}))
    finally:
        _stop(proc)


def test_hardhat_node_runs_the_committed_contracts(hardhat_node: Web3) -> None:
    """The local node (chain 31337, cancun: tstore/mcopy) runs our artifacts."""
    w3 = hardhat_node
    assert w3.eth.chain_id == 31337
    admin = w3.eth.accounts[0]

    def deploy(name: str, *args: Any) -> Any:
        art = load_artifact(name)
        factory = w3.eth.contract(abi=list(art.abi), bytecode=art.bytecode)
        receipt = w3.eth.wait_for_transaction_receipt(
            factory.constructor(*args).transact({"from": admin})
        )
        assert receipt["status"] == 1
        return w3.eth.contract(address=receipt["contractAddress"], abi=list(art.abi))

    anchor = deploy("EvidenceAnchor")
    root = bytes.fromhex("11" * 32)
    receipt = w3.eth.wait_for_transaction_receipt(
        anchor.functions.anchor(root, 1000).transact({"from": admin})
    )
    assert receipt["status"] == 1
    timestamp, block_number, anchorer = anchor.functions.recordOf(root).call()
    assert (block_number, anchorer) == (receipt["blockNumber"], admin)
    assert timestamp == w3.eth.get_block(receipt["blockNumber"])["timestamp"]

    escrow = deploy("ArbitrationEscrow", admin, Timeouts(*(86_400,) * 9).as_tuple())
    _fields, name, version, chain_id, verifying, *_ = escrow.functions.eip712Domain().call()
    assert (name, version, chain_id, verifying) == ("chainarb", "1", 31337, escrow.address)
    # nonReentrant uses transient storage (EIP-1153): this only runs on a cancun chain.
    receipt = w3.eth.wait_for_transaction_receipt(
        escrow.functions.depositGuarantee("0x" + "00" * 20, 5).transact({"from": admin, "value": 5})
    )
    assert receipt["status"] == 1
    assert escrow.functions.guaranteeOf(admin, "0x" + "00" * 20).call() == (5, 0)
