"""A tiny test contract that runs OpenZeppelin's own EIP712, ECDSA and MerkleProof on a real
EVM (eth-tester's py-evm, in process), so the tests check our digests, signatures and
proofs against the code the escrow and the anchor contract use.

Shared by test_records.py and test_merkle.py; compiled once per test session (~3.5 s of
CPU): the first process of a pytest-xdist run to need it compiles it into the run's shared
temporary directory, under a lock, and the others read that file (``evidence_check`` in
conftest.py); before, each process compiled it again.
"""

from __future__ import annotations

import fcntl
import functools
import json
import subprocess
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]

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


@functools.cache
def compiled(shared: Path | None = None) -> dict[str, Any]:
    """The contract's ABI and bytecode; with ``shared`` (a directory every process of this
    test run sees), compiled by the first process that asks and read by the others."""
    if shared is None:
        return _compile()
    done = shared / "EvidenceCheck.json"
    with (shared / "EvidenceCheck.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # another process may be compiling it now
        if not done.exists():
            tmp = done.with_suffix(".tmp")
            tmp.write_text(json.dumps(_compile()))
            tmp.replace(done)
    artifact: dict[str, Any] = json.loads(done.read_text())
    return artifact


def _compile() -> dict[str, Any]:
    request = {
        "language": "Solidity",
        "sources": {"EvidenceCheck.sol": {"content": SOURCE}},
        "settings": {
            "evmVersion": "cancun",
            "optimizer": {"enabled": True, "runs": 200},
            "remappings": ["@openzeppelin/=node_modules/@openzeppelin/"],
            "outputSelection": {"*": {"*": ["abi", "evm.bytecode.object"]}},
        },
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
    artifact: dict[str, Any] = out["contracts"]["EvidenceCheck.sol"]["EvidenceCheck"]
    return artifact


@functools.cache
def deployed(shared: Path | None = None) -> Any:
    """(web3 contract, chain id) on a fresh in-process chain (``shared``: ``compiled``'s)."""
    from web3 import EthereumTesterProvider, Web3

    artifact = compiled(shared)
    w3 = Web3(EthereumTesterProvider())
    factory = w3.eth.contract(abi=artifact["abi"], bytecode=artifact["evm"]["bytecode"]["object"])
    tx = factory.constructor().transact({"from": w3.eth.accounts[0]})
    address = w3.eth.get_transaction_receipt(tx).contractAddress  # type: ignore[attr-defined]
    return w3.eth.contract(address=address, abi=artifact["abi"]), w3.eth.chain_id
