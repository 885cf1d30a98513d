"""`chainarb verify` as a court expert meets it: every way to hold it wrong gets a message
naming the option and the problem and the documented exit code, in English and Chinese.

Exit codes (docs/judicial-package.md): 0 all passed, 1 a check failed, 2 usage error,
3 nothing failed but some checks could not run, 4 the package cannot be read. Every case
runs the real `chainarb` entry point in a process of its own (forked from one that imported
it once: tests/support/cli_fork.py): what a court types is what is tested.
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.judicial.judicial_world import Case
from tests.support.cli_fork import CliForks

CJK = re.compile(r"[\u4e00-\u9fff]")
SECRET = "0x" + "5e" * 32  # what a key file holds: must never reach the terminal


_FORKS: list[CliForks] = []


@pytest.fixture(scope="module", autouse=True)
def _cli(cli_forks: CliForks) -> Iterator[None]:
    """The module's ``chainarb`` runs: each a process with its own environment, forked from
    one that imported the command (and web3) once (the process's ``cli_forks``:
    tests/support/cli_fork.py)."""
    _FORKS.append(cli_forks)
    yield
    _FORKS.remove(cli_forks)


def chainarb(*args: str, lang: str = "en", data_dir: Path, **env: str
             ) -> subprocess.CompletedProcess[str]:
    base = {"PATH": os.environ["PATH"], "HOME": "/tmp", "COLUMNS": "160",
            "CHAINARB_LANG": lang, "CHAINARB_DATA_DIR": str(data_dir)}
    return _FORKS[-1].run(list(args), Path.cwd(), env={**base, **env}, timeout=180)


def chainarb_many(calls: list[tuple[tuple[str, ...], str, dict[str, str]]], data_dir: Path
                  ) -> list[subprocess.CompletedProcess[str]]:
    """Several invocations, one after the other (each fork starts in milliseconds)."""
    return [chainarb(*c[0], lang=c[1], data_dir=data_dir, **c[2]) for c in calls]


@pytest.fixture
def data_dir(tmp_path: Path) -> Path:
    return tmp_path / "no-installation-here"  # no embedded chain to fall back on


def _no_traceback(r: subprocess.CompletedProcess[str]) -> None:
    assert "Traceback" not in r.stderr + r.stdout, r.stderr


# --- usage errors (2): found before the package is opened -------------------------------


def test_tsa_cert_that_is_missing_a_directory_or_not_a_certificate_is_a_usage_error(
    tmp_path: Path, data_dir: Path
) -> None:
    package = tmp_path / "any.zip"
    package.write_bytes(b"not even looked at")
    key = tmp_path / "institution.key"
    key.write_text(SECRET + "\n")
    nope = tmp_path / "nope.pem"
    cases = [
        (nope, "en", f"--tsa-cert {nope}: no such file. Give the PEM (or DER) certificate"),
        (nope, "zh", f"--tsa-cert {nope}：文件不存在。请提供您信任的时间戳机构"),
        (tmp_path, "en", f"--tsa-cert {tmp_path}: is a directory, not a certificate file."),
        (tmp_path, "zh", f"--tsa-cert {tmp_path}：这是目录，不是证书文件。"),
        (key, "en", f"--tsa-cert {key}: not an X.509 certificate (expected PEM or DER); its "
                    "content is not shown."),
        (key, "zh", f"--tsa-cert {key}：不是 X.509 证书（应为 PEM 或 DER 格式）；不显示其内容。"),
    ]
    runs = chainarb_many([(("verify", str(package), "--tsa-cert", str(path)), lang, {})
                          for path, lang, _ in cases], data_dir)
    for (path, _lang, text), r in zip(cases, runs, strict=True):
        assert r.returncode == 2, (path, r.stdout, r.stderr)
        assert r.stderr.startswith(text), (path, r.stderr)
        assert r.stdout == ""
        assert SECRET[2:] not in r.stderr and "5e5e5e" not in r.stderr
        _no_traceback(r)


def test_an_rpc_that_is_not_a_url_is_a_usage_error(tmp_path: Path, data_dir: Path) -> None:
    package = tmp_path / "any.zip"
    package.write_bytes(b"PK")
    cases = [
        (["--rpc", "not-a-url"], "en", {},
         "--rpc: expected an http(s) JSON-RPC URL such as http://127.0.0.1:8545, found "
         "'not-a-url'."),
        (["--rpc", "not-a-url"], "zh", {},
         "--rpc：应为 http(s) JSON-RPC 地址，例如 http://127.0.0.1:8545，实际为 'not-a-url'。"),
        (["--rpc", "ftp://127.0.0.1:8545"], "en", {}, "--rpc: expected an http(s) JSON-RPC URL"),
        (["--rpc", "http://127.0.0.1:8545", "--rpc", "127.0.0.1:8546"], "en", {},
         "--rpc: expected an http(s) JSON-RPC URL"),
        ([], "en", {"CHAINARB_CHAIN_RPC_URL": "localhost:8545"},
         "CHAINARB_CHAIN_RPC_URL: expected an http(s) JSON-RPC URL"),
        ([], "zh", {"CHAINARB_CHAIN_RPC_URL": "localhost:8545"},
         "CHAINARB_CHAIN_RPC_URL：应为 http(s) JSON-RPC 地址"),
    ]
    runs = chainarb_many([(("verify", str(package), *args), lang, env)
                          for args, lang, env, _ in cases], data_dir)
    for (args, _lang, env, text), r in zip(cases, runs, strict=True):
        assert r.returncode == 2, (args, env, r.stderr)
        assert r.stderr.startswith(text), r.stderr
        _no_traceback(r)


# --- could not run (3) -------------------------------------------------------------------


def test_an_unreachable_node_means_could_not_run_not_a_failed_check(
    case: Case, data_dir: Path
) -> None:
    args = ("verify", str(case.package), "--rpc", "http://127.0.0.1:9")
    en, zh, as_json = chainarb_many([(args, "en", {}), (args, "zh", {}),
                                     ((*args, "--json"), "en", {})], data_dir)
    assert (en.returncode, zh.returncode, as_json.returncode) == (3, 3, 3), en.stdout + en.stderr
    for r in (en, zh, as_json):
        _no_traceback(r)
    assert "Could not run every check:" in en.stdout
    assert "Not verified" not in en.stdout and "FAIL" not in en.stdout
    assert "部分检查无法运行" in zh.stdout and "无法运行：区块链节点无响应" in zh.stdout
    assert "核验未通过" not in zh.stdout and "✗" not in zh.stdout
    report = json.loads(as_json.stdout)
    assert report["outcome"] == "not_run" and report["ok"] is False
    status = {c["name"]: c for c in report["checks"]}
    assert {n for n, c in status.items() if c["status"] == "fail"} == set()
    # Everything but the confirmation of the block hashes is checked offline.
    assert status["anchors"]["status"] == "pass"
    assert status["block_confirmation"]["status"] == "skip"
    assert status["block_confirmation"]["reason"].startswith(
        "could not run: the chain's JSON-RPC node does not answer")
    assert status["files"]["status"] == "pass" and status["evidence"]["status"] == "pass"


def test_the_old_variable_name_is_named_and_not_read(case: Case, data_dir: Path) -> None:
    r = chainarb("verify", str(case.package), data_dir=data_dir,
                 CHAINARB_RPC_URL="http://127.0.0.1:9")
    assert r.returncode == 3  # no chain: the old name is not read ...
    assert r.stderr.startswith("Note: CHAINARB_RPC_URL is set but no longer read; the chain "
                               "setting is CHAINARB_CHAIN_RPC_URL")  # ... and it says so
    assert "not confirmed: the" in r.stdout and "remain to be" in r.stdout


# --- cannot be read (4) ------------------------------------------------------------------


def _truncated(case: Case, path: Path) -> Path:
    data = case.package.read_bytes()
    path.write_bytes(data[: len(data) // 2])
    return path


def _corrupt(case: Case, path: Path) -> Path:
    """A ZIP whose central directory is fine but one entry's compressed bytes are not."""
    with zipfile.ZipFile(case.package) as zf:
        info = max(zf.infolist(), key=lambda i: i.compress_size)
        start = info.header_offset + 30 + len(info.filename.encode()) + len(info.extra)
    data = bytearray(case.package.read_bytes())
    for i in range(start + 10, start + 60):
        data[i] ^= 0xA5
    path.write_bytes(bytes(data))
    return path


def _not_zip(_case: Case, path: Path) -> Path:
    path.write_bytes(b"%PDF-1.7 a court would not send this, but someone did\n" * 20)
    return path


def _empty(_case: Case, path: Path) -> Path:
    path.write_bytes(b"")
    return path


def test_a_truncated_corrupt_or_non_zip_file_cannot_be_read(
    case: Case, tmp_path: Path, data_dir: Path
) -> None:
    bad = [make(case, tmp_path / f"{make.__name__[1:]}.zip")
           for make in (_truncated, _corrupt, _not_zip, _empty)]
    calls: list[tuple[tuple[str, ...], str, dict[str, str]]] = []
    for path in bad:
        calls += [(("verify", str(path), "--rpc", "http://127.0.0.1:9"), "en", {}),
                  (("verify", str(path)), "zh", {}), (("verify", str(path), "--json"), "en", {})]
    runs = chainarb_many(calls, data_dir)
    for i, path in enumerate(bad):
        en, zh, as_json = runs[3 * i: 3 * i + 3]
        assert (en.returncode, zh.returncode, as_json.returncode) == (4, 4, 4), \
            (path, en.stdout, en.stderr)
        assert en.stdout.startswith(f"{path} cannot be read: it is not a ZIP archive, or it "
                                    "is truncated or corrupt"), en.stdout
        assert "unsafe" not in en.stdout.lower() and "Not verified" not in en.stdout
        assert zh.stdout.startswith(f"无法读取材料包 {path}：该文件不是 ZIP 归档，或已截断、损坏")
        report = json.loads(as_json.stdout)
        assert report["outcome"] == "unreadable" and report["unreadable"], path


def test_a_missing_package_or_a_directory_cannot_be_read(tmp_path: Path, data_dir: Path
                                                         ) -> None:
    nope = tmp_path / "nope.zip"
    en, zh, folder = chainarb_many([(("verify", str(nope)), "en", {}),
                                    (("verify", str(nope)), "zh", {}),
                                    (("verify", str(tmp_path)), "en", {})], data_dir)
    assert (en.returncode, en.stderr) == (4, f"{nope}: no such file. Give the judicial "
                                             "package (.zip).\n")
    assert (zh.returncode, zh.stderr) == (4, f"{nope}：文件不存在。"
                                             "请提供司法确认材料包（.zip）。\n")
    assert (folder.returncode, folder.stderr) == (4, f"{tmp_path}: is a directory, not a "
                                                     "package file.\n")


def test_help_documents_the_exit_codes(data_dir: Path) -> None:
    r = chainarb("verify", "--help", data_dir=data_dir)
    assert r.returncode == 0
    text = " ".join(r.stdout.replace("│", " ").split())
    for code in ("0 all checks passed", "1 a check failed", "2 usage error",
                 "3 some checks could not run", "4 the package cannot be read"):
        assert code in text, text


def test_a_configured_chain_that_does_not_open_is_named_and_could_not_run(
    case: Case, data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """In-process (an entry point cannot be replaced in a subprocess): the installation's
    chain fails to start; the CLI says why and reports the chain checks as not run."""
    from typer.testing import CliRunner

    from evidence.cli import app

    class _Broken:
        name = "backend"

        def load(self):
            def factory() -> None:
                raise RuntimeError("anvil is not installed")

            return factory

    monkeypatch.delenv("CHAINARB_CHAIN_RPC_URL", raising=False)
    monkeypatch.setenv("CHAINARB_DATA_DIR", str(data_dir))
    monkeypatch.setenv("CHAINARB_LANG", "en")
    monkeypatch.setattr("evidence.chain.entry_points", lambda group: [_Broken()])
    r = CliRunner().invoke(app, ["verify", str(case.package)])
    assert r.exit_code == 3, r.output
    assert r.stderr.startswith("Could not open the chain: the installation's chain (backend) "
                               "could not be opened: RuntimeError: anvil is not installed.")
    assert "Could not run every check" in r.stdout
