"""Clients of the API as real users are: each holds its own key and signs its own records.

``World`` builds the app on a database URL with an injected clock, an in-memory escrow
(``FakeEscrowPort``) and an in-memory IPFS blockstore; ``Actor`` signs in with
``personal_sign`` and posts EIP-712 records built from the case's ``nextSequence``,
``prevHash`` and ``domain`` exactly as a wallet front-end would.
"""

from __future__ import annotations

import base64
import hashlib
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount
from fastapi.testclient import TestClient

from backend.api.app import create_app
from backend.services.chain import FakeEscrowPort, OrderInfo
from backend.services.steps import payload_hash
from backend.settings import Settings
from evidence.ipfs import Blockstore, LocalBlockstore, MemoryBlockstore
from evidence.records import (
    Award,
    CourtConfirmation,
    Domain,
    Objection,
    ProceduralStep,
    ReturnAward,
    ReturnSettlement,
    Settlement,
    SettlementOffer,
    SignedRecord,
    SignedRecordJson,
    bytes32,
)
from tests.keys import INSTITUTION_KEY
from tests.support.asgi_client import OneTripClient
from tests.support.clock import Clock
from tests.support.snapshots import StageSnapshots

CHAIN_ID = 31_337
ESCROW = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
AMOUNT = 1_000_000_000  # 1,000 USDC (6 decimals)
GUARANTEE = 300_000_000
ORDER_ID = 7


def _key(name: str) -> LocalAccount:
    key: LocalAccount = Account.from_key(
        hashlib.sha256(f"chainarb-api-test:{name}".encode()).digest())
    return key


def b64(data: bytes) -> str:
    return base64.b64encode(data).decode()


def sha(data: bytes) -> str:
    return "0x" + hashlib.sha256(data).hexdigest()


@dataclass
class Actor:
    name: str
    key: LocalAccount
    world: World
    token: str | None = None

    @property
    def address(self) -> str:
        return str(self.key.address)

    @property
    def headers(self) -> dict[str, str]:
        if self.token is None:
            self.sign_in()
        return {"Authorization": f"Bearer {self.token}"}

    def sign_in(self) -> str:
        c = self.world.client
        ch = c.get("/auth/nonce", params={"address": self.address})
        assert ch.status_code == 200, ch.text
        msg = ch.json()["message"]
        sig = self.key.sign_message(encode_defunct(text=msg)).signature.hex()
        r = c.post("/auth/sign-in", json={"message": msg, "signature": "0x" +
                                          sig.removeprefix("0x")})
        assert r.status_code == 200, r.text
        self.token = r.json()["token"]
        return self.token

    # -- reading -------------------------------------------------------------------------
    def _retry(self, send: Any) -> Any:
        """Send; a session that expired while the test moved the clock signs in again."""
        r = send()
        if r.status_code == 401 and "expired" in r.text:
            self.sign_in()
            r = send()
        return r

    def get(self, path: str, **kw: Any) -> Any:
        return self._retry(lambda: self.world.client.get(path, headers=self.headers, **kw))

    def post(self, path: str, json: Any = None) -> Any:
        return self._retry(lambda: self.world.client.post(path, headers=self.headers, json=json))

    def case(self, case_id: str | None = None) -> dict[str, Any]:
        r = self.get(f"/cases/{case_id or self.world.case_id}")
        assert r.status_code == 200, r.text
        view: dict[str, Any] = r.json()
        return view

    # -- signing -------------------------------------------------------------------------
    def head(self, case_id: str | None = None) -> tuple[int, str]:
        """The case's next position and previous record hash (what a wallet signs over)."""
        cid = case_id or self.world.case_id
        view = self.world.admin.case(cid) if self is not self.world.admin else self.case(cid)
        return view["nextSequence"], view["prevHash"]

    def at(self) -> int:
        return int(self.world.clock.now.timestamp())

    def step(self, action: str, payload: dict[str, Any] | None = None, *,
             payload_hash_: str | None = None, sequence: int | None = None,
             prev: str | None = None, case_id: str | None = None,
             domain: Domain | None = None) -> SignedRecordJson:
        seq, prv = self.head(case_id)
        rec = ProceduralStep(
            case_id=bytes32(case_id or self.world.case_id),
            sequence=seq if sequence is None else sequence,
            prev_hash=bytes32(prv if prev is None else prev), actor=self.address, action=action,
            payload_hash=bytes32(payload_hash_ or payload_hash(payload or {})),
            signed_at=self.at())
        return rec.sign(self.key.key, domain or self.world.domain).to_json_obj()

    def settlement(self, to_buyer: int, to_seller: int, compensation: int = 0,
                   no_return: tuple[int, int, int] | None = None) -> SignedRecord:
        """The escrow's Settlement, or with a fallback the ReturnSettlement ("return and
        refund"), signed by this actor."""
        if no_return is not None:
            nb, ns, nc = no_return
            return ReturnSettlement(
                order_id=ORDER_ID, case_id=bytes32(self.world.case_id), to_buyer=to_buyer,
                to_seller=to_seller, compensation=compensation, no_return_to_buyer=nb,
                no_return_to_seller=ns, no_return_compensation=nc,
            ).sign(self.key.key, self.world.domain)
        return Settlement(order_id=ORDER_ID, case_id=bytes32(self.world.case_id), to_buyer=to_buyer,
                          to_seller=to_seller, compensation=compensation
                          ).sign(self.key.key, self.world.domain)

    def offer(self, to_buyer: int, to_seller: int, compensation: int = 0,
              expires_in: int = 3 * 86400, no_return: tuple[int, int, int] | None = None
              ) -> dict[str, Any]:
        seq, prv = self.head()
        rec = SettlementOffer(case_id=bytes32(self.world.case_id), sequence=seq,
                              prev_hash=bytes32(prv),
                              offeror=self.address, order_id=ORDER_ID, to_buyer=to_buyer,
                              to_seller=to_seller, compensation=compensation,
                              expires_at=self.at() + expires_in, signed_at=self.at())
        signed = rec.sign(self.key.key, self.world.domain)
        return {"record": signed.to_json_obj(),
                "attachments": [self.settlement(to_buyer, to_seller, compensation, no_return)
                                .to_json_obj()]}

    def offer_at(self, case_id: str, order_id: int, seq: int, prev: str,
                 to_buyer: int) -> tuple[dict[str, Any], str]:
        """A signed offer (of ``AMOUNT``, no compensation) for an explicit position of any
        case, as concurrent submitters race for it; returns the body and its record hash."""
        rec = SettlementOffer(case_id=bytes32(case_id), sequence=seq, prev_hash=bytes32(prev),
                              offeror=self.address, order_id=order_id, to_buyer=to_buyer,
                              to_seller=AMOUNT - to_buyer, compensation=0,
                              expires_at=self.at() + 86_400, signed_at=self.at())
        signed = rec.sign(self.key.key, self.world.domain)
        settlement = Settlement(order_id=order_id, case_id=bytes32(case_id), to_buyer=to_buyer,
                                to_seller=AMOUNT - to_buyer, compensation=0
                                ).sign(self.key.key, self.world.domain)
        return ({"record": signed.to_json_obj(), "attachments": [settlement.to_json_obj()]},
                "0x" + signed.record_hash.hex())

    def accept(self, offer_id: str, to_buyer: int, to_seller: int, compensation: int = 0,
               no_return: tuple[int, int, int] | None = None) -> dict[str, Any]:
        s = self.settlement(to_buyer, to_seller, compensation, no_return)
        payload = {"offerId": offer_id, "settlementHash": "0x" + s.record_hash.hex()}
        return {"record": self.step("offer.accepted", payload), "payload": payload,
                "attachments": [s.to_json_obj()]}

    def award(self, to_buyer: int, to_seller: int, compensation: int, document: bytes,
              round_: int = 0) -> dict[str, Any]:
        a = Award(order_id=ORDER_ID, case_id=bytes32(self.world.case_id), to_buyer=to_buyer,
                  to_seller=to_seller, compensation=compensation,
                  award_hash=bytes32(sha(document)),
                  round=round_).sign(self.key.key, self.world.domain)
        action = "award.issued" if round_ == 0 else "award.panel_signed"
        return {"record": self.step(action, payload_hash_="0x" + a.record_hash.hex()),
                "attachments": [a.to_json_obj()],
                "document": {"filename": "award.md", "media_type": "text/markdown",
                             "content_base64": b64(document)}}

    def return_award(self, refund: tuple[int, int, int], no_return: tuple[int, int, int],
                     document: bytes) -> dict[str, Any]:
        """A return-and-refund award (the escrow's ReturnAward): the refund once the goods
        are back, the fallback if the buyer misses the return window."""
        (rb, rs, rc), (nb, ns, nc) = refund, no_return
        a = ReturnAward(order_id=ORDER_ID, case_id=bytes32(self.world.case_id), to_buyer=rb,
                        to_seller=rs, compensation=rc, no_return_to_buyer=nb,
                        no_return_to_seller=ns, no_return_compensation=nc,
                        award_hash=bytes32(sha(document)), round=0
                        ).sign(self.key.key, self.world.domain)
        return {"record": self.step("award.issued", payload_hash_="0x" + a.record_hash.hex()),
                "attachments": [a.to_json_obj()],
                "document": {"filename": "award.md", "media_type": "text/markdown",
                             "content_base64": b64(document)}}

    def objection(self, award_record_hash: str, reasons: bytes) -> dict[str, Any]:
        seq, prv = self.head()
        rec = Objection(case_id=bytes32(self.world.case_id), sequence=seq,
                        prev_hash=bytes32(prv), objector=self.address,
                        award_record_hash=bytes32(award_record_hash),
                        reasons_hash=bytes32(sha(reasons)), signed_at=self.at())
        return {"record": rec.sign(self.key.key, self.world.domain).to_json_obj(),
                "document": {"content_base64": b64(reasons)}}

    def court_decision(self, award_record_hash: str, *, confirmed: bool,
                       reasons: str = "", package_hash: str | None = None,
                       downloaded: bool = True) -> dict[str, Any]:
        """A signed CourtConfirmation. The service admits one only for a package exported
        to this court for this case; these worlds have no chain to build one, so
        ``downloaded`` records the download of ``package_hash`` as the package route does
        (``PackageService.record_download``)."""
        package_hash = package_hash or sha(b"package manifest")
        if downloaded:
            self.world.record_package_download(self, package_hash)
        seq, prv = self.head()
        rec = CourtConfirmation(
            case_id=bytes32(self.world.case_id), sequence=seq, prev_hash=bytes32(prv),
            court=self.address, package_hash=bytes32(package_hash),
            award_record_hash=bytes32(award_record_hash), confirmed=confirmed,
            reasons_hash=bytes32(sha(reasons.encode())) if not confirmed else bytes(32),
            court_reference="(2026) Hang 0192 Min Te 17", signed_at=self.at())
        return {"record": rec.sign(self.key.key, self.world.domain).to_json_obj(),
                "reasons": reasons or None}

    def upload(self, content: bytes, *, kind: str = "photo", case_id: str | None = None,
               filename: str = "note.txt") -> Any:
        """POST /cases/{id}/evidence (multipart), as the evidence page does."""
        cid = case_id or self.world.case_id
        return self._retry(lambda: self.world.client.post(
            f"/cases/{cid}/evidence", params={"kind": kind}, headers=self.headers,
            files={"file": (filename, content, "text/plain")}))

    def sign_staged(self, staged: dict[str, Any]) -> SignedRecordJson:
        """The staged upload's EvidenceSubmission, signed (eth_signTypedData_v4)."""
        sig = self.key.sign_typed_data(full_message=staged["typedData"]).signature
        return SignedRecord.from_json_obj(staged["unsignedRecord"]).with_signature(
            bytes(sig)).to_json_obj()

    def evidence_step(self, content: bytes, *, kind: str = "photo",
                      filename: str = "note.txt") -> dict[str, Any]:
        """Upload ``content`` and return the step body of its signed EvidenceSubmission,
        for ``POST /cases/{id}/evidence-submissions`` (the step route)."""
        r = self.upload(content, kind=kind, filename=filename)
        assert r.status_code == 201, r.text
        return {"record": self.sign_staged(r.json()), "payload": {"kind": kind}}

    def appoint(self, role: str, *people: Actor) -> dict[str, Any]:
        action = {"mediator": "appoint.mediator", "arbitrator": "appoint.arbitrator",
                  "panelist": "appoint.panel"}[role]
        payload = {"role": role, "appointees": [p.address for p in people]}
        return {"record": self.step(action, payload), "payload": payload}

    def plain(self, action: str, payload: dict[str, Any] | None = None) -> dict[str, Any]:
        payload = payload or {}
        return {"record": self.step(action, payload), "payload": payload}


@dataclass
class World:
    client: TestClient
    clock: Clock
    port: FakeEscrowPort
    blockstore: Blockstore
    actors: dict[str, Actor] = field(default_factory=dict)
    case_id: str = ""
    db_url: str = ""
    recipe: tuple[Any, ...] = ()  # how make_world made it (snapshots of other worlds differ)
    snapshots: StageSnapshots | None = None  # set: the drivers restore stages built once
    touched: bool = False  # something was written through the API (no snapshot then)

    @property
    def domain(self) -> Domain:
        return self.port.domain()

    def __getattr__(self, name: str) -> Actor:
        actors: dict[str, Actor] = self.__dict__.get("actors", {})
        if name in actors:
            return actors[name]
        raise AttributeError(name)

    @property
    def app(self) -> Any:
        return self.client.app

    def tick(self) -> dict[str, Any]:
        r = self.admin.post("/admin/tick")
        assert r.status_code == 200, r.text
        report: dict[str, Any] = r.json()
        return report

    def record_package_download(self, court: Actor, manifest_sha256: str,
                                case_id: str | None = None) -> None:
        """What ``PackageService.record_download`` stores when a court downloads a package
        (these worlds have no chain to build one)."""
        from backend.db import write_scope
        from backend.db.service_models import CaseEvent
        from backend.services.package import EXPORT_EVENT

        with write_scope(self.app.state.ctx.sessions) as s:
            s.add(CaseEvent(case_id=(case_id or self.case_id).lower(), at=self.clock(),
                            kind=EXPORT_EVENT, data={"court": court.address, "digest": "",
                                                     "manifestSha256": manifest_sha256}))

    def open_case(self, by: str = "buyer", order_id: int = ORDER_ID) -> str:
        r = self.actors[by].post("/cases", json={"orderId": str(order_id)})
        assert r.status_code == 201, r.text
        self.case_id = r.json()["caseId"]
        return self.case_id


NAMES = ("buyer", "seller", "admin", "mediator", "arbitrator", "panel1", "panel2", "panel3",
         "court", "stranger")
# An order of the in-memory escrow: (order id, buyer's name, seller's name).
ORDERS = ((ORDER_ID, "buyer", "seller"),)


def make_world(db_url: str, tmp_path: Path, *, smtp_port: int | None = None,
               orders: tuple[tuple[int, str, str], ...] = ORDERS,
               disk_blocks: bool = False, service_blocks: bool = False,
               anchor_sender: Any = None, **settings: Any) -> World:
    """The app on ``db_url`` (migrated already), an injected fixed clock at ``T0``, the
    in-memory escrow holding ``orders`` (paid; their parties get keys too) and an IPFS
    blockstore in memory, or on disk under ``tmp_path`` with ``disk_blocks``, or the one
    the service builds itself with ``service_blocks`` (step blocks in the database, other
    blocks under the data dir: backend/db/blocks.py)."""
    clock = Clock()
    institution = Account.from_key(INSTITUTION_KEY).address
    port = FakeEscrowPort(chain_id=CHAIN_ID, escrow=ESCROW, institution=institution,
                          clock=clock)
    names = dict.fromkeys([*NAMES, *(n for _, b, s in orders for n in (b, s))])
    keys = {n: _key(n) for n in names}
    for order_id, buyer, seller in orders:
        port.add_order(OrderInfo(order_id=order_id, buyer=keys[buyer].address,
                                 seller=keys[seller].address, amount=AMOUNT,
                                 token="0x" + "11" * 20, institution=institution,
                                 status="Paid", case_id="0x" + "00" * 32,
                                 guarantee=GUARANTEE))
    env: dict[str, Any] = {"data_dir": tmp_path / "data", "database_url": db_url,
                           "institution_admins": keys["admin"].address,
                           "institution_key": INSTITUTION_KEY, **settings}
    if smtp_port is not None:
        env |= {"smtp_host": "127.0.0.1", "smtp_port": smtp_port}
    injected: Blockstore | None = (
        None if service_blocks else LocalBlockstore(tmp_path / "blocks", fsync=False)
        if disk_blocks else MemoryBlockstore())
    app = create_app(Settings(**env), clock=clock, port=port, blockstore=injected,
                     anchor_sender=anchor_sender, background=False)
    blockstore: Blockstore = app.state.ctx.service.blockstore
    client = _Client(app)
    recipe = (orders, disk_blocks, service_blocks, smtp_port, type(anchor_sender).__name__,
              tuple(sorted(map(repr, settings.items()))))
    world = World(client=client, clock=clock, port=port, blockstore=blockstore, db_url=db_url,
                  recipe=recipe)
    client.world = world
    world.actors = {n: Actor(n, k, world) for n, k in keys.items()}
    return world


class _Client(OneTripClient):
    """The world's client (a request is one trip into the app: tests/support/asgi_client.py):
    notes a write (signing in aside), after which the drivers replay instead of restoring a
    snapshot over what the test wrote."""

    world: World | None = None

    def request(self, method: str, url: Any, *args: Any, **kw: Any) -> Any:
        if (self.world is not None and method.upper() not in ("GET", "HEAD", "OPTIONS")
                and not str(url).startswith("/auth/")):
            self.world.touched = True
        return super().request(method, url, *args, **kw)


def filing_payload(world: World, *, claimant: str = "buyer", dispute: str = "not_as_described",
                   remedy: str = "partial_refund", amount: int = 400_000_000,
                   statement: bytes = b"The LED panels arrived cracked.") -> dict[str, Any]:
    c = world.actors[claimant]
    other = world.seller if claimant == "buyer" else world.buyer
    return {"claimant": c.address, "respondent": other.address, "orderId": str(ORDER_ID),
            "disputeType": dispute, "remedy": remedy, "claimedAmount": str(amount),
            "statementHash": sha(statement)}


def file_claim(world: World, **kw: Any) -> dict[str, Any]:
    claimant = kw.get("claimant", "buyer")
    payload = filing_payload(world, **kw)
    r = world.actors[claimant].post(f"/cases/{world.case_id}/filing",
                                    json=world.actors[claimant].plain("case.filed", payload))
    assert r.status_code == 201, r.text
    filed: dict[str, Any] = r.json()
    return filed


# -- bringing a case to a stage (each step through HTTP, signed by its actor) ----------------
# Each driver is staged: on a fresh world with ``snapshots`` set it restores the stage built
# once per session (tests/support/snapshots.py); otherwise it replays the steps.

def _staged(stage: str, build: Callable[[World], Any]) -> Callable[[World], Any]:
    def reach(w: World) -> Any:
        if w.snapshots is None:
            return build(w)
        return w.snapshots.reach(stage, w, build)
    reach.__name__ = reach.__qualname__ = f"to_{stage}"
    reach.__doc__ = build.__doc__
    return reach


def ok(r: Any) -> Any:
    """The answer's JSON (an object or a list), once the status says it succeeded."""
    assert r.status_code in (200, 201), r.text
    return r.json()


def _to_filed(w: World) -> None:
    w.open_case("buyer")
    file_claim(w)
    w.port.party_raises_dispute(ORDER_ID, w.case_id)


to_filed: Callable[[World], None] = _staged("filed", _to_filed)


def _to_negotiation(w: World) -> None:
    to_filed(w)
    ok(w.seller.post(f"/cases/{w.case_id}/arbitration-agreement",
                     json=w.seller.plain("arbitration.agreed")))
    ok(w.buyer.post(f"/cases/{w.case_id}/arbitration-agreement",
                    json=w.buyer.plain("arbitration.agreed")))


to_negotiation: Callable[[World], None] = _staged("negotiation", _to_negotiation)


def _to_facilitation(w: World) -> None:
    to_negotiation(w)
    ok(w.buyer.post(f"/cases/{w.case_id}/facilitation",
                    json=w.buyer.plain("facilitation.requested")))
    ok(w.admin.post(f"/cases/{w.case_id}/mediator", json=w.admin.appoint("mediator", w.mediator)))


to_facilitation: Callable[[World], None] = _staged("facilitation", _to_facilitation)


def _to_evidence(w: World) -> None:
    to_facilitation(w)
    ok(w.mediator.post(f"/cases/{w.case_id}/impasse", json=w.mediator.plain("impasse.declared")))
    ok(w.admin.post(f"/cases/{w.case_id}/arbitrator",
                    json=w.admin.appoint("arbitrator", w.arbitrator)))


to_evidence: Callable[[World], None] = _staged("evidence", _to_evidence)


AWARD_DOC = b"# Award\nThe goods were not as described. Buyer 600 + 50 compensation.\n"


def _to_awarded(w: World) -> dict[str, Any]:
    to_evidence(w)
    ok(w.arbitrator.post(f"/cases/{w.case_id}/close-record",
                         json=w.arbitrator.plain("record.closed")))
    awarded: dict[str, Any] = ok(w.arbitrator.post(
        f"/cases/{w.case_id}/award",
        json=w.arbitrator.award(600_000_000, 400_000_000, 50_000_000, AWARD_DOC)))
    return awarded


to_awarded: Callable[[World], dict[str, Any]] = _staged("awarded", _to_awarded)


def award_record_hash(w: World) -> str:
    steps = [i for i in ok(w.admin.get(f"/cases/{w.case_id}/timeline")) if i["type"] == "step"]
    seq = next(i["sequence"] for i in steps if i["action"] == "award.issued")
    step = ok(w.admin.get(f"/cases/{w.case_id}/steps/{seq}"))
    award = SignedRecord.from_json_obj(step["attachments"][0])
    return "0x" + award.record_hash.hex()
