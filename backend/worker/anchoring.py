"""The anchoring worker: pending leaves -> one Merkle root per batch -> EvidenceAnchor on
every configured chain.

Rules of this module (the theory is in docs/persistence.md, "The anchoring worker"):

0. **Every root to each chain.** The worker has one ``AnchorSender`` per anchoring chain.
   A claimed batch gets an ``AnchorInclusion`` row per chain in the claim's transaction,
   and rules 2-5 run per row: a chain that is down or refuses holds up only its own rows,
   the other chains go on, and the lagging one catches up when it is back. A batch is
   CONFIRMED once every inclusion is (set in the transaction confirming the last one).

1. **A leaf is claimed once.** ``claim_pending_leaves`` takes unbatched leaves with
   ``SELECT ... FOR UPDATE SKIP LOCKED`` on PostgreSQL (a second worker skips the rows the
   first holds and takes the next ones) and inside ``BEGIN IMMEDIATE`` on SQLite (one
   claimer at a time). In the same transaction it creates the batch row with its root and
   stores every leaf's proof, so a batch exists, with its root, before anything is sent.
2. **Write ahead, then send.** The signed raw transaction, its hash and nonce are committed
   (batch PENDING -> SENT) before the broadcast. A worker that dies after that point is
   replaced by one that rebroadcasts *the same bytes*: the node sees one transaction, never
   two. Every transition is a compare-and-set ``UPDATE ... WHERE status = ... AND ...``:
   when two workers race on a batch, exactly one wins and only the winner broadcasts.
3. **Reconcile before acting.** Before signing or rebroadcasting, the worker asks the chain
   (``AnchorSender.find_anchor``: EvidenceAnchor records each root once) whether the root
   is already anchored. If so it records that inclusion instead of sending again. This also
   covers a database that lost its last commits after the transaction went out.
4. **Durable chain before durable claim.** A batch becomes CONFIRMED only after the receipt
   has ``confirmations`` blocks, its block is still canonical, and ``make_durable()`` (the
   embedded chain's flush) returned: the database never claims more than the chain holds.
5. **Errors retry, nothing is dropped.** Chain errors count ``attempts`` and keep
   ``last_error``; a nonce taken by another transaction sends the batch back to PENDING to
   be signed again; after ``max_attempts`` a batch is FAILED, keeps its leaves, and
   ``retry_failed`` puts it back in the queue. A node that cannot be reached spends no
   attempt; the worker stops asking it for the rest of the round.

6. **Second date.** With a ``timestamper`` (an RFC 3161 client), every batch confirmed on
   at least one chain gets a token over SHA-256(root) in ``timestamp_token``; a failed
   request is retried next round and never holds up anchoring.

7. **The log's checkpoint rides in every batch.** With a ``checkpointer`` the claim signs
   the institution log's checkpoint (``backend.log.checkpoints``) and adds it as the
   batch's last StandardMerkleTree leaf, so the anchored root commits to the log's signed
   state too. A log not consistent with the last anchored checkpoint is refused: the
   worker claims nothing, records the refusal and logs it at CRITICAL (loudly, each round)
   until the log is repaired.

The worker does I/O only through its ``AnchorSender`` per chain and the session factory
(the database); the clock and a crash hook are injectable for tests.
"""

from __future__ import annotations

import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Protocol

import sqlalchemy as sa
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from backend.db import (
    AnchorBatch,
    AnchorInclusion,
    AnchorStatus,
    Leaf,
    LeafKind,
    begin_exclusive,
    is_postgres,
    rows_changed,
    utcnow,
)
from backend.db.log_models import LogCheckpoint
from backend.db.rows import insert_row
from backend.log.checkpoints import Checkpointer, CheckpointRefused
from backend.log.store import Appended, append_entry
from evidence.merkle import LEAF_ENCODING, StandardMerkleTree, leaf_hash

__all__ = [
    "AnchorSender",
    "AnchoringError",
    "AnchoringWorker",
    "BroadcastError",
    "Inclusion",
    "LeafMismatchError",
    "NonceConflictError",
    "RunReport",
    "SignedTx",
    "claim_pending_leaves",
    "enqueue_and_log",
    "enqueue_leaf",
    "leaf_row",
    "log_leaf",
    "retry_failed",
]

log = logging.getLogger(__name__)

# pg_advisory_lock key serialising nonce choice + broadcast across worker processes.
_SIGNING_LOCK_KEY = 0x636861726172  # "chaar"


class AnchoringError(Exception):
    """Base of the anchoring worker's errors."""


class LeafMismatchError(AnchoringError):
    """A stored leaf hash does not match its values: the row was altered."""


class BroadcastError(AnchoringError):
    """The node refused or could not take a transaction (retried later)."""


class NonceConflictError(BroadcastError):
    """The transaction's nonce was used by another transaction: sign again."""


@dataclass(frozen=True)
class SignedTx:
    raw: bytes
    tx_hash: str  # 0x-hex
    nonce: int


@dataclass(frozen=True)
class Inclusion:
    """Where a transaction (or the first anchoring of a root) landed."""

    tx_hash: str
    block_number: int
    block_hash: str
    block_time: datetime
    succeeded: bool = True


class AnchorSender(Protocol):
    """The chain side of anchoring: EvidenceAnchor on some chain, one signing account."""

    # Read-only, so an implementation may hold narrower types (web3's ChecksumAddress).
    @property
    def chain_id(self) -> int: ...

    @property
    def contract(self) -> str: ...

    def next_nonce(self) -> int:
        """The account's next nonce, counting transactions pending at the node."""
        ...

    def sign_anchor(self, root: bytes, count: int, nonce: int) -> SignedTx:
        """Sign ``anchor(root, count)`` locally; no I/O beyond fee data."""
        ...

    def broadcast(self, raw: bytes) -> None:
        """Send a signed transaction; a node that already has it is success.

        Raises NonceConflictError if its nonce is used, BroadcastError otherwise.
        """
        ...

    def receipt(self, tx_hash: str) -> Inclusion | None:
        """The transaction's inclusion, or None while it is not mined."""
        ...

    def find_anchor(self, root: bytes) -> Inclusion | None:
        """The inclusion of the transaction that first anchored `root`, or None."""
        ...

    def head(self) -> int:
        """The latest block number."""
        ...

    def block_hash(self, number: int) -> str | None:
        """The canonical hash of block `number` (None if there is none)."""
        ...

    def make_durable(self) -> None:
        """Return once the chain's state is on disk (the embedded chain's flush)."""
        ...


def _hex(b: bytes) -> str:
    return "0x" + b.hex()


def enqueue_leaf(
    session: Session, *, kind: LeafKind, ref_id: int, case_id: str, value: Sequence[str],
    log_kind: str | None = None, now: datetime | None = None,
) -> int:
    """Add a step's or evidence item's leaf to the anchoring queue and its entry to the
    institution's log, in the caller's write unit (``write_scope``; the caller commits).

    `value` is the StandardMerkleTree leaf (``evidence.merkle.record_leaf``). The unique
    constraints refuse a second leaf for the same item or the same leaf twice. Returns
    the leaf's id (``enqueue_and_log`` also returns the log position).
    """
    return enqueue_and_log(session, kind=kind, ref_id=ref_id, case_id=case_id, value=value,
                           log_kind=log_kind, now=now)[0]


def _insert_leaf(session: Session, kind: LeafKind, ref_id: int, case_id: str,
                 values: list[str]) -> int:
    """The queue's `leaf` row. A Core INSERT (backend/db/rows.py): one of a signed step's
    rows, in the caller's write unit, without the unit of work's flush (issue 10)."""
    leaf_id: int = insert_row(session, Leaf, {**leaf_row(kind, case_id, values),
                                              "ref_id": ref_id})
    return leaf_id


def leaf_row(kind: LeafKind, case_id: str, value: Sequence[str]) -> dict[str, object]:
    """A record's `leaf` row but its `ref_id` (the record's row id): for a caller that
    inserts the leaf with its record's row (``backend.db.blocks.insert_step_rows``) and
    then logs it (``log_leaf``), in one write unit."""
    values = [str(v) for v in value]
    return dict(kind=kind, case_id=case_id, value=values,
                leaf_hash=_hex(leaf_hash(LEAF_ENCODING, values)))


def log_leaf(session: Session, *, kind: LeafKind, ref_id: int, case_id: str,
             value: Sequence[str], log_kind: str | None = None,
             now: datetime | None = None) -> Appended:
    """The log entry of a leaf just inserted in this write unit (``enqueue_and_log``'s
    second half): every anchored leaf is in the log, appended in the same transaction
    (issue 15)."""
    return append_entry(session, kind=log_kind or str(kind), case_id=case_id,
                        value=[str(v) for v in value], ref_id=ref_id, now=now or utcnow())


def enqueue_and_log(
    session: Session, *, kind: LeafKind, ref_id: int, case_id: str, value: Sequence[str],
    log_kind: str | None = None, now: datetime | None = None,
) -> tuple[int, Appended]:
    """``enqueue_leaf``, returning the leaf's id and where its log entry went (the
    receipt's index). `log_kind` names the entry's kind when it is not the leaf's (an
    ``EvidenceSubmission`` step is a "step" leaf and an "evidence" entry). A contract of
    sale bound to its order is a "contract" leaf and entry: the judicial package carries
    it (``records/contract-of-sale.jsonl``), so the completeness check finds it."""
    leaf_id = _insert_leaf(session, kind, ref_id, case_id, [str(v) for v in value])
    return leaf_id, log_leaf(session, kind=kind, ref_id=ref_id, case_id=case_id,
                             value=value, log_kind=log_kind, now=now)


def claim_pending_leaves(session: Session, limit: int,
                         chains: Sequence[tuple[int, str]] = (),
                         checkpointer: Checkpointer | None = None) -> AnchorBatch | None:
    """Claim up to `limit` unbatched leaves into a new PENDING batch (caller commits), with
    a PENDING inclusion on each of `chains` ((chain id, contract) pairs). With a
    `checkpointer`, the batch also carries the log's checkpoint, signed now, as its last
    leaf (rule 7).

    Call it on a session with no open transaction; the claim (row locks on PostgreSQL,
    the write lock on SQLite) lasts until the caller commits or rolls back. Returns None
    when nothing is pending.

    Raises:
        LeafMismatchError: a leaf's stored hash is not the hash of its values.
        CheckpointRefused: the log is not consistent with the last anchored checkpoint.
    """
    if limit < 1:
        raise ValueError(f"limit must be >= 1, found {limit}")
    begin_exclusive(session)  # SQLite: serialise claimers; PostgreSQL: no-op
    query = select(Leaf).where(col(Leaf.batch_id).is_(None)).order_by(col(Leaf.id)).limit(limit)
    if is_postgres(session):
        query = query.with_for_update(skip_locked=True)
    leaves = list(session.exec(query).all())
    if not leaves:
        return None
    checkpoint = checkpointer.prepare(session) if checkpointer is not None else None
    values = [leaf.value for leaf in leaves]
    if checkpoint is not None:
        values.append(list(checkpoint.leaf))  # after the records: index len(leaves)
    tree = StandardMerkleTree.of(values, LEAF_ENCODING)
    for i, leaf in enumerate(leaves):
        if _hex(tree.leaf_hash_at(i)) != leaf.leaf_hash:
            raise LeafMismatchError(
                f"leaf {leaf.id} ({leaf.kind} {leaf.ref_id}): stored hash {leaf.leaf_hash} but "
                f"its values hash to {_hex(tree.leaf_hash_at(i))}; the row was altered, "
                "investigate before anchoring"
            )
    batch = AnchorBatch(root=_hex(tree.root), leaf_count=len(values))
    session.add(batch)
    session.flush()
    assert batch.id is not None
    if checkpoint is not None:
        n = len(leaves)
        session.add(LogCheckpoint(size=checkpoint.size, root=_hex(checkpoint.root),
                                  note=checkpoint.note, batch_id=batch.id,
                                  leaf_value=list(checkpoint.leaf),
                                  leaf_hash=_hex(tree.leaf_hash_at(n)),
                                  proof=[_hex(p) for p in tree.proof(n)]))
    for i, leaf in enumerate(leaves):
        leaf.batch_id = batch.id
        leaf.proof = [_hex(p) for p in tree.proof(i)]
        session.add(leaf)
    for chain_id, contract in chains:
        session.add(AnchorInclusion(batch_id=batch.id, chain_id=chain_id, contract=contract))
    session.flush()
    return batch


def retry_failed(session: Session) -> int:
    """Put FAILED inclusions back in the queue (operator action); returns how many (caller
    commits; open `session` with `write_scope`).

    A FAILED inclusion that had been SENT may still be mined from a node's pool; requeue it
    once its nonce is used by another transaction, or accept that EvidenceAnchor turns a
    second anchoring of the root into a cheap no-op (28,781 gas, no new record).
    """
    return rows_changed(
        session,
        sa.update(AnchorInclusion)
        .where(col(AnchorInclusion.status) == AnchorStatus.FAILED)
        .values(status=AnchorStatus.PENDING, raw_tx=None, tx_hash=None, nonce=None,
                attempts=0, updated_at=utcnow()),
    )


@dataclass
class RunReport:
    """What one `run_once` did: ids of batches claimed and stamped, ids of inclusions sent
    and confirmed (one per batch and chain), ids of batches confirmed on every chain."""

    claimed: list[int] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)
    completed: list[int] = field(default_factory=list)
    stamped: list[int] = field(default_factory=list)
    requeued: list[int] = field(default_factory=list)  # inclusions back to PENDING: sign again
    errors: list[str] = field(default_factory=list)
    unreachable: list[int] = field(default_factory=list)  # chain ids that did not answer
    refused: str | None = None  # why the log's checkpoint was refused (rule 7)

    @property
    def idle(self) -> bool:
        return not (self.claimed or self.sent or self.confirmed or self.stamped
                    or self.requeued or self.errors)


def node_unreachable(exc: BaseException) -> bool:
    """A refused, dropped or timed-out connection to the chain node (web3's HTTP provider
    raises requests' errors; the IPC and websocket providers raise the built-in ones)."""
    import requests

    return isinstance(exc, (requests.ConnectionError, requests.Timeout, ConnectionError,
                            TimeoutError))


@dataclass(frozen=True)
class _Work:
    """One inclusion to advance, with its batch's root and leaf count."""

    inclusion: AnchorInclusion
    root: bytes
    leaf_count: int

    @property
    def id(self) -> int:
        assert self.inclusion.id is not None  # a stored row has its key
        return self.inclusion.id


class AnchoringWorker:
    """Claims batches, then sends and confirms each batch's root on every chain; run it in as
    many processes as you like.

    Args:
        sessions: session factory for the service's database.
        sender: the chain side (``Web3AnchorSender`` or a fake), or one per anchoring chain
            (distinct chain ids; the first is the service's own chain).
        batch_limit: most leaves per batch (one root per batch whatever its size).
        confirmations: blocks, counting the inclusion block, before CONFIRMED.
        max_attempts: chain errors on one inclusion before it is FAILED.
        hook: called with a point name ("claimed", "signed", "broadcast", "confirmed");
            tests use it to kill the process at the worst moments.
        timestamper: digest -> RFC 3161 TimeStampResp DER (e.g.
            ``backend.timestamping.TsaPool``: the configured authorities, first that answers).
        checkpointer: signs the institution log's checkpoint that each batch carries
            (rule 7; ``backend.log.Checkpointer``). The service always passes one.
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        sender: AnchorSender | Sequence[AnchorSender],
        *,
        batch_limit: int = 1000,
        confirmations: int = 1,
        max_attempts: int = 20,
        hook: Callable[[str], None] | None = None,
        timestamper: Callable[[bytes], bytes] | None = None,
        checkpointer: Checkpointer | None = None,
    ) -> None:
        if confirmations < 1:
            raise ValueError(f"confirmations counts the inclusion block: >= 1, found "
                             f"{confirmations}")
        senders = list(sender) if isinstance(sender, Sequence) else [sender]
        if not senders:
            raise ValueError("the anchoring worker needs at least one chain")
        ids = [s.chain_id for s in senders]
        if len(set(ids)) != len(ids):
            raise ValueError(f"anchoring chains must have distinct chain ids, found {ids}")
        self.sessions = sessions
        self.senders: dict[int, AnchorSender] = {s.chain_id: s for s in senders}
        self.batch_limit = batch_limit
        self.confirmations = confirmations
        self.max_attempts = max_attempts
        self._hook = hook or (lambda _point: None)
        self.timestamper = timestamper
        self.checkpointer = checkpointer
        self._local_lock = threading.Lock()

    @property
    def sender(self) -> AnchorSender:
        """The first (the service's own) chain's sender."""
        return next(iter(self.senders.values()))

    @property
    def chains(self) -> list[tuple[int, str]]:
        """(chain id, contract) of every anchoring chain, in configuration order."""
        return [(s.chain_id, s.contract) for s in self.senders.values()]

    # -- the loop ------------------------------------------------------------------------
    def run_once(self) -> RunReport:
        """Claim every pending leaf into batches, then advance every open inclusion once."""
        report = RunReport()
        while True:
            with self.sessions() as session:
                try:
                    batch = claim_pending_leaves(session, self.batch_limit, self.chains,
                                                 self.checkpointer)
                except CheckpointRefused as exc:
                    session.rollback()
                    self._refuse_checkpoint(exc, report)
                    break
                if batch is None:
                    session.rollback()
                    break
                session.commit()
                assert batch.id is not None
                report.claimed.append(batch.id)
                log.info("claimed batch %s: %s leaves, root %s", batch.id, batch.leaf_count,
                         batch.root)
            self._hook("claimed")
        self._assign_orphans()
        for chain_id, sender in self.senders.items():
            self._advance_chain(chain_id, sender, report)
        if self.timestamper is not None:
            self._stamp_confirmed(report)
        return report

    def _refuse_checkpoint(self, refusal: CheckpointRefused, report: RunReport) -> None:
        """Rule 7: nothing claimed; the refusal is recorded (a ``log_checkpoint`` row with
        ``refused``, not carried by any batch, once per distinct refusal) and logged at
        CRITICAL, every round until the log is repaired."""
        why = str(refusal)
        log.critical("log checkpoint refused, nothing anchored this round: %s", why)
        report.errors.append(f"log checkpoint refused: {why}")
        report.refused = why
        root = _hex(refusal.root) if refusal.root else ""
        with self.sessions() as session:  # never signed: the note stays empty
            begin_exclusive(session)
            # one row per distinct refusal (the same one every round would fill the table)
            known = session.exec(select(LogCheckpoint.id).where(
                col(LogCheckpoint.batch_id).is_(None), col(LogCheckpoint.size) == refusal.size,
                col(LogCheckpoint.root) == root, col(LogCheckpoint.refused) == why[:4000])
            ).first()
            if known is None:
                session.add(LogCheckpoint(size=refusal.size, note="", refused=why[:4000],
                                          root=root))
            session.commit()

    def _assign_orphans(self) -> None:
        """Give this worker's chains to open batches that have no inclusion at all (claimed
        by `claim_pending_leaves` without chains, or migrated from before revision 0005)."""
        has_rows = sa.exists().where(col(AnchorInclusion.batch_id) == AnchorBatch.id)
        query = select(AnchorBatch.id).where(col(AnchorBatch.status) != AnchorStatus.CONFIRMED,
                                             ~has_rows)
        with self.sessions() as session:  # a read first: no write lock on a quiet round
            if not session.exec(query.limit(1)).first():
                return
        with self.sessions() as session:
            begin_exclusive(session)  # SQLite: one adopter at a time
            orphans = session.exec(query).all()
            for batch_id in orphans:
                assert batch_id is not None
                for chain_id, contract in self.chains:
                    session.add(AnchorInclusion(batch_id=batch_id, chain_id=chain_id,
                                                contract=contract))
            try:
                session.commit()
            except IntegrityError:  # PostgreSQL: another worker adopted them first
                session.rollback()

    def _advance_chain(self, chain_id: int, sender: AnchorSender, report: RunReport) -> None:
        """Advance every open inclusion on one chain; a node that does not answer ends this
        chain's round (one warning line), the other chains go on."""
        for work in self._open_work(chain_id):
            try:
                self._advance(sender, work, report)
            except BroadcastError as exc:
                report.errors.append(f"inclusion {work.id} (chain {chain_id}): {exc}")
            except Exception as exc:  # a chain/DB hiccup must not stop the other inclusions
                if node_unreachable(exc):
                    # The node is down, not the batch wrong: no attempt is spent (a long
                    # outage must not fail every batch) and its other rows wait too.
                    log.warning("chain %s: chain node unreachable (%s); its anchoring resumes "
                                "next round", chain_id, type(exc).__name__)
                    report.errors.append(f"chain {chain_id}: chain node unreachable")
                    report.unreachable.append(chain_id)
                    return
                log.exception("inclusion %s (chain %s): unexpected error", work.id, chain_id)
                self._record_error(work.id, f"{type(exc).__name__}: {exc}")
                report.errors.append(f"inclusion {work.id} (chain {chain_id}): {exc}")

    def _stamp_confirmed(self, report: RunReport) -> None:
        """Fetch an RFC 3161 token for each batch anchored somewhere that has none (rule 6)."""
        assert self.timestamper is not None
        with self.sessions() as session:
            anchored = sa.exists().where(col(AnchorInclusion.batch_id) == AnchorBatch.id,
                                         col(AnchorInclusion.status) == AnchorStatus.CONFIRMED)
            todo = session.exec(
                select(AnchorBatch.id, AnchorBatch.root)
                .where(col(AnchorBatch.timestamp_token).is_(None), anchored)
                .order_by(col(AnchorBatch.id)).limit(100)
            ).all()
        for batch_id, root in todo:
            assert batch_id is not None  # a stored row has its key
            digest = hashlib.sha256(bytes.fromhex(root[2:])).digest()
            try:
                token = self.timestamper(digest)
            except Exception as exc:  # the TSA is down: anchoring goes on, retry next round
                log.warning("batch %s: no timestamp token yet: %s", batch_id, exc)
                report.errors.append(f"batch {batch_id}: timestamp: {exc}")
                continue
            with self.sessions() as session:
                begin_exclusive(session)
                session.execute(
                    sa.update(AnchorBatch)
                    .where(col(AnchorBatch.id) == batch_id,
                           col(AnchorBatch.timestamp_token).is_(None))
                    .values(timestamp_token=token, updated_at=utcnow())
                )
                session.commit()
            report.stamped.append(batch_id)

    def run_forever(self, interval: float, stop: threading.Event,
                    wake: threading.Event | None = None) -> None:
        """`run_once` every `interval` seconds until `stop` is set.

        `wake` (optional) cuts a wait short: set it after a command adds leaves to anchor
        them at once (the demo's interval 0). Whoever sets `stop` should also set `wake`.
        With interval 0 an idle worker polls every 0.5 s; after errors it waits >= 1 s.
        """
        waiter = wake if wake is not None else stop
        while not stop.is_set():
            if wake is not None:
                wake.clear()
            try:
                report = self.run_once()
            except Exception:
                log.exception("anchoring round failed; retrying after the interval")
                report = RunReport(errors=["round failed"])
            if report.errors:
                delay = max(interval, 1.0)
            elif report.idle:
                delay = interval if interval > 0 else 0.5
            else:
                delay = interval  # 0: more work may be waiting, go again at once
            if delay > 0 and not stop.is_set():
                waiter.wait(delay)

    # -- per inclusion -------------------------------------------------------------------
    def _open_work(self, chain_id: int) -> list[_Work]:
        with self.sessions() as session:
            rows = session.exec(
                select(AnchorInclusion, AnchorBatch.root, AnchorBatch.leaf_count)
                .join(AnchorBatch, col(AnchorBatch.id) == col(AnchorInclusion.batch_id))
                .where(col(AnchorInclusion.chain_id) == chain_id,
                       col(AnchorInclusion.status).in_([AnchorStatus.PENDING,
                                                        AnchorStatus.SENT]))
                .order_by(col(AnchorInclusion.batch_id))
            ).all()
        return [_Work(inc, bytes.fromhex(root[2:]), count) for inc, root, count in rows]

    def _reload(self, work: _Work) -> _Work:
        with self.sessions() as session:
            inc = session.get(AnchorInclusion, work.id)
            assert inc is not None
            return _Work(inc, work.root, work.leaf_count)

    def _advance(self, sender: AnchorSender, work: _Work, report: RunReport) -> None:
        inc = work.inclusion
        if inc.status == AnchorStatus.PENDING:
            found = sender.find_anchor(work.root)  # rule 3: never anchor a root twice
            if found is not None:
                self._try_confirm(sender, work, found, report)
                return
            if not self._sign_and_send(sender, work, report):
                return
            work = self._reload(work)  # just sent: on an automining node it is mined
            inc = work.inclusion
            just_sent = True
        else:
            just_sent = False
        if inc.status != AnchorStatus.SENT or inc.tx_hash is None or inc.raw_tx is None:
            return
        inclusion = sender.receipt(inc.tx_hash)
        if inclusion is None:
            inclusion = sender.find_anchor(work.root)
        if inclusion is not None:
            if not inclusion.succeeded:
                self._back_to_pending(inc, f"transaction {inclusion.tx_hash} reverted", report)
                return
            self._try_confirm(sender, work, inclusion, report)
            return
        if just_sent:
            return
        # Not mined and root not anchored: the node lost it or never got it. Same bytes again.
        try:
            sender.broadcast(bytes.fromhex(inc.raw_tx[2:]))
        except NonceConflictError as exc:
            self._back_to_pending(inc, str(exc), report)
            return
        except BroadcastError as exc:
            self._record_error(work.id, str(exc))
            raise
        report.sent.append(work.id)
        inclusion = sender.receipt(inc.tx_hash)
        if inclusion is not None and inclusion.succeeded:
            self._try_confirm(sender, work, inclusion, report)

    def _sign_and_send(self, sender: AnchorSender, work: _Work, report: RunReport) -> bool:
        """Sign, record (write ahead), broadcast. True when this worker sent it."""
        with self._signing_lock(sender.chain_id):
            nonce = sender.next_nonce()
            signed = sender.sign_anchor(work.root, work.leaf_count, nonce)
            with self.sessions() as session:
                begin_exclusive(session)
                won = rows_changed(
                    session,
                    sa.update(AnchorInclusion)
                    .where(col(AnchorInclusion.id) == work.id,
                           col(AnchorInclusion.status) == AnchorStatus.PENDING,
                           col(AnchorInclusion.tx_hash).is_(None))
                    .values(status=AnchorStatus.SENT, raw_tx=_hex(signed.raw),
                            tx_hash=signed.tx_hash, nonce=signed.nonce,
                            contract=sender.contract, updated_at=utcnow()),
                )
                session.commit()
            if not won:
                return False  # another worker signed this inclusion; it broadcasts
            self._hook("signed")
            try:
                sender.broadcast(signed.raw)
            except NonceConflictError as exc:
                sent = AnchorInclusion(id=work.id, batch_id=work.inclusion.batch_id,
                                       chain_id=sender.chain_id, contract=sender.contract,
                                       status=AnchorStatus.SENT, tx_hash=signed.tx_hash,
                                       attempts=work.inclusion.attempts)
                self._back_to_pending(sent, str(exc), report)
                return False
            except BroadcastError as exc:
                self._record_error(work.id, str(exc))
                raise
        report.sent.append(work.id)
        log.info("batch %s sent on chain %s: tx %s nonce %s", work.inclusion.batch_id,
                 sender.chain_id, signed.tx_hash, nonce)
        self._hook("broadcast")
        return True

    def _try_confirm(self, sender: AnchorSender, work: _Work, inc: Inclusion,
                     report: RunReport) -> None:
        if sender.head() - inc.block_number + 1 < self.confirmations:
            return  # wait for more blocks
        if sender.block_hash(inc.block_number) != inc.block_hash:
            return  # reorganised away: the next round sees the new inclusion (or none)
        sender.make_durable()
        batch_id = work.inclusion.batch_id
        with self.sessions() as session:
            begin_exclusive(session)
            won = rows_changed(
                session,
                sa.update(AnchorInclusion)
                .where(col(AnchorInclusion.id) == work.id,
                       col(AnchorInclusion.status).in_([AnchorStatus.PENDING,
                                                        AnchorStatus.SENT]))
                .values(status=AnchorStatus.CONFIRMED, tx_hash=inc.tx_hash,
                        block_number=inc.block_number, block_hash=inc.block_hash,
                        block_time=inc.block_time, contract=sender.contract,
                        last_error=None, updated_at=utcnow()),
            )
            open_rows = sa.exists().where(col(AnchorInclusion.batch_id) == batch_id,
                                          col(AnchorInclusion.status) != AnchorStatus.CONFIRMED)
            completed = won and rows_changed(
                session,
                sa.update(AnchorBatch)
                .where(col(AnchorBatch.id) == batch_id,
                       col(AnchorBatch.status) != AnchorStatus.CONFIRMED, ~open_rows)
                .values(status=AnchorStatus.CONFIRMED, updated_at=utcnow()),
            )
            session.commit()
        if won:
            report.confirmed.append(work.id)
            if completed:
                report.completed.append(batch_id)
            log.info("batch %s confirmed on chain %s in block %s (tx %s)", batch_id,
                     sender.chain_id, inc.block_number, inc.tx_hash)
            self._hook("confirmed")

    def _back_to_pending(self, inc: AnchorInclusion, why: str, report: RunReport) -> None:
        """Forget a transaction that can never be mined (its nonce went to another); the
        round did work (`requeued`), so a caller looping until idle goes on."""
        with self.sessions() as session:
            begin_exclusive(session)
            session.execute(
                sa.update(AnchorInclusion)
                .where(col(AnchorInclusion.id) == inc.id,
                       col(AnchorInclusion.status) == AnchorStatus.SENT,
                       col(AnchorInclusion.tx_hash) == inc.tx_hash)
                .values(status=self._status_after_error(inc.attempts + 1), raw_tx=None,
                        tx_hash=None, nonce=None, attempts=inc.attempts + 1,
                        last_error=why[:2000], updated_at=utcnow())
            )
            session.commit()
        assert inc.id is not None
        report.requeued.append(inc.id)
        log.warning("batch %s on chain %s back to pending: %s", inc.batch_id, inc.chain_id, why)

    def _status_after_error(self, attempts: int) -> AnchorStatus:
        return AnchorStatus.FAILED if attempts >= self.max_attempts else AnchorStatus.PENDING

    def _record_error(self, inclusion_id: int, why: str) -> None:
        with self.sessions() as session:
            begin_exclusive(session)
            inc = session.get(AnchorInclusion, inclusion_id)
            if inc is None or inc.status not in (AnchorStatus.PENDING, AnchorStatus.SENT):
                return
            inc.last_error = why[:2000]
            inc.attempts += 1
            if inc.attempts >= self.max_attempts:
                inc.status = AnchorStatus.FAILED  # a SENT one keeps its bytes for the record
            inc.updated_at = utcnow()
            session.add(inc)
            session.commit()

    # -- signing lock --------------------------------------------------------------------
    class _Lock:
        def __init__(self, worker: AnchoringWorker, key: int) -> None:
            self.worker = worker
            self.key = key
            self.session: Session | None = None

        def __enter__(self) -> None:
            self.worker._local_lock.acquire()
            try:
                session = self.worker.sessions()
                if is_postgres(session):
                    session.execute(sa.text("SELECT pg_advisory_lock(:k)"), {"k": self.key})
                    self.session = session
                else:
                    session.close()
            except BaseException:
                self.worker._local_lock.release()
                raise

        def __exit__(self, *exc: object) -> None:
            try:
                if self.session is not None:
                    self.session.execute(sa.text("SELECT pg_advisory_unlock(:k)"),
                                         {"k": self.key})
                    self.session.commit()
                    self.session.close()
            finally:
                self.worker._local_lock.release()

    def _signing_lock(self, chain_id: int) -> AnchoringWorker._Lock:
        """Serialise nonce choice + broadcast among workers, per chain (an optimisation:
        correctness comes from rules 2 and 3; without it two workers would just retry a
        nonce)."""
        return AnchoringWorker._Lock(self, (_SIGNING_LOCK_KEY ^ chain_id) & 0x7FFF_FFFF_FFFF_FFFF)
