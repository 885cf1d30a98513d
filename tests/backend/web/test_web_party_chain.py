"""The freeze a buyer sends from the page lands on a real chain: anvil with the deployed
escrow, the service on it (``Web3EscrowPort``), the buyer's orders read from the chain's
``OrderOpened`` events, the claim filed in chromium and ``raiseDispute`` signed and sent by
the buyer's wallet (an injected extension; then the built-in wallet through the service's
chain relay) to anvil; the service then observes the freeze on-chain."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

from eth_account import Account

from backend.api.app import create_app
from backend.chain.devchain import AnvilNode, chain_time, revert_to, snapshot
from backend.demo import free_port, make_photo_jpeg, serve
from backend.gateway.escrow import Web3EscrowPort
from backend.procedure import DEFAULT_RULES
from backend.services.cases import case_id_for_order
from backend.services.package import rules_hash
from backend.services.party import wallet_transactions
from backend.settings import Settings
from evidence.ipfs import MemoryBlockstore
from tests.backend.web.web_world import REPO, WEB_TESTS, find_chromium, key
from tests.keys import INSTITUTION_KEY
from tests.support.clock import Clock
from tests.support.evm import ETHER, deploy_contracts


def test_the_freeze_sent_from_the_page_lands_on_anvil(anvil_node: AnvilNode,
                                                      tmp_path: Path) -> None:
    w3 = anvil_node.web3()
    snap = snapshot(w3)
    try:
        buyer, seller, admin = key("chain-buyer"), key("chain-seller"), key("chain-admin")
        institution = Account.from_key(INSTITUTION_KEY)
        contracts = deploy_contracts(w3, admin, institution=institution.address, funded=[
            buyer.address, seller.address, admin.address, institution.address])
        order_id, _ = contracts.open_order(buyer, seller, institution.address, amount=ETHER,
                                           guarantee=ETHER // 2, deliver_in=20 * 86_400,
                                           rules_hash=rules_hash(DEFAULT_RULES))
        port = free_port()
        app = create_app(Settings(data_dir=tmp_path / "data", port=port,
                                  institution_admins=admin.address,
                                  institution_key=INSTITUTION_KEY),
                         clock=Clock.running(), port=Web3EscrowPort(contracts.escrow, institution),
                         blockstore=MemoryBlockstore(), background=False)
        photo = tmp_path / "crack.jpg"
        photo.write_bytes(make_photo_jpeg())
        with serve(app, port) as running:
            done = subprocess.run(
                ["node", str(WEB_TESTS / "party.cjs"), running.base_url,
                 "0x" + bytes(buyer.key).hex(), "en", str(tmp_path), str(order_id), str(photo),
                 "-"],
                cwd=REPO, env={**os.environ, "CHROMIUM": find_chromium(),
                               "CHAIN_RPC": anvil_node.url,
                               "WALLET_CHAIN": str(w3.eth.chain_id),
                               "CLAIM": "0.5"},  # of the 1 ETH escrowed (18 decimals)
                capture_output=True, text=True, timeout=240, check=False)
            assert done.returncode == 0, done.stderr[-3000:]
            r = json.loads(done.stdout.strip().splitlines()[-1])
            assert not [m for m in r["console"] if "pageerror" in m], r["console"]
            assert r["external"] == [] and r["axe"] == [], (r["external"], r["axe"])
            row = next(o for o in r["orders"] if o["order"] == str(order_id))
            assert row["cells"][3] == "1.000000000000000000 ETH"
            case_id = case_id_for_order(app.state.ctx.service.domain, order_id)
            # The claim typed as 0.5 is half an ether in wei: the page wrote the order's
            # token (ETH, 18 decimals), not a stablecoin's 6.
            from backend.services import views

            view = views.case_view(app.state.ctx.service, case_id, buyer.address)
            assert (view["claimedAmount"], view["currency"], view["decimals"]) == (
                str(ETHER // 2), "ETH", 18)
            # The wallet sent raiseDispute to the escrow itself, and it was mined.
            (tx,) = r["sent"]
            assert tx["to"].lower() == contracts.escrow.address.lower()
            assert r["receiptStatus"] == 1
            order = contracts.escrow.order(order_id)
            assert (int(order.status), "0x" + order.case_id.hex()) == (2, case_id)  # Disputed
            # The service sees it on the chain: nothing is left for the wallet to send.
            app.state.ctx.service.executor.run(case_id)
            assert wallet_transactions(app.state.ctx.service, case_id, buyer.address) == []
    finally:
        revert_to(w3, snap)


def test_a_buyer_with_the_built_in_wallet_freezes_the_escrow_through_the_relay(
        anvil_node: AnvilNode, tmp_path: Path) -> None:
    """No extension: the wallet is made in the page, the claim signed in its prompt, and
    raiseDispute signed in the page and sent through the service's chain relay."""
    w3 = anvil_node.web3()
    snap = snapshot(w3)
    try:
        seller, admin = key("builtin-seller"), key("builtin-admin")
        institution = Account.from_key(INSTITUTION_KEY)
        contracts = deploy_contracts(w3, admin, institution=institution.address, funded=[
            seller.address, admin.address, institution.address])
        open_data = contracts.escrow.contract.encode_abi("openOrder", args=[
            seller.address, "0x" + "00" * 20, ETHER, chain_time(w3) + 20 * 86_400,
            institution.address, rules_hash(DEFAULT_RULES)])
        port = free_port()
        app = create_app(Settings(data_dir=tmp_path / "data", port=port,
                                  institution_admins=admin.address,
                                  institution_key=INSTITUTION_KEY),
                         clock=Clock.running(), port=Web3EscrowPort(contracts.escrow, institution),
                         blockstore=MemoryBlockstore(), background=False)
        app.state.ctx.chain_rpc_url = anvil_node.url  # the pages' relay (web/wallet.py)
        with serve(app, port) as running:
            done = subprocess.run(
                ["node", str(WEB_TESTS / "party_builtin.cjs"), running.base_url, anvil_node.url,
                 contracts.escrow.address, open_data, str(ETHER), str(tmp_path)],
                cwd=REPO, env={**os.environ, "CHROMIUM": find_chromium()},
                capture_output=True, text=True, timeout=300, check=False)
            assert done.returncode == 0, done.stderr[-3000:]
            r = json.loads(done.stdout.strip().splitlines()[-1])
            assert not [m for m in r["console"] if "pageerror" in m], r["console"]
            assert r["external"] == [] and r["kind"] == "builtin"
            assert r["paidStatus"] == "0x1" and "1.000000000000000000 ETH" in r["orderRow"]
            # The prompt said what was signed, in words: the freeze's own description.
            assert "冻结托管资金" in r["txPrompt"], r["txPrompt"]
            assert r["freezeStatus"] == "0x1" and r["txHash"] in r["txResult"]
            (order,) = app.state.ctx.service.port.orders_of(r["address"])
            case_id = case_id_for_order(app.state.ctx.service.domain, order.order_id)
            assert (order.status, order.case_id) == ("Disputed", case_id)
            view = app.state.ctx.service.load(case_id)[1]
            assert view.claimant == r["address"] and view.stage.value == "filed"
            app.state.ctx.service.executor.run(case_id)
            assert wallet_transactions(app.state.ctx.service, case_id, r["address"]) == []
    finally:
        revert_to(w3, snap)
