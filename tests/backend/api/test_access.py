"""Access control: every step endpoint and every read endpoint, for every role.

Roles: claimant (buyer), respondent (seller), mediator, arbitrator, panelist, admin,
court (registered and given the case), stranger. For each step endpoint the case is
brought to the stage where the endpoint's act is allowed; every role then posts that act,
signed with its own key. Refused roles must get the expected status and change nothing;
each allowed role succeeds (in a fresh case of its own when two roles may act).
"""

from __future__ import annotations

from collections.abc import Callable

import pytest

from tests.backend.api.access_matrix import MATRIX, ROLES, at_evidence, grant_court
from tests.support.world import (
    ORDER_ID,
    World,
    ok,
    to_facilitation,
)


@pytest.mark.parametrize("endpoint", list(MATRIX))
def test_step_endpoint_for_every_role(endpoint: str, fresh_world: Callable[[], World]) -> None:
    setup, body, allowed = MATRIX[endpoint]
    w = fresh_world()
    setup(w)
    results: dict[str, tuple[int, str]] = {}
    winners = [r for r in ROLES if allowed.get(r) == 201]
    for role in ROLES:
        if role in winners:
            continue
        before = w.admin.case()
        r = w.actors[role].post(f"/cases/{w.case_id}/{endpoint}", json=body(w.actors[role]))
        results[role] = (r.status_code, r.json().get("code", ""))
        after = w.admin.case()
        assert (after["stage"], after["nextSequence"]) == (before["stage"],
                                                            before["nextSequence"]), role
    expected = {r: allowed.get(r, 403) for r in ROLES if r not in winners}
    assert {r: s for r, (s, _) in results.items()} == expected, results
    for role, (status, code) in results.items():
        if status == 403:
            assert code in ("wrong_actor", "access_denied"), (role, code)
    # each allowed role succeeds (a fresh case for every winner after the first)
    for i, role in enumerate(winners):
        if i > 0 and endpoint != "enforcement":
            w = fresh_world()
            setup(w)
        r = w.actors[role].post(f"/cases/{w.case_id}/{endpoint}", json=body(w.actors[role]))
        assert r.status_code == 201, (role, r.text)


READS = ("", "/timeline", "/steps/0", "/notices")


def test_read_endpoints_for_every_role(fresh_world: Callable[[], World]) -> None:
    w = fresh_world()
    at_evidence(w)
    readers = {"buyer", "seller", "mediator", "arbitrator", "admin", "court"}
    for role in ROLES:
        for path in READS:
            r = w.actors[role].get(f"/cases/{w.case_id}{path}")
            want = 200 if role in readers else 403
            assert r.status_code == want, (role, path, r.text)
        r = w.actors[role].get(f"/cases/{w.case_id}/pre-evaluation",
                               params={"tracking": "delivered"})
        assert r.status_code == (200 if role == "mediator" else 403), (role, r.text)
        listed = {c["caseId"] for c in ok(w.actors[role].get("/cases"))}
        assert (w.case_id in listed) == (role in readers), role
    # offers: the parties and the mediator, never the tribunal or the court
    for role in ("buyer", "seller", "mediator"):
        assert "offers" in w.actors[role].case()
    for role in ("arbitrator", "admin", "court"):
        assert "offers" not in w.actors[role].case()
    # admin-only endpoints
    for role in ROLES:
        want = 200 if role == "admin" else 403
        a = w.actors[role]
        assert a.post("/admin/tick").status_code == want
        assert a.get("/admin/chain-actions").status_code == want
        assert a.post("/admin/chain-actions/999999/retry").status_code == (
            404 if role == "admin" else 403)
        r = a.post("/admin/courts", json={"address": w.stranger.address, "name": role})
        assert r.status_code == (201 if role == "admin" else 403), (role, r.text)
        r = a.post(f"/cases/{w.case_id}/courts", json={"court": w.court.address})
        assert r.status_code == (201 if role == "admin" else 403), (role, r.text)


def _submit_evidence(w: World, who: str, name: bytes) -> str:
    a = w.actors[who]
    body = a.evidence_step(name, kind="inspection_report")
    ok(a.post(f"/cases/{w.case_id}/evidence-submissions", json=body))
    return str(body["record"]["message"]["commitment"])


def _sees(w: World, who: str, commitment: str) -> tuple[bool, bool, bool]:
    """(listed in the case, readable, its step in the timeline) for ``who``."""
    view = w.actors[who].case()
    items = {e["commitment"]: e for e in view["evidence"]}
    steps = [i for i in ok(w.actors[who].get(f"/cases/{w.case_id}/timeline"))
             if i["type"] == "step" and i["action"] == "evidence.submitted"]
    in_timeline = False
    for s in steps:
        r = w.actors[who].get(f"/cases/{w.case_id}/steps/{s['sequence']}")
        if r.status_code == 200 and r.json()["record"]["message"]["commitment"] == commitment:
            in_timeline = True
    item = items.get(commitment)
    return item is not None, bool(item and item["readable"]), in_timeline


def test_disclosure_of_evidence(world: World) -> None:
    w = world
    to_facilitation(w)
    grant_court(w)
    caucus = _submit_evidence(w, "buyer", b"caucus: my margin is thin")
    # a caucus item: the mediator only; the seller does not even learn it exists
    assert _sees(w, "buyer", caucus) == (True, True, True)
    assert _sees(w, "mediator", caucus) == (True, True, True)
    assert _sees(w, "seller", caucus) == (False, False, False)
    assert _sees(w, "court", caucus)[1] is False
    assert _sees(w, "admin", caucus)[:2] == (True, False)  # metadata, never content
    ok(w.mediator.post(f"/cases/{w.case_id}/impasse", json=w.mediator.plain("impasse.declared")))
    ok(w.admin.post(f"/cases/{w.case_id}/arbitrator",
                    json=w.admin.appoint("arbitrator", w.arbitrator)))
    assert _sees(w, "arbitrator", caucus) == (False, False, False)
    # an arbitration item: the other party at once, the tribunal, not the mediator
    open_item = _submit_evidence(w, "seller", b"tracking: delivered, signed")
    assert _sees(w, "buyer", open_item) == (True, True, True)
    assert _sees(w, "arbitrator", open_item)[1] is True
    assert _sees(w, "mediator", open_item)[1] is False
    assert _sees(w, "court", open_item)[1] is False  # not before the result exists
    # the notice of new evidence went only to those who may read it
    kinds = {n["kind"] for n in ok(w.seller.get(f"/cases/{w.case_id}/notices"))}
    assert "evidence_submitted" not in kinds
    kinds = {n["kind"] for n in ok(w.buyer.get(f"/cases/{w.case_id}/notices"))}
    assert "evidence_submitted" in kinds
    assert ORDER_ID == 7


def test_case_view_lists_what_each_role_may_sign_now(world: World) -> None:
    w = world
    to_facilitation(w)
    allowed = {role: w.actors[role].case()["allowedSteps"]
               for role in ("buyer", "seller", "mediator", "admin")}
    assert "impasse.declared" in allowed["mediator"]
    assert "settlement.proposed" in allowed["mediator"]
    assert "impasse.declared" not in allowed["buyer"]
    assert "offer.made" in allowed["buyer"] and "evidence.submitted" in allowed["seller"]
    assert allowed["admin"] == ["appoint.mediator"]  # (content checks refuse a second one)
    ok(w.mediator.post(f"/cases/{w.case_id}/impasse", json=w.mediator.plain("impasse.declared")))
    assert w.admin.case()["allowedSteps"] == ["appoint.arbitrator"]
    assert "appoint.arbitrator" not in w.buyer.case()["allowedSteps"]
    assert w.stranger.get(f"/cases/{w.case_id}").status_code == 403
