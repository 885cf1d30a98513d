"""The anchoring worker: pending leaves -> one Merkle root per batch -> EvidenceAnchor.

Rules of this module (the theory is in docs/persistence.md, "Anchoring"):

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
   ``retry_failed`` puts it back in the queue.

6. **Second date.** With a ``timestamper`` (an RFC 3161 client), every confirmed batch gets
   a token over SHA-256(root) in ``timestamp_token``; a failed request is retried next round
   and never holds up anchoring.

The worker does I/O only through an ``AnchorSender`` (the chain) and the session factory
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
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from backend.db import (
    AnchorBatch,
    AnchorStatus,
    Leaf,
    LeafKind,
    begin_exclusive,
    is_postgres,
    rows_changed,
    utcnow,
)
from backend.db.rows import insert_row
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
    "enqueue_leaf",
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
    session: Session, *, kind: LeafKind, ref_id: int, case_id: str, value: Sequence[str]
) -> int:
    """Add a step's or evidence item's leaf to the anchoring queue, in the caller's write
    unit (``write_scope``; the caller commits).

    `value` is the StandardMerkleTree leaf (``evidence.merkle.record_leaf``). The unique
    constraints refuse a second leaf for the same item or the same leaf twice. Returns
    the leaf's id.
    """
    values = [str(v) for v in value]
    row = dict(kind=kind, ref_id=ref_id, case_id=case_id, value=values,
               leaf_hash=_hex(leaf_hash(LEAF_ENCODING, values)))
    # a Core INSERT (backend/db/rows.py): one of a signed step's rows, in the caller's
    # write unit, without the unit of work's flush (issue 10)
    leaf_id: int = insert_row(session, Leaf, row)
    return leaf_id


def claim_pending_leaves(session: Session, limit: int) -> AnchorBatch | None:
    """Claim up to `limit` unbatched leaves into a new PENDING batch (caller commits).

    Call it on a session with no open transaction; the claim (row locks on PostgreSQL,
    the write lock on SQLite) lasts until the caller commits or rolls back. Returns None
    when nothing is pending.

    Raises:
        LeafMismatchError: a leaf's stored hash is not the hash of its values.
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
    tree = StandardMerkleTree.of([leaf.value for leaf in leaves], LEAF_ENCODING)
    for i, leaf in enumerate(leaves):
        if _hex(tree.leaf_hash_at(i)) != leaf.leaf_hash:
            raise LeafMismatchError(
                f"leaf {leaf.id} ({leaf.kind} {leaf.ref_id}): stored hash {leaf.leaf_hash} but "
                f"its values hash to {_hex(tree.leaf_hash_at(i))}; the row was altered, "
                "investigate before anchoring"
            )
    batch = AnchorBatch(root=_hex(tree.root), leaf_count=len(leaves))
    session.add(batch)
    session.flush()
    for i, leaf in enumerate(leaves):
        leaf.batch_id = batch.id
        leaf.proof = [_hex(p) for p in tree.proof(i)]
        session.add(leaf)
    session.flush()
    return batch


def retry_failed(session: Session) -> int:
    """Put FAILED batches back in the queue (operator action); returns how many (caller
    commits; open `session` with `write_scope`).

    A FAILED batch that had been SENT may still be mined from a node's pool; requeue it
    once its nonce is used by another transaction, or accept that EvidenceAnchor turns a
    second anchoring of the root into a cheap no-op (28,781 gas, no new record).
    """
    return rows_changed(
        session,
        sa.update(AnchorBatch)
        .where(col(AnchorBatch.status) == AnchorStatus.FAILED)
        .values(status=AnchorStatus.PENDING, raw_tx=None, tx_hash=None, nonce=None,
                attempts=0, updated_at=utcnow()),
    )


@dataclass
class RunReport:
    """What one `run_once` did (ids of batches)."""

    claimed: list[int] = field(default_factory=list)
    sent: list[int] = field(default_factory=list)
    confirmed: list[int] = field(default_factory=list)
    stamped: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)

    @property
    def idle(self) -> bool:
        return not (self.claimed or self.sent or self.confirmed or self.stamped or self.errors)


def _node_unreachable(exc: BaseException) -> bool:
    """A refused, dropped or timed-out connection to the chain node (web3's HTTP provider
    raises requests' errors; the IPC and websocket providers raise the built-in ones)."""
    import requests

    return isinstance(exc, (requests.ConnectionError, requests.Timeout, ConnectionError,
                            TimeoutError))


class AnchoringWorker:
    """Claims, sends and confirms anchor batches; run it in as many processes as you like.

    Args:
        sessions: session factory for the service's database.
        sender: the chain side (``Web3AnchorSender`` or a fake).
        batch_limit: most leaves per batch (one root per batch whatever its size).
        confirmations: blocks, counting the inclusion block, before CONFIRMED.
        max_attempts: chain errors on one batch before it is FAILED.
        hook: called with a point name ("claimed", "signed", "broadcast", "confirmed");
            tests use it to kill the process at the worst moments.
        timestamper: digest -> RFC 3161 TimeStampResp DER (e.g.
            ``backend.timestamping.TsaPool``: the configured authorities, first that answers).
    """

    def __init__(
        self,
        sessions: sessionmaker[Session],
        sender: AnchorSender,
        *,
        batch_limit: int = 1000,
        confirmations: int = 1,
        max_attempts: int = 20,
        hook: Callable[[str], None] | None = None,
        timestamper: Callable[[bytes], bytes] | None = None,
    ) -> None:
        if confirmations < 1:
            raise ValueError(f"confirmations counts the inclusion block: >= 1, found "
                             f"{confirmations}")
        self.sessions = sessions
        self.sender = sender
        self.batch_limit = batch_limit
        self.confirmations = confirmations
        self.max_attempts = max_attempts
        self._hook = hook or (lambda _point: None)
        self.timestamper = timestamper
        self._local_lock = threading.Lock()

    # -- the loop ------------------------------------------------------------------------
    def run_once(self) -> RunReport:
        """Claim every pending leaf into batches, then advance every open batch once."""
        report = RunReport()
        while True:
            with self.sessions() as session:
                batch = claim_pending_leaves(session, self.batch_limit)
                if batch is None:
                    session.rollback()
                    break
                batch.chain_id = self.sender.chain_id
                batch.contract = self.sender.contract
                session.add(batch)
                session.commit()
                assert batch.id is not None
                report.claimed.append(batch.id)
                log.info("claimed batch %s: %s leaves, root %s", batch.id, batch.leaf_count,
                         batch.root)
            self._hook("claimed")
        for batch_id in self._open_batch_ids():
            try:
                self._advance(batch_id, report)
            except BroadcastError as exc:
                report.errors.append(f"batch {batch_id}: {exc}")
            except Exception as exc:  # a chain/DB hiccup must not stop the other batches
                if _node_unreachable(exc):
                    # The node is down, not the batch wrong: no attempt is spent (a long
                    # outage must not fail every batch) and one line is logged per round.
                    log.warning("batch %s: chain node unreachable (%s); retried next round",
                                batch_id, type(exc).__name__)
                    report.errors.append(f"batch {batch_id}: chain node unreachable")
                    continue
                log.exception("batch %s: unexpected error", batch_id)
                self._record_error(batch_id, f"{type(exc).__name__}: {exc}")
                report.errors.append(f"batch {batch_id}: {exc}")
        if self.timestamper is not None:
            self._stamp_confirmed(report)
        return report

    def _stamp_confirmed(self, report: RunReport) -> None:
        """Fetch an RFC 3161 token for each confirmed batch that has none (rule 6)."""
        assert self.timestamper is not None
        with self.sessions() as session:
            todo = session.exec(
                select(AnchorBatch.id, AnchorBatch.root)
                .where(col(AnchorBatch.status) == AnchorStatus.CONFIRMED,
                       col(AnchorBatch.timestamp_token).is_(None))
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

    # -- per batch -----------------------------------------------------------------------
    def _open_batch_ids(self) -> list[int]:
        with self.sessions() as session:
            rows = session.exec(
                select(AnchorBatch.id)
                .where(col(AnchorBatch.status).in_([AnchorStatus.PENDING, AnchorStatus.SENT]))
                .order_by(col(AnchorBatch.id))
            ).all()
        return [int(r) for r in rows if r is not None]

    def _load(self, batch_id: int) -> AnchorBatch:
        with self.sessions() as session:
            batch = session.get(AnchorBatch, batch_id)
            assert batch is not None
            return batch

    def _advance(self, batch_id: int, report: RunReport) -> None:
        batch = self._load(batch_id)
        root = bytes.fromhex(batch.root[2:])
        if batch.status == AnchorStatus.PENDING:
            found = self.sender.find_anchor(root)  # rule 3: never anchor a root twice
            if found is not None:
                self._try_confirm(batch, found, report)
                return
            if not self._sign_and_send(batch, report):
                return
            batch = self._load(batch_id)  # just sent: on an automining node it is mined
            just_sent = True
        else:
            just_sent = False
        if batch.status != AnchorStatus.SENT or batch.tx_hash is None or batch.raw_tx is None:
            return
        inclusion = self.sender.receipt(batch.tx_hash)
        if inclusion is None:
            inclusion = self.sender.find_anchor(root)
        if inclusion is not None:
            if not inclusion.succeeded:
                self._back_to_pending(batch, f"transaction {inclusion.tx_hash} reverted")
                return
            self._try_confirm(batch, inclusion, report)
            return
        if just_sent:
            return
        # Not mined and root not anchored: the node lost it or never got it. Same bytes again.
        try:
            self.sender.broadcast(bytes.fromhex(batch.raw_tx[2:]))
        except NonceConflictError as exc:
            self._back_to_pending(batch, str(exc))
            return
        except BroadcastError as exc:
            self._record_error(batch_id, str(exc))
            raise
        report.sent.append(batch_id)
        inclusion = self.sender.receipt(batch.tx_hash)
        if inclusion is not None and inclusion.succeeded:
            self._try_confirm(batch, inclusion, report)

    def _sign_and_send(self, batch: AnchorBatch, report: RunReport) -> bool:
        """Sign, record (write ahead), broadcast. True when this worker sent it."""
        assert batch.id is not None
        with self._signing_lock():
            nonce = self.sender.next_nonce()
            signed = self.sender.sign_anchor(bytes.fromhex(batch.root[2:]), batch.leaf_count,
                                             nonce)
            with self.sessions() as session:
                begin_exclusive(session)
                won = rows_changed(
                    session,
                    sa.update(AnchorBatch)
                    .where(col(AnchorBatch.id) == batch.id,
                           col(AnchorBatch.status) == AnchorStatus.PENDING,
                           col(AnchorBatch.tx_hash).is_(None))
                    .values(status=AnchorStatus.SENT, raw_tx=_hex(signed.raw),
                            tx_hash=signed.tx_hash, nonce=signed.nonce,
                            chain_id=self.sender.chain_id, contract=self.sender.contract,
                            updated_at=utcnow()),
                )
                session.commit()
            if not won:
                return False  # another worker signed this batch; it broadcasts
            self._hook("signed")
            try:
                self.sender.broadcast(signed.raw)
            except NonceConflictError as exc:
                batch.status, batch.tx_hash = AnchorStatus.SENT, signed.tx_hash
                self._back_to_pending(batch, str(exc))
                return False
            except BroadcastError as exc:
                self._record_error(batch.id, str(exc))
                raise
        report.sent.append(batch.id)
        log.info("batch %s sent: tx %s nonce %s", batch.id, signed.tx_hash, nonce)
        self._hook("broadcast")
        return True

    def _try_confirm(self, batch: AnchorBatch, inc: Inclusion, report: RunReport) -> None:
        assert batch.id is not None
        if self.sender.head() - inc.block_number + 1 < self.confirmations:
            return  # wait for more blocks
        if self.sender.block_hash(inc.block_number) != inc.block_hash:
            return  # reorganised away: the next round sees the new inclusion (or none)
        self.sender.make_durable()
        with self.sessions() as session:
            begin_exclusive(session)
            won = rows_changed(
                session,
                sa.update(AnchorBatch)
                .where(col(AnchorBatch.id) == batch.id,
                       col(AnchorBatch.status).in_([AnchorStatus.PENDING, AnchorStatus.SENT]))
                .values(status=AnchorStatus.CONFIRMED, tx_hash=inc.tx_hash,
                        block_number=inc.block_number, block_hash=inc.block_hash,
                        block_time=inc.block_time, chain_id=self.sender.chain_id,
                        contract=self.sender.contract, last_error=None, updated_at=utcnow()),
            )
            session.commit()
        if won:
            report.confirmed.append(batch.id)
            log.info("batch %s confirmed in block %s (tx %s)", batch.id, inc.block_number,
                     inc.tx_hash)
            self._hook("confirmed")

    def _back_to_pending(self, batch: AnchorBatch, why: str) -> None:
        """Forget a transaction that can never be mined (its nonce went to another)."""
        with self.sessions() as session:
            begin_exclusive(session)
            session.execute(
                sa.update(AnchorBatch)
                .where(col(AnchorBatch.id) == batch.id,
                       col(AnchorBatch.status) == AnchorStatus.SENT,
                       col(AnchorBatch.tx_hash) == batch.tx_hash)
                .values(status=self._status_after_error(batch.attempts + 1), raw_tx=None,
                        tx_hash=None, nonce=None, attempts=batch.attempts + 1,
                        last_error=why[:2000], updated_at=utcnow())
            )
            session.commit()
        log.warning("batch %s back to pending: %s", batch.id, why)

    def _status_after_error(self, attempts: int) -> AnchorStatus:
        return AnchorStatus.FAILED if attempts >= self.max_attempts else AnchorStatus.PENDING

    def _record_error(self, batch_id: int, why: str) -> None:
        with self.sessions() as session:
            begin_exclusive(session)
            batch = session.get(AnchorBatch, batch_id)
            if batch is None or batch.status not in (AnchorStatus.PENDING, AnchorStatus.SENT):
                return
            batch.last_error = why[:2000]
            batch.attempts += 1
            if batch.attempts >= self.max_attempts:
                batch.status = AnchorStatus.FAILED  # a SENT one keeps its bytes for the record
            batch.updated_at = utcnow()
            session.add(batch)
            session.commit()

    # -- signing lock --------------------------------------------------------------------
    class _Lock:
        def __init__(self, worker: AnchoringWorker) -> None:
            self.worker = worker
            self.session: Session | None = None

        def __enter__(self) -> None:
            self.worker._local_lock.acquire()
            try:
                session = self.worker.sessions()
                if is_postgres(session):
                    session.execute(sa.text("SELECT pg_advisory_lock(:k)"),
                                    {"k": _SIGNING_LOCK_KEY})
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
                                         {"k": _SIGNING_LOCK_KEY})
                    self.session.commit()
                    self.session.close()
            finally:
                self.worker._local_lock.release()

    def _signing_lock(self) -> AnchoringWorker._Lock:
        """Serialise nonce choice + broadcast among workers (an optimisation: correctness
        comes from rules 2 and 3; without it two workers would just retry a nonce)."""
        return AnchoringWorker._Lock(self)
