"""The institution's page and the neutrals' pages over HTTP: who gets them, what they show,
and the admin calls the institution page makes through the pages' proxy."""

from __future__ import annotations

import html
import json
import re
from datetime import UTC, datetime
from typing import Any

import httpx
import pytest
from eth_account import Account

from backend.db import write_scope
from backend.db.service_models import ChainAction, ChainActionStatus
from backend.web import COOKIE
from evidence.records import SignedRecord
from evidence.safejson import JsonObject
from tests.backend.web.web_world import ORDER_ID, WebWorld, key


def _get(world: WebWorld, path: str, who: str | None = None) -> httpx.Response:
    cookies = {COOKIE: world.token(who)} if who else {}
    return httpx.get(world.base + path, cookies=cookies, timeout=30, follow_redirects=False)


def _post(world: WebWorld, path: str, who: str, body: dict[str, Any] | None = None,
          ui: bool = True) -> httpx.Response:
    headers = {"X-Chainarb-UI": "1"} if ui else {}
    return httpx.post(world.base + "/ui/api/" + path, json=body, headers=headers,
                      cookies={COOKIE: world.token(who)}, timeout=30)


def _desk_data(html: str) -> dict[str, Any]:
    m = re.search(r'<script type="application/json" id="desk-data">(.*?)</script>', html, re.S)
    assert m, "no desk data"
    return json.loads(m.group(1))


def _section(html: str, sid: str) -> str:
    return html.split(f'id="{sid}"', 1)[1].split("</section>", 1)[0]


# --- the institution's page ---------------------------------------------------------------

def test_institution_page_is_for_admins(world: WebWorld) -> None:
    r = _get(world, "/ui/institution")
    assert r.status_code == 401 and "/ui/sign-in" in r.text
    r = _get(world, "/ui/institution?lang=zh-Hans", "buyer")
    assert r.status_code == 403 and "本页面仅供仲裁机构管理员使用" in r.text
    assert world.case_id not in r.text
    r = _get(world, "/ui/institution?lang=en", "admin")
    assert r.status_code == 200
    for sid in ("cases-all", "chain-actions", "register"):
        assert f'id="{sid}"' in r.text, sid


def test_every_case_under_its_own_heading(world: WebWorld) -> None:
    page = _get(world, "/ui/institution?lang=en", "admin").text
    for case_id in (world.case_id, world.case2):
        assert f'<section class="case" id="case-{case_id}"' in page
        assert f'id="case-{case_id}-h"' in page
    one = _section(page, f"case-{world.case_id}")
    assert f"escrow order {ORDER_ID}" in one and 'data-stage="facilitation"' in one
    assert "goods not as described" in one and "partial refund" in one  # words, not enums
    assert "not_as_described" not in one and "partial_refund" not in one
    assert "480.000000 tUSD" in one and "200.000000 tUSD" in one
    zh = _section(_get(world, "/ui/institution?lang=zh-Hans", "admin").text,
                  f"case-{world.case_id}")
    assert "货物与描述不符" in zh and "部分退款" in zh and "调解" in zh


def test_register_a_neutral_and_a_court_from_the_page(world: WebWorld) -> None:
    neutral = key("register-neutral").address
    court = key("register-court").address
    # without the page's header the proxy refuses a write (no cross-site form posts)
    r = _post(world, "admin/neutrals", "admin", {"address": neutral, "name": "x"}, ui=False)
    assert r.status_code == 403 and r.json()["code"] == "access_denied"
    # a party may not register anyone: the API's own check, through the proxy
    r = _post(world, "admin/neutrals", "buyer", {"address": neutral, "name": "x"})
    assert r.status_code == 403
    r = _post(world, "admin/neutrals", "admin", {
        "address": neutral, "name": "Dr. Ana Costa", "nameZh": "安娜·科斯塔博士",
        "country": "PT", "language": "en", "contact": "ana@example.org"})
    assert r.status_code == 201, r.text
    r = _post(world, "admin/courts", "admin", {"address": court, "name": "Hangzhou Internet "
                                               "Court", "nameZh": "杭州互联网法院",
                                               "country": "CN"})
    assert r.status_code == 201, r.text
    en = _section(_get(world, "/ui/institution?lang=en", "admin").text, "register")
    assert "Dr. Ana Costa" in en and "Hangzhou Internet Court" in en
    row = en.split(f'data-address="{neutral}"', 1)[1].split("</tr>", 1)[0]
    assert "neutral (mediator or arbitrator)" in row and "PT" in row
    row = en.split(f'data-address="{court}"', 1)[1].split("</tr>", 1)[0]
    assert ">court<" in row
    zh = _section(_get(world, "/ui/institution?lang=zh-Hans", "admin").text, "register")
    assert "安娜·科斯塔博士" in zh and "杭州互联网法院" in zh and "法院" in zh
    # the registered court is offered in each case's access form
    page = _get(world, "/ui/institution?lang=en", "admin").text
    grant = _section(page, f"case-{world.case_id}")
    assert f'<option value="{court}">Hangzhou Internet Court</option>' in grant
    # the profile the institution signed is the one in effect for the neutral
    prof = world.clients["buyer"].get(f"/profiles/{neutral}")
    assert prof["name"] == "Dr. Ana Costa" and prof["issuer"] != neutral


def test_chain_actions_queue_with_retry(world: WebWorld) -> None:
    now = datetime.now(UTC)
    with write_scope(world.app.state.ctx.sessions) as s:
        failed = ChainAction(case_id=world.case2, kind="appoint_arbitrator", payload={},
                             status=ChainActionStatus.FAILED, attempts=5,
                             error="node unreachable", created_at=now, updated_at=now)
        done = ChainAction(case_id=world.case2, kind="freeze", payload={},
                           status=ChainActionStatus.DONE, attempts=1, tx_hash="0x" + "ab" * 32,
                           created_at=now, updated_at=now)
        s.add(failed)
        s.add(done)
        s.flush()
        failed_id, done_id = failed.id, done.id
    page = _get(world, "/ui/institution?lang=en", "admin").text
    table = _section(page, "chain-actions")
    row = table.split(f'id="chain-action-{failed_id}"', 1)[1].split("</tr>", 1)[0]
    assert "Register the arbitrator on the escrow" in row and ">failed<" in row
    assert "node unreachable" in row and f'data-retry="{failed_id}"' in row
    row = table.split(f'id="chain-action-{done_id}"', 1)[1].split("</tr>", 1)[0]
    assert "data-retry" not in row and ">done<" in row  # only a failed one is retried
    zh = _section(_get(world, "/ui/institution?lang=zh-Hans", "admin").text, "chain-actions")
    assert "在托管合约登记仲裁员" in zh and "失败" in zh and "重试" in zh
    # a done action cannot be retried (the API's 409 in the page's words)
    r = _post(world, f"admin/chain-actions/{done_id}/retry", "admin")
    assert r.status_code == 409 and r.json()["code"] == "conflict"
    data = _desk_data(page)
    assert data["messages"]["err_conflict"].startswith("This is no longer possible")
    # retrying the failed one puts it back in the queue with its attempts counted afresh
    r = _post(world, f"admin/chain-actions/{failed_id}/retry", "admin")
    assert r.status_code == 200, r.text
    assert r.json()["id"] == failed_id and r.json()["attempts"] < 5
    after = _section(_get(world, "/ui/institution?lang=en", "admin").text, "chain-actions")
    row = after.split(f'id="chain-action-{failed_id}"', 1)[1].split("</tr>", 1)[0]
    assert "<td>5</td>" not in row


def test_chain_actions_on_a_pending_decision_have_their_own_words(world: WebWorld) -> None:
    """The objection and payout of a pending decision (a fast-track proposal, a jury's
    verdict) are the award's acts with ``decision`` set, named as the decision's."""
    now = datetime.now(UTC)
    rows = {}
    with write_scope(world.app.state.ctx.sessions) as s:
        queued: tuple[tuple[str, str, JsonObject], ...] = (
            ("object", "object", {"decision": True}),
            ("execute", "execute_award", {"decision": True}), ("award", "execute_award", {}))
        for name, kind, payload in queued:
            action = ChainAction(case_id=world.case2, kind=kind, payload=payload,
                                 status=ChainActionStatus.PENDING, created_at=now,
                                 updated_at=now)
            s.add(action)
            s.flush()
            rows[name] = action.id

    def row(page: str, name: str) -> str:
        table = _section(page, "chain-actions")
        return html.unescape(
            table.split(f'id="chain-action-{rows[name]}"', 1)[1].split("</tr>", 1)[0])

    en = _get(world, "/ui/institution?lang=en", "admin").text
    assert "Confirm a party's objection to the pending decision" in row(en, "object")
    assert "Pay out the binding decision" in row(en, "execute")
    assert "Pay out the final award" in row(en, "award")
    zh = _get(world, "/ui/institution?lang=zh-Hans", "admin").text
    assert "确认当事人对待定决定的异议" in row(zh, "object")
    assert "执行已生效决定的付款" in row(zh, "execute")
    assert "执行终局裁决付款" in row(zh, "award")


# --- the neutrals' pages ------------------------------------------------------------------

def test_queue_lists_the_cases_a_neutral_sits_in(world: WebWorld) -> None:
    r = _get(world, "/ui/neutral?lang=en", "mediator")
    assert r.status_code == 200
    queue = _section(r.text, "neutral-queue")
    assert f'data-case="{world.case_id}"' in queue and world.case2 not in queue
    row = queue.split(f'data-case="{world.case_id}"', 1)[1].split("</tr>", 1)[0]
    assert ">mediator<" in row and 'data-stage="facilitation"' in row
    assert "your disclosure is due" in row
    assert "Publish the pre-evaluation" in row or "pre-evaluation" in row.lower()
    assert f"/ui/neutral/cases/{world.case_id}?lang=en" in row
    zh = _section(_get(world, "/ui/neutral?lang=zh-Hans", "mediator").text, "neutral-queue")
    assert ">调解员<" in zh and "待您提交独立性披露" in zh
    # a party sits in no case as a neutral
    r = _get(world, "/ui/neutral?lang=en", "buyer")
    assert r.status_code == 200 and "You are not appointed in any case now." in r.text
    assert _get(world, "/ui/neutral").status_code == 401


def test_desk_is_for_the_case_neutrals(world: WebWorld) -> None:
    r = _get(world, f"/ui/neutral/cases/{world.case_id}?lang=en", "buyer")
    assert r.status_code == 403 and 'id="not-neutral"' in r.text
    r = _get(world, f"/ui/neutral/cases/{world.case_id}?lang=en", "stranger")
    assert r.status_code == 403 and "You take no part in this case." in r.text
    r = _get(world, "/ui/neutral/cases/0x" + "00" * 32 + "?lang=zh-Hans", "mediator")
    assert r.status_code == 404 and "案件不存在" in r.text


def test_desk_shows_the_dispute_escrow_and_the_whole_record(world: WebWorld) -> None:
    page = _get(world, f"/ui/neutral/cases/{world.case_id}?lang=en", "mediator").text
    summary = _section(page, "summary")
    assert "goods not as described" in summary and "partial refund" in summary
    assert "120.000000 tUSD" in summary  # the amount claimed, exact
    escrow = summary.split('id="escrow-now"', 1)[1]
    assert "480.000000 tUSD" in escrow and "200.000000 tUSD" in escrow
    assert "disputed: funds frozen" in escrow  # the escrow's order status, in words
    # the whole record: every step the mediator may know of, in words, each signed record
    record = _section(page, "record")
    assert "Claim filed (dispute type and remedy stated)" in record
    assert "Mediator appointed by the institution" in record
    assert record.count("/steps/") == 5  # filing, photo, facilitation, appointment, caucus
    # every evidence item: the buyer's photo and the seller's caucus item (the mediator's)
    ev = _section(page, "evidence-read")
    assert ev.count('class="evidence-item"') == 2 and 'data-readable="false"' not in ev
    assert "crack.jpg" in ev and "secret-terms.txt" in ev
    links = re.findall(r'href="(/ui/api/cases/[^"]+/content)"', ev)
    assert len(links) == 2
    for link in links:
        got = _get(world, link, "mediator")
        assert got.status_code == 200 and got.headers["x-evidence-sha256"]
    assert "Photo" in ev and "Invoice" in ev and 'data-open="' in ev
    # the mediator's steps are the case page's forms
    assert 'data-step="preeval"' in page and 'data-step="propose"' in page
    found = re.search(r'id="case-data">(.*?)</script>', page, re.S)
    assert found is not None
    data = json.loads(found.group(1))
    assert data["escrow"] == {"amount": "480000000", "guarantee": "200000000", "live": "true"}


def test_disclosure_signed_from_the_desk(world: WebWorld) -> None:
    path = f"/ui/neutral/cases/{world.case_id}?lang=en"
    page = _get(world, path, "mediator").text
    assert 'id="disclosure"' in page
    data = _desk_data(page)
    typed = data["disclosure"]["typedData"]
    assert typed["primaryType"] == "Disclosure"
    assert typed["message"]["role"] == "mediator"
    assert typed["message"]["appointee"].lower() == world.clients["mediator"].address.lower()
    # what desk.js does: fill, have the wallet sign, post the record
    message = {**typed["message"], "independent": True, "conflicts": "",
               "statement": "I am impartial.", "signedAt": str(int(datetime.now(UTC)
                                                                    .timestamp()))}
    typed = {**typed, "message": message}
    sig = Account.sign_typed_data(key("mediator").key, full_message=json.loads(json.dumps(
        {**typed, "message": {**message, "signedAt": int(message["signedAt"])},
         "domain": {**typed["domain"], "chainId": int(typed["domain"]["chainId"])}})))
    record = {"format": "chainarb.record", "v": 1, "type": "Disclosure",
              "domain": data["disclosure"]["domain"], "message": message,
              "signatures": ["0x" + bytes(sig.signature).hex()]}
    SignedRecord.from_json_obj(record).verify()
    r = _post(world, f"cases/{world.case_id}/disclosures", "mediator", {"record": record})
    assert r.status_code == 201, r.text
    page = _get(world, path, "mediator").text
    assert 'id="disclosure"' not in page and 'id="disclosure-given"' in page
    assert "Impartial and independent." in page and "I am impartial." in page
    queue = _get(world, "/ui/neutral?lang=en", "mediator").text
    assert "your disclosure is due" not in queue


@pytest.mark.parametrize("lang", ["en", "zh-Hans"])
def test_desk_pages_have_words_for_everything(world: WebWorld, lang: str) -> None:
    """No internal token and no word of the other language anywhere a reader looks (the
    people crawl's rule, ``visible.problems``), on each page of this module."""
    from tests.backend.web.visible import problems

    for who, path in (("mediator", f"/ui/neutral/cases/{world.case_id}"),
                      ("mediator", "/ui/neutral"), ("admin", "/ui/institution"),
                      ("buyer", "/ui/institution"), ("buyer", "/ui/neutral")):
        html_ = _get(world, f"{path}?lang={lang}", who).text
        assert not problems(html_), (who, path, problems(html_))


# --- the allocation preview and the award document (actions.js in Node) --------------------

def _node(script: str, request: dict[str, Any]) -> dict[str, Any]:
    import subprocess
    from pathlib import Path

    done = subprocess.run(["node", str(Path(__file__).parent / script)],
                          input=json.dumps(request), capture_output=True, text=True,
                          timeout=60, check=True)
    return json.loads(done.stdout)


@pytest.mark.node
def test_allocation_preview_adds_up_or_refuses() -> None:
    held, guarantee = "480000000", "200000000"
    out = _node("award_preview.cjs", {"previews": [
        ["180", "42.5", held, guarantee, 6],
        ["480.000000", "200", held, guarantee, 6],
        ["480.000001", "0", held, guarantee, 6],
        ["100", "200.000001", held, guarantee, 6],
        ["1.0000001", "0", held, guarantee, 6],
        ["1e3", "0", held, guarantee, 6],
        ["", "0", held, guarantee, 6],
        ["10", "", held, "0", 6],
    ]})["previews"]
    assert out[0] == {"values": {"escrow": held, "toBuyer": "180000000",
                                 "toSeller": "300000000", "compensation": "42500000",
                                 "buyerTotal": "222500000", "guaranteeLeft": "157500000"}}
    assert out[1]["values"]["toSeller"] == "0" and out[1]["values"]["guaranteeLeft"] == "0"
    assert out[2] == {"code": "amount_too_large", "field": "toBuyer"}
    assert out[3] == {"code": "compensation_too_large", "field": "compensation"}
    assert out[4] == {"code": "amount_decimals", "field": "toBuyer"}
    assert out[5] == {"code": "amount_format", "field": "toBuyer"}
    assert out[6] == {"code": "amount_required", "field": "toBuyer"}
    assert out[7]["values"]["compensation"] == "0"  # empty compensation is none


@pytest.mark.node
def test_award_document_written_from_the_reasons() -> None:
    from backend.web.i18n import UI

    words = {k: v["zh-Hans"] for k, v in UI.items()}
    doc = _node("award_preview.cjs", {"documents": [{
        "words": words, "meta": {"caseId": "0x" + "ab" * 32, "orderId": "42",
                                 "signer": "0x" + "cd" * 20, "amount": "480000000"},
        "alloc": {"toBuyer": "180000000", "toSeller": "300000000", "compensation": "42500000"},
        "reasons": "面板运输中破裂。\r\nRefund 180.", "decimals": 6, "currency": "tUSD"}]}
    )["documents"][0]
    assert doc.startswith("# 裁决书\n")
    assert "- 退还买方: 180.000000 tUSD\n" in doc and "- 支付卖方: 300.000000 tUSD\n" in doc
    assert "从卖方保证金向买方支付的赔偿: 42.500000 tUSD" in doc
    assert doc.endswith("## 理由\n\n面板运输中破裂。\nRefund 180.\n")  # line ends as \n


def test_allocation_forms_carry_the_preview(world: WebWorld) -> None:
    from backend.web.actions import actions_section

    # a page's data in part (CaseDataJson): the members the forms read here
    data: Any = {"caseId": "0x" + "11" * 32, "orderId": "1", "viewer": "0x" + "22" * 20,
            "amount": "480000000", "guarantee": "200000000", "decimals": 6,
            "nextSequence": 3, "prevHash": "0x" + "33" * 32, "domain": {},
            "allowedSteps": ["award.issued", "offer.made"], "serverNow": 0, "offers": {},
            "awardRecordHash": None, "mediator": None, "panelSignedBy": [],
            "messages": {}, "escrow": {"amount": "480000000", "guarantee": "150000000",
                                       "live": "true"}}
    for lang, words in (("en", "Checked against the escrow as read now."),
                        ("zh-Hans", "已按当前读取的托管合约状态核对。")):
        html = actions_section(data, lang)
        assert html.count('class="allocation-preview"') == 2 and words in html
        # the guarantee the escrow holds now (lower than the order's) is the limit
        assert html.count('data-guarantee="150000000"') == 2
        award = html.split('data-step="award"', 1)[1].split("</form>", 1)[0]
        assert 'name="reasons"' in award and 'name="document"' in award
        assert 'type="file" required' not in award  # the reasons may stand for the file
    html = actions_section(data | {"escrow": None}, "en")
    assert 'data-guarantee="200000000"' in html and "as the case recorded it" in html


def test_mediator_sees_the_report_before_signing_and_the_offers(world: WebWorld) -> None:
    page = _get(world, f"/ui/neutral/cases/{world.case_id}?lang=en", "mediator").text
    pe = _section(page, "preevaluation")
    reports = re.findall(r'<div class="preeval-report" data-tracking="([a-z_]+)"', pe)
    assert reports == ["delivered", "delivered_signed", "in_transit", "no_tracking", "lost",
                       "damaged", "returned_to_sender"]
    damaged = pe.split('data-tracking="damaged"', 1)[1].split("</div>", 1)[0]
    # what the API's report says, in words and exact amounts (the service's own rules)
    api = world.clients["mediator"].get(f"/cases/{world.case_id}/pre-evaluation",
                                        params={"tracking": "damaged"})["report"]
    assert f'({api["reasons"][0]["rule"]})' in damaged
    assert html.escape(api["reasons"][0]["en"]) in damaged
    assert f'{api["allocation"]["to_buyer"] / 1e6:.6f} tUSD' in damaged
    assert "Non-binding pre-evaluation" in damaged
    zh = _section(_get(world, f"/ui/neutral/cases/{world.case_id}?lang=zh-Hans",
                       "mediator").text, "preevaluation")
    assert api["reasons"][0]["zh-Hans"] in zh and "可信度" in zh
    assert "offers" in page and "No open offer or proposal." in _section(page, "offers")


def test_appointment_forms_offer_the_register_by_name(world: WebWorld) -> None:
    """An admin appointing picks a neutral on the register by name (the address is what
    is signed; the server still runs its conflict check)."""
    from backend.web.actions import actions_section, case_data
    from backend.web.institution import register_neutrals

    ctx = world.app.state.ctx
    neutral = key("register-neutral-2").address
    from backend.services.identity import IdentityService

    IdentityService(ctx.service).issue_profile(neutral, "Kenji Sato", name_zh="佐藤健二")
    listed = register_neutrals(ctx)
    assert {"address": neutral, "name": "Kenji Sato / 佐藤健二"} in listed
    assert all(n["address"] != key("register-court").address for n in listed)  # no court

    class _Req:
        class app:  # noqa: N801 - stands in for request.app
            class state:  # noqa: N801
                pass

    _Req.app.state.ctx = ctx  # type: ignore[attr-defined]
    view = world.clients["admin"].get(f"/cases/{world.case2}")
    view["allowedSteps"] = ["appoint.arbitrator"]
    data = case_data(_Req(), view, world.clients["admin"].address, "en")  # type: ignore[arg-type]
    html_ = actions_section(data, "en")
    assert 'list="neutral-register"' in html_
    assert f'<option value="{neutral}">Kenji Sato / 佐藤健二</option>' in html_
    # a party's page carries no register
    view["allowedSteps"] = ["offer.made"]
    data = case_data(_Req(), view, world.clients["buyer"].address, "en")  # type: ignore[arg-type]
    assert data["register"] == [] and "neutral-register" not in actions_section(data, "en")


def test_a_malformed_registration_is_refused_in_words(world: WebWorld) -> None:
    r = _post(world, "admin/neutrals", "admin", {"address": "0x1234", "name": "x"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_field"
    for lang, words in (("en", "Some fields are missing or malformed."),
                        ("zh-Hans", "部分字段缺失或格式错误。")):
        data = _desk_data(_get(world, f"/ui/institution?lang={lang}", "admin").text)
        assert data["messages"]["err_invalid_field"] == words
