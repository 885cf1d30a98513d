"""tests/support/route_contexts.py: an app whose routes' state was kept from an earlier app
answers as an app FastAPI built alone, and reads its own ``dependency_overrides``."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.api.deps import current_user
from tests.support import route_contexts
from tests.support.migrated import migrated
from tests.support.world import World, make_world

CASE = "0x" + "ab" * 32


@pytest.fixture
def fastapi_alone() -> Iterator[None]:
    """FastAPI's own per-app build for the test; the suite's kept builds afterwards."""
    was = route_contexts.installed()
    route_contexts.uninstall()
    try:
        yield
    finally:
        if was:
            route_contexts.install()


def _world(tmp_path: Path, name: str) -> World:
    url = f"sqlite:///{tmp_path / (name + '.sqlite3')}"
    migrated(url)
    return make_world(url, tmp_path / name)


def _answers(world: World) -> list[tuple[int, Any]]:
    """A few answers that go through FastAPI's routing (the shortcuts' paths aside)."""
    client = world.client
    sent = [
        client.get("/openapi.json"),
        client.get("/cases"),  # 401: no session
        client.get(f"/cases/{CASE}/timeline", headers={"Authorization": "Bearer nope"}),
        client.post("/cases", json={"orderId": "x"}),  # 401: the session is checked first
        client.post("/cases", content=b"{", headers={"Content-Type": "application/json"}),  # 422
        client.get("/no/such/route"),
        client.put("/cases"),  # 405
    ]
    return [(r.status_code, r.json()) for r in sent]


def test_a_kept_build_answers_as_fastapi_alone(tmp_path: Path, fastapi_alone: None) -> None:
    alone = _answers(_world(tmp_path, "alone"))
    route_contexts.install()
    first = route_contexts.builds.copy()
    _answers(_world(tmp_path, "first"))  # builds and keeps
    built = route_contexts.builds["built"] - first["built"]
    assert built > 100  # every route of the app, built once
    second = route_contexts.builds.copy()
    kept = _answers(_world(tmp_path, "second"))
    assert route_contexts.builds["built"] == second["built"]  # nothing built again
    assert route_contexts.builds["reused"] - second["reused"] == built
    assert kept == alone
    assert [status for status, _ in kept] == [200, 401, 401, 401, 422, 404, 405]


def test_each_app_reads_its_own_dependency_overrides(tmp_path: Path, fastapi_alone: None
                                                     ) -> None:
    route_contexts.install()
    one, other = _world(tmp_path, "one"), _world(tmp_path, "other")
    assert one.client.get("/cases").status_code == 401
    before = route_contexts.builds["reused"]
    other.client.app.dependency_overrides[current_user] = lambda: "0x" + "00" * 20  # type: ignore[attr-defined]
    listed = other.client.get("/cases")
    assert route_contexts.builds["reused"] > before  # the second app's routes were kept ones
    assert (listed.status_code, listed.json()) == (200, [])
    assert one.client.get("/cases").status_code == 401


def test_nothing_kept_holds_an_app(tmp_path: Path, fastapi_alone: None) -> None:
    route_contexts.install()
    world = _world(tmp_path, "gone")
    assert world.client.get("/cases").status_code == 401
    app = weakref.ref(world.client.app)
    world.client.close()
    del world
    gc.collect()
    assert app() is None
