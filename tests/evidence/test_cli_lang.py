"""Every `chainarb` message and option help exists in English and Simplified Chinese.

Three nets: (1) every message catalog entry has a Chinese half with the same placeholders;
(2) every command and option help carries Chinese; (3) the real entry point, run with
CHAINARB_LANG=zh on each command's --help and on each error path, prints no message line
without Chinese (library details may follow, labelled, inside a Chinese sentence).
"""

from __future__ import annotations

import os
import re
import string
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import typer

import backend.cli  # noqa: F401  (registers the service's catalog)
import evidence.judicial.cli  # noqa: F401
from evidence._i18n import CATALOGS
from evidence.cli import _load_plugins, app
from tests.support.cli_fork import CliForks

CJK = re.compile(r"[\u4e00-\u9fff]")


def _fields(text: str) -> set[str]:
    return {f for _, f, _, _ in string.Formatter().parse(text) if f}


def test_every_message_has_a_chinese_half_with_the_same_placeholders() -> None:
    names = {c.name for c in CATALOGS}
    assert {"evidence", "verify", "service"} <= names
    for catalog in CATALOGS:
        for key, (en, zh) in catalog.messages.items():
            assert en.strip() and zh.strip(), (catalog.name, key)
            assert CJK.search(zh) or not re.search(r"[A-Za-z]{3,}", zh), (catalog.name, key, zh)
            assert _fields(en) == _fields(zh), (catalog.name, key)


def _commands() -> list[tuple[list[str], Any]]:
    _load_plugins()
    out: list[tuple[list[str], Any]] = []

    def walk(cmd: Any, path: list[str]) -> None:
        out.append((path, cmd))
        for name, sub in getattr(cmd, "commands", {}).items():
            walk(sub, [*path, name])

    walk(typer.main.get_command(app), [])
    return out


def test_every_command_and_option_help_has_chinese() -> None:
    commands = _commands()
    assert len(commands) >= 14  # chainarb, verify, demo, serve, evidence + its 10 commands
    for path, cmd in commands:
        assert CJK.search(cmd.help or ""), ("command", path)
        for param in cmd.params:
            if param.name == "help":
                continue
            assert CJK.search(getattr(param, "help", None) or ""), ("option", path, param.name)


def _base() -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": "/tmp", "CHAINARB_LANG": "zh",
            "COLUMNS": "200"}


@pytest.fixture(scope="module")
def cli() -> Iterator[CliForks]:
    """The real entry point, each run a process of its own with the run's environment,
    forked from one that imported the command (and web3, for the runs that open a chain)
    once in the same environment (tests/support/cli_fork.py, held to fresh processes by
    tests/test_cli_fork.py)."""
    with CliForks(env=_base(), preload=("web3",)) as forks:
        yield forks


def _zh(cli: CliForks, args: list[str], data_dir: Path, **env: str
        ) -> subprocess.CompletedProcess[str]:
    base = {**_base(), "CHAINARB_DATA_DIR": str(data_dir)}
    return cli.run(args, Path.cwd(), env={**base, **env}, timeout=180)


def test_help_of_every_command_in_chinese(cli: CliForks, tmp_path: Path) -> None:
    paths = [p for p, _ in _commands()]
    runs = [_zh(cli, [*p, "--help"], tmp_path) for p in paths]
    for path, r in zip(paths, runs, strict=True):
        assert r.returncode == 0, (path, r.stderr)
        assert CJK.search(r.stdout), path


def test_error_paths_in_chinese_have_no_english_only_line(cli: CliForks, tmp_path: Path
                                                         ) -> None:
    f = tmp_path / "f.txt"
    f.write_bytes(b"x\n")
    key = tmp_path / "k.key"
    key.write_text("0x" + "11" * 32 + "\n")
    enc = tmp_path / "f.enc"
    enc.write_bytes(b"CHAINARB" + b"\0" * 100)
    (tmp_path / "f.enc.keys.json").write_text("{}")
    record = tmp_path / "r.json"
    record.write_text('{"format": "chainarb.record"}')
    proof = tmp_path / "p.json"
    proof.write_text("{}")
    calls: list[tuple[list[str], dict[str, str]]] = [
        (["evidence", "cid", str(tmp_path / "missing")], {}),
        (["evidence", "hash", str(tmp_path)], {}),
        (["evidence", "hash", str(f), "--salt", "0x12"], {}),
        (["evidence", "hash", str(f), "--salt", "00" * 32, "--commit"], {}),
        (["evidence", "sign", str(record)], {}),
        (["evidence", "sign", str(record), "--key-file", str(f)], {}),
        (["evidence", "keygen", "-o", str(key)], {}),
        (["evidence", "encrypt", str(f), "--to", "0x12", "-o", str(tmp_path / "o")], {}),
        (["evidence", "decrypt", str(enc), "--key", str(key), "-o", str(tmp_path / "o")], {}),
        (["evidence", "decrypt", str(enc), "--key", str(f), "-o", str(tmp_path / "o")], {}),
        (["evidence", "cat", "Qm-not-a-cid", "--store", str(tmp_path / "s")], {}),
        (["evidence", "add", str(f), "--api", "http://127.0.0.1:9"], {}),
        (["evidence", "add", str(f), "--store", str(tmp_path), "--api", "http://x"], {}),
        (["evidence", "prove", "--batch", str(f), "--contract", "0x" + "00" * 20,
          "--chain-id", "1"], {}),
        (["evidence", "verify", str(f), "--proof", str(proof)], {}),
        (["evidence", "verify", str(f), "--proof", str(proof), "--offline"], {}),
        (["evidence", "verify", str(f), "--proof", str(proof), "--rpc", "nope"], {}),
        (["verify", str(f), "--tsa-cert", str(tmp_path / "none.pem")], {}),
        (["verify", str(f), "--rpc", "nope"], {}),
        (["verify", str(tmp_path / "none.zip")], {}),
        (["verify", str(f)], {}),
        (["verify", str(f), "--receipts", str(tmp_path / "no-receipts")], {}),
        (["monitor", "--case", "42", "--service", "http://127.0.0.1:9"], {}),
        (["monitor", "--case", "0x" + "ab" * 32, "--service", "http://127.0.0.1:9",
          "--state", str(tmp_path / "monitor.json")], {}),
        (["verify-absence", str(f)], {}),
        (["verify-absence", str(f), "--institution", "0x" + "11" * 20], {}),
        (["serve"], {"DATABASE_URL": "mysql://db", "CHAINARB_PORT": "0"}),
        (["demo"], {"CHAINARB_CHAIN_ID": "5"}),
    ]
    runs = [_zh(cli, args, tmp_path / "data", **env) for args, env in calls]
    for (args, _env), r in zip(calls, runs, strict=True):
        assert r.returncode != 0, args
        assert "Traceback" not in r.stderr, (args, r.stderr)
        # click's own usage errors (a missing option) are English by design of click; ours
        # are the messages after them
        lines = [ln for ln in (r.stderr + r.stdout).splitlines()
                 if ln.strip() and not ln.startswith(("Usage:", "Try ", "╭", "╰", "│ Missing"))]
        assert lines, args
        for line in lines:
            assert CJK.search(line) or not re.search(r"[A-Za-z]{4,}", line), (args, line)
