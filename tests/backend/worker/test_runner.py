"""BackgroundAnchoring from the settings: real embedded chain, real EvidenceAnchor, a real
RFC 3161 authority (`openssl ts`), interval 0 (the demo): leaves are anchored on `kick()`."""

from __future__ import annotations

import hashlib
import time
from pathlib import Path

import pytest
from eth_account import Account
from sqlmodel import select

from backend.chain.contracts import Transactor, deploy_anchor
from backend.db import (
    AnchorBatch,
    AnchorStatus,
    Case,
    LeafKind,
    make_engine,
    make_session_factory,
    write_scope,
)
from backend.db.log_models import LogCheckpoint
from backend.gateway import open_chain
from backend.settings import Settings
from backend.worker import BackgroundAnchoring, enqueue_leaf
from evidence.chain import lookup_anchor
from evidence.timestamp import load_certificates, verify_token
from tests.support.migrated import migrated
from tests.support.tsa import start_tsa

pytestmark = pytest.mark.anvil

CASE = "0x" + "c3" * 32

def test_background_anchoring_with_tsa_on_the_embedded_chain(tmp_path: Path) -> None:
    with start_tsa(tmp_path / "tsa") as tsa:
        settings = Settings(data_dir=tmp_path / "data", anchor_interval_seconds=0,
                            tsa_urls=[tsa.url], tsa_cert_files=[tsa.ca_pem])
        migrated(settings.database)
        engine = make_engine(settings.database)
        sessions = make_session_factory(engine)
        with open_chain(settings) as handle:
            institution = Account.from_key(settings.institution_private_key())
            anchor = deploy_anchor(Transactor(handle.w3), institution).address
            bg = BackgroundAnchoring.from_settings(settings, sessions, handle, anchor)
            bg.start()
            try:
                with write_scope(sessions) as s:
                    s.add(Case(id=CASE, order_id="3", claimant="0x" + "aa" * 20,
                               respondent="0x" + "bb" * 20, stage="FILED"))
                    s.flush()
                    for i in range(3):
                        enqueue_leaf(s, kind=LeafKind.STEP, ref_id=i, case_id=CASE,
                                     value=[CASE, "0x" + hashlib.sha256(b"%d" % i).hexdigest(),
                                            "0x" + "00" * 32])
                bg.kick()
                deadline = time.monotonic() + 60
                batch = None
                while time.monotonic() < deadline:
                    with sessions() as s:
                        batch = s.exec(select(AnchorBatch)).first()
                    if batch is not None and batch.timestamp_token is not None:
                        break
                    time.sleep(0.05)
            finally:
                bg.stop()
            assert batch is not None and batch.status == AnchorStatus.CONFIRMED
            root = bytes.fromhex(batch.root[2:])
            record = lookup_anchor(handle.w3, anchor, root)
            # three records and the log's checkpoint, which every batch carries (rule 7)
            assert record is not None and record.count == 4
            with sessions() as s:
                carried = s.exec(select(LogCheckpoint)).one()
            assert carried.batch_id == batch.id and carried.size == 3
        engine.dispose()
        assert batch.timestamp_token is not None
        info = verify_token(batch.timestamp_token, hashlib.sha256(root).digest(),
                            trusted=load_certificates(tsa.ca_pem.read_bytes()))
        assert info.digest == hashlib.sha256(root).digest()
