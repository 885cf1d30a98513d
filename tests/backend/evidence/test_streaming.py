"""Over a real socket (uvicorn on 127.0.0.1): a large upload and its download stream
through the service with bounded memory (the test client would buffer whole bodies)."""

from __future__ import annotations

import hashlib
import socket
import threading
import time
import tracemalloc
from collections.abc import Iterator

import httpx
import pytest
import uvicorn

from tests.support.evidence import PDF, filed_case, service, sign_staged, submit
from tests.support.world import World

MIB = 2**20
SIZE = 48 * MIB


@pytest.fixture
def served(world: World) -> Iterator[str]:
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    server = uvicorn.Server(uvicorn.Config(world.app, log_level="warning", lifespan="off"))
    thread = threading.Thread(target=server.run, kwargs={"sockets": [sock]}, daemon=True)
    thread.start()
    deadline = time.monotonic() + 20
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.02)
    assert server.started
    try:
        yield f"http://127.0.0.1:{sock.getsockname()[1]}"
    finally:
        server.should_exit = True
        thread.join(timeout=20)
        sock.close()


def _body(boundary: str) -> Iterator[bytes]:
    yield (f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; "
           f"filename=\"scan.pdf\"\r\nContent-Type: application/pdf\r\n\r\n").encode()
    yield PDF
    block = bytes(range(256)) * 4096  # 1 MiB, yielded again and again (no copy kept)
    for _ in range((SIZE - len(PDF)) // MIB):
        yield block
    yield f"\r\n--{boundary}--\r\n".encode()


def _expected_sha() -> str:
    h = hashlib.sha256(PDF)
    block = bytes(range(256)) * 4096
    for _ in range((SIZE - len(PDF)) // MIB):
        h.update(block)
    return "0x" + h.hexdigest()


def test_large_upload_and_download_stream_in_bounded_memory(world: World, served: str) -> None:
    case_id = filed_case(world)
    service(world).max_upload_bytes = 64 * MIB
    headers = world.buyer.headers
    tracemalloc.start()
    try:
        tracemalloc.reset_peak()
        with httpx.Client(base_url=served, timeout=120) as http:
            r = http.post(f"/cases/{case_id}/evidence", params={"kind": "contract"},
                          headers={**headers,
                                   "Content-Type": "multipart/form-data; boundary=zz"},
                          content=_body("zz"))
            assert r.status_code == 201, r.text
            staged = r.json()
            upload_peak = tracemalloc.get_traced_memory()[1]
            assert submit(world.buyer, staged["id"],
                          sign_staged(world.buyer, staged)).status_code == 201
            tracemalloc.reset_peak()
            h = hashlib.sha256()
            n = 0
            with http.stream("GET", f"/cases/{case_id}/evidence/{staged['id']}/content",
                             headers=world.seller.headers) as resp:
                assert resp.status_code == 200
                assert int(resp.headers["content-length"]) == staged["size"]
                for chunk in resp.iter_bytes():
                    h.update(chunk)
                    n += len(chunk)
            download_peak = tracemalloc.get_traced_memory()[1]
    finally:
        tracemalloc.stop()
    assert staged["size"] == n and staged["sha256"] == "0x" + h.hexdigest() == _expected_sha()
    # A 48 MiB file never sits in memory: the peak is a few encryption chunks and blocks.
    assert upload_peak < 16 * MIB, upload_peak
    assert download_peak < 16 * MIB, download_peak
