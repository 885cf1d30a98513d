"""slither finds no high or medium issue in our contracts that is not justified in writing.

The gate: scripts/slither.sh (its own venv, pinned; built here on a fresh machine) analyses
contracts/ through Hardhat and writes JSON. Every High or Medium detector result must be
listed, by detector and location, in the table of docs/contracts-slither.md with a reason;
a listed justification that no longer matches a finding fails too, so the document cannot
drift into excusing code that has changed. A planted reentrancy proves the gate bites.

Location of a finding: `Contract.member` of its first element (the function, modifier,
state variable or event slither points at; a node or local variable counts as its
function), or `Contract` for contract-level findings. Line numbers are not used: they move
with every edit while the justification stays about the same function.
"""

from __future__ import annotations

import itertools
import json
import os
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
SCRIPT = ROOT / "scripts" / "slither.sh"
JUSTIFICATIONS = ROOT / "docs" / "contracts-slither.md"
GATED_IMPACTS = frozenset({"High", "Medium"})
# A row of the justification table: | `detector` | `Location` | impact | reason |
ROW = re.compile(r"^\|\s*`([a-z0-9-]+)`\s*\|\s*`([A-Za-z0-9_.$]+)`\s*\|\s*(\w+)\s*\|(.+)\|\s*$")

pytestmark = pytest.mark.node


@dataclass(frozen=True)
class Finding:
    """One slither detector result, reduced to what the gate compares."""

    check: str
    impact: str
    location: str
    where: str  # file#lines, for the failure message only
    description: str


@dataclass(frozen=True)
class SlitherRun:
    findings: tuple[Finding, ...]
    analyzed_contracts: int
    log: str


def location_of(element: dict[str, Any]) -> str:
    """`Contract.member` (or `Contract`) for a slither JSON element."""
    names: list[tuple[str, str]] = []
    node: dict[str, Any] | None = element
    while node is not None:
        names.append((node.get("type", ""), node.get("name", "")))
        node = node.get("type_specific_fields", {}).get("parent")
    contract = next((name for kind, name in names if kind == "contract"), None)
    if contract is None:
        return names[-1][1]
    # The innermost member directly under the contract: a function holding a node or a local
    # variable, or the element itself when it is a state variable, event, modifier, ...
    member = None
    for (_kind, name), (parent_kind, _parent) in itertools.pairwise(names):
        if parent_kind == "contract":
            member = name
            break
    return f"{contract}.{member}" if member else contract


def parse_findings(report: dict[str, Any]) -> tuple[Finding, ...]:
    """Detector results of a slither `--json` report."""
    if not report.get("success"):
        raise AssertionError(f"slither failed: {report.get('error')}")
    found = []
    for result in report.get("results", {}).get("detectors", []):
        first = result["elements"][0] if result.get("elements") else {}
        found.append(
            Finding(
                check=result["check"],
                impact=result["impact"],
                location=location_of(first) if first else "",
                where=result.get("first_markdown_element", ""),
                description=result.get("description", "").strip(),
            )
        )
    return tuple(found)


def parse_justifications(text: str) -> dict[tuple[str, str], str]:
    """(detector, location) -> reason, from the table rows of docs/contracts-slither.md."""
    table: dict[tuple[str, str], str] = {}
    for line in text.splitlines():
        match = ROW.match(line.strip())
        if match:
            detector, location, _impact, reason = match.groups()
            table[(detector, location)] = reason.strip()
    return table


def run_slither(out: Path, target: Path | None = None) -> SlitherRun:
    env = dict(os.environ)
    if target is not None:
        env["CHAINARB_SLITHER_TARGET"] = str(target)
    proc = subprocess.run(
        ["bash", str(SCRIPT), str(out)],
        capture_output=True,
        text=True,
        env=env,
        timeout=900,  # the first run builds .venv-slither (~20 s, longer on a slow mirror)
        check=False,
    )
    log = proc.stdout + proc.stderr
    assert proc.returncode == 0, f"scripts/slither.sh exited {proc.returncode}:\n{log[-4000:]}"
    analyzed = re.search(r"analyzed \((\d+) contracts", log)
    assert analyzed, f"slither did not report what it analysed:\n{log[-4000:]}"
    report = json.loads(out.read_text())
    return SlitherRun(parse_findings(report), int(analyzed.group(1)), log)


@pytest.fixture(scope="module")
def project_run(tmp_path_factory: pytest.TempPathFactory) -> Iterator[SlitherRun]:
    yield run_slither(tmp_path_factory.mktemp("slither") / "slither.json")


def test_slither_analyses_both_contracts(project_run: SlitherRun) -> None:
    # EvidenceAnchor, ArbitrationEscrow and their interfaces, plus OpenZeppelin's bases.
    assert project_run.analyzed_contracts >= 4, project_run.log[-2000:]
    for finding in project_run.findings:
        assert "node_modules" not in finding.where
        assert "contracts/test/" not in finding.where


def test_no_unjustified_high_or_medium_finding(project_run: SlitherRun) -> None:
    justified = parse_justifications(JUSTIFICATIONS.read_text())
    open_findings = [
        f
        for f in project_run.findings
        if f.impact in GATED_IMPACTS and (f.check, f.location) not in justified
    ]
    assert not open_findings, "unjustified slither findings (fix, or justify in {}):\n{}".format(
        JUSTIFICATIONS.relative_to(ROOT),
        "\n".join(f"- {f.check} [{f.impact}] {f.location} ({f.where}): {f.description}"
                  for f in open_findings),
    )


def test_every_justification_still_matches_a_finding(project_run: SlitherRun) -> None:
    justified = parse_justifications(JUSTIFICATIONS.read_text())
    current = {(f.check, f.location) for f in project_run.findings if f.impact in GATED_IMPACTS}
    stale = sorted(set(justified) - current)
    assert not stale, f"justifications with no matching finding any more (remove them): {stale}"
    for key, reason in justified.items():
        assert len(reason) > 40, f"justification of {key} is too short to be a reason: {reason!r}"


def test_gate_catches_a_planted_reentrancy(tmp_path: Path) -> None:
    """A classic withdraw-before-zeroing bug in a scratch Hardhat project is a High finding."""
    project = tmp_path / "planted"
    (project / "contracts").mkdir(parents=True)
    shutil.copy(ROOT / "hardhat.config.js", project / "hardhat.config.js")
    shutil.copy(ROOT / "package.json", project / "package.json")
    (project / "node_modules").symlink_to(ROOT / "node_modules")
    (project / "contracts" / "Vault.sol").write_text(
        "// SPDX-License-Identifier: MIT\n"
        "pragma solidity 0.8.30;\n"
        "contract Vault {\n"
        "    mapping(address => uint256) public balanceOf;\n"
        "    function deposit() external payable { balanceOf[msg.sender] += msg.value; }\n"
        "    function withdraw() external {\n"
        '        (bool ok, ) = msg.sender.call{value: balanceOf[msg.sender]}("");\n'
        "        require(ok);\n"
        "        balanceOf[msg.sender] = 0;\n"
        "    }\n"
        "}\n"
    )
    run = run_slither(tmp_path / "planted.json", target=project)
    gated = {(f.check, f.location) for f in run.findings if f.impact in GATED_IMPACTS}
    assert ("reentrancy-eth", "Vault.withdraw") in gated, run.findings
    assert ("reentrancy-eth", "Vault.withdraw") not in parse_justifications(
        JUSTIFICATIONS.read_text()
    )


def test_location_of_node_and_state_variable() -> None:
    contract = {"type": "contract", "name": "C"}
    function = {"type": "function", "name": "pay", "type_specific_fields": {"parent": contract}}
    node = {"type": "node", "name": "x = 1", "type_specific_fields": {"parent": function}}
    local = {"type": "variable", "name": "to", "type_specific_fields": {"parent": function}}
    state = {"type": "variable", "name": "_owed", "type_specific_fields": {"parent": contract}}
    assert location_of(node) == "C.pay"
    assert location_of(local) == "C.pay"
    assert location_of(function) == "C.pay"
    assert location_of(state) == "C._owed"
    assert location_of(contract) == "C"


def test_justification_rows_parse() -> None:
    text = (
        "| detector | location | impact | why |\n|---|---|---|---|\n"
        "| `reentrancy-eth` | `C.pay` | High | state is written before the call, and so on |\n"
        "| not a row |\n"
    )
    assert parse_justifications(text) == {
        ("reentrancy-eth", "C.pay"): "state is written before the call, and so on"
    }
