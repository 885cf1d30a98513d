"""Receipts end to end (issue 15): a party's client keeps the receipt of every step and
upload the service accepts; a court checks the package against them (`--receipts`), and a
package that leaves out a record a receipt covers fails, naming it. Then the monitor,
over the service's public log API, finds every receipt included and the case's records."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from evidence._monitor_http import HttpLogService, chain_anchor_check
from evidence.monitor import AnchoredCheckpoint, Level, MonitorState, run_once
from evidence.receipts import load_receipts, save_receipt
from evidence.records import CourtConfirmation
from tests.backend.package.package_world import (
    ChainWorld,
    award_record_hash,
    court_package,
    failed_checks,
    grant_court,
    run_to_enforcement,
    verified,
)


def test_receipts_the_client_kept_check_the_package_and_the_log(
        chain_world: ChainWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cw = chain_world
    w = cw.world
    folder = tmp_path / "receipts"
    sent = w.client.request

    def keeping(method: str, url: Any, *args: Any, **kw: Any) -> Any:
        """What `chainarb`'s client does (backend.demo.clients.Client.keep_receipt)."""
        r = sent(method, url, *args, **kw)
        if method.upper() == "POST" and "json" in r.headers.get("content-type", ""):
            body = r.json()
            if isinstance(body, dict) and isinstance(body.get("receipt"), dict):
                save_receipt(folder, body["receipt"])
        return r

    monkeypatch.setattr(w.client, "request", keeping)
    case_id = run_to_enforcement(cw)
    pkg, r = court_package(cw, case_id, tmp_path / "package.zip")
    held = load_receipts(folder)
    assert len(held) >= 8  # every step and the evidence the drivers posted
    report = verified(cw, pkg, receipts=held)
    (check,) = [c for c in report.checks if c.name == "receipts"]
    assert len(check.details) == len(held) and all("carried" in d for d in check.details)

    # the monitor, over the public log API: every receipt included, nothing inconsistent
    service = HttpLogService("http://testserver", client=w.client)
    institution = w.app.state.ctx.service.institution_address
    first, found = run_once(MonitorState(service="http://testserver", case_id=case_id),
                            service, now=datetime.now(UTC), institution=[institution],
                            receipts=held)
    assert [f.key for f in found if f.level is Level.ALARM] == [], found

    # the court's decision is a record after the export: its receipt names a record the
    # package (exported before it) does not carry
    body = w.court.court_decision(award_record_hash(cw), confirmed=True)
    rec = body["record"]
    rec["message"]["packageHash"] = r.headers["x-package-manifest-sha256"]
    signed = CourtConfirmation.from_json_obj(rec["message"]).sign(w.court.key.key, w.domain)
    d = w.court.post(f"/cases/{case_id}/court-decision", json={"record": signed.to_json_obj()})
    assert d.status_code == 201, d.text
    later = load_receipts(folder)
    assert len(later) == len(held) + 1
    bad = failed_checks(cw, pkg, receipts=later)
    assert set(bad) == {"receipts"}
    assert "0x" + signed.record_hash.hex() in bad["receipts"].reason
    assert "omitted" in bad["receipts"].reason and "exported before" in bad["receipts"].reason

    # the monitor's next run, once the decision is anchored: the new record, every receipt
    # included, each anchored checkpoint confirmed on the chain
    cw.anchor_all()
    on_chain = chain_anchor_check(cw.w3)
    state, found = run_once(first, service, now=datetime.now(UTC), receipts=later,
                            anchor_check=on_chain)
    assert [f.key for f in found if f.level is Level.ALARM] == [], found
    news = [f.values["record"] for f in found if f.key == "new_record"]
    assert "0x" + signed.record_hash.hex() in news
    assert set(state.receipts) == {h.name for h in later}
    assert state.anchored_size == state.size  # the latest checkpoint is the anchored one
    assert sum(f.key == "anchored" for f in found) >= 1

    # a checkpoint the service calls anchored, with a batch root the chain never saw
    forged = [replace(a, batch={**a.batch, "root": "0x" + "00" * 32})
              for a in service.anchored()]
    assert on_chain(forged[-1], [institution]) is not None
    class Lying(HttpLogService):
        def anchored(self) -> list[AnchoredCheckpoint]:
            return forged

    _, found = run_once(MonitorState(service="http://testserver", case_id=case_id),
                        Lying("http://testserver", client=w.client), now=datetime.now(UTC),
                        institution=[institution], anchor_check=on_chain)
    assert "not_anchored" in [f.key for f in found if f.level is Level.ALARM]


def test_a_case_whose_batches_carry_no_checkpoint_cites_a_later_one(
        chain_world: ChainWorld, tmp_path: Path) -> None:
    """Batches anchored before the log existed carry no checkpoint: the package cites the
    first later anchored checkpoint that covers the case (its batch joins the anchors),
    and verifies."""
    import sqlalchemy as sa

    from backend.db import Case, LeafKind, write_scope
    from backend.db.log_models import LogCheckpoint
    from backend.worker.anchoring import enqueue_leaf
    from evidence.merkle import record_leaf

    cw = chain_world
    w = cw.world
    case_id = run_to_enforcement(cw)
    grant_court(cw)
    url = f"/cases/{case_id}/judicial-package"
    cw.anchor_all()
    assert w.court.get(url).status_code == 409  # the carried Award is queued first
    cw.anchor_all()
    ctx = w.app.state.ctx
    with write_scope(ctx.sessions) as s:  # as if the case's batches predated the log
        s.execute(sa.delete(LogCheckpoint))
    assert w.court.get(url).status_code == 409  # no checkpoint covers the case yet
    other = "0x" + "5a" * 32
    with write_scope(ctx.sessions) as s:  # another case's record, in a batch of its own
        s.add(Case(id=other, order_id="999999", claimant=w.buyer.address,
                   respondent=w.seller.address, stage="filed"))
        s.flush()
        enqueue_leaf(s, kind=LeafKind.STEP, ref_id=987_654, case_id=other,
                     value=record_leaf(bytes.fromhex(other[2:]), b"\x01" * 32, b"\x02" * 32))
    cw.anchor_all()
    r = w.court.get(url)
    assert r.status_code == 200, r.text[:300]
    pkg = tmp_path / "package.zip"
    pkg.write_bytes(r.content)
    verified(cw, pkg)
