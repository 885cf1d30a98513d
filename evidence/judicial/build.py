"""Build a case's judicial package: one deterministic ZIP (docs/judicial-package.md).

Rules for this module:

* The builder lays out what it is given and computes only derived values (hashes,
  commitments, the timeline, the checksums); it asserts nothing a court must trust. The
  verifier (`evidence.judicial.verify`) recomputes every claim.
* It refuses inputs that could only produce a package that fails verification (a proof
  for a root with no anchor, a payload that does not hash to its step's payloadHash, an
  evidence file whose commitment differs from its submission): better an error now, with
  a message that names the item, than a broken package at court.
* The same inputs give the same bytes (sorted entries, fixed times, canonical JSON,
  reportlab's invariant mode).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from pathlib import Path
from typing import Any, NotRequired, Protocol, TypedDict

from evidence import __version__
from evidence.blockproof import verify_receipt
from evidence.commitment import commitment_of, sha256_file
from evidence.judicial import _format as fmt
from evidence.judicial._attest import attestation_typed_data
from evidence.judicial._facts import EscrowActJson, Facts, signed_facts
from evidence.judicial._log import MAX_RANGE, LogJson, log_json
from evidence.judicial._zip import write_zip
from evidence.judicial.chains import OPERATORS
from evidence.judicial.errors import PackageInputError
from evidence.judicial.inputs import ROLES, AnchorInfo, PackageInputs, StepEntry, appointment_of
from evidence.judicial.provenance import origin_of
from evidence.records import (
    Award,
    ChainedRecord,
    CourtConfirmation,
    Disclosure,
    DomainJson,
    EvidenceSubmission,
    ProceduralStep,
    Profile,
    ReturnAward,
    SignedRecord,
    TypedData,
    checksum_address,
)
from evidence.safejson import JSON
from evidence.words import timeline_label

__all__ = [
    "RENDER_EXTRA",
    "AnchorRowJson",
    "ManifestJson",
    "PersonJson",
    "ProfileFieldsJson",
    "build_package",
    "package_digest",
]

RENDER_EXTRA = "pip install 'chainarb[render]'"

AttestationSigner = Callable[[TypedData], bytes]
"""Signs EIP-712 typed data with the institution's key; returns the 65-byte signature."""


class _RenderIndex(Protocol):
    """evidence.judicial._render.render_index."""

    def __call__(self, manifest: ManifestJson, anchors: list[AnchorRowJson],
                 facts: Facts | None = None, log: LogJson | None = None) -> bytes: ...


class _RenderCertificate(Protocol):
    """evidence.judicial._render.render_certificate."""

    def __call__(self, manifest: ManifestJson, digest: str, url: str,
                 anchors: list[AnchorRowJson], facts: Facts | None = None, *,
                 pdf_font: Path | None = None, log: LogJson | None = None) -> bytes: ...


def _renderers() -> tuple[_RenderIndex, _RenderCertificate]:
    """index.html and certificate.pdf, imported only to build: they need reportlab and qrcode
    (the `render` extra), which an install that only verifies packages does without."""
    try:
        from evidence.judicial._render import render_certificate, render_index
    except ModuleNotFoundError as exc:
        raise ModuleNotFoundError(
            f"building a judicial package needs the Python package {exc.name!r} to draw its "
            f"index and certificate; install it with: {RENDER_EXTRA}", name=exc.name
        ) from exc
    return render_index, render_certificate


def package_digest(checksums: bytes) -> str:
    """The package digest: SHA-256 (hex) of the SHA256SUMS file."""
    return hashlib.sha256(checksums).hexdigest()


# -- manifest.json, as the builder writes it and the views (_render.py) read it -------------
# The views read only a manifest built here, never one from a package: the verifier reads
# a package's manifest as untrusted JSON and narrows it (verify.py).


class BilingualJson(TypedDict):
    en: str
    zh: str


class ProfileRefJson(TypedDict):
    """The signed Profile a person's words come from (records/identities.jsonl)."""

    recordHash: str
    issuer: str


class ProfileFieldsJson(TypedDict):
    """A person's words as their signed Profile states them; empty strings (and no
    profile) when none does."""

    name: str
    nameZh: str
    country: str
    language: str
    contact: str
    profile: ProfileRefJson | None


class PersonJson(ProfileFieldsJson):
    """A party or a neutral: their role, signing address and signed words."""

    role: str
    address: str


class PartyJson(PersonJson):
    side: str


class DisclosureRefJson(TypedDict):
    """An appointed neutral's signed Disclosure, as the manifest repeats it."""

    recordHash: str
    independent: bool
    conflicts: str
    statement: str
    signedAt: str


class NeutralJson(PersonJson):
    appointment: str | None  # the record hash of the step that appointed them
    disclosure: DisclosureRefJson | None


class InstitutionJson(TypedDict):
    name: str
    nameZh: str
    address: str
    seat: str
    registration: str
    website: str
    keyCustody: BilingualJson
    independence: BilingualJson
    security: BilingualJson


class CaseJson(TypedDict):
    """The case; numbers as decimal strings, but for the token's decimals."""

    caseId: str
    orderId: str
    title: str
    disputeType: str
    remedy: str
    amount: str
    token: str
    currency: str
    decimals: int
    filedAt: str


class TimelineEntryJson(TypedDict):
    """A signed record in the timeline; sequence, signedAt and prevHash are None for a
    record outside the hash chain (the escrow's)."""

    sequence: str | None
    type: str
    action: str
    role: str
    signers: list[str]
    signedAt: str | None
    recordHash: str
    prevHash: str | None
    label: BilingualJson


class EvidenceRowJson(TypedDict):
    itemId: str
    file: str
    sha256: str
    origin: JSON  # the provenance's origin label (evidence.judicial.provenance.origin_of)


class AwardFileJson(TypedDict):
    """The award document; recordHash names the final signed Award when there is one."""

    file: str
    mediaType: str
    sha256: str
    recordHash: NotRequired[str]


class PackageFilesJson(TypedDict):
    """Where each part of the package is (None: a part this package has not)."""

    steps: str
    eip712Types: str
    identities: str
    unchained: str
    contractOfSale: str | None
    evidenceIndex: str
    car: str | None
    anchors: str
    merkle: str
    escrow: str
    blocks: str
    receipts: str
    log: str | None
    tsaCertificates: str
    checksums: str


class ManifestJson(TypedDict):
    """`manifest.json` (docs/judicial-package.md)."""

    format: str
    version: int
    generator: str
    createdAt: str
    domain: DomainJson
    case: CaseJson
    parties: list[PartyJson]
    institution: InstitutionJson
    neutrals: list[NeutralJson]
    rules: dict[str, object]
    rulesSha256: str
    timeline: list[TimelineEntryJson]
    evidence: list[EvidenceRowJson]
    award: AwardFileJson | None
    files: PackageFilesJson


def _record_entry(entry: StepEntry) -> TimelineEntryJson:
    rec = entry.record.record
    signed = entry.record
    link = rec if isinstance(rec, ChainedRecord) else None
    action = getattr(rec, "action", _default_action(rec.TYPE_NAME))
    return {
        "sequence": str(link.sequence) if link else None,
        "type": rec.TYPE_NAME,
        "action": action,
        "role": entry.role,
        "signers": list(signed.signers()),
        "signedAt": str(link.signed_at) if link else None,
        "recordHash": fmt.hex0x(signed.record_hash),
        "prevHash": fmt.hex0x(link.prev_hash) if link else None,
        "label": _label(entry, action),
    }


def _label(entry: StepEntry, action: str) -> BilingualJson:
    """The step table's words for the record (evidence/words.py); the caller's own label
    only for a record the table does not know."""
    rec = entry.record.record
    confirmed = rec.confirmed if isinstance(rec, CourtConfirmation) else None
    en, zh = timeline_label(rec.TYPE_NAME, action, confirmed=confirmed)
    if (en, zh) == (action, action) and entry.label_en:
        en, zh = entry.label_en, entry.label_zh or entry.label_en
    return {"en": en, "zh": zh}


def _default_action(type_name: str) -> str:
    return {
        "EvidenceSubmission": "evidence.submitted",
        "SettlementOffer": "offer.made",
        "Objection": "award.objected",
        "CourtConfirmation": "court.decided",
        "Award": "award.signed",
        "ReturnAward": "award.signed",
        "Settlement": "settlement.signed",
    }.get(type_name, type_name)


def _check_inputs(inputs: PackageInputs) -> None:
    for entry in inputs.steps:
        if entry.role not in ROLES:
            raise PackageInputError(f"step role {entry.role!r}: expected one of {ROLES}")
        rec = entry.record.record
        if (
            isinstance(rec, ProceduralStep)
            and entry.payload is not None
            and hashlib.sha256(entry.payload).digest() != rec.payload_hash
        ):
            raise PackageInputError(
                f"step {rec.sequence} ({rec.action}): the payload's SHA-256 differs from "
                "its payloadHash; pass the exact canonical bytes the actor signed over"
            )
    roots = {a.root for a in inputs.anchors}
    seen: set[tuple[bytes, int]] = set()
    for a in inputs.anchors:
        if a.operator not in OPERATORS:
            raise PackageInputError(f"anchor of root 0x{a.root.hex()}: operator {a.operator!r}, "
                                    f"expected one of {OPERATORS}")
        if (a.root, a.chain_id) in seen:
            raise PackageInputError(f"root 0x{a.root.hex()} is given twice for chain "
                                    f"{a.chain_id}: one anchor per (root, chain)")
        seen.add((a.root, a.chain_id))
    for proof in inputs.proofs:
        if proof.root not in roots:
            raise PackageInputError(
                f"proof for record 0x{proof.record_hash.hex()} names root "
                f"0x{proof.root.hex()}, which is not among the anchors"
            )
    stamped = {t.root for t in inputs.timestamps}
    for root in roots - stamped:
        raise PackageInputError(f"anchored root 0x{root.hex()} has no RFC 3161 timestamp")
    _check_chain_proofs(inputs)
    _check_log(inputs)


def _check_log(inputs: PackageInputs) -> None:
    """Every cited checkpoint's anchoring leaf is in an anchored root (the verifier's
    `log_checkpoints` would fail otherwise)."""
    if inputs.log is None:
        return
    if len(inputs.log.range.entries) > MAX_RANGE:
        raise PackageInputError(
            f"the log range holds {len(inputs.log.range.entries)} entries, more than the "
            f"{MAX_RANGE} a verifier reads (docs/log.md §13: a per-case index is needed)")
    roots = {a.root for a in inputs.anchors}
    for c in inputs.log.checkpoints:
        if c.anchor.root not in roots:
            raise PackageInputError(
                f"log checkpoint {c.note.splitlines()[:2]!r} is anchored in root "
                f"0x{c.anchor.root.hex()}, which is not among the anchors")


def _relied_on(inputs: PackageInputs) -> list[tuple[int, bytes, str]]:
    """(chain id, tx hash, what) of every transaction the verdict relies on."""
    chain = inputs.domain.chain_id
    enf = inputs.enforcement
    out = [(a.chain_id, a.tx_hash, f"the anchoring of root 0x{a.root.hex()}")
           for a in inputs.anchors]
    out.append((chain, enf.open_tx, "the order's opening"))
    if enf.enforcement_tx is not None:
        out.append((chain, enf.enforcement_tx, "the escrow's resolution"))
    out += [(chain, tx, f"the escrow's {name}") for name, tx in enf.acts]
    return out


def _check_chain_proofs(inputs: PackageInputs) -> None:
    """Every relied-on transaction has a receipt proven into a carried header."""
    headers = {(h.chain_id, h.header.hash): h.header for h in inputs.block_headers}
    proven = {(r.chain_id, r.tx_hash): r for r in inputs.receipts}
    for chain_id, tx, what in _relied_on(inputs):
        r = proven.get((chain_id, tx))
        if r is None:
            raise PackageInputError(
                f"{what} (tx 0x{tx.hex()} on chain {chain_id}) has no proven receipt; "
                "collect it with evidence.chainproofs.collect_proofs")
        header = headers.get((chain_id, r.block_hash))
        if header is None:
            raise PackageInputError(f"{what}: no header of its block 0x{r.block_hash.hex()}")
        if verify_receipt(header.receipts_root, r.index, r.proof).encode() != r.receipt:
            raise PackageInputError(f"{what}: the receipt is not the one its proof holds")


def _submissions(inputs: PackageInputs) -> dict[int, EvidenceSubmission]:
    return {
        e.record.record.sequence: e.record.record
        for e in inputs.steps
        if isinstance(e.record.record, EvidenceSubmission)
    }


def _chain_position(entry: StepEntry) -> int:
    """The sequence of a chained step (the unchained escrow records are not sorted)."""
    rec = entry.record.record
    return rec.sequence if isinstance(rec, ChainedRecord) else -1


def build_package(
    inputs: PackageInputs,
    out_path: str | Path,
    *,
    attest: AttestationSigner | None = None,
    pdf_font: Path | None = None,
) -> Path:
    """Write the judicial package of one case to `out_path` (a .zip) and return the path.

    Args:
        inputs: everything the package holds (see `PackageInputs`).
        out_path: where the ZIP goes; written to a temporary name and renamed at the end.
        attest: signs the institution's attestation over SHA256SUMS (EIP-712
            `JudicialPackage`); None leaves the package unattested (the verifier reports it).
        pdf_font: a TrueType CJK font for certificate.pdf (None: an installed one; with
            none installed the certificate leaves its Chinese half out and says so).

    Raises:
        PackageInputError: inputs that could not give a verifiable package.
        FontError: ``pdf_font`` is not a usable CJK TrueType font (the message says why).
        ModuleNotFoundError: the `render` extra is not installed (the message says how).
    """
    render_index, render_certificate = _renderers()
    _check_inputs(inputs)
    files: dict[str, bytes | Path] = {}
    digests: dict[str, str] = {}

    def put(name: str, content: bytes | Path) -> None:
        if name in files:
            raise PackageInputError(f"two package files would be named {name!r}")
        files[name] = content
        if isinstance(content, bytes):
            digests[name] = fmt.sha256_hex(content)
        else:
            digests[name] = sha256_file(content).hex()

    # records: the hash chain in sequence order, then the unchained (escrow) records.
    chained = sorted(
        (e for e in inputs.steps if e.record.record.CHAINED),
        key=_chain_position,
    )
    unchained = [e for e in inputs.steps if not e.record.record.CHAINED]
    put(fmt.STEPS, b"".join(e.record.to_json() + b"\n" for e in chained))
    put(fmt.TYPES, fmt.pretty(fmt.eip712_types()))
    put(fmt.IDENTITIES, b"".join(r.to_json() + b"\n" for r in _identity_records(inputs)))
    if unchained:
        put(fmt.UNCHAINED, b"".join(e.record.to_json() + b"\n" for e in unchained))
    if inputs.contract is not None:
        put(fmt.CONTRACT, inputs.contract.to_json() + b"\n")
    for entry in inputs.steps:
        if entry.payload is not None:
            name = f"{fmt.PAYLOADS_DIR}{fmt.sha256_hex(entry.payload)}.json"
            if name not in files:
                put(name, entry.payload)

    # evidence: the court's plain copy, its opening, and the provenance log.
    submissions = _submissions(inputs)
    index: list[dict[str, Any]] = []
    used_ids: set[str] = set()
    for item in inputs.evidence:
        sub = submissions.get(item.submission_sequence)
        if sub is None:
            raise PackageInputError(
                f"evidence {item.item_id!r}: no EvidenceSubmission with sequence "
                f"{item.submission_sequence} among the steps"
            )
        safe_id = fmt.safe_filename(item.item_id)
        if safe_id in used_ids:
            raise PackageInputError(f"evidence id {item.item_id!r} is not unique")
        used_ids.add(safe_id)
        file_name = f"{fmt.EVIDENCE_DIR}{safe_id}/{fmt.safe_filename(item.filename)}"
        put(file_name, Path(item.path))
        file_hash = bytes.fromhex(digests[file_name])
        commitment = commitment_of(file_hash, item.salt)
        if commitment != sub.commitment:
            raise PackageInputError(
                f"evidence {item.item_id!r}: the file and salt give commitment "
                f"0x{commitment.hex()}, but submission {item.submission_sequence} commits to "
                f"0x{sub.commitment.hex()}"
            )
        prov_name = f"{fmt.PROVENANCE_DIR}{safe_id}.json"
        entries = [e.to_json_obj() for e in item.provenance]
        origin = origin_of(entries)  # the label shown with the log, in both languages
        put(
            prov_name,
            fmt.pretty(
                {
                    "itemId": item.item_id,
                    "commitment": fmt.hex0x(commitment),
                    "origin": origin,
                    "entries": entries,
                }
            ),
        )
        index.append(
            {
                "itemId": item.item_id,
                "file": file_name,
                "filename": item.filename,
                "mediaType": item.media_type,
                "description": item.description,
                "size": str(Path(item.path).stat().st_size),
                "sha256": "0x" + digests[file_name],
                "salt": fmt.hex0x(item.salt),
                "commitment": fmt.hex0x(commitment),
                "submissionSequence": str(item.submission_sequence),
                "contentCid": sub.content_cid,
                "provenance": prov_name,
                "origin": {k: origin[k] for k in ("label", "en", "zh-Hans")},
            }
        )
    put(fmt.EVIDENCE_INDEX, fmt.pretty({"items": index}))
    if index:
        if inputs.car_path is None:
            raise PackageInputError(
                f"{len(index)} evidence item(s) but no CAR of their encrypted containers"
            )
        put(fmt.CAR, Path(inputs.car_path))
    elif inputs.car_path is not None:
        raise PackageInputError(
            "a CAR without evidence items: a case without evidence has no blocks.car "
            "(a CARv1 needs at least one root)"
        )

    # proofs and anchors
    put(
        fmt.ANCHORS,
        fmt.pretty(
            {
                "anchors": [
                    {
                        "root": fmt.hex0x(a.root),
                        "chainId": str(a.chain_id),
                        "chainName": a.chain_name,
                        "operator": a.operator,
                        "contract": checksum_address(a.contract),
                        "txHash": fmt.hex0x(a.tx_hash),
                        "blockNumber": str(a.block_number),
                        "blockHash": fmt.hex0x(a.block_hash),
                        "blockTime": str(a.block_time),
                        "count": str(a.count),
                        "timestamp": f"{fmt.TIMESTAMPS_DIR}{a.root.hex()}.tsr",
                    }
                    for a in _anchor_order(inputs)
                ]
            }
        ),
    )
    put(
        fmt.MERKLE,
        fmt.pretty(
            {
                "format": "standard-v1",
                "proofs": [
                    {
                        "recordHash": fmt.hex0x(p.record_hash),
                        "root": fmt.hex0x(p.root),
                        "leafEncoding": list(p.encoding),
                        "value": list(p.value),
                        "proof": [fmt.hex0x(n) for n in p.proof],
                    }
                    for p in sorted(inputs.proofs, key=lambda p: (p.root, p.record_hash))
                ],
            }
        ),
    )
    enf = inputs.enforcement
    put(
        fmt.ESCROW,
        fmt.pretty(
            {
                "chainId": str(inputs.domain.chain_id),
                "escrow": checksum_address(enf.escrow),
                "orderId": str(inputs.case.order_id),
                "openTx": fmt.hex0x(enf.open_tx),
                "enforcementTx": fmt.hex0x(enf.enforcement_tx) if enf.enforcement_tx else None,
                "acts": [{"event": name, "txHash": fmt.hex0x(tx)} for name, tx in enf.acts],
            }
        ),
    )
    number_of = {(h.chain_id, h.header.hash): h.header.number for h in inputs.block_headers}
    put(
        fmt.BLOCKS,
        fmt.pretty(
            {
                "headers": [
                    {
                        "chainId": str(h.chain_id),
                        "number": str(h.header.number),
                        "hash": fmt.hex0x(h.header.hash),
                        "rlp": fmt.hex0x(h.header.rlp),
                    }
                    for h in sorted({(h.chain_id, h.header.hash): h
                                     for h in inputs.block_headers}.values(),
                                    key=lambda h: (h.chain_id, h.header.number))
                ]
            }
        ),
    )
    put(
        fmt.RECEIPTS,
        fmt.pretty(
            {
                "receipts": [
                    {
                        "chainId": str(r.chain_id),
                        "txHash": fmt.hex0x(r.tx_hash),
                        "blockHash": fmt.hex0x(r.block_hash),
                        "index": str(r.index),
                        "receipt": fmt.hex0x(r.receipt),
                        "proof": [fmt.hex0x(n) for n in r.proof],
                    }
                    for r in sorted({(r.chain_id, r.tx_hash): r for r in inputs.receipts}
                                    .values(), key=lambda r: (r.chain_id, number_of.get(
                                        (r.chain_id, r.block_hash), -1), r.index))
                ]
            }
        ),
    )
    if inputs.log is not None:
        put(fmt.LOG, fmt.pretty(log_json(inputs.log)))
    for ts in sorted(inputs.timestamps, key=lambda t: t.root):
        put(f"{fmt.TIMESTAMPS_DIR}{ts.root.hex()}.tsr", ts.response)
    put(fmt.TSA_CERTS, inputs.tsa_certificates)

    award_entry: AwardFileJson | None = None
    if inputs.award is not None:
        award_name = f"{fmt.AWARD_DIR}{fmt.safe_filename(inputs.award.filename)}"
        put(award_name, inputs.award.content)
        award_entry = {
            "file": award_name,
            "mediaType": inputs.award.media_type,
            "sha256": "0x" + digests[award_name],
        }
    for name, content in sorted(inputs.extra_files.items()):
        put(f"{fmt.DOCUMENTS_DIR}{fmt.safe_filename(name)}", content)

    manifest = _manifest(inputs, chained + unchained, award_entry, index, fmt.CAR in files)
    put(fmt.MANIFEST, fmt.pretty(manifest))
    facts = signed_facts(chained + unchained, _chain_acts(inputs))
    log_doc = log_json(inputs.log) if inputs.log is not None else None
    put(fmt.INDEX_HTML, render_index(manifest, _anchor_rows(inputs), facts, log_doc))

    checksums = fmt.checksums_text(digests)
    files[fmt.CHECKSUMS] = checksums
    digest = package_digest(checksums)
    if attest is not None:
        typed = attestation_typed_data(
            inputs.domain, inputs.case.case_id, bytes.fromhex(digest), inputs.created_at
        )
        signature = attest(typed)
        files[fmt.ATTESTATION] = fmt.pretty(
            {
                "signer": checksum_address(inputs.institution.address),
                "typedData": typed,
                "signature": fmt.hex0x(bytes(signature)),
            }
        )
    url = inputs.verify_url_template.format(digest=digest)
    files[fmt.CERTIFICATE] = render_certificate(manifest, digest, url, _anchor_rows(inputs),
                                                facts, pdf_font=pdf_font, log=log_doc)
    return write_zip(Path(out_path), files)


def _profile_fields(profile: SignedRecord | None) -> ProfileFieldsJson:
    """A person's words as their signed Profile states them; empty when none: the manifest
    names nobody in words the person (or, for a neutral or court, the institution) did not
    sign. `profile` names the record (records/identities.jsonl) by its record hash."""
    rec = profile.record if profile is not None else None
    if not isinstance(rec, Profile):
        return {"name": "", "nameZh": "", "country": "", "language": "", "contact": "",
                "profile": None}
    assert profile is not None
    return {"name": rec.name, "nameZh": rec.name_zh, "country": rec.country,
            "language": rec.language, "contact": rec.contact,
            "profile": {"recordHash": fmt.hex0x(profile.record_hash),
                        "issuer": rec.issuer}}


def _disclosure_fields(disclosure: SignedRecord | None) -> DisclosureRefJson | None:
    rec = disclosure.record if disclosure is not None else None
    if not isinstance(rec, Disclosure):
        return None
    assert disclosure is not None
    return {"recordHash": fmt.hex0x(disclosure.record_hash),
            "independent": rec.independent, "conflicts": rec.conflicts,
            "statement": rec.statement, "signedAt": str(rec.signed_at)}


def _hex_or_none(value: bytes | None) -> str | None:
    return fmt.hex0x(value) if value is not None else None


def _identity_records(inputs: PackageInputs) -> list[SignedRecord]:
    """Every Profile and Disclosure the manifest names, once, in a fixed order."""
    found: dict[bytes, SignedRecord] = {}
    profiles = [p.profile for p in inputs.parties] + [n.profile for n in inputs.neutrals]
    for profile in profiles:
        if profile is not None:
            found[profile.record_hash] = profile
    for n in inputs.neutrals:
        if n.disclosure is not None:
            found[n.disclosure.record_hash] = n.disclosure
    for d in inputs.disclosures:  # every one the log holds under the case
        found[d.record_hash] = d
    return [found[h] for h in sorted(found)]


def _chain_acts(inputs: PackageInputs) -> list[EscrowActJson]:
    """The escrow's acts (`escrow.json` `acts`) with the block each is proven in (its
    receipt's block header): what the views list beside the anchors. An act whose proof
    the inputs lack is still listed, without block or time."""
    blocks = {(h.chain_id, h.header.hash): h.header for h in inputs.block_headers}
    where = {r.tx_hash: (r.chain_id, r.block_hash) for r in inputs.receipts}
    rows: list[EscrowActJson] = []
    for event, tx in inputs.enforcement.acts:
        chain_id, block_hash = where.get(tx, (inputs.domain.chain_id, b""))
        header = blocks.get((chain_id, block_hash))
        rows.append({"event": event, "chainId": str(chain_id), "txHash": fmt.hex0x(tx),
                     "blockNumber": str(header.number) if header else "",
                     "blockTime": str(header.timestamp) if header else ""})
    return rows


def _anchor_order(inputs: PackageInputs) -> list[AnchorInfo]:
    """Each chain's anchors together (chains in the order given), by block, then root."""
    chains = list(dict.fromkeys(a.chain_id for a in inputs.anchors))
    return sorted(inputs.anchors,
                  key=lambda a: (chains.index(a.chain_id), a.block_number, a.root))


class AnchorRowJson(TypedDict):
    """An anchor as the views list it (numbers as decimal strings; operator as
    evidence.judicial.chains names it)."""

    root: str
    chainId: str
    chainName: str
    operator: str
    txHash: str
    blockNumber: str
    blockTime: str
    count: str


def _anchor_rows(inputs: PackageInputs) -> list[AnchorRowJson]:
    return [
        {
            "root": fmt.hex0x(a.root),
            "chainId": str(a.chain_id),
            "chainName": a.chain_name,
            "operator": a.operator,
            "txHash": fmt.hex0x(a.tx_hash),
            "blockNumber": str(a.block_number),
            "blockTime": str(a.block_time),
            "count": str(a.count),
        }
        for a in _anchor_order(inputs)
    ]


def _manifest(
    inputs: PackageInputs,
    entries: list[StepEntry],
    award: AwardFileJson | None,
    index: list[dict[str, Any]],
    has_car: bool,
) -> ManifestJson:
    case = inputs.case
    inst = inputs.institution

    def bilingual(en: str, zh: str) -> BilingualJson:
        return {"en": en, "zh": zh}

    # The final award: the panel's (round 1) after an objection, else the sole arbitrator's.
    awards = [(e.record.record.round, e.record) for e in entries
              if isinstance(e.record.record, Award | ReturnAward)]
    award_record = max(awards, key=lambda a: a[0])[1] if awards else None
    if award is not None and award_record is not None:
        award = {**award, "recordHash": fmt.hex0x(award_record.record_hash)}
    return {
        "format": fmt.FORMAT,
        "version": fmt.FORMAT_VERSION,
        "generator": f"chainarb-evidence/{__version__}",
        "createdAt": str(inputs.created_at),
        "domain": inputs.domain.to_json_obj(),
        "case": {
            "caseId": fmt.hex0x(case.case_id),
            "orderId": str(case.order_id),
            "title": case.title,
            "disputeType": case.dispute_type,
            "remedy": case.remedy,
            "amount": str(case.amount),
            "token": checksum_address(case.token),
            "currency": case.currency,
            "decimals": case.decimals,
            "filedAt": str(case.filed_at),
        },
        "parties": [
            {"role": p.role, "side": p.side, "address": checksum_address(p.address),
             **_profile_fields(p.profile)}
            for p in inputs.parties
        ],
        "institution": {
            "name": inst.name,
            "nameZh": inst.name_zh,
            "address": checksum_address(inst.address),
            "seat": inst.seat,
            "registration": inst.registration,
            "website": inst.website,
            "keyCustody": bilingual(inst.key_custody_en, inst.key_custody_zh),
            "independence": bilingual(inst.independence_en, inst.independence_zh),
            "security": bilingual(inst.security_en, inst.security_zh),
        },
        "neutrals": [
            {"role": n.role, "address": checksum_address(n.address),
             "appointment": _hex_or_none(appointment_of(entries, n.role, n.address)),
             **_profile_fields(n.profile),
             "disclosure": _disclosure_fields(n.disclosure)}
            for n in inputs.neutrals
        ],
        "rules": dict(inputs.rules),
        "rulesSha256": fmt.hex0x(hashlib.sha256(fmt.canonical(dict(inputs.rules))).digest()),
        "timeline": [_record_entry(e) for e in entries],
        "evidence": [
            {"itemId": i["itemId"], "file": i["file"], "sha256": i["sha256"],
             "origin": i["origin"]["label"]}
            for i in index
        ],
        "award": award,
        "files": {
            "steps": fmt.STEPS,
            "eip712Types": fmt.TYPES,
            "identities": fmt.IDENTITIES,
            "unchained": fmt.UNCHAINED,
            "contractOfSale": fmt.CONTRACT if inputs.contract is not None else None,
            "evidenceIndex": fmt.EVIDENCE_INDEX,
            "car": fmt.CAR if has_car else None,
            "anchors": fmt.ANCHORS,
            "merkle": fmt.MERKLE,
            "escrow": fmt.ESCROW,
            "blocks": fmt.BLOCKS,
            "receipts": fmt.RECEIPTS,
            "log": fmt.LOG if inputs.log is not None else None,
            "tsaCertificates": fmt.TSA_CERTS,
            "checksums": fmt.CHECKSUMS,
        },
    }
