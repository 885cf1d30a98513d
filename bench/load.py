"""Load benchmark: many signed-in clients at once, mixed reads and signed steps, against a
real uvicorn server process; error rate, p50/p99 per endpoint class, requests/s and server
RSS growth.

Setup (not timed):
- the server is `bench/api.py`'s (`--serve`): uvicorn in its own process, SQLite and the
  local blockstore in a temporary data dir (or `--db postgres`: a fresh database on the
  local PostgreSQL server), an in-memory escrow holding one paid order per client;
- each client has its own key, signs in (personal_sign), opens and files its own case and
  uploads one small evidence file (streamed multipart).

Timed:
- baseline: every client asks `GET /health` in a loop for a short phase (what the server
  and loopback do with no database and no signature);
- load: for `--seconds`, every client loops over a weighted mix: case view
  (`GET /cases/{id}`), case list (`GET /cases`), evidence metadata
  (`GET /cases/{id}/evidence/{item}`), and a signed settlement offer
  (`POST /cases/{id}/offers`: a `SettlementOffer` and the escrow `Settlement`, both EIP-712,
  signed by the client with coincurve when it sends, chained to its case's last step).

An error is any answer other than the expected status (200 reads, 201 offers) or a transport
error (timeout, dropped connection); each is listed by endpoint class, status and code. The
goal is 0. Never fails on timing. Last line `load_error_rate=<errors/requests>`.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import api

API = Path(api.__file__).resolve()
PDF = b"%PDF-1.7\n1 0 obj\n<< /Type /Catalog >>\nendobj\n" + b"0" * 2000 + b"\n%%EOF\n"
# Seconds a client keeps an idle connection: well below uvicorn's keep-alive timeout (5 s),
# because on a loaded machine the client's own event loop lags by seconds, and a request
# sent on a connection the server is closing fails with ReadError/RemoteProtocolError.
KEEPALIVE_EXPIRY = 1.0
MIX = (("case view", 4), ("case list", 2), ("evidence metadata", 2), ("signed offer", 2))


@dataclass
class Stats:
    """Latencies and errors per endpoint class."""

    latencies: dict[str, list[float]] = field(default_factory=dict)
    errors: dict[str, int] = field(default_factory=dict)  # "class: status code" -> count

    def ok(self, cls: str, seconds: float) -> None:
        self.latencies.setdefault(cls, []).append(seconds)

    def error(self, cls: str, why: str, seconds: float | None = None) -> None:
        key = f"{cls}: {why}"
        self.errors[key] = self.errors.get(key, 0) + 1
        if seconds is not None:
            self.latencies.setdefault(cls, []).append(seconds)

    @property
    def requests(self) -> int:
        return sum(len(v) for v in self.latencies.values()) + sum(
            n for k, n in self.errors.items() if k.endswith(")"))  # transport errors

    @property
    def error_count(self) -> int:
        return sum(self.errors.values())


def pct(xs: list[float], q: float) -> float:
    if not xs:
        return float("nan")
    s = sorted(xs)
    return s[min(len(s) - 1, int(q * len(s)))] * 1000


def server_rss_kib(pid: int) -> int | None:
    """Resident set of the server process and its children (KiB, /proc; Linux only)."""
    try:
        parents: dict[int, int] = {}
        for entry in os.listdir("/proc"):
            if entry.isdigit():
                try:
                    with open(f"/proc/{entry}/stat") as f:
                        parents[int(entry)] = int(f.read().rsplit(")", 1)[1].split()[1])
                except (OSError, ValueError, IndexError):
                    continue
    except OSError:
        return None
    tree, todo = set(), [pid]
    while todo:
        p = todo.pop()
        if p not in tree:
            tree.add(p)
            todo.extend(c for c, pp in parents.items() if pp == p)
    total = 0
    for p in tree:
        try:
            with open(f"/proc/{p}/status") as f:
                for line in f:
                    if line.startswith("VmRSS:"):
                        total += int(line.split()[1])
        except OSError:
            continue
    return total or None


def _why(r: Any) -> str:
    try:
        code = str(r.json().get("code", ""))
    except (ValueError, AttributeError):
        code = ""
    return f"{r.status_code} {code}".strip()


async def upload_one(http: Any, p: api.Party) -> int:
    """The client's one evidence file (streamed multipart); answers the staged item id."""
    h = {"Authorization": f"Bearer {p.token}"}
    r = await http.post(f"/cases/{p.case_id}/evidence", params={"kind": "invoice"}, headers=h,
                        files={"file": ("invoice.pdf", PDF, "application/pdf")})
    if r.status_code != 201:
        raise SystemExit(f"setup: upload answered {r.status_code} {r.text[:300]}")
    return int(r.json()["id"])


async def setup(base: str, seed: str, clients: int) -> list[api.Party]:
    import httpx

    parties = [api.Party(key=api._key(seed, i, "buyer"), order_id=i + 1)
               for i in range(clients)]
    sem, lock = asyncio.Semaphore(16), asyncio.Lock()
    async with httpx.AsyncClient(base_url=base, timeout=120) as http:
        await asyncio.gather(*(api.setup_party(http, p, sem, lock) for p in parties))

        async def up(p: api.Party) -> None:
            # 16 at a time: uploads run in the write discipline (docs/persistence.md), so
            # concurrent ones queue for the write lock instead of failing "database is locked"
            async with sem:
                p._item = await upload_one(http, p)

        await asyncio.gather(*(up(p) for p in parties))
    return parties


def next_offer(p: api.Party, now: int) -> dict[str, Any]:
    """The client's next offer, chained to its last accepted step, signed now."""
    seq, prev = p._next
    api.presign(p, p._domain, seq, prev, 1, now)
    return (p.offers or [])[0]


async def health_phase(base: str, clients: int, seconds: float) -> tuple[int, float, int]:
    """Baseline: `GET /health` from every client; answers (ok, seconds, errors)."""
    import httpx

    counts = {"ok": 0, "bad": 0}
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients,
                          keepalive_expiry=KEEPALIVE_EXPIRY)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        deadline = time.perf_counter() + seconds

        async def one() -> None:
            while time.perf_counter() < deadline:
                try:
                    r = await http.get("/health")
                    counts["ok" if r.status_code == 200 else "bad"] += 1
                except httpx.HTTPError:
                    counts["bad"] += 1

        t0 = time.perf_counter()
        await asyncio.gather(*(one() for _ in range(clients)))
        return counts["ok"], time.perf_counter() - t0, counts["bad"]


async def load_phase(base: str, parties: list[api.Party], seconds: float, seed: str
                     ) -> tuple[Stats, float]:
    import httpx

    stats = Stats()
    rng = random.Random(seed)
    classes = [c for c, w in MIX for _ in range(w)]
    limits = httpx.Limits(max_connections=len(parties), max_keepalive_connections=len(parties),
                          keepalive_expiry=KEEPALIVE_EXPIRY)
    deadline = time.perf_counter() + seconds
    async with httpx.AsyncClient(base_url=base, timeout=120, limits=limits) as http:
        async def client(p: api.Party) -> None:
            h = {"Authorization": f"Bearer {p.token}"}
            while time.perf_counter() < deadline:
                cls = rng.choice(classes)
                send: Callable[..., Awaitable[httpx.Response]]
                if cls == "case view":
                    send, path, want = http.get, f"/cases/{p.case_id}", 200
                    kw: dict[str, Any] = {}
                elif cls == "case list":
                    send, path, want, kw = http.get, "/cases", 200, {}
                elif cls == "evidence metadata":
                    send, path, want, kw = (
                        http.get, f"/cases/{p.case_id}/evidence/{p._item}",
                        200, {})
                else:
                    send, path, want = http.post, f"/cases/{p.case_id}/offers", 201
                    kw = {"json": next_offer(p, int(time.time()))}
                t0 = time.perf_counter()
                try:
                    r = await send(path, headers=h, **kw)
                except httpx.HTTPError as exc:
                    stats.error(cls, f"({type(exc).__name__})")
                    continue
                dt = time.perf_counter() - t0
                if r.status_code != want:
                    stats.error(cls, _why(r), dt)
                    if cls == "signed offer":  # resynchronise the chain from the case view
                        v = await http.get(f"/cases/{p.case_id}", headers=h)
                        if v.status_code == 200:
                            j = v.json()
                            p._next = (j["nextSequence"], j["prevHash"])
                    continue
                stats.ok(cls, dt)
                if cls == "signed offer":
                    seq, _ = p._next
                    p._next = (seq + 1, r.json()["recordHash"])

        t0 = time.perf_counter()
        await asyncio.gather(*(client(p) for p in parties))
        return stats, time.perf_counter() - t0


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--clients", type=int, default=200, help="concurrent signed-in clients")
    ap.add_argument("--seconds", type=float, default=60.0, help="length of the load phase")
    ap.add_argument("--baseline-seconds", type=float, default=5.0,
                    help="length of the GET /health baseline phase (0: none)")
    ap.add_argument("--db", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--workers", type=int, default=1, help="uvicorn worker processes")
    ap.add_argument("--postgres-url", default=os.environ.get(
        "CHAINARB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        help="a local PostgreSQL server (the bench creates and drops its own database)")
    args = ap.parse_args()
    seed = os.urandom(4).hex()
    work = Path(tempfile.mkdtemp(prefix="chainarb-bench-load-"))
    port = api._free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINARB_")}
    pg_db = f"chainarb_load_{seed}" if args.db == "postgres" else None
    if pg_db is not None:
        env["BENCH_API_DB"] = api._pg_create(args.postgres_url, pg_db)
    proc = subprocess.Popen([sys.executable, str(API), "--serve", str(work / "data"), str(port),
                             str(args.clients), seed, str(args.workers)], env=env,
                            start_new_session=True)
    try:
        api._wait_up(base, proc)
        print(f"server: {args.workers} uvicorn worker(s), "
              f"{'PostgreSQL' if pg_db else 'SQLite'} + local IPFS blockstore; "
              f"{args.clients} clients, {args.seconds:g} s, {os.cpu_count()} CPUs, "
              f"load average {os.getloadavg()[0]:.1f}")
        t0 = time.perf_counter()
        parties = asyncio.run(setup(base, seed, args.clients))
        print(f"setup: {args.clients} sign-ins, cases filed and files uploaded in "
              f"{time.perf_counter() - t0:.1f} s")
        if args.baseline_seconds > 0:
            ok, secs, bad = asyncio.run(health_phase(base, args.clients, args.baseline_seconds))
            print(f"baseline GET /health: {ok / secs:,.1f} requests/s "
                  f"({ok} in {secs:.1f} s, {bad} errors)")
        rss0 = server_rss_kib(proc.pid)
        stats, secs = asyncio.run(load_phase(base, parties, args.seconds, seed))
        rss1 = server_rss_kib(proc.pid)
    finally:
        api.stop_server(proc, work, args.postgres_url, pg_db)
    print(f"{'endpoint class':<18} {'requests':>9} {'errors':>7} {'p50 ms':>9} {'p99 ms':>9}")
    for cls, _ in MIX:
        xs = stats.latencies.get(cls, [])
        errs = sum(n for k, n in stats.errors.items() if k.startswith(cls + ":"))
        print(f"{cls:<18} {len(xs):>9} {errs:>7} {pct(xs, 0.5):>9.1f} {pct(xs, 0.99):>9.1f}")
    allx = [x for xs in stats.latencies.values() for x in xs]
    print(f"{'all':<18} {len(allx):>9} {stats.error_count:>7} {pct(allx, 0.5):>9.1f} "
          f"{pct(allx, 0.99):>9.1f}")
    total = stats.requests
    print(f"requests/s: {total / secs:,.1f} ({total} in {secs:.1f} s)")
    if rss0 is not None and rss1 is not None:
        print(f"server RSS: {rss0 / 1024:,.1f} MiB before the load, {rss1 / 1024:,.1f} MiB "
              f"after (growth {(rss1 - rss0) / 1024:+,.1f} MiB)")
    for key, n in sorted(stats.errors.items()):
        print(f"error: {key} x{n}")
    print(f"load_error_rate={stats.error_count / total if total else 1.0:.4f}")


if __name__ == "__main__":
    main()
