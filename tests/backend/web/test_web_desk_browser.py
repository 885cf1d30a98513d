"""The institution's page and the neutrals' desk in chromium, each person with their own
wallet stand-in and every request but loopback aborted (and counted):

* the admin (中文) registers a neutral from the institution's page;
* the mediator (English) reads the evidence inline (the buyer's photo, the seller's caucus
  text) and signs their disclosure from the desk;
* the arbitrator (中文) finds the case in their queue, types an allocation the guarantee
  cannot pay (the refusal is shown as it is typed; submitting anyway is refused in words,
  nothing signed), corrects it, writes the reasons and signs the award: the award
  document is the page's Markdown of the allocation and the reasons, and its SHA-256
  is the awardHash the service stored.

Screenshots of each page in both languages are kept under ``screenshots/`` with
``CHAINARB_KEEP_SCREENSHOTS=1``.
"""

from __future__ import annotations

import hashlib
import json
import os
import subprocess
import time
from pathlib import Path
from typing import Any

import pytest

from tests.backend.web.web_world import (
    ORDER_ID,
    REPO,
    WEB_TESTS,
    WebWorld,
    advance_case,
    case_steps,
    find_chromium,
    hash_of_typed,
    key,
    prepared_step,
)

pytestmark = pytest.mark.node

PNG = b"\x89PNG\r\n\x1a\n"


def desk(world: WebWorld, who: str, lang: str, acts: list[dict[str, Any]]) -> dict[str, Any]:
    done = subprocess.run(
        ["node", str(WEB_TESTS / "desk.cjs"), world.base, "0x" + bytes(key(who).key).hex(),
         lang, json.dumps(acts)], cwd=REPO, env={**os.environ, "CHROMIUM": find_chromium()},
        capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert not [m for m in out["console"] if "pageerror" in m or m.startswith("error")], out
    assert out["offsite"] == [], out["offsite"]  # nothing but the service itself
    # axe-core: no serious or critical violation on any page looked at
    assert [a for a in out["axe"] if a["violations"]] == [], out["axe"]
    return out


def test_institution_and_neutrals_in_the_browser(world: WebWorld, tmp_path: Path) -> None:
    shots = (WEB_TESTS / "screenshots" if os.environ.get("CHAINARB_KEEP_SCREENSHOTS")
             else tmp_path)
    shots.mkdir(exist_ok=True)
    c = world.clients
    case = world.case_id
    neutral = key("desk-neutral").address

    # The admin (中文) registers a neutral from the institution's page.
    admin = desk(world, "admin", "zh-Hans", [
        {"goto": "/ui/institution?lang=zh-Hans"},
        {"shot": str(shots / "institution-zh.png")}, {"axe": True},
        {"fill": ["#register-neutral-address", neutral]},
        {"fill": ["#register-neutral-name", "Prof. Mei Lin"]},
        {"fill": ["#register-neutral-nameZh", "林梅教授"]},
        {"fill": ["#register-neutral-country", "SG"]},
        {"press": "#register-neutral button[type=submit]"},
        {"wait": "#register-neutral .result.ok"},
        {"text": "#register-neutral .result"},
        {"load": True},
        {"text": "#register-table"},
        {"goto": "/ui/institution?lang=en"},
        {"shot": str(shots / "institution-en.png")}, {"axe": True},
        {"count": "section.case h3"},
    ])
    assert admin["reads"][0] == "已登记。"
    assert "林梅教授" in admin["reads"][1] and "中立人" in admin["reads"][1]
    assert admin["reads"][2] == 2  # each case under its own heading
    assert c["buyer"].get(f"/profiles/{neutral}")["nameZh"] == "林梅教授"
    assert admin["typed"] == []  # registering signs nothing with the admin's wallet

    # The mediator (English): the evidence inline, then the disclosure signed in the page.
    med = desk(world, "mediator", "en", [
        {"goto": f"/ui/neutral/cases/{case}?lang=en"},
        {"press": "#evidence-read article:nth-of-type(1) button.open"},
        {"wait": "img.evidence-image"},
        {"press": "#evidence-read article:nth-of-type(2) button.open"},
        {"wait": "pre.evidence-text"},
        {"text": "pre.evidence-text"},
        {"shot": str(shots / "desk-mediator-en.png")}, {"axe": True},
        {"fill": ["#disclosure-statement", "I am impartial and independent of both sides."]},
        {"press": "#disclosure button[type=submit]"},
        {"wait": "#disclosure .result.ok"},
        {"load": True},
        {"text": "#disclosure-given"},
        {"goto": f"/ui/neutral/cases/{case}?lang=zh-Hans"},
        {"shot": str(shots / "desk-mediator-zh.png")}, {"axe": True},
    ])
    assert "confidential price list" in med["reads"][0]
    assert med["reads"][1].startswith("You disclosed, signed")
    assert [t["primaryType"] for t in med["typed"]] == ["Disclosure"]
    assert med["typed"][0]["message"]["statement"] == \
        "I am impartial and independent of both sides."

    # On to the arbitrator: both agree, impasse, appointment, the record closes (API). The
    # world's buyer froze the escrow when filing.
    for party in ("buyer", "seller"):
        c[party].post(f"/cases/{case}/arbitration-agreement",
                      c[party].plain(case, "arbitration.agreed"))
    prepared_step(world, "mediator", case, "impasse.declared", {})
    c["admin"].post(f"/cases/{case}/arbitrator", c["admin"].plain(
        case, "appoint.arbitrator", {"role": "arbitrator",
                                     "appointees": [c["arbitrator"].address]}))
    prepared_step(world, "arbitrator", case, "record.closed", {})
    assert c["buyer"].get(f"/cases/{case}")["stage"] == "record_closed"

    # The arbitrator (中文): the queue, then the award editor.
    reasons = "面板在运输中破裂（见照片）。卖方退还 100 tUSD，并从保证金赔偿 5 tUSD。"
    arb = desk(world, "arbitrator", "zh-Hans", [
        {"goto": "/ui/neutral?lang=zh-Hans"},
        {"text": f'#queue tr[data-case="{case}"]'},
        {"shot": str(shots / "queue-arbitrator-zh.png")}, {"axe": True},
        {"goto": f"/ui/neutral/cases/{case}?lang=zh-Hans"},
        {"fill": ["#step-award-toBuyer", "100"]},
        {"fill": ["#step-award-compensation", "250"]},
        {"wait": "#step-award-refusal:not([hidden])"},
        {"text": "#step-award-refusal"},
        {"press": "#step-award button[type=submit]"},  # submitting anyway: refused in words
        {"wait": "#step-award .result.error"},
        {"text": "#step-award .result.error"},
        {"shot": str(shots / "award-refused-zh.png")}, {"axe": True},
        {"fill": ["#step-award-compensation", "5"]},
        {"text": "#step-award-preview"},
        {"disabled": "#step-award button[type=submit]"},
        {"fill": ["#step-award-reasons", reasons]},
        {"shot": str(shots / "award-editor-zh.png")},
        {"press": "#step-award button[type=submit]"},
        {"wait": "#step-award .result.ok"},
        {"load": True},
        {"attr": ["#summary .stage", "data-stage"]},
        {"goto": f"/ui/neutral/cases/{case}?lang=en"},
        {"shot": str(shots / "desk-arbitrator-en.png")}, {"axe": True},
    ])
    row, refusal, refused, preview, free, stage = arb["reads"]
    assert "仲裁员" in row and "审理终结" in row
    assert refusal == "无法签署： 赔偿金额不能超过保证金。" or refusal.startswith("无法签署：")
    assert "保证金" in refusal and "保证金" in refused  # refused before signing, in words
    assert "100.000000 tUSD" in preview and "380.000000 tUSD" in preview
    assert "5.000000 tUSD" in preview and "105.000000 tUSD" in preview  # buyer in all
    assert "195.000000 tUSD" in preview  # left of the guarantee
    assert free is False and stage == "awarded"
    assert [t["primaryType"] for t in arb["typed"]] == ["ProceduralStep", "Award"]
    view = c["buyer"].get(f"/cases/{case}")
    assert {k: int(v) for k, v in view["award"]["allocation"].items()} == {
        "to_buyer": 100_000_000, "to_seller": 380_000_000, "compensation": 5_000_000}
    assert case_steps(world, case)[-1]["recordHash"] == hash_of_typed(arb["typed"][0])
    # the document signed is the page's Markdown of the allocation and the reasons
    from backend.web.i18n import UI

    written = subprocess.run(
        ["node", str(WEB_TESTS / "award_preview.cjs")], capture_output=True, text=True,
        check=True, timeout=60, input=json.dumps({"documents": [{
            "words": {k: v["zh-Hans"] for k, v in UI.items()},
            "meta": {"caseId": case, "orderId": str(ORDER_ID),
                     "signer": c["arbitrator"].address, "amount": "480000000"},
            "alloc": {"toBuyer": "100000000", "toSeller": "380000000",
                      "compensation": "5000000"},
            "reasons": reasons, "decimals": 6, "currency": "tUSD"}]}))
    doc = json.loads(written.stdout)["documents"][0]
    assert reasons in doc and "- 支付卖方: 380.000000 tUSD" in doc
    assert view["award"]["award_hash"] == "0x" + hashlib.sha256(doc.encode()).hexdigest()
    for name in ("institution-zh.png", "institution-en.png", "desk-mediator-en.png",
                 "desk-mediator-zh.png", "queue-arbitrator-zh.png", "award-refused-zh.png",
                 "award-editor-zh.png", "desk-arbitrator-en.png"):
        assert (shots / name).read_bytes()[:8] == PNG, name


ADVANCE_ORDER = 72


def test_the_advance_refund_from_the_institutions_page(world: WebWorld,
                                                        tmp_path: Path) -> None:
    """The admin releases an advance refund from the institution's page, in each language:
    an amount finer than the token's smallest unit is refused in words before anything is
    sent; a right one is recorded and the case page's timeline shows the step."""
    keep = os.environ.get("CHAINARB_KEEP_SCREENSHOTS")
    shots = REPO / "docs/portal/screenshots" if keep else tmp_path
    case = advance_case(world, ADVANCE_ORDER)
    time.sleep(max(world.port.read_order(ADVANCE_ORDER).delivery_deadline - time.time()
                   + 1.1, 0))
    form = f"#advance-{case}"
    seen = {}
    for lang, too_fine, amount, refused, done, step in (
            ("zh-Hans", "12.3456789", "12.345678", "最多 6 位小数：tUSD 的最小单位是 0.000001。",
             "已记录先行退款，托管合约向买方付款。",
             "卖方逾期未交货，机构从卖方保证金向买方先行退款"),
            ("en", "1.0000001", "50", "At most 6 decimals: tUSD's smallest unit is 0.000001.",
             "Advance refund recorded; the escrow pays the buyer.",
             "Advance refund paid to the buyer from the seller's guarantee")):
        out = desk(world, "admin", lang, [
            {"goto": f"/ui/institution?lang={lang}#case-{case}"},
            {"fill": [f"{form}-amount", too_fine]},
            {"press": f"{form} button[type=submit]"},
            {"wait": f"{form} .result.error"},
            {"text": f"{form} .result"},
            {"attr": [f"{form}-amount", "aria-invalid"]},
            {"fill": [f"{form}-amount", amount]},
            {"shot": str(shots / f"advance-refund-{lang}.png")}, {"axe": True},
            {"press": f"{form} button[type=submit]"},
            {"wait": f"{form} .result.ok"},
            {"text": f"{form} .result"},
            {"load": True},
            {"goto": f"/ui/cases/{case}?lang={lang}"},
            {"text": "#timeline"},
            {"shot": str(shots / f"advance-refund-timeline-{lang}.png")}, {"axe": True},
        ])
        assert out["reads"][:3] == [refused, "true", done], out["reads"]
        assert step in out["reads"][3], out["reads"][3]
        assert out["typed"] == []  # the institution's key signs it, server-side
        seen[lang] = world.port.read_order(ADVANCE_ORDER).advanced
    assert seen == {"zh-Hans": 12_345_678, "en": 62_345_678}
