"""Performance evidence recorded as it happens (issue 13 item 2; docs/performance-evidence.md).

A local carrier simulator (``backend.performance.simulator``) stands in for a real carrier
or marketplace: it signs its webhooks with its own key, exactly as a sender configured in
``CHAINARB_WEBHOOK_SENDERS`` must. On SQLite and PostgreSQL (``clean_db_url``): capture with
each signature scheme, the origin label and the sender's identity in the signed provenance
log, every refusal (forged, unsigned, stale, replayed, out of order, not allowed, unknown
sender or order, malformed, too large) with its code and its row in the refusal log, a
party's own record, the attachment to the case when it is filed, and the pre-evaluation
reading the tracking evidence instead of a typed value.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from backend.performance import EventType, Scheme
from backend.performance.simulator import CarrierSimulator
from backend.services.cases import case_id_for_order
from evidence.judicial.provenance import SignedProvenanceEntry, check_log, provenance_entry_values
from evidence.records import Domain
from tests.support.snapshots import StageSnapshots
from tests.support.world import (
    CHAIN_ID,
    ESCROW,
    INSTITUTION_KEY,
    ORDER_ID,
    World,
    file_claim,
    make_world,
    ok,
    to_facilitation,
)

ORDER = ORDER_ID
NAMES = {"hmac": "Simulated Express", "ed": "Simulated Marketplace",
         "k1": "Simulated Chain Carrier"}


def _clock_of(world: World) -> Any:
    return lambda: world.clock().timestamp()


@pytest.fixture
def sims() -> dict[str, CarrierSimulator]:
    return {"hmac": CarrierSimulator.new("sim-hmac", Scheme.HMAC_SHA256),
            "ed": CarrierSimulator.new("sim-ed25519", Scheme.ED25519),
            "k1": CarrierSimulator.new("sim-k1", Scheme.SECP256K1),
            "inspector": CarrierSimulator.new("sim-inspector", Scheme.ED25519),
            "tight": CarrierSimulator.new("sim-tight", Scheme.HMAC_SHA256)}


@pytest.fixture
def carrier(clean_db_url: str, tmp_path: Path, stage_snapshots: StageSnapshots,
            sims: dict[str, CarrierSimulator]) -> Iterator[World]:
    senders = [sims["hmac"].config(name="Simulated Express", name_zh="模拟快递"),
               sims["ed"].config(name="Simulated Marketplace", name_zh="模拟电商平台"),
               sims["k1"].config(name="Simulated Chain Carrier", name_zh="模拟链上承运人"),
               sims["inspector"].config(name="Simulated Inspection", name_zh="模拟验货机构",
                                        events=["inspected"]),
               sims["tight"].config(name="Tight Window", name_zh="短窗口", window_seconds=10)]
    w = make_world(clean_db_url, tmp_path, webhook_senders=senders)
    w.snapshots = stage_snapshots
    for sim in sims.values():
        sim.clock = _clock_of(w)
    with w.client:
        yield w


def _send(w: World, sim: CarrierSimulator, *args: Any, timestamp: int | None = None,
          **kw: Any) -> Any:
    event = sim.event(ORDER, *args, **kw) if args else kw.pop("event")
    return sim.send(w.client, event, timestamp=timestamp)


def _refusals(w: World) -> list[dict[str, Any]]:
    rows: list[dict[str, Any]] = ok(w.admin.get("/admin/webhook-refusals"))
    return rows


def _log(entries: list[dict[str, Any]]) -> list[SignedProvenanceEntry]:
    return [SignedProvenanceEntry.from_json_obj(e) for e in entries]


@pytest.mark.parametrize("which", ["hmac", "ed", "k1"])
def test_each_scheme_records_an_origin_verified_item_stamped_at_capture(
        carrier: World, sims: dict[str, CarrierSimulator], which: str) -> None:
    w, sim = carrier, sims[which]
    event = sim.event(ORDER, "SIM0001", "delivered_signed", signed_by="Li Wei",
                      occurred_at=w.clock() - timedelta(hours=1))
    r = sim.send(w.client, event)
    assert r.status_code == 201, r.text
    item = r.json()
    assert item["origin"]["label"] == "origin-verified"
    assert item["origin"]["zh-Hans"].startswith("来源已验证")
    assert item["origin"]["sender"]["id"] == sim.sender_id
    assert item["origin"]["sender"]["scheme"] == sim.scheme.value
    assert item["capturedAt"] == "2026-11-24T08:00:00Z"  # the service's clock at capture
    assert item["occurredAt"] == "2026-11-24T07:00:00Z"  # the carrier's word
    assert item["typeLabel"] == {"en": "delivered, signed for", "zh-Hans": "已签收"}
    assert item["attached"] is False  # no case yet: attached to the order
    # the body as the carrier sent it, decrypted from IPFS
    for who in ("buyer", "seller"):
        body = w.actors[who].get(f"/performance/{item['id']}/content")
        assert body.status_code == 200 and body.content == sim.body(event)
    assert w.stranger.get(f"/performance/{item['id']}/content").status_code == 403
    # the provenance log: signed by the service at capture, bound to the order's case id
    prov = ok(w.buyer.get(f"/performance/{item['id']}/provenance"))
    assert prov["origin"] == item["origin"]
    log = _log(prov["entries"])
    assert [e.entry.action for e in log] == ["performance.captured", "origin.verified"]
    assert log[0].entry.at == int(w.clock().timestamp())
    sender = log[1].entry.details["sender"]
    assert isinstance(sender, dict) and sender["name"] == NAMES[which]
    assert log[1].entry.details["signedTimestamp"] == str(int(w.clock().timestamp()))
    assert log[1].entry.session == f"webhook:{sim.sender_id}"
    assert log[0].entry.details["cid"] == item["cid"]
    case_id = case_id_for_order(Domain(chain_id=CHAIN_ID, verifying_contract=ESCROW), ORDER)
    from eth_account import Account
    assert check_log(log, case_id=bytes.fromhex(case_id[2:]),
                     commitment=bytes.fromhex(item["commitment"][2:]),
                     domain=w.domain, service=Account.from_key(INSTITUTION_KEY).address) == []


def test_each_capture_is_a_log_entry_answered_with_its_receipt(
        carrier: World, sims: dict[str, CarrierSimulator]) -> None:
    """docs/log.md §12, kind ``performance``: the item's entry is appended in its row's write
    unit, under the order's case id (before any case exists), named by the EIP-712 digest
    of its capture entry; a refused event appends nothing."""
    from eth_account import Account

    from evidence.judicial.provenance import performance_entry_values, provenance_entry_values
    from evidence.log import verify_receipt

    w, sim = carrier, sims["hmac"]
    event = sim.event(ORDER, "L1", "shipped")
    path, headers, body = sim.request(event)
    r = w.client.post(path, content=body, headers=headers)
    assert r.status_code == 201, r.text
    item = r.json()
    receipt = verify_receipt(item["receipt"], [Account.from_key(INSTITUTION_KEY).address]
                             ).receipt
    assert receipt.entry.kind.label == "performance"
    case_id = case_id_for_order(Domain(chain_id=CHAIN_ID, verifying_contract=ESCROW), ORDER)
    assert "0x" + receipt.entry.case_id.hex() == case_id == item["caseId"]
    prov = ok(w.buyer.get(f"/performance/{item['id']}/provenance"))["entries"]
    record, sigs = performance_entry_values(prov, w.domain)
    assert (receipt.entry.record_hash, receipt.entry.signatures_hash) == (record, sigs)
    leaf = ok(w.stranger.get(f"/log/leaf/0x{record.hex()}"))  # hashes only, to anyone
    assert [e["index"] for e in leaf["entries"]] == [receipt.index]
    # the replay is refused and logs nothing; a party's own record is the next entry
    _refused(w.client.post(path, content=body, headers=headers), 409, "webhook_replayed")
    own = w.seller.post(f"/orders/{ORDER}/performance", json={
        "type": "in_transit", "shipment": "L1", "occurredAt": "2026-11-24T07:00:00Z"})
    assert own.status_code == 201, own.text
    # the item's other provenance entry (origin.verified) is the entry after its own
    (extra,) = item["provenanceReceipts"]
    assert extra["index"] == receipt.index + 1 and extra["entry"]["kind"] == "provenance"
    assert extra["entry"]["recordHash"] == "0x" + provenance_entry_values(
        prov, w.domain, performance=True)[0][0].hex()
    assert own.json()["receipt"]["index"] == receipt.index + 2
    assert own.json()["receipt"]["entry"]["kind"] == "performance"
    assert [r["entry"]["kind"] for r in own.json()["provenanceReceipts"]] == ["provenance"]
    # the log's entries and the items agree once the case is filed (its id is the same)
    to_facilitation(w)
    items = ok(w.buyer.get(f"/cases/{case_id}/performance"))["items"]
    assert {i["id"] for i in items} == {item["id"], own.json()["id"]}
    prov = ok(w.buyer.get(f"/performance/{item['id']}/provenance"))["entries"]
    assert prov[-1]["entry"]["action"] == "case.attached"  # appended after capture:
    assert performance_entry_values(prov, w.domain) == (record, sigs)  # the entry still names it
    attached = "0x" + provenance_entry_values(prov, w.domain)[-1][0].hex()
    logged = ok(w.stranger.get(f"/log/leaf/{attached}"))["entries"]  # and is logged itself
    assert [e["kind"] for e in logged] == ["provenance"]


def test_a_performance_item_from_before_the_log_is_backfilled(
        carrier: World, sims: dict[str, CarrierSimulator], tmp_path: Path) -> None:
    """docs/log.md §12, "Records from before the log": items captured before performance
    and provenance entries existed are appended by ``chainarb log check --repair``; their
    record hashes need the escrow's EIP-712 domain, which the command takes from the stored
    records, the settings or the operator (``--chain-id``/``--escrow``), and asks for in
    both languages when none fits."""
    import sqlalchemy as sa

    from backend.db import write_scope
    from backend.db.log_models import LogCase, LogEntry, LogHead, LogIndexHead, LogNode
    from backend.log.store import forget_frontier
    from backend.services.performance import performance_leaf
    from tests.backend.package.test_package_backfill import _check

    w, sim = carrier, sims["k1"]
    ctx = w.app.state.ctx
    ok(sim.send(w.client, sim.event(ORDER, "L9", "shipped")))
    ok(w.buyer.post(f"/orders/{ORDER}/performance", json={
        "type": "delivered", "shipment": "L9", "occurredAt": "2026-11-24T07:00:00Z"}))
    with write_scope(ctx.sessions) as s:  # the log begins now: the items are not in it
        for table in (LogEntry, LogNode, LogHead, LogCase, LogIndexHead):
            s.execute(sa.delete(table))
        forget_frontier(s)  # the service's kept frontier was of the log just emptied
    url = str(ctx.settings.database_url)
    # no case yet: no stored signed record names the escrow's domain, nor do the settings
    code, _, text = _check(url, tmp_path, "--repair", json_line=False)
    assert code == 2 and "--chain-id ID --escrow ADDRESS" in text, text
    code, _, text = _check(url, tmp_path, "--repair", json_line=False, lang="zh-Hans")
    assert code == 2 and "托管合约的 EIP-712 域" in text and "--chain-id" in text, text
    code, _, text = _check(url, tmp_path, "--chain-id", "1", json_line=False)
    assert code == 2 and "go together" in text  # half a domain is a usage error
    wrong = ["--chain-id", str(CHAIN_ID), "--escrow", "0x" + "11" * 20]
    code, _, text = _check(url, tmp_path, *wrong, json_line=False)
    assert code == 2 and f"({CHAIN_ID}, " in text  # a domain that does not fit: named
    domain = ["--chain-id", str(CHAIN_ID), "--escrow", ESCROW]
    code, found, text = _check(url, tmp_path, *domain)
    assert code == 1 and found["unlogged"] == 4, text  # 2 items: performance + provenance
    code, done, text = _check(url, tmp_path, "--repair", *domain)
    assert code == 0 and done["backfilled"] == 4, text
    code, again, _ = _check(url, tmp_path, "--repair", *domain)  # idempotent
    assert code == 0 and again["backfilled"] == 0 and again["unlogged"] == 0
    with ctx.sessions() as s:
        rows = s.exec(sa.select(LogEntry.kind, LogEntry.case_id, LogEntry.record_hash,  # type: ignore[call-overload]
                                LogEntry.signatures_hash).order_by(LogEntry.idx)).all()
    items = ok(w.buyer.get(f"/orders/{ORDER}/performance"))["items"]
    want = []
    for it in items:
        prov = ok(w.buyer.get(f"/performance/{it['id']}/provenance"))["entries"]
        want.append(performance_leaf(it["caseId"], prov, w.domain))
        want += [(it["caseId"], "0x" + r.hex(), "0x" + g.hex())
                 for r, g in provenance_entry_values(prov, w.domain, performance=True)]
    assert [tuple(r[1:]) for r in rows] == want and {r[0] for r in rows} == {"backfill"}
    # once the case is filed its steps name the domain: no flag needed, nothing missing
    to_facilitation(w)
    ok(w.buyer.get(f"/orders/{ORDER}/performance"))
    code, found, text = _check(url, tmp_path)
    assert code == 0 and found["unlogged"] == 0, text


def test_sender_names_and_key_ids_are_the_configured_ones(
        carrier: World, sims: dict[str, CarrierSimulator]) -> None:
    w = carrier
    items = [ok(_send(w, sims[k], f"S-{k}", "shipped")) for k in ("hmac", "ed", "k1")]
    senders = {i["origin"]["sender"]["id"]: i["origin"]["sender"] for i in items}
    assert senders["sim-ed25519"]["name"] == "Simulated Marketplace"
    assert senders["sim-ed25519"]["nameZh"] == "模拟电商平台"
    assert senders["sim-ed25519"]["keyId"] == sims["ed"].config().public_key
    assert senders["sim-k1"]["keyId"] == sims["k1"].config().address
    # an HMAC secret is named by a fingerprint only, never written anywhere
    assert senders["sim-hmac"]["keyId"].startswith("hmac-sha256:")
    assert sims["hmac"].key.decode() not in json.dumps(items)
    prov = ok(w.seller.get(f"/performance/{items[0]['id']}/provenance"))
    assert sims["hmac"].key.decode() not in json.dumps(prov)


def _refused(r: Any, status: int, code: str) -> dict[str, Any]:
    assert r.status_code == status, r.text
    body: dict[str, Any] = r.json()
    assert body["code"] == code, body
    return body


def test_forged_webhooks_are_refused_and_logged(
        carrier: World, sims: dict[str, CarrierSimulator]) -> None:
    w, sim = carrier, sims["hmac"]
    path, headers, body = sim.request(sim.event(ORDER, "F1", "delivered"))
    # the body altered after signing
    tampered = body.replace(b"delivered", b"lost")
    _refused(w.client.post(path, content=tampered, headers=headers), 401, "webhook_forged")
    # signed with another secret (a forger guessing), and with another sender's key
    forger = CarrierSimulator.new("sim-hmac", Scheme.HMAC_SHA256, _clock_of(w))
    _refused(forger.send(w.client, forger.event(ORDER, "F1", "delivered")), 401,
             "webhook_forged")
    other = CarrierSimulator("sim-ed25519", Scheme.ED25519, sims["k1"].key, _clock_of(w))
    _refused(other.send(w.client, other.event(ORDER, "F1", "delivered")), 401,
             "webhook_forged")
    k1_forger = CarrierSimulator.new("sim-k1", Scheme.SECP256K1, _clock_of(w))
    _refused(k1_forger.send(w.client, k1_forger.event(ORDER, "F1", "delivered")), 401,
             "webhook_forged")
    # one sender's valid signature presented as another sender's (the id is signed)
    _p2, h2, b2 = sims["tight"].request(sims["tight"].event(ORDER, "F1", "delivered"))
    _refused(w.client.post(path, content=b2, headers=h2), 401, "webhook_forged")
    # no signature, no timestamp, garbage
    _refused(w.client.post(path, content=body, headers={"Chainarb-Timestamp":
                                                        headers["Chainarb-Timestamp"]}),
             401, "webhook_unsigned")
    _refused(w.client.post(path, content=body, headers={**headers,
                                                        "Chainarb-Signature": "0xzz"}),
             401, "webhook_forged")
    # nothing was recorded; each refusal is in the institution's log with its code
    assert ok(w.buyer.get(f"/orders/{ORDER}/performance"))["items"] == []
    log = _refusals(w)
    assert [r["code"] for r in log] == ["webhook_forged"] * 5 + ["webhook_unsigned",
                                                                 "webhook_forged"]
    assert log[0]["sender"] == "sim-hmac" and log[0]["bodySha256"].startswith("0x")
    assert log[0]["signedTimestamp"] == headers["Chainarb-Timestamp"]
    assert "Simulated Express" in log[0]["detail"]
    # the log is the institution's: a party or a stranger may not read it
    for who in ("buyer", "stranger"):
        _refused(w.actors[who].get("/admin/webhook-refusals"), 403, "access_denied")
    assert [r["id"] for r in ok(w.admin.get("/admin/webhook-refusals",
                                            params={"after": log[4]["id"]}))] == \
        [log[5]["id"], log[6]["id"]]


def test_replayed_and_stale_webhooks_are_refused(
        carrier: World, sims: dict[str, CarrierSimulator]) -> None:
    w, sim = carrier, sims["ed"]
    event = sim.event(ORDER, "R1", "shipped")
    path, headers, body = sim.request(event)
    assert w.client.post(path, content=body, headers=headers).status_code == 201
    blocks = len(w.blockstore.blocks)  # type: ignore[attr-defined]
    # the same request again (a captured copy, or the carrier retrying)
    r = _refused(w.client.post(path, content=body, headers=headers), 409, "webhook_replayed")
    assert "already recorded" in r["detail"]
    # the same event id signed anew a minute later
    w.clock.advance(60)
    _refused(sim.send(w.client, event), 409, "webhook_replayed")
    # the captured copy, after the window (300 s by default): stale
    w.clock.advance(300)
    _refused(w.client.post(path, content=body, headers=headers), 401, "webhook_stale")
    # a timestamp from the future beyond the window
    future = int(w.clock().timestamp()) + 301
    _refused(sim.send(w.client, sim.event(ORDER, "R1", "in_transit"), timestamp=future),
             401, "webhook_stale")
    items = ok(w.buyer.get(f"/orders/{ORDER}/performance"))["items"]
    assert [i["eventId"] for i in items] == [event.event_id]  # recorded once, never twice
    assert len(w.blockstore.blocks) == blocks  # type: ignore[attr-defined]  # nothing stored
    assert [r["code"] for r in _refusals(w)] == ["webhook_replayed", "webhook_replayed",
                                                 "webhook_stale", "webhook_stale"]


def test_window_seconds_is_each_senders_own(
        carrier: World, sims: dict[str, CarrierSimulator]) -> None:
    w = carrier
    now = int(w.clock().timestamp())
    # 11 s old: outside the tight sender's 10 s, inside the default 300 s
    _refused(_send(w, sims["tight"], "W1", "shipped", timestamp=now - 11), 401,
             "webhook_stale")
    assert _send(w, sims["tight"], "W1", "shipped", timestamp=now - 10).status_code == 201
    assert _send(w, sims["hmac"], "W1", "shipped", timestamp=now - 11).status_code == 201


def test_out_of_order_webhooks_are_refused_per_shipment(
        carrier: World, sims: dict[str, CarrierSimulator]) -> None:
    w, sim = carrier, sims["hmac"]
    assert _send(w, sim, "O1", "shipped", sequence=1).status_code == 201
    assert _send(w, sim, "O1", "delivered", sequence=3).status_code == 201
    late = _refused(_send(w, sim, "O1", "in_transit", sequence=2), 409, "webhook_out_of_order")
    assert "sequence 2 arrives after 3" in late["detail"]
    _refused(_send(w, sim, "O1", "in_transit", sequence=3, event_id="other-id"), 409,
             "webhook_out_of_order")
    # another shipment, and the same shipment number from another sender, are separate
    assert _send(w, sim, "O2", "shipped", sequence=1).status_code == 201
    assert _send(w, sims["ed"], "O1", "shipped", sequence=1).status_code == 201
    refusals = _refusals(w)
    assert [r["code"] for r in refusals] == ["webhook_out_of_order"] * 2
    assert refusals[0]["eventId"] == "sim-hmac:O1:2" and refusals[0]["orderId"] == str(ORDER)


def test_other_refusals_have_their_codes(carrier: World,
                                         sims: dict[str, CarrierSimulator]) -> None:
    w = carrier
    # the inspector may send inspections only (its configured events)
    assert _send(w, sims["inspector"], "I1", "inspected").status_code == 201
    _refused(_send(w, sims["inspector"], "I1", "delivered"), 403, "webhook_event_refused")
    # an unknown sender, an unknown order
    ghost = CarrierSimulator.new("ghost-express", Scheme.HMAC_SHA256, _clock_of(w))
    _refused(ghost.send(w.client, ghost.event(ORDER, "G1", "lost")), 401,
             "webhook_unknown_sender")
    sim = sims["hmac"]
    _refused(sim.send(w.client, sim.event(999_999, "U1", "lost")), 404, "webhook_unknown_order")
    _refused(sim.send(w.client, sim.event(2**256, "U1", "lost")), 404, "webhook_unknown_order")
    # malformed bodies, signed: not JSON, missing field, a signed delivery naming nobody
    for bad in (b"not json", b'{"eventId": "x"}',
                sim.body(sim.event(ORDER, "M1", "delivered"))
                .replace(b'"delivered"', b'"delivered_signed"')):
        r = _refused(sim.send(w.client, bad), 422, "webhook_malformed")
    assert "signedBy" in r["detail"]
    _refused(sim.send(w.client, b" " * 20_000), 413, "webhook_too_large")
    # an event that happened after its capture (beyond the sender's window)
    late = sim.event(ORDER, "M2", "delivered", occurred_at=w.clock() + timedelta(seconds=301))
    assert "after the capture" in _refused(sim.send(w.client, late), 422,
                                           "webhook_malformed")["detail"]
    assert [r["code"] for r in _refusals(w)] == [
        "webhook_event_refused", "webhook_unknown_sender", "webhook_unknown_order",
        "webhook_unknown_order", "webhook_malformed", "webhook_malformed", "webhook_malformed",
        "webhook_too_large", "webhook_malformed"]


def test_a_partys_own_record_stays_party_submitted(carrier: World) -> None:
    w = carrier
    body = {"type": "shipped", "shipment": "OWN1", "occurredAt": "2026-11-23T10:00:00Z",
            "location": "Shenzhen"}
    item = ok(w.seller.post(f"/orders/{ORDER}/performance", json=body))
    assert item["origin"]["label"] == "party-submitted"
    assert item["origin"]["zh-Hans"].startswith("当事人提交")
    assert item["origin"]["submitter"] == w.seller.address and item["origin"]["sender"] is None
    assert item["sequence"] == 1
    second = ok(w.seller.post(f"/orders/{ORDER}/performance",
                              json=body | {"type": "delivered"}))
    assert second["sequence"] == 2
    prov = ok(w.seller.get(f"/performance/{item['id']}/provenance"))
    actions = [e["entry"]["action"] for e in prov["entries"]]
    assert actions == ["performance.captured", "party.submitted"]
    assert prov["entries"][1]["entry"]["subject"] == w.seller.address
    assert prov["entries"][1]["entry"]["session"].startswith("auth-session:")
    # a stranger may not record nor read; an unknown order is not found; fields are checked
    _refused(w.stranger.post(f"/orders/{ORDER}/performance", json=body), 403, "access_denied")
    _refused(w.stranger.get(f"/orders/{ORDER}/performance"), 403, "access_denied")
    _refused(w.seller.post("/orders/999999/performance", json=body), 404, "not_found")
    _refused(w.seller.post(f"/orders/{2**256}/performance", json=body), 404, "not_found")
    _refused(w.seller.get("/performance/999999/provenance"), 404, "not_found")
    _refused(w.seller.post(f"/orders/{ORDER}/performance",
                           json=body | {"occurredAt": "yesterday"}), 422, "bad_submission")
    _refused(w.seller.post(f"/orders/{ORDER}/performance",
                           json=body | {"occurredAt": "2026-11-25T08:00:00Z"}), 422,
             "bad_submission")  # tomorrow: not yet happened
    assert len(ok(w.admin.get(f"/orders/{ORDER}/performance"))["items"]) == 2


def test_items_attach_to_the_case_when_it_is_filed(carrier: World,
                                                   sims: dict[str, CarrierSimulator]) -> None:
    w, sim = carrier, sims["ed"]
    before = ok(_send(w, sim, "A1", "shipped"))
    w.open_case("buyer")
    file_claim(w, dispute="goods_not_received", remedy="full_refund", amount=1_000_000_000)
    items = ok(w.buyer.get(f"/cases/{w.case_id}/performance"))["items"]
    assert [i["id"] for i in items] == [before["id"]] and items[0]["attached"] is True
    prov = ok(w.buyer.get(f"/performance/{before['id']}/provenance"))["entries"]
    assert prov[-1]["entry"]["action"] == "case.attached"
    assert prov[-1]["entry"]["details"] == {"caseId": w.case_id, "filedBeforeCapture": False}
    # captured after the case exists: attached at capture, in the same signed log
    after = ok(_send(w, sim, "A1", "delivered"))
    assert after["attached"] is True and after["caseId"] == w.case_id
    prov = ok(w.buyer.get(f"/performance/{after['id']}/provenance"))["entries"]
    assert [e["entry"]["action"] for e in prov] == ["performance.captured", "origin.verified",
                                                    "case.attached"]
    # reading again attaches nothing twice
    ok(w.seller.get(f"/cases/{w.case_id}/performance"))
    prov = ok(w.buyer.get(f"/performance/{before['id']}/provenance"))["entries"]
    assert [e["entry"]["action"] for e in prov].count("case.attached") == 1
    _refused(w.stranger.get(f"/cases/{w.case_id}/performance"), 403, "access_denied")


def _report(w: World, **params: str) -> dict[str, Any]:
    out: dict[str, Any] = ok(w.mediator.get(f"/cases/{w.case_id}/pre-evaluation",
                                            params=params))
    return out


def _gnr_facilitation(w: World) -> None:
    """A goods-not-received claim in facilitation (the mediator appointed)."""
    w.open_case("buyer")
    file_claim(w, dispute="goods_not_received", remedy="full_refund", amount=1_000_000_000)
    w.port.party_raises_dispute(ORDER, w.case_id)
    for party in (w.seller, w.buyer):
        ok(party.post(f"/cases/{w.case_id}/arbitration-agreement",
                      json=party.plain("arbitration.agreed")))
    ok(w.buyer.post(f"/cases/{w.case_id}/facilitation",
                    json=w.buyer.plain("facilitation.requested")))
    ok(w.admin.post(f"/cases/{w.case_id}/mediator", json=w.admin.appoint("mediator", w.mediator)))


def test_the_pre_evaluation_reads_the_tracking_evidence(
        carrier: World, sims: dict[str, CarrierSimulator]) -> None:
    w, sim = carrier, sims["hmac"]
    _gnr_facilitation(w)
    # nothing recorded: no proof of delivery, refund (PE-GNR-1)
    none = _report(w)
    assert none["report"]["basis"]["trackingSource"] == "no_evidence"
    assert [r["rule"] for r in none["report"]["reasons"]] == ["PE-GNR-1"]
    # the seller's own delivery record: its own proof, without carrier tracking (PE-GNR-5)
    ok(w.seller.post(f"/orders/{ORDER}/performance", json={
        "type": "delivered", "shipment": "P1", "occurredAt": "2026-11-23T10:00:00Z"}))
    own = _report(w)
    assert [r["rule"] for r in own["report"]["reasons"]] == ["PE-GNR-5"]
    assert own["report"]["basis"]["partyRecords"]["seller"] == ["delivery_confirmation"]
    assert own["report"]["basis"]["tracking"] == "no_tracking"  # a party's claim never sets it
    # the carrier: in transit (PE-GNR-4), then a signed delivery (PE-GNR-2, high)
    ok(_send(w, sim, "P1", "in_transit"))
    assert [r["rule"] for r in _report(w)["report"]["reasons"]] == ["PE-GNR-4"]
    w.clock.advance(3600)
    signed = ok(_send(w, sim, "P1", "delivered_signed", signed_by="Li Wei"))
    report = _report(w)
    assert report["report"]["basis"] == {
        "tracking": "delivered_signed", "trackingSource": "evidence",
        "trackingSourceWords": report["report"]["basis"]["trackingSourceWords"],
        "trackingItem": signed["id"],
        "partyRecords": {"buyer": [], "seller": ["delivery_confirmation"]}}
    assert [r["rule"] for r in report["report"]["reasons"]] == ["PE-GNR-2"]
    # the mediator reads the evidence the report rests on; a stranger does not
    assert ok(w.mediator.get(f"/performance/{signed['id']}/provenance"))["origin"]["label"] \
        == "origin-verified"
    assert w.mediator.get(f"/performance/{signed['id']}/content").status_code == 200
    _refused(w.stranger.get(f"/performance/{signed['id']}/provenance"), 403, "access_denied")
    assert report["recommended"] == "release_to_seller" and report["report"]["confidence"] == \
        "high"
    # the published hash covers the basis: the canonical text holds it
    assert '"trackingSource":"evidence"' in report["canonical"]
    # a "what if" is the mediator's hypothesis, and the report says so
    what_if = _report(w, tracking="lost")
    assert what_if["report"]["basis"]["trackingSource"] == "hypothesis"
    assert what_if["report"]["basis"]["trackingSourceWords"]["zh-Hans"] == "调解员的假设，并非证据"
    assert what_if["sha256"] != report["sha256"]
    # the mediator publishes the evidence-based report
    body = w.mediator.plain("preevaluation.published", {
        "recommended": report["recommended"], "reportHash": report["sha256"]})
    import base64
    body["document"] = {"filename": "pre-evaluation.json", "media_type": "application/json",
                        "content_base64": base64.b64encode(report["canonical"].encode()).decode()}
    ok(w.mediator.post(f"/cases/{w.case_id}/pre-evaluation", json=body))
    assert w.buyer.case()["preEvaluation"] == [report["recommended"], report["sha256"]]


def test_an_ordinary_upload_is_labelled_party_submitted(carrier: World) -> None:
    w = carrier
    to_facilitation(w)
    staged = ok(w.buyer.upload(b"a photo of the parcel, as text"))
    prov = ok(w.buyer.get(f"/cases/{w.case_id}/evidence/{staged['id']}/provenance"))
    assert prov["origin"]["label"] == "party-submitted"
    assert prov["origin"]["en"].startswith("party-submitted")
    assert prov["origin"]["zh-Hans"].startswith("当事人提交")


def test_event_types_and_labels_are_declared_once() -> None:
    from backend.performance import EVENT_TYPES
    assert set(EVENT_TYPES) == set(EventType)
    assert all(en and zh and en != zh for en, zh in EVENT_TYPES.values())
