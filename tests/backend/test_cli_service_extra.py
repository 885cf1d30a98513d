"""An install without the `[service]` extra: `chainarb demo` and `chainarb serve` say what to
install (exit 3, could not run), `chainarb verify` and `chainarb evidence` still work.

Why simulated: a fresh venv with the base dependencies took 2.5 min on the shared test
machine. Instead the real `chainarb` entry point runs with a `sitecustomize` that makes every
module of the service extra's distributions (read from pyproject.toml) unimportable, exactly
as if pip had never installed them. (Checked by hand on 2026-12-04 with `pip install .` in
a new venv: the same messages.)
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import tomllib
from importlib.metadata import packages_distributions
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent / "chainarb"
INSTALL = "pip install 'chainarb[service]'"


def _service_modules() -> set[str]:
    """Top-level modules of the distributions the `[service]` extra adds (with `[render]`,
    which it includes: the base install verifies without reportlab and qrcode)."""
    extras = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"]
    wanted = {re.split(r"[\[<>=!~ ;]", req, maxsplit=1)[0].lower().replace("_", "-")
              for req in extras["service"] + extras["render"]} - {"chainarb"}
    modules = {mod for mod, dists in packages_distributions().items()
               if any(d.lower().replace("_", "-") in wanted for d in dists)}
    assert {"fastapi", "uvicorn", "sqlmodel", "pydantic_settings", "reportlab", "qrcode",
            "eth_tester"} <= modules
    return modules


@pytest.fixture(scope="module")
def without_service(tmp_path_factory: pytest.TempPathFactory) -> dict[str, str]:
    site = tmp_path_factory.mktemp("no-service-extra")
    (site / "sitecustomize.py").write_text(
        "import importlib.abc, sys\n"
        f"BLOCKED = {sorted(_service_modules())!r}\n"
        "class _NotInstalled(importlib.abc.MetaPathFinder):\n"
        "    def find_spec(self, name, path=None, target=None):\n"
        "        if name.split('.')[0] in BLOCKED:\n"
        "            raise ModuleNotFoundError(f'No module named {name!r}', name=name)\n"
        "        return None\n"
        "sys.meta_path.insert(0, _NotInstalled())\n"
    )
    data = tmp_path_factory.mktemp("data")
    (data / "chain").mkdir()  # as if a service had run here: verify asks the backend's chain
    return {"PATH": os.environ["PATH"], "HOME": "/tmp", "PYTHONPATH": str(site),
            "CHAINARB_DATA_DIR": str(data)}


def _run(env: dict[str, str], *args: str, lang: str = "en") -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), *args], capture_output=True, text=True, timeout=180,
                          env={**env, "CHAINARB_LANG": lang})


def test_the_blocker_really_hides_the_service(without_service: dict[str, str]) -> None:
    r = subprocess.run([sys.executable, "-c", "import fastapi"], capture_output=True,
                       text=True, env=without_service, timeout=60)
    assert r.returncode == 1 and "ModuleNotFoundError" in r.stderr


@pytest.mark.parametrize("command", ["serve", "demo"])
def test_service_commands_say_how_to_install_the_extra(
    without_service: dict[str, str], command: str
) -> None:
    en = _run(without_service, command)
    assert en.returncode == 3, en.stderr
    assert re.fullmatch(
        rf"`chainarb {command}` needs the service, which is not installed \(missing Python "
        rf"package '[a-z_]+'\)\. Install it with: {re.escape(INSTALL)}\n", en.stderr), en.stderr
    assert en.stdout == ""
    zh = _run(without_service, command, lang="zh")
    assert zh.returncode == 3
    assert zh.stderr.startswith(f"`chainarb {command}` 需要服务组件，但尚未安装（缺少 Python 包 ")
    assert zh.stderr.rstrip().endswith(f"请安装：{INSTALL}")
    assert "Traceback" not in en.stderr + zh.stderr


def test_verify_and_evidence_work_without_the_extra(
    without_service: dict[str, str], tmp_path: Path
) -> None:
    f = tmp_path / "hello.txt"
    f.write_bytes(b"hello\n")
    cid = _run(without_service, "evidence", "cid", str(f))
    assert (cid.returncode, cid.stdout) == (0, "QmZULkCELmmk5XNfCgTnCyFgAVxBRBXyDHGGMVoLFLiXEN\n")
    verify = _run(without_service, "verify", str(f))  # the backend's chain cannot load: none
    assert verify.returncode == 4, verify.stdout + verify.stderr
    assert "cannot be read" in verify.stdout and "Traceback" not in verify.stderr


def test_building_a_package_names_the_render_extra(without_service: dict[str, str]) -> None:
    code = ("import evidence.judicial.build as b\n"  # importable: only building draws
            "try:\n    b._renderers()\nexcept ModuleNotFoundError as exc:\n    print(exc)\n")
    r = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                       env=without_service, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "pip install 'chainarb[render]'" in r.stdout
