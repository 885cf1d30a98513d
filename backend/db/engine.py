"""Engines and sessions for SQLite (the default) and PostgreSQL (psycopg 3).

Why the SQLite setup looks like this:

* WAL lets readers run while one writer writes; `busy_timeout` makes a second writer wait
  instead of failing at once; `foreign_keys` is off by default in SQLite and we want it on.
* `mmap_size` (256 MiB): SQLite drops a connection's page cache whenever another
  connection wrote since its last transaction, so a reader after each step, and with
  several worker processes each writer after another's group, reads its pages again;
  memory-mapped, those reads are the OS page cache's pages, not copies (issue 10: with
  two workers 2.63/2.87 → 2.36/2.44 ms of server CPU per offer, bench/README.md,
  fourteenth round).
* pysqlite's own transaction handling starts transactions lazily and as DEFERRED, so two
  processes that both read and then write can deadlock ("database is locked" on the
  upgrade of a read lock). We turn it off (`isolation_level=None`) and emit `BEGIN`
  ourselves, the recipe from SQLAlchemy's SQLite dialect documentation. A unit of work that
  must not interleave with another writer asks for `BEGIN IMMEDIATE` with
  `begin_exclusive(session)`: the write lock is taken first, so the read-then-write inside
  is serialised across processes. That is SQLite's stand-in for PostgreSQL's row locks.

The write guard (docs/persistence.md, "One write discipline"): every engine made here
watches each INSERT/UPDATE/DELETE it sends. A write is in discipline when its transaction
was opened by `begin_exclusive` (`write_scope`): `BEGIN IMMEDIATE` on SQLite, the marked
unit of work on PostgreSQL (row locks inside). The `begin` event records that on the
connection (`connection.info`), per transaction. A write from the product's own code
(`backend/`, `evidence/`) in any other transaction is an `UnguardedWrite`: raised when
`CHAINARB_WRITE_GUARD=raise` (the test suite sets it), logged with its stack otherwise, so
a deferred read-then-write (SQLite's "database is locked") cannot come back unnoticed.

PostgreSQL's round trips (issue 10): each statement waits for the server, and a request's
own queries were wrapped in three more (the pool's ping at checkout, psycopg's `BEGIN`,
the pool's `ROLLBACK` on return: a case view was three round trips for its one SELECT).
Now:

* No ping per checkout. A pooled connection is pinged (as `pool_pre_ping` did, a failed
  ping invalidating the pool) only when its socket is readable at checkout or it sat
  unused longer than `ping_after_idle`. An idle connection's server says nothing unasked:
  data or end-of-file waiting is, in practice, the server's goodbye (a restart, a crash,
  `pg_terminate_backend`, an idle timeout), which the kernel delivers at once; `poll()`
  with no timeout sees it without a round trip. What it cannot see (a peer gone silently,
  a firewall that dropped the connection) is what the idle ping is for; a connection that
  dies while checked out fails its statement as before (503 `database_unavailable`, and
  SQLAlchemy invalidates the pool).
* A transaction its caller marks a plain read (`PLAIN_READ`, `read_sessions`: the case
  view's) starts in psycopg's autocommit mode and stays there while its statements are
  plain reads (`SELECT` without `FOR UPDATE/SHARE`, `INTO`, advisory locks,
  `set_config`, sequences): no `BEGIN`, and nothing to roll back on return, so a case
  view is its one SELECT. Its first other statement (a write, a lock, DDL, a
  `SAVEPOINT`) switches the connection back to transactions before it is sent, so that
  statement and every later one run in one transaction as before. Under READ COMMITTED
  (the service never asks for another level) each statement sees its own snapshot
  either way, so reads answer the same; only the tables' `ACCESS SHARE` locks are
  released after each read instead of at the end. A connection given an
  `isolation_level` by its caller is left alone; every other transaction (write units,
  unmarked reads) begins with autocommit off, whatever the connection's last user did.
  The write guard judges every statement as before. (Every unmarked read in autocommit
  too was tried, commit 5423892, and taken out again when signed offers over HTTP at 50
  clients had a worse p99 in 4 runs of 6 on a shared machine; docs/persistence.md, "Plain
  reads", says what was measured since.)
* What autocommit changes for the writes on the same pool (docs/persistence.md, "Plain
  reads"): psycopg prepares a statement on its connection after 5 runs and forgets every
  prepared statement of the connection when the server answers `ROLLBACK` (then sends
  `DEALLOCATE ALL`). A read's `ROLLBACK` used to wipe them; without it the write path's
  statements stay prepared (server-side plans reused, generic after 5 custom ones):
  measured, the server's CPU per offer goes down, not up.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.util
import logging
import os
import re
import select
import sqlite3
import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from . import fast
from .fast import run_on_cursor

__all__ = [
    "PING_AFTER_IDLE_S",
    "PLAIN_READ",
    "SQLITE_BUSY_TIMEOUT_MS",
    "WRITE_GUARD_ENV",
    "WRITE_UNIT",
    "UnguardedWrite",
    "begin_exclusive",
    "forget_write_guard_violations",
    "is_postgres",
    "make_engine",
    "make_session_factory",
    "plain_read_engine",
    "read_sessions",
    "rows_changed",
    "session_scope",
    "write_guard_violations",
    "write_scope",
]

log = logging.getLogger(__name__)

SQLITE_BUSY_TIMEOUT_MS = 30_000
SQLITE_MMAP_BYTES = 256 * 1024 * 1024  # pages read through a memory map (module doc)
PING_AFTER_IDLE_S = 60.0  # PostgreSQL: a pooled connection unused this long is pinged
_BEGIN_OPTION = "chainarb_sqlite_begin"  # "IMMEDIATE": a write unit (both backends)
WRITE_UNIT = {_BEGIN_OPTION: "IMMEDIATE"}  # Connection.execution_options(**WRITE_UNIT)
_READ_OPTION = "chainarb_plain_read"  # True: a plain read (PostgreSQL: in autocommit)
PLAIN_READ = {_READ_OPTION: True}  # Engine/Connection.execution_options(**PLAIN_READ)
_WRITE_TX = "chainarb_write_tx"  # connection.info: this transaction is a write unit
WRITE_GUARD_ENV = "CHAINARB_WRITE_GUARD"  # raise | log (default) | off
# a write, or a data-modifying CTE (PostgreSQL: the log's append, a step with its block)
_WRITE_SQL = re.compile(
    r"^\s*(?:INSERT|UPDATE|DELETE|REPLACE)\b"
    r"|^\s*WITH\b.*?(?:\bINSERT\s+INTO\b|\bDELETE\s+FROM\b|\bUPDATE\s+\S+\s+SET\b)",
    re.IGNORECASE | re.DOTALL)
_PRODUCT_DIRS = tuple(
    str(Path(__file__).resolve().parents[2] / name) + os.sep for name in ("backend", "evidence"))
# frames skipped when looking for the code that wrote: the ORM, the standard library
# (contextlib around write_scope), Alembic's runtime (a migration's own file decides)
_LIBRARY_DIRS = (
    *(str(Path(spec.origin).resolve().parent) + os.sep
      for spec in (importlib.util.find_spec(n) for n in ("sqlalchemy", "sqlmodel", "alembic"))
      if spec is not None and spec.origin is not None),
    str(Path(contextlib.__file__).resolve().parent) + os.sep,
)
# this module and backend.db.fast run statements for the code that wrote: skipped too
_RUNNERS = frozenset({__file__, fast.__file__})
_violations: list[str] = []
_violations_lock = threading.Lock()


class UnguardedWrite(RuntimeError):  # noqa: N818 - names the breach, as the service's refusals
    """A write of the product's code outside `write_scope`/`begin_exclusive`.

    A programming error, never a user's: the unit of work must take the write lock (SQLite)
    or be marked a write unit (PostgreSQL) before its first query.
    """


def write_guard_violations() -> list[str]:
    """Every unguarded write seen in this process (for the test suite's check)."""
    with _violations_lock:
        return list(_violations)


def forget_write_guard_violations(since: int) -> None:
    """Drop the violations recorded after the first ``since`` (a test that provoked one)."""
    with _violations_lock:
        del _violations[since:]


def make_engine(url: str, *, echo: bool = False, pool_size: int = 10,
                write_guard: str | None = None,
                ping_after_idle: float = PING_AFTER_IDLE_S) -> Engine:
    """An engine for `url` (sqlite:///... or postgresql+psycopg://...).

    For a SQLite file the parent directory is created. The engine is cheap to keep and
    expensive to rebuild: build one per process, in the composition root.
    `write_guard`: "raise", "log" or "off" (default: `CHAINARB_WRITE_GUARD`, else "log").
    `ping_after_idle` (PostgreSQL): seconds a pooled connection may sit unused before its
    next checkout pings it (see "PostgreSQL's round trips" in the module's doc).
    """
    engine = _make_engine(url, echo=echo, pool_size=pool_size, ping_after_idle=ping_after_idle)
    mode = write_guard or os.environ.get(WRITE_GUARD_ENV, "").strip().lower() or "log"
    if mode not in ("raise", "log", "off"):
        raise ValueError(f"{WRITE_GUARD_ENV}: expected raise, log or off, found {mode!r}")
    event.listen(engine, "begin", _mark_write_unit)
    if mode != "off":
        event.listen(engine, "before_cursor_execute", _guard(mode == "raise"))
    return engine


def _make_engine(url: str, *, echo: bool, pool_size: int, ping_after_idle: float) -> Engine:
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
        engine = sa.create_engine(
            url, echo=echo, pool_size=pool_size, max_overflow=2 * pool_size
        )
        event.listen(engine, "checkin", _pg_on_checkin)
        event.listen(engine, "checkout", _pg_checkout(engine.dialect, ping_after_idle))
        event.listen(engine, "begin", _pg_on_begin)
        event.listen(engine, "before_cursor_execute", _pg_before_cursor_execute)
        return engine
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
        cursor.execute(f"PRAGMA mmap_size={SQLITE_MMAP_BYTES}")
    finally:
        cursor.close()


def _sqlite_on_begin(connection: sa.Connection) -> None:
    """BEGIN [IMMEDIATE] on the driver's cursor (``backend.db.fast.run_on_cursor``:
    listeners and error handling as ``exec_driver_sql``, without its execution context
    and result: ~0.1 ms of a signed step, issue 10)."""
    mode = connection.get_execution_options().get(_BEGIN_OPTION, "")
    run_on_cursor(connection, f"BEGIN {mode}".strip(), ()).close()


def _mark_write_unit(connection: sa.Connection) -> None:
    """Every transaction starts here: note whether `begin_exclusive` opened it."""
    connection.info[_WRITE_TX] = \
        connection.get_execution_options().get(_BEGIN_OPTION) == "IMMEDIATE"


_IDLE_SINCE = "chainarb_idle_since"  # connection record's info: when it was checked in
_READING = "chainarb_pg_reading"  # connection.info: this transaction is in autocommit
# What may run outside a transaction: a SELECT that takes no lock, creates nothing and
# changes no setting or sequence. Anything else (a false alarm included) ends autocommit.
_PLAIN_SELECT = re.compile(r"\s*SELECT\b", re.IGNORECASE)
_NOT_PLAIN = re.compile(
    r"\bFOR\s+(?:NO\s+KEY\s+|KEY\s+)?(?:UPDATE|SHARE)\b|\bINTO\b|pg_advisory|set_config"
    r"|nextval|setval|\blo_", re.IGNORECASE)


@functools.lru_cache(maxsize=2048)
def _plain_read(statement: str) -> bool:
    """Whether `statement` can run in autocommit with the same effect as in a transaction
    (the service's statements are a few hundred compiled texts: each is judged once)."""
    return _PLAIN_SELECT.match(statement) is not None and _NOT_PLAIN.search(statement) is None


def _pg_on_begin(connection: sa.Connection) -> None:
    """A transaction marked `PLAIN_READ` starts in autocommit, every other one (a write
    unit, an unmarked read) with autocommit off (module doc)."""
    options = connection.get_execution_options()
    if "isolation_level" in options:  # the caller's own choice (AUTOCOMMIT, SERIALIZABLE)
        connection.info[_READING] = False
        return
    reading = options.get(_READ_OPTION) is True and options.get(_BEGIN_OPTION) != "IMMEDIATE"
    driver = connection.connection.dbapi_connection
    if driver is not None and driver.autocommit != reading:
        try:
            driver.autocommit = reading  # idle here: psycopg sends nothing
        except connection.dialect.loaded_dbapi.Error:
            reading = False  # not idle: a broken connection, which its statement reports
    connection.info[_READING] = reading


def _pg_before_cursor_execute(conn: sa.Connection, _cursor: Any, statement: str,
                              _params: Any, _context: Any, _many: bool) -> None:
    """A statement that is not a plain read ends the transaction's autocommit: psycopg
    sends `BEGIN` before it, and it and the rest are one transaction."""
    info = conn.info
    if info.get(_READING) and not _plain_read(statement):
        info[_READING] = False
        driver = conn.connection.dbapi_connection
        assert driver is not None
        with contextlib.suppress(conn.dialect.loaded_dbapi.Error):
            driver.autocommit = False  # (a broken connection: the statement reports it)


def _pg_on_checkin(_driver: Any, record: Any) -> None:
    record.info[_IDLE_SINCE] = time.monotonic()


def _pg_checkout(dialect: sa.Dialect, ping_after_idle: float) -> Any:
    """The pool's checkout check (module doc): a ping only when the socket has something
    to say or the connection sat idle long; a failed ping invalidates the pool, as
    `pool_pre_ping` does, and the pool connects anew."""
    def checkout(driver: Any, record: Any, _proxy: Any) -> None:
        since = record.info.get(_IDLE_SINCE)
        if since is None:
            return  # new: just connected
        if time.monotonic() - since < ping_after_idle and not _readable(driver):
            return
        was = driver.autocommit
        try:
            driver.autocommit = True  # the ping opens no transaction (psycopg's BEGIN)
            dialect.do_ping(driver)
        except dialect.loaded_dbapi.Error as e:
            if dialect.is_disconnect(e, driver, None):
                raise sa.exc.InvalidatePoolError(f"ping at checkout: {e}") from e
            raise
        finally:
            with contextlib.suppress(dialect.loaded_dbapi.Error):
                driver.autocommit = was  # (a broken connection is replaced anyway)

    return checkout


def _readable(driver: Any) -> bool:
    """Whether an idle psycopg connection's socket has data or end-of-file waiting (or is
    closed): without a round trip."""
    if driver.closed:
        return True
    try:
        fd = driver.fileno()
    except Exception:  # psycopg's OperationalError: no socket, not usable
        return True
    poller = select.poll()
    poller.register(fd, select.POLLIN | select.POLLPRI)
    return bool(poller.poll(0))


def _origin() -> str | None:
    """file:line of the product code that issued the statement, or None (tests, tools)."""
    frame: FrameType | None = sys._getframe(2)
    while frame is not None:
        name = frame.f_code.co_filename
        if name not in _RUNNERS and not name.startswith(_LIBRARY_DIRS):
            return f"{name}:{frame.f_lineno}" if name.startswith(_PRODUCT_DIRS) else None
        frame = frame.f_back
    return None


def _guard(strict: bool) -> Any:
    def before_cursor_execute(conn: sa.Connection, _cursor: Any, statement: str,
                              _params: Any, _context: Any, _many: bool) -> None:
        if conn.info.get(_WRITE_TX) or not _WRITE_SQL.match(statement):
            return
        where = _origin()
        if where is None:
            return  # a test seeding rows, a migration tool: not the product's write path
        what = f"{statement.split(None, 3)[:3]} at {where}"
        with _violations_lock:
            _violations.append(what)
        message = (f"write outside write_scope/begin_exclusive: {what}; open the unit of "
                   "work with write_scope(sessions) (docs/persistence.md)")
        if strict:
            raise UnguardedWrite(message)
        log.error(message, stack_info=True)

    return before_cursor_execute


def is_postgres(session_or_engine: Session | Engine) -> bool:
    bind = session_or_engine.get_bind() if isinstance(session_or_engine, Session) \
        else session_or_engine
    return bind.dialect.name == "postgresql"


def begin_exclusive(session: Session) -> None:
    """Start `session`'s transaction as a write unit: holding SQLite's write lock.

    Call it first in a unit of work, before any query (on both backends: the write guard
    checks the same discipline everywhere). On PostgreSQL it takes no lock: use row locks
    (`SELECT ... FOR UPDATE [SKIP LOCKED]`) inside; they let other workers proceed.
    """
    if session.in_transaction():
        raise RuntimeError(
            "begin_exclusive() must open the transaction: call it before any query "
            "in this session (or after commit/rollback)"
        )
    # SQLite: `_sqlite_on_begin` emits BEGIN IMMEDIATE. Both: `_mark_write_unit` notes it.
    session.connection(execution_options={_BEGIN_OPTION: "IMMEDIATE"})


def rows_changed(session: Session, statement: sa.UpdateBase) -> int:
    """Run an UPDATE or DELETE in `session`; how many rows it changed (the compare-and-set
    answer). SQLModel types `execute` as a plain Result; DML answers a CursorResult."""
    result = session.execute(statement)
    assert isinstance(result, sa.CursorResult)
    return result.rowcount


def plain_read_engine(engine: Engine) -> Engine:
    """`engine` for plain reads (`PLAIN_READ`): on PostgreSQL its transactions run in
    autocommit until their first statement that is not a plain read (module doc); on
    SQLite `engine` itself."""
    if engine.dialect.name != "postgresql":
        return engine
    return engine.execution_options(**PLAIN_READ)


def read_sessions(factory: sessionmaker[Session]) -> Callable[[], Session]:
    """Sessions of `factory` on `plain_read_engine`; for a factory bound to no engine, or
    on SQLite, `factory` itself."""
    bind = factory.kw.get("bind")
    if not isinstance(bind, Engine):
        return factory
    plain = plain_read_engine(bind)
    return factory if plain is bind else functools.partial(factory, bind=plain)


def make_session_factory(engine: Engine) -> sessionmaker[Session]:
    """Sessions whose objects stay readable after commit (values are plain data)."""
    return sessionmaker(bind=engine, class_=Session, expire_on_commit=False)


@contextmanager
def session_scope(factory: Callable[[], Session]) -> Iterator[Session]:
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
def write_scope(factory: Callable[[], Session]) -> Iterator[Session]:
    """A unit of work that reads then writes: `session_scope` + `begin_exclusive`.

    Use it for every command that changes state. On SQLite it takes the write lock first,
    so concurrent commands queue (busy_timeout) instead of failing with "database is
    locked" when a deferred read transaction tries to become a writer. On PostgreSQL it is
    `session_scope`: use the optimistic `next_sequence` update or row locks there.
    """
    with session_scope(factory) as session:
        begin_exclusive(session)
        yield session
