"""`chainarb verify PACKAGE [--rpc URL]... [--checkpoint FILE] [--json] [--tsa-cert PEM]...`.

Exit codes (stable; scripts and courts' tooling rely on them; docs/judicial-package.md):

    0  every check passed
    1  at least one check failed (the package is not what it claims)
    2  usage error: unknown option, missing argument, a --tsa-cert that is not a readable
       certificate file, an --rpc (or $CHAINARB_CHAIN_RPC_URL) that is not an http(s) URL,
       a --checkpoint that is not a readable checkpoint file
    3  nothing failed, but some checks could not run: the block hashes the verdict rests on
       are not confirmed (no --rpc, no --checkpoint, no configured chain, or its node does
       not answer); the report names them
    4  the package cannot be read: no such file, not a ZIP, truncated or corrupt

Usage errors are found before the package is opened, so a mistyped option never costs a
verification run; and no message shows the content of a file the user named.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer

from evidence._i18n import CHAIN_MESSAGES, Catalog, bi, lang
from evidence.report import Status

if TYPE_CHECKING:  # the verifier (web3, eth_account, cryptography) loads when a command runs:
    # `chainarb --help` and a usage error cost no more than typer
    from rich.console import Console

    from evidence.judicial.verify import Check, Report

__all__ = [
    "EXIT_FAILED",
    "EXIT_OK",
    "EXIT_SKIPPED",
    "EXIT_UNREADABLE",
    "EXIT_USAGE",
    "exit_code",
    "reason_text",
    "register_verify",
]

EXIT_OK = 0
EXIT_FAILED = 1
EXIT_USAGE = 2
EXIT_SKIPPED = 3
EXIT_UNREADABLE = 4
_EXIT = {  # by the value of evidence.judicial.verify.Outcome
    "verified": EXIT_OK,
    "failed": EXIT_FAILED,
    "not_run": EXIT_SKIPPED,
    "unreadable": EXIT_UNREADABLE,
}
MAX_TSA_CERT_BYTES = 1 << 20
MAX_CHECKPOINT_BYTES = 16 << 20

t = Catalog("verify", {
    "tsa_missing": (
        "--tsa-cert {path}: no such file. Give the PEM (or DER) certificate of the "
        "time-stamping authority, or its CA, that you trust.",
        "--tsa-cert {path}：文件不存在。请提供您信任的时间戳机构（或其 CA）的 PEM（或 DER）证书。",
    ),
    "tsa_not_file": (
        "--tsa-cert {path}: is a directory, not a certificate file.",
        "--tsa-cert {path}：这是目录，不是证书文件。",
    ),
    "tsa_unreadable": (
        "--tsa-cert {path}: cannot be read ({err}).",
        "--tsa-cert {path}：无法读取（{err}）。",
    ),
    "tsa_too_big": (
        "--tsa-cert {path}: {size} bytes, more than the {limit} a certificate file may have.",
        "--tsa-cert {path}：{size} 字节，超过证书文件上限 {limit} 字节。",
    ),
    "tsa_not_cert": (
        "--tsa-cert {path}: not an X.509 certificate (expected PEM or DER); its content is "
        "not shown.",
        "--tsa-cert {path}：不是 X.509 证书（应为 PEM 或 DER 格式）；不显示其内容。",
    ),
    "checkpoint_missing": (
        "--checkpoint {path}: no such file. Give the JSON file of block hashes per chain id "
        'you obtained elsewhere: {{"chains": {{"<chain id>": ["0x<block hash>", ...]}}}}.',
        "--checkpoint {path}：文件不存在。请提供您从其他来源获得的按链编号列出区块哈希的 "
        "JSON 文件："
        '{{"chains": {{"<链编号>": ["0x<区块哈希>", ...]}}}}。',
    ),
    "checkpoint_bad": (
        "--checkpoint {path}: not a checkpoint file ({err}); its content is not shown.",
        "--checkpoint {path}：不是检查点文件（{err}）；不显示其内容。",
    ),
    "blocks": (
        "The verdict rests on these blocks (confirm their hashes where you choose):",
        "本结论所依据的区块（请在您选择的来源确认其哈希）：",
    ),
    "block_line": (
        "  chain {chain} block {number} {hash} ({time})",
        "  链 {chain} 区块 {number} {hash}（{time}）",
    ),
    "chain_from": (
        "Chain: {url} ({origin}).",
        "区块链：{url}（{origin}）。",
    ),
    "chain_unavailable": (
        "Could not open the chain: {err}. The checks that need it will not run.",
        "无法打开区块链（详情：{err}）。需要链的检查将不会运行。",
    ),
    "package_missing": (
        "{path}: no such file. Give the judicial package (.zip).",
        "{path}：文件不存在。请提供司法确认材料包（.zip）。",
    ),
    "package_not_file": (
        "{path}: is a directory, not a package file.",
        "{path}：这是目录，不是材料包文件。",
    ),
    "title": ("chainarb verify — {package}", "chainarb 核验 — {package}"),
    "col_check": ("Check", "检查项"),
    "col_result": ("Result", "结果"),
    "col_reason": ("Reason", "原因"),
    # the marks of evidence.report.Status (its message_key)
    "mark_passed": ("✓ pass", "✓ 通过"),
    "mark_failed": ("✗ FAIL", "✗ 未通过"),
    "mark_skipped": ("– not run", "– 未运行"),
    "mark_not_run": ("– not run", "– 未运行"),
    "more": ("… {n} more", "……另有 {n} 项"),
    "reason_verbatim": ("{reason}", "详情（英文原文）：{reason}"),
    "digest": ("Package digest: {digest}", "材料包摘要：{digest}"),
    "all_passed": ("All checks passed.", "全部核验通过。"),
    "people": (
        "Who is who (each name signed by the key beside it):",
        "当事人、中立人员与法院（每个名称均经其旁所列密钥签名）：",
    ),
    "note": ("Note: {text}", "注意：{text}"),
    "failed": (
        "Not verified: these checks failed: {names}.",
        "核验未通过：以下检查项未通过：{names}。",
    ),
    "not_run": (
        "Could not run every check: {names} did not run (nothing failed, but this is not a "
        "pass).",
        "部分检查无法运行：{names} 未运行（没有未通过项，但这不等于核验通过）。",
    ),
    "unreadable": (
        "{path} cannot be read: it is not a ZIP archive, or it is truncated or corrupt "
        "({reason}). Nothing was checked.",
        "无法读取材料包 {path}：该文件不是 ZIP 归档，或已截断、损坏（详情：{reason}）。"
        "未进行任何核验。",
    ),
    # Check results in Chinese: what a passed check established, and why one did not run.
    "skip_no_chain": (
        "not run: no chain (give --rpc URL or set CHAINARB_CHAIN_RPC_URL)",
        "未运行：没有可用的区块链（请提供 --rpc URL 或设置 CHAINARB_CHAIN_RPC_URL）",
    ),
    "skip_unconfirmed": (
        "not confirmed: the {n} block hash(es) listed below remain to be confirmed; give "
        "--rpc URL (several allowed) or --checkpoint FILE",
        "未确认：下列 {n} 个区块哈希尚待确认；请提供 --rpc URL（可多次）或 --checkpoint FILE",
    ),
    "skip_node_down": (
        "could not run: the chain's node does not answer",
        "无法运行：区块链节点无响应",
    ),
    "skip_unsafe": (
        "not run: the archive is unsafe to open",
        "未运行：归档不能安全打开",
    ),
    "skip_unreadable": (
        "not run: the file cannot be read as a ZIP archive",
        "未运行：该文件无法作为 ZIP 归档读取",
    ),
    "pass_archive": ("every entry is safe to open", "所有条目均可安全打开"),
    "pass_files": ("every file matches SHA256SUMS", "所有文件与 SHA256SUMS 一致"),
    "pass_manifest": (
        "the manifest matches the signed records and the chain",
        "清单与签名记录及链上数据一致",
    ),
    "pass_signatures": (
        "every signature recovers to its declared signer",
        "每个签名均恢复出其声明的签名人",
    ),
    "pass_roles": (
        "every signer held the role it claims",
        "每个签名人均具有其所称角色",
    ),
    "pass_step_chain": (
        "the procedural steps are linked in order",
        "程序步骤按顺序相互链接",
    ),
    "pass_jury": (
        "no jury, or the jury's draw recomputes and every vote opens its commitment",
        "无陪审团，或陪审团抽选可重算且每张投票均与其承诺一致",
    ),
    "pass_identities": (
        "every name is signed by its key; every neutral signed a disclosure",
        "每个名称均经其密钥签名；每位中立人员均已签署披露声明",
    ),
    "pass_evidence": (
        "every evidence file opens its signed commitment",
        "每份证据文件均与其签名承诺值一致",
    ),
    "pass_provenance": (
        "every provenance entry is signed by the service",
        "每条来源记录均由服务签名",
    ),
    "pass_merkle_proofs": (
        "every record is proven into an anchored root",
        "每条记录均可证明包含于已锚定的根",
    ),
    "pass_block_proofs": (
        "every block header hashes to its block; every receipt is proven in its block",
        "每个区块头均哈希为其区块；每张收据均证明包含于其区块",
    ),
    "pass_onchain_acts": (
        "every on-chain act of the escrow is proven and matches the signed records",
        "托管合约的每项链上行为均有证明，且与签名记录一致",
    ),
    "pass_block_confirmation": (
        "every block hash is confirmed by the sources you chose",
        "每个区块哈希均经您选择的来源确认",
    ),
    "pass_anchors": (
        "every root is anchored on the chain at the stated block and time",
        "每个根均在所述区块和时间锚定于链上",
    ),
    "pass_timestamps": (
        "every RFC 3161 timestamp token verifies",
        "每个 RFC 3161 时间戳均验证通过",
    ),
    "pass_clocks": (
        "every record was signed before the block that anchored it; each timestamp lies near "
        "its anchoring block's time; block times never go back",
        "每条记录均在锚定它的区块之前签名；每个时间戳均与其锚定区块时间相近；区块时间从不倒退",
    ),
    "pass_car_blocks": (
        "every IPFS block matches its CID; every container is complete",
        "每个 IPFS 数据块均与其 CID 一致；每个容器完整",
    ),
    "pass_award_payout": (
        "the escrow paid out the signed allocation",
        "链上托管按签名的分配执行",
    ),
    "pass_attestation": (
        "the institution signed the package digest",
        "机构已对材料包摘要签名",
    ),
    "pass_log_checkpoints": (
        "every cited log checkpoint is signed by the institution and anchored",
        "所引用的每个日志检查点均经机构签名并已锚定",
    ),
    "pass_log_consistency": (
        "each cited checkpoint is consistent with the one before: the log only grew",
        "所引用的每个检查点均与前一个一致：日志只增不改",
    ),
    "pass_log_inclusion": (
        "every record is in the log at its index, in the order it was accepted",
        "每条记录均按受理顺序位于日志中的相应位置",
    ),
    "pass_log_completeness": (
        "the log holds no record of this case that the package leaves out",
        "日志中没有材料包遗漏的本案记录",
    ),
    "pass_receipts": (
        "every receipt you gave names a record the package carries, unaltered",
        "您提供的每张回执所载记录均在材料包中且未被篡改",
    ),
    "receipts_missing": (
        "--receipts {path}: no such directory. Give the folder where your receipts are kept "
        "(chainarb keeps them under <data dir>/receipts).",
        "--receipts {path}：目录不存在。请提供保存回执的文件夹（chainarb 默认保存在 "
        "<数据目录>/receipts）。",
    ),
    "receipts_bad": (
        "--receipts {path}: {name} is not a receipt ({err}); its content is not shown.",
        "--receipts {path}：{name} 不是回执（{err}）；不显示其内容。",
    ),
    "pass_institution_key": (
        "the institution's key is not one whose private half is published",
        "机构密钥不是私钥已公开的密钥",
    ),
}, shared=CHAIN_MESSAGES)


def exit_code(report: Report) -> int:
    """The documented exit code of a report (module docstring)."""
    return _EXIT[report.outcome]


def reason_text(c: Check, zh: bool) -> str:
    """The check's reason in English or Chinese (the CLI's table and the service's page say
    the same): fixed results are translated; a failure's reason names files, hashes and
    values and is shown as the verifier wrote it."""
    def say(key: str, **values: Any) -> str:
        return t.pair(key)[1 if zh else 0].format(**values)

    if c.status is Status.SKIPPED and c.reason.startswith("not confirmed:"):
        # The table gives the count; the blocks are listed under it (the JSON keeps them all).
        return say("skip_unconfirmed", n=len(re.findall(r"chain \d+ block \d+ 0x", c.reason)))
    if not zh:
        return c.reason
    if c.status is Status.PASSED:
        return f"{say('pass_' + c.name)}（详情：{c.reason}）"
    if c.status is Status.SKIPPED:
        for prefix, key in (("no chain", "skip_no_chain"), ("could not run", "skip_node_down"),
                            ("not run: the archive is unsafe", "skip_unsafe"),
                            ("not run: the file cannot be read", "skip_unreadable")):
            if c.reason.startswith(prefix):
                return say(key)
    return say("reason_verbatim", reason=c.reason)


def _reason(c: Check) -> str:
    """The check's reason in the user's language (`reason_text`)."""
    return reason_text(c, lang() == "zh")


def print_report(report: Report, console: Console) -> None:
    """The report as a table (one row per check) and a one-line verdict."""
    from rich.markup import escape
    from rich.table import Table

    from evidence.judicial.verify import LABELS, Outcome

    if report.outcome is Outcome.UNREADABLE:  # no check ran: one line says why
        console.print("[bold red]" + escape(t("unreadable", path=report.package,
                                              reason=report.unreadable)) + "[/]", soft_wrap=True)
        return
    zh = lang() == "zh"
    table = Table(title=escape(t("title", package=report.package)), show_lines=False)
    table.add_column(t("col_check"))
    table.add_column(t("col_result"), no_wrap=True)
    table.add_column(t("col_reason"), overflow="fold")
    colours = {Status.PASSED: "green", Status.FAILED: "red", Status.SKIPPED: "yellow",
               Status.NOT_RUN: "yellow"}
    for c in report.checks:
        reason = escape(_reason(c))
        if c.status is Status.FAILED and len(c.details) > 1:
            more = "\n".join(f"• {escape(d)}" for d in c.details[1:6])
            extra = "\n" + t("more", n=len(c.details) - 6) if len(c.details) > 6 else ""
            reason = f"{reason}\n{more}{extra}"
        mark = f"[{colours[c.status]}]{t(c.status.message_key)}[/]"
        table.add_row(LABELS[c.name][1 if zh else 0], mark, reason)
    console.print(table)
    people = next((c for c in report.checks if c.name == "identities" and c.passed), None)
    if people is not None and people.details:  # names beside the addresses that signed them
        console.print(t("people"), soft_wrap=True)
        for line in people.details:
            console.print("  " + escape(line), soft_wrap=True)
    if report.blocks:
        from datetime import UTC, datetime

        console.print(t("blocks"), soft_wrap=True)
        for b in report.blocks:
            when = datetime.fromtimestamp(b.timestamp, UTC).astimezone()
            console.print(t("block_line", chain=b.chain_id, number=b.number,
                            hash="0x" + b.hash.hex(), time=when.isoformat(timespec="seconds")),
                          soft_wrap=True, highlight=False)
    if report.package_digest:
        console.print(t("digest", digest=report.package_digest), soft_wrap=True)
    outcome = report.outcome
    if outcome is Outcome.VERIFIED:
        console.print("[bold green]" + t("all_passed") + "[/]", soft_wrap=True)
    elif outcome is Outcome.FAILED:
        names = report.named(Status.FAILED)
        console.print("[bold red]" + t("failed", names=", ".join(names)) + "[/]", soft_wrap=True)
    else:
        console.print("[bold yellow]" + t("not_run", names=", ".join(report.failed())) + "[/]",
                      soft_wrap=True)
    for note in report.notes:  # what the checks do not prove, beside the verdict
        console.print("[bold yellow]" + escape(t("note", text=note.zh if zh else note.en))
                      + "[/]", soft_wrap=True)


def _usage(text: str) -> typer.Exit:
    typer.echo(text, err=True)
    return typer.Exit(EXIT_USAGE)


def _trusted_certificates(path: Path) -> list[Any]:
    """The certificates of --tsa-cert, or a usage error naming the option and the problem
    (never the file's content)."""
    if not path.exists():
        raise _usage(t("tsa_missing", path=path))
    if not path.is_file():
        raise _usage(t("tsa_not_file", path=path))
    from evidence.errors import EvidenceError
    from evidence.timestamp import load_certificates

    try:
        size = path.stat().st_size
        if size > MAX_TSA_CERT_BYTES:
            raise _usage(t("tsa_too_big", path=path, size=size, limit=MAX_TSA_CERT_BYTES))
        data = path.read_bytes()
    except OSError as exc:
        raise _usage(t("tsa_unreadable", path=path, err=exc.strerror or type(exc).__name__)) \
            from None
    try:
        certs = load_certificates(data)
    except (EvidenceError, ValueError):
        raise _usage(t("tsa_not_cert", path=path)) from None
    if not certs:
        raise _usage(t("tsa_not_cert", path=path))
    return certs


def _checkpoint(path: Path) -> Any:
    """The block hashes of --checkpoint, or a usage error naming the option and what is
    wrong (never the file's content)."""
    if not path.is_file():
        raise _usage(t("checkpoint_missing", path=path))
    from evidence.errors import EvidenceError
    from evidence.judicial.verify import parse_checkpoint

    try:
        if path.stat().st_size > MAX_CHECKPOINT_BYTES:
            raise _usage(t("checkpoint_bad", path=path,
                           err=f"more than {MAX_CHECKPOINT_BYTES} bytes"))
        return parse_checkpoint(path.read_bytes())
    except OSError as exc:
        raise _usage(t("checkpoint_bad", path=path, err=exc.strerror or type(exc).__name__)) \
            from None
    except EvidenceError as exc:
        raise _usage(t("checkpoint_bad", path=path, err=type(exc).__name__)) from None


def _held_receipts(folder: Path) -> list[Any]:
    """Every `*.json` of the receipts folder (sorted), or a usage error naming the file that
    is not JSON (never its content). Whether each is a valid receipt the check says."""
    if not folder.is_dir():
        raise _usage(t("receipts_missing", path=folder))
    from evidence.errors import EvidenceError
    from evidence.receipts import load_receipts

    try:
        return list(load_receipts(folder))
    except EvidenceError as exc:
        raise _usage(t("receipts_bad", path=folder, name=getattr(exc, "name", "?"),
                       err=type(exc).__name__)) from None


def _check_rpc(rpcs: list[str]) -> None:
    """A usage error for an --rpc (or $CHAINARB_CHAIN_RPC_URL) that is not an http(s) URL,
    before anything is opened or started."""
    import os

    from evidence.chain import LEGACY_RPC_ENV, RPC_ENV, InvalidRpcUrl, check_rpc_url

    rpc = rpcs[0] if rpcs else None
    try:
        for url in rpcs:
            check_rpc_url(url, "--rpc")
        if rpc is None and os.environ.get(RPC_ENV, "").strip():
            check_rpc_url(os.environ[RPC_ENV], RPC_ENV)
    except InvalidRpcUrl as exc:
        raise _usage(t("rpc_invalid", source=exc.source, value=exc.value)) from None
    if rpc is None and os.environ.get(LEGACY_RPC_ENV) and not os.environ.get(RPC_ENV):
        typer.echo(t("legacy_env"), err=True)


def _chain(rpc: str | None, quiet: bool) -> Any:
    """The chain to check against (`evidence.chain.discover_chain`, the one discovery every
    command uses); None when none is configured. Says which chain unless it was --rpc."""
    from evidence.chain import ConfiguredChainError, discover_chain

    try:
        found = discover_chain(rpc)
    except ConfiguredChainError as exc:  # the chain checks could not run: say why
        typer.echo(t("chain_unavailable", err=exc), err=True)
        return None
    if found is None:
        return None
    if not quiet and found.origin != "option":
        url = found.url or getattr(found.w3.provider, "endpoint_uri", None) or "—"
        typer.echo(t("chain_from", url=url, origin=t("origin_" + found.origin)), err=True)
    return found.w3


def register_verify(app: typer.Typer) -> None:
    """Add `verify` to the `chainarb` app."""

    @app.command("verify")
    def verify(
        package: Annotated[Path, typer.Argument(help=bi(
            "The judicial package (.zip).", "司法确认材料包（.zip）。"))],
        rpc: Annotated[
            list[str] | None,
            typer.Option(
                "--rpc",
                help=bi("JSON-RPC URL of a node you choose to confirm the block hashes the "
                        "verdict rests on; give it several times for independent nodes (all "
                        "must agree). Default: $CHAINARB_CHAIN_RPC_URL, else the "
                        "installation's configured chain.",
                        "用于确认结论所依据区块哈希的节点 JSON-RPC 地址，可多次提供以使用多个独立"
                        "节点（必须一致）。默认：$CHAINARB_CHAIN_RPC_URL，否则为本安装配置的链。"),
            ),
        ] = None,
        checkpoint: Annotated[
            Path | None,
            typer.Option(
                "--checkpoint",
                help=bi("JSON file of block hashes per chain id, published elsewhere, that "
                        "confirms the package's blocks (docs/judicial-package.md).",
                        "在别处公布的按链编号列出区块哈希的 JSON 文件，用于确认材料包的区块。"),
            ),
        ] = None,
        as_json: Annotated[bool, typer.Option("--json", help=bi(
            "Print the report as JSON.", "以 JSON 输出报告。"))] = False,
        receipts_dir: Annotated[
            Path | None,
            typer.Option(
                "--receipts",
                help=bi("Folder of receipts you hold (one JSON file each, as chainarb keeps "
                        "them): the verdict fails, naming the record, if the package omits or "
                        "alters a record a receipt proves was accepted.",
                        "您所持回执的文件夹（每张一个 JSON 文件，与 chainarb 保存的格式相同）："
                        "若材料包遗漏或篡改了回执证明已受理的记录，核验不通过并指明该记录。"),
            ),
        ] = None,
        tsa_cert: Annotated[
            list[Path] | None,
            typer.Option(
                "--tsa-cert",
                help=bi("PEM of a time-stamping authority (or its CA) you trust; give it once "
                        "per authority. Default: the package's own TSA certificates (the "
                        "verdict then says so).",
                        "您信任的时间戳机构（或其 CA）的 PEM 证书；每个机构指定一次。默认：材料包"
                        "自带的证书（核验结论会注明）。"),
            ),
        ] = None,
    ) -> None:
        """Verify a judicial package offline. / 离线核验司法确认材料包。

        Everything is recomputed from the package; only the block hashes it rests on need a
        source you choose (--rpc, --checkpoint). / 一切均由材料包重算，仅其所依据的区块哈希需要
        您选择的来源确认（--rpc、--checkpoint）。

        Exit codes / 退出码: 0 all checks passed / 全部通过; 1 a check failed / 有检查项未通过;
        2 usage error / 用法错误; 3 some checks could not run (block hashes not confirmed: no
        --rpc or --checkpoint, node down) / 部分检查无法运行（区块哈希未确认：无 --rpc 或
        --checkpoint，或节点无响应）; 4 the package cannot be read / 无法读取材料包.
        """
        trust = [c for path in tsa_cert for c in _trusted_certificates(path)] \
            if tsa_cert else None
        rpcs = list(rpc or [])
        _check_rpc(rpcs)
        hashes = _checkpoint(checkpoint) if checkpoint is not None else None
        held = _held_receipts(receipts_dir) if receipts_dir is not None else None
        if not package.exists():
            typer.echo(t("package_missing", path=package), err=True)
            raise typer.Exit(EXIT_UNREADABLE)
        if not package.is_file():
            typer.echo(t("package_not_file", path=package), err=True)
            raise typer.Exit(EXIT_UNREADABLE)
        if len(rpcs) > 1:
            sources: Any = rpcs
        elif hashes is not None and not rpcs:
            sources = []  # the checkpoint alone: no configured chain is asked
        else:
            sources = _chain(rpcs[0] if rpcs else None, as_json)
        from evidence.judicial.verify import verify_package

        report = verify_package(package, chain=sources, tsa_trust=trust, checkpoint=hashes,
                                receipts=held)
        if as_json:
            typer.echo(json.dumps(report.to_json_obj(), ensure_ascii=False, indent=2))
        else:
            from rich.console import Console

            print_report(report, Console())
        raise typer.Exit(exit_code(report))
