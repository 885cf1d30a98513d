"""Service commands added to the `chainarb` CLI (`demo`, `serve`), and the configured chain
for `chainarb verify` (the `chainarb.chain` entry point)."""

from __future__ import annotations

from typing import Annotated, Any

import typer

_HANDLES: list[Any] = []  # chains opened for `verify`: kept open until the process exits


def configured_chain() -> Any:
    """The chain this installation is configured for, as a Web3 (entry point `chainarb.chain`).

    On the embedded default this starts (or attaches to) the data dir's chain, so
    `chainarb verify` of the demo's package in a later process checks against the same
    blocks and receipts; the node stops when the process exits.
    """
    from backend.gateway import open_chain
    from backend.settings import SettingsError, load_settings

    try:
        settings = load_settings()
    except SettingsError:
        return None
    if settings.embedded_chain and not settings.chain_dir.is_dir():
        return None  # nothing was ever run here: no chain to check against
    handle = open_chain(settings)
    _HANDLES.append(handle)
    return handle.w3


def register(app: typer.Typer) -> None:
    @app.command()
    def demo(
        contracts_only: Annotated[bool, typer.Option(
            "--contracts-only",
            help="Only the contract-level loop on a throw-away in-process chain.")] = False,
    ) -> None:
        """Run the whole closed loop on the embedded default. / 在内置默认环境中运行完整流程。"""
        if contracts_only:
            from backend.contract_demo import run_contract_demo

            run_contract_demo()
            return
        from backend.demo import DemoError, run_demo
        from backend.gateway import GatewayError
        from backend.settings import SettingsError, load_settings

        try:
            settings = load_settings()
        except SettingsError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        try:
            run_demo(settings)
        except (SettingsError, GatewayError) as exc:  # e.g. an unusable institution key file
            typer.echo(f"demo failed: {exc}", err=True)
            raise typer.Exit(2) from None
        except DemoError as exc:
            typer.echo(f"demo failed: {exc}", err=True)
            raise typer.Exit(1) from None

    @app.command()
    def serve() -> None:
        """Run the HTTP service (settings from CHAINARB_* variables). / 启动服务。"""
        import uvicorn

        from backend.api.app import create_app
        from backend.gateway import GatewayError
        from backend.settings import SettingsError, load_settings

        try:
            settings = load_settings()
            # Embedded default: starts the data dir's chain and deploys the contracts once.
            app = create_app(settings)
        except (SettingsError, GatewayError) as exc:
            typer.echo(f"chainarb serve: {exc}", err=True)
            raise typer.Exit(2) from None
        uvicorn.run(app, host=settings.host, port=settings.port, log_level="info")
