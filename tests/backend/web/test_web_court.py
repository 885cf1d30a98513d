"""A court does its whole job through its pages in chromium, on a case that ran on a real EVM.

The case (package_world: escrow, anchors, TSA, every party's own wallet) ends enforced; the
institution gives a court access. The court then, in its browser only:

* (中文) finds the case in its list and opens the workspace; its first download is
  refused in words because the award's own record is being anchored (409);
* (English) downloads the judicial package from the page: the file saved is the service's,
  byte for byte, with the digest the page shows; uploads a tampered copy to the service's
  checks (the failed check is named) and then the file itself: every check passes except
  the block hashes, which the page lists for the court to confirm, each the chain's own
  block; the checks are stated as run by the service; the package is recognised as the
  one given to the court, and the decision form names it;
* signs its confirmation in the wallet: the step the service stored is the record the
  wallet signed, naming the downloaded package; the page reloads with the decision and
  no form;
* (中文) the list and the workspace show the decision (nothing stale); the checks of the
  same package read in Chinese.

Every page load has all network but loopback blocked, and axe-core finds no serious or
critical accessibility fault on the list or the workspace (loaded, checked, decided);
screenshots are kept with
CHAINARB_KEEP_SCREENSHOTS=1.
"""

from __future__ import annotations

import hashlib
import io
import json
import os
import shutil
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from eth_account import Account

from backend.chain.devchain import chain_time
from backend.demo import free_port, serve
from evidence.judicial.verify import CHECKS, OPTIONAL_CHECKS
from evidence.records import SignedRecord
from tests.backend.package.package_world import ChainWorld, enforced_for_court, make_chain_world
from tests.backend.web.web_world import REPO, WEB_TESTS, find_chromium
from tests.support.migrated import migrated
from tests.support.tsa import start_tsa
from tests.support.world import _key

pytestmark = pytest.mark.node

REFERENCE = "(2026) Zhe 0192 Min Te 118"


@pytest.fixture
def served(tmp_path: Path) -> Iterator[tuple[ChainWorld, str]]:

    url = f"sqlite:///{tmp_path / 'court.sqlite3'}"
    migrated(url)
    with start_tsa(tmp_path / "tsa") as tsa:
        cw = make_chain_world(url, tmp_path, tsa)
        with tsa.following(lambda: chain_time(cw.w3)):
            enforced_for_court(cw, "Hangzhou Internet Court", "杭州互联网法院")
            port = free_port()
            with serve(cw.world.app, port) as running:
                yield cw, running.base_url


def _court(cw: ChainWorld, base: str, lang: str, out_dir: Path, mode: str,
           extra: dict[str, Any] | None = None) -> dict[str, Any]:
    w = cw.world
    token = w.court.headers["Authorization"].removeprefix("Bearer ")
    done = subprocess.run(
        ["node", str(WEB_TESTS / "court.cjs"), base, w.case_id,
         "0x" + bytes(_key("court").key).hex(), token, lang, str(out_dir), mode,
         json.dumps(extra or {})],
        cwd=REPO, env={**os.environ, "CHROMIUM": find_chromium()}, capture_output=True,
        text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out: dict[str, Any] = json.loads(done.stdout.strip().splitlines()[-1])
    # a refused request is logged by chromium ("Failed to load resource"); the page's own
    # words for it are asserted below; any other error is a fault of the page
    assert not [m for m in out["console"] if "pageerror" in m or (
        m.startswith("error") and "Failed to load resource" not in m)], out
    assert out["blocked"] == [], out["blocked"]
    assert out["axe"] == [], out["axe"]  # no serious or critical accessibility fault
    return out


def _tampered(package: Path, out: Path) -> Path:
    """The package with one evidence file changed by one bit (its checksums left alone)."""
    src = zipfile.ZipFile(package)
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as dst:
        changed = False
        for info in src.infolist():
            data = src.read(info)
            if not changed and info.filename.startswith("evidence/") and \
                    not info.filename.endswith(".json") and data:
                data = data[:-1] + bytes([data[-1] ^ 1])
                changed = True
            dst.writestr(info, data)
    assert changed
    out.write_bytes(buf.getvalue())
    return out


def test_a_court_downloads_checks_and_confirms_through_its_pages(
        served: tuple[ChainWorld, str], tmp_path: Path) -> None:
    cw, base = served
    w = cw.world
    out_dir = WEB_TESTS / "screenshots" if os.environ.get("CHAINARB_KEEP_SCREENSHOTS") \
        else tmp_path
    out_dir.mkdir(exist_ok=True)

    # (中文) The list and the workspace; the first download waits for the award's anchor.
    first = _court(cw, base, "zh-Hans", out_dir, "download")
    assert first["list"]["heading"] == "交由本院审查的案件"
    assert first["list"]["rows"] == [{"caseId": w.case_id, "stage": "enforced",
                                      "decision": "尚未决定"}]
    ws = first["workspace"]
    assert ws["stage"] == "enforced" and ws["title"] == "司法审查：订单 1"
    assert ws["headings"][:3] == ["1. 司法确认材料包", "2. 核验材料包", "3. 本院决定"]
    assert ws["forms"] == ["confirm", "refuse"] and ws["exports"] == 0 and ws["packageFirst"]
    assert "error" in first["download"]["cls"], first["download"]
    assert first["download"]["text"].startswith("本案最后几条记录正在链上存证"), first["download"]

    cw.anchor_all()  # the anchoring worker's next rounds

    # (English) download, check a tampered copy and the file itself, confirm.
    tampered = tmp_path / "tampered.zip"
    # the tampered copy is made from the service's package of this state (same bytes)
    api = w.court.get(f"/cases/{w.case_id}/judicial-package")
    assert api.status_code == 200, api.text[:300]
    (tmp_path / "api.zip").write_bytes(api.content)
    _tampered(tmp_path / "api.zip", tampered)
    passphrase = "court seal 2026 correct horse"
    recovery = json.dumps(Account.encrypt(_key("court").key, passphrase))  # a keystore v3
    res = _court(cw, base, "en", out_dir, "decide", {
        "upload": [str(tampered)], "fill": {"#step-confirm-courtReference": REFERENCE},
        "builtin": {"keystore": recovery, "passphrase": passphrase}})
    assert res["kind"] == "builtin" and res["restored"] == w.court.address
    d = res["download"]
    assert "ok" in d["cls"], d
    saved = Path(d["path"]).read_bytes()
    shutil.rmtree(Path(d["path"]).parent)
    assert saved == api.content  # the page saved the service's package, byte for byte
    with zipfile.ZipFile(io.BytesIO(saved)) as z:
        digest = hashlib.sha256(z.read("SHA256SUMS")).hexdigest()
        manifest = "0x" + hashlib.sha256(z.read("manifest.json")).hexdigest()
    assert d["digest"] == digest == api.headers["x-package-digest"] and digest in d["text"]
    assert d["manifest"] == manifest and d["selected"] == manifest
    assert d["filename"].endswith(".zip") and d["exportRows"] == 2  # the API's and this one

    bad, good = res["checks"]
    assert bad["outcome"] == "failed" and bad["verdict"].startswith("Not verified"), bad
    failed = {r["name"]: r for r in bad["rows"] if r["status"] == "failed"}
    assert "files" in failed and failed["files"]["result"] == "FAILED"
    assert "evidence/" in failed["files"]["reason"], bad
    assert bad["yours"] is None and bad["notYours"] is None  # the verdict says enough

    assert good["outcome"] == "not_run", good
    assert good["progress"] == 100 and good["digest"] == digest
    assert good["runBy"].startswith("Run by the service: These checks were run by this "
                                    "chainarb service"), good["runBy"]
    assert {r["name"]: r["status"] for r in good["rows"] if r["status"] != "passed"} == {
        "block_confirmation": "not_run"}
    assert [r["label"] for r in good["rows"]] == [en for n, en, _ in CHECKS  # all, in order
                                                  if n not in OPTIONAL_CHECKS]
    assert good["verdict"] == ("Nothing failed, but not every check could run: Block hashes "
                               "confirmed by the court's own sources (--rpc, --checkpoint). "
                               "This is not yet a pass.")
    assert good["blocks"] and "block explorer" in good["confirmHow"]
    for b in good["blocks"]:  # each listed block is the chain's own, with its time
        block = cw.w3.eth.get_block(int(b["number"]))
        assert b["hash"] == block["hash"].to_0x_hex() and int(b["chain"]) == cw.w3.eth.chain_id
        assert b["time"].startswith("20")
    assert good["yours"].startswith("This is the package the service gave you on"), good
    assert good["notYours"] is None

    # The decision: the built-in wallet's prompt said what it signs, in words; the service
    # stored a CourtConfirmation signed by the court, naming the downloaded package.
    assert res["decisionPackage"] == manifest
    assert "ok" in res["result"]["cls"], res["result"]
    shown = dict(res["prompt"]["rows"])
    assert REFERENCE in shown.values() and manifest in " ".join(shown.values()), res["prompt"]
    steps = [i for i in w.admin.get(f"/cases/{w.case_id}/timeline").json()
             if i["type"] == "step"]
    stored = w.admin.get(f"/cases/{w.case_id}/steps/{steps[-1]['sequence']}").json()
    record = SignedRecord.from_json_obj(stored["record"])
    msg = stored["record"]["message"]
    assert stored["record"]["type"] == "CourtConfirmation" and msg["confirmed"] is True
    assert msg["packageHash"] == manifest and msg["courtReference"] == REFERENCE
    assert msg["court"] == w.court.address and record.signers() == (w.court.address,)
    after = res["after"]  # the reloaded page: the decision, and nothing left to sign
    assert after["stage"] == "judicially_confirmed" and after["forms"] == []
    assert "confirmed" in after["decision"] and REFERENCE in after["decision"]
    assert manifest in after["decision"]

    # (中文) Later: the list and the workspace say what the court decided.
    look = _court(cw, base, "zh-Hans", out_dir, "look", {"upload": [str(tmp_path / "api.zip")]})
    assert look["list"]["rows"] == [{"caseId": w.case_id, "stage": "judicially_confirmed",
                                     "decision": "已确认"}]
    assert look["workspace"]["forms"] == [] and "本院决定已作为签名步骤记录" in \
        look["workspace"]["decision"]
    assert look["workspace"]["exports"] == 2  # the API's download and the page's
    [zh] = look["checks"]  # the checks in Chinese: labels, results, reasons, the blocks
    assert zh["outcome"] == "not_run" and zh["verdict"].startswith("没有未通过项，但部分检查未运行")
    assert zh["runBy"].startswith("由服务方运行：以下检查由本 chainarb 服务对您上传的文件运行")
    assert zh["rows"][3] == {"name": "signatures", "status": "passed", "label": "电子签名",
                             "result": "通过", "reason": zh["rows"][3]["reason"]}
    assert zh["rows"][3]["reason"].startswith("每个签名均恢复出其声明的签名人")
    assert zh["confirmHow"].startswith("对每个区块") and zh["blocks"] == good["blocks"]
    assert zh["yours"].startswith("这是服务方于")
    for name in ("court-list-download-zh-Hans.png", "court-download-zh-Hans.png",
                 "court-check-2-en.png", "court-decided-en.png", "court-after-zh-Hans.png"):
        assert (out_dir / name).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n", name
