"""`chainarb` starts without the heavy libraries: its help and its usage errors answer before
web3, eth_account, the TSA client or the service load (each of which costs a second or more
of CPU per process; every CLI test and every court's first `--help` pays it otherwise).

Each case runs the real entry point (`evidence.cli.main`) in a fresh interpreter and reports
what it loaded, beside the exit code and the words the user sees.
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from evidence.judicial.cli import EXIT_OK, EXIT_UNREADABLE, EXIT_USAGE, exit_code

HEAVY = ("web3", "eth_account", "eth_abi", "httpx", "reportlab", "sqlalchemy", "sqlmodel",
         "fastapi", "uvicorn", "rich")
PROBE = """
import json, sys
args, watched = json.loads(sys.argv[1]), set(json.loads(sys.argv[2]))
sys.argv = ["chainarb", *args]
from evidence.cli import main
code = 0
try:
    main()
except SystemExit as exc:
    code = exc.code or 0
heavy = sorted({m.split(".")[0] for m in sys.modules} & watched)
print(json.dumps({"code": code, "heavy": heavy}), file=sys.stderr)
"""


def _start(args: list[str], tmp_path: Path, lang: str = "en") -> tuple[int, list[str], str]:
    env = {"PATH": os.environ["PATH"], "HOME": "/tmp", "COLUMNS": "160",
           "CHAINARB_LANG": lang, "CHAINARB_DATA_DIR": str(tmp_path / "none")}
    r = subprocess.run([sys.executable, "-c", PROBE, json.dumps(args), json.dumps(HEAVY)],
                       capture_output=True, text=True, env=env, timeout=120)
    *said, probe = r.stderr.rstrip("\n").split("\n")
    result = json.loads(probe)
    return result["code"], result["heavy"], "\n".join(said)


@pytest.mark.parametrize("args", [["--help"], ["verify", "--help"], ["evidence", "--help"],
                                  ["log", "--help"]], ids=" ".join)
def test_help_loads_no_heavy_library(args: list[str], tmp_path: Path) -> None:
    code, heavy, _ = _start(args, tmp_path)
    assert code == EXIT_OK
    assert heavy == ["rich"]  # typer draws the help with rich; nothing else


def test_usage_errors_answer_before_the_library_loads(tmp_path: Path) -> None:
    missing = tmp_path / "nope.zip"
    code, heavy, said = _start(["verify", str(missing)], tmp_path)
    assert (code, heavy) == (EXIT_UNREADABLE, [])
    assert said == f"{missing}: no such file. Give the judicial package (.zip)."
    code, heavy, said = _start(["verify", str(missing), "--tsa-cert", str(tmp_path / "c.pem")],
                               tmp_path, lang="zh")
    assert (code, heavy) == (EXIT_USAGE, [])
    assert said.startswith(f"--tsa-cert {tmp_path / 'c.pem'}：文件不存在。")
    code, heavy, said = _start(["verify", str(missing), "--rpc", "ftp://x"], tmp_path)
    assert (code, heavy) == (EXIT_USAGE, [])
    assert said.startswith("--rpc: expected an http(s) JSON-RPC URL")
    code, heavy, said = _start(["evidence", "hash", str(missing)], tmp_path)
    assert (code, heavy) == (EXIT_USAGE, [])
    assert str(missing) in said


def test_every_outcome_has_its_exit_code() -> None:
    """`exit_code` maps outcomes by value (the verifier is not imported to start the CLI)."""
    from evidence.judicial.verify import Outcome

    class Stub:
        def __init__(self, outcome: Outcome) -> None:
            self.outcome = outcome

    codes = {o: exit_code(Stub(o)) for o in Outcome}  # type: ignore[arg-type]
    assert codes == {Outcome.VERIFIED: 0, Outcome.FAILED: 1, Outcome.NOT_RUN: 3,
                     Outcome.UNREADABLE: 4}
