"""API benchmark: signed actions accepted per second, and p50/p99 latency, at 50 and 200
concurrent clients on loopback, beside the machine's raw signature-recovery rate.

Setup (not timed):
- the service runs in its own process (`python bench/api.py --serve ...`): uvicorn, one
  worker (`--workers N` for more, sharing the data dir), on SQLite and the local IPFS
  blockstore in a temporary data dir, exactly the embedded default's code path; the
  escrow is an in-memory port (`FakeEscrowPort`) holding one order per client, because
  the measured action touches no chain: a settlement offer in negotiation has no chain
  effect (the anchoring worker is off: leaves queue);
- each client signs in with its wallet (personal_sign), opens its own case and files it;
- each client pre-signs its chain of offers (each a `SettlementOffer` plus the escrow
  `Settlement` it carries, both EIP-712, so the server recovers two signatures per
  action), so the clients' CPU goes into sending, not signing.

Timed, in the same run:
- raw recovery: `evidence.records.recover_signer` (coincurve) and eth-account's
  `Account._recover_hash` over the same kind of EIP-712 offer digest, one core;
- per phase (50, then 200 clients): every client posts its offers one after the other
  (`POST /cases/{id}/offers`), all clients at once (asyncio, one keep-alive connection
  per client: bench/http1.py, or httpx with `--client httpx`); accepted = 201;
- paced: the first group's clients again, together sending at half the rate their phase
  reached (the goal's "p99 at half the saturating rate");
- reads: the first group's clients each read their case view (`GET /cases/{id}`) one
  after the other, all at once; server CPU per read.

The server's CPU per action (user + system of its process tree, /proc) is the figure a
shared machine disturbs least. Printed: `api_vs_ecrecover=<actions/s at 50 clients over
coincurve recoveries/s>`, then, last, `cpu_ms_per_action=<server CPU ms per accepted
offer at 50 clients>`. Bounded (`--seconds` per phase); never fails on timing. `--quick`
for a smoke run.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

if TYPE_CHECKING:  # imported in the functions that run (the server is another process)
    from eth_account.signers.local import LocalAccount
    from fastapi import FastAPI

    from evidence.records import Domain

CHAIN_ID = 31_415_926
ESCROW = "0x5FbDB2315678afecb367f032d93F642f64180aa3"
AMOUNT = 1_000_000_000
GUARANTEE = 100_000_000


def _key(seed: str, i: int, who: str) -> LocalAccount:
    from eth_account import Account

    key: LocalAccount = Account.from_key(
        hashlib.sha256(f"bench-api:{seed}:{who}:{i}".encode()).digest())
    return key


# --- the server process -------------------------------------------------------------------

def make_app() -> FastAPI:
    """The app of one uvicorn worker (``--workers N``): its arguments come from the
    environment the parent set; every worker builds the same in-memory escrow."""
    from backend.api.heap import settle_heap

    env = os.environ
    app = _app(Path(env["BENCH_API_DIR"]), int(env["BENCH_API_PORT"]),
               int(env["BENCH_API_CLIENTS"]), env["BENCH_API_SEED"])
    settle_heap()  # as `chainarb serve` does
    return app


def _app(data_dir: Path, port: int, clients: int, seed: str) -> FastAPI:
    """The service; on ``BENCH_API_DB`` (a PostgreSQL URL) when set, else SQLite."""
    from eth_account import Account

    from backend.api.app import create_app
    from backend.services.chain import FakeEscrowPort, OrderInfo
    from backend.settings import Settings

    db = os.environ.get("BENCH_API_DB")
    settings = Settings(data_dir=data_dir, port=port) if not db else \
        Settings(data_dir=data_dir, port=port, database_url=db)
    # The data dir's generated key: every worker process on it reads the same file.
    institution = Account.from_key(settings.institution_private_key()).address
    fake = FakeEscrowPort(chain_id=CHAIN_ID, escrow=ESCROW, institution=institution)
    for i in range(clients):
        fake.add_order(OrderInfo(order_id=i + 1, buyer=_key(seed, i, "buyer").address,
                                 seller=_key(seed, i, "seller").address, amount=AMOUNT,
                                 token="0x" + "11" * 20, institution=institution,
                                 status="Paid", case_id="0x" + "00" * 32,
                                 guarantee=GUARANTEE))
    return create_app(settings, port=fake, background=False)


def serve(data_dir: Path, port: int, clients: int, seed: str, workers: int) -> None:
    """uvicorn on the embedded default's database and blockstore; escrow in memory.
    Several workers share the data dir (SQLite serialises their writes)."""
    import uvicorn

    from backend.api.heap import settle_heap

    app = _app(data_dir, port, clients, seed)  # also creates the schema, once
    if workers <= 1:
        settle_heap()  # as `chainarb serve` does
        uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)
        return
    os.environ.update(BENCH_API_DIR=str(data_dir), BENCH_API_PORT=str(port),
                      BENCH_API_CLIENTS=str(clients), BENCH_API_SEED=seed)
    # One listening socket per worker (SO_REUSEPORT): the kernel spreads the clients'
    # connections over the workers by a hash of each connection. uvicorn's own `workers`
    # share one socket, and each phase's 50 connections, opened at once and kept alive,
    # went to whichever worker's loop woke first, which then drained the whole backlog:
    # one round found 754 groups on one worker against 54 on the other, so a phase's rate
    # measured that race as much as the service (bench/README, thirteenth round).
    ctx = multiprocessing.get_context("spawn")
    procs = [ctx.Process(target=_reuseport_worker, args=(port,), daemon=True)
             for _ in range(workers)]

    def stop(_signum: int, _frame: object) -> None:
        for proc in procs:
            if proc.pid is not None:  # started
                proc.terminate()  # uvicorn's own graceful shutdown on SIGTERM
        for proc in procs:
            if proc.pid is not None:
                proc.join(timeout=20)
        raise SystemExit(0)

    # before the first start: a SIGTERM during the starts must not orphan a started worker
    signal.signal(signal.SIGTERM, stop)
    for proc in procs:
        proc.start()
    for proc in procs:
        proc.join()


def _reuseport_worker(port: int) -> None:
    """One uvicorn worker on its own SO_REUSEPORT socket (``serve``)."""
    import uvicorn

    sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEPORT, 1)
    sock.bind(("127.0.0.1", port))
    sock.listen(2048)
    config = uvicorn.Config(make_app, factory=True, log_level="warning", access_log=False)
    uvicorn.Server(config).run(sockets=[sock])


# --- clients ------------------------------------------------------------------------------

@dataclass
class Party:
    key: Any
    order_id: int
    token: str = ""
    case_id: str = ""
    offers: list[dict[str, Any]] | None = None
    _domain: Domain | None = None  # the case's, once set up
    _next: tuple[int, str] = (0, "")  # the next step's (sequence, prevHash)
    _item: int = 0  # bench/load.py: the client's staged evidence item


def _sign(record: Any, key: Any, domain: Any) -> Any:
    """EIP-712 signature by coincurve over the record's digest (what a wallet produces)."""
    from coincurve import PrivateKey

    from evidence.records import SignedRecord

    sig = PrivateKey(key.key).sign_recoverable(record.digest(domain), hasher=None)
    return SignedRecord(domain=domain, record=record,
                        signatures=(sig[:64] + bytes([sig[64] + 27]),))


def presign(p: Party, domain: Domain | None, start_seq: int, prev: str, count: int,
            now: int) -> None:
    """The client's next `count` offers, each chained to the one before."""
    from evidence.records import Settlement, SettlementOffer, bytes32

    assert domain is not None, "setup_party gives the party its case's domain"
    case_id = bytes32(p.case_id)

    offers = []
    for j in range(count):
        to_buyer = (j + 1) * 1_000
        offer = SettlementOffer(case_id=case_id, sequence=start_seq + j, prev_hash=bytes32(prev),
                                offeror=p.key.address, order_id=p.order_id,
                                to_buyer=to_buyer, to_seller=AMOUNT - to_buyer,
                                compensation=0, expires_at=now + 86_400, signed_at=now)
        signed = _sign(offer, p.key, domain)
        settlement = _sign(Settlement(order_id=p.order_id, case_id=case_id,
                                      to_buyer=to_buyer, to_seller=AMOUNT - to_buyer,
                                      compensation=0), p.key, domain)
        offers.append({"record": signed.to_json_obj(),
                       "attachments": [settlement.to_json_obj()]})
        prev = "0x" + signed.record_hash.hex()
    p.offers = offers


async def setup_party(http: Any, p: Party, sem: asyncio.Semaphore,
                      sign_in_lock: asyncio.Lock) -> None:
    from eth_account.messages import encode_defunct

    from evidence.records import ProceduralStep, bytes32, canonical_json

    async with sem:
        # Sign-ins one at a time: on SQLite, concurrent sign-ins can fail with "database is
        # locked" (the nonce compare-and-set does not take the write lock up front).
        async with sign_in_lock:
            r = await http.get("/auth/nonce", params={"address": p.key.address})
            msg = r.json()["message"]
            sig = p.key.sign_message(encode_defunct(text=msg)).signature
            r = await http.post("/auth/sign-in", json={"message": msg,
                                                       "signature": "0x" + bytes(sig).hex()})
        r.raise_for_status()
        p.token = r.json()["token"]
        h = {"Authorization": f"Bearer {p.token}"}
        r = await http.post("/cases", json={"orderId": str(p.order_id)}, headers=h)
        r.raise_for_status()
        view = r.json()
        p.case_id = view["caseId"]
        seller = view["seller"]
        from evidence.records import Domain

        domain = Domain.from_json_obj(view["domain"])
        payload = {"claimant": p.key.address, "respondent": seller,
                   "orderId": str(p.order_id), "disputeType": "not_as_described",
                   "remedy": "partial_refund", "claimedAmount": str(AMOUNT // 4),
                   "statementHash": "0x" + hashlib.sha256(b"statement").hexdigest()}
        rec = ProceduralStep(case_id=bytes32(p.case_id), sequence=0, prev_hash=bytes(32),
                             actor=p.key.address, action="case.filed",
                             payload_hash=hashlib.sha256(canonical_json(payload)).digest(),
                             signed_at=int(time.time()))
        r = await http.post(f"/cases/{p.case_id}/filing", headers=h, json={
            "record": _sign(rec, p.key, domain).to_json_obj(), "payload": payload})
        r.raise_for_status()
        p.offers = []
        p._domain = domain
        p._next = (1, r.json()["recordHash"])


def _processes() -> dict[int, tuple[int, str, int]] | None:
    """pid -> (parent pid, command name, user + system CPU ticks), from /proc (Linux); None
    elsewhere."""
    try:
        table = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        head, rest = f.read().rsplit(")", 1)
                except OSError:
                    continue
                fields = rest.split()
                table[int(entry)] = (int(fields[1]), head.split("(", 1)[1],
                                     int(fields[11]) + int(fields[12]))
    except (OSError, ValueError, AttributeError):
        return None
    return table


def server_cpu_seconds(pid: int) -> float | None:
    """User + system CPU seconds of the server process and its children (uvicorn
    workers), from /proc (Linux); None elsewhere. Per accepted action it is the figure
    that a shared, busy machine disturbs least."""
    stats = _processes()
    if stats is None:
        return None
    tree, total, unvisited = set(), 0, [pid]
    while unvisited:
        p = unvisited.pop()
        if p in tree or p not in stats:
            continue
        tree.add(p)
        total += stats[p][2]
        unvisited.extend(c for c, (ppid, _, _) in stats.items() if ppid == p)
    return total / os.sysconf("SC_CLK_TCK") if tree else None


def named_cpu_seconds(name: str) -> float | None:
    """User + system CPU seconds of this machine's processes called ``name`` (the local
    PostgreSQL server's: what a step costs the database, which the server's figure leaves
    out); None when there are none or no /proc."""
    stats = _processes()
    ticks = [cpu for _, comm, cpu in (stats or {}).values() if comm == name]
    return sum(ticks) / os.sysconf("SC_CLK_TCK") if ticks else None


@dataclass
class Phase:
    clients: int
    accepted: int
    refused: int
    seconds: float
    latencies: list[float]
    why: dict[str, int]  # refusals by HTTP status and error code, or transport error
    server_cpu: float | None = None  # server CPU seconds during the phase
    client_cpu: float = 0.0  # this (the clients') process's CPU seconds during the phase
    database_cpu: float | None = None  # the local PostgreSQL's CPU seconds, if measured
    started: list[float] = field(default_factory=list)  # each latency's send, from the start

    @property
    def cpu_ms_per_action(self) -> float:
        if self.server_cpu is None or not self.accepted:
            return float("nan")
        return 1000 * self.server_cpu / self.accepted

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    def pct(self, q: float, sent: tuple[float, float] = (0.0, float("inf"))) -> float:
        """The latency quantile ``q`` in ms, of the requests sent in ``sent`` (seconds
        from the phase's start; by default all)."""
        xs = sorted(lat for lat, at in zip(self.latencies, self.started or
                                           [0.0] * len(self.latencies), strict=True)
                    if sent[0] <= at < sent[1])
        if not xs:
            return float("nan")
        return xs[min(len(xs) - 1, int(q * len(xs)))] * 1000


class Send(Protocol):
    """One client's ``send(method, path, body) -> (status, body)`` with its bearer token."""

    async def __call__(self, method: str, path: str, body: bytes | None = None
                       ) -> tuple[int, bytes]: ...


class LeanClients:
    """The phase's connections (``async with``), one keep-alive HTTP/1.1 connection per
    client (bench/http1.py, the default: 0.1-0.2 ms of the client's CPU per offer)."""

    def __init__(self, base: str, n: int) -> None:
        from http1 import Http1Error

        host, _, port = base.removeprefix("http://").partition(":")
        self._host, self._port = host, int(port)
        self._conns: list[Any] = []
        # what a send raises when the server drops or garbles an answer
        self.errors: tuple[type[BaseException], ...] = (Http1Error, OSError)

    async def __aenter__(self) -> LeanClients:
        return self

    def sender(self, token: str) -> Send:
        from http1 import Http1

        conn = Http1(self._host, self._port)
        self._conns.append(conn)
        auth = f"Authorization: Bearer {token}\r\n".encode()

        async def send(method: str, path: str, body: bytes | None = None
                       ) -> tuple[int, bytes]:
            status, raw = await conn.request(method, path, headers=auth, body=body)
            return status, raw
        return send

    async def __aexit__(self, *exc: object) -> None:
        for conn in self._conns:
            await conn.close()


class HttpxClients:
    """The phase's connections through one httpx client (the client of the first
    thirteen rounds, kept to compare with their figures: 4-6 ms of its CPU per offer)."""

    def __init__(self, base: str, n: int) -> None:
        import httpx

        limits = httpx.Limits(max_connections=n, max_keepalive_connections=n)
        self._http = httpx.AsyncClient(base_url=base, timeout=60, limits=limits)
        self.errors: tuple[type[BaseException], ...] = (httpx.HTTPError,)

    async def __aenter__(self) -> HttpxClients:
        await self._http.__aenter__()
        return self

    def sender(self, token: str) -> Send:
        headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}

        async def send(method: str, path: str, body: bytes | None = None
                       ) -> tuple[int, bytes]:
            r = await self._http.request(method, path, headers=headers, content=body)
            return r.status_code, r.content
        return send

    async def __aexit__(self, *exc: object) -> None:
        await self._http.__aexit__(None, None, None)


CLIENTS: dict[str, type[LeanClients] | type[HttpxClients]] = {
    "lean": LeanClients, "httpx": HttpxClients}


def _code(raw: bytes) -> str:
    """The error code of a refusal's JSON body ("" when it has none)."""
    try:
        found = json.loads(raw)
    except ValueError:
        return ""
    return str(found.get("code", "")) if isinstance(found, dict) else ""


async def run_phase(base: str, parties: list[Party], seconds: float,
                    rate: float | None = None, client: str = "lean") -> Phase:
    """Every client posts its offers one after the other; with ``rate`` (actions/s, all
    clients together) each client waits for its next slot instead of sending at once."""
    latencies: list[float] = []
    started: list[float] = []
    begun = 0.0  # the phase's start (each request's send is kept from it)
    counts = {"ok": 0, "bad": 0}
    why: dict[str, int] = {}
    # the bodies' JSON made before the phase: the clients' CPU goes into sending
    bodies = [[json.dumps(b, separators=(",", ":")).encode() for b in p.offers or []]
              for p in parties]
    deadline = time.perf_counter() + seconds
    async with CLIENTS[client](base, len(parties)) as clients:
        errors = clients.errors
        interval = len(parties) / rate if rate else 0.0

        async def worker(index: int, p: Party) -> None:
            send = clients.sender(p.token)
            path = f"/cases/{p.case_id}/offers"
            slot = time.perf_counter() + interval * (index / len(parties))
            for body in bodies[index]:
                if interval:
                    await asyncio.sleep(max(0.0, slot - time.perf_counter()))
                    slot += interval
                if time.perf_counter() > deadline:
                    return
                t0 = time.perf_counter()
                try:
                    status, raw = await send("POST", path, body)
                except errors as exc:  # dropped under load: counted, not fatal
                    counts["bad"] += 1
                    why[type(exc).__name__] = why.get(type(exc).__name__, 0) + 1
                    return
                latencies.append(time.perf_counter() - t0)
                started.append(t0 - begun)
                if status == 201:
                    counts["ok"] += 1
                    seq, _ = p._next
                    p._next = (seq + 1, json.loads(raw)["recordHash"])
                else:
                    counts["bad"] += 1
                    key = f"{status} {_code(raw)}".strip()
                    why[key] = why.get(key, 0) + 1
                    return  # the chain of pre-signed offers is broken from here on

        begun = time.perf_counter()
        await asyncio.gather(*(worker(i, p) for i, p in enumerate(parties)))
        elapsed = time.perf_counter() - begun
    return Phase(len(parties), counts["ok"], counts["bad"], elapsed, latencies, why,
                 started=started)


async def read_phase(base: str, parties: list[Party], seconds: float,
                     client: str = "lean") -> Phase:
    """Every client reads its case view (``GET /cases/{id}``) one read after the other."""
    latencies: list[float] = []
    counts = {"ok": 0, "bad": 0}
    why: dict[str, int] = {}
    deadline = time.perf_counter() + seconds
    async with CLIENTS[client](base, len(parties)) as clients:
        errors = clients.errors
        async def reader(p: Party) -> None:
            send = clients.sender(p.token)
            path = f"/cases/{p.case_id}"
            while time.perf_counter() < deadline:
                t0 = time.perf_counter()
                try:
                    status, _ = await send("GET", path)
                except errors as exc:
                    counts["bad"] += 1
                    why[type(exc).__name__] = why.get(type(exc).__name__, 0) + 1
                    return
                latencies.append(time.perf_counter() - t0)
                ok = status == 200
                counts["ok" if ok else "bad"] += 1
                if not ok:
                    why[str(status)] = why.get(str(status), 0) + 1
                    return

        t0 = time.perf_counter()
        await asyncio.gather(*(reader(p) for p in parties))
        elapsed = time.perf_counter() - t0
    return Phase(len(parties), counts["ok"], counts["bad"], elapsed, latencies, why)


def recover_rates(seconds: float) -> tuple[float, float]:
    """Recoveries per second of one EIP-712 offer signature: coincurve, eth-account."""
    from eth_account import Account

    from evidence.records import Domain, SettlementOffer, recover_signer

    key = _key("recover", 0, "buyer")
    domain = Domain(chain_id=CHAIN_ID, verifying_contract=ESCROW)
    offer = SettlementOffer(case_id=b"\xab" * 32, sequence=1, prev_hash=b"\xcd" * 32,
                            offeror=key.address, order_id=1, to_buyer=1, to_seller=AMOUNT - 1,
                            compensation=0, expires_at=2_000_000_000, signed_at=1_900_000_000)
    signed = _sign(offer, key, domain)
    digest, sig = offer.digest(domain), signed.signatures[0]
    assert recover_signer(digest, sig) == key.address

    def rate(fn: Any) -> float:
        n, t0 = 0, time.perf_counter()
        while time.perf_counter() - t0 < seconds:
            for _ in range(200):
                fn()
            n += 200
        return n / (time.perf_counter() - t0)

    cc = rate(lambda: recover_signer(digest, sig))
    ea = rate(lambda: Account._recover_hash(digest, signature=sig))
    return cc, ea


def _pg_admin(url: str) -> Any:
    import psycopg
    from sqlalchemy.engine import make_url

    u = make_url(url)
    if u.host not in ("127.0.0.1", "localhost", "::1", None):
        raise SystemExit(f"--postgres-url: loopback only, found host {u.host}")
    return psycopg.connect(host=u.host or "127.0.0.1", port=u.port or 5432,
                           user=u.username or "postgres", password=u.password or None,
                           dbname=u.database or "postgres", autocommit=True)


def _pg_create(url: str, name: str) -> str:
    """Create the bench's own database; returns its URL."""
    from sqlalchemy.engine import make_url

    with _pg_admin(url) as conn:
        conn.execute(f'CREATE DATABASE "{name}"')
    return make_url(url).set(database=name).render_as_string(hide_password=False)


def _pg_drop(url: str, name: str) -> None:
    with _pg_admin(url) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def stop_server(proc: subprocess.Popen[bytes], work: Path, postgres_url: str,
                pg_db: str | None) -> None:
    """Stop a benchmark's server (SIGTERM, then kill after 30 s) and remove its files and its
    PostgreSQL database: the one teardown every benchmark here shares."""
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout=30)
    except subprocess.TimeoutExpired:
        proc.kill()
    shutil.rmtree(work, ignore_errors=True)
    if pg_db is not None:
        _pg_drop(postgres_url, pg_db)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_up(base: str, proc: subprocess.Popen[bytes],
             timeout: float = float(os.environ.get("BENCH_API_STARTUP_S", "60"))) -> None:
    import httpx

    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server exited with {proc.returncode}")
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return
        except httpx.HTTPError:
            pass
        time.sleep(0.1)
    raise SystemExit(f"the server did not answer at {base} within {timeout:.0f} s")


async def measured(server_pid: int, run: Any, database: bool = False) -> Phase:
    """``run`` (a coroutine giving a Phase) with the server's CPU seconds it cost, and
    with ``database`` the local PostgreSQL's."""
    cpu0, own0 = server_cpu_seconds(server_pid), sum(os.times()[:2])
    db0 = named_cpu_seconds("postgres") if database else None
    phase: Phase = await run
    cpu1, own1 = server_cpu_seconds(server_pid), sum(os.times()[:2])
    db1 = named_cpu_seconds("postgres") if database else None
    phase.client_cpu = own1 - own0
    if cpu0 is not None and cpu1 is not None:
        phase.server_cpu = cpu1 - cpu0
    if db0 is not None and db1 is not None:
        phase.database_cpu = db1 - db0
    return phase


async def bench(base: str, seed: str, sizes: list[int], per_client: dict[int, int],
                seconds: float, server_pid: int, client: str = "lean",
                database: bool = False) -> tuple[list[Phase], Phase, Phase]:
    """The offer phases (one per size), then the first group paced at half its rate,
    then the first group reading its case views."""
    import httpx

    total = sum(sizes)
    parties = [Party(key=_key(seed, i, "buyer"), order_id=i + 1) for i in range(total)]
    sem, lock = asyncio.Semaphore(16), asyncio.Lock()
    async with httpx.AsyncClient(base_url=base, timeout=60) as http:
        await asyncio.gather(*(setup_party(http, p, sem, lock) for p in parties))
    now = int(time.time())
    phases, start = [], 0
    for size in sizes:
        group = parties[start:start + size]
        start += size
        for p in group:
            seq, prev = p._next
            presign(p, p._domain, seq, prev, per_client[size], now)
        phases.append(await measured(server_pid, run_phase(base, group, seconds,
                                                           client=client), database))
    first = parties[:sizes[0]]
    half = max(1.0, phases[0].rate / 2)
    for p in first:
        seq, prev = p._next
        presign(p, p._domain, seq, prev,
                int(half * seconds / len(first)) + 2, now)
    paced = await measured(server_pid, run_phase(base, first, seconds, rate=half,
                                                 client=client), database)
    reads = await measured(server_pid, read_phase(base, first, seconds, client=client),
                           database)
    return phases, paced, reads


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--serve", nargs=5, metavar=("DIR", "PORT", "CLIENTS", "SEED", "WORKERS"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--workers", type=int, default=1,
                    help="uvicorn worker processes (stateless; one data dir and database)")
    ap.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite",
                    help="postgres: a fresh database on the server of --postgres-url")
    ap.add_argument("--postgres-url", default=os.environ.get(
        "CHAINARB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        help="a local PostgreSQL server (the bench creates and drops its own database)")
    ap.add_argument("--seconds", type=float, default=8.0, help="bound of each phase")
    ap.add_argument("--clients", default="50,200", help="concurrent clients per phase")
    ap.add_argument("--client", choices=("lean", "httpx"), default="lean",
                    help="the clients' HTTP: lean (bench/http1.py) or httpx, whose CPU made "
                         "the client process, not the server, the bottleneck (rounds 1-13)")
    ap.add_argument("--quick", action="store_true", help="small smoke run (tests)")
    args = ap.parse_args()
    if args.serve:
        d, port, clients, seed, workers = args.serve
        serve(Path(d), int(port), int(clients), seed, int(workers))
        return
    sizes = [int(x) for x in args.clients.split(",")]
    seconds = 1.5 if args.quick else args.seconds
    # enough pre-signed offers that a phase ends by its time, not by running out: with the
    # lean client 50 clients sent 2,400 offers in 6.5-7.6 s (bench/README, fourteenth
    # round); an offer's CPU does not grow with its case's count of offers
    per_client = {n: (4 if args.quick else max(8, 6000 // n)) for n in sizes}
    seed = os.urandom(4).hex()
    work = Path(tempfile.mkdtemp(prefix="chainarb-bench-api-"))
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINARB_")}
    pg_db = f"chainarb_bench_{seed}" if args.database == "postgres" else None
    if pg_db is not None:
        env["BENCH_API_DB"] = _pg_create(args.postgres_url, pg_db)
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(work / "data"), str(port),
                             str(sum(sizes)), seed, str(args.workers)], env=env,
                            start_new_session=True)
    try:
        _wait_up(base, proc)
        cc, ea = recover_rates(0.3 if args.quick else 1.5)
        print(f"server: {args.workers} uvicorn worker(s), "
              f"{'PostgreSQL' if pg_db else 'SQLite'} + local IPFS blockstore; "
              f"clients: {args.client}")
        print(f"raw EIP-712 signature recovery, one core: coincurve {cc:,.0f}/s, "
              f"eth-account {ea:,.0f}/s")
        phases, paced, reads = asyncio.run(bench(base, seed, sizes, per_client, seconds,
                                                 proc.pid, args.client, pg_db is not None))
    finally:
        stop_server(proc, work, args.postgres_url, pg_db)
    print(f"{'clients':>8} {'accepted':>9} {'refused':>8} {'seconds':>8} {'actions/s':>10} "
          f"{'p50 ms':>8} {'p99 ms':>8} {'server CPU ms/action':>21}")
    for ph in phases:
        print(f"{ph.clients:>8} {ph.accepted:>9} {ph.refused:>8} {ph.seconds:>8.2f} "
              f"{ph.rate:>10.1f} {ph.pct(0.50):>8.1f} {ph.pct(0.99):>8.1f} "
              f"{ph.cpu_ms_per_action:>21.2f}")
    sat = phases[0]
    share = 100 / sat.seconds if sat.seconds else 0.0  # CPU seconds -> % of one core
    print(f"the clients' own CPU at {sat.clients} clients: "
          f"{1000 * sat.client_cpu / max(1, sat.accepted):.2f} ms/action, "
          f"{share * sat.client_cpu:.0f} % of a core (the server's: "
          f"{share * (sat.server_cpu or 0):.0f} %)")
    print(f"paced at half the rate of {phases[0].clients} clients ({paced.clients} clients, "
          f"{phases[0].rate / 2:.1f} actions/s asked): {paced.rate:.1f} actions/s, "
          f"p50 {paced.pct(0.50):.1f} ms, p99 {paced.pct(0.99):.1f} ms, "
          f"server CPU {paced.cpu_ms_per_action:.2f} ms/action")
    # where the paced tail lies: a case's first step on a worker that has not served it
    # (each phase opens new connections, which the kernel spreads over the workers anew)
    # decodes its state and finds its chain's head, all cases within the first interval
    print(f"paced p99 by when sent: in the first second {paced.pct(0.99, (0.0, 1.0)):.1f} ms, "
          f"after it {paced.pct(0.99, (1.0, float('inf'))):.1f} ms")
    if phases[0].database_cpu is not None and paced.database_cpu is not None:
        print(f"the local PostgreSQL's CPU (not in the server's figures): "
              f"{1000 * phases[0].database_cpu / max(1, phases[0].accepted):.2f} ms/action at "
              f"{phases[0].clients} clients, "
              f"{1000 * paced.database_cpu / max(1, paced.accepted):.2f} paced")
    print(f"case views ({reads.clients} clients, GET /cases/{{id}}): {reads.rate:.1f} reads/s, "
          f"p50 {reads.pct(0.50):.1f} ms, p99 {reads.pct(0.99):.1f} ms, "
          f"server CPU {reads.cpu_ms_per_action:.2f} ms/read")
    for ph, size in zip(phases, sizes, strict=True):
        if ph.accepted >= size * per_client[size]:
            print(f"at {ph.clients} clients every client sent all its {per_client[size]} "
                  f"offers in {ph.seconds:.2f} s, before the phase's {seconds:g} s")
    for label, ph in [*((f"at {ph.clients} clients", ph) for ph in phases),
                      ("paced", paced), ("reading", reads)]:
        if ph.why:
            print(f"refused {label}: "
                  + ", ".join(f"{k} x{n}" for k, n in sorted(ph.why.items())))
    print("each action: one POST /cases/{id}/offers carrying 2 EIP-712 signatures "
          "(SettlementOffer + Settlement), stored with its step, IPFS record and leaf")
    print(f"each action needs 2 recoveries: the ratio's ceiling with zero other work on one "
          f"core is 0.5 (coincurve {cc / 2:,.0f} actions/s)")
    print(f"api_vs_ecrecover={phases[0].rate / cc:.4f}")
    print(f"cpu_ms_per_action={phases[0].cpu_ms_per_action:.2f}")


if __name__ == "__main__":
    main()
