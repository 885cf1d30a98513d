"""One Core INSERT for a row of the hot path, instead of an ORM object and a flush.

Why (issue 10): a signed step writes five rows. As SQLModel objects each goes through the
unit of work (identity map, dependency sort, a flush), about 0.3 ms of CPU a row; one Core
INSERT through the same session and transaction is about a third of that. The row goes to
the same table with the same column types (JSON, UTC times, enums), in the caller's
transaction and under its write guard; it is not added to the session, so the caller
reads what it wrote from the values it passed, never from the session.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import cache
from typing import Any

import sqlalchemy as sa
from pydantic_core import PydanticUndefined
from sqlalchemy.engine import Dialect
from sqlmodel import Session, SQLModel

from .fast import Prepared, prepare

__all__ = ["full_row", "insert_of", "insert_row", "table_of"]


def insert_row(session: Session, model: type[SQLModel], values: dict[str, object]) -> Any:
    """INSERT one row of ``model`` with ``values`` (the model's field defaults fill the
    fields not given, as constructing the object would); returns its primary key."""
    row = full_row(model, values)
    # on the session's connection: the same transaction, without the ORM's per-statement
    # work (autoflush, ORM execution options) that a Core INSERT does not need; compiled
    # once per dialect and set of columns and run on the driver's cursor (backend.db.fast)
    conn = session.connection()
    prepared = _prepared(model, conn.dialect, tuple(sorted(row)))
    if prepared is None:  # a table the fast path does not take: the general path
        result = conn.execute(_insert(model), row)
        return result.inserted_primary_key[0] if result.inserted_primary_key else None
    return prepared.insert(conn, row)


def full_row(model: type[SQLModel], values: dict[str, object]) -> dict[str, object]:
    """``values`` with the model's field defaults for the fields not given (a default
    factory called for this row), as constructing the object would fill them."""
    constants, factories = _defaults(model)
    row = {**constants, **values}
    for name, factory in factories:
        if name not in values:
            row[name] = factory()
    return row


def insert_of(model: type[SQLModel]) -> sa.Insert:
    """The Core INSERT of ``model``'s table (built once)."""
    return _insert(model)


def table_of(model: type[SQLModel]) -> sa.Table:
    """A table model's Core table (SQLModel sets ``__table__`` without declaring it)."""
    table = sa.inspect(model).local_table
    assert isinstance(table, sa.Table)
    return table


@cache
def _insert(model: type[SQLModel]) -> sa.Insert:
    return sa.insert(table_of(model))


def _prepared(model: type[SQLModel], dialect: Dialect, keys: tuple[str, ...]
              ) -> Prepared | None:
    """The INSERT of these columns for ``dialect`` (``backend.db.fast``), or None for a
    table whose primary key is not one column (the general path reports those)."""
    if not _single_pk(model):
        return None
    found = prepare(("insert_row", model), dialect, lambda: _insert(model), keys)
    found.pk = table_of(model).primary_key.columns[0].key
    return found


@cache
def _single_pk(model: type[SQLModel]) -> bool:
    return len(table_of(model).primary_key.columns) == 1


@cache
def _defaults(model: type[SQLModel]
              ) -> tuple[dict[str, Any], tuple[tuple[str, Callable[[], Any]], ...]]:
    """The fields' constant defaults, and their default factories (called per row, so
    each row gets its own ``utcnow()``); a primary key left to the database (``None``) is
    not sent. Read once per model: asking pydantic for a default per row inspected the
    factory's signature each time (about 1 ms per signed step, issue 10)."""
    constants: dict[str, Any] = {}
    factories: list[tuple[str, Callable[[], Any]]] = []
    for name, field in model.model_fields.items():
        if field.default_factory is not None:
            factories.append((name, field.default_factory))  # type: ignore[arg-type]
        elif field.default is not PydanticUndefined:
            if field.default is None and getattr(field, "primary_key", False) is True:
                continue
            constants[name] = field.default
    return constants, tuple(factories)
