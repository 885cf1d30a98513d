"""The carrier simulator's webhooks at 100 events/s for 20 s: none lost, none doubled.

The simulator stands in for a real carrier (``backend.performance.simulator``): it signs
each webhook with its HMAC secret. Four sender threads share 100 shipments (each shipment
stays on one thread, so its events leave in order, as a carrier sends them) and follow one
schedule: event k is due at k/100 s. Every 50th event is sent a second time at once, as a
carrier retrying a delivery whose answer it missed: the service must refuse each such
replay (``webhook_replayed``) and record the event exactly once. On SQLite and PostgreSQL.
2,000 events (20 per shipment, 40 retries) at the full rate prove what a minute's 6,000
did, in a third of the time.

Figures (printed, never asserted: a shared machine's timing is not a property): the rate
achieved, the lag behind the schedule, the answer times.
"""

from __future__ import annotations

import statistics
import threading
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlmodel import Session, col, select

from backend.db import make_engine
from backend.db.performance_models import PerformanceItem, WebhookRefusal
from backend.performance import EventType, Scheme
from backend.performance.simulator import CarrierSimulator
from tests.support.world import ORDER_ID, World, make_world

RATE = 100  # events per second
SECONDS = 20
SHIPMENTS = 100
THREADS = 4
RETRY_EVERY = 50
TYPES = [EventType.SHIPPED, EventType.IN_TRANSIT, EventType.OUT_FOR_DELIVERY]


@pytest.fixture
def load_world(clean_db_url: str, tmp_path: Path) -> Iterator[tuple[World, CarrierSimulator]]:
    sim = CarrierSimulator.new("sim-load", Scheme.HMAC_SHA256)
    w = make_world(clean_db_url, tmp_path, webhook_senders=[sim.config()])
    sim.clock = lambda: w.clock().timestamp()
    with w.client:
        yield w, sim


def test_100_events_per_second_for_a_minute_none_lost_none_doubled(
        load_world: tuple[World, CarrierSimulator]) -> None:
    w, sim = load_world
    total = RATE * SECONDS
    # event k: shipment k % SHIPMENTS, its (k // SHIPMENTS + 1)-th event; made up front so
    # every thread only signs and sends
    events = [sim.event(ORDER_ID, f"LOAD{k % SHIPMENTS:03d}", TYPES[(k // SHIPMENTS) % 3],
                        sequence=k // SHIPMENTS + 1) for k in range(total)]
    answers: dict[int, list[tuple[int, str]]] = {}
    latencies: list[float] = []
    lag: list[float] = []
    lock = threading.Lock()
    start = time.monotonic() + 0.5

    def sender(t: int) -> None:
        for k in range(t, total, THREADS):  # SHIPMENTS % THREADS == 0: a shipment per thread
            due = start + k / RATE
            now = time.monotonic()
            if now < due:
                time.sleep(due - now)
            sends = 2 if k % RETRY_EVERY == RETRY_EVERY - 1 else 1
            for _ in range(sends):
                t0 = time.monotonic()
                r = sim.send(w.client, events[k])
                t1 = time.monotonic()
                code = r.json().get("code", "") if r.status_code != 201 else ""
                with lock:
                    answers.setdefault(k, []).append((r.status_code, code))
                    latencies.append(t1 - t0)
                    lag.append(t0 - due)

    threads = [threading.Thread(target=sender, args=(t,)) for t in range(THREADS)]
    for th in threads:
        th.start()
    for th in threads:
        th.join()
    elapsed = time.monotonic() - start

    retried = total // RETRY_EVERY
    firsts = Counter(a[0] for a in answers.values())
    again = Counter(a[1] for a in answers.values() if len(a) == 2)
    assert len(answers) == total
    assert firsts == {(201, ""): total}, firsts.most_common(5)  # none lost
    assert again == {(409, "webhook_replayed"): retried}, again  # each retry refused

    engine = make_engine(w.db_url)
    try:
        with Session(engine) as s:
            rows = s.exec(select(PerformanceItem.event_id, PerformanceItem.shipment,
                                 PerformanceItem.sequence).where(
                col(PerformanceItem.source) == "webhook:sim-load")).all()
            refusals = s.exec(select(WebhookRefusal.code)).all()
    finally:
        engine.dispose()
    ids = Counter(r[0] for r in rows)
    assert len(rows) == total and set(ids) == {e.event_id for e in events}  # none lost
    assert max(ids.values()) == 1  # none doubled
    per_shipment: dict[str, list[int]] = {}
    for _id, shipment, seq in rows:
        per_shipment.setdefault(shipment, []).append(seq)
    assert all(sorted(v) == list(range(1, total // SHIPMENTS + 1))
               for v in per_shipment.values()) and len(per_shipment) == SHIPMENTS
    assert Counter(refusals) == {"webhook_replayed": retried}

    lat = sorted(latencies)
    print(f"\nperformance webhooks ({w.db_url.split(':')[0]}): {total} events + {retried} "
          f"retries in {elapsed:.1f} s (schedule {SECONDS} s) = {total / elapsed:.1f} events/s; "
          f"lag behind schedule max {max(lag):.2f} s; answer p50 {statistics.median(lat) * 1e3:.1f}"
          f" ms, p99 {lat[int(len(lat) * 0.99)] * 1e3:.1f} ms; recorded {len(rows)}, "
          f"doubled 0, lost 0")
