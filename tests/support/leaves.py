"""A database holding one filed case and its pending anchoring leaves: the world of the
anchoring worker's tests and of the log's checkpoint tests (SQLite or PostgreSQL)."""

from __future__ import annotations

import hashlib
from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from backend.db import (
    Case,
    LeafKind,
    make_engine,
    make_session_factory,
    session_scope,
    write_scope,
)
from backend.worker import enqueue_leaf

__all__ = ["CASE", "add_leaves", "case_sessions", "leaf_value"]

CASE = "0x" + "c1" * 32


def leaf_value(i: int) -> list[str]:
    """The i-th step leaf of ``CASE``: [case, record hash, signatures hash]."""
    return [CASE, "0x" + hashlib.sha256(f"record{i}".encode()).hexdigest(),
            "0x" + hashlib.sha256(f"sigs{i}".encode()).hexdigest()]


@contextmanager
def case_sessions(db_url: str) -> Iterator[sessionmaker[Session]]:
    """Sessions on ``db_url`` (a clean database) where ``CASE`` is filed."""
    engine = make_engine(db_url)
    factory = make_session_factory(engine)
    with session_scope(factory) as s:
        s.add(Case(id=CASE, order_id="1", claimant="0x" + "aa" * 20,
                   respondent="0x" + "bb" * 20, stage="FILED"))
    try:
        yield factory
    finally:
        engine.dispose()


def add_leaves(factory: sessionmaker[Session], start: int, n: int) -> None:
    """Enqueue step leaves ``start`` .. ``start + n - 1`` of ``CASE`` in one transaction."""
    with write_scope(factory) as s:
        for i in range(start, start + n):
            enqueue_leaf(s, kind=LeafKind.STEP, ref_id=i, case_id=CASE, value=leaf_value(i))
