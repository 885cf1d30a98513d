# ruff: noqa: N818  -- names state the refusal, as in evidence/errors.py
"""Errors of `evidence.judicial`: refusals to build or to open a judicial package.

Verification failures are not exceptions: `verify_package` returns a `Report` whose
checks say pass or fail with a reason. Exceptions are for what stops the work outright
(an archive that is unsafe to open, inputs the builder cannot package).
"""

from __future__ import annotations

from evidence.errors import EvidenceError, FormatError

__all__ = [
    "ArchiveBomb",
    "JudicialError",
    "MissingPackageFile",
    "PackageFormatError",
    "PackageInputError",
    "UnreadableArchive",
    "UnsafeArchive",
    "UnsafePath",
]


class JudicialError(EvidenceError):
    """Base of the judicial package's refusals."""

    code = "judicial"


class PackageInputError(JudicialError, ValueError):
    """The builder's inputs are inconsistent (e.g. a proof for a root with no anchor)."""

    code = "package_input"


class PackageFormatError(JudicialError, FormatError):
    """A package file that does not follow docs/judicial-package.md."""

    code = "package_format"


class MissingPackageFile(PackageFormatError):
    """A file the format requires, or that SHA256SUMS lists, is not in the archive."""

    code = "package_missing_file"

    def __init__(self, name: str, why: str = "") -> None:
        super().__init__(f"missing file {name!r} in the package{': ' + why if why else ''}")
        self.name = name


class UnsafeArchive(JudicialError):
    """An archive that must not be opened (its entries could harm the reader)."""

    code = "unsafe_archive"


class UnsafePath(UnsafeArchive):
    """An entry whose name escapes the extraction folder or is a link or device."""

    code = "unsafe_path"


class ArchiveBomb(UnsafeArchive):
    """An archive beyond the bounds on entries, total size or compression ratio."""

    code = "archive_bomb"


class UnreadableArchive(JudicialError):
    """The file cannot be read as a ZIP archive: not a ZIP, truncated, or an entry whose
    bytes are corrupt (bad CRC, broken deflate stream). Not a failed check and not an
    attack: the verifier cannot say anything about such a file (`chainarb verify` exit 4)."""

    code = "unreadable_archive"
