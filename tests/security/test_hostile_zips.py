"""Hostile ZIPs handed to `chainarb verify`, run as a court runs it: a real process (each
forked from one that imported the command once: tests/support/cli_fork.py).

Every archive below is a readable ZIP built to harm whoever unpacks it (zip-slip,
absolute paths, links and devices, duplicate and case-folded names, bombs by ratio, by
declared size and by overlapping entries, deep nesting, too many members, names whose
meaning depends on the unzip tool, encryption, unknown compression). docs/judicial-
package.md promises for each: the `archive` check fails naming the entry and the rule,
every other check is skipped ("the archive is unsafe to open"), and the exit code is 1
(a check failed). Nothing is written outside the verifier's own temporary folder.
"""

from __future__ import annotations

import json
import os
import stat
import struct
import tempfile
import uuid
import warnings
import zipfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from tests.support.cli_fork import CliForks

EXIT_FAILED = 1
EXIT_UNREADABLE = 4


def _zip(path: Path, entries: list[tuple[str | zipfile.ZipInfo, bytes]],
         method: int = zipfile.ZIP_DEFLATED) -> Path:
    with warnings.catch_warnings():  # zipfile warns of the duplicates we mean to write
        warnings.simplefilter("ignore", UserWarning)
        with zipfile.ZipFile(path, "w", method) as zf:
            for name, data in entries:
                zf.writestr(name, data)
    return path


def _info(name: str, kind: int) -> zipfile.ZipInfo:
    info = zipfile.ZipInfo(name, date_time=(1980, 1, 1, 0, 0, 0))
    info.create_system = 3
    info.external_attr = (kind | 0o644) << 16
    return info


def _patch(path: Path, fn: Callable[[bytearray], None]) -> Path:
    raw = bytearray(path.read_bytes())
    fn(raw)
    path.write_bytes(bytes(raw))
    return path


def _central(raw: bytearray, i: int = 0) -> int:
    """Offset of the i-th central directory header."""
    at = raw.find(b"PK\x01\x02")
    for _ in range(i):
        at = raw.find(b"PK\x01\x02", at + 4)
    return at


def _declared_huge(p: Path, evil: str) -> Path:
    _zip(p, [("manifest.json", b"{}" * 50)])

    def fn(raw: bytearray) -> None:
        struct.pack_into("<I", raw, _central(raw) + 24, 0xFFFF_FFF0)  # uncompressed size

    return _patch(p, fn)


def _overlapping(p: Path, evil: str) -> Path:
    """Two central-directory entries pointing at one local file: one stored blob, many
    files (the "overlapping files" bomb)."""
    _zip(p, [("a.txt", b"\0" * 1000), ("b.txt", b"\0" * 1000)])

    def fn(raw: bytearray) -> None:
        struct.pack_into("<I", raw, _central(raw, 1) + 42, 0)  # b.txt's local header = a's

    return _patch(p, fn)


def _cp437_name(p: Path, evil: str) -> Path:
    """A name with bytes >= 0x80 and no UTF-8 flag: CP437 to Python, something else to
    another tool."""
    _zip(p, [("AAAA.txt", b"x")])
    return _patch(p, lambda raw: raw.__setitem__(slice(None), raw.replace(
        b"AAAA", b"\x82\xa0\xd1\xe9")))


def _bad_utf8_flagged(p: Path, evil: str) -> Path:
    """A name flagged UTF-8 whose bytes are not UTF-8."""
    _cp437_name(p, evil)

    def fn(raw: bytearray) -> None:
        for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = raw.find(sig)
            struct.pack_into("<H", raw, at + off, struct.unpack_from("<H", raw, at + off)[0]
                             | 0x800)

    return _patch(p, fn)


def _encrypted(p: Path, evil: str) -> Path:
    _zip(p, [("manifest.json", b"{}")])

    def fn(raw: bytearray) -> None:
        for sig, off in ((b"PK\x03\x04", 6), (b"PK\x01\x02", 8)):
            at = raw.find(sig)
            struct.pack_into("<H", raw, at + off, struct.unpack_from("<H", raw, at + off)[0]
                             | 0x1)

    return _patch(p, fn)


def _many(p: Path, evil: str) -> Path:
    with zipfile.ZipFile(p, "w", zipfile.ZIP_STORED) as zf:
        for i in range(20_001):
            zf.writestr(f"f/{i}", b"")
    return p


# (id, build(path, evil_name) -> zip, the archive check's reason must contain this)
HOSTILE: list[tuple[str, Callable[[Path, str], Path], str]] = [
    ("zip-slip-parent", lambda p, e: _zip(p, [(f"../{e}", b"pwned")]),
     "component (path traversal)"),
    ("zip-slip-nested", lambda p, e: _zip(p, [(f"evidence/1/../../../{e}", b"pwned")]),
     "component (path traversal)"),
    ("zip-slip-directory-entry", lambda p, e: _zip(p, [("../", b""), (e, b"x")]),
     "component (path traversal)"),
    ("absolute-path", lambda p, e: _zip(p, [(f"/tmp/{e}", b"pwned")]),
     "is an absolute or non-POSIX path"),
    ("windows-drive", lambda p, e: _zip(p, [(f"C:/{e}", b"pwned")]),
     "is an absolute or non-POSIX path"),
    ("backslash-traversal", lambda p, e: _zip(p, [(f"..\\{e}", b"pwned")]),
     "is an absolute or non-POSIX path"),
    ("symlink-entry", lambda p, e: _zip(p, [(_info("evidence", stat.S_IFLNK), b"/etc")]),
     "is a symbolic link; links are refused"),
    ("character-device-entry", lambda p, e: _zip(p, [(_info("dev", stat.S_IFCHR), b"")]),
     "is a device, pipe or socket"),
    ("fifo-entry", lambda p, e: _zip(p, [(_info("pipe", stat.S_IFIFO), b"")]),
     "is a device, pipe or socket"),
    ("duplicate-names", lambda p, e: _zip(p, [("manifest.json", b"{}"),
                                              ("manifest.json", b"[]")]),
     "appears twice (or differs only by case)"),
    ("case-folded-duplicate", lambda p, e: _zip(p, [("SHA256SUMS", b""), ("sha256sums", b"")]),
     "appears twice (or differs only by case)"),
    ("unicode-normalisation-duplicate",
     lambda p, e: _zip(p, [("caf\u00e9.txt", b"1"), ("cafe\u0301.txt", b"2")]),
     "appears twice (or differs only by case)"),
    ("bomb-by-ratio", lambda p, e: _zip(p, [("blocks.car", b"\0" * (40 << 20))]),
     "ratio above 200"),
    ("bomb-by-declared-size", _declared_huge, "ratio above 200"),
    ("bomb-by-overlapping-entries", _overlapping, "overlap"),
    ("too-many-members", _many, "20001 entries; at most 20000 are accepted"),
    ("deeply-nested-directories", lambda p, e: _zip(p, [("d/" * 100 + "f", b"x")]),
     "levels deep; at most 32 are accepted"),
    ("name-too-long", lambda p, e: _zip(p, [("n" * 600, b"x")]),
     "entry name of length 600 (expected 1..512)"),
    ("control-character-in-name", lambda p, e: _zip(p, [("manifest\x1b[2J.json", b"{}")]),
     "has a control character in its name"),
    ("non-utf8-name-without-flag", _cp437_name, "not marked UTF-8"),
    ("encrypted-entry", _encrypted, "is encrypted; a package is never encrypted"),
    ("unknown-compression-bzip2",
     lambda p, e: _zip(p, [("manifest.json", b"{}")], zipfile.ZIP_BZIP2),
     "uses compression method 12"),
]


@pytest.fixture
def cli(cli_forks: CliForks) -> CliForks:
    """``chainarb``: each run a process of its own, forked from one that imported the command
    once (the process's ``cli_forks``: tests/support/cli_fork.py)."""
    return cli_forks


def _verify(cli: CliForks, package: Path, cwd: Path
            ) -> tuple[int, str, dict[str, Any] | None]:
    """``chainarb verify --json`` without the variables a user's shell may set."""
    env = {k: v for k, v in os.environ.items()
           if k not in ("CHAINARB_LANG", "CHAINARB_RPC_URL", "CHAINARB_CHAIN_RPC_URL")}
    proc = cli.run(["verify", "--json", str(package)], cwd, env=env, timeout=120)
    try:
        report = json.loads(proc.stdout)
    except ValueError:
        report = None
    return proc.returncode, proc.stdout + proc.stderr, report


@pytest.mark.parametrize(("build", "reason"), [h[1:] for h in HOSTILE],
                         ids=[h[0] for h in HOSTILE])
def test_hostile_zip_is_refused_unopened(cli: CliForks, tmp_path: Path,
                                         build: Callable[[Path, str], Path], reason: str) -> None:
    work = tmp_path / "work"
    work.mkdir()
    evil = f"chainarb-pwned-{uuid.uuid4().hex}.txt"
    package = build(tmp_path / "package.zip", evil)
    code, out, report = _verify(cli, package, work)
    assert code == EXIT_FAILED, out[-2000:]
    assert report is not None, out[-2000:]
    checks = {c["name"]: c for c in report["checks"]}
    assert checks["archive"]["status"] == "fail", checks["archive"]
    assert reason in checks["archive"]["reason"], checks["archive"]
    assert "Traceback" not in out
    skipped = [c for n, c in checks.items() if n != "archive"]
    assert skipped and all(c["status"] == "skip" and "unsafe to open" in c["reason"]
                           for c in skipped), skipped
    # nothing landed outside: next to the package, in the working folder, in the temp root
    for where in (tmp_path, work, Path(tempfile.gettempdir()), tmp_path.parent):
        assert not (where / evil).exists(), where / evil
        assert not list(where.glob(f"*/{evil}")), where


def test_unreadable_utf8_flagged_name_is_not_a_pass(cli: CliForks, tmp_path: Path) -> None:
    """A name flagged UTF-8 that is not UTF-8 cannot even be listed: Python's zipfile
    refuses the archive, so the package cannot be read (exit 4): never a pass, never a
    traceback."""
    package = _bad_utf8_flagged(tmp_path / "package.zip", "x")
    code, out, _report = _verify(cli, package, tmp_path)
    assert code == EXIT_UNREADABLE, out[-2000:]
    assert "is not a readable ZIP archive" in out, out[-2000:]
    assert "Traceback" not in out
