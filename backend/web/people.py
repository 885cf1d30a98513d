"""Who an address is, in words: the names the pages show instead of ``0x…`` addresses.

A name comes only from a signed ``Profile`` (the person's own, or one the institution
issued for a court or neutral it registered), the one in effect: the newest by
``signedAt``, then by arrival (``IdentityService.profile_of``'s rule, read here for many
addresses at once). The institution's own address is named in words. Nobody else gets a
name: an address without a profile is shown shortened, never guessed at.

* ``names_for(ctx, addresses)``: one query for every address a page shows.
* ``person_html(address, names, lang)``: the name in the viewer's language (the other
  language's when the profile has only that one) as a link to the person's profile page,
  where the full address is: the address stays one click away, and in the link's title.
* ``viewer_kinds(ctx, viewer)``: what kind of user is looking (the nav registry's
  audiences): ``guest``, ``person``, ``admin``, ``court``, ``neutral``.
"""

from __future__ import annotations

import html
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any

from sqlmodel import col, select

from backend.db import Participant
from backend.db.service_models import CourtAccount, IdentityRecord

from .i18n import register, ui

if TYPE_CHECKING:
    from backend.api.context import AppContext

__all__ = ["NEUTRAL_ROLES", "Person", "names_for", "person_html", "profile_href",
           "short_address", "viewer_kinds"]

NEUTRAL_ROLES = ("mediator", "arbitrator", "panelist")
_CHUNK = 500  # addresses per IN (...) list: far below every database's parameter limit

register({
    "person_institution": {"en": "The institution", "zh-Hans": "仲裁机构"},
    "person_no_profile": {"en": "No profile declared; shown by wallet address.",
                          "zh-Hans": "未声明个人资料；以钱包地址显示。"},
    "person_issued": {"en": "profile issued by the institution",
                      "zh-Hans": "由仲裁机构签发的资料"},
})


@dataclass(frozen=True)
class Person:
    """A profile in effect, as the pages need it."""

    address: str
    name: str
    name_zh: str
    country: str = ""
    language: str = ""
    contact: str = ""
    issuer: str = ""
    signed_at: datetime | None = None
    record_hash: str = ""

    @property
    def issued_by_institution(self) -> bool:
        """Not the person's own: the institution signed it (a court's, a neutral's)."""
        return bool(self.issuer) and self.issuer != self.address

    def display(self, lang: str) -> str:
        """The name in ``lang``, else the one the profile has."""
        first, other = (self.name_zh, self.name) if lang == "zh-Hans" else \
            (self.name, self.name_zh)
        return (first or other).strip()


def _person(row: IdentityRecord) -> Person:
    msg: dict[str, Any] = row.record.get("message", {})
    signed_at = row.signed_at if row.signed_at.tzinfo else row.signed_at.replace(tzinfo=UTC)
    return Person(address=row.subject, name=str(msg.get("name", "")),
                  name_zh=str(msg.get("nameZh", "")), country=str(msg.get("country", "")),
                  language=str(msg.get("language", "")), contact=str(msg.get("contact", "")),
                  issuer=row.issuer, signed_at=signed_at, record_hash=row.record_hash)


def names_for(ctx: AppContext, addresses: Iterable[str | None]) -> dict[str, Person]:
    """The profile in effect for each of ``addresses`` that has one, by address (as stored:
    checksummed; ``person_html`` also finds a lower-case spelling). ``None`` and empty
    entries are skipped, so a page passes its fields as they are. The institution's address
    is named in words when it has no profile of its own."""
    wanted = {a for a in addresses if a}
    wanted |= {_checksum(a) for a in wanted if a == a.lower()}
    found: dict[str, Person] = {}
    ordered = sorted(wanted)
    with ctx.sessions() as session:
        for start in range(0, len(ordered), _CHUNK):
            rows = session.exec(select(IdentityRecord).where(
                col(IdentityRecord.kind) == "Profile",
                col(IdentityRecord.subject).in_(ordered[start:start + _CHUNK]))
                .order_by(col(IdentityRecord.signed_at).desc(),
                          col(IdentityRecord.id).desc())).all()
            for row in rows:
                found.setdefault(row.subject, _person(row))  # the first is the newest
    institution = ctx.service.institution_address
    if institution in wanted and institution not in found:
        found[institution] = Person(address=institution, name=ui("person_institution", "en"),
                                    name_zh=ui("person_institution", "zh-Hans"),
                                    issuer=institution)
    return found


def short_address(address: str) -> str:
    """``0x1234…abcd``: enough to tell addresses apart on a page, the rest in its title."""
    return address if len(address) <= 14 else f"{address[:6]}…{address[-4:]}"


def profile_href(address: str, lang: str) -> str:
    return f"/ui/people/{address}?lang={lang}"


def person_html(address: str | None, names: dict[str, Person], lang: str) -> str:
    """A person as a page shows them: their name in ``lang`` linking to their profile page
    (full address in the link's title and on that page); a shortened address when they
    declared no profile. ``—`` for no address at all."""
    if not address:
        return "—"
    person = names.get(address)
    if person is None and address == address.lower():
        person = names.get(_checksum(address))
    href = html.escape(profile_href(address, lang), quote=True)
    full = html.escape(address, quote=True)
    if person is None or not person.display(lang):
        return (f'<a class="person unnamed" href="{href}" title="{full}" data-address="{full}">'
                f'<code>{html.escape(short_address(address))}</code></a>')
    return (f'<a class="person" href="{href}" title="{full}" data-address="{full}">'
            f'{html.escape(person.display(lang))}</a>')


def viewer_kinds(ctx: AppContext, viewer: str | None) -> frozenset[str]:
    """Who is looking, for the nav: ``guest`` when signed out; else ``person`` plus
    ``admin`` (an institution admin), ``court`` (a registered court) and ``neutral``
    (on the institution's register, or appointed as a neutral in some case)."""
    if viewer is None:
        return frozenset({"guest"})
    kinds = {"person"}
    if ctx.service.is_admin(viewer):
        kinds.add("admin")
    with ctx.sessions() as session:
        if session.get(CourtAccount, viewer) is not None:
            kinds.add("court")
        seat = session.exec(select(Participant.id).where(
            col(Participant.address) == viewer,
            col(Participant.role).in_(NEUTRAL_ROLES)).limit(1)).first()
        issued = session.exec(select(IdentityRecord.id).where(
            col(IdentityRecord.kind) == "Profile", col(IdentityRecord.subject) == viewer,
            col(IdentityRecord.issuer) != viewer).limit(1)).first()
    if (seat is not None or issued is not None) and "court" not in kinds:
        kinds.add("neutral")
    return frozenset(kinds)


def _checksum(address: str) -> str:
    from evidence.records import checksum_address

    try:
        return checksum_address(address)
    except Exception:  # not an address at all: looked up as given (finds nothing)
        return address
