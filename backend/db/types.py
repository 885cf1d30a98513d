"""Column types shared by the tables.

`UTCDateTime` exists because SQLite stores no time zone: a value written aware comes back
naive. Every timestamp in chainarb is UTC, so the type refuses naive input on the way in
(a naive value is a bug: which zone?) and marks values UTC on the way out, on both SQLite
and PostgreSQL (`timestamptz`).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeAlias, TypedDict

import sqlalchemy as sa
from sqlalchemy.engine import Dialect

from evidence.records import SignedRecordJson
from evidence.safejson import JsonObject

__all__ = ["FreeJson", "RecordColumn", "UTCDateTime", "WrappedKeysColumn", "WrappedKeysJson",
           "utcnow"]

class WrappedKeysJson(TypedDict):
    """An encrypted item's key wraps as its row keeps them: the ``KeyWraps`` JSON, the
    service public key it names, and each reader's address -> the X25519 key wrapped for."""

    keywraps: str
    service: str
    recipients: dict[str, str]


if TYPE_CHECKING:
    #: A free JSON object in a pydantic model (a JSON column of a table, an API answer or
    #: request body: backend/answers.py): ``evidence.safejson.JsonObject`` as mypy reads it,
    #: any JSON object as pydantic does (it cannot build that recursive alias).
    FreeJson: TypeAlias = JsonObject
    #: A signed record's JSON document in a JSON column (``SignedRecord.to_json_obj``):
    #: ``evidence.records.SignedRecordJson`` as mypy reads it, any JSON object as pydantic
    #: does (a table's field is not validated: its writers build it from a SignedRecord).
    RecordColumn: TypeAlias = SignedRecordJson
    #: An item's key wraps in a JSON column: ``WrappedKeysJson`` as mypy reads it.
    WrappedKeysColumn: TypeAlias = WrappedKeysJson
else:
    FreeJson = dict[str, Any]
    RecordColumn = dict[str, Any]
    WrappedKeysColumn = dict[str, Any]


def utcnow() -> datetime:
    """The current time, aware, in UTC (the default for created/updated columns)."""
    return datetime.now(UTC)


class UTCDateTime(sa.types.TypeDecorator[datetime]):
    """A timezone-aware UTC datetime on every backend."""

    impl = sa.DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        if not isinstance(value, datetime):
            raise TypeError(f"expected a datetime, found {type(value).__name__}")
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(
                f"naive datetime {value.isoformat()} refused: pass an aware UTC datetime "
                "(datetime.now(UTC))"
            )
        utc = value.astimezone(UTC)
        # SQLite keeps the text as given; store it without offset so ordering is textual.
        return utc.replace(tzinfo=None) if dialect.name == "sqlite" else utc

    def process_result_value(self, value: Any, dialect: Dialect) -> datetime | None:
        if value is None:
            return None
        stored: datetime = value  # the DateTime column's driver value
        if stored.tzinfo is None:
            return stored.replace(tzinfo=UTC)
        return stored.astimezone(UTC)
