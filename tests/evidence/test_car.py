"""CARv1 export/import, both directions against npm @ipld/car, and every malformed shape."""

from __future__ import annotations

import hashlib
import io
import json
import random
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.ipfs import (
    CHUNK_SIZE,
    BlockTooLargeError,
    CorruptBlockError,
    MalformedCarError,
    MemoryBlockstore,
    TruncatedCarError,
    add_bytes,
    add_file,
    cat,
)
from evidence.ipfs._cid import parse_cid
from evidence.ipfs._dagpb import encode_varint
from evidence.ipfs.car import CarReader, encode_header, export_car, import_car

ROOT = Path(__file__).resolve().parents[2]
JS = ROOT / "tests/js"


def node(script: str, *args: str) -> str:
    return subprocess.run(
        ["node", str(JS / script), *args],
        cwd=ROOT, check=True, capture_output=True, text=True, timeout=120,
    ).stdout


def car_of(*payloads: bytes, version: int = 0) -> tuple[bytes, list, MemoryBlockstore]:
    store = MemoryBlockstore()
    roots = [add_bytes(p, cid_version=version, blockstore=store) for p in payloads]
    out = io.BytesIO()
    export_car(roots, store, out)
    return out.getvalue(), roots, store


@pytest.mark.node
@pytest.mark.parametrize("version", [0, 1])
def test_python_car_reads_in_ipld_car_and_rewrites_identically(
    version: int, tmp_path: Path
) -> None:
    rng = random.Random(version)
    payloads = [rng.randbytes(3 * CHUNK_SIZE + 7), b"hello\n", b""]
    car, roots, _ = car_of(*payloads, version=version)
    py_car, js_car = tmp_path / "py.car", tmp_path / "js.car"
    py_car.write_bytes(car)
    seen = json.loads(node("car_read.mjs", str(py_car), "--rewrite", str(js_car)))
    assert seen["roots"] == [str(r) for r in roots]
    digests = [hashlib.sha256(p).hexdigest() for p in payloads]
    assert seen["files"] == {str(r): d for r, d in zip(roots, digests, strict=True)}
    assert len(seen["blocks"]) == (4 + 1) + 1 + 1  # leaves + root, hello, empty
    assert (tmp_path / "js.car").read_bytes() == car  # header and sections byte-identical


@pytest.mark.node
@pytest.mark.parametrize("version", [0, 1])
def test_ipld_car_imports_into_python(version: int, tmp_path: Path) -> None:
    src = tmp_path / "in"
    src.write_bytes(random.Random(11).randbytes(5 * CHUNK_SIZE + 3))
    car_path = tmp_path / "js.car"
    out = json.loads(node("unixfs_import.mjs", str(version), str(src), "--car", str(car_path)))
    store = MemoryBlockstore()
    with open(tmp_path / "js.car", "rb") as f:
        roots = import_car(f, store)
    assert [str(r) for r in roots] == [out["cid"]] == [str(add_file(src, cid_version=version))]
    assert b"".join(cat(roots[0], store)) == src.read_bytes()
    assert len(store.blocks) == 6 + 1


@given(data=st.binary(max_size=2 * CHUNK_SIZE + 10), version=st.sampled_from([0, 1]))
@settings(max_examples=25, deadline=None)
def test_round_trip(data: bytes, version: int) -> None:
    car, roots, store = car_of(data, version=version)
    fresh = MemoryBlockstore()
    assert import_car(io.BytesIO(car), fresh) == roots
    assert fresh.blocks == store.blocks
    assert b"".join(cat(roots[0], fresh)) == data
    again = io.BytesIO()
    export_car(roots, fresh, again)
    assert again.getvalue() == car


def test_header_matches_ipld_car_bytes() -> None:
    root = parse_cid("QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN")
    header = encode_header([root])
    # 0x38 = 56 bytes: {"roots": [tag42(0x00 ‖ CID)], "version": 1} in canonical dag-cbor
    assert header[:10] == bytes.fromhex("38a265726f6f747381d8")
    assert header.endswith(b"\x67version\x01")


# --- malformed input ---------------------------------------------------------------------


def test_truncated_anywhere_is_an_error() -> None:
    car, _, _ = car_of(random.Random(2).randbytes(CHUNK_SIZE + 10))
    section_starts = _section_offsets(car)
    cuts = {1, 5, 30, len(car) - 1, len(car) - 32, *(s + 1 for s in section_starts[:-1])}
    cuts |= {s + 3 for s in section_starts[:-1]}
    for cut in sorted(cuts):
        with pytest.raises(TruncatedCarError):
            import_car(io.BytesIO(car[:cut]), MemoryBlockstore())
    with pytest.raises(TruncatedCarError, match="empty input"):
        import_car(io.BytesIO(b""), MemoryBlockstore())


def _section_offsets(car: bytes) -> list[int]:
    from evidence.ipfs._dagpb import read_varint

    length, pos = read_varint(car, 0)
    pos += length
    offsets = []
    while pos < len(car):
        offsets.append(pos)
        length, pos = read_varint(car, pos)
        pos += length
    return [*offsets, len(car)]


@pytest.mark.parametrize(
    ("trailer", "error"),
    [
        (b"\x00", MalformedCarError),  # zero-length section
        (b"\x05abc", TruncatedCarError),  # section shorter than declared
        (b"\xff", TruncatedCarError),  # half a varint
        (b"\x80\x00", MalformedCarError),  # non-minimal varint
        (b"\x0512345", MalformedCarError),  # "section" whose CID does not parse
    ],
)
def test_trailing_garbage_is_an_error(trailer: bytes, error: type[Exception]) -> None:
    car, _, _ = car_of(b"hello\n")
    with pytest.raises(error):
        import_car(io.BytesIO(car + trailer), MemoryBlockstore())


def _with_header(body: bytes) -> bytes:
    return encode_varint(len(body)) + body


ROOT_CID = parse_cid("QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN")
TAGGED = b"\xd8\x2a\x58\x23\x00" + ROOT_CID


@pytest.mark.parametrize(
    ("header", "match"),
    [
        (b"\x00", "header length 0"),
        (encode_varint(70000) + bytes(10), "header length 70000"),
        (_with_header(b"\xa2\x67version\x01\x65roots\x81" + TAGGED), "CARv1"),
        (_with_header(b"\xa2\x65roots\x81" + TAGGED + b"\x67version\x02"), "version 2"),
        (_with_header(b"\xa2\x65roots\x81" + TAGGED + b"\x67version\x18\x01"), "non-minimal"),
        (_with_header(b"\xa1\x65roots\x81" + TAGGED), "exactly"),
        (_with_header(b"\xa2\x65roots\x81" + TAGGED + b"\x67version\x01\x00"), "trailing"),
        (_with_header(b"\xa2\x65roots\x81\xd8\x2b\x58\x23\x00" + ROOT_CID), "tag 42"),
        (_with_header(b"\xa2\x65roots\x81\xd8\x2a\x58\x23\x01" + ROOT_CID), "0x00"),
        (_with_header(b"\xa2\x65roots\x81\xd8\x2a\x58\x22\x00" + ROOT_CID[:-1]), "truncated"),
        (_with_header(b"\xa2\x65roots\x99\xff\xff" + TAGGED), "limit"),
        (_with_header(b"\xa2\x65roots\x82" + TAGGED), "ends early"),
        (_with_header(b"\x0a\xa1\x67version\x02"), "map"),  # CARv2 pragma
    ],
)
def test_malformed_headers(header: bytes, match: str) -> None:
    with pytest.raises(MalformedCarError, match=match):
        CarReader(io.BytesIO(header))


def test_tampered_block_in_car_is_rejected() -> None:
    car, _, _ = car_of(random.Random(4).randbytes(CHUNK_SIZE + 5), version=1)
    tampered = bytearray(car)
    tampered[-10] ^= 1
    store = MemoryBlockstore()
    with pytest.raises(CorruptBlockError, match="CAR section 3"):
        import_car(io.BytesIO(bytes(tampered)), store)


def test_oversized_section_is_refused_before_reading() -> None:
    car, _, _ = car_of(b"hello\n")
    header_len = _section_offsets(car)[0]
    huge = car[:header_len] + encode_varint(3 * 1024 * 1024) + b"x" * 10

    class NoBigReads(io.BytesIO):
        def read(self, n: int | None = -1) -> bytes:
            assert n is not None and 0 <= n <= 1 << 16, f"unbounded read of {n}"
            return super().read(n)

    with pytest.raises(BlockTooLargeError, match="declares 3145728"):
        import_car(NoBigReads(huge), MemoryBlockstore())
    with pytest.raises(BlockTooLargeError):
        import_car(io.BytesIO(car), MemoryBlockstore(), max_block_size=5)


def test_export_refuses_a_corrupted_store() -> None:
    store = MemoryBlockstore()
    root = add_bytes(random.Random(8).randbytes(CHUNK_SIZE * 2), blockstore=store)
    victim = next(k for k in store.blocks if k != parse_cid(root))
    store.blocks[victim] = b"rot"
    with pytest.raises(CorruptBlockError):
        export_car([root], store, io.BytesIO())
    with pytest.raises(ValueError, match="at least one root"):
        export_car([], store, io.BytesIO())
