"""kill -9 of the service during an upload (mid-body, at the commit), during a signed step
(at the commit) and during an anchoring round; after each restart nothing is half-stored,
lost or duplicated, and the service answers again."""

from __future__ import annotations

import contextlib
import socket
import time
from typing import Any

import httpx
import pytest

from evidence.chain import lookup_anchor
from tests.faults.fault_harness import Chain, Service, check, parties, pdf, wait_all_anchored

pytestmark = pytest.mark.anvil


def kill_mid_body(svc: Service, p: Any, data: bytes) -> None:
    """Send the headers and half of a streamed multipart upload, then kill -9 the service
    while it hashes, encrypts and stores what it received."""
    boundary = "faultsboundary"
    head = (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
            f"filename=\"big.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
    tail = f"\r\n--{boundary}--\r\n".encode()
    body_len = len(head) + len(data) + len(tail)
    with socket.create_connection(("127.0.0.1", svc.port)) as s:
        s.sendall((f"POST /cases/{p.case_id}/evidence?kind=invoice HTTP/1.1\r\n"
                   f"Host: 127.0.0.1\r\nAuthorization: Bearer {p.token}\r\n"
                   f"Content-Type: multipart/form-data; boundary={boundary}\r\n"
                   f"Content-Length: {body_len}\r\n\r\n").encode() + head)
        s.sendall(data[:len(data) // 2])
        time.sleep(0.5)
        svc.kill()


def test_kill_during_upload(make_service: Any) -> None:
    """Mid-body, just before the commit, just after it: all or nothing, never half."""
    svc: Service = make_service()
    (p,) = parties(svc, 1)
    assert p.upload(pdf(5_000, b"before")).status_code == 201
    rows = 1
    kill_mid_body(svc, p, pdf(3_000_000, b"big"))
    svc.start()
    assert svc.sql("SELECT count(*) FROM evidence_item")[0][0] == rows
    check(svc, [p])
    for point in ("before-commit", "after-commit"):
        svc.die_at(f"{point}:evidence_item")
        with pytest.raises(httpx.TransportError):
            p.upload(pdf(600_000, point.encode()))
        assert svc.wait_killed() == -9
        svc.start()
        rows += point == "after-commit"  # committed before the kill: whole, not answered
        assert svc.sql("SELECT count(*) FROM evidence_item")[0][0] == rows
        check(svc, [p])
    assert p.upload(pdf(3_000_000, b"big")).status_code == 201  # the service works again
    check(svc, [p])


def test_kill_at_step_commit(make_service: Any) -> None:
    svc: Service = make_service()
    (p,) = parties(svc, 1)
    assert p.offer(1_000).status_code == 201
    for n, point in enumerate(("before-commit", "after-commit")):
        body, record_hash = p.offer_body(2_000 + n)
        svc.die_at(f"{point}:step")
        with pytest.raises(httpx.TransportError):
            p.offer(2_000 + n, body)
        assert svc.wait_killed() == -9
        svc.start()
        stored = [r[0] for r in svc.sql("SELECT record_hash FROM step WHERE case_id = :c",
                                        c=p.case_id)]
        assert (record_hash in stored) == (point == "after-commit")
        # each step's one block is a row of its transaction: none from the killed one
        assert svc.sql("SELECT count(*) FROM step_block")[0][0] == \
            svc.sql("SELECT count(*) FROM step")[0][0]
        check(svc, [p])
        again = p.offer(2_000 + n, body)  # no 201 came back: the client sends it again
        if point == "before-commit":
            assert again.status_code == 201, again.text
        else:  # stored once already; its position is taken
            assert (again.status_code, again.json()["code"]) == (409, "stale_sequence"), \
                again.text
        stored = [r[0] for r in svc.sql("SELECT record_hash FROM step WHERE case_id = :c",
                                        c=p.case_id)]
        assert stored.count(record_hash) == 1
        check(svc, [p])
    assert p.offer(3_000).status_code == 201
    check(svc, [p])


def test_kill_during_anchoring(make_service: Any, chain: Chain) -> None:
    """Killed after claiming, after signing, after broadcasting, after confirming: the
    restarted service anchors every leaf in exactly one confirmed batch."""
    svc: Service = make_service(clients=2)
    ps = parties(svc, 2)
    wait_all_anchored(svc)  # the filings: anchored before the faults
    w3 = chain.node.web3()
    for n, point in enumerate(("claimed", "signed", "broadcast", "confirmed")):
        svc.die_at(f"anchor:{point}")
        for p in ps:  # the round may kill the process before an answer left
            with contextlib.suppress(httpx.TransportError):
                p.offer(5_000 + n)
        assert svc.wait_killed() == -9, point
        svc.start()
        batches = wait_all_anchored(svc)
        leaves = svc.sql("SELECT batch_id FROM leaf")
        # each leaf in one confirmed batch, with the log's checkpoint as one more leaf
        assert sum(b[2] - 1 for b in batches) == len(leaves)
        assert svc.sql("SELECT count(*) FROM log_entry")[0][0] >= len(leaves)  # one each
        for _id, root, _count in batches:
            assert lookup_anchor(w3, chain.anchor, bytes.fromhex(root[2:])) is not None
        check(svc, ps)
    assert all(p.offer(6_000).status_code == 201 for p in ps)
    check(svc, ps)
