"""tests/support/cli_fork.py runs ``chainarb`` as the installed command does: the same exit
code, stdout and stderr as a fresh ``chainarb`` process, for a pass, a usage error, a failed
check and a file that cannot be read, in both languages."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.support.cli_fork import CliForks

BIN = Path(sys.executable).parent / "chainarb"


def test_a_forked_run_answers_as_a_fresh_process(tmp_path: Path) -> None:
    unsafe = tmp_path / "unsafe.zip"
    with zipfile.ZipFile(unsafe, "w") as z:
        z.writestr("../evil.txt", b"x")
    (tmp_path / "file.txt").write_bytes(b"evidence\n")
    runs = [["--help"], ["verify", "--json", str(unsafe)], ["verify", "--bogus"],
            ["verify", str(tmp_path / "missing.zip")], ["evidence", "hash", "file.txt"]]
    with CliForks() as cli:
        for lang in ("en", "zh"):
            env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "COLUMNS": "120",
                   "CHAINARB_LANG": lang, "CHAINARB_DATA_DIR": str(tmp_path / "data")}
            for argv in runs:
                fresh = subprocess.run([str(BIN), *argv], capture_output=True, text=True,
                                       cwd=tmp_path, env=env, timeout=120)
                forked = cli.run(argv, tmp_path, env=env)
                assert (forked.returncode, forked.stdout, forked.stderr) == (
                    fresh.returncode, fresh.stdout, fresh.stderr), (lang, argv)
        # the runs compared cover a pass, a failed check, a usage error, an unreadable file
        assert [cli.run(a, tmp_path, env=env).returncode for a in runs] == [0, 1, 2, 4, 0]

