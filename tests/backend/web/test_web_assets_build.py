"""The committed static files are exactly what scripts/build_web_assets.mjs makes from the
pinned npm packages (the wheel ships them; nobody edits a bundle by hand), and the check
notices a file that differs."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

pytestmark = pytest.mark.node

ROOT = Path(__file__).resolve().parents[3]
BUILD = ROOT / "scripts" / "build_web_assets.mjs"
STATIC = ROOT / "backend" / "web" / "static"
BUILT = ("wallet.js", "swagger-ui-bundle.js", "swagger-ui.css", "redoc.standalone.js")


def _check(static: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["node", str(BUILD), "--check", "--static", str(static)], cwd=ROOT,
                          capture_output=True, text=True, timeout=120, check=False)


def test_committed_bundles_are_the_build_output() -> None:
    done = _check(STATIC)
    assert done.returncode == 0, done.stderr


def test_a_changed_or_missing_file_is_reported(tmp_path: Path) -> None:
    for name in BUILT:
        shutil.copy(STATIC / name, tmp_path / name)
    wallet = tmp_path / "wallet.js"
    wallet.write_bytes(wallet.read_bytes().replace(b"chainarbWallet", b"chainarbWallex", 1))
    (tmp_path / "redoc.standalone.js").unlink()
    done = _check(tmp_path)
    assert done.returncode == 1
    assert done.stderr.strip().endswith("wallet.js, redoc.standalone.js"), done.stderr
    # The build writes them back; then the check passes.
    subprocess.run(["node", str(BUILD), "--static", str(tmp_path)], cwd=ROOT, check=True,
                   capture_output=True, timeout=120)
    assert _check(tmp_path).returncode == 0
    assert {p.name for p in tmp_path.iterdir()} == set(BUILT)
