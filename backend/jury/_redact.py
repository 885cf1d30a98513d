"""What a juror may read: the redaction rule (pure).

Rule: a juror never learns who the parties are (Alibaba's mass jury judges the dispute, not
the people). Every text a juror reads passes ``redact``: each party's wallet address (any
case, with or without ``0x``), declared names (English and Chinese) and contact are
replaced by the party's role in brackets; then any remaining e-mail address, telephone
number, web address or wallet address is masked generically, since a party may name a
third person or a second contact the profile does not know.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

__all__ = ["Identity", "redact"]


@dataclass(frozen=True, kw_only=True)
class Identity:
    """What identifies one party: its role word and everything known to name it."""

    label: str  # "claimant" / "respondent"
    address: str
    names: tuple[str, ...] = ()
    contacts: tuple[str, ...] = ()


_EMAIL = re.compile(r"[\w.+-]+@[\w-]+(?:\.[\w-]+)+")
_URL = re.compile(r"(?:https?://|www\.)\S+", re.IGNORECASE)
_WALLET = re.compile(r"\b(?:0x)?[0-9a-fA-F]{40}\b")
# a telephone number: seven or more digits led by "+" or split by spaces, dots, dashes or
# brackets (a bare long number is an amount; a date or time is kept)
_PHONE = re.compile(r"\+?\(?\d[\d\s().-]{5,}\d")
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}(?:[ T]\d{2}:\d{2}(?::\d{2})?)?")


def _phone(m: re.Match[str]) -> str:
    found = m.group()
    digits = sum(ch.isdigit() for ch in found)
    separated = found.startswith("+") or any(not ch.isdigit() for ch in found)
    if digits < 7 or not separated or _DATE.match(found.strip()):
        return found
    return "[contact]"


def _literal(text: str, needle: str, label: str) -> str:
    if not needle.strip():
        return text
    return re.sub(re.escape(needle), label, text, flags=re.IGNORECASE)


def redact(text: str, identities: Iterable[Identity]) -> str:
    """``text`` with every party identity and every contact-like string masked.

    Order matters: the parties' own addresses and contacts first, then any e-mail or web
    address as a whole (so a name inside one cannot leave its domain behind), then names
    and the words of names, then any other wallet address or telephone number."""
    people = list(identities)
    for who in people:
        hex_ = who.address.lower().removeprefix("0x")
        text = re.sub(rf"(?:0x)?{hex_}", f"[{who.label}]", text, flags=re.IGNORECASE)
        for contact in sorted(who.contacts, key=len, reverse=True):
            text = _literal(text, contact, f"[{who.label}]")
    text = _EMAIL.sub("[contact]", text)
    text = _URL.sub("[contact]", text)
    for who in people:
        label = f"[{who.label}]"
        for name in sorted(who.names, key=len, reverse=True):  # "Lena Fischer" before "Lena"
            text = _literal(text, name, label)
        for name in who.names:  # each word of a name of two or more words (a surname alone)
            for part in name.split():
                if len(part) >= 3:
                    text = _literal(text, part, label)
    text = _WALLET.sub("[address]", text)
    return _PHONE.sub(_phone, text)
