"""The case through HTTP, each party signing with its own key: filing to enforcement."""

from __future__ import annotations

from sqlmodel import select

from backend.db import Leaf, Step
from backend.db.service_models import ChainAction
from tests.support.world import AMOUNT, ORDER_ID, World, file_claim, sha


def test_filing_to_enforced_award(world: World) -> None:
    w = world
    case_id = w.open_case("buyer")
    view = w.buyer.case()
    assert view["stage"] == "not_filed" and view["nextSequence"] == 0
    filed = file_claim(w)
    assert filed["stage"] == "filed" and filed["sequence"] == 0
    # Filing freezes the escrow: only the claimant's wallet can (raiseDispute).
    assert [a["status"] for a in filed["chainActions"]] == ["awaiting_party"]
    w.port.party_raises_dispute(ORDER_ID, case_id)
    w.tick()
    assert w.buyer.case()["chainActions"][0]["status"] == "done"

    r = w.seller.post(f"/cases/{case_id}/arbitration-agreement",
                      json=w.seller.plain("arbitration.agreed"))
    assert r.status_code == 201, r.text
    assert r.json()["stage"] == "negotiation"
    r = w.buyer.post(f"/cases/{case_id}/arbitration-agreement",
                     json=w.buyer.plain("arbitration.agreed"))
    assert r.status_code == 201, r.text
    r = w.buyer.post(f"/cases/{case_id}/facilitation", json=w.buyer.plain("facilitation.requested"))
    assert r.status_code == 201 and r.json()["stage"] == "facilitation", r.text
    r = w.admin.post(f"/cases/{case_id}/mediator", json=w.admin.appoint("mediator", w.mediator))
    assert r.status_code == 201, r.text
    r = w.mediator.post(f"/cases/{case_id}/impasse", json=w.mediator.plain("impasse.declared"))
    assert r.status_code == 201 and r.json()["stage"] == "arbitrator_appointment", r.text
    r = w.admin.post(f"/cases/{case_id}/arbitrator",
                     json=w.admin.appoint("arbitrator", w.arbitrator))
    assert r.status_code == 201 and r.json()["stage"] == "evidence", r.text
    kinds = [a["kind"] for a in r.json()["chainActions"]]
    assert "appoint_arbitrator" in kinds
    r = w.seller.post(f"/cases/{case_id}/answer",
                      json=w.seller.plain("answer.submitted", {"answerHash": sha(b"answer")}))
    assert r.status_code == 201, r.text
    r = w.arbitrator.post(f"/cases/{case_id}/close-record",
                          json=w.arbitrator.plain("record.closed"))
    assert r.status_code == 201 and r.json()["stage"] == "record_closed", r.text
    doc = b"# Award\nThe buyer receives 600 and 50 compensation; the seller 400.\n"
    r = w.arbitrator.post(f"/cases/{case_id}/award",
                          json=w.arbitrator.award(600_000_000, 400_000_000, 50_000_000, doc))
    assert r.status_code == 201 and r.json()["stage"] == "awarded", r.text
    assert any(a["kind"] == "submit_award" and a["status"] == "done" and a["txHash"]
               for a in r.json()["chainActions"])
    # the objection window passes; the scheduler makes the award final
    w.clock.advance(days=10, seconds=1)
    w.tick()
    assert w.buyer.case()["stage"] == "final"
    r = w.stranger.post(f"/cases/{case_id}/enforcement",
                        json=w.stranger.plain("enforcement.requested"))
    assert r.status_code == 201, r.text
    view = w.buyer.case()
    assert view["stage"] == "enforced", view
    assert [c for c, _ in w.port.calls][-1] == "execute_award"
    timeline = w.buyer.get(f"/cases/{case_id}/timeline").json()
    actions = [i["action"] for i in timeline if i["type"] == "step"]
    assert actions[0] == "case.filed" and actions[-1] == "enforcement.recorded"
    assert "deadline_missed.awarded" in actions
    assert all(i["at"].endswith("Z") for i in timeline)
    # every step: one leaf pending for the anchoring worker, one CID in IPFS
    with w.app.state.ctx.sessions() as s:
        steps = s.exec(select(Step).where(Step.case_id == case_id)).all()
        leaves = s.exec(select(Leaf).where(Leaf.case_id == case_id)).all()
        assert len(leaves) == len(steps) == len(actions)
        assert all(st.cid and w.blockstore.has(st.cid) for st in steps)
        assert [st.sequence for st in sorted(steps, key=lambda x: x.sequence)] == list(
            range(len(steps)))
        assert s.exec(select(ChainAction)).all()
    assert AMOUNT == 600_000_000 + 400_000_000


def test_the_case_rebuilds_from_ipfs_alone(world: World) -> None:
    """Every step's bundle in IPFS holds the signed record and what its hashes point at:
    the hash chain, the signatures and the payload hashes check out from IPFS alone (with
    the data keys of the confidential bundles)."""
    import hashlib
    import io
    import json

    from backend.db.service_models import StepDetail
    from evidence.encryption import decrypt_stream
    from evidence.ipfs import cat
    from evidence.records import ZERO_HASH, ProceduralStep, SignedRecord, canonical_json
    from tests.support.world import to_awarded

    w = world
    to_awarded(w)
    with w.app.state.ctx.sessions() as s:
        rows = s.exec(select(Step, StepDetail).where(Step.case_id == w.case_id,
                                                     StepDetail.step_id == Step.id)
                      .order_by(Step.sequence)).all()  # type: ignore[arg-type]
    prev = ZERO_HASH
    for step, detail in rows:
        raw = b"".join(cat(step.cid, w.blockstore))
        if detail.confidential:
            assert raw[:8] == b"CHARBENC"
            out = io.BytesIO()
            # the key is stored only wrapped for the service key: unwrap it with that key
            assert detail.data_key is None and detail.data_key_wraps is not None
            key = w.app.state.ctx.service.keys.step_data_key(detail)
            decrypt_stream(io.BytesIO(raw), out, key)
            raw = out.getvalue()
        bundle = json.loads(raw)
        assert canonical_json(bundle) == raw  # stored canonical
        signed = SignedRecord.from_json_obj(bundle["record"])
        signed.verify()
        rec = signed.record
        assert rec.prev_hash == prev and rec.sequence == step.sequence  # type: ignore[attr-defined]
        assert "0x" + signed.record_hash.hex() == step.record_hash
        if isinstance(rec, ProceduralStep):
            if bundle["payload"] is not None:
                assert hashlib.sha256(canonical_json(bundle["payload"])).digest() == \
                    rec.payload_hash
            else:  # the step carries a record (the Award): its hash is the payload hash
                carried = [SignedRecord.from_json_obj(a) for a in bundle["attachments"]]
                assert rec.payload_hash in {c.record_hash for c in carried}
        if bundle["authorization"] is not None:  # an admin authorised an institution step
            auth = SignedRecord.from_json_obj(bundle["authorization"])
            assert auth.verify() == (w.admin.address,)
            assert auth.record.action == rec.action  # type: ignore[attr-defined]
        prev = signed.record_hash
    assert {d.confidential for _, d in rows} == {False, True}  # facilitation steps encrypted
