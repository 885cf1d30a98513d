"""bench/load.py runs and prints its figures (a smoke run: a few clients for a few seconds)."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[3]
CLASSES = ("case view", "case list", "evidence metadata", "signed offer")


@pytest.mark.slow
def test_bench_load_prints_error_rate_and_classes() -> None:
    done = subprocess.run([sys.executable, str(ROOT / "bench" / "load.py"), "--clients", "4",
                           "--seconds", "4", "--baseline-seconds", "1"], cwd=ROOT,
                          capture_output=True, text=True, timeout=300, check=False)
    assert done.returncode == 0, done.stderr[-3000:]
    lines = done.stdout.strip().splitlines()
    assert lines[-1] == "load_error_rate=0.0000", done.stdout  # no error under light load
    rows = {m.group(1): (int(m.group(2)), int(m.group(3)))
            for ln in lines if (m := re.fullmatch(
                r"(case view|case list|evidence metadata|signed offer|all)\s+(\d+)\s+(\d+)"
                r"\s+\d+\.\d\s+\d+\.\d", ln))}
    assert set(rows) == {*CLASSES, "all"}, done.stdout
    assert all(rows[c][0] > 0 and rows[c][1] == 0 for c in CLASSES), rows
    assert rows["all"][0] == sum(rows[c][0] for c in CLASSES)
    assert re.search(r"^baseline GET /health: [\d,]+\.\d requests/s \(\d+ in [\d.]+ s, 0 errors\)$",
                     done.stdout, re.M), done.stdout
    assert re.search(r"^requests/s: [\d,]+\.\d \(\d+ in [\d.]+ s\)$", done.stdout, re.M)
    assert re.search(r"^server RSS: [\d,]+\.\d MiB before the load, [\d,]+\.\d MiB after "
                     r"\(growth [+-][\d,]+\.\d MiB\)$", done.stdout, re.M), done.stdout
