"""Documented refusals that no other test produced (each code of docs/api.md's "Errors"
table is produced by a test: tests/error_code_recorder.py), through HTTP, with the exact
status and code; nothing changes on a refusal."""

from __future__ import annotations

from typing import Any

from backend.services.chain import OrderInfo
from tests.support.world import AWARD_DOC, ORDER_ID, World, ok, to_evidence, to_negotiation


def _refused(w: World, who: str, path: str, body: dict[str, Any], status: int,
             code: str) -> dict[str, Any]:
    before = w.admin.case()
    r = w.actors[who].post(f"/cases/{w.case_id}/{path}", json=body)
    assert (r.status_code, r.json().get("code")) == (status, code), r.text
    after = w.admin.case()
    assert (after["stage"], after["nextSequence"]) == (before["stage"], before["nextSequence"])
    return r.json()


def test_an_offer_without_its_signed_settlement(world: World) -> None:
    to_negotiation(world)
    body = world.buyer.offer(300_000_000, 700_000_000)
    body["attachments"] = []
    _refused(world, "buyer", "offers", body, 422, "settlement_signature_missing")


def test_an_award_without_its_award_record(world: World) -> None:
    w = world
    to_evidence(w)
    ok(w.arbitrator.post(f"/cases/{w.case_id}/close-record",
                         json=w.arbitrator.plain("record.closed")))
    body = w.arbitrator.award(600_000_000, 400_000_000, 0, AWARD_DOC)
    body["attachments"] = []
    _refused(w, "arbitrator", "award", body, 422, "award_missing")


def test_a_step_without_the_payload_it_signs(world: World) -> None:
    to_negotiation(world)
    body = world.buyer.plain("facilitation.requested")
    del body["payload"]
    _refused(world, "buyer", "facilitation", body, 422, "payload_missing")


def test_an_order_of_another_institution_opens_no_case(world: World) -> None:
    o = world.port.orders[ORDER_ID]
    world.port.add_order(OrderInfo(**{**o.__dict__, "order_id": 99,
                                      "institution": "0x" + "22" * 20}))
    r = world.buyer.post("/cases", json={"orderId": "99"})
    assert (r.status_code, r.json()["code"]) == (422, "wrong_institution"), r.text


def test_the_router_answers_in_the_same_form(world: World) -> None:
    world.open_case("buyer")
    r = world.client.delete(f"/cases/{world.case_id}", headers=world.buyer.headers)
    assert (r.status_code, r.json()["code"]) == (405, "method_not_allowed"), r.text
    r = world.client.get("/no/such/route", headers=world.buyer.headers)
    assert (r.status_code, r.json()["code"]) == (404, "not_found"), r.text
    r = world.admin.post("/admin/courts", json={"address": "nope", "name": "Court"})
    assert (r.status_code, r.json()["code"]) == (422, "invalid_field"), r.text
    assert r.json()["detail"].startswith("body.address:") and "nope" not in r.json()["detail"]
