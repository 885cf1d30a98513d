"""The carrier simulator's webhooks at 100 events/s for a minute against a served service.

Issue 13: "the carrier simulator's webhooks at 100 events/s for a minute lose none and
double none". The service runs in its own process (uvicorn, as ``bench/webhook.py
--serve`` starts it: the app, the local IPFS blockstore, an in-memory escrow holding orders
1..10) on the test's database; the simulator's threads post over HTTP from this process,
so client and server do not share an interpreter. A test module per database, so the two
run in parallel xdist processes.

The schedule: event k is due at k/RATE s; SENDERS threads share SHIPMENTS shipments (each
shipment stays on one thread, so its events leave in order, as a carrier sends them); a
thread behind schedule sends at once. Every RETRY_EVERY-th event is sent a second time at
once, as a carrier retrying a delivery whose answer it missed: the service must refuse
each such replay (``webhook_replayed``) and record the event once.

Checked, whatever rate the machine reaches (a shared machine's timing is not a property):
every event answered 201 once and recorded once (the rows), every retry refused and
logged, each shipment's sequences complete; in the institution's log, one ``performance``
entry per item, at the index its receipt names, and the log's tree rebuilt from its
entries equal to the stored one. Printed: the rate offered and reached, the lag behind the
schedule, the answer times, the service's CPU per event.
"""

from __future__ import annotations

import json
import os
import signal
import statistics
import subprocess
import sys
import threading
import time
from collections import Counter
from pathlib import Path
from typing import Any

import httpx
from sqlmodel import Session, col, select

from backend.db import make_engine
from backend.db.log_models import LogEntry
from backend.db.performance_models import PerformanceItem, WebhookRefusal
from backend.log.store import rebuild
from backend.performance import EventType, Scheme
from backend.performance.simulator import CarrierSimulator
from tests.backend.serve_process import free_port

ROOT = Path(__file__).resolve().parents[3]
RATE = 100  # events per second
SECONDS = int(os.environ.get("CHAINARB_LOAD_SECONDS", "60"))  # a minute (shorter by hand)
SHIPMENTS = 100
SENDERS = 20  # threads (a carrier posts concurrently); SHIPMENTS % SENDERS == 0: a
# shipment stays on one thread, so its events leave in order
ORDERS = 10  # the served escrow's orders 1..ORDERS (bench/webhook.py)
RETRY_EVERY = 50
TYPES = [EventType.SHIPPED, EventType.IN_TRANSIT, EventType.OUT_FOR_DELIVERY]


def _serve(db_url: str, data_dir: Path, sim: CarrierSimulator) -> tuple[str, Any]:
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("CHAINARB_")}
    env |= {"BENCH_API_DB": db_url, "PYTHONPATH": str(ROOT),
            "BENCH_WEBHOOK_SENDERS": json.dumps([sim.config_json()])}
    proc = subprocess.Popen([sys.executable, str(ROOT / "bench" / "webhook.py"), "--serve",
                             str(data_dir), str(port), ""], env=env, cwd=ROOT,
                            start_new_session=True)
    base = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + 120  # a loaded machine starts slowly
    while time.monotonic() < deadline:
        assert proc.poll() is None, f"the service exited with {proc.returncode}"
        try:
            if httpx.get(base + "/health", timeout=2).status_code == 200:
                return base, proc
        except httpx.HTTPError:
            pass
        time.sleep(0.2)
    proc.kill()
    raise AssertionError("the service did not answer /health within 120 s")


def run_load(db_url: str, tmp_path: Path) -> None:
    sim = CarrierSimulator.new("sim-load", Scheme.HMAC_SHA256)
    base, proc = _serve(db_url, tmp_path / "data", sim)
    try:
        _load(sim, base, db_url, proc.pid)
    finally:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()


def _cpu_seconds(pid: int) -> float:
    """User + system CPU seconds of the service's process (/proc, Linux)."""
    with open(f"/proc/{pid}/stat") as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def _load(sim: CarrierSimulator, base: str, db_url: str, pid: int) -> None:
    total = RATE * SECONDS
    per_shipment = total // SHIPMENTS
    # event k: shipment k % SHIPMENTS, its (k // SHIPMENTS + 1)-th event
    events = [sim.event(1 + k % ORDERS, f"LOAD{k % SHIPMENTS:03d}",
                        TYPES[(k // SHIPMENTS) % 3], sequence=k // SHIPMENTS + 1)
              for k in range(total)]
    answers: dict[int, list[tuple[int, str, int]]] = {}
    latencies: list[float] = []
    lag: list[float] = []
    lock = threading.Lock()
    start = time.monotonic() + 1.0

    def sender(t: int) -> None:
        with httpx.Client(base_url=base, timeout=120) as http:
            for k in range(t, total, SENDERS):
                due = start + k / RATE
                now = time.monotonic()
                if now < due:
                    time.sleep(due - now)
                for _ in range(2 if k % RETRY_EVERY == RETRY_EVERY - 1 else 1):
                    t0 = time.monotonic()
                    r = sim.send(http, events[k])  # signed now, as a carrier sends it
                    t1 = time.monotonic()
                    body = r.json()
                    got = (r.status_code, body.get("code", "") if r.status_code != 201 else "",
                           body["receipt"]["index"] if r.status_code == 201 else -1)
                    with lock:
                        answers.setdefault(k, []).append(got)
                        latencies.append(t1 - t0)
                        lag.append(t0 - due)

    threads = [threading.Thread(target=sender, args=(t,)) for t in range(SENDERS)]
    cpu0 = _cpu_seconds(pid)
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.monotonic() - start
    cpu = _cpu_seconds(pid) - cpu0

    retried = total // RETRY_EVERY
    assert len(answers) == total
    firsts = Counter(a[0][:2] for a in answers.values())
    again = Counter(a[1][:2] for a in answers.values() if len(a) == 2)
    assert firsts == {(201, ""): total}, firsts.most_common(5)  # none lost
    assert again == {(409, "webhook_replayed"): retried}, again  # each retry refused
    receipts = {k: a[0][2] for k, a in answers.items()}
    assert len(set(receipts.values())) == total  # a log index of its own each

    rows, refusals, logged, report = _stored(db_url, sim.sender_id)
    ids = Counter(r[1] for r in rows)
    assert len(rows) == total and set(ids) == {e.event_id for e in events}  # none lost
    assert max(ids.values()) == 1  # none doubled
    by_shipment: dict[str, list[int]] = {}
    for _item, _event, shipment, seq in rows:
        by_shipment.setdefault(shipment, []).append(seq)
    assert len(by_shipment) == SHIPMENTS
    assert all(sorted(v) == list(range(1, per_shipment + 1)) for v in by_shipment.values())
    assert Counter(refusals) == {"webhook_replayed": retried}

    # the log: one performance entry per item, where its receipt said, none for a retry
    item_of_event = {event: item for item, event, _s, _q in rows}
    entry_of_item = Counter(ref for _idx, ref in logged)
    assert len(logged) == total and set(entry_of_item) == set(item_of_event.values())
    assert max(entry_of_item.values()) == 1
    index_of_item = {ref: idx for idx, ref in logged}
    assert all(index_of_item[item_of_event[events[k].event_id]] == idx
               for k, idx in receipts.items())
    assert report.consistent, report.problems  # the stored tree is the entries' tree

    lat = sorted(latencies)
    print(f"\nperformance webhooks ({db_url.split(':')[0]}): {total} events + {retried} retries "
          f"offered at {RATE}/s ({SECONDS} s) from {SENDERS} threads; sent in {elapsed:.1f} s "
          f"= {total / elapsed:.1f} events/s reached; lag behind schedule max "
          f"{max(lag):.2f} s; answer p50 {statistics.median(lat) * 1e3:.1f} ms, p99 "
          f"{lat[int(len(lat) * 0.99)] * 1e3:.1f} ms; service CPU {cpu * 1e3 / total:.2f} ms "
          f"per event; recorded {len(rows)}, logged "
          f"{len(logged)}, doubled 0, lost 0")


def _stored(db_url: str, sender: str) -> tuple[list[Any], list[str], list[Any], Any]:
    """The sender's items (id, event id, shipment, sequence), the refusal codes, the log's
    performance entries (index, item id) and the log's rebuild report."""
    engine = make_engine(db_url)
    try:
        with Session(engine) as s:
            rows = list(s.exec(select(PerformanceItem.id, PerformanceItem.event_id,
                                      PerformanceItem.shipment, PerformanceItem.sequence)
                               .where(col(PerformanceItem.source) == f"webhook:{sender}")))
            refusals = list(s.exec(select(WebhookRefusal.code)))
            logged = list(s.exec(select(LogEntry.idx, LogEntry.ref_id)
                                 .where(col(LogEntry.kind) == "performance")))
            report = rebuild(s)
    finally:
        engine.dispose()
    return rows, refusals, logged, report
