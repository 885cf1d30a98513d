"""The advance refund (Trade Assurance) on the institution's page, without a browser: the
reason and the cap shown, the form only once the seller has missed the delivery deadline
of an order in dispute, the amount typed in the order's token (its decimals said in both
languages), the release through the pages' proxy recorded as the institution's step; and
a return award's enforcement named for what it is on the timeline (the return stage opens,
nothing is paid yet).
"""

from __future__ import annotations

import re
import time

import httpx
import pytest

from backend.web import COOKIE
from backend.web.timeline import timeline_section
from evidence.safejson import JsonObject
from evidence.words import RETURN_STAGE_OPENED, timeline_label
from tests.backend.web.web_world import GUARANTEE, TOKEN, WebWorld, advance_case

ORDER = 71


def _desk(world: WebWorld, lang: str) -> str:
    r = httpx.get(f"{world.base}/ui/institution?lang={lang}",
                  cookies={COOKIE: world.token("admin")}, timeout=30)
    assert r.status_code == 200, r.text
    return r.text


def _section(page: str, case_id: str) -> str:
    """The case's own section of the institution's page (up to the next case's)."""
    start = page.index(f'id="case-{case_id}"')
    end = page.find('<section class="case"', start)
    return page[start:end if end > 0 else page.index('id="chain-actions"', start)]


@pytest.fixture(scope="module")
def advance(world: WebWorld) -> str:
    return advance_case(world, ORDER, deliver_within=6)


def test_the_form_waits_for_the_missed_deadline(world: WebWorld, advance: str) -> None:
    deadline = world.port.read_order(ORDER).delivery_deadline
    part = _section(_desk(world, "en"), advance)
    assert time.time() < deadline  # the seller still has time: reason and cap, no form
    assert "Not possible yet" in part and "advance-refund" not in part, part
    assert "At most 200.000000 tUSD" in part
    # the world's other cases have no contract providing for it: no advance shown
    assert "advance-" + world.case_id not in _desk(world, "en")
    time.sleep(max(deadline - time.time() + 1.1, 0))
    for lang, reason, cap, hint, decimals in (
            ("en", "The seller missed the delivery deadline", "At most 200.000000 tUSD: the "
             "seller&#x27;s guarantee holds 200.000000 tUSD; 0.000000 tUSD advanced so far.",
             "At most 6 decimals, up to 200.000000.",
             "At most 6 decimals: tUSD&#x27;s smallest unit is 0.000001."),
            ("zh-Hans", "卖方未在交付期限前交货", "最多 200.000000 tUSD：卖方保证金余额 "
             "200.000000 tUSD；已先行退款 0.000000 tUSD。", "最多 6 位小数，不超过 200.000000。",
             "最多 6 位小数：tUSD 的最小单位是 0.000001。")):
        part = _section(_desk(world, lang), advance)
        assert reason in part and cap in part and hint in part, part
        form = re.search(r'<form class="admin advance-form"[^>]*>', part)
        assert form and f'data-path="cases/{advance}/advance-refund"' in form.group(0)
        assert f'data-decimals-words="{decimals}"' in form.group(0)
        assert f'<label for="advance-{advance}-amount">' in part
        assert 'data-decimals="6"' in part and f'name="token" value="{TOKEN}"' in part
        assert f'aria-describedby="advance-{advance}-amount-hint"' in part


def test_the_release_through_the_proxy_is_the_institutions_step(world: WebWorld,
                                                                 advance: str) -> None:
    deadline = world.port.read_order(ORDER).delivery_deadline
    time.sleep(max(deadline - time.time() + 1.1, 0))

    def post(who: str, amount: str) -> httpx.Response:
        return httpx.post(f"{world.base}/ui/api/cases/{advance}/advance-refund",
                          json={"amount": amount, "token": TOKEN},
                          headers={"X-Chainarb-UI": "1"},
                          cookies={COOKIE: world.token(who)}, timeout=30)

    refused = post("buyer", "1")
    assert (refused.status_code, refused.json()["code"]) == (403, "access_denied")
    above = post("admin", str(GUARANTEE + 1))
    assert (above.status_code, above.json()["code"]) == (409, "advance_above_cap")
    done = post("admin", "50000000")
    assert done.status_code == 201, done.text
    assert world.port.read_order(ORDER).advanced == 50_000_000
    part = _section(_desk(world, "en"), advance)
    assert "At most 150.000000 tUSD" in part and "50.000000 tUSD advanced so far" in part
    page = httpx.get(f"{world.base}/ui/cases/{advance}?lang=zh-Hans",
                     cookies={COOKIE: world.token("buyer")}, timeout=30).text
    assert 'data-action="advance.refunded"' in page and "先行退款" in page


def test_a_return_awards_enforcement_opens_the_return_stage() -> None:
    assert timeline_label("ProceduralStep", "enforcement.recorded",
                          return_stage=True) == RETURN_STAGE_OPENED
    paid = timeline_label("ProceduralStep", "enforcement.recorded")
    assert paid != RETURN_STAGE_OPENED and "Payout" in paid[0]
    item: JsonObject = {"type": "step", "action": "enforcement.recorded", "sequence": 9,
                        "at": "2026-12-06T12:00:00Z", "signer": "0x" + "ab" * 20,
                        "returnStage": True}
    for lang, said in (("en", RETURN_STAGE_OPENED[0]), ("zh-Hans", RETURN_STAGE_OPENED[1])):
        html = timeline_section([item], {}, lang)
        assert said in html and "Payout" not in html and "付款" not in html
