"""Judicial confirmation packages: build one per case, verify it offline.

A court installs `evidence` alone: `build_package` lays out a case's signed records,
evidence, proofs, anchors, timestamps and provenance as one deterministic ZIP, and
`verify_package` recomputes every claim from the package, the chain and the
time-stamping authority's certificate (docs/judicial-package.md).

The names load their modules when first used (PEP 562): importing the package, as the
`chainarb` entry point does for `verify`'s options, does not load the verifier (web3,
eth_account), so `chainarb --help` and a usage error start in a fraction of the time.
"""

from __future__ import annotations

from importlib import import_module
from typing import TYPE_CHECKING

if TYPE_CHECKING:
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

_WHERE = {  # public name: (module under evidence.judicial, its name there)
    "AnchorInfo": ("inputs", "AnchorInfo"),
    "ArchiveBomb": ("errors", "ArchiveBomb"),
    "AwardDocument": ("inputs", "AwardDocument"),
    "CHECKS": ("verify", "CHECKS"),
    "CaseInfo": ("inputs", "CaseInfo"),
    "Check": ("verify", "Check"),
    "CheckResult": ("verify", "CheckResult"),
    "EnforcementInfo": ("inputs", "EnforcementInfo"),
    "EvidenceItem": ("inputs", "EvidenceItem"),
    "InstitutionInfo": ("inputs", "InstitutionInfo"),
    "JudicialError": ("errors", "JudicialError"),
    "JuryStep": ("_jury", "JuryStep"),
    "LogCheckpoint": ("inputs", "LogCheckpoint"),
    "LogConsistency": ("inputs", "LogConsistency"),
    "LogInclusion": ("inputs", "LogInclusion"),
    "LogInputs": ("inputs", "LogInputs"),
    "LogRange": ("inputs", "LogRange"),
    "MerkleLeafProof": ("inputs", "MerkleLeafProof"),
    "MissingPackageFile": ("errors", "MissingPackageFile"),
    "Neutral": ("inputs", "Neutral"),
    "PackageFormatError": ("errors", "PackageFormatError"),
    "PackageInputError": ("errors", "PackageInputError"),
    "PackageInputs": ("inputs", "PackageInputs"),
    "Party": ("inputs", "Party"),
    "ProvenanceEntry": ("provenance", "ProvenanceEntry"),
    "ROLES": ("inputs", "ROLES"),
    "Report": ("verify", "Report"),
    "SignedProvenanceEntry": ("provenance", "SignedProvenanceEntry"),
    "Status": ("verify", "Status"),
    "StepEntry": ("inputs", "StepEntry"),
    "TimestampToken": ("inputs", "TimestampToken"),
    "UnsafeArchive": ("errors", "UnsafeArchive"),
    "UnsafePath": ("errors", "UnsafePath"),
    "build_package": ("build", "build_package"),
    "jury_section": ("_jury", "section"),
    "package_digest": ("build", "package_digest"),
    "recompute_jury": ("_jury", "recompute"),
    "sign_log": ("provenance", "sign_log"),
    "verify_package": ("verify", "verify_package"),
}


def __getattr__(name: str) -> object:
    if name not in _WHERE:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    module, attr = _WHERE[name]
    value = getattr(import_module(f"{__name__}.{module}"), attr)
    globals()[name] = value  # once: the next use is a plain attribute
    return value


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
