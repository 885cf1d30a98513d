"""Fixtures for the backend's tests: databases on SQLite and PostgreSQL.

PostgreSQL: these machines run it at 127.0.0.1:5432 with trust auth (database ``test``).
``pg_url`` creates one fresh database for the test session and drops it afterwards;
``make_pg_database()`` gives more (each dropped at the end). When the server cannot be
reached a test that needs it FAILS, with the message "PostgreSQL not reachable at
127.0.0.1:5432": it is never skipped. ``.ci/run`` sets CHAINARB_REQUIRE_POSTGRES=1 and
starts the cluster first; the message then says that CI requires it.

Override the admin connection with CHAINARB_TEST_POSTGRES_URL
(default ``postgresql+psycopg://postgres@127.0.0.1:5432/test``).

``db_url`` is parametrised over both backends (ids ``sqlite`` and ``postgres``), each a
fresh, migrated database, for tests that must hold on both.
"""

from __future__ import annotations

import os
import secrets
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url

from tests.support.migrated import migrated

PG_ADMIN_URL = os.environ.get(
    "CHAINARB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_PG_START_HINT = (
    "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
)


def _pg_admin_conninfo() -> dict[str, Any]:
    url = make_url(PG_ADMIN_URL)
    return {
        "host": url.host or "127.0.0.1",
        "port": url.port or 5432,
        "user": url.username or "postgres",
        "password": url.password,
        "dbname": url.database or "test",
    }


def _pg_location() -> str:
    info = _pg_admin_conninfo()
    return f"{info['host']}:{info['port']}"


def _pg_admin_execute(sql: str) -> None:
    import psycopg

    info = {k: v for k, v in _pg_admin_conninfo().items() if v is not None}
    with psycopg.connect(**info, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


def _require_postgres() -> None:
    import psycopg

    try:
        _pg_admin_execute("SELECT 1")
    except psycopg.Error as exc:
        required = os.environ.get("CHAINARB_REQUIRE_POSTGRES") == "1"
        why = "CI requires it (CHAINARB_REQUIRE_POSTGRES=1)" if required else \
            "tests that need it fail rather than skip"
        pytest.fail(
            f"PostgreSQL not reachable at {_pg_location()} ({why}): "
            f"{str(exc).strip().splitlines()[0] if str(exc).strip() else exc!r}; {_PG_START_HINT}",
            pytrace=False,
        )


@pytest.fixture(scope="session")
def make_pg_database() -> Iterator[Callable[[], str]]:
    """A factory of fresh, empty PostgreSQL databases for this test session.

    One real database is created per session (CREATE/DROP DATABASE cost ~0.5 s each); every
    call returns a URL to a new, empty *schema* in it, selected through the connection's
    ``search_path``, which the service, SQLAlchemy's inspector and Alembic all follow. The
    database is dropped at the end of the session.
    """
    created: list[str] = []
    schemas = 0

    def make() -> str:
        nonlocal schemas
        _require_postgres()
        if not created:
            name = f"chainarb_t_{os.getpid()}_{secrets.token_hex(4)}"
            _pg_admin_execute(f'CREATE DATABASE "{name}"')
            created.append(name)
        schemas += 1
        schema = f"t{schemas}"
        url = make_url(PG_ADMIN_URL).set(database=created[0])
        _pg_admin_execute_in(url, f'CREATE SCHEMA "{schema}"')
        return url.update_query_dict({"options": f"-csearch_path={schema}"}).render_as_string(
            hide_password=False
        )

    yield make
    for name in created:
        try:
            _pg_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception as exc:  # keep going: report, do not hide the test results
            print(f"warning: could not drop test database {name}: {exc}")


def _pg_admin_execute_in(url: object, sql: str) -> None:
    import psycopg

    u = make_url(str(url)) if not hasattr(url, "database") else url
    with psycopg.connect(host=u.host, port=u.port, user=u.username, password=u.password,  # type: ignore[attr-defined]
                         dbname=u.database, autocommit=True, connect_timeout=5) as conn:
        conn.execute(sql)


@pytest.fixture(scope="session")
def pg_url(make_pg_database: Callable[[], str]) -> str:
    """One fresh PostgreSQL database for the whole test session (empty, not migrated)."""
    return make_pg_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file (not migrated)."""
    return f"sqlite:///{tmp_path / 'chainarb.sqlite3'}"


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, make_pg_database: Callable[[], str]
) -> str:
    """A fresh database migrated to head, on each backend in turn."""

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'chainarb.sqlite3'}"
    else:
        url = make_pg_database()
    migrated(url)
    return url


@pytest.fixture(scope="session")
def _migrated_urls(tmp_path_factory: pytest.TempPathFactory,
                   make_pg_database: Callable[[], str]) -> dict[str, str]:
    return {}


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def clean_db_url(request: pytest.FixtureRequest, _migrated_urls: dict[str, str],
                 tmp_path_factory: pytest.TempPathFactory,
                 make_pg_database: Callable[[], str]) -> str:
    """Like ``db_url`` but faster: one migrated database per backend for the session,
    emptied (all rows deleted) before each test. Use it where the test does
    not change the schema."""

    backend = request.param
    if backend not in _migrated_urls:
        if backend == "sqlite":
            url = f"sqlite:///{tmp_path_factory.mktemp('db') / 'chainarb.sqlite3'}"
        else:
            url = make_pg_database()
        migrated(url)
        _migrated_urls[backend] = url
    url = _migrated_urls[backend]
    _empty_all_tables(url)
    return url


def _empty_all_tables(url: str) -> None:
    from sqlmodel import SQLModel

    from backend.db import make_engine

    engine = make_engine(url)
    try:
        tables = list(SQLModel.metadata.sorted_tables)
        with engine.begin() as conn:
            # DELETE, not TRUNCATE: on a few rows it is ~100x faster (no lock, no fsync of
            # new relfilenodes). Ids keep counting; tests must not assume them.
            for t in reversed(tables):
                conn.exec_driver_sql(f'DELETE FROM "{t.name}"')
            if engine.dialect.name == "sqlite":
                has_seq = conn.exec_driver_sql(
                    "SELECT 1 FROM sqlite_master WHERE name='sqlite_sequence'").first()
                if has_seq:
                    conn.exec_driver_sql("DELETE FROM sqlite_sequence")
    finally:
        engine.dispose()
