"""kill -9 at any point of an append leaves a log that reopens with the root of its rebuild
from the entries, and goes on growing (SQLite and PostgreSQL; real processes, SIGKILL)."""

from __future__ import annotations

import signal
import subprocess
import sys
from pathlib import Path

import pytest
from sqlmodel import col, func, select

from backend.db import Case, Leaf, make_engine, make_session_factory, session_scope
from backend.db.log_models import LogEntry
from backend.log import log_size, open_log, rebuild

PROC = Path(__file__).with_name("log_proc.py")
CASE = "0x" + "c7" * 32
ROOT = Path(__file__).resolve().parents[3]


def _run(url: str, start: int, count: int, *die: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([sys.executable, str(PROC), url, CASE, str(start), str(count), *die],
                          capture_output=True, text=True, cwd=ROOT, timeout=120)


def _state(url: str) -> tuple[int, int, int, bytes]:
    engine = make_engine(url)
    try:
        with make_session_factory(engine)() as s:
            report = rebuild(s)
            assert report.consistent, report.problems
            leaves = s.exec(select(func.count()).select_from(Leaf)).one()
            entries = s.exec(select(func.count()).select_from(LogEntry)).one()
            assert open_log(s).root() == report.root
            assert log_size(s) == report.size
            # every anchoring leaf has its entry and no entry lacks its leaf
            refs = sorted(s.exec(select(LogEntry.ref_id)).all())  # type: ignore[type-var]
            leaf_refs = sorted(s.exec(select(Leaf.ref_id).order_by(col(Leaf.id))).all())
            assert refs == leaf_refs
            return leaves, entries, report.size, report.root
    finally:
        engine.dispose()


@pytest.mark.parametrize("point", ["counted", "entry", "nodes", "committed"])
def test_kill_9_at_each_point_of_an_append(clean_db_url: str, point: str) -> None:
    engine = make_engine(clean_db_url)
    with session_scope(make_session_factory(engine)) as s:
        s.add(Case(id=CASE, order_id="7", claimant="0x" + "aa" * 20,
                   respondent="0x" + "bb" * 20, stage="FILED"))
    engine.dispose()
    done = _run(clean_db_url, 0, 9, "--die-at", point, "--die-on", "6")
    assert done.returncode == -signal.SIGKILL, done.stderr
    printed = [int(x) for x in done.stdout.split()]
    committed = 6 if point == "committed" else 5  # the 6th append died before its commit
    assert printed == list(range(committed - (point == "committed")))
    leaves, entries, size, _root = _state(clean_db_url)
    assert leaves == entries == size == committed
    again = _run(clean_db_url, 100, 4)  # the log reopens and goes on
    assert again.returncode == 0, again.stderr
    leaves, entries, size, _root = _state(clean_db_url)
    assert leaves == entries == size == committed + 4


@pytest.mark.parametrize("point", ["counted", "entry", "nodes", "committed"])
def test_kill_9_at_each_point_of_a_deferred_append(clean_db_url: str, point: str) -> None:
    """A unit's queued appends (log rule 8: two entries, appended together before its
    commit) die with it at every point, both or neither."""
    engine = make_engine(clean_db_url)
    with session_scope(make_session_factory(engine)) as s:
        s.add(Case(id=CASE, order_id="7", claimant="0x" + "aa" * 20,
                   respondent="0x" + "bb" * 20, stage="FILED"))
    engine.dispose()
    done = _run(clean_db_url, 0, 5, "--deferred", "--die-at", point, "--die-on", "3")
    assert done.returncode == -signal.SIGKILL, done.stderr
    printed = [int(x) for x in done.stdout.split()]
    units = 3 if point == "committed" else 2  # the 3rd unit died before its commit
    assert printed == list(range(2 * (units - (point == "committed"))))
    leaves, entries, size, _root = _state(clean_db_url)
    assert leaves == entries == size == 2 * units
    again = _run(clean_db_url, 100, 2, "--deferred")  # the log reopens and goes on
    assert again.returncode == 0, again.stderr
    leaves, entries, size, _root = _state(clean_db_url)
    assert leaves == entries == size == 2 * units + 4


@pytest.mark.parametrize("deferred", [False, True], ids=["each", "deferred"])
def test_three_processes_append_at_once(clean_db_url: str, deferred: bool) -> None:
    """Writers in separate processes (separate connections, PostgreSQL row lock or SQLite
    write lock): every append once, indices contiguous, the tree equals its rebuild (each
    append on its own, or a unit's two queued to its end: log rule 8)."""
    engine = make_engine(clean_db_url)
    with session_scope(make_session_factory(engine)) as s:
        s.add(Case(id=CASE, order_id="7", claimant="0x" + "aa" * 20,
                   respondent="0x" + "bb" * 20, stage="FILED"))
    engine.dispose()
    extra = ["--deferred"] if deferred else []
    units = 8 if deferred else 15
    n = 16 if deferred else 15
    procs = [subprocess.Popen([sys.executable, str(PROC), clean_db_url, CASE, str(1000 * k),
                               str(units), *extra], stdout=subprocess.PIPE,
                              stderr=subprocess.PIPE, text=True, cwd=ROOT) for k in range(3)]
    for p in procs:
        out, err = p.communicate(timeout=120)
        assert p.returncode == 0, err
        assert len(out.split()) == n
    leaves, entries, size, _root = _state(clean_db_url)
    assert leaves == entries == size == 3 * n
    engine = make_engine(clean_db_url)
    with make_session_factory(engine)() as s:
        assert sorted(s.exec(select(LogEntry.idx)).all()) == list(range(3 * n))
        if deferred:  # a unit's two entries are neighbours, in the order it queued them
            refs = list(s.exec(select(LogEntry.ref_id).order_by(col(LogEntry.idx))).all())
            pairs = zip(refs[::2], refs[1::2], strict=True)
            assert all(a is not None and b == a + 1 and a % 2 == 0 for a, b in pairs), refs
    engine.dispose()
