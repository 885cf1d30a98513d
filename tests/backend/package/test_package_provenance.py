"""Provenance entries in the log and in the judicial package (issue 15, docs/log.md §12): each
entry the service signs in an evidence item's provenance log is an entry of kind
``provenance`` of the institution's log, appended with it (a staged upload's entries with
its submission), answered with a receipt where the party signs; the court's package proves
them and counts them complete, so a package that drops one fails ``log_completeness``,
naming it."""

from __future__ import annotations

import json
import zipfile
from pathlib import Path
from typing import Any

import pytest
from sqlmodel import col, select

from backend.db import EvidenceItem
from backend.db.log_models import LogEntry
from evidence.judicial import _format as fmt
from evidence.judicial.provenance import provenance_entry_values
from evidence.log import verify_receipt
from tests.backend.package.package_world import (
    ChainWorld,
    court_package,
    failed_checks,
    run_to_enforcement,
    verified,
)
from tests.support.packages import rewrite_package


def _h(b: bytes) -> str:
    return "0x" + b.hex()


def test_provenance_entries_are_logged_with_receipts_proven_and_complete(
        chain_world: ChainWorld, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    cw = chain_world
    w = cw.world
    ctx = w.app.state.ctx
    answers: list[dict[str, Any]] = []
    sent = w.client.request

    def keeping(method: str, url: Any, *args: Any, **kw: Any) -> Any:
        r = sent(method, url, *args, **kw)
        if str(url).endswith("/submit") and r.status_code == 201:
            answers.append(r.json())
        return r

    monkeypatch.setattr(w.client, "request", keeping)
    case_id = run_to_enforcement(cw)
    institution = ctx.service.institution_address

    # a submission answers the receipts of the item's provenance entries logged with it:
    # the staged upload's six and record.signed, after the step's own entry
    assert answers, "the drivers submit evidence"
    answer = answers[0]
    receipts = answer["provenanceReceipts"]
    with ctx.sessions() as s:
        item = s.get(EvidenceItem, answer["id"])
        assert item is not None
        values = [_h(v) for v, _ in provenance_entry_values(item.provenance[:7], w.domain)]
    assert [e["entry"]["action"] for e in item.provenance[:7]][-1] == "record.signed"
    assert [r["entry"]["recordHash"] for r in receipts] == values
    assert [r["entry"]["kind"] for r in receipts] == ["provenance"] * 7
    assert receipts[0]["index"] > answer["receipt"]["index"]  # after the step's entry
    for r in receipts:
        verify_receipt(r, [institution])

    pkg, r = court_package(cw, case_id, tmp_path / "package.zip")
    with ctx.sessions() as s:  # every entry of every submitted item is in the log now
        items = s.exec(select(EvidenceItem).where(col(EvidenceItem.case_id) == case_id,
                                                  col(EvidenceItem.record).is_not(None))).all()
        signed = {_h(v) for i in items for v, _ in provenance_entry_values(i.provenance,
                                                                           w.domain)}
        logged = {e.record_hash for e in s.exec(select(LogEntry).where(
            col(LogEntry.case_id) == case_id, col(LogEntry.kind) == "provenance")).all()}
    assert len(items) >= 3 and signed == logged
    report = verified(cw, pkg)
    checks = {c.name: c for c in report.checks}
    with zipfile.ZipFile(pkg) as zf:
        section = json.loads(zf.read(fmt.LOG))
        index = json.loads(zf.read(fmt.EVIDENCE_INDEX))["items"]
    proven = {x["recordHash"] for x in section["records"]}
    assert set(values) <= proven  # the late item's entries, under a cited checkpoint
    assert "signed case index" in checks["log_completeness"].reason

    # an entry dropped from an item's provenance log in the package: the log holds it
    member = next(i["provenance"] for i in index if i["itemId"] == f"ev{answer['id']}")
    dropped = values[6]  # record.signed

    def drop(files: dict[str, bytes]) -> None:
        log = json.loads(files[member])
        log["entries"] = [e for e in log["entries"] if e["entry"]["action"] != "record.signed"]
        files[member] = json.dumps(log).encode()

    bad = failed_checks(cw, rewrite_package(r.content, tmp_path / "dropped.zip", drop))
    assert "log_completeness" in bad, sorted(bad)
    assert "kind provenance" in bad["log_completeness"].reason
    assert dropped in bad["log_completeness"].reason
    assert "provenance" in bad  # the item's own chain breaks as well
