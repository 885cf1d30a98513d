"""The service as ``chainarb serve`` composes it, for the whole case through the pages.

Unlike ``tests/backend/web/web_world.py`` (an in-memory escrow), this is the real thing:
the embedded chain (anvil in the data dir) and a local time-stamping authority, the
contracts deployed by the service at start, the escrow port signing with the institution
key, the anchoring worker and the service's own background ticks (deadlines, chain
actions, anchoring every tick), SQLite and the local IPFS blockstore in a temporary data
dir, uvicorn on a free loopback port.

What happens outside the portal is done here, as the shop and the chain would: the trade
(``open_order``: the seller deposits a guarantee, the buyer pays an order into escrow under
the institution's published rules), and funding gas for the parties' wallets. Everything
else is done by the people in the pages (``tests/portal/scenarios/``).
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount

from backend.demo.serving import free_port, serve
from backend.settings import Settings

UNIT = 10**6  # the test stablecoin has 6 decimals
PRICE = 480 * UNIT
GUARANTEE = 200 * UNIT
GAS_WEI = 10**18  # each party's wallet gets 1 ETH for gas (raiseDispute, objectToAward)
DAY = 86_400


@dataclass
class ChainWorld:
    base: str
    app: Any
    settings: Settings
    rpc_url: str
    chain_id: int
    escrow: Any  # backend.chain.EscrowContract
    token: Any  # backend.chain.TokenContract
    institution: LocalAccount
    orders: list[int] = field(default_factory=list)

    @property
    def ctx(self) -> Any:
        return self.app.state.ctx

    def fund(self, address: str, wei: int = GAS_WEI) -> None:
        """Gas for a person's wallet, from the institution (a plain transfer)."""
        from backend.demo.chain import send_eth

        send_eth(self.escrow.tx.w3, self.institution, address, wei)

    def open_order(self, buyer: LocalAccount, seller: LocalAccount, *,
                   amount: int = PRICE, guarantee: int = GUARANTEE) -> int:
        """The trade, done in the shop with the parties' own keys: tokens minted to both,
        the seller's guarantee deposited, the buyer's order paid into escrow under the
        rules the institution publishes. Returns the order id."""
        from backend.services.package import rules_hash

        for who in (buyer, seller):
            self.fund(who.address)
            self.token.mint(who, who.address, 1_000 * UNIT)
        self.token.approve(seller, self.escrow.address, guarantee)
        self.escrow.deposit_guarantee(seller, self.token.address, guarantee)
        self.token.approve(buyer, self.escrow.address, amount)
        now = int(self.escrow.tx.w3.eth.get_block("latest")["timestamp"])
        order_id, _ = self.escrow.open_order(
            buyer, seller=seller.address, amount=amount, delivery_deadline=now + 30 * DAY,
            institution=self.institution.address, token=self.token.address,
            rules_hash=rules_hash(self.ctx.service.config.rules))
        self.orders.append(order_id)
        return int(order_id)

    def order_status(self, order_id: int) -> str:
        return str(self.escrow.order(order_id).status)

    def wait_for(self, what: str, check: Any, timeout: float = 60.0) -> Any:
        """Poll ``check()`` until it returns something truthy (the service's own ticks
        move the case); fails with ``what`` after ``timeout`` seconds."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            found = check()
            if found:
                return found
            time.sleep(0.5)
        raise AssertionError(f"timed out waiting for {what}")


def _uses_web_router(app: Any) -> bool:
    return any(getattr(r, "path", "") == "/ui/cases" for r in app.routes)


@contextmanager
def chain_world(tmp_path: Path, *, admins: list[str]) -> Iterator[ChainWorld]:
    """The composed service on the embedded chain, serving on loopback (see module doc),
    with a local RFC 3161 authority (the judicial package needs a token per root)."""
    from backend.local_tsa import LocalTsa

    port = free_port()
    tsa = LocalTsa(tmp_path / "tsa")  # `openssl ts` on loopback: each root gets a token
    tsa_url = tsa.start()
    settings = Settings(data_dir=tmp_path / "data", port=port,
                        institution_admins=",".join(admins), tick_seconds=0.5,
                        anchor_interval_seconds=0.0, tsa_urls=[tsa_url],
                        tsa_cert_files=[tsa.chain_pem])
    try:
        with _serving(settings) as world:
            yield world
    finally:
        tsa.stop()


@contextmanager
def _serving(settings: Settings) -> Iterator[ChainWorld]:
    from backend.api.app import create_app
    from backend.chain import EscrowContract, TokenContract, Transactor

    app = create_app(settings)  # background ticks on, as `chainarb serve`
    if not _uses_web_router(app):
        from backend.web import router

        app.include_router(router)
    deployment = json.loads(settings.deployment_path.read_text())
    escrow_port = app.state.ctx.service.port
    escrow = EscrowContract(escrow_port.escrow.tx, deployment["escrow"])
    tx: Transactor = escrow.tx
    token = TokenContract(tx, deployment["token"])
    institution = Account.from_key(settings.institution_private_key())
    rpc_url = str(tx.w3.provider.endpoint_uri)  # type: ignore[attr-defined]
    with serve(app, settings.port) as running:
        yield ChainWorld(base=running.base_url, app=app, settings=settings, rpc_url=rpc_url,
                         chain_id=tx.chain_id, escrow=escrow, token=token,
                         institution=institution)
