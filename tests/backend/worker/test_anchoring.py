"""The anchoring worker against a fake chain (tests.support.anchor_chain), on SQLite and
PostgreSQL."""

from __future__ import annotations

import hashlib
from collections import Counter
from typing import Any

import pytest
from sqlalchemy.exc import IntegrityError
from sqlmodel import Session, col, select

from backend.db import (
    AnchorBatch,
    AnchorInclusion,
    AnchorStatus,
    Leaf,
    LeafKind,
    session_scope,
    write_scope,
)
from backend.worker import (
    AnchoringWorker,
    LeafMismatchError,
    claim_pending_leaves,
    enqueue_leaf,
    retry_failed,
)
from evidence.merkle import verify
from tests.support.anchor_chain import FakeChain
from tests.support.leaves import CASE, add_leaves, case_sessions, leaf_value


@pytest.fixture
def sessions(clean_db_url: str):
    with case_sessions(clean_db_url) as factory:
        yield factory


def _inclusion(factory, chain_id: int = FakeChain.chain_id) -> AnchorInclusion:
    """The one batch's inclusion on `chain_id`."""
    with factory() as s:
        return s.exec(select(AnchorInclusion).where(
            AnchorInclusion.chain_id == chain_id)).one()


def _assert_all_anchored_once(factory, chain: FakeChain, total: int) -> None:
    """Every leaf in one batch, every batch CONFIRMED, its root anchored once on `chain`
    by the transaction its inclusion row records."""
    with factory() as s:
        leaves = s.exec(select(Leaf)).all()
        batches = {b.id: b for b in s.exec(select(AnchorBatch)).all()}
        rows = {i.batch_id: i for i in s.exec(select(AnchorInclusion).where(
            AnchorInclusion.chain_id == chain.chain_id)).all()}
    assert len(leaves) == total
    assert all(b.status == AnchorStatus.CONFIRMED for b in batches.values()), batches
    assert set(rows) == set(batches)
    per_batch = Counter(leaf.batch_id for leaf in leaves)
    assert sum(b.leaf_count for b in batches.values()) == total
    for bid, b in batches.items():
        inc = rows[bid]
        assert per_batch[bid] == b.leaf_count and inc.status == AnchorStatus.CONFIRMED
        assert chain.anchors[b.root] == inc.tx_hash  # recorded tx is the anchoring one
        assert inc.block_hash == chain.blocks[inc.block_number]
        assert inc.contract == chain.contract
    for leaf in leaves:
        verify(leaf.proof, batches[leaf.batch_id].root, leaf.leaf_hash)
    # no root was sent twice
    assert set(chain.anchor_txs_per_root().values()) <= {1}


def test_batches_every_pending_leaf_with_proofs(sessions) -> None:
    chain = FakeChain()
    add_leaves(sessions, 0, 25)
    report = AnchoringWorker(sessions, chain, batch_limit=10).run_once()
    assert len(report.claimed) == 3 and len(report.confirmed) == 3 and not report.errors
    _assert_all_anchored_once(sessions, chain, 25)
    assert chain.durable_calls == 3
    assert AnchoringWorker(sessions, chain).run_once().idle  # nothing left to do


def test_single_leaf_batch(sessions) -> None:
    chain = FakeChain()
    add_leaves(sessions, 0, 1)
    AnchoringWorker(sessions, chain).run_once()
    with sessions() as s:
        leaf = s.exec(select(Leaf)).one()
        batch = s.exec(select(AnchorBatch)).one()
    assert leaf.proof == [] and batch.root == leaf.leaf_hash


def test_claim_on_empty_queue_returns_none(sessions) -> None:
    with sessions() as s:
        assert claim_pending_leaves(s, 10) is None
        with pytest.raises(ValueError, match="limit"):
            s.rollback()
            claim_pending_leaves(s, 0)


def test_duplicate_leaves_are_refused(sessions) -> None:
    add_leaves(sessions, 0, 1)
    with pytest.raises(IntegrityError), write_scope(sessions) as s:  # same item again
        enqueue_leaf(s, kind=LeafKind.STEP, ref_id=0, case_id=CASE, value=leaf_value(5))
    with pytest.raises(IntegrityError), write_scope(sessions) as s:  # same leaf again
        enqueue_leaf(s, kind=LeafKind.EVIDENCE, ref_id=9, case_id=CASE, value=leaf_value(0))


def test_an_altered_leaf_row_stops_the_claim(sessions) -> None:
    add_leaves(sessions, 0, 3)
    with session_scope(sessions) as s:
        leaf = s.exec(select(Leaf).order_by(col(Leaf.id))).first()
        assert leaf is not None
        leaf.value = leaf_value(99)  # values changed, stored hash not
        s.add(leaf)
    with sessions() as s, pytest.raises(LeafMismatchError, match="row was altered"):
        claim_pending_leaves(s, 10)
    with sessions() as s:
        assert s.exec(select(AnchorBatch)).all() == []  # nothing claimed


def test_waits_for_confirmations(sessions) -> None:
    chain = FakeChain()
    add_leaves(sessions, 0, 4)
    worker = AnchoringWorker(sessions, chain, confirmations=3)
    worker.run_once()
    assert _inclusion(sessions).status == AnchorStatus.SENT
    with sessions() as s:
        assert s.exec(select(AnchorBatch)).one().status == AnchorStatus.PENDING
    chain.empty_block()
    assert worker.run_once().confirmed == []
    chain.empty_block()
    assert len(worker.run_once().confirmed) == 1
    _assert_all_anchored_once(sessions, chain, 4)


def test_chain_errors_are_retried_then_failed_then_requeued(sessions) -> None:
    chain = FakeChain()
    add_leaves(sessions, 0, 5)
    worker = AnchoringWorker(sessions, chain, max_attempts=3)
    chain.fail_broadcasts = 100
    reports = [worker.run_once() for _ in range(4)]
    assert all(r.errors for r in reports[:3])
    inc = _inclusion(sessions)
    assert inc.status == AnchorStatus.FAILED and "injected" in (inc.last_error or "")
    assert chain.anchors == {}
    chain.fail_broadcasts = 0
    assert worker.run_once().idle  # FAILED is left alone...
    with write_scope(sessions) as s:
        assert retry_failed(s) == 1  # ...until an operator requeues it
    worker.run_once()
    _assert_all_anchored_once(sessions, chain, 5)


def test_transient_error_then_success(sessions) -> None:
    chain = FakeChain()
    add_leaves(sessions, 0, 5)
    worker = AnchoringWorker(sessions, chain)
    chain.fail_broadcasts = 1
    assert worker.run_once().errors
    worker.run_once()
    _assert_all_anchored_once(sessions, chain, 5)


def test_nonce_taken_by_another_transaction_is_signed_again(sessions) -> None:
    chain = FakeChain()
    chain.automine = False
    add_leaves(sessions, 0, 5)
    worker = AnchoringWorker(sessions, chain)
    worker.run_once()  # signed with nonce 0, in the pool
    chain.pool.clear()  # the node dropped it...
    chain.other_tx_takes_nonce()  # ...and the service used nonce 0
    chain.automine = True
    report = worker.run_once()  # rebroadcast -> nonce too low -> back to pending
    b = _inclusion(sessions)
    assert b.status == AnchorStatus.PENDING and "nonce" in (b.last_error or "")
    # that round did work: a caller looping `until idle` must not stop with the row pending
    assert report.requeued == [b.id] and not report.idle
    worker.run_once()
    _assert_all_anchored_once(sessions, chain, 5)



@pytest.mark.parametrize("refused", [True, False])
def test_a_transaction_sent_on_another_workers_fake_chain(sessions, refused: bool) -> None:
    """Two processes' workers hold a FakeChain each for one chain (test_write_discipline):
    B's last transaction (nonce 1, never mined: B stopped) is ahead of A's fake. Refused
    there as a used nonce, A signs the batch again and settles; left in A's pool, it would
    wait for a nonce gap nothing fills and A would never be idle."""
    chain_b, chain_a = FakeChain(), FakeChain()
    chain_a.refuse_future_nonces = chain_b.refuse_future_nonces = refused
    b = AnchoringWorker(sessions, chain_b, batch_limit=3)
    add_leaves(sessions, 0, 3)
    b.run_once()  # nonce 0, mined and confirmed on B's chain
    add_leaves(sessions, 3, 3)
    chain_b.automine = False
    b.run_once()  # nonce 1, sent; B stops before it is mined
    a = AnchoringWorker(sessions, chain_a, batch_limit=3)
    settled = any(a.run_once().idle for _ in range(20))
    with sessions() as s:
        statuses = sorted(i.status for i in s.exec(select(AnchorInclusion)).all())
    if refused:
        assert settled and statuses == [AnchorStatus.CONFIRMED] * 2
        assert len(chain_a.mined) == 1  # the second batch, signed again with A's nonce 0
    else:
        assert not settled and statuses == [AnchorStatus.CONFIRMED, AnchorStatus.SENT]


class Crash(BaseException):
    """Stands for the process dying at a hook point (not an Exception: nothing catches it)."""


@pytest.mark.parametrize("point", ["claimed", "signed", "broadcast", "confirmed"])
def test_crash_at_any_point_loses_nothing_and_sends_nothing_twice(sessions, point: str) -> None:
    chain = FakeChain()
    add_leaves(sessions, 0, 12)

    def die(p: str) -> None:
        if p == point:
            raise Crash(p)

    with pytest.raises(Crash):
        AnchoringWorker(sessions, chain, batch_limit=5, hook=die).run_once()
    AnchoringWorker(sessions, chain, batch_limit=5).run_once()  # the restarted worker
    _assert_all_anchored_once(sessions, chain, 12)
    assert len(chain.mined_tx) == 3  # three batches, three transactions


def test_signed_but_never_broadcast_is_rebroadcast_byte_for_byte(sessions) -> None:
    chain = FakeChain()
    add_leaves(sessions, 0, 3)

    def die(p: str) -> None:
        if p == "signed":
            raise Crash(p)

    with pytest.raises(Crash):
        AnchoringWorker(sessions, chain, hook=die).run_once()
    b = _inclusion(sessions)
    assert b.status == AnchorStatus.SENT and chain.mined == {}
    AnchoringWorker(sessions, chain).run_once()
    assert list(chain.mined) == [b.tx_hash]  # the very transaction recorded before the crash


def test_root_already_on_chain_is_reconciled_not_resent(sessions) -> None:
    """The database lost the SENT record (e.g. SQLite's last commit) but the tx went out."""
    chain = FakeChain()
    add_leaves(sessions, 0, 6)
    with session_scope(sessions) as s:
        batch = claim_pending_leaves(s, 100)  # no chains: the worker assigns its own
        assert batch is not None
        root = bytes.fromhex(batch.root[2:])
    chain.broadcast(chain.sign_anchor(root, 6, 0).raw)  # sent by the "lost" worker
    report = AnchoringWorker(sessions, chain).run_once()
    assert report.sent == [] and len(report.confirmed) == 1
    _assert_all_anchored_once(sessions, chain, 6)


def test_two_workers_in_one_round_race_safely(sessions) -> None:
    """Worker B sees A's PENDING batch at the same time; the CAS lets one sign it."""
    chain = FakeChain()
    add_leaves(sessions, 0, 8)
    a = AnchoringWorker(sessions, chain, batch_limit=3)
    b = AnchoringWorker(sessions, chain, batch_limit=3)

    def b_runs_inside_a(p: str) -> None:
        if p == "claimed":
            b.run_once()

    a._hook = b_runs_inside_a
    a.run_once()
    a.run_once()
    _assert_all_anchored_once(sessions, chain, 8)


def test_leaves_added_later_go_to_a_new_batch(sessions) -> None:
    chain = FakeChain()
    worker = AnchoringWorker(sessions, chain)
    add_leaves(sessions, 0, 3)
    worker.run_once()
    add_leaves(sessions, 3, 2)
    worker.run_once()
    _assert_all_anchored_once(sessions, chain, 5)
    with sessions() as s:
        assert [b.leaf_count for b in s.exec(select(AnchorBatch).order_by(col(AnchorBatch.id)))] \
            == [3, 2]


def _unused(s: Session) -> None:  # keeps the Session import meaningful for type checkers
    return None


def test_a_second_claimer_takes_other_leaves_or_waits(sessions, clean_db_url: str) -> None:
    """PostgreSQL: while A holds its claim (uncommitted), B skips A's rows and takes the
    next ones at once. SQLite: B waits for A's commit, then takes what is left."""
    import threading
    import time

    add_leaves(sessions, 0, 10)
    a = sessions()
    batch_a = claim_pending_leaves(a, 4)
    assert batch_a is not None
    a_ids = {leaf.id for leaf in a.exec(select(Leaf).where(Leaf.batch_id == batch_a.id))}
    result: dict[str, Any] = {}

    def claimer_b() -> None:
        with sessions() as b:
            started = time.monotonic()
            batch = claim_pending_leaves(b, 4)
            assert batch is not None
            result["waited"] = time.monotonic() - started
            result["ids"] = {leaf.id for leaf in b.exec(select(Leaf).where(
                Leaf.batch_id == batch.id))}
            b.commit()

    t = threading.Thread(target=claimer_b)
    t.start()
    postgres = clean_db_url.startswith("postgresql")
    # A still holds its row locks here: on PostgreSQL B finishes anyway (SKIP LOCKED; 30 s is
    # only a margin for a loaded machine); on SQLite B is still blocked a second later.
    t.join(timeout=30.0 if postgres else 1.0)
    if postgres:
        assert not t.is_alive(), "B must not wait for A's locks on PostgreSQL"
    else:
        assert t.is_alive(), "B must wait for A's write lock on SQLite"
    a.commit()
    a.close()
    t.join(timeout=30)
    assert len(a_ids) == 4 and len(result["ids"]) == 4
    assert not a_ids & result["ids"]


def test_confirmed_batches_get_a_timestamp_token_retrying_a_failed_tsa(sessions) -> None:
    chain = FakeChain()
    calls: list[bytes] = []
    down = [True]

    def tsa(digest: bytes) -> bytes:
        calls.append(digest)
        if down[0]:
            raise ConnectionError("TSA unreachable (injected)")
        return b"TOKEN:" + digest

    add_leaves(sessions, 0, 4)
    worker = AnchoringWorker(sessions, chain, timestamper=tsa)
    report = worker.run_once()
    assert len(report.confirmed) == 1 and any("timestamp" in e for e in report.errors)
    down[0] = False
    assert len(worker.run_once().stamped) == 1
    with sessions() as s:
        b = s.exec(select(AnchorBatch)).one()
    digest = hashlib.sha256(bytes.fromhex(b.root[2:])).digest()
    assert b.timestamp_token == b"TOKEN:" + digest and calls == [digest, digest]
    assert worker.run_once().idle  # stamped once only


def test_run_forever_anchors_what_arrives_and_stops(sessions) -> None:
    import threading
    import time

    chain = FakeChain()
    worker = AnchoringWorker(sessions, chain)
    stop = threading.Event()
    t = threading.Thread(target=worker.run_forever, args=(0.05, stop))
    t.start()
    try:
        add_leaves(sessions, 0, 3)
        deadline = time.monotonic() + 20
        while time.monotonic() < deadline:
            with sessions() as s:
                done = s.exec(select(AnchorBatch).where(
                    AnchorBatch.status == AnchorStatus.CONFIRMED)).all()
            if done:
                break
            time.sleep(0.05)
    finally:
        stop.set()
        t.join(timeout=10)
    assert not t.is_alive()
    _assert_all_anchored_once(sessions, chain, 3)


# -- several anchoring chains ----------------------------------------------------------------


def _two_chains() -> tuple[FakeChain, FakeChain]:
    a, b = FakeChain(), FakeChain()
    b.chain_id = 4343
    b.contract = "0x" + "b0" * 20
    return a, b


class _Down(FakeChain):
    """A chain whose node refuses connections while `down` (what web3's HTTP provider raises
    is a requests ConnectionError; the built-in one is what the worker also accepts)."""

    down = False
    calls = 0

    def _refuse(self) -> None:
        self.calls += 1
        if self.down:
            raise ConnectionRefusedError("connection refused (injected)")

    def find_anchor(self, root: bytes):
        self._refuse()
        return super().find_anchor(root)

    def receipt(self, tx_hash: str):
        self._refuse()
        return super().receipt(tx_hash)


def test_every_root_goes_to_each_chain_once(sessions) -> None:
    a, b = _two_chains()
    add_leaves(sessions, 0, 12)
    report = AnchoringWorker(sessions, [a, b], batch_limit=5).run_once()
    assert len(report.claimed) == 3 and len(report.confirmed) == 6
    assert sorted(report.completed) == sorted(report.claimed)
    _assert_all_anchored_once(sessions, a, 12)
    _assert_all_anchored_once(sessions, b, 12)
    assert set(a.anchors) == set(b.anchors)


def test_a_chain_down_holds_up_only_its_own_rows_then_catches_up(sessions) -> None:
    a = FakeChain()
    b = _Down()
    b.chain_id, b.contract = 4343, "0x" + "b0" * 20
    b.down = True
    worker = AnchoringWorker(sessions, [a, b], batch_limit=4, max_attempts=2)
    add_leaves(sessions, 0, 8)
    for _ in range(3):  # more rounds than max_attempts: an outage spends no attempt
        b.calls = 0
        report = worker.run_once()
        assert report.unreachable == [4343]
        assert b.calls == 1  # the down node is asked once per round, not once per batch
    with sessions() as s:
        batches = s.exec(select(AnchorBatch)).all()
        on_b = s.exec(select(AnchorInclusion).where(AnchorInclusion.chain_id == 4343)).all()
    assert len(batches) == 2 and all(x.status == AnchorStatus.PENDING for x in batches)
    assert len(a.anchors) == 2  # chain A went on
    assert all(i.status == AnchorStatus.PENDING and i.attempts == 0 for i in on_b)
    b.down = False
    report = worker.run_once()
    assert report.unreachable == [] and len(report.completed) == 2
    _assert_all_anchored_once(sessions, a, 8)
    _assert_all_anchored_once(sessions, b, 8)


def test_a_batch_is_stamped_once_anchored_on_one_chain(sessions) -> None:
    a = FakeChain()
    b = _Down()
    b.chain_id, b.contract = 4343, "0x" + "b0" * 20
    b.down = True
    add_leaves(sessions, 0, 2)
    report = AnchoringWorker(sessions, [a, b], timestamper=lambda d: b"T" + d).run_once()
    assert len(report.stamped) == 1 and report.completed == []


def test_orphan_batches_get_the_worker_s_chains(sessions) -> None:
    """A batch claimed without chains (or migrated from before 0005 without one)."""
    a, b = _two_chains()
    add_leaves(sessions, 0, 3)
    with session_scope(sessions) as s:
        assert claim_pending_leaves(s, 10) is not None
    AnchoringWorker(sessions, [a, b]).run_once()
    _assert_all_anchored_once(sessions, a, 3)
    _assert_all_anchored_once(sessions, b, 3)


def test_chains_must_be_distinct(sessions) -> None:
    with pytest.raises(ValueError, match="distinct chain ids"):
        AnchoringWorker(sessions, [FakeChain(), FakeChain()])
    with pytest.raises(ValueError, match="at least one chain"):
        AnchoringWorker(sessions, [])


def test_two_workers_adopting_the_same_orphan_give_it_one_row_per_chain(
        sessions, clean_db_url: str) -> None:
    """Worker B adopts the orphan batch while A is between its look and its write. SQLite:
    A's second look, under the write lock, finds nothing left. PostgreSQL (no such lock):
    A's insert hits the (batch, chain) key and A yields. Either way one row per chain."""
    a_chain, b_chain = _two_chains()
    add_leaves(sessions, 0, 3)
    with session_scope(sessions) as s:
        assert claim_pending_leaves(s, 10) is not None  # no chains: an orphan
    b = AnchoringWorker(sessions, [a_chain, b_chain])
    calls = 0

    def a_sessions() -> Session:
        nonlocal calls
        calls += 1
        if calls == 2 and not clean_db_url.startswith("postgresql"):
            b._assign_orphans()  # before A's write unit
        session = sessions()
        if calls == 2 and clean_db_url.startswith("postgresql"):
            commit = session.commit

            def b_first() -> None:
                b._assign_orphans()  # after A's look, before A's commit
                commit()

            session.commit = b_first
        return session

    a = AnchoringWorker(a_sessions, [a_chain, b_chain])  # type: ignore[arg-type]
    a._assign_orphans()
    assert calls == 2
    with sessions() as s:
        rows = s.exec(select(AnchorInclusion)).all()
    assert sorted(r.chain_id for r in rows) == [a_chain.chain_id, b_chain.chain_id]
