"""The ``return`` scenario: a return-and-refund case, from the order to the refund on chain
(issue 13 item 3; docs/contracts.md "Return and refund").

The case runs through the service as in ``main`` up to the closed record (the buyer claims
"return the goods and refund"); then the escrow's return stage runs from the wallets:

1. the arbitrator signs a ``ReturnAward`` (EIP-712, round 0): the full price back once the
   goods are back, and the award's fallback (the seller keeps the price) if the buyer misses
   the return window, and relays it to ``submitReturnAward``;
2. the objection window of this development escrow passes; anyone's ``executeAward`` opens
   the return stage (ReturnPending) instead of paying out;
3. the buyer ships the goods back and records the return shipment's salted tracking
   commitment (``recordReturnShipment``) within the window;
4. the seller confirms the goods arrived (``confirmReturnReceived``; the institution may do so
   on the carrier's delivered event, and after the receipt window anyone's
   ``resolveByTimeout`` deems them received): the escrow pays the refund.

Not yet (docs/procedure.md "Return and refund"): the service has no return steps, so the
award is not a step of the case's record and the service's case stays at the closed record;
the scenario says so in its result line (``service_return_steps``).
"""

from __future__ import annotations

import secrets
from dataclasses import dataclass, field
from typing import Any

from backend.chain import Allocation, Resolution, Status, TxResult
from backend.demo import acts, identity
from backend.demo.chain import balances, hex_hash, send_eth, wait_until
from backend.demo.common import DECIMALS, DemoError, decimal_units, fmt_amount, sha256_hex
from backend.demo.files import award_document, statement_of_claim
from backend.demo.world import Act, Scenario, Story, World
from evidence.records import bytes32, canonical_json

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
    """The buyer files: goods not as described, return the goods and refund (the whole price),
    and freezes the escrow from their wallet."""
    buyer, order_id = story.cast.buyer, story.order_id
    view = buyer.post("/cases", {"orderId": str(order_id)})
    case_id = story.case_id = view["caseId"]
    world.note_stage(view["stage"])
    filing = {"claimant": buyer.address, "respondent": story.cast.seller.address,
              "orderId": str(order_id), "disputeType": "not_as_described",
              "remedy": "return_and_refund", "claimedAmount": str(story.price),
              "statementHash": sha256_hex(statement_of_claim(order_id))}
    res = buyer.post(f"/cases/{case_id}/filing", buyer.plain(case_id, "case.filed", filing))
    world.shown("filed", buyer, "files the claim: goods not as described, return the goods "
                f"and refund {fmt_amount(story.price, story.symbol)} (退货退款) — case "
                f"{case_id}", res)
    r = story.escrow.raise_dispute(buyer.key, order_id, bytes.fromhex(case_id[2:]))
    world.printer.step("filed", buyer.label, "the buyer's wallet freezes the escrow: "
                       "raiseDispute (冻结托管资金)", tx=hex_hash(r.tx_hash))
    world.anchor()


def issue_return_award(world: World, story: Story) -> None:
    """The arbitrator signs the return-and-refund award and relays it to the escrow."""
    arbitrator, escrow, run = story.cast.arbitrator, story.escrow, _run(story)
    price = story.price
    run.refund, run.no_return = Allocation(price, 0, 0), Allocation(0, price, 0)
    doc = award_document(story.order_id, story.case_id, price, 0, 0) + (
        b"\n\nReturn and refund: the buyer ships the goods back within the return window and "
        b"records the return tracking; the price is refunded once the seller confirms receipt "
        b"(or the carrier's delivery, or the receipt window passes). If the buyer does not "
        b"ship them back in time, the seller keeps the price.\n")
    award_hash = bytes32(sha256_hex(doc))
    run.award_hash = "0x" + award_hash.hex()
    send_eth(world.handle.w3, story.institution, arbitrator.address, 10**17)  # relay gas
    signature = escrow.sign_return_award(arbitrator.key, story.order_id, run.refund,
                                         run.no_return, award_hash)
    r = escrow.submit_return_award(arbitrator.key, story.order_id, run.refund, run.no_return,
                                   award_hash, signature)
    run.txs["submit_return_award"] = hex_hash(r.tx_hash)
    world.note_stage("awarded")
    world.printer.step("awarded", arbitrator.label, "signs the return-and-refund award "
                       f"(ReturnAward): refund {fmt_amount(price, story.symbol)} once the goods "
                       "are back; if not returned in time the seller keeps the price "
                       "(退货退款裁决)", tx=run.txs["submit_return_award"])


def start_return(world: World, story: Story) -> None:
    """Past the objection window, anyone's executeAward opens the return stage."""
    escrow, buyer, run = story.escrow, story.cast.buyer, _run(story)
    waited = wait_until(escrow.order(story.order_id).deadline + 1)
    r = escrow.execute_award(buyer.key, story.order_id)
    run.txs["return_requested"] = hex_hash(r.tx_hash)
    _expect(story, Status.RETURN_PENDING, r, "ReturnRequested")
    deadline = int(r.named("ReturnRequested")[0].args["deadline"])
    world.note_stage("return_pending")
    world.printer.step("return_pending", "escrow 托管合约", f"the objection window passes "
                       f"(waited {waited:.1f} s in real time); executeAward opens the return "
                       f"stage: nothing is paid yet, the buyer ships back by {deadline} "
                       "(unix time; 待买方退货)", tx=run.txs["return_requested"])


def ship_back(world: World, story: Story) -> None:
    """The buyer ships the goods back and records the salted tracking commitment."""
    buyer, run = story.cast.buyer, _run(story)
    tracking = {"carrier": "Simulated Express", "shipment": f"RET-{story.order_id}",
                "from": buyer.address, "to": story.cast.seller.address}
    salt = secrets.token_bytes(32)
    commitment = bytes32(sha256_hex(salt + canonical_json(tracking)))
    run.tracking_commitment = "0x" + commitment.hex()
    r = story.escrow.record_return_shipment(buyer.key, story.order_id, commitment)
    run.txs["return_shipped"] = hex_hash(r.tx_hash)
    _expect(story, Status.RETURN_SHIPPED, r, "ReturnShipped")
    world.note_stage("return_shipped")
    world.printer.step("return_shipped", buyer.label, f"ships the panels back "
                       f"({tracking['shipment']}) and records the return tracking as a salted "
                       "commitment (recordReturnShipment; 买方退货并登记运单)",
                       tx=run.txs["return_shipped"])


def confirm_receipt(world: World, story: Story) -> None:
    """The seller confirms the goods arrived: the escrow refunds the buyer."""
    seller, run = story.cast.seller, _run(story)
    r = story.escrow.confirm_return_received(seller.key, story.order_id)
    run.txs["refund"] = story.enforcement_tx = hex_hash(r.tx_hash)
    resolved = r.named("OrderResolved")
    if not resolved or int(resolved[0].args["resolution"]) != Resolution.RETURN_RECEIVED:
        raise DemoError(f"the refund was not paid: {list(r.events)}")
    run.resolution = Resolution.RETURN_RECEIVED.name
    story.compensation_paid = int(resolved[0].args["compensationPaid"])
    story.after = balances(story.token, story.escrow, story.cast.buyer.address,
                           seller.address)
    world.note_stage("refunded")
    refund = story.after["buyer"] - story.before["buyer"]
    world.printer.step("refunded", seller.label, "confirms the returned goods arrived "
                       f"(confirmReturnReceived): the escrow refunds the buyer "
                       f"+{fmt_amount(refund, story.symbol)} (卖方确认收到退货，退款已付)",
                       tx=run.txs["refund"])


def _expect(story: Story, status: Status, result: TxResult, event: str) -> None:
    order = story.escrow.order(story.order_id)
    if order.status != status or not result.named(event):
        raise DemoError(f"order {story.order_id} should be {status.name} after {event}, "
                        f"found {order.status.name}")


ACTS: tuple[Act, ...] = (
    identity.declare_profiles, acts.deposit_guarantee, acts.open_order, file_return_claim,
    acts.negotiate, acts.appoint_mediator, acts.mediate, acts.agree_to_arbitrate,
    acts.appoint_arbitrator, acts.submit_evidence, acts.answer_and_close_record,
    issue_return_award, start_return, ship_back, confirm_receipt)


def result_line(world: World, story: Story) -> dict[str, Any]:
    """The JSON object of the last stdout line."""
    run, before, after = _RUNS.pop(id(story)), story.before, story.after
    return {
        "scenario": "return",
        "case": story.case_id,
        "order": story.order_id,
        "stages": world.stages,
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
        "service_return_steps": "not yet: the return stage ran from the wallets on the escrow",
        "chain_id": world.handle.chain_id,
        "escrow": world.deployment.escrow,
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
