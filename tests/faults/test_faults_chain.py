"""The chain node goes down and comes back while the service runs: reads and signed steps
go on, anchoring waits and retries, then every leaf is anchored once; nothing is lost or
duplicated and the service never needed a restart."""

from __future__ import annotations

import time
from typing import Any

import httpx
import pytest

from evidence.chain import lookup_anchor
from tests.faults.fault_harness import Chain, Service, check, parties, wait_all_anchored

pytestmark = pytest.mark.anvil


def test_chain_node_down_and_back(make_service: Any, chain: Chain) -> None:
    svc: Service = make_service(clients=2)
    ps = parties(svc, 2)
    wait_all_anchored(svc)
    chain.node.stop()
    try:
        for n in range(3):  # the service goes on without the chain
            for p in ps:
                r = p.offer(10_000 + n)
                assert r.status_code == 201, r.text
                assert p.view()["nextSequence"] == len(p.accepted_offers) + 1
        assert httpx.get(svc.base + "/health", timeout=10).status_code == 200
        time.sleep(1.0)  # several anchoring rounds fail meanwhile
        pending = svc.sql("SELECT count(*) FROM leaf l LEFT JOIN anchor_batch b "
                          "ON b.id = l.batch_id WHERE b.status IS NULL OR "
                          "b.status != 'confirmed'")[0][0]
        assert pending == 6  # queued, not lost, not anchored
    finally:
        chain.node.start()
    batches = wait_all_anchored(svc)
    # each root: its records' leaves and the log's checkpoint (docs/log.md, Service)
    assert sum(b[2] - 1 for b in batches) == svc.sql("SELECT count(*) FROM leaf")[0][0]
    assert svc.sql("SELECT count(*) FROM log_checkpoint WHERE batch_id IS NOT NULL")[0][0] \
        == len(batches)
    w3 = chain.node.web3()
    for _id, root, _count in batches:
        assert lookup_anchor(w3, chain.anchor, bytes.fromhex(root[2:])) is not None, root
    assert svc.proc is not None and svc.proc.poll() is None
    # the outage spent no attempt and failed no batch; it is logged one line per round
    assert svc.sql("SELECT count(*) FROM anchor_inclusion WHERE status = 'failed' "
                   "OR attempts > 0")[0][0] == 0
    log = svc.server_log()
    assert "chain node unreachable" in log and "unexpected error" not in log
    check(svc, ps)
