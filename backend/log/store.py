"""The log in the database: its node store, the append point, and the rebuild.

Rules of this module (docs/log.md, "Service"):

1. **Append in the record's transaction.** ``append_entry`` runs in the caller's write
   unit, the one that stores the record: the record and its entry commit together or not
   at all. A record is never accepted without its entry, and an entry never names a
   record that was rolled back.
2. **One counter row numbers the entries.** The first statement of an append is an upsert
   of ``log_head`` that adds the number of entries appended (one, or a unit's queue: rule
   8) and returns the new size. On PostgreSQL the row lock it takes is held until the
   transaction ends, so a second appender waits there and then reads the tree the first
   one committed (READ COMMITTED: a new snapshot per statement): indices follow commit
   order, with no gap and no duplicate. On SQLite the write lock (``BEGIN IMMEDIATE``,
   every write unit) already serialises writers.
3. **Nodes are written once.** Only complete nodes are stored (``evidence.log`` tree), as
   plain INSERTs in the same transaction; a crash (kill -9 at any point) loses the
   unfinished transaction, entry and nodes together, and nothing else.
4. **The entries are the log; the nodes are derived.** ``rebuild`` recomputes every node
   from the entries alone and compares (or, with ``repair``, rewrites) the stored ones.
5. **The per-case index is derived too, at checkpoint time.** An append does nothing for
   it (no cost on a signed action); the checkpointer extends each touched case's head
   (``log_case``) up to the size it signs (``backend.log.caseindex.extend_index``);
   ``rebuild`` recomputes the heads from the entries too (docs/log.md §14).
6. **The frontier is remembered, never trusted beyond its size.** An append needs the
   tree's frontier at its index. After a commit, this process keeps the frontier its own
   last append left (per engine), and a transaction keeps the one its previous append
   left; an append whose index (from the counter row) is that frontier's size uses it
   instead of reading the nodes back (issue 10: one SELECT less per record). Entries
   never change once committed, so the frontier of a size is the same for every writer;
   another process's append is a different size, hence a read. A transaction that rolls
   back publishes nothing; ``rebuild(repair=True)`` forgets what was kept.
7. **PostgreSQL: an append is one statement.** The upsert of rule 2 runs as a
   data-modifying CTE, the entries' INSERT is numbered by what it returns, and the nodes
   the append completes go in a third CTE: computed beforehand from the frontier of the
   index the append most likely gets (rule 6's, kept by this transaction or process),
   inserted only if the first entry got that very index. Otherwise (no frontier kept, or
   another process appended since) the statement writes the counter and the entries
   only, and the nodes follow as on SQLite. One round trip instead of three, the same row
   lock taken first, the same rows. SQLite has no DML in a CTE (and no round trip to
   save): three statements. The crash tests' points "counted", "entry" and "nodes" follow
   the statement in that order, still before the commit.
8. **A group's entries are appended last.** A write unit that ``defer_appends`` (the
   steps' group transactions, ``backend.services.transactions``) queues its appends and
   ``flush_appends`` appends them together just before its COMMIT (the commit calls it
   too, so rule 1 holds whatever the caller forgets; a rollback drops the queue): the
   counter row is upserted once by their count and the entries numbered from it in the
   order they were queued. Why: on PostgreSQL the counter's row lock is held to the
   commit, and an append at each step took it at the group's first step, so every later
   statement of the group (the next steps' case locks, rows, updates) ran while another
   process's group waited for it (issue 10, two workers); now it is held for one
   statement and the COMMIT. Nothing in the unit reads an entry's index before the
   commit (the receipt is made after it); ``Appended.index`` refuses to be read earlier.

No Merkle arithmetic lives here: the tree is ``evidence.log.MerkleLog`` over
``DbNodeStore``. The clock is the caller's (``now``); ``hook`` lets the crash tests kill
the process between the statements of an append.
"""

from __future__ import annotations

import threading
import weakref
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import sqlalchemy as sa
from sqlalchemy import event
from sqlmodel import Session, col, select

from backend.db.fast import prepare
from backend.db.log_models import LOG_HEAD_ID, LogCase, LogEntry, LogHead, LogIndexHead, LogNode
from backend.db.rows import table_of
from backend.db.types import UTCDateTime
from evidence.log.caseindex import case_leaf
from evidence.log.entry import LogEntry as EncodedEntry
from evidence.log.hashing import leaf_hash
from evidence.log.proofs import extend_frontier, root_from_frontier
from evidence.log.tree import MerkleLog, NodeKey

__all__ = [
    "Appended",
    "DbNodeStore",
    "RebuildReport",
    "append_entry",
    "defer_appends",
    "flush_appends",
    "log_size",
    "open_log",
    "rebuild",
]

# the crash tests' hook: called with "counted", "entry", "nodes" during an append
_hook: Callable[[str], None] = lambda _point: None  # noqa: E731

_ENTRY_COLUMNS = ("kind", "case_id", "record_hash", "signatures_hash", "entry", "ref_id",
                  "accepted_at")
_ONE_STATEMENT = frozenset({"postgresql"})  # the dialects that take rule 7's statement
_DEFER = "log.defer"  # session.info: this session's appends wait for the end of its unit
_QUEUE = "log.queue"  # session.info: (transaction, [(Appended, row values, encoded)])


def set_hook(hook: Callable[[str], None] | None) -> None:
    """Install the crash tests' hook (None: none)."""
    global _hook
    _hook = hook or (lambda _point: None)


def _h(b: bytes) -> str:
    return "0x" + b.hex()


_NODES = table_of(LogNode)
_INSERT_NODES = sa.insert(_NODES)  # statements built once: SQLAlchemy finds them compiled
_SELECT_ROWS: dict[int, sa.Select[Any]] = {}
_NODES_AT_ONCE = 64  # an append writes one node per level it completes (<= 64)


def _insert_nodes(n: int) -> sa.Insert:
    """INSERT of `n` nodes in one statement, bound as ``l0, i0, h0, ...``."""
    c = _NODES.c
    return sa.insert(_NODES).values([
        {c.level: sa.bindparam(f"l{k}", type_=c.level.type),
         c.idx: sa.bindparam(f"i{k}", type_=c.idx.type),
         c.hash: sa.bindparam(f"h{k}", type_=c.hash.type)} for k in range(n)])


def _select_row(n: int) -> sa.Select[Any]:
    """SELECT of `n` nodes by (level, idx), bound as ``l0, i0, ...``: built once per `n`
    (a frontier has one node per set bit of the size, so few shapes), where a tuple IN
    built per call was a new statement to compile each time."""
    found = _SELECT_ROWS.get(n)
    if found is None:
        c = _NODES.c
        built: sa.Select[Any] = sa.select(c.level, c.idx, c.hash).where(sa.or_(*(
            sa.and_(c.level == sa.bindparam(f"l{k}"), c.idx == sa.bindparam(f"i{k}"))
            for k in range(n))))
        _SELECT_ROWS[n] = found = built
    return found


class DbNodeStore:
    """``evidence.log.NodeStore`` on the ``log_node`` table, in the caller's session (and
    transaction): one SELECT per batch of keys, one multi-row INSERT per append."""

    def __init__(self, session: Session) -> None:
        self.session = session

    def get_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        if not keys:
            return {}
        out: dict[NodeKey, bytes] = {}
        conn = self.session.connection()
        unique = list(dict.fromkeys(keys))
        for start in range(0, len(unique), 64):  # bound the statement's parameters
            chunk = unique[start:start + 64]
            params: dict[str, int] = {}
            for k, (level, idx) in enumerate(chunk):
                params[f"l{k}"], params[f"i{k}"] = level, idx
            for level, idx, h in conn.execute(_select_row(len(chunk)), params):
                out[(int(level), int(idx))] = bytes.fromhex(h[2:])
        return out

    def put_nodes(self, nodes: Sequence[tuple[int, int, bytes]]) -> None:
        if not nodes:
            return
        conn = self.session.connection()
        if len(nodes) > _NODES_AT_ONCE:
            conn.execute(_INSERT_NODES, [{"level": level, "idx": idx, "hash": _h(h)}
                                         for level, idx, h in nodes])
            return
        # an append's few nodes: one multi-row INSERT compiled once per count, run on the
        # driver's cursor (backend.db.fast)
        n = len(nodes)
        params: dict[str, Any] = {}
        for k, (level, idx, h) in enumerate(nodes):
            params[f"l{k}"], params[f"i{k}"], params[f"h{k}"] = level, idx, _h(h)
        prepare(("log_nodes", n), conn.dialect, lambda: _insert_nodes(n)).execute(
            conn, params)


# Rule 5: the frontier after this process's last committed append, per engine (size,
# frontier hashes), and the pending one of the session's open transaction.
_committed: weakref.WeakKeyDictionary[Any, tuple[int, tuple[bytes, ...]]] = \
    weakref.WeakKeyDictionary()
_committed_lock = threading.Lock()
_PENDING = "log.frontier"  # session.info key: (transaction, engine, size, frontier)


def _engine_of(session: Session) -> sa.Engine:
    """The session's engine, also when the session is bound to one of its connections (the
    SQLite writer's own, ``CaseRepository.writer_session``): the kept frontier is the
    process's per database, whichever connection appended."""
    bind = session.get_bind()
    return bind.engine if isinstance(bind, sa.Connection) else bind


def _frontier_at(session: Session, index: int) -> tuple[Any, tuple[bytes, ...] | None]:
    """(the session's engine, the frontier of size `index` if kept), without a read."""
    engine = _engine_of(session)
    pending = session.info.get(_PENDING)
    if pending is not None and pending[0] is session.get_transaction() \
            and pending[1] is engine and pending[2] == index:
        return engine, pending[3]
    kept = _committed.get(engine)
    if kept is not None and kept[0] == index:
        return engine, kept[1]
    return engine, None


@event.listens_for(Session, "after_commit")
def _publish(session: Session) -> None:
    """The transaction committed: its last append's frontier becomes this process's."""
    pending = session.info.pop(_PENDING, None)
    if pending is not None and pending[0] is session.get_transaction():
        with _committed_lock:  # the latest commit's (any size is right for its size)
            _committed[pending[1]] = (pending[2], pending[3])


def forget_frontier(session: Session) -> None:
    """Drop the kept frontier of the session's engine (after the nodes were rewritten)."""
    session.info.pop(_PENDING, None)
    with _committed_lock:
        _committed.pop(_engine_of(session), None)


def log_size(session: Session) -> int:
    """The log's committed size as this session sees it (0 before the first append)."""
    size = session.exec(select(LogHead.size).where(col(LogHead.id) == LOG_HEAD_ID)).first()
    return int(size or 0)


def open_log(session: Session, size: int | None = None) -> MerkleLog:
    """The log's tree at its current size (or at `size`, no larger), over the database."""
    current = log_size(session)
    return MerkleLog.open(DbNodeStore(session), current if size is None else min(size, current))


class Appended:
    """Where an entry went: its index, the encoded entry and its leaf hash. An append made
    in a deferring write unit (``defer_appends``) is numbered when the unit's entries are
    appended, just before its commit: its index is read after that (the receipt is)."""

    __slots__ = ("_index", "accepted_at", "entry")

    def __init__(self, index: int | None, entry: EncodedEntry, accepted_at: datetime) -> None:
        self._index = index
        self.entry = entry
        self.accepted_at = accepted_at

    @property
    def index(self) -> int:
        if self._index is None:
            raise RuntimeError("this log entry is numbered when its write unit appends its "
                               "entries (flush_appends, before the commit); read it after")
        return self._index

    @property
    def numbered(self) -> bool:
        return self._index is not None

    @property
    def leaf_hash(self) -> bytes:
        return self.entry.leaf_hash()

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Appended):
            return NotImplemented
        return (self._index, self.entry, self.accepted_at) == \
            (other._index, other.entry, other.accepted_at)

    __hash__ = None  # type: ignore[assignment]  # mutable until numbered

    def __repr__(self) -> str:
        return f"Appended(index={self._index!r}, entry={self.entry!r}, " \
               f"accepted_at={self.accepted_at!r})"


_Queued = tuple[Appended, dict[str, Any], bytes]  # the entry, its row's values, its bytes


def defer_appends(session: Session) -> None:
    """From now on, this session's appends wait for the end of its write unit (rule 8):
    ``flush_appends`` (or the commit, which calls it) appends them in one go."""
    session.info[_DEFER] = True


def append_entry(session: Session, *, kind: str, case_id: str, value: Sequence[str],
                 ref_id: int | None, now: datetime) -> Appended:
    """Append one accepted record to the log, in the caller's write unit (rule 1); in a
    deferring session (rule 8) queue it for the unit's end and return it unnumbered.

    `value` is the record's StandardMerkleTree leaf (caseId, recordHash, signaturesHash),
    which is also what the log entry holds; `kind` is "step", "evidence" or "attachment".
    """
    entry = EncodedEntry.of(kind, value[0], value[1], value[2])
    if _h(entry.case_id) != case_id.lower():
        raise ValueError(f"log entry: the leaf names case {_h(entry.case_id)}, not {case_id}")
    encoded = entry.encode()
    values = {"kind": entry.kind.label, "case_id": _h(entry.case_id),
              "record_hash": _h(entry.record_hash),
              "signatures_hash": _h(entry.signatures_hash), "entry": _h(encoded),
              "ref_id": ref_id, "accepted_at": now}
    appended = Appended(None, entry, now)
    if session.info.get(_DEFER):
        transaction = session.get_transaction()
        queued: tuple[Any, list[_Queued]] | None = session.info.get(_QUEUE)
        if queued is None or queued[0] is not transaction:  # none yet, or a rolled back one's
            queued = (transaction, [])
            session.info[_QUEUE] = queued
        queued[1].append((appended, values, encoded))
        return appended
    _append(session, [(appended, values, encoded)])
    return appended


def flush_appends(session: Session) -> int:
    """Append the entries this session's write unit queued (rule 8), numbered in the order
    they were queued; returns how many. The unit's commit calls it too (rule 1)."""
    queued = session.info.pop(_QUEUE, None)
    if queued is None or queued[0] is not session.get_transaction() or not queued[1]:
        return 0
    _append(session, queued[1])
    return len(queued[1])


@event.listens_for(Session, "before_commit")
def _flush_before_commit(session: Session) -> None:
    """Rule 1 for deferred appends: no queued entry outlives its unit's commit."""
    if session.info.get(_QUEUE) is not None:
        flush_appends(session)


@event.listens_for(Session, "after_soft_rollback")
def _drop_queue(session: Session, previous_transaction: Any) -> None:
    """A rolled back unit's queued entries are dropped with it (never appended)."""
    queued = session.info.get(_QUEUE)
    if queued is not None and queued[0] is previous_transaction:
        del session.info[_QUEUE]


def _append(session: Session, items: Sequence[_Queued]) -> None:
    """Number `items` from the counter row (one upsert by their count, rule 2), insert
    their entries and the nodes they complete (rule 3), in the caller's transaction."""
    k = len(items)
    conn = session.connection()  # statements compiled once, on the driver's cursor
    engine = _engine_of(session)
    encoded = [e for _, _, e in items]
    params: dict[str, Any] = {"id": LOG_HEAD_ID}
    for j, (_, values, _) in enumerate(items):
        for c in _ENTRY_COLUMNS:
            params[f"{c}{j}"] = values[c]
    if conn.dialect.name in _ONE_STATEMENT:
        # one round trip (rule 7): the counter's upsert, the entries numbered by it and,
        # when the frontier of the index they most likely get is kept, their nodes; one
        # statement text whatever the counts (arrays), so it is compiled and prepared once
        expected = _expected(session, engine)
        taken = _Taken()
        guessed: MerkleLog | None = None
        if expected is not None:
            guessed = MerkleLog.resume(taken, expected[0], expected[1])
            guessed.extend(encoded)
        n = len(taken.nodes)
        utc = table_of(LogEntry).c.accepted_at.type
        assert isinstance(utc, UTCDateTime)
        arrays: dict[str, Any] = {
            "id": LOG_HEAD_ID, "k": k, "guess": -1 if expected is None else expected[0],
            **{c: [v[c] for _, v, _ in items] for c in _ENTRY_COLUMNS if c != "accepted_at"},
            "accepted_at": [utc.process_bind_param(v["accepted_at"], conn.dialect)
                            for _, v, _ in items],
            "levels": [lv for lv, _, _ in taken.nodes],
            "idxs": [i for _, i, _ in taken.nodes],
            "hashes": [_h(h) for _, _, h in taken.nodes]}
        counted = prepare("log_append", conn.dialect, _append_all).first(conn, arrays)
        assert counted is not None, "the statement returns the first entry's index"
        first = int(counted[0])
        _hook("counted")
        _number(items, first)
        if guessed is not None and int(counted[1]):  # the guess was right: nodes written
            assert expected is not None and int(counted[1]) == n and first == expected[0], (
                counted, expected)
            _hook("entry")
            session.info[_PENDING] = (session.get_transaction(), engine, first + k,
                                      tuple(guessed.frontier()))
            _hook("nodes")
            return
    else:
        counted = prepare(("log_count", k), conn.dialect, lambda: _count(k)).first(
            conn, {"id": LOG_HEAD_ID})
        assert counted is not None, "the upsert returns the new size"
        first = int(counted[0]) - k  # rule 2: ours alone until commit
        _hook("counted")
        params.update({f"idx{j}": first + j for j in range(k)})
        prepare(("log_entries", k), conn.dialect, lambda: _insert_entries(k)).execute(
            conn, params)
        _number(items, first)
    _hook("entry")
    store = DbNodeStore(session)
    engine, frontier = _frontier_at(session, first)  # rule 6
    tree = MerkleLog.open(store, first) if frontier is None else \
        MerkleLog.resume(store, first, frontier)
    got = tree.extend(encoded)
    assert got.start == first, (got, first)
    session.info[_PENDING] = (session.get_transaction(), engine, first + k,
                              tuple(tree.frontier()))
    _hook("nodes")


def _number(items: Sequence[_Queued], first: int) -> None:
    for j, (appended, _, _) in enumerate(items):
        appended._index = first + j


def _expected(session: Session, engine: Any) -> tuple[int, tuple[bytes, ...]] | None:
    """The size (and frontier) this session's transaction, else this process, left last:
    the index the next append most likely gets (rule 6's frontier, a guess only)."""
    pending = session.info.get(_PENDING)
    if pending is not None and pending[0] is session.get_transaction() \
            and pending[1] is engine:
        return pending[2], pending[3]
    return _committed.get(engine)


class _Taken:
    """A node store that only keeps what the tree puts: the nodes of an append computed
    before its index is known (``MerkleLog.resume`` and ``extend`` read nothing)."""

    def __init__(self) -> None:
        self.nodes: list[tuple[int, int, bytes]] = []

    def get_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        raise AssertionError("an append resumed from its frontier reads no node")

    def put_nodes(self, nodes: Sequence[tuple[int, int, bytes]]) -> None:
        self.nodes.extend(nodes)


def _upsert(k: int) -> str:
    """The counter's upsert by `k` entries (rule 2), returning the new size."""
    return (f"INSERT INTO log_head (id, size) VALUES (:id, {k:d}) ON CONFLICT (id) "
            f"DO UPDATE SET size = log_head.size + {k:d} RETURNING size")


def _count(k: int) -> sa.TextClause:
    return sa.text(_upsert(k))


def _insert_entries(k: int) -> sa.Insert:
    """SQLite: INSERT of `k` numbered entries in one statement (``idx0, kind0, ...``)."""
    c = table_of(LogEntry).c
    return sa.insert(table_of(LogEntry)).values([
        {c.idx: sa.bindparam(f"idx{j}", type_=c.idx.type),
         **{c[col_]: sa.bindparam(f"{col_}{j}", type_=c[col_].type)
            for col_ in _ENTRY_COLUMNS}} for j in range(k)])


def _append_all() -> sa.TextClause:
    """PostgreSQL (rule 7): the counter, ``k`` entries and their nodes in one statement,
    each column bound as an array (``kind``, ``case_id``, ... one element per entry;
    ``levels``, ``idxs``, ``hashes`` one per node): the entries numbered from the upserted
    size in the arrays' order, the nodes inserted only if the first entry got index
    ``guess``, the index they were computed for. Returns (the first entry's index, nodes
    inserted)."""
    return sa.text(
        "WITH head AS (INSERT INTO log_head (id, size) VALUES (:id, CAST(:k AS INTEGER)) "
        "ON CONFLICT (id) DO UPDATE SET size = log_head.size + CAST(:k AS INTEGER) "
        "RETURNING size), "
        f"entries AS (INSERT INTO log_entry (idx, {', '.join(_ENTRY_COLUMNS)}) "
        f"SELECT (SELECT size FROM head) - CAST(:k AS INTEGER) + v.o - 1, "
        f"{', '.join('v.' + c for c in _ENTRY_COLUMNS)} FROM unnest("
        "CAST(:kind AS VARCHAR[]), CAST(:case_id AS VARCHAR[]), "
        "CAST(:record_hash AS VARCHAR[]), CAST(:signatures_hash AS VARCHAR[]), "
        "CAST(:entry AS VARCHAR[]), CAST(:ref_id AS INTEGER[]), "
        "CAST(:accepted_at AS TIMESTAMPTZ[])) WITH ORDINALITY "
        f"AS v ({', '.join(_ENTRY_COLUMNS)}, o)), "
        "nodes AS (INSERT INTO log_node (level, idx, hash) SELECT * FROM unnest("
        "CAST(:levels AS INTEGER[]), CAST(:idxs AS BIGINT[]), CAST(:hashes AS VARCHAR[])) "
        "WHERE (SELECT size FROM head) - CAST(:k AS INTEGER) = CAST(:guess AS BIGINT) "
        "RETURNING 1) "
        "SELECT size - CAST(:k AS INTEGER), (SELECT count(*) FROM nodes) FROM head")


class _DictNodeStore:
    """The rebuild's in-memory store: every node by its key, to compare with the table."""

    def __init__(self) -> None:
        self.nodes: dict[NodeKey, bytes] = {}

    def get_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        return {k: self.nodes[k] for k in keys if k in self.nodes}

    def put_nodes(self, nodes: Sequence[tuple[int, int, bytes]]) -> None:
        for level, index, h in nodes:
            self.nodes[(level, index)] = h


@dataclass(frozen=True)
class RebuildReport:
    """What ``rebuild`` found: the size, the root recomputed from the entries, the root the
    stored nodes give (None if they are missing), and whether they were rewritten."""

    size: int
    root: bytes
    stored_root: bytes | None
    repaired: bool
    problems: tuple[str, ...] = ()

    @property
    def consistent(self) -> bool:
        return not self.problems and self.stored_root == self.root


def entries_in_order(session: Session) -> list[bytes]:
    """The encoded entries, index 0 first."""
    rows = session.exec(select(LogEntry.idx, LogEntry.entry).order_by(col(LogEntry.idx))).all()
    out = []
    for i, (idx, entry) in enumerate(rows):
        if idx != i:
            raise ValueError(f"log_entry: index {i} is missing (the next is {idx})")
        out.append(bytes.fromhex(entry[2:]))
    return out


def rebuild(session: Session, *, repair: bool = False) -> RebuildReport:
    """Recompute the tree from the entries alone (rule 4) and compare its root with the
    stored nodes'. With `repair` (in a write unit), replace the stored nodes by the
    recomputed ones when they differ or are missing."""
    problems: list[str] = []
    entries = entries_in_order(session)
    size = log_size(session)
    if size != len(entries):
        problems.append(f"log_head says {size} entries, log_entry holds {len(entries)}")
    memory = _DictNodeStore()
    tree = MerkleLog.of(entries, memory)
    root = tree.root()
    stored: bytes | None
    try:
        stored = MerkleLog.open(DbNodeStore(session), len(entries)).root()
    except Exception as exc:  # MissingNode: the store lost nodes
        problems.append(f"stored nodes: {exc}")
        stored = None
    want = memory.nodes
    have = nodes_of(session)
    differ = sorted(k for k in want.keys() | have.keys() if want.get(k) != have.get(k))
    if differ:
        problems.append(f"{len(differ)} stored node(s) differ from the entries' (the first: "
                        f"level {differ[0][0]}, index {differ[0][1]})")
    upto = min(index_size(session), len(entries))
    heads = case_heads(entries[:upto])
    have_heads = {str(c): (int(n), int(last), str(r), [str(h) for h in f])
                  for c, n, last, r, f in session.connection().execute(sa.select(
                      _CASE.c.case_id, _CASE.c.size, _CASE.c.last_idx, _CASE.c.root,
                      _CASE.c.frontier))}
    bad_heads = sorted(c for c in heads.keys() | have_heads.keys()
                       if heads.get(c) != have_heads.get(c))
    if bad_heads:
        problems.append(f"{len(bad_heads)} case head(s) of the per-case index differ from the "
                        f"entries' (the first: case {bad_heads[0]})")
    repaired = False
    if repair and (problems or stored != root):
        forget_frontier(session)
        session.execute(sa.delete(LogNode))
        DbNodeStore(session).put_nodes([(level, i, h) for (level, i), h in want.items()])
        session.connection().execute(_SET_SIZE, {"id": LOG_HEAD_ID, "size": len(entries)})
        session.execute(sa.delete(LogCase))
        heads = case_heads(entries)
        session.connection().execute(_SET_INDEXED, {"id": LOG_HEAD_ID, "size": len(entries)})
        if heads:
            session.connection().execute(sa.insert(table_of(LogCase)), [
                {"case_id": c, "size": n, "last_idx": last, "root": r, "frontier": f}
                for c, (n, last, r, f) in heads.items()])
        repaired = True
    return RebuildReport(len(entries), root, stored, repaired, tuple(problems))


def case_heads(entries: Sequence[bytes]) -> dict[str, tuple[int, int, str, list[str]]]:
    """Each case's head (size, last index, root, frontier; 0x-hex) recomputed from the
    encoded entries in index order: what ``log_case`` must hold."""
    acc: dict[str, tuple[int, int, list[bytes]]] = {}
    for idx, entry in enumerate(entries):
        case = _h(entry[2:34])
        size, _, frontier = acc.get(case, (0, 0, []))
        size, frontier = extend_frontier(size, frontier, [leaf_hash(case_leaf(idx, entry))])
        acc[case] = (size, idx, frontier)
    return {c: (n, last, _h(root_from_frontier(n, f)), [_h(h) for h in f])
            for c, (n, last, f) in acc.items()}


_CASE = table_of(LogCase)

_SET_INDEXED = sa.text(
    "INSERT INTO log_index_head (id, size) VALUES (:id, :size) "
    "ON CONFLICT (id) DO UPDATE SET size = :size")


def index_size(session: Session) -> int:
    """How many entries the per-case index covers (``log_index_head``; 0 before any)."""
    size = session.connection().execute(
        sa.select(table_of(LogIndexHead).c.size).where(
            table_of(LogIndexHead).c.id == LOG_HEAD_ID)).scalar()
    return int(size or 0)


_SET_SIZE = sa.text(
    "INSERT INTO log_head (id, size) VALUES (:id, :size) "
    "ON CONFLICT (id) DO UPDATE SET size = :size")


def nodes_of(session: Session) -> Mapping[NodeKey, bytes]:
    """Every stored node (tests and the rebuild's comparison)."""
    rows = session.exec(select(LogNode.level, LogNode.idx, LogNode.hash)).all()
    return {(int(lv), int(i)): bytes.fromhex(h[2:]) for lv, i, h in rows}
