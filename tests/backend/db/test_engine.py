"""Engine behaviour that the service relies on, on both backends."""

from __future__ import annotations

import threading
import time
from datetime import UTC, datetime, timedelta, timezone

import pytest
import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError, StatementError
from sqlmodel import col, select

from backend.db import (
    AnchorBatch,
    AnchorStatus,
    Case,
    Step,
    begin_exclusive,
    make_engine,
    make_session_factory,
    session_scope,
    upgrade_to_head,
)
from tests.support.stored import stored_record

ADDR_A = "0x" + "aa" * 20
ADDR_B = "0x" + "bb" * 20


@pytest.fixture
def factory(db_url: str):
    engine = make_engine(db_url)
    yield make_session_factory(engine)
    engine.dispose()


def _case(case_id: str = "0x" + "01" * 32) -> Case:
    return Case(id=case_id, order_id="1", claimant=ADDR_A, respondent=ADDR_B, stage="FILED",
                state={"stage": "FILED", "amounts": ["1" * 70]})


def _step(case_id: str, seq: int, record_hash: str) -> Step:
    return Step(case_id=case_id, sequence=seq, kind="FileClaim", record=stored_record({"a": 1}),
                signature="0x" + "00" * 65, signer=ADDR_A, record_hash=record_hash,
                prev_hash="0x" + "00" * 32)


def test_round_trip_keeps_utc_and_json(factory) -> None:
    deadline = datetime(2030, 1, 2, 3, 4, 5, 678000, tzinfo=timezone(timedelta(hours=8)))
    with session_scope(factory) as s:
        c = _case()
        c.next_deadline = deadline
        s.add(c)
    with session_scope(factory) as s:
        got = s.get(Case, "0x" + "01" * 32)
        assert got is not None
        assert got.next_deadline == deadline  # same instant
        assert got.next_deadline.tzinfo is not None
        assert got.next_deadline.utcoffset() == timedelta(0)  # normalised to UTC
        assert got.created_at.tzinfo is not None
        assert got.state == {"stage": "FILED", "amounts": ["1" * 70]}


def test_naive_datetime_is_refused(factory) -> None:
    with pytest.raises(StatementError, match="naive datetime"), session_scope(factory) as s:
        c = _case()
        c.next_deadline = datetime(2030, 1, 1)  # naive on purpose
        s.add(c)


def test_deadline_ordering_is_chronological(factory) -> None:
    """The scheduler's query (earliest deadline first) must order by instant on SQLite too."""
    base = datetime(2030, 1, 1, tzinfo=UTC)
    with session_scope(factory) as s:
        for i, delta in enumerate([timedelta(hours=5), timedelta(seconds=1), timedelta(days=1)]):
            c = _case("0x" + f"{i:064x}")
            c.next_deadline = base + delta
            s.add(c)
    with session_scope(factory) as s:
        due = s.exec(select(Case).where(col(Case.next_deadline) <= base + timedelta(hours=6))
                     .order_by(Case.next_deadline)).all()  # type: ignore[arg-type]
        assert [c.id[-1] for c in due] == ["1", "0"]


def test_unique_case_sequence(factory) -> None:
    with session_scope(factory) as s:
        s.add(_case())
        s.flush()
        s.add(_step(_case().id, 0, "0x" + "11" * 32))
    with pytest.raises(IntegrityError), session_scope(factory) as s:
        s.add(_step(_case().id, 0, "0x" + "22" * 32))


def test_foreign_keys_are_enforced(factory) -> None:
    with pytest.raises(IntegrityError), session_scope(factory) as s:
        s.add(_step("0x" + "99" * 32, 0, "0x" + "11" * 32))


def test_status_enum_round_trip(factory) -> None:
    with session_scope(factory) as s:
        s.add(AnchorBatch(root="0x" + "ab" * 32, leaf_count=3))
    with session_scope(factory) as s:
        b = s.exec(select(AnchorBatch)).one()
        assert b.status is AnchorStatus.PENDING or b.status == "pending"  # type: ignore[comparison-overlap]
        raw = s.exec(sa.text("SELECT status FROM anchor_batch")).one()  # type: ignore[call-overload]
        assert raw[0] == "pending"


def test_sqlite_pragmas(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'x' / 'db.sqlite3'}"  # parent dir is created
    engine = make_engine(url)
    with engine.connect() as conn:
        assert conn.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"
        assert conn.exec_driver_sql("PRAGMA foreign_keys").scalar() == 1
        assert conn.exec_driver_sql("PRAGMA synchronous").scalar() == 2  # FULL: power-loss safe
        assert conn.exec_driver_sql("PRAGMA mmap_size").scalar() == 256 * 1024 * 1024


def test_begin_exclusive_serialises_sqlite_writers(tmp_path) -> None:
    """A second BEGIN IMMEDIATE waits for the first to commit (SQLite's claim lock)."""
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade_to_head(url)
    factory = make_session_factory(make_engine(url))
    events: list[str] = []
    first_in = threading.Event()

    def first() -> None:
        with session_scope(factory) as s:
            begin_exclusive(s)
            events.append("A locked")
            first_in.set()
            time.sleep(0.4)
            s.add(_case())
            events.append("A commit")

    t = threading.Thread(target=first)
    t.start()
    assert first_in.wait(60)
    with session_scope(factory) as s:
        begin_exclusive(s)
        events.append("B locked")
        assert s.get(Case, _case().id) is not None  # sees A's committed row
    t.join()
    assert events == ["A locked", "A commit", "B locked"]


def test_begin_exclusive_refuses_an_open_transaction(tmp_path) -> None:
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade_to_head(url)
    factory = make_session_factory(make_engine(url))
    with factory() as s:
        s.exec(select(Case)).all()
        with pytest.raises(RuntimeError, match="before any query"):
            begin_exclusive(s)


def test_unsupported_urls_are_refused() -> None:
    with pytest.raises(ValueError, match="unsupported database"):
        make_engine("mysql://u@h/db")
    with pytest.raises(ValueError, match="psycopg"):
        make_engine("postgresql+psycopg2://u@h/db")


def test_concurrent_read_then_write_commands_queue_on_sqlite(tmp_path) -> None:
    """Eight threads each read a counter and write it + 1: with write_scope none fails and
    none is lost (with plain deferred transactions SQLite raises 'database is locked')."""
    from backend.db import write_scope

    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    upgrade_to_head(url)
    engine = make_engine(url)
    factory = make_session_factory(engine)
    with session_scope(factory) as s:
        s.add(_case())
    errors: list[BaseException] = []

    def bump() -> None:
        try:
            for _ in range(5):
                with write_scope(factory) as s:
                    case = s.get(Case, _case().id)
                    assert case is not None
                    time.sleep(0.002)
                    case.next_sequence += 1
                    s.add(case)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=bump) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert errors == []
    with factory() as s:
        got = s.get(Case, _case().id)
        assert got is not None and got.next_sequence == 40
    engine.dispose()
