"""The pages in a real browser: Debian's chromium driven by playwright-core (npm).

A wallet stand-in (window.ethereum backed by @metamask/eth-sig-util, the key kept in Node)
signs in through the sign-in page; the case page is read in English and in Simplified
Chinese and screenshotted (tests/backend/web/screenshots/ when CHAINARB_KEEP_SCREENSHOTS
is set, else the test's temp dir). chromium is installed with apt when missing.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.backend.web.web_world import WebWorld, find_chromium, key

pytestmark = pytest.mark.node

HERE = Path(__file__).parent
ROOT = HERE.parents[2]


def test_sign_in_and_case_page_in_both_languages(world: WebWorld, tmp_path: Path) -> None:
    chromium = find_chromium()
    out_dir = HERE / "screenshots" if os.environ.get("CHAINARB_KEEP_SCREENSHOTS") else tmp_path
    out_dir.mkdir(exist_ok=True)
    done = subprocess.run(
        ["node", str(HERE / "browser.cjs"), world.base, world.case_id,
         "0x" + bytes(key("buyer").key).hex(), str(out_dir)],
        cwd=ROOT, env={**os.environ, "CHROMIUM": chromium}, capture_output=True, text=True,
        timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["address"].lower() == world.clients["buyer"].address.lower()
    assert out["signInTitle"] == "Sign in"
    assert out["listHeading"] == "Your cases" and out["listLinks"] == 1
    en = out["en"]
    assert en["stage"] == "facilitated settlement"
    assert en["headings"] == ["What you can do now", "Parties and neutrals", "Timeline",
                              "Evidence", "Your receipts", "Award", "On-chain anchors"]
    assert en["steps"] == 4 and en["evidenceRows"] == 1
    # The page shows times in the browser's zone (de-DE, Europe/Berlin), not the UTC text.
    assert en["firstTimeIso"].endswith("Z") and en["firstTime"] != en["firstTimeIso"]
    zh = out["zh"]
    assert zh["lang"] == "zh-Hans" and zh["stage"] == "调解"
    assert zh["headings"] == ["您现在可以办理的步骤", "当事人与中立人", "程序时间线", "证据",
                              "您的回执", "裁决", "链上存证"]
    assert out["noWallet"] == "此浏览器中未发现扩展钱包。"
    verify = out["verify"]  # the certificate URL's page for a digest never issued
    assert verify["status"] == 404 and verify["heading"] == "司法确认材料包"
    assert "本服务未签发具有此摘要" in verify["text"] and "No judicial package" in verify["text"]
    assert verify["headerColor"] == "rgb(23, 50, 77)"  # the page's nonce'd style applied
    assert [m for m in verify["console"] if "404" not in m] == [], verify["console"]
    assert not [m for m in out["console"] if m.startswith(("error", "pageerror"))], out
    for name in ("case-en.png", "case-zh.png"):
        png = (out_dir / name).read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
