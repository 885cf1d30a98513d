"""Which anvil runs the embedded chain: configured, else the checkout's node_modules, else PATH;
none found names what to install (backend/chain/anvil.py)."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.chain import anvil


def _program(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text("#!/bin/sh\n")
    path.chmod(0o755)
    return path


@pytest.fixture
def dirs(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> dict[str, Path]:
    """A working directory, a checkout and a PATH directory, all empty at first."""
    d = {name: tmp_path / name for name in ("cwd", "checkout", "bin")}
    for path in d.values():
        path.mkdir()
    monkeypatch.setattr(anvil, "_CHECKOUT", d["checkout"])
    return d


def _find(dirs: dict[str, Path], **env: str) -> Path | None:
    return anvil.find_anvil({"PATH": str(dirs["bin"]), **env}, cwd=dirs["cwd"])


def test_node_modules_first_then_path(dirs: dict[str, Path]) -> None:
    assert _find(dirs) is None
    on_path = _program(dirs["bin"] / "anvil")
    assert _find(dirs) == on_path
    checkout = _program(dirs["checkout"] / "node_modules" / ".bin" / "anvil")
    assert _find(dirs) == checkout
    here = _program(dirs["cwd"] / "node_modules" / ".bin" / "anvil")
    assert _find(dirs) == here


def test_configured_wins_and_is_never_replaced(dirs: dict[str, Path]) -> None:
    _program(dirs["cwd"] / "node_modules" / ".bin" / "anvil")
    mine = _program(dirs["bin"] / "my-anvil")
    assert _find(dirs, CHAINARB_ANVIL=str(mine)) == mine
    assert _find(dirs, CHAINARB_ANVIL="my-anvil") == mine  # a name on PATH
    assert _find(dirs, CHAINARB_ANVIL=str(dirs["bin"] / "gone")) is None


def test_not_executable_is_not_found(dirs: dict[str, Path]) -> None:
    (dirs["bin"] / "anvil").write_text("")
    assert _find(dirs) is None


def test_the_message_names_what_to_install() -> None:
    assert "@foundry-rs/anvil-linux-amd64" in anvil.missing_anvil({})
    assert "CHAINARB_CHAIN_RPC_URL" in anvil.missing_anvil({})
    assert anvil.missing_anvil({"CHAINARB_ANVIL": "/x/anvil"}).startswith(
        "CHAINARB_ANVIL=/x/anvil is not a program")
