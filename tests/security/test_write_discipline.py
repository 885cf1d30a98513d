"""Issue 9, defect 2: one write discipline, and writers that never see "database is locked".

* The guard (backend/db/engine.py): a write of the product's code outside a write unit
  (``write_scope``/``begin_exclusive``) raises ``UnguardedWrite`` in tests (tests/conftest.py
  sets ``CHAINARB_WRITE_GUARD=raise`` for every engine and fails a test during which one
  happened), is logged in production, and nothing when the unit began with the lock.
* Load: evidence uploads and submissions, signed offers on two cases, an anchoring worker
  thread in the service's process and a second anchoring worker *process* write to one
  database at once: no request fails (no 5xx, no "database is locked"), nothing is lost
  or duplicated, every leaf is anchored once. On a SQLite file and on PostgreSQL.
"""

from __future__ import annotations

import json
import logging
import os
import secrets
import subprocess
import sys
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy.engine import make_url
from sqlmodel import col, select

from backend.db import (
    AnchorBatch,
    AnchorInclusion,
    AnchorStatus,
    EvidenceItem,
    Leaf,
    Step,
    begin_exclusive,
    make_engine,
    make_session_factory,
    session_scope,
    write_scope,
)
from backend.db.engine import (
    UnguardedWrite,
    forget_write_guard_violations,
    write_guard_violations,
)
from backend.worker.anchoring import AnchoringWorker, retry_failed
from evidence.records import EvidenceSubmission, Settlement, SettlementOffer
from tests.support.anchor_chain import FakeChain
from tests.support.evidence import make_evidence_world
from tests.support.migrated import migrated
from tests.support.world import AMOUNT, ORDER_ID, Actor, World, filing_payload

ROOT = Path(__file__).resolve().parents[2]

PG_ADMIN_URL = os.environ.get(
    "CHAINARB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test")


# -- the guard -----------------------------------------------------------------------------

@pytest.fixture
def sqlite_url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'guard.sqlite3'}"
    migrated(url)
    return url


def test_a_product_write_outside_a_write_unit_raises(sqlite_url: str) -> None:
    sessions = make_session_factory(make_engine(sqlite_url, write_guard="raise"))
    before = len(write_guard_violations())
    with pytest.raises(UnguardedWrite, match=r"anchoring\.py:\d+"), \
            session_scope(sessions) as s:
        retry_failed(s)  # its UPDATE runs in a deferred transaction: the breach
    assert len(write_guard_violations()) == before + 1
    forget_write_guard_violations(before)  # provoked here: not a breach of this test
    with write_scope(sessions) as s:  # the same call in a write unit passes
        assert retry_failed(s) == 0
    with sessions() as s:
        begin_exclusive(s)
        assert retry_failed(s) == 0
        s.commit()


def test_production_logs_the_breach_with_its_place(sqlite_url: str,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    sessions = make_session_factory(make_engine(sqlite_url, write_guard="log"))
    before = len(write_guard_violations())
    with caplog.at_level(logging.ERROR, logger="backend.db.engine"), session_scope(sessions) as s:
        assert retry_failed(s) == 0  # not refused: production keeps serving
    assert "write outside write_scope" in caplog.text and "anchoring.py" in caplog.text
    forget_write_guard_violations(before)


def test_a_bad_guard_mode_is_refused(sqlite_url: str) -> None:
    with pytest.raises(ValueError, match="CHAINARB_WRITE_GUARD"):
        make_engine(sqlite_url, write_guard="loud")


def test_a_test_seeding_rows_is_not_the_product(sqlite_url: str) -> None:
    """Rows a test writes itself are its own business; the guard judges product code."""
    sessions = make_session_factory(make_engine(sqlite_url, write_guard="raise"))
    with session_scope(sessions) as s:
        s.add(AnchorBatch(root="0x" + "02" * 32, leaf_count=1))
    with sessions() as s:
        assert s.exec(select(AnchorBatch)).one().root == "0x" + "02" * 32


# -- load: many writers at once ----------------------------------------------------------

def _pg_database() -> Iterator[str]:
    import psycopg

    admin = make_url(PG_ADMIN_URL)
    info: dict[str, Any] = {"host": admin.host or "127.0.0.1", "port": admin.port or 5432,
            "user": admin.username or "postgres", "dbname": admin.database or "test"}
    name = f"chainarb_wd_{secrets.token_hex(4)}"
    try:
        with psycopg.connect(**info, autocommit=True, connect_timeout=5) as conn:
            conn.execute(f'CREATE DATABASE "{name}"')
    except psycopg.Error as exc:
        pytest.fail(f"PostgreSQL not reachable at {info['host']}:{info['port']}: {exc}",
                    pytrace=False)
    try:
        yield str(admin.set(database=name))
    finally:
        with psycopg.connect(**info, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@pytest.fixture(params=["sqlite", "postgres"])
def load_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        url = f"sqlite:///{tmp_path / 'load.sqlite3'}"
        migrated(url)
        yield url
        return
    for url in _pg_database():
        migrated(url)
        yield url


def _open_filed(w: World, order_id: int) -> str:
    case_id = w.open_case("buyer", order_id)
    payload = filing_payload(w) | {"orderId": str(order_id)}
    r = w.buyer.post(f"/cases/{case_id}/filing", json=w.buyer.plain("case.filed", payload))
    assert r.status_code == 201, r.text
    w.port.party_raises_dispute(order_id, case_id)
    return case_id


def _offer(a: Actor, case_id: str, order_id: int, n: int) -> dict[str, Any]:
    view = a.get(f"/cases/{case_id}").json()
    to_buyer = 100_000_000 + n
    rec = SettlementOffer(case_id=case_id, sequence=view["nextSequence"],
                          prev_hash=view["prevHash"], offeror=a.address, order_id=order_id,
                          to_buyer=to_buyer, to_seller=AMOUNT - to_buyer, compensation=0,
                          expires_at=a.at() + 3 * 86400, signed_at=a.at())
    settlement = Settlement(order_id=order_id, case_id=case_id, to_buyer=to_buyer,
                            to_seller=AMOUNT - to_buyer, compensation=0)
    return {"record": rec.sign(a.key.key, a.world.domain).to_json_obj(),
            "attachments": [settlement.sign(a.key.key, a.world.domain).to_json_obj()]}


class Outcomes:
    """Every answer the load got, by kind; a failure is anything else than the expected."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.ok: dict[str, int] = {}
        self.failures: list[str] = []
        self.stale = 0

    def record(self, kind: str, r: Any, want: int = 201) -> bool:
        with self.lock:
            if r.status_code == want:
                self.ok[kind] = self.ok.get(kind, 0) + 1
                return True
            if r.status_code == 409 and r.json().get("code") == "stale_sequence":
                self.stale += 1  # another step took the position: sign again (not a failure)
                return False
            self.failures.append(f"{kind}: {r.status_code} {r.text[:300]}")
            return False


def _retrying(out: Outcomes, kind: str, send: Callable[[], Any], tries: int = 40) -> Any:
    for _ in range(tries):
        r = send()
        if out.record(kind, r):
            return r.json()
        if r.status_code != 409:
            return None
    with out.lock:
        out.failures.append(f"{kind}: still stale after {tries} tries")
    return None


def test_uploads_offers_and_anchoring_at_once_lose_nothing(load_url: str,
                                                           tmp_path: Path) -> None:
    uploaders, per_uploader, offers_per_case = 4, 10, 12
    w = make_evidence_world(load_url, tmp_path)
    with w.client:
        cases = {ORDER_ID: _open_filed(w, ORDER_ID), ORDER_ID + 1: _open_filed(w, ORDER_ID + 1)}
        for name in ("buyer", "seller", "admin"):
            w.actors[name].sign_in()
        ctx = w.app.state.ctx
        out = Outcomes()
        staged: list[tuple[str, int, str]] = []  # (case, item id, cid)
        submitted: list[tuple[str, int]] = []
        stop = threading.Event()
        stop_file = tmp_path / "stop"
        # a second process: another anchoring worker on the same database
        proc = subprocess.Popen([sys.executable, "-m", "tests.security.anchoring_proc",
                                 load_url, str(stop_file)], cwd=ROOT, stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        chain = FakeChain()
        chain.refuse_future_nonces = True  # the second process holds the rest of the chain
        worker = AnchoringWorker(ctx.sessions, chain, batch_limit=5)
        worker_errors: list[str] = []

        def anchoring() -> None:
            while not stop.is_set():
                try:
                    worker_errors.extend(worker.run_once().errors)
                except Exception as exc:  # the test reports it; the loop must not die
                    worker_errors.append(repr(exc))
                stop.wait(0.01)

        def upload_many(i: int) -> None:
            actor = w.actors["buyer" if i % 2 == 0 else "seller"]
            for n in range(per_uploader):
                case_id = cases[ORDER_ID + (n % 2)]
                content = f"exhibit {i}-{n}: {secrets.token_hex(64)}\n".encode() * 20
                r = actor._retry(lambda c=content, cid=case_id: w.client.post(
                    f"/cases/{cid}/evidence", params={"kind": "photo"},
                    headers=actor.headers, files={"file": ("exhibit.txt", c, "text/plain")}))
                if not out.record("upload", r):
                    continue
                item = r.json()
                with out.lock:
                    staged.append((case_id, item["id"], item["contentCid"]))
                if n % 3:
                    continue  # a third are signed and submitted (steps racing the offers)

                def submit(cid: str = case_id, item_id: int = item["id"]) -> Any:
                    # the record for the case's position now (another step may have
                    # taken the one the upload answered with)
                    typed = actor.get(f"/cases/{cid}/evidence/{item_id}").json()["typedData"]
                    rec = EvidenceSubmission.from_json_obj(typed["message"])
                    return actor.post(f"/cases/{cid}/evidence/{item_id}/submit", json={
                        "record": rec.sign(actor.key.key, w.domain).to_json_obj()})

                if _retrying(out, "submit", submit) is not None:
                    with out.lock:
                        submitted.append((case_id, item["id"]))

        def offer_many(order_id: int) -> None:
            for n in range(offers_per_case):
                actor = w.actors["buyer" if n % 2 == 0 else "seller"]
                _retrying(out, "offer", lambda a=actor, k=n: a.post(  # type: ignore[misc]
                    f"/cases/{cases[order_id]}/offers", json=_offer(a, cases[order_id],
                                                                    order_id, k)))

        def guarded(fn: Callable[[int], None]) -> Callable[[int], None]:
            def run(arg: int) -> None:
                try:
                    fn(arg)
                except Exception as exc:  # a 500 raised through the test client
                    with out.lock:
                        out.failures.append(f"{fn.__name__}: {exc!r}")
            return run

        threads = [threading.Thread(target=guarded(upload_many), args=(i,))
                   for i in range(uploaders)]
        threads += [threading.Thread(target=guarded(offer_many), args=(o,)) for o in cases]
        anchor_thread = threading.Thread(target=anchoring)
        anchor_thread.start()
        for t in threads:
            t.start()
        for t in threads:
            t.join(timeout=300)
        stop.set()
        anchor_thread.join(timeout=60)
        stop_file.touch()
        stdout, stderr = proc.communicate(timeout=120)
        assert proc.returncode == 0, stderr[-3000:]
        second = json.loads(stdout.strip().splitlines()[-1])
        rounds_left = 200  # what is left, after both stopped; a worker that never settles
        while not worker.run_once().idle:  # fails here, not at the suite's timeout
            rounds_left -= 1
            assert rounds_left > 0, "the anchoring worker never became idle"

        assert out.failures == [], out.failures[:5]
        assert worker_errors == [] and second["errors"] == [], (worker_errors, second)
        expected_submits = uploaders * len(range(0, per_uploader, 3))
        assert out.ok == {"upload": uploaders * per_uploader, "submit": expected_submits,
                          "offer": 2 * offers_per_case}, out.ok
        with ctx.sessions() as s:
            items = s.exec(select(EvidenceItem)).all()
            # nothing lost or duplicated: exactly the uploads answered 201, with their CIDs
            assert sorted((i.case_id, i.id, i.cid) for i in items) == sorted(staged)
            bound = {(i.case_id, i.id) for i in items if i.record is not None}
            assert bound == set(submitted)  # bound in the step's own transaction
            steps = s.exec(select(Step)).all()
            for case_id in cases.values():
                mine = sorted(st.sequence for st in steps if st.case_id == case_id)
                assert mine == list(range(len(mine)))  # one chain, no gap, no duplicate
                kinds = [st.kind for st in steps if st.case_id == case_id]
                assert kinds.count("offer.made") == offers_per_case
                assert kinds.count("evidence.submitted") == sum(
                    1 for c, _ in submitted if c == case_id)
            leaves = s.exec(select(Leaf)).all()
            assert {lf.ref_id for lf in leaves if lf.kind == "step"} == {st.id for st in steps}
            assert all(lf.batch_id is not None for lf in leaves)  # every leaf anchored
            batches = s.exec(select(AnchorBatch)).all()
            assert {b.status for b in batches} == {AnchorStatus.CONFIRMED}, [
                (b.id, b.status, [(i.chain_id, i.status, i.attempts, i.last_error)
                                  for i in s.exec(select(AnchorInclusion).where(
                                      AnchorInclusion.batch_id == b.id)).all()])
                for b in batches if b.status != AnchorStatus.CONFIRMED]
            assert sum(b.leaf_count for b in batches) == len(leaves)  # none twice
            assert s.exec(select(Leaf).where(col(Leaf.batch_id).is_(None))).first() is None
        assert second["rounds"] >= 1
        assert len({c for _, _, c in staged}) == len(staged)  # each upload its container
