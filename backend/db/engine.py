"""Engines and sessions for SQLite (the default) and PostgreSQL (psycopg 3).

Why the SQLite setup looks like this:

* WAL lets readers run while one writer writes; `busy_timeout` makes a second writer wait
  instead of failing at once; `foreign_keys` is off by default in SQLite and we want it on.
* pysqlite's own transaction handling starts transactions lazily and as DEFERRED, so two
  processes that both read and then write can deadlock ("database is locked" on the
  upgrade of a read lock). We turn it off (`isolation_level=None`) and emit `BEGIN`
  ourselves, the recipe from SQLAlchemy's SQLite dialect documentation. A unit of work that
  must not interleave with another writer asks for `BEGIN IMMEDIATE` with
  `begin_exclusive(session)`: the write lock is taken first, so the read-then-write inside
  is serialised across processes. That is SQLite's stand-in for PostgreSQL's row locks.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

__all__ = [
    "SQLITE_BUSY_TIMEOUT_MS",
    "begin_exclusive",
    "is_postgres",
    "make_engine",
    "make_session_factory",
    "session_scope",
    "write_scope",
]

SQLITE_BUSY_TIMEOUT_MS = 30_000
_BEGIN_OPTION = "chainarb_sqlite_begin"


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10) -> Engine:
    """An engine for `url` (sqlite:///... or postgresql+psycopg://...).

    For a SQLite file the parent directory is created. The engine is cheap to keep and
    expensive to rebuild: build one per process, in the composition root.
    """
    parsed = make_url(url)
    if parsed.get_backend_name() == "sqlite":
        database = parsed.database
        if database and database != ":memory:" and not database.startswith("file:"):
            Path(database).expanduser().parent.mkdir(parents=True, exist_ok=True)
        engine = sa.create_engine(
            url,
            echo=echo,
            connect_args={"check_same_thread": False, "timeout": SQLITE_BUSY_TIMEOUT_MS / 1000},
        )
        event.listen(engine, "connect", _sqlite_on_connect)
        event.listen(engine, "begin", _sqlite_on_begin)
        return engine
    if parsed.get_backend_name() == "postgresql":
        if parsed.get_driver_name() != "psycopg":
            raise ValueError(
                f"PostgreSQL needs the psycopg (3) driver: use postgresql+psycopg://..., "
                f"found driver {parsed.get_driver_name()!r}"
            )
        # pool_size + max_overflow = 30 per process: uvicorn's thread pool runs up to 40 sync
        # handlers, PostgreSQL allows 100 connections by default.
        return sa.create_engine(
            url, echo=echo, pool_pre_ping=True, pool_size=pool_size, max_overflow=2 * pool_size
        )
    raise ValueError(
        f"unsupported database {parsed.get_backend_name()!r}: use sqlite or postgresql"
    )


def _sqlite_on_connect(dbapi_connection: sqlite3.Connection, _record: Any) -> None:
    dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, see module doc
    cursor = dbapi_connection.cursor()
    try:
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: a committed step survives power loss too (NORMAL loses the last commits).
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute(f"PRAGMA busy_timeout={SQLITE_BUSY_TIMEOUT_MS}")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: sa.Connection) -> None:
    mode = connection.get_execution_options().get(_BEGIN_OPTION, "")
    connection.exec_driver_sql(f"BEGIN {mode}".strip())


def is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) \
        else session_or_engine
    return bind.dialect.name == "postgresql"


def begin_exclusive(session: Session) -> None:
    """Start `session`'s transaction holding SQLite's write lock (no-op on PostgreSQL).

    Call it first in a unit of work, before any query. On PostgreSQL use row locks
    (`SELECT ... FOR UPDATE SKIP LOCKED`) instead; they let other workers proceed.
    """
    if is_postgres(session):
        return
    if session.in_transaction():
        raise RuntimeError(
            "begin_exclusive() must open the transaction: call it before any query "
            "in this session (or after commit/rollback)"
        )
    session.connection(execution_options={_BEGIN_OPTION: "IMMEDIATE"})


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (values are plain data)."""
    return sessionmaker(bind=engine, class_=Session, expire_on_commit=False)


@contextmanager
def session_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """One unit of work: commit on success, roll back on any exception."""
    session = factory()
    try:
        yield session
        session.commit()
    except BaseException:
        session.rollback()
        raise
    finally:
        session.close()


@contextmanager
def write_scope(factory: sessionmaker[Session]) -> Iterator[Session]:
    """A unit of work that reads then writes: `session_scope` + `begin_exclusive`.

    Use it for every command that changes state. On SQLite it takes the write lock first,
    so concurrent commands queue (busy_timeout) instead of failing with "database is
    locked" when a deferred read transaction tries to become a writer. On PostgreSQL it is
    `session_scope`: use the optimistic `next_sequence` update or row locks there.
    """
    with session_scope(factory) as session:
        begin_exclusive(session)
        yield session
