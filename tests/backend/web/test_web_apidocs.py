"""``/docs`` and ``/redoc`` work offline: in chromium with every request not to loopback
aborted (apidocs.cjs), Swagger UI and ReDoc render the service's OpenAPI document from the
copies the service serves (backend/web/apidocs.py, scripts/build_web_assets.mjs)."""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest

from tests.backend.web.web_world import WebWorld, find_chromium

pytestmark = pytest.mark.node

HERE = Path(__file__).parent
ROOT = HERE.parents[2]


def test_swagger_ui_and_redoc_render_with_the_network_blocked(world: WebWorld,
                                                               tmp_path: Path) -> None:
    chromium = find_chromium()
    out_dir = HERE / "screenshots" if os.environ.get("CHAINARB_KEEP_SCREENSHOTS") else tmp_path
    out_dir.mkdir(exist_ok=True)
    done = subprocess.run(["node", str(HERE / "apidocs.cjs"), world.base, str(out_dir)],
                          cwd=ROOT, env={**os.environ, "CHROMIUM": chromium},
                          capture_output=True, text=True, timeout=180, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    out = json.loads(done.stdout.strip().splitlines()[-1])
    assert out["blocked"] == []
    operations = sum(len(v) for v in world.app.openapi()["paths"].values())
    assert out["swagger"]["title"].startswith("chainarb")
    assert out["swagger"]["operations"] == operations
    assert out["redoc"]["title"].startswith("chainarb") and out["redoc"]["operations"] > 0
    # axe-core finds nothing serious or critical on /docs, an operation opened too: nothing
    # focusable in Swagger UI's toggle buttons (deep links off), readable colours (apidocs.css).
    assert out["swagger"]["linksInToggles"] == 0
    assert out["swagger"]["axe"] == [] and out["swagger"]["axeOpen"] == [], out["swagger"]
    assert not [m for m in out["console"] if m.startswith(("error", "pageerror"))], out
