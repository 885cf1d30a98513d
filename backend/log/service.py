"""The log's public side: receipts at acceptance, checkpoints with their anchors, proofs
and signed proofs of absence (docs/api.md, "The institution's log").

Why one object: every answer here is signed by the institution key or refers to the
checkpoints the worker signed, under one origin; ``LogService`` holds both and the
session factory, and reads only (a receipt is signed from what the step's transaction
returned; nothing here writes).

Sizes named by a request must be those of signed checkpoints carried by a batch (the
only tree heads anyone can hold the institution to); without a size, an inclusion proof
is to the first *anchored* checkpoint that covers the entry (what a receipt adds).
Leaves expose hashes only: the entry (kind, case id, record hash, signatures hash).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from itertools import pairwise
from typing import Annotated

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select
from typing_extensions import TypedDict

from backend.answers import AS_OBJECT, AS_OBJECTS, open_answer
from backend.db import AnchorBatch, AnchorInclusion, AnchorStatus
from backend.db.log_models import LogCheckpoint, LogEntry
from backend.services.errors import BadSubmission, Conflict, NotFound
from evidence.log.absence import MAX_ABSENCE_ENTRIES, AbsenceJson, issue_absence
from evidence.log.absence_index import (
    IndexAbsenceJson,
    PlacedHeadJson,
    issue_index_absence,
    placed_heads,
)
from evidence.log.caseindex import index_of, index_tree
from evidence.log.checkpoint import Checkpoint
from evidence.log.entry import LogEntry as EncodedEntry
from evidence.log.entry import LogEntryJson
from evidence.log.note import Note, NoteSigner
from evidence.log.receipt import ReceiptInclusionJson, ReceiptJson, issue_receipt_json

from .caseindex import heads_at
from .store import Appended, open_log

__all__ = [
    "AnchoredCheckpoint",
    "CaseLogJson",
    "CaseProofsJson",
    "CheckpointJson",
    "CheckpointsJson",
    "ConsistencyJson",
    "InclusionJson",
    "LeafJson",
    "LogService",
    "ReceiptsJson",
]

MAX_PAGE = 100


def _h(b: bytes) -> str:
    return "0x" + b.hex()


class ReceiptsJson(TypedDict):
    """The receipts a submission answers: its record's, and one for each provenance entry
    it logged (kind ``provenance``)."""

    receipt: ReceiptJson
    provenanceReceipts: list[ReceiptJson]


class BatchLeafJson(TypedDict):
    """The batch that carries a checkpoint: its root and the checkpoint's leaf in it."""

    root: str
    leafCount: int
    leaf: list[str] | None
    leafHash: str | None
    proof: list[str] | None


class AnchorJson(TypedDict):
    """Where a batch's root was anchored on one chain."""

    chainId: int
    contract: str
    status: str
    txHash: str | None
    blockNumber: int | None
    blockHash: str | None
    blockTime: str | None


@open_answer
class CheckpointJson(TypedDict):
    """A signed checkpoint (C2SP signed note), the batch leaf carrying it, its anchors."""

    size: int
    root: str
    checkpoint: str
    anchored: bool
    batch: Annotated[BatchLeafJson, AS_OBJECT]
    anchors: Annotated[list[AnchorJson], AS_OBJECTS]


@open_answer
class CheckpointsJson(TypedDict):
    """``GET /log/checkpoints``: anchored checkpoints, smallest first."""

    origin: str
    checkpoints: list[CheckpointJson]


@open_answer
class EntryJson(LogEntryJson):
    """A log entry as the public sees it: hashes only, when it was accepted."""

    leafHash: str  # noqa: N815 (JSON field names are camelCase)
    acceptedAt: str  # noqa: N815


@open_answer
class IndexedEntryJson(EntryJson):
    """An entry with its index in the log."""

    index: int


class ProvedEntryJson(IndexedEntryJson):
    """An entry with its inclusion proof to a checkpoint."""

    proof: list[str]


@open_answer
class InclusionJson(TypedDict):
    """``GET /log/proof/inclusion``: an entry and its inclusion proof to a checkpoint."""

    index: int
    size: int
    entry: EntryJson
    inclusion: Annotated[ReceiptInclusionJson, AS_OBJECT]  # a receipt's ``inclusion``
    anchored: bool


class SizedNoteJson(TypedDict):
    """A checkpoint named by its size, with its signed note."""

    size: int
    checkpoint: str


#: ``GET /log/proof/consistency``: the two checkpoints and the proof between them.
ConsistencyJson = TypedDict("ConsistencyJson", {
    "from": Annotated[SizedNoteJson, AS_OBJECT], "to": Annotated[SizedNoteJson, AS_OBJECT],
    "proof": list[str]})
open_answer(ConsistencyJson)


@open_answer
class LeafJson(TypedDict):
    """``GET /log/leaf/{record_hash}``: the entries naming a record hash."""

    recordHash: str
    entries: list[IndexedEntryJson]


class EntryAtJson(TypedDict):
    """A case's entry by index, encoded (0x-hex)."""

    index: int
    entry: str


@open_answer
class CaseLogJson(TypedDict):
    """A case's entries below a checkpoint's size and its place in that checkpoint's signed
    per-case index (docs/log.md §14)."""

    caseId: str
    size: int
    checkpoint: str
    heads: Annotated[list[PlacedHeadJson], AS_OBJECTS] | None  # None: no per-case index
    entries: Annotated[list[EntryAtJson], AS_OBJECTS]


ConsistencyStepJson = TypedDict("ConsistencyStepJson", {
    "from": int, "to": int, "proof": list[str]})


class CaseProofsJson(TypedDict):
    """Every entry of a case with its inclusion proof to one anchored checkpoint, and the
    anchored checkpoints up to it with the consistency proofs between them."""

    origin: str
    caseId: str
    size: int
    checkpoint: str
    entries: list[ProvedEntryJson]
    checkpoints: list[CheckpointJson]
    consistency: list[ConsistencyStepJson]


@dataclass(frozen=True)
class AnchoredCheckpoint:
    """A checkpoint carried by a batch: the note, its leaf in the batch and where the
    batch's root was anchored (one row per chain)."""

    row: LogCheckpoint
    batch: AnchorBatch
    inclusions: tuple[AnchorInclusion, ...]

    @property
    def anchored(self) -> bool:
        return self.batch.status == AnchorStatus.CONFIRMED

    def as_dict(self) -> CheckpointJson:
        return {
            "size": self.row.size, "root": self.row.root, "checkpoint": self.row.note,
            "anchored": self.anchored,
            "batch": {"root": self.batch.root, "leafCount": self.batch.leaf_count,
                      "leaf": self.row.leaf_value, "leafHash": self.row.leaf_hash,
                      "proof": self.row.proof},
            "anchors": [{
                "chainId": i.chain_id, "contract": i.contract, "status": i.status,
                "txHash": i.tx_hash, "blockNumber": i.block_number,
                "blockHash": i.block_hash,
                "blockTime": i.block_time.isoformat().replace("+00:00", "Z")
                if i.block_time is not None else None,
            } for i in self.inclusions],
        }


class LogService:
    """Receipts, checkpoints, proofs and statements of absence for one log."""

    def __init__(self, sessions: sessionmaker[Session], *, origin: str, signer: NoteSigner,
                 clock: Callable[[], datetime]) -> None:
        self.sessions = sessions
        self.origin = origin
        self.signer = signer
        self.clock = clock

    def __repr__(self) -> str:
        return f"LogService({self.origin!r}, {self.signer.address})"

    # -- receipts -----------------------------------------------------------------------

    def receipt(self, appended: Appended) -> ReceiptJson:
        """The signed receipt of an entry the caller's committed transaction appended."""
        return issue_receipt_json(origin=self.origin, index=appended.index,
                                  entry=appended.entry, accepted_at=appended.accepted_at,
                                  signer=self.signer)

    # -- checkpoints --------------------------------------------------------------------

    def _carried(self, session: Session, *, anchored_only: bool, after: int = -1,
                 limit: int = MAX_PAGE, size: int | None = None,
                 covering: int | None = None) -> list[AnchoredCheckpoint]:
        query = (select(LogCheckpoint, AnchorBatch)
                 .join(AnchorBatch, col(AnchorBatch.id) == col(LogCheckpoint.batch_id))
                 .where(col(LogCheckpoint.size) > after))
        if anchored_only:
            query = query.where(col(AnchorBatch.status) == AnchorStatus.CONFIRMED)
        if size is not None:
            query = query.where(col(LogCheckpoint.size) == size)
        if covering is not None:
            query = query.where(col(LogCheckpoint.size) > covering)
        rows = session.exec(query.order_by(col(LogCheckpoint.size), col(LogCheckpoint.id))
                            .limit(limit)).all()
        out = []
        for cp, batch in rows:
            incs = session.exec(select(AnchorInclusion)
                                .where(col(AnchorInclusion.batch_id) == batch.id)
                                .order_by(col(AnchorInclusion.id))).all()
            out.append(AnchoredCheckpoint(cp, batch, tuple(incs)))
        return out

    def latest(self) -> CheckpointJson:
        """The newest signed checkpoint (carried by a batch; anchored or on its way)."""
        with self.sessions() as session:
            row = session.exec(select(LogCheckpoint, AnchorBatch)
                               .join(AnchorBatch,
                                     col(AnchorBatch.id) == col(LogCheckpoint.batch_id))
                               .order_by(col(LogCheckpoint.size).desc(),
                                         col(LogCheckpoint.id).desc()).limit(1)).first()
            if row is None:
                raise NotFound("the log has no checkpoint yet: one is signed at the next "
                               "anchoring round", code="no_checkpoint_yet")
            found = self._carried(session, anchored_only=False, size=row[0].size, limit=1)
        return found[0].as_dict()

    def anchored_checkpoints(self, after: int = -1, limit: int = MAX_PAGE
                             ) -> list[AnchoredCheckpoint]:
        """Anchored checkpoints (batch confirmed on every chain), smallest size first, of
        size > `after`; one per size (the first carried)."""
        with self.sessions() as session:
            rows = self._carried(session, anchored_only=True, after=after, limit=limit * 4)
        seen: set[int] = set()
        out = []
        for cp in rows:
            if cp.row.size not in seen:
                seen.add(cp.row.size)
                out.append(cp)
        return out[:limit]

    def _checkpoint_of_size(self, session: Session, size: int, *,
                            anchored_only: bool = False) -> AnchoredCheckpoint:
        found = self._carried(session, anchored_only=anchored_only, size=size, limit=1)
        if not found:
            raise NotFound(f"no signed checkpoint has tree size {size}: ask "
                           "GET /log/checkpoints for the sizes", code="unknown_tree_size")
        return found[0]

    # -- proofs -------------------------------------------------------------------------

    def inclusion(self, index: int, size: int | None = None) -> InclusionJson:
        """Entry `index` and its inclusion proof to the checkpoint of `size` (default: the
        first anchored checkpoint covering it); ``inclusion`` is a receipt's unsigned half."""
        with self.sessions() as session:
            entry = session.get(LogEntry, index)
            if entry is None:
                raise NotFound(f"the log has no entry at index {index}",
                               code="unknown_log_entry")
            if size is None:
                found = self._carried(session, anchored_only=True, covering=index, limit=1)
                if not found:
                    raise Conflict(f"entry {index} is not covered by an anchored checkpoint "
                                   "yet: ask again after the next anchoring round",
                                   code="not_anchored_yet")
                cp = found[0]
            else:
                cp = self._checkpoint_of_size(session, size)
                if index >= size:
                    raise NotFound(f"entry {index} is not in the tree of size {size}",
                                   code="unknown_log_entry")
            proof = open_log(session, cp.row.size).inclusion_proof(index, cp.row.size)
        return {"index": index, "size": cp.row.size, "entry": self._entry_view(entry),
                "inclusion": {"checkpoint": cp.row.note, "proof": [_h(p) for p in proof]},
                "anchored": cp.anchored}

    def consistency(self, first: int, second: int) -> ConsistencyJson:
        """The consistency proof between the checkpoints of sizes `first` <= `second`."""
        if first > second:
            raise BadSubmission(f"from {first} is larger than to {second}: a log only grows",
                                code="bad_tree_sizes")
        with self.sessions() as session:
            a = self._checkpoint_of_size(session, first)
            b = self._checkpoint_of_size(session, second)
            proof = open_log(session, second).consistency_proof(first, second)
        return {"from": {"size": first, "checkpoint": a.row.note},
                "to": {"size": second, "checkpoint": b.row.note},
                "proof": [_h(p) for p in proof]}

    @staticmethod
    def _entry_view(row: LogEntry) -> EntryJson:
        entry = EncodedEntry.decode(bytes.fromhex(row.entry[2:]))
        return {**entry.to_json(), "leafHash": _h(entry.leaf_hash()),
                "acceptedAt": row.accepted_at.isoformat().replace("+00:00", "Z")}

    def leaf(self, record_hash: str) -> LeafJson:
        """Every entry naming `record_hash` (a carried record appended again with more
        signatures has several), lowest index first."""
        with self.sessions() as session:
            rows = session.exec(select(LogEntry).where(
                col(LogEntry.record_hash) == record_hash.lower()).order_by(col(LogEntry.idx))
            ).all()
            if not rows:
                raise NotFound(f"no log entry names record {record_hash}",
                               code="unknown_log_entry")
            return {"recordHash": record_hash.lower(),
                    "entries": [{"index": r.idx, **self._entry_view(r)} for r in rows]}

    # -- the case's view (for the package and the verifier) ------------------------------

    def case_proofs(self, case_id: str, size: int | None = None) -> CaseProofsJson:
        """Every entry of `case_id` with its inclusion proof to one anchored checkpoint
        covering them all (the smallest such, or the one of `size`), and the anchored
        checkpoints up to it with the consistency proof from each to the next: what a
        judicial package carries (issue 15 item 4)."""
        with self.sessions() as session:
            rows = session.exec(select(LogEntry).where(col(LogEntry.case_id) == case_id.lower())
                                .order_by(col(LogEntry.idx))).all()
            last = rows[-1].idx if rows else -1
            if size is None:
                found = self._carried(session, anchored_only=True, covering=last, limit=1)
                if not found:
                    raise Conflict(f"the case's last entry ({last}) is not covered by an "
                                   "anchored checkpoint yet", code="not_anchored_yet")
                target = found[0]
            else:
                target = self._checkpoint_of_size(session, size, anchored_only=True)
                if last >= size:
                    raise Conflict(f"the checkpoint of size {size} does not cover entry "
                                   f"{last} of the case", code="not_anchored_yet")
            tree = open_log(session, target.row.size)
            entries: list[ProvedEntryJson] = [{"index": r.idx, **self._entry_view(r),
                        "proof": [_h(p) for p in tree.inclusion_proof(r.idx)]} for r in rows]
        chain = [c for c in self.anchored_checkpoints(limit=10_000)
                 if c.row.size <= target.row.size]
        steps: list[ConsistencyStepJson] = []
        with self.sessions() as session:
            tree = open_log(session, target.row.size)
            for a, b in pairwise(chain):
                steps.append({"from": a.row.size, "to": b.row.size,
                              "proof": [_h(p) for p in tree.consistency_proof(a.row.size,
                                                                              b.row.size)]})
        return {"origin": self.origin, "caseId": case_id.lower(), "size": target.row.size,
                "checkpoint": target.row.note, "entries": entries,
                "checkpoints": [c.as_dict() for c in chain], "consistency": steps}

    # -- absence ------------------------------------------------------------------------

    def absence(self, case_id: str, first: int, second: int, by: str = "index"
                ) -> AbsenceJson | IndexAbsenceJson:
        """A signed statement that no entry of `case_id` entered the log between the
        anchored checkpoints of sizes `first` and `second` (checked before signing): by the
        per-case index when both checkpoints sign one (docs/log.md §8b) and `by` is
        "index", else by the entries between them (§8)."""
        if first > second:
            raise BadSubmission(f"from {first} is larger than to {second}: a log only grows",
                                code="bad_tree_sizes")
        if by == "index":
            with self.sessions() as session:
                a = self._checkpoint_of_size(session, first, anchored_only=True)
                b = self._checkpoint_of_size(session, second, anchored_only=True)
                indexed = all(index_of(Checkpoint.parse_body(Note.parse(c.row.note).text)
                                       .extensions) for c in (a, b))
                if indexed:
                    return self._absence_by_index(session, case_id, a.row.note, b.row.note,
                                                  first, second)
        if second - first > MAX_ABSENCE_ENTRIES:
            raise BadSubmission(f"{second - first} entries between the two checkpoints: at most "
                                f"{MAX_ABSENCE_ENTRIES} per statement; split the range",
                                code="absence_range_too_large")
        with self.sessions() as session:
            a = self._checkpoint_of_size(session, first, anchored_only=True)
            b = self._checkpoint_of_size(session, second, anchored_only=True)
            rows = session.exec(select(LogEntry).where(col(LogEntry.idx) >= first,
                                                       col(LogEntry.idx) < second)
                                .order_by(col(LogEntry.idx))).all()
            present = [r.idx for r in rows if r.case_id == case_id.lower()]
            if present:
                raise Conflict(f"case {case_id} has {len(present)} entries between sizes "
                               f"{first} and {second} (the first at index {present[0]}): it "
                               "is not absent", code="case_not_absent")
            frontier = open_log(session, first).frontier(first)
        entries = [EncodedEntry.decode(bytes.fromhex(r.entry[2:])) for r in rows]
        statement = issue_absence(origin=self.origin, case_id=bytes.fromhex(case_id[2:]),
                                  first=a.row.note, second=b.row.note, frontier=frontier,
                                  entries=entries, issued_at=self.clock(), signer=self.signer)
        return statement.to_json()

    def case_log(self, case_id: str, size: int) -> CaseLogJson:
        """The case's entries in the log of `size` (a signed checkpoint's) and its head in
        that checkpoint's signed per-case index (or its neighbours when it has none): a
        monitor follows the case with O(k + log C) data, not every entry of the log."""
        with self.sessions() as session:
            cp = self._checkpoint_of_size(session, size)
            placed = None  # a checkpoint signed before the index: the entries alone
            if index_of(Checkpoint.parse_body(Note.parse(cp.row.note).text).extensions):
                heads = heads_at(session, size)
                tree = index_tree(heads)
                placed = [p.to_json() for p in placed_heads(heads, tree.inclusion_proof,
                                                            bytes.fromhex(case_id[2:]))]
            rows = session.exec(select(LogEntry.idx, LogEntry.entry).where(
                col(LogEntry.case_id) == case_id, col(LogEntry.idx) < size)
                .order_by(col(LogEntry.idx))).all()
        return {"caseId": case_id, "size": size, "checkpoint": cp.row.note,
                "heads": placed,
                "entries": [{"index": int(i), "entry": e} for i, e in rows]}

    def _absence_by_index(self, session: Session, case_id: str, first_note: str,
                          second_note: str, first: int, second: int) -> IndexAbsenceJson:
        """Version 2: the case's head (or its neighbours) in each checkpoint's index and
        the consistency proof between them: O(log n + log C) hashes."""
        want = bytes.fromhex(case_id[2:])
        sides = []
        for size in (first, second):
            heads = heads_at(session, size)
            tree = index_tree(heads)
            sides.append(placed_heads(heads, tree.inclusion_proof, want))
        own = [[p.head for p in side if p.head.case_id == want] for side in sides]
        if own[1] and own[0] != own[1]:
            n = own[1][0].size - (own[0][0].size if own[0] else 0)
            raise Conflict(f"case {case_id} has {n} entries between sizes {first} and "
                           f"{second} (the last at index {own[1][0].last_index}): it is not "
                           "absent", code="case_not_absent")
        consistency = open_log(session, second).consistency_proof(first, second)
        statement = issue_index_absence(
            origin=self.origin, case_id=want, first=first_note, second=second_note,
            consistency=consistency, heads_first=sides[0], heads_second=sides[1],
            issued_at=self.clock(), signer=self.signer)
        return statement.to_json()

