"""The case repository: cases in and out of the database, and the caches in front of it.

Why one owner: a case is read on every request and written by every step, the
scheduler, court access and evidence uploads; the decoded states, the step-chain heads
and the process's write lock must be shared by all of them, or a cache would go stale
behind a writer that bypassed it.

* ``load(session, case_id, lock=...)``: the row (``CaseRow``, plain columns) and its
  ``CaseState`` (``FOR UPDATE`` on PostgreSQL when locking; on SQLite the write
  transaction itself is the lock).
* ``write_session()``: one write unit (issue 9's discipline): this process's writer queue
  on SQLite, a session, ``begin_exclusive`` first; the caller commits.
* ``save(...)``: the case row (one UPDATE of the changed columns) and its participants.
* ``chain_head(...)``: where the next step of a case goes.

The caches are hints checked against the row a write locks: a step committed by another
process is simply a miss. ``CaseState`` is immutable, so cached objects are shared.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable, Hashable, Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager, nullcontext
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from backend import procedure as p
from backend.db import Case, Participant, Step, begin_exclusive, read_sessions
from backend.db.engine import plain_read_engine
from backend.db.fast import prepare
from backend.db.rows import table_of
from backend.db.writers import WriterLock, lock_path_of
from backend.notices.outbox import held_params, insert_held, notice_insert
from evidence.records import ZERO_HASH

from .errors import NotFound

__all__ = ["STATE_CACHE_SIZE", "CaseRepository", "CaseRow", "ChainHead", "Version", "row_select",
           "version_of"]

log = logging.getLogger(__name__)

STATE_CACHE_SIZE = 512

ChainHead = tuple[int, bytes, int]
"""(next position, previous record hash, previous signedAt) of a case's step chain."""
Version = tuple[str, int, str]


@dataclass(slots=True)
class CaseRow:
    """The case row as a step reads and writes it: plain columns, the state as its stored
    JSON text. Why not the ORM object (issue 10): loading it decoded the 10-15 KB state on
    every read although the decoded state is cached, and saving it re-encoded the state
    through the unit of work; here the text is the cache key and is decoded on a miss only,
    and ``save`` is one UPDATE of the changed columns."""

    id: str
    order_id: str
    claimant: str
    respondent: str
    stage: str
    next_sequence: int
    next_deadline: datetime | None
    updated_at: datetime
    state_text: str


_CASES = table_of(Case)
_C = _CASES.c
_ROW_COLUMNS = (_C.id, _C.order_id, _C.claimant, _C.respondent, _C.stage, _C.next_sequence,
                _C.next_deadline, _C.updated_at, sa.cast(_C.state, sa.Text))
_ROW_WIDTH = len(_ROW_COLUMNS)


def row_select(*extra: sa.ColumnElement[Any]) -> sa.Select[Any]:
    """The case row's SELECT by ``case_id``, with ``extra`` columns after the row's (for
    ``load_with``: a reader that needs more than the row gets it in the same statement)."""
    return sa.select(*_ROW_COLUMNS, *extra).where(_C.id == sa.bindparam("case_id"))


_ROW = row_select()
_ROW_LOCKED = _ROW.with_for_update()  # built once: a new statement per call is a new cache key
_S = table_of(Step).c
# the case's last step (a Core statement, prepared once: the ORM's query and Step object
# cost about 1 ms of CPU, paid by each case's first step on a worker, issue 10); LIMIT and
# OFFSET as literals, since a prepared statement binds only the caller's parameters
_LAST_STEP = (sa.select(_S.sequence, _S.record_hash, _S.record)
              .where(_S.case_id == sa.bindparam("case_id"))
              .order_by(_S.sequence.desc()).limit(sa.literal_column("1"))
              .offset(sa.literal_column("0")))
_UPDATES: dict[tuple[frozenset[str], bool, int], sa.Update] = {}


def _update(columns: frozenset[str], sqlite: bool, notices: int = 0) -> sa.Update:
    """The case UPDATE of these ``CaseRow`` fields, all values bound (``case_id`` the
    row, ``new_<field>`` each value): built once per set of columns, so SQLAlchemy finds
    it compiled (building it per step cost a cache-key walk and fresh bind parameters
    each time, issue 10). The state is bound as its text, not re-encoded as JSON.
    ``notices``: that many held notices' INSERTs as data-modifying CTEs of it
    (PostgreSQL; parameters ``outbox.held_params``)."""
    key = (columns, sqlite, notices)
    found = _UPDATES.get(key)
    if found is None:
        values: dict[str, Any] = {}
        for name in columns:
            if name == "state_text":
                text = sa.bindparam("new_state_text", type_=sa.Text)
                values["state"] = text if sqlite else sa.cast(text, sa.JSON)
            else:
                values[name] = sa.bindparam(f"new_{name}", type_=_C[name].type)
        found = sa.update(_CASES).where(_C.id == sa.bindparam("case_id")).values(values)
        if notices:
            found = found.add_cte(*(notice_insert(f"n{j}_").cte(f"notice_{j}")
                                    for j in range(notices)))
        _UPDATES[key] = found
    return found


def version_of(row: CaseRow) -> Version:
    """The key of a case row's state version: the state's stored text itself and the
    chain position (the decoded state is a function of the two, whatever wrote them: a
    step, the scheduler, a court grant; see ``decode``)."""
    return (row.id, row.next_sequence, row.state_text)


class CaseRepository:
    """Loads, locks and saves cases; owns the decoded-state and chain-head caches."""

    def __init__(self, sessions: sessionmaker[Session]) -> None:
        self.sessions = sessions
        # plain reads (the case view's): on PostgreSQL in autocommit, one round trip per
        # SELECT (backend/db/engine.py, "PostgreSQL's round trips")
        self.read_sessions: Callable[[], Session] = read_sessions(sessions)
        bind = sessions.kw.get("bind")
        self.sqlite = bind is not None and bind.dialect.name == "sqlite"
        self._engine = bind if isinstance(bind, sa.Engine) else None
        self._read_engine = None if self._engine is None else plain_read_engine(self._engine)
        # SQLite has one writer at a time: this process's writers queue here, and the
        # processes sharing the file on its lock file, instead of polling SQLite's busy
        # handler (backend/db/writers.py; the group committer takes it for each group).
        self.write_lock = WriterLock(lock_path_of(self._engine.url.database)
                                     if self.sqlite and self._engine is not None else None)
        self._write_conn: sa.Connection | None = None  # SQLite: the writer's (writer_session)
        self._states: dict[Version, p.CaseState] = {}
        self._lock = threading.Lock()
        # case id -> chain head after this process's last commit on it (see remember_step)
        self._heads: dict[str, ChainHead] = {}
        # case id -> (next position, version, state) this process last committed (a hint
        # for the pipeline's prestore only; the locked section decides on the row it locks)
        self._latest: dict[str, tuple[int, Version, p.CaseState]] = {}

    # -- reading --------------------------------------------------------------------------

    def load(self, session: Session, case_id: str, *, lock: bool = False
             ) -> tuple[CaseRow, p.CaseState]:
        """The case row and its state; ``NotFound`` when there is no such case. One
        SELECT of plain columns (``FOR UPDATE`` on PostgreSQL when locking)."""
        query = _ROW_LOCKED if lock and not self.sqlite else _ROW
        row, case, _ = self.load_with(session, case_id, query, lambda: query)
        return row, case

    def load_with(self, session: Session | sa.Connection, case_id: str, key: Hashable,
                  build: Callable[[], sa.ClauseElement]
                  ) -> tuple[CaseRow, p.CaseState, tuple[Any, ...]]:
        """``load`` by a statement ``build`` makes (``row_select`` with more columns; made
        once per ``key`` and dialect, ``backend.db.fast.prepare``): the row, its state and
        the extra columns' values. One statement is one round trip and one snapshot.
        ``session``: a session, or a connection (``reading``)."""
        # compiled once, run on the driver's cursor
        conn = session.connection() if isinstance(session, Session) else session
        found = prepare(key, conn.dialect, build).first(conn, {"case_id": case_id.lower()})
        if found is None:
            raise NotFound(f"case {case_id} does not exist")
        row = CaseRow(*found[:_ROW_WIDTH])
        return row, self.decode(row), found[_ROW_WIDTH:]

    @contextmanager
    def reading(self, *, alone: bool = False) -> Iterator[sa.Connection | Session]:
        """A plain read's connection (``read_sessions``' transaction without the ORM
        session around it: the case view, issue 10): on PostgreSQL in autocommit. A
        session for a repository bound to no engine. ``session_on`` makes a session of
        it when a read needs the ORM.

        ``alone``: on SQLite the transaction is left to ``snapshot``, so a first statement
        run before it is a read transaction of its own (SQLite's autocommit: one
        snapshot, and no ``BEGIN`` or ``ROLLBACK`` around it: a kept case view's one
        SELECT). Elsewhere the same as without it."""
        if self._read_engine is None:
            with self.read_sessions() as session:
                yield session
            return
        with self._read_engine.connect() as conn:
            if not (alone and self.sqlite):
                conn.begin()  # as a session's: the begin listeners (autocommit, the guard's)
            yield conn  # closing it rolls back: nothing is sent in autocommit

    @staticmethod
    def snapshot(reading: sa.Connection | Session) -> bool:
        """Begin the transaction ``reading(alone=True)`` left for later, for the
        statements that must share one snapshot. True when it begins only now: what was
        read before it is not in its snapshot (read it again in it)."""
        if isinstance(reading, Session) or reading.in_transaction():
            return False
        reading.begin()
        return True

    @contextmanager
    def session_on(self, reading: sa.Connection | Session) -> Iterator[Session]:
        """A session on ``reading``'s connection and transaction (``reading``): closing it
        leaves them to ``reading``."""
        if isinstance(reading, Session):
            yield reading
            return
        with self.sessions(bind=reading) as session:
            yield session

    def read(self, case_id: str) -> tuple[CaseRow, p.CaseState]:
        """``load`` in a session of its own (a read, no lock)."""
        with self.sessions() as session:
            return self.load(session, case_id)

    def decode(self, row: CaseRow) -> p.CaseState:
        """The row's CaseState, decoded once per version (a malformed state is never
        cached: the decoder says why each time)."""
        key = version_of(row)
        found = self._states.get(key)
        if found is None:
            found = p.case_from_json(row.state_text)  # its parts' texts kept
            if found.next_sequence != row.next_sequence:
                # saved before the chain position became the procedure's counter (it then
                # counted commands only): the chain's position is the one to check against
                found = replace(found, next_sequence=row.next_sequence)
            self._remember_state(key, found)
        return found

    def latest(self, case_id: str) -> tuple[int, Version, p.CaseState] | None:
        """(next position, version, state) of this process's last commit on the case: a
        hint for work done before the write lock, never a decision."""
        return self._latest.get(case_id)

    def chain_head(self, session: Session, case_id: str, *,
                   next_sequence: int | None = None) -> ChainHead:
        """Where the case's next step goes.

        ``next_sequence``: the locked case row's; when this process committed the step
        before that position, its remembered head is used (steps never change and a
        position is taken once, so the head of position n is the same for everyone)."""
        if next_sequence is not None:
            head = self._heads.get(case_id)
            if head is not None and head[0] == next_sequence:
                return head
        conn = session.connection()
        last = prepare(_LAST_STEP, conn.dialect, lambda: _LAST_STEP).first(
            conn, {"case_id": case_id})
        if last is None:
            return 0, ZERO_HASH, 0
        sequence, record_hash, record = last
        return (sequence + 1, bytes.fromhex(record_hash[2:]),
                int(str(record["message"]["signedAt"])))

    # -- writing --------------------------------------------------------------------------

    def writer(self) -> AbstractContextManager[Any]:
        """The writers' queue: on SQLite one writer at a time (this process's threads wait
        on a lock, the processes sharing the database file on its lock file, none in
        SQLite's busy handler: backend/db/writers.py). PostgreSQL: row locks, no lock."""
        return self.write_lock if self.sqlite else nullcontext()

    def writer_session(self) -> Session:
        """A new session for the holder of ``writer()``.

        On SQLite every write session of this process runs on one connection of its own
        (issue 10): SQLite drops a connection's page cache whenever another connection
        wrote since its last transaction, so a write on whichever pooled connection came
        next read its pages again (about 49 page reads per offer, measured with strace);
        on the writer's own connection only other processes' writes cost that. Only the
        holder of ``writer()`` uses it, one thread at a time. PostgreSQL: a pooled one."""
        if not self.sqlite or self._engine is None:
            return self.sessions()
        assert self.write_lock.locked(), "writer_session() is for the holder of writer()"
        conn = self._write_conn
        if conn is None or conn.closed or conn.invalidated:
            if conn is not None:
                conn.close()
            conn = self._write_conn = self._engine.connect()
        elif conn.in_transaction():  # a session that never began its own left one open
            conn.rollback()
        return self.sessions(bind=conn)

    def close(self) -> None:
        """Return the writer's connection (the service is shutting down)."""
        with self.writer():
            if self._write_conn is not None:
                self._write_conn.close()
                self._write_conn = None
        self.write_lock.close()

    @contextmanager
    def write_session(self) -> Iterator[Session]:
        """One write unit: the writer queue, a session, the write lock taken first
        (``begin_exclusive``: SQLite's BEGIN IMMEDIATE; a no-op on PostgreSQL). The caller
        commits; anything not committed is rolled back when the session closes."""
        with self.writer(), self.writer_session() as session:
            begin_exclusive(session)
            yield session

    def create(self, state: p.CaseState, *, order_id: int, buyer: str, seller: str,
               now: datetime) -> None:
        """Store a new (unfiled) case and its two parties; a case that exists already is
        left as it is (one case per order, so opening twice is harmless)."""
        with self.write_session() as session:
            if session.get(Case, state.case_id) is not None:
                session.rollback()
                return
            session.add(Case(id=state.case_id, order_id=str(order_id), claimant=buyer,
                             respondent=seller, stage=state.stage.value,
                             state=p.case_to_dict(state), next_sequence=0, created_at=now,
                             updated_at=now))
            session.flush()
            for addr, role in ((buyer, "buyer"), (seller, "seller")):
                session.add(Participant(case_id=state.case_id, address=addr, role=role,
                                        appointed_at=now))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()

    def save(self, session: Session, row: CaseRow, case: p.CaseState, now: datetime, *,
             before: p.CaseState | None = None, next_sequence: int | None = None,
             notices: Sequence[dict[str, object]] = ()) -> None:
        """Write ``case`` to its row (and new appointees as participants): one UPDATE of
        the columns that changed; ``row`` is updated to what was written.

        ``next_sequence``: the chain's next position when the caller knows it (one step
        stored after a checked position), else read from the steps. ``before``: the
        state the change started from (no appointment since: participants untouched).
        ``notices``: notices held back (``outbox.held_notices``), stored first: on
        PostgreSQL one alone in the UPDATE's statement (issue 10: one round trip fewer
        per step that notifies one party, as an offer does)."""
        new = {"state_text": p.case_to_json(case), "stage": case.stage.value,
               "next_sequence": next_sequence if next_sequence is not None
               else self.chain_head(session, row.id)[0],
               "next_deadline": p.next_deadline(case), "updated_at": now}
        if case.claimant is not None and case.respondent is not None:
            new["claimant"], new["respondent"] = case.claimant, case.respondent
        changed = {k: v for k, v in new.items() if getattr(row, k) != v}
        if notices and (self.sqlite or not changed or len(notices) > 1):
            # one by one, as enqueued: PostgreSQL runs a statement's data-modifying CTEs
            # in no promised order, and several notices keep their ids in order
            insert_held(session, notices)
            notices = ()
        if changed:
            params: dict[str, object] = {f"new_{k}": v for k, v in changed.items()}
            if notices:
                params.update(held_params(notices))
            statement = _update(frozenset(changed), self.sqlite, len(notices))
            conn = session.connection()
            prepare(statement, conn.dialect, lambda: statement).execute(
                conn, {**params, "case_id": row.id})
            for k, v in changed.items():
                setattr(row, k, v)
        wanted = _appointees(case)
        if before is not None and _appointees(before) == wanted:
            return  # no appointment in this step: the participants are as they were
        have = {(x.address, x.role) for x in session.exec(
            select(Participant).where(col(Participant.case_id) == row.id)).all()}
        for addr, role in wanted:
            if addr is not None and (addr, role) not in have:
                session.add(Participant(case_id=row.id, address=addr, role=role,
                                        appointed_at=now))
        session.flush()

    # -- the caches -------------------------------------------------------------------------

    def remember_step(self, case_id: str, version: Version, head: ChainHead,
                      state: p.CaseState) -> None:
        """After commit: the new version's decoded state (the next step of the case
        finds it instead of decoding the JSON it was just encoded to) and the chain head,
        so the next step of the case needs no select for it."""
        self._remember_state(version, state)
        with self._lock:
            self._heads[case_id] = head
            self._latest[case_id] = (head[0], version, state)
            for d in (self._heads, self._latest):
                if len(d) > STATE_CACHE_SIZE:
                    d.pop(next(iter(d)))

    def _remember_state(self, key: Version, state: p.CaseState) -> None:
        with self._lock:
            if len(self._states) >= STATE_CACHE_SIZE:
                self._states.pop(next(iter(self._states)))
            self._states[key] = state


def _appointees(case: p.CaseState) -> list[tuple[str | None, str]]:
    return [(case.mediator, "mediator"), (case.arbitrator, "arbitrator"),
            *((m, "panelist") for m in case.panel)]
