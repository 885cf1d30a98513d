"""What a case view sends to the database (``views.case_view_json``, issue 10): a kept
view is its one SELECT (on SQLite without ``BEGIN``/``ROLLBACK`` around it: the statement
is a read transaction of its own), and a view that is built reads its row again in the
transaction its parts are read in, so row and parts come from one snapshot."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

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
