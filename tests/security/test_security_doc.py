"""docs/api.md's Security section names a test for every class: each named file and test
function must exist, so the table cannot drift from the suite that keeps the classes closed."""

from __future__ import annotations

import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]


def _security_rows() -> list[str]:
    text = (ROOT / "docs" / "api.md").read_text()
    section = text.split("\n## Security\n", 1)[1].split("\n## ", 1)[0]
    return [line for line in section.splitlines() if line.startswith("| ")
            and not line.startswith("| class") and not line.startswith("| ---")]


def _find(name: str) -> Path:
    if "/" in name:
        return ROOT / name
    hits = sorted((ROOT / "tests").rglob(name))
    assert len(hits) == 1, f"{name}: expected one file under tests/, found {hits}"
    return hits[0]


def test_the_security_section_lists_many_classes() -> None:
    assert len(_security_rows()) >= 25


def test_every_test_the_security_section_names_exists() -> None:
    checked = 0
    for row in _security_rows():
        cell = row.rstrip(" |").rsplit(" | ", 1)[1]
        current: Path | None = None
        for ref in re.findall(r"`([^`]+)`", cell):
            file_part, _, func = ref.partition("::")
            if file_part:
                current = _find(file_part)
                assert current.exists(), f"{row[:60]}: {ref} does not exist"
            assert current is not None, f"{row[:60]}: {ref} names no file"
            if func:
                source = current.read_text()
                assert re.search(rf"^(async )?def {re.escape(func)}\(", source, re.M), \
                    f"{current.relative_to(ROOT)} has no test {func}"
            checked += 1
    assert checked >= 40
