"""The court's pages over HTTP: who sees the list and a case's workspace, in both languages,
and the pages' way to the package and to the service's checks (the proxy's allow-list).

The whole job in chromium, on a real chain, is test_web_court.py; here the in-memory escrow
of web_world (no chain: a package cannot be built, and the page's download says so)."""

from __future__ import annotations

import httpx

from backend.web import COOKIE
from tests.backend.web.web_world import WebWorld, record_package_download


def _get(world: WebWorld, path: str, who: str | None = None) -> httpx.Response:
    cookies = {COOKIE: world.token(who)} if who else {}
    return httpx.get(world.base + path, cookies=cookies, timeout=30, follow_redirects=False)


def test_the_court_list_and_workspace(world: WebWorld) -> None:
    c = world.clients
    court = c["court"].address
    assert _get(world, "/ui/court").status_code == 401  # sign in first
    # a wallet that is no court is told how courts come to the service
    r = _get(world, "/ui/court?lang=en", "buyer")
    assert r.status_code == 200 and 'id="court-not-registered"' in r.text
    assert "An institution administrator registers courts" in r.text
    c["admin"].post("/admin/courts", {"address": court, "name": "Hangzhou Internet Court"})
    r = _get(world, "/ui/court?lang=zh-Hans", "court")
    assert 'id="court-no-cases"' in r.text and "尚无交由本院审查的案件" in r.text
    # before access the workspace is refused like any case page
    r = _get(world, f"/ui/court/cases/{world.case_id}?lang=en", "court")
    assert r.status_code == 403 and "You take no part in this case." in r.text

    c["admin"].post(f"/cases/{world.case2}/courts", {"court": court})
    r = _get(world, "/ui/court?lang=en", "court")
    assert r.status_code == 200 and ">Cases given to your court<" in r.text
    assert f'data-case="{world.case2}"' in r.text and world.case_id not in r.text
    assert f'href="/ui/court/cases/{world.case2}?lang=en"' in r.text
    assert "not decided yet" in r.text and 'datetime="20' in r.text

    en = _get(world, f"/ui/court/cases/{world.case2}?lang=en", "court")
    zh = _get(world, f"/ui/court/cases/{world.case2}?lang=zh-Hans", "court")
    for page, words in ((en, ("1. The judicial package", "2. Check the package",
                              "3. Your decision", "Download the judicial package",
                              "Download the package (step 1) before you decide.")),
                        (zh, ("1. 司法确认材料包", "2. 核验材料包", "3. 本院决定",
                              "下载司法确认材料包", "请先下载材料包（第 1 步），再作决定。"))):
        assert page.status_code == 200 and all(w in page.text for w in words), words
        for ident in ('id="package-download"', 'id="check-file"', 'id="check-progress"',
                      'id="package-exports"', 'src="/ui/static/court.js"',
                      'id="court-data"', 'id="whole-record"'):
            assert ident in page.text, ident
    # once the court has a package of the case: listed with a link to its public record
    # (the decision forms offering it are driven in test_web_court.py: no decision is open
    # in this case's stage)
    digest, manifest = "ab" * 32, "0x" + "cd" * 32
    record_package_download(world, court, world.case2, manifest, digest)
    page = _get(world, f"/ui/court/cases/{world.case2}?lang=zh-Hans", "court").text  # type: ignore[assignment]
    assert f'href="/verify/{digest}?lang=zh-Hans"' in page and manifest in page  # type: ignore[operator]
    assert 'id="package-first"' not in page and 'id="package-none"' not in page  # type: ignore[operator]
    # the case page leads the court to its workspace; a party sees no such link
    r = _get(world, f"/ui/cases/{world.case2}?lang=en", "court")
    assert f'href="/ui/court/cases/{world.case2}?lang=en"' in r.text
    assert 'id="court-workspace"' not in _get(world, f"/ui/cases/{world.case2}", "buyer").text
    # parties, neutrals and strangers have no court workspace; no case, no page
    for who in ("buyer", "seller", "stranger", "admin"):
        r = _get(world, f"/ui/court/cases/{world.case2}?lang=en", who)
        assert r.status_code == 403 and 'id="package-download"' not in r.text, who
    assert _get(world, "/ui/court/cases/0x" + "ab" * 32, "court").status_code == 404
    assert world.case2 not in _get(world, "/ui/court", "buyer").text


def test_the_pages_reach_the_package_and_the_checks_through_the_proxy(world: WebWorld) -> None:
    c = world.clients
    court = c["court"].address
    c["admin"].post("/admin/courts", {"address": court, "name": "Hangzhou Internet Court"})
    c["admin"].post(f"/cases/{world.case2}/courts", {"court": court})
    cookies = {COOKIE: world.token("court")}
    # case 2 has no result yet: no package, and the answer says why (the page's words)
    r = httpx.get(f"{world.base}/ui/api/cases/{world.case2}/judicial-package",
                  cookies=cookies, timeout=30)
    assert r.status_code == 409 and r.json()["code"] == "wrong_stage"
    page = _get(world, f"/ui/court/cases/{world.case2}?lang=en", "court").text
    assert '"court_err_wrong_stage": "The case has no result to confirm yet' in page
    # the checks: a file that is no package is a verdict (nothing checked), not a refusal
    up = httpx.post(f"{world.base}/ui/api/verify", cookies=cookies, timeout=60,
                    headers={"X-Chainarb-UI": "1"},
                    files={"file": ("notes.zip", b"not a zip", "application/zip")})
    assert up.status_code == 200, up.text
    v = up.json()
    assert v["runBy"] == "service" and v["outcome"] == "unreadable"
    assert all(ch["status"] != "passed" for ch in v["checks"]) and v["yourPackages"] == []
    # writes through the proxy need the page's header (no cross-site form posts)
    bare = httpx.post(f"{world.base}/ui/api/verify", cookies=cookies, timeout=30,
                      files={"file": ("p.zip", b"x", "application/zip")})
    assert bare.status_code == 403 and bare.json()["code"] == "access_denied"
    # the proxy forwards the API's paths for pages, not others
    other = httpx.get(f"{world.base}/ui/api/admin/tick", cookies=cookies, timeout=30)
    assert other.status_code == 404
