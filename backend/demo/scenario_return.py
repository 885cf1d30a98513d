"""The ``return`` scenario: a return-and-refund case through the service's steps, from the
order to the refund on chain and the court's verified package (issue 13 item 3;
docs/procedure.md "Return and refund").

The case runs as in ``main`` up to the closed record (the buyer claims "return the goods and
refund"); then, every act a signed step of the case:

1. the arbitrator signs a ``ReturnAward`` (EIP-712, round 0) carried by ``award.issued``: the
   full price back once the goods are back, and the award's fallback (the seller keeps the
   price) if the buyer misses the return window; the service relays it to
   ``submitReturnAward``;
2. the objection window of this development escrow passes (``final``); anyone's
   ``enforcement.requested`` makes the service call ``executeAward``, which opens the
   escrow's return stage; the service records it (``return_pending``);
3. the buyer signs ``return.shipped`` (carrier, tracking number, the salted commitment) and
   their wallet records the commitment on the escrow (``recordReturnShipment``);
4. the seller signs ``return.received``: the service's ``confirmReturnReceived`` pays the
   refund (``enforced``);
5. the court downloads the judicial package and verifies it offline.
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from backend.chain import Allocation, Resolution, Status
from backend.demo import acts, court, identity
from backend.demo.chain import balances, hex_hash
from backend.demo.clients import document
from backend.demo.common import DECIMALS, DemoError, decimal_units, fmt_amount, sha256_hex
from backend.demo.files import award_document
from backend.demo.world import Act, ResultLine, Scenario, Story, World
from evidence.records import ReturnAward, bytes32, canonical_json

__all__ = ["ACTS", "RETURN", "result_line"]


@dataclass
class ReturnRun:
    """What the return stage's acts hand on: the award's two allocations and the txs."""

    refund: Allocation = field(default_factory=lambda: Allocation(0, 0, 0))
    no_return: Allocation = field(default_factory=lambda: Allocation(0, 0, 0))
    award_hash: str = ""
    tracking_commitment: str = ""
    txs: dict[str, str] = field(default_factory=dict)
    resolution: str = ""


_RUNS: dict[int, ReturnRun] = {}


def _run(story: Story) -> ReturnRun:
    return _RUNS.setdefault(id(story), ReturnRun())


def file_return_claim(world: World, story: Story) -> None:
    """The buyer files: goods not as described, return the goods and refund (the whole
    price)."""
    acts.file_as(world, story, remedy="return_and_refund", claimed=story.price,
                 words=f"return the goods and refund {fmt_amount(story.price, story.symbol)} "
                       "(退货退款)")


def _chain_tx(view: dict[str, Any], kind: str) -> str:
    """The transaction of the case's done chain action of ``kind`` ('' when none yet)."""
    return next((a.get("txHash") or "" for a in view["chainActions"]
                 if a["kind"] == kind and a["status"] == "done"), "")


def issue_return_award(world: World, story: Story) -> None:
    """The arbitrator signs the return-and-refund award and the step carrying it; the
    service relays it to the escrow (submitReturnAward)."""
    arbitrator, case_id, run, price = story.cast.arbitrator, story.case_id, _run(story), \
        story.price
    run.refund, run.no_return = Allocation(price, 0, 0), Allocation(0, price, 0)
    doc = award_document(story.order_id, case_id, price, 0, 0) + (
        b"\n\nReturn and refund: the buyer ships the goods back within the return window and "
        b"records the return tracking; the price is refunded once the seller confirms receipt "
        b"(or the carrier's delivery, or the receipt window passes). If the buyer does not "
        b"ship them back in time, the seller keeps the price.\n")
    run.award_hash = sha256_hex(doc)
    _seq, _prev, domain = arbitrator.head(case_id)
    award = ReturnAward(order_id=story.order_id, case_id=bytes32(case_id),
                        to_buyer=price, to_seller=0, compensation=0, no_return_to_buyer=0,
                        no_return_to_seller=price, no_return_compensation=0,
                        award_hash=bytes32(run.award_hash), round=0
                        ).sign(arbitrator.key.key, domain)
    story.award_record_hash = "0x" + award.record_hash.hex()
    story.award = (price, 0, 0)
    record, _ = arbitrator.step(case_id, "award.issued", payload_hash=story.award_record_hash)
    res = arbitrator.post(f"/cases/{case_id}/award", {
        "record": record, "attachments": [award.to_json_obj()],
        "document": document("award.md", "text/markdown", doc)})
    run.txs["submit_return_award"] = _chain_tx(res, "submit_return_award")
    world.shown(res["stage"], arbitrator, "signs the return-and-refund award (ReturnAward): "
                f"refund {fmt_amount(price, story.symbol)} once the goods are back; if not "
                "returned in time the seller keeps the price (退货退款裁决)", res,
                tx=run.txs["submit_return_award"])


def start_return(world: World, story: Story) -> None:
    """Anyone asks for enforcement: the escrow's executeAward opens the return stage and the
    service records it (return_pending)."""
    buyer, case_id, run = story.cast.buyer, story.case_id, _run(story)
    res = buyer.post(f"/cases/{case_id}/enforcement",
                     buyer.plain(case_id, "enforcement.requested"))
    world.shown(res["stage"], buyer, "asks for enforcement (anyone may; 申请执行)", res)
    view = res
    for _ in range(10):
        world.tick()
        view = buyer.get(f"/cases/{case_id}")
        if view["stage"] == "return_pending":
            break
    run.txs["return_requested"] = _chain_tx(view, "execute_award")
    if view["stage"] != "return_pending" or \
            story.escrow.order(story.order_id).status != Status.RETURN_PENDING:
        raise DemoError(f"the return stage did not open: stage {view['stage']}, chain "
                        f"actions {view['chainActions']}")
    world.shown("return_pending", buyer, "executeAward opens the escrow's return stage: "
                f"nothing is paid yet; the buyer ships back by {view['deadline']} "
                "(待买方退货)", view, tx=run.txs["return_requested"])


def ship_back(world: World, story: Story) -> None:
    """The buyer signs the return shipment (carrier, tracking number, salted commitment) and
    their wallet records the commitment on the escrow."""
    buyer, case_id, run = story.cast.buyer, story.case_id, _run(story)
    tracking = {"carrier": "Simulated Express", "shipment": f"RET-{story.order_id}",
                "from": buyer.address, "to": story.cast.seller.address}
    salt = secrets.token_bytes(32)
    commitment = bytes32(sha256_hex(salt + canonical_json(tracking)))
    run.tracking_commitment = "0x" + commitment.hex()
    shipment = {"carrier": tracking["carrier"], "trackingNumber": tracking["shipment"],
                "tracking": run.tracking_commitment}
    res = buyer.post(f"/cases/{case_id}/return/shipment",
                     buyer.plain(case_id, "return.shipped", shipment))
    world.shown(res["stage"], buyer, f"ships the panels back ({tracking['shipment']}) and signs "
                "the return shipment (买方退货并登记运单)", res)
    r = story.escrow.record_return_shipment(buyer.key, story.order_id, commitment)
    run.txs["return_shipped"] = hex_hash(r.tx_hash)
    world.tick()
    if story.escrow.order(story.order_id).status != Status.RETURN_SHIPPED:
        raise DemoError("the return shipment is not recorded on the escrow")
    world.printer.step("return_shipped", buyer.label, "the buyer's wallet records the salted "
                       "tracking commitment (recordReturnShipment)", tx=run.txs["return_shipped"])


def confirm_receipt(world: World, story: Story) -> None:
    """The seller confirms the goods arrived: the service's confirmReturnReceived refunds."""
    seller, case_id, run = story.cast.seller, story.case_id, _run(story)
    res = seller.post(f"/cases/{case_id}/return/receipt",
                      seller.plain(case_id, "return.received"))
    view = res
    for _ in range(10):
        world.tick()
        view = seller.get(f"/cases/{case_id}")
        if _chain_tx(view, "confirm_return_received"):
            break
    story.enforcement_tx = run.txs["refund"] = _chain_tx(view, "confirm_return_received")
    order = story.escrow.order(story.order_id)
    if view["stage"] != "enforced" or order.resolution != Resolution.RETURN_RECEIVED:
        raise DemoError(f"the refund was not paid: stage {view['stage']}, order "
                        f"{order.status.name}/{order.resolution.name}")
    run.resolution = Resolution.RETURN_RECEIVED.name
    story.after = balances(story.token, story.escrow, story.cast.buyer.address,
                           seller.address)
    refund = story.after["buyer"] - story.before["buyer"]
    world.shown(view["stage"], seller, "confirms the returned goods arrived: the service's "
                f"confirmReturnReceived refunds the buyer +{fmt_amount(refund, story.symbol)} "
                "(卖方确认收到退货，退款已付)", view, tx=story.enforcement_tx)
    world.anchor()


ACTS: tuple[Act, ...] = (
    identity.declare_profiles, acts.deposit_guarantee, acts.open_order, file_return_claim,
    acts.negotiate, acts.appoint_mediator, acts.mediate, acts.agree_to_arbitrate,
    acts.appoint_arbitrator, acts.submit_evidence, acts.answer_and_close_record,
    issue_return_award, acts.pass_objection_window, start_return, ship_back, confirm_receipt,
    court.give_court_access, court.download_package, court.verify_package)


def result_line(world: World, story: Story) -> ResultLine:
    """The JSON object of the last stdout line; refuses a run whose package did not
    verify."""
    if story.report is None or not story.report.ok:
        failed = story.report.failed() if story.report else "the court verified no package"
        raise DemoError(f"the judicial package did not verify: {failed}")
    run, before, after = _RUNS.pop(id(story)), story.before, story.after
    timeline = story.cast.buyer.get(f"/cases/{story.case_id}/timeline")
    assert story.package_path is not None
    return {
        "scenario": "return",
        "case": story.case_id,
        "order": story.order_id,
        "stages": world.stages,
        "case_stage": story.cast.buyer.get(f"/cases/{story.case_id}")["stage"],
        "token": {"symbol": story.symbol, "address": world.deployment.token,
                  "decimals": DECIMALS},
        "award": {"refund": _alloc(run.refund), "no_return": _alloc(run.no_return),
                  "award_hash": run.award_hash},
        "return_tracking_commitment": run.tracking_commitment,
        "resolution": run.resolution,
        "buyer_refund": decimal_units(after["buyer"] - before["buyer"]),
        "seller_payout": decimal_units(after["seller"] - before["seller"]),
        "escrow_left": decimal_units(after["escrow"]),
        "txs": run.txs,
        "steps": [i["action"] for i in timeline if i["type"] == "step"],
        "package": str(story.package_path.resolve()),
        "package_verified": story.report.ok,
        **acts.chain_keys(world),
        "buyer": story.cast.buyer.address,
        "seller": story.cast.seller.address,
        "data_dir": str(world.settings.data_dir.resolve()),
    }


def _alloc(a: Allocation) -> dict[str, str]:
    return {"to_buyer": decimal_units(a.to_buyer), "to_seller": decimal_units(a.to_seller),
            "compensation": decimal_units(a.compensation)}


RETURN = Scenario(
    name="return",
    title=("chainarb — return and refund: the goods go back, the escrow refunds",
           "退货退款：买方退货，托管合约退款"),
    acts=ACTS, result=result_line)
