"""The step store's fast paths give exactly what the general code gives (issue 10).

Each fast path is checked against the path it replaces: the one-block CIDv1 import against
the importer, ``encrypt_bytes`` against ``encrypt_stream``, the reused ephemeral key's
wraps against ``KeyWraps`` (readers of old and new wraps alike), and the blockstore's
write keeps its atomic write, fsync and rename.
"""

from __future__ import annotations

import io
import os
import random
import stat
import threading
from pathlib import Path

import pytest

from backend.services.keys import ServiceKey
from evidence.encryption import (
    EphemeralWrapper,
    KeyWraps,
    decrypt_stream,
    encrypt_bytes,
    encrypt_stream,
    generate_data_key,
    generate_recipient_key,
    public_key_bytes,
)
from evidence.errors import DecryptionError
from evidence.ipfs import CHUNK_SIZE, LocalBlockstore, MemoryBlockstore, add_bytes_text, cat
from evidence.ipfs._cid import cid_text
from evidence.ipfs.unixfs import _import_bytes

SIZES = (0, 1, 15, 16, 17, 4095, 4096, 4097, 3 * 4096, 3 * 4096 + 5)


@pytest.mark.parametrize("size", [0, 1, 3000, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1,
                                  2 * CHUNK_SIZE])
@pytest.mark.parametrize("version", [0, 1])
def test_add_bytes_text_matches_the_importer(size: int, version: int) -> None:
    data = random.Random(size).randbytes(size)
    fast, general = MemoryBlockstore(), MemoryBlockstore()
    cid = add_bytes_text(data, cid_version=version, blockstore=fast)
    expected = cid_text(_import_bytes(data, version, general).finish_raw())
    assert cid == expected
    assert fast.blocks == general.blocks
    assert add_bytes_text(data, cid_version=version) == expected  # no store: CID only


@pytest.mark.parametrize("chunk_size", [16, 4096])
@pytest.mark.parametrize("size", SIZES)
def test_encrypt_bytes_is_encrypt_stream(size: int, chunk_size: int) -> None:
    data = random.Random(size).randbytes(size)
    key, prefix = generate_data_key(), os.urandom(8)
    out = io.BytesIO()
    streamed = encrypt_stream(io.BytesIO(data), out, key, chunk_size, nonce_prefix=prefix,
                              hash_in_thread=False)
    header, container = encrypt_bytes(data, key, chunk_size, nonce_prefix=prefix)
    assert container == out.getvalue()
    assert header == streamed.header
    plain = io.BytesIO()
    decrypt_stream(io.BytesIO(container), plain, key)
    assert plain.getvalue() == data


def test_ephemeral_wrapper_wraps_open_like_keywraps() -> None:
    recipient = generate_recipient_key()
    wrapper = EphemeralWrapper(recipient.public_key())
    key = generate_data_key()
    header, _ = encrypt_bytes(b"a step bundle", key, 4096)
    new = wrapper.wrap(key, header)
    old = KeyWraps.create(key, header, [recipient.public_key()])
    assert new.header_hash == old.header_hash == header.hash
    assert new.recipients() == old.recipients() == (public_key_bytes(recipient),)
    # one format: both go through the same JSON and open with the same reader
    for wraps in (new, old):
        assert KeyWraps.from_json(wraps.to_json()) == wraps
        assert KeyWraps.from_json(wraps.to_json()).unwrap(recipient) == key
    assert new.stanzas[0][32:64] != old.stanzas[0][32:64]  # each its own ephemeral key


def test_ephemeral_key_is_reused_within_its_bounds_only() -> None:
    recipient = generate_recipient_key()
    now = [100.0]
    wrapper = EphemeralWrapper(recipient.public_key(), max_uses=3, max_age=10.0,
                               clock=lambda: now[0])

    def ephemeral_and_sealed() -> tuple[bytes, bytes]:
        key = generate_data_key()
        wraps = wrapper.wrap(key, encrypt_bytes(b"x", key, 4096)[0])
        assert wraps.unwrap(recipient) == key
        return wraps.stanzas[0][32:64], wraps.stanzas[0][64:]

    first = [ephemeral_and_sealed() for _ in range(3)]
    assert len({e for e, _ in first}) == 1  # reused for max_uses wraps
    assert len({s for _, s in first}) == 3  # every container its own kek and ciphertext
    fourth = ephemeral_and_sealed()
    assert fourth[0] != first[0][0]  # max_uses reached: a fresh key
    now[0] += 9.9
    assert ephemeral_and_sealed()[0] == fourth[0]
    now[0] += 0.2
    assert ephemeral_and_sealed()[0] != fourth[0]  # max_age reached: a fresh key


def test_ephemeral_wrapper_refuses_a_key_that_does_not_open_the_header() -> None:
    wrapper = EphemeralWrapper(generate_recipient_key().public_key())
    key = generate_data_key()
    header, _ = encrypt_bytes(b"x", key, 4096)
    with pytest.raises(DecryptionError):
        wrapper.wrap(generate_data_key(), header)
    with pytest.raises(ValueError):
        EphemeralWrapper(public_key_bytes(generate_recipient_key()), max_uses=0)


def test_service_key_reads_old_and_new_wraps() -> None:
    service = ServiceKey.from_institution_key("0x" + "42" * 32)
    key = generate_data_key()
    header, _ = encrypt_bytes(b"confidential offer", key, 4096)
    new = service.wrap(key, header)
    old = KeyWraps.create(key, header, [service.public]).to_json().decode()
    assert service.unwrap(new) == service.unwrap(old) == key
    assert KeyWraps.from_json(new).recipients() == KeyWraps.from_json(old).recipients()
    again = ServiceKey.from_institution_key("0x" + "42" * 32)  # another process: same key
    assert again.public == service.public and again.unwrap(new) == key


def test_service_key_wraps_from_threads_all_open() -> None:
    service = ServiceKey.from_institution_key("0x" + "43" * 32)
    results: list[tuple[bytes, str]] = []

    def work() -> None:
        for _ in range(20):
            key = generate_data_key()
            results.append((key, service.wrap(key, encrypt_bytes(b"x", key, 4096)[0])))

    threads = [threading.Thread(target=work) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(results) == 80
    assert all(service.unwrap(wraps) == key for key, wraps in results)


def test_blockstore_put_writes_fsyncs_and_renames(tmp_path: Path,
                                                  monkeypatch: pytest.MonkeyPatch) -> None:
    calls: list[str] = []
    written: list[bytes] = []
    real_fsync, real_replace = os.fsync, os.replace

    def fsync(fd: int) -> None:
        calls.append("fsync")
        real_fsync(fd)

    def replace(src: str, dst: str) -> None:
        calls.append("replace")
        written.append(Path(src).read_bytes())  # the whole block, before the rename
        assert Path(src).parent == Path(dst).parent
        real_replace(src, dst)

    monkeypatch.setattr(os, "fsync", fsync)
    monkeypatch.setattr(os, "replace", replace)
    store = LocalBlockstore(tmp_path)
    data = random.Random(1).randbytes(3000)
    cid = add_bytes_text(data, cid_version=1, blockstore=store)
    assert calls == ["fsync", "replace"]  # fsync before the rename
    assert b"".join(cat(cid, store)) == data
    path = store.path_of(cid)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600  # as tempfile.mkstemp made it
    assert [p.name for p in path.parent.iterdir()] == [path.name]  # no temporary left
    add_bytes_text(data, cid_version=1, blockstore=store)  # already there: no write
    assert calls == ["fsync", "replace"]
    unsynced = LocalBlockstore(tmp_path / "scratch", fsync=False)
    add_bytes_text(data + b"!", cid_version=1, blockstore=unsynced)
    assert calls == ["fsync", "replace", "replace"]
    assert written == [data, data + b"!"]


def test_blockstore_failed_write_leaves_no_temporary(tmp_path: Path,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    def fail(fd: int) -> None:
        raise OSError("I/O error")

    monkeypatch.setattr(os, "fsync", fail)
    store = LocalBlockstore(tmp_path)
    with pytest.raises(OSError, match="I/O error"):
        add_bytes_text(b"evidence", cid_version=1, blockstore=store)
    monkeypatch.undo()
    assert [p for p in tmp_path.rglob("*") if p.is_file()] == []
    cid = add_bytes_text(b"evidence", cid_version=1, blockstore=store)  # and it can retry
    assert store.get(cid) == b"evidence"


def test_blockstore_puts_of_one_block_from_threads(tmp_path: Path) -> None:
    store = LocalBlockstore(tmp_path)
    data = os.urandom(5000)
    cids: list[str] = []
    threads = [threading.Thread(target=lambda: cids.append(
        add_bytes_text(data, cid_version=1, blockstore=store))) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert len(set(cids)) == 1 and store.get(cids[0]) == data
    assert [p.name for p in store.path_of(cids[0]).parent.iterdir()] == \
        [store.path_of(cids[0]).name]


def test_encrypt_bytes_gives_the_literal_vector() -> None:
    from tests.evidence.test_encryption import VECTOR_CONTAINER, VECTOR_PLAINTEXT

    header, container = encrypt_bytes(VECTOR_PLAINTEXT, bytes(range(32)), 16,
                                      nonce_prefix=bytes(range(8)))
    assert container == VECTOR_CONTAINER
    assert header.to_bytes() == VECTOR_CONTAINER[:54]
