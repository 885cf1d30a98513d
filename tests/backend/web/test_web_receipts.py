"""The case page keeps the receipts of what a party submits (issue 15, item 3), in chromium.

The buyer uploads evidence and agrees to arbitrate through the page. Each answer's
`receipt` is kept in the browser (localStorage, under the signed-in address and the case;
never posted anywhere) and listed in "Your receipts / 您的回执" (log index, the step in
words, local time). "Download all" saves one file per receipt: the same name and bytes
`evidence.receipts.save_receipt` writes, read by `load_receipts` (what `chainarb verify
--receipts DIR` reads), each opening under the institution's key with the function the
package's `receipts` check uses (`_logapi.open_receipt`), naming the record the service
logged at that index. A downloaded receipt altered (index or record) is refused.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import httpx
import pytest

from evidence.errors import EvidenceError
from evidence.judicial._logapi import open_receipt
from evidence.receipts import load_receipts, save_receipt
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
    assert [s["action"] for s in stored] == ["evidence.submitted", "arbitration.agreed"]

    # Listed: index, the step in words, local time; in Chinese too.
    institution = world.app.state.ctx.service.institution_address
    log = [s["receipt"] for s in stored]
    evidence = "Evidence submitted (salted commitment signed)"
    assert out["afterEvidence"][0][:2] == [str(log[0]["index"]), evidence]
    assert [r[:2] for r in out["rows"]] == [[str(log[0]["index"]), evidence],
                                          [str(log[1]["index"]), "Agreement to arbitrate signed"]]
    assert all(r[2] and "Z" not in r[2] for r in out["rows"])  # local, not the UTC string
    assert out["titleZh"] == "您的回执" and "法院可据此核对案件材料包" in out["whatZh"]
    assert [r[1] for r in out["rowsZh"]] == ["提交证据（签署加盐承诺值）", "签署仲裁协议"]

    # The files: what save_receipt writes, named the same; each is the institution's.
    folder = tmp_path / "downloads"
    assert len(out["downloaded"]) == 2
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
