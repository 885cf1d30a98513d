"""Schemathesis over every operation of /openapi.json as the institution's admin
(tests/security/schemathesis_run.py says how; the party's run is test_schemathesis.py)."""

from __future__ import annotations

from typing import Any

from tests.security._world import Twin
from tests.security.schemathesis_run import exercise


def test_api_as_an_admin(api_schema: Any, twin: Twin) -> None:
    exercise(api_schema, twin, "admin")
