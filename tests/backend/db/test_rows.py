"""backend/db/rows.py: one Core INSERT writes what constructing the model would, under the
write guard like any other write."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, select

from backend.db import (
    Case,
    Notice,
    NoticeStatus,
    make_engine,
    make_session_factory,
    upgrade_to_head,
    write_scope,
)
from backend.db.engine import (
    UnguardedWrite,
    forget_write_guard_violations,
    write_guard_violations,
)
from backend.db.rows import insert_row

NOW = datetime(2026, 12, 5, 4, 0, tzinfo=UTC)


def _sessions(tmp_path: Path) -> sessionmaker[Session]:
    url = f"sqlite:///{tmp_path / 'rows.db'}"
    upgrade_to_head(url)
    sessions = make_session_factory(make_engine(url, write_guard="raise"))
    with write_scope(sessions) as s:
        s.add(Case(id="0x" + "ab" * 32, order_id="1", claimant="0xa", respondent="0xb",
                   stage="negotiation", state={}, created_at=NOW, updated_at=NOW))
    return sessions


def test_insert_row_fills_the_model_defaults_and_returns_the_key(tmp_path: Path) -> None:
    sessions = _sessions(tmp_path)
    with write_scope(sessions) as s:
        first = insert_row(s, Notice, {"case_id": "0x" + "ab" * 32, "recipient": "0xa",
                                       "kind": "step_recorded", "language": "en",
                                       "subject": "s", "body": "b", "created_at": NOW})
        second = insert_row(s, Notice, {"case_id": None, "recipient": "0xb",
                                        "kind": "step_recorded", "language": "fr",
                                        "subject": "s", "body": "b", "created_at": NOW})
    assert isinstance(first, int) and second == first + 1
    with sessions() as s:
        rows = s.exec(select(Notice).order_by(Notice.id)).all()  # type: ignore[arg-type]
    assert [(n.id, n.recipient, n.language) for n in rows] == [
        (first, "0xa", "en"), (second, "0xb", "fr")]
    # the model's defaults, as Notice(...) would have given them
    assert rows[0].attempts == Notice(case_id=None, recipient="x", kind="k", language="en",
                                      subject="s", body="b").attempts
    assert rows[0].created_at == NOW
    assert rows[0].status == NoticeStatus.PENDING == rows[1].status


def test_insert_row_outside_a_write_unit_is_an_unguarded_write(tmp_path: Path) -> None:
    sessions = _sessions(tmp_path)
    seen = len(write_guard_violations())
    with sessions() as s, pytest.raises(UnguardedWrite):
        insert_row(s, Notice, {"case_id": None, "recipient": "0xa", "kind": "k",
                               "language": "en", "subject": "s", "body": "b"})
    assert any("rows.py" in v for v in write_guard_violations()[seen:])
    forget_write_guard_violations(seen)  # provoked on purpose
