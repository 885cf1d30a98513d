"""The step endpoints' shortcut before FastAPI's routing (``backend/api/shortcut.py``):
every refusal byte for byte the route's (the shortcut's own and those it leaves to
FastAPI), every accepted step answered as the route renders the same answer, and every
path it takes one that FastAPI routes to the same endpoint (issue 10)."""

from __future__ import annotations

import json
import re
from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import pytest
from sqlalchemy.exc import OperationalError
from starlette.responses import JSONResponse

from backend.api import shortcut
from backend.api.routes import cases
from tests.support.world import (
    AMOUNT,
    ORDER_ID,
    World,
    award_record_hash,
    ok,
    to_awarded,
    to_negotiation,
)

RID = {"X-Request-ID": "step-shortcut-0001"}  # the same id both ways: headers comparable
NEVER = re.compile(r"(?!)")
Answer = tuple[int, list[tuple[str, str]], bytes]


def _post(w: World, path: str, body: Any, headers: dict[str, str]) -> Answer:
    """POST ``body`` (bytes as they are, else as JSON) with ``headers``."""
    if isinstance(body, bytes):
        r = w.client.post(path, content=body, headers={**RID, **headers},
                          follow_redirects=False)
    else:
        r = w.client.post(path, json=body, headers={**RID, **headers},
                          follow_redirects=False)
    return r.status_code, r.headers.multi_items(), r.content


@contextmanager
def _watched(monkeypatch: pytest.MonkeyPatch, *, on: bool = True) -> Iterator[list[str]]:
    """The case ids the shortcut answered for while inside; ``on=False``: the shortcut
    takes no path (the route alone)."""
    taken: list[str] = []
    real = shortcut.step_answer

    def spy(*args: Any) -> Any:
        taken.append(args[2])
        return real(*args)

    with monkeypatch.context() as m:
        m.setattr(shortcut, "step_answer", spy)
        if not on:
            m.setattr(shortcut, "_STEP", NEVER)
        yield taken


def _both(w: World, monkeypatch: pytest.MonkeyPatch, path: str, body: Any,
          headers: dict[str, str]) -> tuple[Answer, bool]:
    """A refused request's answer with the shortcut and whether the shortcut took it;
    asserted equal to the route's answer to the same request."""
    with _watched(monkeypatch) as taken:
        fast = _post(w, path, body, headers)
    with _watched(monkeypatch, on=False) as none:
        route = _post(w, path, body, headers)
    assert not none
    assert fast == route, (path, fast, route)
    return fast, bool(taken)


def _offer(w: World, who: Any, to_buyer: int) -> dict[str, Any]:
    seq, prev = w.buyer.head()
    body, _hash = who.offer_at(w.case_id, ORDER_ID, seq, prev, to_buyer)
    return body


def test_refusals_are_the_routes(world: World, monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    to_negotiation(w)
    case = f"/cases/{w.case_id}"
    before = w.buyer.case()
    good = _offer(w, w.buyer, 100_000)
    seq, prev = w.buyer.head()
    stale, _h = w.buyer.offer_at(w.case_id, ORDER_ID, seq - 1, prev, 100_000)
    forged = {**good, "record": {**good["record"], "signatures": ["0x" + "11" * 65]}}
    misplaced = {**good, "record": {**good["record"],
                                    "signatures": stale["record"]["signatures"]}}
    signed_out = w.buyer.sign_in()
    assert w.client.post("/auth/sign-out", headers={"Authorization": f"Bearer {signed_out}"}
                         ).status_code == 204
    w.buyer.sign_in()  # a live session again for the rest
    json_ = {"Content-Type": "application/json"}
    buyer = {**w.buyer.headers, **json_}
    fast_track = w.mediator.plain("fasttrack.proposed", {"outcome": "refund"})
    taken = {  # name: (path, body, headers, status): the shortcut answers these
        "no token": (f"{case}/offers", good, json_, 401),
        "not bearer": (f"{case}/offers", good, {"Authorization": "Basic abc"}, 401),
        "unknown token": (f"{case}/offers", good, {"Authorization": "Bearer nope"}, 401),
        "signed out": (f"{case}/offers", good, {"Authorization": f"Bearer {signed_out}"},
                       401),
        "stranger": (f"{case}/offers", _offer(w, w.stranger, 100_000), w.stranger.headers,
                     403),
        "unknown case": ("/cases/0x" + "ab" * 32 + "/offers", good, buyer, 404),
        "stale position": (f"{case}/offers", stale, buyer, 409),
        "malformed signature": (f"{case}/steps", forged, buyer, 400),
        "another record's signature": (f"{case}/offers", misplaced, buyer, 403),
        "wrong endpoint": (f"{case}/filing", good, buyer, 422),
        "type not a string": (f"{case}/offers", {"record": {"type": 5}}, buyer, 422),
        "message not an object": (f"{case}/steps",
                                   {"record": {"type": "ProceduralStep", "message": [1]}},
                                   buyer, 422),
        "action not a string": (f"{case}/steps", {"record": {"type": "ProceduralStep",
                                                             "message": {"action": 7}}},
                                buyer, 422),
        "unknown record type": (f"{case}/steps", {"record": {"type": "Nothing"}}, buyer, 422),
        "charset given": (f"{case}/filing", good,
                          {**w.buyer.headers, "Content-Type": "application/json; charset=utf-8"},
                          422),
        "+json": (f"{case}/filing", good,
                  {**w.buyer.headers, "Content-Type": "application/merge-patch+json"}, 422),
    }
    too_large = b'{"record": {"a": "' + b"x" * (16 * 1024 * 1024) + b'"}}'
    routed = {  # FastAPI's own answers (the shortcut leaves them to it)
        "extra field": (f"{case}/offers", {**good, "extra": 1}, buyer, 422),
        "no record": (f"{case}/offers", {"payload": None}, buyer, 422),
        "not an object": (f"{case}/offers", [good], buyer, 422),
        "not JSON": (f"{case}/offers", b'{"record": ', buyer, 422),
        "not UTF-8": (f"{case}/offers", b'{"record": {"a": "\xff"}}', buyer, 422),
        "lone surrogate": (f"{case}/offers", b'{"record": {"a": "\\ud800"}, "x": 1}', buyer,
                           422),
        "empty body": (f"{case}/offers", b"", buyer, 422),
        # JSON FastAPI's json.loads reads from bytes, but not as plain UTF-8
        "UTF-8 BOM": (f"{case}/filing", b"\xef\xbb\xbf" + json.dumps(good).encode(), buyer,
                      422),
        "UTF-16": (f"{case}/filing", json.dumps(good).encode("utf-16"), buyer, 422),
        "encoded surrogate": (f"{case}/filing", b'{"record": {"type": "\xed\xa0\x80"}}',
                              buyer, 422),
        "text/plain": (f"{case}/offers", b"{}", {**w.buyer.headers,
                                                 "Content-Type": "text/plain"}, 415),
        "no content type": (f"{case}/offers", b'{"record": {}}', w.buyer.headers, 422),
        "too deep": (f"{case}/offers", b"[" * 100 + b"]" * 100, buyer, 422),
        "too large": (f"{case}/offers", too_large, buyer, 413),
        "fast track": (f"{case}/fast-track", fast_track, w.mediator.headers, 422),
        "trailing slash": (f"{case}/offers/", good, buyer, 307),
        "prepare": (f"{case}/steps/prepare", {"action": "offer.made"}, buyer, 422),
        "not a step path": (f"{case}/offers/nothing", good, buyer, 404),
    }
    codes = {}
    for name, (path, body, headers, status) in {**taken, **routed}.items():
        (got, _headers, answer), by_shortcut = _both(w, monkeypatch, path, body, headers)
        assert (got, by_shortcut) == (status, name in taken), (name, answer)
        codes[name] = answer
    assert b"wrong_endpoint" in codes["wrong endpoint"] and b"signed out" in codes["signed out"]
    assert b"wrong_endpoint" in codes["charset given"] == codes["+json"]
    assert b"invalid_field" in codes["extra field"] and b"bad_json" in codes["not JSON"]
    assert b"expected_json" in codes["text/plain"] and b"body_too_deep" in codes["too deep"]
    assert b"body_too_large" in codes["too large"]
    assert all(b"wrong_endpoint" in codes[n] for n in ("UTF-8 BOM", "UTF-16", "encoded surrogate"))
    assert b"fast-track proposal carries its report" in codes["fast track"]
    assert w.buyer.case() == before  # nothing was stored


def test_every_step_path_is_the_routes(sqlite_world: World, monkeypatch: pytest.MonkeyPatch
                                       ) -> None:
    """Each path the shortcut takes is routed by FastAPI to an endpoint taking the same
    kinds (the ``wrong_endpoint`` refusal names them), also for case ids spelled as the
    literal segments of the app's paths. Routing reads no database: on SQLite only (about
    3,000 requests; the refusals and acceptances above run on both)."""
    w = sqlite_world
    w.open_case("buyer")
    literals = {seg for path in w.app.openapi()["paths"] for seg in path.split("/")
                if seg and not seg.startswith("{")}
    headers = {**w.buyer.headers, "Content-Type": "application/json"}
    body = {"record": {"type": "Nothing"}}
    for case_id in (w.case_id, *sorted(literals)):
        for path, allowed in shortcut.STEP_PATHS.items():
            (status, _h, answer), by_shortcut = _both(
                w, monkeypatch, f"/cases/{case_id}/{path}", body, headers)
            assert by_shortcut, path
            if allowed is not None:
                assert status == 422 and b"wrong_endpoint" in answer, (case_id, path)
                assert ", ".join(sorted(allowed)).encode() in answer
    assert set(shortcut.STEP_PATHS) == {"steps", *(p for p, _a, _s in cases.STEP_ENDPOINTS)}


def _accepted(w: World, monkeypatch: pytest.MonkeyPatch, path: str, body: Any,
              headers: dict[str, str], *, on: bool) -> list[tuple[str, str]]:
    """Post an acceptable step (through the shortcut or the route alone): its answer is
    201 with the body ``JSONResponse`` renders from ``cases.accept_step``'s answer; returns
    the headers but the length (which the answer's numbers change)."""
    answers: list[cases.StepAcceptedJson] = []
    real = cases.accept_step

    def kept(*args: Any) -> cases.StepAcceptedJson:
        answers.append(real(*args))
        return answers[-1]

    with _watched(monkeypatch, on=on) as taken, monkeypatch.context() as m:
        m.setattr(cases, "accept_step", kept)
        status, got_headers, content = _post(w, path, body, headers)
    assert status == 201, content
    assert bool(taken) == on and len(answers) == 1
    assert content == JSONResponse(answers[0], status_code=201).body
    assert ("content-length", str(len(content))) in got_headers
    return [(k, v) for k, v in got_headers if k != "content-length"]


def test_accepted_steps_are_answered_as_by_the_route(world: World,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    to_negotiation(w)
    case = f"/cases/{w.case_id}"
    charset = {"Content-Type": "application/json; charset=utf-8"}
    heads = []
    for j, (who, path, extra) in enumerate([(w.buyer, "offers", {}), (w.seller, "offers", {}),
                                            (w.buyer, "steps", {}), (w.seller, "steps", {}),
                                            (w.buyer, "offers", charset),
                                            (w.seller, "offers", charset)]):
        body = _offer(w, who, 1_000 * (j + 1))
        heads.append(_accepted(w, monkeypatch, f"{case}/{path}", body,
                               {**who.headers, **extra}, on=j % 2 == 0))
    assert all(h == heads[0] for h in heads)
    view = w.buyer.case()
    assert len(view["offers"]) == 6 and view["nextSequence"] == 9  # filing, 2 agreements
    # a step with a payload and an attachment: the seller accepts the buyer's last offer
    offer_id = view["offers"][4]["offer_id"]  # the buyer's, 5,000 to the buyer
    accept = w.seller.accept(offer_id, 5_000, AMOUNT - 5_000)
    assert _accepted(w, monkeypatch, f"{case}/offers/accept", accept, w.seller.headers,
                     on=True) == heads[0]
    assert w.buyer.case()["stage"] != view["stage"]


@pytest.mark.parametrize("on", [True, False])
def test_a_step_with_a_document(world: World, monkeypatch: pytest.MonkeyPatch, on: bool
                                ) -> None:
    w = world
    to_awarded(w)
    body = w.buyer.objection(award_record_hash(w), b"The award ignores the photos.")
    _accepted(w, monkeypatch, f"/cases/{w.case_id}/objection", body, w.buyer.headers, on=on)
    steps = ok(w.buyer.get(f"/cases/{w.case_id}/timeline"))
    assert [i["action"] for i in steps if i["type"] == "step"][-1] == "award.objected"


def test_faults_are_answered_as_by_the_route(world: World, monkeypatch: pytest.MonkeyPatch
                                             ) -> None:
    w = world
    to_negotiation(w)
    service = w.app.state.ctx.service
    body = _offer(w, w.buyer, 100_000)
    path = f"/cases/{w.case_id}/offers"

    def down(*_args: Any) -> Any:
        raise OperationalError("INSERT", {}, Exception("the database is restarting"),
                               connection_invalidated=True)

    monkeypatch.setattr(service, "submit_step", down)
    (status, _h, answer), by_shortcut = _both(w, monkeypatch, path, body, w.buyer.headers)
    assert (status, by_shortcut) == (503, True) and b"database_unavailable" in answer

    def bug(*_args: Any) -> Any:
        raise KeyError("a bug")

    monkeypatch.setattr(service, "submit_step", bug)
    (status, _h, answer), by_shortcut = _both(w, monkeypatch, path, body, w.buyer.headers)
    assert (status, by_shortcut) == (500, True) and b"internal_error" in answer
    monkeypatch.undo()
    ok(w.buyer.post(path, json=body))  # nothing was stored: the offer is still next
