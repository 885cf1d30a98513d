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

import pytest
from sqlalchemy.engine import make_url

PG_ADMIN_URL = os.environ.get(
    "CHAINARB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"
)
_PG_START_HINT = (
    "start it with: pg_ctlcluster --skip-systemctl-redirect $(ls /etc/postgresql) main start"
)


def _pg_admin_conninfo() -> dict[str, object]:
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
    with psycopg.connect(**info, autocommit=True, connect_timeout=5) as conn:  # type: ignore[arg-type]
        conn.execute(sql)  # type: ignore[arg-type]


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
    """A factory of fresh, empty PostgreSQL databases; all are dropped after the session."""
    created: list[str] = []

    def make() -> str:
        _require_postgres()
        name = f"chainarb_t_{os.getpid()}_{secrets.token_hex(4)}"
        _pg_admin_execute(f'CREATE DATABASE "{name}"')
        created.append(name)
        return make_url(PG_ADMIN_URL).set(database=name).render_as_string(hide_password=False)

    yield make
    for name in created:
        try:
            _pg_admin_execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        except Exception as exc:  # keep going: drop the others
            print(f"warning: could not drop test database {name}: {exc}")


@pytest.fixture(scope="session")
def pg_url(make_pg_database: Callable[[], str]) -> str:
    """One fresh PostgreSQL database for the whole test session (empty, not migrated)."""
    return make_pg_database()


@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    """A fresh SQLite file (not migrated)."""
    return f"sqlite:///{tmp_path / 'chainarb.sqlite3'}"


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(
    request: pytest.FixtureRequest, tmp_path: Path, make_pg_database: Callable[[], str]
) -> str:
    """A fresh database migrated to head, on each backend in turn."""
    from backend.db import upgrade_to_head

    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'chainarb.sqlite3'}"
    else:
        url = make_pg_database()
    upgrade_to_head(url)
    return url
