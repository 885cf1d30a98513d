"""A tiny test contract that runs OpenZeppelin's own EIP712, ECDSA and MerkleProof on a real
EVM (eth-tester's py-evm, in process), so the tests check our digests, signatures and
proofs against the code the escrow and the anchor contract use.

Shared by test_records.py and test_merkle.py. Its compiled form is committed beside this
file (``EvidenceCheck.json``: ABI and bytecode, with the source's SHA-256, the solc and
OpenZeppelin versions and the settings it was made with), the way the project's own
contracts are (backend/chain/compiled, scripts/compile.py): the fast set reads it instead
of compiling (solcjs, ~3.5 s of CPU a run). It cannot go stale silently: reading it checks
that the source below, the installed solc and the installed OpenZeppelin are the ones it
names (``committed``), and the slow set compiles the source again and requires the same
bytes (test_evidence_check_artifact.py); the bytecode's metadata hash covers every
OpenZeppelin source it imports. After changing the source or either package:

    .venv/bin/python -m tests.evidence._evidence_onchain          # rewrite EvidenceCheck.json
    .venv/bin/python -m tests.evidence._evidence_onchain --check  # exit 1 if it is stale
"""

from __future__ import annotations

import argparse
import functools
import hashlib
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
ARTIFACT = Path(__file__).with_name("EvidenceCheck.json")
SETTINGS: dict[str, Any] = {
    "evmVersion": "cancun",
    "optimizer": {"enabled": True, "runs": 200},
    "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"],
    "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
}

SOURCE = r"""
// SPDX-License-Identifier: MIT
pragma solidity 0.8.30;
import {MerkleProof} from "@openzeppelin/contracts/utils/cryptography/MerkleProof.sol";
import {EIP712} from "@openzeppelin/contracts/utils/cryptography/EIP712.sol";
import {ECDSA} from "@openzeppelin/contracts/utils/cryptography/ECDSA.sol";

contract EvidenceCheck is EIP712("chainarb", "1") {
    bytes32 private constant AWARD_TYPEHASH = keccak256(
        "Award(uint256 orderId,bytes32 caseId,uint256 toBuyer,uint256 toSeller,"
        "uint256 compensation,bytes32 awardHash,uint8 round)");
    bytes32 private constant SETTLEMENT_TYPEHASH = keccak256(
        "Settlement(uint256 orderId,bytes32 caseId,uint256 toBuyer,uint256 toSeller,"
        "uint256 compensation)");

    function verifyProof(bytes32[] calldata proof, bytes32 root, bytes32 leaf)
        external pure returns (bool) {
        return MerkleProof.verifyCalldata(proof, root, leaf);
    }

    function leafOf(bytes32 caseId, bytes32 recordHash, bytes32 signaturesHash)
        external pure returns (bytes32) {
        return keccak256(bytes.concat(keccak256(abi.encode(caseId, recordHash, signaturesHash))));
    }

    function domainSeparator() external view returns (bytes32) {
        return _domainSeparatorV4();
    }

    function awardSigner(
        uint256 orderId, bytes32 caseId, uint256 toBuyer, uint256 toSeller,
        uint256 compensation, bytes32 awardHash, uint8 round, bytes calldata signature
    ) external view returns (address, bytes32) {
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(
            AWARD_TYPEHASH, orderId, caseId, toBuyer, toSeller, compensation, awardHash, round)));
        return (ECDSA.recover(digest, signature), digest);
    }

    function settlementSigner(
        uint256 orderId, bytes32 caseId, uint256 toBuyer, uint256 toSeller,
        uint256 compensation, bytes calldata signature
    ) external view returns (address, bytes32) {
        bytes32 digest = _hashTypedDataV4(keccak256(abi.encode(
            SETTLEMENT_TYPEHASH, orderId, caseId, toBuyer, toSeller, compensation)));
        return (ECDSA.recover(digest, signature), digest);
    }
}
"""


def source_sha256() -> str:
    return hashlib.sha256(SOURCE.encode()).hexdigest()


def installed_versions() -> dict[str, str]:
    """The npm packages the bytecode comes from, as installed in node_modules."""
    def version(package: str) -> str:
        manifest = ROOT / "node_modules" / package / "package.json"
        found: str = json.loads(manifest.read_text())["version"]
        return found

    return {"solc": version("solc"), "openzeppelin": version("@openzeppelin/contracts")}


def stale_reasons(artifact: dict[str, Any]) -> list[str]:
    """What differs between what ``artifact`` was compiled from and what is here now."""
    expected = {"sourceSha256": source_sha256(), "settings": SETTINGS, **installed_versions()}
    return [f"{key}: the artifact has {artifact.get(key)!r}, here it is {value!r}"
            for key, value in expected.items() if artifact.get(key) != value]


@functools.cache
def committed() -> dict[str, Any]:
    """The committed artifact (ABI and bytecode), after checking it was made from this
    source, these settings and the installed solc and OpenZeppelin."""
    artifact: dict[str, Any] = json.loads(ARTIFACT.read_text())
    stale = stale_reasons(artifact)
    assert not stale, (f"{ARTIFACT.name} is stale ({'; '.join(stale)}); run "
                       "`.venv/bin/python -m tests.evidence._evidence_onchain`")
    return artifact


def fresh() -> dict[str, Any]:
    """Compile the source now (solcjs) into the committed artifact's shape."""
    request = {
        "language": "Solidity",
        "sources": {"EvidenceCheck.sol": {"content": SOURCE}},
        "settings": SETTINGS,
    }
    proc = subprocess.run(
        ["node", "scripts/solc.js", "--standard-json", "--base-path", "."],
        input=json.dumps(request),
        capture_output=True,
        text=True,
        cwd=ROOT,
        check=True,
        timeout=120,
    )
    out = json.loads(proc.stdout)
    errors = [e["formattedMessage"] for e in out.get("errors", []) if e["severity"] == "error"]
    assert not errors, errors
    contract = out["contracts"]["EvidenceCheck.sol"]["EvidenceCheck"]
    return {
        "contractName": "EvidenceCheck",
        "sourceSha256": source_sha256(),
        **installed_versions(),
        "settings": SETTINGS,
        "abi": contract["abi"],
        "bytecode": contract["evm"]["bytecode"]["object"],
    }


def dump(artifact: dict[str, Any]) -> str:
    """The committed file's text for ``artifact`` (sorted keys, so a compile compares as text)."""
    return json.dumps(artifact, indent=2, sort_keys=True) + "\n"


@functools.cache
def deployed() -> Any:
    """(web3 contract, chain id) on a fresh in-process chain, from the committed artifact."""
    from web3 import EthereumTesterProvider, Web3

    artifact = committed()
    w3 = Web3(EthereumTesterProvider())
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["bytecode"])
    tx = factory.constructor().transact({"from": w3.eth.accounts[0]})
    address = w3.eth.get_transaction_receipt(tx).contractAddress  # type: ignore[attr-defined]
    return w3.eth.contract(address=address, abi=artifact["abi"]), w3.eth.chain_id


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="(re)write or check EvidenceCheck.json")
    parser.add_argument("--check", action="store_true", help="exit 1 if it is stale")
    args = parser.parse_args(argv)
    text = dump(fresh())
    if args.check:
        if not ARTIFACT.exists() or ARTIFACT.read_text() != text:
            print(f"{ARTIFACT} is stale: run `.venv/bin/python -m "
                  "tests.evidence._evidence_onchain`", file=sys.stderr)
            return 1
        print(f"{ARTIFACT.name} is up to date")
        return 0
    ARTIFACT.write_text(text)
    print(f"wrote {ARTIFACT}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
