"""`chainarb evidence …` error paths through the real entry point (each run a process, forked
from one that imported it once: tests/support/cli_fork.py): exit codes of the shared
scheme (2 usage, 3 could not run, 4 cannot be read), both languages, and no secret echoed.

A key file with a typo is still a key: no message may show what a file the user named
holds, nor a hex value they typed (docs/evidence-cli.md, "Exit codes").
"""

from __future__ import annotations

import json
import os
import subprocess
from pathlib import Path

import pytest
from typer.testing import CliRunner
from web3 import Web3

from evidence.cli import app
from tests.evidence.test_verify import build_scenario
from tests.support.cli_fork import CliForks

SECRET_HEX = "5e" * 31  # 31 bytes: a key with a byte missing, still nearly all secret
PEM_KEY = ("-----BEGIN PRIVATE KEY-----\n"
           "MC4CAQAwBQYDK2VwBCIEIGsecretsecretsecretsecretsecretsecret\n"
           "-----END PRIVATE KEY-----\n")


@pytest.fixture
def cli(cli_forks: CliForks) -> CliForks:
    """``chainarb``: each run a process of its own with the run's environment, forked from
    one that imported the command (and web3, for the runs that open a chain) once (the
    process's ``cli_forks``)."""
    return cli_forks


def _run_all(cli: CliForks, calls: list[tuple[list[str], str, dict[str, str]]],
             data_dir: Path) -> list[subprocess.CompletedProcess[str]]:
    def one(call: tuple[list[str], str, dict[str, str]]) -> subprocess.CompletedProcess[str]:
        args, lang, env = call
        base = {"PATH": os.environ["PATH"], "HOME": "/tmp", "CHAINARB_LANG": lang,
                "CHAINARB_DATA_DIR": str(data_dir)}
        return cli.run(["evidence", *args], Path.cwd(), env={**base, **env}, timeout=180)

    return [one(call) for call in calls]


def _secret_free(r: subprocess.CompletedProcess[str]) -> None:
    text = r.stdout + r.stderr
    assert SECRET_HEX not in text and "5e5e5e" not in text
    assert "secretsecret" not in text and "BEGIN PRIVATE KEY" not in text
    assert "Traceback" not in text


def test_no_key_file_or_hex_value_is_ever_echoed(cli: CliForks, tmp_path: Path) -> None:
    runner = CliRunner()
    plain = tmp_path / "plain.txt"
    plain.write_bytes(b"evidence\n")
    pub = runner.invoke(app, ["evidence", "keygen", "-o", str(tmp_path / "mine.key")]).stdout
    enc = tmp_path / "plain.enc"
    assert runner.invoke(app, ["evidence", "encrypt", str(plain), "--to", pub.strip(),
                               "-o", str(enc)]).exit_code == 0
    short_key = tmp_path / "short.key"
    short_key.write_text("0x" + SECRET_HEX + "\n")
    pem_key = tmp_path / "id.pem"
    pem_key.write_text(PEM_KEY)
    keystore = tmp_path / "keystore.json"
    keystore.write_text(json.dumps({"crypto": {"ciphertext": SECRET_HEX}, "version": 3}))
    record = tmp_path / "record.json"
    record.write_text("{}")
    out = str(tmp_path / "out")
    calls = [
        (["decrypt", str(enc), "--key", str(short_key), "-o", out], "en", {}),
        (["decrypt", str(enc), "--key", str(pem_key), "-o", out], "zh", {}),
        (["sign", str(record), "--key-file", str(pem_key)], "en", {}),
        (["sign", str(record), "--key-file", str(keystore)], "en",
         {"CHAINARB_KEY_PASSWORD": "pw"}),
        (["sign", str(record)], "zh", {"CHAINARB_PRIVATE_KEY": SECRET_HEX}),
        (["hash", str(plain), "--salt", SECRET_HEX], "en", {}),
    ]
    runs = _run_all(cli, calls, tmp_path / "data")
    expected = [
        f"{short_key}: expected a 32-byte key as hex (0x…); the file's content is not shown.",
        f"{pem_key}：应为 32 字节的十六进制密钥（0x…）；不显示文件内容。",
        f"Invalid key in {pem_key}: expected 32 bytes of hex (the value is not shown).",
        f"{keystore}: cannot open this keystore: wrong password (CHAINARB_KEY_PASSWORD), or "
        "not an Ethereum keystore",
        "$CHAINARB_PRIVATE_KEY 中的密钥无效：应为 32 字节的十六进制（不显示其值）。",
        "--salt: expected 32 bytes as hex (0x…), found 62 characters that are not that (the "
        "value is not shown).",
    ]
    for call, r, text in zip(calls, runs, expected, strict=True):
        assert r.returncode == 2, (call, r.stderr)
        assert r.stderr.startswith(text), (call, r.stderr)
        _secret_free(r)
    assert not Path(out).exists()


def test_verify_chain_errors_follow_the_exit_scheme(cli: CliForks, tester_w3: Web3,
                                                    tmp_path: Path) -> None:
    sc = build_scenario(tester_w3, tmp_path)
    proof = tmp_path / "p.json"
    proof.write_bytes(sc.proof().to_json())
    base = ["verify", str(sc.file), "--proof", str(proof)]
    calls = [
        ([*base, "--rpc", "not-a-url"], "en", {}),
        ([*base], "zh", {"CHAINARB_CHAIN_RPC_URL": "127.0.0.1:8545"}),
        ([*base, "--rpc", "http://127.0.0.1:9"], "en", {}),
        ([*base, "--rpc", "http://127.0.0.1:9"], "zh", {}),
        ([*base], "en", {"CHAINARB_RPC_URL": "http://127.0.0.1:9"}),
        ([*base, "--offline"], "zh", {}),
    ]
    runs = _run_all(cli, calls, tmp_path / "data")
    codes = [r.returncode for r in runs]
    assert codes == [2, 2, 3, 3, 2, 0], [(r.returncode, r.stderr) for r in runs]
    assert runs[0].stderr.startswith(
        "--rpc: expected an http(s) JSON-RPC URL such as http://127.0.0.1:8545, found "
        "'not-a-url'.")
    assert runs[1].stderr.startswith("CHAINARB_CHAIN_RPC_URL：应为 http(s) JSON-RPC 地址")
    assert runs[2].stderr.startswith("Could not run: cannot reach the chain")
    assert runs[3].stderr.startswith("无法运行：无法连接区块链（详情：")
    assert runs[4].stderr.startswith("Note: CHAINARB_RPC_URL is set but no longer read")
    assert "No chain to check the anchoring against" in runs[4].stderr
    assert "离线验证通过" in runs[5].stderr
    assert all(line.startswith("[通过]") or line.startswith("[跳过]")
               for line in runs[5].stdout.splitlines()), runs[5].stdout
    for r in runs:
        assert "Traceback" not in r.stderr
