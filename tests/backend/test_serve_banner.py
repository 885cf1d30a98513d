"""What `chainarb serve` prints before it listens (``backend.cli.startup_lines``): where the
pages are, the data dir and the chain, in the operator's language, and no secret."""

from __future__ import annotations

from pathlib import Path

import pytest

from backend.cli import startup_lines
from backend.settings import Settings
from tests.keys import INSTITUTION_KEY

ESCROW = "0x5FbDB2315678afecb367f032d93F642f64180aa3"


def test_embedded_default(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINARB_LANG", "en")
    lines = startup_lines(Settings(data_dir=tmp_path / "d", port=8123), 31_415_926, ESCROW)
    text = "\n".join(lines)
    assert "http://127.0.0.1:8123/ui" in text and "http://127.0.0.1:8123/redoc" in text
    assert str((tmp_path / "d").resolve()) in text
    assert f"embedded chain (id 31415926), escrow {ESCROW}" in text
    monkeypatch.setenv("CHAINARB_LANG", "zh")
    zh = "\n".join(startup_lines(Settings(data_dir=tmp_path / "d"), 31_415_926, ESCROW))
    assert "网页（在此登录）" in zh and "内置链" in zh and "数据目录" in zh


def test_every_interface_and_an_external_node_without_its_secret(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("CHAINARB_LANG", "en")
    settings = Settings(data_dir=tmp_path, host="0.0.0.0", port=9000,
                        chain_rpc_url="https://user:s3cret@rpc.example.org:8545/v3/KEY123?x=1",
                        chain_id=11155111, institution_key=INSTITUTION_KEY,
                        escrow_address=ESCROW, anchor_address=ESCROW,
                        public_url="https://odr.example.org")
    text = "\n".join(startup_lines(settings, 11155111, ESCROW))
    assert "http://127.0.0.1:9000/ui" in text and "0.0.0.0:9000" in text
    assert "https://odr.example.org" in text
    assert "https://rpc.example.org:8545 (id 11155111)" in text
    assert "s3cret" not in text and "KEY123" not in text and "user" not in text
