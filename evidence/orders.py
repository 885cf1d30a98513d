"""The escrow's order and the split of its funds, as plain values declared once.

`Allocation` is what a `Settlement` or an `Award` signs (evidence.records builds their
EIP-712 fields from it), what the procedure core decides and what the escrow executes.
`OrderTerms` is what the escrow fixed when it opened an order: the fields of its
`OrderOpened` event (evidence.events), which the court's verifier reads, and the first
half of the order the escrow reports (`backend.chain.contracts.Order`).

Pure on purpose: this module imports only the standard library and `evidence.errors`
(itself standard library only), so the procedure core, which does no I/O and no
cryptography, shares these types with the signed records without importing eth_account
(tests/backend/procedure/test_procedure_docs.py holds both to it). Amounts are exact
integers in the token's smallest unit, each a uint256: never floats.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TypeVar

from evidence.errors import FormatError, InvalidRecord

__all__ = ["UINT256_LIMIT", "Allocation", "OrderTerms", "check_uint256"]

UINT256_LIMIT = 1 << 256
_T = TypeVar("_T")


def check_uint256(name: str, value: object) -> int:
    """`value` if it is an int in [0, 2**256); bools and floats are refused."""
    if type(value) is not int or not 0 <= value < UINT256_LIMIT:
        raise InvalidRecord(f"{name}: expected an integer in [0, 2**256), found {value!r}")
    return value


@dataclass(frozen=True)
class Allocation:
    """How the escrowed funds go: ``to_buyer + to_seller`` is the escrowed amount, exactly
    (the core and the escrow check that against the order); ``compensation`` is paid to the
    buyer on top, from the seller's guarantee deposit, never beyond it (Alibaba Trade
    Assurance). The escrow gateway passes `as_tuple()` as the contract's struct."""

    to_buyer: int
    to_seller: int
    compensation: int = 0

    def __post_init__(self) -> None:
        for name in ("to_buyer", "to_seller", "compensation"):
            check_uint256(f"allocation.{name}", getattr(self, name))

    def as_tuple(self) -> tuple[int, int, int]:
        """The ABI tuple (toBuyer, toSeller, compensation)."""
        return (self.to_buyer, self.to_seller, self.compensation)

    def fields(self) -> dict[str, int]:
        """The record fields (`to_buyer`, `to_seller`, `compensation`) it fills."""
        return {"to_buyer": self.to_buyer, "to_seller": self.to_seller,
                "compensation": self.compensation}


@dataclass(frozen=True, kw_only=True)
class OrderTerms:
    """What the escrow fixed when it opened the order (``OrderOpened``); none of it changes
    afterwards, so a verifier reads it from the opening transaction alone. Addresses are
    EIP-55 checksummed, as the event decoder writes them."""

    order_id: int
    buyer: str
    seller: str
    token: str
    amount: int
    delivery_deadline: int  # unix time
    institution: str
    rules_hash: bytes

    @classmethod
    def from_event(cls, args: Mapping[str, object]) -> OrderTerms:
        """The terms of a decoded ``OrderOpened`` event's arguments (Solidity names)."""
        def arg(name: str, kind: type[_T]) -> _T:
            value = args[name]
            if not isinstance(value, kind):  # not what evidence.events decodes OrderOpened to
                raise FormatError(f"OrderOpened {name}: expected {kind.__name__}, found "
                                  f"{type(value).__name__}")
            return value
        return cls(order_id=arg("orderId", int), buyer=arg("buyer", str),
                   seller=arg("seller", str), token=arg("token", str),
                   amount=arg("amount", int), delivery_deadline=arg("deliveryDeadline", int),
                   institution=arg("institution", str), rules_hash=arg("rulesHash", bytes))
