"""What the neutrals' and the institution's pages share: how a person, a stage, a time, an
amount and a deadline are shown, and the page's data for ``desk.js``.

Why a module of its own: ``neutral.py`` and ``institution.py`` show the same things the same
way; each keeps only its own page. Names are ``people.py``'s (``names_for``, one query a
page; ``person_html``: the name, the address one click away).
"""

from __future__ import annotations

import html
import json
from collections.abc import Mapping

from fastapi import Request

from evidence.words import DISPUTE_TYPES, REMEDIES, ROLES, word

from .i18n import STAGES
from .money import Denomination, token_of
from .people import Person, names_for, person_html

STYLESHEET = '<link rel="stylesheet" href="/ui/static/desk.css">'

__all__ = ["STYLESHEET", "countdown", "data_script", "dispute_words", "e", "money",
           "person", "role_words", "stage", "when"]


def e(value: object) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def person(address: str | None, lang: str, names: dict[str, Person] | None = None) -> str:
    """A person in words: the display name when known, the address one click away."""
    return person_html(address, names or {}, lang)


def names(request: Request, addresses: list[str | None]) -> dict[str, Person]:
    """Everyone's names a page shows, in one query."""
    return names_for(request.app.state.ctx, addresses)


def stage(value: str | None, lang: str) -> str:
    name = STAGES.get(value or "", {}).get(lang, value or "—")
    return f'<span class="stage" data-stage="{e(value)}">{e(name)}</span>'


def role_words(role: str, lang: str) -> str:
    en, zh = word(ROLES, role)
    return zh if lang == "zh-Hans" else en


def dispute_words(dispute: str | None, remedy: str | None, lang: str) -> tuple[str, str]:
    i = 1 if lang == "zh-Hans" else 0
    return (word(DISPUTE_TYPES, dispute)[i] if dispute else "—",
            word(REMEDIES, remedy)[i] if remedy else "—")


def when(value: str | None) -> str:
    """A UTC ISO 8601 time; the page's script shows it in the viewer's zone."""
    if not value:
        return "—"
    return f'<time datetime="{e(value)}">{e(value)}</time>'


def countdown(deadline: str | None) -> str:
    if not deadline:
        return ""
    return f' <span class="countdown" data-countdown="{e(deadline)}"></span>'


def money(units: int | str | None, view: Denomination) -> str:
    """Exact, with all decimals and the case's currency (``money.py``)."""
    return token_of(view).money(units)


def data_script(element_id: str, data: Mapping[str, object]) -> str:
    """Data for the page's script as inert JSON (``<`` escaped: no way out of the tag)."""
    blob = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    return (f'<script type="application/json" id="{e(element_id)}">{blob}</script>'
            f'{STYLESHEET}<script src="/ui/static/desk.js" defer></script>')
