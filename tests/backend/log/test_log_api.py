"""The log through HTTP: receipts on accepted steps and evidence, the public read API, and
every refusal it documents (SQLite and PostgreSQL, the in-memory escrow, a fake anchoring
chain). Everything answered is checked with the court's library (evidence.log)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from backend.log import checkpointer_from_settings
from backend.services.errors import Conflict
from backend.worker import AnchoringWorker
from evidence.log import (
    LogEntry,
    Receipt,
    verify_absence,
    verify_checkpoint,
    verify_checkpoints_consistent,
    verify_receipt,
)
from tests.support.anchor_chain import FakeChain
from tests.support.world import (
    INSTITUTION_KEY,
    ORDER_ID,
    World,
    file_claim,
    make_world,
    ok,
)

INSTITUTION = Account.from_key(INSTITUTION_KEY).address
OTHER_ORDER = ORDER_ID + 1


@pytest.fixture
def w(clean_db_url: str, tmp_path: Path) -> Iterator[World]:
    world = make_world(clean_db_url, tmp_path, orders=((ORDER_ID, "buyer", "seller"),
                                                       (OTHER_ORDER, "buyer", "seller")))
    ctx = world.app.state.ctx
    ctx.anchoring = AnchoringWorker(ctx.sessions, FakeChain(),
                                    checkpointer=checkpointer_from_settings(ctx.settings))
    with world.client:
        yield world


def _anchor(w: World) -> None:
    report = w.app.state.ctx.anchoring.run_once()
    assert not report.errors, report.errors


def _origin(w: World) -> str:
    origin: str = w.app.state.ctx.settings.log_origin_value
    return origin


def _code(r: Any, status: int, code: str) -> None:
    assert r.status_code == status, r.text
    assert r.json()["code"] == code, r.text


def _filed_to_evidence(w: World) -> None:
    """tests.support.world's drivers from a filed case on (they file themselves)."""
    w.port.party_raises_dispute(ORDER_ID, w.case_id)
    for actor, path, action in ((w.seller, "arbitration-agreement", "arbitration.agreed"),
                                (w.buyer, "arbitration-agreement", "arbitration.agreed"),
                                (w.buyer, "facilitation", "facilitation.requested")):
        ok(actor.post(f"/cases/{w.case_id}/{path}", json=actor.plain(action)))
    ok(w.admin.post(f"/cases/{w.case_id}/mediator", json=w.admin.appoint("mediator", w.mediator)))
    ok(w.mediator.post(f"/cases/{w.case_id}/impasse", json=w.mediator.plain("impasse.declared")))
    ok(w.admin.post(f"/cases/{w.case_id}/arbitrator",
                    json=w.admin.appoint("arbitrator", w.arbitrator)))


def test_receipts_proofs_checkpoints_and_absence(w: World) -> None:
    anyone = w.stranger
    _code(anyone.get("/log/checkpoint"), 404, "no_checkpoint_yet")
    other = w.open_case("buyer", order_id=OTHER_ORDER)
    case = w.open_case("buyer")
    filed = file_claim(w)
    receipt = verify_receipt(filed["receipt"], [INSTITUTION], origin=_origin(w)).receipt
    assert receipt.index == 0 and receipt.entry.kind.label == "step"
    assert "0x" + receipt.entry.record_hash.hex() == filed["recordHash"]
    assert "0x" + receipt.entry.case_id.hex() == case
    _code(anyone.get("/log/proof/inclusion", params={"index": 0}), 409, "not_anchored_yet")
    _anchor(w)  # checkpoint of size 1
    first = ok(anyone.get("/log/checkpoint"))
    signed1 = verify_checkpoint(first["checkpoint"], [INSTITUTION], _origin(w))
    assert signed1.size == 1 and first["anchored"] is True
    assert [a["chainId"] for a in first["anchors"]] == [FakeChain.chain_id]
    assert first["anchors"][0]["status"] == "confirmed" and first["anchors"][0]["txHash"]
    # the receipt completed with the proof the log gives: the court's check passes
    proof = ok(anyone.get("/log/proof/inclusion", params={"index": 0}))
    full = Receipt.from_json(filed["receipt"]).with_inclusion(
        proof["inclusion"]["checkpoint"], [bytes.fromhex(p[2:]) for p in
                                           proof["inclusion"]["proof"]])
    assert verify_receipt(full, [INSTITUTION], require_inclusion=True).checkpoint is not None

    # more steps of the case, and evidence with its receipt (kind "evidence")
    _filed_to_evidence(w)
    staged = ok(w.buyer.upload(b"the panels were cracked on arrival"))
    submitted = ok(w.buyer.post(f"/cases/{case}/evidence/{staged['id']}/submit",
                                json={"record": w.buyer.sign_staged(staged)}))
    ev = verify_receipt(submitted["receipt"], [INSTITUTION]).receipt
    assert ev.entry.kind.label == "evidence"
    assert "0x" + ev.entry.record_hash.hex() == submitted["recordHash"]
    _anchor(w)
    listed = ok(anyone.get("/log/checkpoints"))
    assert listed["origin"] == _origin(w)
    sizes = [c["size"] for c in listed["checkpoints"]]
    # the item's provenance entries follow its submission (kind provenance, docs/log.md §12)
    assert len(submitted["provenanceReceipts"]) == 7
    assert sizes[0] == 1 and sizes[-1] == ev.index + 1 + 7
    last = sizes[-1]
    cons = ok(anyone.get("/log/proof/consistency", params={"from": 1, "to": last}))
    verify_checkpoints_consistent(
        verify_checkpoint(cons["from"]["checkpoint"], [INSTITUTION]),
        verify_checkpoint(cons["to"]["checkpoint"], [INSTITUTION]),
        [bytes.fromhex(p[2:]) for p in cons["proof"]])
    proof = ok(anyone.get("/log/proof/inclusion", params={"index": ev.index, "size": last}))
    assert proof["size"] == last and proof["anchored"] is True
    # a leaf by its record hash: hashes only
    leaf = ok(anyone.get(f"/log/leaf/{submitted['recordHash']}"))
    (entry,) = leaf["entries"]
    assert set(entry) == {"index", "kind", "caseId", "recordHash", "signaturesHash",
                          "leafHash", "acceptedAt"}
    assert entry["index"] == ev.index
    assert LogEntry.from_json({k: entry[k] for k in ("kind", "caseId", "recordHash",
                                                     "signaturesHash")}) == ev.entry

    # absence: the other case has no entry between the two checkpoints; this one has
    stmt = ok(anyone.get("/log/absence", params={"case": other, "from": 1, "to": last}))
    verified = verify_absence(stmt, [INSTITUTION], origin=_origin(w))
    assert "0x" + verified.proof.case_id.hex() == other
    assert (verified.first.size, verified.second.size) == (1, last)
    _code(anyone.get("/log/absence", params={"case": case, "from": 1, "to": last}),
          409, "case_not_absent")
    _code(anyone.get("/log/absence", params={"case": other, "from": last, "to": 1}),
          422, "bad_tree_sizes")
    _code(anyone.get("/log/proof/consistency", params={"from": last, "to": 1}),
          422, "bad_tree_sizes")
    _code(anyone.get("/log/proof/consistency", params={"from": 1, "to": last + 5}),
          404, "unknown_tree_size")
    _code(anyone.get("/log/proof/inclusion", params={"index": 10_000}), 404,
          "unknown_log_entry")
    _code(anyone.get("/log/proof/inclusion", params={"index": last - 1, "size": 1}), 404,
          "unknown_log_entry")
    _code(anyone.get("/log/leaf/0x" + "ab" * 32), 404, "unknown_log_entry")
    _code(anyone.get("/log/leaf/not-a-hash"), 422, "invalid_field")


def test_an_absence_over_too_many_entries_is_refused(w: World,
                                                     monkeypatch: pytest.MonkeyPatch) -> None:
    import backend.log.service as service

    w.open_case("buyer")
    file_claim(w)
    _anchor(w)
    ok(w.seller.post(f"/cases/{w.case_id}/arbitration-agreement",
                     json=w.seller.plain("arbitration.agreed")))
    ok(w.buyer.post(f"/cases/{w.case_id}/arbitration-agreement",
                    json=w.buyer.plain("arbitration.agreed")))
    _anchor(w)
    monkeypatch.setattr(service, "MAX_ABSENCE_ENTRIES", 1)
    _code(w.stranger.get("/log/absence", params={"case": "0x" + "00" * 32, "from": 1,
                                                 "to": 3, "by": "range"}),
          422, "absence_range_too_large")
    # by the per-case index (the default) the size does not matter
    stmt = ok(w.stranger.get("/log/absence", params={"case": "0x" + "00" * 32, "from": 1,
                                                     "to": 3}))
    assert stmt["version"] == 2 and "entries" not in stmt


def test_absence_by_the_per_case_index(w: World) -> None:
    """docs/log.md §8b: the case's head is the same in both checkpoints' signed indexes
    (it had entries before, none between), or it has none in either (its neighbours are
    listed); a false or altered statement is refused, each with its code."""
    from dataclasses import replace

    from evidence.log import NoteSigner
    from evidence.log.absence_index import IndexAbsenceJson, IndexAbsenceProof
    from evidence.log.errors import (
        AbsenceDisproved,
        InclusionProofError,
        LogRangeError,
        StatementForged,
        StatementFormatError,
    )
    from evidence.records import canonical_json

    anyone = w.stranger
    other = w.open_case("buyer", order_id=OTHER_ORDER)
    case = w.open_case("buyer")
    file_claim(w)
    _anchor(w)
    a = ok(anyone.get("/log/checkpoint"))["size"]
    ok(w.seller.post(f"/cases/{case}/arbitration-agreement",
                     json=w.seller.plain("arbitration.agreed")))
    _anchor(w)
    b = ok(anyone.get("/log/checkpoint"))["size"]
    assert b > a
    # the case had entries before a and more between: not absent; nothing from b to b
    _code(anyone.get("/log/absence", params={"case": case, "from": a, "to": b}), 409,
          "case_not_absent")
    same = ok(anyone.get("/log/absence", params={"case": case, "from": b, "to": b}))
    assert len(same["heads"]["from"]) == 1  # its own head, at both
    verify_absence(same, [INSTITUTION], origin=_origin(w), case_id=bytes.fromhex(case[2:]))
    # a case with no entry at all: its neighbours in both indexes
    none = ok(anyone.get("/log/absence", params={"case": other, "from": a, "to": b}))
    assert none["version"] == 2 and "entries" not in none
    v = verify_absence(none, [INSTITUTION], origin=_origin(w))
    assert (v.first.size, v.second.size) == (a, b)
    assert all(h["head"][2:66] != other[2:] for h in none["heads"]["to"])
    # the ranges agree: the version 1 statement of the same span holds too
    assert ok(anyone.get("/log/absence", params={"case": other, "from": a, "to": b,
                                                 "by": "range"}))["version"] == 1

    # tampering: an edited head breaks the institution's signature
    edited = {**none, "heads": {**none["heads"], "to": none["heads"]["from"]}}
    with pytest.raises(StatementForged):
        verify_absence(edited, [INSTITUTION])
    # a false statement signed with the institution key (as a lying service would): the
    # case's later head listed as its head at a, or neighbours that are not adjacent
    signer = NoteSigner.from_private_key(INSTITUTION_KEY)
    p = IndexAbsenceProof.from_json(ok(anyone.get(
        "/log/absence", params={"case": case, "from": b, "to": b})))
    later = IndexAbsenceProof.from_json(same)
    honest_a = IndexAbsenceProof.from_json(ok(anyone.get(
        "/log/absence", params={"case": other, "from": a, "to": a})))

    def resigned(proof: IndexAbsenceProof) -> IndexAbsenceJson:
        return replace(proof, signature=signer.sign(canonical_json(proof.body()))).to_json()

    gap = IndexAbsenceProof.from_json(none)  # a to b
    # the head at b claimed at a (whose index does not hold it): its proof fails there
    with pytest.raises(InclusionProofError):
        verify_absence(resigned(replace(p, first=honest_a.first, consistency=gap.consistency)),
                       [INSTITUTION])
    assert later.heads_first == later.heads_second
    # one neighbour dropped: what is left does not show the case has no head
    assert len(gap.heads_first) == 1  # the one case of the index, beside it
    with pytest.raises(LogRangeError):
        verify_absence(resigned(replace(gap, heads_first=())), [INSTITUTION])
    # a case's later head listed at b while its earlier one is listed at a: disproved
    with pytest.raises(AbsenceDisproved):
        check = IndexAbsenceProof.from_json(ok(anyone.get(
            "/log/absence", params={"case": case, "from": a, "to": a})))
        verify_absence(resigned(replace(check, second=p.second, consistency=gap.consistency,
                                        heads_second=p.heads_second)), [INSTITUTION])
    with pytest.raises(StatementFormatError):
        verify_absence({**none, "heads": {"from": [], "to": [{}, {}, {}]}}, [INSTITUTION])


def test_every_step_answer_carries_a_receipt_in_acceptance_order(w: World) -> None:
    w.open_case("buyer")
    answers = [file_claim(w)]
    answers.append(ok(w.seller.post(f"/cases/{w.case_id}/arbitration-agreement",
                                    json=w.seller.plain("arbitration.agreed"))))
    answers.append(ok(w.buyer.post(f"/cases/{w.case_id}/arbitration-agreement",
                                   json=w.buyer.plain("arbitration.agreed"))))
    receipts = [verify_receipt(a["receipt"], [INSTITUTION]).receipt for a in answers]
    assert [r.index for r in receipts] == [0, 1, 2]
    assert ["0x" + r.entry.record_hash.hex() for r in receipts] == \
        [a["recordHash"] for a in answers]


def test_case_proofs_for_the_package(w: World) -> None:
    """What a judicial package carries: every entry of the case with its inclusion proof to
    one anchored checkpoint covering them all, and consistency between the anchored
    checkpoints up to it."""
    from evidence.log import verify_inclusion

    svc = w.app.state.ctx.log
    other = w.open_case("buyer", order_id=OTHER_ORDER)
    case = w.open_case("buyer")
    file_claim(w)
    _anchor(w)
    _filed_to_evidence(w)
    _anchor(w)
    with pytest.raises(Conflict, match="does not cover"):
        svc.case_proofs(case, size=1)
    proofs = svc.case_proofs(case)
    cp = verify_checkpoint(proofs["checkpoint"], [INSTITUTION], _origin(w))
    assert cp.size == proofs["size"] == len(proofs["entries"])  # only this case wrote
    for e in proofs["entries"]:
        entry = LogEntry.from_json({k: e[k] for k in ("kind", "caseId", "recordHash",
                                                      "signaturesHash")})
        assert "0x" + entry.case_id.hex() == case
        verify_inclusion(e["index"], cp.size, entry.leaf_hash(),
                         [bytes.fromhex(p[2:]) for p in e["proof"]], cp.root)
    assert [c["size"] for c in proofs["checkpoints"]] == [1, cp.size]
    (step,) = proofs["consistency"]
    verify_checkpoints_consistent(
        verify_checkpoint(proofs["checkpoints"][0]["checkpoint"], [INSTITUTION]), cp,
        [bytes.fromhex(p[2:]) for p in step["proof"]])
    empty = svc.case_proofs(other)  # no entries: the smallest anchored checkpoint
    assert empty["entries"] == [] and empty["size"] == 1


def test_the_monitor_follows_a_case_through_the_per_case_index(w: World) -> None:
    """docs/log.md §13, the monitor's step 4 by the index: the service lists the case's own
    entries and its head in the checkpoint's signed index; the monitor reads no other
    entry, and a list that leaves one out, or a head that is not in the index, alarms."""
    from datetime import UTC, datetime

    from evidence._monitor_http import HttpLogService
    from evidence.monitor import Level, MonitorState, run_once

    case = w.open_case("buyer")
    file_claim(w)
    _anchor(w)

    class Counting(HttpLogService):
        scanned = 0
        proofs = 0

        def entries(self, start: int, end: int) -> list[bytes]:
            Counting.scanned += end - start
            return super().entries(start, end)

        def inclusion(self, index: int, size: int) -> list[bytes]:
            Counting.proofs += 1
            return super().inclusion(index, size)

    service = Counting("http://testserver", client=w.client)
    now = datetime.now(UTC)
    state, _ = run_once(MonitorState(service="http://testserver", case_id=case), service,
                        now=now, institution=[INSTITUTION])
    # the other order's events (entries of its case), then one step of this case
    for n in range(3):
        ok(w.buyer.post(f"/orders/{OTHER_ORDER}/performance", json={
            "type": "in_transit", "shipment": f"S{n}", "occurredAt": "2026-11-24T07:00:00Z"}))
    ok(w.seller.post(f"/cases/{case}/arbitration-agreement",
                     json=w.seller.plain("arbitration.agreed")))
    _anchor(w)
    later, found = run_once(state, service, now=now)
    assert [f.key for f in found if f.level is Level.ALARM] == [], found
    keys = [f.key for f in found]
    assert "case_index" in keys and keys.count("new_record") == 1
    assert Counting.scanned == 0 and Counting.proofs == 1  # its own new entry only
    assert len(later.records) == 1

    class Dropping(HttpLogService):
        def case_log(self, case_id: str, size: int) -> Any:
            heads, entries = super().case_log(case_id, size)
            return heads, entries[:-1]

    class Misplaced(HttpLogService):
        def case_log(self, case_id: str, size: int) -> Any:
            heads, entries = super().case_log(case_id, size)
            return [{**heads[0], "position": heads[0]["position"] + 1}], entries

    for lying, key in ((Dropping, "case_index_mismatch"), (Misplaced, "case_index_refused")):
        _, found = run_once(state, lying("http://testserver", client=w.client), now=now)
        assert key in [f.key for f in found if f.level is Level.ALARM], (key, found)
    # a checkpoint size the index does not cover: the documented refusal
    _code(w.stranger.get(f"/log/case/{case}", params={"size": 999}), 404, "unknown_tree_size")
