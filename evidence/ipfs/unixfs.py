"""UnixFS files: an importer whose CIDs equal kubo's `ipfs add`, and a verifying exporter.

Theory of operation (see docs/evidence-ipfs.md for the byte layout):
- Input is cut into chunks of 262,144 bytes (kubo's `size-262144`); only the last chunk
  may be shorter. An empty input is one empty chunk.
- CIDv0 (`ipfs add`): each chunk is a dag-pb leaf holding UnixFS{Type=File, Data=chunk,
  filesize}. CIDv1 (`ipfs add --cid-version=1`, which turns on raw leaves): each chunk is
  a raw block.
- Balanced layout: consecutive nodes are grouped by 174 under a parent, level by level,
  until one node remains. A parent is dag-pb: one link per child (empty Name, Tsize = the
  child's block plus all blocks below it), then UnixFS{Type=File, filesize, blocksizes =
  each child's content length}. A file of one chunk is its own root (no parent).
- The importer keeps one pending list per tree level, so memory is at most
  174 links x depth (~8 KB per level), whatever the input size.

The exporter walks the DAG depth first and checks, for every block: its hash against the
CID, its size, its links count, the depth, and that each child yields exactly the bytes
its parent's `blocksizes` promised. Nothing is yielded before its block has been checked.
"""

from __future__ import annotations

import hashlib
import os
from collections import deque
from collections.abc import Iterator
from concurrent.futures import Executor, Future
from typing import BinaryIO

from multiformats import CID

from evidence.ipfs._cid import (
    CODEC_DAG_PB,
    CODEC_RAW,
    CidLike,
    binary_cid,
    check_block,
    cid_codec,
    cid_text,
    parse_cid,
    to_cid,
    to_display,
)
from evidence.ipfs._dagpb import (
    UNIXFS_FILE,
    UNIXFS_RAW,
    decode_pbnode,
    decode_unixfs,
    encode_pblink,
    encode_pbnode,
    encode_unixfs,
    unixfs_leaf_prefix,
)
from evidence.ipfs.blockstore import Blockstore
from evidence.ipfs.errors import (
    BlockTooLargeError,
    LimitExceededError,
    MalformedBlockError,
    MalformedCidError,
    UnsupportedCidError,
)

__all__ = [
    "CHUNK_SIZE",
    "MAX_BLOCK_SIZE",
    "MAX_DEPTH",
    "MAX_LINKS",
    "MAX_READ_LINKS",
    "FileImporter",
    "add_bytes",
    "add_bytes_text",
    "add_file",
    "cat",
]

CHUNK_SIZE = 262_144
"""kubo's default chunker, `size-262144`."""
MAX_LINKS = 174
"""kubo's balanced layout: at most 174 links per node (fills a 256 KiB block)."""

MAX_BLOCK_SIZE = 2 * 1024 * 1024
"""Largest block the exporter and CAR reader accept (the IPFS network limit is 2 MiB)."""
MAX_READ_LINKS = 8192
"""Most links the exporter accepts in one node (other importers use up to 1024)."""
MAX_DEPTH = 32
"""Deepest DAG the exporter follows; 174**4 chunks of 256 KiB already exceed 200 TB."""

_READ_SIZE = CHUNK_SIZE

_Leaf = tuple[bytes, int, int, bytes | None]
"""(binary CID, tsize, content size, block to store or None)"""


class FileImporter:
    """Incremental importer: `write()` bytes in any pieces, then `finish()` for the CID.

    Use it when the bytes pass through other work (encryption, upload) so that the file
    is read only once. With `blockstore=None` it only computes the CID.

    With an `executor` (e.g. a ThreadPoolExecutor; hashlib releases the GIL on large
    buffers) leaves are hashed in parallel, at most `max_pending` chunks ahead; blocks are
    still stored and linked in file order, so the CID is the same.
    """

    __slots__ = (
        "_blockstore",
        "_buffer",
        "_chunk",
        "_done",
        "_executor",
        "_fill",
        "_full_prefix",
        "_leaves",
        "_levels",
        "_max_links",
        "_max_pending",
        "_pending",
        "_size",
        "_version",
    )

    def __init__(
        self,
        *,
        cid_version: int = 0,
        blockstore: Blockstore | None = None,
        max_links: int = MAX_LINKS,
        chunk_size: int = CHUNK_SIZE,
        executor: Executor | None = None,
        max_pending: int = 8,
    ) -> None:
        if not 1 <= chunk_size <= MAX_BLOCK_SIZE // 2:
            raise ValueError(f"chunk_size must be in 1..{MAX_BLOCK_SIZE // 2}, found {chunk_size}")
        if cid_version not in (0, 1):
            raise ValueError(f"cid_version must be 0 or 1, found {cid_version!r}")
        if not 2 <= max_links <= MAX_READ_LINKS:
            raise ValueError(f"max_links must be in 2..{MAX_READ_LINKS}, found {max_links}")
        self._version = cid_version
        self._blockstore = blockstore
        self._max_links = max_links
        self._buffer = bytearray()  # one chunk, allocated when a piece is not aligned
        self._fill = 0  # bytes of the pending chunk in _buffer
        # levels[i]: pending (binary CID, tsize, content size) of nodes at height i
        self._levels: list[list[tuple[bytes, int, int]]] = [[]]
        self._leaves = 0
        self._size = 0
        self._done = False
        self._chunk = chunk_size
        self._executor = executor
        self._max_pending = max(1, max_pending)
        self._pending: deque[Future[_Leaf]] = deque()
        self._full_prefix = unixfs_leaf_prefix(chunk_size)

    @property
    def size(self) -> int:
        """Bytes written so far."""
        return self._size

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Feed the next bytes of the file."""
        if self._done:
            raise RuntimeError("FileImporter.write() after finish()")
        n = len(data)
        self._size += n
        size = self._chunk
        if not self._fill and n == size:  # the common case: whole chunks, no copy
            self._leaf(data)
            return
        # Pieces that are not chunk-aligned (an encrypted container: a 54-byte header,
        # then chunks of 1 MiB + tag): only the bytes that complete the pending chunk and
        # the tail are copied, into one reused buffer; the whole chunks in between are
        # hashed in place.
        view = memoryview(data)
        start = 0
        if self._fill:
            start = min(size - self._fill, n)
            self._buffer[self._fill : self._fill + start] = view[:start]
            self._fill += start
            if self._fill < size:
                return
            self._leaf(self._buffer)  # hashed now, or copied if an executor hashes it
            self._fill = 0
        while n - start >= size:
            self._leaf(view[start : start + size])
            start += size
        if start < n:
            if not self._buffer:
                self._buffer = bytearray(size)
            self._buffer[: n - start] = view[start:]
            self._fill = n - start

    def finish(self) -> CID:
        """Flush the last chunk and the pending parents; return the root CID."""
        return to_cid(self.finish_raw())

    def finish_raw(self) -> bytes:
        """``finish`` returning the binary root CID (no ``CID`` object: building one
        costs more than hashing a small file)."""
        if self._done:
            raise RuntimeError("FileImporter.finish() called twice")
        self._done = True
        if self._fill or self._leaves == 0:
            self._leaf(bytes(self._buffer[: self._fill]))
            self._buffer = bytearray()
            self._fill = 0
        while self._pending:
            self._accept(self._pending.popleft().result())
        if self._leaves == 1:  # a single-chunk file is its own root
            return self._levels[0][0][0]
        height = 0
        while True:
            pending = self._levels[height]
            above = any(self._levels[height + 1 :])
            if not above and len(pending) == 1:
                return pending[0][0]
            if pending:
                self._parent(height)
            height += 1

    # -- internals --------------------------------------------------------------------

    def _leaf(self, chunk: bytes | bytearray | memoryview) -> None:
        self._leaves += 1
        if self._executor is None:
            self._accept(self._make_leaf(chunk))
            return
        if not isinstance(chunk, bytes):  # the caller may reuse its buffer after write()
            chunk = bytes(chunk)
        self._pending.append(self._executor.submit(self._make_leaf, chunk))
        if len(self._pending) > self._max_pending:
            self._accept(self._pending.popleft().result())

    def _make_leaf(self, chunk: bytes | bytearray | memoryview) -> _Leaf:
        """Hash one chunk; pure, so it may run in another thread."""
        n = len(chunk)
        keep = self._blockstore is not None
        if self._version == 1:
            digest = hashlib.sha256(chunk).digest()
            return binary_cid(1, CODEC_RAW, digest), n, n, bytes(chunk) if keep else None
        prefix, suffix = self._full_prefix if n == self._chunk else unixfs_leaf_prefix(n)
        tsize = len(prefix) + n + len(suffix)
        if keep:
            block = b"".join((prefix, chunk, suffix))
            digest = hashlib.sha256(block).digest()
            return binary_cid(0, CODEC_DAG_PB, digest), tsize, n, block
        h = hashlib.sha256(prefix)
        h.update(chunk)
        h.update(suffix)
        return binary_cid(0, CODEC_DAG_PB, h.digest()), tsize, n, None

    def _accept(self, leaf: _Leaf) -> None:
        raw_cid, tsize, n, block = leaf
        if self._blockstore is not None and block is not None:
            self._blockstore.put(raw_cid, block, trusted=True)
        self._push(0, (raw_cid, tsize, n))

    def _push(self, height: int, entry: tuple[bytes, int, int]) -> None:
        level = self._levels[height]
        level.append(entry)
        if len(level) == self._max_links:
            self._parent(height)

    def _parent(self, height: int) -> None:
        children = self._levels[height]
        self._levels[height] = []
        if len(self._levels) == height + 1:
            self._levels.append([])
        links = [encode_pblink(c, tsize) for c, tsize, _ in children]
        filesize = sum(size for _, _, size in children)
        data = encode_unixfs(
            UNIXFS_FILE, filesize=filesize, blocksizes=tuple(size for _, _, size in children)
        )
        block = encode_pbnode(links, data)
        raw_cid = binary_cid(self._version, CODEC_DAG_PB, hashlib.sha256(block).digest())
        if self._blockstore is not None:
            self._blockstore.put(raw_cid, block, trusted=True)
        tsize = len(block) + sum(t for _, t, _ in children)
        self._push(height + 1, (raw_cid, tsize, filesize))


def _read_full(stream: BinaryIO, n: int) -> bytes:
    """Read exactly n bytes unless EOF: pipes and sockets return short reads, and a short
    chunk in the middle of a file would change every CID after it."""
    data = stream.read(n)
    if len(data) == n or not data:
        return data
    parts = [data]
    got = len(data)
    while got < n:
        more = stream.read(n - got)
        if not more:
            break
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def add_file(
    source: str | os.PathLike[str] | BinaryIO,
    *,
    cid_version: int = 0,
    blockstore: Blockstore | None = None,
) -> CID:
    """CID of a file as kubo's `ipfs add` [--cid-version=1] computes it, in constant memory.

    Args:
        source: a path, or a binary stream read to its end (not closed).
        cid_version: 0 = `ipfs add` default (dag-pb leaves), 1 = raw leaves.
        blockstore: where to store the blocks; None computes the CID only.
    """
    importer = FileImporter(cid_version=cid_version, blockstore=blockstore)
    if isinstance(source, str | os.PathLike):
        with open(source, "rb", buffering=0) as stream:
            _pump(stream, importer)
    else:
        _pump(source, importer)
    return importer.finish()


def _pump(stream: BinaryIO, importer: FileImporter) -> None:
    while True:
        chunk = _read_full(stream, _READ_SIZE)
        if not chunk:
            return
        importer.write(chunk)


def add_bytes(
    data: bytes, *, cid_version: int = 0, blockstore: Blockstore | None = None
) -> CID:
    """`add_file` for bytes already in memory."""
    return _import_bytes(data, cid_version, blockstore).finish()


def add_bytes_text(
    data: bytes, *, cid_version: int = 0, blockstore: Blockstore | None = None
) -> str:
    """``str(add_bytes(...))``, cheaper (see ``cid_text``): for the service's hot path.

    A CIDv1 file of one chunk is one raw block, its own root: hashed and stored here
    without an importer (the same CID and block as the importer's, tested)."""
    if cid_version == 1 and len(data) <= CHUNK_SIZE:
        raw = binary_cid(1, CODEC_RAW, hashlib.sha256(data).digest())
        if blockstore is not None:
            blockstore.put(raw, bytes(data), trusted=True)
        return cid_text(raw)
    return cid_text(_import_bytes(data, cid_version, blockstore).finish_raw())


def _import_bytes(data: bytes, cid_version: int, blockstore: Blockstore | None
                  ) -> FileImporter:
    """An importer fed with ``data`` in chunks, not yet finished."""
    importer = FileImporter(cid_version=cid_version, blockstore=blockstore)
    view = memoryview(data)
    for start in range(0, len(view), CHUNK_SIZE):
        importer.write(view[start : start + CHUNK_SIZE])
    return importer


def cat(
    cid: CidLike,
    blockstore: Blockstore,
    *,
    max_depth: int = MAX_DEPTH,
    max_links: int = MAX_READ_LINKS,
    max_block_size: int = MAX_BLOCK_SIZE,
    max_size: int | None = None,
) -> Iterator[bytes]:
    """Yield the content of a UnixFS file, checking every block before yielding from it.

    Raises (while iterating): CorruptBlockError, BlockNotFoundError, MalformedBlockError
    (not a UnixFS file, or sizes that disagree), LimitExceededError (depth, links, block
    size, or more than `max_size` bytes in total).
    """
    root = parse_cid(cid)
    budget = [max_size]

    def walk(raw_cid: bytes, depth: int, expected: int | None) -> Iterator[bytes]:
        if depth > max_depth:
            raise LimitExceededError(
                f"DAG deeper than {max_depth} levels at {to_display(raw_cid)}"
            )
        block = blockstore.get(raw_cid)
        if len(block) > max_block_size:
            raise BlockTooLargeError(
                f"block {to_display(raw_cid)} has {len(block)} bytes, limit {max_block_size}"
            )
        check_block(raw_cid, block, "the blockstore")
        if cid_codec(raw_cid) == CODEC_RAW:
            produced = len(block)
            _spend(budget, produced)
            if expected is not None and produced != expected:
                raise _size_mismatch(raw_cid, expected, produced)
            yield block
            return
        node = decode_pbnode(block, max_links=max_links)
        if node.data is None:
            raise MalformedBlockError(f"dag-pb node {to_display(raw_cid)} has no UnixFS Data")
        fs = decode_unixfs(node.data, max_blocksizes=max_links)
        if fs.type not in (UNIXFS_FILE, UNIXFS_RAW):
            raise MalformedBlockError(
                f"{to_display(raw_cid)} is UnixFS type {fs.type}, expected a file (2) or raw (0)"
            )
        if node.links and len(fs.blocksizes) != len(node.links):
            raise MalformedBlockError(
                f"{to_display(raw_cid)} has {len(node.links)} links but "
                f"{len(fs.blocksizes)} blocksizes"
            )
        if fs.filesize is not None and fs.filesize != len(fs.data) + sum(fs.blocksizes):
            raise MalformedBlockError(
                f"{to_display(raw_cid)} declares filesize {fs.filesize}, but its data and "
                f"blocksizes add up to {len(fs.data) + sum(fs.blocksizes)}"
            )
        if expected is not None and expected != len(fs.data) + sum(fs.blocksizes):
            raise _size_mismatch(raw_cid, expected, len(fs.data) + sum(fs.blocksizes))
        if fs.data:
            _spend(budget, len(fs.data))
            yield fs.data
        for link, size in zip(node.links, fs.blocksizes, strict=True):
            child = _link_cid(link.cid_bytes, raw_cid)
            yield from walk(child, depth + 1, size)

    yield from walk(root, 0, None)


def _spend(budget: list[int | None], n: int) -> None:
    if budget[0] is None:
        return
    budget[0] -= n
    if budget[0] < 0:
        raise LimitExceededError("file is larger than max_size")


def _size_mismatch(raw_cid: bytes, expected: int, found: int) -> MalformedBlockError:
    return MalformedBlockError(
        f"{to_display(raw_cid)} holds {found} bytes but its parent's blocksizes say {expected}"
    )


def _link_cid(cid_bytes: bytes, parent: bytes) -> bytes:
    try:
        return parse_cid(cid_bytes)
    except (MalformedCidError, UnsupportedCidError) as exc:
        raise MalformedBlockError(f"bad link in {to_display(parent)}: {exc}") from None
