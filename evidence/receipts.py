"""A party's receipts folder: where `chainarb` keeps the institution's receipts.

Every accepted step and upload answers with a `receipt` (docs/log.md): the institution's
signed promise that the record is at index i of its log. A receipt is evidence: it lets a
court (`chainarb verify --receipts DIR`) and the monitor (`chainarb monitor`) catch a
package or a log that leaves the record out. This module only stores and reads the files;
what a receipt proves, `evidence.log` checks.

Rules: one JSON file per receipt, named by the SHA-256 of its canonical JSON (saving twice
writes one file; nothing is ever overwritten with other bytes); reads are bounded (size of
a file, number of files) and go through the bounded JSON reader.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from evidence import safejson
from evidence.errors import FormatError

__all__ = ["MAX_RECEIPTS", "MAX_RECEIPT_BYTES", "HeldReceipt", "ReceiptFileError",
           "default_folder", "load_receipts", "save_receipt"]

MAX_RECEIPT_BYTES = 1 << 20
MAX_RECEIPTS = 100_000
RECEIPTS_ENV = "CHAINARB_RECEIPTS_DIR"


class ReceiptFileError(FormatError):
    """A file of the receipts folder that is not a receipt's JSON (`name` says which)."""

    def __init__(self, name: str, reason: str) -> None:
        super().__init__(f"{name}: {reason}")
        self.name = name


@dataclass(frozen=True)
class HeldReceipt:
    """A receipt as a party holds it: the file's name (for messages) and its JSON."""

    name: str
    obj: Mapping[str, object]  # a JSON object; verify_receipt judges its members


def default_folder() -> Path:
    """$CHAINARB_RECEIPTS_DIR, else `<CHAINARB_DATA_DIR or ./chainarb-data>/receipts`."""
    given = os.environ.get(RECEIPTS_ENV, "").strip()
    if given:
        return Path(given)
    return Path(os.environ.get("CHAINARB_DATA_DIR", "chainarb-data")) / "receipts"


def _canonical(obj: object) -> bytes:
    return json.dumps(obj, sort_keys=True, separators=(",", ":"), ensure_ascii=False).encode()


def save_receipt(folder: Path, receipt: Mapping[str, object]) -> Path:
    """Write `receipt` into `folder` (created) as `<sha256 of its canonical JSON>.json`,
    atomically; the same receipt saved again is the same file."""
    data = _canonical(dict(receipt))
    folder.mkdir(parents=True, exist_ok=True)
    target = folder / f"{hashlib.sha256(data).hexdigest()[:32]}.json"
    if target.is_file():
        return target
    fd, tmp = tempfile.mkstemp(dir=folder, prefix=".receipt-", suffix=".tmp")
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data + b"\n")
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def _files(folder: Path) -> Iterator[Path]:
    """Every `*.json` under `folder`, its subfolders too (the demo keeps one per address)."""
    for n, path in enumerate(sorted(folder.rglob("*.json"))):
        if n >= MAX_RECEIPTS:
            raise ReceiptFileError(path.name, f"more than {MAX_RECEIPTS} receipts in the folder")
        yield path


def load_receipts(folder: Path) -> list[HeldReceipt]:
    """Every `*.json` under `folder` (subfolders too; symbolic links skipped), sorted by
    path, parsed (bounded); a file that is not a JSON object raises ReceiptFileError
    naming it (never showing its content). Each is named by its path in the folder."""
    out = []
    for path in _files(folder):
        if not path.is_file() or path.is_symlink():
            continue
        name = path.relative_to(folder).as_posix()
        if path.stat().st_size > MAX_RECEIPT_BYTES:
            raise ReceiptFileError(name, f"more than {MAX_RECEIPT_BYTES} bytes")
        try:
            obj = safejson.loads(path.read_bytes(), what=name, max_bytes=MAX_RECEIPT_BYTES)
        except (FormatError, ValueError, UnicodeDecodeError) as exc:
            raise ReceiptFileError(name, f"not JSON ({type(exc).__name__})") from None
        if not isinstance(obj, dict):
            raise ReceiptFileError(name, "not a JSON object")
        out.append(HeldReceipt(name, obj))
    return out
