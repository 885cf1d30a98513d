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
from conftest import Chain, parties
from harness import Service, check, pdf

from evidence.chain import lookup_anchor

pytestmark = pytest.mark.anvil


def test_kill_mid_upload_body(make_service: Any) -> None:
    svc: Service = make_service()
    (p,) = parties(svc, 1)
    assert p.upload(pdf(5_000, b"before")).status_code == 201
    data = pdf(3_000_000, b"big")
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
        s.sendall(data[:1_500_000])  # half the file: the server is hashing, encrypting, storing
        time.sleep(0.5)
        svc.kill()
    svc.start()
    assert [r[0] for r in svc.sql("SELECT count(*) FROM evidence_item")] == [1]
    check(svc, [p])
    assert p.upload(data).status_code == 201  # the same file again, whole this time
    check(svc, [p])


@pytest.mark.parametrize("point", ["before-commit", "after-commit"])
def test_kill_at_upload_commit(make_service: Any, point: str) -> None:
    svc: Service = make_service()
    (p,) = parties(svc, 1)
    assert p.upload(pdf(4_000, b"one")).status_code == 201
    svc.die_at(f"{point}:evidence_item")
    with pytest.raises(httpx.TransportError):
        p.upload(pdf(600_000, b"two"))
    assert svc.wait_killed() == -9
    svc.start()
    rows = svc.sql("SELECT count(*) FROM evidence_item")[0][0]
    assert rows == (1 if point == "before-commit" else 2)  # all or nothing, never half
    check(svc, [p])
    assert p.upload(pdf(4_000, b"three")).status_code == 201
    check(svc, [p])


@pytest.mark.parametrize("point", ["before-commit", "after-commit"])
def test_kill_at_step_commit(make_service: Any, point: str) -> None:
    svc: Service = make_service()
    (p,) = parties(svc, 1)
    assert p.offer(1_000).status_code == 201
    body, record_hash = p.offer_body(2_000)
    svc.die_at(f"{point}:step")
    with pytest.raises(httpx.TransportError):
        p.offer(2_000, body)
    assert svc.wait_killed() == -9
    svc.start()
    stored = [r[0] for r in svc.sql("SELECT record_hash FROM step WHERE case_id = :c",
                                    c=p.case_id)]
    assert (record_hash in stored) == (point == "after-commit")
    check(svc, [p])
    again = p.offer(2_000, body)  # the client did not get its 201: it sends the same again
    if point == "before-commit":
        assert again.status_code == 201, again.text
    else:
        assert again.status_code == 409, again.text  # stored once; its position is taken
        assert again.json()["code"] == "stale_sequence", again.text
    stored = [r[0] for r in svc.sql("SELECT record_hash FROM step WHERE case_id = :c",
                                    c=p.case_id)]
    assert stored.count(record_hash) == 1
    check(svc, [p])
    assert p.offer(3_000).status_code == 201
    check(svc, [p])


def wait_all_anchored(svc: Service, timeout: float = 60) -> list[Any]:
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
        "SELECT id, status, attempts, last_error FROM anchor_batch")))


@pytest.mark.parametrize("point", ["claimed", "signed", "broadcast", "confirmed"])
def test_kill_during_anchoring(make_service: Any, chain: Chain, point: str) -> None:
    svc: Service = make_service()
    ps = parties(svc, 2)
    wait_all_anchored(svc)  # the filings: anchored before the fault
    svc.die_at(f"anchor:{point}")
    for p in ps:  # the round may kill the process before an answer left
        with contextlib.suppress(httpx.TransportError):
            p.offer(5_000)
    assert svc.wait_killed() == -9
    svc.start()
    batches = wait_all_anchored(svc)
    leaves = svc.sql("SELECT batch_id FROM leaf")
    assert sum(b[2] for b in batches) == len(leaves)  # every leaf in one confirmed batch
    w3 = chain.node.web3()
    for _id, root, _count in batches:
        assert lookup_anchor(w3, chain.anchor, bytes.fromhex(root[2:])) is not None
    check(svc, ps)
    assert all(p.offer(6_000).status_code == 201 for p in ps)
    check(svc, ps)
