"""Compiled contract artifacts (backend/chain/compiled/*.json, written by scripts/compile.py).

The artifacts are committed, so nothing here compiles: loading is a JSON read. A test
recompiles and fails when the committed files are stale (`scripts/compile.py --check`).
They are package data read through `importlib.resources`, so an installed wheel deploys the
same bytecode as a checkout, whatever the working directory.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from importlib.resources.abc import Traversable

from eth_typing import ABIElement

from backend.chain.errors import ArtifactMissingError

__all__ = ["ARTIFACTS_DIR", "Artifact", "artifact_names", "load_artifact"]

ARTIFACTS_DIR: Traversable = resources.files("backend.chain") / "compiled"


@dataclass(frozen=True)
class Artifact:
    """One contract's ABI and bytecode as solc produced them."""

    name: str
    source_name: str
    abi: tuple[ABIElement, ...]
    bytecode: str
    deployed_bytecode: str
    metadata: str

    @property
    def deployable(self) -> bool:
        """False for interfaces and abstract contracts (no creation code)."""
        return self.bytecode not in ("", "0x")


def artifact_names() -> tuple[str, ...]:
    """Names of every committed artifact, sorted."""
    return tuple(sorted(p.name.removesuffix(".json") for p in ARTIFACTS_DIR.iterdir()
                        if p.name.endswith(".json")))


@cache
def load_artifact(name: str) -> Artifact:
    """Load backend/chain/compiled/<name>.json.

    Raises:
        ArtifactMissingError: no such file (run `scripts/compile.py`).
    """
    path = ARTIFACTS_DIR / f"{name}.json"
    if not path.is_file():
        raise ArtifactMissingError(
            f"expected compiled artifact {path}, found none; run `.venv/bin/python "
            f"scripts/compile.py` (known: {', '.join(artifact_names()) or 'none'})"
        )
    raw = json.loads(path.read_text())
    return Artifact(
        name=raw["contractName"],
        source_name=raw["sourceName"],
        abi=tuple(raw["abi"]),
        bytecode=raw["bytecode"],
        deployed_bytecode=raw["deployedBytecode"],
        metadata=raw["metadata"],
    )
