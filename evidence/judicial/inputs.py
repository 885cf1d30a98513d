"""What the builder needs: `PackageInputs`, filled by the backend (or a test) from a case.

Everything here is data the service already holds; the builder only lays it out, and the
verifier recomputes every claim from the signed records, the chain and the authority's
certificate. Field docs say where each value comes from.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from evidence.blockproof import ChainHeader, ProvenReceipt
from evidence.judicial.provenance import SignedProvenanceEntry
from evidence.merkle import StandardMerkleTree, record_leaf
from evidence.records import Domain, ProceduralStep, SignedRecord
from evidence.steps import APPOINTMENTS

__all__ = [
    "ROLES",
    "AnchorInfo",
    "AwardDocument",
    "CaseInfo",
    "EnforcementInfo",
    "EvidenceItem",
    "InstitutionInfo",
    "LogCheckpoint",
    "LogConsistency",
    "LogInclusion",
    "LogInputs",
    "LogRange",
    "MerkleLeafProof",
    "Neutral",
    "PackageInputs",
    "Party",
    "StepEntry",
    "TimestampToken",
    "appointment_of",
]

ROLES = ("claimant", "respondent", "institution", "mediator", "arbitrator", "panelist", "court",
         "juror", "anyone")  # "anyone": a step any signer may make (enforcement.requested)
"""The roles a signer may claim. Who holds which is derived by the verifier (docs)."""


@dataclass(frozen=True, kw_only=True)
class Party:
    """A party to the dispute. `address` is the wallet that signs its records."""

    role: str  # "claimant" or "respondent"
    side: str  # "buyer" or "seller" on the escrow order
    address: str
    profile: SignedRecord | None = None
    """The party's own signed `Profile` (name, country, language, contact), if declared:
    the package states nothing about a party that the party did not sign."""


@dataclass(frozen=True, kw_only=True)
class Neutral:
    """A mediator, arbitrator, panelist or court, as appointed: its `Profile` (its own, or
    issued by the institution) and, for a neutral, its signed `Disclosure`."""

    role: str
    address: str
    profile: SignedRecord | None = None
    disclosure: SignedRecord | None = None


@dataclass(frozen=True, kw_only=True)
class InstitutionInfo:
    """The platform operator. `address` is the service key that signs appointments and
    provenance entries, and must be the institution named on the escrow order."""

    name: str
    """The legal name in English; `name_zh` in Chinese."""
    address: str
    seat: str = ""
    website: str = ""
    name_zh: str = ""
    registration: str = ""
    """Register and number of the legal entity (e.g. a unified social credit code)."""
    key_custody_en: str = ""
    """How the key at `address` is held (an HSM, a file on the operator's machine...)."""
    key_custody_zh: str = ""
    independence_en: str = ""
    independence_zh: str = ""
    security_en: str = ""
    """How the service keeps data before anchoring (SPC Art. 18: security of systems)."""
    security_zh: str = ""


@dataclass(frozen=True, kw_only=True)
class CaseInfo:
    case_id: bytes
    order_id: int
    title: str
    dispute_type: str
    remedy: str
    amount: int
    """Escrowed amount in the token's smallest unit."""
    token: str
    """Token address; the zero address for the chain's native currency."""
    currency: str = "ETH"
    decimals: int = 18
    filed_at: int = 0


@dataclass(frozen=True, kw_only=True)
class StepEntry:
    """One signed record of the case and the role its signer(s) claim.

    Chained records (with `sequence`) form the hash chain; `Settlement` and `Award` are
    not chained and enter it through a `ProceduralStep` whose payloadHash is their record
    hash. `payload` is the canonical JSON whose SHA-256 is a ProceduralStep's payloadHash
    when the step has details the verifier reads (appointments, filing); None otherwise.
    """

    record: SignedRecord
    role: str
    payload: bytes | None = None
    label_en: str = ""
    label_zh: str = ""


@dataclass(frozen=True, kw_only=True)
class EvidenceItem:
    """One evidence item: the court's plain copy and what opens its commitment."""

    item_id: str
    path: Path
    filename: str
    media_type: str
    salt: bytes
    submission_sequence: int
    """The sequence of the EvidenceSubmission record (among `steps`) that commits to it."""
    provenance: Sequence[SignedProvenanceEntry] = ()
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class AnchorInfo:
    """An anchored Merkle root on one chain, as the anchoring worker confirmed it (a root
    anchored on several chains has one per chain)."""

    root: bytes
    chain_id: int
    contract: str
    tx_hash: bytes
    block_number: int
    block_hash: bytes
    block_time: int
    count: int
    chain_name: str = ""
    operator: str = "institution"
    """Who runs the chain: "institution" or "independent" (evidence.judicial.chains)."""


@dataclass(frozen=True, kw_only=True)
class MerkleLeafProof:
    """An OpenZeppelin StandardMerkleTree proof that a record is a leaf under `root`.

    `value` and `encoding` are the leaf as `StandardMerkleTree.verify(root, encoding,
    value, proof)` takes it; `record_hash` names the record it proves (its EIP-712 digest).
    """

    record_hash: bytes
    root: bytes
    encoding: Sequence[str]
    value: Sequence[Any]
    proof: Sequence[bytes]

    @classmethod
    def for_record(cls, signed: SignedRecord, tree: StandardMerkleTree) -> MerkleLeafProof:
        """The proof of `signed`'s leaf `(caseId, recordHash, signaturesHash)` in `tree`.

        Raises ProofError when the record is not a leaf of the tree.
        """
        value = record_leaf(signed.record.case_id, signed.record_hash, signed.signatures_hash)
        index = tree.index_of(value)
        return cls(
            record_hash=signed.record_hash,
            root=tree.root,
            encoding=tree.leaf_encoding,
            value=value,
            proof=tree.proof(index),
        )


@dataclass(frozen=True, kw_only=True)
class TimestampToken:
    """An RFC 3161 response over SHA-256(root) for one anchored root."""

    root: bytes
    response: bytes


@dataclass(frozen=True, kw_only=True)
class AwardDocument:
    """The reasoned award the arbitrator signed off; SHA-256 is the Award's awardHash."""

    filename: str
    content: bytes
    media_type: str = "application/pdf"


@dataclass(frozen=True, kw_only=True)
class EnforcementInfo:
    """Where the escrow order was opened and where the award was paid out."""

    escrow: str
    open_tx: bytes
    """Transaction that emitted OrderOpened (buyer, seller, institution)."""
    enforcement_tx: bytes | None
    """Transaction that emitted OrderResolved (the payout); None if not yet enforced."""
    acts: Sequence[tuple[str, bytes]] = ()
    """Every act of the escrow for the order: (event name, transaction), in chain order
    (`evidence.chainproofs.escrow_acts`); each needs its proven receipt."""


@dataclass(frozen=True, kw_only=True)
class PackageInputs:
    """Everything one case's judicial package holds. See docs/judicial-package.md."""

    domain: Domain
    case: CaseInfo
    parties: Sequence[Party]
    institution: InstitutionInfo
    rules: Mapping[str, object]  # written into the manifest as JSON, never read here
    """The rules applied (name, version, deadlines in days, seat, language...)."""
    steps: Sequence[StepEntry]
    evidence: Sequence[EvidenceItem]
    car_path: Path | None
    """CARv1 holding every block of the encrypted evidence containers; None exactly when
    ``evidence`` is empty (a CARv1 needs at least one root, so a case without evidence
    has no ``blocks.car``)."""
    anchors: Sequence[AnchorInfo]
    proofs: Sequence[MerkleLeafProof]
    timestamps: Sequence[TimestampToken]
    tsa_certificates: bytes
    """PEM: the TSA certificate and the certificates up to its root."""
    award: AwardDocument | None
    enforcement: EnforcementInfo
    created_at: int
    """Unix time written into the manifest (fixed, so a rebuild gives the same bytes)."""
    neutrals: Sequence[Neutral] = ()
    verify_url_template: str = "https://verify.chainarb.example/p/{digest}"
    """Where the certificate's QR code points; `{digest}` is the package digest."""
    extra_files: Mapping[str, bytes] = field(default_factory=dict)
    """Additional documents under `documents/` (statements, pre-evaluation report...)."""
    block_headers: Sequence[ChainHeader] = ()
    """The header of every block holding a transaction the package relies on (anchors,
    escrow acts), so a court checks them offline (`evidence.chainproofs.collect_proofs`)."""
    receipts: Sequence[ProvenReceipt] = ()
    """Each such transaction's receipt with its proof in its block's receipts trie."""
    contract: SignedRecord | None = None
    """The contract of sale the order binds (`records/contract-of-sale.jsonl`), signed by
    buyer and seller; its log entry names the case, so a package of a case whose order has
    one carries it (docs/contract-of-sale.md)."""
    disclosures: Sequence[SignedRecord] = ()
    """Every Disclosure of the case, beyond those the neutrals cite (each is in the log
    under the case: the package carries them all; records/identities.jsonl)."""
    log: LogInputs | None = None
    """The institution's log (docs/log.md): each record's inclusion proof to an anchored
    checkpoint, the cited checkpoints with their anchoring, the consistency proofs between
    them and the case's completeness range (`proofs/log.json`). Required by the verifier
    (check ``log_*``); None only for test inputs that predate the log."""


@dataclass(frozen=True, kw_only=True)
class LogCheckpoint:
    """A signed checkpoint of the log (C2SP signed note, as the institution signed it) and
    its anchoring: the checkpoint rode in an anchored batch as one StandardMerkleTree leaf
    (docs/log.md); `anchor` proves that leaf into the batch's root, which
    `proofs/anchors.json` lists (its `record_hash` is SHA-256 of the note)."""

    note: bytes
    anchor: MerkleLeafProof


@dataclass(frozen=True, kw_only=True)
class LogInclusion:
    """One record's log entry (`entry`, the LogEntry bytes) at `index`, proven into the
    cited checkpoint of tree size `size` (RFC 9162 inclusion proof)."""

    record_hash: bytes
    index: int
    entry: bytes
    size: int
    proof: Sequence[bytes]


@dataclass(frozen=True, kw_only=True)
class LogConsistency:
    """RFC 9162 consistency proof from the cited checkpoint of size `old` to that of `new`."""

    old: int
    new: int
    proof: Sequence[bytes]


@dataclass(frozen=True, kw_only=True)
class LogRange:
    """Every entry of the log from checkpoint size `start` to `end` (two cited checkpoints,
    `start` at or before the case's first entry, `end` the last anchored one at export),
    with the compact range (`frontier`) of the tree at `start`: the verifier recomputes
    `end`'s root from them and so knows every entry of the case up to `end`."""

    start: int
    end: int
    frontier: Sequence[bytes]
    entries: Sequence[bytes]


@dataclass(frozen=True, kw_only=True)
class LogCaseIndex:
    """The case's head in the per-case index of the last cited checkpoint (docs/log.md
    §14): `head` (80 bytes) is leaf `position` of the index tree of `count` heads whose
    root that checkpoint's note names; `proof` its inclusion proof. With it the range is
    empty (start = end): the head says how many entries the case has, and which."""

    size: int
    count: int
    position: int
    head: bytes
    proof: Sequence[bytes]


@dataclass(frozen=True, kw_only=True)
class LogInputs:
    """The package's log section (`proofs/log.json`)."""

    origin: str
    checkpoints: Sequence[LogCheckpoint]
    inclusions: Sequence[LogInclusion]
    consistency: Sequence[LogConsistency]
    range: LogRange
    case_index: LogCaseIndex | None = None


def appointment_of(steps: Sequence[StepEntry], role: str, address: str) -> bytes | None:
    """The record hash of the last step appointing `address` as `role` (its payload names
    it), which a neutral's disclosure answers; None when no step does."""
    found = None
    for e in steps:
        rec = e.record.record
        if not (isinstance(rec, ProceduralStep) and APPOINTMENTS.get(rec.action) == role
                and e.payload is not None):
            continue
        try:
            appointees = json.loads(e.payload).get("appointees", [])
        except (ValueError, AttributeError):
            continue
        if any(isinstance(a, str) and a.lower() == address.lower() for a in appointees):
            found = e.record.record_hash
    return found
