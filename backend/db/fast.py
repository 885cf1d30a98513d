"""Statements of the write path compiled once per dialect and run on the DBAPI cursor.

Why (issue 10): a signed offer runs about a dozen statements in its locked transaction.
Through ``Connection.execute`` each costs 30-90 µs of Python around the driver's own work
(the cache key of the statement, an execution context, parameter distillation, a
``CursorResult``), about twice what the driver itself takes. Here a statement is compiled
once per dialect (and set of columns) and each run only applies the compiled statement's
own bind processors (so every value reaches the driver exactly as SQLAlchemy would send
it: JSON text, UTC datetimes, psycopg's JSON wrapper) and runs it on the driver's cursor
as ``Connection.execute`` would (``run_on_cursor``): the engine's
``before/after_cursor_execute`` listeners (the write guard, the fault tests' kill points,
statement counters) and ``echo`` see every statement, a listener's exception reaches the
caller as it is, and a driver error is wrapped and a lost connection invalidated by
SQLAlchemy's own handler, exactly as on the general path. Rows read back go through the
columns' result processors. tests/backend/db/test_fast.py checks rows and values against
the general path on both databases.
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Hashable, Mapping, Sequence
from typing import Any

import sqlalchemy as sa
from sqlalchemy.engine import Dialect
from sqlalchemy.engine.interfaces import DBAPICursor
from sqlalchemy.sql.compiler import SQLCompiler

__all__ = ["Prepared", "prepare"]

_Proc = Callable[[Any], Any] | None
#: A statement's parameters as the DB-API driver takes them: positional (qmark) or named
#: (pyformat); their values are what the bind processors made (PEP 249 types nothing).
DriverParams = tuple[Any, ...] | dict[str, Any]


class Prepared:
    """One statement compiled for one dialect: its SQL text, its bind names in the
    driver's order with their processors, and (a SELECT or RETURNING) the result
    processors of its columns."""

    __slots__ = ("binds", "lastrowid", "named", "pk", "results", "returning", "sql")

    def __init__(self, statement: sa.ClauseElement, dialect: Dialect,
                 column_keys: Sequence[str] | None = None) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=list(column_keys)
                                     if column_keys is not None else None)
        assert isinstance(compiled, SQLCompiler)
        if compiled.literal_execute_params or compiled.post_compile_params:
            raise ValueError("a statement with expanding or literal-execute parameters "
                             "has no fixed SQL text")
        if compiled.insert_prefetch or compiled.update_prefetch:
            raise ValueError("a column default computed in Python: use Connection.execute")
        self.sql: str = compiled.string
        procs: Mapping[str, Any] = compiled._bind_processors
        escaped: Mapping[str, str] = compiled.escaped_bind_names or {}
        order = compiled.positiontup if compiled.positional else list(compiled.bind_names
                                                                        .values())
        assert order is not None
        self.named = not compiled.positional
        # (name in the caller's params, name the driver sees, processor)
        # (a positional name may repeat: each place gets its value)
        self.binds: tuple[tuple[str, str, _Proc], ...] = tuple(
            (name, escaped.get(name, name), procs.get(name))
            for name in (dict.fromkeys(order) if self.named else order))
        columns = compiled._result_columns
        self.results: tuple[_Proc, ...] = tuple(
            c[3]._cached_result_processor(dialect, None) for c in columns)
        self.returning = bool(compiled.effective_returning)
        self.lastrowid = bool(compiled.postfetch_lastrowid)
        self.pk: str | None = None

    def params(self, values: Mapping[str, object]) -> DriverParams:
        """The driver's parameters: a tuple (qmark) or a dict (pyformat), processed."""
        if self.named:
            return {driver: (value if proc is None else proc(value))
                    for name, driver, proc in self.binds
                    for value in (values[name],)}
        return tuple(values[name] if proc is None else proc(values[name])
                     for name, _driver, proc in self.binds)

    def run(self, conn: sa.Connection, values: Mapping[str, object]) -> DBAPICursor:
        """Execute on ``conn`` (in its transaction); returns the open DBAPI cursor."""
        try:
            params = self.params(values)
        except BaseException as e:  # a bind processor refused a value: as the general path
            conn._handle_dbapi_exception(e, self.sql, dict(values), None, None)
        return run_on_cursor(conn, self.sql, params)

    def execute(self, conn: sa.Connection, values: Mapping[str, object]) -> None:
        """Execute a statement that returns no rows."""
        self.run(conn, values).close()

    def first(self, conn: sa.Connection, values: Mapping[str, object]) -> tuple[Any, ...] | None:
        """The first row, its values processed as the general path's, or None."""
        cursor = self.run(conn, values)
        try:
            row = cursor.fetchone()
        finally:
            cursor.close()
        if row is None:
            return None
        if not self.results:  # text SQL: the driver's values, as the general path's
            return tuple(row)
        return tuple(v if proc is None or v is None else proc(v)
                     for v, proc in zip(row, self.results, strict=True))

    def insert(self, conn: sa.Connection, values: Mapping[str, object]) -> Any:
        """Run an INSERT of one row; its primary key (``inserted_primary_key[0]``): the
        given value, else the RETURNING row's, else the driver's ``lastrowid``."""
        cursor = self.run(conn, values)
        try:
            if self.pk is not None and values.get(self.pk) is not None:
                return values[self.pk]
            if self.returning:
                row = cursor.fetchone()
                assert row is not None  # an INSERT ... RETURNING that ran returns its row
                return row[0]
            return cursor.lastrowid if self.lastrowid else None
        finally:
            cursor.close()


def run_on_cursor(conn: sa.Connection, sql: str, params: DriverParams) -> DBAPICursor:
    """Run ``sql`` on a new cursor of ``conn``'s driver connection as
    ``Connection.execute`` runs a compiled statement: the cursor listeners first (an
    exception of theirs reaches the caller as it is), ``echo``, the dialect's
    ``do_execute`` (and its listeners), a driver error wrapped (``IntegrityError``, ...)
    and a lost connection invalidated by SQLAlchemy's own handler. Returns the cursor."""
    cursor = conn.connection.dbapi_connection.cursor()  # type: ignore[union-attr]
    events = conn._has_events or conn.engine._has_events
    if events:
        try:
            for fn in conn.dispatch.before_cursor_execute:
                sql, params = fn(conn, cursor, sql, params, None, False)
        except BaseException:
            cursor.close()
            raise
    if conn._echo:
        conn._log_info(sql)
        conn._log_info("[raw sql] %r", params)
    try:
        for fn in (() if not conn.dialect._has_events
                   else conn.dialect.dispatch.do_execute):
            if fn(cursor, sql, params, None):
                break
        else:
            conn.dialect.do_execute(cursor, sql, params, None)
    except BaseException as e:
        conn._handle_dbapi_exception(e, sql, params, cursor, None)
    if events:
        conn.dispatch.after_cursor_execute(conn, cursor, sql, params, None, False)
    return cursor


_lock = threading.Lock()
_CACHE = "chainarb_fast_statements"  # on the dialect: its engine's compiled statements


def prepare(key: Hashable, dialect: Dialect, build: Callable[[], sa.ClauseElement],
            column_keys: Sequence[str] | None = None) -> Prepared:
    """The statement ``build()`` compiled for ``dialect`` (and ``column_keys``): once per
    (key, columns) and dialect (kept on the dialect object, so an engine's settings such
    as its JSON serializer are the ones compiled in, and dropped with its engine)."""
    cache: dict[Any, Prepared] | None = dialect.__dict__.get(_CACHE)
    if cache is None:
        with _lock:
            cache = dialect.__dict__.setdefault(_CACHE, {})
    full = (key, tuple(column_keys) if column_keys is not None else None)
    found = cache.get(full)
    if found is None:
        built = Prepared(build(), dialect, column_keys)
        with _lock:
            found = cache.setdefault(full, built)
    return found
