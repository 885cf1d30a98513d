"""The whole fast track through the case pages in chromium (docs/jury.md §9; fasttrack.cjs):

* the mediator proposes the pre-evaluation with the page's form (the page fetches the
  report, checks its SHA-256; the wallet signs the step with the report as its document);
* a party reads the proposed resolution with the pre-evaluation's reasons in their
  language, with the deadline, and objects with the page's form: the case goes to a sole
  arbitrator, and the page says the proposal does not bind, naming who objected;
* in a second case nobody objects: when the window has passed the proposal binds, the
  escrow pays it out and the case page shows it paid.

Every page passes axe-core's serious and critical checks; screenshots in both languages
(docs/portal/screenshots with CHAINARB_KEEP_SCREENSHOTS=1, else the test's temp dir)."""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.backend.web.fast_track_world import fast_track_world, to_facilitation
from tests.backend.web.web_world import (
    ORDER_2,
    REPO,
    WebWorld,
    declare_profile,
    find_chromium,
    key,
)

pytestmark = pytest.mark.node

HERE = Path(__file__).parent


@pytest.fixture(scope="module")
def ft(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    with fast_track_world(tmp_path_factory.mktemp("fast")) as w:
        for who, en, zh in (("buyer", "Ana Souza", "安娜·索萨"),
                            ("seller", "Brightway Lighting", "明途照明"),
                            ("mediator", "Marco Rossi", "马可·罗西")):
            assert declare_profile(w, who, en, zh).status_code == 200
        to_facilitation(w, w.case2)
        yield w


def _drive(w: WebWorld, acts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    keys = {who: "0x" + bytes(key(who).key).hex() for who in ("buyer", "seller", "mediator")}
    done = subprocess.run(
        ["node", str(HERE / "fasttrack.cjs"), w.base, json.dumps({"keys": keys, "acts": acts})],
        cwd=REPO, env={**os.environ, "CHROMIUM": find_chromium()}, capture_output=True,
        text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert not [m for m in out["console"] if " error" in m or "pageerror" in m], out["console"]
    assert out["offLoopback"] == []
    for act in out["acts"]:
        assert act["axe"] == [], act
    result: list[dict[str, Any]] = out["acts"]
    return result


def test_the_fast_track_in_the_browser(ft: WebWorld, tmp_path: Path) -> None:
    w = ft
    keep = os.environ.get("CHAINARB_KEEP_SCREENSHOTS")
    shots = REPO / "docs/portal/screenshots" if keep else tmp_path
    one, two = w.case_id, w.case2

    acts = _drive(w, [
        {"who": "mediator", "lang": "en", "case": one, "do": "propose",
         "png": str(shots / "fast-track-propose-en.png")},
        {"who": "buyer", "lang": "zh-Hans", "case": one, "do": "object",
         "png": str(shots / "fast-track-proposed-zh-Hans.png")},
        {"who": "seller", "lang": "en", "case": one, "do": "look",
         "png": str(shots / "fast-track-objected-en.png")},
        {"who": "mediator", "lang": "zh-Hans", "case": two, "do": "propose",
         "png": str(shots / "fast-track-propose-zh-Hans.png")},
        {"who": "buyer", "lang": "en", "case": two, "do": "look",
         "png": str(shots / "fast-track-proposed-en.png")},
    ])
    propose, objection, objected, propose_zh, pending = acts

    # the mediator's form, signed: the case waits for the parties' objection
    assert "fast_track" in propose["forms"] and propose["section"] is None
    assert "ok" in propose["result"]["cls"], propose["result"]
    assert propose["after"]["stage"] == "fast_track_proposed"
    assert propose["after"]["state"] == "pending"
    assert "fast_track" not in propose["after"]["forms"]

    # the buyer read the proposal and its reasons in Chinese, then objected
    sec = objection["section"]
    assert objection["state"] == "pending" and "快速程序处理建议" in sec
    assert "部分退款" in sec and "预评估理由" in sec and "规则 PE-" in sec
    assert "买方的照片或视频显示货不对板" in sec and "马可·罗西" in sec
    assert "120.000000 tUSD" in sec and "360.000000 tUSD" in sec
    assert objection["forms"] == ["fast_track_objection"]
    assert "ok" in objection["result"]["cls"], objection["result"]
    assert objection["after"]["stage"] == "arbitrator_appointment"
    assert objection["after"]["state"] == "objected"
    assert "安娜·索萨已提出异议" in objection["after"]["section"]

    # the seller, in English: objected, by name; the arbitrator decides
    assert objected["state"] == "objected" and "fast_track_objection" not in objected["forms"]
    assert "Ana Souza objected: the proposal does not bind." in objected["section"]

    # the second case: proposed in Chinese, read in English with the deadline
    assert "ok" in propose_zh["result"]["cls"], propose_zh["result"]
    assert pending["state"] == "pending" and pending["stage"] == "fast_track_proposed"
    assert "unless one of them objects before the deadline" in pending["section"]
    assert "left" in pending["section"]  # the countdown, in words
    assert "The pre-evaluation's reasons" in pending["section"]
    assert "(rule PE-" in pending["section"]
    assert pending["forms"] == ["fast_track_objection"]

    # nobody objects: the window passes, the proposal binds and the escrow pays it out
    admin = w.clients["admin"]
    w.clock.advance(days=3, seconds=60)
    for _ in range(3):
        admin.post("/admin/tick")
    view = admin.get(f"/cases/{two}")
    assert view["stage"] == "enforced", view["chainActions"]
    order = w.port.read_order(ORDER_2)
    assert order.status == "Resolved"
    acts = _drive(w, [
        {"who": "buyer", "lang": "en", "case": two, "do": "look",
         "png": str(shots / "fast-track-paid-en.png")},
        {"who": "seller", "lang": "zh-Hans", "case": two, "do": "look",
         "png": str(shots / "fast-track-paid-zh-Hans.png")},
    ])
    for act, words in zip(acts, ("No party objected in time", "双方均未在期限内提出异议"),
                          strict=True):
        assert act["state"] == "paid" and act["stage"] == "enforced", act
        assert words in act["section"] and act["forms"] == []
    assert "Paid out by the escrow." in acts[0]["section"]
    assert "托管合约已执行付款。" in acts[1]["section"]
    for name in ("propose-en", "propose-zh-Hans", "proposed-en", "proposed-zh-Hans",
                 "objected-en", "paid-en", "paid-zh-Hans"):
        png = (shots / f"fast-track-{name}.png").read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000, name
