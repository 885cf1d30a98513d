"""The tests' time-stamping authority: the product's ``backend.local_tsa.LocalTsa`` (the one
the demo stamps with) under a test name, with POST /reject and an ``openssl ts -verify``
helper, because the expert checks tokens with that tool.

``clock``: a test world that moves its chain's clock days ahead (to pass the escrow's
deadlines) moves the authority's clock with it, so that the three clocks still agree
(evidence/clocks.py) as they do in the real world. It is still ``openssl ts -reply`` that
signs; only the time it reads is the world's, through libfaketime (Debian ``libfaketime``,
installed by .ci/run). Without a clock the authority dates tokens by the real time: the
clock forgeries (tests/judicial/test_judicial_clocks.py) rely on that.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Literal

from backend.local_tsa import LocalTsa

__all__ = ["LocalTSA", "faketime_library", "start_tsa"]

_FAKETIME_DIRS = ("/usr/lib/x86_64-linux-gnu/faketime", "/usr/lib/aarch64-linux-gnu/faketime",
                  "/usr/lib/faketime", "/usr/local/lib/faketime")


def faketime_library() -> str:
    """The path of libfaketime.so.1; a clear error when it is not installed."""
    for d in _FAKETIME_DIRS:
        lib = Path(d) / "libfaketime.so.1"
        if lib.is_file():
            return str(lib)
    raise RuntimeError("a test TSA with a clock needs libfaketime: apt-get install libfaketime")


class LocalTSA(LocalTsa):
    clock: Callable[[], int] | None = None
    """Epoch seconds the authority's tokens are dated with (None: the real time)."""

    def _environment(self) -> dict[str, str] | None:
        if self.clock is None:
            return None
        at = datetime.fromtimestamp(self.clock(), UTC).strftime("%Y-%m-%d %H:%M:%S")
        return {**os.environ, "LD_PRELOAD": faketime_library(), "FAKETIME": f"@{at}",
                "TZ": "UTC", "FAKETIME_DONT_RESET": "1"}

    @contextmanager
    def following(self, clock: Callable[[], int]) -> Iterator[LocalTSA]:
        """Date tokens by `clock` while the block runs (e.g. a world's chain time)."""
        before, self.clock = self.clock, clock
        try:
            yield self
        finally:
            self.clock = before

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
