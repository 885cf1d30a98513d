"""``POST /cases/{id}/steps/prepare``: the typed data the service prepares is the typed data
the step endpoints accept, for every step endpoint and every role.

For each endpoint of test_access.MATRIX the case is brought to the stage where its act is
open; every role asks the service to prepare the act. Roles the endpoint refuses are
refused by the preparation with the same status (and the case is unchanged); each allowed
role signs the prepared typed data with eth-account (what ``eth_signTypedData_v4`` signs)
and posts it, and the step is accepted. Then the refusals: unknown action, malformed
fields, evidence (prepared by the upload), no session; and the case view's new fields.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from eth_account import Account

from backend.api.routes.cases import STEP_ENDPOINTS as ROUTES
from backend.services.steps import COMMAND_OF_STEP, STEP_ENDPOINTS
from evidence.records import SignedRecord
from tests.backend.api.access_matrix import (
    MATRIX,
    ROLES,
    enforced,
    filing,
    grant_court,
    impasse,
    offer_id,
)
from tests.support.world import AWARD_DOC, Actor, World, b64, ok, sha, to_awarded, to_facilitation


def _sig(a: Actor, typed: dict[str, Any]) -> str:
    return "0x" + bytes(Account.sign_typed_data(a.key.key, full_message=typed).signature).hex()


def prepare(a: Actor, action: str, payload: dict[str, Any] | None = None) -> Any:
    return a.post(f"/cases/{a.world.case_id}/steps/prepare",
                  json={"action": action, "payload": payload})


def signed_body(a: Actor, prepared: dict[str, Any], **extra: Any) -> dict[str, Any]:
    """Sign what the service prepared, as a wallet would, and build the step's body."""
    record = {**prepared["unsignedRecord"], "signatures": [_sig(a, prepared["typedData"])]}
    attachments = [{**att["unsignedRecord"], "signatures": [_sig(a, att["typedData"])]}
                   for att in prepared["attachments"]]
    body: dict[str, Any] = {"record": record, "payload": prepared["payload"],
                            "attachments": attachments, **extra}
    if prepared.get("reasons"):
        body["reasons"] = prepared["reasons"]
    return body


def _offer_fields(a: Actor) -> dict[str, Any]:
    return {"toBuyer": "300000000", "toSeller": "700000000", "compensation": "0",
            "expiresAt": str(a.at() + 3 * 86400)}


def _award_fields(_a: Actor) -> dict[str, Any]:
    return {"toBuyer": "600000000", "toSeller": "400000000", "compensation": "0",
            "awardHash": sha(AWARD_DOC)}


AWARD_EXTRA = {"document": {"filename": "award.md", "media_type": "text/markdown",
                            "content_base64": b64(AWARD_DOC)}}

# endpoint -> (action, fields for the actor, extra body items)
PREPARED: dict[str, tuple[str, Callable[[Actor], dict[str, Any] | None], dict[str, Any]]] = {
    "filing": ("case.filed", filing, {}),
    "offers": ("offer.made", _offer_fields, {}),
    "offers/accept": ("offer.accepted", lambda a: {"offerId": offer_id(a)}, {}),
    "offers/withdraw": ("offer.withdrawn", lambda a: {"offerId": offer_id(a)}, {}),
    "facilitation": ("facilitation.requested", lambda a: {}, {}),
    "mediator": ("appoint.mediator", lambda a: {"role": "mediator",
                                                "appointees": [a.world.mediator.address]}, {}),
    "pre-evaluation": ("preevaluation.published", lambda a: {
        "recommended": "partial_refund", "reportHash": sha(b"r")}, {}),
    "proposals": ("settlement.proposed", lambda a: {
        "offerId": "m1", "toBuyer": "500000000", "toSeller": "500000000", "compensation": "0",
        "expiresAt": "0"}, {}),
    "impasse": ("impasse.declared", lambda a: None, {}),
    "arbitration-agreement": ("arbitration.agreed", lambda a: {}, {}),
    "arbitrator": ("appoint.arbitrator", lambda a: {
        "role": "arbitrator", "appointees": [a.world.arbitrator.address]}, {}),
    "answer": ("answer.submitted", lambda a: {"answerHash": sha(b"ans")}, {}),
    "close-record": ("record.closed", lambda a: {}, {}),
    "award": ("award.issued", _award_fields, AWARD_EXTRA),
    "objection": ("award.objected", lambda a: {"reasonsHash": sha(b"why")},
                  {"document": {"content_base64": b64(b"why")}}),
    "panel": ("appoint.panel", lambda a: {"role": "panelist", "appointees": [
        a.world.panel1.address, a.world.panel2.address, a.world.panel3.address]}, {}),
    "panel-award": ("award.panel_signed", _award_fields, AWARD_EXTRA),
    "enforcement": ("enforcement.requested", lambda a: {}, {}),
    "court-decision": ("court.confirmed", lambda a: _downloaded(a, {
        "packageHash": sha(b"package manifest"), "courtReference": "(2026) Hang 0192"}), {}),
}


def _downloaded(a: Actor, fields: dict[str, Any]) -> dict[str, Any]:
    """The court names a package it downloaded (what the step's admission requires)."""
    if a.name == "court":
        a.world.record_package_download(a, fields["packageHash"])
    return fields


def test_the_vocabulary_is_one() -> None:
    """Every action a client may take has one endpoint, and it is a real route."""
    assert set(STEP_ENDPOINTS) == set(COMMAND_OF_STEP)
    routes = {path: accepted for path, accepted, _ in ROUTES}
    record_of = {"offer.made": "SettlementOffer", "evidence.submitted": "EvidenceSubmission",
                 "award.objected": "Objection", "court.confirmed": "CourtConfirmation",
                 "court.refused": "CourtConfirmation"}
    for action, path in STEP_ENDPOINTS.items():
        assert record_of.get(action, action) in routes[path], (action, path)
    assert set(PREPARED) | {"evidence-submissions"} == set(MATRIX)


@pytest.mark.parametrize("endpoint", list(PREPARED))
def test_prepare_for_every_role(endpoint: str, fresh_world: Callable[[], World]) -> None:
    setup, _body, allowed = MATRIX[endpoint]
    action, fields, extra = PREPARED[endpoint]
    w = fresh_world()
    setup(w)
    winners = [r for r in ROLES if allowed.get(r) == 201]
    results: dict[str, tuple[int, str]] = {}
    for role in ROLES:
        if role in winners:
            continue
        before = w.admin.case()
        r = prepare(w.actors[role], action, fields(w.actors[role]))
        results[role] = (r.status_code, r.json().get("code", ""))
        after = w.admin.case()
        assert (after["stage"], after["nextSequence"]) == (before["stage"],
                                                            before["nextSequence"])
    assert {r: s for r, (s, _) in results.items()} == \
        {r: allowed.get(r, 403) for r in ROLES if r not in winners}, results
    for role, (status, code) in results.items():
        if status == 403:
            assert code in ("wrong_actor", "access_denied"), (role, code)
    for i, role in enumerate(winners):
        if i > 0 and endpoint != "enforcement":
            w = fresh_world()
            setup(w)
        a = w.actors[role]
        before = w.admin.case()  # (a stranger may enforce but not read the case)
        prepared = ok(prepare(a, action, fields(a)))
        assert prepared["action"] == action
        assert prepared["endpoint"] == f"/cases/{w.case_id}/{endpoint}"
        assert prepared["sequence"] == before["nextSequence"]
        assert prepared["prevHash"] == before["prevHash"]
        assert prepared["typedData"]["domain"] == before["domain"]
        assert prepared["typedData"]["message"] == prepared["unsignedRecord"]["message"]
        # the record hash the service announces is the digest a wallet signs
        rec = SignedRecord.from_json_obj({**prepared["unsignedRecord"],
                                          "signatures": [_sig(a, prepared["typedData"])]})
        assert "0x" + rec.record_hash.hex() == prepared["recordHash"]
        assert list(rec.verify()) == [a.address]
        r = a.post(prepared["endpoint"], json=signed_body(a, prepared, **extra))
        assert r.status_code == 201, (role, r.text)
        if role != "admin":  # the institution re-signs an admin's act with its own key
            assert r.json()["recordHash"] == prepared["recordHash"]


def test_court_refusal_and_award_hashes(fresh_world: Callable[[], World]) -> None:
    w = fresh_world()
    enforced(w)
    view = w.court.case()
    assert view["allowedSteps"] == ["court.confirmed", "court.refused"]
    assert view["allowedEndpoints"] == {"court.confirmed": "court-decision",
                                        "court.refused": "court-decision"}
    # the award's record hash in the view is the one the court signs over
    reasons = "不予确认：程序瑕疵"
    r = prepare(w.court, "court.refused", {"packageHash": sha(b"pkg"),
                                           "courtReference": "(2026) X 1", "reasons": reasons})
    assert (r.status_code, r.json()["code"]) == (409, "unknown_package")  # not downloaded
    w.record_package_download(w.court, sha(b"pkg"))
    prepared = ok(prepare(w.court, "court.refused", {
        "packageHash": sha(b"pkg"), "courtReference": "(2026) X 1", "reasons": reasons}))
    msg = prepared["typedData"]["message"]
    assert msg["awardRecordHash"] == view["awardRecordHash"] != "0x" + "00" * 32
    assert msg["confirmed"] is False
    assert msg["reasonsHash"] == sha("不予确认：程序瑕疵".encode())
    assert prepared["reasons"] == "不予确认：程序瑕疵"
    r = w.court.post(prepared["endpoint"], json=signed_body(w.court, prepared))
    assert r.status_code == 201, r.text
    assert w.court.case()["stage"] == "confirmation_refused"
    # empty reasons are refused before anything is signed
    w2 = fresh_world()
    enforced(w2)
    r = prepare(w2.court, "court.refused", {"packageHash": sha(b"pkg"),
                                            "courtReference": "x", "reasons": "  "})
    assert (r.status_code, r.json()["code"]) == (422, "bad_payload")


def test_offer_settlement_hashes_in_the_view(world: World) -> None:
    w = world
    to_facilitation(w)
    for fields, status, code in (
            ({"toBuyer": "12.5"}, 422, "bad_payload"),  # base units: digits only
            ({"toBuyer": "0300000000"}, 422, "bad_payload"),
            ({"toBuyer": "300000001"}, 422, "invalid_allocation"),  # not the escrowed sum
            ({"expiresAt": "1"}, 422, "invalid_record")):  # expires before it is signed
        r = prepare(w.seller, "offer.made", {**_offer_fields(w.seller), **fields})
        assert (r.status_code, r.json().get("code")) == (status, code), (fields, r.text)
    r = prepare(w.admin, "appoint.mediator", {"role": "mediator",
                                              "appointees": [w.arbitrator.address]})
    assert (r.status_code, r.json()["code"]) == (409, "duplicate_action"), r.text
    prepared = ok(prepare(w.seller, "offer.made", _offer_fields(w.seller)))
    (settlement,) = prepared["attachments"]
    assert settlement["recordType"] == "Settlement"
    assert settlement["typedData"]["message"]["toBuyer"] == "300000000"
    ok(w.seller.post(prepared["endpoint"], json=signed_body(w.seller, prepared)))
    offers = {o["offer_id"]: o for o in w.buyer.case()["offers"]}
    assert offers[prepared["recordHash"]]["settlementHash"] == settlement["recordHash"]
    # the buyer's acceptance names the same Settlement hash and is accepted
    acc = ok(prepare(w.buyer, "offer.accepted", {"offerId": prepared["recordHash"]}))
    assert acc["payload"] == {"offerId": prepared["recordHash"],
                              "settlementHash": settlement["recordHash"]}
    ok(w.buyer.post(acc["endpoint"], json=signed_body(w.buyer, acc)))
    assert w.buyer.case()["stage"] == "settled"


def test_prepare_refusals(world: World) -> None:
    w = world
    to_awarded(w)
    grant_court(w)
    before = w.admin.case()
    cases: list[tuple[Actor, str, Any, int, str]] = [
        (w.buyer, "award.vetoed", {}, 422, "unknown_action"),
        (w.buyer, "enforcement.recorded", {}, 422, "unknown_action"),
        (w.buyer, "evidence.submitted", {}, 422, "use_evidence_upload"),
        (w.buyer, "award.objected", {}, 422, "bad_payload"),
        (w.buyer, "award.objected", {"reasonsHash": sha(b"x"), "more": 1}, 422, "bad_payload"),
        (w.buyer, "award.objected", {"reasonsHash": "0x1234"}, 422, "invalid_record"),
        (w.buyer, "award.objected", ["not", "an", "object"], 422, "invalid_field"),
        (w.buyer, "award.issued", _award_fields(w.buyer), 403, "wrong_actor"),
        (w.arbitrator, "record.closed", {}, 409, "wrong_stage"),
        (w.court, "court.confirmed", {"packageHash": sha(b"p"), "courtReference": "r"},
         409, "wrong_stage"),
        (w.admin, "appoint.panel", {"role": "panelist", "appointees": []}, 409, "wrong_stage"),
        (w.stranger, "award.objected", {"reasonsHash": sha(b"x")}, 403, "access_denied"),
    ]
    for actor, action, payload, status, code in cases:
        r = prepare(actor, action, payload)
        assert (r.status_code, r.json().get("code")) == (status, code), (action, r.text)
    r = w.buyer.post(f"/cases/{w.case_id}/steps/prepare", json={"payload": {}})
    assert r.status_code == 422  # no action at all
    r = w.client.post(f"/cases/{w.case_id}/steps/prepare",
                      json={"action": "award.objected", "payload": {"reasonsHash": sha(b"x")}})
    assert r.status_code == 401
    # a prepared objection, tampered after signing, is refused at the endpoint
    prepared = ok(prepare(w.buyer, "award.objected", {"reasonsHash": sha(b"why")}))
    body = signed_body(w.buyer, prepared, document={"content_base64": b64(b"why")})
    body["record"]["message"]["reasonsHash"] = sha(b"other")
    r = w.buyer.post(prepared["endpoint"], json=body)
    assert r.status_code in (400, 403), r.text
    after = w.admin.case()
    assert (after["stage"], after["nextSequence"]) == (before["stage"], before["nextSequence"])
    # once time passes the window, the objection is refused as late
    w.clock.advance(days=10, seconds=1)
    r = prepare(w.buyer, "award.objected", {"reasonsHash": sha(b"x")})
    assert (r.status_code, r.json()["code"]) == (409, "deadline_passed"), r.text


def test_view_time_and_names(world: World) -> None:
    w = world
    to_facilitation(w)
    view = w.buyer.case()
    assert view["now"] == "2026-11-24T08:00:00Z"
    assert view["awardRecordHash"] is None
    for role in ("buyer", "seller", "mediator", "admin"):
        v = w.actors[role].case()
        assert set(v["allowedSteps"]) <= set(STEP_ENDPOINTS), v["allowedSteps"]
        assert v["allowedEndpoints"] == {a: STEP_ENDPOINTS[a] for a in v["allowedSteps"]}
    assert "offer.made" in view["allowedSteps"] and "evidence.submitted" in view["allowedSteps"]


def test_appointment_addresses_are_signed_in_eip55(fresh_world: Callable[[], World]) -> None:
    """An admin may type an address in lower case; the prepared payload names it in its
    EIP-55 form (what the judicial package's role check reads), and the step is accepted."""
    w = fresh_world()
    impasse(w)
    # a mixed-case address with a wrong checksum is refused, not silently fixed
    bad = w.arbitrator.address[:2] + w.arbitrator.address[2:].swapcase()
    r = prepare(w.admin, "appoint.arbitrator", {"role": "arbitrator", "appointees": [bad]})
    assert (r.status_code, r.json()["code"]) == (422, "bad_payload"), r.text
    assert "checksum" in r.json()["detail"]
    low = w.arbitrator.address.lower()
    prepared = ok(prepare(w.admin, "appoint.arbitrator", {"role": "arbitrator",
                                                          "appointees": [low]}))
    assert prepared["payload"]["appointees"] == [w.arbitrator.address] != [low]
    ok(w.admin.post(prepared["endpoint"], json=signed_body(w.admin, prepared)))
    assert w.buyer.case()["arbitrator"] == w.arbitrator.address
