"""The story up to the execution of the award, one act per function (``run.ACTS`` orders
them; the court's acts are in ``court``).

Each act takes the ``World`` (the service, the printer) and the ``Story`` (the cast, the
contracts, the order and case so far), acts only as the clients would (signed requests,
their own transactions), prints what happened, and leaves what the next act needs in the
``Story``.
"""

from __future__ import annotations

from datetime import datetime
from typing import TYPE_CHECKING, TypedDict

import httpx
from eth_typing import HexStr

from backend.demo.chain import balances, chain_now, hex_hash, send_eth, wait_until
from backend.demo.clients import Client, document, expect_ok, upload_evidence
from backend.demo.common import DAY, UNIT, DemoError, fmt_amount, sha256_hex, short
from backend.demo.files import (
    ANSWER,
    award_document,
    make_chat_log,
    make_invoice_pdf,
    make_photo_jpeg,
    statement_of_claim,
)
from backend.demo.identity import disclose
from backend.demo.world import Story, World

if TYPE_CHECKING:
    from backend.procedure import CaseRules, PreEvaluationReportJson
from evidence.events import uint_of
from evidence.records import Award, SettlementOffer, bytes32, canonical_json

__all__ = ["ChainKeys", "PublishedReportJson", "agree_to_arbitrate", "answer_and_close_record",
           "appoint_arbitrator", "appoint_mediator", "chain_keys", "checkout",
           "deposit_guarantee", "enforce_award", "file_as", "file_claim", "issue_award",
           "mediate", "negotiate", "open_order", "pass_objection_window", "pre_evaluation",
           "rules_hash", "ship_goods", "submit_evidence"]

PRICE, GUARANTEE = 480 * UNIT, 200 * UNIT
CLAIMED = 240 * UNIT


# -- the trade: on-chain, from the parties' own wallets ---------------------------------------

def deposit_guarantee(world: World, story: Story) -> None:
    """The institution funds both parties' gas; each gets test tokens; the seller deposits a
    guarantee with the escrow."""
    buyer, seller, usdc, escrow = (story.cast.buyer, story.cast.seller, story.token,
                                   story.escrow)
    for cl in (buyer, seller):
        send_eth(world.handle.w3, story.institution, cl.address, 10**18)
    usdc.mint(seller.key, seller.address, 1_000 * UNIT)
    usdc.mint(buyer.key, buyer.address, 1_000 * UNIT)
    usdc.approve(seller.key, escrow.address, GUARANTEE)
    r = escrow.deposit_guarantee(seller.key, usdc.address, GUARANTEE)
    world.printer.step("setup", seller.label, f"deposits a guarantee of "
                       f"{fmt_amount(GUARANTEE, story.symbol)} with the escrow (卖方保证金)",
                       tx=hex_hash(r.tx_hash))


def open_order(world: World, story: Story) -> None:
    """The buyer pays the price into escrow under the institution's published rules."""
    buyer, usdc, escrow = story.cast.buyer, story.token, story.escrow
    committed = rules_hash(story.http, world.ctx.service.config.rules)
    usdc.approve(buyer.key, escrow.address, PRICE)
    story.order_id, r = escrow.open_order(
        buyer.key, seller=story.cast.seller.address, amount=PRICE,
        delivery_deadline=int(chain_now(world.handle).timestamp()) + 30 * DAY,
        institution=story.institution.address, token=usdc.address, rules_hash=committed)
    story.open_tx, story.price = hex_hash(r.tx_hash), PRICE
    world.printer.step("setup", buyer.label, f"orders 40 LED panels and pays "
                       f"{fmt_amount(PRICE, story.symbol)} into escrow: order "
                       f"{story.order_id} (付款至托管)", tx=story.open_tx)
    story.before = balances(usdc, escrow, buyer.address, story.cast.seller.address)


def checkout(world: World, story: Story) -> None:
    """At checkout the marketplace proposes the contract of sale (goods, price, delivery
    deadline, return policy, rules, dispute clause: EIP-712 ``ContractOfSale``, English and
    Chinese texts); buyer and seller sign it in their wallets; the buyer pays into escrow
    under its hash (``openOrderWithContract``); the marketplace binds it, and the order's
    case exists at once with the clause's agreement to arbitrate in place."""
    from evidence.marketplace import MarketplaceClient, contract_of_sale

    buyer, seller, usdc, escrow = story.cast.buyer, story.cast.seller, story.token, story.escrow
    world.new_batches()  # batches of earlier runs on this data dir are not this story's
    market = MarketplaceClient(client=story.http)
    domain = market.domain()
    now = int(world.clock().timestamp())
    contract = contract_of_sale(
        buyer=buyer.address, seller=seller.address, institution=story.institution.address,
        token=usdc.address, amount=PRICE, quantity=40,
        goods="LED panel 60x60 cm, 4000 K / LED 面板 60x60 厘米，4000 K",
        delivery_terms="DAP Hamburg (Incoterms 2020), tracked carrier / 汉堡目的地交货"
                       "（2020 年国际贸易术语解释通则），可追踪承运",
        delivery_deadline=int(chain_now(world.handle).timestamp()) + 30 * DAY,
        offer_expires_at=now + DAY, return_policy="return-7-days-1",
        rules_version="chainarb-rules-1", dispute_clause="chainarb-arbitration-1")
    key = story.contract_hash = "0x" + contract.digest(domain).hex()
    shown = market.propose(contract, [contract.sign(buyer.key.key, domain).signatures[0]])
    world.printer.step("setup", "marketplace 交易平台", "proposes the contract of sale at "
                       f"checkout: 40 LED panels, {fmt_amount(PRICE, story.symbol)}, DAP "
                       "Hamburg, deliver within 30 days, 7-day returns, arbitration clause "
                       f"chainarb-arbitration-1 (买卖合同，含仲裁条款) — contract {short(key)}")
    world.printer.step("setup", buyer.label, "signs the contract in the wallet (EIP-712 "
                       "ContractOfSale; 买方签署合同)", cid=shown.get("cid"))
    shown = market.add_signature(key, contract.sign(seller.key.key, domain).signatures[0])
    world.printer.step("setup", seller.label, "signs the same contract: both have signed; "
                       "stored encrypted in IPFS (卖方签署合同)", cid=shown.get("cid"))
    usdc.approve(buyer.key, escrow.address, PRICE)
    story.order_id, r = escrow.open_order(
        buyer.key, seller=seller.address, amount=PRICE,
        delivery_deadline=contract.delivery_deadline, institution=story.institution.address,
        token=usdc.address, rules_hash=contract.rules_hash, contract_hash=bytes32(key))
    story.open_tx, story.price = hex_hash(r.tx_hash), PRICE
    world.printer.step("setup", buyer.label, f"pays {fmt_amount(PRICE, story.symbol)} into "
                       f"escrow under the contract's hash: order {story.order_id} "
                       "(openOrderWithContract; 按合同付款至托管)", tx=story.open_tx)
    bound = market.bind(key)
    story.case_id = str(bound["caseId"])
    if not bound.get("arbitrationAgreed"):
        raise DemoError(f"the bound contract should carry the agreement to arbitrate: {bound}")
    world.printer.step("setup", "marketplace 交易平台", f"binds the contract to order "
                       f"{story.order_id}: its case {short(story.case_id)} exists with the "
                       "arbitration agreement already in place (仲裁协议于下单时成立)")
    world.anchor()  # the contract's leaf (case id, record hash, signatures hash)
    story.before = balances(usdc, escrow, buyer.address, seller.address)


def ship_goods(world: World, story: Story) -> None:
    """The seller ships; the carrier's signed webhooks record each tracking event as it
    happens, before any dispute: origin-verified evidence of the order (the pre-evaluation
    reads it later instead of a status typed in by the mediator)."""
    carrier = world.carrier
    if carrier is None:
        raise DemoError("the demo's carrier is configured when the service is composed")
    shipment = f"DEX{story.order_id:06d}"
    legs = (("shipped", "Shenzhen, CN 深圳", ""), ("in_transit", "Frankfurt hub, DE 法兰克福", ""),
            ("out_for_delivery", "Hamburg, DE 汉堡", ""),
            ("delivered_signed", "Hamburg, DE 汉堡", "L. Fischer"))
    for kind, where, signer in legs:
        event = carrier.event(story.order_id, shipment, kind, location=where, signed_by=signer)
        r = carrier.send(story.http, event)
        item = expect_ok(r, f"carrier webhook {event.event_id}")
        story.shipment_items.append(int(item["id"]))
        origin = item["origin"]
        world.printer.step("setup", f"carrier 承运人 {carrier.sender_id}",
                           f"{item['typeLabel'].get('en', kind)} at {where} "
                           f"({item['typeLabel'].get('zh-Hans', '')}): signed webhook, "
                           f"{origin['label']} ({origin['zh-Hans']}), item {item['id']}",
                           cid=item.get("cid"))
    world.anchor()


def rules_hash(http: httpx.Client, case_rules: CaseRules) -> bytes:
    """The rules the order commits to (``rulesHash`` of ``openOrder``).

    The institution publishes its rules; the judicial package carries the same object and
    the verifier holds its SHA-256 (canonical JSON) to the order's ``rulesHash``. Asked of
    the service at ``GET /rules`` when it offers it, else the service's own rules object.
    """
    r = http.get("/rules")
    if r.status_code == 200 and "sha256" in r.json():
        return bytes.fromhex(r.json()["sha256"].removeprefix("0x"))
    from backend.services.package import rules_hash as of_rules

    return of_rules(case_rules)


# -- filing and negotiation -------------------------------------------------------------------

def file_claim(world: World, story: Story) -> None:
    """The buyer opens the case, files the claim, and freezes the escrow from their wallet."""
    file_as(world, story, remedy="partial_refund", claimed=CLAIMED,
            words=f"partial refund {fmt_amount(CLAIMED, story.symbol)} (提出仲裁申请)")


def file_as(world: World, story: Story, *, remedy: str, claimed: int, words: str) -> None:
    """Filing (goods not as described) with ``remedy`` for ``claimed``: the buyer opens the
    case, signs the claim and freezes the escrow from their wallet (every scenario's)."""
    buyer, order_id = story.cast.buyer, story.order_id
    view = buyer.post("/cases", {"orderId": str(order_id)})  # the checkout's case, if bound
    case_id = story.case_id = view["caseId"]
    world.note_stage(view["stage"])
    filing = {"claimant": buyer.address, "respondent": story.cast.seller.address,
              "orderId": str(order_id), "disputeType": "not_as_described",
              "remedy": remedy, "claimedAmount": str(claimed),
              "statementHash": sha256_hex(statement_of_claim(order_id))}
    res = buyer.post(f"/cases/{case_id}/filing", buyer.plain(case_id, "case.filed", filing))
    world.shown("filed", buyer, f"files the claim: goods not as described, {words} — case "
                f"{case_id}", res)
    r = story.escrow.raise_dispute(buyer.key, order_id, bytes.fromhex(case_id[2:]))
    world.printer.step("filed", buyer.label, "the buyer's wallet freezes the escrow: "
                       "raiseDispute (冻结托管资金)", tx=hex_hash(r.tx_hash))
    world.anchor()


class ChainKeys(TypedDict):
    """The chain and the escrow a result line names."""

    chain_id: int
    escrow: str | None


def chain_keys(world: World) -> ChainKeys:
    """The result line's keys every scenario ends with: the chain and the escrow."""
    return {"chain_id": world.handle.chain_id, "escrow": world.deployment.escrow}


def negotiate(world: World, story: Story) -> None:
    """The seller offers 10% back (with the signed settlement); the buyer lets it lapse and
    asks for a mediator."""
    from evidence.records import Settlement

    seller, buyer, case_id, order_id = (story.cast.seller, story.cast.buyer, story.case_id,
                                        story.order_id)
    seq, prev, domain = seller.head(case_id)
    offer = SettlementOffer(case_id=bytes32(case_id), sequence=seq, prev_hash=prev,
                            offeror=seller.address, order_id=order_id,
                            to_buyer=48 * UNIT, to_seller=432 * UNIT, compensation=0,
                            expires_at=seller.at() + 2 * DAY, signed_at=seller.at())
    settlement = Settlement(order_id=order_id, case_id=bytes32(case_id), to_buyer=48 * UNIT,
                            to_seller=432 * UNIT, compensation=0)
    res = seller.post(f"/cases/{case_id}/offers", {
        "record": offer.sign(seller.key.key, domain).to_json_obj(),
        "attachments": [settlement.sign(seller.key.key, domain).to_json_obj()]})
    world.shown("negotiation", seller, "offers a 10% refund "
                f"({fmt_amount(48 * UNIT, story.symbol)}), open 2 days (和解要约)", res)
    res = buyer.post(f"/cases/{case_id}/facilitation",
                     buyer.plain(case_id, "facilitation.requested"))
    world.shown("facilitation", buyer, "rejects the offer (lets it lapse) and asks for a "
                "mediator: negotiation failed (协商失败，申请调解)", res)


# -- facilitated settlement -------------------------------------------------------------------

def appoint_mediator(world: World, story: Story) -> None:
    """The institution's case officer appoints the mediator (the service checks conflicts)."""
    admin, mediator, case_id = story.cast.admin, story.cast.mediator, story.case_id
    res = admin.post(f"/cases/{case_id}/mediator", admin.plain(
        case_id, "appoint.mediator", {"role": "mediator", "appointees": [mediator.address]}))
    world.shown("facilitation", admin, f"appoints the mediator {short(mediator.address)}"
                " (conflict check passed; 指定调解员)", res)
    disclose(world, mediator, case_id, "mediator", res)


def mediate(world: World, story: Story) -> None:
    """The mediator publishes the rule-based pre-evaluation, then a proposal nobody accepts."""
    mediator, case_id = story.cast.mediator, story.case_id
    pre = pre_evaluation(mediator, case_id)
    report = pre["canonical"].encode()
    res = mediator.post(f"/cases/{case_id}/pre-evaluation", mediator.plain(
        case_id, "preevaluation.published",
        {"recommended": pre["recommended"], "reportHash": pre["sha256"]},
        document=document("pre-evaluation.json", "application/json", report)))
    rules = ", ".join(r.get("rule", "?") for r in pre["report"].get("reasons", []))
    world.shown("facilitation", mediator, "publishes the rule-based pre-evaluation: "
                f"{pre['recommended']} ({rules}); non-binding (调解前评估)", res)
    proposal_id = sha256_hex(b"proposal:" + case_id.encode())
    expires = mediator.at() + 3 * DAY
    res = mediator.post(f"/cases/{case_id}/proposals", mediator.plain(
        case_id, "settlement.proposed",
        {"offerId": proposal_id, "toBuyer": str(150 * UNIT), "toSeller": str(330 * UNIT),
         "compensation": "0", "expiresAt": str(expires)}))
    world.shown("facilitation", mediator, "proposes a refund of "
                f"{fmt_amount(150 * UNIT, story.symbol)}; the seller does not accept "
                "(调解方案未被接受)", res)


class PublishedReportJson(TypedDict):
    """The pre-evaluation the mediator publishes: ``GET /cases/{id}/pre-evaluation``'s
    answer (``backend.services.fast_track.PreEvaluationJson``, whose report adds its
    ``basis``), or the same made by the mediator's own hand (no basis)."""

    report: PreEvaluationReportJson
    canonical: str
    sha256: str
    recommended: str


def pre_evaluation(mediator: Client, case_id: str) -> PublishedReportJson:
    """The rule-based report the mediator publishes (docs/procedure.md, Pre-evaluation).

    Asked of the service; should the service fail to prepare it (HTTP 5xx), the mediator
    applies the same published rules (``procedure.pre_evaluate``) to the facts the case
    page shows them: dispute type, remedy, amounts and evidence kinds, never content.
    """
    # No tracking status typed in: the report reads the carrier's origin-verified events.
    r = mediator.send("GET", f"/cases/{case_id}/pre-evaluation")
    if r.status_code == 200:
        published: PublishedReportJson = r.json()  # the route's declared answer
        return published
    if r.status_code < 500:
        expect_ok(r, f"{mediator.label}: pre-evaluation")
    from backend import procedure as p

    view = mediator.get(f"/cases/{case_id}")
    kinds: dict[str, set[p.EvidenceKind]] = {"buyer": set(), "seller": set()}
    for item in view["evidence"]:
        side = "buyer" if item["submittedBy"] == view["buyer"] else "seller"
        kinds[side].add(p.EvidenceKind(item["kind"]))
    facts = p.PreEvaluationFacts(
        dispute_type=view["disputeType"], remedy=view["remedy"], amount=int(view["amount"]),
        claimed_amount=int(view["claimedAmount"]), guarantee=int(view["guarantee"]),
        tracking=p.TrackingStatus.DELIVERED, buyer_evidence=frozenset(kinds["buyer"]),
        seller_evidence=frozenset(kinds["seller"]))
    report = p.pre_evaluate(facts).as_dict()
    raw = canonical_json(report)
    return {"report": report, "canonical": raw.decode(), "sha256": sha256_hex(raw),
            "recommended": report["outcome"]}


def agree_to_arbitrate(world: World, story: Story) -> None:
    """Both parties sign the arbitration agreement, unless the contract of sale's clause made
    it at checkout; the mediator declares an impasse."""
    mediator, case_id = story.cast.mediator, story.case_id
    agreed = bool(story.cast.buyer.get(f"/cases/{case_id}").get("arbitrationAgreed"))
    if agreed:
        world.printer.step("facilitation", "case 案件", "the arbitration agreement is in place "
                           "since checkout (the contract's dispute clause): no party is asked "
                           "to agree again, none can refuse (仲裁协议已于下单时成立)")
    for party in () if agreed else (story.cast.seller, story.cast.buyer):
        res = party.post(f"/cases/{case_id}/arbitration-agreement",
                         party.plain(case_id, "arbitration.agreed"))
        world.shown(res["stage"], party, "signs the arbitration agreement (同意仲裁)", res)
    res = mediator.post(f"/cases/{case_id}/impasse",
                        mediator.plain(case_id, "impasse.declared"))
    world.shown(res["stage"], mediator, "declares an impasse: mediation failed (调解失败)", res)


# -- arbitration ------------------------------------------------------------------------------

def appoint_arbitrator(world: World, story: Story) -> None:
    """The case officer appoints the arbitrator; the service appoints them on-chain too."""
    admin, arbitrator, case_id = story.cast.admin, story.cast.arbitrator, story.case_id
    res = admin.post(f"/cases/{case_id}/arbitrator", admin.plain(
        case_id, "appoint.arbitrator",
        {"role": "arbitrator", "appointees": [arbitrator.address]}))
    world.shown(res["stage"], admin, f"appoints the arbitrator {short(arbitrator.address)}"
                " (conflict check; on-chain appointArbitrator; 指定仲裁员)", res)
    disclose(world, arbitrator, case_id, "arbitrator", res)


def submit_evidence(world: World, story: Story) -> None:
    """The buyer uploads a photo and a chat log, the seller an invoice: each encrypted into
    IPFS, its salted commitment signed."""
    buyer, seller, order_id = story.cast.buyer, story.cast.seller, story.order_id
    files = [
        (buyer, "photo", "cracked-panel.jpg", "image/jpeg", make_photo_jpeg(),
         "photo of a cracked panel (照片)"),
        (buyer, "communication", "chat-log.txt", "text/plain", make_chat_log(order_id),
         "chat log with the seller (聊天记录)"),
        (seller, "invoice", "invoice.pdf", "application/pdf",
         make_invoice_pdf(order_id, story.price), "commercial invoice (商业发票)"),
    ]
    for who, kind, name, ctype, content, what in files:
        res = upload_evidence(who, story.case_id, kind, name, ctype, content)
        story.evidence_cids.append(res["contentCid"])
        world.shown("evidence", who, f"uploads {name} ({len(content):,} bytes, {what}): "
                    "encrypted, stored in IPFS, salted commitment signed (EIP-712)", res,
                    cid=res["contentCid"])


def answer_and_close_record(world: World, story: Story) -> None:
    """The seller answers; the arbitrator closes the record."""
    seller, arbitrator, case_id = story.cast.seller, story.cast.arbitrator, story.case_id
    res = seller.post(f"/cases/{case_id}/answer", seller.plain(
        case_id, "answer.submitted", {"answerHash": sha256_hex(ANSWER)},
        document=document("answer.txt", "text/plain", ANSWER)))
    world.shown("evidence", seller, "files the answer (答辩)", res)
    res = arbitrator.post(f"/cases/{case_id}/close-record",
                          arbitrator.plain(case_id, "record.closed"))
    world.shown(res["stage"], arbitrator, "closes the record (审理终结)", res)


def issue_award(world: World, story: Story) -> None:
    """The arbitrator signs the award and the step naming it; the service submits it to the
    escrow."""
    arbitrator, case_id, order_id, symbol = (story.cast.arbitrator, story.case_id,
                                             story.order_id, story.symbol)
    to_buyer, to_seller, compensation = story.award = 180 * UNIT, 300 * UNIT, 42_500_000
    award_doc = award_document(order_id, case_id, to_buyer, to_seller, compensation)
    _seq, _prev, domain = arbitrator.head(case_id)
    award = Award(order_id=order_id, case_id=bytes32(case_id), to_buyer=to_buyer,
                  to_seller=to_seller, compensation=compensation,
                  award_hash=bytes32(sha256_hex(award_doc)),
                  round=0).sign(arbitrator.key.key, domain)
    story.award_record_hash = "0x" + award.record_hash.hex()
    record, _ = arbitrator.step(case_id, "award.issued", payload_hash=story.award_record_hash)
    res = arbitrator.post(f"/cases/{case_id}/award", {
        "record": record, "attachments": [award.to_json_obj()],
        "document": document("award.md", "text/markdown", award_doc)})
    submit_tx = next((a.get("txHash") for a in res["chainActions"]
                      if a["kind"] == "submit_award"), None)
    world.shown(res["stage"], arbitrator,
                f"issues the signed, reasoned award: refund {fmt_amount(to_buyer, symbol)}, "
                f"seller {fmt_amount(to_seller, symbol)}, compensation "
                f"{fmt_amount(compensation, symbol)} from the guarantee (裁决)", res,
                tx=submit_tx)


# -- the award becomes final and is executed --------------------------------------------------

def pass_objection_window(world: World, story: Story) -> None:
    """Wait out the escrow's objection window in real time (no clock is moved)."""
    buyer, case_id = story.cast.buyer, story.case_id
    view = buyer.get(f"/cases/{case_id}")
    window = story.escrow.timeouts().objection
    ends = max(story.escrow.order(story.order_id).deadline,
               int(datetime.fromisoformat(view["deadline"]).timestamp()))
    waited = wait_until(ends + 1)
    world.tick()
    view = buyer.get(f"/cases/{case_id}")
    world.note_stage(view["stage"])
    world.printer.step(view["stage"], "time 时间", f"the {window}-second objection window of "
                       "this development escrow passes without an objection (waited "
                       f"{waited:.1f} s in real time; no clock is moved; 异议期届满)")
    if view["stage"] != "final":
        raise DemoError(f"after the objection window the case should be final, found "
                        f"{view['stage']}")


def enforce_award(world: World, story: Story) -> None:
    """Anyone may ask for enforcement: the service's next ticks execute the award on-chain."""
    buyer, case_id = story.cast.buyer, story.case_id
    res = buyer.post(f"/cases/{case_id}/enforcement",
                     buyer.plain(case_id, "enforcement.requested"))
    world.shown(res["stage"], buyer, "asks for enforcement (anyone may; 申请执行)", res)
    for _ in range(10):
        world.tick()
        view = buyer.get(f"/cases/{case_id}")
        story.enforcement_tx = next((a.get("txHash") for a in view["chainActions"]
                                     if a["kind"] == "execute_award"
                                     and a["status"] == "done"), None) or ""
        if view["stage"] == "enforced" and story.enforcement_tx:
            break
    world.note_stage(view["stage"])
    if view["stage"] != "enforced" or not story.enforcement_tx:
        raise DemoError(f"the award was not executed: stage {view['stage']}, "
                        f"chain actions {view['chainActions']}")
    read_payout(world, story)


def read_payout(world: World, story: Story) -> None:
    """Read what the escrow paid (its ``OrderResolved`` and the balances) and print it."""
    from backend.chain import decode_logs

    symbol, before = story.symbol, story.before
    receipt = world.handle.w3.eth.get_transaction_receipt(HexStr(story.enforcement_tx))
    resolved = [e for e in decode_logs(receipt["logs"]) if e.name == "OrderResolved"]
    after = story.after = balances(story.token, story.escrow, story.cast.buyer.address,
                                   story.cast.seller.address)
    story.compensation_paid = uint_of(resolved[0].args, "compensationPaid") if resolved else -1
    world.printer.step(
        "enforced", "escrow 托管合约", "executeAward pays out on-chain: buyer "
        f"+{fmt_amount(after['buyer'] - before['buyer'], symbol)}, seller "
        f"+{fmt_amount(after['seller'] - before['seller'], symbol)}, guarantee "
        f"{fmt_amount(before['guarantee'], symbol)} → "
        f"{fmt_amount(after['guarantee'], symbol)} (裁决已在链上执行)", tx=story.enforcement_tx)
    world.anchor()
