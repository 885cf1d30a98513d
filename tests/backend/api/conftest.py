"""Fixtures: a World (app + clients + injected clock + in-memory escrow) per test,
on SQLite and on PostgreSQL (``clean_db_url`` from tests/backend/conftest.py)."""

from __future__ import annotations

import os
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

from tests.support.migrated import migrated
from tests.support.snapshots import StageSnapshots
from tests.support.world import World, make_world


@pytest.fixture
def world(clean_db_url: str, tmp_path: Path, stage_snapshots: StageSnapshots
          ) -> Iterator[World]:
    w = make_world(clean_db_url, tmp_path)
    w.snapshots = stage_snapshots
    with w.client:
        yield w


@pytest.fixture
def sqlite_world(tmp_path: Path, stage_snapshots: StageSnapshots) -> Iterator[World]:

    url = f"sqlite:///{tmp_path / 'api.sqlite3'}"
    migrated(url)
    w = make_world(url, tmp_path)
    w.snapshots = stage_snapshots
    with w.client:
        yield w


# Faster on one backend; both when CHAINARB_API_MATRIX_ALL_BACKENDS=1 (CI may set it).
BACKENDS = ["sqlite", "postgres"] if os.environ.get("CHAINARB_API_MATRIX_ALL_BACKENDS") == "1" \
    else ["sqlite"]


@pytest.fixture(params=BACKENDS)
def fresh_world(request: pytest.FixtureRequest, tmp_path: Path,
                make_pg_database: Callable[[], str], stage_snapshots: StageSnapshots
                ) -> Iterator[Callable[[], World]]:

    made: list[World] = []

    def make() -> World:
        n = len(made)
        if request.param == "sqlite":
            url = f"sqlite:///{tmp_path / f'm{n}.sqlite3'}"
        else:
            url = make_pg_database()
        migrated(url)
        w = make_world(url, tmp_path / f"w{n}")
        w.snapshots = stage_snapshots
        w.client.__enter__()
        made.append(w)
        return w

    yield make
    for w in made:
        w.client.__exit__(None, None, None)
