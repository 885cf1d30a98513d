"""The per-case index in the database (docs/log.md §14): every case's head as of a tree
size, the index tree the checkpointer signs, and one case's head with its proof.

Why heads "as of" a size: ``log_case`` holds each case's newest head; a checkpoint (or a
package citing an older one) needs the heads of the log of n entries. A case whose last
entry is below n has its newest head; the few appended to since are recomputed from
their entries below n. Cost: one SELECT of ``log_case`` and one hash per case per
checkpoint (the index tree), plus a SELECT per case appended to since n.
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlmodel import Session, col, select

from backend.db.log_models import LogCase, LogEntry
from evidence.log.caseindex import CaseHead, case_root, index_tree

__all__ = ["CaseIndexProof", "case_index_proof", "heads_at"]


def _b(h: str) -> bytes:
    return bytes.fromhex(h[2:])


def heads_at(session: Session, size: int) -> list[CaseHead]:
    """Every case's head in the log of `size` entries, sorted by case id."""
    out = []
    for case, n, last, root in session.exec(select(LogCase.case_id, LogCase.size,
                                                   LogCase.last_idx, LogCase.root)).all():
        if last < size:
            out.append(CaseHead(_b(case), int(n), int(last), _b(root)))
            continue
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
