"""The log in the database (backend.log.store), on SQLite and PostgreSQL: appends in the
record's transaction, numbered in commit order under concurrent writers, a node store
that gives the roots and proofs of an in-memory tree, and the rebuild from the entries."""

from __future__ import annotations

import hashlib
import threading
from datetime import UTC, datetime

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from backend.db import make_engine, make_session_factory, session_scope, write_scope
from backend.db.log_models import LogEntry, LogHead, LogNode
from backend.log import append_entry, log_size, open_log, rebuild
from backend.log.store import defer_appends, flush_appends
from evidence.log import LogEntry as EncodedEntry
from evidence.log import MerkleLog, verify_consistency, verify_inclusion
from tests.support.migrated import migrated

NOW = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)
CASES = ["0x" + f"{c:02x}" * 32 for c in (0xC1, 0xC2, 0xC3)]


def value(i: int, case: str = CASES[0]) -> list[str]:
    return [case, "0x" + hashlib.sha256(f"record{i}".encode()).hexdigest(),
            "0x" + hashlib.sha256(f"sigs{i}".encode()).hexdigest()]


def encoded(i: int, case: str = CASES[0], kind: str = "step") -> bytes:
    v = value(i, case)
    return EncodedEntry.of(kind, v[0], v[1], v[2]).encode()


@pytest.fixture
def sessions(clean_db_url: str):
    engine = make_engine(clean_db_url)
    yield make_session_factory(engine)
    engine.dispose()


def _append(sessions, start: int, n: int, case: str = CASES[0]) -> list[int]:
    out = []
    with write_scope(sessions) as s:
        for i in range(start, start + n):
            out.append(append_entry(s, kind="step", case_id=case, value=value(i, case),
                                    ref_id=i, now=NOW).index)
    return out


def test_appends_give_the_roots_and_proofs_of_the_same_tree_in_memory(sessions) -> None:
    indices = []
    for start in range(0, 21, 3):  # several transactions, several appends each
        indices += _append(sessions, start, 3)
    assert indices == list(range(21))
    memory = MerkleLog.of(encoded(i) for i in range(21))
    with sessions() as s:
        assert log_size(s) == 21
        tree = open_log(s)
        for size in (1, 2, 7, 8, 13, 21):
            assert tree.root(size) == memory.root(size)
        for index in (0, 5, 20):
            proof = tree.inclusion_proof(index, 21)
            assert proof == memory.inclusion_proof(index, 21)
            verify_inclusion(index, 21, memory.leaf_hash(index), proof, memory.root())
        proof = tree.consistency_proof(7, 21)
        verify_consistency(7, 21, memory.root(7), memory.root(), proof)
        report = rebuild(s)
    assert report.consistent and report.size == 21 and report.root == memory.root()


def test_a_rolled_back_record_leaves_no_entry_and_no_index_used(sessions) -> None:
    _append(sessions, 0, 2)
    with pytest.raises(RuntimeError), write_scope(sessions) as s:
        append_entry(s, kind="step", case_id=CASES[0], value=value(2), ref_id=2, now=NOW)
        raise RuntimeError("the record's transaction failed after the append")
    assert _append(sessions, 3, 1) == [2]  # the index was not consumed
    with sessions() as s:
        assert [e.record_hash for e in s.exec(select(LogEntry).order_by(col(LogEntry.idx)))] \
            == [value(i)[1] for i in (0, 1, 3)]
        assert rebuild(s).consistent


def test_the_same_entry_twice_is_refused(sessions) -> None:
    _append(sessions, 0, 1)
    with pytest.raises(sa.exc.IntegrityError), write_scope(sessions) as s:
        append_entry(s, kind="step", case_id=CASES[0], value=value(0), ref_id=0, now=NOW)
    with sessions() as s:
        assert log_size(s) == 1 and rebuild(s).consistent


def test_an_entry_must_name_its_case(sessions) -> None:
    with pytest.raises(ValueError, match="names case"), write_scope(sessions) as s:
        append_entry(s, kind="step", case_id=CASES[1], value=value(0), ref_id=0, now=NOW)


def test_concurrent_writers_get_distinct_contiguous_indices(sessions) -> None:
    """8 threads, each with its own connection, 6 transactions of 2 appends: every index
    once, no gap, and the stored tree is the tree of the entries in index order."""
    errors: list[BaseException] = []
    got: list[int] = []
    lock = threading.Lock()
    barrier = threading.Barrier(8)

    def writer(t: int) -> None:
        try:
            barrier.wait()
            for k in range(6):
                base = 1000 * t + 2 * k
                out = _append(sessions, base, 2, CASES[t % 3])
                with lock:
                    got.extend(out)
        except BaseException as exc:
            errors.append(exc)

    threads = [threading.Thread(target=writer, args=(t,)) for t in range(8)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    assert not errors, errors
    assert sorted(got) == list(range(96))
    with sessions() as s:
        rows = s.exec(select(LogEntry).order_by(col(LogEntry.idx))).all()
        assert [r.idx for r in rows] == list(range(96))
        memory = MerkleLog.of(bytes.fromhex(r.entry[2:]) for r in rows)
        assert open_log(s).root() == memory.root()
        assert rebuild(s).consistent


def test_rebuild_finds_an_altered_node_and_repairs_it(sessions) -> None:
    _append(sessions, 0, 11)
    with sessions() as s:
        good = open_log(s).root()
    with session_scope(sessions) as s:  # the operator's (or an attacker's) edit
        s.execute(sa.update(LogNode).where(col(LogNode.level) == 1, col(LogNode.idx) == 2)
                  .values(hash="0x" + "ee" * 32))
    with sessions() as s:  # not on the right edge: the root holds, a proof would not
        assert open_log(s).root() == good
        report = rebuild(s)
    assert not report.consistent and "level 1, index 2" in report.problems[0]
    with session_scope(sessions) as s:  # (3, 0) is on the right edge of 11 leaves
        s.execute(sa.update(LogNode).where(col(LogNode.level) == 3, col(LogNode.idx) == 0)
                  .values(hash="0x" + "ee" * 32))
    with sessions() as s:
        assert open_log(s).root() != good
        report = rebuild(s)
    assert not report.consistent and report.root == good and report.stored_root != good
    with write_scope(sessions) as s:
        assert rebuild(s, repair=True).repaired
    with sessions() as s:
        assert open_log(s).root() == good and rebuild(s).consistent


def test_rebuild_restores_lost_nodes_and_size(sessions) -> None:
    _append(sessions, 0, 6)
    with sessions() as s:
        good = open_log(s).root()
    with session_scope(sessions) as s:
        s.execute(sa.delete(LogNode))
        s.execute(sa.delete(LogHead))
    with sessions() as s:
        report = rebuild(s)
    assert not report.consistent and report.stored_root is None and report.root == good
    with write_scope(sessions) as s:
        rebuild(s, repair=True)
    with sessions() as s:
        assert log_size(s) == 6 and open_log(s).root() == good


def test_the_kept_frontier_follows_commits_only(clean_db_url: str) -> None:
    """Rule 5: a rolled-back append publishes no frontier, another engine's appends
    (another process) are a different size, and every append still gives the tree of the
    committed entries; the nodes read back are the entries' own."""
    from backend.log import store

    engines = [make_engine(clean_db_url), make_engine(clean_db_url)]
    try:
        first, second = (make_session_factory(e) for e in engines)
        _append(first, 0, 3)  # kept: the frontier of size 3
        with write_scope(first) as s:  # rolled back: size 4 and 5 never existed
            append_entry(s, kind="step", case_id=CASES[0], value=value(900), ref_id=0, now=NOW)
            append_entry(s, kind="step", case_id=CASES[0], value=value(901), ref_id=0, now=NOW)
            s.rollback()
        assert store._committed[engines[0]][0] == 3
        _append(first, 3, 2)  # indices 3, 4 with the entries 3, 4 (not 900, 901)
        _append(second, 5, 3)  # the other engine: the first's kept size (5) is now stale
        _append(first, 8, 2)  # a read of the frontier at 8, then the kept one at 9
        assert store._committed[engines[0]][0] == 10
        memory = MerkleLog.of(encoded(i) for i in range(10))
        with first() as s:
            assert open_log(s).root() == memory.root()
            assert rebuild(s).consistent
    finally:
        for e in engines:
            e.dispose()


def test_one_statement_append_writes_the_rows_of_three(sessions, monkeypatch) -> None:
    """PostgreSQL's one-statement append (rule 7) against the three statements it replaces
    (SQLite's), on the same database: the same rows as the database's text, the tree of
    the entries, and one statement per append once a frontier is kept (the first append
    of a new engine has none: its nodes follow in a second statement)."""
    from backend.log import store

    statements: list[str] = []
    engine = sessions.kw["bind"]

    def seen(_conn, _cursor, statement, *_a) -> None:
        statements.append(statement)

    sa.event.listen(engine, "before_cursor_execute", seen)
    try:
        fast = _append(sessions, 0, 3)
        n_fast = len(statements)
        monkeypatch.setattr(store, "_ONE_STATEMENT", frozenset())
        statements.clear()
        general = _append(sessions, 3, 3)
        n_general = len(statements)
    finally:
        sa.event.remove(engine, "before_cursor_execute", seen)
    assert fast + general == list(range(6))
    one = engine.dialect.name == "postgresql"
    assert (n_fast, n_general) == ((2 + 1 + 1, 9) if one else (1 + 9, 1 + 9))  # BEGIN IMMEDIATE
    cols = ", ".join(f"CAST({c} AS TEXT)" for c in ("kind", "case_id", "record_hash",
                                                     "signatures_hash", "entry", "ref_id",
                                                     "accepted_at"))
    with sessions() as s:
        rows = s.connection().execute(sa.text(
            f"SELECT idx, {cols} FROM log_entry ORDER BY idx")).all()
        assert [tuple(r[1:4]) for r in rows] == [("step", *value(i)[:2]) for i in range(6)]
        assert [r[5] for r in rows] == ["0x" + encoded(i).hex() for i in range(6)]
        assert len({r[7] for r in rows}) == 1 and [int(r[6]) for r in rows] == list(range(6))
        assert log_size(s) == 6 and rebuild(s).consistent


def test_a_deferring_unit_appends_its_queue_at_its_end_in_order(sessions) -> None:
    """Rule 8: a deferring unit's appends are numbered at its end, in the order queued,
    after what committed meanwhile; an index is not read before; the tree is the entries'
    own; a rolled back unit's queue is never appended and uses no index."""
    _append(sessions, 0, 2)
    with write_scope(sessions) as s:
        defer_appends(s)
        got = [append_entry(s, kind="step", case_id=CASES[0], value=value(i), ref_id=i,
                            now=NOW) for i in (2, 3, 4)]
        assert not any(a.numbered for a in got) and log_size(s) == 2  # nothing appended yet
        with pytest.raises(RuntimeError, match="numbered"):
            _ = got[0].index
        assert got[1].leaf_hash == MerkleLog.of([encoded(3)]).leaf_hash(0)
    assert [a.index for a in got] == [2, 3, 4]
    with write_scope(sessions) as s:
        defer_appends(s)
        lost = append_entry(s, kind="step", case_id=CASES[0], value=value(900), ref_id=900,
                            now=NOW)
        s.rollback()
    assert not lost.numbered
    assert _append(sessions, 5, 1) == [5]
    memory = MerkleLog.of(encoded(i) for i in range(6))
    with sessions() as s:
        assert log_size(s) == 6 and open_log(s).root() == memory.root()
        assert rebuild(s).consistent


@pytest.mark.postgres
def test_postgresql_a_deferring_unit_leaves_the_counter_row_free_to_its_end(
        make_pg_database) -> None:
    """Rule 8's point: while a deferring unit works (its entries queued) another process's
    append takes the counter row and commits without waiting for it; the unit's entries
    come after it, and the unit's flush is what takes the row (the other waits then)."""
    url = make_pg_database()
    migrated(url)
    engines = (make_engine(url), make_engine(url))
    try:
        mine, other = (make_session_factory(e) for e in engines)
        _append(other, 0, 1)
        with write_scope(mine) as s:
            defer_appends(s)
            queued = [append_entry(s, kind="step", case_id=CASES[0], value=value(i),
                                   ref_id=i, now=NOW) for i in (1, 2)]
            # another process (engine) appends and commits meanwhile, its lock wait bounded
            with write_scope(other) as o:
                o.connection().exec_driver_sql("SET LOCAL lock_timeout = '5s'")
                assert append_entry(o, kind="step", case_id=CASES[1], value=value(3, CASES[1]),
                                    ref_id=3, now=NOW).index == 1
            assert flush_appends(s) == 2
            assert [a.index for a in queued] == [2, 3]
            # now the row is this unit's until its commit: another append waits and gives up
            with pytest.raises(sa.exc.OperationalError, match="lock timeout"), \
                    write_scope(other) as o:
                o.connection().exec_driver_sql("SET LOCAL lock_timeout = '200ms'")
                append_entry(o, kind="step", case_id=CASES[1], value=value(4, CASES[1]),
                             ref_id=4, now=NOW)
        with mine() as s:
            assert [r for (r,) in s.connection().execute(sa.text(
                "SELECT ref_id FROM log_entry ORDER BY idx"))] == [0, 3, 1, 2]
            assert rebuild(s).consistent
    finally:
        for e in engines:
            e.dispose()
