"""The pages' chain relay ``POST /ui/chain/rpc`` against a real anvil: one allowed JSON-RPC
call of a signed-in page at a time, a raw transaction signed elsewhere sent through, and
everything else refused with its code (backend/web/wallet.py)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from eth_account import Account

from backend.chain.devchain import AnvilNode
from backend.demo import free_port
from backend.web import COOKIE
from backend.web.wallet import MAX_RPC_BYTES, RELAY_METHODS
from tests.backend.web.web_world import WebWorld

pytestmark = pytest.mark.node


@pytest.fixture
def relay(world: WebWorld, anvil_node: AnvilNode) -> Iterator[str]:
    ctx = world.app.state.ctx
    before = ctx.chain_rpc_url
    ctx.chain_rpc_url = anvil_node.url
    try:
        yield world.base + "/ui/chain/rpc"
    finally:
        ctx.chain_rpc_url = before


def _post(world: WebWorld, url: str, body: Any = None, *, who: str | None = "buyer",
          ui: bool = True, content: bytes | None = None) -> httpx.Response:
    headers = {"X-Chainarb-UI": "1"} if ui else {}
    cookies = {COOKIE: world.token(who)} if who else {}
    if content is not None:
        headers["Content-Type"] = "application/json"
        return httpx.post(url, content=content, headers=headers, cookies=cookies, timeout=30)
    return httpx.post(url, json=body, headers=headers, cookies=cookies, timeout=30)


def _call(method: str, params: list[Any] | None = None) -> dict[str, Any]:
    return {"jsonrpc": "2.0", "id": 7, "method": method, "params": params or []}


def test_reads_and_a_raw_transaction_go_through(world: WebWorld, relay: str,
                                                anvil_node: AnvilNode) -> None:
    w3 = anvil_node.web3()
    r = _post(world, relay, _call("eth_chainId"))
    assert r.status_code == 200
    assert r.json() == {"jsonrpc": "2.0", "id": 7, "result": hex(w3.eth.chain_id)}
    # A transaction signed outside the service (the built-in wallet signs in the browser).
    sender = Account.create()
    w3.provider.make_request("anvil_setBalance", [sender.address, hex(10**18)])  # type: ignore[arg-type]
    to = "0x" + "42" * 20
    tx = {"to": to, "value": 12_345, "gas": 21_000, "nonce": 0, "chainId": w3.eth.chain_id,
          "maxFeePerGas": 10 * w3.eth.get_block("latest")["baseFeePerGas"] + 10**9,
          "maxPriorityFeePerGas": 10**9, "type": 2}
    raw = "0x" + bytes(sender.sign_transaction(tx).raw_transaction).hex()
    r = _post(world, relay, _call("eth_sendRawTransaction", [raw]))
    assert r.status_code == 200, r.text
    tx_hash = r.json()["result"]
    receipt = w3.eth.wait_for_transaction_receipt(tx_hash, timeout=30)
    assert receipt["status"] == 1 and receipt["from"] == sender.address
    r = _post(world, relay, _call("eth_getTransactionReceipt", [tx_hash]))
    assert r.json()["result"]["status"] == "0x1"
    # The node's own refusal comes back as the JSON-RPC error it is (HTTP 200).
    r = _post(world, relay, _call("eth_sendRawTransaction", [raw]))
    assert r.status_code == 200 and set(r.json()) == {"jsonrpc", "id", "error"}


@pytest.mark.parametrize(("body", "status", "code"), [
    ([_call("eth_chainId")], 400, "batch_refused"),
    (_call("eth_sendTransaction", [{"to": "0x" + "00" * 20}]), 403, "method_refused"),
    (_call("eth_accounts"), 403, "method_refused"),
    (_call("eth_sign", ["0x" + "00" * 20, "0x00"]), 403, "method_refused"),
    (_call("anvil_setBalance", ["0x" + "00" * 20, "0x1"]), 403, "method_refused"),
    (_call("personal_unlockAccount"), 403, "method_refused"),
    ({"jsonrpc": "2.0", "id": 1}, 400, "invalid_json"),
    ({"jsonrpc": "2.0", "id": 1, "method": "eth_chainId", "params": {"a": 1}}, 400,
     "invalid_json"),
    ({"jsonrpc": "2.0", "id": [1], "method": "eth_chainId"}, 400, "invalid_json"),
    ("eth_chainId", 400, "invalid_json"),
], ids=["batch", "send-unsigned", "accounts", "sign", "anvil-admin", "personal", "no-method",
        "params-object", "id-list", "string"])
def test_refused_calls(world: WebWorld, relay: str, body: Any, status: int, code: str) -> None:
    r = _post(world, relay, body)
    assert (r.status_code, r.json()["code"]) == (status, code), r.text


def test_refused_requests(world: WebWorld, relay: str) -> None:
    ok = _call("eth_blockNumber")
    r = _post(world, relay, ok, ui=False)
    assert (r.status_code, r.json()["code"]) == (403, "access_denied")
    r = _post(world, relay, ok, who=None)
    assert (r.status_code, r.json()["code"]) == (401, "auth_required")
    big = b'{"jsonrpc":"2.0","id":1,"method":"eth_call","params":["' + b"a" * MAX_RPC_BYTES + b'"]}'
    r = _post(world, relay, content=big)
    assert (r.status_code, r.json()["code"]) == (413, "body_too_large")
    r = _post(world, relay, content=b"[" * 5000 + b"]" * 5000)
    assert r.status_code in (400, 422), r.text  # the app's depth guard or the relay's
    r = _post(world, relay, content=b"{not json")
    assert r.status_code in (400, 422), r.text
    assert _post(world, relay, ok).status_code == 200


def test_no_chain_and_a_dead_node(world: WebWorld) -> None:
    ctx = world.app.state.ctx
    before = ctx.chain_rpc_url
    url = world.base + "/ui/chain/rpc"
    try:
        ctx.chain_rpc_url = None
        r = _post(world, url, _call("eth_chainId"))
        assert (r.status_code, r.json()["code"]) == (503, "no_chain")
        ctx.chain_rpc_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
        r = _post(world, url, _call("eth_chainId"))
        assert (r.status_code, r.json()["code"]) == (502, "chain_unreachable")
    finally:
        ctx.chain_rpc_url = before


def test_the_allow_list_has_no_signing_or_account_method() -> None:
    assert "eth_sendRawTransaction" in RELAY_METHODS
    assert not {m for m in RELAY_METHODS if m.startswith(("personal_", "anvil_", "debug_",
                                                          "admin_", "evm_", "hardhat_"))}
    assert not RELAY_METHODS & {"eth_sendTransaction", "eth_sign", "eth_signTransaction",
                                "eth_accounts", "eth_signTypedData_v4"}
