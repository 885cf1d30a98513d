"""What a case view sends to the database (``views.case_view_json``, issue 10): a kept
view is its one SELECT (on SQLite without ``BEGIN``/``ROLLBACK`` around it: the statement
is a read transaction of its own), and a view that is built reads its row again in the
transaction its parts are read in, so row and parts come from one snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine

from backend.services import views
from tests.support.world import make_world, to_filed


@contextmanager
def statements(engine: Engine) -> Iterator[list[str]]:
    """Every statement the engine's connections run meanwhile (their first word)."""
    seen: list[str] = []

    def note(_conn: Any, _cursor: Any, statement: str, *_rest: Any) -> None:
        seen.append(statement.split(None, 1)[0].upper())

    event.listen(engine, "before_cursor_execute", note)
    try:
        yield seen
    finally:
        event.remove(engine, "before_cursor_execute", note)


def test_a_kept_view_is_one_select_and_a_built_one_one_snapshot(clean_db_url: str,
                                                               tmp_path: Path) -> None:
    w = make_world(clean_db_url, tmp_path)
    with w.client:
        to_filed(w)
        service = w.app.state.ctx.service
        engine = service.repository.sessions.kw["bind"]
        sqlite = service.repository.sqlite
        views._views.clear()
        with statements(engine) as built:
            first = views.case_view_json(service, w.case_id, w.buyer.address)
        # (the parts' reads: those this process does not remember, SELECTs only)
        if sqlite:  # the row alone, then BEGIN: the row again and the parts, in it
            assert built[:3] == ["SELECT", "BEGIN", "SELECT"], built
            assert set(built[3:]) <= {"SELECT"}, built
        else:  # plain reads in autocommit, as before
            assert built[0] == "SELECT" and set(built) == {"SELECT"}, built
        for _ in range(3):
            with statements(engine) as kept:
                assert views.case_view_json(service, w.case_id, w.buyer.address) == first
            assert kept == ["SELECT"], kept
        # what the built view says is what a view built from nothing says
        views._views.clear()
        assert views.case_view_json(service, w.case_id, w.buyer.address) == first


def test_the_readers_session_is_a_plain_read_too(clean_db_url: str, tmp_path: Path) -> None:
    """A case view whose reader the session cache does not remember (every few seconds
    per token) looks the session up as the view reads: one SELECT, no ORM session, no
    transaction around it; a session revoked in the database is refused then."""
    w = make_world(clean_db_url, tmp_path)
    with w.client:
        to_filed(w)
        ctx = w.app.state.ctx
        engine = ctx.service.repository.sessions.kw["bind"]
        path = f"/cases/{w.case_id}"
        first = w.client.get(path, headers=w.buyer.headers)
        assert first.status_code == 200
        ctx.auth_cache._entries.clear()
        with statements(engine) as sent:
            again = w.client.get(path, headers=w.buyer.headers)
        assert again.status_code == 200 and sent == ["SELECT", "SELECT"], sent
        with engine.begin() as conn:  # signed out elsewhere (another worker, by hand)
            conn.execute(sa.text("UPDATE auth_session SET revoked_at = expires_at"))
        ctx.auth_cache._entries.clear()
        refused = w.client.get(path, headers=w.buyer.headers)
        assert refused.status_code == 401, refused.text
        assert "signed out" in refused.json()["detail"]
