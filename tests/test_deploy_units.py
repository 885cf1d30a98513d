"""The systemd units in deploy/systemd/ pass `systemd-analyze verify` with no complaint, run a
command the CLI has, and keep their hardening (docs/deploy.md)."""

from __future__ import annotations

import configparser
import shutil
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
UNITS = ROOT / "deploy" / "systemd"
INSTALLED = "/opt/chainarb/.venv/bin/chainarb"  # where docs/deploy.md installs the venv
HARDENING = {
    "NoNewPrivileges": "yes", "ProtectSystem": "strict", "ReadWritePaths": "/var/lib/chainarb",
    "PrivateTmp": "yes", "ProtectHome": "yes", "PrivateDevices": "yes",
    "RestrictSUIDSGID": "yes", "CapabilityBoundingSet": "", "UMask": "0077",
}


def _verify(folder: Path, *units: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(["/usr/bin/systemd-analyze", "verify", *(f"./{u}" for u in units)],
                          cwd=folder, capture_output=True, text=True, timeout=120, check=False)


def _copy_with_local_binary(tmp_path: Path) -> Path:
    """The units with ExecStart pointed at this venv's `chainarb` (the installed path does
    not exist on a test machine; everything else is verified as shipped)."""
    chainarb = Path(sys.executable).parent / "chainarb"
    assert chainarb.is_file()
    folder = tmp_path / "units"
    folder.mkdir()
    for unit in UNITS.iterdir():
        text = unit.read_text()
        (folder / unit.name).write_text(text.replace(INSTALLED, str(chainarb)))
    return folder


def _service() -> configparser.ConfigParser:
    cp = configparser.ConfigParser(strict=False, interpolation=None, delimiters=("=",))
    cp.optionxform = str  # type: ignore[assignment,method-assign]
    cp.read(UNITS / "chainarb@.service")
    return cp


def test_units_verify_clean(tmp_path: Path) -> None:
    assert sorted(u.name for u in UNITS.iterdir()) == ["chainarb.target", "chainarb@.service"]
    folder = _copy_with_local_binary(tmp_path)
    done = _verify(folder, "chainarb@8001.service", "chainarb.target")
    assert done.returncode == 0, done.stderr
    assert done.stdout.strip() == "" and done.stderr.strip() == "", done.stdout + done.stderr


def test_verify_reports_a_broken_unit(tmp_path: Path) -> None:
    """The check can fail: a misspelt option and a missing binary are reported."""
    folder = _copy_with_local_binary(tmp_path)
    unit = folder / "chainarb@.service"
    unit.write_text(unit.read_text().replace("NoNewPrivileges=yes", "NoNewPrivilege=yes"))
    done = _verify(folder, "chainarb@8001.service")
    assert "Unknown key 'NoNewPrivilege'" in done.stderr, done.stderr
    shipped = tmp_path / "shipped"
    shutil.copytree(UNITS, shipped)
    done = _verify(shipped, "chainarb@8001.service")
    assert done.returncode != 0 and f"{INSTALLED} is not executable" in done.stderr, done.stderr


def test_unit_runs_serve_and_restarts_it() -> None:
    svc = _service()["Service"]
    assert svc["ExecStart"] == f"{INSTALLED} serve"
    assert svc["Restart"] == "always"
    assert "CHAINARB_PORT=%i" in svc["Environment"]  # one instance per port behind the proxy
    assert svc["EnvironmentFile"] == "/etc/chainarb/chainarb.env"
    done = subprocess.run([str(Path(sys.executable).parent / "chainarb"), "serve", "--help"],
                          capture_output=True, text=True, timeout=120, check=False)
    assert done.returncode == 0, done.stderr


def test_unit_keeps_its_hardening() -> None:
    svc = _service()["Service"]
    assert {k: svc.get(k) for k in HARDENING} == HARDENING
    assert svc["User"] == "chainarb" and svc["Group"] == "chainarb"
