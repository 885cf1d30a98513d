"""The generated diagram is current, the docs name every command and stage, the core is pure."""

from __future__ import annotations

import ast
import subprocess
import sys
from pathlib import Path

from backend import procedure as p

ROOT = Path(__file__).resolve().parents[3]


def test_diagram_is_generated_from_the_current_tables() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "procedure_diagram.py"),
                             "--check"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_diagram_draws_every_stage_and_non_self_edge() -> None:
    text = (ROOT / "docs" / "procedure-diagram.md").read_text(encoding="utf-8")
    for stage in p.Stage:
        assert f" {stage.value} " in text or f"{stage.value} -->" in text


def test_docs_name_every_command_and_stage() -> None:
    text = (ROOT / "docs" / "procedure.md").read_text(encoding="utf-8")
    for cls in p.COMMAND_TYPES:
        assert f"`{cls.__name__}(" in text, cls.__name__
    for stage in p.Stage:
        assert f"`{stage.value}`" in text, stage


def test_public_api_is_re_exported() -> None:
    for name in p.__all__:
        assert hasattr(p, name), name
    assert {"apply", "advance", "next_deadline", "new_case"} <= set(p.__all__)


PURE = {"__future__", "collections", "dataclasses", "datetime", "enum", "re", "typing",
        "types", "functools", "json", "eth_utils", "msgspec"}
"""What the core may import: the standard library it uses, eth_utils (checksums) and msgspec
(JSON to and from the dataclasses, in memory: the stored case's decoder)."""
SHARED_VALUES = ("evidence.orders", "evidence.jury", "evidence.errors")
"""The evidence modules the core imports: the Allocation and order values it shares with
the signed records and the escrow, and the jury's public arithmetic (the draw and the vote
commitments the court's verifier recomputes), each held to PURE (plus keccak)."""


def _imports(path: Path) -> list[str]:
    """The absolute imports of a module's source."""
    names: list[str] = []
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names += [a.name for a in node.names]
        elif isinstance(node, ast.ImportFrom) and node.level == 0:
            names.append(node.module or "")
    return names


def test_procedure_imports_nothing_with_io() -> None:
    """Belt and braces next to the import-linter contract: only stdlib, eth_utils and the
    shared value types."""
    for path in (ROOT / "backend" / "procedure").glob("*.py"):
        for name in _imports(path):
            assert name in SHARED_VALUES or name.split(".")[0] in PURE, \
                f"{path.name} imports {name}"


def test_the_shared_value_types_import_nothing_with_io() -> None:
    """evidence.orders imports only what the core may, and evidence.errors (stdlib only);
    importing it (with evidence/__init__) loads no crypto, ABI, chain or network library."""
    for module in ("orders", "errors", "jury"):
        for name in _imports(ROOT / "evidence" / f"{module}.py"):
            assert name in ("evidence.errors", "evidence._keccak") \
                or name.split(".")[0] in PURE, f"evidence/{module}.py imports {name}"
    heavy = ("eth_account", "eth_abi", "eth_keys", "coincurve", "cryptography", "web3",
             "httpx", "sqlalchemy", "evidence.records")
    code = ("import sys, evidence.orders, evidence.jury; "
            f"print(sorted(m for m in {heavy!r} if m in sys.modules))")
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                            cwd=ROOT, check=True)
    assert result.stdout.strip() == "[]", result.stdout
