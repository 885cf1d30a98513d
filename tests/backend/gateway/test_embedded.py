"""The embedded chain keeps its blocks, receipts and logs on disk across processes."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import pytest

from backend.gateway import (
    Deployment,
    DeploymentMismatchError,
    TimeControlUnavailableError,
    WrongChainError,
    check_deployment,
    load_deployment,
    open_chain,
    open_rpc,
    save_deployment,
)
from backend.settings import EMBEDDED_CHAIN_ID, Settings

pytestmark = pytest.mark.anvil

# A contract whose runtime logs its calldata (LOG0) so there are logs to find later.
# runtime: CALLDATASIZE PUSH1 0 PUSH1 0 CALLDATACOPY CALLDATASIZE PUSH1 0 LOG0 STOP
_RUNTIME = "366000600037366000a000"
_INIT = "6a" + _RUNTIME + "600052600b6015f3"

_WRITER = textwrap.dedent(
    """
    import json, os, signal, sys
    from backend.settings import Settings
    from backend.gateway import open_chain
    mode = sys.argv[2]
    h = open_chain(Settings(data_dir=sys.argv[1]))
    w3 = h.w3
    me = w3.eth.accounts[0]
    deploy = w3.eth.send_transaction({"from": me, "data": "0x__INIT__"})
    r = w3.eth.wait_for_transaction_receipt(deploy)
    txs = [r.transactionHash.to_0x_hex()]
    for i in range(5):
        txs.append(w3.eth.send_transaction(
            {"from": me, "to": r.contractAddress, "data": "0x%064x" % i}).to_0x_hex())
    for tx in txs:  # anvil may answer before it has mined the block
        w3.eth.wait_for_transaction_receipt(tx)
    if mode == "kill-anvil":
        h.flush()            # durable up to here
        lost = w3.eth.send_transaction({"from": me, "to": me, "value": 1}).to_0x_hex()
        w3.eth.wait_for_transaction_receipt(lost)
    blocks = {n: w3.eth.get_block(n).hash.to_0x_hex() for n in range(w3.eth.block_number + 1)}
    print(json.dumps({"txs": txs, "contract": r.contractAddress, "blocks": blocks,
                      "lost": lost if mode == "kill-anvil" else None,
                      "anvil_pid": h._node._proc.pid}), flush=True)
    if mode == "exit":
        h.close()
    elif mode == "sigkill-self":
        os.kill(os.getpid(), signal.SIGKILL)
    elif mode == "kill-anvil":
        os.kill(h._node._proc.pid, signal.SIGKILL)
        h._node._proc.wait()
        os.kill(os.getpid(), signal.SIGKILL)
    """
).replace("__INIT__", _INIT)


def _write(data_dir: Path, mode: str) -> dict:
    out = subprocess.run([sys.executable, "-c", _WRITER, str(data_dir), mode],
                         capture_output=True, text=True, timeout=300)
    assert out.stdout, out.stderr
    return json.loads(out.stdout.strip().splitlines()[-1])


def _wait_gone(pid: int) -> None:
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.05)
    raise AssertionError(f"anvil {pid} still running")


def _check_same_chain(data_dir: Path, written: dict) -> None:
    with open_chain(Settings(data_dir=data_dir)) as h:
        w3 = h.w3
        assert h.chain_id == EMBEDDED_CHAIN_ID
        for n, block_hash in written["blocks"].items():
            assert w3.eth.get_block(int(n)).hash.to_0x_hex() == block_hash  # type: ignore[attr-defined]
        for tx in written["txs"]:
            receipt = w3.eth.get_transaction_receipt(tx)
            assert receipt.status == 1  # type: ignore[attr-defined]
            assert w3.eth.get_block(receipt.blockNumber).hash == receipt.blockHash  # type: ignore[attr-defined]
        logs = w3.eth.get_logs({"fromBlock": 0, "toBlock": "latest",
                                "address": written["contract"]})
        assert [int(log["data"].hex(), 16) for log in logs] == list(range(5))
        # and the chain goes on from where it was
        me = w3.eth.accounts[0]
        r = w3.eth.wait_for_transaction_receipt(w3.eth.send_transaction({"from": me, "to": me}))
        assert r.blockNumber == len(written["blocks"])  # type: ignore[attr-defined]


def test_a_later_process_sees_the_same_chain(tmp_path: Path) -> None:
    written = _write(tmp_path, "exit")
    _wait_gone(written["anvil_pid"])
    _check_same_chain(tmp_path, written)


def test_sigkill_of_the_service_loses_nothing(tmp_path: Path) -> None:
    """PR_SET_PDEATHSIG: anvil gets SIGTERM when its owner dies, and dumps its state."""
    written = _write(tmp_path, "sigkill-self")
    _wait_gone(written["anvil_pid"])
    _check_same_chain(tmp_path, written)


def test_sigkill_of_the_node_keeps_what_was_flushed(tmp_path: Path) -> None:
    written = _write(tmp_path, "kill-anvil")
    _wait_gone(written["anvil_pid"])
    with open_chain(Settings(data_dir=tmp_path)) as h:
        for tx in written["txs"]:
            assert h.w3.eth.get_transaction_receipt(tx).status == 1  # type: ignore[attr-defined]
        from web3.exceptions import TransactionNotFound

        with pytest.raises(TransactionNotFound):  # after the flush: lost, as documented
            h.w3.eth.get_transaction_receipt(written["lost"])


def test_second_process_attaches_to_the_running_node(tmp_path: Path) -> None:
    with open_chain(Settings(data_dir=tmp_path)) as owner:
        me = owner.w3.eth.accounts[0]
        tx = owner.w3.eth.send_transaction({"from": me, "to": me, "value": 7})  # type: ignore[typeddict-item]
        code = textwrap.dedent(
            """
            import sys
            from backend.settings import Settings
            from backend.gateway import open_chain
            with open_chain(Settings(data_dir=sys.argv[1])) as h:
                print(h.rpc_url, h._node.owner, h.w3.eth.get_transaction(sys.argv[2])["value"])
            """
        )
        out = subprocess.run([sys.executable, "-c", code, str(tmp_path), tx.to_0x_hex()],
                             capture_output=True, text=True, timeout=300, check=True)
        assert out.stdout.split() == [owner.rpc_url, "False", "7"]
        # the attached process closing did not stop the owner's node
        assert owner.w3.eth.get_transaction(tx)["value"] == 7


def test_block_time_never_goes_backwards_across_restarts(tmp_path: Path) -> None:
    with open_chain(Settings(data_dir=tmp_path)) as h:
        moved = h.increase_time(30 * 86400)
        assert moved > time.time() + 29 * 86400
        with pytest.raises(ValueError, match="forward"):
            h.increase_time(-1)
    with open_chain(Settings(data_dir=tmp_path)) as h:
        h.mine()
        assert h.w3.eth.get_block("latest").timestamp >= moved  # type: ignore[attr-defined]
    (tmp_path / "chain" / "time.json").unlink()  # even without the saved offset
    with open_chain(Settings(data_dir=tmp_path)) as h:
        h.mine()
        assert h.w3.eth.get_block("latest").timestamp > moved  # type: ignore[attr-defined]


def test_institution_account_is_funded_on_the_embedded_chain(tmp_path: Path) -> None:
    from eth_account import Account

    s = Settings(data_dir=tmp_path)
    with open_chain(s) as h:
        addr = Account.from_key(s.institution_private_key()).address
        assert h.w3.eth.get_balance(addr) >= 10**23


def test_rpc_checks_the_chain_id(tmp_path: Path) -> None:
    with open_chain(Settings(data_dir=tmp_path)) as h:
        with pytest.raises(WrongChainError, match="expected chain id 1"):
            open_rpc(h.rpc_url, expected_chain_id=1)
        assert open_rpc(h.rpc_url).chain_id == EMBEDDED_CHAIN_ID


def test_unreachable_rpc_is_a_clear_error() -> None:
    from backend.gateway import NodeStartError

    with pytest.raises(NodeStartError, match="no JSON-RPC node answers"):
        open_rpc("http://127.0.0.1:9", timeout=2)


def test_time_control_refused_by_a_node_without_it(tmp_path: Path) -> None:
    from web3 import Web3

    from backend.gateway import ChainHandle

    class _NoDev:
        def make_request(self, method: str, params: list) -> dict:
            return {"error": {"code": -32601, "message": f"method {method} not found"}}

    handle = ChainHandle(w3=Web3(), chain_id=1, rpc_url="http://x", embedded=False)
    handle.w3.provider = _NoDev()  # type: ignore[assignment]
    with pytest.raises(TimeControlUnavailableError, match="development node"):
        handle.increase_time(10)


def test_deployment_file(tmp_path: Path) -> None:
    s = Settings(data_dir=tmp_path)
    assert load_deployment(s) is None
    with open_chain(s) as h:
        me = h.w3.eth.accounts[0]
        r = h.w3.eth.wait_for_transaction_receipt(
            h.w3.eth.send_transaction({"from": me, "data": "0x" + _INIT}))  # type: ignore[typeddict-item]
        dep = Deployment(chain_id=h.chain_id, anchor=r.contractAddress, block_number=1)  # type: ignore[attr-defined]
        save_deployment(s.deployment_path, dep)
        assert load_deployment(s) == dep
        check_deployment(h, dep)
        with pytest.raises(DeploymentMismatchError, match="chain 1, the node is chain"):
            check_deployment(h, Deployment(chain_id=1))
        with pytest.raises(DeploymentMismatchError, match="no contract code"):
            check_deployment(h, Deployment(chain_id=h.chain_id, escrow=me))
    other = "0x" + "12" * 20
    s2 = Settings(data_dir=tmp_path, escrow_address=other)
    got = load_deployment(s2)
    assert got is not None and got.anchor == dep.anchor and got.escrow is not None \
        and got.escrow.lower() == other
    s.deployment_path.write_text("{")
    with pytest.raises(DeploymentMismatchError, match="not JSON"):
        load_deployment(s)


def test_process_exit_stops_the_node(tmp_path: Path) -> None:
    code = textwrap.dedent(
        """
        import sys
        from backend.settings import Settings
        from backend.gateway import open_chain
        h = open_chain(Settings(data_dir=sys.argv[1]))
        print(h._node._proc.pid, flush=True)
        """  # no close(): atexit must stop it
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, timeout=300, check=True)
    _wait_gone(int(out.stdout.strip()))
    assert not (tmp_path / "chain" / "node.json").exists()
    assert signal.SIGTERM  # anvil exited by our SIGTERM, state dumped:
    assert (tmp_path / "chain" / "state.json").stat().st_size > 0


def test_an_orphaned_node_is_stopped_and_its_state_kept(tmp_path: Path) -> None:
    """An owner that started the node from a thread (no PDEATHSIG) and vanished with
    os._exit leaves anvil running; the next opener stops it (it dumps) and loads its state."""
    code = textwrap.dedent(
        """
        import os, sys, threading
        from backend.settings import Settings
        from backend.gateway import open_chain
        out = {}
        opener = lambda: out.update(h=open_chain(Settings(data_dir=sys.argv[1])))
        t = threading.Thread(target=opener)
        t.start(); t.join()
        h = out["h"]
        me = h.w3.eth.accounts[0]
        tx = h.w3.eth.send_transaction({"from": me, "to": me, "value": 5})
        h.w3.eth.wait_for_transaction_receipt(tx)
        print(tx.to_0x_hex(), h._node._proc.pid, flush=True)
        os._exit(0)
        """
    )
    out = subprocess.run([sys.executable, "-c", code, str(tmp_path)], capture_output=True,
                         text=True, timeout=300, check=True)
    tx, pid = out.stdout.split()
    os.kill(int(pid), 0)  # still running, orphaned
    try:
        with open_chain(Settings(data_dir=tmp_path)) as h:
            assert h._node is not None and h._node.owner
            assert h.w3.eth.get_transaction_receipt(tx).status == 1  # type: ignore[arg-type, attr-defined]
        _wait_gone(int(pid))
    finally:
        with contextlib.suppress(ProcessLookupError):
            os.kill(int(pid), signal.SIGKILL)  # never leave the orphan behind


def test_ensure_deployment_deploys_once_and_again_after_a_reset(tmp_path: Path) -> None:
    from backend.gateway import ensure_deployment

    s = Settings(data_dir=tmp_path)
    deployed: list[str] = []

    def deploy(h):
        me = h.w3.eth.accounts[0]
        r = h.w3.eth.wait_for_transaction_receipt(
            h.w3.eth.send_transaction({"from": me, "data": "0x" + _INIT}))
        deployed.append(r.contractAddress)
        return Deployment(chain_id=h.chain_id, anchor=r.contractAddress)

    with open_chain(s) as h:
        first = ensure_deployment(h, s, deploy)
        assert ensure_deployment(h, s, deploy) == first and len(deployed) == 1
    with open_chain(s) as h:  # a later process: the file and the chain agree
        assert ensure_deployment(h, s, deploy) == first and len(deployed) == 1
    for f in (tmp_path / "chain").glob("state*.json"):  # the chain is reset
        f.unlink()
    with open_chain(s) as h:
        again = ensure_deployment(h, s, deploy)
        assert len(deployed) == 2 and load_deployment(s) == again
        with pytest.raises(DeploymentMismatchError, match="no contracts known"):
            ensure_deployment(h, Settings(data_dir=tmp_path / "other"), deploy,
                              allow_deploy=False)


def test_periodic_flush_keeps_recent_state_when_the_node_is_killed(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import backend.gateway.embedded as embedded

    monkeypatch.setattr(embedded, "STATE_INTERVAL_SECONDS", 0.2)
    with open_chain(Settings(data_dir=tmp_path)) as h:
        me = h.w3.eth.accounts[0]
        tx = h.w3.eth.send_transaction({"from": me, "to": me, "value": 3})  # type: ignore[typeddict-item]
        h.w3.eth.wait_for_transaction_receipt(tx)
        deadline = time.monotonic() + 10
        state = tmp_path / "chain" / "state.flushed.json"
        while time.monotonic() < deadline:  # the flusher writes without being asked
            if state.exists() and tx.to_0x_hex()[2:] in state.read_text():
                break
            time.sleep(0.05)
        assert h._node is not None and h._node._proc is not None
        h._node._proc.kill()  # no exit dump
        h._node._proc.wait()
    with open_chain(Settings(data_dir=tmp_path)) as h:
        assert h.w3.eth.get_transaction_receipt(tx).status == 1  # type: ignore[attr-defined]


def test_a_torn_exit_dump_falls_back_to_the_last_flush(tmp_path: Path) -> None:
    """anvil writes its exit dump in place; if that write is cut, the flushed copy serves."""
    with open_chain(Settings(data_dir=tmp_path)) as h:
        me = h.w3.eth.accounts[0]
        tx = h.w3.eth.send_transaction({"from": me, "to": me, "value": 4})  # type: ignore[typeddict-item]
        h.w3.eth.wait_for_transaction_receipt(tx)
        h.flush()
    state = tmp_path / "chain" / "state.json"
    state.write_bytes(state.read_bytes()[:1000])  # torn
    with open_chain(Settings(data_dir=tmp_path)) as h:
        assert h.w3.eth.get_transaction_receipt(tx).status == 1  # type: ignore[attr-defined]
    assert list((tmp_path / "chain").glob("state.json.torn-*"))
