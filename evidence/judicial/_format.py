"""Names, versions and small codecs of the judicial package (docs/judicial-package.md).

The layout is part of the format: a change of any name or of a file's meaning bumps
`FORMAT_VERSION` (the major version; there is no minor version, as in
python-opentimestamps, because "compatible" minor changes caused round-trip bugs there).
"""

from __future__ import annotations

import hashlib
import json
import re
from typing import TYPE_CHECKING, Any

from evidence import safejson
from evidence.errors import FormatError
from evidence.judicial.errors import PackageFormatError
from evidence.safejson import JSON

if TYPE_CHECKING:  # the type only: eip712_types imports the records when it is called
    from evidence.records import Eip712Field

FORMAT = "chainarb.judicial-package"
FORMAT_VERSION = 1

MANIFEST = "manifest.json"
STEPS = "records/steps.jsonl"
UNCHAINED = "records/unchained.jsonl"
PAYLOADS_DIR = "records/payloads/"
TYPES = "records/eip712-types.json"
IDENTITIES = "records/identities.jsonl"
CONTRACT = "records/contract-of-sale.jsonl"
EVIDENCE_INDEX = "evidence/index.json"
EVIDENCE_DIR = "evidence/"
CAR = "blocks.car"
ANCHORS = "proofs/anchors.json"
MERKLE = "proofs/merkle.json"
ESCROW = "proofs/escrow.json"
BLOCKS = "proofs/blocks.json"
RECEIPTS = "proofs/receipts.json"
LOG = "proofs/log.json"
TIMESTAMPS_DIR = "timestamps/"
TSA_CERTS = "timestamps/tsa-certificates.pem"
PROVENANCE_DIR = "provenance/"
AWARD_DIR = "award/"
DOCUMENTS_DIR = "documents/"
PERFORMANCE = "documents/performance-evidence.json"  # the order's performance evidence
JURY = "documents/jury.json"  # a jury case: the draw, votes and tally (recomputed by verify)
JURY_REDACTION = "documents/jury-redaction.json"  # what the jurors were not shown
INDEX_HTML = "index.html"
CHECKSUMS = "SHA256SUMS"
CERTIFICATE = "certificate.pdf"
ATTESTATION = "SHA256SUMS.sig.json"

REQUIRED = (
    MANIFEST,
    STEPS,
    TYPES,
    IDENTITIES,
    EVIDENCE_INDEX,
    ANCHORS,
    MERKLE,
    ESCROW,
    BLOCKS,
    RECEIPTS,
    LOG,
    TSA_CERTS,
    INDEX_HTML,
)
# `blocks.car` is required exactly when the package holds evidence: a CARv1 must name at
# least one root (the spec; go-car refuses an empty one), so a case without evidence has
# no CAR at all and its manifest says `"car": null` (docs/judicial-package.md §1).
OUTSIDE_CHECKSUMS = (CHECKSUMS, CERTIFICATE, ATTESTATION)
"""Files SHA256SUMS cannot list: itself, and the two that name its digest."""

MAX_JSON = 32 << 20
_SAFE_NAME = re.compile(r"[^A-Za-z0-9._-]+")


def canonical(obj: object) -> bytes:
    """Sorted keys, no whitespace, UTF-8: the package's JSON files (and records')."""
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def pretty(obj: object) -> bytes:
    """Human-friendly JSON for files nobody hashes field by field (still deterministic)."""
    return (json.dumps(obj, sort_keys=True, indent=2, ensure_ascii=False) + "\n").encode()


def sha256_hex(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def hex0x(data: bytes) -> str:
    return "0x" + data.hex()


def from_hex(value: object, what: str, size: int | None = None) -> bytes:
    if not isinstance(value, str) or not value.startswith("0x"):
        raise PackageFormatError(f"{what}: expected 0x-hex, found {value!r}")
    try:
        raw = bytes.fromhex(value[2:])
    except ValueError as exc:
        raise PackageFormatError(f"{what}: not hex ({exc})") from exc
    if size is not None and len(raw) != size:
        raise PackageFormatError(f"{what}: expected {size} bytes, found {len(raw)}")
    return raw


def safe_filename(name: str) -> str:
    """A portable file name: letters, digits, dot, dash, underscore; never hidden or empty."""
    cleaned = _SAFE_NAME.sub("_", name).strip("._") or "file"
    return cleaned[:120]


def load_json(data: bytes, what: str) -> JSON:
    """A package member's JSON through the bounded reader (size and depth checked before
    any parsing: a manifest nested 200,000 deep is refused, not a crash)."""
    if len(data) > MAX_JSON:
        raise PackageFormatError(f"{what}: {len(data)} bytes, more than {MAX_JSON}")

    def no_dupes(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            raise PackageFormatError(f"{what}: duplicate key")
        return obj

    try:
        return safejson.loads(data, what=what, max_bytes=MAX_JSON, object_pairs_hook=no_dupes)
    except PackageFormatError:
        raise
    except FormatError as exc:
        raise PackageFormatError(str(exc)) from exc


def checksums_text(digests: dict[str, str]) -> bytes:
    """`sha256sum` format: `<hex>  <name>` per line, sorted by name (GNU coreutils -c)."""
    lines = [f"{digests[name]}  {name}\n" for name in sorted(digests)]
    return "".join(lines).encode()


def parse_checksums(data: bytes) -> dict[str, str]:
    out: dict[str, str] = {}
    for n, line in enumerate(data.decode("utf-8", errors="strict").splitlines(), 1):
        m = re.fullmatch(r"([0-9a-f]{64})  (\S.*)", line)
        if not m:
            raise PackageFormatError(f"{CHECKSUMS} line {n}: expected '<sha256>  <name>'")
        if m.group(2) in out:
            raise PackageFormatError(f"{CHECKSUMS} line {n}: {m.group(2)!r} listed twice")
        out[m.group(2)] = m.group(1)
    return out


def eip712_types() -> dict[str, list[Eip712Field]]:
    """Every EIP-712 type a package's signatures use, as `eth_signTypedData_v4` wants them.

    Informative for experts (assemble `{types, primaryType, domain, message}` and recover
    with any EIP-712 tool); the verifier uses the library's own definitions and reports a
    package whose copy differs.
    """
    from evidence.judicial._attest import ATTESTATION_TYPE
    from evidence.judicial.provenance import PROVENANCE_TYPE
    from evidence.records import RECORD_TYPES, Domain

    types: dict[str, list[Eip712Field]] = {"EIP712Domain": Domain.TYPE}
    for name, cls in sorted(RECORD_TYPES.items()):
        types[name] = [{"name": n, "type": t} for n, t in cls.FIELDS]
    types["ProvenanceEntry"] = PROVENANCE_TYPE
    types["JudicialPackage"] = ATTESTATION_TYPE
    return types
