"""A judicial package as a forger edits it: members changed, SHA256SUMS recomputed (the
attestation then fails; what a test reads is the check the edit should trip)."""

from __future__ import annotations

import hashlib
import io
import zipfile
from collections.abc import Callable
from pathlib import Path

from evidence.judicial import _format as fmt

__all__ = ["rewrite_package"]


def rewrite_package(package: bytes, out: Path, edit: Callable[[dict[str, bytes]], None]
                    ) -> Path:
    """The package with ``edit`` applied to its members (name -> bytes) and SHA256SUMS
    recomputed, written to ``out``."""
    with zipfile.ZipFile(io.BytesIO(package)) as zf:
        files = {n: zf.read(n) for n in zf.namelist()}
    edit(files)
    listed = {n: hashlib.sha256(b).hexdigest() for n, b in files.items()
              if n not in fmt.OUTSIDE_CHECKSUMS}
    files[fmt.CHECKSUMS] = fmt.checksums_text(listed)
    with zipfile.ZipFile(out, "w", zipfile.ZIP_DEFLATED) as zf:
        for name in sorted(files):
            zf.writestr(name, files[name])
    return out
