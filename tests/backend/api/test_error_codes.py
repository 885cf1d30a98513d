"""The documented error codes: docs/api.md's table is the registry, and the whole-suite
check (tests/error_code_recorder.py) says what is missing on either side."""

from __future__ import annotations

from pathlib import Path
from types import SimpleNamespace

import tests.error_code_recorder as recorder
from backend.api.error_codes import ERROR_CODES, markdown_table

DOCS = Path(__file__).resolve().parents[3] / "docs" / "api.md"


def _docs_table() -> str:
    text = DOCS.read_text(encoding="utf-8")
    section = text[text.index("## Errors\n"):]
    section = section[:section.index("\n## ", 1)]
    return "\n".join(line for line in section.splitlines() if line.startswith("|")) + "\n"


def test_the_docs_table_is_the_registry() -> None:
    assert _docs_table() == markdown_table(), (
        "docs/api.md 'Errors' differs from backend/api/error_codes.py; print the table with "
        "python -c 'from backend.api.error_codes import markdown_table as t; print(t())'")


def test_the_registry_is_sorted_and_well_formed() -> None:
    assert list(ERROR_CODES) == sorted(ERROR_CODES)
    for code, entry in ERROR_CODES.items():
        assert code.isidentifier() and code.islower(), code
        assert 400 <= entry.status < 600 and entry.meaning and "|" not in entry.meaning, code


def test_the_check_names_each_kind_of_gap() -> None:
    seen = {(code, e.status): "t" for code, e in ERROR_CODES.items()}
    assert recorder.check(seen) == []
    missing = dict(seen)
    del missing[("wrong_stage", 409)]
    assert recorder.check(missing) == [
        "documented but produced by no test: wrong_stage (409)"]
    other_status = {**seen, ("not_found", 410): "tests/x.py::t"}
    assert recorder.check(other_status) == ["not_found: documented as 404, answered [404, 410]"]
    undocumented = {**seen, ("brand_new", 422): "tests/x.py::t",
                    (recorder.NO_CODE, 405): "tests/y.py::u"}
    assert recorder.check(undocumented) == [
        "produced but not documented: (no code) (405), first in tests/y.py::u",
        "produced but not documented: brand_new (422), first in tests/x.py::t"]


def test_only_a_whole_passing_run_is_checked(monkeypatch) -> None:  # type: ignore[no-untyped-def]
    every = {p.resolve() for p in recorder.TESTS.rglob("test_*.py")}
    ok = SimpleNamespace(testsfailed=0, shouldstop=False)
    monkeypatch.setitem(recorder._state, "modules", every)
    monkeypatch.setitem(recorder._state, "deselected", 0)
    assert recorder._whole_suite(ok)  # type: ignore[arg-type]
    monkeypatch.setitem(recorder._state, "modules", {Path(__file__).resolve()})
    assert not recorder._whole_suite(ok)  # one file: nothing to compare
    monkeypatch.setitem(recorder._state, "modules", every)
    monkeypatch.setitem(recorder._state, "deselected", 3)
    assert not recorder._whole_suite(ok)  # -k / -m
    monkeypatch.setitem(recorder._state, "deselected", 0)
    assert not recorder._whole_suite(SimpleNamespace(testsfailed=1, shouldstop=False))  # type: ignore[arg-type]
    assert not recorder._whole_suite(SimpleNamespace(testsfailed=0, shouldstop="-x"))  # type: ignore[arg-type]
