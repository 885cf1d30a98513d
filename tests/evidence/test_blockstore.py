"""Local blockstore: kubo-style layout, atomic writes, and corruption caught on every read."""

from __future__ import annotations

import hashlib
import os
import random
from pathlib import Path

import pytest
from multiformats import CID

from evidence.ipfs import (
    CHUNK_SIZE,
    BlockNotFoundError,
    Blockstore,
    CorruptBlockError,
    KuboBlockstore,
    LocalBlockstore,
    MemoryBlockstore,
    add_bytes,
    add_file,
    cat,
)
from evidence.ipfs._cid import binary_cid, parse_cid
from evidence.ipfs.errors import BlockTooLargeError

HELLO_V0 = "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN"


def test_stores_implement_the_protocol(tmp_path: Path) -> None:
    assert isinstance(LocalBlockstore(tmp_path), Blockstore)
    assert isinstance(MemoryBlockstore(), Blockstore)
    with KuboBlockstore("http://127.0.0.1:1") as kubo:  # no request is made
        assert isinstance(kubo, Blockstore)
        # where put() writes, as an upload's provenance names it
        assert (LocalBlockstore(tmp_path).kind, MemoryBlockstore().kind, kubo.kind) == (
            "LocalBlockstore", "MemoryBlockstore", "KuboBlockstore")


def test_round_trip_and_persistence(tmp_path: Path) -> None:
    data = random.Random(5).randbytes(3 * CHUNK_SIZE + 99)
    root = add_bytes(data, blockstore=LocalBlockstore(tmp_path / "s"))
    again = LocalBlockstore(tmp_path / "s")  # a later process sees what an earlier one did
    assert again.has(root) and again.has(str(root)) and again.has(bytes(root))
    assert b"".join(cat(root, again)) == data
    assert len(list(again.keys())) == 5  # 4 leaves + 1 root
    assert not list((tmp_path / "s").rglob(".tmp-*"))


def test_layout_is_kubo_flatfs(tmp_path: Path) -> None:
    store = LocalBlockstore(tmp_path)
    root = add_bytes(b"hello\n", blockstore=store)
    path = store.path_of(root)
    # kubo: blocks/<next-to-last two chars>/<base32 multihash>.data, "CIQ…" for sha2-256
    assert path.name.startswith("CIQ") and path.suffix == ".data"
    assert path.parent.name == path.stem[-3:-1]
    # the same multihash under CIDv1 dag-pb is the same file (kubo keys by multihash)
    v1 = CID("base32", 1, "dag-pb", parse_cid(root))
    assert store.path_of(v1) == path
    assert store.get(v1) == store.get(root)


def test_put_refuses_bytes_that_do_not_match(tmp_path: Path) -> None:
    store = LocalBlockstore(tmp_path)
    with pytest.raises(CorruptBlockError):
        store.put(HELLO_V0, b"something else")
    assert not store.has(HELLO_V0)


@pytest.mark.parametrize("damage", ["flip", "truncate", "append", "empty", "swap"])
def test_corrupted_block_on_disk_is_detected_on_read(tmp_path: Path, damage: str) -> None:
    store = LocalBlockstore(tmp_path)
    data = random.Random(9).randbytes(2 * CHUNK_SIZE + 1)
    root = add_bytes(data, cid_version=1, blockstore=store)
    leaves = [CID.decode(str(c)) for c in _leaves(store, root)]
    victim = store.path_of(leaves[1])
    raw = bytearray(victim.read_bytes())
    if damage == "flip":
        raw[12345] ^= 0x40
    elif damage == "truncate":
        del raw[-1]
    elif damage == "append":
        raw += b"\n"
    elif damage == "empty":
        raw = bytearray()
    else:  # a valid block, but another one
        raw = bytearray(store.path_of(leaves[0]).read_bytes())
    victim.write_bytes(raw)
    with pytest.raises(CorruptBlockError) as err:
        store.get(leaves[1])
    assert str(leaves[1]) in str(err.value) and str(victim) in str(err.value)
    served = []
    with pytest.raises(CorruptBlockError):
        for piece in cat(root, LocalBlockstore(tmp_path)):
            served.append(piece)
    assert b"".join(served) == data[:CHUNK_SIZE]  # the good block before it, nothing after


def test_put_repairs_a_damaged_copy(tmp_path: Path) -> None:
    store = LocalBlockstore(tmp_path)
    root = add_bytes(b"hello\n", blockstore=store)
    good = store.get(root)
    store.path_of(root).write_bytes(b"rot")
    store.put(root, good)
    assert store.get(root) == good


def _leaves(store: LocalBlockstore, root: CID) -> list[str]:
    from evidence.ipfs._cid import to_cid
    from evidence.ipfs._dagpb import decode_pbnode

    node = decode_pbnode(store.get(root), max_links=200)
    return [str(to_cid(parse_cid(link.cid_bytes))) for link in node.links]


def test_missing_block(tmp_path: Path) -> None:
    store = LocalBlockstore(tmp_path)
    with pytest.raises(BlockNotFoundError, match=HELLO_V0) as err:
        store.get(HELLO_V0)
    assert isinstance(err.value, LookupError)


def test_failed_write_leaves_no_block_and_no_temp_file(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = LocalBlockstore(tmp_path)

    def crash(*_: object) -> None:
        raise OSError("disk full")

    monkeypatch.setattr(os, "replace", crash)
    with pytest.raises(OSError, match="disk full"):
        add_bytes(b"hello\n", blockstore=store)
    monkeypatch.undo()
    assert not store.has(HELLO_V0)
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []


def test_oversized_block_file_is_refused(tmp_path: Path) -> None:
    store = LocalBlockstore(tmp_path)
    raw = binary_cid(1, 0x55, hashlib.sha256(b"x").digest())
    path = store.path_of(raw)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_bytes(bytes(5 * 1024 * 1024))
    with pytest.raises(BlockTooLargeError):
        store.get(raw)


def test_add_file_to_local_store_without_fsync(tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.write_bytes(os.urandom(CHUNK_SIZE * 2))
    store = LocalBlockstore(tmp_path / "s", fsync=False)
    root = add_file(src, cid_version=1, blockstore=store)
    assert b"".join(cat(root, store)) == src.read_bytes()
    store.delete(root)
    assert not store.has(root)
