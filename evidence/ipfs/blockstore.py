"""Blockstores: where blocks live, keyed by CID; every read is checked against the CID.

`Blockstore` is the protocol the importer, exporter and CAR code use. `LocalBlockstore`
is the embedded default: one file per block under `root/blocks/`, named like kubo's
flatfs (base32 of the multihash, sharded by its next-to-last two characters), so raw
and dag-pb blocks with the same bytes are stored once. `MemoryBlockstore` is for tests
and short-lived work.

Rules: `get` never returns bytes that do not hash to the CID (CorruptBlockError names
the CID and file instead); `put` refuses bytes that do not match unless the caller has
just computed the CID from them (`trusted=True`); a write is atomic (temporary file in
the same directory, fsync, rename), so a crash leaves either no block or a whole one.
"""

from __future__ import annotations

import base64
import contextlib
import os
import secrets
from collections.abc import Iterator
from pathlib import Path
from typing import Protocol, runtime_checkable

from evidence.ipfs._cid import CidLike, check_block, multihash_of, parse_cid, to_display
from evidence.ipfs.errors import BlockNotFoundError, BlockTooLargeError, CorruptBlockError

__all__ = ["Blockstore", "LocalBlockstore", "MemoryBlockstore"]

_MAX_STORED_BLOCK = 4 * 1024 * 1024


@runtime_checkable
class Blockstore(Protocol):
    """Content-addressed block storage. CIDs may be `CID` objects, strings or bytes."""

    def get(self, cid: CidLike) -> bytes:
        """The block's bytes, verified; raises BlockNotFoundError or CorruptBlockError."""
        ...

    def put(self, cid: CidLike, data: bytes, *, trusted: bool = False) -> None:
        """Store a block; `trusted=True` skips re-hashing bytes the caller just hashed."""
        ...

    def has(self, cid: CidLike) -> bool: ...

    @property
    def kind(self) -> str:
        """Where ``put`` writes, named by the class that keeps it there
        (``"LocalBlockstore"``, ``"KuboBlockstore"``...): an upload's provenance records it,
        so a store that wraps another names the one its writes go to."""
        ...


def _key(raw_cid: bytes) -> str:
    """flatfs key: unpadded upper-case base32 of the multihash."""
    return base64.b32encode(multihash_of(raw_cid)).decode().rstrip("=")


_TEMP_FLAGS = os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0) \
    | getattr(os, "O_BINARY", 0)


def _create_temporary(directory: str) -> tuple[int, str]:
    """A new file ``.tmp-<random>.part`` in ``directory``, opened for writing, mode 0600:
    what ``tempfile.mkstemp`` gives (exclusive creation, a fresh name on a clash)."""
    for _ in range(100):
        name = f"{directory}/.tmp-{secrets.token_hex(8)}.part"
        try:
            return os.open(name, _TEMP_FLAGS, 0o600), name
        except FileExistsError:
            continue
    raise FileExistsError(f"no free temporary name in {directory}")


class LocalBlockstore:
    """Blocks as files under `root/blocks/<shard>/<key>.data`.

    Args:
        root: directory (created if missing).
        fsync: flush each block to disk before renaming it into place. Evidence must
            survive a crash, so it is on by default; turn it off for scratch stores.
    """

    kind = "LocalBlockstore"

    def __init__(self, root: str | os.PathLike[str], *, fsync: bool = True) -> None:
        self.root = Path(root)
        self._blocks = self.root / "blocks"
        self._blocks.mkdir(parents=True, exist_ok=True)
        self._blocks_dir = str(self._blocks)
        self._fsync = fsync
        self._made_dirs: set[str] = set()

    def __repr__(self) -> str:
        return f"LocalBlockstore({str(self.root)!r})"

    def path_of(self, cid: CidLike) -> Path:
        """The file that holds (or would hold) a block."""
        key = _key(parse_cid(cid))
        return self._blocks / key[-3:-1] / f"{key}.data"

    def has(self, cid: CidLike) -> bool:
        return self.path_of(cid).is_file()

    def get(self, cid: CidLike) -> bytes:
        raw = parse_cid(cid)
        path = self.path_of(raw)
        try:
            with open(path, "rb") as f:
                data = f.read(_MAX_STORED_BLOCK + 1)
        except FileNotFoundError:
            raise BlockNotFoundError(to_display(raw), repr(self)) from None
        if len(data) > _MAX_STORED_BLOCK:
            raise BlockTooLargeError(
                f"{path} holds more than {_MAX_STORED_BLOCK} bytes; not a block we wrote"
            )
        check_block(raw, data, str(path))
        return data

    def put(self, cid: CidLike, data: bytes, *, trusted: bool = False) -> None:
        """Write a block atomically: a new temporary file in its shard, the bytes, fsync,
        rename over the final name (a crash leaves no block or a whole one).

        Plain ``os`` calls on ``str`` paths: ``tempfile.mkstemp`` and ``pathlib`` cost
        more CPU than the write itself for a step's few-KiB block (issue 10)."""
        raw = parse_cid(cid)
        if len(data) > _MAX_STORED_BLOCK:
            raise BlockTooLargeError(
                f"block {to_display(raw)} has {len(data)} bytes, limit {_MAX_STORED_BLOCK}"
            )
        if not trusted:
            check_block(raw, data, "the bytes given to put()")
        key = _key(raw)
        shard = key[-3:-1]
        directory = f"{self._blocks_dir}/{shard}"
        path = f"{directory}/{key}.data"
        if os.path.isfile(path):
            try:
                self.get(raw)
                return  # already there and intact
            except CorruptBlockError:
                pass  # overwrite a damaged copy with the good bytes
        if shard not in self._made_dirs:
            try:  # what Path.mkdir(exist_ok=True) does, without pathlib
                os.mkdir(directory)
            except OSError:
                if not os.path.isdir(directory):
                    raise
            self._made_dirs.add(shard)
        fd, tmp = _create_temporary(directory)
        try:
            try:
                view = memoryview(data)
                while view:  # a regular file takes it all at once; a signal may cut it
                    view = view[os.write(fd, view):]
                if self._fsync:
                    os.fsync(fd)
            finally:
                os.close(fd)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(tmp)
            raise

    def delete(self, cid: CidLike) -> None:
        self.path_of(cid).unlink(missing_ok=True)

    def keys(self) -> Iterator[str]:
        """flatfs keys of the stored blocks (for maintenance tools)."""
        for path in self._blocks.glob("*/*.data"):
            yield path.stem


class MemoryBlockstore:
    """A dict of blocks; checks on read like the others, so tests can corrupt it."""

    kind = "MemoryBlockstore"

    def __init__(self) -> None:
        self.blocks: dict[bytes, bytes] = {}

    def has(self, cid: CidLike) -> bool:
        return parse_cid(cid) in self.blocks

    def get(self, cid: CidLike) -> bytes:
        raw = parse_cid(cid)
        try:
            data = self.blocks[raw]
        except KeyError:
            raise BlockNotFoundError(to_display(raw), "memory blockstore") from None
        check_block(raw, data, "memory blockstore")
        return data

    def put(self, cid: CidLike, data: bytes, *, trusted: bool = False) -> None:
        raw = parse_cid(cid)
        if not trusted:
            check_block(raw, data, "the bytes given to put()")
        self.blocks[raw] = bytes(data)
