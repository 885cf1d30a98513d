"""dag-pb and UnixFS protobuf codecs: the two tiny messages kubo writes, nothing more.

Rules of this file:
- Encoding is canonical dag-pb (the IPLD spec and kubo agree): a PBNode writes its Links
  (field 2) before its Data (field 1); a PBLink writes Hash, Name, Tsize in that order and
  kubo's importer always writes Name, even when it is empty. UnixFS `blocksizes` are
  written one field per value (not packed), as kubo and the JS importer do.
- Decoding is strict and bounded: fields in canonical order, no duplicates, no unknown
  fields, minimal varints below 2**63, and every length checked against what is left. A
  block that breaks a rule raises `MalformedBlockError`; nothing is guessed.

Why hand-written: the two schemas have eight fields between them, the canonical field
order is part of the CID, and a generic protobuf library accepts non-canonical input
(any order, repeated scalars) that dag-pb forbids.
"""

from __future__ import annotations

from dataclasses import dataclass

from evidence.ipfs.errors import LimitExceededError, MalformedBlockError, MalformedCidError

__all__ = [
    "UNIXFS_FILE",
    "UNIXFS_RAW",
    "PBLink",
    "PBNode",
    "UnixFSData",
    "decode_pbnode",
    "decode_unixfs",
    "encode_pblink",
    "encode_pbnode",
    "encode_unixfs",
    "encode_varint",
    "read_varint",
]

UNIXFS_RAW = 0
UNIXFS_DIRECTORY = 1
UNIXFS_FILE = 2

_MAX_VARINT = (1 << 63) - 1
_WIRE_VARINT = 0
_WIRE_BYTES = 2


def encode_varint(value: int) -> bytes:
    """Unsigned LEB128, the varint of protobuf, multiformats and CAR."""
    if value < 0 or value > _MAX_VARINT:
        raise ValueError(f"varint out of range: {value}")
    if value < 0x80:
        return bytes((value,))
    out = bytearray()
    while value >= 0x80:
        out.append((value & 0x7F) | 0x80)
        value >>= 7
    out.append(value)
    return bytes(out)


def read_varint(buf: bytes | memoryview, pos: int, what: str = "varint") -> tuple[int, int]:
    """Decode a minimal varint at `pos`; return (value, next position).

    Rejects truncation, values >= 2**63 and non-minimal encodings (a trailing 0x00 byte),
    because two encodings of one number would give two hashes for one block.
    """
    value = 0
    shift = 0
    end = len(buf)
    start = pos
    while True:
        if pos >= end:
            raise MalformedBlockError(f"truncated {what} at byte {start}")
        byte = buf[pos]
        pos += 1
        value |= (byte & 0x7F) << shift
        if byte < 0x80:
            if byte == 0 and pos - start > 1:
                raise MalformedBlockError(f"non-minimal {what} at byte {start}")
            break
        shift += 7
        if shift > 63:
            raise MalformedBlockError(f"{what} longer than 9 bytes at byte {start}")
    if value > _MAX_VARINT:
        raise MalformedBlockError(f"{what} at byte {start} exceeds 2**63-1")
    return value, pos


# --- encoding -----------------------------------------------------------------------------

_TAG_LINK_HASH = b"\x0a"  # PBLink field 1, bytes
_TAG_LINK_NAME = b"\x12"  # PBLink field 2, bytes
_TAG_LINK_TSIZE = b"\x18"  # PBLink field 3, varint
_TAG_NODE_DATA = b"\x0a"  # PBNode field 1, bytes
_TAG_NODE_LINKS = b"\x12"  # PBNode field 2, bytes (embedded PBLink)


def encode_pblink(cid_bytes: bytes, tsize: int, name: bytes = b"") -> bytes:
    """One PBLink; Name is always written (kubo writes the empty name)."""
    return b"".join(
        (
            _TAG_LINK_HASH,
            encode_varint(len(cid_bytes)),
            cid_bytes,
            _TAG_LINK_NAME,
            encode_varint(len(name)),
            name,
            _TAG_LINK_TSIZE,
            encode_varint(tsize),
        )
    )


def encode_pbnode(links: list[bytes], data: bytes | None) -> bytes:
    """A PBNode from already-encoded links and optional Data: links first, then data."""
    parts: list[bytes] = []
    for link in links:
        parts += (_TAG_NODE_LINKS, encode_varint(len(link)), link)
    if data is not None:
        parts += (_TAG_NODE_DATA, encode_varint(len(data)), data)
    return b"".join(parts)


def encode_unixfs(
    type_: int, *, data: bytes = b"", filesize: int | None = None, blocksizes: tuple[int, ...] = ()
) -> bytes:
    """UnixFS `Data` message; `data` is omitted when empty, as kubo does."""
    parts = [b"\x08", encode_varint(type_)]
    if data:
        parts += (b"\x12", encode_varint(len(data)), data)
    if filesize is not None:
        parts += (b"\x18", encode_varint(filesize))
    for size in blocksizes:
        parts += (b"\x20", encode_varint(size))
    return b"".join(parts)


def unixfs_leaf_prefix(chunk_len: int) -> tuple[bytes, bytes]:
    """Bytes before and after a chunk in a dag-pb UnixFS file leaf (CIDv0 `ipfs add`).

    The importer hashes prefix + chunk + suffix without building the block, which saves a
    copy of every chunk when no blockstore is given.
    """
    if chunk_len == 0:
        unixfs = encode_unixfs(UNIXFS_FILE, filesize=0)
        return _TAG_NODE_DATA + encode_varint(len(unixfs)) + unixfs, b""
    head = b"\x08\x02\x12" + encode_varint(chunk_len)
    tail = b"\x18" + encode_varint(chunk_len)
    inner_len = len(head) + chunk_len + len(tail)
    return _TAG_NODE_DATA + encode_varint(inner_len) + head, tail


# --- decoding -----------------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class PBLink:
    """A decoded dag-pb link; `cid_bytes` is parsed into a CID by the caller."""

    cid_bytes: bytes
    name: bytes | None
    tsize: int | None


@dataclass(frozen=True, slots=True)
class PBNode:
    links: tuple[PBLink, ...]
    data: bytes | None


@dataclass(frozen=True, slots=True)
class UnixFSData:
    type: int
    data: bytes
    filesize: int | None
    blocksizes: tuple[int, ...]


def _read_key(buf: memoryview, pos: int) -> tuple[int, int, int]:
    key, pos = read_varint(buf, pos, "field key")
    return key >> 3, key & 7, pos


def _read_bytes(buf: memoryview, pos: int, what: str) -> tuple[bytes, int]:
    length, pos = read_varint(buf, pos, f"{what} length")
    if length > len(buf) - pos:
        raise MalformedBlockError(
            f"{what} declares {length} bytes but only {len(buf) - pos} remain"
        )
    return bytes(buf[pos : pos + length]), pos + length


def _decode_pblink(raw: bytes) -> PBLink:
    buf = memoryview(raw)
    pos = 0
    cid_bytes: bytes | None = None
    name: bytes | None = None
    tsize: int | None = None
    last = 0
    while pos < len(buf):
        field, wire, pos = _read_key(buf, pos)
        if field <= last:
            raise MalformedBlockError(f"PBLink field {field} out of order or repeated")
        last = field
        if field == 1 and wire == _WIRE_BYTES:
            cid_bytes, pos = _read_bytes(buf, pos, "PBLink.Hash")
        elif field == 2 and wire == _WIRE_BYTES:
            name, pos = _read_bytes(buf, pos, "PBLink.Name")
        elif field == 3 and wire == _WIRE_VARINT:
            tsize, pos = read_varint(buf, pos, "PBLink.Tsize")
        else:
            raise MalformedBlockError(f"unexpected PBLink field {field} (wire type {wire})")
    if cid_bytes is None:
        raise MalformedBlockError("PBLink without Hash")
    return PBLink(cid_bytes, name, tsize)


def decode_pbnode(raw: bytes, *, max_links: int) -> PBNode:
    """Strict dag-pb decode: Links (field 2) first, then at most one Data (field 1)."""
    buf = memoryview(raw)
    pos = 0
    links: list[PBLink] = []
    data: bytes | None = None
    while pos < len(buf):
        field, wire, pos = _read_key(buf, pos)
        if field == 2 and wire == _WIRE_BYTES:
            if data is not None:
                raise MalformedBlockError("PBNode Links after Data (not canonical dag-pb)")
            if len(links) >= max_links:
                raise LimitExceededError(f"PBNode has more than {max_links} links")
            link_raw, pos = _read_bytes(buf, pos, "PBNode.Links")
            links.append(_decode_pblink(link_raw))
        elif field == 1 and wire == _WIRE_BYTES:
            if data is not None:
                raise MalformedBlockError("PBNode has two Data fields")
            data, pos = _read_bytes(buf, pos, "PBNode.Data")
        else:
            raise MalformedBlockError(f"unexpected PBNode field {field} (wire type {wire})")
    return PBNode(tuple(links), data)


def decode_unixfs(raw: bytes, *, max_blocksizes: int) -> UnixFSData:
    """Decode the UnixFS fields a file needs; reject the rest (directories, HAMT, …).

    Fields 7 and 8 (mode, mtime) are metadata that do not change file content; they are
    accepted and ignored so files added with `--preserve-mode` still read.
    """
    buf = memoryview(raw)
    pos = 0
    type_: int | None = None
    data = b""
    filesize: int | None = None
    blocksizes: list[int] = []
    last = 0
    while pos < len(buf):
        field, wire, pos = _read_key(buf, pos)
        if field < last or (field == last and field != 4):
            raise MalformedBlockError(f"UnixFS field {field} out of order or repeated")
        last = field
        if field == 1 and wire == _WIRE_VARINT:
            type_, pos = read_varint(buf, pos, "UnixFS.Type")
        elif field == 2 and wire == _WIRE_BYTES:
            data, pos = _read_bytes(buf, pos, "UnixFS.Data")
        elif field == 3 and wire == _WIRE_VARINT:
            filesize, pos = read_varint(buf, pos, "UnixFS.filesize")
        elif field == 4 and wire == _WIRE_VARINT:
            if len(blocksizes) >= max_blocksizes:
                raise LimitExceededError(f"UnixFS has more than {max_blocksizes} blocksizes")
            size, pos = read_varint(buf, pos, "UnixFS.blocksizes")
            blocksizes.append(size)
        elif field in (7, 8) and wire in (_WIRE_VARINT, _WIRE_BYTES):
            if wire == _WIRE_VARINT:
                _, pos = read_varint(buf, pos, "UnixFS.mode")
            else:
                _, pos = _read_bytes(buf, pos, "UnixFS.mtime")
        else:
            raise MalformedBlockError(f"unsupported UnixFS field {field} (wire type {wire})")
    if type_ is None:
        raise MalformedBlockError("UnixFS data without Type")
    return UnixFSData(type_, data, filesize, tuple(blocksizes))


def split_cid_bytes(buf: bytes | memoryview, pos: int = 0) -> tuple[int, int, int, bytes, int]:
    """Parse one binary CID at `pos`: (version, codec, hash code, digest, next position).

    CIDv0 is the bare 34-byte sha2-256 multihash (0x12 0x20 …); CIDv1 is
    varint(1) varint(codec) varint(hash code) varint(digest length) digest. Raises
    `MalformedCidError` for anything else, including non-minimal varints.
    """
    try:
        if len(buf) - pos >= 2 and buf[pos] == 0x12 and buf[pos + 1] == 0x20:
            if len(buf) - pos < 34:
                raise MalformedCidError(
                    f"truncated CIDv0: expected 34 bytes, found {len(buf) - pos}"
                )
            return 0, 0x70, 0x12, bytes(buf[pos + 2 : pos + 34]), pos + 34
        version, pos = read_varint(buf, pos, "CID version")
        if version != 1:
            raise MalformedCidError(f"unsupported CID version {version} (expected 0 or 1)")
        codec, pos = read_varint(buf, pos, "CID codec")
        hash_code, pos = read_varint(buf, pos, "multihash code")
        length, pos = read_varint(buf, pos, "multihash length")
    except MalformedBlockError as exc:
        raise MalformedCidError(f"malformed binary CID: {exc}") from None
    if length > 128:
        raise MalformedCidError(f"multihash digest of {length} bytes (limit 128)")
    if len(buf) - pos < length:
        raise MalformedCidError(
            f"truncated CID digest: expected {length} bytes, found {len(buf) - pos}"
        )
    return 1, codec, hash_code, bytes(buf[pos : pos + length]), pos + length
