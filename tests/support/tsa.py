"""The tests' time-stamping authority: the product's ``backend.local_tsa.LocalTsa`` (the one
the demo stamps with) under a test name, with POST /reject and an ``openssl ts -verify``
helper, because the expert checks tokens with that tool.
"""

from __future__ import annotations

import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Literal

from backend.local_tsa import LocalTsa

__all__ = ["LocalTSA", "start_tsa"]


class LocalTSA(LocalTsa):
    def openssl_verify(self, tsr: Path, digest_hex: str) -> subprocess.CompletedProcess[str]:
        """`openssl ts -verify` of a response against this authority's root."""
        return subprocess.run(
            ["openssl", "ts", "-verify", "-digest", digest_hex, "-in", str(tsr),
             "-CAfile", str(self.ca_pem), "-untrusted", str(self.chain_pem)],
            capture_output=True, text=True, check=False,
        )


@contextmanager
def start_tsa(workdir: Path, *, key: Literal["ec", "rsa"] = "ec",
              intermediate: bool = False) -> Iterator[LocalTSA]:
    """A fresh authority in `workdir` (EC or RSA keys, optionally under an intermediate CA),
    served while the block runs; `reject_url` answers every query with a rejection."""
    with LocalTSA(workdir, name="chainarb test", key=key, intermediate=intermediate,
                  reject_path="/reject") as tsa:
        yield tsa
