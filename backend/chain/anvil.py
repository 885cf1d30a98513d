"""Where the chain node's program is: anvil runs the embedded chain and the tests' chains.

Looked up, in this order:

1. ``CHAINARB_ANVIL``: a path, or a name looked up on ``PATH`` (configured wins, and a
   configured program that is missing is an error rather than a silent fallback);
2. ``node_modules/.bin/anvil`` of the working directory, then of the source checkout this
   module was loaded from: the version ``package-lock.json`` pins, which ``make demo``
   installs (``npm ci --omit=dev``);
3. ``anvil`` on ``PATH`` (Foundry's ``foundryup``, or the npm package installed globally):
   what an installed wheel finds, since it carries no node_modules of its own.

Resolved when a node starts, not at import, so ``PATH`` and the variable are read as they
are then.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Mapping
from pathlib import Path

__all__ = ["ANVIL_ENV", "INSTALL_HINT", "find_anvil", "missing_anvil"]

ANVIL_ENV = "CHAINARB_ANVIL"
NPM_PACKAGE = "@foundry-rs/anvil-linux-amd64"
INSTALL_HINT = (
    f"install the chain node anvil: `make demo` in a checkout (npm package {NPM_PACKAGE}), "
    f"`npm install -g {NPM_PACKAGE}` or Foundry's foundryup to put it on PATH; or set "
    f"{ANVIL_ENV} to its path, or CHAINARB_CHAIN_RPC_URL to a running node"
)
_CHECKOUT = Path(__file__).resolve().parents[2]


def _local_bins(cwd: Path) -> list[Path]:
    dirs = dict.fromkeys((cwd.resolve(), _CHECKOUT))  # in order, once each
    return [d / "node_modules" / ".bin" / "anvil" for d in dirs]


def _runnable(path: Path) -> bool:
    return path.is_file() and os.access(path, os.X_OK)


def find_anvil(environ: Mapping[str, str] | None = None, cwd: Path | None = None) -> Path | None:
    """The anvil program to run, or None when there is none (see the module's order)."""
    env = os.environ if environ is None else environ
    search_path = env.get("PATH", os.defpath)
    configured = env.get(ANVIL_ENV, "")
    if configured:
        if _runnable(Path(configured)):
            return Path(configured)
        found = shutil.which(configured, path=search_path)
        return Path(found) if found else None
    for candidate in _local_bins(cwd or Path.cwd()):
        if _runnable(candidate):
            return candidate
    found = shutil.which("anvil", path=search_path)
    return Path(found) if found else None


def missing_anvil(environ: Mapping[str, str] | None = None) -> str:
    """Why no anvil was found and what to install, for the error a caller raises."""
    env = os.environ if environ is None else environ
    configured = env.get(ANVIL_ENV, "")
    where = (f"{ANVIL_ENV}={configured} is not a program" if configured
             else "anvil is not in node_modules/.bin nor on PATH")
    return f"{where}; {INSTALL_HINT}"
