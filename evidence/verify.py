# ruff: noqa: N818  -- names state the outcome (VerificationFailed, ChainUnreachable), as errors.py
"""Verification of one anchored item: a file or a signed record, its proof and a chain.

Theory of operation (docs/evidence-verify.md is the normative text):

* Everything anchored is a **signed record** (evidence.records). A file is anchored through
  the `EvidenceSubmission` record whose `commitment` opens, with the item's salt, to the
  file's SHA-256 (evidence.commitment). The Merkle leaf of a record is
  `(caseId, recordHash, signaturesHash)` (evidence.merkle), its batch root is anchored in
  the `EvidenceAnchor` contract, which stores `root => (block time, block number, anchorer)`
  and emits `RootAnchored(root, anchorer, count)`.
* The checks run in a fixed order, each named (`Check`). The first failure stops the run;
  the checks after it are reported as not run. Checks that do not apply (no file given, so
  no file hash) are reported as skipped, never as passed.

      file_hash        SHA-256 of the file equals the hash in the commitment opening
      commitment       SHA-256(TAG ‖ salt ‖ file hash) equals the record's commitment
      signature        every signature is well formed and recovers the signer(s); a record
                       with a signer field must be signed by exactly that address
      signer_expected  the recovered signer is the one the caller expects (if given)
      leaf_in_proof    the proof's leaf is (caseId, recordHash, signaturesHash) of the record
      proof_root       the Merkle proof leads from that leaf to the proof's root
      root_anchored    the chain has the proof's chain id, the contract has code, and
                       `recordOf(root)` is set
      tx_block         the transaction's receipt succeeded and holds `RootAnchored(root)`
                       from the contract, in the block the contract recorded, whose hash
                       is the chain's canonical one and whose time is the recorded time

* Pure logic is separated from chain I/O: `evaluate()` takes a `ChainObservation` (plain
  data), `AnchorReader` is the only code that talks to a node (web3, JSON-RPC or the
  in-process py-evm). A court can thus test the verifier on fabricated observations.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import threading
from collections.abc import Callable, Collection, Sequence
from dataclasses import dataclass, replace
from enum import StrEnum
from functools import lru_cache
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from evidence import safejson
from evidence.commitment import DEFAULT_BUFFER_SIZE, Opening, commitment_of
from evidence.errors import (
    EvidenceError,
    FormatError,
    InvalidAddress,
    InvalidSignature,
    ProofError,
    UnsupportedVersion,
    WrongSigner,
)
from evidence.events import ROOT_ANCHORED, Event, bytes_of, decode_events, uint_of
from evidence.merkle import (
    LEAF_ENCODING,
    MAX_PROOF_LENGTH,
    StandardMerkleTree,
    hash_pair,
    leaf_hash,
    process_proof,
)
from evidence.records import EvidenceSubmission, SignedRecord, checksum_address
from evidence.report import CheckResult, Report, Status
from evidence.safejson import JsonObject

if TYPE_CHECKING:  # web3 is imported when a chain is read, not to verify offline
    from web3 import Web3

    from evidence.chain import AnchorRecord

__all__ = [
    "PROOF_FORMAT",
    "PROOF_FORMAT_VERSION",
    "AnchorClaim",
    "AnchorReader",
    "Anchoring",
    "BlockInfo",
    "ChainObservation",
    "ChainUnreachable",
    "Check",
    "CheckResult",
    "ProofFile",
    "ProvenNodes",
    "Status",
    "VerificationFailed",
    "VerificationInputError",
    "VerificationReport",
    "check_anchoring",
    "check_inclusion",
    "evaluate",
    "hash_file",
    "verify",
]

PROOF_FORMAT = "chainarb.proof"
PROOF_FORMAT_VERSION = 1
MAX_PROOF_JSON = 256 * 1024
"""A proof file holds a record (< 64 KiB) and at most 256 siblings: refuse anything bigger."""

class Check(StrEnum):
    """The checks, in the order they run."""

    FILE_HASH = "file_hash"
    COMMITMENT = "commitment"
    SIGNATURE = "signature"
    SIGNER_EXPECTED = "signer_expected"
    LEAF_IN_PROOF = "leaf_in_proof"
    PROOF_ROOT = "proof_root"
    ROOT_ANCHORED = "root_anchored"
    TX_BLOCK = "tx_block"


CHAIN_CHECKS = (Check.ROOT_ANCHORED, Check.TX_BLOCK)


# --- errors -----------------------------------------------------------------------------


class VerificationInputError(FormatError):
    """The inputs do not allow a verification (no record, no salt for a file, ...)."""

    code = "verification_input"


class ChainUnreachable(EvidenceError, OSError):
    """The chain could not be asked (node down, wrong URL, RPC error)."""

    code = "chain_unreachable"


class VerificationFailed(EvidenceError):
    """A check failed; `check`, `expected`, `found` and the whole `report` say which."""

    code = "verification_failed"

    def __init__(self, report: VerificationReport) -> None:
        failed = report.failure
        assert failed is not None
        self.report = report
        self.check = failed.name
        self.expected = failed.expected
        self.found = failed.found
        super().__init__(f"check {failed.name} failed: {failed.reason}")


# --- results ----------------------------------------------------------------------------


def _result_json(r: CheckResult) -> dict[str, Any]:
    """A result in this verifier's JSON (docs/evidence-verify.md): check, status, detail,
    and expected/found when known."""
    out: dict[str, Any] = {"check": str(r.name), "status": str(r.status), "detail": r.reason}
    if r.expected is not None:
        out["expected"] = r.expected
    if r.found is not None:
        out["found"] = r.found
    return out


@dataclass(frozen=True)
class Anchoring:
    """When and where a root was anchored, as the chain says."""

    root: bytes
    chain_id: int
    contract: str
    tx_hash: bytes
    block_number: int
    block_hash: bytes
    timestamp: int
    anchorer: str
    count: int
    confirmations: int | None = None  # blocks on top of it, this one included, when observed

    def to_json_obj(self) -> JsonObject:
        return {
            "confirmations": None if self.confirmations is None else str(self.confirmations),
            "root": "0x" + self.root.hex(),
            "chainId": str(self.chain_id),
            "contract": self.contract,
            "txHash": "0x" + self.tx_hash.hex(),
            "blockNumber": str(self.block_number),
            "blockHash": "0x" + self.block_hash.hex(),
            "timestamp": str(self.timestamp),
            "anchorer": self.anchorer,
            "count": str(self.count),
        }


@dataclass(frozen=True)
class VerificationReport(Report):
    """The item's checks (`evidence.report`) and what they established."""

    record_type: str | None = None
    record_hash: bytes | None = None
    signers: tuple[str, ...] = ()
    anchoring: Anchoring | None = None

    @property
    def ok(self) -> bool:
        """No check failed (skipped checks are listed in `skipped`)."""
        return self.failure is None

    @property
    def skipped(self) -> tuple[str, ...]:
        return self.named(Status.SKIPPED)

    def raise_for_failure(self) -> VerificationReport:
        if self.failure is not None:
            raise VerificationFailed(self)
        return self

    def to_json_obj(self) -> JsonObject:
        failure = self.failure
        return {
            "ok": self.ok,
            "failedCheck": None if failure is None else str(failure.name),
            "recordType": self.record_type,
            "recordHash": None if self.record_hash is None else "0x" + self.record_hash.hex(),
            "signers": list(self.signers),
            "anchoring": None if self.anchoring is None else self.anchoring.to_json_obj(),
            "checks": [_result_json(r) for r in self.checks],
        }


# --- the proof file ---------------------------------------------------------------------


def _hex32(value: object, what: str) -> bytes:
    if isinstance(value, bytes | bytearray) and len(value) == 32:
        return bytes(value)
    if isinstance(value, str) and value.startswith("0x") and len(value) == 66:
        try:
            return bytes.fromhex(value[2:])
        except ValueError:
            pass
    raise FormatError(f"proof file: {what}: expected 0x + 64 hex digits, found {value!r}")


def _proof_nodes(proof: list[object]) -> tuple[bytes, ...]:
    """`_hex32` over the siblings, its common case inline (a batch of 1,000 has 10 per
    proof, and a name for the error message is only made when there is an error)."""
    out = []
    for i, p in enumerate(proof):
        if type(p) is str and len(p) == 66 and p[:2] == "0x":
            try:
                out.append(bytes.fromhex(p[2:]))
                continue
            except ValueError:
                pass
        out.append(_hex32(p, f"proof[{i}]"))
    return tuple(out)


def _dec_uint(value: object, what: str) -> int:
    if isinstance(value, str) and value.isdigit() and (value == "0" or value[0] != "0"):
        return int(value)
    raise FormatError(f"proof file: {what}: expected a decimal string, found {value!r}")


@dataclass(frozen=True)
class AnchorClaim:
    """Where a proof says its root is anchored: the chain, the EvidenceAnchor contract and,
    when known, the transaction."""

    root: bytes
    chain_id: int
    contract: str
    tx_hash: bytes | None = None


@dataclass(frozen=True)
class ProofFile:
    """One item's Merkle proof plus where its root is anchored (format `chainarb.proof` v1).

    `record` (the signed record, public) and `opening` (salt + file hash of an evidence
    file, confidential) are optional: they may travel separately.
    """

    leaf: tuple[str, ...]
    proof: tuple[bytes, ...]
    root: bytes
    chain_id: int
    contract: str
    tx_hash: bytes | None = None
    leaf_encoding: tuple[str, ...] = LEAF_ENCODING
    record: SignedRecord | None = None
    opening: Opening | None = None

    KEYS: ClassVar[frozenset[str]] = frozenset(
        {"format", "v", "leafEncoding", "leaf", "proof", "root", "anchor"}
    )
    OPTIONAL: ClassVar[frozenset[str]] = frozenset({"record", "opening"})

    def __post_init__(self) -> None:
        if self.chain_id <= 0:
            raise FormatError(f"proof file: anchor.chainId: expected > 0, found {self.chain_id}")
        object.__setattr__(self, "contract", _checksum_contract(self.contract))
        if len(self.leaf) != len(self.leaf_encoding):
            raise FormatError(
                f"proof file: leaf has {len(self.leaf)} values, leafEncoding "
                f"{len(self.leaf_encoding)} types"
            )

    @classmethod
    def build(
        cls,
        tree: StandardMerkleTree,
        index: int,
        *,
        chain_id: int,
        contract: str,
        tx_hash: bytes | None = None,
        record: SignedRecord | None = None,
        opening: Opening | None = None,
    ) -> ProofFile:
        """The proof file of `tree.values[index]`."""
        return cls(
            leaf=tuple(str(v) for v in tree.values[index]),
            proof=tuple(tree.proof(index)),
            root=tree.root,
            chain_id=chain_id,
            contract=contract,
            tx_hash=tx_hash,
            leaf_encoding=tree.leaf_encoding,
            record=record,
            opening=opening,
        )

    @property
    def claim(self) -> AnchorClaim:
        """Where this proof says its root is anchored."""
        return AnchorClaim(self.root, self.chain_id, self.contract, self.tx_hash)

    def to_json_obj(self) -> JsonObject:
        anchor: dict[str, Any] = {"chainId": str(self.chain_id), "contract": self.contract}
        if self.tx_hash is not None:
            anchor["txHash"] = "0x" + self.tx_hash.hex()
        out: dict[str, Any] = {
            "format": PROOF_FORMAT,
            "v": PROOF_FORMAT_VERSION,
            "leafEncoding": list(self.leaf_encoding),
            "leaf": list(self.leaf),
            "proof": ["0x" + p.hex() for p in self.proof],
            "root": "0x" + self.root.hex(),
            "anchor": anchor,
        }
        if self.record is not None:
            out["record"] = self.record.to_json_obj()
        if self.opening is not None:
            out["opening"] = self.opening.to_json_obj()
        return out

    def to_json(self) -> bytes:
        return json.dumps(self.to_json_obj(), sort_keys=True, indent=2).encode() + b"\n"

    @classmethod
    def from_json(cls, data: bytes | str) -> ProofFile:
        if len(data) > MAX_PROOF_JSON:
            raise FormatError(f"proof file: {len(data)} bytes, more than {MAX_PROOF_JSON}")
        try:
            obj = safejson.loads(data, what="proof file", max_bytes=MAX_PROOF_JSON)
        except safejson.JsonTooDeep:
            raise
        except FormatError as exc:
            raise FormatError(f"proof file: not JSON ({exc})") from None
        return cls.from_json_obj(obj)

    @classmethod
    def from_json_obj(cls, obj: object) -> ProofFile:
        if not isinstance(obj, dict) or obj.get("format") != PROOF_FORMAT:
            raise FormatError(
                f'proof file: expected "format": "{PROOF_FORMAT}" (build one with '
                "`chainarb evidence prove`)"
            )
        if obj.get("v") != PROOF_FORMAT_VERSION:
            raise UnsupportedVersion(
                f"proof file: this library reads version {PROOF_FORMAT_VERSION}, found "
                f"{obj.get('v')!r}; upgrade the evidence library"
            )
        keys = obj.keys()
        if not keys >= cls.KEYS or not keys <= _ALL_PROOF_KEYS:
            raise FormatError(
                f"proof file: expected keys {sorted(cls.KEYS)} (+ optional "
                f"{sorted(cls.OPTIONAL)}), found {sorted(keys)}"
            )
        anchor = obj["anchor"]
        if not isinstance(anchor, dict) or not anchor.keys() >= _ANCHOR_KEYS or not (
            anchor.keys() <= _ANCHOR_KEYS_TX
        ):
            raise FormatError("proof file: anchor: expected {chainId, contract[, txHash]}")
        enc, leaf, proof = obj["leafEncoding"], obj["leaf"], obj["proof"]
        for name, value in (("leafEncoding", enc), ("leaf", leaf), ("proof", proof)):
            if not isinstance(value, list):
                raise FormatError(f"proof file: {name}: expected a list")
        if not all(isinstance(x, str) for x in (*enc, *leaf)):
            raise FormatError("proof file: leafEncoding and leaf hold strings")
        try:
            return cls(
                leaf=tuple(leaf),
                proof=_proof_nodes(proof),
                root=_hex32(obj["root"], "root"),
                chain_id=_dec_uint(anchor["chainId"], "anchor.chainId"),
                contract=anchor["contract"],
                tx_hash=_hex32(anchor["txHash"], "anchor.txHash") if "txHash" in anchor else None,
                leaf_encoding=tuple(enc),
                record=SignedRecord.from_json_obj(obj["record"]) if "record" in obj else None,
                opening=Opening.from_json_obj(obj["opening"]) if "opening" in obj else None,
            )
        except InvalidAddress as exc:
            raise FormatError(f"proof file: {exc}") from None


_ALL_PROOF_KEYS = ProofFile.KEYS | ProofFile.OPTIONAL
_ANCHOR_KEYS = frozenset({"chainId", "contract"})
_ANCHOR_KEYS_TX = _ANCHOR_KEYS | {"txHash"}


@lru_cache(maxsize=64)
def _checksum_contract(address: str) -> str:
    """EIP-55 check of the anchor address; cached because a batch's proofs all name the
    same contract (the check costs a keccak)."""
    return checksum_address(address, "anchor.contract")


# The all-bytes32 shortcut that used to be a private copy here is merkle.leaf_hash's own
# now (one implementation); the name stays for callers of the former copy.
_leaf_hash = leaf_hash


# --- chain observations (plain data) ----------------------------------------------------


@dataclass(frozen=True)
class BlockInfo:
    number: int
    hash: bytes
    timestamp: int


@dataclass(frozen=True)
class ChainObservation:
    """What the chain said about one root (filled by `AnchorReader`, or by hand in tests).

    `record` is the contract's `recordOf(root)` (`evidence.chain.lookup_anchor`), None when
    the root was never anchored. `tx_hash` is the transaction examined: the proof's, or
    the one found by its log. `receipt_*` are None when there is no such transaction;
    `logs` are the receipt's `RootAnchored` events. `block` is the chain's canonical block
    at the recorded block number.
    """

    chain_id: int
    contract_has_code: bool
    record: AnchorRecord | None
    tx_hash: bytes | None = None
    receipt_status: int | None = None
    receipt_block_number: int | None = None
    receipt_block_hash: bytes | None = None
    receipt_to: str | None = None
    logs: tuple[Event, ...] = ()
    block: BlockInfo | None = None
    latest_block: int | None = None  # the chain's head when observed (for confirmations)


# --- pure evaluation --------------------------------------------------------------------


class ProvenNodes:
    """A memo of inner-node hashes on proof paths that reached their root, for verifying
    many items of one batch: the upper levels of the tree are shared by all their proofs,
    so each is hashed once instead of once per item.

    It memoizes a pure function, `hash_pair(node, sibling)`, keyed by both inputs: every
    step of every proof is still checked, a changed sibling is still hashed, and the
    result of `fold` is always exactly `merkle.process_proof`'s (tested).
    """

    def __init__(self, max_nodes: int = 1 << 20) -> None:
        self._parent: dict[bytes, bytes] = {}
        self._max = max_nodes

    def fold(self, leaf: bytes, proof: Sequence[bytes], root: bytes) -> bytes:
        """The root `proof` leads to from `leaf`; `root` only decides what is remembered."""
        if len(proof) > MAX_PROOF_LENGTH:
            raise ProofError(f"proof: {len(proof)} nodes, more than {MAX_PROOF_LENGTH}")
        memo = self._parent
        new: list[tuple[bytes, bytes]] = []
        node = leaf
        for sibling in proof:
            key = node + sibling if node <= sibling else sibling + node
            parent = memo.get(key)
            if parent is None:
                parent = hash_pair(node, sibling)
                new.append((key, parent))
            node = parent
        if new and node == root and len(memo) + len(new) <= self._max:
            memo.update(new)
        return node


class _Run:
    """Accumulates results; the first failure turns the rest into NOT_RUN."""

    def __init__(self) -> None:
        self.results: list[CheckResult] = []
        self.failed = False

    def add(self, result: CheckResult) -> None:
        if self.failed:
            result = result.not_run("an earlier check failed")
        self.results.append(result)
        self.failed = self.failed or result.status is Status.FAILED

    def passed(self, check: Check, detail: str, found: str | None = None) -> None:
        self.add(CheckResult(check, Status.PASSED, detail, found=found))

    def fail(self, check: Check, detail: str, expected: str | None, found: str | None) -> None:
        self.add(CheckResult(check, Status.FAILED, detail, expected=expected, found=found))

    def skip(self, check: Check, detail: str) -> None:
        self.add(CheckResult(check, Status.SKIPPED, detail))


def _h(b: bytes | None) -> str:
    return "none" if b is None else "0x" + b.hex()


def evaluate(
    proof: ProofFile,
    *,
    file_sha256: bytes | None = None,
    record: SignedRecord | None = None,
    salt: bytes | None = None,
    expected_signers: str | Collection[str] | None = None,
    threshold: int | None = None,
    observation: ChainObservation | None = None,
    proven: ProvenNodes | None = None,
) -> VerificationReport:
    """Run every check on already gathered data. No I/O.

    Args:
        proof: the proof file.
        file_sha256: SHA-256 of the evidence file, when a file is verified.
        record: the signed record, when it is not embedded in the proof file.
        salt: the commitment salt, when the proof file carries no opening.
        expected_signers: who must have signed (required for Settlement and Award).
        threshold: how many of `expected_signers` (default all), for multi-signed records.
        observation: what the chain said; None skips the chain checks.
        proven: share one across the items of a batch: the inner nodes their proofs
            have in common are hashed once (same verdicts, fewer hashes).

    Raises:
        VerificationInputError: the inputs are insufficient (no record; a file but no salt).
    """
    signed = _pick_record(proof, record)
    opening = proof.opening
    if file_sha256 is not None and salt is None and opening is None:
        raise VerificationInputError(
            "a file was given but no salt to open its commitment: the proof file has no "
            '"opening"; pass the salt (CLI: --salt HEX) or use the proof file with the opening'
        )
    run = _Run()
    _check_file_and_commitment(run, signed, file_sha256, salt, opening)
    signers = _check_signatures(run, signed, expected_signers, threshold)
    _check_leaf_and_proof(run, proof, signed, proven)
    anchoring = None
    if observation is None:
        for check in CHAIN_CHECKS:
            run.skip(check, "no chain given: anchoring was not checked (give a chain / --rpc)")
    else:
        anchoring = _check_chain(run, proof.claim, observation)
    return VerificationReport(
        checks=tuple(run.results),
        record_type=signed.record.TYPE_NAME,
        record_hash=signed.record_hash,
        signers=signers,
        anchoring=None if run.failed else anchoring,
    )


def _pick_record(proof: ProofFile, record: SignedRecord | None) -> SignedRecord:
    if record is not None and proof.record is not None and record != proof.record:
        raise VerificationInputError(
            "the record given differs from the one embedded in the proof file; give one of them"
        )
    signed = record if record is not None else proof.record
    if signed is None:
        raise VerificationInputError(
            "no signed record: the proof file embeds none; pass it (CLI: --record FILE)"
        )
    return signed


def _check_file_and_commitment(
    run: _Run,
    signed: SignedRecord,
    file_sha256: bytes | None,
    salt: bytes | None,
    opening: Opening | None,
) -> None:
    if file_sha256 is None:
        run.skip(Check.FILE_HASH, "no file given: the signed record itself is verified")
        run.skip(Check.COMMITMENT, "no file given")
        return
    if opening is not None and not hmac.compare_digest(opening.file_sha256, file_sha256):
        run.fail(
            Check.FILE_HASH,
            "the file's SHA-256 differs from the hash in the commitment opening: the file "
            "was altered or is another file",
            _h(opening.file_sha256),
            _h(file_sha256),
        )
    else:
        run.passed(Check.FILE_HASH, "SHA-256 of the file", _h(file_sha256))
    rec = signed.record
    if not isinstance(rec, EvidenceSubmission):
        run.fail(
            Check.COMMITMENT,
            f"a file was given but the record is a {rec.TYPE_NAME}, which commits to no file; "
            "give the EvidenceSubmission record of this file",
            "EvidenceSubmission",
            rec.TYPE_NAME,
        )
        return
    if salt is None:
        assert opening is not None, "verify() refuses a file with neither salt nor opening"
        salt = opening.salt
    use_salt = salt
    try:
        computed = commitment_of(file_sha256, use_salt)
    except FormatError as exc:
        run.fail(Check.COMMITMENT, str(exc), "32-byte salt", f"{len(use_salt)} bytes")
        return
    if hmac.compare_digest(computed, rec.commitment):
        run.passed(Check.COMMITMENT, "SHA-256(TAG ‖ salt ‖ file hash) = record.commitment",
                   _h(computed))
    else:
        run.fail(
            Check.COMMITMENT,
            "the record's commitment does not open to this file with this salt: another "
            "file, a wrong salt, or an altered record",
            _h(rec.commitment),
            _h(computed),
        )


def _check_signatures(
    run: _Run,
    signed: SignedRecord,
    expected: str | Collection[str] | None,
    threshold: int | None,
) -> tuple[str, ...]:
    name = signed.record.TYPE_NAME
    field_name = signed.record.SIGNER_FIELD
    try:
        if field_name is not None:
            signers = signed.verify()  # exactly one signature, by the declared signer
        else:
            if not signed.signatures:
                raise InvalidSignature(f"{name}: no signature")
            signers = signed.signers()
    except (InvalidSignature, WrongSigner) as exc:
        declared = getattr(signed.record, _snake(field_name)) if field_name else None
        try:
            found = ", ".join(signed.signers()) or "no signature"
        except InvalidSignature:
            found = "no recoverable signer"
        run.fail(Check.SIGNATURE, str(exc), declared, found)
        run.skip(Check.SIGNER_EXPECTED, "")
        return ()
    run.passed(Check.SIGNATURE, f"{name} signed by {', '.join(signers)}", ", ".join(signers))
    if expected is None:
        if field_name is None:
            run.skip(
                Check.SIGNER_EXPECTED,
                f"{name} has no signer field and no expected signers were given: anyone "
                "could have signed it (give the expected signers)",
            )
        else:
            run.skip(Check.SIGNER_EXPECTED, "no expected signer given")
        return signers
    wanted = [expected] if isinstance(expected, str) else list(expected)
    try:
        wanted_norm = sorted({checksum_address(a, "expected signer") for a in wanted})
        if field_name is not None:
            # one signature, already recovered and equal to the declared signer above:
            # compare, do not recover it a second time
            if signers[0] not in wanted_norm:
                raise WrongSigner(f"{name}: signed by {signers[0]}, expected {wanted_norm}")
        else:
            signed.verify(wanted_norm, threshold=threshold)
    except (InvalidSignature, WrongSigner, InvalidAddress) as exc:
        run.fail(Check.SIGNER_EXPECTED, str(exc), ", ".join(wanted), ", ".join(signers))
        return signers
    run.passed(Check.SIGNER_EXPECTED, f"signed by the expected {', '.join(wanted_norm)}")
    return signers


def _snake(name: str) -> str:
    return "".join("_" + c.lower() if c.isupper() else c for c in name)


def _check_leaf_and_proof(
    run: _Run, proof: ProofFile, signed: SignedRecord, proven: ProvenNodes | None
) -> None:
    for result in check_inclusion(signed, proof.leaf_encoding, proof.leaf, proof.proof,
                                  proof.root, proven):
        run.add(result)


def check_inclusion(
    signed: SignedRecord,
    leaf_encoding: Sequence[str],
    leaf: Sequence[str],
    proof: Sequence[bytes],
    root: bytes,
    proven: ProvenNodes | None = None,
) -> tuple[CheckResult, CheckResult]:
    """The `leaf_in_proof` and `proof_root` checks of one record against one Merkle proof.
    Pure; the package verifier runs it on every proof of a package (its merkle_proofs)."""
    want = signed.merkle_leaf()
    if tuple(leaf_encoding) != LEAF_ENCODING or len(leaf) != len(LEAF_ENCODING):
        first = CheckResult(
            Check.LEAF_IN_PROOF, Status.FAILED,
            "the proof's leaf encoding is not chainarb's record leaf",
            expected=str(list(LEAF_ENCODING)),
            found=str(list(leaf_encoding) if len(leaf) == len(leaf_encoding) else list(leaf)))
    elif tuple(v.lower() for v in leaf) != want:
        names = ("caseId", "recordHash", "signaturesHash")
        diff = [n for n, a, b in zip(names, leaf, want, strict=True) if a.lower() != b]
        first = CheckResult(
            Check.LEAF_IN_PROOF, Status.FAILED,
            f"the proof is for another leaf ({', '.join(diff)} differ): it belongs to another "
            "record, or the record or its signatures were changed",
            expected="(" + ", ".join(want) + ")", found="(" + ", ".join(leaf) + ")")
    else:
        first = CheckResult(Check.LEAF_IN_PROOF, Status.PASSED,
                            "leaf = (caseId, recordHash, signaturesHash)",
                            found="(" + ", ".join(want) + ")")
    if not first.passed:
        return first, CheckResult(Check.PROOF_ROOT, Status.NOT_RUN, "an earlier check failed")
    try:
        node = leaf_hash(leaf_encoding, leaf)
        got = process_proof(node, proof) if proven is None else proven.fold(node, proof, root)
    except (ProofError, FormatError) as exc:
        return first, CheckResult(Check.PROOF_ROOT, Status.FAILED, str(exc),
                                  expected=_h(root), found="malformed proof")
    if got == root:
        return first, CheckResult(Check.PROOF_ROOT, Status.PASSED,
                                  f"{len(proof)} sibling(s) lead to the root", found=_h(got))
    return first, CheckResult(
        Check.PROOF_ROOT, Status.FAILED,
        "the proof leads to another root: the leaf is not in that batch, or the proof "
        "belongs to another batch",
        expected=_h(root), found=_h(got))


def check_anchoring(
    claim: AnchorClaim, obs: ChainObservation
) -> tuple[tuple[CheckResult, ...], Anchoring | None]:
    """The `root_anchored` and `tx_block` checks of a claimed anchoring against what the
    chain said, and the anchoring they establish. Pure; the package verifier runs it on
    every anchor of a package (its anchors check)."""
    run = _Run()
    anchoring = _check_chain(run, claim, obs)
    return tuple(run.results), anchoring


def _check_chain(run: _Run, claim: AnchorClaim, obs: ChainObservation) -> Anchoring | None:
    rec = obs.record
    if run.failed:
        run.skip(Check.ROOT_ANCHORED, "")
        run.skip(Check.TX_BLOCK, "")
        return None
    if obs.chain_id != claim.chain_id:
        run.fail(Check.ROOT_ANCHORED, "the node serves another chain than the proof names; "
                 "connect to the right network", str(claim.chain_id), str(obs.chain_id))
    elif not obs.contract_has_code:
        run.fail(Check.ROOT_ANCHORED, f"no contract at {claim.contract} on chain "
                 f"{obs.chain_id}: wrong address or wrong network", "contract code", "none")
    elif rec is None:
        run.fail(Check.ROOT_ANCHORED, "the contract has no record of this root: it was "
                 "never anchored (or not yet)", "recordOf(root).timestamp > 0", "0")
    else:
        run.passed(Check.ROOT_ANCHORED, f"recordOf(root): block {rec.block_number}, "
                   f"time {rec.timestamp}, by {rec.anchorer}", str(rec.timestamp))
    if run.failed:
        run.skip(Check.TX_BLOCK, "")
        return None
    problem = _tx_block_problem(claim, obs)
    if problem is not None:
        run.fail(Check.TX_BLOCK, *problem)
        return None
    assert rec is not None and obs.tx_hash is not None and obs.block is not None
    log = next(lg for lg in obs.logs if _anchors(lg, claim))
    run.passed(Check.TX_BLOCK, f"tx 0x{obs.tx_hash.hex()} in block {obs.block.number} "
               f"(0x{obs.block.hash.hex()}) emitted RootAnchored", _h(obs.tx_hash))
    return Anchoring(
        root=claim.root,
        chain_id=obs.chain_id,
        contract=claim.contract,
        tx_hash=obs.tx_hash,
        block_number=obs.block.number,
        block_hash=obs.block.hash,
        timestamp=obs.block.timestamp,
        anchorer=rec.anchorer,
        count=uint_of(log.args, "count"),
        confirmations=None if obs.latest_block is None
        else max(0, obs.latest_block - obs.block.number + 1),
    )


def _anchors(log: Event, claim: AnchorClaim) -> bool:
    """The log is the claimed contract's RootAnchored for the claimed root."""
    return log.address == claim.contract and log.args["root"] == claim.root


def _tx_block_problem(claim: AnchorClaim, obs: ChainObservation) -> tuple[str, str, str] | None:
    rec = obs.record
    assert rec is not None  # root_anchored passed
    if obs.tx_hash is None or obs.receipt_status is None:
        what = "the proof's transaction" if claim.tx_hash else "a RootAnchored log for it"
        return (f"{what} is not on this chain", _h(claim.tx_hash) if claim.tx_hash
                else "RootAnchored(root)", "none")
    if claim.tx_hash is not None and obs.tx_hash != claim.tx_hash:
        return ("observation is for another transaction", _h(claim.tx_hash), _h(obs.tx_hash))
    if obs.receipt_status != 1:
        return ("the transaction reverted", "status 1", f"status {obs.receipt_status}")
    if not any(_anchors(lg, claim) for lg in obs.logs):
        found = ", ".join(f"{lg.address}:{_h(bytes_of(lg.args, 'root'))}"
                          for lg in obs.logs) or "no such log"
        return ("the transaction did not anchor this root in this contract (the first "
                "anchoring of a root is the only one that emits RootAnchored)",
                f"RootAnchored({_h(claim.root)}) from {claim.contract}", found)
    if obs.receipt_block_number != rec.block_number:
        return ("the transaction is not in the block the contract recorded for the root",
                str(rec.block_number), str(obs.receipt_block_number))
    if obs.block is None or obs.block.number != rec.block_number:
        return ("the chain has no block at the recorded number", str(rec.block_number), "none")
    if obs.receipt_block_hash != obs.block.hash:
        return ("the receipt's block is not the canonical block at that height (reorg?)",
                _h(obs.block.hash), _h(obs.receipt_block_hash))
    if obs.block.timestamp != rec.timestamp:
        return ("the block's time differs from the time the contract recorded",
                str(rec.timestamp), str(obs.block.timestamp))
    return None


# --- I/O: files -------------------------------------------------------------------------


def hash_file(
    path: str | os.PathLike[str],
    progress: Callable[[int], None] | None = None,
    buffer_size: int = DEFAULT_BUFFER_SIZE,
) -> bytes:
    """SHA-256 of a file in constant memory, reporting bytes read to `progress`.

    A file smaller than the buffer is read in one `os.read` of its size + 1, without a
    file object or a zeroed 1 MiB buffer (together a fifth of the time for 100 KB
    evidence files). If that read does not return exactly the size (the file is being
    written, or is not a regular file), the rest is streamed as for a large file."""
    fd = os.open(path, _O_READ)
    try:
        digest = hashlib.sha256()
        size = os.fstat(fd).st_size
        if size < buffer_size:
            data = os.read(fd, size + 1)
            if progress is not None:
                progress(len(data))
            if len(data) == size:
                return hashlib.sha256(data).digest()
            digest.update(data)
        with open(fd, "rb", buffering=0, closefd=False) as f:
            buf = bytearray(buffer_size)
            view = memoryview(buf)
            while n := f.readinto(view):
                digest.update(view[:n])
                if progress is not None:
                    progress(n)
    finally:
        os.close(fd)
    return digest.digest()


_O_READ = os.O_RDONLY | getattr(os, "O_CLOEXEC", 0) | getattr(os, "O_BINARY", 0)


# --- I/O: the chain ---------------------------------------------------------------------


class AnchorReader:
    """Reads what a chain says about anchored roots; caches one observation per root.

    `chain` is a `web3.Web3` (any provider, including the in-process
    `EthereumTesterProvider`) or a JSON-RPC URL. Every node error becomes
    `ChainUnreachable`.
    """

    def __init__(self, chain: Web3 | str, *, timeout: float = 10.0) -> None:
        from web3 import Web3

        if isinstance(chain, str):
            if not chain.startswith(("http://", "https://")):
                raise VerificationInputError(
                    f"chain: expected an http(s):// JSON-RPC URL, found {chain!r}"
                )
            chain = Web3(Web3.HTTPProvider(chain, request_kwargs={"timeout": timeout}))
        self.w3 = chain
        self._cache: dict[tuple[str, bytes, bytes | None], ChainObservation] = {}
        self._lock = threading.Lock()
        self._chain_id: int | None = None

    def observe(self, contract: str, root: bytes, tx_hash: bytes | None = None) -> ChainObservation:
        key = (contract, root, tx_hash)
        with self._lock:
            hit = self._cache.get(key)
        if hit is not None:
            return hit
        try:
            obs = self._observe(contract, root, tx_hash)
        except EvidenceError:
            raise
        except Exception as exc:  # web3 raises many unrelated types for a dead node
            raise ChainUnreachable(
                f"could not read the chain ({type(exc).__name__}: {exc}); check the RPC URL "
                "and that the node is running"
            ) from exc
        with self._lock:
            self._cache[key] = obs
        return obs

    def _observe(self, contract: str, root: bytes, tx_hash: bytes | None) -> ChainObservation:
        # Adapter over evidence.chain.lookup_anchor (the record and its RootAnchored log);
        # the receipt and block reads it does not do are here.
        from hexbytes import HexBytes

        from evidence.chain import AnchorContractMissing, lookup_anchor

        w3 = self.w3
        if self._chain_id is None:
            self._chain_id = int(w3.eth.chain_id)
        chain_id = self._chain_id
        try:
            record = lookup_anchor(w3, contract, root, with_event=tx_hash is None)
        except AnchorContractMissing:
            return ChainObservation(chain_id, False, None)
        if record is None:
            return ChainObservation(chain_id, True, None)
        if tx_hash is None:
            tx_hash = record.tx_hash
            if tx_hash is None:  # no RootAnchored log could be found for the record
                return ChainObservation(chain_id, True, record)
        try:
            receipt = w3.eth.get_transaction_receipt(HexBytes(tx_hash))
        except Exception as exc:  # TransactionNotFound: a fact about the chain, not an outage
            if type(exc).__name__ == "TransactionNotFound":
                return ChainObservation(chain_id, True, record, tx_hash=tx_hash)
            raise
        block = w3.eth.get_block(record.block_number)
        latest = int(w3.eth.block_number)
        return ChainObservation(
            chain_id=chain_id,
            contract_has_code=True,
            record=record,
            tx_hash=tx_hash,
            receipt_status=int(receipt["status"]),
            receipt_block_number=int(receipt["blockNumber"]),
            receipt_block_hash=bytes(receipt["blockHash"]),
            receipt_to=receipt.get("to"),
            logs=tuple(decode_events(receipt["logs"], ROOT_ANCHORED)),
            block=BlockInfo(int(block["number"]), bytes(block["hash"]), int(block["timestamp"])),
            latest_block=latest,
        )


# --- the whole verification -------------------------------------------------------------


def verify(
    proof: ProofFile | str | os.PathLike[str],
    *,
    file: str | os.PathLike[str] | None = None,
    file_sha256: bytes | None = None,
    record: SignedRecord | None = None,
    salt: bytes | None = None,
    expected_signers: str | Collection[str] | None = None,
    threshold: int | None = None,
    chain: Web3 | str | AnchorReader | None = None,
    progress: Callable[[int], None] | None = None,
    proven: ProvenNodes | None = None,
) -> VerificationReport:
    """Verify one item end to end and return the report (it never raises on a failed check;
    call `report.raise_for_failure()` for that).

    Args:
        proof: a ProofFile or the path of a proof file.
        file: the evidence file (hashed here, streaming) - or give `file_sha256`.
        chain: a `web3.Web3`, a JSON-RPC URL, an `AnchorReader` (shares its cache), or
            None to skip the chain checks.

    Raises:
        FormatError / VerificationInputError: bad proof file or insufficient inputs.
        ChainUnreachable: the chain could not be asked.
        OSError: the file could not be read.
    """
    if not isinstance(proof, ProofFile):
        proof = ProofFile.from_json(Path(proof).read_bytes())
    if file is not None:
        file_sha256 = hash_file(file, progress)
    report = evaluate(
        proof,
        file_sha256=file_sha256,
        record=record,
        salt=salt,
        expected_signers=expected_signers,
        threshold=threshold,
        observation=None,
        proven=proven,
    )
    if chain is None or not report.ok:
        return report
    reader = chain if isinstance(chain, AnchorReader) else AnchorReader(chain)
    obs = reader.observe(proof.contract, proof.root, proof.tx_hash)
    return replace(
        report,
        **_chain_part(proof, report, obs),
    )


def _chain_part(
    proof: ProofFile, report: VerificationReport, obs: ChainObservation
) -> dict[str, Any]:
    run = _Run()
    run.results = [r for r in report.checks if r.name not in CHAIN_CHECKS]
    anchoring = _check_chain(run, proof.claim, obs)
    return {"checks": tuple(run.results), "anchoring": anchoring}

