"""A settlement that says "return and refund" through the service (docs/procedure.md "Return
and refund"): a party's offer with a fallback, signed by both parties as the escrow's
ReturnSettlement, starts the return stage at once (``submitReturnSettlement``); then the
return stages as under a return award. On SQLite and PostgreSQL, the in-memory escrow
(tests/backend/gateway holds it to the contract)."""

from __future__ import annotations

from evidence.records import ReturnSettlement, SignedRecord
from tests.support.world import ORDER_ID, World, ok, sha, to_negotiation

REFUND = (1_000_000_000, 0, 0)  # the whole price back once the goods are back
FALLBACK = (300_000_000, 700_000_000, 0)  # if the buyer never ships them
SHIPMENT = {"carrier": "sim-post", "trackingNumber": "RT-0001",
            "tracking": sha(b"salt|sim-post|RT-0001")}


def _return_settled(w: World) -> str:
    to_negotiation(w)
    made = ok(w.seller.post(f"/cases/{w.case_id}/offers",
                            json=w.seller.offer(*REFUND, no_return=FALLBACK)))
    offer_id = made["recordHash"]
    (offer,) = w.buyer.case()["offers"]
    assert offer["offer_id"] == offer_id
    # accepting it as an ordinary settlement (no fallback) is refused: not the offer's terms
    r = w.buyer.post(f"/cases/{w.case_id}/offers/accept", json=w.buyer.accept(offer_id, *REFUND))
    assert r.status_code == 422 and r.json()["code"] == "invalid_allocation", r.text
    done = ok(w.buyer.post(f"/cases/{w.case_id}/offers/accept",
                           json=w.buyer.accept(offer_id, *REFUND, no_return=FALLBACK)))
    assert done["stage"] == "return_pending", done["stage"]
    kind, payload = w.port.calls[-1]
    assert kind == "submit_return_settlement"
    # the escrow gets the buyer's and the seller's own ReturnSettlement signatures
    rec = ReturnSettlement(order_id=ORDER_ID, case_id=w.case_id, to_buyer=REFUND[0],
                           to_seller=REFUND[1], compensation=REFUND[2],
                           no_return_to_buyer=FALLBACK[0], no_return_to_seller=FALLBACK[1],
                           no_return_compensation=FALLBACK[2])
    for who, field in (("buyer", "buyerSignature"), ("seller", "sellerSignature")):
        sig = payload[field]
        assert isinstance(sig, str)
        signed = SignedRecord(w.domain, rec, (bytes.fromhex(sig.removeprefix("0x")),))
        assert signed.signers() == (w.actors[who].address,)
    assert w.port.read_order(ORDER_ID).status == "ReturnPending"
    return offer_id


def test_a_return_settlement_starts_the_return_stage_and_the_receipt_pays_the_refund(
        world: World) -> None:
    w = world
    _return_settled(w)
    view = w.buyer.case()
    assert view["deadline"]
    r = ok(w.buyer.post(f"/cases/{w.case_id}/return/shipment",
                        json=w.buyer.plain("return.shipped", SHIPMENT)))
    assert r["stage"] == "return_shipped"
    w.port.party_ships_return(ORDER_ID, SHIPMENT["tracking"], w.buyer.address)
    w.tick()
    r = ok(w.seller.post(f"/cases/{w.case_id}/return/receipt",
                         json=w.seller.plain("return.received")))
    assert r["stage"] == "enforced"
    o = w.port._orders[ORDER_ID]
    assert (o.info.status, o.resolution) == ("Resolved", "ReturnReceived")
    actions = [i["action"] for i in ok(w.buyer.get(f"/cases/{w.case_id}/timeline"))
               if i["type"] == "step"]
    assert actions[-4:] == ["offer.made", "offer.accepted", "return.shipped",
                            "return.received"]


def test_a_return_settlement_missed_by_the_buyer_pays_its_fallback(world: World) -> None:
    w = world
    _return_settled(w)
    w.clock.advance(days=15, seconds=1)  # the case's 14 days and the escrow's 15 both passed
    w.tick()
    assert w.buyer.case()["stage"] == "enforced"
    assert w.port._orders[ORDER_ID].resolution == "ReturnNotShipped"


def test_return_settlement_refusals(world: World) -> None:
    """An offer whose refund gives the buyer nothing, or whose fallback equals the refund, is
    no return and refund (``not_a_return_award``)."""
    w = world
    to_negotiation(w)
    r = w.seller.post(f"/cases/{w.case_id}/offers",
                      json=w.seller.offer(0, 1_000_000_000, no_return=FALLBACK))
    assert r.status_code == 422 and r.json()["code"] == "not_a_return_award", r.text
    r = w.seller.post(f"/cases/{w.case_id}/offers",
                      json=w.seller.offer(*REFUND, no_return=REFUND))
    assert r.status_code == 422 and r.json()["code"] == "not_a_return_award", r.text
    assert w.buyer.case()["offers"] == []


def test_prepare_builds_the_return_settlement_to_sign(world: World) -> None:
    """``steps/prepare`` of ``offer.made`` with the fallback fields builds a ReturnSettlement
    attachment; of its acceptance, the same ReturnSettlement."""
    w = world
    to_negotiation(w)
    fields = {"toBuyer": str(REFUND[0]), "toSeller": str(REFUND[1]),
              "compensation": str(REFUND[2]), "expiresAt": str(w.seller.at() + 86_400),
              "noReturnToBuyer": str(FALLBACK[0]), "noReturnToSeller": str(FALLBACK[1]),
              "noReturnCompensation": str(FALLBACK[2])}
    prepared = ok(w.seller.post(f"/cases/{w.case_id}/steps/prepare",
                                json={"action": "offer.made", "payload": fields}))
    (att,) = prepared["attachments"]
    assert att["recordType"] == "ReturnSettlement"
    made = ok(w.seller.post(f"/cases/{w.case_id}/offers",
                            json=w.seller.offer(*REFUND, no_return=FALLBACK)))
    accepting = ok(w.buyer.post(f"/cases/{w.case_id}/steps/prepare", json={
        "action": "offer.accepted", "payload": {"offerId": made["recordHash"]}}))
    (att,) = accepting["attachments"]
    assert att["recordType"] == "ReturnSettlement"
    assert accepting["payload"]["settlementHash"] == att["recordHash"]
