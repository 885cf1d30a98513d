"""The demo's small vocabulary: its one error, token units, and how amounts and hashes print."""

from __future__ import annotations

import hashlib
from decimal import Decimal

__all__ = ["DAY", "DECIMALS", "UNIT", "ZERO32", "DemoError", "decimal_units", "fmt_amount",
           "sha256_hex", "short"]

DAY = 86_400
DECIMALS = 6
UNIT = 10**DECIMALS
ZERO32 = "0x" + "00" * 32


class DemoError(Exception):
    """A step of the demo was refused or the result does not add up (message says which)."""


def fmt_amount(units: int, symbol: str = "tUSD") -> str:
    """Exact decimal of a 6-decimal token amount: 12500000 -> '12.500000 tUSD'."""
    return f"{Decimal(units).scaleb(-DECIMALS):.{DECIMALS}f} {symbol}".strip()


def decimal_units(units: int) -> str:
    """The same amount without a symbol, as the result line carries it: '12.500000'."""
    return f"{Decimal(units).scaleb(-DECIMALS):.{DECIMALS}f}"


def sha256_hex(data: bytes) -> str:
    """``0x``-prefixed SHA-256, the form the API takes for document hashes."""
    return "0x" + hashlib.sha256(data).hexdigest()


def short(value: str | None, keep: int = 10) -> str:
    """An address or hash shortened for a printed line (``0x1234567…abcdef``)."""
    if not value:
        return "—"
    return value if len(value) <= 2 * keep + 1 else f"{value[:keep]}…{value[-6:]}"
