"""Data keys at rest: only wrapped for the service key, never in plaintext, never shown.

A case goes through confidential steps (an offer, everything in facilitation), a
pre-evaluation report and an award with their documents; then every table of the
database is scanned for each data key (found by unwrapping with the service key) in hex
and base64. On SQLite and PostgreSQL.
"""

from __future__ import annotations

import base64
import hashlib
import io
import json
from typing import Any

import pytest
import sqlalchemy as sa
from sqlmodel import SQLModel, select

from backend.db import Step
from backend.db.service_models import CaseEvent, StepDetail
from backend.services.keys import ServiceKey, public_attachment, seal_legacy_keys
from evidence.encryption import KeyWraps, decrypt_stream
from evidence.errors import CiphertextTampered, NotARecipient
from evidence.ipfs import cat
from evidence.records import SignedRecord
from tests.support.world import AWARD_DOC, World, b64, ok, to_facilitation, to_negotiation


def _service_key(w: World) -> ServiceKey:
    return w.app.state.ctx.service.keys


def _to_pre_evaluation(w: World) -> None:
    """An offer (confidential), then facilitation with a mediator's pre-evaluation report
    (a confidential bundle and a document)."""
    to_negotiation(w)
    ok(w.seller.post(f"/cases/{w.case_id}/offers", json=w.seller.offer(300_000_000,
                                                                       700_000_000)))
    ok(w.buyer.post(f"/cases/{w.case_id}/facilitation",
                    json=w.buyer.plain("facilitation.requested")))
    ok(w.admin.post(f"/cases/{w.case_id}/mediator", json=w.admin.appoint("mediator", w.mediator)))
    _pre_evaluation(w)


def _confidential_case(w: World) -> None:
    """An offer (negotiation), then facilitation with a pre-evaluation report (a document),
    impasse, arbitration and an award (another document)."""
    _to_pre_evaluation(w)
    ok(w.mediator.post(f"/cases/{w.case_id}/impasse", json=w.mediator.plain("impasse.declared")))
    ok(w.admin.post(f"/cases/{w.case_id}/arbitrator",
                    json=w.admin.appoint("arbitrator", w.arbitrator)))
    ok(w.arbitrator.post(f"/cases/{w.case_id}/close-record",
                         json=w.arbitrator.plain("record.closed")))
    ok(w.arbitrator.post(f"/cases/{w.case_id}/award",
                         json=w.arbitrator.award(600_000_000, 400_000_000, 50_000_000,
                                                 AWARD_DOC)))


def _pre_evaluation(w: World) -> None:
    pre = ok(w.mediator.get(f"/cases/{w.case_id}/pre-evaluation",
                            params={"tracking": "delivered"}))
    body = w.mediator.plain("preevaluation.published",
                            {"recommended": pre["recommended"], "reportHash": pre["sha256"]})
    body["document"] = {"filename": "pre-evaluation.json", "media_type": "application/json",
                        "content_base64": b64(pre["canonical"].encode())}
    ok(w.mediator.post(f"/cases/{w.case_id}/pre-evaluation", json=body))


def _details(w: World) -> list[tuple[Step, StepDetail]]:
    with w.app.state.ctx.sessions() as s:
        return list(s.exec(select(Step, StepDetail).where(
            Step.case_id == w.case_id, StepDetail.step_id == Step.id)
            .order_by(Step.sequence)).all())  # type: ignore[arg-type]


def _decrypt(w: World, cid: str, key: bytes) -> bytes:
    out = io.BytesIO()
    decrypt_stream(io.BytesIO(b"".join(cat(cid, w.blockstore))), out, key)
    return out.getvalue()


def _keys_of_the_case(w: World) -> dict[str, bytes]:
    """Every data key of the case's steps, by unwrapping; each checked to open its item."""
    sk = _service_key(w)
    keys: dict[str, bytes] = {}
    for step, detail in _details(w):
        assert detail.data_key is None  # the plaintext column is never written
        if detail.confidential:
            assert detail.data_key_wraps is not None
            key = sk.step_data_key(detail)
            assert key is not None
            bundle = json.loads(_decrypt(w, str(step.cid), key))
            signed = SignedRecord.from_json_obj(bundle["record"])
            assert "0x" + signed.record_hash.hex() == step.record_hash
            keys[f"bundle {step.sequence} {step.kind}"] = key
        else:
            assert detail.data_key_wraps is None
        for att in detail.attachments:
            if att.get("type") == "Document":
                assert "dataKey" not in att and "keywraps" in att
                key = sk.document_key(att)
                content = _decrypt(w, str(att["cid"]), key)
                assert "0x" + hashlib.sha256(content).hexdigest() == att["sha256"]
                keys[f"document of {step.kind}"] = key
    return keys


def _forms(key: bytes) -> set[str]:
    """How a key could appear in text: hex (any case is caught by lower-casing), base64."""
    return {key.hex(), base64.b64encode(key).decode().lower(),
            base64.urlsafe_b64encode(key).decode().lower().rstrip("=")}


def _scan(w: World, keys: dict[str, bytes]) -> list[str]:
    """Where any of ``keys`` appears in any column of any table (as text or bytes)."""
    found: list[str] = []
    engine = w.app.state.ctx.engine
    with engine.connect() as conn:
        for table in SQLModel.metadata.sorted_tables:
            for row in conn.execute(sa.select(table)).all():
                for column, value in zip(table.columns, row, strict=True):
                    if value is None:
                        continue
                    raw = bytes(value) if isinstance(value, bytes | bytearray | memoryview) \
                        else None
                    text = (raw.hex() if raw is not None else
                            json.dumps(value, default=str)).lower()
                    for name, key in keys.items():
                        if (raw is not None and key in raw) or \
                                any(f in text for f in _forms(key)):
                            found.append(f"{name} in {table.name}.{column.name}")
    return found


def test_no_plaintext_data_key_anywhere_in_the_database(world: World) -> None:
    w = world
    _confidential_case(w)
    keys = _keys_of_the_case(w)
    assert sum(k.startswith("bundle") for k in keys) >= 4  # offer + facilitation steps
    assert {"document of preevaluation.published", "document of award.issued"} <= set(keys)
    assert _scan(w, keys) == []
    # the scan can fail: a key written anywhere as text is found
    with w.app.state.ctx.sessions() as s:
        leaked = next(iter(keys.values()))
        s.add(CaseEvent(case_id=w.case_id, at=w.clock.now, kind="leak",
                        data={"note": "0x" + leaked.hex().upper()}))
        s.commit()
    assert len(_scan(w, keys)) == 1


def test_step_views_show_no_key_material(world: World) -> None:
    w = world
    _confidential_case(w)
    keys = _keys_of_the_case(w)
    n = w.admin.case()["nextSequence"]
    for viewer in (w.buyer, w.seller, w.mediator, w.arbitrator, w.admin):
        for seq in range(n):
            r = viewer.get(f"/cases/{w.case_id}/steps/{seq}")
            if r.status_code != 200:
                assert r.status_code in (403, 404), r.text  # offers: not for the tribunal
                continue
            text = r.text.lower()
            assert '"keywraps"' not in text and '"datakey"' not in text, (viewer.name, seq)
            assert not any(f in text for k in keys.values() for f in _forms(k))
            for att in r.json()["attachments"]:
                if att.get("type") == "Document":
                    assert {"cid", "sha256", "filename", "mediaType"} <= set(att)
        timeline = viewer.get(f"/cases/{w.case_id}/timeline")
        assert timeline.status_code == 200 and "keywraps" not in timeline.text


def test_only_the_service_key_unwraps_and_a_changed_wrap_fails(world: World) -> None:
    w = world
    to_facilitation(w)  # the mediator's appointment in facilitation is confidential
    detail = next(d for _, d in _details(w) if d.confidential)
    assert detail.data_key_wraps is not None
    sk = _service_key(w)
    key = sk.step_data_key(detail)
    assert key is not None and len(key) == 32
    other = ServiceKey.from_institution_key("0x" + "5a" * 32)
    with pytest.raises(NotARecipient):
        other.unwrap(detail.data_key_wraps)
    wraps = KeyWraps.from_json(detail.data_key_wraps)
    stanza = bytearray(wraps.stanzas[0])
    stanza[-1] ^= 1  # one bit of the sealed key
    with pytest.raises(CiphertextTampered):
        sk.unwrap(KeyWraps(wraps.header_hash, (bytes(stanza),)).to_json())
    moved = KeyWraps(hashlib.sha256(b"another container").digest(), wraps.stanzas)
    with pytest.raises(CiphertextTampered):  # a wrap is bound to its container's header
        sk.unwrap(moved.to_json())
    assert public_attachment({"type": "Document", "cid": "x", "keywraps": "w",
                              "dataKey": "k"}) == {"type": "Document", "cid": "x"}


def _make_legacy(w: World) -> dict[int, dict[str, Any]]:
    """Rewrite the case's rows as revision 0002 stored them (plaintext keys)."""
    sk = _service_key(w)
    before: dict[int, dict[str, Any]] = {}
    with w.app.state.ctx.sessions() as s:
        for d in s.exec(select(StepDetail).where(StepDetail.case_id == w.case_id)).all():
            key = sk.step_data_key(d)
            atts = []
            for att in d.attachments:
                if "keywraps" in att:
                    att = {**public_attachment(att), "dataKey": "0x" + sk.document_key(att).hex()}
                atts.append(att)
            d.data_key = "0x" + key.hex() if key else None
            d.data_key_wraps = None
            d.attachments = atts
            before[d.step_id] = {"data_key": d.data_key, "attachments": atts}
            s.add(d)
        s.commit()
    return before


def test_legacy_plaintext_keys_are_read_then_sealed_at_start(world: World) -> None:
    from backend.api.app import create_app

    w = world
    _to_pre_evaluation(w)
    keys = _keys_of_the_case(w)
    before = _make_legacy(w)
    assert _scan(w, keys) != []  # the legacy rows hold them in the clear
    sk = _service_key(w)
    with w.app.state.ctx.sessions() as s:  # readers still accept the legacy form
        for d in s.exec(select(StepDetail).where(StepDetail.case_id == w.case_id)).all():
            if d.data_key is not None:
                assert sk.step_data_key(d) == bytes.fromhex(d.data_key[2:])
            for att in d.attachments:
                if "dataKey" in att:
                    assert sk.document_key(att) == bytes.fromhex(att["dataKey"][2:])

    # A row whose container is not in the store, and one whose key does not open its
    # container: both reported and left as they are.
    action = {d.step_id: d.action for _, d in _details(w)}
    by_action = {a: i for i, a in action.items()}
    missing, wrong = by_action["offer.made"], by_action["appoint.mediator"]
    sealable = by_action["preevaluation.published"]  # a confidential bundle and a document
    assert before[sealable]["data_key"] and any("dataKey" in a for a in
                                                before[sealable]["attachments"])
    with w.app.state.ctx.sessions() as s:
        row = s.get(StepDetail, missing)
        row.bundle_cid = "bafkreihdwdcefgh4dqkjv67uzcmw7ojee6xedzdetojuzjevtenxquvyku"
        s.add(row)
        row = s.get(StepDetail, wrong)
        row.data_key = "0x" + "77" * 32
        s.add(row)
        s.commit()

    # a restart of the service (same database and blockstore) seals the rest
    ctx = w.app.state.ctx
    app = create_app(ctx.settings, clock=w.clock, port=w.port, blockstore=w.blockstore,
                     background=False)
    try:
        with app.state.ctx.sessions() as s:
            rows = {d.step_id: d for d in s.exec(select(StepDetail).where(
                StepDetail.case_id == w.case_id)).all()}
    finally:
        app.state.ctx.close()
    for step_id, d in rows.items():
        if step_id in (missing, wrong):
            assert d.data_key is not None and d.data_key_wraps is None
            continue
        assert d.data_key is None
        assert all("dataKey" not in a for a in d.attachments)
        if before[step_id]["data_key"]:
            assert "0x" + sk.unwrap(d.data_key_wraps).hex() == before[step_id]["data_key"]
    assert sk.document_key(next(a for a in rows[sealable].attachments
                                if a.get("type") == "Document")) == \
        keys["document of preevaluation.published"]
    offer_seq = next(st.sequence for st, d in _details(w) if d.step_id == missing)
    leaks = _scan(w, keys)  # only the row whose container is missing still holds its key
    assert leaks == [f"bundle {offer_seq} offer.made in step_detail.data_key"]

    report = seal_legacy_keys(ctx.sessions, sk, w.blockstore)  # again: only the two left
    assert report.sealed == 0 and set(report.failed) == {missing, wrong}
    assert "DecryptionError" in report.failed[wrong]
    assert "not in the blockstore" in report.failed[missing]  # refused at once, no fetch
