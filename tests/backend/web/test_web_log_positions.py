"""The neutral's desk and the court's workspace list the case's records in the
institution's log (issue 15): each entry's position, kind, what it is (in the viewer's
language, a step the viewer may not read by its kind only), when it was accepted and the
link to its inclusion proof; and the viewer's own receipts kept in the browser."""

from __future__ import annotations

import re

import httpx
from sqlmodel import col, select

from backend.db.log_models import LogEntry
from backend.web import COOKIE
from tests.backend.web.web_world import WebWorld


def _get(world: WebWorld, path: str, who: str) -> httpx.Response:
    return httpx.get(world.base + path, cookies={COOKIE: world.token(who)}, timeout=30)


def _rows(page: str) -> list[str]:
    section = page[page.index('id="log-positions"'):]
    section = section[:section.index("</section>")]
    return re.findall(r'<tr data-index="(\d+)">', section)


def _loads_signer_then_receipts(page: str) -> None:
    """receipts.js names its files with signer.js's canonical JSON and SHA-256: the page
    loads signer.js once, before it (both deferred: they run in document order)."""
    signer = '<script src="/ui/static/signer.js" defer></script>'
    receipts = '<script src="/ui/static/receipts.js" defer></script>'
    assert page.count(signer) == page.count(receipts) == 1
    assert page.index(signer) < page.index(receipts)


def test_desk_and_court_list_the_log_positions_and_receipts(world: WebWorld) -> None:
    with world.app.state.ctx.sessions() as s:
        want = [str(i) for (i,) in s.execute(select(LogEntry.idx).where(
            col(LogEntry.case_id) == world.case_id).order_by(col(LogEntry.idx)))]
    assert len(want) >= 3
    en = _get(world, f"/ui/neutral/cases/{world.case_id}?lang=en", "mediator")
    zh = _get(world, f"/ui/neutral/cases/{world.case_id}?lang=zh-Hans", "mediator")
    assert en.status_code == zh.status_code == 200
    assert _rows(en.text) == _rows(zh.text) == want
    assert "In the institution&#x27;s log" in en.text and "机构日志中的记录" in zh.text
    assert "Log position" in en.text and "日志位置" in zh.text
    assert "Claim filed" in en.text and f'href="/log/proof/inclusion?index={want[0]}"' in en.text
    assert "signed step" in en.text and "已签名程序步骤" in zh.text
    for page in (en, zh):  # the viewer's own receipts, as on the case page
        assert 'id="receipts"' in page.text and 'src="/ui/static/receipts.js"' in page.text
        _loads_signer_then_receipts(page.text)

    c = world.clients
    court = c["court"].address
    c["admin"].post("/admin/courts", {"address": court, "name": "Hangzhou Internet Court"})
    c["admin"].post(f"/cases/{world.case_id}/courts", {"court": court})
    with world.app.state.ctx.sessions() as s:  # the court's access is a step too
        now = [str(i) for (i,) in s.execute(select(LogEntry.idx).where(
            col(LogEntry.case_id) == world.case_id).order_by(col(LogEntry.idx)))]
    assert now[:len(want)] == want and len(now) > len(want)
    page = _get(world, f"/ui/court/cases/{world.case_id}?lang=zh-Hans", "court")
    assert page.status_code == 200 and _rows(page.text) == now
    assert "机构日志中的记录" in page.text and 'id="receipts"' in page.text
    _loads_signer_then_receipts(page.text)
    for lang in ("en", "zh-Hans"):  # and the case page, where receipts are kept
        page = _get(world, f"/ui/cases/{world.case_id}?lang={lang}", "buyer")
        assert page.status_code == 200 and 'id="receipts"' in page.text
        _loads_signer_then_receipts(page.text)
