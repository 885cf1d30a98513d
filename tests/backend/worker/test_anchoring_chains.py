"""Every root on each of two independent chains: two anvil nodes (chain ids 1001 and 1002),
EvidenceAnchor deployed on each, the worker built from the settings as `chainarb serve`
builds it (CHAINARB_CHAIN_RPC_URL for the service chain, CHAINARB_ANCHOR_CHAINS for the
other). Chain B's node is stopped in the middle of a round (after the worker wrote its
signed transaction, before the broadcast), stays down while chain A anchors two more
batches, then comes back (anvil --state): it catches up, and on each chain every root is
anchored exactly once by the transaction the database records, no attempt spent on the
outage."""

from __future__ import annotations

import hashlib
import time
from collections.abc import Iterator
from pathlib import Path

import pytest
from eth_account import Account
from sqlmodel import select
from web3 import Web3

from backend.chain.contracts import Transactor, deploy_anchor
from backend.chain.devchain import AnvilNode
from backend.db import (
    AnchorBatch,
    AnchorInclusion,
    AnchorStatus,
    Case,
    Leaf,
    LeafKind,
    make_engine,
    make_session_factory,
    write_scope,
)
from backend.gateway import open_chain
from backend.settings import Settings
from backend.worker import AnchoringWorker, build_worker, chain_labels, enqueue_leaf
from evidence.chain import lookup_anchor
from evidence.events import ROOT_ANCHORED, bytes_of, find_events
from evidence.merkle import verify
from tests.support.migrated import migrated

pytestmark = pytest.mark.anvil

CASE = "0x" + "c7" * 32
CHAIN_A, CHAIN_B = 1001, 1002


class _Chain:
    def __init__(self, node: AnvilNode, anchor: str) -> None:
        self.node = node
        self.anchor = anchor

    def w3(self) -> Web3:
        return self.node.web3()


def _start(tmp: Path, chain_id: int, institution: str) -> AnvilNode:
    """An anvil node keeping its state across a restart, with gas for the institution."""
    node = AnvilNode(state_path=tmp / f"chain-{chain_id}.json",
                     extra_args=("--chain-id", str(chain_id))).start()
    node.web3().provider.make_request("anvil_setBalance",  # type: ignore[arg-type]
                                      [institution, hex(10**20)])
    return node


@pytest.fixture
def chains(tmp_path: Path) -> Iterator[tuple[Settings, _Chain, _Chain]]:
    key = "0x" + Account.create().key.hex().removeprefix("0x")
    inst = Account.from_key(key)
    nodes: list[AnvilNode] = []
    try:
        out = []
        for chain_id in (CHAIN_A, CHAIN_B):
            node = _start(tmp_path, chain_id, inst.address)
            nodes.append(node)
            out.append(_Chain(node, deploy_anchor(Transactor(node.web3()), inst).address))
        a, b = out
        settings = Settings(
            data_dir=tmp_path / "data", chain_rpc_url=a.node.url, chain_id=CHAIN_A,
            institution_key=key, anchor_address=a.anchor, chain_name="Chain A",
            chain_operated_by_institution=False,
            anchor_chains=[{"name": "Chain B", "chain_id": CHAIN_B, "rpc_url": b.node.url,
                            "contract": b.anchor, "operated_by_institution": False}])
        yield settings, a, b
    finally:
        for node in nodes:
            node.stop()


def _enqueue(sessions, start: int, n: int) -> None:
    with write_scope(sessions) as s:
        if s.get(Case, CASE) is None:
            s.add(Case(id=CASE, order_id="9", claimant="0x" + "aa" * 20,
                       respondent="0x" + "bb" * 20, stage="FILED"))
            s.flush()
        for i in range(start, start + n):
            enqueue_leaf(s, kind=LeafKind.STEP, ref_id=i, case_id=CASE,
                         value=[CASE, "0x" + hashlib.sha256(b"r%d" % i).hexdigest(),
                                "0x" + hashlib.sha256(b"s%d" % i).hexdigest()])


def _rows(sessions, chain_id: int) -> dict[int, AnchorInclusion]:
    with sessions() as s:
        return {i.batch_id: i for i in s.exec(select(AnchorInclusion).where(
            AnchorInclusion.chain_id == chain_id)).all()}


def _check_chain(sessions, chain: _Chain, chain_id: int, institution: str) -> None:
    """Each batch's root anchored once on this chain, by the recorded transaction."""
    w3 = chain.w3()
    with sessions() as s:
        batches = s.exec(select(AnchorBatch)).all()
    rows = _rows(sessions, chain_id)
    assert set(rows) == {b.id for b in batches}
    events = find_events(w3, ROOT_ANCHORED, chain.anchor)
    assert sorted("0x" + bytes_of(e.args, "root").hex() for e in events) == \
        sorted(b.root for b in batches)  # each root once: none lost, none doubled
    assert w3.eth.get_transaction_count(institution) == 1 + len(batches)  # type: ignore[arg-type]  # deploy + anchors
    for b in batches:
        inc = rows[b.id]
        assert inc.status == AnchorStatus.CONFIRMED and inc.attempts == 0, inc
        record = lookup_anchor(w3, chain.anchor, bytes.fromhex(b.root[2:]))
        assert record is not None and record.count == b.leaf_count
        assert record.tx_hash is not None and "0x" + record.tx_hash.hex() == inc.tx_hash
        assert inc.block_number is not None and inc.block_time is not None
        block = w3.eth.get_block(inc.block_number)
        assert block.hash.to_0x_hex() == inc.block_hash  # type: ignore[attr-defined]
        assert int(inc.block_time.timestamp()) == block.timestamp  # type: ignore[attr-defined]
        assert inc.contract == chain.anchor


def test_a_chain_down_mid_round_catches_up_with_nothing_lost_or_doubled(chains) -> None:
    settings, a, b = chains
    migrated(settings.database)
    engine = make_engine(settings.database)
    sessions = make_session_factory(engine)
    institution = Account.from_key(settings.institution_private_key()).address
    with open_chain(settings) as handle:
        worker = build_worker(settings, sessions, handle, a.anchor)
        assert [c for c, _ in worker.chains] == [CHAIN_A, CHAIN_B]
        assert chain_labels(settings, handle.chain_id)[CHAIN_B].name == "Chain B"

        _enqueue(sessions, 0, 4)
        first = worker.run_once()
        assert len(first.completed) == 1 and not first.errors

        # B goes down in the middle of the next round: its transaction is signed and
        # written ahead, then the node is gone before the broadcast.
        signed: list[str] = []

        def stop_b_at_second_signature(point: str) -> None:
            if point == "signed":
                signed.append(point)
                if len(signed) == 2:  # chains go in order: A's signature, then B's
                    b.node.stop()

        worker._hook = stop_b_at_second_signature
        _enqueue(sessions, 4, 3)
        report = worker.run_once()
        worker._hook = lambda _p: None
        assert report.unreachable == [CHAIN_B] and report.completed == []
        batch2 = report.claimed[0]
        assert _rows(sessions, CHAIN_A)[batch2].status == AnchorStatus.CONFIRMED
        waiting = _rows(sessions, CHAIN_B)[batch2]
        assert waiting.status == AnchorStatus.SENT and waiting.raw_tx  # written ahead

        # B stays down: A goes on anchoring new batches, B's rows wait without attempts
        _enqueue(sessions, 7, 2)
        for _ in range(3):
            report = worker.run_once()
            assert report.unreachable == [CHAIN_B]
        with sessions() as s:
            statuses = [x.status for x in s.exec(select(AnchorBatch).order_by(AnchorBatch.id))]  # type: ignore[arg-type]
        assert statuses == [AnchorStatus.CONFIRMED, AnchorStatus.PENDING, AnchorStatus.PENDING]
        assert all(r.status == AnchorStatus.CONFIRMED for r in _rows(sessions, CHAIN_A).values())
        assert all(r.attempts == 0 for r in _rows(sessions, CHAIN_B).values())

        b.node.start()  # same port, same state (anvil --state): the signed tx never arrived
        # The rebroadcast reaches the node's pool; anvil mines it a moment later, so its
        # receipt may be seen in this round or the next (never a second transaction).
        completed: list[int] = []
        for _ in range(20):
            report = worker.run_once()
            assert report.unreachable == [] and not report.requeued
            completed += report.completed
            if report.idle:
                break
            time.sleep(0.05)
        assert report.idle and sorted(completed) == [batch2, batch2 + 1]
        _check_chain(sessions, a, CHAIN_A, institution)
        _check_chain(sessions, b, CHAIN_B, institution)
        # the rebroadcast was the written-ahead transaction, byte for byte
        assert _rows(sessions, CHAIN_B)[batch2].tx_hash == waiting.tx_hash
        with sessions() as s:
            leaves = s.exec(select(Leaf)).all()
            roots = {x.id: x.root for x in s.exec(select(AnchorBatch)).all()}
        assert len(leaves) == 9
        for leaf in leaves:
            assert leaf.proof is not None
            verify(leaf.proof, roots[leaf.batch_id], leaf.leaf_hash)
    engine.dispose()


def test_an_anchoring_chain_that_is_another_chain_is_refused_before_signing(chains) -> None:
    """CHAINARB_ANCHOR_CHAINS says chain 1003 at B's URL, but B serves 1002: nothing is
    signed for it (a signature binds the chain id), and chain A goes on."""
    settings, a, b = chains
    wrong = settings.model_copy(update={"anchor_chains": [
        settings.anchor_chains[0].model_copy(update={"chain_id": 1003})]})
    migrated(wrong.database)
    engine = make_engine(wrong.database)
    sessions = make_session_factory(engine)
    with open_chain(wrong) as handle:
        worker: AnchoringWorker = build_worker(wrong, sessions, handle, a.anchor)
        _enqueue(sessions, 0, 2)
        report = worker.run_once()
    assert any("serves chain 1002, configured as chain 1003" in e for e in report.errors)
    assert _rows(sessions, CHAIN_A)[report.claimed[0]].status == AnchorStatus.CONFIRMED
    assert find_events(b.w3(), ROOT_ANCHORED, b.anchor) == []
    engine.dispose()
