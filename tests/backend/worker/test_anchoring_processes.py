"""Worker processes on a real chain (the embedded anvil) with real EvidenceAnchor.

- two processes on PostgreSQL never take the same leaves, and every root is anchored once;
- a worker SIGKILLed after claiming, after signing, or after broadcasting, then restarted,
  loses nothing and anchors nothing twice.
"""

from __future__ import annotations

import hashlib
import json
import subprocess
import sys
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import select

from backend.chain.contracts import Transactor, deploy_anchor
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
from backend.db.log_models import LogCheckpoint
from backend.gateway import ChainHandle, open_chain
from backend.log import rebuild
from backend.settings import Settings
from backend.worker import enqueue_leaf
from evidence.chain import lookup_anchor
from evidence.events import ROOT_ANCHORED, bytes_of, find_events
from evidence.log import verify_checkpoint
from evidence.merkle import verify
from tests.support.migrated import migrated

pytestmark = pytest.mark.anvil

PROC = Path(__file__).with_name("worker_proc.py")
CASE = "0x" + "c2" * 32


@pytest.fixture
def chain(tmp_path: Path) -> Iterator[tuple[ChainHandle, str, Settings]]:
    """The embedded chain in a temp data dir, owned by this test, with EvidenceAnchor."""
    from eth_account import Account

    settings = Settings(data_dir=tmp_path / "data")
    handle = open_chain(settings)
    account = Account.from_key(settings.institution_private_key())
    anchor = deploy_anchor(Transactor(handle.w3), account)
    try:
        yield handle, anchor.address, settings
    finally:
        handle.close()


def _prepare_db(url: str, n: int) -> None:
    migrated(url)
    factory = make_session_factory(make_engine(url))
    with write_scope(factory) as s:
        s.add(Case(id=CASE, order_id="7", claimant="0x" + "aa" * 20,
                   respondent="0x" + "bb" * 20, stage="FILED"))
        s.flush()
        for i in range(n):
            enqueue_leaf(s, kind=LeafKind.EVIDENCE, ref_id=i, case_id=CASE,
                         value=[CASE, "0x" + hashlib.sha256(b"r%d" % i).hexdigest(),
                                "0x" + hashlib.sha256(b"s%d" % i).hexdigest()])


def _run(args: list[str], **kw: Any) -> subprocess.Popen[str]:
    return subprocess.Popen([sys.executable, str(PROC), *args], stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True, **kw)


def _check_chain_and_db(url: str, handle: ChainHandle, anchor: str, settings: Settings,
                        n: int) -> Sequence[AnchorBatch]:
    from eth_account import Account

    factory = make_session_factory(make_engine(url))
    with factory() as s:
        leaves = s.exec(select(Leaf)).all()
        batches = s.exec(select(AnchorBatch)).all()
        rows = {i.batch_id: i for i in s.exec(select(AnchorInclusion)).all()}
        carried = {c.batch_id: c for c in s.exec(select(LogCheckpoint)).all()}
        assert rebuild(s).consistent  # the log the killed workers left equals its rebuild
    assert len(carried) == len(batches)
    assert len(leaves) == n and all(leaf.batch_id is not None for leaf in leaves)
    assert all(b.status == AnchorStatus.CONFIRMED for b in batches), \
        [(b.id, b.status, rows.get(b.id or 0)) for b in batches]
    by_id = {b.id: b for b in batches}
    for b in batches:
        assert b.id is not None
        inc = rows[b.id]  # one chain: one inclusion per batch
        # the records and the log's checkpoint, signed at the claim in the same transaction
        cp = carried[b.id]
        assert sum(1 for leaf in leaves if leaf.batch_id == b.id) + 1 == b.leaf_count
        assert cp.proof is not None and cp.leaf_hash is not None
        verify(cp.proof, b.root, cp.leaf_hash)
        assert verify_checkpoint(cp.note, [Account.from_key(
            settings.institution_private_key()).address]).size == cp.size
        record = lookup_anchor(handle.w3, anchor, bytes.fromhex(b.root[2:]))
        assert record is not None and record.count == b.leaf_count
        assert record.tx_hash is not None and "0x" + record.tx_hash.hex() == inc.tx_hash
        assert record.block_number == inc.block_number
        block = handle.w3.eth.get_block(inc.block_number)
        assert block.hash.to_0x_hex() == inc.block_hash  # type: ignore[attr-defined]
        assert inc.block_time is not None
        assert int(inc.block_time.timestamp()) == block.timestamp  # type: ignore[attr-defined]
    for leaf in leaves:
        assert leaf.proof is not None
        verify(leaf.proof, by_id[leaf.batch_id].root, leaf.leaf_hash)
    # Nothing anchored twice: one RootAnchored event per batch, and the institution sent
    # exactly one transaction per batch (plus the deployment).
    events = find_events(handle.w3, ROOT_ANCHORED, anchor)
    roots = [bytes_of(e.args, "root").hex() for e in events]
    assert len(roots) == len(set(roots)) == len(batches)
    institution = Account.from_key(settings.institution_private_key()).address
    assert handle.w3.eth.get_transaction_count(institution) == 1 + len(batches)
    return batches


@pytest.mark.postgres
def test_two_worker_processes_on_postgres_never_take_the_same_items(
    chain: tuple[ChainHandle, str, Settings], make_pg_database: Callable[[], str],
    tmp_path: Path,
) -> None:
    handle, anchor, settings = chain
    url = make_pg_database()
    n = 120
    _prepare_db(url, n)
    barrier = tmp_path / "barrier"
    barrier.mkdir()
    procs = [
        _run([url, str(settings.data_dir), anchor, "4", "--barrier", str(barrier), name, "2"])
        for name in ("a", "b")
    ]
    outs = [p.communicate(timeout=240) for p in procs]
    for p, (_, err) in zip(procs, outs, strict=True):
        assert p.returncode == 0, err
    claims = [[json.loads(line) for line in out.splitlines()] for out, _ in outs]
    taken = [[leaf for c in cl for leaf in c["leaves"]] for cl in claims]
    assert taken[0] and taken[1], "both processes must have claimed work for the test to mean"
    assert not set(taken[0]) & set(taken[1])
    assert len(taken[0]) + len(taken[1]) == n
    _check_chain_and_db(url, handle, anchor, settings, n)


@pytest.mark.parametrize("point", ["claimed", "signed", "broadcast"])
def test_worker_killed_mid_batch_restarts_without_loss_or_double_anchor(
    chain: tuple[ChainHandle, str, Settings], tmp_path: Path, point: str
) -> None:
    handle, anchor, settings = chain
    url = f"sqlite:///{tmp_path / 'db.sqlite3'}"
    n = 23
    _prepare_db(url, n)
    killed = _run([url, str(settings.data_dir), anchor, "10", "--die-at", point])
    killed.communicate(timeout=120)
    assert killed.returncode == -9  # SIGKILL, at the chosen point
    factory = make_session_factory(make_engine(url))
    with factory() as s:
        batch = s.exec(select(AnchorBatch)).first()
        assert batch is not None and batch.status != AnchorStatus.CONFIRMED
    restarted = _run([url, str(settings.data_dir), anchor, "10"])
    _, err = restarted.communicate(timeout=120)
    assert restarted.returncode == 0, err
    batches = _check_chain_and_db(url, handle, anchor, settings, n)
    assert len(batches) == 3


@pytest.mark.postgres
def test_worker_killed_after_broadcast_on_postgres(
    chain: tuple[ChainHandle, str, Settings], make_pg_database: Callable[[], str]
) -> None:
    handle, anchor, settings = chain
    url = make_pg_database()
    _prepare_db(url, 9)
    killed = _run([url, str(settings.data_dir), anchor, "4", "--die-at", "broadcast"])
    killed.communicate(timeout=120)
    assert killed.returncode == -9
    restarted = _run([url, str(settings.data_dir), anchor, "4"])
    _, err = restarted.communicate(timeout=120)
    assert restarted.returncode == 0, err
    assert len(_check_chain_and_db(url, handle, anchor, settings, 9)) == 3
