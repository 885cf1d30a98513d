"""The Alembic revisions produce exactly the models' schema, on SQLite and PostgreSQL."""

from __future__ import annotations

from typing import Any

import sqlalchemy as sa
from alembic import command
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlmodel import SQLModel

from backend.db import current_revision, head_revision, make_engine, upgrade_to_head
from backend.db.migrate import alembic_config


def _diff(url: str) -> list[Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            ctx = MigrationContext.configure(
                conn, opts={"compare_type": True, "compare_server_default": True}
            )
            return list(compare_metadata(ctx, SQLModel.metadata))
    finally:
        engine.dispose()


def _tables(url: str) -> set[str]:
    engine = make_engine(url)
    try:
        return set(sa.inspect(engine).get_table_names()) - {"alembic_version"}
    finally:
        engine.dispose()


def test_head_matches_models_exactly(db_url: str) -> None:
    # db_url is already upgraded to head (fixture)
    assert current_revision(db_url) == head_revision()
    assert _diff(db_url) == []
    assert _tables(db_url) == set(SQLModel.metadata.tables)


def test_a_model_change_without_migration_is_detected(db_url: str) -> None:
    """The comparison can fail: a column the migrations lack shows up as a difference."""
    table = SQLModel.metadata.tables["notice"]
    extra = sa.Column("not_migrated", sa.Integer, nullable=True)
    table.append_column(extra)
    try:
        diffs = _diff(db_url)
    finally:
        table._columns.remove(extra)  # restore the shared metadata for other tests
    assert any(d[0] == "add_column" and d[3].name == "not_migrated" for d in diffs), diffs


def test_upgrade_is_idempotent_and_downgrade_round_trips(db_url: str) -> None:
    assert upgrade_to_head(db_url) == head_revision()  # second run: nothing to do
    command.downgrade(alembic_config(db_url), "base")
    assert _tables(db_url) == set()
    assert current_revision(db_url) is None
    upgrade_to_head(db_url)
    assert _diff(db_url) == []


def test_check_command_finds_nothing_to_generate(db_url: str) -> None:
    """`alembic check` (what an operator or CI runs) agrees."""
    command.check(alembic_config(db_url))
