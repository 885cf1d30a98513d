"""Service commands added to the `chainarb` CLI (`demo`, `serve`)."""

from __future__ import annotations

import typer


def register(app: typer.Typer) -> None:
    @app.command()
    def demo() -> None:
        """Run the whole closed loop on the embedded default. / 在内置默认环境中运行完整流程。"""
        from backend.contract_demo import run_contract_demo

        run_contract_demo()
