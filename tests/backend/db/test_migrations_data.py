"""Revisions 0003, 0004 and 0005 move real rows, up and down, on SQLite and PostgreSQL.

Rows are written with SQLAlchemy Core as the older revision's code wrote them (the models
describe head only), then migrated, read back, and migrated back.
"""

from __future__ import annotations

import io
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
import sqlalchemy as sa
from alembic import command
from eth_account import Account

from backend.db import current_revision, head_revision, make_engine, make_session_factory
from backend.db.migrate import alembic_config
from backend.db.types import UTCDateTime
from backend.services.keys import ServiceKey, seal_legacy_keys
from evidence.encryption import encrypt_stream, generate_data_key
from evidence.errors import NotARecipient
from evidence.ipfs import MemoryBlockstore, add_bytes

KEY = "0x" + "42" * 32  # the institution key the rows' wraps are made for
OTHER_KEY = "0x" + "43" * 32
CASE = "0x" + "ab" * 32
T0 = datetime(2026, 11, 24, 9, 0, tzinfo=UTC)
BUYER = Account.from_key("0x" + "01" * 32).address
SELLER = Account.from_key("0x" + "02" * 32).address

_case = sa.table("arb_case", *(sa.column(c) for c in (
    "id", "order_id", "claimant", "respondent", "stage", "next_sequence")),
    sa.column("state", sa.JSON()), sa.column("created_at", UTCDateTime()),
    sa.column("updated_at", UTCDateTime()))
_step = sa.table("step", *(sa.column(c) for c in (
    "id", "case_id", "sequence", "kind", "signature", "signer", "record_hash", "prev_hash",
    "cid")), sa.column("record", sa.JSON()), sa.column("created_at", UTCDateTime()))
_detail = sa.table("step_detail", *(sa.column(c) for c in (
    "step_id", "case_id", "action", "payload", "confidential", "data_key", "bundle_cid")),
    sa.column("command", sa.JSON()), sa.column("attachments", sa.JSON()),
    sa.column("signed_at", UTCDateTime()), sa.column("created_at", UTCDateTime()))
_item = sa.table("evidence_item", *(sa.column(c) for c in (
    "id", "case_id", "submitter", "filename", "media_type", "size", "sha256", "salt",
    "commitment", "cid")), sa.column("wrapped_keys", sa.JSON()),
    sa.column("disclosed_to", sa.JSON()), sa.column("provenance", sa.JSON()),
    sa.column("created_at", UTCDateTime()))
_event = sa.table("case_event", sa.column("id"), sa.column("case_id"), sa.column("kind"),
                  sa.column("at", UTCDateTime()), sa.column("data", sa.JSON()))


def _rows(url: str, sql: Any) -> list[Any]:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return list(conn.execute(sql).all())
    finally:
        engine.dispose()


def _write(url: str, *statements: Any) -> None:
    engine = make_engine(url)
    try:
        with engine.begin() as conn:
            for s in statements:
                conn.execute(s)
    finally:
        engine.dispose()


def _columns(url: str, table: str) -> set[str]:
    engine = make_engine(url)
    try:
        return {c["name"] for c in sa.inspect(engine).get_columns(table)}
    finally:
        engine.dispose()


def _migrate(url: str, direction: str, target: str, institution_key: str | None = None
             ) -> None:
    cfg = alembic_config(url)
    if institution_key is not None:
        cfg.attributes["institution_key"] = institution_key
    getattr(command, direction)(cfg, target)


def _case_row() -> Any:
    return sa.insert(_case).values(id=CASE, order_id="7", claimant=BUYER, respondent=SELLER,
                                   stage="facilitation", next_sequence=2, state={},
                                   created_at=T0, updated_at=T0)


def _container(store: MemoryBlockstore, data: bytes) -> tuple[str, bytes, Any]:
    """An encrypted container in ``store``: its CID, data key and header."""
    key = generate_data_key()
    out = io.BytesIO()
    header = encrypt_stream(io.BytesIO(data), out, key, chunk_size=64 * 1024,
                            hash_in_thread=False).header
    return str(add_bytes(out.getvalue(), cid_version=1, blockstore=store)), key, header


# -- 0003: step data keys -------------------------------------------------------------------

def test_0003_downgrade_restores_plain_keys_and_upgrade_plus_seal_wraps_them(
        db_url: str) -> None:
    service = ServiceKey.from_institution_key(KEY)
    store = MemoryBlockstore()
    bundle_cid, bundle_key, bundle_header = _container(store, b'{"format":"chainarb.step"}')
    doc_cid, doc_key, doc_header = _container(store, b"# Award\n")
    plain_cid = str(add_bytes(b'{"format":"chainarb.step","plain":true}', cid_version=1,
                              blockstore=store))
    wraps = service.wrap(bundle_key, bundle_header)
    doc = {"type": "Document", "filename": "award.md", "cid": doc_cid, "sha256": "0x" + "cd" * 32,
           "keywraps": service.wrap(doc_key, doc_header)}
    award = {"type": "Award", "message": {"awardHash": "0x" + "cd" * 32}}
    steps = [sa.insert(_step).values(id=i + 1, case_id=CASE, sequence=i, kind=k,
                                     signature="0x" + "11" * 65, signer=BUYER,
                                     record_hash=f"0x{i + 1:064x}", prev_hash="0x" + "00" * 32,
                                     cid=c, record={}, created_at=T0)
             for i, (k, c) in enumerate((("offer.made", bundle_cid), ("award.issued",
                                                                       plain_cid)))]
    details = [
        sa.insert(_detail).values(step_id=1, case_id=CASE, action="offer.made", payload="{}",
                                  confidential=True, data_key=None, bundle_cid=bundle_cid,
                                  command={}, attachments=[], signed_at=T0, created_at=T0),
        sa.insert(_detail).values(step_id=2, case_id=CASE, action="award.issued",
                                  payload=None, confidential=False, data_key=None,
                                  bundle_cid=plain_cid, command={},
                                  attachments=[award, doc], signed_at=T0, created_at=T0),
    ]
    _write(db_url, _case_row(), *steps, *details)
    _write(db_url, sa.text("UPDATE step_detail SET data_key_wraps = :w WHERE step_id = 1")
           .bindparams(w=wraps))

    # Without the key the wraps were made for, the downgrade of 0003 refuses before it
    # changes anything (PostgreSQL rolls back the whole run, DDL included; SQLite's DDL is
    # not transactional, so there the completed 0004 downgrade stays).
    with pytest.raises(RuntimeError, match="CHAINARB_INSTITUTION_KEY"):
        _migrate(db_url, "downgrade", "0002", institution_key=OTHER_KEY)
    assert current_revision(db_url) == (
        head_revision() if db_url.startswith("postgresql") else "0003")
    assert _rows(db_url, sa.text("SELECT data_key, data_key_wraps FROM step_detail "
                                 "WHERE step_id = 1")) == [(None, wraps)]

    _migrate(db_url, "downgrade", "0002", institution_key=KEY)
    assert "data_key_wraps" not in _columns(db_url, "step_detail")
    got = dict(_rows(db_url, sa.select(_detail.c.step_id, _detail.c.data_key)))
    assert got == {1: "0x" + bundle_key.hex(), 2: None}
    atts = _rows(db_url, sa.select(_detail.c.attachments).where(_detail.c.step_id == 2))[0][0]
    assert atts[0] == award  # records other than documents are untouched
    assert atts[1] == {**{k: v for k, v in doc.items() if k != "keywraps"},
                       "dataKey": "0x" + doc_key.hex()}

    # Up again: the schema is back, the rows are legacy (plaintext) until the service seals
    # them at start, which needs the containers' headers from the blockstore.
    _migrate(db_url, "upgrade", "head")
    assert "data_key_wraps" in _columns(db_url, "step_detail")
    engine = make_engine(db_url)
    try:
        report = seal_legacy_keys(make_session_factory(engine), service, store)
    finally:
        engine.dispose()
    assert report.sealed == 2 and report.failed == {}
    rows = _rows(db_url, sa.text("SELECT step_id, data_key, data_key_wraps, attachments "
                                 "FROM step_detail ORDER BY step_id"))
    assert [(r[0], r[1]) for r in rows] == [(1, None), (2, None)]
    assert service.unwrap(rows[0][2]) == bundle_key and rows[1][2] is None
    text = " ".join(str(r) for r in rows)
    assert bundle_key.hex() not in text and doc_key.hex() not in text
    with pytest.raises(NotARecipient):
        ServiceKey.from_institution_key(OTHER_KEY).unwrap(rows[0][2])


def test_0003_downgrade_without_wrapped_rows_needs_no_key(db_url: str) -> None:
    _write(db_url, _case_row())
    _migrate(db_url, "downgrade", "0002")  # no key anywhere needed: nothing to unwrap
    assert current_revision(db_url) == "0002"
    _migrate(db_url, "upgrade", "head")
    assert current_revision(db_url) == head_revision()


# -- 0004: evidence metadata columns, reader keys --------------------------------------------

def _old_item(i: int, **meta: str) -> dict[str, Any]:
    return {"id": i, "case_id": CASE, "submitter": BUYER, "filename": f"f{i}.pdf",
            "media_type": "application/pdf", "size": 10, "sha256": "0x" + "01" * 32,
            "salt": "0x" + "02" * 32, "commitment": f"0x{i:064x}", "cid": f"bafy{i}",
            "wrapped_keys": {"keywraps": f'{{"w":{i}}}', "service": "0x" + "03" * 32,
                             "recipients": {SELLER: "0x" + "04" * 32}, **meta},
            "disclosed_to": [BUYER], "provenance": [], "created_at": T0}


def test_0004_moves_upload_metadata_and_reader_keys_and_back(db_url: str) -> None:
    _migrate(db_url, "downgrade", "0003")
    assert "kind" not in _columns(db_url, "evidence_item")
    with_meta = _old_item(1, kind="photo", claimedMediaType="image/png",
                          session="auth-session:12")
    without_meta = _old_item(2)  # written before the metadata existed
    t = [T0 + timedelta(minutes=m) for m in range(4)]
    events = [  # inserted in this order (ids from the database, as the service's were)
        {"case_id": CASE, "kind": "encryption_key", "at": t[0],
         "data": {"address": BUYER, "publicKey": "0x" + "a1" * 32}},
        {"case_id": CASE, "kind": "stage_changed", "at": t[1],
         "data": {"from": "negotiation", "to": "facilitation", "byDefault": False}},
        {"case_id": CASE, "kind": "encryption_key", "at": t[2],
         "data": {"address": SELLER, "publicKey": "0x" + "b1" * 32}},
        {"case_id": CASE, "kind": "encryption_key", "at": t[3],
         "data": {"address": BUYER, "publicKey": "0x" + "a2" * 32}},  # replaces a1
    ]
    _write(db_url, _case_row(), *(sa.insert(_item).values(**r) for r in (with_meta, without_meta)),
           *(sa.insert(_event).values(**e) for e in events))

    _migrate(db_url, "upgrade", "head")
    items = {r.id: r for r in _rows(db_url, sa.text(
        "SELECT id, kind, claimed_media_type, upload_session, wrapped_keys FROM evidence_item"))}
    assert (items[1].kind, items[1].claimed_media_type, items[1].upload_session) == \
        ("photo", "image/png", "auth-session:12")
    assert (items[2].kind, items[2].claimed_media_type, items[2].upload_session) == \
        ("other", "", "")
    wk = _rows(db_url, sa.select(_item.c.id, _item.c.wrapped_keys).order_by(_item.c.id))
    assert [w for _, w in wk] == [
        {k: v for k, v in with_meta["wrapped_keys"].items()
         if k not in ("kind", "claimedMediaType", "session")}, without_meta["wrapped_keys"]]
    keys = _rows(db_url, sa.select(sa.table("reader_key", sa.column("address"),
                                            sa.column("public_key"),
                                            sa.column("registered_at", UTCDateTime())))
                 .order_by(sa.column("address")))
    assert sorted((a, k, at) for a, k, at in keys) == sorted([
        (BUYER, "0x" + "a2" * 32, t[3]), (SELLER, "0x" + "b1" * 32, t[2])])
    left = _rows(db_url, sa.select(_event.c.kind))
    assert [k for (k,) in left] == ["stage_changed"]

    # the service reads them from the new places
    from sqlmodel import select

    from backend.db.models import EvidenceItem
    from backend.db.service_models import ReaderKey

    engine = make_engine(db_url)
    try:
        with make_session_factory(engine)() as s:
            got = s.get(EvidenceItem, 1)
            assert got is not None and got.kind == "photo"
            assert {r.address: r.public_key for r in s.exec(select(ReaderKey)).all()} == {
                BUYER: "0x" + "a2" * 32, SELLER: "0x" + "b1" * 32}
    finally:
        engine.dispose()

    # a second key for the same (case, address) is refused by the table itself
    with pytest.raises(sa.exc.IntegrityError):
        _write(db_url, sa.text("INSERT INTO reader_key (case_id, address, public_key, "
                               "registered_at) VALUES (:c, :a, :k, :t)").bindparams(
            c=CASE, a=BUYER, k="0x" + "a3" * 32, t=T0))

    _migrate(db_url, "downgrade", "0003")
    assert {"kind", "claimed_media_type", "upload_session"}.isdisjoint(
        _columns(db_url, "evidence_item"))
    wk = dict(_rows(db_url, sa.select(_item.c.id, _item.c.wrapped_keys)))  # type: ignore[assignment]
    assert wk[1] == with_meta["wrapped_keys"]
    assert wk[2] == {**without_meta["wrapped_keys"], "kind": "other",
                     "claimedMediaType": "", "session": ""}
    back = _rows(db_url, sa.select(_event.c.kind, _event.c.at, _event.c.data)
                 .order_by(_event.c.id))
    assert [(k, at, d) for k, at, d in back if k == "encryption_key"] == [
        ("encryption_key", t[2], {"address": SELLER, "publicKey": "0x" + "b1" * 32}),
        ("encryption_key", t[3], {"address": BUYER, "publicKey": "0x" + "a2" * 32})]
    assert [k for k, _, _ in back].count("stage_changed") == 1
    engine = make_engine(db_url)
    try:
        assert "reader_key" not in sa.inspect(engine).get_table_names()
    finally:
        engine.dispose()

    _migrate(db_url, "upgrade", "head")  # and up again: the same result as the first time
    assert len(_rows(db_url, sa.text("SELECT id FROM reader_key"))) == 2
    assert _rows(db_url, sa.text("SELECT kind FROM evidence_item ORDER BY id")) == [
        ("photo",), ("other",)]


# -- 0005: a batch's inclusion per chain ------------------------------------------------------

_batch = sa.table("anchor_batch", *(sa.column(c) for c in (
    "id", "root", "leaf_count", "status", "chain_id", "contract", "nonce", "raw_tx", "tx_hash",
    "block_number", "block_hash", "attempts", "last_error")),
    sa.column("timestamp_token", sa.LargeBinary()), sa.column("block_time", UTCDateTime()),
    sa.column("created_at", UTCDateTime()), sa.column("updated_at", UTCDateTime()))
ANCHOR = "0x" + "a0" * 20


def _old_batch(i: int, status: str, **kw: Any) -> dict[str, Any]:
    row: dict[str, Any] = {"id": i, "root": "0x" + f"{i:02x}" * 32, "leaf_count": i,
                           "status": status, "chain_id": None, "contract": None,
                           "nonce": None, "raw_tx": None, "tx_hash": None,
                           "block_number": None, "block_hash": None, "block_time": None,
                           "attempts": 0, "last_error": None, "timestamp_token": None,
                           "created_at": T0, "updated_at": T0}
    return {**row, **kw}


def test_0005_moves_each_batch_s_chain_to_an_inclusion_and_back(db_url: str) -> None:
    _migrate(db_url, "downgrade", "0004")
    confirmed = _old_batch(1, "confirmed", chain_id=31415926, contract=ANCHOR, nonce=3,
                           raw_tx="0x01", tx_hash="0x" + "11" * 32, block_number=9,
                           block_hash="0x" + "99" * 32, block_time=T0, attempts=1,
                           timestamp_token=b"tsr")
    sent = _old_batch(2, "sent", chain_id=31415926, contract=ANCHOR, nonce=4, raw_tx="0x02",
                      tx_hash="0x" + "22" * 32)
    failed = _old_batch(3, "failed", chain_id=31415926, contract=ANCHOR, attempts=20,
                        last_error="node refused")
    unassigned = _old_batch(4, "pending")  # claimed, never given a chain
    _write(db_url, *(sa.insert(_batch).values(**b) for b in (confirmed, sent, failed,
                                                             unassigned)))

    _migrate(db_url, "upgrade", "head")
    assert {"chain_id", "tx_hash", "attempts"}.isdisjoint(_columns(db_url, "anchor_batch"))
    batches = dict(_rows(db_url, sa.text("SELECT id, status FROM anchor_batch")))
    assert batches == {1: "confirmed", 2: "pending", 3: "pending", 4: "pending"}
    rows = {r.batch_id: r for r in _rows(db_url, sa.text(
        "SELECT batch_id, chain_id, contract, status, nonce, raw_tx, tx_hash, block_number, "
        "block_hash, attempts, last_error FROM anchor_inclusion"))}
    assert set(rows) == {1, 2, 3}  # the unassigned batch gets the worker's chains later
    assert tuple(rows[1])[1:] == (31415926, ANCHOR, "confirmed", 3, "0x01", "0x" + "11" * 32,
                                  9, "0x" + "99" * 32, 1, None)
    assert (rows[2].status, rows[2].raw_tx, rows[2].nonce) == ("sent", "0x02", 4)
    assert (rows[3].status, rows[3].attempts, rows[3].last_error) == \
        ("failed", 20, "node refused")
    token = _rows(db_url, sa.text("SELECT timestamp_token FROM anchor_batch WHERE id = 1"))
    assert bytes(token[0][0]) == b"tsr"

    # a second chain's row, then down again: each batch keeps its first (the service chain's)
    _write(db_url, sa.text(
        "INSERT INTO anchor_inclusion (batch_id, chain_id, contract, status, attempts, "
        "created_at, updated_at) VALUES (1, 11155111, :c, 'pending', 0, :t, :t)").bindparams(
        c=ANCHOR, t=T0))
    with pytest.raises(sa.exc.IntegrityError):  # one row per (batch, chain)
        _write(db_url, sa.text(
            "INSERT INTO anchor_inclusion (batch_id, chain_id, contract, status, attempts, "
            "created_at, updated_at) VALUES (1, 11155111, :c, 'pending', 0, :t, :t)")
            .bindparams(c=ANCHOR, t=T0))
    _migrate(db_url, "downgrade", "0004")
    back = {r.id: r for r in _rows(db_url, sa.select(_batch))}
    assert (back[1].status, back[1].chain_id, back[1].tx_hash, back[1].block_time) == \
        ("confirmed", 31415926, "0x" + "11" * 32, T0)
    assert (back[2].status, back[2].raw_tx) == ("sent", "0x02")
    assert (back[3].status, back[3].attempts) == ("failed", 20)
    assert (back[4].status, back[4].chain_id, back[4].attempts) == ("pending", None, 0)
    _migrate(db_url, "upgrade", "head")


_DROPPED_0016 = ("ix_step_case_id", "ix_offer_signature_case_id", "ix_participant_case_id",
                 "ix_court_access_case_id", "ix_step_detail_case_id")


def test_0016_keeps_the_log_rows_and_the_tables_forms(db_url: str) -> None:
    """0016 copies log_entry and log_node into their keyed forms on SQLite (INTEGER
    PRIMARY KEY, WITHOUT ROWID) and back on downgrade; the rows survive both ways, and the
    five dropped indexes come back on downgrade."""
    cfg = alembic_config(db_url)
    command.downgrade(cfg, "0015")
    entry = sa.table("log_entry", *(sa.column(c) for c in (
        "idx", "kind", "case_id", "record_hash", "signatures_hash", "entry", "ref_id")),
        sa.column("accepted_at", UTCDateTime()))
    node = sa.table("log_node", sa.column("level"), sa.column("idx"), sa.column("hash"))
    big = 2**40 + 3  # beyond 32 bits: both backends' integers hold it
    entries = [{"idx": i, "kind": "step", "case_id": CASE, "record_hash": f"0x{i:064x}",
                "signatures_hash": f"0x{i + 1:064x}", "entry": f"0x{i:0196x}",
                "ref_id": (i or None) if i < 10 else 7,
                "accepted_at": T0 + timedelta(seconds=i % 1000)}
               for i in (0, 1, big)]
    nodes = [{"level": lv, "idx": i, "hash": f"0x{lv * 100 + i % 97:064x}"}
             for lv, i in ((0, 0), (0, 1), (1, 0), (0, big))]
    engine = make_engine(db_url)
    try:
        with engine.begin() as conn:
            conn.execute(sa.insert(entry), entries)
            conn.execute(sa.insert(node), nodes)

        def rows() -> tuple[list[Any], list[Any]]:
            with engine.connect() as conn:
                return (list(conn.execute(sa.select(entry).order_by(entry.c.idx))),
                        list(conn.execute(sa.select(node).order_by(node.c.level, node.c.idx))))

        def indexes() -> set[str]:
            inspector = sa.inspect(engine)
            return {str(i["name"]) for t in ("step", "offer_signature", "participant",
                                             "court_access", "step_detail")
                    for i in inspector.get_indexes(t)}

        before = rows()
        assert [r.idx for r in before[0]] == [0, 1, big]
        assert {"ix_step_case_id", "ix_participant_case_id"} <= indexes()
        command.upgrade(cfg, "0016")
        engine.dispose()
        assert rows() == before
        assert not set(_DROPPED_0016) & indexes()
        if engine.dialect.name == "sqlite":
            with engine.connect() as conn:
                sql: dict[str, str] = dict(conn.exec_driver_sql(
                    "SELECT name, sql FROM sqlite_schema WHERE type = 'table'").all())
            assert "idx INTEGER NOT NULL" in sql["log_entry"]
            assert sql["log_node"].rstrip().endswith("WITHOUT ROWID")
        command.downgrade(cfg, "0015")
        engine.dispose()
        assert rows() == before
        assert set(_DROPPED_0016) <= indexes()
        command.upgrade(cfg, "head")
        assert current_revision(db_url) == head_revision()
    finally:
        engine.dispose()


def test_0017_stores_the_case_state_with_lz4(db_url: str) -> None:
    """0017: on PostgreSQL (Debian's is built with lz4) the case state's column compresses
    with lz4, so a state over the TOAST threshold is stored so; downgrade gives the column
    back to the server's default. SQLite has nothing to change: both ways run."""
    cfg = alembic_config(db_url)
    engine = make_engine(db_url)
    try:
        if engine.dialect.name == "sqlite":
            command.downgrade(cfg, "0016")
            command.upgrade(cfg, "0017")
            assert current_revision(db_url) == "0017"
            return

        def method() -> str:
            with engine.connect() as conn:
                return str(conn.execute(sa.text(
                    "SELECT attcompression FROM pg_attribute WHERE attrelid = "
                    "'arb_case'::regclass AND attname = 'state'")).scalar())

        assert method() == "l"
        state = {"version": 1, "case": {"offers": [{"offer_id": f"0x{i:064x}"}
                                                   for i in range(400)]}}
        with engine.begin() as conn:
            conn.execute(sa.insert(_case), [{
                "id": CASE, "order_id": "1", "claimant": BUYER, "respondent": SELLER,
                "stage": "filed", "next_sequence": 0, "state": state, "created_at": T0,
                "updated_at": T0}])
            assert conn.execute(sa.text(
                "SELECT pg_column_compression(state) FROM arb_case")).scalar() == "lz4"
        command.downgrade(cfg, "0016")
        engine.dispose()
        assert method() == ""  # the server's default_toast_compression again
        assert _rows(db_url, sa.select(_case.c.state))[0].state == state
        command.upgrade(cfg, "0017")
        engine.dispose()
        assert method() == "l"
    finally:
        engine.dispose()
