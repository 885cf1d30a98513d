"""A live service for the page tests: uvicorn on a free 127.0.0.1 port in a thread, SQLite in
a temporary dir, an in-memory escrow (the pages never touch the chain) and one case driven
through the HTTP API by clients holding their own keys (``backend.demo.Client``)."""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import pytest
from eth_account import Account
from sqlmodel import col, select

from backend.api.app import create_app
from backend.db.models import AnchorBatch, AnchorInclusion, AnchorStatus, Leaf
from backend.demo import Client, free_port, make_photo_jpeg, serve, upload_evidence
from backend.services.chain import FakeEscrowPort, OrderInfo
from backend.services.escrow import TokenMeta
from backend.settings import Settings
from evidence.ipfs import MemoryBlockstore
from evidence.records import SignedRecord
from tests.keys import INSTITUTION_KEY
from tests.support.clock import Clock

WEB_TESTS = Path(__file__).resolve().parent
REPO = WEB_TESTS.parents[2]
CHAIN_ID = 31_415_926
ESCROW = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
ORDER_ID = 42
ORDER_2 = 43  # a second case, left in negotiation for the action tests
AMOUNT = 480_000_000
GUARANTEE = 200_000_000
TOKEN = "0x" + "11" * 20  # the orders' token: a 6-decimal stablecoin, "tUSD"
ROOT = "0x" + "ab" * 32
TX = "0x" + "cd" * 32


def find_chromium() -> str:
    """Debian's chromium for the browser tests, installed with apt when missing."""
    found = shutil.which("chromium")
    if found:
        return found
    done = subprocess.run(["apt-get", "install", "-y", "--no-install-recommends", "chromium"],
                          capture_output=True, text=True, timeout=600, check=False)
    found = shutil.which("chromium")
    if not found:
        pytest.fail("chromium is missing and `apt-get install -y chromium` failed "
                    f"({done.returncode}): {done.stderr[-500:]}; .ci/run installs it")
    return found


def key(name: str) -> Any:
    return Account.from_key(hashlib.sha256(f"chainarb-web-test:{name}".encode()).digest())


@dataclass
class WebWorld:
    base: str
    app: Any
    case_id: str
    clients: dict[str, Client]
    case2: str = ""
    clock: Any = None  # the service's running Clock (tests move it forward)
    port: Any = None  # the in-memory escrow (FakeEscrowPort)

    def token(self, who: str) -> str:
        return self.clients[who].token



def record_package_download(world: WebWorld, court: str, case_id: str, manifest: str,
                            digest: str = "") -> None:
    """What ``PackageService.record_download`` stores when a court downloads a package
    (the in-memory escrow has no chain to build one)."""
    from backend.db import write_scope
    from backend.db.service_models import CaseEvent
    from backend.services.package import EXPORT_EVENT

    with write_scope(world.app.state.ctx.sessions) as s:
        s.add(CaseEvent(case_id=case_id.lower(), at=world.clock(), kind=EXPORT_EVENT,
                        data={"court": court, "digest": digest,
                              "manifestSha256": manifest}))


def token_case(world: WebWorld, order_id: int, token: str, meta: TokenMeta | None,
               amount: int, guarantee: int) -> str:
    """A case filed and frozen on an order paid in ``token`` (``meta``: what its ERC-20
    ``symbol()`` and ``decimals()`` answer; None for ether, the zero address)."""
    buyer, seller = world.clients["buyer"], world.clients["seller"]
    institution = world.port.institution_address
    if meta is not None:
        world.port.tokens[token.lower()] = meta
    world.port.add_order(OrderInfo(order_id=order_id, buyer=buyer.address, seller=seller.address,
                                   amount=amount, token=token, institution=institution,
                                   status="Paid", case_id="0x" + "00" * 32,
                                   guarantee=guarantee))
    case_id: str = buyer.post("/cases", {"orderId": str(order_id)})["caseId"]
    buyer.post(f"/cases/{case_id}/filing", buyer.plain(case_id, "case.filed", {
        "claimant": buyer.address, "respondent": seller.address, "orderId": str(order_id),
        "disputeType": "not_as_described", "remedy": "partial_refund",
        "claimedAmount": str(amount // 2),
        "statementHash": "0x" + hashlib.sha256(b"cracked").hexdigest()}))
    world.port.party_raises_dispute(order_id, case_id)
    world.app.state.ctx.service.executor.run(case_id)
    return case_id


ADVANCE_RULES = "chainarb-rules-1-advance-refund-1"  # rules that provide for advances


def advance_case(world: WebWorld, order_id: int, deliver_within: int = 4) -> str:
    """An order opened at checkout under a contract of sale whose rules provide for an
    advance refund, bound to its case and frozen; the seller must deliver within
    ``deliver_within`` seconds (real time: the pages' clock runs), and the offer expires a
    second before (a contract's offer expires before its delivery deadline)."""
    from evidence.marketplace import MarketplaceClient, contract_of_sale
    from evidence.records import Domain

    buyer, seller = world.clients["buyer"], world.clients["seller"]
    now = int(world.clock().timestamp())
    contract = contract_of_sale(
        buyer=buyer.address, seller=seller.address, institution=world.port.institution_address,
        token=TOKEN, amount=AMOUNT, goods="LED panel 60x60 cm / LED 面板 60x60 厘米",
        quantity=24, delivery_terms="DAP Hamburg (Incoterms 2020)",
        delivery_deadline=now + deliver_within, offer_expires_at=now + deliver_within - 1,
        offer_id=order_id.to_bytes(32, "big"), rules_version=ADVANCE_RULES)
    with httpx.Client(base_url=world.base, timeout=30) as http:
        market = MarketplaceClient(client=http)
        domain = Domain.from_json_obj(http.get("/eip712-domain").json())
        signatures = [contract.sign(bytes(key(w).key), domain).signatures[0]
                      for w in ("buyer", "seller")]
        market.propose(contract, signatures)
        digest = "0x" + contract.digest(domain).hex()
        world.port.add_order(OrderInfo(
            order_id=order_id, buyer=buyer.address, seller=seller.address, amount=AMOUNT,
            token=TOKEN, institution=world.port.institution_address, status="Paid",
            case_id="0x" + "00" * 32, guarantee=GUARANTEE,
            delivery_deadline=contract.delivery_deadline,
            rules_hash="0x" + contract.rules_hash.hex(), contract_hash=digest))
        case_id = str(market.bind(digest)["caseId"])
    world.port.party_raises_dispute(order_id, case_id)
    world.app.state.ctx.service.executor.run(case_id)
    return case_id


def declare_profile(world: WebWorld, who: str, name: str, name_zh: str, **more: Any
                    ) -> httpx.Response:
    """``who`` signs a Profile with their key and sends it through /ui/api/profile."""
    from backend.web import COOKIE
    from evidence.records import Domain, Profile

    domain = Domain.from_json_obj(httpx.get(world.base + "/eip712-domain").json())
    address = world.clients[who].address
    rec = Profile(subject=address, issuer=address, name=name, name_zh=name_zh,
                  country=more.get("country", ""), language=more.get("language", ""),
                  contact=more.get("contact", ""),
                  signed_at=more.get("signed_at", int(world.clock().timestamp())))
    return httpx.put(world.base + "/ui/api/profile",
                     json={"record": rec.sign(key(who).key, domain).to_json_obj()},
                     cookies={COOKIE: world.token(who)}, headers={"X-Chainarb-UI": "1"},
                     timeout=30)


def prepared_step(world: WebWorld, who: str, case_id: str, action: str,
                  fields: dict[str, Any], **extra: Any) -> Any:
    """A step through the API, not the page: prepared by the service and signed with
    eth-account (the steps a test needs before the one it drives through the browser)."""
    c = world.clients[who]
    prep = c.post(f"/cases/{case_id}/steps/prepare", {"action": action, "payload": fields})

    def sign(typed: dict[str, Any]) -> str:
        return "0x" + bytes(Account.sign_typed_data(key(who).key, full_message=typed)
                            .signature).hex()

    return c.post(prep["endpoint"], {
        "record": {**prep["unsignedRecord"], "signatures": [sign(prep["typedData"])]},
        "payload": prep["payload"], **extra,
        "attachments": [{**a["unsignedRecord"], "signatures": [sign(a["typedData"])]}
                        for a in prep["attachments"]]})

@contextmanager
def web_world(tmp_path: Path, **settings: Any) -> Iterator[WebWorld]:
    """The world; ``settings``: more of the service's settings (e.g. the fast track's)."""
    clock = Clock.running()  # the browser signs with Date.now(): the service runs on real time
    institution = Account.from_key(INSTITUTION_KEY).address
    keys = {n: key(n) for n in ("buyer", "seller", "admin", "mediator", "stranger",
                                "arbitrator", "court")}
    fake = FakeEscrowPort(chain_id=CHAIN_ID, escrow=ESCROW, institution=institution,
                          clock=clock)
    fake.tokens[TOKEN] = TokenMeta("tUSD", 6)  # what its symbol() and decimals() answer
    fake.add_order(OrderInfo(order_id=ORDER_ID, buyer=keys["buyer"].address,
                             seller=keys["seller"].address, amount=AMOUNT,
                             token=TOKEN, institution=institution, status="Paid",
                             case_id="0x" + "00" * 32, guarantee=GUARANTEE))
    fake.add_order(OrderInfo(order_id=ORDER_2, buyer=keys["buyer"].address,
                             seller=keys["seller"].address, amount=AMOUNT,
                             token=TOKEN, institution=institution, status="Paid",
                             case_id="0x" + "00" * 32, guarantee=GUARANTEE))
    port = free_port()
    config = Settings(data_dir=tmp_path / "data", port=port,
                      institution_admins=keys["admin"].address,
                      institution_key=INSTITUTION_KEY, **settings)
    app = create_app(config, clock=clock, port=fake, blockstore=MemoryBlockstore(),
                     background=False)
    with serve(app, port) as running, httpx.Client(base_url=running.base_url,
                                                    timeout=30) as http:
        c = {n: Client(n, n, k, http, clock) for n, k in keys.items()}
        for cl in c.values():
            cl.sign_in()
        buyer, seller, admin, mediator = c["buyer"], c["seller"], c["admin"], c["mediator"]
        case_id = buyer.post("/cases", {"orderId": str(ORDER_ID)})["caseId"]
        filing = {"claimant": buyer.address, "respondent": seller.address,
                  "orderId": str(ORDER_ID), "disputeType": "not_as_described",
                  "remedy": "partial_refund", "claimedAmount": str(120_000_000),
                  "statementHash": "0x" + hashlib.sha256(b"<b>cracked</b>").hexdigest()}
        buyer.post(f"/cases/{case_id}/filing", buyer.plain(case_id, "case.filed", filing))
        fake.party_raises_dispute(ORDER_ID, case_id)  # the buyer's wallet freezes the escrow
        upload_evidence(buyer, case_id, "photo", "crack.jpg", "image/jpeg", make_photo_jpeg())
        buyer.post(f"/cases/{case_id}/facilitation",
                   buyer.plain(case_id, "facilitation.requested"))
        admin.post(f"/cases/{case_id}/mediator", admin.plain(
            case_id, "appoint.mediator", {"role": "mediator", "appointees": [mediator.address]}))
        # A caucus item: only the mediator (and the seller itself) may know of it.
        upload_evidence(seller, case_id, "invoice", "secret-terms.txt", "text/plain",
                        b"confidential price list for the mediator only\n")
        _anchor_everything(app, case_id)
        case2 = buyer.post("/cases", {"orderId": str(ORDER_2)})["caseId"]
        buyer.post(f"/cases/{case2}/filing", buyer.plain(case2, "case.filed", {
            **filing, "orderId": str(ORDER_2)}))
        fake.party_raises_dispute(ORDER_2, case2)
        app.state.ctx.service.executor.run()  # the service sees both freezes on the "chain"
        yield WebWorld(running.base_url, app, case_id, c, case2, clock, fake)


def _anchor_everything(app: Any, case_id: str) -> None:
    """Stand-in for the anchoring worker (no chain here): one confirmed batch."""
    with app.state.ctx.sessions() as session:
        leaves = session.exec(select(Leaf).where(col(Leaf.case_id) == case_id)).all()
        batch = AnchorBatch(root=ROOT, leaf_count=len(leaves), status=AnchorStatus.CONFIRMED)
        session.add(batch)
        session.flush()
        assert batch.id is not None
        session.add(AnchorInclusion(batch_id=batch.id, chain_id=CHAIN_ID, contract=ESCROW,
                                    status=AnchorStatus.CONFIRMED, tx_hash=TX, block_number=7,
                                    block_hash="0x" + "ef" * 32,
                                    block_time=datetime(2026, 11, 24, 8, 30, tzinfo=UTC)))
        for leaf in leaves:
            leaf.batch_id = batch.id
            session.add(leaf)
        session.commit()


def page_act(world: WebWorld, case_id: str, who: str, lang: str, step: str, png: Path,
             extra: dict[str, Any] | None = None) -> dict[str, Any]:
    """One step taken through the case page in chromium by `who` (act.cjs); its output."""
    done = subprocess.run(
        ["node", str(WEB_TESTS / "act.cjs"), world.base, case_id, "0x" + bytes(key(who).key).hex(),
         lang, str(png), step, json.dumps(extra or {})],
        cwd=REPO, env={**os.environ, "CHROMIUM": find_chromium()}, capture_output=True,
        text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert not [m for m in out["console"] if "pageerror" in m], out
    return out


def hash_of_typed(typed: dict[str, Any]) -> str:
    """The record hash of typed data a wallet signed (the service's own decoder)."""
    rec = SignedRecord.from_json_obj({"format": "chainarb.record", "v": 1,
                                      "type": typed["primaryType"], "domain": typed["domain"],
                                      "message": typed["message"], "signatures": []})
    return "0x" + rec.record_hash.hex()


def case_steps(world: WebWorld, case_id: str) -> list[dict[str, Any]]:
    """The steps of the case's timeline, as the institution reads them."""
    return [i for i in world.clients["admin"].get(f"/cases/{case_id}/timeline")
            if i["type"] == "step"]
