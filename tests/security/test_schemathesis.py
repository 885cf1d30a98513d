"""Schemathesis over every operation of /openapi.json as a party of case A
(tests/security/schemathesis_run.py says how; the admin's run is test_schemathesis_admin.py)."""

from __future__ import annotations

from typing import Any

from tests.security._world import Twin
from tests.security.schemathesis_run import exercise


def test_api_as_a_party(api_schema: Any, twin: Twin) -> None:
    exercise(api_schema, twin, "party")
