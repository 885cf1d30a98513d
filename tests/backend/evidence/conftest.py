"""Fixtures for the evidence API: helper-9's World (tests/backend/api) on a disk blockstore.

A ``LocalBlockstore`` instead of the in-memory one, so tests can see that a refused upload
leaves no block behind (the local store can delete; see backend/services/evidence.py).
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.evidence import make_evidence_world
from tests.support.migrated import migrated
from tests.support.snapshots import StageSnapshots
from tests.support.world import World


@pytest.fixture
def world(tmp_path: Path, stage_snapshots: StageSnapshots) -> Iterator[World]:

    url = f"sqlite:///{tmp_path / 'evidence.sqlite3'}"
    migrated(url)
    w = make_evidence_world(url, tmp_path)
    w.snapshots = stage_snapshots
    with w.client:
        yield w


@pytest.fixture
def pg_world(clean_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = make_evidence_world(clean_db_url, tmp_path)
    with w.client:
        yield w
