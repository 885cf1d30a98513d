"""Addresses whose private keys are public: a signature by one proves nothing about who signed.

Data, not code: the verifier (``chainarb verify``, check ``institution_key``) fails a package
whose institution is one of these, and the service refuses to be configured with one
(``backend.settings``). The list names well-known published keys only; it cannot know every
leaked key. Sources:

* chainarb's former built-in development institution key (it was in ``backend/settings.py``:
  sha256 of a fixed phrase), used by every embedded installation before it generated its own.
* The ten default accounts of anvil and Hardhat (BIP-39 mnemonic "test test test test test
  test test test test test test junk", path m/44'/60'/0'/0/0..9), printed by both tools at
  every start and in their documentation.
* The private keys 1, 2 and 3 (the first points of secp256k1), used in countless examples.

``tests/evidence/test_published_keys.py`` derives every entry again from its source.
"""

from __future__ import annotations

__all__ = ["PUBLISHED_KEY_ADDRESSES", "published_key_source"]

PUBLISHED_KEY_ADDRESSES: dict[str, str] = {
    "0xCF392e647d298154d59C107b613Dba4306E53A38":
        "chainarb's former built-in development institution key",
    "0xf39Fd6e51aad88F6F4ce6aB8827279cffFb92266": "anvil/Hardhat default account 0",
    "0x70997970C51812dc3A010C7d01b50e0d17dc79C8": "anvil/Hardhat default account 1",
    "0x3C44CdDdB6a900fa2b585dd299e03d12FA4293BC": "anvil/Hardhat default account 2",
    "0x90F79bf6EB2c4f870365E785982E1f101E93b906": "anvil/Hardhat default account 3",
    "0x15d34AAf54267DB7D7c367839AAf71A00a2C6A65": "anvil/Hardhat default account 4",
    "0x9965507D1a55bcC2695C58ba16FB37d819B0A4dc": "anvil/Hardhat default account 5",
    "0x976EA74026E726554dB657fA54763abd0C3a0aa9": "anvil/Hardhat default account 6",
    "0x14dC79964da2C08b23698B3D3cc7Ca32193d9955": "anvil/Hardhat default account 7",
    "0x23618e81E3f5cdF7f54C3d65f7FBc0aBf5B21E8f": "anvil/Hardhat default account 8",
    "0xa0Ee7A142d267C1f36714E4a8F75612F20a79720": "anvil/Hardhat default account 9",
    "0x7E5F4552091A69125d5DfCb7b8C2659029395Bdf": "the private key 1",
    "0x2B5AD5c4795c026514f8317c7a215E218DcCD6cF": "the private key 2",
    "0x6813Eb9362372EEF6200f3b1dbC3f819671cBA69": "the private key 3",
}

_BY_LOWER = {a.lower(): why for a, why in PUBLISHED_KEY_ADDRESSES.items()}


def published_key_source(address: str) -> str | None:
    """Where the private key of ``address`` was published, or None if not on the list."""
    return _BY_LOWER.get(str(address).lower())
