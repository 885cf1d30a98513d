"""The return stage through the service (docs/procedure.md "Return and refund"): a return
award signed as the escrow's ReturnAward, the buyer's return shipment, the seller's receipt
or dispute, the carrier's delivery, the deadlines; on SQLite and PostgreSQL, the in-memory
escrow (tests/backend/gateway holds it to the contract)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.performance import Scheme
from backend.performance.simulator import CarrierSimulator
from tests.support.snapshots import StageSnapshots
from tests.support.world import ORDER_ID, World, make_world, ok, sha, to_evidence

REFUND = (1_000_000_000, 0, 0)  # the whole price back once the goods are back
FALLBACK = (200_000_000, 800_000_000, 0)  # if the buyer never ships them
DOC = b"# Award\nReturn the goods; the buyer is refunded once they are back.\n"
SHIPMENT = {"carrier": "sim-post", "trackingNumber": "RT-0001",
            "tracking": sha(b"salt|sim-post|RT-0001")}


def _to_return_pending(w: World) -> dict[str, Any]:
    to_evidence(w)
    ok(w.arbitrator.post(f"/cases/{w.case_id}/close-record",
                         json=w.arbitrator.plain("record.closed")))
    awarded = ok(w.arbitrator.post(f"/cases/{w.case_id}/award",
                                   json=w.arbitrator.return_award(REFUND, FALLBACK, DOC)))
    assert awarded["stage"] == "awarded"
    assert any(a["kind"] == "submit_return_award" and a["status"] == "done"
               for a in awarded["chainActions"]), awarded["chainActions"]
    w.clock.advance(days=10, seconds=1)
    w.tick()
    assert w.buyer.case()["stage"] == "final"
    ok(w.stranger.post(f"/cases/{w.case_id}/enforcement",
                       json=w.stranger.plain("enforcement.requested")))
    view = w.buyer.case()
    assert view["stage"] == "return_pending", view["stage"]
    assert w.port.read_order(ORDER_ID).status == "ReturnPending"
    return view


def _ship(w: World) -> dict[str, Any]:
    r = ok(w.buyer.post(f"/cases/{w.case_id}/return/shipment",
                        json=w.buyer.plain("return.shipped", SHIPMENT)))
    assert r["stage"] == "return_shipped"
    # the buyer's wallet records the commitment on the escrow; the service waits to see it
    assert [a["status"] for a in r["chainActions"] if a["kind"] == "return_shipped"] == [
        "awaiting_party"]
    # the buyer's page asks the buyer's wallet for it (the seller's for nothing)
    (tx,) = ok(w.buyer.get(f"/cases/{w.case_id}/wallet-transactions"))
    assert (tx["kind"], tx["function"]) == ("return_shipped", "recordReturnShipment")
    assert tx["data"].endswith(SHIPMENT["tracking"][2:])
    assert ok(w.seller.get(f"/cases/{w.case_id}/wallet-transactions")) == []
    w.port.party_ships_return(ORDER_ID, SHIPMENT["tracking"], w.buyer.address)
    w.tick()
    return r


def test_return_received_by_the_seller_pays_the_refund(world: World) -> None:
    w = world
    _to_return_pending(w)
    _ship(w)
    r = ok(w.seller.post(f"/cases/{w.case_id}/return/receipt",
                         json=w.seller.plain("return.received")))
    assert r["stage"] == "enforced"
    order = w.port.read_order(ORDER_ID)
    assert order.status == "Resolved"
    assert [c for c, _ in w.port.calls][-1] == "confirm_return_received"
    actions = [i["action"] for i in ok(w.buyer.get(f"/cases/{w.case_id}/timeline"))
               if i["type"] == "step"]
    assert actions[-3:] == ["enforcement.recorded", "return.shipped", "return.received"]


def test_the_buyer_missing_the_window_gets_the_fallback(world: World) -> None:
    w = world
    view = _to_return_pending(w)
    w.clock.advance(days=15, seconds=1)  # the case's 14 days and the escrow's 15 both passed
    w.tick()
    assert w.buyer.case()["stage"] == "enforced"
    assert w.port._orders[ORDER_ID].resolution == "ReturnNotShipped"
    # too late: the buyer's shipment is refused once the window closed
    r = w.buyer.post(f"/cases/{w.case_id}/return/shipment",
                     json=w.buyer.plain("return.shipped", SHIPMENT))
    assert r.status_code == 409 and r.json()["code"] == "wrong_stage", r.text
    assert view["deadline"]


def test_a_seller_who_stays_silent_is_deemed_to_have_received(world: World) -> None:
    w = world
    _to_return_pending(w)
    _ship(w)
    w.clock.advance(days=9, seconds=1)  # the case's receipt window ends first
    r = w.seller.post(f"/cases/{w.case_id}/return/receipt",
                      json=w.seller.plain("return.received"))
    assert r.status_code == 409 and r.json()["code"] == "deadline_passed", r.text
    w.tick()
    assert w.buyer.case()["stage"] == "enforced"
    w.clock.advance(days=1)  # the escrow's 10 days: anyone's resolveByTimeout pays the refund
    w.tick()
    assert w.port._orders[ORDER_ID].resolution == "ReturnDeemedReceived"


def test_the_seller_disputes_the_receipt_and_an_arbitrator_decides(world: World) -> None:
    w = world
    _to_return_pending(w)
    _ship(w)
    r = ok(w.seller.post(f"/cases/{w.case_id}/return/dispute",
                         json=w.seller.plain("return.disputed")))
    assert r["stage"] == "arbitrator_appointment"
    (tx,) = ok(w.seller.get(f"/cases/{w.case_id}/wallet-transactions"))
    assert (tx["kind"], tx["function"]) == ("return_disputed", "disputeReturnReceipt")
    w.port.party_disputes_return(ORDER_ID, w.seller.address)
    w.tick()
    assert w.port.read_order(ORDER_ID).status == "Disputed"
    r = ok(w.admin.post(f"/cases/{w.case_id}/arbitrator",
                        json=w.admin.appoint("arbitrator", w.arbitrator)))
    assert r["stage"] == "evidence"


def test_return_refusals(world: World) -> None:
    """Wrong actor (the seller ships, the buyer confirms), not a return award."""
    w = world
    to_evidence(w)
    ok(w.arbitrator.post(f"/cases/{w.case_id}/close-record",
                         json=w.arbitrator.plain("record.closed")))
    r = w.arbitrator.post(f"/cases/{w.case_id}/award",
                          json=w.arbitrator.return_award((0, 1_000_000_000, 0), FALLBACK, DOC))
    assert r.status_code == 422 and r.json()["code"] == "not_a_return_award", r.text
    ok(w.arbitrator.post(f"/cases/{w.case_id}/award",
                         json=w.arbitrator.return_award(REFUND, FALLBACK, DOC)))
    w.clock.advance(days=10, seconds=1)
    w.tick()
    ok(w.stranger.post(f"/cases/{w.case_id}/enforcement",
                       json=w.stranger.plain("enforcement.requested")))
    r = w.seller.post(f"/cases/{w.case_id}/return/shipment",
                      json=w.seller.plain("return.shipped", SHIPMENT))
    assert r.status_code == 403 and r.json()["code"] == "wrong_actor", r.text
    _ship(w)
    r = w.buyer.post(f"/cases/{w.case_id}/return/receipt", json=w.buyer.plain("return.received"))
    assert r.status_code == 403 and r.json()["code"] == "wrong_actor", r.text


@pytest.fixture
def carrier_world(clean_db_url: str, tmp_path: Path, stage_snapshots: StageSnapshots
                  ) -> Iterator[tuple[World, CarrierSimulator]]:
    sim = CarrierSimulator.new("sim-post", Scheme.HMAC_SHA256)
    w = make_world(clean_db_url, tmp_path, webhook_senders=[
        sim.config(name="Simulated Post", name_zh="模拟邮政")])
    w.snapshots = stage_snapshots
    sim.clock = lambda: w.clock().timestamp()
    with w.client:
        yield w, sim


def test_the_carriers_delivered_event_of_the_return_pays_the_refund(
        carrier_world: tuple[World, CarrierSimulator]) -> None:
    """The carrier's origin-verified ``return_delivered`` webhook for the buyer's return
    shipment writes ``return.delivered`` (the institution's step) and the escrow refunds;
    another shipment's delivery writes nothing."""
    w, sim = carrier_world
    _to_return_pending(w)
    _ship(w)
    other = sim.send(w.client, sim.event(ORDER_ID, "RT-9999", "return_delivered"))
    assert other.status_code == 201, other.text
    assert w.buyer.case()["stage"] == "return_shipped"
    r = sim.send(w.client, sim.event(ORDER_ID, SHIPMENT["trackingNumber"], "return_delivered"))
    assert r.status_code == 201, r.text
    view = w.buyer.case()
    assert view["stage"] == "enforced"
    assert w.port.read_order(ORDER_ID).status == "Resolved"
    steps = [i for i in ok(w.buyer.get(f"/cases/{w.case_id}/timeline")) if i["type"] == "step"]
    assert steps[-1]["action"] == "return.delivered"
