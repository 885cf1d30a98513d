"""The per-case index in the database (docs/log.md §14): every case's head as of a tree
size, the index tree the checkpointer signs, and one case's head with its proof.

Why at checkpoint time and not at each append: a signed action should not pay for the
index (measured: +0.7 ms of CPU per append on SQLite when every append updated its case's
row); the checkpointer extends the heads once per round, for the cases the round touched
(``extend_index``: one SELECT of the new entries, one of their cases' rows, one write per
touched case).

Why heads "as of" a size: ``log_case`` holds each case's newest head; a checkpoint (or a
package citing an older one) needs the heads of the log of n entries. A case whose last
entry is below n has its stored head; those appended to since are recomputed from their
entries below n. Cost: one SELECT of ``log_case`` and one hash per case per checkpoint
(the index tree), plus a SELECT per case appended to since n.
"""

from __future__ import annotations

from dataclasses import dataclass

import sqlalchemy as sa
from sqlmodel import Session, col, select

from backend.db.log_models import LOG_HEAD_ID, LogCase, LogEntry, LogIndexHead
from backend.db.rows import table_of
from evidence.log.caseindex import CaseHead, case_leaf, case_root, index_tree
from evidence.log.hashing import leaf_hash
from evidence.log.proofs import extend_frontier, root_from_frontier

from .store import index_size

__all__ = ["CaseIndexProof", "case_index_proof", "extend_index", "heads_at"]

_E = table_of(LogEntry)
_C = table_of(LogCase)
_I = table_of(LogIndexHead)


def _b(h: str) -> bytes:
    return bytes.fromhex(h[2:])


def _h(b: bytes) -> str:
    return "0x" + b.hex()


_LOCK_INDEX = sa.text(
    "INSERT INTO log_index_head (id, size) VALUES (:id, 0) "
    "ON CONFLICT (id) DO UPDATE SET size = log_index_head.size RETURNING size")


def extend_index(session: Session, size: int) -> None:
    """Bring every case's head up to the log of `size` entries, in the caller's write unit
    (the checkpointer's claim). Locks the ``log_index_head`` row first, so two workers
    extend it one after the other (PostgreSQL; SQLite's write lock already serialises);
    reads the entries appended since, once, and rewrites each touched case's row."""
    conn = session.connection()
    covered = int(conn.execute(_LOCK_INDEX, {"id": LOG_HEAD_ID}).scalar_one())
    if covered >= size:
        return
    entries = conn.execute(sa.select(_E.c.idx, _E.c.case_id, _E.c.entry).where(
        _E.c.idx >= covered, _E.c.idx < size).order_by(_E.c.idx)).all()
    touched = sorted({str(c) for _, c, _ in entries})
    heads: dict[str, tuple[int, int, list[bytes]]] = {}
    for start in range(0, len(touched), 500):
        for case, n, last, frontier in conn.execute(
                sa.select(_C.c.case_id, _C.c.size, _C.c.last_idx, _C.c.frontier).where(
                    _C.c.case_id.in_(touched[start:start + 500]))):
            heads[case] = (int(n), int(last), [_b(h) for h in frontier])
    known = set(heads)
    for idx, case, entry in entries:
        n, _, frontier = heads.get(case, (0, 0, []))
        n, frontier = extend_frontier(n, frontier, [leaf_hash(case_leaf(int(idx), _b(entry)))])
        heads[case] = (n, int(idx), frontier)
    for case in touched:
        n, last, frontier = heads[case]
        values = {"size": n, "last_idx": last, "root": _h(root_from_frontier(n, frontier)),
                  "frontier": [_h(h) for h in frontier]}
        if case in known:
            conn.execute(sa.update(_C).where(_C.c.case_id == case).values(**values))
        else:
            conn.execute(sa.insert(_C), {"case_id": case, **values})
    conn.execute(sa.update(_I).where(_I.c.id == LOG_HEAD_ID).values(size=size))


def heads_at(session: Session, size: int) -> list[CaseHead]:
    """Every case's head in the log of `size` entries, sorted by case id: a stored head
    when its case has no entry at or after `size` (nor in a part the index does not cover
    yet), else recomputed from the case's entries below `size`."""
    covered = index_size(session)
    stale = set()
    if size > covered:
        stale = {str(c) for (c,) in session.connection().execute(
            sa.select(_E.c.case_id).where(_E.c.idx >= covered, _E.c.idx < size).distinct())}
    out = []
    for case, n, last, root in session.exec(select(LogCase.case_id, LogCase.size,
                                                   LogCase.last_idx, LogCase.root)).all():
        if last < size and case not in stale:
            out.append(CaseHead(_b(case), int(n), int(last), _b(root)))
        else:
            stale.add(case)
    for case in sorted(stale):
        rows = session.exec(select(LogEntry.idx, LogEntry.entry).where(
            col(LogEntry.case_id) == case, col(LogEntry.idx) < size)
            .order_by(col(LogEntry.idx))).all()
        if rows:
            entries = [(int(i), _b(e)) for i, e in rows]
            out.append(CaseHead(_b(case), len(entries), entries[-1][0], case_root(entries)))
    return sorted(out, key=lambda h: h.case_id)


@dataclass(frozen=True)
class CaseIndexProof:
    """A case's head in the index of the log of `size` entries: its position among the
    `count` heads and its inclusion proof to the index root."""

    size: int
    count: int
    position: int
    head: CaseHead
    proof: list[bytes]
    root: bytes


def case_index_proof(session: Session, case_id: str, size: int) -> CaseIndexProof | None:
    """`case_id`'s head and proof in the index at `size` (None: no entry of it below)."""
    heads = heads_at(session, size)
    want = _b(case_id.lower())
    position = next((i for i, h in enumerate(heads) if h.case_id == want), None)
    if position is None:
        return None
    tree = index_tree(heads)
    return CaseIndexProof(size, len(heads), position, heads[position],
                          tree.inclusion_proof(position), tree.root())
