"""Settlement, objection and panel award, court confirmation, chain retries: through HTTP."""

from __future__ import annotations

from evidence.records import Settlement, SignedRecord
from tests.support.world import (
    AWARD_DOC,
    ORDER_ID,
    World,
    award_record_hash,
    ok,
    to_awarded,
    to_filed,
    to_negotiation,
)


def test_offer_signed_by_both_settles_and_executes_on_the_escrow(world: World) -> None:
    w = world
    to_negotiation(w)
    made = ok(w.seller.post(f"/cases/{w.case_id}/offers", json=w.seller.offer(300_000_000,
                                                                              700_000_000)))
    offer_id = w.buyer.case()["offers"][0]["offer_id"]
    assert made["action"] == "offer.made" and offer_id == made["recordHash"]
    # the accepted allocation must be the offer's: another one is refused
    bad = w.buyer.accept(offer_id, 350_000_000, 650_000_000)
    r = w.buyer.post(f"/cases/{w.case_id}/offers/accept", json=bad)
    assert r.status_code == 422 and r.json()["code"] == "invalid_allocation", r.text
    done = ok(w.buyer.post(f"/cases/{w.case_id}/offers/accept",
                           json=w.buyer.accept(offer_id, 300_000_000, 700_000_000)))
    assert done["stage"] == "settled"
    kind, payload = w.port.calls[-1]
    assert kind == "execute_settlement"
    # the escrow gets the buyer's and the seller's own Settlement signatures
    rec = Settlement(order_id=ORDER_ID, case_id=w.case_id, to_buyer=300_000_000,
                     to_seller=700_000_000, compensation=0)
    for who, field in (("buyer", "buyerSignature"), ("seller", "sellerSignature")):
        sig = payload[field]
        assert isinstance(sig, str)
        signed = SignedRecord(w.domain, rec, (bytes.fromhex(sig.removeprefix("0x")),))
        assert signed.signers() == (w.actors[who].address,)
    # offers are confidential: their IPFS bundles are encrypted
    steps = [i for i in ok(w.buyer.get(f"/cases/{w.case_id}/timeline")) if i["type"] == "step"]
    offer_steps = [s for s in steps if s["action"].startswith("offer.")]
    assert offer_steps and all(s["confidential"] for s in offer_steps)
    assert all(w.blockstore.get(s["cid"])[:8] == b"CHARBENC" for s in offer_steps)
    assert not any(s["confidential"] for s in steps if s["action"] == "case.filed")


def test_objection_panel_award_and_enforcement(world: World) -> None:
    w = world
    to_awarded(w)
    award_hash = award_record_hash(w)
    r = w.seller.post(f"/cases/{w.case_id}/objection",
                      json=w.seller.objection("0x" + "00" * 32, b"The panels were fine."))
    assert r.status_code == 422 and r.json()["code"] == "wrong_award"
    obj = ok(w.seller.post(f"/cases/{w.case_id}/objection",
                           json=w.seller.objection(award_hash, b"The panels were fine.")))
    assert obj["stage"] == "panel_appointment"
    assert any(a["kind"] == "object" and a["status"] == "awaiting_party"
               for a in obj["chainActions"])
    w.port.party_objects(ORDER_ID)
    # only once per case
    r = w.buyer.post(f"/cases/{w.case_id}/objection",
                     json=w.buyer.objection(award_hash, b"me too"))
    assert r.status_code == 409
    # the sole arbitrator may not sit on the panel
    r = w.admin.post(f"/cases/{w.case_id}/panel",
                     json=w.admin.appoint("panelist", w.arbitrator, w.panel2, w.panel3))
    assert r.status_code == 422 and r.json()["code"] == "conflict_of_interest"
    ok(w.admin.post(f"/cases/{w.case_id}/panel",
                    json=w.admin.appoint("panelist", w.panel1, w.panel2, w.panel3)))
    doc = AWARD_DOC + b"Confirmed by the panel.\n"
    ok(w.panel1.post(f"/cases/{w.case_id}/panel-award",
                     json=w.panel1.award(600_000_000, 400_000_000, 50_000_000, doc, round_=1)))
    r = w.panel1.post(f"/cases/{w.case_id}/panel-award",
                      json=w.panel1.award(600_000_000, 400_000_000, 50_000_000, doc, round_=1))
    assert r.status_code == 409 and r.json()["code"] == "duplicate_action"
    # a round-0 Award offered as a panel signature is refused
    r = w.panel3.post(f"/cases/{w.case_id}/panel-award",
                      json=w.panel3.award(600_000_000, 400_000_000, 50_000_000, doc, round_=0))
    assert r.status_code == 422
    done = ok(w.panel3.post(f"/cases/{w.case_id}/panel-award",
                            json=w.panel3.award(600_000_000, 400_000_000, 50_000_000, doc,
                                                round_=1)))
    assert done["stage"] == "awarded_by_panel"
    ok(w.buyer.post(f"/cases/{w.case_id}/enforcement", json=w.buyer.plain(
        "enforcement.requested")))
    assert w.admin.case()["stage"] == "enforced"
    _kind, payload = next(c for c in w.port.calls if c[0] == "submit_panel_award")
    sigs = payload["signatures"]
    assert isinstance(sigs, list)
    assert sigs[0] and not sigs[1] and sigs[2]  # panel order; panelist 2 did not sign


def test_court_access_and_decision(world: World) -> None:
    w = world
    to_awarded(w)
    w.clock.advance(days=10, seconds=1)
    w.tick()
    ok(w.stranger.post(f"/cases/{w.case_id}/enforcement",
                       json=w.stranger.plain("enforcement.requested")))
    assert w.admin.case()["stage"] == "enforced"
    award_hash = award_record_hash(w)
    # an unregistered court cannot be granted, and a court without access reads nothing
    r = w.admin.post(f"/cases/{w.case_id}/courts", json={"court": w.court.address})
    assert r.status_code == 404
    assert w.court.get(f"/cases/{w.case_id}").status_code == 403
    assert w.buyer.post("/admin/courts", json={"address": w.court.address,
                                                "name": "x"}).status_code == 403
    ok(w.admin.post("/admin/courts", json={"address": w.court.address,
                                           "name": "Hangzhou Internet Court"}))
    ok(w.admin.post(f"/cases/{w.case_id}/courts", json={"court": w.court.address}))
    assert w.court.case()["yourRoles"] == ["court"]
    # the court's refusal must carry the reasons it signed
    body = w.court.court_decision(award_hash, confirmed=False, reasons="Procedure defective.")
    body["reasons"] = "Something else."
    r = w.court.post(f"/cases/{w.case_id}/court-decision", json=body)
    assert r.status_code == 422 and r.json()["code"] == "reasons_mismatch"
    # the court reads only: it cannot take a party's step
    r = w.court.post(f"/cases/{w.case_id}/enforcement",
                     json=w.court.plain("enforcement.requested"))
    assert r.status_code == 409
    done = ok(w.court.post(f"/cases/{w.case_id}/court-decision",
                           json=w.court.court_decision(award_hash, confirmed=True)))
    assert done["stage"] == "judicially_confirmed"
    kinds = {n["kind"] for n in ok(w.buyer.get(f"/cases/{w.case_id}/notices"))}
    assert {"court_access_granted", "court_decision"} <= kinds


def test_chain_failures_are_retried_and_recorded(world: World) -> None:
    w = world
    to_filed(w)
    w.tick()
    ok(w.seller.post(f"/cases/{w.case_id}/arbitration-agreement",
                     json=w.seller.plain("arbitration.agreed")))
    ok(w.buyer.post(f"/cases/{w.case_id}/arbitration-agreement",
                    json=w.buyer.plain("arbitration.agreed")))
    ok(w.buyer.post(f"/cases/{w.case_id}/facilitation",
                    json=w.buyer.plain("facilitation.requested")))
    ok(w.admin.post(f"/cases/{w.case_id}/mediator", json=w.admin.appoint("mediator",
                                                                          w.mediator)))
    ok(w.mediator.post(f"/cases/{w.case_id}/impasse", json=w.mediator.plain("impasse.declared")))
    w.port.fail_next.append("appoint_arbitrator")
    r = ok(w.admin.post(f"/cases/{w.case_id}/arbitrator",
                        json=w.admin.appoint("arbitrator", w.arbitrator)))
    action = next(a for a in r["chainActions"] if a["kind"] == "appoint_arbitrator")
    assert action["status"] == "pending" and action["attempts"] == 1
    assert "unreachable" in action["error"] and action["txHash"] is None
    assert r["stage"] == "evidence"  # the step stands; the chain catches up
    report = w.tick()
    assert report["chain_done"] == 1
    action = next(a for a in w.admin.case()["chainActions"]
                  if a["kind"] == "appoint_arbitrator")
    assert action["status"] == "done" and action["attempts"] == 2 and action["txHash"]
    assert [k for k, _ in w.port.calls].count("appoint_arbitrator") == 1


def test_pre_evaluation_report_and_mediator_proposal_settle(world: World) -> None:
    import base64

    from tests.support.world import to_facilitation

    w = world
    to_facilitation(w)
    pre = ok(w.mediator.get(f"/cases/{w.case_id}/pre-evaluation",
                            params={"tracking": "delivered"}))
    assert pre["report"]["binding"] is False and pre["recommended"]
    payload = {"recommended": pre["recommended"], "reportHash": pre["sha256"]}
    body = w.mediator.plain("preevaluation.published", payload)
    body["document"] = {"filename": "pre-evaluation.json", "media_type": "application/json",
                        "content_base64": base64.b64encode(pre["canonical"].encode()).decode()}
    published = ok(w.mediator.post(f"/cases/{w.case_id}/pre-evaluation", json=body))
    step = ok(w.buyer.get(f"/cases/{w.case_id}/steps/{published['sequence']}"))
    doc = next(a for a in step["attachments"] if a["type"] == "Document")
    assert doc["sha256"] == pre["sha256"] and "dataKey" not in doc
    assert w.buyer.case()["preEvaluation"] == [pre["recommended"], pre["sha256"]]
    proposal = {"offerId": "mediator-1", "toBuyer": "500000000", "toSeller": "500000000",
                "compensation": "0", "expiresAt": "0"}
    ok(w.mediator.post(f"/cases/{w.case_id}/proposals",
                       json=w.mediator.plain("settlement.proposed", proposal)))
    first = ok(w.seller.post(f"/cases/{w.case_id}/offers/accept",
                             json=w.seller.accept("mediator-1", 500_000_000, 500_000_000)))
    assert first["stage"] == "facilitation"
    done = ok(w.buyer.post(f"/cases/{w.case_id}/offers/accept",
                           json=w.buyer.accept("mediator-1", 500_000_000, 500_000_000)))
    assert done["stage"] == "settled"
    _kind, payload_ = w.port.calls[-1]
    assert payload_["buyerSignature"] and payload_["sellerSignature"]


def test_two_racing_steps_for_one_position(world: World) -> None:
    """Both signed for the same position: exactly one wins, the other is stale."""
    from concurrent.futures import ThreadPoolExecutor

    w = world
    to_filed(w)
    bodies = {"seller": w.seller.plain("arbitration.agreed"),
              "buyer": w.buyer.plain("arbitration.agreed")}
    with ThreadPoolExecutor(2) as pool:
        results = list(pool.map(
            lambda who: w.actors[who].post(f"/cases/{w.case_id}/arbitration-agreement",
                                           json=bodies[who]), ["seller", "buyer"]))
    codes = sorted(r.status_code for r in results)
    assert codes == [201, 409], [r.text for r in results]
    loser = next(r for r in results if r.status_code == 409)
    assert loser.json()["code"] == "stale_sequence"
    steps = [i for i in ok(w.admin.get(f"/cases/{w.case_id}/timeline")) if i["type"] == "step"]
    assert [s["sequence"] for s in steps] == list(range(len(steps)))


def test_openapi_lists_every_act(world: World) -> None:
    from backend.api.routes.cases import STEP_ENDPOINTS

    spec = world.client.get("/openapi.json").json()
    for path, _kinds, _summary in STEP_ENDPOINTS:
        assert "post" in spec["paths"][f"/cases/{{case_id}}/{path}"], path
    for path in ("/auth/nonce", "/auth/sign-in", "/cases/{case_id}/timeline", "/admin/tick"):
        assert path in spec["paths"]
    assert world.client.get("/docs").status_code == 200


def test_failed_chain_action_is_kept_and_can_be_retried(world: World) -> None:
    w = world
    to_filed(w)
    w.tick()
    for who, action in (("seller", "arbitration.agreed"), ("buyer", "arbitration.agreed"),
                        ("buyer", "facilitation.requested")):
        ok(w.actors[who].post(f"/cases/{w.case_id}/steps", json=w.actors[who].plain(action)))
    ok(w.admin.post(f"/cases/{w.case_id}/mediator", json=w.admin.appoint("mediator",
                                                                          w.mediator)))
    ok(w.mediator.post(f"/cases/{w.case_id}/impasse", json=w.mediator.plain("impasse.declared")))
    w.port.fail_next.extend(["appoint_arbitrator"] * 5)
    ok(w.admin.post(f"/cases/{w.case_id}/arbitrator",
                    json=w.admin.appoint("arbitrator", w.arbitrator)))
    for _ in range(5):
        w.tick()
    failed = ok(w.admin.get("/admin/chain-actions", params={"status": "failed"}))
    assert [(a["kind"], a["attempts"]) for a in failed] == [("appoint_arbitrator", 5)]
    assert w.buyer.post(f"/admin/chain-actions/{failed[0]['id']}/retry").status_code == 403
    done = ok(w.admin.post(f"/admin/chain-actions/{failed[0]['id']}/retry"))
    assert done["status"] == "done" and done["txHash"]
    r = w.admin.post(f"/admin/chain-actions/{failed[0]['id']}/retry")
    assert r.status_code == 409


def test_executed_award_is_recorded_even_if_the_first_attempt_broke(world: World) -> None:
    w = world
    to_awarded(w)
    w.clock.advance(days=10, seconds=1)
    w.tick()
    executor = w.app.state.ctx.service.executor
    real = executor.on_done

    def broken(_action: object) -> None:
        raise ConnectionError("database went away after the chain paid out (injected)")

    executor.on_done = broken
    ok(w.stranger.post(f"/cases/{w.case_id}/enforcement",
                       json=w.stranger.plain("enforcement.requested")))
    assert w.admin.case()["stage"] == "final"  # paid on-chain, not yet recorded
    executor.on_done = real
    w.tick()
    assert w.admin.case()["stage"] == "enforced"
    steps = [i for i in ok(w.admin.get(f"/cases/{w.case_id}/timeline")) if i["type"] == "step"]
    assert [s["action"] for s in steps].count("enforcement.recorded") == 1
    w.tick()  # idempotent
    steps = [i for i in ok(w.admin.get(f"/cases/{w.case_id}/timeline")) if i["type"] == "step"]
    assert [s["action"] for s in steps].count("enforcement.recorded") == 1
