"""The case page's fast-track section (docs/jury.md §9), server-side: the proposed
resolution with the pre-evaluation's reasons in the reader's language, the deadline and
the objection form while it is open; the objection, named by the objector's name.
(The same driven in chromium: test_web_fast_track_browser.py.)"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator

import httpx
import pytest

from backend.web import COOKIE
from tests.backend.web.fast_track_world import fast_track_world, propose
from tests.backend.web.visible import problems
from tests.backend.web.web_world import WebWorld, declare_profile


@pytest.fixture(scope="module")
def ft(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    with fast_track_world(tmp_path_factory.mktemp("fast")) as w:
        assert declare_profile(w, "buyer", "Ana Souza", "安娜·索萨").status_code == 200
        yield w


def _page(w: WebWorld, who: str, lang: str) -> str:
    r = httpx.get(f"{w.base}/ui/cases/{w.case_id}?lang={lang}",
                  cookies={COOKIE: w.token(who)}, timeout=30)
    assert r.status_code == 200, r.text
    return r.text


def _section(page: str) -> str:
    m = re.search(r'<section id="fast-track".*?</section>', page, re.S)
    assert m, "no fast-track section"
    return m.group(0)


def test_a_party_reads_the_proposal_and_its_reasons_then_objects(ft: WebWorld) -> None:
    w = ft
    assert 'id="fast-track"' not in _page(w, "buyer", "en")  # nothing proposed yet
    mediator = _page(w, "mediator", "zh-Hans")
    assert 'data-step="fast_track"' in mediator  # the mediator's form, with what it proposes
    prop = propose(w, w.case_id)
    reasons = prop["report"]["reasons"]
    form = mediator[mediator.index('id="step-fast_track"'):]
    form = form[:form.index("</form>")]
    assert "您将提出的内容" in form and "部分退款" in form and "120.000000 tUSD" in form
    assert all(html.escape(r["zh-Hans"]) in form for r in reasons)
    assert problems(mediator) == []

    en = _page(w, "buyer", "en")
    sec = _section(en)
    assert 'data-state="pending"' in sec and "unless one of them objects" in sec
    assert 'data-countdown="' in sec  # the deadline, shown in local time with a countdown
    assert "<ol id=\"fast-track-reasons\">" in sec and "(rule PE-" in sec
    assert all(html.escape(r["en"]) in sec for r in reasons) and reasons
    assert "Partial refund" in sec or "partial refund" in sec
    assert "tUSD" in sec and 'data-step="fast_track_objection"' in en
    assert en.index('id="fast-track"') < en.index('id="actions"')  # read before objecting
    zh = _page(w, "buyer", "zh-Hans")
    sec = _section(zh)
    assert all(html.escape(r["zh-Hans"]) in sec for r in reasons)
    assert "除非一方在截止时间前提出异议" in sec and "规则 PE-" in sec and "预评估理由" in sec
    assert problems(zh) == [] and problems(en) == []
    # the mediator reads the same section and has no objection to make
    assert 'data-step="fast_track_objection"' not in _page(w, "mediator", "en")

    buyer = w.clients["buyer"]
    buyer.post(f"/cases/{w.case_id}/fast-track/objection",
               buyer.plain(w.case_id, "fasttrack.objected"))
    for lang, words in (("en", "objected: the proposal does not bind"),
                        ("zh-Hans", "已提出异议：本建议不具约束力")):
        page = _page(w, "seller", lang)
        sec = _section(page)
        assert 'data-state="objected"' in sec and words in sec
        assert ("Ana Souza" if lang == "en" else "安娜·索萨") in sec  # a name, not 0x…
        assert problems(page) == []
