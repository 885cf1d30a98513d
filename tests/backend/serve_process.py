"""`chainarb serve` in a subprocess, as an operator starts it (environment only)."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import httpx
from eth_account.messages import encode_defunct
from eth_account.signers.local import LocalAccount

CHAINARB = str(Path(sys.executable).with_name("chainarb"))


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@dataclass
class Served:
    base: str
    proc: subprocess.Popen[bytes]
    health: dict[str, Any]
    output: list[str] = field(default_factory=list)  # filled when the process has stopped

    def sign_in(self, account: LocalAccount) -> dict[str, str]:
        """A bearer header for ``account`` (personal_sign of the service's challenge)."""
        msg = httpx.get(f"{self.base}/auth/nonce",
                        params={"address": account.address}).json()["message"]
        sig = account.sign_message(encode_defunct(text=msg)).signature.hex()
        r = httpx.post(f"{self.base}/auth/sign-in",
                       json={"message": msg, "signature": "0x" + sig.removeprefix("0x")})
        assert r.status_code == 200, r.text
        return {"Authorization": f"Bearer {r.json()['token']}"}


def serve_env(data_dir: Path, port: int, **extra: str) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.upper().startswith("CHAINARB_") and k.upper() != "DATABASE_URL"}
    return env | {"CHAINARB_DATA_DIR": str(data_dir), "CHAINARB_PORT": str(port), **extra}


@contextmanager
def running_serve(env: dict[str, str], cwd: Path, *, timeout: float = 120,
                  args: tuple[str, ...] = (), port: int | None = None) -> Iterator[Served]:
    """Start `chainarb serve` (with ``args``; listening on ``port``, else CHAINARB_PORT's),
    wait for /health, stop it (SIGTERM) afterwards; the combined stdout/stderr is in
    ``Served.output`` after the block."""
    port = port or int(env["CHAINARB_PORT"])
    proc = subprocess.Popen([CHAINARB, "serve", *args], env=env, cwd=cwd,
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    served: Served | None = None
    try:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if proc.poll() is not None:
                out = proc.stdout.read().decode() if proc.stdout else ""
                raise AssertionError(f"chainarb serve exited {proc.returncode}:\n{out}")
            try:
                health = httpx.get(f"{base}/health", timeout=2).json()
                break
            except httpx.HTTPError:
                time.sleep(0.2)
        else:
            raise AssertionError(f"chainarb serve did not answer /health in {timeout} s")
        served = Served(base, proc, health)
        yield served
    finally:
        proc.terminate()
        out = proc.communicate(timeout=60)[0].decode()
        if served is not None:
            served.output.append(out)
