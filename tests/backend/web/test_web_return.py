"""The return stage through the case page in chromium (docs/procedure.md "Return and
refund"): the buyer records the return shipment (中文: carrier and tracking number, the salted
commitment made in the browser), the seller confirms the receipt (English); the escrow
refunds. Each signs with its own wallet stand-in; the forms appear only in their stages and
the buyer's page asks the buyer's wallet for ``recordReturnShipment``.

The case is opened under rules with a 3-second objection window, as on the development
escrow (the browser signs on real time, so the window must pass in real time).
"""

from __future__ import annotations

import base64
import hashlib
import os
import time
from dataclasses import replace
from pathlib import Path

import httpx
import pytest

from backend.services.chain import OrderInfo
from evidence.records import ReturnAward
from tests.backend.web.web_world import AMOUNT, GUARANTEE, TOKEN, WebWorld, page_act

pytestmark = pytest.mark.node

HERE = Path(__file__).parent
ORDER_3 = 44
DOC = b"# Award\n\nReturn the panels; the buyer is refunded once they are back.\n"


def _to_return_pending(world: WebWorld) -> str:
    c, fake, ctx = world.clients, world.port, world.app.state.ctx
    service = ctx.service
    service.config = replace(service.config, rules=replace(service.config.rules,
                                                           objection_seconds=3))
    fake.timeouts = replace(fake.timeouts, objection=3)
    fake.add_order(OrderInfo(order_id=ORDER_3, buyer=c["buyer"].address,
                             seller=c["seller"].address, amount=AMOUNT, token=TOKEN,
                             institution=fake.institution, status="Paid",
                             case_id="0x" + "00" * 32, guarantee=GUARANTEE))
    buyer, seller, admin = c["buyer"], c["seller"], c["admin"]
    case = buyer.post("/cases", {"orderId": str(ORDER_3)})["caseId"]
    buyer.post(f"/cases/{case}/filing", buyer.plain(case, "case.filed", {
        "claimant": buyer.address, "respondent": seller.address, "orderId": str(ORDER_3),
        "disputeType": "not_as_described", "remedy": "return_and_refund",
        "claimedAmount": str(AMOUNT), "statementHash": "0x" + hashlib.sha256(b"s").hexdigest()}))
    fake.party_raises_dispute(ORDER_3, case)
    for party in (buyer, seller):
        party.post(f"/cases/{case}/arbitration-agreement",
                   party.plain(case, "arbitration.agreed"))
    buyer.post(f"/cases/{case}/facilitation", buyer.plain(case, "facilitation.requested"))
    admin.post(f"/cases/{case}/mediator", admin.plain(
        case, "appoint.mediator", {"role": "mediator", "appointees": [c["mediator"].address]}))
    c["mediator"].post(f"/cases/{case}/impasse", c["mediator"].plain(case, "impasse.declared"))
    admin.post(f"/cases/{case}/arbitrator", admin.plain(
        case, "appoint.arbitrator", {"role": "arbitrator",
                                     "appointees": [c["arbitrator"].address]}))
    arb = c["arbitrator"]
    arb.post(f"/cases/{case}/close-record", arb.plain(case, "record.closed"))
    _, _, domain = arb.head(case)
    award = ReturnAward(order_id=ORDER_3, case_id=case, to_buyer=AMOUNT, to_seller=0,
                        compensation=0, no_return_to_buyer=0, no_return_to_seller=AMOUNT,
                        no_return_compensation=0,
                        award_hash="0x" + hashlib.sha256(DOC).hexdigest(), round=0
                        ).sign(arb.key.key, domain)
    record, _ = arb.step(case, "award.issued", payload_hash="0x" + award.record_hash.hex())
    arb.post(f"/cases/{case}/award", {
        "record": record, "attachments": [award.to_json_obj()],
        "document": {"filename": "award.md", "media_type": "text/markdown",
                     "content_base64": base64.b64encode(DOC).decode()}})
    time.sleep(4)  # the 3-second objection window passes in real time
    service.run_due()
    assert buyer.get(f"/cases/{case}")["stage"] == "final"
    buyer.post(f"/cases/{case}/enforcement", buyer.plain(case, "enforcement.requested"))
    service.executor.run(case_id=case)
    assert buyer.get(f"/cases/{case}")["stage"] == "return_pending"
    return str(case)


def test_the_return_shipment_and_the_receipt_through_the_page(world: WebWorld,
                                                               tmp_path: Path) -> None:
    out_dir = HERE / "screenshots" if os.environ.get("CHAINARB_KEEP_SCREENSHOTS") else tmp_path
    out_dir.mkdir(exist_ok=True)
    case = _to_return_pending(world)
    c, fake = world.clients, world.port
    # the award's enforcement opened the return stage: the timeline says so, no payout
    for lang, opened in (("en", "Return stage opened: the buyer ships the goods back"),
                         ("zh-Hans", "退货阶段开始：买方退回货物")):
        page = httpx.get(f"{world.base}/ui/cases/{case}?lang={lang}",
                         cookies={"chainarb_session": world.token("buyer")}).text
        start = page.index('<section id="timeline">')
        timeline = page[start:page.index("</section>", start)]
        row = timeline[timeline.index('data-action="enforcement.recorded"'):]
        assert opened in row[:row.index("</tr>")], row[:400]
        assert "Payout by the escrow" not in timeline and "已按裁决付款" not in timeline
    # the seller has nothing to do yet; the buyer has the shipment form
    look = page_act(world, case, "seller", "en", "none", out_dir / "return-seller-wait.png")
    assert "return_shipment" not in look["forms"], look
    empty = page_act(world, case, "buyer", "zh-Hans", "return_shipment",
                     out_dir / "return-shipment-empty-zh.png")
    assert empty["signed"] == [] and empty["result"]["text"] == "请填写承运人。", empty
    shipped = page_act(world, case, "buyer", "zh-Hans", "return_shipment",
                       out_dir / "return-shipment-zh.png", {"fill": {
                           "#step-return_shipment-carrier": "模拟快递 Simulated Express",
                           "#step-return_shipment-trackingNumber": "RET-44"}})
    assert "ok" in shipped["result"]["cls"], shipped
    assert shipped["signed"] == ["ProceduralStep"] and shipped["stage"] == "return_shipped"
    view = c["buyer"].get(f"/cases/{case}")
    (tx,) = c["buyer"].get(f"/cases/{case}/wallet-transactions")
    assert tx["function"] == "recordReturnShipment"
    page = httpx.get(f"{world.base}/ui/cases/{case}?lang=en",
                     cookies={"chainarb_session": world.token("buyer")}).text
    assert "recordReturnShipment" in page and 'id="wallet-transactions"' in page
    tracking = "0x" + tx["data"][-64:]
    fake.party_ships_return(ORDER_3, tracking, c["buyer"].address)  # the buyer's wallet
    world.app.state.ctx.service.executor.run(case_id=case)
    receipt = page_act(world, case, "seller", "en", "return_receipt",
                       out_dir / "return-receipt-en.png")
    assert {"return_receipt", "return_dispute"} <= set(receipt["forms"]), receipt
    assert "ok" in receipt["result"]["cls"] and receipt["stage"] == "enforced", receipt
    world.app.state.ctx.service.executor.run(case_id=case)
    assert fake.read_order(ORDER_3).status == "Resolved"
    assert fake._orders[ORDER_3].resolution == "ReturnReceived"
    assert view["stage"] == "return_shipped"
