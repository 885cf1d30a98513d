"""Verify a judicial package offline: named checks, each pass or fail with its reason.

Theory of operation:

* Trust only three things: the package's bytes, the hashes of the blocks it rests on
  (confirmed by sources the court chooses: JSON-RPC nodes, which must all agree, or a
  checkpoint file of hashes published elsewhere) and the time-stamping authority's
  certificate (the package's copy, or one the court pins with `tsa_trust`). Every claim
  of the manifest is recomputed from the signed records and from the logs of receipts
  proven, offline, into the carried block headers (`evidence.blockproof`); the manifest
  is never the source of a role, an address, a hash or a time. Only
  `block_confirmation` talks to a node.
* The archive is opened under bounds first (`archive`): a path that escapes the
  extraction folder, a link, or a compression bomb stops everything, because nothing in
  such an archive may be written to disk.
* Checks are independent: each reads what it needs and fails with a reason naming the
  file, record or item; a later check still runs after an earlier one failed, so one
  report lists every problem. A check that cannot run (no source confirms the block
  hashes, or a node does not answer) is `skip`, which is not a pass; a file that cannot
  be read as a ZIP at all (not a ZIP, truncated, corrupt bytes) is `Report.unreadable`,
  neither a pass nor a failed check. `Report.outcome` names the class (`chainarb verify`'s exit
  code).
* Who holds which role comes from (1) the escrow order on-chain (its proven `OrderOpened`:
  buyer, seller, institution), (2) the first chained record (its signer is the claimant, who
  must be the buyer or the seller; the other is the respondent) and (3) appointment
  steps signed by the institution (`appoint.mediator`, `appoint.arbitrator`,
  `appoint.panel`, `appoint.court`) whose payload names the appointees.
"""

from __future__ import annotations

import contextlib
import hashlib
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from enum import StrEnum
from functools import cached_property
from pathlib import Path
from typing import Any, NamedTuple

from cryptography import x509
from eth_utils import to_checksum_address
from typing_extensions import TypedDict
from web3 import Web3
from web3.providers import BaseProvider

from evidence import clocks
from evidence import jury as public_jury
from evidence.blockproof import BlockHeader, Receipt, verify_receipt
from evidence.chain import is_unreachable
from evidence.commitment import commitment_of, sha256_file
from evidence.errors import EvidenceError, FormatError
from evidence.events import (
    CONTRACT_OF_SALE_BOUND,
    ESCROW_ACTS,
    INSTITUTION_KEY_ROTATED,
    ORDER_OPENED,
    ORDER_RESOLVED,
    RESOLUTIONS,
    ROOT_ANCHORED,
    Event,
    EventSpec,
    address_of,
    bytes_of,
    decode_events,
    tuple_of,
    uint_of,
)
from evidence.judicial import _format as fmt
from evidence.judicial._attest import attestation_digest, attestation_typed_data
from evidence.judicial._contract import check_contract
from evidence.judicial._identity import check_identities
from evidence.judicial._jury import JuryStep
from evidence.judicial._jury import recompute as recompute_jury
from evidence.judicial._jury import section as section_of_jury
from evidence.judicial._log import (
    HeldReceipt,
    LogSection,
    check_checkpoints,
    check_completeness,
    check_consistency,
    check_receipts,
    read_section,
)
from evidence.judicial._log import (
    check_inclusion as check_log_inclusion,
)
from evidence.judicial._onchain import connect
from evidence.judicial._zip import DEFAULT_LIMITS, Limits, extract_zip
from evidence.judicial.chains import operator_only_note
from evidence.judicial.errors import (
    ArchiveBomb,
    MissingPackageFile,
    UnreadableArchive,
    UnsafeArchive,
)
from evidence.judicial.provenance import (
    SignedProvenanceEntry,
    check_log,
    performance_entry_values,
    provenance_entry_values,
)
from evidence.orders import OrderTerms
from evidence.published_keys import published_key_source
from evidence.records import (
    ZERO_HASH,
    Award,
    ChainedRecord,
    ContractOfSale,
    Disclosure,
    Domain,
    EvidenceSubmission,
    ProceduralStep,
    ReturnAward,
    ReturnSettlement,
    Settlement,
    SignedRecord,
    recover_signer,
)
from evidence.report import CheckResult, Note, NoteJson, Status
from evidence.report import Report as BaseReport
from evidence.sale_terms import RULES_VERSIONS
from evidence.steps import ANYONE, APPOINTMENTS, STEPS, step_of_record
from evidence.timestamp import load_certificates, parse_response, verify_token
from evidence.verify import check_inclusion

__all__ = [
    "CHECKS",
    "OPTIONAL_CHECKS",
    "STATUS_WORDS",
    "TSA_TRUST_FROM_PACKAGE",
    "BlockRef",
    "BlockRefJson",
    "Check",
    "CheckJson",
    "CheckResult",
    "Checkpoint",
    "Note",
    "Outcome",
    "Report",
    "ReportJson",
    "Status",
    "parse_checkpoint",
    "verify_package",
]


class Outcome(StrEnum):
    """What a report amounts to, most serious first (docs/judicial-package.md, exit codes)."""

    VERIFIED = "verified"  # every check passed
    FAILED = "failed"  # at least one check failed: the package is not what it claims
    NOT_RUN = "not_run"  # nothing failed, but some checks could not run (no chain, node down)
    UNREADABLE = "unreadable"  # the file cannot be read as a ZIP archive at all


CHECKS: tuple[tuple[str, str, str], ...] = (
    ("archive", "Archive is safe to open", "归档可安全打开"),
    ("files", "File checksums (SHA256SUMS)", "文件校验和"),
    (
        "manifest",
        "Manifest matches the signed records and the chain",
        "清单与签名记录及链上数据一致",
    ),
    ("signatures", "Electronic signatures", "电子签名"),
    ("roles", "Each signer held the role it claims", "签名人具有其所称角色"),
    ("step_chain", "Hash chain of procedural steps", "程序步骤哈希链"),
    (
        "jury",
        "Jury drawn as the public data fix it; every vote opens its commitment; the tally",
        "陪审团抽选可由公开数据重算；每张投票与其承诺一致；计票结果",
    ),
    (
        "identities",
        "Names of parties, neutrals and court, each signed by its key; neutrals' disclosures",
        "当事人、中立人员及法院名称均经其密钥签名；中立人员的披露声明",
    ),
    ("evidence", "Evidence files and salted commitments", "证据文件与加盐承诺值"),
    ("provenance", "Pre-chain provenance log (signed by the service)", "上链前来源记录"),
    ("merkle_proofs", "Merkle proofs to the anchored roots", "默克尔证明"),
    (
        "block_proofs",
        "Block headers and receipt proofs (recomputed offline)",
        "区块头与收据证明（离线重算）",
    ),
    ("anchors", "Anchors on the chain (tx, block, time)", "链上存证（交易、区块、时间）"),
    (
        "log_checkpoints",
        "Log checkpoints signed by the institution and anchored",
        "日志检查点经机构签名并已锚定",
    ),
    (
        "log_consistency",
        "Log checkpoints consistent with each other (the log only grew)",
        "日志检查点前后一致（日志只增不改）",
    ),
    (
        "log_inclusion",
        "Each record is in the institution's log at its index",
        "每条记录均在机构日志中的相应位置",
    ),
    (
        "log_completeness",
        "The log holds no record of the case the package leaves out",
        "日志中没有材料包遗漏的本案记录",
    ),
    ("timestamps", "RFC 3161 trusted timestamps", "可信时间戳"),
    (
        "clocks",
        "Signing times, block times and timestamps agree",
        "签名时间、区块时间与时间戳时间相互一致",
    ),
    ("car_blocks", "Encrypted IPFS blocks match their CIDs", "IPFS 加密数据块与内容标识一致"),
    (
        "award_payout",
        "Award allocation equals the escrow's payout (or its refund by timeout)",
        "裁决分配与链上托管执行一致（或超时退款）",
    ),
    (
        "onchain_acts",
        "Every on-chain act of the escrow is proven (dispute, appointments, award, payout)",
        "托管合约的每项链上行为均有证明（争议、指定、裁决、执行）",
    ),
    (
        "block_confirmation",
        "Block hashes confirmed by the court's own sources (--rpc, --checkpoint)",
        "区块哈希经法院自选来源确认（--rpc、--checkpoint）",
    ),
    (
        "attestation",
        "Institution's signature over SHA256SUMS; certificate shows its digest",
        "机构对材料包的签名；证书载明摘要",
    ),
    (
        "institution_key",
        "Institution key is not a published test key",
        "机构密钥不是公开的测试密钥",
    ),
    (
        "receipts",
        "Receipts held by a party: every receipted record is in the package, unaltered",
        "当事人所持回执：每条有回执的记录均在材料包中且未被篡改",
    ),
)
OPTIONAL_CHECKS = frozenset({"receipts"})
"""Checks that run only when asked for (`receipts`: `--receipts DIR`); absent otherwise."""
LABELS = {name: (en, zh) for name, en, zh in CHECKS}

TSA_TRUST_FROM_PACKAGE = Note(
    "tsa_trust_from_package",
    "The timestamps were checked against the TSA certificates the package itself carries: "
    "their trust comes from the package, not from you. Pin the time-stamping authorities "
    "you trust with --tsa-cert (it may be given several times).",
    "时间戳是依据材料包自带的时间戳机构证书核验的：其可信性来自材料包本身，而非您的判断。"
    "请用 --tsa-cert 指定您信任的时间戳机构证书（可多次指定）。",
)
"""Said beside the checks when the court pinned no TSA (`Report.notes`)."""

# Who may sign which step, and which steps appoint whom: the service's own step table
# (evidence/steps.py), so the court's verifier and the service cannot disagree.

OPEN_ACTIONS = frozenset(s.action for s in STEPS if s.signers == {ANYONE})
"""Steps any signer may make: the escrow lets anyone submit a final award for execution,
so the step's signer needs no role (the timeline may claim any role, or "anyone")."""


def allowed_roles(type_name: str, action: str | None) -> frozenset[str] | None:
    """Roles that may sign a chained record of this type/action (the step table's
    signers); None when the record is no step of the table (a default the institution
    records), which any role may claim."""
    spec = step_of_record(type_name, action)
    return spec.signers if spec is not None else None


Check = CheckResult
"""A package check's result: the one model both verifiers report with (`evidence.report`)."""

STATUS_WORDS = {Status.PASSED: "pass", Status.FAILED: "fail", Status.SKIPPED: "skip",
                Status.NOT_RUN: "skip"}
"""The package report's words for the statuses (docs/judicial-package.md, its JSON)."""


class CheckJson(TypedDict):
    """A check in the package report's JSON (docs/judicial-package.md)."""

    name: str
    label: dict[str, str]  # "en", "zh"
    status: str  # STATUS_WORDS
    reason: str
    details: list[str]


class BlockRefJson(TypedDict):
    """A block the verdict rests on, in the report's JSON (numbers as decimal strings)."""

    chainId: str
    number: str
    hash: str
    timestamp: str


class ReportJson(TypedDict):
    """The package report's JSON (``chainarb verify --json``)."""

    package: str
    ok: bool
    outcome: str
    unreadable: str | None
    packageDigest: str | None
    chainId: int | None
    blocks: list[BlockRefJson]
    checks: list[CheckJson]
    notes: list[NoteJson]


def _check_json(c: CheckResult) -> CheckJson:
    """A result in the package report's JSON: name, bilingual label, status, reason, details."""
    en, zh = LABELS[c.name]
    return {
        "name": c.name,
        "label": {"en": en, "zh": zh},
        "status": STATUS_WORDS[c.status],
        "reason": c.reason,
        "details": list(c.details),
    }


class BlockRef(NamedTuple):
    """A block the verdict rests on: its chain, number, hash and time (from its header)."""

    chain_id: int
    number: int
    hash: bytes
    timestamp: int

    def to_json_obj(self) -> BlockRefJson:
        return {"chainId": str(self.chain_id), "number": str(self.number),
                "hash": fmt.hex0x(self.hash), "timestamp": str(self.timestamp)}


@dataclass(frozen=True)
class Report(BaseReport):
    """The package's checks (`CHECKS`, in order) and what the package is."""

    package: str = ""
    package_digest: str | None = None
    chain_id: int | None = None
    unreadable: str | None = None  # why the file cannot be read as a ZIP archive
    notes: tuple[Note, ...] = ()  # limits of what the checks prove (e.g. operator_only)
    blocks: tuple[BlockRef, ...] = ()
    """The blocks whose hashes the verdict rests on (`block_confirmation` confirms them)."""

    @property
    def ok(self) -> bool:
        return self.unreadable is None and bool(self.checks) and all(c.passed for c in self.checks)

    @property
    def outcome(self) -> Outcome:
        if self.unreadable is not None:
            return Outcome.UNREADABLE
        if self.failure is not None:
            return Outcome.FAILED
        return Outcome.VERIFIED if self.ok else Outcome.NOT_RUN

    def to_json_obj(self) -> ReportJson:
        return {
            "package": self.package,
            "ok": self.ok,
            "outcome": str(self.outcome),
            "unreadable": self.unreadable,
            "packageDigest": self.package_digest,
            "chainId": self.chain_id,
            "blocks": [b.to_json_obj() for b in self.blocks],
            "checks": [_check_json(c) for c in self.checks],
            "notes": [n.to_json_obj() for n in self.notes],
        }


class _CheckFailedError(Exception):
    """A check's failure with its reason (internal)."""

    def __init__(self, reason: str, details: Sequence[str] = ()) -> None:
        super().__init__(reason)
        self.reason = reason
        self.details = list(details)


class _CheckSkippedError(Exception):
    def __init__(self, reason: str) -> None:
        super().__init__(reason)
        self.reason = reason


@dataclass(frozen=True)
class _Proven:
    """A transaction's receipt, proven by its inclusion proof in a carried block header."""

    chain_id: int
    tx_hash: bytes
    header: BlockHeader
    index: int
    receipt: Receipt

    def events(self, spec: EventSpec, address: str) -> list[Event]:
        """The receipt's logs of `spec` emitted by `address`."""
        return decode_events([log.as_rpc() for log in self.receipt.logs], spec, address=address)

    @property
    def where(self) -> str:
        return f"block {self.header.number} 0x{self.header.hash.hex()}"


@dataclass(frozen=True)
class _BlockProofs:
    headers: dict[tuple[int, bytes], BlockHeader]
    receipts: dict[tuple[int, bytes], _Proven]
    problems: list[str]


def _read_block_proofs(p: _Package) -> _BlockProofs:
    """Parse proofs/blocks.json and proofs/receipts.json; keep what checks out offline."""
    headers: dict[tuple[int, bytes], BlockHeader] = {}
    receipts: dict[tuple[int, bytes], _Proven] = {}
    problems: list[str] = []
    blocks = p.json(fmt.BLOCKS)
    rows = blocks.get("headers") if isinstance(blocks, dict) else None
    if not isinstance(rows, list):
        raise _CheckFailedError(f"{fmt.BLOCKS}: expected {{'headers': [...]}}")
    for row in rows:
        try:
            chain_id = int(row["chainId"])
            claimed = fmt.from_hex(row["hash"], "hash", 32)
            header = BlockHeader.from_rlp(fmt.from_hex(row["rlp"], "rlp"))
            number = int(row["number"])
        except (KeyError, TypeError, ValueError, EvidenceError) as exc:
            problems.append(f"{fmt.BLOCKS}: malformed header ({exc})")
            continue
        if header.hash != claimed:
            problems.append(
                f"{fmt.BLOCKS}: the header given for block {number} 0x{claimed.hex()} hashes "
                f"to 0x{header.hash.hex()}: it is not that block's header")
            continue
        if header.number != number:
            problems.append(f"{fmt.BLOCKS}: block 0x{claimed.hex()} is number "
                            f"{header.number}, not {number}")
            continue
        headers[(chain_id, claimed)] = header
    data = p.json(fmt.RECEIPTS)
    rows = data.get("receipts") if isinstance(data, dict) else None
    if not isinstance(rows, list):
        raise _CheckFailedError(f"{fmt.RECEIPTS}: expected {{'receipts': [...]}}")
    for row in rows:
        try:
            chain_id = int(row["chainId"])
            tx = fmt.from_hex(row["txHash"], "txHash", 32)
            block_hash = fmt.from_hex(row["blockHash"], "blockHash", 32)
            index = int(row["index"])
            carried = fmt.from_hex(row["receipt"], "receipt")
            proof = [fmt.from_hex(n, "proof") for n in row["proof"]]
        except (KeyError, TypeError, ValueError, EvidenceError) as exc:
            problems.append(f"{fmt.RECEIPTS}: malformed receipt ({exc})")
            continue
        what = f"receipt of tx 0x{tx.hex()}"
        found = headers.get((chain_id, block_hash))
        if found is None:
            problems.append(f"{what}: no checked header of its block 0x{block_hash.hex()} "
                            f"on chain {chain_id} in {fmt.BLOCKS}")
            continue
        try:
            receipt = verify_receipt(found.receipts_root, index, proof)
        except EvidenceError as exc:
            problems.append(f"{what}: not in block {found.number}'s receipts trie ({exc})")
            continue
        if receipt.encode() != carried:
            problems.append(f"{what}: the receipt shown differs from the one its proof holds "
                            f"in block {found.number} (altered logs?)")
            continue
        receipts[(chain_id, tx)] = _Proven(chain_id, tx, found, index, receipt)
    return _BlockProofs(headers, receipts, problems)


class _Package:
    """The extracted package, parsed lazily; accessors raise _CheckFailedError with a reason."""

    def __init__(
        self,
        root: Path,
        names: list[str],
        sources: Sequence[tuple[str, Web3]],
        tsa_trust: list[x509.Certificate] | None,
        checkpoint: Checkpoint | None = None,
        tolerance: clocks.Tolerance = clocks.DEFAULT_TOLERANCE,
    ) -> None:
        self.root = root
        self.names = set(names)
        self.sources = list(sources)
        self.w3 = self.sources[0][1] if self.sources else None
        self.tsa_trust = tsa_trust
        self.checkpoint = checkpoint
        self.tolerance = tolerance
        self.unreachable: str | None = None  # set once the node failed to answer
        self.held_receipts: list[HeldReceipt] = []  # --receipts DIR: a party's receipts

    # -- files --

    def path(self, name: str) -> Path:
        if name not in self.names:
            raise _CheckFailedError(str(MissingPackageFile(name)))
        return self.root / name

    def read(self, name: str, max_size: int = fmt.MAX_JSON) -> bytes:
        path = self.path(name)
        if path.stat().st_size > max_size:
            raise _CheckFailedError(f"{name}: {path.stat().st_size} bytes, more than {max_size}")
        return path.read_bytes()

    def json(self, name: str) -> Any:
        try:
            return fmt.load_json(self.read(name), name)
        except EvidenceError as exc:
            raise _CheckFailedError(str(exc)) from exc

    @cached_property
    def manifest(self) -> dict[str, Any]:
        m = self.json(fmt.MANIFEST)
        if not isinstance(m, dict) or m.get("format") != fmt.FORMAT:
            raise _CheckFailedError(f"{fmt.MANIFEST}: expected format {fmt.FORMAT!r}")
        if m.get("version") != fmt.FORMAT_VERSION:
            raise _CheckFailedError(
                f"{fmt.MANIFEST}: format version {m.get('version')!r}; this verifier reads "
                f"version {fmt.FORMAT_VERSION}; upgrade the evidence library"
            )
        return m

    @cached_property
    def domain(self) -> Domain:
        try:
            return Domain.from_json_obj(self.manifest["domain"])
        except (EvidenceError, KeyError) as exc:
            raise _CheckFailedError(f"{fmt.MANIFEST}: domain unreadable ({exc})") from exc

    @cached_property
    def case_id(self) -> bytes:
        try:
            return fmt.from_hex(self.manifest["case"]["caseId"], "case.caseId", 32)
        except (EvidenceError, KeyError, TypeError) as exc:
            raise _CheckFailedError(f"{fmt.MANIFEST}: caseId unreadable ({exc})") from exc

    def _records(self, name: str, required: bool) -> list[SignedRecord]:
        if name not in self.names and not required:
            return []
        out = []
        for n, line in enumerate(self.read(name).splitlines(), 1):
            if not line.strip():
                continue
            try:
                out.append(SignedRecord.from_json(line))
            except EvidenceError as exc:
                raise _CheckFailedError(f"{name} line {n}: {exc}") from exc
        return out

    @cached_property
    def steps(self) -> list[SignedRecord]:
        steps = self._records(fmt.STEPS, True)
        if not steps:
            raise _CheckFailedError(f"{fmt.STEPS} holds no record")
        return steps

    @cached_property
    def unchained(self) -> list[SignedRecord]:
        return self._records(fmt.UNCHAINED, False)

    @cached_property
    def identities(self) -> list[SignedRecord]:
        """Profiles and disclosures (`records/identities.jsonl`), outside the step chain."""
        return self._records(fmt.IDENTITIES, True)

    @cached_property
    def contract(self) -> list[SignedRecord]:
        """The contract of sale its order binds (`records/contract-of-sale.jsonl`), if any."""
        return self._records(fmt.CONTRACT, False)

    @property
    def all_records(self) -> list[SignedRecord]:
        return self.steps + self.unchained

    @property
    def log_only(self) -> list[SignedRecord]:
        """Records the log proves but no anchored item proof does: the contract of sale and
        the case's disclosures (their entries name the case; docs/log.md §12)."""
        disclosures = [s for s in self.identities if isinstance(s.record, Disclosure)
                       and s.record.case_id == self.case_id]
        return self.contract + disclosures

    @cached_property
    def performance_names(self) -> dict[bytes, str]:
        """The log entries' record hashes of the performance evidence the package carries
        (`documents/performance-evidence.json`; docs/log.md §12, kind ``performance``), each
        with a name for the report; none when the order has no performance evidence."""
        name = fmt.PERFORMANCE
        if name not in self.names:
            return {}
        doc = self.json(name)
        items = doc.get("items") if isinstance(doc, dict) else None
        if not isinstance(items, list):
            raise _CheckFailedError(f"{name}: expected an object with a list of items")
        out: dict[bytes, str] = {}
        for n, item in enumerate(items, 1):
            try:
                if not isinstance(item, dict) or not isinstance(item.get("provenance"), list):
                    raise FormatError("expected an item with its provenance log")
                value, _ = performance_entry_values(item["provenance"], self.domain)
            except EvidenceError as exc:
                raise _CheckFailedError(f"{name} item {n}: {exc}") from exc
            out[value] = (f"performance evidence {item.get('eventId', n)!s:.80} "
                          f"({item.get('type', '?')!s:.40}, 0x{value.hex()[:16]}…)")
        return out

    @cached_property
    def provenance_names(self) -> dict[bytes, str]:
        """The log entries' record hashes of the provenance entries the package carries
        (docs/log.md §12, kind ``provenance``): every entry of each evidence item's log and
        each performance item's entries after its first, each named for the report."""
        out: dict[bytes, str] = {}
        logs: list[tuple[str, Any, bool]] = []
        for item in self.evidence_index:
            try:
                logs.append((f"evidence item {item.get('itemId')!s:.40}",
                             self.json(item["provenance"])["entries"], False))
            except (KeyError, TypeError) as exc:
                raise _CheckFailedError(f"{item.get('itemId')!s:.40}: provenance log "
                                        f"unreadable ({exc})") from exc
        if fmt.PERFORMANCE in self.names:
            doc = self.json(fmt.PERFORMANCE)
            for n, item in enumerate(doc.get("items", []) if isinstance(doc, dict) else [], 1):
                if isinstance(item, dict):
                    logs.append((f"performance evidence {item.get('eventId', n)!s:.80}",
                                 item.get("provenance"), True))
        for owner, entries, performance in logs:
            try:
                if not isinstance(entries, list):
                    raise FormatError("expected a list of signed entries")
                values = provenance_entry_values(entries, self.domain, performance=performance)
            except EvidenceError as exc:
                raise _CheckFailedError(f"{owner}: provenance log unreadable ({exc})") from exc
            first = 1 if performance else 0
            for n, (value, _) in enumerate(values, first):
                action = entries[n].get("entry", {}).get("action", "?")
                out[value] = (f"provenance entry {n} ({action!s:.40}) of {owner} "
                              f"(0x{value.hex()[:16]}…)")
        return out

    @property
    def log_names(self) -> dict[bytes, str]:
        """Records carried outside the record files, by their log entries' record hashes:
        performance evidence and provenance entries."""
        return {**self.provenance_names, **self.performance_names}

    def contract_bound(self) -> list[bytes]:
        """Contract hashes the order's opening transaction binds (ContractOfSaleBound)."""
        esc = self.escrow
        try:
            open_tx = fmt.from_hex(esc["openTx"], "openTx", 32)
            chain_id = int(esc["chainId"])
        except (KeyError, ValueError, TypeError, EvidenceError) as exc:
            raise _CheckFailedError(f"{fmt.ESCROW}: unreadable ({exc})") from exc
        proven = self.proven(chain_id, open_tx, "the order's opening")
        return [bytes_of(e.args, "contractHash") for e in proven.events(
            CONTRACT_OF_SALE_BOUND, self.domain.verifying_contract)
            if e.args["orderId"] == self.order.order_id]

    def payload(self, step: ProceduralStep) -> Any:
        name = f"{fmt.PAYLOADS_DIR}{step.payload_hash.hex()}.json"
        data = self.read(name)
        if hashlib.sha256(data).digest() != step.payload_hash:
            raise _CheckFailedError(
                f"{name}: its SHA-256 differs from step {step.sequence}'s payloadHash"
            )
        try:
            return fmt.load_json(data, name)
        except EvidenceError as exc:
            raise _CheckFailedError(str(exc)) from exc

    @cached_property
    def evidence_index(self) -> list[dict[str, Any]]:
        idx = self.json(fmt.EVIDENCE_INDEX)
        items = idx.get("items") if isinstance(idx, dict) else None
        if not isinstance(items, list):
            raise _CheckFailedError(f"{fmt.EVIDENCE_INDEX}: expected {{'items': [...]}}")
        return items

    @cached_property
    def anchors(self) -> list[dict[str, Any]]:
        data = self.json(fmt.ANCHORS)
        anchors = data.get("anchors") if isinstance(data, dict) else None
        if not isinstance(anchors, list) or not anchors:
            raise _CheckFailedError(f"{fmt.ANCHORS}: expected a non-empty 'anchors' list")
        return anchors

    @cached_property
    def anchorings(self) -> list[clocks.Anchoring]:
        """Each anchors.json row as (root, the block it states); a malformed row fails."""
        out = []
        for n, a in enumerate(self.anchors, 1):
            try:
                block = clocks.Block(
                    chain_id=int(a["chainId"]), number=int(a["blockNumber"]),
                    block_hash=fmt.from_hex(a["blockHash"], "blockHash", 32),
                    time=int(a["blockTime"]), source=f"{fmt.ANCHORS} row {n}")
                out.append(clocks.Anchoring(fmt.from_hex(a["root"], "root", 32), block))
            except (KeyError, TypeError, ValueError, EvidenceError) as exc:
                raise _CheckFailedError(f"{fmt.ANCHORS} row {n}: malformed ({exc})") from exc
        return out

    @property
    def blocks(self) -> list[clocks.Block]:
        """Every block whose number, hash and time the package states: the anchors' rows
        and each carried header that hashes to its block (proofs/blocks.json)."""
        out = [a.block for a in self.anchorings]
        with contextlib.suppress(_CheckFailedError):  # no headers: `block_proofs` says so
            out += [clocks.Block(chain_id, h.number, h.hash, h.timestamp,
                                 f"{fmt.BLOCKS} header 0x{h.hash.hex()[:16]}…")
                    for (chain_id, _), h in sorted(self.block_proofs.headers.items())]
        return out

    @cached_property
    def log(self) -> LogSection:
        """The log section (`proofs/log.json`); a package without one fails every `log_*`
        check: without it nothing shows that no accepted record was left out."""
        try:
            return read_section(self.json(fmt.LOG))
        except EvidenceError as exc:
            raise _CheckFailedError(str(exc)) from exc

    @cached_property
    def escrow(self) -> dict[str, Any]:
        data = self.json(fmt.ESCROW)
        if not isinstance(data, dict):
            raise _CheckFailedError(f"{fmt.ESCROW}: expected an object")
        return data

    # -- blocks and receipts (proven offline; confirmed by the court's own sources) --

    @cached_property
    def block_proofs(self) -> _BlockProofs:
        """Every header that hashes to its block and every receipt proven in one; the
        problems met on the way (the `block_proofs` check reports them)."""
        return _read_block_proofs(self)

    def block(self, chain_id: int, block_hash: bytes) -> BlockHeader | None:
        """The package's header of that block, checked (keccak of its RLP is `block_hash`);
        None when the package carries none. Other checks read block times through it."""
        return self.block_proofs.headers.get((chain_id, block_hash))

    def proven(self, chain_id: int, tx_hash: bytes, what: str) -> _Proven:
        """The receipt of `tx_hash`, proven in a carried header's receipts trie, or a failure
        naming `what` is not proven."""
        found = self.block_proofs.receipts.get((chain_id, tx_hash))
        if found is None:
            raise _CheckFailedError(
                f"{what}: transaction 0x{tx_hash.hex()} on chain {chain_id} has no receipt "
                f"proven in a block header of the package ({fmt.RECEIPTS}, {fmt.BLOCKS})")
        if found.receipt.status != 1:
            raise _CheckFailedError(f"{what}: transaction 0x{tx_hash.hex()} reverted")
        return found

    def node_down(self, exc: BaseException) -> _CheckSkippedError:
        """Remember that a node does not answer and say so: the confirmation could not run;
        it did not fail."""
        if self.unreachable is None:
            self.unreachable = (
                f"could not run: the chain's JSON-RPC node does not answer "
                f"({type(exc).__name__}: {exc})"
            )
        return _CheckSkippedError(self.unreachable)

    @cached_property
    def order(self) -> OrderTerms:
        """The escrow order as opened on-chain (its OrderOpened log, in a receipt proven in
        a carried block): the source of buyer, seller, institution."""
        esc = self.escrow
        try:
            escrow = to_checksum_address(esc["escrow"])
            open_tx = fmt.from_hex(esc["openTx"], "openTx", 32)
            order_id = int(esc["orderId"])
            chain_id = int(esc["chainId"])
        except (KeyError, ValueError, TypeError, EvidenceError) as exc:
            raise _CheckFailedError(f"{fmt.ESCROW}: unreadable ({exc})") from exc
        if escrow != self.domain.verifying_contract:
            raise _CheckFailedError(
                f"{fmt.ESCROW}: escrow {escrow} is not the records' signing domain's "
                f"contract {self.domain.verifying_contract}"
            )
        if chain_id != self.domain.chain_id:
            raise _CheckFailedError(
                f"the records were signed for chain {self.domain.chain_id}, but "
                f"{fmt.ESCROW} names chain {chain_id}"
            )
        proven = self.proven(chain_id, open_tx, "the order's opening")
        events = [
            e
            for e in proven.events(ORDER_OPENED, escrow)
            if e.args["orderId"] == order_id
        ]
        if len(events) != 1:
            raise _CheckFailedError(
                f"transaction 0x{open_tx.hex()} has no OrderOpened event for order "
                f"{order_id} from the escrow {escrow}"
            )
        return OrderTerms.from_event(events[0].args)

    # -- derived roles --

    @cached_property
    def roles(self) -> tuple[list[tuple[str, dict[str, set[str]]]], list[str]]:
        """For each chained record (in order): the role holders *before* it; and problems
        met while deriving them (unsigned or malformed appointments)."""
        order = self.order
        holders: dict[str, set[str]] = {
            r: set()
            for r in (
                "claimant",
                "respondent",
                "institution",
                "mediator",
                "arbitrator",
                "panelist",
                "court",
            )
        }
        holders["institution"] = {order.institution}
        problems: list[str] = []
        history: list[tuple[str, dict[str, set[str]]]] = []
        for i, signed in enumerate(self.steps):
            rec = signed.record
            signer = _single_signer(signed)
            if i == 0:
                if signer not in (order.buyer, order.seller):
                    problems.append(
                        f"the first step is signed by {signer}, who is neither the buyer "
                        f"{order.buyer} nor the seller {order.seller} of order {order.order_id}"
                    )
                else:
                    holders["claimant"] = {signer}
                    holders["respondent"] = {order.seller if signer == order.buyer else order.buyer}
            if signer not in holders["institution"] and any(
                    signer in self.successors_of(k) for k in holders["institution"]):
                # the escrow proves the holder handed over to this key (on-chain, signed
                # by the holder): from its first record on, the successor holds the role
                holders["institution"] = {signer}
            history.append((signed.record_hash.hex(), {k: set(v) for k, v in holders.items()}))
            if isinstance(rec, ProceduralStep) and rec.action in APPOINTMENTS:
                role = APPOINTMENTS[rec.action]
                if signer not in holders["institution"]:
                    problems.append(
                        f"step {rec.sequence} ({rec.action}) is signed by {signer}, not by the "
                        f"institution {' or '.join(sorted(holders['institution']))}: the "
                        "appointment is void"
                    )
                    continue
                try:
                    payload = self.payload(rec)
                    appointees: set[str] = {to_checksum_address(a) for a in payload["appointees"]}
                    if payload.get("role") != role:
                        raise ValueError(f"payload role {payload.get('role')!r} != {role!r}")
                except (_CheckFailedError, KeyError, TypeError, ValueError) as exc:
                    problems.append(f"step {rec.sequence} ({rec.action}): payload unusable ({exc})")
                    continue
                holders[role] = appointees
        history.append(("end", {k: set(v) for k, v in holders.items()}))
        return history, problems


    @cached_property
    def onchain_rotations(self) -> dict[str, tuple[str, _Proven]]:
        """The escrow's `InstitutionKeyRotated(previous, successor)` in the package's proven
        receipts (the records' chain, status 1, emitted by the escrow): previous ->
        (successor, where it is proven). The escrow lets only the old key send it."""
        out: dict[str, tuple[str, _Proven]] = {}
        try:
            receipts = list(self.block_proofs.receipts.values())
        except _CheckFailedError:  # unreadable proofs: `block_proofs` fails and says why
            return out
        for proven in receipts:
            if proven.chain_id != self.domain.chain_id or proven.receipt.status != 1:
                continue
            for e in proven.events(INSTITUTION_KEY_ROTATED, self.domain.verifying_contract):
                out[to_checksum_address(address_of(e.args, "previous"))] = (
                    to_checksum_address(address_of(e.args, "successor")), proven)
        return out

    def successors_of(self, key: str) -> list[str]:
        """The keys `key` handed over to on the escrow, one after the other (proven)."""
        chain: list[str] = []
        while key in self.onchain_rotations and len(chain) <= len(self.onchain_rotations):
            key = self.onchain_rotations[key][0]
            chain.append(key)
        return chain

    @cached_property
    def institution_keys(self) -> list[str]:
        """Every key that held the institution's role, in order: the order's, then each one
        an `institution.key_rotated` step signed by the key before it handed over to, then
        any the escrow proves the order's institution handed over to."""
        keys = [self.order.institution]
        for _, holders in self.roles[0]:
            keys += sorted(holders["institution"] - set(keys))
        for key in list(keys):
            keys += [k for k in self.successors_of(key) if k not in keys]
        return keys

    @property
    def institution_now(self) -> set[str]:
        """The key holding the institution's role at the end of the chain (it attests), or
        the last key the escrow proves it handed over to since (a case whose chain no key
        after the rotation signed: its package is attested by the new key)."""
        return {([k, *self.successors_of(k)])[-1] for k in self.roles[0][-1][1]["institution"]}


_Result = str | tuple[str, list[str]]
"""A passing check's reason, optionally with detail lines."""


def _single_signer(signed: SignedRecord) -> str:
    signers = signed.signers()
    return signers[0] if signers else ""


def _record_name(signed: SignedRecord) -> str:
    rec = signed.record
    if isinstance(rec, ChainedRecord):
        action = getattr(rec, "action", None)
        return f"step {rec.sequence} ({rec.TYPE_NAME}{' ' + action if action else ''})"
    return f"{rec.TYPE_NAME} 0x{signed.record_hash.hex()[:16]}…"


# --- the checks -------------------------------------------------------------------------


KEY_ROTATED = "institution.key_rotated"


def _key_chain(p: _Package) -> tuple[list[str], list[str]]:
    """The institution's keys as the case's chain hands them over: each
    `institution.key_rotated` step must be signed by the key holding the role at that point
    and be anchored (a Merkle proof of its record into a root the package lists as anchored;
    the `merkle` and `anchors` checks prove those). Problems, and one detail line per key."""
    history, _ = p.roles
    before = dict(history)
    merkle = p.json(fmt.MERKLE)
    proofs = merkle.get("proofs", []) if isinstance(merkle, dict) else []
    roots = {str(a.get("root", "")).removeprefix("0x").lower(): a for a in p.anchors}
    rooted = {str(pr.get("recordHash", "")).removeprefix("0x").lower():
              str(pr.get("root", "")).removeprefix("0x").lower()
              for pr in proofs if isinstance(pr, dict)}
    problems: list[str] = []
    details = [f"institution key / 机构密钥: {p.order.institution} (the order's, on-chain)"]
    for signed in p.steps:
        rec = signed.record
        if not isinstance(rec, ProceduralStep) or rec.action != KEY_ROTATED:
            continue
        signer = _single_signer(signed)
        holders = before.get(signed.record_hash.hex(), {}).get("institution", set())
        try:
            new = ", ".join(to_checksum_address(a) for a in p.payload(rec)["appointees"])
        except (_CheckFailedError, KeyError, TypeError, ValueError):
            new = "?"
        if signer not in holders:
            problems.append(
                f"step {rec.sequence} hands the institution to {new} but is signed by {signer}, "
                f"not by the key holding the role ({' or '.join(sorted(holders))}): the "
                "rotation is void")
            continue
        root = rooted.get(signed.record_hash.hex())
        anchor = roots.get(root or "")
        if anchor is None:
            problems.append(
                f"step {rec.sequence} hands the institution to {new} but is not anchored (no "
                "Merkle proof into an anchored root): an unanchored rotation binds no one")
            continue
        details.append(f"institution key / 机构密钥: {new}, handed over by {signer} at step "
                       f"{rec.sequence}, anchored in root 0x{str(root)[:16]}… on chain "
                       f"{anchor.get('chainId')} block {anchor.get('blockNumber')}")
    previous = p.order.institution
    for key in p.successors_of(previous):
        proven = p.onchain_rotations[previous][1]
        details.append(f"institution key / 机构密钥: {key}, handed over by {previous} on the "
                       f"escrow (InstitutionKeyRotated, tx 0x{proven.tx_hash.hex()} in "
                       f"{proven.where})")
        previous = key
    return problems, details


def _check_identities(p: _Package) -> _Result:
    """Names beside addresses, each bound to the key that signed it (`_identity`), and the
    institution's keys, each handed over by the one before (signed, anchored)."""
    history, _ = p.roles
    problems, details = check_identities(
        p.identities, p.manifest, steps=p.steps, payload_of=p.payload,
        holders=history[-1][1], institution=p.institution_keys, case_id=p.case_id,
        domain=p.domain)
    chain_problems, chain_details = _key_chain(p)
    people = len(details)
    problems, details = chain_problems + problems, details + chain_details
    if problems:
        raise _CheckFailedError(problems[0], problems)
    return (f"{people} people named, each name signed by its key; "
            f"{len(p.institution_keys)} institution key(s), each handed over by the one "
            "before"), details


def _check_files(p: _Package) -> str:
    sums = fmt.parse_checksums(p.read(fmt.CHECKSUMS))
    problems = [
        str(MissingPackageFile(n, "the format requires it"))
        for n in fmt.REQUIRED
        if n not in p.names
    ]
    for name, want in sorted(sums.items()):
        if name not in p.names:
            problems.append(str(MissingPackageFile(name, "SHA256SUMS lists it")))
            continue
        got = sha256_file(p.root / name).hex()
        if got != want:
            problems.append(f"{name}: SHA-256 {got}, SHA256SUMS says {want}")
    extra = sorted(p.names - set(sums) - set(fmt.OUTSIDE_CHECKSUMS))
    problems += [f"{n}: not listed in SHA256SUMS" for n in extra]
    if problems:
        raise _CheckFailedError(problems[0], problems)
    return f"{len(sums)} files match SHA256SUMS"


def _check_signatures(p: _Package) -> str:
    problems = []
    for signed in p.all_records:
        try:
            if signed.record.SIGNER_FIELD is not None:
                signed.verify()
            elif not signed.signatures:
                raise _CheckFailedError("no signature")
            else:
                signed.signers()
        except (EvidenceError, _CheckFailedError) as exc:
            problems.append(f"{_record_name(signed)}: {exc}")
    if problems:
        raise _CheckFailedError(problems[0], problems)
    return f"{len(p.all_records)} records, every signature recovers to its declared signer"


def _claims(p: _Package) -> dict[str, str]:
    """recordHash (hex, no 0x) -> claimed role, from the manifest's timeline."""
    out = {}
    for t in p.manifest.get("timeline", []):
        out[str(t.get("recordHash", "")).removeprefix("0x")] = str(t.get("role"))
    return out


def _check_roles(p: _Package) -> str:
    history, problems = p.roles
    problems = list(problems)
    if p.contract:
        problems += check_contract(p.contract, p.order, p.domain, p.contract_bound())[0]
    claims = _claims(p)
    for signed, (_, holders) in zip(p.steps, history, strict=False):
        rec = signed.record
        name = _record_name(signed)
        role = claims.get(signed.record_hash.hex())
        signer = _single_signer(signed)
        if role is None:
            problems.append(f"{name}: the timeline claims no role for it")
            continue
        action = getattr(rec, "action", None)
        if action in OPEN_ACTIONS:
            continue  # anyone may ask the escrow to execute a final award
        if role == ANYONE:
            problems.append(f"{name}: only {sorted(OPEN_ACTIONS)} may be made by anyone")
            continue
        allowed = allowed_roles(rec.TYPE_NAME, action)
        if allowed is not None and role not in allowed:
            problems.append(f"{name}: a {role} may not make it (allowed: {sorted(allowed)})")
        if signer not in holders.get(role, set()):
            problems.append(
                f"{name}: signed by {signer}, who did not hold the role {role} at that point "
                f"(holders: {sorted(holders.get(role, set())) or 'none'})"
            )
    final = history[-1][1]
    order = p.order
    for signed in p.unchained:
        rec = signed.record
        name = _record_name(signed)
        signers = set(signed.signers())
        if isinstance(rec, Award | ReturnAward):  # a ReturnAward is round 0 only
            pool = final["arbitrator"] if rec.round == 0 else final["panelist"]
            need = 1 if rec.round == 0 else 2
            role = "arbitrator" if rec.round == 0 else "panelist"
            strangers = signers - pool
            if strangers or len(signers & pool) < need:
                problems.append(
                    f"{name} (round {rec.round}): signed by {sorted(signers)}; expected {need} "
                    f"appointed {role}(s) of {sorted(pool) or 'none appointed'}"
                )
        elif isinstance(rec, Settlement | ReturnSettlement) and \
                signers != {order.buyer, order.seller}:
            problems.append(f"{name}: signed by {sorted(signers)}, expected buyer and seller")
    if problems:
        raise _CheckFailedError(problems[0], problems)
    bound = (", and the contract of sale is the order's buyer's and seller's, bound by the "
             "escrow") if p.contract else ""
    return ("every signer held the role it claims, by the order and signed appointments"
            + bound)


def _rules_by_contract(p: _Package, order: OrderTerms) -> bool:
    """An order opened with a contract of sale fixes the rules by the contract's rules
    version (its standard text's hash, docs/contract-of-sale.md) rather than by the rules
    document's SHA-256: true when the package carries that contract, the escrow bound it,
    and the order's rulesHash is the hash of the standard text the contract names."""
    for signed in p.contract:
        rec = signed.record
        if not isinstance(rec, ContractOfSale):
            continue
        text = RULES_VERSIONS.get(rec.rules_version)
        if text is not None and text.hash == rec.rules_hash == order.rules_hash \
                and signed.record_hash in p.contract_bound():
            return True
    return False


def _bound_hashes(p: _Package) -> set[bytes]:
    """Record hashes a signed step names: its payloadHash, or a 0x-hex value of 32 bytes in
    its payload (e.g. `offer.accepted` carries the Settlement's hash as `settlementHash`)."""
    bound: set[bytes] = set()
    for s in p.steps:
        rec = s.record
        if not isinstance(rec, ProceduralStep):
            continue
        bound.add(rec.payload_hash)
        if f"{fmt.PAYLOADS_DIR}{rec.payload_hash.hex()}.json" not in p.names:
            continue
        try:
            payload = p.payload(rec)
        except _CheckFailedError:
            continue
        for v in payload.values() if isinstance(payload, dict) else ():
            if isinstance(v, str) and len(v) == 66 and v.startswith("0x"):
                try:
                    bound.add(bytes.fromhex(v[2:]))
                except ValueError:
                    continue
    return bound


def _check_step_chain(p: _Package) -> str:
    problems = []
    prev = ZERO_HASH
    first = p.steps[0].record
    start = first.sequence if isinstance(first, ChainedRecord) else 1  # else refused below
    if start not in (0, 1):
        problems.append(f"the first step has sequence {start}; the chain starts at 0 or 1")
    last_time = 0
    for i, signed in enumerate(p.steps):
        rec = signed.record
        name = _record_name(signed)
        if not isinstance(rec, ChainedRecord):
            problems.append(f"{fmt.STEPS} line {i + 1}: {rec.TYPE_NAME} is not a chained record")
            continue
        if rec.sequence != start + i:
            problems.append(f"{name}: expected sequence {start + i} here (gap or reorder)")
        if rec.prev_hash != prev:
            problems.append(f"{name}: prevHash does not name the record before it")
        if rec.case_id != p.case_id:
            problems.append(f"{name}: made for case 0x{rec.case_id.hex()}")
        if signed.domain != p.domain:
            problems.append(f"{name}: signed under another domain (chain or contract)")
        signed_at = rec.signed_at
        if signed_at < last_time:
            problems.append(f"{name}: signedAt {signed_at} is before the previous step's")
        last_time = max(last_time, signed_at)
        prev = signed.record_hash
    bound = _bound_hashes(p)
    for signed in p.unchained:
        if signed.record_hash not in bound:
            problems.append(
                f"{_record_name(signed)}: no procedural step binds it into the chain "
                "(its record hash as a step's payloadHash or in a step's payload)"
            )
        if signed.record.case_id != p.case_id:
            problems.append(f"{_record_name(signed)}: made for another case")
        if signed.domain != p.domain:
            problems.append(f"{_record_name(signed)}: signed under another domain")
    if problems:
        raise _CheckFailedError(problems[0], problems)
    return f"{len(p.steps)} steps linked in order, {len(p.unchained)} records bound by steps"


class _Submission(NamedTuple):
    """A signed step whose record is an EvidenceSubmission (typed as one)."""

    signed: SignedRecord
    record: EvidenceSubmission

    @property
    def record_hash(self) -> bytes:
        return self.signed.record_hash


def _submissions(p: _Package) -> dict[int, _Submission]:
    return {s.record.sequence: _Submission(s, s.record) for s in p.steps
            if isinstance(s.record, EvidenceSubmission)}


def _check_evidence(p: _Package) -> str:
    subs = _submissions(p)
    problems = []
    seen: set[int] = set()
    for item in p.evidence_index:
        try:
            item_id = item["itemId"]
            seq = int(item["submissionSequence"])
            name = item["file"]
            salt = fmt.from_hex(item["salt"], "salt", 32)
            claimed = fmt.from_hex(item["sha256"], "sha256", 32)
            commitment = fmt.from_hex(item["commitment"], "commitment", 32)
        except (KeyError, TypeError, ValueError, EvidenceError) as exc:
            problems.append(f"{fmt.EVIDENCE_INDEX}: malformed item ({exc})")
            continue
        seen.add(seq)
        sub = subs.get(seq)
        if sub is None:
            problems.append(f"{item_id}: no EvidenceSubmission with sequence {seq}")
            continue
        if name not in p.names:
            problems.append(f"{item_id}: {MissingPackageFile(name)}")
            continue
        actual = sha256_file(p.root / name)
        if actual != claimed:
            problems.append(
                f"{item_id}: {name} has SHA-256 {actual.hex()}, the index says {claimed.hex()} "
                "(file edited or swapped)"
            )
        if str((p.root / name).stat().st_size) != str(item.get("size")):
            problems.append(f"{item_id}: size differs from the index")
        opened = commitment_of(actual, salt)
        if opened != sub.record.commitment:
            problems.append(
                f"{item_id}: file + salt give commitment 0x{opened.hex()}, but the signed "
                f"submission (step {seq}) commits to 0x{sub.record.commitment.hex()}"
            )
        if commitment != sub.record.commitment:
            problems.append(f"{item_id}: the index's commitment differs from the signed one")
        if item.get("contentCid") != sub.record.content_cid:
            problems.append(f"{item_id}: contentCid differs from the signed submission")
    for seq in sorted(set(subs) - seen):
        problems.append(f"evidence committed at step {seq} is missing from {fmt.EVIDENCE_INDEX}")
    if problems:
        raise _CheckFailedError(problems[0], problems)
    return f"{len(seen)} files open their signed commitments"


def _proof_roots(p: _Package) -> dict[str, str]:
    """recordHash hex -> root hex (no 0x), from merkle.json, unchecked."""
    data = p.json(fmt.MERKLE)
    out = {}
    for pr in data.get("proofs", []) if isinstance(data, dict) else []:
        if isinstance(pr, dict):
            out[str(pr.get("recordHash", "")).removeprefix("0x")] = str(
                pr.get("root", "")
            ).removeprefix("0x")
    return out


def _hex_norm(value: object) -> str:
    return str(value).lower().removeprefix("0x") if isinstance(value, str) else ""


def _check_provenance(p: _Package) -> str:
    subs = _submissions(p)
    service = p.institution_keys
    # One row per (root, chain): a root anchored on several chains has several transactions.
    anchor_txs: dict[str, set[str]] = {}
    for a in p.anchors:
        anchor_txs.setdefault(str(a.get("root", "")).removeprefix("0x"), set()).add(
            _hex_norm(a.get("txHash")))
    roots = _proof_roots(p)
    problems = []
    for item in p.evidence_index:
        item_id = item.get("itemId")
        try:
            data = p.json(item["provenance"])
            log = [SignedProvenanceEntry.from_json_obj(e) for e in data["entries"]]
            sub = subs[int(item["submissionSequence"])]
        except (_CheckFailedError, KeyError, TypeError, ValueError, EvidenceError) as exc:
            problems.append(f"{item_id}: provenance log unreadable ({exc})")
            continue
        commitment = sub.record.commitment
        for issue in check_log(
            log, case_id=p.case_id, commitment=commitment, domain=p.domain, service=service
        ):
            problems.append(f"{item_id}: {issue}")
        if not log:
            continue
        first, last = log[0].entry, log[-1].entry
        submitter = sub.record.submitter
        if first.action != "upload.received" or first.subject != submitter:
            problems.append(
                f"{item_id}: the log must begin with upload.received by the submitter {submitter}"
            )
        root = roots.get(sub.record_hash.hex())
        tx = last.details.get("txHash") if isinstance(last.details, dict) else None
        if (last.action != "anchored" or not _hex_norm(tx)
                or _hex_norm(tx) not in anchor_txs.get(root or "", set())):
            problems.append(
                f"{item_id}: the log must end with 'anchored' naming the transaction that "
                "anchored its submission's Merkle root"
            )
    if problems:
        raise _CheckFailedError(problems[0], problems)
    return (f"{len(p.evidence_index)} logs, every entry signed by the service "
            f"{' or '.join(service)}")


def _check_merkle(p: _Package) -> str:
    data = p.json(fmt.MERKLE)
    proofs = data.get("proofs") if isinstance(data, dict) else None
    if not isinstance(proofs, list):
        raise _CheckFailedError(f"{fmt.MERKLE}: expected a 'proofs' list")
    by_hash: dict[str, list[dict[str, Any]]] = {}
    for pr in proofs:
        if isinstance(pr, dict):
            by_hash.setdefault(str(pr.get("recordHash", "")).removeprefix("0x"), []).append(pr)
    roots = {str(a.get("root", "")).removeprefix("0x") for a in p.anchors}
    problems = []
    for signed in p.all_records:
        name = _record_name(signed)
        candidates = by_hash.get(signed.record_hash.hex(), [])
        if not candidates:
            problems.append(f"{name}: no Merkle proof for record 0x{signed.record_hash.hex()}")
            continue
        for pr in candidates:
            try:
                root = fmt.from_hex(pr["root"], "root", 32)
                nodes = [fmt.from_hex(n, "proof", 32) for n in pr["proof"]]
                # The item verifier's own checks (leaf_in_proof, proof_root), not a copy.
                results = check_inclusion(signed, tuple(pr["leafEncoding"]),
                                          tuple(str(v) for v in pr["value"]), nodes, root)
                failed = next((r for r in results if r.status is Status.FAILED), None)
                if failed is not None:
                    raise _CheckFailedError(f"{failed.reason} (expected {failed.expected}, "
                                            f"found {failed.found})")
                if root.hex() not in roots:
                    raise _CheckFailedError(f"root 0x{root.hex()} is not among the anchors")
            except (_CheckFailedError, EvidenceError, KeyError, TypeError, ValueError) as exc:
                problems.append(f"{name}: {exc}")
    # A proof whose record is gone means a record was removed (e.g. the chain's tail cut).
    known = {s.record_hash.hex() for s in p.all_records}
    for orphan in sorted(set(by_hash) - known):
        problems.append(f"proof for record 0x{orphan}, which is not in the package (removed?)")
    if problems:
        raise _CheckFailedError(problems[0], problems)
    return f"{len(p.all_records)} records proven into {len(roots)} anchored root(s)"


def _check_anchors(p: _Package) -> _Result:
    """Each root's RootAnchored log, in the receipt of the stated transaction, sent by the
    institution's key, proven in the stated block, whose header gives the stated number and
    time. Offline: the block
    hashes are confirmed by `block_confirmation`."""
    problems = []
    details = []
    for a in p.anchors:
        try:
            root = fmt.from_hex(a["root"], "root", 32)
            tx = fmt.from_hex(a["txHash"], "txHash", 32)
            block_hash = fmt.from_hex(a["blockHash"], "blockHash", 32)
            number = int(a["blockNumber"])
            when = int(a["blockTime"])
            chain_id = int(a["chainId"])
            contract = to_checksum_address(a["contract"])
        except (KeyError, TypeError, ValueError, EvidenceError) as exc:
            problems.append(f"{fmt.ANCHORS}: malformed anchor ({exc})")
            continue
        where = f"root 0x{root.hex()[:16]}…"
        try:
            proven = p.proven(chain_id, tx, f"the anchoring of {where}")
            header = proven.header
            found = (header.number, header.hash, header.timestamp)
            if found != (number, block_hash, when):
                raise _CheckFailedError(
                    f"tx 0x{tx.hex()} is in block {found[0]} 0x{found[1].hex()} at time "
                    f"{found[2]}, the package says block {number} 0x{block_hash.hex()} at "
                    f"time {when}")
            anchorers = {to_checksum_address(address_of(e.args, "anchorer"))
                         for e in proven.events(ROOT_ANCHORED, contract) if e.args["root"] == root}
            if not anchorers:
                raise _CheckFailedError(
                    f"tx 0x{tx.hex()} emitted no RootAnchored(0x{root.hex()}) from {contract}")
            # Anyone may call anchor(root): only the institution's own anchoring dates its
            # records (its worker sends from the institution's key, on every chain).
            if not anchorers & set(p.institution_keys):
                raise _CheckFailedError(
                    f"tx 0x{tx.hex()} anchored 0x{root.hex()} from {', '.join(sorted(anchorers))},"
                    f" not from the institution's key ({', '.join(p.institution_keys)}): anyone "
                    "may anchor a root; only the institution's anchoring counts")
            details.append(f"{where}: chain {chain_id} block {number} 0x{block_hash.hex()}, "
                           f"time {when}")
        except _CheckFailedError as exc:
            problems.append(f"{where}: {exc.reason}")
    if problems:
        raise _CheckFailedError(problems[0], problems)
    chains = sorted({str(a.get("chainId")) for a in p.anchors})
    return (f"{len(p.anchors)} root(s) anchored in proven blocks of chain(s) "
            f"{', '.join(chains)}", details)


def _check_block_proofs(p: _Package) -> str:
    bp = p.block_proofs
    if bp.problems:
        raise _CheckFailedError(bp.problems[0], bp.problems)
    if not bp.receipts:
        raise _CheckFailedError(f"{fmt.RECEIPTS} proves no receipt")
    return (f"{len(bp.headers)} block header(s) hash to their blocks; {len(bp.receipts)} "
            "receipt(s) proven in their blocks' receipts tries")


ACT_PATHS: dict[str, tuple[tuple[str, int | None], ...]] = {
    # The escrow's status machine (contracts/ArbitrationEscrow.sol): the acts that must
    # have happened before each resolution. (event, round of AwardSubmitted or None)
    "Settled": (("DisputeRaised", None),),
    "AwardExecuted": (("DisputeRaised", None), ("ArbitratorAppointed", None),
                      ("AwardSubmitted", 0)),
    "PanelAwardExecuted": (("DisputeRaised", None), ("ArbitratorAppointed", None),
                           ("AwardSubmitted", 0), ("AwardObjected", None),
                           ("PanelAppointed", None), ("AwardSubmitted", 1)),
    "TimeoutNoArbitrator": (("DisputeRaised", None),),
    "TimeoutNoAward": (("DisputeRaised", None), ("ArbitratorAppointed", None)),
    "TimeoutNoPanel": (("DisputeRaised", None), ("ArbitratorAppointed", None),
                       ("AwardSubmitted", 0), ("AwardObjected", None)),
    "TimeoutNoPanelAward": (("DisputeRaised", None), ("ArbitratorAppointed", None),
                            ("AwardSubmitted", 0), ("AwardObjected", None),
                            ("PanelAppointed", None)),
    # a return award's return stage (docs/contracts.md "Return and refund")
    "ReturnReceived": (("DisputeRaised", None), ("ArbitratorAppointed", None),
                       ("AwardSubmitted", 0), ("ReturnRequested", None),
                       ("ReturnShipped", None)),
    "ReturnDeemedReceived": (("DisputeRaised", None), ("ArbitratorAppointed", None),
                             ("AwardSubmitted", 0), ("ReturnRequested", None),
                             ("ReturnShipped", None)),
    "ReturnNotShipped": (("DisputeRaised", None), ("ArbitratorAppointed", None),
                         ("AwardSubmitted", 0), ("ReturnRequested", None)),
}
"""Which on-chain acts each resolution implies; one missing from the package is omitted."""

SETTLEMENT_RETURN_PATHS: dict[str, tuple[tuple[str, int | None], ...]] = {
    # a return settlement's return stage starts at once: no arbitrator, no award
    "ReturnReceived": (("DisputeRaised", None), ("ReturnRequested", None),
                       ("ReturnShipped", None)),
    "ReturnDeemedReceived": (("DisputeRaised", None), ("ReturnRequested", None),
                             ("ReturnShipped", None)),
    "ReturnNotShipped": (("DisputeRaised", None), ("ReturnRequested", None)),
}
"""The return resolutions' acts when a ReturnSettlement, not a ReturnAward, decided."""

_SPECS = {spec.name: spec for spec in (*ESCROW_ACTS, INSTITUTION_KEY_ROTATED)}


def _order_events(p: _Package) -> list[tuple[_Proven, Event]]:
    """Every escrow event of the order in the package's proven receipts, in chain order."""
    escrow, order_id, chain_id = p.domain.verifying_contract, p.order.order_id, p.domain.chain_id
    found = []
    for proven in p.block_proofs.receipts.values():
        if proven.chain_id != chain_id or proven.receipt.status != 1:
            continue
        for spec in ESCROW_ACTS:
            found += [(proven, e) for e in proven.events(spec, escrow)
                      if e.args["orderId"] == order_id]
    found.sort(key=lambda pe: (pe[0].header.number, pe[0].index, pe[1].log_index))
    return found


def _check_onchain_acts(p: _Package) -> _Result:
    """The escrow's acts of this order, each proven: every act escrow.json lists is in its
    receipt, every act the resolution implies is there, and their values match the
    signed records (case, appointees, award hashes)."""
    problems: list[str] = []
    acts = p.escrow.get("acts")
    if not isinstance(acts, list):
        raise _CheckFailedError(f"{fmt.ESCROW}: expected an 'acts' list")
    escrow, order_id = p.domain.verifying_contract, p.order.order_id
    for act in acts:
        try:
            name, tx = str(act["event"]), fmt.from_hex(act["txHash"], "txHash", 32)
            spec = _SPECS[name]
            proven = p.proven(p.domain.chain_id, tx, f"the escrow's {name}")
            if spec is INSTITUTION_KEY_ROTATED:  # the institution's, not one order's
                if not any(to_checksum_address(address_of(e.args, "previous")) in p.institution_keys
                           for e in proven.events(spec, escrow)):
                    problems.append(f"{name}: tx 0x{tx.hex()} holds no handover of the "
                                    f"order's institution from {escrow}")
                continue
            if not any(e.args["orderId"] == order_id for e in proven.events(spec, escrow)):
                problems.append(f"{name}: tx 0x{tx.hex()} holds no {name} of order {order_id} "
                                f"from {escrow}")
        except _CheckFailedError as exc:
            problems.append(exc.reason)
        except (KeyError, TypeError, EvidenceError) as exc:
            problems.append(f"{fmt.ESCROW}: malformed act ({exc})")
    events = _order_events(p)
    seen = [(e.name, e.args.get("round")) for _, e in events]
    opened = [e for _, e in events if e.name == "OrderOpened"]
    if len(opened) != 1:
        problems.append(f"{len(opened)} OrderOpened events for order {order_id}; expected one")
    resolved = [e for _, e in events if e.name == "OrderResolved"]
    resolution = None
    if len(resolved) > 1:
        problems.append(f"{len(resolved)} OrderResolved events for order {order_id}")
    elif resolved:
        code = uint_of(resolved[0].args, "resolution")
        resolution = RESOLUTIONS[code] if code < len(RESOLUTIONS) else "?"
    present = set(seen)
    by_settlement = not any(isinstance(s.record, Award | ReturnAward) for s in p.unchained) \
        and any(isinstance(s.record, ReturnSettlement) for s in p.unchained)
    paths = {**ACT_PATHS, **SETTLEMENT_RETURN_PATHS} if by_settlement else ACT_PATHS
    for name, round_ in paths.get(resolution or "", ()):
        if (name, round_) not in present:
            label = f"{name} (round {round_})" if round_ is not None else name
            problems.append(
                f"omitted on-chain act: the escrow's {label}, which precedes a {resolution} "
                f"resolution, is not proven in the package")
    problems += _act_values(p, [e for _, e in events])
    if problems:
        raise _CheckFailedError(problems[0], problems)
    details = [f"{e.name}: tx 0x{(e.tx_hash or b'').hex()} in {pr.where}" for pr, e in events]
    return (f"{len(events)} escrow act(s) of order {order_id} proven, "
            f"{resolution or 'no resolution'}", details)


def _act_values(p: _Package, events: list[Event]) -> list[str]:
    """The escrow's acts against the signed records: the case id, the appointees, the
    award hashes."""
    problems = []
    history, _ = p.roles
    final = history[-1][1]
    for e in events:
        if e.name in ("DisputeRaised", "ArbitratorAppointed", "AwardSubmitted",
                      "AwardObjected", "PanelAppointed") and e.args["caseId"] != p.case_id:
            case = bytes_of(e.args, "caseId")
            problems.append(f"{e.name}: for case 0x{case.hex()}, not the package's")
    awards = {s.record.round: s.record for s in p.unchained
              if isinstance(s.record, Award | ReturnAward)}
    for e in events:
        if (e.name == "AwardSubmitted" and e.args["round"] in awards
                and e.args["awardHash"] != awards[e.args["round"]].award_hash):
            problems.append(f"AwardSubmitted (round {e.args['round']}): awardHash differs "
                            "from the signed Award's")
        if e.name == "ArbitratorAppointed" and 0 in awards:
            last = [x for x in events if x.name == "ArbitratorAppointed"][-1]
            if e is last and last.args["arbitrator"] not in final["arbitrator"]:
                problems.append(f"ArbitratorAppointed names {last.args['arbitrator']}, not the "
                                "arbitrator the signed appointment names")
        if e.name == "PanelAppointed" and set(tuple_of(e.args, "panel")) != final["panelist"]:
            problems.append("PanelAppointed names another panel than the signed appointment")
    return problems


Checkpoint = Mapping[int, frozenset[bytes]]
"""Block hashes published for each chain id (docs/judicial-package.md, checkpoint file)."""


def parse_checkpoint(data: bytes) -> Checkpoint:
    """A checkpoint file: `{"chains": {"<chain id>": ["0x<block hash>", ...]}}`.

    Raises FormatError naming what is wrong."""
    obj = fmt.load_json(data, "checkpoint")
    chains = obj.get("chains") if isinstance(obj, dict) else None
    if not isinstance(chains, dict):
        raise FormatError('checkpoint: expected {"chains": {"<chain id>": ["0x<hash>", ...]}}')
    out: dict[int, frozenset[bytes]] = {}
    for key, hashes in chains.items():
        if not str(key).isdigit() or not isinstance(hashes, list):
            raise FormatError(f"checkpoint: chain {key!r}: expected a list of block hashes")
        out[int(key)] = frozenset(fmt.from_hex(h, "block hash", 32) for h in hashes)
    return out


def _relied_blocks(p: _Package) -> list[tuple[int, BlockHeader]]:
    """The blocks the verdict rests on: those holding a proven receipt, and a jury's draw
    blocks (their hash and prevrandao chose the jury), in order."""
    seen = {(r.chain_id, r.header.hash): r.header for r in p.block_proofs.receipts.values()}
    with contextlib.suppress(_CheckFailedError):
        seen |= {key: h for key, h in p.block_proofs.headers.items()
                 if "0x" + key[1].hex() in _draw_block_hashes(p)}
    return sorted(((c, h) for (c, _), h in seen.items()), key=lambda ch: (ch[0], ch[1].number))


def _check_block_confirmation(p: _Package) -> _Result:
    """The block hashes the offline checks rest on, confirmed by the court's sources: every
    --rpc node (all must agree; each answers for its own chain id) and the checkpoint."""
    blocks = _relied_blocks(p)
    if not blocks:
        raise _CheckFailedError("the package proves no block to confirm")
    confirmed: dict[tuple[int, bytes], list[str]] = {}
    problems: list[str] = []
    cp = p.checkpoint or {}
    for chain_id, h in blocks:
        if chain_id in cp:
            if h.hash in cp[chain_id]:
                confirmed.setdefault((chain_id, h.hash), []).append("checkpoint")
            else:
                problems.append(f"chain {chain_id} block {h.number} 0x{h.hash.hex()}: not in "
                                "the checkpoint, which lists that chain's blocks")
    served: dict[str, int] = {}
    down: BaseException | None = None
    for name, w3 in p.sources:
        try:
            served[name] = int(w3.eth.chain_id)
            latest = int(w3.eth.block_number)
            for chain_id, h in blocks:
                if chain_id != served[name]:
                    continue
                got = w3.eth.get_block(h.number)
                if bytes(got["hash"]) != h.hash:
                    problems.append(
                        f"chain {chain_id} block {h.number}: {name} says 0x"
                        f"{bytes(got['hash']).hex()}, the package's header is 0x{h.hash.hex()}")
                else:
                    confirmed.setdefault((chain_id, h.hash), []).append(
                        f"{name} ({latest - h.number + 1} confirmation(s))")
        except Exception as exc:  # a node down, or one that does not have the block
            if is_unreachable(exc):
                down = down or exc
                continue
            problems.append(f"{name}: cannot confirm ({type(exc).__name__}: {exc})")
    if problems:  # a source that contradicts the package outweighs one that is silent
        raise _CheckFailedError(problems[0], problems)
    if down is not None:
        raise p.node_down(down)
    pending = [f"chain {c} block {h.number} 0x{h.hash.hex()}" for c, h in blocks
               if (c, h.hash) not in confirmed]
    if pending:
        asked = "; ".join(f"{n} serves chain {c}" for n, c in served.items())
        raise _CheckSkippedError(
            "not confirmed: the verdict rests on these block hashes; confirm each on a node "
            "or explorer you choose (--rpc URL, several allowed) or with --checkpoint FILE"
            + (f" ({asked})" if asked else "") + ": " + "; ".join(pending))
    return (f"{len(blocks)} block hash(es) confirmed",
            [f"chain {c} block {h.number} 0x{h.hash.hex()}: "
             f"{', '.join(confirmed[(c, h.hash)])}" for c, h in blocks])


def _check_timestamps(p: _Package) -> _Result:
    try:
        package_certs = load_certificates(p.read(fmt.TSA_CERTS))
    except EvidenceError as exc:
        raise _CheckFailedError(f"{fmt.TSA_CERTS}: {exc}") from exc
    if p.tsa_trust is not None:
        # The court's own anchor; the package's certificates may only link to it.
        trusted, intermediates = p.tsa_trust, package_certs
        note = "against the pinned authority certificate(s)"
    else:
        trusted, intermediates = package_certs, []
        note = "against the package's TSA certificates (pin yours with --tsa-cert)"
    problems, details = [], []
    for a in p.anchors:
        root_hex = str(a.get("root", "")).removeprefix("0x")
        name = f"{fmt.TIMESTAMPS_DIR}{root_hex}.tsr"
        try:
            root = bytes.fromhex(root_hex)
            info = verify_token(
                p.read(name),
                hashlib.sha256(root).digest(),
                trusted=trusted,
                intermediates=intermediates,
            )
            details.append(f"{name}: genTime {info.gen_time.isoformat()} by {info.signer_subject}")
        except (_CheckFailedError, EvidenceError, ValueError) as exc:
            problems.append(f"{name}: {exc}")
    if problems:
        raise _CheckFailedError(problems[0], problems)
    return f"{len(p.anchors)} token(s) over SHA-256(root) verify {note}", details


def _proven_roots(p: _Package) -> dict[bytes, set[bytes]]:
    """Record hash -> the roots merkle.json proves it into (as stated; `merkle_proofs`
    checks the proofs)."""
    data = p.json(fmt.MERKLE)
    proofs = data.get("proofs") if isinstance(data, dict) else None
    if not isinstance(proofs, list):
        raise _CheckFailedError(f"{fmt.MERKLE}: expected a 'proofs' list")
    out: dict[bytes, set[bytes]] = {}
    for pr in proofs:
        try:
            out.setdefault(fmt.from_hex(pr["recordHash"], "recordHash", 32), set()).add(
                fmt.from_hex(pr["root"], "root", 32))
        except (KeyError, TypeError, EvidenceError) as exc:
            raise _CheckFailedError(f"{fmt.MERKLE}: malformed proof ({exc})") from exc
    return out


def _check_clocks(p: _Package) -> _Result:
    """The three clocks agree (evidence/clocks.py): signedAt, block times, genTime."""
    anchorings = p.anchorings
    roots_of = _proven_roots(p)
    records = [
        clocks.SignedTime(_record_name(s), s.record.signed_at,
                          tuple(sorted(roots_of.get(s.record_hash, ()))))
        for s in p.all_records if isinstance(s.record, ChainedRecord)
    ]
    problems: list[str] = []
    gen_times = {}
    for root in dict.fromkeys(a.root for a in anchorings):
        name = f"{fmt.TIMESTAMPS_DIR}{root.hex()}.tsr"
        try:
            gen_times[root] = parse_response(p.read(name)).gen_time
        except (_CheckFailedError, EvidenceError) as exc:
            problems.append(f"{name}: no genTime to compare ({exc})")
    tol = p.tolerance
    problems += clocks.signed_before_anchored(records, anchorings, tol)
    problems += clocks.stamped_near_anchor(gen_times, anchorings, tol)
    problems += clocks.blocks_never_go_back(p.blocks)
    if problems:
        raise _CheckFailedError(problems[0], problems)
    details = []
    for a in anchorings:
        gen = gen_times.get(a.root)
        delta = f", genTime {int(gen.timestamp()) - a.block.time:+d} s" if gen else ""
        details.append(f"root 0x{a.root.hex()[:16]}…: block {a.block.number} on chain "
                       f"{a.block.chain_id} at {clocks.iso(a.block.time)}{delta}")
    latest = max((r.signed_at for r in records), default=0)
    return (f"{len(records)} signed record(s) dated before their anchoring blocks (latest "
            f"signedAt {clocks.iso(latest)}); {len(gen_times)} genTime(s) within "
            f"-{tol.tsa_early} s..+{tol.tsa_late} s of the block time; block times never go "
            "back"), details


def _check_car(p: _Package) -> str:
    from evidence.ipfs import LocalBlockstore, cat
    from evidence.ipfs.car import CarReader
    from evidence.ipfs.errors import IpfsError

    subs = _submissions(p)
    if fmt.CAR not in p.names:
        # A case without evidence has no CAR (a CARv1 needs a root): it passes only when
        # nothing needs one, and the manifest says so.
        if subs or p.evidence_index:
            raise _CheckFailedError(
                f"{fmt.CAR} is missing, but the package holds {len(subs)} evidence "
                f"submission(s) and {len(p.evidence_index)} indexed item(s)"
            )
        if (p.manifest.get("files") or {}).get("car") is not None:
            raise _CheckFailedError(f"the manifest names {fmt.CAR}, which the package lacks")
        return "no evidence was submitted: no CAR, no containers to check"
    if not subs:
        raise _CheckFailedError(
            f"{fmt.CAR} is present but no evidence was submitted: a package without evidence "
            "has no CAR"
        )
    if (p.manifest.get("files") or {}).get("car") != fmt.CAR:
        raise _CheckFailedError(f"the package holds {fmt.CAR}, but the manifest does not name it")
    store_dir = Path(tempfile.mkdtemp(prefix="car-", dir=p.root.parent))
    store = LocalBlockstore(store_dir, fsync=False)
    count = 0
    try:
        with p.path(fmt.CAR).open("rb") as stream:
            reader = CarReader(stream)
            roots = {str(r) for r in reader.roots}
            for raw_cid, block in reader.blocks():
                store.put(raw_cid, block, trusted=True)
                count += 1
    except (IpfsError, OSError) as exc:
        raise _CheckFailedError(f"{fmt.CAR}: {exc}") from exc
    problems = []
    for sub in subs.values():
        cid = sub.record.content_cid
        if cid not in roots:
            problems.append(f"{cid}: the submission's container is not a root of {fmt.CAR}")
        try:
            for _ in cat(cid, store):
                pass
        except (IpfsError, EvidenceError, ValueError) as exc:
            problems.append(f"{cid}: the container's DAG is incomplete or corrupt ({exc})")
    if problems:
        raise _CheckFailedError(problems[0], problems)
    return f"{count} blocks match their CIDs; {len(subs)} containers complete"


TIMEOUT_RESOLUTIONS = frozenset(
    {"TimeoutNoArbitrator", "TimeoutNoAward", "TimeoutNoPanel", "TimeoutNoPanelAward"}
)
"""The escrow's ends without an award or settlement: a neutral's appointment or award was
overdue, the buyer is refunded in full and the dispute goes to court."""


def _order_resolved(p: _Package, what: str, missing: str) -> tuple[bytes, Any, str]:
    """The escrow's one ``OrderResolved`` for the package's order in ``enforcementTx``:
    (tx hash, the event's arguments, the resolution's name); ``missing`` when none."""
    order = p.order
    enf = p.escrow.get("enforcementTx")
    if not enf:
        raise _CheckFailedError(missing)
    tx = fmt.from_hex(enf, "enforcementTx", 32)
    proven = p.proven(p.domain.chain_id, tx, what)
    events = [
        e
        for e in proven.events(ORDER_RESOLVED, p.domain.verifying_contract)
        if e.args["orderId"] == order.order_id
    ]
    if len(events) != 1:
        raise _CheckFailedError(f"tx 0x{tx.hex()} has no OrderResolved for order {order.order_id}")
    e = events[0].args
    code = uint_of(e, "resolution")
    name = RESOLUTIONS[code] if code < len(RESOLUTIONS) else "?"
    return tx, e, name


def _check_timeout_refund(p: _Package) -> str:
    """A case closed for litigation: no award or settlement to compare, so the escrow's
    own end is checked instead — a full refund to the buyer by timeout."""
    order = p.order
    tx, e, got = _order_resolved(
        p, "the escrow's resolution",
        "the package holds no Award or Settlement record, and the escrow shows no "
        "resolution (no enforcementTx)")
    if got not in TIMEOUT_RESOLUTIONS:
        raise _CheckFailedError(
            f"the package holds no Award or Settlement record, but the escrow resolved "
            f"order {order.order_id} as {got}: the record that decided it is missing"
        )
    paid = (e["toBuyer"], e["toSeller"], e["compensationPaid"] + e["compensationShortfall"])
    if paid != (order.amount, 0, 0):
        raise _CheckFailedError(
            f"resolution {got} paid toBuyer={paid[0]} toSeller={paid[1]} compensation="
            f"{paid[2]}; a timeout refunds the buyer the order's {order.amount} in full"
        )
    return (
        f"no award or settlement: the escrow refunded the buyer {order.amount} by timeout "
        f"({got}, tx 0x{tx.hex()[:16]}…); the dispute is for the courts"
    )


def _check_jury_payout(p: _Package) -> str | None:
    """A jury's verdict (no Award record: the tally is the decision): the escrow's payout
    must be the winning option of the recomputed tally (``JuryVerdictExecuted``); None when
    the jury reached no verdict (then the escrow's own end is checked)."""
    steps = _jury_steps(p)
    if not steps:
        return None
    order = p.order
    r = recompute_jury(p.case_id, steps, (order.buyer, order.seller), p.domain)
    if r.tally is None or r.tally.winner is None or r.tally.winner >= len(r.options):
        return None
    option = r.options[r.tally.winner]
    try:
        wanted = (int(option["toBuyer"]), int(option["toSeller"]), int(option["compensation"]))
    except (KeyError, TypeError, ValueError) as exc:
        raise _CheckFailedError(f"the jury's option {r.tally.winner} is unusable ({exc})") \
            from None
    tx, e, got = _order_resolved(p, "the enforcement",
                                 "the jury's verdict was not enforced on-chain (no "
                                 "enforcementTx)")
    problems = []
    if got != "JuryVerdictExecuted":
        problems.append(f"resolution {got}, expected JuryVerdictExecuted")
    paid = (e["toBuyer"], e["toSeller"], e["compensationPaid"] + e["compensationShortfall"])
    if paid != wanted:
        problems.append(f"the escrow paid toBuyer={paid[0]} toSeller={paid[1]} compensation="
                        f"{paid[2]}; the jury's verdict (option {r.tally.winner}) allocates "
                        f"{wanted[0]}/{wanted[1]}/{wanted[2]}")
    if problems:
        raise _CheckFailedError(problems[0], problems)
    return (f"the jury's verdict (option {r.tally.winner}) {wanted[0]}/{wanted[1]}/"
            f"{wanted[2]} equals the payout of tx 0x{tx.hex()[:16]}… ({got})")


def _check_award_payout(p: _Package) -> str:
    finals = [s.record for s in p.unchained
              if isinstance(s.record, Award | ReturnAward | Settlement | ReturnSettlement)]
    if not finals:
        return _check_jury_payout(p) or _check_timeout_refund(p)
    awards = [r for r in finals if isinstance(r, Award | ReturnAward)]
    rec = max(awards, key=lambda r: r.round) if awards else finals[-1]
    order = p.order
    if rec.order_id != order.order_id:
        raise _CheckFailedError(
            f"the award is for order {rec.order_id}, the escrow order is {order.order_id}"
        )
    if isinstance(rec, Award | ReturnAward):
        award = p.manifest.get("award") or {}
        try:
            doc = p.path(award["file"])
        except (KeyError, TypeError) as exc:
            raise _CheckFailedError("the manifest names no award document") from exc
        if sha256_file(doc) != rec.award_hash:
            raise _CheckFailedError(
                f"{award['file']}: SHA-256 differs from the signed awardHash "
                f"0x{rec.award_hash.hex()}"
            )
    tx, e, got_resolution = _order_resolved(
        p, "the enforcement", "the award was not enforced on-chain (no enforcementTx)")
    wanted = (rec.to_buyer, rec.to_seller, rec.compensation)
    if isinstance(rec, ReturnAward | ReturnSettlement):
        # the refund once the goods are back (or deemed back), the fallback if not shipped
        want_resolution = got_resolution if got_resolution in (
            "ReturnReceived", "ReturnDeemedReceived", "ReturnNotShipped") else "ReturnReceived"
        if got_resolution == "ReturnNotShipped":
            wanted = (rec.no_return_to_buyer, rec.no_return_to_seller,
                      rec.no_return_compensation)
    else:
        want_resolution = (
            ("PanelAwardExecuted" if rec.round == 1 else "AwardExecuted")
            if isinstance(rec, Award)
            else "Settled"
        )
    problems = []
    if got_resolution != want_resolution:
        problems.append(f"resolution {got_resolution}, expected {want_resolution}")
    paid = (e["toBuyer"], e["toSeller"], e["compensationPaid"] + e["compensationShortfall"])
    if paid != wanted:
        problems.append(
            f"the escrow paid toBuyer={paid[0]} toSeller={paid[1]} compensation={paid[2]} "
            f"(paid {e['compensationPaid']} + shortfall {e['compensationShortfall']}); the "
            f"signed {rec.TYPE_NAME} allocates {wanted[0]}/{wanted[1]}/{wanted[2]}"
        )
    if problems:
        raise _CheckFailedError(problems[0], problems)
    return (
        f"{rec.TYPE_NAME} allocation {wanted[0]}/{wanted[1]}/{wanted[2]} equals the payout of "
        f"tx 0x{tx.hex()[:16]}… ({got_resolution})"
    )


_STANDARD_RULES = frozenset(v.hash for v in RULES_VERSIONS.values())


def _check_manifest(p: _Package) -> str:
    m = p.manifest
    problems = []
    order = p.order
    case = m.get("case", {})
    if str(case.get("orderId")) != str(order.order_id):
        problems.append(
            f"case.orderId {case.get('orderId')} is not the escrow order {order.order_id}"
        )
    if str(case.get("amount")) != str(order.amount):
        problems.append(
            f"case.amount {case.get('amount')} differs from the escrowed {order.amount}"
        )
    if to_checksum_address(str(case.get("token", "0x" + "00" * 20))) != order.token:
        problems.append("case.token differs from the order's token")
    history, _ = p.roles
    final = history[-1][1]
    parties = m.get("parties", [])
    by_role = {pt.get("role"): pt for pt in parties if isinstance(pt, dict)}
    sides = {"buyer": order.buyer, "seller": order.seller}
    for role in ("claimant", "respondent"):
        pt = by_role.get(role)
        holder = next(iter(final[role]), None)
        if pt is None:
            problems.append(f"parties: no {role}")
            continue
        if pt.get("address") != holder:
            problems.append(f"parties: the {role}'s address {pt.get('address')} is not {holder}")
        if sides.get(str(pt.get("side"))) != pt.get("address"):
            problems.append(f"parties: the {role} is not the order's {pt.get('side')}")
    inst = m.get("institution", {})
    if inst.get("address") not in p.institution_now:
        problems.append(
            f"institution.address {inst.get('address')} is not the institution's key "
            f"{' or '.join(sorted(p.institution_now))} (the order's {order.institution}, or "
            "the key it handed over to)"
        )
    for n in m.get("neutrals", []):
        if n.get("address") not in final.get(str(n.get("role")), set()):
            problems.append(f"neutrals: {n.get('address')} was not appointed {n.get('role')}")
    rules_hash = hashlib.sha256(fmt.canonical(m.get("rules", {}))).digest()
    if fmt.hex0x(rules_hash) != m.get("rulesSha256"):
        problems.append("rulesSha256 is not the SHA-256 of the rules' canonical JSON")
    if rules_hash != order.rules_hash and not _rules_by_contract(p, order):
        problems.append(
            f"the rules hash to 0x{rules_hash.hex()}, the order fixed 0x{order.rules_hash.hex()}"
        )
    timeline = m.get("timeline", [])
    records = p.steps + p.unchained
    if len(timeline) != len(records):
        problems.append(f"timeline has {len(timeline)} entries for {len(records)} records")
    for t, signed in zip(timeline, records, strict=False):
        rec = signed.record
        name = _record_name(signed)
        link = rec if isinstance(rec, ChainedRecord) else None
        expect = {
            "recordHash": fmt.hex0x(signed.record_hash),
            "type": rec.TYPE_NAME,
            "signers": list(signed.signers()),
            "sequence": str(link.sequence) if link else None,
            "signedAt": str(link.signed_at) if link else None,
        }
        if isinstance(rec, ProceduralStep):
            expect["action"] = rec.action
        for key, value in expect.items():
            if t.get(key) != value:
                problems.append(
                    f"timeline entry for {name}: {key} {t.get(key)!r}, expected {value!r}"
                )
    for signed in records:
        if signed.record.case_id != p.case_id:
            problems.append(f"{_record_name(signed)}: not for the manifest's case")
            break
    if p.json(fmt.TYPES) != fmt.eip712_types():
        problems.append(f"{fmt.TYPES} differs from the EIP-712 types the records are signed with")
    idx = {i.get("itemId"): i for i in p.evidence_index}
    for e in m.get("evidence", []):
        i = idx.get(e.get("itemId"))
        if i is None or i.get("file") != e.get("file") or i.get("sha256") != e.get("sha256"):
            problems.append(f"evidence {e.get('itemId')}: differs from {fmt.EVIDENCE_INDEX}")
    award = m.get("award")
    awards = [s for s in p.unchained if isinstance(s.record, Award | ReturnAward)]
    if (
        award
        and awards
        and award.get("recordHash") not in {fmt.hex0x(s.record_hash) for s in awards}
    ):
        problems.append("award.recordHash names no Award record of the package")
    if problems:
        raise _CheckFailedError(problems[0], problems)
    return "case, parties, institution, rules, timeline and evidence match records and chain"


def _check_attestation(p: _Package) -> str:
    data = p.json(fmt.ATTESTATION)
    sums = p.read(fmt.CHECKSUMS)
    digest = hashlib.sha256(sums).digest()
    try:
        created = int(p.manifest["createdAt"])
    except (KeyError, TypeError, ValueError) as exc:
        raise _CheckFailedError(f"{fmt.MANIFEST}: createdAt unreadable ({exc})") from exc
    typed = attestation_typed_data(p.domain, p.case_id, digest, created)
    if not isinstance(data, dict) or data.get("typedData") != typed:
        raise _CheckFailedError(
            f"{fmt.ATTESTATION} does not attest this SHA256SUMS (package digest {digest.hex()})"
        )
    try:
        signer = recover_signer(attestation_digest(typed), data.get("signature", ""))
    except EvidenceError as exc:
        raise _CheckFailedError(f"{fmt.ATTESTATION}: {exc}") from exc
    current = p.institution_now
    if signer not in current:
        raise _CheckFailedError(
            f"signed by {signer}, not by the institution's key {' or '.join(sorted(current))} "
            f"(the order's {p.order.institution}, or the key it handed over to)")
    institution = signer
    if set(data) != {"signer", "typedData", "signature"} or data.get("signer") != signer:
        raise _CheckFailedError(
            f"{fmt.ATTESTATION} names signer {data.get('signer')!r} with keys {sorted(data)}; "
            f"expected exactly signer, typedData, signature, signed by {signer}"
        )
    certificate = p.read(fmt.CERTIFICATE, max_size=16 << 20)
    if digest.hex().encode() not in certificate:
        raise _CheckFailedError(
            f"{fmt.CERTIFICATE} does not show the package digest {digest.hex()}: it belongs to "
            "another package"
        )
    return f"package digest {digest.hex()} signed by the institution {institution}"


def _check_institution_key(p: _Package) -> str:
    """A key whose private half is public (anvil's default accounts, chainarb's former
    development key) lets anyone sign appointments, provenance and this attestation in the
    institution's name: its signatures prove nothing about who acted. The institution is the
    order's (on-chain) and the attestation's recovered signer, never the manifest's claim."""
    named: set[str] = set()
    with contextlib.suppress(_CheckSkippedError, _CheckFailedError):  # no proven order: the
        named.update(p.institution_keys)  # attestation's signer alone (other checks say why)
    try:  # missing or unreadable: the attestation check reports it
        data = p.json(fmt.ATTESTATION)
    except (_CheckFailedError, MissingPackageFile, OSError):
        data = None
    typed = data.get("typedData") if isinstance(data, dict) else None
    if isinstance(typed, dict):
        with contextlib.suppress(EvidenceError, ValueError, TypeError, KeyError):
            named.add(recover_signer(attestation_digest(typed), data.get("signature", "")))
    if not named:
        raise _CheckFailedError(
            f"no institution to check: no order on the chain and no readable {fmt.ATTESTATION}")
    for address in sorted(named):
        source = published_key_source(address)
        if source is not None:
            raise _CheckFailedError(
                f"the institution {address} signs with a published key ({source}): anyone can "
                "sign in its name, so its appointments, provenance log and attestation prove "
                f"nothing / 机构 {address} 使用私钥已公开的密钥签名（{source}），任何人都可"
                "冒名签署，其指定、来源记录与材料包签名均无证明力"
            )
    return f"institution {', '.join(sorted(named))}: not a published test key"


def _anchored_roots(p: _Package) -> set[bytes]:
    """The roots `proofs/anchors.json` lists (the `anchors` check proves each on-chain)."""
    out = set()
    for a in p.anchors:
        with contextlib.suppress(EvidenceError, TypeError):
            out.add(fmt.from_hex(a.get("root"), "root", 32))
    return out


def _jury_steps(p: _Package) -> list[JuryStep]:
    out = []
    for signed in p.steps:
        rec = signed.record
        if isinstance(rec, ProceduralStep) and rec.action.startswith("jury."):
            signer = _single_signer(signed)
            try:
                payload = p.payload(rec)
            except _CheckFailedError as exc:  # name the vote (or draw) it is about
                raise _CheckFailedError(f"step {rec.sequence} ({rec.action} signed by "
                                        f"{signer}): {exc.reason}", exc.details) from None
            out.append(JuryStep(sequence=rec.sequence, action=rec.action, signer=signer,
                                payload=payload, record_hash=signed.record_hash))
    return out


def _draw_block_hashes(p: _Package) -> set[str]:
    """The block hashes a jury's draw steps name (lower-case 0x-hex)."""
    try:
        steps = _jury_steps(p)
    except _CheckFailedError:
        return set()
    return {str(s.payload.get("blockHash", "")).lower() for s in steps
            if s.action == "jury.drawn" and isinstance(s.payload, Mapping)}


def _check_jury(p: _Package) -> _Result:
    """A jury case: the draw recomputed from the signed steps, its block's hash and
    prevrandao read from the carried header, the seed anchored before that block, every
    vote opening its commitment, the tally recomputed (evidence/judicial/_jury.py); the
    package's summary (documents/jury.json) must be what they give."""
    steps = _jury_steps(p)
    if not steps:
        return "no jury in this case"
    order = p.order
    r = recompute_jury(p.case_id, steps, (order.buyer, order.seller), p.domain)
    problems = list(r.problems)
    details = []
    roots = _proof_roots(p)
    for d in r.draws:
        where = f"draw round {d.round}"
        if d.block_hash is None:
            details.append(f"{where}: seed committed (step {d.seed_step.sequence}), not drawn")
            continue
        want = fmt.from_hex(d.block_hash, "blockHash", 32)
        found = [(c, h) for (c, bh), h in p.block_proofs.headers.items() if bh == want]
        if not found:
            problems.append(f"{where}: the header of draw block {d.draw_block} "
                            f"({d.block_hash}) is not in {fmt.BLOCKS}")
            continue
        chain_id, header = found[0]
        mix = header.fields[13] if len(header.fields) > 13 else b""
        if header.number != d.draw_block or "0x" + mix.hex() != str(d.prevrandao).lower():
            problems.append(f"{where}: block {d.block_hash} is number {header.number} with "
                            f"prevrandao 0x{mix.hex()}; the draw names block {d.draw_block} "
                            f"with {d.prevrandao}")
            continue
        root = roots.get(d.seed_step.record_hash.hex())
        anchored = sorted(int(a["blockNumber"]) for a in p.anchors
                          if _hex_norm(a.get("root")) == root
                          and int(a.get("chainId", -1)) == chain_id)
        if not anchored or anchored[0] >= d.draw_block:
            state = f"anchored in block {anchored[0]}" if anchored else "not anchored"
            problems.append(f"{where}: the seed commitment (step {d.seed_step.sequence}) is "
                            f"{state} on chain {chain_id}; it must be anchored before the "
                            f"draw block {d.draw_block}")
            continue
        details.append(f"{where}: seed anchored in block {anchored[0]}, drawn with block "
                       f"{d.draw_block} of chain {chain_id}: {len(d.drawn)} of {len(d.pool)} "
                       f"assessor(s), recomputed")
    t = r.tally
    if t is not None:
        winner = "no majority" if t.winner is None else f"option {t.winner}"
        details.append(f"tally: {t.revealed} of {t.jury_size} revealed, counts "
                       f"{list(t.counts)}: {winner}")
        details += [f"reason {c} ({public_jury.REASON_CODES.get(c, ('?', '?'))[0]}): {n} vote(s)"
                    for c, n in t.reasons]
    if fmt.JURY not in p.names:
        problems.append(f"{fmt.JURY}: missing (a jury case carries its draw, votes and tally)")
    elif p.json(fmt.JURY) != section_of_jury(p.case_id, r):
        problems.append(f"{fmt.JURY}: differs from the draw, votes and tally the signed steps "
                        "give")
    if fmt.JURY_REDACTION not in p.names:
        problems.append(f"{fmt.JURY_REDACTION}: missing (the rule of what jurors were shown)")
    _fail_on(problems)
    return (f"{len(r.draws)} draw round(s) recomputed; {len(r.reveals)} of "
            f"{len(r.commitments)} committed vote(s) open their commitments", details)


def _fail_on(problems: list[str]) -> None:
    if problems:
        raise _CheckFailedError(problems[0], problems)


def _check_log_checkpoints(p: _Package) -> _Result:
    problems, details = check_checkpoints(p.log, p.institution_keys, _anchored_roots(p))
    _fail_on(problems)
    return (f"{len(details)} checkpoint(s) of log {p.log.origin!r}, each signed by the "
            "institution and anchored", details)


def _check_log_consistency(p: _Package) -> _Result:
    problems, details = check_consistency(p.log, p.institution_keys)
    _fail_on(problems)
    return f"{len(details)} consistency proof(s) between consecutive checkpoints", details


def _check_log_inclusion(p: _Package) -> str:
    problems, proven = check_log_inclusion(p.log, p.institution_keys, p.case_id, p.steps,
                                           p.unchained + p.log_only, p.log_names)
    _fail_on(problems)
    return f"{proven} record(s) proven in the log, in the order the service accepted them"


def _check_log_completeness(p: _Package) -> str:
    problems, summary = check_completeness(p.log, p.institution_keys, p.case_id, p.steps,
                                           p.unchained + p.log_only, p.log_names)
    _fail_on(problems)
    return summary


def _check_receipts(p: _Package) -> _Result:
    problems, details = check_receipts(p.log, p.institution_keys, p.case_id,
                                       p.all_records + p.log_only, p.held_receipts,
                                       p.log_names)
    _fail_on(problems)
    return f"{len(p.held_receipts)} receipt(s) given, none contradicts the package", details


_RUNNERS: dict[str, Callable[[_Package], _Result]] = {
    "log_checkpoints": _check_log_checkpoints,
    "log_consistency": _check_log_consistency,
    "log_inclusion": _check_log_inclusion,
    "log_completeness": _check_log_completeness,
    "receipts": _check_receipts,
    "files": _check_files,
    "manifest": _check_manifest,
    "signatures": _check_signatures,
    "roles": _check_roles,
    "step_chain": _check_step_chain,
    "jury": _check_jury,
    "identities": _check_identities,
    "evidence": _check_evidence,
    "provenance": _check_provenance,
    "merkle_proofs": _check_merkle,
    "block_proofs": _check_block_proofs,
    "anchors": _check_anchors,
    "timestamps": _check_timestamps,
    "clocks": _check_clocks,
    "car_blocks": _check_car,
    "award_payout": _check_award_payout,
    "onchain_acts": _check_onchain_acts,
    "block_confirmation": _check_block_confirmation,
    "attestation": _check_attestation,
    "institution_key": _check_institution_key,
}


def _run(name: str, fn: Callable[[_Package], _Result], p: _Package) -> CheckResult:
    try:
        result = fn(p)
    except _CheckFailedError as exc:
        return CheckResult(name, Status.FAILED, exc.reason, tuple(exc.details))
    except _CheckSkippedError as exc:
        return CheckResult(name, Status.SKIPPED, exc.reason)
    except Exception as exc:  # a hostile package must yield a failed check, never a crash
        if p.w3 is not None and is_unreachable(exc):  # the node went away mid-check
            return CheckResult(name, Status.SKIPPED, p.node_down(exc).reason)
        return CheckResult(name, Status.FAILED, f"{type(exc).__name__}: {exc}")
    if isinstance(result, tuple):
        return CheckResult(name, Status.PASSED, result[0], tuple(result[1]))
    return CheckResult(name, Status.PASSED, result)


def _archive_refused(path: Path, reason: str, rest: str, unreadable: str | None) -> Report:
    """The report of an archive that cannot be opened: `archive` failed, the rest not run."""
    checks = [CheckResult("archive", Status.FAILED, reason)]
    checks += [CheckResult(name, Status.SKIPPED, rest) for name, _, _ in CHECKS[1:]
               if name not in OPTIONAL_CHECKS]
    return Report(checks=tuple(checks), package=str(path), unreadable=unreadable)


Source = Web3 | BaseProvider | str
"""A chain source: a Web3, a provider or a JSON-RPC URL."""


def _sources(chain: Source | Sequence[Source] | None) -> list[tuple[str, Web3]]:
    """(name, Web3) of each source; None: the installation's configured chain, if any."""
    given: list[Source | None] = (
        list(chain) if isinstance(chain, Sequence) and not isinstance(chain, str)
        else [chain])
    out = []
    for src in given:
        try:
            w3 = connect(src)
        except Exception:  # a bad URL: that source confirms nothing (the CLI refuses it first)
            continue
        if w3 is None:
            continue
        name = src if isinstance(src, str) else str(
            getattr(w3.provider, "endpoint_uri", None) or type(w3.provider).__name__)
        out.append((name, w3))
    return out


def verify_package(
    path: str | Path,
    *,
    chain: Source | Sequence[Source] | None,
    tsa_trust: bytes | Sequence[x509.Certificate] | None = None,
    checkpoint: Checkpoint | None = None,
    limits: Limits = DEFAULT_LIMITS,
    clock_tolerance: clocks.Tolerance = clocks.DEFAULT_TOLERANCE,
    receipts: Sequence[HeldReceipt] | None = None,
) -> Report:
    """Verify the judicial package at `path`; return a `Report` of named checks.

    Every check but `block_confirmation` runs offline, on the package's bytes: headers
    hash to their blocks, receipts are proven in their receipts tries, and the anchors,
    the order and the payout are read from those receipts' logs.

    Args:
        path: the package ZIP.
        chain: the sources that confirm the block hashes the verdict rests on: a Web3, a
            provider or a JSON-RPC URL, or several (all must agree; a disagreement fails
            `block_confirmation`); None for the installation's configured chain
            (`evidence.chain.discover_chain`). With no source and no checkpoint, or a node
            that does not answer, `block_confirmation` is not run and names the hashes
            that remain to be confirmed.
        tsa_trust: certificates (PEM/DER bytes or loaded) the court trusts for timestamps,
            one or several authorities; None trusts the package's own TSA certificates, and
            the report says so (`notes`: `TSA_TRUST_FROM_PACKAGE`).
        checkpoint: block hashes per chain id published elsewhere (`parse_checkpoint`).
        limits: bounds on what extracting the archive may write.
        clock_tolerance: how far the signers', the chains' and the TSAs' clocks may differ
            (`evidence.clocks`; the defaults are documented).
        receipts: receipts a party holds (`evidence.log` receipts, as read from its
            receipts directory); given, the `receipts` check runs: it fails, naming the
            record, when the package omits or alters a record a receipt proves accepted.
    """
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix="chainarb-verify-") as tmp:
        dest = Path(tmp) / "package"
        dest.mkdir()
        try:
            names = extract_zip(path, dest, limits)
        except UnreadableArchive as exc:
            return _archive_refused(path, f"cannot be read: {exc}",
                                    "not run: the file cannot be read as a ZIP archive", str(exc))
        except (UnsafeArchive, ArchiveBomb, OSError) as exc:
            return _archive_refused(path, str(exc), "not run: the archive is unsafe to open", None)
        checks = [CheckResult("archive", Status.PASSED, f"{len(names)} entries, all safe")]
        trust = None
        if tsa_trust is not None:
            trust = (
                load_certificates(bytes(tsa_trust))
                if isinstance(tsa_trust, bytes | bytearray)
                else list(tsa_trust)
            )
        pkg = _Package(dest, names, _sources(chain), trust, checkpoint, clock_tolerance)
        digest = None
        if fmt.CHECKSUMS in pkg.names:
            digest = hashlib.sha256((dest / fmt.CHECKSUMS).read_bytes()).hexdigest()
        pkg.held_receipts = list(receipts or ())
        checks += [_run(name, _RUNNERS[name], pkg) for name, _, _ in CHECKS[1:]
                   if name not in OPTIONAL_CHECKS or (name == "receipts" and receipts is not None)]
        chain_id: int | None = None
        blocks: tuple[BlockRef, ...] = ()
        with contextlib.suppress(_CheckFailedError, _CheckSkippedError, EvidenceError):
            chain_id = pkg.domain.chain_id
        with contextlib.suppress(_CheckFailedError, _CheckSkippedError, EvidenceError):
            blocks = tuple(BlockRef(c, h.number, h.hash, h.timestamp)
                           for c, h in _relied_blocks(pkg))
        notes = _notes(pkg)
        if trust is None:
            notes += (TSA_TRUST_FROM_PACKAGE,)
    return Report(checks=tuple(checks), package=str(path), package_digest=digest,
                  chain_id=chain_id, blocks=blocks, notes=notes)


def _notes(p: _Package) -> tuple[Note, ...]:
    """What the verdict must say beside the checks: anchors only on chains the institution
    runs (evidence.judicial.chains). Every row is proven offline (`anchors`); which of
    their blocks are confirmed, and where, `block_confirmation` says."""
    try:
        rows = p.anchors
    except _CheckFailedError:
        return ()
    note = operator_only_note(rows)
    return (note,) if note is not None else ()
