"""The `chainarb` command line.

`evidence` owns the entry point so that a court with only this library installed still
has `chainarb evidence …` and `chainarb verify`. The service adds its commands (`demo`,
`serve`) through the `chainarb.commands` entry-point group, so nothing here imports it.
"""

from __future__ import annotations

from importlib.metadata import entry_points

import typer

app = typer.Typer(
    name="chainarb",
    help="Online dispute resolution with signed, anchored evidence. / 跨境电商在线争议解决与仲裁。",
    no_args_is_help=True,
    add_completion=False,
)
evidence_app = typer.Typer(
    help="Evidence tools: CIDs, hashes, signatures, encryption, IPFS, proofs. / 证据工具。",
    no_args_is_help=True,
)
app.add_typer(evidence_app, name="evidence")

from evidence._cli_commands import register as _register_evidence  # noqa: E402

_register_evidence(evidence_app)

from evidence.judicial.cli import register_verify  # noqa: E402

register_verify(app)


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
    @app.command("serve", hidden=True)
    def _unavailable() -> None:
        typer.echo(
            f"The {component} component needs packages that are not installed ({missing}).\n"
            "Install the service with: pip install 'chainarb[service]'",
            err=True,
        )
        raise typer.Exit(3)


def main() -> None:
    _load_plugins()
    app()


if __name__ == "__main__":
    main()
