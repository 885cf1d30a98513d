"""The case page keeps the receipts of what a party submits (issue 15, item 3), in chromium.

The buyer uploads evidence and agrees to arbitrate through the page. Each answer's
`receipt` is kept in the browser (localStorage, under the signed-in address and the case;
never posted anywhere) and listed in "Your receipts / 您的回执" (log index, the step in
words, local time). "Download all" saves one file per receipt: the same name and bytes
`evidence.receipts.save_receipt` writes, read by `load_receipts` (what `chainarb verify
--receipts DIR` reads), each opening under the institution's key with the function the
package's `receipts` check uses (`_logapi.open_receipt`), naming the record the service
logged at that index. The package's `receipts` check itself (`check_receipts`, what
`chainarb verify --receipts DIR` runs) over the case's log section as a package carries it
passes with the downloaded folder, refuses a file altered after download, and catches a
package that leaves out the record a receipt proves accepted.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import httpx
import pytest
from sqlmodel import col, select

from evidence.errors import EvidenceError
from evidence.judicial._log import LogSection, check_receipts, gather, log_json, read_section
from evidence.judicial._logapi import open_receipt
from evidence.judicial.inputs import LogCheckpoint, MerkleLeafProof
from evidence.receipts import HeldReceipt, load_receipts, save_receipt
from evidence.records import SignedRecord
from evidence.safejson import JSON
from tests.backend.web.web_world import REPO, WEB_TESTS, WebWorld, find_chromium, key

pytestmark = pytest.mark.node

DOCS_SHOTS = REPO / "docs" / "portal" / "screenshots"


def test_the_page_keeps_lists_and_downloads_receipts(world: WebWorld, tmp_path: Path) -> None:
    case = world.case2
    done = subprocess.run(
        ["node", str(WEB_TESTS / "receipts.cjs"), world.base, case,
         "0x" + bytes(key("buyer").key).hex(), str(tmp_path)],
        cwd=REPO, env={**os.environ, "CHROMIUM": find_chromium()}, capture_output=True,
        text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert not [m for m in out["console"] if "pageerror" in m], out["console"]
    assert out["blocked"] == [] and out["axe"] == [], out
    assert out["before"]["none"] is True
    assert "a court can check the case's package against them" in out["before"]["what"]
    assert "ok" in out["evidence"]["cls"] and "ok" in out["agree"]["cls"], out
    assert out["signed"] == ["EvidenceSubmission", "ProceduralStep"]

    # Stored for this address and case only, and never sent back anywhere.
    buyer = world.clients["buyer"].address.lower()
    assert out["otherKeys"] == [f"chainarb.receipts:{buyer}:{case.lower()}"]
    assert out["sent"] == []
    stored = out["stored"]
    # the upload's provenance entries (issue 15 item 3: `provenanceReceipts`) are kept too
    prov = [s for s in stored if s["receipt"]["entry"]["kind"] == "provenance"]
    main = [s for s in stored if s not in prov]
    assert prov and all(s["action"] == "" for s in prov), stored
    assert [s["action"] for s in main] == ["evidence.submitted", "arbitration.agreed"]

    # Listed: index, the step in words, local time; in Chinese too.
    institution = world.app.state.ctx.service.institution_address
    log = [s["receipt"] for s in main]
    said = {"evidence.submitted": ("Evidence submitted (salted commitment signed)",
                                   "提交证据（签署加盐承诺值）"),
            "arbitration.agreed": ("Agreement to arbitrate signed", "签署仲裁协议"),
            "": ("Provenance entry of an evidence item (signed by the institution)",
                 "证据来源记录条目（机构签名）")}
    by_index = sorted(stored, key=lambda s: int(s["receipt"]["index"]))
    rows = [[str(s["receipt"]["index"]), said[s["action"]][0]] for s in by_index]
    assert [r[:2] for r in out["rows"]] == rows
    assert [r[:2] for r in out["afterEvidence"]] == [
        r for r, s in zip(rows, by_index, strict=True) if s["action"] != "arbitration.agreed"]
    assert all(r[2] and "Z" not in r[2] for r in out["rows"])  # local, not the UTC string
    assert out["titleZh"] == "您的回执" and "法院可据此核对案件材料包" in out["whatZh"]
    assert [r[1] for r in out["rowsZh"]] == [said[s["action"]][1] for s in by_index]

    # The files: what save_receipt writes, named the same; each is the institution's.
    folder = tmp_path / "downloads"
    assert len(out["downloaded"]) == len(stored)
    again = tmp_path / "python"
    for s in stored:
        written = save_receipt(again, s["receipt"])
        assert (folder / written.name).read_bytes() == written.read_bytes()
    held = load_receipts(folder)
    assert sorted(h.name for h in held) == sorted(out["downloaded"])
    for h in held:
        r = open_receipt(h.obj, [institution])
        assert "0x" + r.entry.case_id.hex() == case.lower()
        leaf = httpx.get(f"{world.base}/log/leaf/0x{r.entry.record_hash.hex()}").json()
        assert [e["index"] for e in leaf["entries"]] == [r.index]

    # The package's check (`receipts`, evidence.judicial._log.check_receipts) over the
    # case's log section as a package carries it (signed checkpoint, inclusion proofs, the
    # range): the downloaded folder passes; a file altered after download is refused; a
    # package leaving out the agreement is caught, naming it.
    held = [h for h in held if _entry(h)["kind"] != "provenance"]  # records' own
    section, records = _package_log(world, case, out["typed"])
    case_b = bytes.fromhex(case[2:])
    problems, details = check_receipts(section, [institution], case_b, records, held)
    assert problems == [] and len(details) == 2, (problems, details)
    assert all("carried" in d for d in details), details
    agreed = next(h for h in held if _entry(h)["recordHash"] == _hash(records[1]))
    altered = tmp_path / "altered"
    altered.mkdir()
    for h in held:
        obj = dict(h.obj)
        if h is agreed:
            index = obj["index"]
            assert isinstance(index, int)
            obj["index"] = index - 1  # as if the step had come earlier
        (altered / h.name).write_text(json.dumps(obj))
    problems, _ = check_receipts(section, [institution], case_b, records,
                                 load_receipts(altered))
    assert len(problems) == 1 and "refused, not the institution's" in problems[0], problems
    assert agreed.name in problems[0]
    problems, _ = check_receipts(section, [institution], case_b, records[:1], held)
    assert len(problems) == 1 and "omitted" in problems[0], problems
    assert _hash(records[1]) in problems[0]

    # Altered after download: refused (it proves nothing).
    for field, value in (("index", log[0]["index"] + 1),
                         ("entry", {**log[0]["entry"], "recordHash": "0x" + "ab" * 32})):
        forged = {**log[0], field: value}
        with pytest.raises(EvidenceError):
            open_receipt(forged, [institution])
    assert all(load_receipts(folder))  # the folder itself is untouched

    for lang in ("en", "zh-Hans"):
        png = (tmp_path / f"receipts-{lang}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n"
        if os.environ.get("CHAINARB_KEEP_SCREENSHOTS"):
            (DOCS_SHOTS / f"receipts-{lang}.png").write_bytes(png)


def _entry(held: HeldReceipt) -> dict[str, JSON]:
    entry = held.obj["entry"]
    assert isinstance(entry, dict), held.name
    return entry


def _hash(signed: SignedRecord) -> str:
    return "0x" + signed.record_hash.hex()


def _package_log(world: WebWorld, case: str, typed: list[dict[str, Any]]
                 ) -> tuple[LogSection, list[SignedRecord]]:
    """`proofs/log.json` as the package builder gathers it (evidence.judicial._log.gather),
    for a checkpoint the institution signs now (this world has no anchoring worker: the
    anchor proof is a placeholder; the `anchors` check is not what this test is about),
    read back as the verifier reads it; and the records the page signed, as carried."""
    from backend.api.routes.log import get_log
    from backend.db import write_scope
    from backend.db.log_models import LogEntry
    from backend.log.checkpoints import Checkpointer
    from backend.log.store import entries_in_order, open_log

    svc = get_log(world.app.state.ctx)
    with write_scope(world.app.state.ctx.sessions) as session:  # it extends the case index
        cp = Checkpointer(svc.origin, svc.signer).prepare(session)
        tree = open_log(session, cp.size)
        rows = session.exec(select(LogEntry).where(col(LogEntry.case_id) == case.lower())
                            .order_by(col(LogEntry.idx))).all()
        own = [(bytes.fromhex(r.record_hash[2:]), r.idx, bytes.fromhex(r.entry[2:]))
               for r in rows]
        everything = entries_in_order(session)[:cp.size]
    placeholder = MerkleLeafProof(record_hash=b"\0" * 32, root=b"\0" * 32,
                                  encoding=["bytes32"], value=["0x" + "00" * 32], proof=[])
    inputs = gather(tree, origin=svc.origin,
                    checkpoints=[LogCheckpoint(note=cp.note.encode(), anchor=placeholder)],
                    records=own, start=0, entries=everything)
    records = [SignedRecord.from_json_obj({
        "format": "chainarb.record", "v": 1, "type": t["primaryType"], "domain": t["domain"],
        "message": t["message"], "signatures": []}) for t in typed]
    return read_section(json.loads(json.dumps(log_json(inputs)))), records


def test_the_monitor_lists_the_cases_a_key_may_see(world: WebWorld) -> None:
    """`chainarb monitor --all`'s list (evidence._monitor_http.HttpLogService.cases) from
    the real service: the buyer's two cases; a stranger's none; no token, no list."""
    from evidence._monitor_http import HttpLogService

    buyer = HttpLogService(world.base, token=world.token("buyer")).cases()
    assert sorted(buyer) == sorted([world.case_id.lower(), world.case2.lower()])
    assert HttpLogService(world.base, token=world.token("stranger")).cases() == []
    with pytest.raises(EvidenceError, match="needs a session token"):
        HttpLogService(world.base).cases()
