"""Roles the verifier must recognise in a package from the service: the court (appointed by
an institution-signed ``appoint.court`` step when access is granted) and a stranger who
asks the escrow to execute a final award (``enforcement.requested`` is open to anyone)."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

from backend.chain.contracts import Timeouts
from backend.chain.devchain import advance_time
from evidence.judicial.verify import verify_package
from evidence.records import CourtConfirmation, SignedRecord
from tests.backend.package.package_world import (
    ChainWorld,
    _enforced,
    award_record_hash,
    run_to_award,
)


def _download(cw: ChainWorld, case_id: str, tmp_path: Path, name: str) -> tuple[Path, Any]:
    w = cw.world
    url = f"/cases/{case_id}/judicial-package"
    r = w.court.get(url)
    for _ in range(4):
        if r.status_code != 409:
            break
        cw.anchor_all()
        r = w.court.get(url)
    assert r.status_code == 200, r.text[:300]
    pkg = tmp_path / name
    pkg.write_bytes(r.content)
    return pkg, r


def _failed(cw: ChainWorld, pkg: Path) -> dict[str, str]:
    report = verify_package(pkg, chain=cw.w3, tsa_trust=cw.tsa.ca_pem.read_bytes())
    return {c.name: c.reason for c in report.checks if not c.passed}


def _steps(pkg: Path) -> list[SignedRecord]:
    with zipfile.ZipFile(pkg) as z:
        lines = z.read("records/steps.jsonl").decode().splitlines()
    return [SignedRecord.from_json_obj(json.loads(line)) for line in lines if line.strip()]


def test_package_after_court_decision_with_enforcement_by_a_stranger_verifies(
        chain_world: ChainWorld, tmp_path: Path) -> None:
    cw = chain_world
    w = cw.world
    case_id = run_to_award(cw)
    advance_time(cw.w3, Timeouts().objection + 60)
    cw.advance(days=10, seconds=1)
    w.tick()
    # a stranger (neither party nor neutral) asks the escrow to execute the final award
    r = w.stranger.post(f"/cases/{case_id}/enforcement",
                        json=w.stranger.plain("enforcement.requested"))
    assert r.status_code in (200, 201), r.text
    _enforced(cw)

    r = w.admin.post("/admin/courts", json={"address": w.court.address, "name": "Court"})
    assert r.status_code == 201, r.text
    r = w.admin.post(f"/cases/{case_id}/courts", json={"court": w.court.address})
    assert r.status_code == 201, r.text
    # the grant is on the hash chain: an institution-signed appoint.court naming the court
    timeline = w.court.get(f"/cases/{case_id}/timeline").json()
    assert any(i.get("action") == "appoint.court" for i in timeline), timeline
    # granting twice appends nothing
    before = len(timeline)
    r = w.admin.post(f"/cases/{case_id}/courts", json={"court": w.court.address})
    assert r.status_code == 201, r.text
    assert len(w.court.get(f"/cases/{case_id}/timeline").json()) == before

    cw.anchor_all()
    pkg, r = _download(cw, case_id, tmp_path, "before.zip")
    assert _failed(cw, pkg) == {}

    body = w.court.court_decision(award_record_hash(cw), confirmed=True)
    message = body["record"]["message"]
    message["packageHash"] = r.headers["x-package-manifest-sha256"]
    signed = CourtConfirmation.from_json_obj(message).sign(w.court.key.key, w.domain)
    d = w.court.post(f"/cases/{case_id}/court-decision", json={"record": signed.to_json_obj()})
    assert d.status_code == 201, d.text
    assert d.json()["stage"] == "judicially_confirmed"

    # exported AFTER the court's decision: the court's step and record check as the court's
    cw.anchor_all()
    pkg, _ = _download(cw, case_id, tmp_path, "after.zip")
    assert _failed(cw, pkg) == {}
    actions = [getattr(s.record, "action", s.record.TYPE_NAME) for s in _steps(pkg)]
    assert "appoint.court" in actions and "enforcement.requested" in actions
    assert "CourtConfirmation" in actions, actions  # the court's signed decision
