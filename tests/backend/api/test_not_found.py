"""404 means "not found", nothing else (issue 10: ``LookupError`` was 404 globally).

Only the service's ``NotFound`` (a case, step, item, offer, court or order that really is
missing) answers 404 ``not_found``; a ``KeyError`` raised by a bug is a 500
``internal_error`` with its request id, so it is seen and logged instead of read as an
absent case.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from tests.support.world import World


def test_an_internal_key_error_is_a_500_with_its_request_id(
        world: World, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    w = world
    w.open_case("buyer")
    assert w.buyer.get(f"/cases/{w.case_id}").status_code == 200

    def broken(*_a: Any, **_k: Any) -> Any:
        raise KeyError("courts")  # e.g. a stored state read with a wrong key

    monkeypatch.setattr(w.app.state.ctx.service.repository, "decode", broken)
    with caplog.at_level(logging.ERROR):
        r = w.buyer.get(f"/cases/{w.case_id}")
    assert r.status_code == 500, r.text
    body = r.json()
    assert body["code"] == "internal_error"
    rid = body["requestId"]
    assert r.headers["x-request-id"] == rid and rid in body["detail"]
    assert "courts" not in r.text  # the cause stays in the log
    assert any(rid in rec.getMessage() and isinstance(rec.exc_info and rec.exc_info[1],
                                                      KeyError)
               for rec in caplog.records)


def test_what_really_is_missing_is_a_404(world: World) -> None:
    w = world
    w.open_case("buyer")
    for r in (w.buyer.get("/cases/0x" + "cd" * 32),          # no such case
              w.buyer.post("/cases", json={"orderId": "99"})):  # no such order
        assert (r.status_code, r.json()["code"]) == (404, "not_found"), r.text
        assert r.json().get("requestId") is None  # a refusal, not an incident
