"""Helpers for tests/security/test_input_bounds.py: the hostile bodies, a `chainarb serve`
process on anvil, and the API test world (tests/support/world.py)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

DEPTH = 200_000  # issue 9: 400 KB, far under the body limit, killed the process


def nested_body(depth: int = DEPTH) -> bytes:
    """``{"record": [[[...]]]}``: the body that crashed `chainarb serve` (issue 9)."""
    return b'{"record": ' + b"[" * depth + b"]" * depth + b"}"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    proc: subprocess.Popen[bytes]
    base: str

    def alive(self) -> bool:
        return self.proc.poll() is None


@contextmanager
def chainarb_serve(env_extra: dict[str, str], tmp_path: Path) -> Iterator[Served]:
    """`chainarb serve` as an operator runs it (settings from the environment only), until
    /health answers; stopped (and its output kept) at the end."""
    port = free_port()
    env = {**os.environ, "CHAINARB_DATA_DIR": str(tmp_path / "data"),
           "CHAINARB_PORT": str(port), **env_extra}
    env.pop("DATABASE_URL", None)
    env.pop("CHAINARB_DATABASE_URL", None)
    chainarb = Path(sys.executable).parent / "chainarb"
    log = (tmp_path / "serve.log").open("wb")
    proc = subprocess.Popen([str(chainarb), "serve"], env=env, cwd=tmp_path, stdout=log,
                            stderr=subprocess.STDOUT)
    served = Served(proc, f"http://127.0.0.1:{port}")
    try:
        deadline = time.monotonic() + 90
        while True:
            if proc.poll() is not None:
                raise AssertionError((tmp_path / "serve.log").read_text())
            try:
                if httpx.get(f"{served.base}/health", timeout=2).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            if time.monotonic() > deadline:
                raise AssertionError("chainarb serve did not answer /health in 90 s")
            time.sleep(0.2)
        yield served
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
        log.close()
