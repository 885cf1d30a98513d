"""Amounts as the pages write them: exact, in the order's own token.

A case view carries its order's ``currency`` (the ERC-20 ``symbol()``, "ETH" for ether) and
``decimals`` (``backend.services.views.token_fields``); every amount a page shows or a form
takes is written with those, by integer arithmetic (``evidence.words.amount``), never a
float. While the escrow cannot be read the view has no decimals: amounts are then shown as
the integers they are, in the token's smallest unit, rather than guessed.
"""

from __future__ import annotations

from typing_extensions import ReadOnly, TypedDict

from evidence.words import amount

__all__ = ["Denomination", "Token", "money", "plain", "token_of"]


class Denomination(TypedDict):
    """What names a case's token: a case view, a case list's row, a page's data (any
    TypedDict with these two members: read-only, so an ``int`` one is one too)."""

    decimals: ReadOnly[int | None]
    currency: ReadOnly[str | None]


class Token:
    """How one case's amounts are written: ``decimals`` (None: unknown) and ``currency``."""

    __slots__ = ("currency", "decimals")

    def __init__(self, decimals: int | None, currency: str) -> None:
        self.decimals = decimals
        self.currency = currency

    def money(self, units: int | str | None) -> str:
        """``480.000000 tUSD``; "—" for no amount."""
        if units in (None, ""):
            return "—"
        if self.decimals is None:
            return str(int(units))
        return amount(units, self.decimals, self.currency)

    def unit(self) -> str:
        """The smallest amount the token can express (``0.000001`` for 6 decimals)."""
        return self.plain(1)

    def words(self, message: str) -> str:
        """A message with ``{currency}``, ``{decimals}`` and ``{unit}`` filled in (the
        others, such as ``{amount}``, are left for the caller)."""
        return (message.replace("{currency}", self.currency or "—")
                .replace("{decimals}", "0" if self.decimals is None else str(self.decimals))
                .replace("{unit}", self.unit()))

    def plain(self, units: int | str | None) -> str:
        """The number alone, with every decimal (what a form's hint quotes)."""
        if units in (None, ""):
            return "—"
        return str(int(units)) if self.decimals is None else amount(units, self.decimals, "")


def token_of(view: Denomination) -> Token:
    """The token of a case view (or of a case list's row)."""
    decimals = view.get("decimals")
    return Token(None if decimals is None else int(decimals), str(view.get("currency") or ""))


def money(units: int | str | None, view: Denomination) -> str:
    return token_of(view).money(units)


def plain(units: int | str | None, view: Denomination) -> str:
    return token_of(view).plain(units)
