"""Service commands added to the `chainarb` CLI (`demo`, `serve`)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def demo() -> None:
        """Run the whole closed loop on the embedded default. / 在内置默认环境中运行完整流程。"""
        from backend.contract_demo import run_contract_demo

        run_contract_demo()

    @app.command()
    def serve() -> None:
        """Run the HTTP service (settings from CHAINARB_* variables). / 启动服务。"""
        import uvicorn

        from backend.api.app import create_app
        from backend.settings import SettingsError, load_settings

        try:
            settings = load_settings()
        except SettingsError as exc:
            typer.echo(str(exc), err=True)
            raise typer.Exit(2) from None
        uvicorn.run(create_app(settings), host=settings.host, port=settings.port,
                    log_level="info")
