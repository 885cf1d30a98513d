"""What a reader of a page sees, and what must never be there: internal tokens (enum values,
step names, JSON keys) and words of the wrong language.

``visible_text`` walks the HTML with the standard library's parser: text nodes outside
script, style and template, plus the attributes a person perceives (``title`` is not one:
it holds full addresses and hashes for those who hover). ``problems`` names what is wrong.
Not checked: names (``a.person``), what people typed (marked ``translate="no"``), code
(hashes, addresses), ``<time>`` (rewritten to local time by the browser); text marked with
another language (the language switch) is checked for tokens only.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from html.parser import HTMLParser

__all__ = ["Seen", "problems", "visible_text"]

_SKIP_TAGS = {"script", "style", "template", "code", "time", "noscript"}
_VOID = {"area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "param",
         "source", "track", "wbr"}
_READ_ATTRS = ("aria-label", "placeholder", "alt")

# enum-looking: snake_case words, dotted step names (case.filed), '#0', Python booleans,
# a label with a colon and a snake key (from: not_filed)
_ENUM = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b[a-z]{2,}\.[a-z][a-z_]+\b|#\d+\b|"
                   r"\b(?:True|False|None)\b")
_FILE = re.compile(r"\b[\w./-]+\.(?:md|json|zip|pdf|txt|jpg|png|csv|html)\b")
_EMAIL = re.compile(r"\S+@\S+")
# technical names a page may show as they are (protocol and tool names, not our internals)
ALLOWED = ("personal_sign", "eth_signTypedData_v4", "window.ethereum")
_CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
_ENGLISH = re.compile(r"\b[A-Za-z]{3,}\s+[a-z]{3,}\b")


@dataclass
class Seen:
    """Visible text of a page, as (text, language it is marked with) pieces."""

    pieces: list[tuple[str, str]] = field(default_factory=list)

    def text(self) -> str:
        return " ".join(t for t, _ in self.pieces)


class _Reader(HTMLParser):
    def __init__(self, lang: str) -> None:
        super().__init__(convert_charrefs=True)
        self.stack: list[tuple[str, bool, str]] = []  # tag, skipped, language
        self.lang = lang
        self.seen = Seen()

    def _skipped(self) -> bool:
        return bool(self.stack) and self.stack[-1][1]

    def _lang(self) -> str:
        return self.stack[-1][2] if self.stack else self.lang

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        a = dict(attrs)
        if tag == "html" and a.get("lang"):
            self.lang = a["lang"] or self.lang
        classes = (a.get("class") or "").split()
        skipped = (self._skipped() or tag in _SKIP_TAGS or "person" in classes
                   or a.get("type") == "hidden" or "hidden" in a or a.get("translate") == "no")
        lang = a.get("lang") or self._lang()
        if not skipped:
            for name in _READ_ATTRS:
                if a.get(name):
                    self.seen.pieces.append((a[name] or "", lang))
            if tag == "input" and a.get("type") in ("submit", "button") and a.get("value"):
                self.seen.pieces.append((a["value"] or "", lang))
        if tag not in _VOID:
            self.stack.append((tag, skipped, lang))

    def handle_endtag(self, tag: str) -> None:
        for i in range(len(self.stack) - 1, -1, -1):
            if self.stack[i][0] == tag:
                del self.stack[i:]
                return

    def handle_data(self, data: str) -> None:
        if not self._skipped() and data.strip():
            self.seen.pieces.append((" ".join(data.split()), self._lang()))


def visible_text(html: str, lang: str = "en") -> Seen:
    reader = _Reader(lang)
    reader.feed(html)
    reader.close()
    return reader.seen


def problems(html: str) -> list[str]:
    """Internal tokens anywhere a reader looks; English left on a Chinese page; Chinese on
    an English one (outside names and what is marked as another language)."""
    seen = visible_text(html)
    page_lang = re.search(r'<html lang="([^"]+)"', html)
    lang = page_lang.group(1) if page_lang else "en"
    found = []
    for text, marked in seen.pieces:
        clean = _EMAIL.sub(" ", _FILE.sub(" ", text))
        for word in ALLOWED:
            clean = clean.replace(word, " ")
        for m in _ENUM.finditer(clean):
            found.append(f"internal token {m.group(0)!r} in {text!r}")
        if marked != lang:
            continue
        if lang == "zh-Hans" and _ENGLISH.search(clean):
            found.append(f"English on the Chinese page: {text!r}")
        if lang == "en" and _CJK.search(clean):
            found.append(f"Chinese on the English page: {text!r}")
    return found
