"""Every page of the portal each person reaches, in chromium, in English and in Chinese,
with an extension wallet (an injected EIP-1193 provider): each page passes axe-core with no
serious or critical violation and loads with every network but loopback blocked; the main
page of each role is screenshotted in both languages (docs/portal/screenshots/ when
CHAINARB_KEEP_SCREENSHOTS=1)."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.backend.web.web_world import WebWorld, key
from tests.portal.portal import assert_clean, assert_screenshots, run_scenario, shots_dir

pytestmark = pytest.mark.node

# Who looks, in which language first (each also switches to the other).
PEOPLE = (("buyer", "en"), ("seller", "zh-Hans"), ("mediator", "en"), ("admin", "zh-Hans"),
          ("arbitrator", "en"), ("court", "zh-Hans"), ("stranger", "en"))
UNKNOWN_DIGEST = "ab" * 32
# The viewers build their pages after load: each is checked once its operations are shown.
# Nothing is let through on them (backend/web/apidocs.py: Swagger UI without deep links, so
# no link inside its toggle buttons; static/apidocs.css: its colours).
RENDERED = {"/docs": ".opblock", "/redoc": ".api-content h1"}
PROFILES = {
    "buyer": {"name": "Lena Fischer", "nameZh": "莱娜·菲舍尔", "country": "DE",
              "language": "en", "contact": "lena@example.de"},
    "seller": {"name": "Shenzhen Brightway Lighting", "nameZh": "深圳明路照明",
               "country": "CN", "language": "zh-Hans", "contact": "sales@example.cn"},
    "mediator": {"name": "Maria Rossi", "nameZh": "玛丽亚·罗西", "country": "IT",
                 "language": "en"},
}


def test_every_page_of_every_person(world: WebWorld, tmp_path: Path) -> None:
    config = {
        "people": [{"name": n, "lang": lang, "key": "0x" + bytes(key(n).key).hex(),
                    **({"profile": PROFILES[n]} if n in PROFILES else {})}
                   for n, lang in PEOPLE],
        "cases": [world.case_id, world.case2],
        "chooser": {"keys": ["0x" + bytes(key(n).key).hex() for n in ("stranger", "buyer")]},
        "visitor": {"paths": ["/", "/ui/sign-in", "/ui/cases", f"/verify/{UNKNOWN_DIGEST}",
                               "/docs", "/redoc"], "waitFor": RENDERED},
    }
    out = run_scenario("pages", world.base, config, shots_dir(tmp_path))
    assert_clean(out)
    assert "allowed" not in out  # the harness lets no axe-core finding through, /docs included
    seen = out["result"]["people"]
    buyer = seen["buyer-en"]
    assert buyer["address"].lower() == world.clients["buyer"].address.lower()
    assert buyer["signIn"]["title"] == "Sign in"
    # Signing in signs one EIP-4361 message; the profile one EIP-712 record.
    assert buyer["signed"] == ["personal_sign", "eth_signTypedData_v4"]
    assert buyer["cases"][world.case_id]["stage"] == "facilitation"
    assert seen["seller-zh-Hans"]["switched"]["lang"] == "en"
    # Who may open which case: the parties both, the mediator the one they mediate, a
    # stranger neither.
    assert all(c["status"] == 200 for c in buyer["cases"].values())
    assert seen["mediator-en"]["cases"][world.case_id]["status"] == 200
    assert {c["status"] for c in seen["stranger-en"]["cases"].values()} == {403}
    # Profiles signed in the page are in effect, and the case shows names, not addresses.
    assert buyer["profile"]["cls"] == "result ok", buyer["profile"]
    assert "Lena Fischer" in buyer["profile"]["current"]
    assert seen["seller-zh-Hans"]["profile"]["cls"] == "result ok"
    again = out["result"]["again"]["text"]
    for name in ("Lena Fischer", "Shenzhen Brightway Lighting", "Maria Rossi"):
        assert name in again, again
    assert world.clients["seller"].address not in again
    # EIP-6963: both wallets listed by name; the one picked signs in, the other is not asked.
    chooser = out["result"]["chooser"]
    assert chooser["listed"] == ["Test Wallet 1 (org.chainarb.test.pick0)",
                                 "Test Wallet 2 (org.chainarb.test.pick1)"], chooser
    assert chooser["signedInAs"].lower() == world.clients["buyer"].address.lower()
    assert chooser["asked"] == [[], ["personal_sign"]], chooser
    visitor = out["result"]["visitor"]
    assert visitor["/ui/cases"]["status"] == 401
    assert visitor["/"]["status"] in (200, 401) and "/ui" in visitor["/"]["url"]
    assert visitor[f"/verify/{UNKNOWN_DIGEST}"]["status"] == 404
    assert visitor["/docs"]["status"] == visitor["/redoc"]["status"] == 200
    # Every page each person reached was checked, in both languages.
    checked = {(c["who"], c["where"]) for c in out["checked"]}
    for name, lang in PEOPLE:
        other = "en" if lang == "zh-Hans" else "zh-Hans"
        who = f"{name}-{lang}"
        assert (who, f"/ui/cases?lang={lang}") in checked
        assert (who, f"/ui/cases?lang={other}") in checked
        assert (who, f"/ui/cases/{world.case_id}?lang={lang}") in checked
    assert_screenshots(out, *(f"{n}-cases-{lang}" for n, _ in PEOPLE
                              for lang in ("en", "zh-Hans")),
                       "buyer-case-en", "seller-case-zh-Hans", "mediator-case-en",
                       "buyer-profile-en", "seller-profile-zh-Hans")


def test_the_harness_reports_what_it_must(world: WebWorld, tmp_path: Path) -> None:
    """Each check of the harness fails when it should: a request off loopback (refused by
    the page's CSP or aborted by the route), a serious axe-core violation, an uncaught script
    error, a page reached but not checked."""
    out = run_scenario("selftest", world.base, {}, shots_dir(tmp_path))
    found = [(f["kind"], f["where"], f["detail"]) for f in out["failures"]]

    def of(kind: str) -> list[tuple[str, str]]:
        return sorted((w, d) for k, w, d in found if k == kind)

    sign_in, cases = "/ui/sign-in?lang=en", "/ui/cases?lang=en"
    assert of("csp") == [(sign_in, "http://example.net/beacon (connect-src)"),
                         (sign_in, "https://example.org/tracker.png (img-src)")]
    assert [d for _, d in of("blocked")] == ["https://example.com/"]
    axe = of("axe")
    assert len(axe) == 1 and axe[0][1].startswith("image-alt (critical)"), axe
    assert of("pageerror") == [(sign_in, "selftest boom")]
    assert of("unchecked") == [(cases, "visited, never checked")]
    assert len(out["failures"]) == 6, out["failures"]
