"""Signed submission attacks, and who reads what, per role and stage."""

from __future__ import annotations

from dataclasses import replace

from evidence.records import SignedRecord
from tests.support.evidence import PDF, filed_case, sign_staged, submit, upload, upload_and_submit
from tests.support.world import ORDER_ID, World, file_claim, filing_payload


def _staged(world: World, actor_name: str = "buyer", content: bytes = PDF,
            case_id: str | None = None) -> dict:
    r = upload(world.actors[actor_name], content, case_id=case_id)
    assert r.status_code == 201, r.text
    return r.json()


def test_tampered_record_refused(world: World) -> None:
    filed_case(world)
    staged = _staged(world)
    good = sign_staged(world.buyer, staged)
    # a field changed after signing: the signature recovers someone else
    bad = dict(good, message=dict(good["message"], contentCid=staged["contentCid"] + "x"))
    r = submit(world.buyer, staged["id"], bad)
    assert r.status_code == 403 and r.json()["code"] == "wrong_signer", r.text
    # a record honestly signed over another commitment (not this upload's)
    rec = SignedRecord.from_json_obj(staged["unsignedRecord"])
    other = replace(rec.record, commitment=b"\x22" * 32).sign(world.buyer.key.key, world.domain)  # type: ignore[call-arg]
    r = submit(world.buyer, staged["id"], other.to_json_obj())
    assert r.status_code == 422 and r.json()["code"] == "commitment_mismatch", r.text
    # a record of another type
    r = submit(world.buyer, staged["id"], world.buyer.plain("record.closed")["record"])
    assert r.status_code == 422 and r.json()["code"] == "wrong_record_type", r.text
    # nothing was recorded; the good one still goes through, once
    assert submit(world.buyer, staged["id"], good).status_code == 201
    r = submit(world.buyer, staged["id"], good)
    assert r.status_code == 409 and r.json()["code"] == "already_submitted", r.text


def test_wrong_signer_refused(world: World) -> None:
    filed_case(world)
    staged = _staged(world)
    # the seller signs the buyer's upload (record still names the buyer as submitter)
    rec = SignedRecord.from_json_obj(staged["unsignedRecord"])
    forged = rec.with_signature(world.seller.key.sign_typed_data(
        full_message=staged["typedData"]).signature)
    r = submit(world.buyer, staged["id"], forged.to_json_obj())
    assert r.status_code == 403, r.text
    # the seller, signed in, posts the buyer's genuine signature for the buyer's item
    good = sign_staged(world.buyer, staged)
    r = submit(world.seller, staged["id"], good)
    assert r.status_code == 403, r.text
    # the seller re-signs the record as submitter=seller: not the uploader
    as_seller = replace(rec.record, submitter=world.seller.address).sign(  # type: ignore[call-arg]
        world.seller.key.key, world.domain)
    r = submit(world.seller, staged["id"], as_seller.to_json_obj())
    assert r.status_code == 403, r.text


def test_replayed_submission_from_another_case_refused(world: World) -> None:
    case_a = filed_case(world)
    staged_a = _staged(world)
    signed_a = sign_staged(world.buyer, staged_a)
    case_b = world.open_case("buyer", ORDER_ID + 1)
    payload = filing_payload(world) | {"orderId": str(ORDER_ID + 1)}
    r = world.buyer.post(f"/cases/{case_b}/filing", json=world.buyer.plain("case.filed", payload))
    assert r.status_code == 201, r.text
    staged_b = _staged(world, case_id=case_b)
    r = submit(world.buyer, staged_b["id"], signed_a, case_id=case_b)
    assert r.status_code == 409 and r.json()["code"] == "replay", r.text
    # case A's item through case B's path: the record's case is checked first
    r = submit(world.buyer, staged_a["id"], signed_a, case_id=case_b)
    assert r.status_code == 409, r.text
    # case B's record posted for case A's item: not an item of case B
    signed_b = sign_staged(world.buyer, staged_b)
    r = submit(world.buyer, staged_a["id"], signed_b, case_id=case_b)
    assert r.status_code == 404, r.text
    assert submit(world.buyer, staged_a["id"], signed_a, case_id=case_a).status_code == 201


def test_stale_position_needs_a_fresh_signature(world: World) -> None:
    filed_case(world)
    first, second = _staged(world), _staged(world, "seller", PDF + b"seller")
    signed_second = sign_staged(world.seller, second)  # also for position 1
    assert submit(world.buyer, first["id"], sign_staged(world.buyer, first)).status_code == 201
    r = submit(world.seller, second["id"], signed_second)
    assert r.status_code == 409 and r.json()["code"] == "stale_sequence", r.text
    fresh = world.seller.get(f"/cases/{world.case_id}/evidence/{second['id']}").json()
    assert fresh["typedData"]["message"]["sequence"] == "2"
    r = submit(world.seller, second["id"], sign_staged(world.seller, fresh | {
        "unsignedRecord": {**second["unsignedRecord"], "message": {
            **second["unsignedRecord"]["message"],
            "sequence": "2", "prevHash": fresh["typedData"]["message"]["prevHash"],
            "signedAt": str(fresh["typedData"]["message"]["signedAt"])}}}))
    assert r.status_code == 201, r.text


def _status(world: World, who: str, item_id: int) -> int:
    return world.actors[who].get(
        f"/cases/{world.case_id}/evidence/{item_id}/content").status_code


def _listed(world: World, who: str) -> dict[int, bool]:
    r = world.actors[who].get(f"/cases/{world.case_id}/evidence")
    if r.status_code != 200:
        return {}
    return {i["id"]: "salt" in i for i in r.json()["items"]}


def test_uploading_needs_a_party_in_an_evidence_stage(world: World) -> None:
    world.open_case("buyer")
    r = upload(world.buyer, PDF)  # not filed yet
    assert r.status_code == 409 and r.json()["code"] == "wrong_stage", r.text
    file_claim(world)
    for who in ("stranger", "admin", "court"):
        r = upload(world.actors[who], PDF)
        assert r.status_code == 403, (who, r.text)
    r = upload(world.buyer, PDF, kind="gossip")
    assert r.status_code == 422, r.text


def test_access_matrix_by_role_and_stage(world: World) -> None:
    w = world
    case_id = filed_case(w)
    staged = _staged(w, "seller", PDF + b"draft")  # uploaded, never signed
    open_item = upload_and_submit(w.buyer, PDF)["id"]  # negotiation exchange
    # stage filed/negotiation: both parties read the exchanged item; the draft is the
    # seller's alone; admins see metadata only; strangers and courts nothing
    assert {who: _status(w, who, open_item) for who in ("buyer", "seller", "admin", "stranger",
                                                        "court", "mediator")} == {
        "buyer": 200, "seller": 200, "admin": 403, "stranger": 403, "court": 403,
        "mediator": 403}
    assert _status(w, "seller", staged["id"]) == 200 and _status(w, "buyer", staged["id"]) == 403
    assert _listed(w, "buyer") == {open_item: True}
    assert _listed(w, "seller") == {staged["id"]: True, open_item: True}
    assert _listed(w, "admin") == {open_item: False}  # metadata, no opening
    assert w.stranger.get(f"/cases/{case_id}/evidence").status_code == 403

    for who in ("seller", "buyer"):
        r = w.actors[who].post(f"/cases/{case_id}/arbitration-agreement",
                               json=w.actors[who].plain("arbitration.agreed"))
        assert r.status_code == 201, r.text
    r = w.buyer.post(f"/cases/{case_id}/facilitation", json=w.buyer.plain("facilitation.requested"))
    assert r.status_code == 201, r.text
    r = w.admin.post(f"/cases/{case_id}/mediator", json=w.admin.appoint("mediator", w.mediator))
    assert r.status_code == 201, r.text
    caucus = upload_and_submit(w.seller, PDF + b"caucus")["id"]  # facilitation: private
    assert {who: _status(w, who, caucus) for who in ("seller", "buyer", "mediator")} == {
        "seller": 200, "buyer": 403, "mediator": 200}
    assert _status(w, "mediator", open_item) == 200  # negotiation items: the mediator too
    assert caucus not in _listed(w, "buyer")

    r = w.mediator.post(f"/cases/{case_id}/impasse", json=w.mediator.plain("impasse.declared"))
    assert r.status_code == 201, r.text
    r = w.admin.post(f"/cases/{case_id}/arbitrator",
                     json=w.admin.appoint("arbitrator", w.arbitrator))
    assert r.status_code == 201 and r.json()["stage"] == "evidence", r.text
    arb_item = upload_and_submit(w.seller, PDF + b"arbitration")["id"]
    assert {who: _status(w, who, arb_item) for who in ("seller", "buyer", "arbitrator",
                                                       "mediator")} == {
        "seller": 200, "buyer": 200, "arbitrator": 200, "mediator": 403}
    assert _status(w, "arbitrator", caucus) == 403  # never relied on in arbitration
    assert _status(w, "arbitrator", open_item) == 200

    # a court given access reads only once there is a result to confirm
    r = w.admin.post("/admin/courts", json={"address": w.court.address, "name": "Court"})
    assert r.status_code in (200, 201), r.text
    r = w.admin.post(f"/cases/{case_id}/courts", json={"court": w.court.address})
    assert r.status_code in (200, 201), r.text
    assert _status(w, "court", arb_item) == 403
    r = w.court.get(f"/cases/{case_id}/judicial-package")  # no result to confirm yet
    assert r.status_code == 409 and r.json()["code"] == "wrong_stage", r.text
    r = w.arbitrator.post(f"/cases/{case_id}/close-record",
                          json=w.arbitrator.plain("record.closed"))
    assert r.status_code == 201, r.text
    doc = b"# Award\nPartial refund.\n"
    r = w.arbitrator.post(f"/cases/{case_id}/award",
                          json=w.arbitrator.award(600_000_000, 400_000_000, 0, doc))
    assert r.status_code == 201, r.text
    w.clock.advance(days=10, seconds=1)
    w.tick()
    r = w.stranger.post(f"/cases/{case_id}/enforcement",
                        json=w.stranger.plain("enforcement.requested"))
    assert r.status_code == 201, r.text
    w.tick()
    view = w.buyer.case()
    assert view["stage"] == "enforced", view.get("chainActions")
    assert {i: _status(w, "court", i) for i in (open_item, caucus, arb_item, staged["id"])} == {
        open_item: 200, caucus: 403, arb_item: 200, staged["id"]: 403}
    # courts read only: no upload, no signing
    assert upload(w.court, PDF).status_code == 403
    # this world's escrow is in memory: no chain to read anchors from, said plainly
    r = w.court.get(f"/cases/{case_id}/judicial-package")
    assert r.status_code == 503 and r.json()["code"] == "package_unavailable", r.text


def test_registered_key_gets_a_wrap_and_decrypts_offline(world: World) -> None:
    from evidence.encryption import (
        KeyWraps,
        generate_recipient_key,
        iter_decrypt,
        public_key_bytes,
    )
    from evidence.ipfs import cat

    filed_case(world)
    item = upload_and_submit(world.buyer, PDF)["id"]
    seller_key = generate_recipient_key()
    r = world.client.put(f"/cases/{world.case_id}/encryption-key", headers=world.seller.headers,
                         json={"publicKey": "0x" + public_key_bytes(seller_key).hex()})
    assert r.status_code == 200 and r.json()["itemsWrapped"] == 1, r.text
    kw = world.seller.get(f"/cases/{world.case_id}/evidence/{item}/keywraps").json()
    data_key = KeyWraps.from_json(kw["keywraps"]).unwrap(seller_key)
    import io

    container = b"".join(cat(kw["cid"], world.blockstore))
    assert b"".join(iter_decrypt(io.BytesIO(container), data_key)) == PDF
    # a stranger cannot register a key in the case
    r = world.client.put(f"/cases/{world.case_id}/encryption-key",
                         headers=world.stranger.headers,
                         json={"publicKey": "0x" + public_key_bytes(seller_key).hex()})
    assert r.status_code == 403, r.text
