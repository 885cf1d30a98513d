"""The case page's actions in chromium: each party signs with its own wallet stand-in.

Covers: forms for the allowed steps only; an invalid amount refused in the page in English
and Chinese with nothing sent or signed; evidence uploaded through the page (upload, sign
the API's typed data, submit) and listed; an offer made in one tab while another is stale
(the stale tab gets the ``stale_sequence`` message and a refresh button, and the retry
succeeds); the other party accepts the offer and the case is settled (read back from the
API, with the exact base-unit allocation).
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.backend.web.web_world import WebWorld, find_chromium, key

pytestmark = pytest.mark.node

HERE = Path(__file__).parent
ROOT = HERE.parents[2]


def test_parties_act_through_the_page(world: WebWorld, tmp_path: Path) -> None:
    chromium = find_chromium()
    out_dir = HERE / "screenshots" if os.environ.get("CHAINARB_KEEP_SCREENSHOTS") else tmp_path
    out_dir.mkdir(exist_ok=True)
    done = subprocess.run(
        ["node", str(HERE / "actions.cjs"), world.base, world.case2,
         "0x" + bytes(key("buyer").key).hex(), "0x" + bytes(key("seller").key).hex(),
         str(out_dir)],
        cwd=ROOT, env={**os.environ, "CHROMIUM": chromium}, capture_output=True, text=True,
        timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    print(json.dumps(out, ensure_ascii=False, indent=1))

    assert out["buyerForms"] == ["offer", "evidence", "facilitation", "agree"]
    assert out["labelled"] == 1
    assert out["countdown"].endswith("left") and " d " in out["countdown"]
    # Invalid amounts: localised, nothing sent, nothing signed.
    assert "error" in out["invalidEn"]["cls"]
    assert out["invalidEn"]["text"].startswith("Enter the amount as digits")
    assert out["invalidAria"] == "true" and out["invalidFocus"] == "step-offer-toBuyer"
    assert out["badCompensation"]["text"].startswith("Enter the amount as digits")
    assert out["badCompensationFocus"] == "step-offer-compensation"
    assert out["tooLargeEn"]["text"] == "The refund cannot exceed the escrowed amount."
    assert out["invalidZh"]["text"] == "最多 6 位小数：tUSD 的最小单位是 0.000001。"
    assert out["invalidSent"] == 0 and out["invalidSigned"] == 0
    # Evidence.
    assert "ok" in out["upload"]["cls"], out["upload"]
    assert out["evidenceAfter"] == out["evidenceBefore"] + 1
    assert "Communication" in out["evidenceKinds"]
    # The stale tab.
    assert "ok" in out["offer"]["cls"], out["offer"]
    assert "error" in out["stale"]["cls"]
    assert out["stale"]["text"].startswith("Someone else acted on this case first.")
    assert out["staleRefresh"] == 1
    assert "withdraw" in out["buyerFormsAfterOffer"]
    assert "ok" in out["retry"]["cls"], out["retry"]
    assert out["buyerSigned"] == ["EvidenceSubmission", "SettlementOffer", "Settlement",
                                  "ProceduralStep", "ProceduralStep"]
    # The seller accepts in Chinese.
    assert "accept" in out["sellerForms"]
    assert out["offerTerms"].startswith(
        "买方 48.500000 tUSD · 卖方 431.500000 tUSD · 赔偿 10.000000 tUSD")
    assert "ok" in out["accept"]["cls"], out["accept"]
    assert out["sellerStage"] == "已和解"
    assert out["sellerSigned"] == ["ProceduralStep", "Settlement"]
    assert not [m for m in out["console"] if "pageerror" in m or (" error: " in m
                and "409" not in m)], out["console"]

    # Through the API: settled, with exactly the amounts entered, and the evidence listed.
    view = world.clients["buyer"].get(f"/cases/{world.case2}")
    assert view["stage"] == "settled"
    (offer,) = [o for o in view["offers"] if not o["withdrawn"]]
    assert {k: int(v) for k, v in offer["allocation"].items()} == {
        "to_buyer": 48_500_000, "to_seller": 431_500_000, "compensation": 10_000_000}
    assert offer["made_by"] == world.clients["buyer"].address
    steps = [(i["action"], i["signer"]) for i in
             world.clients["buyer"].get(f"/cases/{world.case2}/timeline")
             if i["type"] == "step"]
    buyer, seller = world.clients["buyer"].address, world.clients["seller"].address
    assert steps[-4:] == [("evidence.submitted", buyer), ("offer.made", buyer),
                          ("arbitration.agreed", buyer), ("offer.accepted", seller)], steps
    kinds = [e["kind"] for e in view["evidence"]]
    assert "communication" in kinds
    for name in ("actions-en.png", "invalid-zh.png", "stale-en.png", "accept-zh.png",
                 "settled-zh.png"):
        assert (out_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def _act(world: WebWorld, who: str, lang: str, step: str, png: Path,
         extra: dict[str, Any] | None = None) -> dict[str, Any]:
    done = subprocess.run(
        ["node", str(HERE / "act.cjs"), world.base, world.case_id,
         "0x" + bytes(key(who).key).hex(), lang, str(png), step, json.dumps(extra or {})],
        cwd=ROOT, env={**os.environ, "CHROMIUM": find_chromium()}, capture_output=True,
        text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    assert not [m for m in out["console"] if "pageerror" in m], out
    return out


def test_answer_close_record_and_objection_through_the_page(world: WebWorld,
                                                            tmp_path: Path) -> None:
    """The respondent answers (中文), the arbitrator closes the record, the claimant objects
    to the award (English), each with the keyboard; the API records each signed step."""
    import hashlib

    from evidence.records import Award

    c = world.clients
    case = world.case_id
    out_dir = HERE / "screenshots" if os.environ.get("CHAINARB_KEEP_SCREENSHOTS") else tmp_path
    out_dir.mkdir(exist_ok=True)
    # Through the API: both agree, the mediator declares an impasse, an arbitrator is named.
    for party in ("buyer", "seller"):
        c[party].post(f"/cases/{case}/arbitration-agreement",
                      c[party].plain(case, "arbitration.agreed"))
    c["mediator"].post(f"/cases/{case}/impasse", c["mediator"].plain(case, "impasse.declared"))
    c["admin"].post(f"/cases/{case}/arbitrator", c["admin"].plain(
        case, "appoint.arbitrator", {"role": "arbitrator",
                                     "appointees": [c["arbitrator"].address]}))
    assert c["buyer"].get(f"/cases/{case}")["stage"] == "evidence"

    answer = _act(world, "seller", "zh-Hans", "answer", out_dir / "answer-zh.png", {
        "file": {"selector": "#step-answer-document", "name": "answer.txt",
                 "mime": "text/plain", "content": "运输途中损坏，非货物本身问题。\n"}})
    assert "answer" in answer["forms"] and "ok" in answer["result"]["cls"], answer
    assert answer["signed"] == ["ProceduralStep"]

    # Nothing for a party to close; the arbitrator has the form.
    close = _act(world, "arbitrator", "en", "close", out_dir / "close-en.png")
    assert close["forms"] == ["close"], close
    assert "ok" in close["result"]["cls"] and close["stage"] == "record_closed", close

    # The award through the API (the arbitrator's document and Award record).
    doc = b"# Award\n\nPartial refund.\n"
    arb = c["arbitrator"]
    _, _, domain = arb.head(case)
    award = Award(order_id=int(c["buyer"].get(f"/cases/{case}")["orderId"]), case_id=case,
                  to_buyer=100_000_000, to_seller=380_000_000, compensation=0,
                  award_hash="0x" + hashlib.sha256(doc).hexdigest(), round=0
                  ).sign(arb.key.key, domain)
    record, _ = arb.step(case, "award.issued", payload_hash="0x" + award.record_hash.hex())
    import base64

    arb.post(f"/cases/{case}/award", {
        "record": record, "attachments": [award.to_json_obj()],
        "document": {"filename": "award.md", "media_type": "text/markdown",
                     "content_base64": base64.b64encode(doc).decode()}})

    # An empty objection is refused in the page; the real one is signed and recorded.
    empty = _act(world, "buyer", "en", "objection", out_dir / "objection-empty.png")
    assert empty["result"]["text"] == "Give your reasons." and empty["signed"] == [], empty
    objection = _act(world, "buyer", "en", "objection", out_dir / "objection-en.png", {
        "fill": {"#step-objection-reasons": "The arbitrator ignored the carrier's report."}})
    assert "ok" in objection["result"]["cls"], objection
    assert objection["signed"] == ["Objection"]
    steps = [(i["action"], i["signer"]) for i in c["buyer"].get(f"/cases/{case}/timeline")
             if i["type"] == "step"]
    assert ("answer.submitted", c["seller"].address) in steps
    assert ("record.closed", c["arbitrator"].address) in steps
    assert steps[-1][1] == c["buyer"].address and "bject" in steps[-1][0], steps
    # The escrow takes the objection only from the buyer's own wallet: the case page asks
    # for it (objectToAward), the seller's does not.
    (tx,) = c["buyer"].get(f"/cases/{case}/wallet-transactions")
    assert (tx["kind"], tx["function"]) == ("object", "objectToAward")
    for who, shown in (("buyer", True), ("seller", False)):
        page = httpx.get(f"{world.base}/ui/cases/{case}?lang=zh-Hans",
                         cookies={"chainarb_session": world.token(who)}).text
        assert ('id="wallet-transactions"' in page and "objectToAward" in page) is shown, who


def test_an_offer_in_an_18_decimal_token_keeps_every_unit(world: WebWorld,
                                                           tmp_path: Path) -> None:
    """An order paid in an 18-decimal token: an amount with more decimals than the token has
    is refused in words (Chinese here), nothing signed; an exact one to the last unit is
    signed as the integer it is (no float anywhere between the field and the record)."""
    from backend.services.escrow import TokenMeta
    from tests.backend.web.web_world import page_act, token_case

    amount = 1_234_567_890_123_456_789_012
    case = token_case(world, 81, "0x" + "d2" * 20, TokenMeta("DAI", 18), amount, 10**18)
    bad = page_act(world, case, "buyer", "zh-Hans", "offer", tmp_path / "dai-bad-zh.png", {
        "fill": {"#step-offer-toBuyer": "0.0000000000000000001",
                 "#step-offer-compensation": "0"}})
    assert "error" in bad["result"]["cls"] and bad["typed"] == []
    assert bad["result"]["text"] == "最多 18 位小数：DAI 的最小单位是 0.000000000000000001。"
    ok = page_act(world, case, "buyer", "en", "offer", tmp_path / "dai-ok-en.png", {
        "fill": {"#step-offer-toBuyer": "1234.567890123456789011",
                 "#step-offer-compensation": "0.000000000000000001"}})
    assert "ok" in ok["result"]["cls"], ok["result"]
    (offer,) = world.clients["buyer"].get(f"/cases/{case}")["offers"]
    assert {k: int(v) for k, v in offer["allocation"].items()} == {
        "to_buyer": amount - 1, "to_seller": 1, "compensation": 1}
