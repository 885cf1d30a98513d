"""Records from before the log (revision 0009) backfilled, then packaged (issue 15): a case
whose first records were accepted before the log began goes on under the log; `chainarb
log check` names the records missing from it, `--repair` appends them (kind
``backfill``), and the court's package of the case verifies: the late entries are
included and counted complete, and only they are exempt from the order check."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from sqlmodel import col, select
from typer.testing import CliRunner

from backend.chain.contracts import Timeouts
from backend.chain.devchain import advance_time
from backend.db import write_scope
from backend.db.log_models import (
    LogCase,
    LogCheckpoint,
    LogEntry,
    LogHead,
    LogIndexHead,
    LogNode,
)
from evidence.cli import _load_plugins, app
from tests.backend.package.package_world import (
    ChainWorld,
    _enforced,
    court_package,
    post,
    run_to_award,
    verified,
)


def _check(url: str, tmp_path: Path, *args: str, json_line: bool = True, lang: str = "en"
           ) -> tuple[int, dict[str, Any], str]:
    """`chainarb log check ARGS` on the database: exit code, its JSON line, all it said."""
    _load_plugins()
    r = CliRunner().invoke(app, ["log", "check", *args], env={
        "CHAINARB_DATABASE_URL": url, "CHAINARB_DATA_DIR": str(tmp_path / "cli-data"),
        "CHAINARB_LANG": lang})
    found = json.loads(r.stdout.splitlines()[0]) if json_line else {}
    return r.exit_code, found, r.stdout + r.stderr


def test_records_from_before_the_log_are_backfilled_and_the_package_verifies(
        chain_world: ChainWorld, tmp_path: Path) -> None:
    cw = chain_world
    w = cw.world
    ctx = w.app.state.ctx
    case_id = run_to_award(cw)
    with write_scope(ctx.sessions) as s:  # the log begins now: what came before is not in it
        for table in (LogCheckpoint, LogEntry, LogNode, LogHead, LogCase, LogIndexHead):
            s.execute(sa.delete(table))
    advance_time(cw.w3, Timeouts().objection + 60)
    cw.advance(days=10, seconds=1)
    w.tick()
    post(w.buyer, f"/cases/{case_id}/enforcement", w.buyer.plain("enforcement.requested"))
    _enforced(cw)

    url = str(ctx.settings.database_url)
    code, found, text = _check(url, tmp_path)
    assert code == 1 and found["unlogged"] >= 14, text  # every step, evidence, identity
    assert "accepted before the log began" in text
    code, done, text = _check(url, tmp_path, "--repair")
    assert code == 0 and done["backfilled"] == found["unlogged"], text
    code, again, _ = _check(url, tmp_path)
    assert code == 0 and again["unlogged"] == 0 and again["consistent"]
    code, repeat, _ = _check(url, tmp_path, "--repair")  # idempotent
    assert code == 0 and repeat["backfilled"] == 0
    with ctx.sessions() as s:
        kinds = [k for (k,) in s.execute(select(LogEntry.kind).where(
            col(LogEntry.case_id) == case_id).order_by(col(LogEntry.idx)))]
    assert kinds[0] != "backfill" and "backfill" in kinds  # late: after the later records

    court_package(cw, case_id, tmp_path / "package.zip")
    verified(cw, tmp_path / "package.zip")
