"""CARv1: the archive format of `ipfs dag export` and pinning services.

Layout (https://ipld.io/specs/transport/car/carv1/):
    varint(len(header)) header  { varint(len(cid)+len(block)) cid block }*
The header is dag-cbor `{"roots": [CID, ...], "version": 1}`; a CID in dag-cbor is tag 42
around a byte string of 0x00 followed by the binary CID.

The header has one fixed shape, so it is written and read here by a small strict codec
rather than a general dag-cbor library: canonical dag-cbor only (keys "roots" then
"version", minimal integer encodings, nothing else), which is exactly what @ipld/car and
go-car write. Every length is bounded before anything is read or allocated, every block
is hashed against its CID, and a file that ends inside a section is an error.

Export walks each root depth first, parent before children in link order, each block
once: the order of `ipfs dag export`, so equal inputs give byte-identical CARs.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from typing import BinaryIO

from multiformats import CID

from evidence.ipfs._cid import (
    CODEC_DAG_PB,
    CidLike,
    check_block,
    cid_codec,
    parse_cid,
    to_cid,
    to_display,
)
from evidence.ipfs._dagpb import decode_pbnode, encode_varint, read_varint, split_cid_bytes
from evidence.ipfs.blockstore import Blockstore
from evidence.ipfs.errors import (
    BlockTooLargeError,
    MalformedBlockError,
    MalformedCarError,
    MalformedCidError,
    TruncatedCarError,
)
from evidence.ipfs.unixfs import MAX_BLOCK_SIZE, MAX_READ_LINKS

__all__ = ["MAX_HEADER_SIZE", "MAX_ROOTS", "CarReader", "export_car", "import_car"]

MAX_HEADER_SIZE = 64 * 1024
MAX_ROOTS = 1024
_MAX_CID_SIZE = 2 + 9 * 3 + 128


# --- header -------------------------------------------------------------------------------


def _cbor_head(major: int, value: int) -> bytes:
    if value < 24:
        return bytes((major << 5 | value,))
    if value < 0x100:
        return bytes((major << 5 | 24, value))
    if value < 0x10000:
        return bytes((major << 5 | 25,)) + value.to_bytes(2, "big")
    if value < 0x1_0000_0000:
        return bytes((major << 5 | 26,)) + value.to_bytes(4, "big")
    return bytes((major << 5 | 27,)) + value.to_bytes(8, "big")


def encode_header(roots: list[bytes]) -> bytes:
    """dag-cbor `{"roots": [...], "version": 1}` with its varint length prefix."""
    parts = [b"\xa2\x65roots", _cbor_head(4, len(roots))]
    for raw in roots:
        parts += (b"\xd8\x2a", _cbor_head(2, len(raw) + 1), b"\x00", raw)
    parts.append(b"\x67version\x01")
    header = b"".join(parts)
    return encode_varint(len(header)) + header


class _Cbor:
    """Just enough strict CBOR to read the CARv1 header."""

    def __init__(self, buf: bytes) -> None:
        self.buf = buf
        self.pos = 0

    def head(self) -> tuple[int, int]:
        if self.pos >= len(self.buf):
            raise MalformedCarError("CAR header ends early")
        first = self.buf[self.pos]
        self.pos += 1
        major, info = first >> 5, first & 31
        if info < 24:
            return major, info
        if info > 27:
            raise MalformedCarError(f"CAR header uses CBOR additional info {info} (not dag-cbor)")
        n = 1 << (info - 24)
        if self.pos + n > len(self.buf):
            raise MalformedCarError("CAR header ends early")
        value = int.from_bytes(self.buf[self.pos : self.pos + n], "big")
        self.pos += n
        if value < (24 if n == 1 else 1 << (4 * n)):
            raise MalformedCarError("CAR header has a non-minimal CBOR integer (not dag-cbor)")
        return major, value

    def expect(self, major: int, what: str) -> int:
        found, value = self.head()
        if found != major:
            raise MalformedCarError(f"CAR header: expected {what}, found CBOR major type {found}")
        return value

    def text(self) -> str:
        n = self.expect(3, "a text key")
        if self.pos + n > len(self.buf):
            raise MalformedCarError("CAR header ends early")
        raw = self.buf[self.pos : self.pos + n]
        self.pos += n
        return raw.decode("utf-8", errors="replace")

    def cid(self) -> bytes:
        if self.expect(6, "a CID (tag 42)") != 42:
            raise MalformedCarError("CAR header root is not tag 42 (a CID)")
        n = self.expect(2, "CID bytes")
        if n < 2 or n > _MAX_CID_SIZE or self.pos + n > len(self.buf):
            raise MalformedCarError(f"CAR header root CID of {n} bytes")
        raw = self.buf[self.pos : self.pos + n]
        self.pos += n
        if raw[0] != 0:
            raise MalformedCarError("CAR header root CID lacks the 0x00 multibase prefix")
        try:
            return parse_cid(raw[1:])
        except MalformedCidError as exc:
            raise MalformedCarError(f"CAR header root: {exc}") from None


def decode_header(header: bytes) -> list[bytes]:
    """Roots of a CARv1 header; anything but the canonical shape is an error."""
    cbor = _Cbor(header)
    if cbor.expect(5, "a map") != 2:
        raise MalformedCarError("CAR header must be a map with exactly 'roots' and 'version'")
    key = cbor.text()
    if key == "version":
        raise MalformedCarError(
            "CAR header keys out of dag-cbor order ('version' before 'roots'), or a CARv2 "
            "pragma: only CARv1 is supported"
        )
    if key != "roots":
        raise MalformedCarError(f"CAR header: expected key 'roots', found {key!r}")
    count = cbor.expect(4, "an array of roots")
    if count > MAX_ROOTS:
        raise MalformedCarError(f"CAR header lists {count} roots (limit {MAX_ROOTS})")
    roots = [cbor.cid() for _ in range(count)]
    if cbor.text() != "version":
        raise MalformedCarError("CAR header: expected key 'version' after 'roots'")
    version = cbor.expect(0, "an unsigned version")
    if version != 1:
        raise MalformedCarError(f"CAR version {version}; only version 1 is supported")
    if cbor.pos != len(header):
        raise MalformedCarError(f"CAR header has {len(header) - cbor.pos} trailing bytes")
    return roots


# --- reading ------------------------------------------------------------------------------


def _read_exact(stream: BinaryIO, n: int, what: str) -> bytes:
    data = stream.read(n)
    if len(data) == n:
        return data
    parts = [data]
    got = len(data)
    while got < n:
        more = stream.read(n - got)
        if not more:
            raise TruncatedCarError(f"CAR ends inside {what}: expected {n} bytes, found {got}")
        parts.append(more)
        got += len(more)
    return b"".join(parts)


def _read_length(stream: BinaryIO, what: str) -> int | None:
    """A section or header length varint; None at a clean end of file."""
    raw = bytearray()
    while True:
        byte = stream.read(1)
        if not byte:
            if raw:
                raise TruncatedCarError(f"CAR ends inside the length of {what}")
            return None
        raw += byte
        if byte[0] < 0x80:
            break
        if len(raw) >= 9:
            raise MalformedCarError(f"{what} length varint longer than 9 bytes")
    try:
        value, _ = read_varint(bytes(raw), 0, f"{what} length")
    except MalformedBlockError as exc:
        raise MalformedCarError(str(exc)) from None
    return value


class CarReader:
    """Streaming CARv1 reader: `roots` at once, then `blocks()` verified one by one.

    Args:
        stream: binary stream positioned at the start of the CAR.
        max_block_size: largest block accepted.
    """

    def __init__(self, stream: BinaryIO, *, max_block_size: int = MAX_BLOCK_SIZE) -> None:
        self._stream = stream
        self._max_block = max_block_size
        length = _read_length(stream, "the header")
        if length is None:
            raise TruncatedCarError("empty input: a CAR starts with its header")
        if length == 0 or length > MAX_HEADER_SIZE:
            raise MalformedCarError(
                f"CAR header length {length}; expected 1..{MAX_HEADER_SIZE} bytes"
            )
        self._raw_roots = decode_header(_read_exact(stream, length, "the header"))
        self.sections = 0

    @property
    def roots(self) -> list[CID]:
        return [to_cid(r) for r in self._raw_roots]

    def blocks(self) -> Iterator[tuple[bytes, bytes]]:
        """Yield (binary CID, block) pairs, each checked against its CID."""
        limit = self._max_block + _MAX_CID_SIZE
        while True:
            where = f"section {self.sections + 1}"
            length = _read_length(self._stream, where)
            if length is None:
                return
            if length == 0:
                raise MalformedCarError(f"{where} is empty (a section holds a CID and a block)")
            if length > limit:
                raise BlockTooLargeError(
                    f"{where} declares {length} bytes; limit {limit} (block {self._max_block})"
                )
            body = _read_exact(self._stream, length, where)
            try:
                _, _, _, _, end = split_cid_bytes(body)
                raw_cid = parse_cid(body[:end])
            except MalformedCidError as exc:
                raise MalformedCarError(f"{where}: {exc}") from None
            block = body[end:]
            if len(block) > self._max_block:
                raise BlockTooLargeError(
                    f"{where}: block of {len(block)} bytes, limit {self._max_block}"
                )
            check_block(raw_cid, block, f"CAR {where}")
            self.sections += 1
            yield raw_cid, block


def import_car(
    stream: BinaryIO, blockstore: Blockstore, *, max_block_size: int = MAX_BLOCK_SIZE
) -> list[CID]:
    """Store every block of a CAR (each verified) and return its roots."""
    reader = CarReader(stream, max_block_size=max_block_size)
    for raw_cid, block in reader.blocks():
        blockstore.put(raw_cid, block, trusted=True)
    return reader.roots


# --- writing ------------------------------------------------------------------------------


def _walk(roots: list[bytes], blockstore: Blockstore) -> Iterator[tuple[bytes, bytes]]:
    seen: set[bytes] = set()
    for root in roots:
        stack = [root]
        while stack:
            raw = stack.pop()
            if raw in seen:
                continue
            seen.add(raw)
            block = blockstore.get(raw)
            check_block(raw, block, "the blockstore")
            yield raw, block
            if cid_codec(raw) == CODEC_DAG_PB:
                node = decode_pbnode(block, max_links=MAX_READ_LINKS)
                children = []
                for link in node.links:
                    try:
                        children.append(parse_cid(link.cid_bytes))
                    except MalformedCidError as exc:
                        raise MalformedBlockError(f"bad link in {to_display(raw)}: {exc}") from None
                stack.extend(reversed(children))


def export_car(roots: Iterable[CidLike], blockstore: Blockstore, out: BinaryIO) -> int:
    """Write a CARv1 of the DAGs under `roots` to `out`; return the number of blocks.

    Every block is read through the blockstore and checked, so a corrupted store cannot
    leak into an archive.
    """
    raw_roots = [parse_cid(r) for r in roots]
    if not raw_roots:
        raise ValueError("export_car needs at least one root")
    if len(raw_roots) > MAX_ROOTS:
        raise ValueError(f"{len(raw_roots)} roots; a CAR header holds at most {MAX_ROOTS}")
    out.write(encode_header(raw_roots))
    count = 0
    for raw, block in _walk(raw_roots, blockstore):
        out.write(encode_varint(len(raw) + len(block)))
        out.write(raw)
        out.write(block)
        count += 1
    return count
