"""When PostgreSQL is unreachable, tests that need it fail and say so; they never skip."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
NODE = "tests/backend/db/test_migrations.py::test_head_matches_models_exactly[postgres]"
NOWHERE = "postgresql+psycopg://postgres@127.0.0.1:1/test"


def test_unreachable_postgres_fails_the_run_under_ci() -> None:
    """End to end, as .ci/run would see it: the test errors, the run fails."""
    env = dict(os.environ, CHAINARB_TEST_POSTGRES_URL=NOWHERE, CHAINARB_REQUIRE_POSTGRES="1")
    out = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                          "--confcutdir=tests/backend", NODE],
                         cwd=ROOT, env=env, capture_output=True, text=True, timeout=120)
    text = out.stdout + out.stderr
    assert out.returncode != 0, text
    assert "PostgreSQL not reachable at 127.0.0.1:1" in text and "CI requires it" in text
    assert "skipped" not in text and "1 error" in text


def test_unreachable_postgres_fails_outside_ci_too(
    monkeypatch: pytest.MonkeyPatch, request: pytest.FixtureRequest
) -> None:
    # conftest modules are plugins; several are named "conftest", so find ours by its file
    conftest = next(m for m in request.config.pluginmanager.get_plugins()
                    if getattr(m, "__file__", None) == str(ROOT / "tests/backend/conftest.py"))
    monkeypatch.setattr(conftest, "PG_ADMIN_URL", NOWHERE)
    monkeypatch.delenv("CHAINARB_REQUIRE_POSTGRES", raising=False)
    expected = r"PostgreSQL not reachable at 127\.0\.0\.1:1 \(tests that need it fail rather"
    with pytest.raises(pytest.fail.Exception, match=expected):
        conftest._require_postgres()
