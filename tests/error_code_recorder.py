"""The documented error codes are test data: produced by tests, and only those.

Hooks imported by tests/conftest.py. Every HTTP response a test receives through httpx
(the starlette ``TestClient`` is an httpx client; so are the clients of the tests that
start ``chainarb serve``) with a status >= 400 and a JSON object body is recorded as
(code, status); an error body without a ``code`` is recorded as ``(no code)``.

At the end of a run that collected every test module under tests/, deselected nothing and
failed no test, the recorded set is compared with ``backend.api.error_codes.ERROR_CODES``
(= the docs/api.md "Errors" table): a documented code no test produced, a code produced
with another status than documented, or a produced code (or codeless error) that is not
documented fails the run, naming each. The suite also runs in parts: ``make test``
(``-m "not slow"``) and ``make test-slow``, which runs the slow set as ``-m "slow and not
serial"`` (in parallel) and then ``-m "slow and serial"`` (alone), or in one run
(``-m slow``). A part that passed writes what it saw to ``.chainarb/error-codes-<part>.json``
(removing the file of any part it overlaps, so a slow set run one way never mixes with one
run the other way), fails at once on a code that is not documented, and once every part of
a whole (``WHOLES``) has its file checks their union like a whole run. Any other partial
run (one file, ``-k``, another ``-m``, ``-x`` stopped early) only writes what it saw to
``CHAINARB_ERROR_CODES_OUT`` when that is set, and checks nothing, unless
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


# The -m of each part: make test's, make test-slow's two runs, the slow set in one run.
PARTS = {"not slow": "fast", "slow and not serial": "slow-shared",
         "slow and serial": "slow-serial", "slow": "slow"}
# The ways parts make up the whole suite.
WHOLES = (("fast", "slow"), ("fast", "slow-shared", "slow-serial"))


def _run_kind(session: pytest.Session) -> str | None:
    """"whole" or a part's name (``PARTS``) for a run that saw every module and passed;
    else None."""
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
    return PARTS.get(" ".join(config.option.markexpr.split()))


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


def _parts(session: pytest.Session, part: str) -> dict[tuple[str, int], str] | None:
    """Store this part's codes; the union of a whole's parts once all of them have run."""
    store = Path(str(session.config.rootpath)) / ".chainarb"
    store.mkdir(exist_ok=True)
    mine = [w for w in WHOLES if part in w]
    for other in {p for w in WHOLES if w not in mine for p in w} - {p for w in mine for p in w}:
        (store / f"error-codes-{other}.json").unlink(missing_ok=True)  # overlaps this part
    (store / f"error-codes-{part}.json").write_text(
        json.dumps(sorted([c, s, t] for (c, s), t in _seen.items()), indent=1))
    for whole in mine:
        files = [store / f"error-codes-{p}.json" for p in whole if p != part]
        if all(f.exists() for f in files):
            union = dict(_seen)
            for f in files:
                union |= {(c, s): t for c, s, t in json.loads(f.read_text())}
            return union
    return None


def _share_with_controller(config: pytest.Config) -> bool:
    """Under pytest-xdist a worker sees only its share: it hands what it saw (codes, modules,
    deselections) to the controller, which checks the union. True in a worker."""
    output = getattr(config, "workeroutput", None)
    if output is None:
        return False
    output["chainarb_error_codes"] = json.dumps({
        "seen": sorted([c, s, t] for (c, s), t in _seen.items()),
        "modules": sorted(map(str, _state["modules"])),
        "deselected_modules": sorted(map(str, _state["deselected_modules"])),
        "deselected": _state["deselected"],
    })
    return True


@pytest.hookimpl(optionalhook=True)
def pytest_testnodedown(node: Any, error: Any) -> None:
    """The controller takes in one worker's share (see ``_share_with_controller``)."""
    shared = getattr(node, "workeroutput", {}).get("chainarb_error_codes")
    if not shared:
        return
    data = json.loads(shared)
    with _lock:
        for c, s, t in data["seen"]:
            _seen.setdefault((c, s), t)
        _state["modules"] |= {Path(m) for m in data["modules"]}
        _state["deselected_modules"] |= {Path(m) for m in data["deselected_modules"]}
        # every worker collects (and deselects) the whole suite: the same count, not a sum
        _state["deselected"] = max(_state["deselected"], data["deselected"])


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    if _share_with_controller(session.config):
        return
    out = os.environ.get("CHAINARB_ERROR_CODES_OUT")
    if out:
        Path(out).write_text(json.dumps(sorted([c, s, t] for (c, s), t in _seen.items()),
                                        indent=1))
    forced = os.environ.get("CHAINARB_ERROR_CODES_CHECK") == "1"
    kind = _run_kind(session)
    seen: dict[tuple[str, int], str] | None = _seen
    if kind is not None and kind in PARTS.values() and not forced:
        seen = _parts(session, kind)  # None until the whole's other parts have run too
    elif not (forced or kind == "whole"):
        return
    if seen is None:
        problems = [p for p in check(_seen) if p.startswith("produced but not documented")]
        summary = f"every code the {kind} part produced is documented (the run that " \
                  "completes the whole checks that every documented code was produced)"
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
