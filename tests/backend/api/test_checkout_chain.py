"""Checkout on a real escrow: the buyer's wallet opens the order with
``openOrderWithContract``, the service binds the contract read back from the chain
(``orderOfContract``, ``getOrder``), the case starts with the agreement to arbitrate, and the
contract's leaf is anchored on EvidenceAnchor with the case's records. In-process EVM and
anvil; SQLite and PostgreSQL.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from eth_account import Account
from fastapi.testclient import TestClient
from sqlmodel import col, select
from web3 import Web3

from backend.api.app import create_app
from backend.chain import ETH, Status, Transactor, deploy_anchor, deploy_escrow, errors
from backend.chain.devchain import ETHER, chain_time, dev_accounts, fund, in_process_web3
from backend.db import AnchorBatch, AnchorStatus, Leaf, LeafKind
from backend.gateway.escrow import Web3EscrowPort
from backend.settings import Settings
from backend.worker.chain_sender import Web3AnchorSender
from evidence.events import CONTRACT_OF_SALE_BOUND, find_events
from evidence.ipfs import MemoryBlockstore
from evidence.marketplace import CheckoutRefusedError, MarketplaceClient, contract_of_sale
from evidence.records import ContractOfSale
from tests.keys import INSTITUTION_KEY
from tests.support.clock import Clock
from tests.support.migrated import migrated
from tests.support.world import Actor, World, ok

DAY = 86_400


@pytest.fixture(params=["evm", pytest.param("anvil", marks=pytest.mark.anvil)])
def chain(request: pytest.FixtureRequest) -> Iterator[Web3]:
    if request.param == "evm":
        yield in_process_web3()
    else:
        yield request.getfixturevalue("anvil_w3")


@pytest.mark.parametrize("backend", ["sqlite", pytest.param("postgres",
                                                            marks=pytest.mark.postgres)])
def test_checkout_binds_the_order_opened_on_chain(
        chain: Web3, tmp_path: Path, backend: str,
        make_pg_database: Callable[[], str]) -> None:
    w3 = chain
    institution = Account.from_key(INSTITUTION_KEY)
    deployer, buyer, seller, admin = dev_accounts(4, seed="checkout-chain")
    fund(w3, [a.address for a in (deployer, buyer, seller, admin, institution)], 100 * ETHER)
    tx = Transactor(w3)
    escrow = deploy_escrow(tx, deployer, institutions=[institution.address])
    anchor = deploy_anchor(tx, deployer)
    now = chain_time(w3)
    url = f"sqlite:///{tmp_path / 'checkout.sqlite3'}" if backend == "sqlite" \
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
        world.actors = {n: Actor(n, k, world) for n, k in
                        {"buyer": buyer, "seller": seller, "admin": admin}.items()}
        market = MarketplaceClient(client=client)
        domain = market.domain()
        assert domain == escrow.domain()  # the escrow's own ERC-5267 domain

        def contract(offer: int, amount: int = 2 * ETHER) -> tuple[str, ContractOfSale]:
            c = contract_of_sale(
                buyer=buyer.address, seller=seller.address, institution=institution.address,
                token=ETH, amount=amount, goods="Ceramic tea set, 12 pieces / 陶瓷茶具十二件",
                quantity=3, delivery_terms="DDP Rotterdam (Incoterms 2020)",
                delivery_deadline=now + 20 * DAY, offer_expires_at=now + DAY,
                offer_id=bytes([offer]) * 32)
            sigs = [c.sign(k.key, domain).signatures[0] for k in (buyer, seller)]
            key = market.propose(c, sigs)["contractHash"]
            return key, c

        key, c = contract(1)
        # the buyer's wallet opens the escrow under the contract's hash
        order_id, opened = escrow.open_order(
            buyer, seller=seller.address, amount=2 * ETHER, delivery_deadline=now + 20 * DAY,
            institution=institution.address, rules_hash=c.rules_hash,
            contract_hash=bytes.fromhex(key[2:]))
        assert [e.name for e in opened.events] == ["OrderOpened", "ContractOfSaleBound"]
        assert escrow.order(order_id).contract_hash.hex() == key[2:]
        # a verifier finds the binding with evidence alone (no artifact of ours)
        found = find_events(w3, CONTRACT_OF_SALE_BOUND, escrow.address,
                            contractHash=bytes.fromhex(key[2:]))
        assert [e.args["orderId"] for e in found] == [order_id]
        bound = market.bind(key)
        assert (bound["status"], bound["orderId"], bound["arbitrationAgreed"]) == (
            "bound", str(order_id), True)
        assert bound["caseId"] is not None
        world.case_id = bound["caseId"]
        assert world.buyer.case()["arbitrationAgreed"] is True
        assert escrow.order(order_id).status == Status.PAID  # nothing sent by binding

        # the same contract cannot escrow a second order
        with pytest.raises(errors.ArbitrationEscrowContractAlreadyBound):
            escrow.open_order(buyer, seller=seller.address, amount=2 * ETHER,
                              delivery_deadline=now + 20 * DAY,
                              institution=institution.address,
                              contract_hash=bytes.fromhex(key[2:]))

        # an order escrowing less than the contract's price is not bound
        short_key, short = contract(2)
        escrow.open_order(buyer, seller=seller.address, amount=ETHER,
                          delivery_deadline=now + 20 * DAY, institution=institution.address,
                          rules_hash=short.rules_hash,
                          contract_hash=bytes.fromhex(short_key[2:]))
        with pytest.raises(CheckoutRefusedError) as caught:
            market.bind(short_key)
        assert caught.value.code == "contract_price_mismatch"

        # the contract's leaf is anchored with the case
        report = world.tick()
        assert report["anchored_batches"] >= 1, report
        with app.state.ctx.sessions() as s:
            leaf = s.exec(select(Leaf).where(col(Leaf.kind) == LeafKind.CONTRACT)).one()
            batch = s.get(AnchorBatch, leaf.batch_id)
        assert leaf.case_id == world.case_id and leaf.value[1] == key
        assert batch is not None and batch.status == AnchorStatus.CONFIRMED
        assert anchor.record(bytes.fromhex(batch.root[2:])) is not None
        assert ok(world.seller.get(f"/contracts/{key}"))["orderId"] == str(order_id)
