"""The `chainarb` entry point exists and lists its command groups."""

import subprocess
import sys
from pathlib import Path

BIN = Path(sys.executable).parent / "chainarb"


def test_chainarb_help_lists_commands() -> None:
    out = subprocess.run([str(BIN), "--help"], capture_output=True, text=True, check=True)
    assert "evidence" in out.stdout
    assert "demo" in out.stdout
