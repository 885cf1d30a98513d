"""The server-rendered pages over HTTP: sign-in gate, languages, what each viewer sees."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from backend.services.escrow import TokenMeta
from backend.web import COOKIE
from tests.backend.web.visible import problems
from tests.backend.web.web_world import CHAIN_ID, ORDER_ID, ROOT, TX, WebWorld, token_case

DAI = "0x" + "d1" * 20  # an 18-decimal token
DAI_AMOUNT = 1_234_567_890_123_456_789_012  # 1,234.567890123456789012 DAI
DAI_GUARANTEE = 5 * 10**18 + 1  # 5.000000000000000001 DAI


def _get(world: WebWorld, path: str, who: str | None = None, **headers: str) -> httpx.Response:
    cookies = {COOKIE: world.token(who)} if who else {}
    return httpx.get(world.base + path, cookies=cookies, headers=headers, timeout=30,
                     follow_redirects=False)


def test_pages_ask_for_sign_in_without_a_session(world: WebWorld) -> None:
    r = _get(world, "/ui/cases")
    assert r.status_code == 401 and "/ui/sign-in?lang=en" in r.text
    r = _get(world, "/ui/cases", **{"Accept-Language": "zh-CN,zh;q=0.9,en;q=0.5"})
    assert r.status_code == 401 and "请登录后查看您的案件" in r.text
    assert r.headers["content-language"] == "zh-Hans"
    r = _get(world, f"/ui/cases/{world.case_id}")
    assert r.status_code == 401 and 'id="timeline"' not in r.text
    assert world.clients["buyer"].address not in r.text
    r = httpx.get(world.base + "/ui/cases", cookies={COOKIE: "x" * 43}, timeout=30)
    assert r.status_code == 401  # a made-up token is no session


def test_session_cookie_only_from_a_live_token(world: WebWorld) -> None:
    r = httpx.post(world.base + "/ui/session", json={"token": "y" * 43}, timeout=30)
    assert r.status_code == 401
    r = httpx.post(world.base + "/ui/session", json={"token": world.token("buyer")},
                   timeout=30)
    assert r.status_code == 204
    cookie = r.headers["set-cookie"].lower()
    assert "httponly" in cookie and "samesite=strict" in cookie


def test_case_list_in_both_languages(world: WebWorld) -> None:
    r = _get(world, "/ui/cases?lang=en", "buyer")
    assert r.status_code == 200
    assert f'/ui/cases/{world.case_id}?lang=en' in r.text and ">Your cases<" in r.text
    assert 'data-stage="facilitation"' in r.text and "facilitated settlement" in r.text
    r = _get(world, "/ui/cases?lang=zh-Hans", "buyer", **{"Accept-Language": "en"})
    assert 'lang="zh-Hans"' in r.text and "我的案件" in r.text and ">调解<" in r.text
    # the stranger takes part in nothing
    r = _get(world, "/ui/cases", "stranger")
    assert world.case_id not in r.text and "No cases yet." in r.text


def test_case_page_shows_the_record(world: WebWorld) -> None:
    r = _get(world, f"/ui/cases/{world.case_id}?lang=en", "buyer")
    assert r.status_code == 200
    page = r.text
    for section in ("summary", "parties", "timeline", "evidence", "award", "anchors"):
        assert f'id="{section}"' in page, section
    assert f"Escrow order {ORDER_ID}" in page
    assert "480.000000" in page and "200.000000" in page  # exact amounts
    assert world.clients["buyer"].address in page and world.clients["seller"].address in page
    steps = re.findall(r'<tr class="step" data-action="([a-z_.]+)"', page)
    # filing, evidence, facilitation, mediator (caucus item hidden)
    assert steps == ["case.filed", "evidence.submitted", "facilitation.requested",
                     "appoint.mediator"]
    assert ">case.filed<" not in page and "#0 " not in page  # the step in words only
    assert not problems(page), problems(page)
    assert "The case moved from “filed” to “facilitated settlement”." in page
    assert "Goods not as described" in page and "Partial refund" in page
    assert "not_as_described" not in page and "partial_refund" not in page
    assert "480.000000 tUSD" in page
    # each step in words (the step table's past tense), in the page's language
    assert "Claim filed (dispute type and remedy stated)" in page
    assert "Mediator appointed by the institution" in page
    zh = _get(world, f"/ui/cases/{world.case_id}?lang=zh-Hans", "buyer").text
    assert "提起申请（载明争议类型与请求事项）" in zh and "机构指定调解员" in zh
    # times are UTC ISO in the data, for the script to show in local time
    assert re.search(r'<time datetime="\d{4}-\d\d-\d\dT[\d:.]+Z">', page)
    assert ROOT[:12] in page and TX[:12] in page
    assert f"embedded chain ({CHAIN_ID})" in page  # each anchor's chain, by its name
    assert "No award yet." in page


def test_evidence_as_each_viewer_may_see_it(world: WebWorld) -> None:
    buyer = _get(world, f"/ui/cases/{world.case_id}", "buyer").text
    seller = _get(world, f"/ui/cases/{world.case_id}", "seller").text
    mediator = _get(world, f"/ui/cases/{world.case_id}", "mediator").text
    admin = _get(world, f"/ui/cases/{world.case_id}", "admin").text

    def evidence_rows(page: str) -> int:
        part = page.split('id="evidence"', 1)[1].split("</section>", 1)[0]
        return part.count("<tr>") - 1 if "<tbody>" in part else 0

    assert evidence_rows(buyer) == 1  # the seller's caucus item is not even listed
    assert evidence_rows(seller) == 2
    assert evidence_rows(mediator) == 2
    assert evidence_rows(admin) == 2 and "no (metadata only)" in admin


def test_strangers_and_unknown_cases(world: WebWorld) -> None:
    r = _get(world, f"/ui/cases/{world.case_id}", "stranger")
    assert r.status_code == 403 and "You take no part in this case." in r.text
    assert world.clients["buyer"].address not in r.text
    r = _get(world, "/ui/cases/0x" + "00" * 32 + "?lang=zh-Hans", "buyer")
    assert r.status_code == 404 and "案件不存在" in r.text


def test_values_are_escaped(world: WebWorld) -> None:
    r = _get(world, "/ui/cases/%22%3E%3Cimg%20src%3Dx%20onerror%3Dalert(1)%3E?lang=%3Cb%3E",
             "buyer")
    assert r.status_code == 404
    assert "<img src=x" not in r.text and "&lt;img src=x onerror=alert(1)&gt;" in r.text
    assert 'lang="en"' in r.text  # an unknown ?lang= falls back


def test_sign_in_page_and_sign_out(world: WebWorld) -> None:
    r = _get(world, "/ui/sign-in?lang=zh-Hans")
    assert r.status_code == 200 and "<h1>登录</h1>" in r.text
    # the four ways in (web/wallet.py), the wallet and the page's script from this origin
    for section in ("unlock-section", "create-section", "restore-section", "extension-section"):
        assert f'id="{section}"' in r.text
    assert '<script src="/ui/static/wallet.js" defer></script>' in r.text
    assert '<script src="/ui/static/sign-in.js" defer></script>' in r.text
    # sign-out revokes the session the cookie held
    token = world.clients["stranger"].token
    r = httpx.post(world.base + "/ui/sign-out", cookies={COOKIE: token}, timeout=30,
                   follow_redirects=False)
    assert r.status_code == 303 and COOKIE in r.headers["set-cookie"]
    r = httpx.get(world.base + "/auth/me", headers={"Authorization": f"Bearer {token}"},
                  timeout=30)
    assert r.status_code == 401


# --- the actions: forms by role, the page's way to the API --------------------------------

def _forms(html: str) -> list[str]:
    return re.findall(r'<form class="step" data-step="([a-z_]+)"', html)


def _case_data(html: str) -> dict[str, Any]:
    import json

    m = re.search(r'<script type="application/json" id="case-data">(.*?)</script>', html, re.S)
    assert m, "no case data"
    return json.loads(m.group(1))


def test_forms_follow_allowed_steps_for_each_viewer(world: WebWorld) -> None:
    for who in ("buyer", "seller", "mediator", "admin"):
        api = world.clients[who].get(f"/cases/{world.case_id}")
        r = _get(world, f"/ui/cases/{world.case_id}", who)
        assert r.status_code == 200
        data = _case_data(r.text)
        # What the page signs over is exactly what the API says.
        for k in ("nextSequence", "prevHash", "domain", "allowedSteps"):
            assert data[k] == api[k], (who, k)
        assert data["viewer"] == world.clients[who].address
        forms = _forms(r.text)
        assert ("evidence" in forms) == ("evidence.submitted" in api["allowedSteps"])
        assert ("agree" in forms) == ("arbitration.agreed" in api["allowedSteps"])
        assert "close" not in forms and "objection" not in forms
    # A party in facilitation: evidence and the arbitration agreement; the mediator: the
    # pre-evaluation, a proposal, an impasse; the admin nothing (the mediator is appointed).
    assert _forms(_get(world, f"/ui/cases/{world.case_id}", "buyer").text) == \
        ["offer", "evidence", "agree"]
    mediator = _get(world, f"/ui/cases/{world.case_id}", "mediator").text
    assert _forms(mediator) == ["preeval", "propose", "impasse"]
    assert 'id="other-steps"' not in mediator
    admin = _get(world, f"/ui/cases/{world.case_id}", "admin").text
    assert _forms(admin) == [] and "appoint.mediator" in _case_data(admin)["allowedSteps"]
    zh = _get(world, f"/ui/cases/{world.case_id}?lang=zh-Hans", "mediator").text
    assert "发布预评估报告" in zh and "宣布调解不成" in zh and "提出调解方案" in zh
    # Every field has a label; the data blob cannot close its script element.
    buyer = _get(world, f"/ui/cases/{world.case_id}?lang=zh-Hans", "buyer").text
    ids = re.findall(r'<(?:input|select|textarea) id="([^"]+)"', buyer)
    assert ids and all(f'<label for="{i}">' in buyer for i in ids)
    assert "上传证据" in buyer and "签署仲裁协议" in buyer
    blob = re.search(r'id="case-data">(.*?)</script>', buyer, re.S)
    assert blob and "</" not in blob.group(1)


def test_stranger_sees_no_forms(world: WebWorld) -> None:
    world.clients["stranger"].sign_in()  # an earlier test signed the stranger out
    r = _get(world, f"/ui/cases/{world.case_id}", "stranger")
    assert r.status_code == 403 and 'id="actions"' not in r.text and "case-data" not in r.text


def _proxy(world: WebWorld, method: str, path: str, who: str | None = "buyer",
           **kw: Any) -> httpx.Response:
    cookies = {COOKIE: world.token(who)} if who else {}
    return httpx.request(method, world.base + "/ui/api/" + path, cookies=cookies, timeout=30,
                         **kw)


def test_proxy_forwards_with_the_cookie_and_keeps_api_errors(world: WebWorld) -> None:
    r = _proxy(world, "GET", f"cases/{world.case_id}")
    assert r.status_code == 200 and r.json()["caseId"] == world.case_id
    # The API's own refusal, code and status, comes through unchanged.
    r = _proxy(world, "POST", f"cases/{world.case_id}/close-record",
               json={"record": {"format": "nonsense"}}, headers={"X-Chainarb-UI": "1"})
    assert r.status_code == 422 and "code" in r.json(), r.text
    world.clients["stranger"].sign_in()
    r = _proxy(world, "GET", f"cases/{world.case_id}", who="stranger")
    assert r.status_code == 403 and r.json()["code"] == "access_denied"


def test_proxy_refusals(world: WebWorld) -> None:
    # No session; a write without the page's header (a cross-site form cannot set it);
    # anything outside cases/ (admin endpoints, sign-in) is not forwarded.
    assert _proxy(world, "GET", f"cases/{world.case_id}", who=None).status_code == 401
    r = _proxy(world, "POST", f"cases/{world.case_id}/arbitration-agreement", json={})
    assert r.status_code == 403 and r.json()["detail"] == "missing X-Chainarb-UI"
    for path in ("admin/tick", "auth/me", "cases/../admin/tick", "openapi.json"):
        r = _proxy(world, "POST", path, headers={"X-Chainarb-UI": "1"}, json={})
        assert r.status_code == 404, path
    r = _proxy(world, "DELETE", f"cases/{world.case_id}", headers={"X-Chainarb-UI": "1"})
    assert r.status_code == 405


def test_actions_script_is_served(world: WebWorld) -> None:
    r = _get(world, "/ui/static/actions.js")
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/javascript")
    js = r.text
    assert "eth_signTypedData_v4" in js and "parseFloat" not in js and "Number(form" in js


@pytest.mark.parametrize("name", ["../pages.py", "pages.py", "nothing.js", ".hidden.js",
                                  "actions", "%2e%2e%2fpages.py"])
def test_static_route_serves_only_static_files(world: WebWorld, name: str) -> None:
    r = _get(world, f"/ui/static/{name}")
    assert r.status_code == 404


def test_every_form_renders_in_both_languages() -> None:
    """Every step the page has a form for renders in English and Chinese with every label
    translated (no KeyError, no English left in the Chinese page's forms)."""
    from backend.web.actions import HANDLED, actions_section
    from backend.web.i18n import LANGS, STAGES, UI, T

    for table in (T, STAGES, UI):
        for k, v in table.items():
            assert set(v) == set(LANGS) and all(v.values()), k
    # a page's data in part (CaseDataJson): the members the forms read here
    data: Any = {"caseId": "0x" + "11" * 32, "orderId": "1", "viewer": "0x" + "22" * 20,
            "amount": "480000000", "guarantee": "200000000", "decimals": 6,
            "nextSequence": 3, "prevHash": "0x" + "33" * 32, "domain": {},
            "allowedSteps": sorted(HANDLED), "serverNow": 0, "offers": {},
            "awardRecordHash": "0x" + "44" * 32, "mediator": None, "messages": {},
            "fastTrack": {"open": True}}
    forms = {}
    for lang in LANGS:
        html = actions_section(data, lang)
        forms[lang] = _forms(html)
        ids = re.findall(r'<(?:input|select|textarea) id="([^"]+)"', html)
        assert ids and all(f'<label for="{i}">' in html for i in ids), lang
        assert 'id="other-steps"' not in html
    assert forms["en"] == forms["zh-Hans"] == [
        "offer", "file", "evidence", "facilitation", "agree", "answer",
        "fast_track_objection", "objection", "preeval", "propose", "fast_track", "impasse",
        "appoint_mediator", "appoint_arbitrator", "appoint_panel",
        "close", "award", "panel_award", "confirm", "refuse", "enforce"]
    zh = actions_section(data, "zh-Hans")
    for key in ("appoint_panel_title", "award_file_label", "refusal_reasons_label",
                "tracking_damaged", "sign_enforce"):
        assert UI[key]["zh-Hans"].split("{")[0] in zh and UI[key]["en"] not in zh, key


def test_the_fast_track_forms_show_while_their_steps_are_allowed() -> None:
    """The mediator's proposal and a party's objection (docs/jury.md "Fast track"): each form
    only while the procedure allows its step, in both languages, with its handler."""
    from pathlib import Path

    from backend.web.actions import actions_section
    from backend.web.i18n import UI

    # a page's data in part (CaseDataJson): the members the forms read here
    data: Any = {"caseId": "0x" + "11" * 32, "orderId": "1", "viewer": "0x" + "22" * 20,
            "amount": "480000000", "guarantee": "200000000", "decimals": 6,
            "nextSequence": 3, "prevHash": "0x" + "33" * 32, "domain": {}, "serverNow": 0,
            "offers": {}, "awardRecordHash": None, "mediator": None, "messages": {},
            "fastTrack": {"open": True}}
    for lang in ("en", "zh-Hans"):
        closed = data | {"fastTrack": {"open": False}, "allowedSteps": ["fasttrack.proposed"]}
        assert _forms(actions_section(closed, lang)) == []  # the rules keep it closed
        for allowed, forms in ((["fasttrack.proposed"], ["fast_track"]),
                               (["fasttrack.objected"], ["fast_track_objection"]),
                               (["impasse.declared"], ["impasse"])):
            html = actions_section(data | {"allowedSteps": allowed}, lang)
            assert _forms(html) == forms
        html = actions_section(data | {"allowedSteps": ["fasttrack.objected"]}, lang)
        assert UI["fast_track_objection_text"][lang] in html
    js = (Path(__file__).parents[3] / "backend/web/static/actions.js").read_text()
    assert "fast_track: async function" in js and "'fasttrack.proposed'" in js
    assert "fast_track_objection: function" in js and "'fasttrack.objected'" in js


def test_no_second_panel_award_form_for_a_panelist_who_signed() -> None:
    """A panelist signs once (a second signature is refused ``duplicate_action``): the
    page offers the form only until the viewer's own signature is in ``panelSignedBy``."""
    from backend.web.actions import actions_section

    me = "0x" + "aB" * 20
    # a page's data in part (CaseDataJson): the members the forms read here
    data: Any = {"caseId": "0x" + "11" * 32, "orderId": "1", "viewer": me, "amount": "480000000",
            "guarantee": "200000000", "decimals": 6, "nextSequence": 9,
            "prevHash": "0x" + "33" * 32, "domain": {}, "serverNow": 0, "offers": {},
            "allowedSteps": ["award.panel_signed", "enforcement.requested"],
            "awardRecordHash": None, "mediator": None, "messages": {}}
    for signed_by, forms in (([], ["panel_award", "enforce"]),
                             (["0x" + "cd" * 20], ["panel_award", "enforce"]),
                             (["0x" + "cd" * 20, me.lower()], ["enforce"])):
        for lang in ("en", "zh-Hans"):
            assert _forms(actions_section(data | {"panelSignedBy": signed_by}, lang)) == forms


def _wallet_context(page: str) -> dict[str, object]:
    import json

    m = re.search(r'<script type="application/json" id="chainarb-wallet-context">(.*?)</script>',
                  page)
    assert m, "no wallet context on the page"
    out: dict[str, object] = json.loads(m.group(1))
    return out


def test_amounts_in_the_orders_own_token(world: WebWorld) -> None:
    """The case view carries the order's token, symbol and decimals (read from the escrow
    and its ERC-20); every amount a page shows or a form takes uses them, exactly."""
    dai = token_case(world, 71, DAI, TokenMeta("DAI", 18), DAI_AMOUNT, DAI_GUARANTEE)
    eth = token_case(world, 72, "0x" + "00" * 20, None, 10**18, 0)
    buyer = world.clients["buyer"]
    view = buyer.get(f"/cases/{dai}")
    assert (view["token"], view["currency"], view["decimals"]) == (DAI, "DAI", 18)
    six = buyer.get(f"/cases/{world.case_id}")
    assert (six["currency"], six["decimals"]) == ("tUSD", 6)
    assert (buyer.get(f"/cases/{eth}")["currency"], buyer.get(f"/cases/{eth}")["decimals"]) \
        == ("ETH", 18)
    listed = {c["caseId"]: (c["currency"], c["decimals"]) for c in buyer.get("/cases")}
    assert listed[dai] == ("DAI", 18) and listed[world.case_id] == ("tUSD", 6)

    en = _get(world, f"/ui/cases/{dai}?lang=en", "buyer").text
    assert "1,234.567890123456789012 DAI" in en and "5.000000000000000001 DAI" in en
    assert "Refund to the buyer (DAI)" in en and "Compensation from the guarantee (DAI)" in en
    assert "Up to 1,234.567890123456789012 DAI, at most 18 decimals" in en
    assert 'data-currency="DAI"' in en and "tUSD" not in en
    data = _case_data(en)
    assert (data["decimals"], data["currency"]) == (18, "DAI")
    assert data["messages"]["err_amount_decimals"] == (
        "At most 18 decimals: DAI's smallest unit is 0.000000000000000001.")
    ctx = _wallet_context(en)
    assert (ctx["decimals"], ctx["currency"], ctx["chainId"]) == (18, "DAI", str(CHAIN_ID))
    zh = _get(world, f"/ui/cases/{dai}?lang=zh-Hans", "buyer").text
    assert "退还买方金额（DAI）" in zh and "最多 18 位小数" in zh and "tUSD" not in zh
    assert _case_data(zh)["messages"]["err_amount_decimals"] == (
        "最多 18 位小数：DAI 的最小单位是 0.000000000000000001。")
    # The 6-decimal case keeps its own.
    en6 = _get(world, f"/ui/cases/{world.case_id}?lang=en", "buyer").text
    assert "480.000000 tUSD" in en6 and "DAI" not in en6
    assert _wallet_context(en6)["decimals"] == 6
    eth_page = _get(world, f"/ui/cases/{eth}?lang=en", "buyer").text
    assert "1.000000000000000000 ETH" in eth_page
    # The case list: each case in its own token.
    cases = _get(world, "/ui/cases?lang=en", "buyer").text
    assert "1,234.567890123456789012 DAI" in cases and "480.000000 tUSD" in cases


def test_amounts_in_units_while_the_escrow_cannot_be_read(world: WebWorld) -> None:
    """No guess: without the token's decimals an amount is the integer it is."""
    from backend.web.money import money, token_of

    assert money("480000000", {"decimals": None, "currency": None}) == "480000000"
    assert money("480000000", {"decimals": 6, "currency": "tUSD"}) == "480.000000 tUSD"
    assert token_of({"decimals": 18, "currency": "DAI"}).unit() == "0.000000000000000001"
    assert token_of({"decimals": 0, "currency": "PTS"}).unit() == "1"
    service = world.app.state.ctx.service
    assert service.order_token(999_999) is None  # no such order: nothing cached, no guess
    assert 999_999 not in service._order_tokens
    # A miss is not retried on every read (a chain outage would cost each view a call)...
    asked: list[int] = []
    real = service.port.read_order

    def counting(order_id: int) -> object:
        asked.append(order_id)
        return real(order_id)

    service.port.read_order = counting
    try:
        assert service.order_token(999_999) is None and asked == []
        # ...but is once the retry time has passed.
        service._order_token_misses[999_999] -= 60
        assert service.order_token(999_999) is None and asked == [999_999]
    finally:
        service.port.read_order = real


def test_the_web_router_is_mounted_once(world: WebWorld) -> None:
    from backend.web import router

    mounted = [r for r in world.app.routes if getattr(r, "original_router", None) is router]
    assert len(mounted) == 1


def test_the_mediators_report_reads_the_evidence_unless_a_what_if_is_chosen() -> None:
    """The pre-evaluation form's default asks for the report the order's performance
    evidence gives; the tracking statuses are offered only as a labelled what-if."""
    from html import escape

    from backend.web.actions import TRACKING, actions_section
    from backend.web.i18n import UI

    # a page's data in part (CaseDataJson): the members the forms read here
    data: Any = {"caseId": "0x" + "11" * 32, "orderId": "1", "viewer": "0x" + "22" * 20,
            "amount": "480000000", "guarantee": "200000000", "decimals": 6,
            "nextSequence": 3, "prevHash": "0x" + "33" * 32, "domain": {},
            "allowedSteps": ["preevaluation.published"], "serverNow": 0, "offers": {},
            "mediator": None, "messages": {}}
    for lang in ("en", "zh-Hans"):
        html = actions_section(data, lang)
        select = html.split('id="step-preeval-tracking"', 1)[1].split("</select>", 1)[0]
        values = re.findall(r'<option value="([a-z_]*)"', select)
        assert values == ["", *TRACKING]  # the evidence first, then every what-if
        assert re.search(r'<option value="" selected>', select)
        assert f'<optgroup label="{escape(UI["tracking_whatif"][lang])}">' in select
        assert escape(UI["tracking_from_evidence"][lang]) in select
