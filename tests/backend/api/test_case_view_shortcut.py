"""``GET /cases/{id}``: the shortcut before FastAPI's routing (``backend/api/shortcut.py``)
answers exactly as the route does, and the kept view texts (``views.case_view_json``) are
the view built anew after every kind of change that alters it (issue 10)."""

from __future__ import annotations

import re
from datetime import datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import OperationalError
from sqlmodel import col, select
from starlette.responses import JSONResponse

from backend.api import shortcut
from backend.db import write_scope
from backend.db.service_models import ChainAction, ChainActionStatus
from backend.services import views
from tests.support.world import AMOUNT, ORDER_ID, World, ok, to_filed, to_negotiation

RID = {"X-Request-ID": "shortcut-test-0001"}  # the same id both ways: headers comparable


def _answer(w: World, path: str, headers: dict[str, str]) -> tuple[int, list[Any], bytes]:
    r = w.client.get(path, headers={**RID, **headers}, follow_redirects=False)
    return r.status_code, r.headers.multi_items(), r.content


def _both(w: World, monkeypatch: pytest.MonkeyPatch, path: str, headers: dict[str, str]
          ) -> tuple[tuple[int, list[Any], bytes], bool]:
    """The answer with the shortcut and whether the shortcut took the request; asserted
    equal to the answer of the route alone (the shortcut matching no path)."""
    taken: list[str] = []
    real = shortcut.case_view_answer

    def spy(*args: Any) -> bytes:
        taken.append(args[2])
        return real(*args)

    monkeypatch.setattr(shortcut, "case_view_answer", spy)
    fast = _answer(w, path, headers)
    monkeypatch.setattr(shortcut, "_CASE_VIEW", re.compile(r"(?!)"))
    route = _answer(w, path, headers)
    monkeypatch.undo()
    assert fast == route, path
    return fast, bool(taken)


def _offers(w: World, count: int) -> None:
    seq, prev = w.buyer.head()
    for j in range(count):
        who = (w.buyer, w.seller)[j % 2]
        body, prev = who.offer_at(w.case_id, ORDER_ID, seq + j, prev,
                                  1_000 * (j + 1) + AMOUNT // 4)
        ok(who.post(f"/cases/{w.case_id}/offers", json=body))


def test_the_shortcut_answers_as_the_route(world: World, monkeypatch: pytest.MonkeyPatch
                                           ) -> None:
    w = world
    to_filed(w)
    _offers(w, 2)
    case = f"/cases/{w.case_id}"
    token = {"Authorization": f"Bearer {w.buyer.sign_in()}"}
    taken = {  # the shortcut answers these, refusals by the app's handlers
        "buyer": (case, w.buyer.headers),
        "seller": (case, w.seller.headers),
        "admin": (case, w.admin.headers),
        "upper-case id": (f"/cases/{w.case_id.upper().replace('0X', '0x')}", w.buyer.headers),
        "query string": (case + "?x=1", w.buyer.headers),
        "a second sign-in": (case, token),
        "stranger": (case, w.stranger.headers),
        "no token": (case, {}),
        "not bearer": (case, {"Authorization": "Basic abc"}),
        "unknown token": (case, {"Authorization": "Bearer nope"}),
        "unknown case": ("/cases/0x" + "ab" * 32, w.buyer.headers),
    }
    routed = {  # other paths: the app alone
        "trailing slash": (case + "/", w.buyer.headers),
        "timeline": (case + "/timeline", w.buyer.headers),
        "case list": ("/cases", w.buyer.headers),
    }
    statuses = {}
    for name, (path, headers) in {**taken, **routed}.items():
        (status, _headers, _body), by_shortcut = _both(w, monkeypatch, path, headers)
        assert by_shortcut == (name in taken), name
        statuses[name] = status
    assert {statuses[n] for n in ("buyer", "seller", "admin", "upper-case id",
                                  "query string", "a second sign-in")} == {200}
    assert statuses["stranger"] == 403 and statuses["unknown case"] == 404
    assert statuses["no token"] == statuses["not bearer"] == statuses["unknown token"] == 401
    assert statuses["trailing slash"] == 307


def test_a_storage_fault_is_answered_as_by_the_route(world: World,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    w = world
    w.open_case("buyer")
    headers = w.buyer.headers

    def down(*_args: Any) -> bytes:
        raise OperationalError("SELECT 1", {}, Exception("the database is restarting"),
                               connection_invalidated=True)

    monkeypatch.setattr(views, "case_view_json", down)
    (status, _h, body), by_shortcut = _both(w, monkeypatch, f"/cases/{w.case_id}", headers)
    assert (status, by_shortcut) == (503, True) and b"database_unavailable" in body

    def bug(*_args: Any) -> bytes:
        raise KeyError("a bug")

    monkeypatch.setattr(views, "case_view_json", bug)
    (status, _h, body), by_shortcut = _both(w, monkeypatch, f"/cases/{w.case_id}", headers)
    assert (status, by_shortcut) == (500, True) and b"internal_error" in body


def test_sign_out_ends_the_shortcut_at_once(world: World, monkeypatch: pytest.MonkeyPatch
                                            ) -> None:
    w = world
    w.open_case("buyer")
    token = w.buyer.sign_in()
    headers = {"Authorization": f"Bearer {token}"}
    (status, _h, _b), by_shortcut = _both(w, monkeypatch, f"/cases/{w.case_id}", headers)
    assert status == 200 and by_shortcut  # the token is now in the session cache
    assert w.client.post("/auth/sign-out", headers=headers).status_code == 204
    (status, _h, body), by_shortcut = _both(w, monkeypatch, f"/cases/{w.case_id}", headers)
    assert status == 401 and by_shortcut and b"signed out" in body


def _uncached(w: World, reader: Any) -> bytes:
    """The view built whole (no kept text), as ``JSONResponse`` renders it."""
    return bytes(JSONResponse(views.case_view(w.app.state.ctx.service, w.case_id,
                                              reader.address)).body)


def _read(w: World, reader: Any) -> dict[str, Any]:
    r = reader.get(f"/cases/{w.case_id}")
    assert r.status_code == 200
    assert r.content == _uncached(w, reader)  # the clock stands still: the same ``now``
    view: dict[str, Any] = r.json()
    return view


def _kept(w: World, reader: Any) -> object | None:
    return views._views.get((w.case_id.lower(), reader.address))


def test_kept_views_follow_every_change(world: World, monkeypatch: pytest.MonkeyPatch
                                        ) -> None:
    w = world
    service = w.app.state.ctx.service
    to_negotiation(w)
    first = _read(w, w.buyer)
    kept = _kept(w, w.buyer)
    assert kept is not None
    assert _read(w, w.buyer) == first and _kept(w, w.buyer) is kept  # answered from it
    # another viewer: a view of their own, the first one's kept beside it
    seller = _read(w, w.seller)
    assert seller["yourRoles"] != first["yourRoles"] and _kept(w, w.buyer) is kept
    # the clock moves, the deadline still ahead: only ``now`` differs
    w.clock.advance(minutes=5)
    moved = _read(w, w.buyer)
    assert _kept(w, w.buyer) is kept and moved["now"] != first["now"]
    assert {**moved, "now": first["now"]} == first
    # a new step
    _offers(w, 1)
    after_offer = _read(w, w.buyer)
    assert _kept(w, w.buyer) is not kept
    assert after_offer["nextSequence"] == first["nextSequence"] + 1
    assert len(after_offer["offers"]) == len(first.get("offers", [])) + 1
    # a chain action queued, then its status changed, beside the case row
    with write_scope(w.app.state.ctx.sessions) as s:
        s.add(ChainAction(case_id=w.case_id.lower(), kind="freeze",
                          status=ChainActionStatus.PENDING,
                          created_at=w.clock(), updated_at=w.clock()))
    queued = _read(w, w.buyer)
    assert len(queued["chainActions"]) == len(after_offer["chainActions"]) + 1
    with write_scope(w.app.state.ctx.sessions) as s:
        s.execute(sa.update(ChainAction).where(col(ChainAction.case_id) == w.case_id.lower())
                  .values(status="done", attempts=1, tx_hash="0x" + "cd" * 32,
                          error='nonce "7" \\ réessayé\n重试'))
    done = _read(w, w.buyer)
    assert {a["status"] for a in done["chainActions"]} == {"done"}
    assert {a["error"] for a in done["chainActions"]} == {'nonce "7" \\ réessayé\n重试'}
    with w.app.state.ctx.sessions() as s:  # the view's JSON aggregate, as the ORM reads them
        general = s.exec(select(ChainAction).where(col(ChainAction.case_id) == w.case_id.lower())
                         .order_by(col(ChainAction.id))).all()
        _row, _case, text = views._load_for_view(service, s, w.case_id)
        assert [(a.id, a.kind, a.status, a.attempts, a.tx_hash, a.error) for a in general] == \
            [tuple(a) for a in views._actions_of(text)]
        assert len(general) == len(done["chainActions"]) >= 1
    # the order's token unreadable, then readable again
    known = service.order_token(ORDER_ID)
    assert known is not None
    monkeypatch.setattr(service, "order_token", lambda _order: None)
    assert _read(w, w.buyer)["currency"] is None
    monkeypatch.setattr(service, "order_token", lambda _order: known)
    assert _read(w, w.buyer)["currency"] == done["currency"] is not None
    # the stage's deadline passes: the allowed steps are the procedure's after it
    before = _read(w, w.buyer)
    kept = _kept(w, w.buyer)
    w.clock.now = datetime.fromisoformat(before["deadline"]) + timedelta(seconds=1)
    past = _read(w, w.buyer)
    assert _kept(w, w.buyer) is not kept
    assert past["allowedSteps"] != before["allowedSteps"]
    # a clock before the stage began: the procedure refuses it, as the route says, and
    # nothing is kept
    kept = _kept(w, w.buyer)
    w.clock.now = datetime.fromisoformat(before["stageEnteredAt"]) - timedelta(days=1)
    (status, _h, body), by_shortcut = _both(w, monkeypatch, f"/cases/{w.case_id}",
                                            w.buyer.headers)
    assert (status, by_shortcut) == (500, True) and b"invalid_clock" in body
    assert _kept(w, w.buyer) is kept
    # another service on the same database (a second worker process) wrote a step: this
    # process decodes the new state, so the kept text is not used
    w.clock.now = datetime.fromisoformat(before["deadline"]) - timedelta(hours=1)
    again = _read(w, w.buyer)
    kept = _kept(w, w.buyer)
    service.repository._states.clear()  # as if that state had come from elsewhere
    assert _read(w, w.buyer) == again
    rebuilt = _kept(w, w.buyer)
    assert rebuilt is not None and rebuilt is not kept
