"""`chainarb log check [--repair]`: the operator's rebuild of the institution's log.

Why a command: the anchoring worker refuses to anchor a log whose stored tree does not
extend the last anchored checkpoint (docs/log.md, "Service"); the way out is to recompute
the tree from the entries alone and compare, then, once the cause is understood, to
replace the stored nodes by the recomputed ones. Reads only the database.

It also finds the records accepted before the log began (revision 0009) that have no entry;
``--repair`` appends them, kind ``backfill`` (backend/log/backfill.py says why).

Exit codes: 0 the stored tree is the tree of the entries (or was repaired) and every record
is in the log (or was appended); 1 it is not, or records are missing (run with --repair);
2 unusable settings; 3 the service is not installed.
"""

from __future__ import annotations

import json
from typing import Annotated

import typer

from evidence._i18n import Catalog, bi

__all__ = ["log_app"]

t = Catalog("log", {
    "consistent": ("The log's {size} entries give root {root}; the stored tree agrees.",
                   "日志的 {size} 条记录得出根哈希 {root}；所存的树与之一致。"),
    "inconsistent": ("The stored tree is not the tree of the log's {size} entries (root "
                     "{root}): {problems}. Run `chainarb log check --repair` once the cause "
                     "is understood.",
                     "所存的树与日志 {size} 条记录所得的树不一致（根哈希 {root}）：{problems}。"
                     "查明原因后请运行 `chainarb log check --repair`。"),
    "repaired": ("The stored tree was rebuilt from the log's {size} entries: root {root}.",
                 "已依日志的 {size} 条记录重建所存的树：根哈希 {root}。"),
    "unlogged": ("{count} record(s) accepted before the log began are not in it. Run "
                 "`chainarb log check --repair` to append them (kind backfill).",
                 "有 {count} 条在日志启用前受理的记录不在日志中。请运行 "
                 "`chainarb log check --repair` 补录（类型 backfill）。"),
    "backfilled": ("{count} record(s) accepted before the log began were appended (kind "
                   "backfill); the log now has {size} entries.",
                   "已补录 {count} 条在日志启用前受理的记录（类型 backfill）；"
                   "日志现有 {size} 条记录。"),
})

log_app = typer.Typer(help=bi("The institution's log.", "机构日志。"), no_args_is_help=True)


@log_app.command("check")
def check(
    repair: Annotated[bool, typer.Option(
        "--repair", help=bi("Replace the stored tree by the one the entries give.",
                            "以记录重建的树替换所存的树。"))] = False,
) -> None:
    """Recompute the log's tree from its entries and compare it with the stored one; count
    the records accepted before the log began that are not in it (--repair appends them).
    / 依日志记录重新计算默克尔树并与所存的树比对；统计日志启用前受理而未入日志的记录
    （--repair 予以补录）。"""
    from backend.cli import EXIT_FAILED, EXIT_USAGE, service_installed, settings_problems
    from backend.cli import t as service_t

    with service_installed("log check"):
        from backend.db import make_engine, make_session_factory, write_scope
        from backend.db.types import utcnow
        from backend.log import rebuild
        from backend.log.backfill import backfill, unlogged
        from backend.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.echo(service_t("bad_settings", detail=settings_problems(exc)), err=True)
        raise typer.Exit(EXIT_USAGE) from None
    engine = make_engine(settings.database)
    try:
        sessions = make_session_factory(engine)
        if repair:
            with write_scope(sessions) as session:
                report = rebuild(session, repair=True)
                added = len(backfill(session, utcnow()))
                missing = 0
        else:
            with sessions() as session:
                report = rebuild(session)
                added, missing = 0, len(unlogged(session))
    finally:
        engine.dispose()
    root = "0x" + report.root.hex()
    typer.echo(json.dumps({"size": report.size + added, "root": root,
                           "consistent": report.consistent, "repaired": report.repaired,
                           "problems": list(report.problems), "unlogged": missing,
                           "backfilled": added}))
    if report.repaired:
        typer.echo(t("repaired", size=report.size, root=root))
    elif report.consistent:
        typer.echo(t("consistent", size=report.size, root=root))
    else:
        typer.echo(t("inconsistent", size=report.size, root=root,
                     problems="; ".join(report.problems) or "-"), err=True)
        raise typer.Exit(EXIT_FAILED)
    if added:
        typer.echo(t("backfilled", count=added, size=report.size + added))
    if missing:
        typer.echo(t("unlogged", count=missing), err=True)
        raise typer.Exit(EXIT_FAILED)
