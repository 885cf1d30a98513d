"""Words, not internals, on every page: a crawl of the rendered pages, as each kind of user,
in both languages, failing on any internal token (enum values, step names, ``#0``) or any
word left untranslated (``visible.problems``).

The crawl starts where a person starts (``/``, the nav's pages) and follows every link to
a page of the service, so a page added later is crawled without being listed here.
"""

from __future__ import annotations

import re
from collections import deque
from urllib.parse import urlsplit

import httpx
import pytest

from backend.web import COOKIE
from tests.backend.web.visible import problems, visible_text
from tests.backend.web.web_world import WebWorld

LANGS = ("en", "zh-Hans")
VIEWERS = (None, "buyer", "seller", "admin", "mediator", "court", "stranger")
MAX_PAGES = 80  # per viewer and language: far above what the world has
_HREF = re.compile(r'href="([^"#]+)"')
_NOT_PAGES = ("/ui/static/", "/ui/api/", "/ui/sign-out", "/ui/session", "/ui/chain/")


@pytest.fixture(scope="module")
def crawled(world: WebWorld) -> WebWorld:
    """Names and a court with access, so that the crawl meets every kind of row."""
    from tests.backend.web.test_web_people import _declare

    assert _declare(world, "seller", "Brightway Lighting", "明途照明").status_code == 200
    admin, court = world.clients["admin"], world.clients["court"].address
    admin.post("/admin/courts", {"address": court, "name": "Hangzhou Internet Court",
                                 "nameZh": "杭州互联网法院", "country": "CN"})
    admin.post(f"/cases/{world.case_id}/courts", {"court": court})
    return world


def _pages(world: WebWorld, who: str | None, lang: str) -> dict[str, httpx.Response]:
    """Every page reachable by links from ``/`` and the nav, as ``who`` sees it."""
    from backend.web.pages import NAV

    cookies = {COOKIE: world.token(who)} if who else {}
    seen: dict[str, httpx.Response] = {}
    todo = deque(["/", "/ui/sign-in", *(item.path for item in NAV)])
    with httpx.Client(base_url=world.base, cookies=cookies, timeout=30,
                      follow_redirects=True) as http:
        while todo and len(seen) < MAX_PAGES:
            path = todo.popleft()
            if path in seen:
                continue
            r = http.get(path, params={"lang": lang})
            seen[path] = r
            if not r.headers.get("content-type", "").startswith("text/html"):
                continue
            for href in _HREF.findall(r.text):
                url = urlsplit(href.replace("&amp;", "&"))
                if url.netloc or not url.path.startswith(("/ui", "/verify/")):
                    continue
                if url.path.startswith(_NOT_PAGES) or url.path in seen:
                    continue
                todo.append(url.path)
    return seen


@pytest.mark.parametrize("lang", LANGS)
@pytest.mark.parametrize("who", VIEWERS)
def test_every_page_in_words(crawled: WebWorld, who: str | None, lang: str) -> None:
    pages = _pages(crawled, who, lang)
    html_pages = {p: r for p, r in pages.items()
                  if r.headers.get("content-type", "").startswith("text/html")}
    assert len(html_pages) >= 2, pages.keys()
    if who in ("buyer", "admin", "mediator", "court"):
        assert any(p.startswith("/ui/cases/0x") for p in html_pages), html_pages.keys()
        assert any(p.startswith("/ui/people/0x") for p in html_pages), html_pages.keys()
    faults = {}
    for path, r in html_pages.items():
        assert r.status_code < 500, (path, r.status_code)
        assert f'<html lang="{lang}"' in r.text, path
        found = problems(r.text)
        if found:
            faults[path] = found
    assert not faults, faults


def test_the_checker_finds_what_it_must() -> None:
    """The crawl's checker is not vacuous: each kind of fault is caught, each allowed
    thing passes."""
    def page(body: str, lang: str = "en") -> str:
        return f'<html lang="{lang}"><body>{body}</body></html>'

    assert problems(page("<p>stage_changed — from: not_filed</p>"))
    assert problems(page("<td>#0 case.filed</td>"))
    assert problems(page("<p>byDefault: False</p>"))
    assert problems(page('<button aria-label="partial_refund">x</button>'))
    assert problems(page("<p>Your cases</p>", "zh-Hans"))  # an English phrase left in
    assert problems(page("<p>我的案件</p>"))  # Chinese on the English page
    assert not problems(page("<p>我的案件</p><code>0xab_cd</code>", "zh-Hans"))
    assert not problems(page('<a class="person" href="/ui/people/0x1">Lena Fischer</a>'
                             "<p>订单 42</p>", "zh-Hans"))
    assert not problems(page('<a lang="zh-Hans" href="?lang=zh-Hans">简体中文</a>'))
    assert not problems(page("<p>Run chainarb verify PACKAGE.zip, see docs/judicial-package.md"
                             " or write to trade@brightway.example.cn</p>"))
    assert not problems(page('<script>var x = "not_filed";</script><p>Filed</p>'))
    assert visible_text(page('<p title="stage_changed">Filed</p>')).text() == "Filed"
