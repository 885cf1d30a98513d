"""Fixtures: a World (app + clients + injected clock + in-memory escrow) per test,
on SQLite and on PostgreSQL (``clean_db_url`` from tests/backend/conftest.py)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest
from api_helpers import World, make_world


@pytest.fixture
def world(clean_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = make_world(clean_db_url, tmp_path)
    with w.client:
        yield w


@pytest.fixture
def sqlite_world(tmp_path: Path) -> Iterator[World]:
    from backend.db import upgrade_to_head

    url = f"sqlite:///{tmp_path / 'api.sqlite3'}"
    upgrade_to_head(url)
    w = make_world(url, tmp_path)
    with w.client:
        yield w
