"""The people pages in chromium: a newcomer signs their profile with a wallet (EIP-1193
stand-in, key kept in Node), then the names, words and countdowns of the case list, a case
page and a profile, in both languages, screenshotted (tests/backend/web/screenshots/ with
CHAINARB_KEEP_SCREENSHOTS=1, else the test's temp dir)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from backend.web.people import names_for
from tests.backend.web.test_web_people import _declare
from tests.backend.web.web_world import WebWorld, find_chromium, key

pytestmark = pytest.mark.node

HERE = Path(__file__).parent
ROOT = HERE.parents[2]


def test_profile_signed_in_the_page_and_names_everywhere(world: WebWorld, tmp_path: Path
                                                         ) -> None:
    assert _declare(world, "seller", "Brightway Lighting", "明途照明").status_code == 200
    out_dir = HERE / "screenshots" if os.environ.get("CHAINARB_KEEP_SCREENSHOTS") else tmp_path
    out_dir.mkdir(exist_ok=True)
    people = {who: {"key": "0x" + bytes(key(who).key).hex(), "token": world.token(who)}
              for who in ("stranger", "buyer", "admin")}
    done = subprocess.run(
        ["node", str(HERE / "people.cjs"), world.base, world.case_id, str(out_dir),
         json.dumps(people)],
        cwd=ROOT, env={**os.environ, "CHROMIUM": find_chromium()}, capture_output=True,
        text=True, timeout=240, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert not [m for m in out["console"] if m.startswith(("error", "pageerror"))], out

    # the newcomer: refused in words without a name; then signed, stored, in effect
    assert "others see your wallet address" in out["emptyNotice"]
    assert out["noName"] == {"text": "Enter at least one name.", "invalid": "true"}
    assert [t["primaryType"] for t in out["typed"]] == ["Profile"]
    stranger = world.clients["stranger"].address
    person = names_for(world.app.state.ctx, [stranger])[stranger]
    assert (person.name, person.name_zh, person.country, person.language, person.contact) == \
        ("Wang Fang", "王芳", "CN", "zh-Hans", "wang.fang@example.cn")
    assert person.issuer == stranger and "王芳" in out["saved"]
    assert "Wang Fang" in out["header"] and "王芳" in out["headerZh"]

    # the buyer's list and case: the other side by name, words, amounts, countdowns
    en, zh = out["list_en"], out["list_zh-Hans"]
    assert en["heading"] == "Your cases" and zh["heading"] == "我的案件"
    assert "Brightway Lighting" in en["row"] and "480.000000 tUSD" in en["row"]
    assert "Goods not as described" in en["row"] and "Buyer" in en["row"]
    assert "明途照明" in zh["row"] and "货物与描述不符" in zh["row"] and "买方" in zh["row"]
    assert en["countdown"].endswith("left") and zh["countdown"].startswith("剩余")
    assert "Brightway Lighting" in out["case_en"]["h1"]
    assert "The case moved from “filed” to “facilitated settlement”." in \
        out["case_en"]["timeline"]
    assert "案件由“已立案”进入“调解”阶段。" in out["case_zh-Hans"]["timeline"]
    for tl in (out["case_en"]["timeline"], out["case_zh-Hans"]["timeline"]):
        assert "stage_changed" not in tl and "case.filed" not in tl and "#0" not in tl
    seller = world.clients["seller"].address
    assert seller in out["person_en"] and "the person themselves" in out["person_en"]
    assert "明途照明" in out["person_zh-Hans"] and "本人" in out["person_zh-Hans"]

    # the admin: the institution's cases under their own heading, not "Your cases"
    assert out["admin"]["headings"] == ["仲裁机构：全部案件"]
    assert out["admin"]["rows"] == 2
    for name in ("profile-en", "profile-zh", "cases-en", "cases-zh-Hans", "case-en",
                 "case-zh-Hans", "person-en", "person-zh-Hans", "cases-admin-zh"):
        png = (out_dir / f"{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000, name
