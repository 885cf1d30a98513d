"""docs/judicial-package.md is what an outside expert implements from: its shell recipes run
under POSIX sh (dash) on a real package and print what the package says, and its tables of
JSON shapes name the keys the package really has."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest

from evidence.steps import STEPS
from tests.judicial.judicial_world import Case

DOC = Path(__file__).resolve().parents[2] / "docs" / "judicial-package.md"


def recipe(name: str) -> str:
    """The ```sh block after ``<!-- recipe: NAME -->``, unindented."""
    m = re.search(rf"<!-- recipe: {re.escape(name)} -->\s*```sh\n(.*?)\n\s*```", DOC.read_text(),
                  re.S)
    assert m, f"no recipe {name!r} in {DOC}"
    lines = m.group(1).splitlines()
    indent = min(len(line) - len(line.lstrip()) for line in lines if line.strip())
    return "\n".join(line[indent:] for line in lines) + "\n"


def dash(script: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run ``script`` under dash, a POSIX shell with none of bash's extensions."""
    shell = shutil.which("dash")
    assert shell, "dash is missing (Debian's /bin/sh): apt-get install dash"
    return subprocess.run([shell, "-e", "-c", recipe("hex2bin") + script], cwd=cwd, env={
        "PATH": "/usr/bin:/bin", **env}, capture_output=True, text=True, check=False)


@pytest.fixture
def extracted(case: Case, tmp_path: Path) -> Path:
    with zipfile.ZipFile(case.package) as zf:
        zf.extractall(tmp_path / "pkg")  # our own, trusted package: plain extraction is fine
    return tmp_path / "pkg"


def test_hex2bin_gives_every_byte_value(tmp_path: Path) -> None:
    every = bytes(range(256))
    out = subprocess.run([shutil.which("dash") or "dash", "-c",
                          recipe("hex2bin") + 'hex2bin "$H"'], env={
        "PATH": "/usr/bin:/bin", "H": "0x" + every.hex().upper()}, capture_output=True,
        check=True)
    assert out.stdout == every


def test_the_commitment_recipe_runs_under_posix_sh(extracted: Path) -> None:
    items = json.loads((extracted / "evidence" / "index.json").read_text())["items"]
    assert items
    for item in items:
        out = dash(recipe("commitment"), extracted, SALT=item["salt"], FILE=item["file"])
        assert out.returncode == 0, out.stderr
        assert out.stdout.strip() == item["commitment"][2:]
        other = dash(recipe("commitment"), extracted, SALT="0x" + "00" * 32, FILE=item["file"])
        assert other.stdout.strip() != item["commitment"][2:]


def test_the_timestamp_recipe_runs_under_posix_sh(case: Case, extracted: Path) -> None:
    anchors = json.loads((extracted / "proofs" / "anchors.json").read_text())["anchors"]
    for a in anchors:
        out = dash(recipe("timestamp"), extracted, ROOT=a["root"], CA=str(case.tsa.ca_pem))
        assert out.returncode == 0 and "Verification: OK" in out.stdout, out.stderr
        # The digest the recipe hands openssl is SHA-256 of the root's 32 bytes.
        printed = dash('hex2bin "$ROOT" | openssl dgst -sha256 -r | cut -c1-64', extracted,
                       ROOT=a["root"])
        assert printed.stdout.strip() == hashlib.sha256(bytes.fromhex(a["root"][2:])).hexdigest()
    tampered = extracted / "timestamps" / f"{anchors[0]['root'][2:]}.tsr"
    tampered.write_bytes(tampered.read_bytes()[:-8] + b"\0" * 8)
    bad = dash(recipe("timestamp"), extracted, ROOT=anchors[0]["root"], CA=str(case.tsa.ca_pem))
    assert bad.returncode != 0 and "Verification: OK" not in bad.stdout


def _table(heading: str, column: int = 1) -> dict[str, set[str]]:
    """The table after ``heading``: each first cell's `code` names -> the comma-separated
    names of cell ``column`` (parenthesised remarks dropped)."""
    text = DOC.read_text()
    start = text.index(heading)
    rows: dict[str, set[str]] = {}
    for line in text[start:].splitlines()[1:]:
        if line.startswith("|") and not line.startswith("| ---"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            first, second = cells[0], cells[column]
            for name in re.findall(r"`([^`]+)`", first):
                rows[name] = {k.strip() for k in re.sub(r"\(.*?\)", "", second).split(",")}
        elif rows and not line.startswith("|"):
            break
    return rows


def test_the_payload_table_is_the_step_tables() -> None:
    table = _table("Payloads the verifier reads")
    for spec in STEPS:
        if spec.action in table:
            assert table[spec.action] == set(spec.payload or ()), spec.action
    assert {"case.filed", "offer.accepted", "appoint.court", "enforcement.recorded"} <= set(table)


def assert_provenance_keys_documented(package: Path) -> None:
    """Every provenance entry of a package the service built has exactly the `details` keys
    §5's table gives its action (called from tests/backend/package/test_package.py)."""
    table = _table("| action | `session` | `details` keys |", column=2)
    seen: set[str] = set()
    with zipfile.ZipFile(package) as z:
        logs = [json.loads(z.read(n)) for n in z.namelist() if n.startswith("provenance/")]
    for log in logs:
        for e in log["entries"]:
            entry = e["entry"]
            seen.add(entry["action"])
            assert set(entry["details"]) == table[entry["action"]], entry["action"]
    assert {"upload.received", "record.signed", "anchored"} <= seen, seen


def test_the_top_level_shapes_name_every_key_of_the_package(extracted: Path) -> None:
    text = DOC.read_text()
    for member, key in (("evidence/index.json", "items"), ("proofs/anchors.json", "anchors"),
                        ("proofs/merkle.json", "proofs")):
        rows = json.loads((extracted / member).read_text())[key]
        line = next(x for x in text.splitlines() if x.startswith(f"| `{member}`"))
        for name in rows[0]:
            assert re.search(rf"\b{name}\b", line), (member, name)
    escrow = json.loads((extracted / "proofs" / "escrow.json").read_text())
    line = next(x for x in text.splitlines() if x.startswith("| `proofs/escrow.json`"))
    assert all(re.search(rf"\b{k}\b", line) for k in escrow)
    manifest = json.loads((extracted / "manifest.json").read_text())
    section = text[text.index("## 2. manifest.json"):text.index("## 3.")]
    assert all(re.search(rf"\b{k}\b", section) for k in manifest), set(manifest)
