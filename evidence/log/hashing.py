"""RFC 6962 / RFC 9162 §2.1.1 hashing: the one place the log's hash function is chosen.

    leaf hash  = SHA-256(0x00 ‖ entry bytes)
    node hash  = SHA-256(0x01 ‖ left ‖ right)
    empty tree = SHA-256("")

The prefixes keep a leaf from ever equalling an inner node (a 64-byte entry could
otherwise pose as two children). SHA-256, not keccak256: this is the hash every
transparency-log tool (CT, Rekor, C2SP tlog-*) and monitor speaks; the anchored
StandardMerkleTree stays keccak256 because the contracts check it (docs/log.md).
"""

from __future__ import annotations

from hashlib import sha256

__all__ = ["EMPTY_ROOT", "HASH_SIZE", "leaf_hash", "node_hash"]

HASH_SIZE = 32
EMPTY_ROOT = sha256(b"").digest()
_LEAF = b"\x00"
_NODE = b"\x01"


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 ‖ entry)."""
    return sha256(_LEAF + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 ‖ left ‖ right)."""
    return sha256(_NODE + left + right).digest()
