"""The blockstore's disk full, then read-only, then a corrupted block: each refused with a
clear error (never a 500), nothing half-stored, and the service works again once the disk
is back. A step's own block is a row of its transaction (backend/db/blocks.py), so steps
without a document are still accepted while the blockstore's disk is full or read-only."""

from __future__ import annotations

from typing import Any

import pytest

from tests.faults.fault_harness import Service, check, mount, parties, pdf

pytestmark = pytest.mark.anvil


def blocks_used(svc: Service) -> set[str]:
    return {p.name for p in (svc.data / "ipfs").rglob("*") if p.is_file()}


def fill(svc: Service) -> None:
    """Fill the blockstore's file system to the last byte."""
    with open(svc.data / "ipfs" / "filler", "wb", buffering=0) as f:
        for size in (65_536, 1):
            try:
                while True:
                    f.write(b"\0" * size)
            except OSError:
                pass


def test_blockstore_disk_full(make_service: Any) -> None:
    svc: Service = make_service(ipfs_tmpfs="3m")
    (p,) = parties(svc, 1)
    assert p.upload(pdf(100_000, b"fits")).status_code == 201
    assert p.offer(1_000).status_code == 201
    before = blocks_used(svc)
    r = p.upload(pdf(5_000_000, b"too big for the disk"))
    assert (r.status_code, r.json()["code"]) == (507, "storage_full"), r.text
    assert blocks_used(svc) == before  # the partial upload's blocks are removed
    assert svc.sql("SELECT count(*) FROM evidence_item")[0][0] == 1
    check(svc, [p])
    assert p.upload(pdf(200_000, b"fits again")).status_code == 201  # space was given back
    steps = svc.sql("SELECT count(*) FROM step")[0][0]
    fill(svc)  # now to the last byte: even a small upload has no room
    before = blocks_used(svc)
    r = p.upload(pdf(2_000, b"no room"))
    assert (r.status_code, r.json()["code"]) == (507, "storage_full"), r.text
    assert blocks_used(svc) == before  # nothing half-stored
    r = p.offer(2_000)  # its record goes in the database, not on the full disk
    assert r.status_code == 201, r.text
    assert svc.sql("SELECT count(*) FROM step")[0][0] == steps + 1
    assert blocks_used(svc) == before
    assert p.view()["stage"]  # reads still answer
    check(svc, [p])
    (svc.data / "ipfs" / "filler").unlink()
    assert p.upload(pdf(2_000, b"room again")).status_code == 201, \
        "the service stores uploads again once space is back"
    assert p.offer(3_000).status_code == 201
    check(svc, [p])


def test_blockstore_read_only(make_service: Any) -> None:
    svc: Service = make_service(ipfs_tmpfs="8m")
    (p,) = parties(svc, 1)
    assert p.upload(pdf(300_000, b"stored")).status_code == 201
    assert p.offer(1_000).status_code == 201
    target = str(svc.data / "ipfs")
    mount(["-o", "remount,ro", target])
    try:
        r = p.upload(pdf(50_000, b"refused"))
        assert (r.status_code, r.json()["code"]) == (503, "storage_read_only"), r.text
        assert r.headers["retry-after"] == "5"
        r = p.offer(2_000)  # its record goes in the database, not on the read-only disk
        assert r.status_code == 201, r.text
        check(svc, [p])  # what was stored still reads back whole
    finally:
        mount(["-o", "remount,rw", target])
    assert p.upload(pdf(50_000, b"accepted")).status_code == 201
    assert p.offer(3_000).status_code == 201
    check(svc, [p])


def test_corrupted_block(make_service: Any) -> None:
    svc: Service = make_service()
    (p,) = parties(svc, 1)
    for which in ("first", "middle"):
        corrupt_and_restore(svc, p, which)


def corrupt_and_restore(svc: Service, p: Any, which: str) -> None:
    from evidence.ipfs import LocalBlockstore

    r = p.upload(pdf(900_000, which.encode()))  # four leaves under one root
    assert r.status_code == 201
    item = r.json()["id"]
    cid = svc.sql("SELECT cid FROM evidence_item WHERE id = :i", i=item)[0][0]
    assert p.upload(pdf(2_000, b"untouched " + which.encode())).status_code == 201
    store = LocalBlockstore(svc.data / "ipfs", fsync=False)
    from evidence.ipfs._dagpb import decode_pbnode

    links = [ln.cid_bytes for ln in decode_pbnode(store.get(cid), max_links=174).links]
    assert len(links) == 4
    damaged = links[0] if which == "first" else links[2]
    path = store.path_of(damaged)
    good = path.read_bytes()
    path.write_bytes(good[:100] + bytes([good[100] ^ 1]) + good[101:])
    with p.http() as h:
        r = h.get(f"/cases/{p.case_id}/evidence/{item}/content", headers=p.headers)
        assert r.status_code == 503, r.text
        assert r.json()["code"] == "corrupt_block"
        assert "corrupted block" in r.json()["detail"], r.text  # names the block
        assert h.get(f"/cases/{p.case_id}/evidence/{item}",
                     headers=p.headers).status_code == 200  # the metadata still answers
    path.write_bytes(good)  # restored from a good copy
    check(svc, [p])
