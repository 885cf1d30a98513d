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
from typing import Annotated, Any

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
    "domain_needed": ("{count} performance item(s) or evidence provenance log(s) are signed "
                      "under the escrow's EIP-712 domain, and neither the settings nor the "
                      "stored records give one that fits them{tried}. Pass the deployment "
                      "the service uses: `chainarb log check --repair --chain-id ID --escrow "
                      "ADDRESS` (the chain id and the ArbitrationEscrow contract's address).",
                      "有 {count} 条履约证据或证据来源记录是按托管合约的 EIP-712 域签名的，"
                      "而配置与已存记录均未给出与之相符的域{tried}。请指明服务所用的部署："
                      "`chainarb log check --repair --chain-id 链编号 --escrow 地址`"
                      "（链编号及 ArbitrationEscrow 合约地址）。"),
    "domain_half": ("--chain-id and --escrow go together: pass both.",
                    "--chain-id 与 --escrow 须同时给出。"),
})

log_app = typer.Typer(help=bi("The institution's log.", "机构日志。"), no_args_is_help=True)


@log_app.command("check")
def check(
    repair: Annotated[bool, typer.Option(
        "--repair", help=bi("Replace the stored tree by the one the entries give.",
                            "以记录重建的树替换所存的树。"))] = False,
    chain_id: Annotated[int | None, typer.Option(
        "--chain-id", min=1, help=bi("The escrow's chain id (EIP-712 domain), when neither "
                                     "the settings nor the stored records give it.",
                                     "托管合约所在链的编号（EIP-712 域），配置与已存记录均未"
                                     "给出时使用。"))] = None,
    escrow: Annotated[str | None, typer.Option(
        "--escrow", help=bi("The ArbitrationEscrow contract's address (EIP-712 domain).",
                            "ArbitrationEscrow 合约地址（EIP-712 域）。"))] = None,
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
        from backend.log.backfill import DomainNeededError, backfill, domain_for, unlogged
        from backend.settings import SettingsError, load_settings

    try:
        settings = load_settings()
        given = _domain(chain_id, escrow, settings)
    except SettingsError as exc:
        typer.echo(service_t("bad_settings", detail=settings_problems(exc)), err=True)
        raise typer.Exit(EXIT_USAGE) from None
    except _DomainHalfError:
        typer.echo(t("domain_half"), err=True)
        raise typer.Exit(EXIT_USAGE) from None
    engine = make_engine(settings.database)
    try:
        sessions = make_session_factory(engine)
        if repair:
            with write_scope(sessions) as session:
                domain = domain_for(session, given)
                report = rebuild(session, repair=True)
                added = len(backfill(session, utcnow(), domain))
                missing = 0
        else:
            with sessions() as session:
                domain = domain_for(session, given)
                report = rebuild(session)
                added, missing = 0, len(unlogged(session, domain))
    except DomainNeededError as exc:
        tried = "".join(f" ({d.chain_id}, {d.verifying_contract})" for d in exc.tried)
        typer.echo(t("domain_needed", count=exc.count, tried=tried and ";" + tried),
                   err=True)
        raise typer.Exit(EXIT_USAGE) from None
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


class _DomainHalfError(Exception):
    """--chain-id without --escrow, or the reverse."""


def _domain(chain_id: int | None, escrow: str | None, settings: Any) -> list[Any]:
    """The escrow domains to try, the operator's first, then the settings'."""
    from evidence.records import Domain

    if (chain_id is None) != (escrow is None):
        raise _DomainHalfError
    out: list[Any] = []
    if chain_id is not None and escrow is not None:
        try:
            out.append(Domain(chain_id=chain_id, verifying_contract=escrow))
        except Exception as exc:  # an address that is not one: a usage error
            raise _DomainHalfError from exc
    if settings.expected_chain_id and settings.escrow_address:
        out.append(Domain(chain_id=settings.expected_chain_id,
                          verifying_contract=settings.escrow_address))
    return out
