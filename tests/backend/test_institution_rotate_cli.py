"""`chainarb institution rotate-key` on the embedded default: the escrow follows, the data
dir's key file is replaced (0600, nothing left behind), the retired key is refused at the
next start and the new one starts; a configured key must come from the operator's file."""

from __future__ import annotations

import json
import os
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from eth_account import Account

from backend.api.app import create_app
from backend.chain import EscrowContract
from backend.gateway import DeploymentMismatchError
from backend.settings import Settings

BIN = Path(sys.executable).parent / "chainarb"


def _env(data: Path, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith("CHAINARB_") and k.upper() != "DATABASE_URL"}
    return env | {"CHAINARB_DATA_DIR": str(data)} | extra


def _rotate(data: Path, *args: str, **extra: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run([str(BIN), "institution", "rotate-key", *args], env=_env(data, **extra),
                          capture_output=True, text=True, timeout=300, cwd=data.parent)


def _address(path: Path) -> str:
    return str(Account.from_key(path.read_text().strip()).address)


def test_rotate_key_on_the_embedded_default(tmp_path: Path) -> None:
    data = tmp_path / "data"
    # a fresh data dir: deploys with a generated key, then rotates
    first = _rotate(data, CHAINARB_LANG="en")
    assert first.returncode == 0, first.stderr
    out = json.loads(first.stdout.strip().splitlines()[-1])
    key_file = data / "institution.key"
    assert _address(key_file) == out["new"] != out["old"]
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert not [p.name for p in data.iterdir() if p.name.startswith(".institution.key")]
    assert f"The institution key {out['old']} handed over to {out['new']}" in first.stdout
    second_key = key_file.read_text().strip()

    second = _rotate(data, CHAINARB_LANG="zh")  # the rotated data dir starts, rotates again
    assert second.returncode == 0, second.stderr
    again = json.loads(second.stdout.strip().splitlines()[-1])
    assert f"机构密钥 {again['old']} 已移交给 {again['new']}" in second.stdout
    assert again["old"] == out["new"] and _address(key_file) == again["new"]
    retired_key = second_key

    settings = Settings(data_dir=data)
    app = create_app(settings, background=False)  # the current key starts the service
    try:
        escrow: EscrowContract = app.state.ctx.service.port.escrow
        assert escrow.institution_of(out["old"]) == again["new"]
        assert escrow.is_admin(again["new"]) and not escrow.is_admin(out["old"])
    finally:
        app.state.ctx.close()
    with pytest.raises(DeploymentMismatchError, match=f"was rotated to {again['new']}"):
        create_app(Settings(data_dir=data, institution_key=retired_key), background=False)


def test_a_configured_key_needs_the_new_key_file(tmp_path: Path) -> None:
    data = tmp_path / "data"
    key = "0x" + bytes(Account.create().key).hex()
    r = _rotate(data, CHAINARB_INSTITUTION_KEY=key)
    assert r.returncode == 2
    assert "--new-key-file" in r.stderr and key[2:] not in r.stderr + r.stdout


def test_a_loose_new_key_file_is_refused(tmp_path: Path) -> None:
    data = tmp_path / "data"
    loose = tmp_path / "new.key"
    loose.write_text("0x" + bytes(Account.create().key).hex() + "\n")
    loose.chmod(0o644)
    r = _rotate(data, "--new-key-file", str(loose))
    assert r.returncode == 2
    assert "chmod 600" in r.stderr
    assert not (data / "institution.key").exists()  # nothing started, nothing generated
