"""The carrier simulator's webhooks at 100 events/s for a minute, on PostgreSQL: none
lost, none doubled, in the rows and in the institution's log (``webhook_load``)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backend.api.webhook_load import run_load


@pytest.mark.postgres
def test_100_events_per_second_for_a_minute_none_lost_none_doubled_postgres(
        pg_url: str, tmp_path: Path) -> None:
    run_load(pg_url, tmp_path)
