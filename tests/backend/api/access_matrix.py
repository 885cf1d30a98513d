"""The access matrix of the step endpoints: for each endpoint, how to bring a fresh case to
the stage where its act is allowed, the act's body for any role, and the roles allowed.

Shared by test_access (every role at every endpoint), test_refusals_each and test_prepare,
so it lives in its own module rather than in a test module.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from evidence.records import EvidenceSubmission
from tests.support.world import (
    AWARD_DOC,
    Actor,
    World,
    award_record_hash,
    filing_payload,
    ok,
    sha,
    to_awarded,
    to_evidence,
    to_facilitation,
    to_filed,
    to_negotiation,
)

ROLES = ("buyer", "seller", "mediator", "arbitrator", "panel1", "admin", "court", "stranger")


def grant_court(w: World) -> None:
    ok(w.admin.post("/admin/courts", json={"address": w.court.address, "name": "Court"}))
    ok(w.admin.post(f"/cases/{w.case_id}/courts", json={"court": w.court.address}))


def _opened(w: World) -> None:
    w.open_case("buyer")
    grant_court(w)


def _with(*steps: Callable[[World], Any]) -> Callable[[World], None]:
    def setup(w: World) -> None:
        for s in steps:
            s(w)

    return setup


def _filed(w: World) -> None:
    to_filed(w)
    grant_court(w)


def _negotiation(w: World) -> None:
    to_negotiation(w)
    grant_court(w)


def _negotiation_with_offer(w: World) -> None:
    _negotiation(w)
    ok(w.seller.post(f"/cases/{w.case_id}/offers", json=w.seller.offer(300_000_000,
                                                                        700_000_000)))


def _facilitation_requested(w: World) -> None:
    _negotiation(w)
    ok(w.buyer.post(f"/cases/{w.case_id}/facilitation",
                    json=w.buyer.plain("facilitation.requested")))


def _facilitation(w: World) -> None:
    to_facilitation(w)
    grant_court(w)


def impasse(w: World) -> None:
    _facilitation(w)
    ok(w.mediator.post(f"/cases/{w.case_id}/impasse", json=w.mediator.plain("impasse.declared")))


def at_evidence(w: World) -> None:
    to_evidence(w)
    grant_court(w)


def _record_closed(w: World) -> None:
    at_evidence(w)
    ok(w.arbitrator.post(f"/cases/{w.case_id}/close-record",
                         json=w.arbitrator.plain("record.closed")))


def _awarded(w: World) -> None:
    to_awarded(w)
    grant_court(w)


def _objected(w: World) -> None:
    _awarded(w)
    ok(w.seller.post(f"/cases/{w.case_id}/objection",
                     json=w.seller.objection(award_record_hash(w), b"reasons")))


def _panel(w: World) -> None:
    _objected(w)
    ok(w.admin.post(f"/cases/{w.case_id}/panel",
                    json=w.admin.appoint("panelist", w.panel1, w.panel2, w.panel3)))


def _final(w: World) -> None:
    _awarded(w)
    w.port.fail_next.extend(["execute_award"] * 20)  # the escrow stays unexecuted: repeatable
    w.clock.advance(days=10, seconds=1)
    w.tick()


def enforced(w: World) -> None:
    _awarded(w)
    w.clock.advance(days=10, seconds=1)
    w.tick()
    ok(w.stranger.post(f"/cases/{w.case_id}/enforcement",
                       json=w.stranger.plain("enforcement.requested")))


def _evidence_body(a: Actor) -> dict[str, Any]:
    """A party's upload, signed; whoever may not upload signs a record no upload backs
    (refused for who they are before what it names)."""
    r = a.upload(b"evidence of " + a.name.encode())
    if r.status_code == 201:
        return {"record": a.sign_staged(r.json()), "payload": {"kind": "photo"}}
    seq, prev = a.head()
    rec = EvidenceSubmission(case_id=a.world.case_id, sequence=seq, prev_hash=prev,
                             submitter=a.address, commitment=sha(a.name.encode()),
                             content_cid="bafkreiexample" + a.name, signed_at=a.at())
    return {"record": rec.sign(a.key.key, a.world.domain).to_json_obj(),
            "payload": {"kind": "photo"}}


def offer_id(a: Actor) -> str:
    return a.world.admin.case()["chainActions"] and next(
        i["recordHash"] for i in ok(a.world.admin.get(f"/cases/{a.world.case_id}/timeline"))
        if i["type"] == "step" and i["action"] == "offer.made")


def filing(a: Actor) -> dict[str, Any]:
    if a.name == "seller":  # the seller's claim: the buyer refuses to pay
        return filing_payload(a.world, claimant="seller", dispute="buyer_refuses_to_pay",
                              remedy="release_payment", amount=1_000_000_000)
    return {**filing_payload(a.world), "claimant": a.address}


# endpoint -> (setup, body builder, {role: expected status}; unlisted roles: 403)
MATRIX: dict[str, tuple[Callable[[World], None], Callable[[Actor], dict[str, Any]],
                        dict[str, int]]] = {
    "filing": (_opened, lambda a: a.plain("case.filed", filing(a)),
               {"buyer": 201, "seller": 201}),
    "offers": (_negotiation, lambda a: a.offer(300_000_000, 700_000_000),
               {"buyer": 201, "seller": 201}),
    "offers/accept": (_negotiation_with_offer,
                      lambda a: a.accept(offer_id(a), 300_000_000, 700_000_000),
                      {"buyer": 201, "seller": 409}),
    "offers/withdraw": (_negotiation_with_offer,
                        lambda a: a.plain("offer.withdrawn", {"offerId": offer_id(a)}),
                        {"seller": 201, "buyer": 404}),
    "facilitation": (_negotiation, lambda a: a.plain("facilitation.requested"),
                     {"buyer": 201, "seller": 201}),
    "mediator": (_facilitation_requested, lambda a: a.appoint("mediator", a.world.mediator),
                 {"admin": 201}),
    "pre-evaluation": (_facilitation, lambda a: a.plain(
        "preevaluation.published", {"recommended": "partial_refund", "reportHash": sha(b"r")}),
        {"mediator": 201}),
    "proposals": (_facilitation, lambda a: a.plain("settlement.proposed", {
        "offerId": "m1", "toBuyer": "500000000", "toSeller": "500000000", "compensation": "0",
        "expiresAt": "0"}), {"mediator": 201}),
    "impasse": (_facilitation, lambda a: a.plain("impasse.declared"), {"mediator": 201}),
    "arbitration-agreement": (_filed, lambda a: a.plain("arbitration.agreed"),
                              {"buyer": 201, "seller": 201}),
    "arbitrator": (impasse, lambda a: a.appoint("arbitrator", a.world.arbitrator),
                   {"admin": 201}),
    "evidence-submissions": (at_evidence, _evidence_body, {"buyer": 201, "seller": 201}),
    "answer": (at_evidence, lambda a: a.plain("answer.submitted", {"answerHash": sha(b"ans")}),
               {"seller": 201}),
    "close-record": (at_evidence, lambda a: a.plain("record.closed"), {"arbitrator": 201}),
    "award": (_record_closed, lambda a: a.award(600_000_000, 400_000_000, 0, AWARD_DOC),
              {"arbitrator": 201}),
    "objection": (_awarded, lambda a: a.objection(award_record_hash(a.world), b"why"),
                  {"buyer": 201, "seller": 201}),
    "panel": (_objected, lambda a: a.appoint("panelist", a.world.panel1, a.world.panel2,
                                              a.world.panel3), {"admin": 201}),
    "panel-award": (_panel, lambda a: a.award(600_000_000, 400_000_000, 0, AWARD_DOC, 1),
                    {"panel1": 201}),
    "enforcement": (_final, lambda a: a.plain("enforcement.requested"),
                    dict.fromkeys(ROLES, 201)),
    "court-decision": (enforced, lambda a: a.court_decision(award_record_hash(a.world),
                                                             confirmed=True),
                       {"court": 201}),
}
