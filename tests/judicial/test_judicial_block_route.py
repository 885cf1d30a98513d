"""The expert's route of docs/judicial-package.md §7 step 9, run as written: the npm
script recomputes headers and receipt proofs, the POSIX sh recipe confirms block hashes
with curl on a real anvil node; and `chainarb verify` confirms them with several --rpc
nodes (which must agree) or a --checkpoint file, from an empty directory."""

from __future__ import annotations

import json
import os
import re
import subprocess
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest

from backend.chain.devchain import AnvilNode
from tests.judicial.judicial_world import Case, make_case
from tests.support.cli_fork import CliForks
from tests.support.tsa import LocalTSA

ROOT = Path(__file__).resolve().parents[2]
DOC = ROOT / "docs" / "judicial-package.md"


def _doc_block(name: str) -> str:
    """The fenced block the doc marks `<!-- tested: NAME ... -->`."""
    text = DOC.read_text()
    found = re.search(r"<!-- tested: " + re.escape(name) + r" [^>]*-->\n```\w+\n(.*?)\n```",
                      text, re.S)
    assert found, f"docs/judicial-package.md has no tested block {name}"
    return found.group(1) + "\n"


@pytest.fixture(scope="module")
def chains(tmp_path_factory: pytest.TempPathFactory,
           local_tsa: LocalTSA) -> Iterator[tuple[Case, AnvilNode, AnvilNode]]:
    """A case run on anvil node A; node B is another chain with the same id (31337) and
    as many blocks, none of them A's."""
    with AnvilNode() as a, AnvilNode() as b:
        case = make_case(tmp_path_factory.mktemp("anvil-case"), local_tsa, a.web3())
        b.web3().provider.make_request(
            "anvil_mine", [hex(a.web3().eth.block_number + 1)])  # type: ignore[arg-type]
        yield case, a, b


@pytest.fixture(scope="module")
def extracted(chains: tuple[Case, AnvilNode, AnvilNode],
              tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("pkg")
    with zipfile.ZipFile(chains[0].package) as zf:
        zf.extractall(out)  # our own package: plain extraction is fine
    return out


def _env(**extra: str) -> dict[str, str]:
    return {"PATH": os.environ["PATH"], "HOME": "/tmp", "COLUMNS": "200", **extra}


def _check_blocks(folder: Path, tmp_path: Path) -> subprocess.CompletedProcess[str]:
    tool = tmp_path / "expert"
    tool.mkdir(exist_ok=True)
    (tool / "check-blocks.mjs").write_text(_doc_block("check-blocks.mjs"))
    if not (tool / "node_modules").exists():
        (tool / "node_modules").symlink_to(ROOT / "node_modules")  # the pinned packages
    return subprocess.run(["node", str(tool / "check-blocks.mjs"), str(folder)],
                          capture_output=True, text=True, timeout=120, env=_env())


def test_the_docs_npm_script_recomputes_headers_and_receipts(
        chains: tuple[Case, AnvilNode, AnvilNode], extracted: Path, tmp_path: Path) -> None:
    case = chains[0]
    r = _check_blocks(extracted, tmp_path)
    assert r.returncode == 0, r.stdout + r.stderr
    lines = r.stdout.splitlines()
    headers = json.loads((extracted / "proofs/blocks.json").read_text())["headers"]
    assert sum(line.startswith("ok  header") for line in lines) == len(headers) >= 5
    receipts = [line for line in lines if line.startswith("ok  receipt")]
    assert len(receipts) == len(case.inputs.receipts)
    # The RootAnchored log of each anchor, as step 5 says, is printed from its receipt.
    topic0 = "0xd169286e74420b50ebe19fa212c7b8ddbf2b72a155111aa6b38aebfbd6d3597e"
    for a in case.inputs.anchors:
        assert f"{topic0} 0x{a.root.hex()}" in r.stdout
    # A receipt edited in the package: the script says BAD and exits 1.
    forged = tmp_path / "forged"
    subprocess.run(["cp", "-r", str(extracted), str(forged)], check=True)
    data = json.loads((forged / "proofs/receipts.json").read_text())
    data["receipts"][0]["receipt"] = data["receipts"][0]["receipt"][:-2] + "00"
    (forged / "proofs/receipts.json").write_text(json.dumps(data))
    bad = _check_blocks(forged, tmp_path)
    assert bad.returncode == 1 and "BAD receipt" in bad.stdout


def test_the_docs_sh_recipe_confirms_with_curl(
        chains: tuple[Case, AnvilNode, AnvilNode], extracted: Path, tmp_path: Path) -> None:
    _, a, b = chains
    script = tmp_path / "confirm-blocks.sh"
    script.write_text(_doc_block("confirm-blocks.sh"))
    headers = json.loads((extracted / "proofs/blocks.json").read_text())["headers"]
    good = subprocess.run(["dash", str(script)], cwd=extracted, capture_output=True,
                          text=True, timeout=120, env=_env(URL=a.url))
    assert good.returncode == 0, good.stdout + good.stderr
    assert good.stdout.count("confirmed chain 31337") == len(headers)
    other = subprocess.run(["dash", str(script)], cwd=extracted, capture_output=True,
                           text=True, timeout=120, env=_env(URL=b.url))
    assert other.returncode == 1
    assert other.stdout.count("MISMATCH chain 31337") == len(headers)


@pytest.fixture(scope="module")
def cli() -> Iterator[CliForks]:
    """`chainarb`: each run a process of its own with the run's environment and folder,
    forked from one that imported the command and web3 once in the same environment
    (tests/support/cli_fork.py, held to fresh processes by tests/test_cli_fork.py)."""
    with CliForks(env=_env(), preload=("web3",)) as forks:
        yield forks


def _verify(cli: CliForks, *args: str, cwd: Path, lang: str = "en"
            ) -> subprocess.CompletedProcess[str]:
    return cli.run(["verify", *args], cwd, timeout=180,
                   env=_env(CHAINARB_LANG=lang, CHAINARB_DATA_DIR=str(cwd / "no-installation")))


def test_cli_with_several_nodes_and_a_checkpoint(
        cli: CliForks, chains: tuple[Case, AnvilNode, AnvilNode], tmp_path: Path) -> None:
    case, a, b = chains
    empty = tmp_path / "court"
    empty.mkdir()
    pkg = str(case.package)
    numbers = sorted({h.header.number for h in case.inputs.block_headers})
    hashes = ["0x" + bytes(a.web3().eth.get_block(n)["hash"]).hex() for n in numbers]
    checkpoint = empty / "checkpoint.json"
    checkpoint.write_text(json.dumps({"chains": {"31337": hashes}}))
    wrong = empty / "wrong.json"
    wrong.write_text(json.dumps({"chains": {"31337": [
        "0x" + bytes(b.web3().eth.get_block(n)["hash"]).hex() for n in numbers]}}))
    junk = empty / "junk.json"
    junk.write_text("SECRET-CONTENT not json")
    calls: list[tuple[tuple[str, ...], str]] = [
        ((pkg, "--rpc", a.url, "--rpc", a.url, "--json"), "en"),
        ((pkg, "--rpc", a.url, "--rpc", b.url, "--json"), "en"),
        ((pkg, "--checkpoint", str(checkpoint)), "en"),
        ((pkg, "--checkpoint", str(wrong)), "en"),
        ((pkg,), "zh"),
        ((pkg, "--checkpoint", str(empty / "nope.json")), "en"),
        ((pkg, "--checkpoint", str(junk)), "en"),
    ]
    agree, disagree, confirmed, wrong_cp, alone, missing, refused = [
        _verify(cli, *args, cwd=empty, lang=lang) for args, lang in calls]

    assert agree.returncode == 0, agree.stdout[-3000:]
    assert [blk["hash"] for blk in json.loads(agree.stdout)["blocks"]] == hashes
    assert disagree.returncode == 1
    checks = {c["name"]: c for c in json.loads(disagree.stdout)["checks"]}
    assert [n for n, c in checks.items() if c["status"] == "fail"] == ["block_confirmation"]
    assert b.url in checks["block_confirmation"]["reason"]
    # From an empty folder, the package and a checkpoint obtained elsewhere: verified.
    assert confirmed.returncode == 0, confirmed.stdout[-3000:]
    assert "The verdict rests on these blocks" in confirmed.stdout
    for h in hashes:
        assert h in confirmed.stdout
    assert wrong_cp.returncode == 1
    assert alone.returncode == 3, alone.stdout[-3000:]
    assert "未确认" in alone.stdout and "本结论所依据的区块" in alone.stdout
    assert missing.returncode == 2 and "--checkpoint" in missing.stderr
    assert refused.returncode == 2 and "not a checkpoint file" in refused.stderr
    assert "SECRET-CONTENT" not in refused.stderr + refused.stdout
