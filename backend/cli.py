"""Service commands added to the `chainarb` CLI (`demo`, `serve`), and the configured chain
for `chainarb verify` (the `chainarb.chain` entry point).

This module imports only typer and `evidence` at load time: in an install without the
`[service]` extra the commands still exist and say how to install what they need (exit 3,
could not run), instead of a traceback.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import TYPE_CHECKING, Annotated, Any

import typer

from evidence._i18n import Catalog, bi

if TYPE_CHECKING:  # the settings load lazily: a CLI that starts fast
    from pathlib import Path

    from web3 import Web3

    from backend.settings import Settings, SettingsError
    from evidence.ipfs.blockstore import Blockstore

_HANDLES: list[Any] = []  # chains opened for `verify`: kept open until the process exits
EXIT_USAGE = 2
EXIT_COULD_NOT_RUN = 3
EXIT_FAILED = 1
SERVICE_EXTRA = "pip install 'chainarb[service]'"

t = Catalog("service", {
    "missing_extra": (
        "`chainarb {command}` needs the service, which is not installed (missing Python "
        "package {package!r}). Install it with: {install}",
        "`chainarb {command}` 需要服务组件，但尚未安装（缺少 Python 包 {package!r}）。"
        "请安装：{install}",
    ),
    "bad_settings": (
        "The configuration cannot be used:\n  {detail}",
        "配置无法使用（详情如下，变量名与英文说明）：\n  {detail}",
    ),
    "demo_failed": ("The demo failed: {err}", "演示失败（详情：{err}）"),
    "no_scenario": ("There is no demo scenario {name!r}. Choose one of: {choices}",
                    "没有名为 {name!r} 的演示场景。可选：{choices}"),
    "contracts_only_scenario": (
        "--contracts-only plays the contract-level loop alone; it takes no --scenario.",
        "--contracts-only 只运行合约层流程，不能与 --scenario 同用。"),
    "serve_failed": ("chainarb serve cannot start: {err}",
                     "chainarb serve 无法启动（详情：{err}）"),
    "no_artifacts": (
        "The compiled contracts are missing from this installation ({err}). Reinstall it: "
        "pip install --force-reinstall 'chainarb[service]'",
        "本安装缺少已编译的合约（详情：{err}）。请重新安装：pip install --force-reinstall "
        "'chainarb[service]'",
    ),
    "serving": ("chainarb is running. Stop it with Ctrl+C.",
                "chainarb 已启动。按 Ctrl+C 停止。"),
    "url_pages": ("  Pages (sign in here):  {url}/ui", "  网页（在此登录）：      {url}/ui"),
    "url_docs": ("  API reference:         {url}/docs  ·  {url}/redoc",
                 "  API 文档：             {url}/docs  ·  {url}/redoc"),
    "url_health": ("  Health:                {url}/health",
                   "  运行状态：             {url}/health"),
    "listening_all": ("  Listening on {host}:{port} (every interface of this machine).",
                      "  监听 {host}:{port}（本机所有网络接口）。"),
    "public_url": ("  Public address:        {url}", "  公开地址：             {url}"),
    "data_dir": ("  Data directory:        {path}", "  数据目录：             {path}"),
    "chain_embedded": ("  Chain:                 embedded chain (id {chain_id}), escrow {escrow}",
                       "  区块链：               内置链（链 ID {chain_id}），托管合约 {escrow}"),
    "chain_external": ("  Chain:                 {rpc} (id {chain_id}), escrow {escrow}",
                       "  区块链：               {rpc}（链 ID {chain_id}），托管合约 {escrow}"),
    "problem_var": ("{var}: {msg}", "变量 {var}：{msg}"),
    "problem": ("{msg}", "说明：{msg}"),
})


def settings_problems(exc: SettingsError) -> str:
    """A SettingsError's problems, one per line, each naming its variable; the validator's
    explanation itself is English (it quotes values and formats)."""
    lines = []
    for problem in exc.problems:
        var, sep, msg = problem.partition(": ")
        if sep and var.replace("_", "").isalnum() and var.isupper():
            lines.append(t("problem_var", var=var, msg=msg))
        else:
            lines.append(t("problem", msg=problem))
    return "\n  ".join(lines)


@contextlib.contextmanager
def service_installed(command: str) -> Iterator[None]:
    """Turn a missing `[service]` package into a message naming the install command."""
    try:
        yield
    except ModuleNotFoundError as exc:
        package = (exc.name or str(exc)).split(".")[0]
        typer.echo(t("missing_extra", command=command, package=package, install=SERVICE_EXTRA),
                   err=True)
        raise typer.Exit(EXIT_COULD_NOT_RUN) from None


def configured_chain() -> Web3 | None:
    """The chain this installation is configured for, as a Web3 (entry point `chainarb.chain`).

    On the embedded default this starts (or attaches to) the data dir's chain, so
    `chainarb verify` of the demo's package in a later process checks against the same
    blocks and receipts; the node stops when the process exits.
    """
    try:
        from backend.gateway import open_chain
        from backend.settings import SettingsError, load_settings
    except ImportError:  # no [service] extra: there is no configured chain to offer
        return None
    try:
        settings = load_settings()
    except SettingsError:
        return None
    if settings.embedded_chain and not settings.chain_dir.is_dir():
        return None  # nothing was ever run here: no chain to check against
    handle = open_chain(settings)
    _HANDLES.append(handle)
    return handle.w3


def _data_dir_store(root: Path) -> Blockstore | None:
    """The service's own store of the data dir (steps' blocks in its database), if ``root``
    is that data dir's and the service's extra is installed."""
    try:
        from backend.db.blocks import open_data_dir_store
    except ImportError:
        return None
    return open_data_dir_store(root)


def register(app: typer.Typer) -> None:
    from backend.institution_cli import institution_app
    from backend.log_cli import log_app
    from evidence._cli_commands import DATA_DIR_STORES

    DATA_DIR_STORES.append(_data_dir_store)  # `evidence cat` finds the steps' blocks

    app.add_typer(institution_app, name="institution")
    app.add_typer(log_app, name="log")

    @app.command()
    def demo(
        contracts_only: Annotated[bool, typer.Option(
            "--contracts-only",
            help=bi("Only the contract-level loop on a throw-away in-process chain.",
                    "仅在临时的进程内链上运行合约层流程。"))] = False,
        scenario: Annotated[str | None, typer.Option(
            "--scenario", metavar="NAME",
            help=bi("Which story to play (default: main, the whole loop); an unknown name "
                    "lists the choices.",
                    "要运行的场景（默认 main：完整流程）；名称无效时列出可选场景。"))] = None,
    ) -> None:
        """Run the whole closed loop on the embedded default. / 在内置默认环境中运行完整流程。"""
        if contracts_only and scenario is not None:
            typer.echo(t("contracts_only_scenario"), err=True)
            raise typer.Exit(EXIT_USAGE)
        if contracts_only:
            with service_installed("demo"):
                from backend.chain.errors import ArtifactMissingError
                from backend.contract_demo import run_contract_demo

            try:
                run_contract_demo()
            except ArtifactMissingError as exc:  # package data deleted from an install
                typer.echo(t("no_artifacts", err=exc), err=True)
                raise typer.Exit(EXIT_COULD_NOT_RUN) from None
            return
        with service_installed("demo"):
            from backend.demo import DemoError, run_demo
            from backend.demo.scenarios import DEFAULT_SCENARIO, SCENARIOS
            from backend.gateway import GatewayError
            from backend.settings import SettingsError, load_settings

        name = DEFAULT_SCENARIO if scenario is None else scenario
        if name not in SCENARIOS:
            typer.echo(t("no_scenario", name=name, choices=", ".join(SCENARIOS)), err=True)
            raise typer.Exit(EXIT_USAGE)

        try:
            settings = load_settings()
        except SettingsError as exc:
            typer.echo(t("bad_settings", detail=settings_problems(exc)), err=True)
            raise typer.Exit(EXIT_USAGE) from None
        try:
            with service_installed("demo"):
                run_demo(settings, scenario=name)
        except (SettingsError, GatewayError) as exc:  # e.g. an unusable institution key file
            typer.echo(t("demo_failed", err=exc), err=True)
            raise typer.Exit(EXIT_USAGE) from None
        except DemoError as exc:
            typer.echo(t("demo_failed", err=exc), err=True)
            raise typer.Exit(EXIT_FAILED) from None

    @app.command()
    def serve(
        host: Annotated[str | None, typer.Option(
            "--host", help=bi("Address to listen on (default CHAINARB_HOST, else 127.0.0.1; "
                              "0.0.0.0 for every interface).",
                              "监听地址（默认 CHAINARB_HOST，否则 127.0.0.1；"
                              "0.0.0.0 为所有接口）。"))
        ] = None,
        port: Annotated[int | None, typer.Option(
            "--port", min=1, max=65_535,
            help=bi("Port to listen on (default CHAINARB_PORT, else 8000).",
                    "监听端口（默认 CHAINARB_PORT，否则 8000）。"))] = None,
    ) -> None:
        """Run the HTTP service (settings from CHAINARB_* variables); prints where its
        pages are. / 启动服务（由 CHAINARB_* 变量配置），并显示网页地址。"""
        with service_installed("serve"):
            import uvicorn

            from backend.api.app import create_app
            from backend.api.heap import settle_heap
            from backend.gateway import GatewayError
            from backend.settings import SettingsError, load_settings

        overrides = {k: v for k, v in (("host", host), ("port", port)) if v is not None}
        try:
            settings = load_settings(**overrides)
        except SettingsError as exc:
            typer.echo(t("bad_settings", detail=settings_problems(exc)), err=True)
            raise typer.Exit(EXIT_USAGE) from None
        try:
            with service_installed("serve"):
                # Embedded default: starts the data dir's chain and deploys the contracts once.
                app_ = create_app(settings)
        except (SettingsError, GatewayError) as exc:
            typer.echo(t("serve_failed", err=exc), err=True)
            raise typer.Exit(EXIT_USAGE) from None
        domain = app_.state.ctx.service.domain
        typer.echo("\n".join(startup_lines(settings, domain.chain_id,
                                            domain.verifying_contract)))
        settle_heap()  # the startup's objects out of the collector's way (backend/api/heap.py)
        uvicorn.run(app_, host=settings.host, port=settings.port, log_level="info")


def startup_lines(settings: Settings, chain_id: int, escrow: str) -> list[str]:
    """What `chainarb serve` prints before it listens: where the pages, the API reference
    and the health check are, the data directory, and the chain (an RPC URL without its
    path, query or credentials: a provider's key must not reach a terminal log)."""
    from urllib.parse import urlsplit

    every = settings.host in ("0.0.0.0", "::", "")
    shown = "127.0.0.1" if every else settings.host
    url = f"http://{'[' + shown + ']' if ':' in shown else shown}:{settings.port}"
    lines = [t("serving"), t("url_pages", url=url), t("url_docs", url=url),
             t("url_health", url=url)]
    if every:
        lines.append(t("listening_all", host=settings.host, port=settings.port))
    if settings.public_url:
        lines.append(t("public_url", url=settings.public_url))
    lines.append(t("data_dir", path=settings.data_dir.resolve()))
    if settings.embedded_chain:
        lines.append(t("chain_embedded", chain_id=chain_id, escrow=escrow))
    else:
        rpc = urlsplit(settings.chain_rpc_url)
        where = f"{rpc.scheme}://{rpc.hostname}" + (f":{rpc.port}" if rpc.port else "")
        lines.append(t("chain_external", rpc=where, chain_id=chain_id, escrow=escrow))
    return lines
