"""Names instead of addresses, the nav registry, the profile pages and the way in (``GET /``).

Over HTTP against the live page world (web_world.py); profiles are signed with the test
keys exactly as a wallet would (EIP-712) and sent through the pages' own proxy.
"""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest
import sqlalchemy as sa
from eth_account import Account

from backend.web import COOKIE
from backend.web.people import Person, names_for, person_html, short_address, viewer_kinds
from evidence.records import Domain, Profile
from tests.backend.web.visible import problems
from tests.backend.web.web_world import WebWorld, declare_profile, key


def _get(world: WebWorld, path: str, who: str | None = None) -> httpx.Response:
    cookies = {COOKIE: world.token(who)} if who else {}
    return httpx.get(world.base + path, cookies=cookies, timeout=30, follow_redirects=False)


def _declare(world: WebWorld, who: str, name: str, name_zh: str, **more: Any) -> httpx.Response:
    return declare_profile(world, who, name, name_zh, **more)


@pytest.fixture(scope="module")
def named(world: WebWorld) -> WebWorld:
    """The seller and the mediator have declared profiles; the buyer has not."""
    r = _declare(world, "seller", "Shenzhen Brightway Lighting", "深圳明途照明有限公司",
                 country="CN", language="zh-Hans", contact="trade@brightway.example.cn")
    assert r.status_code == 200, r.text
    r = _declare(world, "mediator", "Marco Rossi", "", country="IT", language="en")
    assert r.status_code == 200, r.text
    return world


def test_case_page_names_people_in_the_viewers_language(named: WebWorld) -> None:
    seller, buyer = named.clients["seller"].address, named.clients["buyer"].address
    en = _get(named, f"/ui/cases/{named.case_id}?lang=en", "buyer").text
    parties = en[en.index('id="parties"'):en.index('id="timeline"')]
    assert f'href="/ui/people/{seller}?lang=en" title="{seller}"' in parties
    assert ">Shenzhen Brightway Lighting</a>" in parties
    assert ">Marco Rossi</a>" in parties
    assert "The institution</a>" in parties  # the institution's address, in words
    # no profile: the address, shortened, still one click from the full one
    assert f'title="{buyer}"' in parties and short_address(buyer) in parties
    assert f">{seller}<" not in parties  # never a bare full address as the name
    zh = _get(named, f"/ui/cases/{named.case_id}?lang=zh-Hans", "buyer").text
    parties = zh[zh.index('id="parties"'):zh.index('id="timeline"')]
    assert ">深圳明途照明有限公司</a>" in parties
    assert ">Marco Rossi</a>" in parties  # no Chinese name: the one the profile has
    assert ">仲裁机构</a>" in parties


def test_header_names_the_signed_in_person(named: WebWorld) -> None:
    page = _get(named, "/ui/cases?lang=zh-Hans", "seller").text
    who = page[page.index('class="who"'):page.index('id="sign-out"')]
    assert "深圳明途照明有限公司" in who and named.clients["seller"].address in who


def test_names_for_is_one_query_for_the_lot(named: WebWorld) -> None:
    ctx = named.app.state.ctx
    addresses = [c.address for c in named.clients.values()] + [None, ""]
    statements: list[str] = []

    def count(_conn: Any, _cursor: Any, statement: str, *_args: Any) -> None:
        statements.append(statement)

    sa.event.listen(ctx.engine, "before_cursor_execute", count)
    try:
        names = names_for(ctx, addresses)
    finally:
        sa.event.remove(ctx.engine, "before_cursor_execute", count)
    assert len([s for s in statements if "identity_record" in s]) == 1, statements
    seller = named.clients["seller"].address
    assert names[seller].name_zh == "深圳明途照明有限公司"
    assert not names[seller].issued_by_institution
    assert named.clients["buyer"].address not in names
    # a lower-case spelling finds the same person
    assert ">Shenzhen Brightway Lighting<" in person_html(seller.lower(), names, "en")


def test_newest_signed_profile_is_the_one_in_effect(named: WebWorld) -> None:
    older = int(named.clock().timestamp()) - 3600
    r = _declare(named, "mediator", "M. Rossi (old)", "", signed_at=older)
    assert r.status_code == 200, r.text
    page = _get(named, f"/ui/cases/{named.case_id}?lang=en", "buyer").text
    assert ">Marco Rossi</a>" in page and "M. Rossi (old)" not in page


def test_person_html_escapes_and_falls_back() -> None:
    a = "0x" + "ab" * 20
    p = Person(address=a, name="<b>Eve</b>", name_zh="")
    out = person_html(a, {a: p}, "zh-Hans")
    assert "&lt;b&gt;Eve&lt;/b&gt;" in out and "<b>" not in out
    assert person_html(None, {}, "en") == "—"
    assert 'class="person unnamed"' in person_html(a, {}, "en")


def test_person_page_shows_profile_and_full_address(named: WebWorld) -> None:
    seller = named.clients["seller"].address
    page = _get(named, f"/ui/people/{seller}?lang=en", "buyer")
    assert page.status_code == 200
    assert f"<code>{seller}</code>" in page.text
    assert "trade@brightway.example.cn" in page.text and ">CN<" in page.text
    assert "the person themselves" in page.text
    zh = _get(named, f"/ui/people/{seller.lower()}?lang=zh-Hans", "buyer").text
    assert "深圳明途照明有限公司" in zh and "本人" in zh and "简体中文" in zh
    buyer = named.clients["buyer"].address
    none = _get(named, f"/ui/people/{buyer}?lang=en", "seller").text
    assert 'id="profile-none"' in none and f"<code data-field=\"profile_address\">{buyer}" in none
    assert _get(named, "/ui/people/0x1234?lang=en", "buyer").status_code == 404
    assert _get(named, f"/ui/people/{seller}").status_code == 401


def test_institution_issued_profile_is_marked(named: WebWorld) -> None:
    admin = named.clients["admin"]
    court = named.clients["court"].address
    admin.post("/admin/courts", {"address": court, "name": "Hangzhou Internet Court",
                                 "nameZh": "杭州互联网法院", "country": "CN"})
    page = _get(named, f"/ui/people/{court}?lang=zh-Hans", "buyer").text
    assert "杭州互联网法院" in page and ">仲裁机构</a>" in page  # signed by the institution
    names = names_for(named.app.state.ctx, [court])
    assert names[court].issued_by_institution
    assert viewer_kinds(named.app.state.ctx, court) >= {"person", "court"}


def test_own_profile_page(named: WebWorld) -> None:
    page = _get(named, "/ui/profile?lang=en", "seller").text
    assert 'value="Shenzhen Brightway Lighting"' in page and 'id="profile-sign"' in page
    assert '<option value="zh-Hans" selected>' in page
    assert 'src="/ui/static/profile.js"' in page and 'id="profile-data"' in page
    fresh = _get(named, "/ui/profile?lang=zh-Hans", "stranger").text
    assert 'id="profile-none"' in fresh and "签署并保存资料" in fresh
    assert _get(named, "/ui/profile").status_code == 401


def test_profile_refusals_come_back_as_codes(named: WebWorld) -> None:
    # the buyer sends a profile signed by the seller's key: refused, nothing stored
    domain = Domain.from_json_obj(httpx.get(named.base + "/eip712-domain").json())
    buyer = named.clients["buyer"].address
    rec = Profile(subject=buyer, issuer=buyer, name="Mallory", name_zh="", country="",
                  language="", contact="", signed_at=int(named.clock().timestamp()))
    forged = Account.sign_typed_data(key("seller").key, full_message=rec.typed_data(domain))
    record = {"format": "chainarb.record", "v": 1, "type": "Profile",
              "domain": domain.to_json_obj(), "message": rec.to_json_obj(),
              "signatures": ["0x" + bytes(forged.signature).hex()]}
    r = httpx.put(named.base + "/ui/api/profile", json={"record": record},
                  cookies={COOKIE: named.token("buyer")}, headers={"X-Chainarb-UI": "1"})
    assert r.status_code in (400, 403) and r.json()["code"] in ("wrong_signer", "invalid_signature")
    assert "Mallory" not in _get(named, f"/ui/people/{buyer}", "seller").text


def test_nav_follows_who_is_looking(named: WebWorld) -> None:
    guest = _get(named, "/ui/sign-in?lang=en").text
    assert 'data-nav="nav_cases"' not in guest
    page = _get(named, "/ui/profile?lang=en", "buyer").text
    nav = page[page.index('<nav class="main"'):page.index("</nav>")]
    assert re.search(r'href="/ui/cases\?lang=en" data-nav="nav_cases">Cases<', nav)
    assert 'data-nav="nav_profile" aria-current=page>Your profile<' in nav
    ctx = named.app.state.ctx
    assert viewer_kinds(ctx, None) == {"guest"}
    assert viewer_kinds(ctx, named.clients["buyer"].address) == {"person"}
    assert "admin" in viewer_kinds(ctx, named.clients["admin"].address)
    assert "neutral" in viewer_kinds(ctx, named.clients["mediator"].address)


def test_every_nav_item_has_words_and_a_page(named: WebWorld) -> None:
    from backend.web.i18n import LANGS, UI
    from backend.web.pages import NAV

    for item in NAV:
        assert all(UI[item.label][lang] for lang in LANGS), item
        r = _get(named, item.path + "?lang=en", "admin")
        assert r.status_code == 200, (item, r.status_code)


def test_the_way_in(named: WebWorld) -> None:
    r = _get(named, "/")
    assert r.status_code == 303 and r.headers["location"] == "/ui?lang=en"
    r = _get(named, "/ui?lang=zh-Hans")
    assert r.status_code == 303 and r.headers["location"] == "/ui/sign-in?lang=zh-Hans"
    r = _get(named, "/ui", "buyer")
    assert r.status_code == 303 and r.headers["location"] == "/ui/cases?lang=en"
    r = httpx.get(named.base + "/", follow_redirects=True,
                  headers={"Accept-Language": "zh-CN"}, timeout=30)
    assert r.status_code == 200 and "使用钱包登录" in r.text


def test_case_list_in_words_with_the_institutions_cases_apart(named: WebWorld) -> None:
    page = _get(named, "/ui/cases?lang=en", "buyer").text
    mine = page[page.index('id="your-cases"'):]
    assert "institution-cases" not in page
    row = mine[mine.index(f'data-case="{named.case_id}"'):]
    row = row[:row.index("</tr>")]
    assert ">Order 42</a>" in row and ">Shenzhen Brightway Lighting</a>" in row
    assert ">Buyer<" in row and "Goods not as described" in row and "480.000000 tUSD" in row
    assert 'data-countdown="' in row and 'data-stage="facilitation"' in row
    admin = _get(named, "/ui/cases?lang=zh-Hans", "admin").text
    assert 'id="your-cases"' not in admin  # no seat of their own: not "Your cases"
    assert "<h1>仲裁机构：全部案件</h1>" in admin and admin.count("<tr data-case=") == 2
    assert "买方：" in admin and ">深圳明途照明有限公司</a>" in admin
    mediator = _get(named, "/ui/cases?lang=en", "mediator").text
    assert ">Mediator<" in mediator and "Buyer: " in mediator


def test_unknown_page_in_words_and_the_api_keeps_its_json(named: WebWorld) -> None:
    html_accept = {"Accept": "text/html,application/xhtml+xml"}
    r = httpx.get(named.base + "/ui/no-such-page?lang=zh-Hans", headers=html_accept)
    assert r.status_code == 404 and "页面不存在" in r.text and 'href="/ui?lang=zh-Hans"' in r.text
    assert not problems(r.text)
    r = httpx.get(named.base + "/ui/no-such-page")  # not a browser: the API's body
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = httpx.get(named.base + "/no-such-route", headers=html_accept)
    assert r.status_code == 404 and r.json()["code"] == "not_found"
    r = httpx.get(named.base + "/ui/static/nothing.js", headers=html_accept)
    assert r.status_code == 404 and "<html" not in r.text
