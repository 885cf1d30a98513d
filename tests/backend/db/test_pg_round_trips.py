"""PostgreSQL without a ping per checkout, and plain reads outside transactions
(backend/db/engine.py, "PostgreSQL's round trips"): what the wire carries, that a dead
pooled connection is still replaced before a request uses it (or, dying silently while it
is used, fails as a lost connection), that everything that is not a plain read is still
one transaction, and that a connection a plain read used leaves no transaction behind for
the writers on the same pool. The messages are counted by libpq's own trace of the
connection."""

from __future__ import annotations

import socket
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO, Any

import psycopg
import pytest
import sqlalchemy as sa
from psycopg import pq
from sqlalchemy import event
from sqlalchemy.engine import Engine, make_url
from sqlalchemy.exc import DBAPIError
from sqlalchemy.pool import QueuePool
from sqlmodel import Session, select

from backend.db import (
    AnchorBatch,
    make_engine,
    make_session_factory,
    read_sessions,
    session_scope,
    write_scope,
)
from backend.db.engine import (
    PLAIN_READ,
    WRITE_UNIT,
    UnguardedWrite,
    forget_write_guard_violations,
    write_guard_violations,
)
from backend.services import views
from backend.worker.anchoring import retry_failed
from tests.support.migrated import migrated
from tests.support.world import make_world, to_filed

pytestmark = pytest.mark.postgres

ROOT_A, ROOT_B = "0x" + "0a" * 32, "0x" + "0b" * 32


@pytest.fixture
def pg_db(make_pg_database: Callable[[], str]) -> str:
    return migrated(make_pg_database())


class Wire:
    """Every message the engine's connections send, from libpq's trace."""

    def __init__(self, engine: Engine, file: IO[bytes]) -> None:
        self.file = file
        self.mark = 0

        def connect(driver: Any, _record: Any) -> None:
            driver.pgconn.trace(file.fileno())
            driver.pgconn.set_trace_flags(pq.Trace.SUPPRESS_TIMESTAMPS | pq.Trace.REGRESS_MODE)

        event.listen(engine, "connect", connect)

    def sent(self) -> list[str]:
        """The messages sent since the last call: ``Query <text>``, ``Parse <text>``,
        ``Sync``, ... (a Query or a Sync is a round trip)."""
        end = self.file.seek(0, 2)
        self.file.seek(self.mark)
        lines = self.file.read(end - self.mark).decode(errors="replace").splitlines()
        self.mark = end
        out = []
        for line in lines:
            parts = line.split("\t", 3)
            if parts[0] != "F" or len(parts) < 3:
                continue
            kind = parts[2].strip()
            rest = parts[3].strip() if len(parts) > 3 else ""
            if kind == "Parse":
                rest = rest.split('" "', 1)[-1]
            out.append(f"{kind} {rest.strip(chr(34)).split(chr(34), 1)[0]}".strip())
        return out


@pytest.fixture
def traced(pg_db: str) -> Iterator[tuple[Engine, Wire]]:
    engine = make_engine(pg_db, write_guard="raise")
    with tempfile.TemporaryFile() as file:
        wire = Wire(engine, file)
        yield engine, wire
        engine.dispose()


def _round_trips(sent: list[str]) -> list[str]:
    """The messages each followed by a wait for the server: a Query, a Sync (the texts of
    the extended protocol's statements are in their Parse, when not prepared)."""
    return [m for m in sent if m.startswith("Query") or m == "Sync"]


def _statements(sent: list[str]) -> list[str]:
    return [m.split(" ", 1)[1] for m in sent if m.startswith(("Query ", "Parse "))]


def _seed(engine: Engine, root: str) -> None:
    with session_scope(make_session_factory(engine)) as s:
        s.add(AnchorBatch(root=root, leaf_count=1))


def _roots(engine: Engine) -> list[str]:
    with make_session_factory(engine)() as s:
        return sorted(b.root for b in s.exec(select(AnchorBatch)))


def test_a_read_sends_no_ping(traced: tuple[Engine, Wire]) -> None:
    engine, wire = traced
    sessions = make_session_factory(engine)
    _seed(engine, ROOT_A)
    wire.sent()
    for _ in range(3):  # the pooled connection each time
        with sessions() as s:
            assert [b.root for b in s.exec(select(AnchorBatch))] == [ROOT_A]
            assert s.exec(select(AnchorBatch.leaf_count)).all() == [1]
            s.commit()
        sent = wire.sent()
        statements = _statements(sent)
        assert statements[0] == "BEGIN" and statements[-1] == "COMMIT", sent
        assert [m.split()[0] for m in statements[1:-1]] == ["SELECT", "SELECT"], sent
        assert len(_round_trips(sent)) == 4, sent


def test_a_write_unit_is_one_transaction(traced: tuple[Engine, Wire]) -> None:
    engine, wire = traced
    sessions = make_session_factory(engine)
    with sessions() as s:  # a read first
        s.exec(select(AnchorBatch)).all()
    wire.sent()
    with pytest.raises(RuntimeError, match="refused"), write_scope(sessions) as s:
        s.add(AnchorBatch(root=ROOT_A, leaf_count=1))
        s.flush()
        raise RuntimeError("refused")
    sent = wire.sent()
    assert _statements(sent)[0] == "BEGIN" and sent[-1] == "Query ROLLBACK", sent
    with write_scope(sessions) as s:
        s.exec(select(AnchorBatch)).all()  # a read in a write unit is in its transaction
        s.add(AnchorBatch(root=ROOT_B, leaf_count=1))
    sent = wire.sent()
    assert _statements(sent)[0] == "BEGIN" and sent[-1] == "Query COMMIT", sent
    assert _roots(engine) == [ROOT_B]


def test_reads_then_writes_outside_a_write_unit_are_one_transaction(
        traced: tuple[Engine, Wire]) -> None:
    engine, _ = traced
    sessions = make_session_factory(engine)
    with sessions() as s:
        assert s.exec(select(AnchorBatch)).all() == []
        s.add(AnchorBatch(root=ROOT_A, leaf_count=1))
        s.flush()
        s.add(AnchorBatch(root=ROOT_B, leaf_count=1))
        s.flush()
        s.rollback()
    assert _roots(engine) == []


def _sessions(engine: Engine, plain: bool) -> Callable[[], Session]:
    """A session factory: plain reads' (``read_sessions``) or the usual one."""
    sessions = make_session_factory(engine)
    return read_sessions(sessions) if plain else sessions


@pytest.mark.parametrize("plain", [False, True], ids=["transaction", "plain_read"])
def test_a_locking_read_holds_its_lock_until_the_end(traced: tuple[Engine, Wire],
                                                      pg_db: str, plain: bool) -> None:
    """A plain read is in autocommit until its FOR UPDATE; from there a transaction."""
    engine, _ = traced
    _seed(engine, ROOT_A)
    sessions = _sessions(engine, plain)
    other = make_engine(pg_db)
    try:
        with sessions() as s:
            s.exec(select(AnchorBatch)).all()
            s.exec(select(AnchorBatch).with_for_update()).all()  # a transaction from here
            with other.connect() as c, pytest.raises(DBAPIError, match="could not obtain"):
                c.execute(sa.text("SELECT id FROM anchor_batch FOR UPDATE NOWAIT"))
            s.commit()
        with other.connect() as c:  # released with the transaction
            c.execute(sa.text("SELECT id FROM anchor_batch FOR UPDATE NOWAIT")).all()
    finally:
        other.dispose()


@pytest.mark.parametrize("plain", [False, True], ids=["transaction", "plain_read"])
def test_reads_see_what_others_committed_meanwhile(traced: tuple[Engine, Wire],
                                                   plain: bool) -> None:
    """READ COMMITTED, in a transaction or not: each statement sees the latest commits."""
    engine, _ = traced
    sessions = _sessions(engine, plain)
    with sessions() as s:
        assert s.exec(select(AnchorBatch)).all() == []
        _seed(engine, ROOT_A)  # another connection commits
        assert [b.root for b in s.exec(select(AnchorBatch))] == [ROOT_A]


def test_a_caller_s_isolation_level_is_kept(traced: tuple[Engine, Wire]) -> None:
    engine, _ = traced
    with engine.connect().execution_options(isolation_level="SERIALIZABLE") as c:
        c.execute(sa.text("SELECT 1")).all()
        assert c.execute(sa.text("SHOW transaction_isolation")).scalar() == "serializable"
        assert c.execute(sa.text("SELECT now() = statement_timestamp()")).scalar() is False
        c.rollback()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as c:
        c.execute(sa.text("CREATE TEMPORARY TABLE t_auto (x int)"))
        c.execute(sa.text("INSERT INTO t_auto VALUES (1)"))
        c.rollback()  # nothing to roll back: each statement committed
        assert c.execute(sa.text("SELECT count(*) FROM t_auto")).scalar() == 1


def test_the_guard_still_refuses_a_product_write_in_a_read(pg_db: str) -> None:
    sessions = make_session_factory(make_engine(pg_db, write_guard="raise"))
    before = len(write_guard_violations())
    with pytest.raises(UnguardedWrite, match=r"anchoring\.py:\d+"), \
            session_scope(sessions) as s:
        s.exec(select(AnchorBatch)).all()
        retry_failed(s)
    assert len(write_guard_violations()) == before + 1
    forget_write_guard_violations(before)  # provoked here
    with write_scope(sessions) as s:
        assert retry_failed(s) == 0


# -- plain reads (PLAIN_READ, read_sessions) ---------------------------------------------

def test_a_plain_read_sends_only_its_statements(traced: tuple[Engine, Wire]) -> None:
    engine, wire = traced
    reads = read_sessions(make_session_factory(engine))
    _seed(engine, ROOT_A)
    wire.sent()
    for _ in range(3):  # the pooled connection each time: no ping, BEGIN or ROLLBACK
        with reads() as s:
            assert [b.root for b in s.exec(select(AnchorBatch))] == [ROOT_A]
            assert s.exec(select(AnchorBatch.leaf_count)).all() == [1]
            s.commit()
        sent = wire.sent()
        assert len(_round_trips(sent)) == 2, sent
        assert [m.split()[0] for m in _statements(sent)] == ["SELECT", "SELECT"], sent


def test_read_sessions_on_sqlite_are_the_factory_s(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path / 'r.sqlite3'}")
    try:
        factory = make_session_factory(engine)
        assert read_sessions(factory) is factory
    finally:
        engine.dispose()


def test_after_a_plain_read_every_other_transaction_begins(traced: tuple[Engine, Wire]
                                                            ) -> None:
    """A plain read leaves its connection in autocommit; the next user of that connection
    (an unmarked read, a write unit) still gets its BEGIN and its end."""
    engine, wire = traced
    factory = make_session_factory(engine)
    reads = read_sessions(factory)
    for following in ("read", "write unit", "read"):
        with reads() as s:  # one pooled connection: the same one every time
            s.exec(select(AnchorBatch)).all()
        wire.sent()
        if following == "read":
            with factory() as s:
                s.exec(select(AnchorBatch)).all()
            end = "ROLLBACK"
        else:
            with write_scope(factory) as s:
                s.add(AnchorBatch(root=ROOT_A, leaf_count=1))
            end = "COMMIT"
        statements = _statements(wire.sent())
        assert statements[0] == "BEGIN" and statements[-1] == end, statements
    assert _roots(engine) == [ROOT_A]


def test_a_write_after_plain_reads_is_still_atomic(traced: tuple[Engine, Wire]) -> None:
    """The first statement that is not a plain read ends autocommit before it is sent:
    it and the rest are one transaction (a breach the guard only logs in production)."""
    engine, wire = traced
    reads = read_sessions(make_session_factory(engine))
    wire.sent()
    with reads() as s:
        assert s.exec(select(AnchorBatch)).all() == []
        s.add(AnchorBatch(root=ROOT_A, leaf_count=1))
        s.flush()
        s.add(AnchorBatch(root=ROOT_B, leaf_count=1))
        s.flush()
        s.rollback()
    sent = _statements(wire.sent())
    assert sent[0].startswith("SELECT") and sent[1:2] == ["BEGIN"], sent
    assert sent[2].startswith("INSERT") and sent[-1] == "ROLLBACK", sent
    assert _roots(engine) == []


def test_a_caller_s_isolation_level_wins_over_plain_read(traced: tuple[Engine, Wire]
                                                         ) -> None:
    engine, _ = traced
    with engine.connect().execution_options(isolation_level="SERIALIZABLE",
                                            **PLAIN_READ) as c:
        c.execute(sa.text("SELECT 1")).all()
        assert c.execute(sa.text("SHOW transaction_isolation")).scalar() == "serializable"
        assert c.execute(sa.text("SELECT now() = statement_timestamp()")).scalar() is False
        c.rollback()
    with engine.connect().execution_options(**PLAIN_READ, **WRITE_UNIT) as c:
        c.execute(sa.text("SELECT 1")).all()  # a write unit is never in autocommit
        assert c.execute(sa.text("SELECT now() = statement_timestamp()")).scalar() is False
        c.rollback()


def test_the_guard_still_refuses_a_product_write_in_a_plain_read(pg_db: str) -> None:
    factory = make_session_factory(make_engine(pg_db, write_guard="raise"))
    before = len(write_guard_violations())
    with pytest.raises(UnguardedWrite, match=r"anchoring\.py:\d+"), \
            session_scope(read_sessions(factory)) as s:
        s.exec(select(AnchorBatch)).all()
        retry_failed(s)
    assert len(write_guard_violations()) == before + 1
    forget_write_guard_violations(before)  # provoked here


def _in_transaction(pg_db: str) -> list[str]:
    """The states of this database's other backends that sit in a transaction."""
    u = make_url(pg_db)
    with psycopg.connect(host=u.host, port=u.port, user=u.username, dbname=u.database,
                         autocommit=True) as admin:
        return [row[0] for row in admin.execute(
            "SELECT state FROM pg_stat_activity WHERE datname = current_database() "
            "AND pid <> pg_backend_pid() AND state LIKE 'idle in transaction%'")]


def test_plain_reads_beside_writers_leave_no_transaction_open(traced: tuple[Engine, Wire],
                                                              pg_db: str) -> None:
    """Writers and plain readers sharing one pool, as offers and case views do: every
    write unit commits once and alone (the counter adds up), the readers see only
    committed values that never go back, and no pooled connection is left idle in a
    transaction (a stall's usual cause: a lock or snapshot held by nobody's request)."""
    engine, _ = traced
    factory = make_session_factory(engine)
    reads = read_sessions(factory)
    _seed(engine, ROOT_A)
    writers, rounds = 4, 25
    seen: list[list[int]] = [[] for _ in range(writers)]
    errors: list[BaseException] = []

    def work(i: int) -> None:
        try:
            for _ in range(rounds):
                with reads() as s:  # a case view: a plain read
                    seen[i].append(s.exec(select(AnchorBatch.leaf_count)).one())
                with write_scope(factory) as s:  # an offer: lock, read, write
                    batch = s.exec(select(AnchorBatch).with_for_update()).one()
                    batch.leaf_count += 1
                with reads() as s:  # a read that turns into a transaction
                    s.exec(select(AnchorBatch).with_for_update()).all()
        except BaseException as e:  # reported below
            errors.append(e)

    threads = [threading.Thread(target=work, args=(i,)) for i in range(writers)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(60)
    assert not errors and not any(t.is_alive() for t in threads)
    with factory() as s:
        assert s.exec(select(AnchorBatch.leaf_count)).one() == 1 + writers * rounds
    assert all(v == sorted(v) and v[0] >= 1 and v[-1] <= 1 + writers * rounds for v in seen)
    pool = engine.pool
    assert isinstance(pool, QueuePool) and pool.checkedout() == 0
    assert _in_transaction(pg_db) == []


def test_a_kept_case_view_is_its_one_select(pg_db: str, tmp_path: Path) -> None:
    """The service's case view (views.case_view_json, the most frequent request): plain
    reads on one connection, so a view whose parts are kept is one round trip, its
    SELECT, and one that reads them (roles, chain head, award: through an ORM session on
    the same connection, when not remembered) sends SELECTs only."""
    w = make_world(pg_db, tmp_path)
    with w.client:
        to_filed(w)
        service = w.app.state.ctx.service
        engine = service.repository.sessions.kw["bind"]
        engine.dispose()  # the pool's connections from here on are traced
        with tempfile.TemporaryFile() as file:
            wire = Wire(engine, file)
            views._views.clear()  # built again: its parts read through an ORM session
            first = views.case_view_json(service, w.case_id, w.buyer.address)
            built = _statements(wire.sent())
            assert built and all(m.startswith("SELECT") for m in built), built
            for _ in range(3):
                assert views.case_view_json(service, w.case_id, w.buyer.address) == first
                sent = wire.sent()
                assert len(_round_trips(sent)) == 1, sent
                assert [m.split()[0] for m in _statements(sent)] == ["SELECT"], sent


# -- a dead pooled connection -------------------------------------------------------------

def _backend_pid(engine: Engine) -> int:
    with engine.connect() as c:
        return int(c.execute(sa.text("SELECT pg_backend_pid()")).scalar_one())


def _terminate(pg_db: str, pids: list[int]) -> None:
    u = make_url(pg_db)
    with psycopg.connect(host=u.host, port=u.port, user=u.username, dbname=u.database,
                         autocommit=True) as admin:
        for pid in pids:
            admin.execute("SELECT pg_terminate_backend(%s, 5000)", (pid,))


def test_a_terminated_backend_is_replaced_at_checkout(traced: tuple[Engine, Wire],
                                                       pg_db: str) -> None:
    engine, wire = traced
    first = _backend_pid(engine)
    wire.sent()
    assert _backend_pid(engine) == first  # pooled, and not pinged
    assert "Query ;" not in wire.sent()
    _terminate(pg_db, [first])
    assert _backend_pid(engine) != first  # no error: replaced before use
    assert "Query ;" in wire.sent()  # the readable socket was pinged


@pytest.mark.parametrize("unit", ["read", "write"])
def test_a_backend_killed_after_checkout_is_a_lost_connection(
        traced: tuple[Engine, Wire], pg_db: str, unit: str) -> None:
    """Killed between checkout and the first statement: the statement fails as a lost
    connection (503 database_unavailable at the API, never a 500), and the next
    checkout gets a live one."""
    engine, _ = traced
    pid = _backend_pid(engine)
    with engine.connect() as c:  # checked out; its transaction begins with the statement
        if unit == "write":
            c.execution_options(**WRITE_UNIT)
        _terminate(pg_db, [pid])
        time.sleep(0.2)
        with pytest.raises(DBAPIError) as lost:
            c.execute(sa.text("SELECT 1"))
        assert lost.value.connection_invalidated
    assert _backend_pid(engine) != pid


def test_every_pooled_connection_killed_at_once(traced: tuple[Engine, Wire],
                                                pg_db: str) -> None:
    """A restart's effect on the pool: every idle connection gone; each checkout after it
    gets a live one."""
    engine, _ = traced
    held = [engine.connect() for _ in range(3)]
    pids = [int(c.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()) for c in held]
    for c in held:
        c.close()
    _terminate(pg_db, pids)
    again = [engine.connect() for _ in range(3)]
    try:
        now = {int(c.execute(sa.text("SELECT pg_backend_pid()")).scalar_one()) for c in again}
    finally:
        for c in again:
            c.close()
    assert now.isdisjoint(pids)


class SilentProxy:
    """A TCP relay to PostgreSQL that can lose its server side silently, as a host that
    rebooted (or a firewall that dropped the connection) does: the client's socket stays
    open and quiet, and the first bytes it sends get the connection reset."""

    def __init__(self, host: str, port: int) -> None:
        self.upstream = (host, port)
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = self.listener.getsockname()[1]
        self.pairs: list[tuple[socket.socket, socket.socket]] = []
        self.severed: set[socket.socket] = set()
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.listener.accept()
            except OSError:
                return
            server = socket.create_connection(self.upstream)
            self.pairs.append((client, server))
            threading.Thread(target=self._pump, args=(client, server, True), daemon=True).start()
            threading.Thread(target=self._pump, args=(server, client, False),
                             daemon=True).start()

    def _pump(self, src: socket.socket, dst: socket.socket, from_client: bool) -> None:
        while True:
            try:
                data = src.recv(65536)
            except OSError:
                return
            if from_client and src in self.severed:
                src.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, b"\x01\0\0\0\0\0\0\0")
                src.close()  # linger 0: a reset, as from a host that forgot the connection
                return
            if not data:
                return
            try:
                dst.sendall(data)
            except OSError:
                return

    def sever(self) -> None:
        """Drop every current connection's server side, telling the client nothing."""
        for client, server in self.pairs:
            self.severed.add(client)
            server.close()

    def close(self) -> None:
        self.listener.close()
        for client, server in self.pairs:
            client.close()
            server.close()


@pytest.fixture
def proxied(pg_db: str) -> Iterator[tuple[SilentProxy, str]]:
    u = make_url(pg_db)
    proxy = SilentProxy(u.host or "127.0.0.1", u.port or 5432)
    try:
        yield proxy, u.set(port=proxy.port).render_as_string(hide_password=False)
    finally:
        proxy.close()


def test_a_silently_dead_connection_is_pinged_after_sitting_idle(
        proxied: tuple[SilentProxy, str]) -> None:
    proxy, url = proxied
    engine = make_engine(url, ping_after_idle=0.2)
    try:
        first = _backend_pid(engine)
        proxy.sever()
        time.sleep(0.3)
        assert _backend_pid(engine) != first  # pinged, found dead, replaced: no error
    finally:
        engine.dispose()


def test_without_the_idle_ping_a_silent_death_fails_one_request(
        proxied: tuple[SilentProxy, str]) -> None:
    """What the idle ping is for: a socket that says nothing is not checked before use;
    its request fails as a lost connection (503 database_unavailable at the API), the pool
    is invalidated, and the next request gets a new connection."""
    proxy, url = proxied
    engine = make_engine(url, ping_after_idle=3600)
    try:
        first = _backend_pid(engine)
        proxy.sever()
        with pytest.raises(DBAPIError) as lost:
            _backend_pid(engine)
        assert lost.value.connection_invalidated
        assert _backend_pid(engine) != first
    finally:
        engine.dispose()
