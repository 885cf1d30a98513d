"""The documented error codes are test data: produced by tests, and only those.

Hooks imported by tests/conftest.py. Every HTTP response a test receives through httpx
(the starlette ``TestClient`` is an httpx client; so are the clients of the tests that
start ``chainarb serve``) with a status >= 400 and a JSON object body is recorded as
(code, status); an error body without a ``code`` is recorded as ``(no code)``.

At the end of a run that collected every test module under tests/, deselected nothing and
failed no test, the recorded set is compared with ``backend.api.error_codes.ERROR_CODES``
(= the docs/api.md "Errors" table): a documented code no test produced, a code produced
with another status than documented, or a produced code (or codeless error) that is not
documented fails the run, naming each. The suite also runs in two halves, ``make test``
(``-m "not slow"``) and ``make test-slow`` (``-m slow``): a half that passed writes what it
saw to ``.chainarb/error-codes-<half>.json``, fails at once on a code that is not
documented, and once both halves' files exist checks their union like a whole run. Any
other partial run (one file, ``-k``, another ``-m``, ``-x`` stopped early) only writes
what it saw to ``CHAINARB_ERROR_CODES_OUT`` when that is set, and checks nothing, unless
``CHAINARB_ERROR_CODES_CHECK=1`` asks for the check anyway.
"""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

NO_CODE = "(no code)"
TESTS = Path(__file__).resolve().parent
_seen: dict[tuple[str, int], str] = {}  # (code, status) -> first test that saw it
_lock = threading.Lock()
_state: dict[str, Any] = {"test": "", "deselected": 0, "modules": set(),
                          "deselected_modules": set()}


def _record(response: httpx.Response) -> None:
    if response.status_code < 400 or "json" not in response.headers.get("content-type", ""):
        return
    try:
        response.read()
        body = response.json()
    except (ValueError, httpx.HTTPError):
        return
    if not isinstance(body, dict) or not ({"code", "detail"} & body.keys()):
        return
    code = body.get("code")
    key = (code if isinstance(code, str) else NO_CODE, response.status_code)
    with _lock:
        _seen.setdefault(key, _state["test"])


_original_send = httpx.Client.send
_original_async_send = httpx.AsyncClient.send


def _send(self: httpx.Client, request: httpx.Request, **kw: Any) -> httpx.Response:
    response = _original_send(self, request, **kw)
    if not kw.get("stream"):
        _record(response)
    return response


async def _async_send(self: httpx.AsyncClient, request: httpx.Request, **kw: Any
                      ) -> httpx.Response:
    response = await _original_async_send(self, request, **kw)
    if not kw.get("stream"):
        _record(response)
    return response


def pytest_configure(config: pytest.Config) -> None:
    httpx.Client.send = _send  # type: ignore[method-assign]
    httpx.AsyncClient.send = _async_send  # type: ignore[method-assign]


def pytest_runtest_setup(item: pytest.Item) -> None:
    _state["test"] = item.nodeid


def pytest_deselected(items: list[pytest.Item]) -> None:
    _state["deselected"] += len(items)
    _state["deselected_modules"] |= {Path(str(i.path)).resolve() for i in items}


def pytest_collection_finish(session: pytest.Session) -> None:
    _state["modules"] = {Path(str(i.path)).resolve() for i in session.items}


HALVES = {"not slow": "fast", "slow": "slow"}  # the -m of make test and make test-slow


def _run_kind(session: pytest.Session) -> str | None:
    """"whole", "fast" or "slow" for a run that saw every module and passed; else None."""
    wanted = {p.resolve() for p in TESTS.rglob("test_*.py")
              if "node_modules" not in p.parts}
    config = session.config
    if (config.option.collectonly or session.testsfailed or session.shouldstop
            or not wanted <= _state["modules"] | _state["deselected_modules"]):
        return None
    if not _state["deselected"]:
        return "whole"
    if config.option.keyword:
        return None
    return HALVES.get(config.option.markexpr.strip())


def check(seen: dict[tuple[str, int], str]) -> list[str]:
    """What is wrong between the codes seen and the documented ones (empty: nothing)."""
    from backend.api.error_codes import ERROR_CODES

    problems = []
    for code, entry in sorted(ERROR_CODES.items()):
        statuses = {s for c, s in seen if c == code}
        if not statuses:
            problems.append(f"documented but produced by no test: {code} ({entry.status})")
        elif statuses != {entry.status}:
            problems.append(f"{code}: documented as {entry.status}, answered "
                            f"{sorted(statuses)}")
    for (code, status), test in sorted(seen.items()):
        if code not in ERROR_CODES:
            problems.append(f"produced but not documented: {code} ({status}), first in {test}")
    return problems


def _halves(session: pytest.Session, half: str) -> dict[tuple[str, int], str] | None:
    """Store this half's codes; the union of both halves once the other one has run."""
    store = Path(str(session.config.rootpath)) / ".chainarb"
    store.mkdir(exist_ok=True)
    (store / f"error-codes-{half}.json").write_text(
        json.dumps(sorted([c, s, t] for (c, s), t in _seen.items()), indent=1))
    other = store / f"error-codes-{'slow' if half == 'fast' else 'fast'}.json"
    if not other.exists():
        return None
    return {(c, s): t for c, s, t in json.loads(other.read_text())} | _seen


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    out = os.environ.get("CHAINARB_ERROR_CODES_OUT")
    if out:
        Path(out).write_text(json.dumps(sorted([c, s, t] for (c, s), t in _seen.items()),
                                        indent=1))
    forced = os.environ.get("CHAINARB_ERROR_CODES_CHECK") == "1"
    kind = _run_kind(session)
    seen: dict[tuple[str, int], str] | None = _seen
    if kind in ("fast", "slow") and not forced:
        seen = _halves(session, kind)  # None until the other half has run too
    elif not (forced or kind == "whole"):
        return
    if seen is None:
        problems = [p for p in check(_seen) if p.startswith("produced but not documented")]
        summary = f"every code the {kind} half produced is documented (the other half's " \
                  "run checks that every documented code was produced)"
    else:
        problems = check(seen)
        summary = (f"all {len(seen)} (code, status) pairs produced are documented, and "
                   "every documented code was produced")
    reporter = session.config.pluginmanager.get_plugin("terminalreporter")
    if reporter is not None:
        reporter.section("documented error codes (docs/api.md, backend/api/error_codes.py)")
        reporter.line("\n".join(problems) if problems else summary)
    if problems:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED
