"""backend/db/fast.py: a statement run on the driver's cursor stores and reads exactly what
the general path (``Connection.execute``) does, on SQLite and PostgreSQL: the same stored
values (compared as the database's own text of every column), the same primary keys, the
same rows read back, the same errors, and the engine's cursor listeners see it."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import Session, SQLModel

from backend import procedure as p
from backend.db import (
    Account,
    Case,
    Leaf,
    LeafKind,
    Notice,
    NoticeStatus,
    Step,
    make_engine,
    make_session_factory,
    write_scope,
)
from backend.db.fast import prepare
from backend.db.log_models import LogEntry, LogNode
from backend.db.rows import insert_row, table_of
from backend.db.service_models import OfferSignature, StepDetail
from backend.log.store import DbNodeStore, append_entry, nodes_of, rebuild
from backend.notices.outbox import enqueue_notice, render_notice
from backend.services.repository import _ROW, _ROW_LOCKED, CaseRepository, CaseRow, _update

NOW = datetime(2026, 12, 6, 15, 4, 5, 123456, tzinfo=UTC)
CASE = "0x" + "ab" * 32
BUYER = "0x" + "11" * 20
SELLER = "0x" + "22" * 20


@pytest.fixture
def sessions(db_url: str) -> Iterator[Any]:
    engine = make_engine(db_url, write_guard="raise")
    factory = make_session_factory(engine)
    with write_scope(factory) as s:
        s.add(Case(id=CASE, order_id="1", claimant=BUYER, respondent=SELLER,
                   stage="negotiation", state={"a": [1, "é"]}, next_sequence=0,
                   next_deadline=NOW + timedelta(days=3), created_at=NOW, updated_at=NOW))
    yield factory
    engine.dispose()


def _texts(s: Session, model: type[SQLModel], skip: tuple[str, ...]) -> list[tuple[Any, ...]]:
    """Every stored row of ``model`` as the database's text of each column (but ``skip``)."""
    table = table_of(model)
    cols = [sa.cast(c, sa.Text) for c in table.c if c.key not in skip]
    return [tuple(r) for r in s.connection().execute(sa.select(*cols))]


def _step(seq: int) -> dict[str, Any]:
    return dict(case_id=CASE, sequence=seq, kind="offer.made",
                record={"type": "SettlementOffer", "n": seq, "text": "é\u2028", "x": [1.5, None]},
                signature="0x" + "cd" * 65, signer=BUYER, record_hash=f"0x{seq:064x}",
                prev_hash="0x" + "00" * 32, cid="bafy" + str(seq), created_at=NOW)


ROWS: dict[str, Callable[[int], tuple[type[SQLModel], dict[str, Any]]]] = {
    "step": lambda step_id: (Step, _step(7)),
    "step_detail": lambda step_id: (StepDetail, dict(
        step_id=step_id, case_id=CASE, action="offer.made",
        command={"type": "MakeOffer", "allocation": {"to_buyer": 1}}, payload='{"a":1}',
        attachments=[{"type": "Settlement", "v": "é"}], authorization=None,
        confidential=True, data_key_wraps="wraps", bundle_cid="bafyx",
        signed_at=NOW - timedelta(seconds=3), created_at=NOW)),
    "leaf": lambda step_id: (Leaf, dict(
        kind=LeafKind.STEP, ref_id=step_id, case_id=CASE, value=[CASE, "0x01", "0x02"],
        leaf_hash="0x" + "ef" * 32, created_at=NOW)),
    "notice": lambda step_id: (Notice, dict(
        case_id=CASE, recipient=SELLER, email=None, kind="offer_made", language="zh-Hans",
        subject="案件", body="b", status=NoticeStatus.OUTBOX_ONLY, next_attempt_at=None,
        created_at=NOW)),
    "offer_signature": lambda step_id: (OfferSignature, dict(
        case_id=CASE, offer_id="0x" + "aa" * 32, signer=BUYER, signature="0x" + "bb" * 65,
        record_hash="0x" + "cc" * 32, created_at=NOW)),
    "log_entry": lambda step_id: (LogEntry, dict(
        idx=0, kind="step", case_id=CASE, record_hash="0x01", signatures_hash="0x02",
        entry="0x0101", ref_id=step_id, accepted_at=NOW)),
}


@pytest.mark.parametrize("name", sorted(ROWS))
def test_insert_row_stores_what_the_general_path_stores(sessions: Any, name: str) -> None:
    with write_scope(sessions) as s:
        step_id = insert_row(s, Step, _step(1))  # the parent row of those that need one
    model, values = ROWS[name](step_id)
    table = table_of(model)
    pk = table.primary_key.columns[0].key
    skip = (pk,) if pk not in values else ()
    got: list[Any] = []
    for fast in (False, True):
        with write_scope(sessions) as s:
            if fast:
                key = insert_row(s, model, dict(values))
            else:  # the general path, as insert_row ran before backend.db.fast
                from backend.db.rows import _defaults

                constants, factories = _defaults(model)
                row = {**constants, **values}
                for n, f in factories:
                    row.setdefault(n, f())
                result = s.connection().execute(sa.insert(table), row)
                assert result.inserted_primary_key is not None
                key = result.inserted_primary_key[0]
            stored = _texts(s, model, skip)
            (found_key,) = s.connection().execute(
                sa.select(table.c[pk]).where(table.c[pk] == key)).one()
            got.append((stored, found_key == key))
            s.rollback()
    assert got[0] == got[1]
    assert got[1][1] is True and len(got[1][0]) == (2 if model is Step else 1)


def test_insert_row_keys_are_the_databases(sessions: Any) -> None:
    with write_scope(sessions) as s:
        ids = [insert_row(s, Step, _step(n)) for n in (1, 2, 3)]
        stored = [r[0] for r in s.connection().execute(
            sa.select(table_of(Step).c.id).order_by(table_of(Step).c.sequence))]
    assert ids == stored and len(set(ids)) == 3


def test_a_conflict_is_the_general_paths_integrity_error(sessions: Any) -> None:
    """The step transaction reads a unique conflict as a stale step: same exception."""
    with write_scope(sessions) as s:
        insert_row(s, Step, _step(1))
    with write_scope(sessions) as s, pytest.raises(sa.exc.IntegrityError):
        insert_row(s, Step, _step(1))


def test_cursor_listeners_see_every_statement(sessions: Any) -> None:
    """The write guard and the fault tests' kill points listen at the cursor."""
    seen: list[str] = []

    def listen(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        seen.append(statement.split("(")[0].strip())

    engine = sessions.kw["bind"]
    sa.event.listen(engine, "before_cursor_execute", listen)
    try:
        with write_scope(sessions) as s:
            insert_row(s, Step, _step(1))
            _rows_only(CaseRepository(sessions)).load(s, CASE, lock=True)
    finally:
        sa.event.remove(engine, "before_cursor_execute", listen)
    assert "INSERT INTO step" in seen and any(x.startswith("SELECT arb_case.id") for x in seen)


def _rows_only(repo: CaseRepository) -> CaseRepository:
    """The repository without decoding the state (these tests store a stand-in state)."""
    repo.decode = lambda row: None  # type: ignore[method-assign, assignment, return-value]
    return repo


@pytest.mark.parametrize("lock", [False, True])
def test_case_row_read_as_the_general_path_reads_it(sessions: Any, lock: bool) -> None:
    repo = _rows_only(CaseRepository(sessions))
    with write_scope(sessions) as s:
        query = _ROW_LOCKED if lock and not repo.sqlite else _ROW
        general = s.connection().execute(query, {"case_id": CASE}).first()
        conn = s.connection()
        fast = prepare(query, conn.dialect, lambda: query).first(conn, {"case_id": CASE})
        found, _state = repo.load(s, CASE, lock=lock)
    assert general is not None and fast == tuple(general)
    assert found == CaseRow(*general)
    assert found.updated_at == NOW and found.updated_at.tzinfo is not None
    assert found.next_deadline == NOW + timedelta(days=3)


def test_case_update_stores_what_the_general_path_stores(sessions: Any) -> None:
    repo = CaseRepository(sessions)
    text = '{"version":1,"case":{"x":"é"}}'
    values = {"new_state_text": text, "new_next_sequence": 4,
              "new_updated_at": NOW + timedelta(seconds=1),
              "new_next_deadline": None, "new_stage": "facilitation", "case_id": CASE}
    columns = frozenset(k[4:] for k in values if k.startswith("new_"))
    statement = _update(columns, repo.sqlite)
    got = []
    for fast in (False, True):
        with write_scope(sessions) as s:
            conn = s.connection()
            if fast:
                prepare(statement, conn.dialect, lambda: statement).execute(conn, values)
            else:
                conn.execute(statement, values)
            got.append(_texts(s, Case, ()))
            s.rollback()
    assert got[0] == got[1]


def test_missing_case_reads_none(sessions: Any) -> None:
    with sessions() as s:
        conn = s.connection()
        assert prepare(_ROW, conn.dialect, lambda: _ROW).first(
            conn, {"case_id": "0x" + "00" * 32}) is None


@pytest.mark.parametrize("count", [1, 3, 70])
def test_log_nodes_stored_as_the_general_path_stores_them(sessions: Any, count: int) -> None:
    nodes = [(k % 5, k, bytes([k % 256]) * 32) for k in range(count)]
    got = []
    for fast in (False, True):
        with write_scope(sessions) as s:
            if fast:
                DbNodeStore(s).put_nodes(nodes)
            else:
                s.connection().execute(sa.insert(table_of(LogNode)), [
                    {"level": lv, "idx": i, "hash": "0x" + h.hex()} for lv, i, h in nodes])
            got.append((_texts(s, LogNode, ()), dict(nodes_of(s))))
            s.rollback()
    assert got[0] == got[1] and len(got[1][1]) == count


def test_log_appends_stay_consistent(sessions: Any) -> None:
    """The head upsert, entry and nodes through the fast path: the tree rebuilt from the
    entries alone agrees with the stored nodes, and indexes count from 0."""
    indexes = []
    for n in range(6):
        with write_scope(sessions) as s:
            got = append_entry(s, kind="step", case_id=CASE,
                               value=[CASE, f"0x{n + 1:064x}", f"0x{n + 7:064x}"], ref_id=n,
                               now=NOW)
            indexes.append(got.index)
    assert indexes == list(range(6))
    with sessions() as s:
        report = rebuild(s)
    assert report.consistent and report.size == 6


@pytest.mark.parametrize("account", [None, ("zh-Hans", "a@example.org"), ("xx", None)])
def test_notice_reads_the_recipients_account(sessions: Any,
                                             account: tuple[str, str | None] | None) -> None:
    if account is not None:
        with write_scope(sessions) as s:
            s.add(Account(address=SELLER, preferred_language=account[0], email=account[1],
                          created_at=NOW))
    with write_scope(sessions) as s:
        enqueue_notice(s, case_id=CASE, recipient=SELLER, kind="step_recorded", now=NOW,
                       stage=p.Stage.NEGOTIATION.value, action="offer.made",
                       smtp_enabled=True)
    with sessions() as s:
        n = s.connection().execute(sa.select(table_of(Notice))).one()._mapping
    want_language = account[0] if account is not None and account[0] == "zh-Hans" else "en"
    want_email = account[1] if account is not None else None
    assert (n["language"], n["email"]) == (want_language, want_email)
    assert n["status"] == (NoticeStatus.PENDING if want_email else NoticeStatus.OUTBOX_ONLY)
    assert n["next_attempt_at"] == (NOW if want_email else None)
    assert (n["case_id"], n["recipient"], n["kind"], n["attempts"], n["created_at"]) == \
        (CASE, SELLER, "step_recorded", 0, NOW)
    assert (n["subject"], n["body"]) == render_notice(
        "step_recorded", want_language, case_id=CASE, stage=p.Stage.NEGOTIATION.value,
        action="offer.made")
    assert (n["delivered_at"], n["error"]) == (None, None)


def test_notices_without_smtp_or_case_wait_in_the_outbox(sessions: Any) -> None:
    with write_scope(sessions) as s:
        s.add(Account(address=SELLER, preferred_language="zh-Hans", email="a@example.org",
                      created_at=NOW))
    with write_scope(sessions) as s:
        enqueue_notice(s, case_id=None, recipient=SELLER, kind="step_recorded", now=NOW)
        enqueue_notice(s, case_id=None, recipient=BUYER, kind="step_recorded", now=NOW,
                       smtp_enabled=True)
    with sessions() as s:
        rows = [r._mapping for r in s.connection().execute(
            sa.select(table_of(Notice)).order_by(table_of(Notice).c.id))]
    assert [(r["recipient"], r["language"], r["email"], r["status"], r["case_id"])
            for r in rows] == [(SELLER, "zh-Hans", "a@example.org", NoticeStatus.OUTBOX_ONLY,
                                None),
                               (BUYER, "en", None, NoticeStatus.OUTBOX_ONLY, None)]
    assert rows[0]["subject"] != rows[1]["subject"]  # each in its recipient's language


def _error(fn: Callable[[], Any]) -> tuple[type[BaseException], type[BaseException] | None]:
    try:
        fn()
    except BaseException as exc:  # the type is what is compared
        orig = getattr(exc, "orig", None)
        return type(exc), type(orig) if orig is not None else None
    raise AssertionError("no error")


def test_errors_are_the_general_paths(sessions: Any) -> None:
    """A value a bind processor refuses (a naive datetime), and a driver error (a missing
    parent row), raise the same exception types (and driver error) on both paths."""
    naive = {**_step(1), "created_at": datetime(2026, 1, 1)}
    orphan = {**_step(2), "case_id": "0x" + "99" * 32}
    for values in (naive, orphan):
        got = []
        for fast in (False, True):
            with write_scope(sessions) as s:
                if fast:
                    got.append(_error(lambda s=s, v=values: insert_row(s, Step, dict(v))))  # type: ignore[misc]
                else:
                    got.append(_error(lambda s=s, v=values: s.connection().execute(  # type: ignore[misc]
                        sa.insert(table_of(Step)), dict(v))))
                s.rollback()
        assert got[0] == got[1], (values, got)


def test_a_listeners_exception_reaches_the_caller_as_it_is(sessions: Any) -> None:
    class RefusedError(Exception):
        pass

    def refuse(_c: Any, _cur: Any, statement: str, *_a: Any) -> None:
        if statement.startswith("INSERT INTO step "):
            raise RefusedError(statement)

    engine = sessions.kw["bind"]
    sa.event.listen(engine, "before_cursor_execute", refuse)
    try:
        for fast in (False, True):
            with write_scope(sessions) as s, pytest.raises(RefusedError):
                if fast:
                    insert_row(s, Step, _step(1))
                else:
                    s.connection().execute(sa.insert(table_of(Step)), _step(1))
    finally:
        sa.event.remove(engine, "before_cursor_execute", refuse)
