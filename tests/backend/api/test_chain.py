"""The API on a real chain: anvil, the deployed ArbitrationEscrow and EvidenceAnchor.

The parties' wallets send their own transactions (open the order, raise the dispute); the
service sends the institution's (appoint, submit and execute the award) through
``Web3EscrowPort`` and anchors every step through the anchoring worker. The escrow checks
the arbitrator's EIP-712 signature that came in through the API, and pays out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from sqlmodel import col, select
from web3 import Web3

from backend.api.app import create_app
from backend.chain import (
    ETH,
    Resolution,
    Status,
    Transactor,
    decode_logs,
    deploy_anchor,
    deploy_escrow,
)
from backend.chain.devchain import ETHER, advance_time, chain_time, dev_accounts, fund
from backend.db import AnchorBatch, AnchorStatus, Leaf
from backend.gateway.escrow import Web3EscrowPort
from backend.settings import Settings
from backend.worker.chain_sender import Web3AnchorSender
from evidence.ipfs import MemoryBlockstore
from evidence.records import Award, SignedRecord
from tests.keys import INSTITUTION_KEY
from tests.support.clock import Clock
from tests.support.migrated import migrated
from tests.support.world import Actor, World, filing_payload, ok, sha

pytestmark = pytest.mark.anvil


@pytest.mark.parametrize("backend", ["sqlite", "postgres"])
def test_case_on_anvil_executes_the_award_and_anchors_every_step(
        anvil_w3: Web3, tmp_path: Path, backend: str, make_pg_database: Callable[[], str]) -> None:
    w3 = anvil_w3
    institution = Account.from_key(INSTITUTION_KEY)
    deployer, buyer, seller, admin, mediator, arbitrator, stranger = dev_accounts(
        7, seed="api-chain")
    fund(w3, [a.address for a in (deployer, buyer, seller, admin, mediator, arbitrator,
                                  stranger, institution)], 100 * ETHER)
    tx = Transactor(w3)
    escrow = deploy_escrow(tx, deployer, institutions=[institution.address])
    anchor = deploy_anchor(tx, deployer)
    now = chain_time(w3)
    order_id, _ = escrow.open_order(buyer, seller=seller.address, amount=2 * ETHER,
                                    delivery_deadline=now + 86_400,
                                    institution=institution.address)
    escrow.deposit_guarantee(seller, ETH, 1 * ETHER)

    url = f"sqlite:///{tmp_path / 'chain.sqlite3'}" if backend == "sqlite" \
        else make_pg_database()
    migrated(url)
    clock = Clock(datetime.fromtimestamp(now, UTC))
    port = Web3EscrowPort(escrow, institution)
    app = create_app(Settings(data_dir=tmp_path / "data", database_url=url,
                              institution_admins=admin.address,
                              institution_key=INSTITUTION_KEY), clock=clock,
                     port=port, blockstore=MemoryBlockstore(),
                     anchor_sender=Web3AnchorSender(w3, anchor.address, INSTITUTION_KEY),
                     background=False)
    with TestClient(app) as client:
        world = World(client=client, clock=clock, port=None,  # type: ignore[arg-type]
                      blockstore=None)  # type: ignore[arg-type]  # a real chain, no fake
        keys = {"buyer": buyer, "seller": seller, "admin": admin, "mediator": mediator,
                "arbitrator": arbitrator, "stranger": stranger}
        world.actors = {n: Actor(n, k, world) for n, k in keys.items()}
        world.port = port  # type: ignore[assignment]
        r = ok(world.buyer.post("/cases", json={"orderId": str(order_id)}))
        world.case_id = r["caseId"]
        assert r["guarantee"] == str(ETHER) and r["domain"]["chainId"] == "31337"

        # the order id differs from the helpers' default: file with this one
        payload = {**filing_payload(world, amount=ETHER), "orderId": str(order_id)}
        filed = ok(world.buyer.post(f"/cases/{world.case_id}/filing",
                                    json=world.buyer.plain("case.filed", payload)))
        assert filed["chainActions"][0]["status"] == "awaiting_party"
        escrow.raise_dispute(buyer, order_id, bytes.fromhex(world.case_id[2:]))  # the wallet
        world.tick()
        assert world.admin.case()["chainActions"][0]["status"] == "done"

        for who, action in (("seller", "arbitration.agreed"), ("buyer", "arbitration.agreed"),
                            ("buyer", "facilitation.requested")):
            ok(world.actors[who].post(f"/cases/{world.case_id}/steps",
                                      json=world.actors[who].plain(action)))
        ok(world.admin.post(f"/cases/{world.case_id}/mediator",
                            json=world.admin.appoint("mediator", world.mediator)))
        ok(world.mediator.post(f"/cases/{world.case_id}/impasse",
                               json=world.mediator.plain("impasse.declared")))
        r = ok(world.admin.post(f"/cases/{world.case_id}/arbitrator",
                                json=world.admin.appoint("arbitrator", world.arbitrator)))
        appoint = next(a for a in r["chainActions"] if a["kind"] == "appoint_arbitrator")
        assert appoint["status"] == "done" and appoint["txHash"]
        assert escrow.order(order_id).arbitrator == arbitrator.address
        ok(world.arbitrator.post(f"/cases/{world.case_id}/close-record",
                                 json=world.arbitrator.plain("record.closed")))
        # the Award the arbitrator signed through the API is what the escrow verifies
        doc = b"Reasoned award: partial refund and compensation from the guarantee.\n"
        award = Award(order_id=order_id, case_id=world.case_id, to_buyer=3 * ETHER // 2,
                      to_seller=ETHER // 2, compensation=ETHER // 10, award_hash=sha(doc),
                      round=0).sign(arbitrator.key, port.domain())
        body = {"record": world.arbitrator.step("award.issued",
                                                payload_hash_="0x" + award.record_hash.hex()),
                "attachments": [award.to_json_obj()]}
        r = ok(world.arbitrator.post(f"/cases/{world.case_id}/award", json=body))
        submit = next(a for a in r["chainActions"] if a["kind"] == "submit_award")
        assert submit["status"] == "done", submit
        assert escrow.order(order_id).status == Status.AWARD_SUBMITTED

        # the objection window passes on the chain and in the service
        advance_time(w3, 10 * 86_400 + 60)
        clock.advance(days=10, seconds=60)
        world.tick()
        assert world.admin.case()["stage"] == "final"
        before = w3.eth.get_balance(buyer.address) + escrow.owed(buyer.address, ETH)
        ok(world.stranger.post(f"/cases/{world.case_id}/enforcement",
                               json=world.stranger.plain("enforcement.requested")))
        view = world.admin.case()
        assert view["stage"] == "enforced", view["chainActions"]
        assert escrow.order(order_id).status == Status.RESOLVED
        after = w3.eth.get_balance(buyer.address) + escrow.owed(buyer.address, ETH)
        assert after - before == 3 * ETHER // 2 + ETHER // 10

        # every step was anchored in a confirmed batch on EvidenceAnchor
        report = world.tick()
        assert report["anchored_batches"] >= 1
        with app.state.ctx.sessions() as s:
            leaves = s.exec(select(Leaf).where(col(Leaf.case_id) == world.case_id)).all()
            batches = {b.id: b for b in s.exec(select(AnchorBatch)).all()}
        assert leaves and all(lf.batch_id is not None for lf in leaves)
        assert {batches[lf.batch_id].status for lf in leaves} == {AnchorStatus.CONFIRMED}
        for b in batches.values():
            assert anchor.record(bytes.fromhex(b.root[2:])) is not None


def test_settlement_through_the_api_executes_on_the_escrow(
        anvil_w3: Web3, tmp_path: Path) -> None:
    """Both parties' Settlement signatures, carried by their offer and acceptance through
    the API, are what the escrow checks before it pays out."""
    w3 = anvil_w3
    institution = Account.from_key(INSTITUTION_KEY)
    deployer, buyer, seller, admin = dev_accounts(4, seed="api-settle")
    fund(w3, [a.address for a in (deployer, buyer, seller, admin, institution)], 100 * ETHER)
    tx = Transactor(w3)
    escrow = deploy_escrow(tx, deployer, institutions=[institution.address])
    now = chain_time(w3)
    order_id, _ = escrow.open_order(buyer, seller=seller.address, amount=2 * ETHER,
                                    delivery_deadline=now + 86_400,
                                    institution=institution.address)
    url = f"sqlite:///{tmp_path / 'settle.sqlite3'}"
    migrated(url)
    clock = Clock(datetime.fromtimestamp(now, UTC))
    port = Web3EscrowPort(escrow, institution)
    app = create_app(Settings(data_dir=tmp_path / "data", database_url=url,
                              institution_admins=admin.address,
                              institution_key=INSTITUTION_KEY), clock=clock,
                     port=port, blockstore=MemoryBlockstore(),
                     background=False)
    with TestClient(app) as client:
        world = World(client=client, clock=clock, port=None,  # type: ignore[arg-type]
                      blockstore=None)  # type: ignore[arg-type]  # a real chain, no fake
        world.actors = {n: Actor(n, k, world) for n, k in
                        {"buyer": buyer, "seller": seller, "admin": admin}.items()}
        world.port = port  # type: ignore[assignment]
        world.case_id = ok(world.buyer.post("/cases", json={"orderId": str(order_id)}))["caseId"]
        payload = {**filing_payload(world, amount=ETHER), "orderId": str(order_id)}
        ok(world.buyer.post(f"/cases/{world.case_id}/filing",
                            json=world.buyer.plain("case.filed", payload)))
        escrow.raise_dispute(buyer, order_id, bytes.fromhex(world.case_id[2:]))
        world.tick()

        # the helpers sign Settlements for the default order id: sign this order's here
        from evidence.records import Settlement, SettlementOffer

        def settlement(who: Actor) -> SignedRecord:
            return Settlement(order_id=order_id, case_id=world.case_id, to_buyer=ETHER // 2,
                              to_seller=3 * ETHER // 2, compensation=0
                              ).sign(who.key.key, port.domain())

        seq, prev = world.seller.head()
        offer = SettlementOffer(case_id=world.case_id, sequence=seq, prev_hash=prev,
                                offeror=seller.address, order_id=order_id, to_buyer=ETHER // 2,
                                to_seller=3 * ETHER // 2, compensation=0,
                                expires_at=world.seller.at() + 86_400,
                                signed_at=world.seller.at()).sign(seller.key, port.domain())
        made = ok(world.seller.post(f"/cases/{world.case_id}/offers", json={
            "record": offer.to_json_obj(),
            "attachments": [settlement(world.seller).to_json_obj()]}))
        s = settlement(world.buyer)
        accept = {"offerId": made["recordHash"], "settlementHash": "0x" + s.record_hash.hex()}
        done = ok(world.buyer.post(f"/cases/{world.case_id}/offers/accept", json={
            "record": world.buyer.step("offer.accepted", accept), "payload": accept,
            "attachments": [s.to_json_obj()]}))
        assert done["stage"] == "settled"
        action = next(a for a in done["chainActions"] if a["kind"] == "execute_settlement")
        assert action["status"] == "done" and action["txHash"], action
        assert escrow.order(order_id).status == Status.RESOLVED
        receipt = w3.eth.get_transaction_receipt(action["txHash"])
        (resolved,) = [e for e in decode_logs(receipt["logs"]) if e.name == "OrderResolved"]
        assert (resolved.args["toBuyer"], resolved.args["toSeller"]) == (ETHER // 2,
                                                                         3 * ETHER // 2)
        assert resolved.args["resolution"] == Resolution.SETTLED
