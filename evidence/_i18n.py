"""Messages of the `chainarb` command line in English and Simplified Chinese.

Rules of this module:

* Every message a command prints lives in a `Catalog` as an (English, 简体中文) pair with
  the same `{placeholders}`; `tests/evidence/test_cli_lang.py` walks `CATALOGS` and fails
  on a pair that lacks its Chinese half.
* `CHAINARB_LANG` (en|zh) chooses; if unset, `LC_ALL`/`LC_MESSAGES`/`LANG` starting with
  `zh` select Chinese. Read at each call, so a test can switch it.
* Help texts are bilingual (`bi`): they are read before any language is chosen, and a
  court expert reading either language finds every option.
* A message never carries the content of a file the user pointed at (it may be a key):
  name the file and what is wrong with it, never what is in it.
"""

from __future__ import annotations

import os
from typing import Any

__all__ = ["CATALOGS", "Catalog", "bi", "lang"]


def lang() -> str:
    """'zh' or 'en', from CHAINARB_LANG, else the locale variables."""
    forced = os.environ.get("CHAINARB_LANG", "").strip().lower()
    if forced:
        return "zh" if forced.startswith("zh") else "en"
    for var in ("LC_ALL", "LC_MESSAGES", "LANG"):
        value = os.environ.get(var, "")
        if value:
            return "zh" if value.lower().startswith("zh") else "en"
    return "en"


def bi(en: str, zh: str) -> str:
    """A help text in both languages."""
    return f"{en} / {zh}"


class Catalog:
    """A named set of messages: `catalog(key, **values)` is the text in the user's language."""

    def __init__(self, name: str, messages: dict[str, tuple[str, str]]) -> None:
        self.name = name
        self.messages = messages
        CATALOGS.append(self)

    def __call__(self, key: str, **kwargs: Any) -> str:
        en, zh = self.messages[key]
        return (zh if lang() == "zh" else en).format(**kwargs)


CATALOGS: list[Catalog] = []
