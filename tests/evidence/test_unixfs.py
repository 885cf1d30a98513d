"""UnixFS importer/exporter: kubo's vectors, the npm importer, and a hostile exporter input."""

from __future__ import annotations

import hashlib
import io
import itertools
import json
import random
import subprocess
import sys
import textwrap
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from multiformats import CID

from evidence.errors import EvidenceError, FormatError, TamperedError
from evidence.ipfs import (
    CHUNK_SIZE,
    BlockNotFoundError,
    BlockTooLargeError,
    CorruptBlockError,
    FileImporter,
    IpfsError,
    LimitExceededError,
    MalformedBlockError,
    MalformedCidError,
    MemoryBlockstore,
    UnsupportedCidError,
    add_bytes,
    add_file,
    cat,
)
from evidence.ipfs._cid import binary_cid, parse_cid
from evidence.ipfs._dagpb import (
    UNIXFS_DIRECTORY,
    UNIXFS_FILE,
    decode_pbnode,
    decode_unixfs,
    encode_pblink,
    encode_pbnode,
    encode_unixfs,
    encode_varint,
    read_varint,
)

ROOT = Path(__file__).resolve().parents[2]
VECTORS = json.loads((ROOT / "tests/vectors/kubo_cids.json").read_text())["vectors"]
IMPORT_JS = ROOT / "tests/js/unixfs_import.mjs"


def vector_input(v: dict) -> bytes:
    if "input_hex" in v:
        return bytes.fromhex(v["input_hex"])
    assert v["input_pattern"] == {"length": 1000000, "byte_i": "i % 251"}
    return bytes(i % 251 for i in range(1_000_000))


def npm_cids(version: int, files: Sequence[Path | str]) -> list[str]:
    out = subprocess.run(
        ["node", str(IMPORT_JS), str(version), *map(str, files)],
        cwd=ROOT, check=True, capture_output=True, text=True, timeout=300,
    ).stdout
    return [json.loads(line)["cid"] for line in out.splitlines()]


class ShortReads(io.RawIOBase):
    """A pipe-like stream that returns at most `step` bytes per read."""

    def __init__(self, data: bytes, step: int) -> None:
        self._data = memoryview(data)
        self._pos = 0
        self._step = step

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        take = self._step if n < 0 else min(n, self._step)
        chunk = bytes(self._data[self._pos : self._pos + take])
        self._pos += len(chunk)
        return chunk


# --- kubo vectors --------------------------------------------------------------------------


@pytest.mark.parametrize("vector", VECTORS, ids=[v["name"] for v in VECTORS])
@pytest.mark.parametrize("version", [0, 1])
def test_add_matches_kubo_vectors(vector: dict, version: int, tmp_path: Path) -> None:
    data = vector_input(vector)
    expected = vector[f"cid_v{version}"]
    path = tmp_path / "f"
    path.write_bytes(data)
    assert str(add_bytes(data, cid_version=version)) == expected
    assert str(add_file(path, cid_version=version)) == expected
    assert str(add_file(ShortReads(data, 9999), cid_version=version)) == expected  # type: ignore[arg-type]
    store = MemoryBlockstore()
    root = add_file(io.BytesIO(data), cid_version=version, blockstore=store)
    assert str(root) == expected
    assert b"".join(cat(expected, store)) == data


def test_vector_cids_are_what_kubo_prints() -> None:
    v0 = add_bytes(b"hello\n")
    v1 = add_bytes(b"hello\n", cid_version=1)
    assert isinstance(v0, CID)
    assert (v0.version, v0.codec.name) == (0, "dag-pb")
    assert (v1.version, v1.codec.name, str(v1)[:4]) == (1, "raw", "bafk")
    big = add_bytes(vector_input(VECTORS[2]), cid_version=1)
    assert (big.codec.name, str(big)[:4]) == ("dag-pb", "bafy")


@given(data=st.binary(max_size=3000), cuts=st.lists(st.integers(0, 3000), max_size=8))
@settings(max_examples=50, deadline=None)
def test_writes_in_any_pieces_give_the_same_cid(data: bytes, cuts: list[int]) -> None:
    for version in (0, 1):
        importer = FileImporter(cid_version=version)
        bounds = sorted({0, len(data), *(c for c in cuts if c <= len(data))})
        for a, b in itertools.pairwise(bounds):
            importer.write(data[a:b])
        assert importer.finish() == add_bytes(data, cid_version=version)


def test_pieces_across_chunk_boundaries() -> None:
    rng = random.Random(7)
    data = rng.randbytes(3 * CHUNK_SIZE + 5)
    importer = FileImporter(cid_version=0)
    pos = 0
    while pos < len(data):
        step = rng.choice([1, 1000, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 3])
        importer.write(data[pos : pos + step])
        pos += step
    assert importer.size == len(data)
    assert importer.finish() == add_bytes(data)
    with pytest.raises(RuntimeError):
        importer.write(b"x")


def test_parallel_hashing_gives_the_same_cids_and_blocks() -> None:
    rng = random.Random(12)
    with ThreadPoolExecutor(2) as pool:
        for size in (0, 5, CHUNK_SIZE, 9 * CHUNK_SIZE + 3):
            data = rng.randbytes(size)
            for version in (0, 1):
                serial, parallel = MemoryBlockstore(), MemoryBlockstore()
                importer = FileImporter(
                    cid_version=version, blockstore=parallel, executor=pool, max_pending=2
                )
                buffer = bytearray(CHUNK_SIZE)  # reused between writes, as a reader loop would
                for start in range(0, size, CHUNK_SIZE):
                    piece = data[start : start + CHUNK_SIZE]
                    buffer[: len(piece)] = piece
                    importer.write(memoryview(buffer)[: len(piece)])
                expected = add_bytes(data, cid_version=version, blockstore=serial)
                assert importer.finish() == expected
                assert parallel.blocks == serial.blocks


# --- against the npm importer -------------------------------------------------------------

EDGE_SIZES = [0, 1, CHUNK_SIZE - 1, CHUNK_SIZE, CHUNK_SIZE + 1, 2 * CHUNK_SIZE, 5 * CHUNK_SIZE + 17]


@pytest.mark.node
def test_random_sizes_match_npm_importer(tmp_path: Path) -> None:
    rng = random.Random(2026)
    sizes = EDGE_SIZES + [rng.randrange(0, 12 * CHUNK_SIZE) for _ in range(12)]
    files = []
    for i, size in enumerate(sizes):
        path = tmp_path / f"in{i}"
        path.write_bytes(rng.randbytes(size))
        files.append(path)
    for version in (0, 1):
        ours = [str(add_file(p, cid_version=version)) for p in files]
        assert ours == npm_cids(version, files), f"CIDv{version} differs for sizes {sizes}"


@pytest.mark.node
@pytest.mark.slow
def test_tree_deeper_than_one_level_matches_npm_importer(tmp_path: Path) -> None:
    """178 chunks (~46.7 MB): the root has two children, the first with 174 leaves."""
    size = 177 * CHUNK_SIZE + 12_345
    path = tmp_path / "deep"
    rng = random.Random(174)
    with open(path, "wb") as f:
        for _ in range(178):
            f.write(rng.randbytes(CHUNK_SIZE))
        f.truncate(size)
    store = MemoryBlockstore()
    ours = {v: add_file(path, cid_version=v, blockstore=store) for v in (0, 1)}
    assert [str(ours[0]), str(ours[1])] == [npm_cids(0, [path])[0], npm_cids(1, [path])[0]]
    for version, root in ours.items():
        node = decode_pbnode(store.get(root), max_links=200)
        fs = decode_unixfs(node.data or b"", max_blocksizes=200)
        assert len(node.links) == 2
        assert fs.blocksizes == (174 * CHUNK_SIZE, 3 * CHUNK_SIZE + 12_345)
        first = decode_pbnode(store.get(parse_cid(node.links[0].cid_bytes)), max_links=200)
        assert len(first.links) == 174, version
        digest = hashlib.sha256()
        for piece in cat(root, store):
            digest.update(piece)
        assert digest.digest() == hashlib.sha256(path.read_bytes()).digest()


@pytest.mark.node
def test_small_chunks_and_fanout_build_the_same_deep_trees_as_npm(tmp_path: Path) -> None:
    """Chunks of 7 bytes and 3 links per node: up to 6 levels for a few hundred bytes, so the
    level-by-level grouping (including lone last nodes) is checked at every height."""
    rng = random.Random(3)
    sizes = [0, 6, 7, 8, 21, 22, 63, 64, 189, 190, 567, 568, 1700, *rng.sample(range(1, 2000), 10)]
    files = []
    for i, size in enumerate(sizes):
        path = tmp_path / f"s{i}"
        path.write_bytes(rng.randbytes(size))
        files.append(path)
    for version in (0, 1):
        ours = []
        for path in files:
            importer = FileImporter(cid_version=version, chunk_size=7, max_links=3)
            importer.write(path.read_bytes())
            ours.append(str(importer.finish()))
        theirs = npm_cids(version, [*files, "--chunk-size", "7", "--max-children", "3"])
        assert ours == theirs, f"CIDv{version} differs for sizes {sizes}"


def test_parents_group_level_by_level() -> None:
    """3 links per node, 10 leaves: [[3][3][3]] and a lone leaf lifted by parents of one."""
    store = MemoryBlockstore()
    importer = FileImporter(cid_version=1, blockstore=store, chunk_size=1, max_links=3)
    importer.write(bytes(range(10)))
    root = importer.finish()
    top = decode_pbnode(store.get(root), max_links=3)
    assert len(top.links) == 2
    lone = decode_pbnode(store.get(parse_cid(top.links[1].cid_bytes)), max_links=3)
    assert len(lone.links) == 1
    assert b"".join(cat(root, store)) == bytes(range(10))


# --- constant memory ----------------------------------------------------------------------

RSS_SCRIPT = textwrap.dedent(
    """
    import io, os, sys, time
    from evidence.ipfs import add_file

    def hwm():
        for line in open("/proc/self/status"):
            if line.startswith("VmHWM:"):
                return int(line.split()[1]) * 1024
        raise SystemExit("no VmHWM")

    class Generated(io.RawIOBase):
        '''2 GiB of generated bytes, served in odd-sized reads.'''
        def __init__(self, total):
            self.left = total
            self.blocks = [os.urandom(100_003) for _ in range(4)]
            self.i = 0
        def readable(self):
            return True
        def read(self, n=-1):
            block = self.blocks[self.i % 4]
            self.i += 1
            take = min(len(block), self.left, n if n >= 0 else len(block))
            self.left -= take
            return block[:take]

    version = int(sys.argv[1])
    add_file(Generated(10 * 262144), cid_version=version)  # warm up imports and caches
    before = hwm()
    t = time.perf_counter()
    cid = add_file(Generated(2 * 1024**3), cid_version=version)
    print(cid, hwm() - before, time.perf_counter() - t)
    """
)


@pytest.mark.slow
@pytest.mark.parametrize("version", [0, 1])
def test_two_gib_stream_in_constant_memory(version: int) -> None:
    out = subprocess.run(
        [sys.executable, "-c", RSS_SCRIPT, str(version)],
        check=True, capture_output=True, text=True, timeout=300,
    ).stdout.split()
    cid, growth, seconds = out[0], int(out[1]), float(out[2])
    assert cid.startswith("Qm" if version == 0 else "bafybei")
    assert growth < 16 * 1024 * 1024, f"peak RSS grew by {growth} bytes over 2 GiB"
    print(f"2 GiB CIDv{version}: {seconds:.1f} s, peak RSS growth {growth / 1e6:.1f} MB")


# --- exporter against hostile DAGs -------------------------------------------------------


def put_node(store: MemoryBlockstore, block: bytes, version: int = 0) -> bytes:
    raw = binary_cid(version, 0x70, hashlib.sha256(block).digest())
    store.put(raw, block)
    return raw


def file_node(children: list[tuple[bytes, int, int]]) -> bytes:
    links = [encode_pblink(c, t) for c, t, _ in children]
    sizes = tuple(s for _, _, s in children)
    return encode_pbnode(links, encode_unixfs(UNIXFS_FILE, filesize=sum(sizes), blocksizes=sizes))


def test_corrupted_leaf_is_reported_never_served() -> None:
    store = MemoryBlockstore()
    data = random.Random(1).randbytes(3 * CHUNK_SIZE)
    root = add_bytes(data, blockstore=store)
    leaf = parse_cid(decode_pbnode(store.get(root), max_links=10).links[1].cid_bytes)
    bad = bytearray(store.blocks[leaf])
    bad[100] ^= 1
    store.blocks[leaf] = bytes(bad)
    served = []
    with pytest.raises(CorruptBlockError) as err:
        for piece in cat(root, store):
            served.append(piece)
    assert served == [data[:CHUNK_SIZE]]
    assert str(CID.decode(str(err.value.cid))) in str(err.value)


def test_missing_block() -> None:
    store = MemoryBlockstore()
    root = add_bytes(b"x" * (CHUNK_SIZE + 1), blockstore=store)
    leaf = parse_cid(decode_pbnode(store.get(root), max_links=10).links[1].cid_bytes)
    del store.blocks[leaf]
    with pytest.raises(BlockNotFoundError):
        b"".join(cat(root, store))


def test_blocksizes_that_lie_are_rejected() -> None:
    store = MemoryBlockstore()
    leaf = add_bytes(b"abcde", blockstore=store)
    raw_leaf = parse_cid(leaf)
    lying = encode_pbnode(
        [encode_pblink(raw_leaf, 20)], encode_unixfs(UNIXFS_FILE, filesize=10, blocksizes=(10,))
    )
    with pytest.raises(MalformedBlockError, match="blocksizes say 10"):
        b"".join(cat(put_node(store, lying), store))
    bad_total = encode_pbnode(
        [encode_pblink(raw_leaf, 20)], encode_unixfs(UNIXFS_FILE, filesize=99, blocksizes=(5,))
    )
    with pytest.raises(MalformedBlockError, match="filesize 99"):
        b"".join(cat(put_node(store, bad_total), store))


def test_depth_bomb_is_bounded() -> None:
    store = MemoryBlockstore()
    raw = parse_cid(add_bytes(b"z", cid_version=1, blockstore=store))
    for _ in range(10):
        raw = put_node(store, file_node([(raw, 1, 1)]), version=1)
    assert b"".join(cat(raw, store)) == b"z"
    with pytest.raises(LimitExceededError, match="deeper than 5"):
        b"".join(cat(raw, store, max_depth=5))


def test_link_count_block_size_and_total_size_are_bounded() -> None:
    store = MemoryBlockstore()
    leaf = parse_cid(add_bytes(b"q", cid_version=1, blockstore=store))
    wide = put_node(store, file_node([(leaf, 1, 1)] * 300))
    assert b"".join(cat(wide, store)) == b"q" * 300
    with pytest.raises(LimitExceededError, match="more than 100 links"):
        b"".join(cat(wide, store, max_links=100))
    with pytest.raises(BlockTooLargeError):
        b"".join(cat(wide, store, max_block_size=1000))
    with pytest.raises(LimitExceededError, match="max_size"):
        b"".join(cat(wide, store, max_size=299))


def test_directories_and_non_canonical_nodes_are_rejected() -> None:
    store = MemoryBlockstore()
    directory = put_node(store, encode_pbnode([], encode_unixfs(UNIXFS_DIRECTORY)))
    with pytest.raises(MalformedBlockError, match="type 1"):
        b"".join(cat(directory, store))
    leaf = parse_cid(add_bytes(b"q", cid_version=1, blockstore=store))
    good = file_node([(leaf, 1, 1)])
    link = encode_pblink(leaf, 1)
    data = encode_unixfs(UNIXFS_FILE, filesize=1, blocksizes=(1,))
    data_first = (
        b"\x0a" + encode_varint(len(data)) + data + b"\x12" + encode_varint(len(link)) + link
    )
    assert sorted(data_first) == sorted(good)
    with pytest.raises(MalformedBlockError, match="Links after Data"):
        b"".join(cat(put_node(store, data_first), store))
    unknown_field = good + b"\x18\x01"
    with pytest.raises(MalformedBlockError, match="unexpected PBNode field 3"):
        b"".join(cat(put_node(store, unknown_field), store))
    truncated = good[:-3]
    with pytest.raises(MalformedBlockError):
        b"".join(cat(put_node(store, truncated), store))
    no_data = put_node(store, encode_pbnode([link], None))
    with pytest.raises(MalformedBlockError, match="no UnixFS Data"):
        b"".join(cat(no_data, store))


@pytest.mark.parametrize(
    ("value", "error"),
    [
        ("", MalformedCidError),
        ("Qm123", MalformedCidError),
        ("QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXE0", MalformedCidError),  # not base58
        ("QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXE", MalformedCidError),  # 33 bytes
        ("bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6a", MalformedCidError),
        ("not a cid at all", MalformedCidError),
        ("bafkreicysg23kiwv34eg2d7qweipxwosdo2py4ldv42nbauguluen5v6am\x00", MalformedCidError),
        (b"\x12\x20" + bytes(31), MalformedCidError),  # truncated v0
        (b"\x12\x20" + bytes(33), MalformedCidError),  # trailing byte
        (b"\x02\x55\x12\x20" + bytes(32), MalformedCidError),  # version 2
        (b"\x01\xd5\x00\x12\x20" + bytes(32), MalformedCidError),  # non-minimal varint
        (b"\x01\x55\x13\x40" + bytes(64), UnsupportedCidError),  # sha2-512
        (b"\x01\x55\x00\x03abc", UnsupportedCidError),  # identity
        (b"\x01\x71\x12\x20" + bytes(32), UnsupportedCidError),  # dag-cbor
        (12345, MalformedCidError),
    ],
)
def test_malformed_and_unsupported_cids(value: object, error: type[IpfsError]) -> None:
    with pytest.raises(error):
        parse_cid(value)  # type: ignore[arg-type]
    with pytest.raises(error):
        next(cat(value, MemoryBlockstore()))  # type: ignore[arg-type]


def test_varints_are_minimal_and_bounded() -> None:
    assert read_varint(b"\xac\x02", 0) == (300, 2)
    assert encode_varint(300) == b"\xac\x02"
    two_to_the_63 = b"\x80" * 9 + b"\x01"
    for bad in (b"\x80\x00", b"\xff" * 10 + b"\x01", b"\x80", two_to_the_63):
        with pytest.raises(MalformedBlockError):
            read_varint(bad, 0)


@given(
    links=st.lists(
        st.tuples(st.binary(min_size=34, max_size=34), st.integers(0, 2**40)), max_size=5
    ),
    data=st.one_of(st.none(), st.binary(max_size=50)),
)
def test_pbnode_round_trip(links: list[tuple[bytes, int]], data: bytes | None) -> None:
    encoded = encode_pbnode([encode_pblink(c, t) for c, t in links], data)
    node = decode_pbnode(encoded, max_links=10)
    assert [(link.cid_bytes, link.tsize, link.name) for link in node.links] == [
        (c, t, b"") for c, t in links
    ]
    assert node.data == data


def test_errors_fit_the_library_hierarchy() -> None:
    with pytest.raises(TypeError):
        IpfsError("x")
    assert issubclass(IpfsError, EvidenceError)
    assert issubclass(BlockNotFoundError, LookupError)
    assert issubclass(MalformedCidError, FormatError) and issubclass(MalformedCidError, ValueError)
    assert issubclass(CorruptBlockError, TamperedError)
    classes = (IpfsError, MalformedCidError, CorruptBlockError, BlockNotFoundError)
    assert len({cls.code for cls in classes}) == len(classes)


@pytest.mark.parametrize("version", [0, 1])
@pytest.mark.parametrize("size", [0, 1, 3_000, 262_144, 262_145, 3 * 262_144 + 17])
def test_add_bytes_text_is_the_cid_text_of_add_bytes(version: int, size: int) -> None:
    """The service's fast path (no multiformats CID object) names the same root and
    stores the same blocks as ``add_bytes``."""
    from evidence.ipfs import MemoryBlockstore, add_bytes, add_bytes_text
    from evidence.ipfs._cid import cid_text, parse_cid

    data = bytes((i * 7 + size) % 251 for i in range(size))
    slow, fast = MemoryBlockstore(), MemoryBlockstore()
    cid = add_bytes(data, cid_version=version, blockstore=slow)
    text = add_bytes_text(data, cid_version=version, blockstore=fast)
    assert text == str(cid)
    assert cid_text(parse_cid(text)) == text
    assert fast.blocks == slow.blocks
