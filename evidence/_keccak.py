"""Ethereum's keccak256 (original Keccak padding, not NIST SHA3-256), called directly.

`eth_utils.keccak` goes through a validating decorator and eth-hash's backend picker; with
the pycryptodome backend (what eth-hash picks first when both are installed) one 32-byte
hash costs ~15 us, most of it Python and cffi overhead. safe-pysha3's C `keccak_256`
costs ~1-2 us. A verifier hashes ~10 times per item (struct hash, digest, signer
address, signatures hash, leaf, proof levels), so this is a third of its time.

Same function, same bytes: without safe-pysha3 this falls back to eth-hash (tested equal).
"""

from __future__ import annotations

__all__ = ["keccak256"]

Buffer = bytes | bytearray | memoryview

try:
    from sha3 import keccak_256 as _keccak_256  # safe-pysha3
except ImportError:  # pragma: no cover - safe-pysha3 is a dependency; kept for odd installs
    _keccak_256 = None


if _keccak_256 is not None:

    def keccak256(data: Buffer) -> bytes:
        """keccak256 of `data` (32 bytes)."""
        digest: bytes = _keccak_256(data).digest()  # safe-pysha3 has no type information
        return digest

else:  # pragma: no cover
    from eth_hash.auto import keccak as _eth_hash_keccak

    def keccak256(data: Buffer) -> bytes:
        """keccak256 of `data` (32 bytes)."""
        return _eth_hash_keccak(bytes(data))
