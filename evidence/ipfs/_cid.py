"""CID helpers: parse anything a user may pass, verify a block against its CID.

The importer's hot loop works on binary CIDs (bytes) and builds a `multiformats.CID`
only for what it returns, because building one costs ~100 µs: 0.4 s per GB of input.
Only sha2-256 CIDs with the dag-pb or raw codec are accepted: those are the only ones
kubo's `ipfs add` writes and the only ones this library can verify.
"""

from __future__ import annotations

import base64
import hashlib

from multiformats import CID, multihash

from evidence.ipfs._dagpb import split_cid_bytes
from evidence.ipfs.errors import CorruptBlockError, MalformedCidError, UnsupportedCidError

__all__ = [
    "CODEC_DAG_PB",
    "CODEC_RAW",
    "SHA2_256",
    "CidLike",
    "binary_cid",
    "check_block",
    "cid_codec",
    "cid_text",
    "multihash_of",
    "parse_cid",
    "to_cid",
    "to_display",
]

CODEC_DAG_PB = 0x70
CODEC_RAW = 0x55
SHA2_256 = 0x12

CidLike = CID | str | bytes

_V1_PREFIX = {CODEC_DAG_PB: b"\x01\x70\x12\x20", CODEC_RAW: b"\x01\x55\x12\x20"}
_MAX_CID_STRING = 512


# multiformats keeps its Multihash objects in a WeakValueDictionary and reads it with a
# check-then-get (``Multihash.__new__``): when the last reference to an entry dies between
# the two, a thread building a CID gets ``KeyError: 'sha2-256'`` (found by 100 concurrent
# webhooks a second, tests/backend/api/test_performance_load.py). Holding the one hash we
# build CIDs with keeps its entry alive for the life of the process.
_SHA2_256 = multihash.get("sha2-256")

def binary_cid(version: int, codec: int, digest: bytes) -> bytes:
    """Binary CID of a sha2-256 digest (CIDv0 is the bare multihash)."""
    if version == 0:
        return b"\x12\x20" + digest
    return _V1_PREFIX[codec] + digest


def to_cid(raw: bytes) -> CID:
    """A `multiformats.CID` from a binary CID we built or checked ourselves."""
    if raw[:2] == b"\x12\x20":
        return CID("base58btc", 0, "dag-pb", raw)
    return CID("base32", 1, raw[1], raw[2:])


def cid_text(raw: bytes) -> str:
    """``str(to_cid(raw))`` for a binary CID we built, without building the object:
    CIDv1 text is "b" + unpadded lower-case base32 (the multibase default), done here in
    ~2 µs instead of ~0.5 ms; CIDv0 (base58btc) goes through multiformats."""
    if raw[:1] == b"\x01":
        return "b" + base64.b32encode(raw).decode("ascii").lower().rstrip("=")
    return str(to_cid(raw))


def parse_cid(value: CidLike) -> bytes:
    """Validate a CID (object, string or binary) and return its binary form.

    Raises MalformedCidError if it does not parse, UnsupportedCidError if it is not a
    sha2-256 dag-pb/raw CID.
    """
    if isinstance(value, CID):
        raw = bytes(value)
    elif isinstance(value, str):
        if not value or len(value) > _MAX_CID_STRING or not value.isascii():
            raise MalformedCidError(f"not a CID string: {value[:80]!r}")
        try:
            raw = bytes(CID.decode(value))
        except Exception as exc:  # multiformats raises several unrelated types
            raise MalformedCidError(f"not a CID: {value[:80]!r} ({exc})") from None
    elif isinstance(value, bytes | bytearray | memoryview):
        raw = bytes(value)
    else:
        raise MalformedCidError(f"expected a CID, str or bytes, found {type(value).__name__}")
    _version, codec, hash_code, digest, end = split_cid_bytes(raw)
    if end != len(raw):
        raise MalformedCidError(f"binary CID has {len(raw) - end} trailing bytes")
    if hash_code != SHA2_256 or len(digest) != 32:
        raise UnsupportedCidError(
            f"CID {to_display(raw)} uses multihash 0x{hash_code:x} with {len(digest)} bytes; "
            f"only sha2-256 (0x12, 32 bytes) can be verified"
        )
    if codec not in (CODEC_DAG_PB, CODEC_RAW):
        raise UnsupportedCidError(
            f"CID codec 0x{codec:x} is not supported; expected dag-pb (0x70) or raw (0x55)"
        )
    return raw


def to_display(raw: bytes) -> str:
    """Text form for messages; never fails."""
    try:
        if raw[:2] == b"\x12\x20" and len(raw) == 34:
            return str(to_cid(raw))
        return "b" + base64.b32encode(raw).decode().lower().rstrip("=")
    except Exception:
        return "0x" + raw.hex()


def multihash_of(raw_cid: bytes) -> bytes:
    """The multihash of a binary CID from `parse_cid` (a CIDv0 is its multihash): what
    names a block in flatfs and in the service's ``step_block`` table."""
    return raw_cid if raw_cid[0] == 0x12 else raw_cid[2:]


def cid_codec(raw: bytes) -> int:
    """Codec of a binary CID returned by `parse_cid` (CIDv0 is always dag-pb)."""
    return CODEC_DAG_PB if raw[0] == 0x12 else raw[1]


def check_block(raw_cid: bytes, data: bytes, where: str) -> None:
    """Raise CorruptBlockError unless `data` hashes to the CID's digest."""
    found = hashlib.sha256(data).digest()
    if found != raw_cid[-32:]:
        raise CorruptBlockError(to_display(raw_cid), where, found.hex())
