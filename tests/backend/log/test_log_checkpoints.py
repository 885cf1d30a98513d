"""The anchoring worker signs the log's checkpoint at each round and anchors it as one more
StandardMerkleTree leaf of the batch; it refuses, loudly and recorded, a log that is not
consistent with the last anchored checkpoint (SQLite and PostgreSQL, fake chain)."""

from __future__ import annotations

import logging

import pytest
import sqlalchemy as sa
from sqlmodel import col, select

from backend.db import (
    AnchorBatch,
    AnchorStatus,
    session_scope,
    write_scope,
)
from backend.db.log_models import LogCheckpoint, LogNode
from backend.log import Checkpointer, open_log, rebuild
from backend.worker import AnchoringWorker
from evidence.log import NoteSigner, verify_checkpoint, verify_consistency
from evidence.log_leaf import CHECKPOINT_LEAF_TAG, checkpoint_leaf
from evidence.merkle import LEAF_ENCODING, leaf_hash, verify
from tests.support.anchor_chain import FakeChain
from tests.support.leaves import add_leaves, case_sessions

KEY = "0x" + "4c" * 32
SIGNER = NoteSigner.from_private_key(KEY)
ORIGIN = "chainarb.test/log"


@pytest.fixture
def sessions(clean_db_url: str):
    with case_sessions(clean_db_url) as factory:
        yield factory


def _worker(factory, chain: FakeChain, limit: int = 100) -> AnchoringWorker:
    return AnchoringWorker(factory, chain, batch_limit=limit,
                           checkpointer=Checkpointer(ORIGIN, SIGNER))


def _carried(factory) -> list[tuple[LogCheckpoint, AnchorBatch]]:
    with factory() as s:
        return list(s.exec(select(LogCheckpoint, AnchorBatch)
                           .join(AnchorBatch, col(AnchorBatch.id) == col(LogCheckpoint.batch_id))
                           .order_by(col(LogCheckpoint.id))).all())


def test_each_batch_carries_a_signed_checkpoint_of_the_log(sessions) -> None:
    chain = FakeChain()
    worker = _worker(sessions, chain)
    add_leaves(sessions, 0, 5)
    worker.run_once()
    add_leaves(sessions, 5, 3)
    worker.run_once()
    carried = _carried(sessions)
    assert [cp.size for cp, _b in carried] == [5, 8]
    with sessions() as s:
        tree = open_log(s)
        roots = [tree.root(5), tree.root(8)]
    for (cp, batch), root in zip(carried, roots, strict=True):
        signed = verify_checkpoint(cp.note, [SIGNER.address], ORIGIN)
        assert signed.size == cp.size and signed.root == root
        assert cp.leaf_value == list(checkpoint_leaf(cp.note, root))
        assert cp.leaf_value[0] == "0x" + CHECKPOINT_LEAF_TAG.hex()
        # one more leaf than records, and its proof leads to the root anchored on chain
        assert batch.leaf_count == cp.size - (0 if cp.size == 5 else 5) + 1
        assert batch.status == AnchorStatus.CONFIRMED and batch.root in chain.anchors
        assert cp.leaf_hash == "0x" + leaf_hash(LEAF_ENCODING, cp.leaf_value).hex()
        verify(cp.proof or [], batch.root, cp.leaf_hash)  # raises ProofError otherwise
    first = verify_checkpoint(carried[0][0].note, [SIGNER.address])
    second = verify_checkpoint(carried[1][0].note, [SIGNER.address])
    with sessions() as s:
        proof = open_log(s).consistency_proof(5, 8)
    verify_consistency(5, 8, first.root, second.root, proof)


def test_a_checkpoint_inconsistent_with_the_last_anchored_one_is_refused(
        sessions, caplog: pytest.LogCaptureFixture) -> None:
    chain = FakeChain()
    worker = _worker(sessions, chain)
    add_leaves(sessions, 0, 4)
    worker.run_once()
    # rewrite history: the node over leaves 0..3 (the whole first checkpoint) is replaced
    with session_scope(sessions) as s:
        s.execute(sa.update(LogNode).where(col(LogNode.level) == 2, col(LogNode.idx) == 0)
                  .values(hash="0x" + "66" * 32))
    add_leaves(sessions, 4, 3)
    batches_before = len(chain.anchors)
    with caplog.at_level(logging.CRITICAL, logger="backend.worker.anchoring"):
        report = worker.run_once()
    assert report.refused is not None and "not consistent" in report.refused
    assert any("log checkpoint refused" in r.getMessage() for r in caplog.records
               if r.levelno == logging.CRITICAL)
    assert not report.claimed and len(chain.anchors) == batches_before
    with sessions() as s:
        refused = s.exec(select(LogCheckpoint).where(col(LogCheckpoint.refused).is_not(None))
                         ).all()
        assert len(refused) == 1 and refused[0].batch_id is None and refused[0].size == 7
        assert refused[0].note == ""  # never signed
    # every round refuses again (one row for the same refusal) until the log is repaired
    assert worker.run_once().refused is not None
    with sessions() as s:
        assert len(s.exec(select(LogCheckpoint).where(
            col(LogCheckpoint.refused).is_not(None))).all()) == 1
    with write_scope(sessions) as s:
        assert rebuild(s, repair=True).repaired
    report = worker.run_once()
    assert report.refused is None and len(report.claimed) == 1
    assert [cp.size for cp, _b in _carried(sessions)] == [4, 7]


def test_a_log_that_lost_entries_is_refused(sessions) -> None:
    chain = FakeChain()
    worker = _worker(sessions, chain)
    add_leaves(sessions, 0, 3)
    worker.run_once()
    with session_scope(sessions) as s:  # two entries dropped, nodes and size made to fit
        s.execute(sa.text("DELETE FROM log_entry WHERE idx >= 1"))
    with write_scope(sessions) as s:
        rebuild(s, repair=True)
    add_leaves(sessions, 3, 1)  # size 2 now: smaller than the anchored 3
    report = worker.run_once()
    assert report.refused is not None and "fewer than" in report.refused


def test_another_origin_is_refused(sessions) -> None:
    chain = FakeChain()
    _worker(sessions, chain).run_once()
    add_leaves(sessions, 0, 1)
    _worker(sessions, chain).run_once()
    add_leaves(sessions, 1, 1)
    other = AnchoringWorker(sessions, chain, checkpointer=Checkpointer("other.test/log", SIGNER))
    report = other.run_once()
    assert report.refused is not None and "origin never changes" in report.refused
