"""The `chainarb` command line.

`evidence` owns the entry point so that a court with only this library installed still
has `chainarb evidence …` and `chainarb verify`. The service adds its commands (`demo`,
`serve`) through the `chainarb.commands` entry-point group, so nothing here imports it.
"""

from __future__ import annotations

from importlib.metadata import entry_points
from typing import Any

import typer

app = typer.Typer(
    name="chainarb",
    help="Online dispute resolution with signed, anchored evidence. / 跨境电商在线争议解决与仲裁。",
    no_args_is_help=True,
    add_completion=False,
)
evidence_app = typer.Typer(
    help="Evidence tools: CIDs, hashes, signatures, encryption, IPFS, proofs. / 证据工具。"
    "\n\nExit codes / 退出码: 0 ok / 成功; 1 verification failed / 验证失败; 2 usage error / "
    "用法错误; 3 could not run / 无法运行; 4 cannot be read / 无法读取.",
    no_args_is_help=True,
)
app.add_typer(evidence_app, name="evidence")

from evidence._cli_commands import register as _register_evidence  # noqa: E402

_register_evidence(evidence_app)

from evidence.judicial.cli import register_verify  # noqa: E402

register_verify(app)

from evidence._log_cli import register_log_commands  # noqa: E402

register_log_commands(app)


def _load_plugins() -> None:
    """Let installed components (the backend) add their commands."""
    for ep in entry_points(group="chainarb.commands"):
        try:
            register = ep.load()
        except ImportError as exc:  # service extras not installed: evidence still works
            missing = getattr(exc, "name", None) or str(exc)
            _register_missing(ep.name, missing)
            continue
        register(app)


def _register_missing(component: str, missing: str) -> None:
    """`demo` and `serve` still exist and say how to install what they need (exit 3)."""
    from evidence._i18n import Catalog

    t = Catalog("plugins", {
        "missing": (
            "`chainarb {command}` needs the {component} component, which cannot load "
            "(missing {missing}). Install it with: pip install 'chainarb[service]'",
            "`chainarb {command}` 需要 {component} 组件，但无法加载（缺少 {missing}）。"
            "请安装：pip install 'chainarb[service]'",
        ),
    })
    def unavailable(command: str) -> Any:
        def run() -> None:
            typer.echo(t("missing", command=command, component=component, missing=missing),
                       err=True)
            raise typer.Exit(3)

        return run

    for command in ("demo", "serve"):
        app.command(command, hidden=True, help="(not installed) / （未安装）")(unavailable(command))


def main() -> None:
    _load_plugins()
    app()


if __name__ == "__main__":
    main()
