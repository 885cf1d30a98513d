"""StepTransactions on a real database: groups share a transaction on both backends, and on
PostgreSQL two processes' groups locking rows in opposite orders do not lose a step.

Two ``StepTransactions`` on two engines stand for two worker processes. The units lock
``account`` rows (``SELECT ... FOR UPDATE``, as a step locks its case row) and write them.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from datetime import UTC, datetime
from typing import Any

import pytest
import sqlalchemy as sa
from sqlalchemy.engine import Engine
from sqlmodel import Session

from backend.db import Account, make_engine, make_session_factory, write_scope
from backend.db.rows import table_of
from backend.services.errors import StaleStep
from backend.services.repository import CaseRepository
from backend.services.transactions import StepTransactions
from tests.support.migrated import migrated

ACCOUNTS = table_of(Account)
A, B = "0x" + "aa" * 20, "0x" + "bb" * 20


@pytest.fixture
def engines(db_url: str) -> Iterator[tuple[Engine, Engine]]:
    """Two engines on one migrated database, with accounts A and B."""
    migrated(db_url)
    first, second = make_engine(db_url), make_engine(db_url)
    with write_scope(make_session_factory(first)) as s:
        for address in (A, B):
            s.add(Account(address=address, created_at=datetime.now(UTC)))
        s.commit()
    try:
        yield first, second
    finally:
        first.dispose()
        second.dispose()


def _lock_and_write(address: str, value: str, *, before_write: Callable[[], None] | None = None,
                    runs: list[str] | None = None) -> Callable[[Session], str]:
    """A unit: lock ``address``'s row, (wait,) set its display name to ``value``."""

    def unit(session: Session) -> str:
        if runs is not None:
            runs.append(value)
        conn = session.connection()
        query = sa.select(ACCOUNTS.c.address).where(ACCOUNTS.c.address == address)
        conn.execute(query.with_for_update() if conn.dialect.name == "postgresql" else query)
        if before_write is not None:
            before_write()
        conn.execute(sa.update(ACCOUNTS).where(ACCOUNTS.c.address == address)
                     .values(display_name=value))
        return value

    return unit


def _names(engine: Engine) -> dict[str, str]:
    with engine.connect() as conn:
        return dict(conn.execute(sa.select(ACCOUNTS.c.address, ACCOUNTS.c.display_name)).all())


def _grouped(tx: StepTransactions[str], pool: ThreadPoolExecutor,
             units: list[Callable[[Session], str]]) -> list[Future[str]]:
    """Submit ``units`` so that they run as one group: a first unit holds the committer
    busy until the others are queued behind it."""
    hold, running = threading.Event(), threading.Event()

    def gate(_session: Session) -> str:
        running.set()
        hold.wait(10)
        return "gate"

    first = pool.submit(tx.commit, gate)
    assert running.wait(10), "the gate did not lead a group"
    deadline = time.monotonic() + 10
    futures = []
    for i, u in enumerate(units):
        futures.append(pool.submit(tx.commit, u))
        while tx.committer.pending < i + 1:
            assert time.monotonic() < deadline, "the units did not queue"
            time.sleep(0.005)
    hold.set()
    assert first.result(10) == "gate"
    return futures


def test_concurrent_units_share_one_transaction(engines: tuple[Engine, Engine]) -> None:
    """Both backends: units queued together commit as one group, each answered."""
    tx: StepTransactions[str] = StepTransactions(CaseRepository(make_session_factory(
        engines[0])))
    with ThreadPoolExecutor(4) as pool:
        futures = _grouped(tx, pool, [_lock_and_write(A, "one"), _lock_and_write(B, "two")])
        assert [f.result(10) for f in futures] == ["one", "two"]
    assert (tx.committer.groups, tx.committer.units) == (2, 3)  # the gate, then both
    assert _names(engines[0]) == {A: "one", B: "two"}


def test_a_stale_unit_in_a_group_leaves_the_others(engines: tuple[Engine, Engine]) -> None:
    """A unit refused inside a group: its writes are undone and it hears its refusal; the
    steps before and after it are stored (those before it run again, in a new
    transaction: no SAVEPOINT per step)."""
    tx: StepTransactions[str] = StepTransactions(CaseRepository(make_session_factory(
        engines[0])))

    def refused(session: Session) -> str:
        _lock_and_write(B, "refused")(session)
        raise StaleStep("taken")

    runs: list[str] = []
    with ThreadPoolExecutor(4) as pool:
        futures = _grouped(tx, pool, [_lock_and_write(A, "before", runs=runs), refused,
                                      _lock_and_write(B, "after", runs=runs)])
        assert futures[0].result(10) == "before"
        with pytest.raises(StaleStep):
            futures[1].result(10)
        assert futures[2].result(10) == "after"
    assert runs == ["before", "before", "after"]
    assert (tx.committer.groups, tx.committer.units) == (2, 4)
    assert _names(engines[0]) == {A: "before", B: "after"}


@pytest.mark.postgres
def test_opposite_lock_orders_in_two_processes_lose_no_step(make_pg_database: Any) -> None:
    """Process 1's group locks A then B, process 2's group B then A: PostgreSQL aborts one
    lock wait as a deadlock; the victim's group runs again without it, and the victim alone
    after its group: every step is stored."""
    url = make_pg_database()
    migrated(url)
    engines = (make_engine(url), make_engine(url))
    try:
        with write_scope(make_session_factory(engines[0])) as s:
            for address in (A, B):
                s.add(Account(address=address, created_at=datetime.now(UTC)))
            s.commit()
        one: StepTransactions[str] = StepTransactions(CaseRepository(make_session_factory(
            engines[0])))
        two: StepTransactions[str] = StepTransactions(CaseRepository(make_session_factory(
            engines[1])))
        both_locked = threading.Barrier(2, timeout=20)
        runs: list[str] = []

        def first_time(value: str) -> Callable[[], None]:
            def wait() -> None:  # a unit that runs again does not meet the other again
                if runs.count(value) == 1:
                    both_locked.wait()
            return wait

        with ThreadPoolExecutor(8) as pool:
            first = _grouped(one, pool, [
                _lock_and_write(A, "1a", before_write=first_time("1a"), runs=runs),
                _lock_and_write(B, "1b", runs=runs)])
            second = _grouped(two, pool, [
                _lock_and_write(B, "2a", before_write=first_time("2a"), runs=runs),
                _lock_and_write(A, "2b", runs=runs)])
            answers = sorted(f.result(30) for f in first + second)
        assert answers == ["1a", "1b", "2a", "2b"]  # every step answered as stored
        # the victim ran twice (in its group, then alone), its group-mate again without it
        victims = {r for r in ("1b", "2b") if runs.count(r) == 2}
        assert len(victims) == 1, runs
        # the victim's group committed last, then the victim alone
        assert _names(engines[0]) == ({A: "2b", B: "2a"} if victims == {"2b"}
                                      else {A: "1a", B: "1b"})
    finally:
        for e in engines:
            e.dispose()


@pytest.mark.postgres
def test_a_lost_connection_fails_its_group_as_an_outage(make_pg_database: Any) -> None:
    """PostgreSQL: the connection dies inside a group (the server ends the backend): every
    request of the group hears the database's error (503 ``database_unavailable`` over
    HTTP, as with a transaction per step), nothing of the group is stored, and the next
    group works on a new connection."""
    url = make_pg_database()
    migrated(url)
    engine = make_engine(url)
    try:
        with write_scope(make_session_factory(engine)) as s:
            for address in (A, B):
                s.add(Account(address=address, created_at=datetime.now(UTC)))
            s.commit()
        tx: StepTransactions[str] = StepTransactions(CaseRepository(make_session_factory(
            engine)))

        def cut(session: Session) -> str:
            session.connection().exec_driver_sql("SELECT pg_terminate_backend(pg_backend_pid())")
            return "never"

        with ThreadPoolExecutor(4) as pool:
            futures = _grouped(tx, pool, [_lock_and_write(A, "lost"), cut,
                                          _lock_and_write(B, "not tried")])
            for f in futures:
                with pytest.raises(sa.exc.OperationalError):
                    f.result(20)
        assert _names(engine) == {A: "", B: ""}
        assert tx.commit(_lock_and_write(B, "next")) == "next"
        assert _names(engine) == {A: "", B: "next"}
    finally:
        engine.dispose()
