"""`chainarb serve` as an operator runs it: a process, settings from the environment only,
an external chain (anvil) with deployed contracts; a wallet signs in over real HTTP."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest
from eth_account import Account
from eth_account.messages import encode_defunct
from web3 import Web3

from backend.chain import Transactor, deploy_anchor, deploy_escrow
from backend.chain.devchain import ETHER, AnvilNode, dev_accounts, fund

pytestmark = pytest.mark.anvil


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def test_chainarb_serve_from_environment(anvil_node: AnvilNode, anvil_w3: Web3,
                                         tmp_path: Path) -> None:
    deployer, institution, admin, user = dev_accounts(4, seed="serve")
    fund(anvil_w3, [deployer.address, institution.address], 10 * ETHER)
    tx = Transactor(anvil_w3)
    escrow = deploy_escrow(tx, deployer, institutions=[institution.address])
    anchor = deploy_anchor(tx, deployer)
    port = _free_port()
    env = {**os.environ,
           "CHAINARB_DATA_DIR": str(tmp_path / "data"),
           "CHAINARB_CHAIN_RPC_URL": anvil_node.url,
           "CHAINARB_CHAIN_ID": "31337",
           "CHAINARB_INSTITUTION_KEY": institution.key.hex(),
           "CHAINARB_ESCROW_ADDRESS": escrow.address,
           "CHAINARB_ANCHOR_ADDRESS": anchor.address,
           "CHAINARB_INSTITUTION_ADMINS": admin.address,
           "CHAINARB_PORT": str(port),
           "CHAINARB_TICK_SECONDS": "0.2"}
    env.pop("DATABASE_URL", None)
    env.pop("CHAINARB_DATABASE_URL", None)
    chainarb = Path(sys.executable).parent / "chainarb"
    proc = subprocess.Popen([str(chainarb), "serve"], env=env, cwd=tmp_path,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120  # as serve_process.running_serve: a loaded machine
        health = None
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                raise AssertionError(proc.stdout.read().decode() if proc.stdout else "exited")
            try:
                health = httpx.get(f"{base}/health", timeout=2).json()
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        assert health == {"ok": True, "chainId": 31337, "escrow": escrow.address,
                          "institution": institution.address}
        msg = httpx.get(f"{base}/auth/nonce", params={"address": user.address}).json()["message"]
        sig = Account.sign_message(encode_defunct(text=msg), user.key).signature.hex()
        token = httpx.post(f"{base}/auth/sign-in", json={
            "message": msg, "signature": "0x" + sig.removeprefix("0x")}).json()["token"]
        me = httpx.get(f"{base}/auth/me", headers={"Authorization": f"Bearer {token}"}).json()
        assert me["address"] == user.address and me["admin"] is False
        assert httpx.get(f"{base}/docs").status_code == 200
        assert (tmp_path / "data" / "chainarb.sqlite3").exists()
    finally:
        proc.terminate()
        out = proc.communicate(timeout=30)[0].decode()
    assert institution.key.hex().removeprefix("0x") not in out  # the key is never logged


def test_serve_on_an_empty_data_dir_deploys_once_and_starts(tmp_path: Path) -> None:
    """The embedded default: `chainarb serve` alone (no demo before it) generates the
    institution key, deploys the contracts once and answers; a restart reuses both."""
    from backend.chain import EscrowContract
    from backend.gateway import DEV_OBJECTION_SECONDS, load_deployment, open_chain
    from backend.settings import Settings
    from tests.backend.serve_process import free_port, running_serve, serve_env

    data_dir = tmp_path / "data"
    with running_serve(serve_env(data_dir, free_port()), tmp_path) as served:
        first = served.health
    key_file = data_dir / "institution.key"
    key = key_file.read_text().strip()
    assert key_file.stat().st_mode & 0o777 == 0o600
    institution = Account.from_key(key).address
    deployment = load_deployment(Settings(data_dir=data_dir))
    assert deployment is not None and deployment.deployer == institution
    assert deployment.escrow is not None
    assert first == {"ok": True, "chainId": 31_415_926, "escrow": deployment.escrow,
                     "institution": institution}
    assert key.removeprefix("0x") not in served.output[0]  # never logged
    with running_serve(serve_env(data_dir, free_port()), tmp_path) as again:
        assert again.health == first  # deployed once, same key
    with open_chain(Settings(data_dir=data_dir)) as handle:
        escrow = EscrowContract(Transactor(handle.w3), deployment.escrow)
        assert escrow.timeouts().objection == DEV_OBJECTION_SECONDS
        assert escrow.is_institution(institution)


def test_serve_takes_host_and_port_and_says_where_it_is(tmp_path: Path) -> None:
    """`--host`/`--port` win over CHAINARB_HOST/CHAINARB_PORT; the process prints its
    pages' URL, the API reference, the data dir and the chain; `GET /` leads to the pages."""
    from tests.backend.serve_process import free_port, running_serve, serve_env

    data_dir = tmp_path / "data"
    port, unused = free_port(), free_port()
    env = serve_env(data_dir, unused, CHAINARB_HOST="192.0.2.1", CHAINARB_LANG="en")
    with running_serve(env, tmp_path, args=("--host", "127.0.0.1", "--port", str(port)),
                       port=port) as served:
        r = httpx.get(f"{served.base}/", follow_redirects=False)
        assert r.status_code == 303 and r.headers["location"] == "/ui?lang=en"
        r = httpx.get(f"{served.base}/", follow_redirects=True,
                      headers={"Accept-Language": "zh-CN"})
        assert r.status_code == 200 and "使用钱包登录" in r.text
    out = served.output[0]
    assert f"http://127.0.0.1:{port}/ui" in out and f"http://127.0.0.1:{port}/docs" in out
    assert str(data_dir.resolve()) in out
    assert f"embedded chain (id 31415926), escrow {served.health['escrow']}" in out
    env = serve_env(data_dir, port, CHAINARB_LANG="zh_CN.UTF-8")
    with running_serve(env, tmp_path) as again:
        assert again.health == served.health
    assert "网页（在此登录）" in again.output[0] and "内置链" in again.output[0]


def _serve_fails(env: dict[str, str], cwd: Path) -> subprocess.CompletedProcess[str]:
    from tests.backend.serve_process import CHAINARB

    return subprocess.run([CHAINARB, "serve"], env=env, cwd=cwd, capture_output=True,
                          text=True, timeout=120, check=False)


def test_serve_without_contracts_on_an_external_node_says_what_to_set(
        anvil_node: AnvilNode, tmp_path: Path) -> None:
    from tests.backend.serve_process import free_port, serve_env

    key = "0x" + bytes(Account.create().key).hex()
    env = serve_env(tmp_path / "data", free_port(), CHAINARB_CHAIN_RPC_URL=anvil_node.url,
                    CHAINARB_CHAIN_ID="31337", CHAINARB_INSTITUTION_KEY=key)
    done = _serve_fails(env, tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "no contracts known for chain 31337" in done.stderr
    assert "CHAINARB_ESCROW_ADDRESS" in done.stderr and "Traceback" not in done.stderr
    assert key[2:] not in done.stdout + done.stderr


def test_serve_refuses_a_key_file_others_can_read(tmp_path: Path) -> None:
    from tests.backend.serve_process import free_port, serve_env

    data_dir = tmp_path / "data"
    data_dir.mkdir()
    key = "0x" + bytes(Account.create().key).hex()
    (data_dir / "institution.key").write_text(key)
    (data_dir / "institution.key").chmod(0o644)
    done = _serve_fails(serve_env(data_dir, free_port()), tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "mode 644" in done.stderr and "chmod 600" in done.stderr
    assert "Traceback" not in done.stderr and key[2:] not in done.stdout + done.stderr


def test_serve_refuses_a_data_dir_set_up_with_the_former_published_key(
        tmp_path: Path) -> None:
    """An embedded data dir from before generated keys: its contracts belong to the former
    published development key. serve says so instead of acting with another key."""
    from backend.gateway import contracts_deployer, open_chain, save_deployment
    from backend.settings import Settings
    from tests.backend.serve_process import free_port, serve_env

    former = "0x6e67d04874b925001eb674ed8c6b4766d37db541ead4661a78d6e8aee0dbdd03"
    data_dir = tmp_path / "data"
    settings = Settings(data_dir=data_dir)
    with open_chain(settings) as handle:
        handle.w3.provider.make_request(
            "anvil_setBalance", [Account.from_key(former).address, hex(10 * ETHER)])  # type: ignore[arg-type]
        save_deployment(settings.deployment_path, contracts_deployer(former)(handle))
        handle.flush()
    done = _serve_fails(serve_env(data_dir, free_port()), tmp_path)
    assert done.returncode == 2, done.stdout + done.stderr
    assert "former built-in development institution key" in done.stderr
    assert "no longer accepted" in done.stderr and "Traceback" not in done.stderr
