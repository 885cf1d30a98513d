"""`chainarb log check [--repair]`: the rebuild from the entries, from the command line."""

from __future__ import annotations

import hashlib
import json
from datetime import UTC, datetime
from pathlib import Path

import pytest
import sqlalchemy as sa
from sqlmodel import col
from typer.testing import CliRunner

from backend.db import (
    make_engine,
    make_session_factory,
    session_scope,
    write_scope,
)
from backend.db.log_models import LogNode
from backend.log import append_entry
from evidence.cli import _load_plugins, app
from tests.support.migrated import migrated

NOW = datetime(2026, 12, 6, 4, 0, tzinfo=UTC)
CASE = "0x" + "c1" * 32


def value(i: int) -> list[str]:
    return [CASE, "0x" + hashlib.sha256(f"record{i}".encode()).hexdigest(),
            "0x" + hashlib.sha256(f"sigs{i}".encode()).hexdigest()]


@pytest.fixture
def url(tmp_path: Path) -> str:
    url = f"sqlite:///{tmp_path / 'log.sqlite3'}"
    migrated(url)
    engine = make_engine(url)
    with write_scope(make_session_factory(engine)) as s:
        for i in range(5):
            append_entry(s, kind="step", case_id=CASE, value=value(i), ref_id=i, now=NOW)
    engine.dispose()
    return url


def _run(url: str, tmp_path: Path, *args: str, lang: str = "en") -> tuple[int, str, str]:
    _load_plugins()
    result = CliRunner().invoke(app, ["log", "check", *args], env={
        "CHAINARB_DATABASE_URL": url, "CHAINARB_DATA_DIR": str(tmp_path / "data"),
        "CHAINARB_LANG": lang})
    return result.exit_code, result.stdout, result.stderr


def test_check_agrees_then_finds_and_repairs_an_altered_node(url: str, tmp_path: Path) -> None:
    code, out, _err = _run(url, tmp_path)
    assert code == 0, out
    first = json.loads(out.splitlines()[0])
    assert first["consistent"] and first["size"] == 5
    assert "the stored tree agrees" in out
    engine = make_engine(url)
    with session_scope(make_session_factory(engine)) as s:
        s.execute(sa.update(LogNode).where(col(LogNode.level) == 2, col(LogNode.idx) == 0)
                  .values(hash="0x" + "99" * 32))
    engine.dispose()
    code, out, err = _run(url, tmp_path, lang="zh")
    assert code == 1 and not json.loads(out.splitlines()[0])["consistent"]
    assert "所存的树与日志" in err and "--repair" in err
    code, out, _err = _run(url, tmp_path, "--repair")
    assert code == 0 and json.loads(out.splitlines()[0])["repaired"]
    assert json.loads(out.splitlines()[0])["root"] == first["root"]
    code, out, _err = _run(url, tmp_path)
    assert code == 0 and json.loads(out.splitlines()[0])["consistent"]
