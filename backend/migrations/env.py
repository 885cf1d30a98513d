"""Alembic environment: the target is SQLModel.metadata with every chainarb table.

The URL comes from, in order: `config.attributes["url"]` (set by `upgrade_to_head`), the
`sqlalchemy.url` main option (tests), else the Settings built from the environment. A
connection may also be passed in `config.attributes["connection"]`.
"""

from __future__ import annotations

from alembic import context
from sqlalchemy import Connection
from sqlmodel import SQLModel

import backend.db.models  # noqa: F401  (registers the tables on SQLModel.metadata)
from backend.db.engine import WRITE_UNIT, make_engine

config = context.config
target_metadata = SQLModel.metadata


def _url() -> str:
    url = config.attributes.get("url") or config.get_main_option("sqlalchemy.url")
    if url:
        return str(url)
    from backend.settings import load_settings

    return load_settings().database


def _configure(connection: Connection) -> None:
    context.configure(
        connection=connection,
        target_metadata=target_metadata,
        compare_type=True,
        compare_server_default=True,
        render_as_batch=True,  # SQLite can only ALTER through table copies
    )


def run_migrations_offline() -> None:
    context.configure(
        url=_url(),
        target_metadata=target_metadata,
        literal_binds=True,
        dialect_opts={"paramstyle": "named"},
        render_as_batch=True,
    )
    with context.begin_transaction():
        context.run_migrations()


def run_migrations_online() -> None:
    connection = config.attributes.get("connection")
    if connection is not None:
        _configure(connection)
        with context.begin_transaction():
            context.run_migrations()
        return
    engine = make_engine(_url())
    try:
        # a write unit (backend/db/engine.py): BEGIN IMMEDIATE on SQLite, so two processes
        # upgrading at once queue instead of failing with "database is locked"
        with engine.connect().execution_options(**WRITE_UNIT) as conn:
            _configure(conn)
            with context.begin_transaction():
                context.run_migrations()
    finally:
        engine.dispose()


if context.is_offline_mode():
    run_migrations_offline()
else:
    run_migrations_online()
