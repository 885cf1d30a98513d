"""`chainarb verify PACKAGE [--rpc URL] [--json] [--tsa-cert PEM]`.

Exit codes (stable; scripts and courts' tooling rely on them):

    0  every check passed
    1  at least one check failed (the package is not what it claims)
    2  usage error (unknown option, missing argument)
    3  no check failed, but some could not run (no chain configured or reachable)
    4  the package file does not exist or cannot be read
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console
from rich.table import Table

from evidence.judicial.verify import Report, Status, verify_package

__all__ = ["EXIT_FAILED", "EXIT_OK", "EXIT_SKIPPED", "EXIT_UNREADABLE", "register_verify"]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_SKIPPED = 3
EXIT_UNREADABLE = 4

_MARK = {
    Status.PASS: "[green]✓ pass 通过[/]",
    Status.FAIL: "[red]✗ FAIL 未通过[/]",
    Status.SKIP: "[yellow]– skip 未运行[/]",
}


def exit_code(report: Report) -> int:
    if report.ok:
        return EXIT_OK
    if any(c.status is Status.FAIL for c in report.checks):
        return EXIT_FAILED
    return EXIT_SKIPPED


def print_report(report: Report, console: Console) -> None:
    table = Table(title=f"chainarb verify — {report.package}", show_lines=False)
    table.add_column("Check / 检查项")
    table.add_column("Result / 结果", no_wrap=True)
    table.add_column("Reason / 原因", overflow="fold")
    for c in report.checks:
        reason = c.reason
        if c.status is Status.FAIL and len(c.details) > 1:
            more = "\n".join(f"• {d}" for d in c.details[1:6])
            extra = f"\n… {len(c.details) - 6} more" if len(c.details) > 6 else ""
            reason = f"{reason}\n{more}{extra}"
        table.add_row(f"{c.label_en}\n{c.label_zh}", _MARK[c.status], reason)
    console.print(table)
    if report.package_digest:
        console.print(f"Package digest / 材料包摘要: {report.package_digest}")
    if report.ok:
        console.print("[bold green]All checks passed. / 全部核验通过。[/]")
    else:
        console.print(f"[bold red]Not verified: {', '.join(report.failed())}. / 核验未通过。[/]")


def register_verify(app: typer.Typer) -> None:
    """Add `verify` to the `chainarb` app."""

    @app.command("verify")
    def verify(
        package: Annotated[Path, typer.Argument(help="The judicial package (.zip).")],
        rpc: Annotated[
            str | None,
            typer.Option(
                "--rpc",
                help="JSON-RPC URL of a node you trust. Default: $CHAINARB_RPC_URL or the "
                "installation's configured chain.",
            ),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help="Print the report as JSON.")] = False,
        tsa_cert: Annotated[
            Path | None,
            typer.Option(
                "--tsa-cert",
                help="PEM of the time-stamping authority (or its CA) you trust. Default: "
                "the package's own TSA certificates.",
            ),
        ] = None,
    ) -> None:
        """Verify a judicial package offline. / 离线核验司法确认材料包。

        Exit codes: 0 all passed; 1 a check failed; 3 some checks could not run
        (no chain); 4 the file cannot be read.
        """
        if not package.is_file():
            typer.echo(f"error: {package} does not exist or is not a file", err=True)
            raise typer.Exit(EXIT_UNREADABLE)
        trust = tsa_cert.read_bytes() if tsa_cert is not None else None
        report = verify_package(package, chain=rpc, tsa_trust=trust)
        if as_json:
            typer.echo(json.dumps(report.to_json_obj(), ensure_ascii=False, indent=2))
        else:
            print_report(report, Console())
        raise typer.Exit(exit_code(report))
