"""Webhook benchmark: server CPU per recorded carrier event, this tree against a baseline.

What ``POST /webhooks/{sender}`` costs the service (docs/performance-evidence.md): the
HMAC check, the window, the event's format, the order, the replay and order checks, the
body encrypted into the blockstore, the provenance log signed at capture, the row and its
``performance`` entry in the institution's log, the receipt in the answer.

Setup (not timed): the service in its own process (uvicorn, one worker, as
``bench/api.py``), SQLite or a fresh PostgreSQL database, the local IPFS blockstore, an
in-memory escrow holding the orders (``FakeEscrowPort``), one HMAC sender (the carrier
simulator's configuration). The events are made and signed up front.

Timed, in the same run, once with the baseline's code (``--baseline REF``, a commit whose
``backend/`` and ``evidence/`` are extracted to a temporary directory and put first on the
server's ``PYTHONPATH``) and once with this tree's: ``--concurrency`` senders post their
shipments' events in order, as fast as the service answers, after a warm-up. The
server's CPU (user + system of its process, /proc) over the phase divided by the events
recorded is the figure a shared machine disturbs least; events/s and p50/p99 are printed
beside it. Every event must be answered 201 once (a lost or doubled one is printed).

Printed last: ``webhook_cpu_vs_baseline=<baseline CPU ms/event over this tree's>`` and
``webhook_cpu_ms_per_event=<this tree's>``. Never fails on timing. ``--quick`` for a smoke
run; ``--profile FILE`` writes a cProfile (thread CPU time) of this tree's captures, one
profiler per request thread, merged; ``--spy PY_SPY`` samples the server with py-spy.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

sys.path.insert(0, str(Path(__file__).resolve().parent))

import api  # the sibling benchmark's server helpers

ROOT = Path(__file__).resolve().parent.parent
ESCROW = api.ESCROW
CHAIN_ID = api.CHAIN_ID
ORDERS = 10
SENDER = "bench-carrier"
SECRET = "b" * 64  # the bench's own shared secret; the server lives for one run
# The baseline: main before the webhook ingest work of issue 13's last paragraph.
BASELINE = "4a55a27"


# --- the server process -------------------------------------------------------------------

def _sender_json() -> dict[str, Any]:
    return {"id": SENDER, "name": "Bench Carrier", "name_zh": "基准快递",
            "scheme": "hmac-sha256", "secret": SECRET}


def serve(data_dir: Path, port: int, profile: str) -> None:
    """uvicorn on the embedded default's blockstore (the database from ``BENCH_API_DB``
    when set), an in-memory escrow with orders 1..``ORDERS``, the senders of
    ``BENCH_WEBHOOK_SENDERS`` (a JSON list; else the bench's HMAC sender). The load test
    (tests/backend/api/webhook_load.py) runs this server too."""
    import uvicorn
    from eth_account import Account

    from backend.api.app import create_app
    from backend.services.chain import FakeEscrowPort, OrderInfo
    from backend.settings import Settings

    db = os.environ.get("BENCH_API_DB")
    extra: dict[str, Any] = {"database_url": db} if db else {}
    senders = json.loads(os.environ.get("BENCH_WEBHOOK_SENDERS", "null")) or [_sender_json()]
    settings = Settings(data_dir=data_dir, port=port, webhook_senders=senders, **extra)
    institution = Account.from_key(settings.institution_private_key()).address
    fake = FakeEscrowPort(chain_id=CHAIN_ID, escrow=ESCROW, institution=institution)
    for i in range(ORDERS):
        fake.add_order(OrderInfo(order_id=i + 1, buyer=api._key("wh", i, "buyer").address,
                                 seller=api._key("wh", i, "seller").address,
                                 amount=api.AMOUNT, token="0x" + "11" * 20,
                                 institution=institution, status="Paid",
                                 case_id="0x" + "00" * 32, guarantee=api.GUARANTEE))
    app = create_app(settings, port=fake, background=False)
    if profile:
        _profile_threads(app, profile)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", access_log=False)


def _profile_threads(app: Any, path: str) -> None:
    """cProfile of the service's capture, in whichever request thread runs it; written
    to ``path`` when the app shuts down (uvicorn re-raises SIGTERM after: no atexit)."""
    import cProfile
    import threading
    from contextlib import asynccontextmanager

    from backend.services.performance import PerformanceService

    profs: dict[int, cProfile.Profile] = {}
    inner = PerformanceService.receive_webhook

    def profiled(self: Any, *a: Any, **kw: Any) -> Any:
        prof = profs.setdefault(threading.get_ident(), cProfile.Profile(time.thread_time))
        return prof.runcall(inner, self, *a, **kw)

    def dump() -> None:
        import pstats

        stats = [pstats.Stats(p_) for p_ in profs.values()]
        if stats:
            stats[0].add(*stats[1:])
            stats[0].dump_stats(path)

    PerformanceService.receive_webhook = profiled  # type: ignore[method-assign]
    inner_life = app.router.lifespan_context

    @asynccontextmanager
    async def life(a: Any) -> Any:
        async with inner_life(a) as state:
            yield state
        dump()

    app.router.lifespan_context = life


# --- the senders --------------------------------------------------------------------------

@dataclass
class Phase:
    events: int
    seconds: float = 0.0
    accepted: int = 0
    other: dict[str, int] = field(default_factory=dict)
    latencies: list[float] = field(default_factory=list)
    server_cpu: float = 0.0

    @property
    def cpu_ms(self) -> float:
        return 1000 * self.server_cpu / self.accepted if self.accepted else float("nan")

    @property
    def rate(self) -> float:
        return self.accepted / self.seconds if self.seconds else 0.0

    def pct(self, q: float) -> float:
        lat = sorted(self.latencies)
        return 1000 * lat[min(len(lat) - 1, int(len(lat) * q))] if lat else float("nan")


def _requests(tag: str, count: int, senders: int) -> list[list[tuple[dict[str, str], bytes]]]:
    """Per sender, its signed requests in order: shipment ``tag-s-j`` of order ``1 +
    s % ORDERS``, each shipment's events numbered from 1 (what a carrier sends)."""
    from backend.performance import EventType, Scheme, sign_webhook
    from backend.performance.simulator import CarrierSimulator

    sim = CarrierSimulator(SENDER, Scheme.HMAC_SHA256, SECRET.encode())
    types = [EventType.SHIPPED, EventType.IN_TRANSIT, EventType.OUT_FOR_DELIVERY]
    out: list[list[tuple[dict[str, str], bytes]]] = [[] for _ in range(senders)]
    for k in range(count):
        s = k % senders
        shipment = f"{tag}-{s}-{k // (senders * 20)}"
        seq = (k // senders) % 20 + 1
        ev = sim.event(1 + s % ORDERS, shipment, types[seq % 3], sequence=seq)
        body = sim.body(ev)
        ts = str(int(time.time()))
        out[s].append(({"Chainarb-Timestamp": ts, "Content-Type": "application/json",
                        "Chainarb-Signature": sign_webhook(Scheme.HMAC_SHA256, SECRET, SENDER,
                                                           ts, body)}, body))
    return out


async def _post_all(base: str, reqs: list[list[tuple[dict[str, str], bytes]]]) -> Phase:
    import httpx

    phase = Phase(events=sum(len(r) for r in reqs))
    limits = httpx.Limits(max_connections=len(reqs) + 2)
    async with httpx.AsyncClient(base_url=base, timeout=60, limits=limits) as http:
        async def sender(mine: list[tuple[dict[str, str], bytes]]) -> None:
            for headers, body in mine:
                t0 = time.monotonic()
                r = await http.post(f"/webhooks/{SENDER}", content=body, headers=headers)
                phase.latencies.append(time.monotonic() - t0)
                if r.status_code == 201:
                    phase.accepted += 1
                else:
                    code = f"{r.status_code} {r.json().get('code', '')}"
                    phase.other[code] = phase.other.get(code, 0) + 1

        t0 = time.monotonic()
        await asyncio.gather(*(sender(m) for m in reqs))
        phase.seconds = time.monotonic() - t0
    return phase


def run_one(label: str, pythonpath: Path, args: argparse.Namespace, profile: str) -> Phase:
    """Start a server on ``pythonpath``'s code, warm it up, time one phase, stop it."""
    work = Path(tempfile.mkdtemp(prefix="chainarb-bench-webhook-"))
    port = api._free_port()
    base = f"http://127.0.0.1:{port}"
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINARB_")}
    env["PYTHONPATH"] = os.pathsep.join([str(pythonpath), str(ROOT)])
    pg_db = f"chainarb_bench_wh_{os.urandom(4).hex()}" if args.database == "postgres" else None
    if pg_db is not None:
        env["BENCH_API_DB"] = api._pg_create(args.postgres_url, pg_db)
    proc = subprocess.Popen([sys.executable, __file__, "--serve", str(work / "data"),
                             str(port), profile], env=env, start_new_session=True,
                            cwd=str(pythonpath))
    try:
        api._wait_up(base, proc)
        warm = _requests(f"warm{label}", max(20, args.events // 10), args.concurrency)
        asyncio.run(_post_all(base, warm))
        reqs = _requests(f"run{label}", args.events, args.concurrency)
        spy = subprocess.Popen([args.spy, "record", "--pid", str(proc.pid), "--format", "raw",
                                "--rate", "250", "--gil", "-o", f"{args.spy_out}.{label}"],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL) \
            if args.spy else None
        time.sleep(1.0 if spy else 0.0)
        cpu0 = api.server_cpu_seconds(proc.pid) or 0.0
        phase = asyncio.run(_post_all(base, reqs))
        phase.server_cpu = (api.server_cpu_seconds(proc.pid) or 0.0) - cpu0
        if spy is not None:
            spy.send_signal(signal.SIGINT)
            spy.wait(timeout=60)
        return phase
    finally:
        api.stop_server(proc, work, args.postgres_url, pg_db)


def _extract(ref: str, into: Path) -> None:
    """``backend/`` and ``evidence/`` of commit ``ref`` into ``into`` (git archive)."""
    archive = subprocess.run(["git", "-C", str(ROOT), "archive", ref, "backend", "evidence"],
                             check=True, capture_output=True).stdout
    subprocess.run(["tar", "-x", "-C", str(into)], input=archive, check=True)


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--serve", nargs=3, metavar=("DIR", "PORT", "PROFILE"),
                    help=argparse.SUPPRESS)
    ap.add_argument("--database", choices=("sqlite", "postgres"), default="sqlite")
    ap.add_argument("--postgres-url", default=os.environ.get(
        "CHAINARB_TEST_POSTGRES_URL", "postgresql+psycopg://postgres@127.0.0.1:5432/test"))
    ap.add_argument("--events", type=int, default=1500, help="events per timed phase")
    ap.add_argument("--concurrency", type=int, default=8, help="senders at once")
    ap.add_argument("--baseline", default=BASELINE,
                    help=f"the commit to compare with (default {BASELINE}); 'none' to skip")
    ap.add_argument("--rounds", type=int, default=1,
                    help="alternate baseline and this tree this many times (medians)")
    ap.add_argument("--profile", default="", help="cProfile of this tree's captures to FILE")
    ap.add_argument("--spy", default="", help="a py-spy binary: sample the server's threads "
                    "during each timed phase (collapsed stacks to --spy-out.LABEL)")
    ap.add_argument("--spy-out", default="webhook-spy.txt")
    ap.add_argument("--quick", action="store_true", help="small smoke run (tests)")
    args = ap.parse_args()
    if args.serve:
        d, port, profile = args.serve
        serve(Path(d), int(port), profile)
        return
    if args.quick:
        args.events = 60
    base_dir = Path(tempfile.mkdtemp(prefix="chainarb-bench-webhook-base-"))
    results: dict[str, list[Phase]] = {"baseline": [], "this tree": []}
    try:
        runs: list[tuple[str, Path, str]] = [("this tree", ROOT, args.profile)]
        if args.baseline != "none":
            _extract(args.baseline, base_dir)
            runs.insert(0, ("baseline", base_dir, ""))
        for r in range(args.rounds):
            for label, path, profile in runs:
                results[label].append(run_one(f"{label[0]}{r}", path, args,
                                              profile if r == 0 else ""))
    finally:
        shutil.rmtree(base_dir, ignore_errors=True)
    db = "PostgreSQL" if args.database == "postgres" else "SQLite"
    print(f"server: 1 uvicorn worker, {db} + local IPFS blockstore; {args.events} events "
          f"from {args.concurrency} senders at once, as fast as answered; "
          f"baseline {args.baseline}")
    print(f"{'code':>10} {'round':>5} {'recorded':>9} {'other':>6} {'seconds':>8} "
          f"{'events/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'server CPU ms/event':>20}")
    for label, phases in results.items():
        for i, ph in enumerate(phases):
            print(f"{label:>10} {i + 1:>5} {ph.accepted:>9} {sum(ph.other.values()):>6} "
                  f"{ph.seconds:>8.2f} {ph.rate:>9.1f} {ph.pct(0.5):>8.1f} "
                  f"{ph.pct(0.99):>8.1f} {ph.cpu_ms:>20.2f}")
            if ph.other:
                print(f"           not recorded: {ph.other}")

    def median(xs: list[float]) -> float:
        xs = sorted(xs)
        return xs[len(xs) // 2] if len(xs) % 2 else (xs[len(xs) // 2 - 1] + xs[len(xs) // 2]) / 2

    now = median([ph.cpu_ms for ph in results["this tree"]])
    if results["baseline"]:
        before = median([ph.cpu_ms for ph in results["baseline"]])
        print(f"server CPU per event: baseline {before:.2f} ms, this tree {now:.2f} ms")
        print(f"webhook_cpu_vs_baseline={before / now:.2f}")
    print(f"webhook_cpu_ms_per_event={now:.2f}")


if __name__ == "__main__":
    main()
