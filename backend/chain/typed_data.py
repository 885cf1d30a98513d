"""EIP-712 typed data for the escrow's Settlement and Award (docs/eip712.md).

Builds the exact JSON a wallet signs with `eth_signTypedData_v4`, so eth-account here and
MetaMask's `@metamask/eth-sig-util` sign the same bytes. The domain is read from the escrow
(`eip712Domain()`, ERC-5267) by `EscrowContract.domain()`, never hard-coded.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from eth_account.messages import encode_typed_data
from eth_account.signers.local import LocalAccount
from eth_utils import keccak, to_checksum_address

__all__ = [
    "AWARD_TYPE",
    "DOMAIN_NAME",
    "DOMAIN_VERSION",
    "SETTLEMENT_TYPE",
    "Allocation",
    "Domain",
    "award_typed_data",
    "settlement_typed_data",
    "sign_typed_data",
    "typed_data_digest",
    "typed_data_json",
]

DOMAIN_NAME = "chainarb"
DOMAIN_VERSION = "1"

SETTLEMENT_TYPE = (
    "Settlement(uint256 orderId,bytes32 caseId,uint256 toBuyer,uint256 toSeller,"
    "uint256 compensation)"
)
AWARD_TYPE = (
    "Award(uint256 orderId,bytes32 caseId,uint256 toBuyer,uint256 toSeller,"
    "uint256 compensation,bytes32 awardHash,uint8 round)"
)

_DOMAIN_FIELDS = [
    {"name": "name", "type": "string"},
    {"name": "version", "type": "string"},
    {"name": "chainId", "type": "uint256"},
    {"name": "verifyingContract", "type": "address"},
]
_ALLOCATION_FIELDS = [
    {"name": "orderId", "type": "uint256"},
    {"name": "caseId", "type": "bytes32"},
    {"name": "toBuyer", "type": "uint256"},
    {"name": "toSeller", "type": "uint256"},
    {"name": "compensation", "type": "uint256"},
]


@dataclass(frozen=True)
class Domain:
    """The EIP-712 domain of one escrow deployment."""

    chain_id: int
    verifying_contract: str
    name: str = DOMAIN_NAME
    version: str = DOMAIN_VERSION

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "version": self.version,
            "chainId": self.chain_id,
            "verifyingContract": to_checksum_address(self.verifying_contract),
        }


@dataclass(frozen=True)
class Allocation:
    """Split of the escrowed amount (exact integers in the token's smallest unit)."""

    to_buyer: int
    to_seller: int
    compensation: int = 0

    def __post_init__(self) -> None:
        for name in ("to_buyer", "to_seller", "compensation"):
            value = getattr(self, name)
            if not isinstance(value, int) or isinstance(value, bool) or not 0 <= value < 2**256:
                raise ValueError(f"{name} must be an integer in [0, 2**256), found {value!r}")

    def as_tuple(self) -> tuple[int, int, int]:
        """The ABI tuple (toBuyer, toSeller, compensation)."""
        return (self.to_buyer, self.to_seller, self.compensation)


def _bytes32(value: bytes, what: str) -> str:
    if len(value) != 32:
        raise ValueError(f"{what} must be 32 bytes, found {len(value)}")
    return "0x" + value.hex()


def settlement_typed_data(
    domain: Domain, order_id: int, case_id: bytes, allocation: Allocation
) -> dict[str, Any]:
    """`eth_signTypedData_v4` payload of a Settlement (signed by buyer and seller)."""
    return {
        "types": {"EIP712Domain": _DOMAIN_FIELDS, "Settlement": _ALLOCATION_FIELDS},
        "primaryType": "Settlement",
        "domain": domain.as_dict(),
        "message": {
            "orderId": order_id,
            "caseId": _bytes32(case_id, "case_id"),
            "toBuyer": allocation.to_buyer,
            "toSeller": allocation.to_seller,
            "compensation": allocation.compensation,
        },
    }


def award_typed_data(
    domain: Domain,
    order_id: int,
    case_id: bytes,
    allocation: Allocation,
    award_hash: bytes,
    round_: int,
) -> dict[str, Any]:
    """`eth_signTypedData_v4` payload of an Award (round 0: sole arbitrator; 1: panel)."""
    if round_ not in (0, 1):
        raise ValueError(f"round must be 0 (sole arbitrator) or 1 (panel), found {round_}")
    fields = [*_ALLOCATION_FIELDS, {"name": "awardHash", "type": "bytes32"}]
    fields.append({"name": "round", "type": "uint8"})
    return {
        "types": {"EIP712Domain": _DOMAIN_FIELDS, "Award": fields},
        "primaryType": "Award",
        "domain": domain.as_dict(),
        "message": {
            "orderId": order_id,
            "caseId": _bytes32(case_id, "case_id"),
            "toBuyer": allocation.to_buyer,
            "toSeller": allocation.to_seller,
            "compensation": allocation.compensation,
            "awardHash": _bytes32(award_hash, "award_hash"),
            "round": round_,
        },
    }


def typed_data_json(typed: dict[str, Any]) -> str:
    """JSON text of a payload for a wallet or a JS library (`eth_signTypedData_v4`).

    Integers become decimal strings: JavaScript numbers lose precision above 2**53 (one ETH is
    10**18 wei), and wallets and `@metamask/eth-sig-util` accept decimal strings for uints.
    """

    def strings(section: dict[str, Any]) -> dict[str, Any]:
        return {
            k: str(v) if isinstance(v, int) and not isinstance(v, bool) else v
            for k, v in section.items()
        }

    wallet = {**typed, "domain": strings(typed["domain"]), "message": strings(typed["message"])}
    return json.dumps(wallet, separators=(",", ":"), sort_keys=True)


def typed_data_digest(typed: dict[str, Any]) -> bytes:
    """The 32-byte digest a wallet signs: keccak256(0x1901 || domainSeparator || structHash)."""
    signable = encode_typed_data(full_message=typed)
    return keccak(b"\x19" + signable.version + signable.header + signable.body)


def sign_typed_data(account: LocalAccount, typed: dict[str, Any]) -> bytes:
    """65-byte r||s||v signature, as `eth_signTypedData_v4` returns it."""
    return bytes(account.sign_typed_data(full_message=typed).signature)
