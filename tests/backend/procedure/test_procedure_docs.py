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


def test_procedure_imports_nothing_with_io() -> None:
    """Belt and braces next to the import-linter contract: only stdlib and eth_utils."""
    allowed = {"__future__", "collections", "dataclasses", "datetime", "enum", "re", "typing",
               "types", "functools",
               "eth_utils"}
    for path in (ROOT / "backend" / "procedure").glob("*.py"):
        tree = ast.parse(path.read_text(encoding="utf-8"))
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                names = [a.name for a in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                names = [node.module or ""]
            else:
                continue
            for name in names:
                assert name.split(".")[0] in allowed, f"{path.name} imports {name}"
