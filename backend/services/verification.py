"""The service runs a court's package checks on a file the court uploads (``POST /verify``).

Why the service runs them at all: a judge in a browser has no ``chainarb verify`` at hand.
The checks are the verifier's own (``evidence.judicial.verify_package``, the ones
``chainarb verify`` runs) on the uploaded bytes, and the answer says that the service ran
them: a court that does not trust the service runs the same command itself.

What the service does not do: confirm the block hashes the verdict rests on. Asking its own
node would be the operator vouching for itself, so ``block_confirmation`` is left not run
(``chainarb verify``'s exit 3) and the answer lists each block (chain, number, hash, time)
with how to confirm it on a node or explorer the court chooses. The TSA certificates are the
package's own, as ``chainarb verify`` without ``--tsa-cert``; the notes say so.

The upload is spooled to a temporary file (bounded by ``max_bytes``, counted as it
arrives), checked, and deleted; nothing of it is stored. The answer names the packages this
service gave the viewer with the same manifest SHA-256 (the ``packageHash`` a court decision
signs), so the page can say "this is the package you downloaded on …"; none when a check
failed (a tampered copy keeps the manifest of the package it was made from).
"""

from __future__ import annotations

import hashlib
import os
import tempfile
import zipfile
from collections.abc import Callable
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

from sqlmodel import Session, col, select
from typing_extensions import TypedDict

from backend.answers import open_answer
from backend.db.service_models import CourtAccess
from evidence.judicial import _format as fmt
from evidence.judicial.cli import reason_text
from evidence.judicial.verify import (
    LABELS,
    BlockRefJson,
    Outcome,
    Report,
    Status,
    verify_package,
)

from .errors import BadSubmission
from .evidence import UploadTooLarge
from .package import ExportJson, exports_to

__all__ = ["MAX_PACKAGE_BYTES", "PackageCheck", "PackageVerificationJson", "Spool",
           "verification_json"]


@open_answer
class PackageCheckJson(TypedDict):
    """One check of ``POST /verify``: its label and reason in both languages; ``status`` is
    ``passed``, ``failed`` or ``not_run``."""

    name: str
    label: dict[str, str]
    status: str
    reason: dict[str, str]
    details: list[str]


class UploadedFileJson(TypedDict):
    """The file the service checked: its name, size and SHA-256."""

    name: str
    size: int
    sha256: str


@open_answer
class PackageVerificationJson(TypedDict):
    """``POST /verify``: the checks ``chainarb verify`` runs, run by the service on the
    uploaded file (``runBy`` is ``service``), and the blocks left for the court to confirm."""

    runBy: str
    statement: dict[str, str]
    file: UploadedFileJson
    outcome: str
    ok: bool
    failed: list[str]
    unreadable: str | None
    packageDigest: str | None
    manifestSha256: str | None
    chainId: int | None
    checks: list[PackageCheckJson]
    blocks: list[BlockRefJson]
    blocksToConfirm: bool
    confirmHow: dict[str, str]
    notes: list[dict[str, str]]
    yourPackages: list[ExportJson]
    service: str  # the service's base URL (listed last, as the API has always answered it)

MAX_PACKAGE_BYTES = 1 << 30
"""The largest package the service checks (1 GiB): a case's evidence is bounded by
CHAINARB_MAX_UPLOAD_BYTES per item; a larger package is checked with ``chainarb verify``."""
MAX_MANIFEST_BYTES = fmt.MAX_JSON
MAX_DETAILS = 50  # lines of a check's details in the answer (a failure lists each problem)

STATEMENT = (
    "These checks were run by this chainarb service on the file you uploaded: the checks "
    "`chainarb verify` runs. The service did not confirm the block hashes the result rests "
    "on (it would be vouching for its own chain): confirm them yourself, or run `chainarb "
    "verify PACKAGE --rpc URL` with a node you choose.",
    "以下检查由本 chainarb 服务对您上传的文件运行，与 `chainarb verify` 的检查相同。服务未确认"
    "结论所依据的区块哈希（否则等于为自己的链作证）：请您自行确认，或使用您选择的节点运行 "
    "`chainarb verify 材料包 --rpc URL`。",
)
CONFIRM_HOW = (
    "For each block: open a node or block explorer of that chain that you trust, look up the "
    "block by its number and compare its hash with the one shown. Or, with the package saved: "
    "chainarb verify PACKAGE.zip --rpc URL (several --rpc for independent nodes; they must "
    "agree), or --checkpoint FILE with hashes published elsewhere.",
    "对每个区块：打开您信任的该链节点或区块浏览器，按区块号查找该区块，并将其哈希与此处显示的哈希"
    "比对。或在保存材料包后运行：chainarb verify 材料包.zip --rpc URL（可多次提供 --rpc 以使用"
    "多个独立节点，结果须一致），或使用在别处公布哈希的 --checkpoint 文件。",
)


class Spool:
    """An upload written to a temporary file as it arrives, refused past ``max_bytes``."""

    def __init__(self, max_bytes: int, directory: Path | None = None) -> None:
        self.max_bytes = max_bytes
        fd, name = tempfile.mkstemp(prefix="chainarb-verify-", suffix=".zip",
                                    dir=str(directory) if directory else None)
        self.path = Path(name)
        self._file: IO[bytes] = os.fdopen(fd, "wb")
        self._sha = hashlib.sha256()
        self.size = 0

    def feed(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise UploadTooLarge(f"the package is over {self.max_bytes} bytes, the most this "
                                 "service checks; run `chainarb verify` on it; nothing was kept")
        self._sha.update(data)
        self._file.write(data)

    @property
    def sha256(self) -> str:
        return self._sha.hexdigest()

    def close(self) -> None:
        if not self._file.closed:
            self._file.close()

    def abort(self) -> None:
        """Close and delete (the upload failed or was checked)."""
        self.close()
        with suppress(FileNotFoundError):
            self.path.unlink()


@dataclass
class PackageCheck:
    """Spool an upload and run the verifier on it (one per app: ``app.state``)."""

    sessions: Callable[[], Session]
    base_url: str = ""
    max_bytes: int = MAX_PACKAGE_BYTES
    directory: Path | None = None
    verify: Callable[..., Report] = field(default=verify_package)

    def start(self) -> Spool:
        return Spool(self.max_bytes, self.directory)

    def check(self, viewer: str, spool: Spool, filename: str) -> PackageVerificationJson:
        """The verifier's report on the spooled file, for ``viewer`` (then the file is gone)."""
        try:
            spool.close()
            if spool.size == 0:
                raise BadSubmission("the uploaded package is empty (0 bytes)", code="empty_file")
            # No chain source: the block hashes are the court's to confirm (module doc).
            report = self.verify(spool.path, chain=[])
            manifest = _manifest_sha256(spool.path) if report.unreadable is None else None
        finally:
            spool.abort()
        # a package whose checks fail is not the one given, whatever its manifest says
        yours = self.exports(viewer, manifest) if manifest and report.failure is None else []
        return verification_json(report, name=filename, size=spool.size, sha256=spool.sha256,
                                 manifest_sha256=manifest, base_url=self.base_url,
                                 yours=yours)

    def exports(self, viewer: str, manifest_sha256: str) -> list[ExportJson]:
        """The packages with this manifest the service gave ``viewer`` (a court), oldest first."""
        with self.sessions() as session:
            cases = set(session.exec(select(CourtAccess.case_id).where(
                col(CourtAccess.court) == viewer)).all())
            given = exports_to(session, viewer, cases) if cases else []
        return [e for e in given if e["manifestSha256"] == manifest_sha256]


def _manifest_sha256(path: Path) -> str | None:
    """``0x`` SHA-256 of the package's manifest.json (a court decision's ``packageHash``), or
    None when the archive has none within bounds (the checks then say what is wrong)."""
    try:
        with zipfile.ZipFile(path) as z:
            info = z.getinfo(fmt.MANIFEST)
            if info.file_size > MAX_MANIFEST_BYTES:
                return None
            return "0x" + hashlib.sha256(z.read(info)).hexdigest()
    except (KeyError, OSError, zipfile.BadZipFile, RuntimeError, ValueError):
        return None


_STATUS = {Status.PASSED: "passed", Status.FAILED: "failed", Status.SKIPPED: "not_run",
           Status.NOT_RUN: "not_run"}


def verification_json(report: Report, *, name: str, size: int, sha256: str,
                      manifest_sha256: str | None, base_url: str,
                      yours: list[ExportJson]) -> PackageVerificationJson:
    """The answer of ``POST /verify`` (docs/api.md, "Package check by the service")."""
    checks: list[PackageCheckJson] = []
    for c in report.checks:
        en, zh = LABELS[c.name]
        checks.append({
            "name": c.name, "label": {"en": en, "zh": zh}, "status": _STATUS[c.status],
            "reason": {"en": reason_text(c, zh=False), "zh": reason_text(c, zh=True)},
            "details": list(c.details)[:MAX_DETAILS]})
    confirmation = next((c for c in report.checks if c.name == "block_confirmation"), None)
    unconfirmed = confirmation is not None and confirmation.status is not Status.PASSED \
        and confirmation.status is not Status.FAILED
    return {
        "runBy": "service",
        "service": base_url,
        "statement": {"en": STATEMENT[0], "zh": STATEMENT[1]},
        "file": {"name": name[:255], "size": size, "sha256": "0x" + sha256},
        "outcome": str(report.outcome),
        "ok": report.ok,
        "failed": [c.name for c in report.checks if c.status is Status.FAILED],
        "unreadable": report.unreadable,
        "packageDigest": report.package_digest,
        "manifestSha256": manifest_sha256,
        "chainId": report.chain_id,
        "checks": checks,
        "blocks": [b.to_json_obj() for b in report.blocks],
        "blocksToConfirm": unconfirmed and report.outcome is not Outcome.UNREADABLE,
        "confirmHow": {"en": CONFIRM_HOW[0], "zh": CONFIRM_HOW[1]},
        "notes": [{"name": n.name, "en": n.en, "zh": n.zh} for n in report.notes],
        "yourPackages": yours,
    }

