"""backend/db/blocks.py: step blocks in the ``step_block`` table, written in the caller's
transaction; the service's store reads the files, then the table, and puts other blocks in
files. On both databases."""

from __future__ import annotations

from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, select

from backend.db import make_engine, make_session_factory, write_scope
from backend.db.blocks import BlockCollector, ServiceBlockstore, multihash_of
from evidence.ipfs import LocalBlockstore, add_bytes_text, cat
from evidence.ipfs.errors import BlockNotFoundError, CorruptBlockError

BIG = bytes(range(256)) * 1100  # 281,600 bytes: two leaves under a dag-pb root


def _store(db_url: str, tmp_path: Path) -> tuple[ServiceBlockstore, sessionmaker[Session]]:
    engine = make_engine(db_url)
    return (ServiceBlockstore(engine, LocalBlockstore(tmp_path / "ipfs", fsync=False)),
            make_session_factory(engine))


def _collect(data: bytes) -> tuple[str, list[tuple[bytes, bytes]]]:
    collector = BlockCollector()
    return add_bytes_text(data, cid_version=1, blockstore=collector), collector.blocks


def _rows(store: ServiceBlockstore) -> int:
    with store.engine.connect() as conn:
        return int(conn.execute(sa.text("SELECT count(*) FROM step_block")).scalar_one())


def test_blocks_written_in_a_transaction_read_back_with_the_files_cids(
        db_url: str, tmp_path: Path) -> None:
    store, sessions = _store(db_url, tmp_path)
    files = LocalBlockstore(tmp_path / "reference", fsync=False)
    for data in (b"a step bundle", BIG):
        cid, blocks = _collect(data)
        assert cid == add_bytes_text(data, cid_version=1, blockstore=files)  # same CIDs
        assert all(files.get(c) == b for c, b in blocks)  # the same blocks as files
        with write_scope(sessions) as s:
            ServiceBlockstore.write(s, blocks)
        assert b"".join(cat(cid, store)) == data
        assert store.has(cid)
        for raw, block in blocks:
            assert store.get(raw) == block
    assert _rows(store) == 4  # one raw block; a root and two leaves
    assert not any((tmp_path / "ipfs" / "blocks").rglob("*.data"))  # no file written


def test_the_same_block_twice_is_no_error_and_one_row(db_url: str, tmp_path: Path) -> None:
    store, sessions = _store(db_url, tmp_path)
    cid, blocks = _collect(b"twice")
    with write_scope(sessions) as s:
        ServiceBlockstore.write(s, blocks)
    with write_scope(sessions) as s:
        ServiceBlockstore.write(s, blocks + blocks)
    assert _rows(store) == 1
    assert store.get(cid) == b"twice"


def test_a_rolled_back_step_leaves_no_block(db_url: str, tmp_path: Path) -> None:
    store, sessions = _store(db_url, tmp_path)
    cid, blocks = _collect(b"refused")
    with pytest.raises(RuntimeError), write_scope(sessions) as s:
        ServiceBlockstore.write(s, blocks)
        raise RuntimeError("the step is refused")
    assert not store.has(cid)
    with pytest.raises(BlockNotFoundError):
        store.get(cid)
    assert _rows(store) == 0


def test_reads_the_files_then_the_table_and_puts_in_files(db_url: str,
                                                         tmp_path: Path) -> None:
    store, sessions = _store(db_url, tmp_path)
    in_table, blocks = _collect(b"in the table")
    with write_scope(sessions) as s:
        ServiceBlockstore.write(s, blocks)
    in_files = add_bytes_text(b"an upload", cid_version=1, blockstore=store)  # put: a file
    assert store.files.has(in_files) and not store.files.has(in_table)
    assert _rows(store) == 1
    assert store.get(in_files) == b"an upload" and store.get(in_table) == b"in the table"
    assert store.has(in_files) and store.has(in_table)
    missing, _ = _collect(b"nowhere")
    assert not store.has(missing)
    with pytest.raises(BlockNotFoundError):
        store.get(missing)
    store.delete(in_files)  # an aborted upload's blocks: files only
    store.delete(in_table)
    assert not store.has(in_files) and store.get(in_table) == b"in the table"
    assert list(store.keys()) == []  # the files' keys (maintenance tools)


def test_a_corrupted_row_is_refused_naming_the_block(db_url: str, tmp_path: Path) -> None:
    store, sessions = _store(db_url, tmp_path)
    cid, blocks = _collect(b"will be damaged")
    with write_scope(sessions) as s:
        ServiceBlockstore.write(s, blocks)
        s.execute(sa.text("UPDATE step_block SET data = :d WHERE multihash = :m"),
                  {"d": b"damaged", "m": multihash_of(blocks[0][0])})
    with pytest.raises(CorruptBlockError, match="step_block"):
        store.get(cid)


def test_a_cidv0_finds_the_block_of_the_same_multihash(db_url: str, tmp_path: Path) -> None:
    """Keyed like flatfs files: by multihash, so a raw block answers its CIDv0 too."""
    store, sessions = _store(db_url, tmp_path)
    _cid, blocks = _collect(b"one multihash")
    with write_scope(sessions) as s:
        ServiceBlockstore.write(s, blocks)
    v0 = multihash_of(blocks[0][0])
    assert store.get(v0) == b"one multihash"


def test_downgrade_past_0015_writes_the_blocks_out_as_files(
        db_url: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """The code before revision 0015 reads only files: the downgrade leaves each block in
    the configured data dir's local blockstore, where that code looks."""
    from alembic import command

    from backend.db import upgrade_to_head
    from backend.db.migrate import alembic_config

    store, sessions = _store(db_url, tmp_path)
    cid, blocks = _collect(BIG)
    with write_scope(sessions) as s:
        ServiceBlockstore.write(s, blocks)
    store.engine.dispose()
    monkeypatch.setenv("CHAINARB_DATA_DIR", str(tmp_path / "data"))
    command.downgrade(alembic_config(db_url), "0014")
    files = LocalBlockstore(tmp_path / "data" / "ipfs", fsync=False)
    assert b"".join(cat(cid, files)) == BIG
    assert all(files.get(raw) == data for raw, data in blocks)
    upgrade_to_head(db_url)
    assert _rows(_store(db_url, tmp_path)[0]) == 0  # the blocks stay files; read from there


def _step_values(case_id: str, sequence: int, cid: str) -> dict[str, object]:
    from datetime import UTC, datetime

    return dict(case_id=case_id, sequence=sequence, kind="FileClaim", record={"a": sequence},
                signature="0x" + "00" * 65, signer="0x" + "aa" * 20,
                record_hash="0x" + f"{sequence:064x}", prev_hash="0x" + "00" * 32, cid=cid,
                created_at=datetime.now(UTC))


def _a_case(sessions: sessionmaker[Session]) -> str:
    from backend.db import Case

    case_id = "0x" + "01" * 32
    with write_scope(sessions) as s:
        s.add(Case(id=case_id, order_id="1", claimant="0x" + "aa" * 20,
                   respondent="0x" + "bb" * 20, stage="FILED", state={}))
    return case_id


@pytest.mark.parametrize("data", [b"a step bundle", BIG], ids=["one block", "three blocks"])
def test_a_step_and_its_blocks_are_stored_together(db_url: str, tmp_path: Path,
                                                   data: bytes) -> None:
    """``insert_step``: on PostgreSQL a one-block step is one statement (the block's
    INSERT a CTE of the step's); the same rows either way, on both databases; the same
    block again is one row; a step refused by the database stores no block."""
    from sqlalchemy.exc import IntegrityError

    from backend.db import Step
    from backend.db.blocks import insert_step

    store, sessions = _store(db_url, tmp_path)
    case_id = _a_case(sessions)
    cid, blocks = _collect(data)
    ids = []
    for sequence in (1, 2):  # the same bundle twice: the block once
        with write_scope(sessions) as s:
            ids.append(insert_step(s, blocks, _step_values(case_id, sequence, cid)))
    with sessions() as s:
        steps = {st.id: st for st in s.exec(select(Step)).all()}
    assert sorted(steps) == sorted(ids) and all(isinstance(i, int) for i in ids)  # type: ignore[type-var]
    assert [steps[i].sequence for i in ids] == [1, 2] and steps[ids[0]].cid == cid
    assert _rows(store) == len(blocks)
    assert b"".join(cat(cid, store)) == data
    other_cid, other = _collect(data + b" and more")
    with pytest.raises(IntegrityError), write_scope(sessions) as s:  # sequence 2 is taken
        insert_step(s, other, _step_values(case_id, 2, other_cid))
    assert _rows(store) == len(blocks)
    assert not store.has(other_cid)


def test_a_step_with_its_block_outside_a_write_unit_is_refused(db_url: str,
                                                               tmp_path: Path) -> None:
    """The write guard sees the one-statement form (a data-modifying CTE) as the write it
    is."""
    from backend.db.blocks import insert_step
    from backend.db.engine import (
        UnguardedWrite,
        forget_write_guard_violations,
        write_guard_violations,
    )

    store, _ = _store(db_url, tmp_path)
    sessions = make_session_factory(make_engine(db_url, write_guard="raise"))
    case_id = _a_case(sessions)
    cid, blocks = _collect(b"unguarded")
    before = len(write_guard_violations())
    with pytest.raises(UnguardedWrite, match=r"blocks\.py:\d+"), sessions() as s:
        insert_step(s, blocks, _step_values(case_id, 1, cid))
    forget_write_guard_violations(before)  # provoked here
    assert _rows(store) == 0


@pytest.mark.parametrize("data", [b"a step bundle", BIG], ids=["one block", "three blocks"])
def test_a_step_its_blocks_and_the_rows_naming_it_are_stored_together(
        db_url: str, tmp_path: Path, data: bytes) -> None:
    """``insert_step_rows``: the step's detail (keyed by the step's id) and its leaf (its
    own id, naming the step) are stored with the step and its blocks, the same rows on
    both databases; on PostgreSQL a one-block step and both rows are one statement; if
    one INSERT is refused, nothing of the step is stored."""
    from datetime import UTC, datetime

    from sqlalchemy.exc import IntegrityError

    from backend.db import Leaf, LeafKind, Step
    from backend.db.blocks import insert_step_rows
    from backend.db.service_models import StepDetail

    store, sessions = _store(db_url, tmp_path)
    case_id = _a_case(sessions)
    cid, blocks = _collect(data)
    statements: list[str] = []
    sa.event.listen(store.engine, "before_cursor_execute",
                    lambda _c, _cur, sql, *_a: statements.append(sql))

    def dependents(sequence: int, leaf_hash: str) -> list[tuple[type, str, dict[str, object]]]:
        return [(StepDetail, "step_id", dict(case_id=case_id, action="case.filed",
                                             command={"n": sequence}, bundle_cid=cid,
                                             signed_at=datetime.now(UTC))),
                (Leaf, "ref_id", dict(kind=LeafKind.STEP, case_id=case_id,
                                      value=[case_id, str(sequence)], leaf_hash=leaf_hash))]

    with write_scope(sessions) as s:
        statements.clear()
        step_id, detail_key, leaf_id = insert_step_rows(
            s, blocks, _step_values(case_id, 1, cid), dependents(1, "0x" + "01" * 32))
        written = [x for x in statements if x.lstrip().upper().startswith(("INSERT", "WITH"))]
    one_statement = len(blocks) == 1 and store.engine.dialect.name == "postgresql"
    assert len(written) == (1 if one_statement else 3 + len(blocks)), written
    assert detail_key == step_id and isinstance(leaf_id, int)
    with sessions() as s:
        step = s.exec(select(Step)).one()
        detail = s.exec(select(StepDetail)).one()
        leaf = s.exec(select(Leaf)).one()
    assert (step.id, detail.step_id, leaf.id, leaf.ref_id) == (step_id, step_id, leaf_id,
                                                                 step_id)
    assert (detail.command, detail.bundle_cid, leaf.value) == ({"n": 1}, cid,
                                                               [case_id, "1"])
    assert b"".join(cat(cid, store)) == data
    other_cid, other = _collect(data + b" and more")
    with pytest.raises(IntegrityError), write_scope(sessions) as s:  # the leaf's hash is taken
        insert_step_rows(s, other, _step_values(case_id, 2, other_cid),
                         dependents(2, "0x" + "01" * 32))
    with sessions() as s:
        assert len(s.exec(select(Step)).all()) == len(s.exec(select(Leaf)).all()) == 1
        assert len(s.exec(select(StepDetail)).all()) == 1
    assert _rows(store) == len(blocks) and not store.has(other_cid)
