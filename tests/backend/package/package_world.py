"""A case on a real EVM (in-process py-evm): escrow, anchors, the service, real wallets.

The parties' wallets act on-chain themselves (open and pay the order, deposit the
guarantee, raise the dispute); the service acts with the institution key (appointments,
award relay and execution) and anchors every record in Merkle batches; a local ``openssl
ts`` authority dates each anchored root.
"""

from __future__ import annotations

import functools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from pathlib import Path
from typing import Any

from eth_account import Account
from sqlmodel import select
from web3 import Web3

from backend.api.app import create_app
from backend.chain.contracts import EscrowContract, Timeouts, Transactor, deploy_anchor
from backend.chain.devchain import (
    AnvilNode,
    advance_time,
    chain_time,
    in_process_web3,
    revert_to,
    snapshot,
)
from backend.db import Leaf
from backend.gateway.escrow import Web3EscrowPort
from backend.procedure import DEFAULT_RULES
from backend.services.package import rules_hash
from backend.settings import Settings
from backend.worker.chain_sender import Web3AnchorSender
from tests.keys import INSTITUTION_KEY
from tests.support.chain_snapshots import ChainSnapshots, recanonicalise
from tests.support.clock import Clock
from tests.support.evidence import upload_and_submit
from tests.support.evm import ETHER, deploy_contracts
from tests.support.identity import declare_profile, disclose
from tests.support.tsa import LocalTSA
from tests.support.world import NAMES, Actor, World, _Client, _key, filing_payload, sha

AMOUNT = 2 * ETHER
GUARANTEE = 1 * ETHER


@dataclass
class ChainWorld:
    world: World
    w3: Web3
    escrow: EscrowContract
    order_id: int
    tsa: LocalTSA
    anchor: str = ""  # the EvidenceAnchor the service anchors on
    data_dir: Path = Path()  # the service's
    recipe: tuple[Any, ...] = ()  # how it was made (snapshots of other worlds differ)
    snapshots: ChainSnapshots | None = None  # set: the drivers restore cases run once
    # the chain and the clock as make_chain_world left them (set when made)
    fresh_block: int = field(init=False)
    fresh_now: datetime = field(init=False)

    def __post_init__(self) -> None:
        self.fresh_block = self.w3.eth.block_number
        self.fresh_now = self.world.clock.now

    @property
    def case_id(self) -> str:
        return self.world.case_id

    def advance(self, **delta: float) -> None:
        """Move the service's clock, and the chain's as far as needed to stay no earlier:
        in the real world both read the one real time, so nothing is signed after the block
        that anchors it (the verifier's `clocks` check)."""
        now = int(self.world.clock.advance(**delta).timestamp())
        behind = now - chain_time(self.w3)
        if behind > 0:
            advance_time(self.w3, behind)

    def anchor_all(self, rounds: int = 6) -> None:
        """Tick until every leaf of the case is in a confirmed batch."""
        for _ in range(rounds):
            self.world.tick()
            with self.world.app.state.ctx.sessions() as s:
                open_ = [lf for lf in s.exec(select(Leaf)).all() if lf.batch_id is None]
            if not open_:
                self.world.tick()  # confirm the last batch
                return
        raise AssertionError("leaves still unanchored after several ticks")


@dataclass(frozen=True)
class SecondChain:
    """An anvil node anchoring every root beside the service's chain (CHAINARB_ANCHOR_CHAINS)."""

    node: AnvilNode
    anchor: str
    name: str = "Second chain"
    independent: bool = True


def second_chain(state_dir: Path) -> SecondChain:
    """Start anvil (chain id 1002, its state kept in `state_dir` across a restart), give the
    institution gas, deploy EvidenceAnchor."""
    node = AnvilNode(state_path=state_dir / "chain-1002.json",
                     extra_args=("--chain-id", "1002")).start()
    institution = Account.from_key(INSTITUTION_KEY)
    node.web3().provider.make_request("anvil_setBalance",  # type: ignore[arg-type]
                                      [institution.address, hex(10**20)])
    return SecondChain(node, deploy_anchor(Transactor(node.web3()), institution).address)


@dataclass(frozen=True)
class Deployed:
    """A chain with the escrow and the anchor deployed and the world's order paid."""

    w3: Web3
    escrow: EscrowContract
    anchor: str
    order_id: int


def deploy(w3: Web3) -> Deployed:
    """On `w3`: the contracts from the admin's key, every actor and the institution funded,
    the buyer's order opened and paid. The same on every fresh chain (same keys, same
    nonces): the same addresses and order id."""
    keys = {n: _key(n) for n in NAMES}
    institution = Account.from_key(INSTITUTION_KEY)
    contracts = deploy_contracts(w3, keys["admin"], institution=institution.address,
                                 funded=[k.address for k in keys.values()] + [institution.address])
    order_id, _opened = contracts.open_order(
        keys["buyer"], keys["seller"], institution.address, amount=AMOUNT, guarantee=GUARANTEE,
        deliver_in=20 * 86_400, rules_hash=rules_hash(DEFAULT_RULES))
    return Deployed(w3, contracts.escrow, contracts.anchor.address, order_id)


class SharedChain:
    """One in-process chain for a process's ``chain_world``s: deployed by the first, and
    reverted to that block for each later one (a world on it is as on a fresh chain but for
    the genesis time; tests run one at a time, so one world uses it at a time)."""

    def __init__(self) -> None:
        self._deployed: Deployed | None = None
        self._block: Any = None

    def fresh(self) -> Deployed:
        if self._deployed is None:
            self._deployed = deploy(in_process_web3())
            self._block = snapshot(self._deployed.w3)
        else:
            revert_to(self._deployed.w3, self._block)
            recanonicalise(self._deployed.w3)
        return self._deployed


def make_chain_world(db_url: str, tmp_path: Path, tsa: LocalTSA,
                     second: SecondChain | None = None, *,
                     more_tsas: Sequence[LocalTSA] = (), chain: SharedChain | None = None,
                     **overrides: Any) -> ChainWorld:
    """The world on a fresh py-evm chain, or `chain` brought back to its deployed block (and
    `second`, anchoring beside it); the service stamps with `tsa`, then `more_tsas`, in that
    order of preference (CHAINARB_TSA_URLS); `overrides` are further settings."""
    deployed = deploy(in_process_web3()) if chain is None else chain.fresh()
    w3, escrow, anchor, order_id = (deployed.w3, deployed.escrow, deployed.anchor,
                                    deployed.order_id)
    keys = {n: _key(n) for n in NAMES}
    institution = Account.from_key(INSTITUTION_KEY)

    port = Web3EscrowPort(escrow, institution)
    senders = [Web3AnchorSender(w3, anchor, INSTITUTION_KEY)]
    extra: list[dict[str, Any]] = []
    if second is not None:
        senders.append(Web3AnchorSender(second.node.web3(), second.anchor, INSTITUTION_KEY))
        extra.append({"name": second.name, "chain_id": 1002, "rpc_url": second.node.url,
                      "contract": second.anchor,
                      "operated_by_institution": not second.independent})
    settings = Settings(data_dir=tmp_path / "data", database_url=db_url,
                        tsa_urls=[t.url for t in (tsa, *more_tsas)],
                        institution_admins=keys["admin"].address,
                        tsa_cert_files=[tsa.tsa_pem, *(t.chain_pem for t in more_tsas)],
                        confirmations=1, institution_key=INSTITUTION_KEY, anchor_chains=extra,
                        **overrides)
    clock = Clock()
    # the service's own store (step blocks in the database, uploads under the data dir):
    # the packages and their CARs are built from what the service stores
    app = create_app(settings, clock=clock, port=port,
                     anchor_sender=senders,
                     background=False)
    blockstore = app.state.ctx.service.blockstore
    client = _Client(app)
    world = World(client=client, clock=clock, port=port,  # type: ignore[arg-type]
                  blockstore=blockstore, db_url=db_url)
    client.world = world
    world.actors = {n: Actor(n, k, world) for n, k in keys.items()}
    return ChainWorld(world=world, w3=w3, escrow=escrow, order_id=order_id, tsa=tsa,
                      anchor=anchor, data_dir=settings.data_dir,
                      recipe=() if second or more_tsas or overrides else ("plain",))


def post(actor: Actor, path: str, body: Any) -> dict[str, Any]:
    r = actor.post(path, json=body)
    assert r.status_code == 201, r.text
    return r.json()


AWARD_DOC = ("# Award / 裁决书\n\nThe LED panels were not as described. The buyer receives "
             "1.2 ETH and 0.25 ETH compensation from the guarantee; the seller 0.8 ETH.\n"
             ).encode()


def staged(build: Callable[[ChainWorld], str]) -> Callable[[ChainWorld], str]:
    """``build``, or on a fresh ``chain_world`` the case it left, restored when another test
    of this process ran it already (tests/support/chain_snapshots.py)."""
    @functools.wraps(build)
    def reach(cw: ChainWorld) -> str:
        if cw.snapshots is None:
            return build(cw)
        stage = f"{build.__module__}.{build.__qualname__}"
        result: str = cw.snapshots.reach(stage, cw, build)
        return result
    return reach


@staged
def run_to_award(cw: ChainWorld) -> str:
    """Filing, mediation, arbitration with evidence from both parties, the award."""
    w = cw.world
    case_id = w.open_case("buyer", cw.order_id)
    declare_profile(w.buyer, "Lena Fischer", "莉娜·菲舍尔", "DE", contact="lena@example.de")
    declare_profile(w.seller, "Shenzhen Brightway Lighting Co., Ltd.", "深圳明途照明有限公司",
                    "CN", language="zh-Hans")
    payload = filing_payload(w, amount=ETHER) | {"orderId": str(cw.order_id)}
    post(w.buyer, f"/cases/{case_id}/filing", w.buyer.plain("case.filed", payload))
    cw.escrow.raise_dispute(w.buyer.key, cw.order_id, bytes.fromhex(case_id[2:]))
    w.tick()
    upload_and_submit(w.buyer, b"Order 2026-118: 40 LED panels, 60x60 cm, 4000 K.\n",
                      filename="order.txt", content_type="text/plain", kind="contract")
    for who in ("seller", "buyer"):
        post(w.actors[who], f"/cases/{case_id}/arbitration-agreement",
             w.actors[who].plain("arbitration.agreed"))
    post(w.buyer, f"/cases/{case_id}/facilitation", w.buyer.plain("facilitation.requested"))
    appointed = post(w.admin, f"/cases/{case_id}/mediator",
                     w.admin.appoint("mediator", w.mediator))
    disclose(w.mediator, case_id, "mediator", appointed)
    post(w.mediator, f"/cases/{case_id}/impasse", w.mediator.plain("impasse.declared"))
    appointed = post(w.admin, f"/cases/{case_id}/arbitrator",
                     w.admin.appoint("arbitrator", w.arbitrator))
    disclose(w.arbitrator, case_id, "arbitrator", appointed)
    w.tick()  # the executor appoints the arbitrator on the escrow
    photo = bytes.fromhex("89504e470d0a1a0a0000000d49484452") + b"\x00cracked" * 500
    upload_and_submit(w.buyer, photo, filename="cracked.png", content_type="image/png",
                      kind="photo")
    upload_and_submit(w.seller, b"SF1234567890 delivered 2026-11-02, signed by Li.\n",
                      filename="../tracking.txt", content_type="text/plain",
                      kind="tracking_record")
    post(w.seller, f"/cases/{case_id}/answer",
         w.seller.plain("answer.submitted", {"answerHash": sha(b"The panels left intact.")}))
    post(w.arbitrator, f"/cases/{case_id}/close-record", w.arbitrator.plain("record.closed"))
    post(w.arbitrator, f"/cases/{case_id}/award",
         award_body(cw, w.arbitrator, 12 * ETHER // 10, 8 * ETHER // 10, ETHER // 4))
    w.tick()  # the executor relays the signed award to the escrow
    return case_id


@staged
def run_to_enforcement(cw: ChainWorld) -> str:
    """``run_to_award``, the objection window passes, the escrow pays out."""
    w = cw.world
    case_id = run_to_award(cw)
    advance_time(cw.w3, Timeouts().objection + 60)
    cw.advance(days=10, seconds=1)
    w.tick()
    post(w.buyer, f"/cases/{case_id}/enforcement", w.buyer.plain("enforcement.requested"))
    _enforced(cw)
    return case_id


@staged
def run_objection_to_enforcement(cw: ChainWorld) -> str:
    """``run_to_award``, the seller objects, a panel of three, two panelists sign."""
    w = cw.world
    case_id = run_to_award(cw)
    award_hash = award_record_hash(cw)
    reasons = b"The panels left our warehouse intact; see the carrier's record."
    body = w.seller.objection(award_hash, reasons)
    post(w.seller, f"/cases/{case_id}/objection", body)
    cw.escrow.object_to_award(w.seller.key, cw.order_id)
    w.tick()
    appointed = post(w.admin, f"/cases/{case_id}/panel",
                     w.admin.appoint("panelist", w.panel1, w.panel2, w.panel3))
    for who in ("panel1", "panel2", "panel3"):
        disclose(w.actors[who], case_id, "panelist", appointed)
    w.tick()  # the executor appoints the panel on the escrow
    for who in ("panel1", "panel3"):
        post(w.actors[who], f"/cases/{case_id}/panel-award",
             award_body(cw, w.actors[who], ETHER, ETHER, 0, doc=PANEL_DOC, round_=1))
    w.tick()
    post(w.buyer, f"/cases/{case_id}/enforcement", w.buyer.plain("enforcement.requested"))
    _enforced(cw)
    return case_id


def _enforced(cw: ChainWorld) -> None:
    w = cw.world
    report = w.tick()
    view = w.buyer.case()
    assert view["stage"] == "enforced", (view["stage"], view.get("chainActions"), report)


PANEL_DOC = AWARD_DOC.replace(b"# Award", b"# Panel award") + b"\nFinal: 1 ETH each.\n"


def award_body(cw: ChainWorld, actor: Actor, to_buyer: int, to_seller: int, compensation: int,
               *, doc: bytes = AWARD_DOC, round_: int = 0) -> dict[str, Any]:
    """What an arbitrator's (or panelist's) front-end posts: Award + the step binding it."""
    from evidence.records import Award
    from tests.support.world import b64

    w = cw.world
    a = Award(order_id=cw.order_id, case_id=w.case_id, to_buyer=to_buyer, to_seller=to_seller,
              compensation=compensation, award_hash=sha(doc), round=round_
              ).sign(actor.key.key, w.domain)
    action = "award.issued" if round_ == 0 else "award.panel_signed"
    return {"record": actor.step(action, payload_hash_="0x" + a.record_hash.hex()),
            "attachments": [a.to_json_obj()],
            "document": {"filename": "award.md", "media_type": "text/markdown",
                         "content_base64": b64(doc)}}


def award_record_hash(cw: ChainWorld) -> str:
    from backend.db.service_models import StepDetail
    from evidence.records import SignedRecord

    with cw.world.app.state.ctx.sessions() as s:
        d = s.exec(select(StepDetail).where(StepDetail.action == "award.issued")).one()
        a = next(x for x in d.attachments if x.get("type") == "Award")
        return "0x" + SignedRecord.from_json_obj(a).record_hash.hex()


def offer_body(cw: ChainWorld, actor: Actor, to_buyer: int, to_seller: int) -> dict[str, Any]:
    """A SettlementOffer with the offeror's signature on the escrow Settlement."""
    from evidence.records import Settlement, SettlementOffer

    w = cw.world
    seq, prv = actor.head()
    rec = SettlementOffer(case_id=w.case_id, sequence=seq, prev_hash=prv,
                          offeror=actor.address, order_id=cw.order_id, to_buyer=to_buyer,
                          to_seller=to_seller, compensation=0,
                          expires_at=actor.at() + 3 * 86_400, signed_at=actor.at())
    deal = Settlement(order_id=cw.order_id, case_id=w.case_id, to_buyer=to_buyer,
                      to_seller=to_seller, compensation=0).sign(actor.key.key, w.domain)
    return {"record": rec.sign(actor.key.key, w.domain).to_json_obj(),
            "attachments": [deal.to_json_obj()]}


def accept_body(cw: ChainWorld, actor: Actor, offer_id: str, to_buyer: int, to_seller: int
                ) -> dict[str, Any]:
    from evidence.records import Settlement

    w = cw.world
    deal = Settlement(order_id=cw.order_id, case_id=w.case_id, to_buyer=to_buyer,
                      to_seller=to_seller, compensation=0).sign(actor.key.key, w.domain)
    payload = {"offerId": offer_id, "settlementHash": "0x" + deal.record_hash.hex()}
    return {"record": actor.step("offer.accepted", payload), "payload": payload,
            "attachments": [deal.to_json_obj()]}


@staged
def run_to_settlement(cw: ChainWorld) -> str:
    """Filing, evidence, an offer nobody accepts, then one the buyer accepts: settled and
    paid out by the escrow on both parties' signatures."""
    w = cw.world
    case_id = w.open_case("buyer", cw.order_id)
    payload = filing_payload(w, amount=ETHER) | {"orderId": str(cw.order_id)}
    post(w.buyer, f"/cases/{case_id}/filing", w.buyer.plain("case.filed", payload))
    cw.escrow.raise_dispute(w.buyer.key, cw.order_id, bytes.fromhex(case_id[2:]))
    w.tick()
    upload_and_submit(w.buyer, b"Photos of 12 cracked panels, unpacked on delivery.\n",
                      filename="report.txt", content_type="text/plain",
                      kind="inspection_report")
    post(w.buyer, f"/cases/{case_id}/offers", offer_body(cw, w.buyer, 15 * ETHER // 10,
                                                          5 * ETHER // 10))
    made = post(w.seller, f"/cases/{case_id}/offers",
                offer_body(cw, w.seller, 7 * ETHER // 10, 13 * ETHER // 10))
    done = post(w.buyer, f"/cases/{case_id}/offers/accept",
                accept_body(cw, w.buyer, made["recordHash"], 7 * ETHER // 10, 13 * ETHER // 10))
    assert done["stage"] == "settled", done
    w.tick()  # the executor executes the settlement on the escrow
    return case_id


def enforced_for_court(cw: ChainWorld, name: str = "Court", name_zh: str = "") -> str:
    """What a court's tests start from (test_package_check, the court's pages): the case run
    to enforcement, the court registered (``name``/``name_zh``) and given the case, every
    record anchored. The award's own leaf is queued on the first package download, so that
    first download is refused ``not_anchored_yet`` until the next ``anchor_all``."""
    w = cw.world
    case_id = run_to_enforcement(cw)
    court = {"address": w.court.address, "name": name} | ({"nameZh": name_zh} if name_zh else {})
    r = w.admin.post("/admin/courts", json=court)
    assert r.status_code in (200, 201), r.text
    r = w.admin.post(f"/cases/{case_id}/courts", json={"court": w.court.address})
    assert r.status_code in (200, 201), r.text
    cw.anchor_all()
    return case_id


# -- the court's package, shared by the log's package tests (backfill, receipts, contract,
# performance, provenance): access, anchoring, download, verification, a forger's edit


def grant_court(cw: ChainWorld, name: str = "Court") -> None:
    """Register the court and give it the case."""
    w = cw.world
    r = w.admin.post("/admin/courts", json={"address": w.court.address, "name": name})
    assert r.status_code in (200, 201), r.text
    r = w.admin.post(f"/cases/{w.case_id}/courts", json={"court": w.court.address})
    assert r.status_code in (200, 201), r.text


def court_package(cw: ChainWorld, case_id: str, out: Path) -> tuple[Path, Any]:
    """The court's package of the case, saved to ``out``, and the answer: access given,
    every record anchored; the first download queues the carried escrow record (Award or
    Settlement) and is refused ``not_anchored_yet`` until the next round."""
    w = cw.world
    grant_court(cw)
    url = f"/cases/{case_id}/judicial-package"
    cw.anchor_all()
    assert w.court.get(url).status_code == 409  # the carried record is queued first
    cw.anchor_all()
    r = w.court.get(url)
    assert r.status_code == 200, r.text[:300]
    out.write_bytes(r.content)
    return out, r


def verified(cw: ChainWorld, pkg: Path, **kw: Any) -> Any:
    """The package's verification report, asserting every check passed."""
    from evidence.judicial.verify import verify_package

    report = verify_package(pkg, chain=cw.w3, tsa_trust=cw.tsa.ca_pem.read_bytes(), **kw)
    failed = {c.name: (c.reason, c.details) for c in report.checks if not c.passed}
    assert failed == {}, failed
    return report


def failed_checks(cw: ChainWorld, pkg: Path, **kw: Any) -> dict[str, Any]:
    """The failed checks of the package's verification, by name."""
    from evidence.judicial.verify import Status, verify_package

    report = verify_package(pkg, chain=cw.w3, tsa_trust=cw.tsa.ca_pem.read_bytes(), **kw)
    return {c.name: c for c in report.checks if c.status is Status.FAILED}
