"""In-process benchmark of the write and read paths: the app called as ASGI, no socket.

Why beside ``bench/api.py``: over HTTP the client, uvicorn and the loopback share the
cores with the server, so a change of 0.2 ms per offer is lost in the noise of a shared
machine. Here the app (``bench/api.py``'s: SQLite or PostgreSQL, local blockstore,
in-memory escrow) runs in this process and each request is one hand-made ASGI call (no
HTTP client: the CPU measured is the app's, the driver's being a few microseconds).

Setup (not timed): ``--cases`` clients sign in, open and file a case each (through httpx's
ASGI transport), and pre-sign ``--offers`` offers each. Timed: the offers, ``--concurrency``
clients at a time (1: one after the other; more: concurrent requests share group commits
on SQLite, as at 50 clients over HTTP), then ``--reads`` case views one after the other.
Process CPU (user + system, ``os.times``) per offer and per read; ``--profile FILE`` writes a
cProfile (on the process CPU clock, not wall time) of the offer phase (the service's
thread-pool trips then run inline on the event loop, so use it with ``--concurrency 1``)
and of the read phase in FILE.reads. ``--stages`` prints the thread CPU each stage of the
step path took per offer (``bench/stages.py``: no profiler, so the figures are the code's
own) and of the case view per read. Last line: ``inprocess_cpu_ms_per_offer=<ms>``.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import json
import os
import shutil
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import api
from stages import StageClock


async def call(app: Any, method: str, path: str, token: str, body: Any = None
               ) -> tuple[int, bytes]:
    """One request as ASGI: status and body."""
    raw = json.dumps(body).encode() if body is not None else b""
    headers = [(b"host", b"bench"), (b"authorization", f"Bearer {token}".encode())]
    if body is not None:
        headers += [(b"content-type", b"application/json"),
                    (b"content-length", str(len(raw)).encode())]
    scope = {"type": "http", "asgi": {"version": "3.0"}, "http_version": "1.1",
             "method": method, "scheme": "http", "path": path, "raw_path": path.encode(),
             "query_string": b"", "root_path": "", "headers": headers,
             "client": ("127.0.0.1", 1), "server": ("bench", 80)}
    sent = False
    out: dict[str, Any] = {"status": 0, "body": []}

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": raw, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        if message["type"] == "http.response.start":
            out["status"] = message["status"]
        elif message["type"] == "http.response.body":
            out["body"].append(message.get("body", b""))

    await app(scope, receive, send)
    return out["status"], b"".join(out["body"])


async def run(args: argparse.Namespace, work: Path, clock: StageClock | None = None
              ) -> tuple[float, float, int, int, float]:
    import httpx

    seed = os.urandom(4).hex()
    app = api._app(work / "data", 8000, args.cases, seed)
    parties = [api.Party(key=api._key(seed, i, "buyer"), order_id=i + 1)
               for i in range(args.cases)]
    async with app.router.lifespan_context(app):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://bench") as http:
            sem, lock = asyncio.Semaphore(8), asyncio.Lock()
            await asyncio.gather(*(api.setup_party(http, p, sem, lock) for p in parties))
        now = int(time.time())
        for p in parties:
            seq, prev = p._next
            api.presign(p, p._domain, seq, prev, args.offers, now)

        queue = [(p, body) for j in range(args.offers) for p in parties
                 for body in [(p.offers or [])[j]]]
        bad = 0

        async def poster(mine: list[tuple[api.Party, Any]]) -> None:
            nonlocal bad
            for p, body in mine:
                status, _ = await call(app, "POST", f"/cases/{p.case_id}/offers", p.token, body)
                bad += status != 201

        # clients of one lane post in order, so each case's chain stays in order
        lanes: list[list[tuple[api.Party, Any]]] = [[] for _ in range(args.concurrency)]
        for p_index, p in enumerate(parties):
            lane = lanes[p_index % args.concurrency]
            lane.extend((q, b) for q, b in queue if q is p)
        profile = cProfile.Profile(time.process_time) if args.profile else None
        if profile is not None:  # the thread-pool trips inline, so the profile sees them
            import backend.api.routes.cases as routes

            async def inline(fn: Any, *a: Any) -> Any:
                return fn(*a)

            import backend.api.shortcut as shortcut

            setattr(routes, "run_in_threadpool", inline)  # noqa: B010 - a module seam
            setattr(shortcut, "run_in_threadpool", inline)  # noqa: B010 - the steps' way
            from backend.api.lane import view_lane

            setattr(view_lane, "run", inline)  # noqa: B010 - the case view's way
        if clock is not None:
            clock.reset()  # the setup's steps are not the offers
        t0 = os.times()
        if profile is not None:
            profile.enable()
        await asyncio.gather(*(poster(lane) for lane in lanes))
        if profile is not None:
            profile.disable()
            profile.dump_stats(args.profile)
        t1 = os.times()
        offer_cpu = (t1.user - t0.user) + (t1.system - t0.system)
        offers = len(queue)
        system_share = (t1.system - t0.system) / offer_cpu if offer_cpu else 0.0
        if clock is not None:
            print("\n".join(clock.report(len(queue), "offer")))
            clock.reset()

        reads = 0
        read_profile = cProfile.Profile(time.process_time) if args.profile else None
        cpu0 = time.process_time()
        if read_profile is not None:
            read_profile.enable()
        for i in range(args.reads):
            p = parties[i % len(parties)]
            status, _ = await call(app, "GET", f"/cases/{p.case_id}", p.token)
            bad += status != 200
            reads += 1
        if read_profile is not None:
            read_profile.disable()
            read_profile.dump_stats(args.profile + ".reads")
        read_cpu = time.process_time() - cpu0
        if clock is not None:
            print("\n".join(clock.report(reads, "read")))
    return 1000 * offer_cpu / offers, 1000 * read_cpu / max(1, reads), offers, bad, system_share


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--cases", type=int, default=10)
    ap.add_argument("--offers", type=int, default=29, help="offers per case")
    ap.add_argument("--reads", type=int, default=240)
    ap.add_argument("--concurrency", type=int, default=1, help="clients posting at once")
    ap.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite",
                    help="postgres: a fresh database on the server of --postgres-url")
    ap.add_argument("--postgres-url", default=os.environ.get(
        "CHAINARB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"),
        help="a local PostgreSQL server (the bench creates and drops its own database)")
    ap.add_argument("--profile", default="",
                    help="write a cProfile of the offers here (of the reads in FILE.reads)")
    ap.add_argument("--stages", action="store_true",
                    help="print the thread CPU of each stage of the step path per offer "
                         "(bench/stages.py) and of the case view per read")
    args = ap.parse_args()
    clock = None
    if args.stages:
        clock = StageClock()
        clock.install()
    args.concurrency = max(1, min(args.concurrency, args.cases))
    work = Path(tempfile.mkdtemp(prefix="chainarb-bench-inprocess-"))
    pg_db = f"chainarb_bench_{os.urandom(4).hex()}" if args.database == "postgres" else None
    os.environ.pop("BENCH_API_DB", None)
    if pg_db is not None:
        os.environ["BENCH_API_DB"] = api._pg_create(args.postgres_url, pg_db)
    try:
        per_offer, per_read, offers, bad, system = asyncio.run(run(args, work, clock))
    finally:
        shutil.rmtree(work, ignore_errors=True)
        if pg_db is not None:
            api._pg_drop(args.postgres_url, pg_db)
    print(f"{'PostgreSQL' if pg_db else 'SQLite'}: {offers} offers ({args.cases} cases, "
          f"{args.concurrency} at a time), "
          f"{args.reads} case views; refused or failed: {bad}")
    print(f"CPU ms per offer {per_offer:.2f} ({100 * system:.0f} % system), "
          f"per case view {per_read:.2f}")
    print(f"inprocess_cpu_ms_per_read={per_read:.2f}")
    print(f"inprocess_cpu_ms_per_offer={per_offer:.2f}")


if __name__ == "__main__":
    main()
