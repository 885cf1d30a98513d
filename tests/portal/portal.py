"""The Python side of the portal's browser tests: run a scenario of ``tests/portal/`` in
chromium (``run.cjs``) against a live service and hand back what the harness saw.

Every scenario is held to the harness's checks by ``assert_clean``: no request left
loopback, no page with a serious or critical axe-core violation, no page reached and not
checked, no uncaught script error. Screenshots go to the test's tmp dir; the ones
docs/portal.md shows (each role's main page in both languages, the case's steps) are
written to ``docs/portal/screenshots/`` instead when ``CHAINARB_KEEP_SCREENSHOTS=1``.
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path
from typing import Any

import pytest

from tests.backend.web.web_world import find_chromium

HERE = Path(__file__).resolve().parent
REPO = HERE.parents[1]
KEPT = REPO / "docs" / "portal" / "screenshots"


def shots_dir(tmp_path: Path) -> Path:
    """Where a run's screenshots go: the test's tmp dir (the docs' own go to ``keep_dir``)."""
    out = tmp_path / "shots"
    out.mkdir(parents=True, exist_ok=True)
    return out


def keep_dir() -> Path | None:
    """Where the screenshots docs/portal.md shows are written, when kept (module doc)."""
    if os.environ.get("CHAINARB_KEEP_SCREENSHOTS") != "1":
        return None
    KEPT.mkdir(parents=True, exist_ok=True)
    return KEPT


def ensure_cjk_font() -> None:
    """Chinese pages screenshotted without a CJK font show boxes: have one (Debian's
    fonts-wqy-zenhei, which ``scripts/system_packages.sh`` installs)."""
    found = subprocess.run(["fc-list", ":lang=zh"], capture_output=True, text=True,
                           check=False).stdout.strip()
    if not found:
        pytest.fail("no CJK font (fc-list :lang=zh is empty): run scripts/system_packages.sh "
                    "(Debian fonts-wqy-zenhei)")


def run_scenario(name: str, base: str, config: dict[str, Any], out_dir: Path,
                 timeout: int = 600) -> dict[str, Any]:
    """Run ``scenarios/<name>.cjs`` in chromium; its JSON summary (fails on a crash)."""
    ensure_cjk_font()
    keep = keep_dir()
    done = subprocess.run(
        ["node", str(HERE / "run.cjs"), name, base, str(out_dir), json.dumps(config)],
        cwd=REPO, env={**os.environ, "CHROMIUM": find_chromium(),
                       "CHAINARB_PORTAL_KEEP_DIR": str(keep or out_dir)}, capture_output=True,
        text=True, timeout=timeout, check=False)
    lines = done.stdout.strip().splitlines()
    assert lines, f"no output (rc {done.returncode}): {done.stderr[-3000:]}"
    out: dict[str, Any] = json.loads(lines[-1])
    assert done.returncode == 0 and out["error"] is None, (
        f"{out['error']}\nfailures: {out['failures']}\nconsole: {out['console']}\n"
        f"stderr: {done.stderr[-2000:]}")
    return out


def assert_clean(out: dict[str, Any]) -> None:
    """The harness's checks held: loopback only, axe clean, every page checked, no errors."""
    grouped: dict[str, list[str]] = {}
    for f in out["failures"]:
        what = f"{f['kind']}: {f['detail'].split(' — ')[0]}"
        grouped.setdefault(what, []).append(f"{f['who']} {f['where']}: {f['detail'][-300:]}")
    assert out["failures"] == [], "\n".join(
        f"{what}\n    at {len(at)} page(s): {'; '.join(at[:4])}" for what, at in grouped.items())


def assert_screenshots(out: dict[str, Any], *names: str) -> None:
    """Each named screenshot was taken and is a real PNG of some size."""
    taken = {Path(p).stem: Path(p) for p in out["shots"]}
    for name in names:
        assert name in taken, f"no screenshot {name}: {sorted(taken)}"
        png = taken[name].read_bytes()
        assert png[:8] == b"\x89PNG\r\n\x1a\n" and len(png) > 10_000, name
