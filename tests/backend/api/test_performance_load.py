"""The carrier simulator's webhooks at 100 events/s for a minute, on SQLite: none lost,
none doubled, in the rows and in the institution's log (``webhook_load``; PostgreSQL in
``test_performance_load_postgres``, so the two run in parallel xdist processes)."""

from __future__ import annotations

from pathlib import Path

from tests.backend.api.webhook_load import run_load


def test_100_events_per_second_for_a_minute_none_lost_none_doubled_sqlite(
        sqlite_url: str, tmp_path: Path) -> None:
    run_load(sqlite_url, tmp_path)
