"""`chainarb institution rotate-key`: the operator hands the institution over to a new key.

Why a command and not an API route: the new private key must never cross HTTP, and the
configured key lives where the operator keeps it (the data dir's ``institution.key`` on the
embedded default, ``CHAINARB_INSTITUTION_KEY`` otherwise). Run it with the service stopped.
What it does is ``backend.services.rotation`` (a handover step signed by the old key in
every case, anchored at once; the escrow's rotation; data keys rewrapped), then the switch:
the data dir's key file is replaced, or the operator is told to set the new key; the old
key's wraps are dropped. Running it again after a crash finishes what is left.

Exit codes: 0 rotated; 1 the rotation failed part way (run it again); 2 unusable settings
or key file; 3 the service is not installed.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import typer

from evidence._i18n import Catalog, bi

__all__ = ["institution_app"]

t = Catalog("institution", {
    "key_required": (
        "The institution key is configured (CHAINARB_INSTITUTION_KEY): give the new key with "
        "--new-key-file, from where you keep such keys; it is not generated here.",
        "机构密钥由配置提供（CHAINARB_INSTITUTION_KEY）：请用 --new-key-file 指定新密钥；"
        "此处不会生成密钥。"),
    "bad_key": ("The new key cannot be used: {err}", "新密钥无法使用（详情：{err}）"),
    "failed": ("The rotation stopped part way: {err}. Run the same command again to finish it.",
               "密钥轮换中途停止（详情：{err}）。请再次运行同一命令以完成。"),
    "rotated": ("The institution key {old} handed over to {new}: {cases} case(s) got the "
                "signed handover step, the escrow follows (tx {tx}).",
                "机构密钥 {old} 已移交给 {new}：{cases} 个案件已加入经签名的移交步骤，"
                "托管合约随之更新（交易 {tx}）。"),
    "switched": ("The data dir's key file {path} now holds the new key; start the service "
                 "as before.",
                 "数据目录中的密钥文件 {path} 现为新密钥；照常启动服务即可。"),
    "set_key": ("Now set CHAINARB_INSTITUTION_KEY to the new key (the file you gave) and "
                "start the service: it refuses the old key from now on.",
                "请将 CHAINARB_INSTITUTION_KEY 设为新密钥（即所提供的文件）后启动服务；"
                "此后服务拒绝使用旧密钥。"),
})

institution_app = typer.Typer(
    help=bi("The institution's own keys.", "机构自身的密钥。"), no_args_is_help=True)


@institution_app.command("rotate-key")
def rotate_key(
    new_key_file: Annotated[Path | None, typer.Option(
        "--new-key-file",
        help=bi("File holding the new key (0x + 64 hex digits, mode 600). Optional on the "
                "embedded default: a fresh key is generated into the data dir.",
                "新密钥文件（0x 加 64 位十六进制，权限 600）。内置默认环境下可省略：将在数据"
                "目录中生成新密钥。"))] = None,
) -> None:
    """Hand the institution over to a new key, signed by the old one and anchored.
    / 将机构签名职能移交给新密钥（由原密钥签署并上链存证）。"""
    from backend.cli import EXIT_FAILED, EXIT_USAGE, service_installed, settings_problems
    from backend.cli import t as service_t

    with service_installed("institution rotate-key"):
        from eth_account import Account

        from backend.api.app import create_app
        from backend.gateway import GatewayError
        from backend.services.keys import ServiceKey
        from backend.services.rotation import drop_old_wraps, rotate_institution_key
        from backend.settings import (
            SettingsError,
            load_settings,
            read_key_file,
            replace_key_file,
        )

    try:
        settings = load_settings()
    except SettingsError as exc:
        typer.echo(service_t("bad_settings", detail=settings_problems(exc)), err=True)
        raise typer.Exit(EXIT_USAGE) from None
    configured = settings.institution_key is not None
    if new_key_file is None and configured:
        typer.echo(t("key_required"), err=True)
        raise typer.Exit(EXIT_USAGE)
    # A generated key is kept beside the current one until the switch, so a run that stops
    # part way is finished by the next with the same new key.
    pending = settings.institution_key_path.with_name("institution.key.next")
    try:
        if new_key_file is not None:
            new_key = read_key_file(new_key_file)
        elif pending.exists():
            new_key = read_key_file(pending)
        else:
            new_key = "0x" + bytes(Account.create().key).hex()
            settings.data_dir.mkdir(parents=True, exist_ok=True)
            replace_key_file(pending, new_key)
        old_key = settings.institution_private_key()
        app = create_app(settings, background=False)
    except (SettingsError, GatewayError) as exc:
        typer.echo(t("bad_key", err=exc), err=True)
        raise typer.Exit(EXIT_USAGE) from None
    ctx = app.state.ctx
    try:
        rotation = rotate_institution_key(ctx.service, new_key)
        if ctx.anchoring is not None:  # the handover steps anchored now, by the old key
            for _ in range(max(2, settings.confirmations + 1)):
                ctx.anchoring.run_once()
        if not configured:
            replace_key_file(settings.institution_key_path, new_key)
            pending.unlink(missing_ok=True)
        dropped = drop_old_wraps(ctx.sessions, ServiceKey.from_institution_key(new_key),
                                 [ServiceKey.from_institution_key(old_key).public])
    except Exception as exc:
        typer.echo(t("failed", err=exc), err=True)
        raise typer.Exit(EXIT_FAILED) from None
    finally:
        ctx.close()
    typer.echo(t("rotated", old=rotation.old, new=rotation.new,
                 cases=len(rotation.handed_over), tx=rotation.tx_hash or "-"))
    typer.echo(t("switched", path=settings.institution_key_path) if not configured
               else t("set_key"))
    typer.echo(json.dumps({"old": rotation.old, "new": rotation.new,
                           "txHash": rotation.tx_hash, "handedOver": list(rotation.handed_over),
                           "unfiled": list(rotation.unfiled),
                           "wrapsAdded": rotation.wraps_added, "wrapsDropped": dropped}))

