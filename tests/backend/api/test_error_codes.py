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


def _session(failed: int = 0, stop: object = False, markexpr: str = "", keyword: str = ""
             ) -> SimpleNamespace:
    option = SimpleNamespace(collectonly=False, markexpr=markexpr, keyword=keyword)
    return SimpleNamespace(testsfailed=failed, shouldstop=stop,
                           config=SimpleNamespace(option=option))


def test_only_a_whole_or_half_passing_run_is_checked(monkeypatch) -> None:
    every = {p.resolve() for p in recorder.TESTS.rglob("test_*.py")}
    monkeypatch.setitem(recorder._state, "modules", every)
    monkeypatch.setitem(recorder._state, "deselected_modules", set())
    monkeypatch.setitem(recorder._state, "deselected", 0)
    assert recorder._run_kind(_session()) == "whole"  # type: ignore[arg-type]
    assert recorder._run_kind(_session(failed=1)) is None  # type: ignore[arg-type]
    assert recorder._run_kind(_session(stop="-x")) is None  # type: ignore[arg-type]
    monkeypatch.setitem(recorder._state, "modules", {Path(__file__).resolve()})
    assert recorder._run_kind(_session()) is None  # type: ignore[arg-type]  # one file
    # make test / make test-slow: every module collected, the other half deselected
    monkeypatch.setitem(recorder._state, "deselected_modules", every)
    monkeypatch.setitem(recorder._state, "deselected", 3)
    assert recorder._run_kind(_session(markexpr="not slow")) == "fast"  # type: ignore[arg-type]
    assert recorder._run_kind(_session(markexpr="slow")) == "slow"  # type: ignore[arg-type]
    # make test-slow's two runs
    assert recorder._run_kind(_session(  # type: ignore[arg-type]
        markexpr="slow and not serial")) == "slow-shared"
    assert recorder._run_kind(_session(  # type: ignore[arg-type]
        markexpr="slow and serial")) == "slow-serial"
    assert recorder._run_kind(_session(markexpr="anvil")) is None  # type: ignore[arg-type]
    assert recorder._run_kind(_session(markexpr="slow", keyword="x")) is None  # type: ignore[arg-type]


def test_the_parts_are_checked_together(monkeypatch, tmp_path: Path) -> None:
    """The fast part alone checks only what it produced; the part that completes a whole
    (the slow set in one run, or make test-slow's shared and serial runs) checks the union;
    a slow set run one way drops the files of the other way."""
    config = SimpleNamespace(rootpath=tmp_path)
    session = SimpleNamespace(config=config)
    a, b, c = ("wrong_stage", 409), ("replay", 409), ("not_found", 404)
    monkeypatch.setattr(recorder, "_seen", {a: "tests/a.py::t"})
    assert recorder._parts(session, "fast") is None  # type: ignore[arg-type]
    monkeypatch.setattr(recorder, "_seen", {b: "tests/b.py::u"})
    assert recorder._parts(session, "slow") == {  # type: ignore[arg-type]
        a: "tests/a.py::t", b: "tests/b.py::u"}
    monkeypatch.setattr(recorder, "_seen", {c: "tests/c.py::v"})
    assert recorder._parts(session, "slow-shared") is None  # type: ignore[arg-type]
    assert not (tmp_path / ".chainarb" / "error-codes-slow.json").exists()
    monkeypatch.setattr(recorder, "_seen", {b: "tests/d.py::w"})
    assert recorder._parts(session, "slow-serial") == {  # type: ignore[arg-type]
        a: "tests/a.py::t", b: "tests/d.py::w", c: "tests/c.py::v"}
