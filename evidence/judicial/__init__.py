"""Judicial confirmation packages: build one per case, verify it offline.

A court installs `evidence` alone: `build_package` lays out a case's signed records,
evidence, proofs, anchors, timestamps and provenance as one deterministic ZIP, and
`verify_package` recomputes every claim from the package, the chain and the
time-stamping authority's certificate (docs/judicial-package.md).
"""

from evidence.judicial._jury import JuryStep
from evidence.judicial._jury import recompute as recompute_jury
from evidence.judicial._jury import section as jury_section
from evidence.judicial.build import build_package, package_digest
from evidence.judicial.errors import (
    ArchiveBomb,
    JudicialError,
    MissingPackageFile,
    PackageFormatError,
    PackageInputError,
    UnsafeArchive,
    UnsafePath,
)
from evidence.judicial.inputs import (
    ROLES,
    AnchorInfo,
    AwardDocument,
    CaseInfo,
    EnforcementInfo,
    EvidenceItem,
    InstitutionInfo,
    LogCheckpoint,
    LogConsistency,
    LogInclusion,
    LogInputs,
    LogRange,
    MerkleLeafProof,
    Neutral,
    PackageInputs,
    Party,
    StepEntry,
    TimestampToken,
)
from evidence.judicial.provenance import ProvenanceEntry, SignedProvenanceEntry, sign_log
from evidence.judicial.verify import CHECKS, Check, CheckResult, Report, Status, verify_package

__all__ = [
    "CHECKS",
    "ROLES",
    "AnchorInfo",
    "ArchiveBomb",
    "AwardDocument",
    "CaseInfo",
    "Check",
    "CheckResult",
    "EnforcementInfo",
    "EvidenceItem",
    "InstitutionInfo",
    "JudicialError",
    "JuryStep",
    "LogCheckpoint",
    "LogConsistency",
    "LogInclusion",
    "LogInputs",
    "LogRange",
    "MerkleLeafProof",
    "MissingPackageFile",
    "Neutral",
    "PackageFormatError",
    "PackageInputError",
    "PackageInputs",
    "Party",
    "ProvenanceEntry",
    "Report",
    "SignedProvenanceEntry",
    "Status",
    "StepEntry",
    "TimestampToken",
    "UnsafeArchive",
    "UnsafePath",
    "build_package",
    "jury_section",
    "package_digest",
    "recompute_jury",
    "sign_log",
    "verify_package",
]
