"""The writer's own connection on SQLite (``CaseRepository.writer_session``): every write
unit of the process runs on one connection, so its page cache is not dropped by the
process's own reads; what another process (another engine) wrote is still seen, a broken
or left-open connection never carries anything into the next unit, and on PostgreSQL the
units take pooled connections as before."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import Session

from backend.db import Account, make_engine, make_session_factory
from backend.db.rows import table_of
from backend.services.repository import CaseRepository
from tests.support.migrated import migrated

ACCOUNTS = table_of(Account)


def _account(address: str) -> Account:
    return Account(address=address, created_at=datetime.now(UTC))


def _addresses(session: Session) -> set[str]:
    return set(session.execute(sa.select(ACCOUNTS.c.address)).scalars())


def _driver_connection(session: Session) -> object:
    return session.connection().connection.dbapi_connection


@pytest.fixture
def sqlite_repo(tmp_path: Path) -> CaseRepository:
    url = f"sqlite:///{tmp_path / 'w.sqlite3'}"
    migrated(url)
    return CaseRepository(make_session_factory(make_engine(url)))


def test_write_units_share_one_connection_and_see_other_processes(
        sqlite_repo: CaseRepository, tmp_path: Path) -> None:
    seen = []
    with sqlite_repo.write_session() as s:
        seen.append(_driver_connection(s))
        s.add(_account("0x" + "01" * 20))
        s.commit()
    # a read holds a connection from the pool meanwhile (the pool's only idle one would
    # have been the first unit's): the next unit still gets the writer's
    with sqlite_repo.sessions() as reader:
        assert _driver_connection(reader) is not seen[0]
        with sqlite_repo.write_session() as s:
            seen.append(_driver_connection(s))
            s.add(_account("0x" + "02" * 20))
            s.commit()
        assert len(_addresses(reader)) == 2
    assert seen[0] is seen[1]
    # another process's engine writes; the writer's next unit reads it (no stale cache)
    other = make_engine(f"sqlite:///{tmp_path / 'w.sqlite3'}")
    with other.begin() as conn:
        conn.execute(sa.insert(ACCOUNTS).values(address="0x" + "03" * 20,
                                                created_at=datetime.now(UTC)))
    with sqlite_repo.write_session() as s:
        assert _driver_connection(s) is seen[0]
        assert "0x" + "03" * 20 in _addresses(s)
    other.dispose()
    sqlite_repo.close()
    assert sqlite_repo._write_conn is None


def test_uncommitted_work_never_reaches_the_next_unit(sqlite_repo: CaseRepository) -> None:
    with sqlite_repo.write_session() as s:
        s.add(_account("0x" + "0a" * 20))  # never committed: rolled back at close
        s.flush()
    with sqlite_repo.writer():  # a transaction left open on the connection itself
        conn = sqlite_repo._write_conn
        assert conn is not None
        conn.execute(sa.insert(ACCOUNTS).values(address="0x" + "0b" * 20,
                                                created_at=datetime.now(UTC)))
        assert conn.in_transaction()
    with sqlite_repo.write_session() as s:
        s.add(_account("0x" + "0c" * 20))
        s.commit()
    with sqlite_repo.sessions() as reader:
        assert _addresses(reader) == {"0x" + "0c" * 20}


def test_a_broken_writer_connection_is_replaced(sqlite_repo: CaseRepository) -> None:
    with sqlite_repo.write_session() as s:
        first = _driver_connection(s)
    assert sqlite_repo._write_conn is not None
    sqlite_repo._write_conn.invalidate()  # as SQLAlchemy does on a disconnect error
    with sqlite_repo.write_session() as s:
        assert _driver_connection(s) is not first
        s.add(_account("0x" + "0d" * 20))
        s.commit()
    with sqlite_repo.sessions() as reader:
        assert _addresses(reader) == {"0x" + "0d" * 20}


def test_only_the_writer_holder_gets_the_connection(sqlite_repo: CaseRepository) -> None:
    with pytest.raises(AssertionError, match="holder of writer"):
        sqlite_repo.writer_session()


@pytest.mark.postgres
def test_postgres_units_take_pooled_connections(make_pg_database: Callable[[], str]) -> None:
    url = make_pg_database()
    migrated(url)
    repo = CaseRepository(make_session_factory(make_engine(url)))
    assert repo.writer_session().bind is repo.sessions.kw["bind"]  # no lock, no own connection
    with repo.write_session() as s:
        s.add(_account("0x" + "0e" * 20))
        s.commit()
    with repo.sessions() as reader:
        assert _addresses(reader) == {"0x" + "0e" * 20}
    assert repo._write_conn is None
