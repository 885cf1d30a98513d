"""What a buyer sees of a case paid in an 18-decimal token, in chromium, in English and in
Chinese (screens.cjs): amounts and labels in the token, an amount with too many decimals
refused in words, and the built-in wallet's prompt naming people with their addresses one
click away (axe-core clean with the disclosures open). The screenshots are the ones
docs/portal.md shows (kept there with CHAINARB_KEEP_SCREENSHOTS=1)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from eth_account import Account

from backend.services.escrow import TokenMeta
from tests.backend.web.web_world import (
    REPO,
    WEB_TESTS,
    WebWorld,
    declare_profile,
    find_chromium,
    key,
    token_case,
)

pytestmark = pytest.mark.node

PASSPHRASE = "correct horse battery staple"
DAI_AMOUNT = 1_234_567_890_123_456_789_012


def test_a_case_in_an_18_decimal_token_as_its_buyer_sees_it(world: WebWorld,
                                                             tmp_path: Path) -> None:
    case = token_case(world, 91, "0x" + "d3" * 20, TokenMeta("DAI", 18), DAI_AMOUNT,
                      5 * 10**18 + 1)
    for who, name, name_zh in (("buyer", "Li Wei", "李伟"),
                               ("seller", "Brightway Lighting", "明途照明")):
        assert declare_profile(world, who, name, name_zh, country="CN").status_code == 200
    keystore = tmp_path / "buyer.json"
    keystore.write_text(json.dumps(Account.encrypt(key("buyer").key, PASSPHRASE, kdf="scrypt",
                                                   iterations=2**14)))
    keep = os.environ.get("CHAINARB_KEEP_SCREENSHOTS") == "1"
    out_dir = REPO / "docs/portal/screenshots" if keep else tmp_path
    done = subprocess.run(
        ["node", str(WEB_TESTS / "screens.cjs"), world.base, case,
         "0x" + bytes(key("buyer").key).hex(), str(keystore), PASSPHRASE, str(out_dir)],
        cwd=REPO, env={**os.environ, "CHROMIUM": find_chromium()}, capture_output=True,
        text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["blocked"] == [] and not [m for m in out["console"] if "pageerror" in m], out
    buyer = world.clients["buyer"].address
    for lang, you, to_buyer, refused in (
            ("en", "Li Wei (you, buyer, claimant)", "to the buyer",
             "At most 18 decimals: DAI's smallest unit is 0.000000000000000001."),
            ("zh-Hans", "李伟（您，买方，申请人）", "付给买方",
             "最多 18 位小数：DAI 的最小单位是 0.000000000000000001。")):
        seen = out[lang]
        assert seen["refused"] == refused
        rows = dict(seen["rows"])
        assert rows[to_buyer] == "1,234.500000000000000000 DAI"
        assert you in rows.values() and buyer not in json.dumps(seen["rows"])
        assert seen["addresses"] == [buyer, buyer]  # the offeror and the signer, opened
        assert seen["axe"] == [], seen["axe"]
        for name in ("token-case", "token-offer-refused", "token-prompt"):
            png = (out_dir / f"{name}-{lang}.png").read_bytes()
            assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000
