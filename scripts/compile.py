#!/usr/bin/env python3
"""Compile contracts/ with the npm solc and write the committed artifacts.

Why a script of our own: no native solc installs offline here, so py-solc-x drives
scripts/solc.js (a solc look-alike over the npm `solc` package). The settings below are the
single source of truth for how chainarb's bytecode is made; the same sources compile under
Hardhat with the same settings to byte-identical bytecode, metadata hash included
(tests/contracts/test_hardhat.py): OpenZeppelin is found through `--include-path node_modules`
with the repository as base path, not through a remapping.

    .venv/bin/python scripts/compile.py          # (re)write backend/chain/compiled/*.json
    .venv/bin/python scripts/compile.py --check  # exit 1 if the committed files are stale

Writes backend/chain/compiled/<Contract>.json ({contractName, sourceName, abi, bytecode,
deployedBytecode, metadata}) for every contract with bytecode or an interface ABI, and
evidence/abi/EvidenceAnchor.json (ABI only) so that `evidence` reads anchors on its own.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
SOLC = ROOT / "scripts" / "solc.js"
SOLC_VERSION = "0.8.30"
CONTRACTS = ROOT / "contracts"
ARTIFACTS = ROOT / "backend" / "chain" / "compiled"  # package data of the wheel
EVIDENCE_ABI = ROOT / "evidence" / "abi" / "EvidenceAnchor.json"
# Imports such as "@openzeppelin/contracts/..." are looked up here and keep that source unit
# name, exactly as Hardhat names them; a remapping would rename them node_modules/@openzeppelin/...
# in the metadata and so change the metadata hash at the end of the bytecode.
NODE_MODULES = ROOT / "node_modules"

SETTINGS: dict[str, Any] = {
    "evmVersion": "cancun",
    "optimizer": {"enabled": True, "runs": 200},
    "metadata": {"bytecodeHash": "ipfs"},
    "outputSelection": {
        "contracts/**": {
            "*": ["abi", "evm.bytecode.object", "evm.deployedBytecode.object", "metadata"]
        }
    },
}


def sources() -> dict[str, dict[str, str]]:
    """Every .sol file under contracts/, keyed by its path relative to the repository."""
    paths = sorted(CONTRACTS.rglob("*.sol"))
    return {p.relative_to(ROOT).as_posix(): {"content": p.read_text()} for p in paths}


def compile_all() -> dict[str, str]:
    """Compile and return {output path relative to ROOT: file text}."""
    import solcx

    srcs = sources()
    # Glob keys in outputSelection are not supported by every solc; name the files instead.
    selection = {name: SETTINGS["outputSelection"]["contracts/**"] for name in srcs}
    standard_input = {
        "language": "Solidity",
        "sources": srcs,
        "settings": {**SETTINGS, "outputSelection": selection},
    }
    # solcx.compile_standard has no include_path; its wrapper passes any flag through.
    stdout = solcx.wrapper.solc_wrapper(
        solc_binary=SOLC,
        stdin=json.dumps(standard_input),
        standard_json=True,
        base_path=ROOT,
        include_path=NODE_MODULES,
        allow_paths=ROOT,
    )[0]
    out = json.loads(stdout)
    errors = [e for e in out.get("errors", []) if e.get("severity") == "error"]
    if errors:
        raise SystemExit("\n".join(e["formattedMessage"] for e in errors))

    files: dict[str, str] = {}
    for source_name in srcs:
        for name, contract in sorted(out["contracts"].get(source_name, {}).items()):
            artifact = {
                "contractName": name,
                "sourceName": source_name,
                "compiler": SOLC_VERSION,
                "abi": contract["abi"],
                "bytecode": "0x" + contract["evm"]["bytecode"]["object"],
                "deployedBytecode": "0x" + contract["evm"]["deployedBytecode"]["object"],
                "metadata": contract["metadata"],
            }
            files[ARTIFACTS.joinpath(f"{name}.json").relative_to(ROOT).as_posix()] = _dump(artifact)
            if name == "EvidenceAnchor":
                files[EVIDENCE_ABI.relative_to(ROOT).as_posix()] = _dump(contract["abi"])
    return files


def _dump(value: Any) -> str:
    return json.dumps(value, indent=2, sort_keys=True) + "\n"


def committed() -> dict[str, str]:
    found = {p.relative_to(ROOT).as_posix(): p.read_text() for p in ARTIFACTS.glob("*.json")}
    if EVIDENCE_ABI.exists():
        found[EVIDENCE_ABI.relative_to(ROOT).as_posix()] = EVIDENCE_ABI.read_text()
    return found


def stale_paths(fresh: dict[str, str], old: dict[str, str]) -> list[str]:
    """Paths whose committed text differs from a fresh compile (missing or extra included)."""
    return sorted(k for k in fresh.keys() | old.keys() if fresh.get(k) != old.get(k))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="fail if committed artifacts differ")
    args = parser.parse_args(argv)
    fresh = compile_all()
    if args.check:
        stale = stale_paths(fresh, committed())
        if stale:
            print("stale artifacts (run scripts/compile.py): " + ", ".join(stale), file=sys.stderr)
            return 1
        print(f"{len(fresh)} artifacts up to date")
        return 0
    for old_path in ARTIFACTS.glob("*.json"):
        if old_path.relative_to(ROOT).as_posix() not in fresh:
            old_path.unlink()
    for rel, text in fresh.items():
        path = ROOT / rel
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text)
    print(f"wrote {len(fresh)} artifacts")
    return 0


if __name__ == "__main__":
    sys.exit(main())
