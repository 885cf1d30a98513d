"""The neutrals, the institution and the court act through the case page in chromium.

Each signs with its own wallet stand-in (window.ethereum → Node → @metamask/eth-sig-util):
the mediator publishes the rule-based pre-evaluation (中文) and declares an impasse
(English); the institution admin appoints the arbitrator (中文); the arbitrator closes the
record and issues the award with its reasoned document (English); a party requests
enforcement; the court confirms the award (中文) in one case and refuses confirmation
with reasons (English) in another, settled one. Parties see none of these forms, and
when a script in their page posts the step anyway (prepared or signed by themselves),
the server refuses it (403 ``wrong_actor``). What each wallet signed is, byte for byte,
the record the service stored (page == server).
"""

from __future__ import annotations

import hashlib
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from backend.services.steps import payload_hash
from evidence.records import CourtConfirmation, Domain, ProceduralStep, SignedRecord
from tests.backend.web.web_world import (
    WebWorld,
    case_steps,
    hash_of_typed,
    key,
    page_act,
    prepared_step,
    record_package_download,
)

pytestmark = pytest.mark.node

HERE = Path(__file__).parent
AWARD_DOC = "# Award\n\nThe panels were cracked in transit. Refund 100 tUSD plus 5 tUSD.\n"


def _own_record(world: WebWorld, who: str, case_id: str, build: Any) -> dict[str, Any]:
    """A record the party signs itself for a step that is not theirs (the probe's body)."""
    view = world.clients[who].get(f"/cases/{case_id}")
    at = int(datetime.fromisoformat(view["now"].replace("Z", "+00:00")).timestamp())
    rec = build(seq=view["nextSequence"], prev=view["prevHash"], at=at)
    return rec.sign(key(who).key, Domain.from_json_obj(view["domain"])).to_json_obj()


def test_neutrals_and_court_act_through_the_page(world: WebWorld, tmp_path: Path) -> None:
    out_dir = HERE / "screenshots" if os.environ.get("CHAINARB_KEEP_SCREENSHOTS") else tmp_path
    out_dir.mkdir(exist_ok=True)
    c = world.clients
    case = world.case_id
    # the buyer froze the escrow when filing (web_world)
    for party in ("buyer", "seller"):
        c[party].post(f"/cases/{case}/arbitration-agreement",
                      c[party].plain(case, "arbitration.agreed"))

    # The mediator (中文): the rule-based pre-evaluation; the form's default reads the
    # tracking from the order's performance evidence (no what-if status chosen).
    pre = page_act(world, case, "mediator", "zh-Hans", "preeval", out_dir / "preeval-zh.png",
                   {"fill": {}})
    assert pre["forms"] == ["preeval", "propose", "impasse"], pre
    assert pre["headings"][0] == "发布预评估报告"
    assert "ok" in pre["result"]["cls"], pre
    report = c["mediator"].get(f"/cases/{case}/pre-evaluation")
    published = c["buyer"].get(f"/cases/{case}")["preEvaluation"]  # (outcome, report hash)
    assert published == [report["recommended"], report["sha256"]], published
    # The mediator (English) declares an impasse: on to the arbitrator's appointment.
    imp = page_act(world, case, "mediator", "en", "impasse", out_dir / "impasse-en.png")
    assert "ok" in imp["result"]["cls"] and imp["stage"] == "arbitrator_appointment", imp

    # A party sees no appointment form; its page's script posting one anyway is refused.
    forged = _own_record(world, "buyer", case, lambda seq, prev, at: ProceduralStep(
        case_id=case, sequence=seq, prev_hash=prev, actor=c["buyer"].address,
        action="appoint.arbitrator", payload_hash=payload_hash(
            {"role": "arbitrator", "appointees": [c["buyer"].address]}), signed_at=at))
    nosy = page_act(world, case, "buyer", "en", "none", out_dir / "buyer-no-appoint.png", {
        "probe": [
            {"path": f"cases/{case}/steps/prepare", "body": {
                "action": "appoint.arbitrator",
                "payload": {"role": "arbitrator", "appointees": [c["buyer"].address]}}},
            {"path": f"cases/{case}/arbitrator", "body": {
                "record": forged, "payload": {"role": "arbitrator",
                                              "appointees": [c["buyer"].address]}}}]})
    assert not [f for f in nosy["forms"] if f.startswith("appoint")], nosy
    assert nosy["probes"] == [{"status": 403, "code": "wrong_actor"}] * 2, nosy
    assert c["buyer"].get(f"/cases/{case}")["stage"] == "arbitrator_appointment"

    # The institution admin (中文) appoints the arbitrator by address.
    bad = page_act(world, case, "admin", "zh-Hans", "appoint_arbitrator", out_dir / "bad-zh.png",
                   {"fill": {"#step-appoint_arbitrator-appointee": "0x1234"}})
    assert bad["result"]["text"].startswith("请输入钱包地址") and bad["signed"] == [], bad
    appoint = page_act(world, case, "admin", "zh-Hans", "appoint_arbitrator",
                       out_dir / "appoint-zh.png",
                       {"fill": {"#step-appoint_arbitrator-appointee": c["arbitrator"].address}})
    assert appoint["forms"] == ["appoint_arbitrator"] and appoint["headings"] == ["指定仲裁员"]
    assert "ok" in appoint["result"]["cls"] and appoint["stage"] == "evidence", appoint
    view = c["admin"].get(f"/cases/{case}")
    assert view["arbitrator"] == c["arbitrator"].address
    last = case_steps(world, case)[-1]
    assert last["action"] == "appoint.arbitrator"
    auth = c["admin"].get(f"/cases/{case}/steps/{last['sequence']}")["authorization"]
    assert hash_of_typed(appoint["typed"][0]) == \
        "0x" + SignedRecord.from_json_obj(auth).record_hash.hex()  # the admin's own record

    # The arbitrator (English) closes the record and issues the reasoned award.
    close = page_act(world, case, "arbitrator", "en", "close", out_dir / "close-en.png")
    assert close["forms"] == ["close"] and close["stage"] == "record_closed", close
    award = page_act(world, case, "arbitrator", "en", "award", out_dir / "award-en.png", {
        "fill": {"#step-award-toBuyer": "100", "#step-award-compensation": "5"},
        "file": {"selector": "#step-award-document", "name": "award.md",
                 "mime": "text/markdown", "content": AWARD_DOC}})
    assert award["forms"] == ["award"] and award["headings"] == ["Issue the award"]
    assert "ok" in award["result"]["cls"] and award["stage"] == "awarded", award
    assert award["signed"] == ["ProceduralStep", "Award"]
    view = c["buyer"].get(f"/cases/{case}")
    assert {k: int(v) for k, v in view["award"]["allocation"].items()} == {
        "to_buyer": 100_000_000, "to_seller": 380_000_000, "compensation": 5_000_000}
    assert view["award"]["award_hash"] == "0x" + hashlib.sha256(AWARD_DOC.encode()).hexdigest()
    step = case_steps(world, case)[-1]
    assert step["recordHash"] == hash_of_typed(award["typed"][0])  # page == server
    assert view["awardRecordHash"] == hash_of_typed(award["typed"][1]) == \
        award["typed"][0]["message"]["payloadHash"]

    # The seller (中文) may object, never award: no award form, the server refuses it.
    seller = page_act(world, case, "seller", "zh-Hans", "none", out_dir / "seller-awarded.png", {
        "probe": [{"path": f"cases/{case}/steps/prepare", "body": {
            "action": "award.issued", "payload": {
                "toBuyer": "0", "toSeller": "480000000", "compensation": "0",
                "awardHash": "0x" + "11" * 32}}}]})
    assert seller["forms"] == ["objection"], seller
    assert seller["probes"] == [{"status": 403, "code": "wrong_actor"}], seller

    # The window passes (the escrow's first payout attempt fails: the case stays final);
    # a party asks for enforcement through the page (English); the court confirms (中文).
    world.clock.advance(10 * 86400 + 1)
    world.port.fail_next.append("execute_award")
    c["admin"].post("/admin/tick")
    assert c["buyer"].get(f"/cases/{case}")["stage"] == "final"
    enforce = page_act(world, case, "buyer", "en", "enforce", out_dir / "enforce-en.png")
    assert "enforce" in enforce["forms"] and "ok" in enforce["result"]["cls"], enforce
    assert case_steps(world, case)[-1]["action"] == "enforcement.requested"
    c["admin"].post("/admin/tick")  # the payout is retried and recorded
    v = c["buyer"].get(f"/cases/{case}")
    assert v["stage"] == "enforced", (v["chainActions"], case_steps(world, case)[-3:])
    court = c["court"].address
    c["admin"].post("/admin/courts", {"address": court, "name": "Hangzhou Intermediate Court"})
    for cid in (case, world.case2):
        c["admin"].post(f"/cases/{cid}/courts", {"court": court})
    package = "0x" + hashlib.sha256(b"judicial package manifest").hexdigest()
    for cid in (case, world.case2):  # the court downloaded the package it decides on
        record_package_download(world, court, cid, package)
    confirm = page_act(world, case, "court", "zh-Hans", "confirm", out_dir / "confirm-zh.png", {
        "fill": {"#step-confirm-packageHash": package,
                 "#step-confirm-courtReference": "（2026）浙01民特17号"}})
    assert confirm["forms"] == ["confirm", "refuse"], confirm
    assert confirm["headings"] == ["司法确认（法院）", "不予确认（法院）"]
    assert "ok" in confirm["result"]["cls"] and confirm["stage"] == "judicially_confirmed", \
        confirm
    assert confirm["typed"][0]["message"]["awardRecordHash"] == view["awardRecordHash"]
    assert case_steps(world, case)[-1]["recordHash"] == hash_of_typed(confirm["typed"][0])

    # Case 2 settles through the API (prepared offer, prepared acceptance).
    offer = prepared_step(world, "seller", world.case2, "offer.made", {
        "toBuyer": "200000000", "toSeller": "280000000", "compensation": "0",
        "expiresAt": str(int(world.clock().timestamp()) + 86400)})
    prepared_step(world, "buyer", world.case2, "offer.accepted", {"offerId": offer["recordHash"]})
    assert c["buyer"].get(f"/cases/{world.case2}")["stage"] == "settled"
    # The seller sees no court form; a court decision it signs itself is refused.
    forged = _own_record(world, "seller", world.case2, lambda seq, prev, at: CourtConfirmation(
        case_id=world.case2, sequence=seq, prev_hash=prev, court=c["seller"].address,
        package_hash=package, award_record_hash="0x" + "00" * 32, confirmed=True,
        reasons_hash="0x" + "00" * 32, court_reference="self-made", signed_at=at))
    party = page_act(world, world.case2, "seller", "en", "none", out_dir / "seller-settled.png", {  # type: ignore[assignment]
        "probe": [{"path": f"cases/{world.case2}/steps/prepare", "body": {
            "action": "court.confirmed",
            "payload": {"packageHash": package, "courtReference": "x"}}},
            {"path": f"cases/{world.case2}/court-decision", "body": {"record": forged}}]})
    assert party["forms"] == [], party  # type: ignore[comparison-overlap, index]
    assert party["probes"] == [{"status": 403, "code": "wrong_actor"}] * 2, party  # type: ignore[comparison-overlap, index]
    # The court (English) refuses confirmation, with its reasons.
    empty = page_act(world, world.case2, "court", "en", "refuse", out_dir / "refuse-empty.png", {
        "fill": {"#step-refuse-packageHash": package, "#step-refuse-courtReference": "R-1"}})
    assert empty["result"]["text"] == "Give your reasons." and empty["signed"] == [], empty
    reasons = "The settlement was signed under a mistaken currency; not confirmed."
    refuse = page_act(world, world.case2, "court", "en", "refuse", out_dir / "refuse-en.png", {
        "fill": {"#step-refuse-packageHash": package,
                 "#step-refuse-courtReference": "(2026) Court 42",
                 "#step-refuse-reasons": reasons}})
    assert "ok" in refuse["result"]["cls"], refuse
    assert refuse["stage"] == "confirmation_refused", refuse
    msg = refuse["typed"][0]["message"]
    assert msg["confirmed"] is False
    assert msg["reasonsHash"] == "0x" + hashlib.sha256(reasons.encode()).hexdigest()
    assert case_steps(world, world.case2)[-1]["recordHash"] == hash_of_typed(refuse["typed"][0])
    for name in ("preeval-zh.png", "appoint-zh.png", "award-en.png", "confirm-zh.png",
                 "refuse-en.png", "buyer-no-appoint.png"):
        assert (out_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
