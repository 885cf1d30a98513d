"""The speed-ups of the verification and ingest paths compute exactly what the general
code (eth_utils, eth_abi, whole-chunk importing) computes: same bytes, same errors."""

from __future__ import annotations

import os
import random
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from eth_abi import encode as abi_encode
from eth_utils import keccak, to_checksum_address
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence._keccak import keccak256
from evidence.errors import FormatError, InvalidAddress, InvalidRecord
from evidence.ipfs.unixfs import CHUNK_SIZE, FileImporter, add_bytes
from evidence.merkle import leaf_hash
from evidence.records import Domain, _eip55, checksum_address
from evidence.verify import hash_file


@settings(max_examples=200, deadline=None)
@given(data=st.binary(max_size=300))
def test_keccak256_is_eth_utils_keccak(data: bytes) -> None:
    assert keccak256(data) == keccak(data)
    assert keccak256(bytearray(data)) == keccak(data)


def test_keccak256_known_vector() -> None:
    # keccak256("") - Ethereum's, not NIST SHA3-256 (a7ffc6f8...)
    assert keccak256(b"").hex() == (
        "c5d2460186f7233c927e7db2dcc703c0e500b653ca82273b7bfad8045d85a470"
    )


@settings(max_examples=300, deadline=None)
@given(raw=st.binary(min_size=20, max_size=20))
def test_eip55_is_eth_utils_checksum(raw: bytes) -> None:
    want = to_checksum_address(raw)
    assert _eip55(raw) == want
    assert _eip55("0x" + raw.hex()) == want
    assert _eip55("0x" + raw.hex().upper()) == want
    assert checksum_address(raw) == want


def test_checksum_address_still_refuses_bad_mixed_case() -> None:
    good = to_checksum_address(bytes.fromhex("ab" * 20))
    i = next(k for k in range(2, 42) if good[k].isupper())
    flipped = good[:i] + good[i].lower() + good[i + 1 :]
    for _ in range(2):  # the cached check refuses it every time
        with pytest.raises(InvalidAddress, match="checksum"):
            checksum_address(flipped)
    assert checksum_address(good.lower()) == good


def _abi_leaf(types: list[str], values: list[object]) -> bytes:
    """The general path, independently: eth_abi then eth_utils' keccak."""
    decoded = [
        bytes.fromhex(v.removeprefix("0x")) if isinstance(v, str) and t.startswith("bytes")
        else int(v, 0) if isinstance(v, str) else v
        for t, v in zip(types, values, strict=True)
    ]
    return keccak(keccak(abi_encode(types, decoded)))


@settings(max_examples=200, deadline=None)
@given(values=st.lists(st.binary(min_size=32, max_size=32), min_size=1, max_size=4),
       upper=st.booleans(), as_bytes=st.booleans())
def test_leaf_hash_bytes32_shortcut_equals_eth_abi(
    values: list[bytes], upper: bool, as_bytes: bool
) -> None:
    enc = ["bytes32"] * len(values)
    hexes: list[object] = ["0x" + (v.hex().upper() if upper else v.hex()) for v in values]
    assert leaf_hash(enc, hexes) == _abi_leaf(enc, hexes)
    if as_bytes:
        assert leaf_hash(enc, list(values)) == _abi_leaf(enc, list(values))
    mixed = ["uint256", *enc[1:]]
    assert leaf_hash(mixed, ["7", *hexes[1:]]) == _abi_leaf(mixed, ["7", *hexes[1:]])


def test_leaf_hash_shortcut_leaves_odd_values_to_eth_abi() -> None:
    word = "0x" + "ab" * 32
    # hex with spaces is fewer than 32 bytes: eth_abi pads it; the shortcut must not
    spaced = "0x" + "ab " * 21 + "a"
    assert len(spaced) == 66
    with pytest.raises(FormatError):  # an odd digit count does not decode at all
        leaf_hash(["bytes32", "bytes32"], [word, spaced])
    spaced_even = "0x" + "ab " * 20 + "abcd"
    assert len(spaced_even) == 66
    assert leaf_hash(["bytes32", "bytes32"], [word, spaced_even]) == _abi_leaf(
        ["bytes32", "bytes32"], [word, spaced_even]
    )
    assert leaf_hash(["bytes32"], [b"\x01"]) == _abi_leaf(["bytes32"], [b"\x01"])
    for bad in ("0x" + "zz" * 32, "0X" + "ab" * 32, 7):
        with pytest.raises(FormatError):
            leaf_hash(["bytes32", "bytes32"], [word, bad])
    with pytest.raises(FormatError, match="2 types but 1 values"):
        leaf_hash(["bytes32", "bytes32"], [word])


def test_parsed_domains_are_shared_and_invalid_ones_still_refused() -> None:
    obj = {"name": "chainarb", "version": "1", "chainId": "31337",
           "verifyingContract": "0x" + "11" * 20}
    a, b = Domain.from_json_obj(dict(obj)), Domain.from_json_obj(dict(obj))
    assert a is b and a == Domain(chain_id=31337, verifying_contract="0x" + "11" * 20)
    assert Domain.from_json_obj({**obj, "chainId": 31337}) == a  # ints are accepted too
    for _ in range(2):  # errors are not cached
        with pytest.raises(InvalidRecord):
            Domain.from_json_obj({**obj, "chainId": "0"})
        with pytest.raises(InvalidRecord):
            Domain.from_json_obj({**obj, "chainId": True})
        with pytest.raises(InvalidRecord):
            Domain.from_json_obj({**obj, "name": "other"})


@pytest.mark.parametrize("version", [0, 1])
@pytest.mark.parametrize("threads", [False, True])
def test_unaligned_writes_give_the_aligned_cid(version: int, threads: bool) -> None:
    rng = random.Random(7 + version)
    executor = ThreadPoolExecutor(2) if threads else None
    try:
        for size in (0, 1, 54, CHUNK_SIZE - 1, CHUNK_SIZE, 3 * CHUNK_SIZE + 5, 2_000_000):
            data = os.urandom(size)
            want = add_bytes(data, cid_version=version)
            imp = FileImporter(cid_version=version, executor=executor)
            # an encrypted container's pieces: 54-byte header, then 1 MiB + 16 chunks
            pieces = [54, 1_048_592, 1, CHUNK_SIZE, CHUNK_SIZE + 16, 600_000]
            i = 0
            while i < size:
                k = rng.choice(pieces)
                buf = bytearray(data[i : i + k])
                imp.write(rng.choice([bytes, bytearray, memoryview])(buf))
                buf[:] = b"\0" * len(buf)  # the caller reuses its buffer after write()
                i += k
            assert imp.finish() == want, size
    finally:
        if executor is not None:
            executor.shutdown()


def test_hash_file_of_a_fifo_streams_everything(tmp_path: Path) -> None:
    """A pipe reports size 0: the one-read shortcut must not stop there."""
    import hashlib
    import threading

    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    data = os.urandom(300_000)

    def feed() -> None:
        with fifo.open("wb") as w:
            for i in range(0, len(data), 70_000):
                w.write(data[i : i + 70_000])

    t = threading.Thread(target=feed)
    t.start()
    seen: list[int] = []
    assert hash_file(fifo, seen.append) == hashlib.sha256(data).digest()
    t.join()
    assert sum(seen) == len(data)


def test_hash_file_errors_are_oserrors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        hash_file(tmp_path / "missing")
    with pytest.raises(IsADirectoryError):
        hash_file(tmp_path)


def test_seal_into_writes_the_bytes_seal_returns() -> None:
    from evidence.encryption import TAG_SIZE, Encryptor, generate_data_key

    key, prefix = generate_data_key(), os.urandom(8)
    a = Encryptor(key, 1000, nonce_prefix=prefix)
    b = Encryptor(key, 1000, nonce_prefix=prefix)
    assert a.header_bytes == b.header_bytes
    out = bytearray(1000 + TAG_SIZE + 5)
    with pytest.raises(ValueError, match="1016 needed"):
        b.seal_into(bytes(1000), False, bytearray(1000))
    for chunk, final in ((os.urandom(1000), False), (os.urandom(1000), False),
                         (os.urandom(7), True)):
        n = b.seal_into(memoryview(chunk), final, out)
        assert bytes(out[:n]) == a.seal(chunk, final)
    for enc in (a, b):  # both refuse a chunk after the final one
        with pytest.raises(FormatError, match="already sealed"):
            enc.seal_into(b"x", True, out)
    with pytest.raises(FormatError, match="exactly 1000"):
        Encryptor(key, 1000).seal_into(bytes(999), False, out)
