"""Mediator and panel appointments, the mediator's proposal, an objection and the panel
award, each taken through the case page in chromium (the second case of the web world).

The institution admin appoints the mediator (English); the mediator proposes a settlement
(中文); after an award (through the API) the seller objects (English); the admin first
names the sole arbitrator to the panel and is told why that is refused (中文), then appoints
three panelists (中文); two panelists sign the same panel award with its reasoned document
(English, 中文), which makes it binding. For each step: the action, the signer and the stage
the service stored, and that what the wallet signed is, byte for byte, the stored record
(page == server). The sole arbitrator, a neutral of the case but not on the panel, sees no
panel-award form, and the server refuses the panel award when a script in its page posts
one anyway (prepared, or signed by itself; 403 ``wrong_actor``); an outsider gets 403 too.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from evidence.records import Award, Domain, ProceduralStep, SignedRecord
from tests.backend.web.web_world import (
    ORDER_2,
    WebWorld,
    case_steps,
    hash_of_typed,
    key,
    page_act,
    prepared_step,
)

pytestmark = pytest.mark.node

HERE = Path(__file__).parent
AWARD_DOC = b"# Award\n\nThe panels were cracked in transit. Refund 100 tUSD.\n"
PANEL_DOC = "# Panel award\n\nOn objection: refund 150 tUSD plus 10 tUSD from the guarantee.\n"
OBJECTION = "The photos show packing damage after delivery; the award is too high."


def _stored(world: WebWorld, case_id: str, typed: dict[str, Any], action: str,
            signer: str) -> dict[str, Any]:
    """The case's last step: its action, and that the record the wallet signed is the one
    stored, signed by ``signer`` (an appointment is stored signed by the institution key,
    with the admin's own record beside it as its ``authorization``)."""
    last = case_steps(world, case_id)[-1]
    detail = world.clients["admin"].get(f"/cases/{case_id}/steps/{last['sequence']}")
    assert last["action"] == action, last
    if action.startswith("appoint."):
        assert last["signer"] == world.clients["admin"].get(f"/cases/{case_id}")["institution"]
        own = SignedRecord.from_json_obj(detail["authorization"])
        assert detail["authorization"]["message"]["action"] == action
    else:
        assert detail["authorization"] is None
        own = SignedRecord.from_json_obj(detail["record"])
        assert last["recordHash"] == "0x" + own.record_hash.hex()
    assert "0x" + own.record_hash.hex() == hash_of_typed(typed)  # page == server
    assert own.signers() == (signer,)
    if detail["payload"] is not None:  # canonical JSON, the SHA-256 of which was signed
        assert "0x" + hashlib.sha256(detail["payload"].encode()).hexdigest() == \
            typed["message"]["payloadHash"]
        detail["payload"] = json.loads(detail["payload"])
    return {**last, **detail}


def _forged_panel_award(world: WebWorld, who: str, case_id: str) -> dict[str, Any]:
    """A complete panel-award body that ``who`` signs itself: the step at the chain's head
    and its round-1 Award, with the document (everything a panelist would post)."""
    view = world.clients["admin"].get(f"/cases/{case_id}")
    domain = Domain.from_json_obj(view["domain"])
    doc = b"self-made panel award"
    award = Award(order_id=ORDER_2, case_id=bytes.fromhex(case_id[2:]), to_buyer=480_000_000,
                  to_seller=0, compensation=0, award_hash=hashlib.sha256(doc).digest(), round=1)
    step = ProceduralStep(
        case_id=case_id, sequence=view["nextSequence"], prev_hash=view["prevHash"],
        actor=key(who).address, action="award.panel_signed",
        payload_hash="0x" + award.digest(domain).hex(),
        signed_at=int(datetime.fromisoformat(view["now"].replace("Z", "+00:00")).timestamp()))
    return {"record": step.sign(key(who).key, domain).to_json_obj(), "payload": None,
            "attachments": [award.sign(key(who).key, domain).to_json_obj()],
            "document": {"filename": "award.md", "media_type": "text/markdown",
                         "content_base64": base64.b64encode(doc).decode()}}


def test_panel_steps_through_the_page(world: WebWorld, tmp_path: Path) -> None:
    out_dir = HERE / "screenshots" if os.environ.get("CHAINARB_KEEP_SCREENSHOTS") else tmp_path
    out_dir.mkdir(exist_ok=True)
    c = world.clients
    case = world.case2
    admin, mediator = c["admin"].address, c["mediator"].address
    # the buyer froze the escrow when filing (web_world)
    c["buyer"].post(f"/cases/{case}/facilitation",
                    c["buyer"].plain(case, "facilitation.requested"))
    assert c["admin"].get(f"/cases/{case}")["mediator"] is None

    # The admin (English) appoints the mediator by address.
    med = page_act(world, case, "admin", "en", "appoint_mediator", out_dir / "mediator-en.png",
                   {"fill": {"#step-appoint_mediator-appointee": mediator.lower()}})
    assert med["forms"] == ["appoint_mediator"], med
    assert med["headings"] == ["Appoint the mediator"]
    assert "ok" in med["result"]["cls"] and med["stage"] == "facilitation", med
    assert med["formsAfter"] == [], med  # one mediator only: no second appointment form
    assert med["signed"] == ["ProceduralStep"]
    _stored(world, case, med["typed"][0], "appoint.mediator", admin)
    assert med["typed"][0]["message"]["actor"].lower() == admin.lower()
    assert c["buyer"].get(f"/cases/{case}")["mediator"] == mediator

    # The mediator (中文) proposes a settlement: 150 to the buyer, 10 compensation, 3 days.
    prop = page_act(world, case, "mediator", "zh-Hans", "propose", out_dir / "propose-zh.png", {
        "fill": {"#step-propose-toBuyer": "150", "#step-propose-compensation": "10",
                 "#step-propose-days": "3"}})
    assert prop["forms"] == ["preeval", "propose", "impasse"], prop
    assert prop["headings"][1] == "提出调解方案"
    assert "ok" in prop["result"]["cls"] and prop["stage"] == "facilitation", prop
    msg = prop["typed"][0]["message"]
    assert prop["typed"][0]["primaryType"] == "ProceduralStep"
    assert (msg["action"], msg["actor"].lower()) == ("settlement.proposed", mediator.lower())
    detail = _stored(world, case, prop["typed"][0], "settlement.proposed", mediator)
    offers = c["buyer"].get(f"/cases/{case}")["offers"]
    proposal = next(o for o in offers if o["made_by"] == mediator)
    assert proposal["offer_id"] == detail["payload"]["offerId"]
    assert proposal["accepted_by"] == []  # a proposal binds no one until both parties sign
    assert {k: int(v) for k, v in proposal["allocation"].items()} == {
        "to_buyer": 150_000_000, "to_seller": 330_000_000, "compensation": 10_000_000}
    now = int(world.clock().timestamp())
    assert 3 * 86400 - 120 < int(detail["payload"]["expiresAt"]) - now <= 3 * 86400

    # Agreement to arbitrate, impasse, arbitrator, close and award through the API.
    for party in ("buyer", "seller"):
        prepared_step(world, party, case, "arbitration.agreed", {})
    prepared_step(world, "mediator", case, "impasse.declared", {})
    prepared_step(world, "admin", case, "appoint.arbitrator",
              {"role": "arbitrator", "appointees": [c["arbitrator"].address]})
    prepared_step(world, "arbitrator", case, "record.closed", {})
    prepared_step(world, "arbitrator", case, "award.issued", {
        "toBuyer": "100000000", "toSeller": "380000000", "compensation": "0",
        "awardHash": "0x" + hashlib.sha256(AWARD_DOC).hexdigest()},
        document={"filename": "award.md", "media_type": "text/markdown",
                  "content_base64": base64.b64encode(AWARD_DOC).decode()})
    awarded = c["seller"].get(f"/cases/{case}")
    assert awarded["stage"] == "awarded"

    # The seller (English) objects, with reasons.
    empty = page_act(world, case, "seller", "en", "objection", out_dir / "objection-empty.png")
    assert empty["result"]["text"] == "Give your reasons." and empty["signed"] == [], empty
    obj = page_act(world, case, "seller", "en", "objection", out_dir / "objection-en.png",
                   {"fill": {"#step-objection-reasons": OBJECTION}})
    assert obj["forms"] == ["objection"] and obj["headings"] == ["Object to the award"]
    assert "ok" in obj["result"]["cls"] and obj["stage"] == "panel_appointment", obj
    assert obj["signed"] == ["Objection"]
    msg = obj["typed"][0]["message"]
    assert msg["objector"].lower() == c["seller"].address.lower()
    assert msg["awardRecordHash"] == awarded["awardRecordHash"]
    assert msg["reasonsHash"] == "0x" + hashlib.sha256(OBJECTION.encode()).hexdigest()
    _stored(world, case, obj["typed"][0], "award.objected", c["seller"].address)
    world.port.party_objects(ORDER_2)  # the seller's own objectToAward on the escrow

    # The admin (中文) names the sole arbitrator to the panel: refused, and told why.
    panel = [key(f"panelist{n}").address for n in (1, 2, 3)]
    sel = "#step-appoint_panel-appointee"
    bad = page_act(world, case, "admin", "zh-Hans", "appoint_panel", out_dir / "panel-bad-zh.png",
                   {"fill": {f"{sel}1": c["arbitrator"].address, f"{sel}2": panel[1],
                             f"{sel}3": panel[2]}})
    assert bad["forms"] == ["appoint_panel"] and bad["headings"] == ["组成三人仲裁庭"], bad
    assert "error" in bad["result"]["cls"], bad
    assert bad["signed"] == [], bad  # refused when prepared: nothing was signed
    assert bad["result"]["text"].startswith("不能指定此人"), bad
    assert c["admin"].get(f"/cases/{case}")["stage"] == "panel_appointment"
    # ... then appoints three panelists.
    app = page_act(world, case, "admin", "zh-Hans", "appoint_panel", out_dir / "panel-zh.png",
                   {"fill": {f"{sel}{n}": a for n, a in enumerate(panel, 1)}})
    assert "ok" in app["result"]["cls"] and app["stage"] == "panel", app
    detail = _stored(world, case, app["typed"][-1], "appoint.panel", admin)
    assert c["buyer"].get(f"/cases/{case}")["panel"] == panel
    assert detail["payload"] == {"role": "panelist", "appointees": panel}

    # The sole arbitrator is not on the panel: no form; a posted panel award is refused.
    fields = {"toBuyer": "480000000", "toSeller": "0", "compensation": "0",
              "awardHash": "0x" + "22" * 32}
    nosy = page_act(world, case, "arbitrator", "en", "none", out_dir / "arbitrator-panel.png", {
        "probe": [{"path": f"cases/{case}/steps/prepare",
                   "body": {"action": "award.panel_signed", "payload": fields}},
                  {"path": f"cases/{case}/panel-award",
                   "body": _forged_panel_award(world, "arbitrator", case)}]})
    assert "panel_award" not in nosy["forms"] and nosy["forms"] == [], nosy
    assert nosy["probes"] == [{"status": 403, "code": "wrong_actor"}] * 2, nosy
    outsider = c["stranger"].http.post(
        f"/cases/{case}/panel-award", json=_forged_panel_award(world, "stranger", case),
        headers={"Authorization": f"Bearer {world.token('stranger')}"})
    assert outsider.status_code == 403, outsider.text
    assert [s["action"] for s in case_steps(world, case)][-1] == "appoint.panel"

    # Two panelists sign the same panel award through the page (English, 中文).
    doc = {"selector": "#step-panel_award-document", "name": "panel-award.md",
           "mime": "text/markdown", "content": PANEL_DOC}
    fill = {"#step-panel_award-toBuyer": "150", "#step-panel_award-compensation": "10"}
    records = []
    for who, lang, stage in (("panelist1", "en", "panel"),
                             ("panelist3", "zh-Hans", "awarded_by_panel")):
        signed = page_act(world, case, who, lang, "panel_award", out_dir / f"{who}-{lang}.png",
                          {"fill": fill, "file": doc})
        assert signed["forms"] == ["panel_award"], signed
        assert signed["headings"] == [{"en": "Sign the panel award",
                                       "zh-Hans": "签署合议庭裁决"}[lang]]
        assert "ok" in signed["result"]["cls"] and signed["stage"] == stage, signed
        assert signed["signed"] == ["ProceduralStep", "Award"]
        assert "panel_award" not in signed["formsAfter"], signed  # one signature each
        _stored(world, case, signed["typed"][0], "award.panel_signed", key(who).address)
        assert signed["typed"][0]["message"]["payloadHash"] == hash_of_typed(signed["typed"][1])
        assert int(signed["typed"][1]["message"]["round"]) == 1
        records.append(hash_of_typed(signed["typed"][1]))
    assert records[0] == records[1]  # both signed the same award
    view = c["buyer"].get(f"/cases/{case}")
    assert view["awardRecordHash"] == records[0]
    assert {k: int(v) for k, v in view["award"]["allocation"].items()} == {
        "to_buyer": 150_000_000, "to_seller": 330_000_000, "compensation": 10_000_000}
    assert view["award"]["award_hash"] == "0x" + hashlib.sha256(PANEL_DOC.encode()).hexdigest()
    for name in ("mediator-en.png", "propose-zh.png", "objection-en.png", "panel-zh.png",
                 "panelist3-zh-Hans.png", "arbitrator-panel.png"):
        assert (out_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
