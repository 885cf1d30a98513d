"""Every way a step is refused, through HTTP: the case never changes on a refusal."""

from __future__ import annotations

from typing import Any

import pytest
from eth_account import Account

from evidence.records import Domain, ProceduralStep, SignedRecord
from tests.support.world import (
    ORDER_ID,
    World,
    file_claim,
    filing_payload,
    ok,
    sha,
    to_evidence,
    to_filed,
    to_negotiation,
)


def _same(w: World, before: dict[str, Any]) -> None:
    after = w.admin.case()
    assert (after["stage"], after["nextSequence"], after["prevHash"]) == (
        before["stage"], before["nextSequence"], before["prevHash"])


def _refused(w: World, who: str, path: str, body: dict[str, Any], status: int, code: str
             ) -> dict[str, Any]:
    before = w.admin.case()
    r = w.actors[who].post(f"/cases/{w.case_id}/{path}", json=body)
    assert (r.status_code, r.json().get("code")) == (status, code), r.text
    _same(w, before)
    return r.json()


def test_wrong_stage(world: World) -> None:
    to_filed(world)
    w = world
    _refused(w, "arbitrator", "close-record", w.arbitrator.plain("record.closed"), 403,
             "wrong_actor")
    _refused(w, "buyer", "answer", w.buyer.plain("answer.submitted", {"answerHash": sha(b"a")}),
             403, "wrong_actor")  # the claimant never answers
    _refused(w, "seller", "answer", w.seller.plain("answer.submitted",
                                                   {"answerHash": sha(b"a")}), 409,
             "wrong_stage")  # the respondent answers only in the evidence period
    _refused(w, "stranger", "enforcement", w.stranger.plain("enforcement.requested"), 409,
             "wrong_stage")


def test_wrong_actor(world: World) -> None:
    to_negotiation(world)
    w = world
    # a party tries the institution's act, the mediator acts before appointment
    _refused(w, "buyer", "mediator", w.buyer.appoint("mediator", w.mediator), 403,
             "wrong_actor")
    _refused(w, "mediator", "impasse", w.mediator.plain("impasse.declared"), 403,
             "wrong_actor")
    _refused(w, "stranger", "facilitation", w.stranger.plain("facilitation.requested"), 403,
             "wrong_actor")


def test_conflict_of_interest_on_appointment(world: World) -> None:
    to_negotiation(world)
    w = world
    ok(w.buyer.post(f"/cases/{w.case_id}/facilitation",
                    json=w.buyer.plain("facilitation.requested")))
    _refused(w, "admin", "mediator", w.admin.appoint("mediator", w.seller), 422,
             "conflict_of_interest")


def test_deadline_passed(world: World) -> None:
    to_filed(world)
    w = world
    w.clock.advance(days=10)
    body = w.seller.plain("arbitration.agreed")
    _refused(w, "seller", "arbitration-agreement", body, 409, "deadline_passed")
    # the scheduler then moves the case on; the late record is now also stale
    w.tick()
    assert w.admin.case()["stage"] == "facilitation"
    _refused(w, "seller", "arbitration-agreement", body, 409, "stale_sequence")


def test_stale_sequence_and_replays(world: World) -> None:
    to_filed(world)
    w = world
    body = w.seller.plain("arbitration.agreed")
    ok(w.seller.post(f"/cases/{w.case_id}/arbitration-agreement", json=body))
    # the same signed record again: its position is taken
    _refused(w, "seller", "arbitration-agreement", body, 409, "stale_sequence")
    # signed for an old position (sequence and prevHash of an earlier step)
    view = w.admin.case()
    old = w.buyer.step("arbitration.agreed", {}, sequence=view["nextSequence"] - 1)
    _refused(w, "buyer", "arbitration-agreement", {"record": old, "payload": {}}, 409,
             "stale_sequence")
    wrong_prev = w.buyer.step("arbitration.agreed", {}, prev=sha(b"another chain"))
    _refused(w, "buyer", "arbitration-agreement", {"record": wrong_prev, "payload": {}}, 409,
             "stale_sequence")


def test_record_from_another_case_or_deployment(world: World) -> None:
    to_filed(world)
    w = world
    other_case = "0x" + "ab" * 32
    seq, prev = w.buyer.head()
    rec = ProceduralStep(case_id=other_case, sequence=seq, prev_hash=prev,
                         actor=w.buyer.address, action="arbitration.agreed",
                         payload_hash=sha(b"{}"), signed_at=w.buyer.at())
    body = {"record": rec.sign(w.buyer.key.key, w.domain).to_json_obj(), "payload": {}}
    assert _refused(w, "buyer", "arbitration-agreement", body, 409, "replay")
    foreign = Domain(chain_id=1, verifying_contract=w.domain.verifying_contract)
    body = {"record": w.buyer.step("arbitration.agreed", {}, domain=foreign), "payload": {}}
    _refused(w, "buyer", "arbitration-agreement", body, 409, "replay")


def test_forged_signatures(world: World) -> None:
    to_filed(world)
    w = world
    # a record naming the buyer as actor but signed with the seller's key
    seq, prev = w.buyer.head()
    rec = ProceduralStep(case_id=w.case_id, sequence=seq, prev_hash=prev, actor=w.buyer.address,
                         action="arbitration.agreed", payload_hash=sha(b"{}"),
                         signed_at=w.buyer.at())
    digest = rec.digest(w.domain)
    forged = Account._sign_hash(digest, w.seller.key.key).signature
    body = {"record": SignedRecord(w.domain, rec, (bytes(forged),)).to_json_obj(), "payload": {}}
    _refused(w, "buyer", "arbitration-agreement", body, 403, "wrong_signer")
    # a genuine record of the seller posted by the buyer's session
    body = w.seller.plain("arbitration.agreed")
    _refused(w, "buyer", "arbitration-agreement", body, 403, "access_denied")
    # a signature with a flipped bit, and a malformed one
    good = w.buyer.plain("arbitration.agreed")
    sig = good["record"]["signatures"][0]
    good["record"]["signatures"] = [sig[:20] + ("0" if sig[20] != "0" else "1") + sig[21:]]
    r = w.buyer.post(f"/cases/{w.case_id}/arbitration-agreement", json=good)
    assert r.status_code in (400, 403), r.text
    good["record"]["signatures"] = ["0x00"]
    _refused(w, "buyer", "arbitration-agreement", good, 400, "invalid_signature")


def test_payload_must_be_what_was_signed(world: World) -> None:
    w = world
    w.open_case("buyer")
    payload = filing_payload(w)
    body = w.buyer.plain("case.filed", payload)
    body["payload"] = {**payload, "claimedAmount": "999000000"}
    _refused(w, "buyer", "filing", body, 422, "payload_mismatch")
    body = w.buyer.plain("case.filed", {**payload, "orderId": str(ORDER_ID + 1)})
    _refused(w, "buyer", "filing", body, 409, "replay")  # one code, one status
    body = w.buyer.plain("case.filed", {k: v for k, v in payload.items() if k != "remedy"})
    _refused(w, "buyer", "filing", body, 422, "bad_submission")
    body = w.buyer.plain("case.filed", {**payload, "remedy": "release_payment"})
    _refused(w, "buyer", "filing", body, 422, "invalid_command")
    # the right record on the wrong endpoint
    _refused(w, "buyer", "offers", w.buyer.plain("case.filed", payload), 422, "wrong_endpoint")
    file_claim(w)


def test_document_must_hash_to_the_signed_value(world: World) -> None:
    to_evidence(world)
    w = world
    ok(w.arbitrator.post(f"/cases/{w.case_id}/close-record",
                         json=w.arbitrator.plain("record.closed")))
    body = w.arbitrator.award(600_000_000, 400_000_000, 0, b"the real award")
    body["document"]["content_base64"] = "dGFtcGVyZWQ="  # "tampered"
    _refused(w, "arbitrator", "award", body, 422, "document_mismatch")
    # an award by someone who is not the arbitrator (the mediator signs the Award)
    body = w.mediator.award(600_000_000, 400_000_000, 0, b"x")
    _refused(w, "mediator", "award", body, 403, "wrong_actor")
    # an allocation that does not add up to the escrow
    body = w.arbitrator.award(600_000_000, 300_000_000, 0, b"x")
    _refused(w, "arbitrator", "award", body, 422, "invalid_allocation")
    # compensation above the guarantee
    body = w.arbitrator.award(600_000_000, 400_000_000, 300_000_001, b"x")
    _refused(w, "arbitrator", "award", body, 422, "invalid_allocation")


@pytest.mark.parametrize("field", ["signedAt"])
def test_future_signed_at_is_refused(world: World, field: str) -> None:
    to_filed(world)
    w = world
    seq, prev = w.seller.head()
    rec = ProceduralStep(case_id=w.case_id, sequence=seq, prev_hash=prev,
                         actor=w.seller.address, action="arbitration.agreed",
                         payload_hash=sha(b"{}"), signed_at=w.seller.at() + 3600)
    body = {"record": rec.sign(w.seller.key.key, w.domain).to_json_obj(), "payload": {}}
    _refused(w, "seller", "arbitration-agreement", body, 422, "clock_skew")


def test_unknown_case_and_action(world: World) -> None:
    to_filed(world)
    w = world
    r = w.buyer.post("/cases/0x" + "cd" * 32 + "/steps", json=w.buyer.plain("arbitration.agreed"))
    assert r.status_code == 404
    _refused(w, "buyer", "steps", w.buyer.plain("case.reopened"), 422, "unknown_action")
    r = w.buyer.post("/cases", json={"orderId": "99"})
    assert r.status_code == 404
    r = w.stranger.post("/cases", json={"orderId": str(ORDER_ID)})
    assert r.status_code == 403


def test_attachments_and_authorisations_must_be_for_this_deployment(world: World) -> None:
    from evidence.records import Award
    from tests.support.world import AWARD_DOC

    to_evidence(world)
    w = world
    ok(w.arbitrator.post(f"/cases/{w.case_id}/close-record",
                         json=w.arbitrator.plain("record.closed")))
    foreign = Domain(chain_id=1, verifying_contract=w.domain.verifying_contract)
    award = Award(order_id=ORDER_ID, case_id=w.case_id, to_buyer=600_000_000,
                  to_seller=400_000_000, compensation=0, award_hash=sha(AWARD_DOC),
                  round=0).sign(w.arbitrator.key.key, foreign)
    body = {"record": w.arbitrator.step("award.issued",
                                        payload_hash_="0x" + award.record_hash.hex()),
            "attachments": [award.to_json_obj()]}
    _refused(w, "arbitrator", "award", body, 409, "replay")


def test_admin_authorisation_for_another_chain_is_refused(world: World) -> None:
    to_negotiation(world)
    w = world
    ok(w.buyer.post(f"/cases/{w.case_id}/facilitation",
                    json=w.buyer.plain("facilitation.requested")))
    foreign = Domain(chain_id=1, verifying_contract=w.domain.verifying_contract)
    payload = {"role": "mediator", "appointees": [w.mediator.address]}
    body = {"record": w.admin.step("appoint.mediator", payload, domain=foreign),
            "payload": payload}
    _refused(w, "admin", "mediator", body, 409, "replay")


def test_oversized_body_is_refused(world: World) -> None:
    to_filed(world)
    w = world
    big = {"record": {"x": "a" * (17 * 1024 * 1024)}}
    r = w.buyer.post(f"/cases/{w.case_id}/steps", json=big)
    assert r.status_code == 413 and r.json()["code"] == "body_too_large"


def test_address_with_a_wrong_checksum_is_refused(world: World) -> None:
    to_filed(world)
    w = world
    body = w.seller.plain("arbitration.agreed")
    actor = body["record"]["message"]["actor"]
    body["record"]["message"]["actor"] = actor[:2] + actor[2:].swapcase()
    _refused(w, "seller", "arbitration-agreement", body, 422, "invalid_address")


def test_the_record_position_is_the_procedures_replay_counter(world: World) -> None:
    """The record's place in the step chain is the command's sequence: the procedure's
    StaleSequence refuses a replayed or future position, in its order of checks (who
    before the position)."""
    to_filed(world)
    w = world
    n = w.admin.case()["nextSequence"]
    body = w.seller.plain("arbitration.agreed")
    ok(w.seller.post(f"/cases/{w.case_id}/arbitration-agreement", json=body))
    replayed = _refused(w, "seller", "arbitration-agreement", body, 409, "stale_sequence")
    assert f"expected sequence {n + 1}, found {n}" in replayed["detail"], replayed
    ahead = w.buyer.step("arbitration.agreed", {}, sequence=n + 2)
    future = _refused(w, "buyer", "arbitration-agreement", {"record": ahead, "payload": {}},
                      409, "stale_sequence")
    assert f"expected sequence {n + 1}, found {n + 2}" in future["detail"], future
    # a stranger's record for an old position: who comes first
    old = w.stranger.step("facilitation.requested", {}, sequence=n)
    _refused(w, "stranger", "facilitation", {"record": old, "payload": {}}, 403, "wrong_actor")
