"""The fault suite's harness: a real service process (fault_server.py) that tests kill -9 and
restart, an anvil it anchors on, and clients that sign their own records over real HTTP.

Every check ends with `Ledger.check`: what the client got a 2xx for is stored exactly once
and whole (row, blocks, content bytes); what it did not get a 2xx for is whole or absent.
"""

from __future__ import annotations

import hashlib
import itertools
import os
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from eth_account.messages import encode_defunct
from sqlalchemy import create_engine, text

from backend.chain.devchain import AnvilNode
from evidence.records import (
    Domain,
    ProceduralStep,
    Settlement,
    SettlementOffer,
    SignedRecord,
    canonical_json,
)

SERVER = Path(__file__).with_name("fault_server.py")
AMOUNT = 1_000_000_000


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def party_key(seed: str, i: int, who: str = "buyer") -> Any:
    from eth_account import Account

    return Account.from_key(hashlib.sha256(f"faults:{seed}:{who}:{i}".encode()).digest())


def sign(record: Any, key: Any, domain: Domain) -> SignedRecord:
    """EIP-712 signature over the record's digest, as a wallet makes it."""
    from coincurve import PrivateKey

    sig = PrivateKey(key.key).sign_recoverable(record.digest(domain), hasher=None)
    return SignedRecord(domain=domain, record=record,
                        signatures=(sig[:64] + bytes([sig[64] + 27]),))


@dataclass
class Service:
    """One service process on a data dir that outlives it (kill, restart, same state)."""

    work: Path
    anvil_url: str
    anchor: str
    key: str
    seed: str
    clients: int = 4
    db_url: str = ""
    port: int = field(default_factory=free_port)
    proc: subprocess.Popen[bytes] | None = None
    log: list[str] = field(default_factory=list)

    @property
    def base(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    @property
    def data(self) -> Path:
        return self.work / "data"

    @property
    def database(self) -> str:
        return self.db_url or f"sqlite:///{(self.data / 'chainarb.sqlite3').resolve()}"

    def start(self, timeout: float = 90) -> Service:
        self.work.mkdir(parents=True, exist_ok=True)
        env = {k: v for k, v in os.environ.items()
               if not k.startswith("CHAINARB_") and k != "DATABASE_URL"}
        out = open(self.work / "server.log", "ab")  # noqa: SIM115 (the child holds it)
        self.proc = subprocess.Popen(
            [sys.executable, str(SERVER), str(self.work), str(self.port), self.anvil_url,
             self.anchor, self.key, self.seed, str(self.clients), self.db_url],
            env=env, stdout=out, stderr=out, start_new_session=True)
        out.close()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.proc.poll() is not None:
                raise AssertionError(f"the service exited with {self.proc.returncode}:\n"
                                     + self.server_log()[-4000:])
            try:
                if httpx.get(self.base + "/health", timeout=2).status_code == 200:
                    return self
            except httpx.HTTPError:
                pass
            time.sleep(0.1)
        raise AssertionError(f"the service did not answer within {timeout} s:\n"
                             + self.server_log()[-4000:])

    def server_log(self) -> str:
        try:
            return (self.work / "server.log").read_text(errors="replace")
        except FileNotFoundError:
            return ""

    def kill(self) -> None:
        """kill -9, as a power cut or the OOM killer does."""
        assert self.proc is not None
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGKILL)
        self.proc.wait(timeout=30)

    def wait_killed(self, timeout: float = 30) -> int:
        """Wait for a kill point to fire (the process SIGKILLs itself)."""
        assert self.proc is not None
        code = self.proc.wait(timeout=timeout)
        (self.work / "die-at").unlink(missing_ok=True)
        return code

    def die_at(self, point: str) -> None:
        (self.work / "die-at").write_text(point)

    def restart(self) -> Service:
        self.kill()
        return self.start()

    def stop(self) -> None:
        if self.proc is not None and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.kill()

    def sql(self, query: str, **params: Any) -> list[Any]:
        engine = create_engine(self.database)
        try:
            with engine.connect() as conn:
                return list(conn.execute(text(query), params).all())
        finally:
            engine.dispose()


@dataclass
class Party:
    """A buyer who signs in, opens and files its case, uploads and makes offers."""

    service: Service
    i: int
    token: str = ""
    case_id: str = ""
    domain: Domain | None = None
    accepted_offers: list[str] = field(default_factory=list)  # record hashes, 201 answers
    accepted_uploads: dict[int, bytes] = field(default_factory=dict)  # item id -> bytes

    @property
    def key(self) -> Any:
        return party_key(self.service.seed, self.i)

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def http(self) -> httpx.Client:
        return httpx.Client(base_url=self.service.base, timeout=30)

    def sign_in(self) -> None:
        with self.http() as h:
            msg = h.get("/auth/nonce", params={"address": self.key.address}).json()["message"]
            sig = self.key.sign_message(encode_defunct(text=msg)).signature
            r = h.post("/auth/sign-in", json={"message": msg,
                                              "signature": "0x" + bytes(sig).hex()})
            assert r.status_code == 200, r.text
            self.token = r.json()["token"]

    def open_and_file(self) -> None:
        self.sign_in()
        with self.http() as h:
            r = h.post("/cases", json={"orderId": str(self.i + 1)}, headers=self.headers)
            assert r.status_code == 201, r.text
            view = r.json()
            self.case_id = view["caseId"]
            self.domain = Domain.from_json_obj(view["domain"])
            payload = {"claimant": self.key.address, "respondent": view["seller"],
                       "orderId": str(self.i + 1), "disputeType": "not_as_described",
                       "remedy": "partial_refund", "claimedAmount": str(AMOUNT // 4),
                       "statementHash": "0x" + hashlib.sha256(b"statement").hexdigest()}
            rec = ProceduralStep(case_id=self.case_id, sequence=0,
                                 prev_hash="0x" + "00" * 32, actor=self.key.address,
                                 action="case.filed",
                                 payload_hash="0x" + hashlib.sha256(
                                     canonical_json(payload)).hexdigest(),
                                 signed_at=int(time.time()))
            r = h.post(f"/cases/{self.case_id}/filing", headers=self.headers, json={
                "record": sign(rec, self.key, self.domain).to_json_obj(), "payload": payload})
            assert r.status_code == 201, r.text

    def view(self) -> dict[str, Any]:
        with self.http() as h:
            r = h.get(f"/cases/{self.case_id}", headers=self.headers)
        assert r.status_code == 200, r.text
        return r.json()

    def offer_body(self, to_buyer: int, v: dict[str, Any] | None = None
                   ) -> tuple[dict[str, Any], str]:
        """The next offer, signed against the case's head as the service shows it now
        (or as the case view `v` showed it)."""
        assert self.domain is not None
        v = v or self.view()
        now = int(time.time())
        offer = SettlementOffer(case_id=self.case_id, sequence=v["nextSequence"],
                                prev_hash=v["prevHash"], offeror=self.key.address,
                                order_id=self.i + 1, to_buyer=to_buyer,
                                to_seller=AMOUNT - to_buyer, compensation=0,
                                expires_at=now + 86_400, signed_at=now)
        signed = sign(offer, self.key, self.domain)
        settlement = sign(Settlement(order_id=self.i + 1, case_id=self.case_id,
                                     to_buyer=to_buyer, to_seller=AMOUNT - to_buyer,
                                     compensation=0), self.key, self.domain)
        return ({"record": signed.to_json_obj(), "attachments": [settlement.to_json_obj()]},
                "0x" + signed.record_hash.hex())

    def offer(self, to_buyer: int, body: dict[str, Any] | None = None) -> httpx.Response:
        body = body or self.offer_body(to_buyer)[0]
        with self.http() as h:
            r = h.post(f"/cases/{self.case_id}/offers", json=body, headers=self.headers)
        if r.status_code == 201:
            self.accepted_offers.append(r.json()["recordHash"])
        return r

    def upload(self, data: bytes, name: str = "invoice.pdf") -> httpx.Response:
        with self.http() as h:
            r = h.post(f"/cases/{self.case_id}/evidence", params={"kind": "invoice"},
                       headers=self.headers,
                       files={"file": (name, data, "application/pdf")})
        if r.status_code == 201:
            self.accepted_uploads[int(r.json()["id"])] = data
        return r


def pdf(n: int, tag: bytes = b"") -> bytes:
    """A PDF-looking file of about n bytes, different for every tag."""
    head = b"%PDF-1.7\n%" + tag + b"\n1 0 obj\n<< /Type /Catalog >>\nendobj\n"
    body = hashlib.shake_256(tag or b"x").digest(max(0, n - len(head) - 7))
    return head + body + b"\n%%EOF\n"


def check(service: Service, parties: list[Party]) -> None:
    """Nothing lost, duplicated or half-stored, and the service answers.

    - every offer a client got 201 for is a step, exactly once, in its case's hash chain;
    - every step row has its record in the blockstore (the service's: the files, then
      the step_block table) and one leaf;
    - every evidence row (2xx'd or not) is whole: its content streams back with the
      SHA-256 it records; every upload a client got 201 for is such a row with its bytes;
    - no sequence is taken twice, and the chain links (prev hash = previous record hash).
    """
    steps = service.sql("SELECT case_id, sequence, record_hash, prev_hash FROM step "
                        "ORDER BY case_id, sequence")
    by_case: dict[str, list[Any]] = {}
    for row in steps:
        by_case.setdefault(row[0], []).append(row)
    for case_id, rows in by_case.items():
        assert [r[1] for r in rows] == list(range(len(rows))), (case_id, rows)
        for a, b in itertools.pairwise(rows):
            assert b[3] == a[2], f"{case_id}: sequence {b[1]} does not link to {a[1]}"
    hashes = [r[2] for r in steps]
    assert len(hashes) == len(set(hashes)), "a record is stored twice"
    leaves = service.sql("SELECT kind, ref_id FROM leaf")
    assert len(leaves) == len(set(leaves)), "a leaf is queued twice"
    from backend.db.blocks import ServiceBlockstore
    from evidence.ipfs import LocalBlockstore

    engine = create_engine(service.database)  # the service's own store: files, then table
    blocks = ServiceBlockstore(engine, LocalBlockstore(service.data / "ipfs", fsync=False))
    try:
        for step_id, cid, n in service.sql(
                "SELECT s.id, s.cid, (SELECT count(*) FROM leaf l WHERE l.kind = 'step' "
                "AND l.ref_id = s.id) FROM step s"):
            assert n == 1, f"step {step_id} has {n} leaves"
            assert cid is None or blocks.has(cid), f"step {step_id}: record {cid} not stored"
    finally:
        engine.dispose()
    for p in parties:
        with p.http() as h:
            v = h.get(f"/cases/{p.case_id}", headers=p.headers)
            assert v.status_code == 200, v.text
            ids = [r[2] for r in by_case.get(p.case_id, [])]
            for rh in p.accepted_offers:
                assert ids.count(rh) == 1, f"accepted offer {rh} is stored {ids.count(rh)}x"
            items = service.sql("SELECT id, sha256, size FROM evidence_item WHERE case_id = :c",
                                c=p.case_id)
            for item_id, sha, size in items:
                r = h.get(f"/cases/{p.case_id}/evidence/{item_id}/content", headers=p.headers)
                assert r.status_code == 200, (item_id, r.status_code, r.text[:300])
                assert len(r.content) == size
                assert "0x" + hashlib.sha256(r.content).hexdigest() == sha, item_id
            stored = {row[0] for row in items}
            for item_id, data in p.accepted_uploads.items():
                assert item_id in stored, f"accepted upload {item_id} is lost"
                sha = next(s for i, s, _ in items if i == item_id)
                assert sha == "0x" + hashlib.sha256(data).hexdigest()


@dataclass
class Chain:
    """The anvil node, the EvidenceAnchor address and the institution key."""

    node: AnvilNode
    anchor: str
    key: str


def mount(args: list[str]) -> None:
    """mount(8): the suite mounts a small tmpfs for the blockstore, so it runs as root
    (docs/deploy.md, "What survives what")."""
    done = subprocess.run(["mount", *args], capture_output=True, text=True, check=False)
    assert done.returncode == 0, f"mount {' '.join(args)}: {done.stderr.strip()} (the " \
        "fault suite needs root to mount a small tmpfs for the blockstore)"


def parties(service: Service, n: int) -> list[Party]:
    """n buyers, each signed in with its own case opened and filed."""
    out = [Party(service, i) for i in range(n)]
    for p in out:
        p.open_and_file()
    return out


def wait_all_anchored(svc: Service, timeout: float = 60) -> list[Any]:
    """Wait until every leaf is in a confirmed batch; answers (id, root, leaf_count) of
    the confirmed batches."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        open_leaves = svc.sql(
            "SELECT count(*) FROM leaf l LEFT JOIN anchor_batch b ON b.id = l.batch_id "
            "WHERE b.id IS NULL OR b.status != 'confirmed'")[0][0]
        if open_leaves == 0:
            return svc.sql("SELECT id, root, leaf_count FROM anchor_batch "
                           "WHERE status = 'confirmed'")
        time.sleep(0.2)
    raise AssertionError("leaves not anchored: " + repr(svc.sql(
        "SELECT batch_id, chain_id, status, attempts, last_error FROM anchor_inclusion")))
