"""tests/support/cli_fork.py runs ``chainarb`` as the installed command does: the same exit
code, stdout and stderr as a fresh ``chainarb`` process, for a failed check, a usage error,
a file that cannot be read and a pass, in both languages."""

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
    runs = [("en", ["verify", "--json", str(unsafe)]), ("zh", ["verify", "--bogus"]),
            ("en", ["verify", str(tmp_path / "missing.zip")]),
            ("zh", ["evidence", "hash", "file.txt"])]
    with CliForks() as cli:
        codes = []
        for lang, argv in runs:
            env = {"PATH": os.environ["PATH"], "HOME": str(tmp_path), "COLUMNS": "120",
                   "CHAINARB_LANG": lang, "CHAINARB_DATA_DIR": str(tmp_path / "data")}
            fresh = subprocess.run([str(BIN), *argv], capture_output=True, text=True,
                                   cwd=tmp_path, env=env, timeout=120)
            forked = cli.run(argv, tmp_path, env=env)
            assert (forked.returncode, forked.stdout, forked.stderr) == (
                fresh.returncode, fresh.stdout, fresh.stderr), (lang, argv)
            codes.append(forked.returncode)
    # a failed check, a usage error, an unreadable file, a pass
    assert codes == [1, 2, 4, 0]
