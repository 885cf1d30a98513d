"""Deterministic ZIP writing and bounded, traversal-proof ZIP extraction.

Rules for this module:

* Writing is deterministic: entries sorted by name, a fixed timestamp (1980-01-01, the
  ZIP epoch), fixed permissions (0644), DEFLATE at a fixed level, no directory entries,
  no extra fields. The same inputs give the same bytes, so two builds can be compared
  with sha256sum.
* Reading never trusts the archive. Before anything is written to disk every entry name is
  checked (no absolute path, drive letter, backslash, `.`/`..` component, control
  character, nesting over 32 levels, non-ASCII name not marked UTF-8, duplicate or
  case-folded duplicate, link or device), the entry count and the
  declared sizes are bounded, and entries may not overlap (the "overlapping files" bomb).
  While extracting, the bytes actually produced are counted against the same bounds, so a
  lying header cannot get past them.
"""

from __future__ import annotations

import itertools
import os
import shutil
import stat
import unicodedata
import zipfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

from evidence.judicial.errors import ArchiveBomb, UnreadableArchive, UnsafeArchive, UnsafePath

__all__ = ["DEFAULT_LIMITS", "ZIP_EPOCH", "Limits", "extract_zip", "write_zip"]

ZIP_EPOCH = (1980, 1, 1, 0, 0, 0)
_COPY_CHUNK = 1 << 20


@dataclass(frozen=True)
class Limits:
    """Bounds on what an archive may make us write. Defaults fit a large case."""

    max_entries: int = 20_000
    max_total_size: int = 8 << 30
    """Total uncompressed bytes of all entries (8 GiB)."""
    max_ratio: int = 200
    """Uncompressed / compressed, checked for entries above `ratio_floor` bytes."""
    ratio_floor: int = 16 << 20
    max_name_length: int = 512
    max_depth: int = 32
    """Path components of an entry name (a package's deepest is 3: evidence/<id>/<file>)."""


DEFAULT_LIMITS = Limits()


def write_zip(out_path: Path, files: Mapping[str, bytes | Path]) -> Path:
    """Write `files` (archive name -> bytes or a file to stream) as a deterministic ZIP."""
    out_path = Path(out_path)
    tmp = out_path.with_name(out_path.name + ".part")
    with zipfile.ZipFile(tmp, "w", allowZip64=True) as zf:
        for name in sorted(files):
            check_name(name, DEFAULT_LIMITS)
            info = zipfile.ZipInfo(name, date_time=ZIP_EPOCH)
            info.compress_type = zipfile.ZIP_DEFLATED
            info.external_attr = (stat.S_IFREG | 0o644) << 16
            info.create_system = 3
            content = files[name]
            if isinstance(content, bytes | bytearray):
                zf.writestr(info, bytes(content), compresslevel=6)
            else:
                size = Path(content).stat().st_size
                info.file_size = size
                # the level zf.open("w") uses; public (compress_level) only from Python 3.13
                info._compresslevel = 6  # type: ignore[attr-defined]
                with (
                    Path(content).open("rb") as src,
                    zf.open(info, "w", force_zip64=size > 0x7FFF_FFFF) as dst,
                ):
                    shutil.copyfileobj(src, dst, _COPY_CHUNK)
    os.replace(tmp, out_path)
    return out_path


def check_name(name: str, limits: Limits) -> None:
    """Refuse any entry name that could land outside the extraction folder."""
    if not name or len(name) > limits.max_name_length:
        raise UnsafePath(f"entry name of length {len(name)} (expected 1..{limits.max_name_length})")
    if any(ord(c) < 0x20 or ord(c) == 0x7F for c in name):
        raise UnsafePath(f"entry {name!r} has a control character in its name")
    if name.startswith("/") or "\\" in name or (len(name) > 1 and name[1] == ":"):
        raise UnsafePath(
            f"entry {name!r} is an absolute or non-POSIX path; expected a relative path "
            "with '/' separators"
        )
    parts = name.split("/")
    if any(p in ("", ".", "..") for p in parts):
        raise UnsafePath(f"entry {name!r} has an empty, '.' or '..' component (path traversal)")
    if len(parts) > limits.max_depth:
        raise UnsafePath(
            f"entry {name[:60]!r}... is nested {len(parts)} levels deep; at most "
            f"{limits.max_depth} are accepted"
        )


def _entry_kind(info: zipfile.ZipInfo) -> int:
    return (info.external_attr >> 16) & 0o170000 if info.create_system == 3 else 0


def _check_entries(zf: zipfile.ZipFile, limits: Limits) -> list[zipfile.ZipInfo]:
    infos = zf.infolist()
    if len(infos) > limits.max_entries:
        raise ArchiveBomb(f"{len(infos)} entries; at most {limits.max_entries} are accepted")
    seen: set[str] = set()
    total = 0
    files: list[zipfile.ZipInfo] = []
    for info in infos:
        name = info.filename
        is_dir = name.endswith("/")
        check_name(name.rstrip("/") if is_dir else name, limits)
        if not info.flag_bits & 0x800 and not name.isascii():
            # without the UTF-8 flag the bytes are CP437 to Python and something else to
            # other unzip tools: one archive, two sets of names
            raise UnsafePath(
                f"entry {name!r} has a non-ASCII name not marked UTF-8 (ZIP flag bit 11); "
                "its name depends on the tool that reads it"
            )
        if info.flag_bits & 0x1:
            raise UnsafeArchive(f"entry {name!r} is encrypted; a package is never encrypted")
        if info.compress_type not in (zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED):
            raise UnsafeArchive(
                f"entry {name!r} uses compression method {info.compress_type}; expected "
                "stored (0) or deflate (8)"
            )
        kind = _entry_kind(info)
        if kind == stat.S_IFLNK:
            raise UnsafePath(f"entry {name!r} is a symbolic link; links are refused")
        if kind not in (0, stat.S_IFREG, stat.S_IFDIR):
            raise UnsafePath(f"entry {name!r} is a device, pipe or socket; refused")
        folded = unicodedata.normalize("NFC", name).casefold()
        if folded in seen:
            raise UnsafePath(f"entry {name!r} appears twice (or differs only by case)")
        seen.add(folded)
        if is_dir:
            continue
        total += info.file_size
        if total > limits.max_total_size:
            raise ArchiveBomb(
                f"declared uncompressed size exceeds {limits.max_total_size} bytes "
                f"(at entry {name!r})"
            )
        if info.file_size > limits.ratio_floor and info.file_size > limits.max_ratio * max(
            info.compress_size, 1
        ):
            raise ArchiveBomb(
                f"entry {name!r} expands {info.file_size} bytes from {info.compress_size}: "
                f"ratio above {limits.max_ratio}"
            )
        files.append(info)
    # Overlapping entries share compressed data so a small file expands many times.
    ordered = sorted(files, key=lambda i: i.header_offset)
    for a, b in itertools.pairwise(ordered):
        if a.header_offset + 30 + len(a.orig_filename.encode()) + a.compress_size > b.header_offset:
            raise ArchiveBomb(f"entries {a.filename!r} and {b.filename!r} overlap")
    return files


def extract_zip(zip_path: Path, dest: Path, limits: Limits = DEFAULT_LIMITS) -> list[str]:
    """Extract the archive's files under `dest` (which must be empty); return their names.

    Raises `UnsafePath`, `ArchiveBomb` or `UnsafeArchive` before or while writing, and
    `UnreadableArchive` for a file that is not a ZIP, is truncated, or has corrupt bytes.
    """
    dest = Path(dest).resolve()
    try:
        zf = zipfile.ZipFile(zip_path)
    except Exception as exc:  # zipfile raises many types on hostile input; all mean "no"
        raise UnreadableArchive(
            f"{zip_path} is not a readable ZIP archive ({type(exc).__name__}: {exc})"
        ) from exc
    names: list[str] = []
    with zf:
        files = _check_entries(zf, limits)
        written = 0
        for info in files:
            target = (dest / info.filename).resolve()
            if not target.is_relative_to(dest):
                raise UnsafePath(f"entry {info.filename!r} resolves outside the extraction folder")
            target.parent.mkdir(parents=True, exist_ok=True)
            produced = 0
            try:
                with zf.open(info) as src, target.open("xb") as dst:
                    while chunk := src.read(_COPY_CHUNK):
                        produced += len(chunk)
                        written += len(chunk)
                        if produced > info.file_size or written > limits.max_total_size:
                            raise ArchiveBomb(
                                f"entry {info.filename!r} produces more than it declares "
                                f"or the total exceeds {limits.max_total_size} bytes"
                            )
                        dst.write(chunk)
            except UnsafeArchive:
                raise
            except FileExistsError as exc:
                raise UnsafePath(f"entry {info.filename!r} would overwrite another") from exc
            except Exception as exc:  # zlib.error, CRC mismatch, EOF, OSError...: corrupt
                raise UnreadableArchive(
                    f"entry {info.filename!r} is corrupt ({type(exc).__name__}: {exc})"
                ) from exc
            names.append(info.filename)
    return names
