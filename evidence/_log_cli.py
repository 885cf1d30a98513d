"""`chainarb monitor` and `chainarb verify-absence`: the log's commands (docs/log.md).

Exit codes, as `chainarb verify`'s: 0 all good; 1 an inconsistency (a forged or
inconsistent checkpoint, a receipt not included, a proof of absence that does not hold);
2 usage error; 3 could not run (the service or the chain does not answer).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable
from datetime import UTC, datetime
from pathlib import Path
from typing import Annotated, Any, TypeVar

import typer

from evidence._i18n import Catalog, bi
from evidence.errors import EvidenceError

__all__ = ["register_log_commands"]

EXIT_OK, EXIT_FAILED, EXIT_USAGE, EXIT_SKIPPED = 0, 1, 2, 3
TOKEN_ENV = "CHAINARB_TOKEN"
SERVICE_ENV = "CHAINARB_SERVICE_URL"
MAX_ABSENCE_BYTES = 64 << 20

t = Catalog("log", {
    # monitor findings (evidence.monitor.Finding keys)
    "first_run": ("First run: log {origin!r} has {size} entries; this checkpoint is now the "
                  "reference.",
                  "首次运行：日志 {origin!r} 共 {size} 条；此检查点即为此后比对的基准。"),
    "grew": ("The log grew from {old} to {new} entries, consistently.",
             "日志由 {old} 条增长到 {new} 条，前后一致。"),
    "same": ("The log still has {size} entries.", "日志仍为 {size} 条。"),
    "anchored": ("Checkpoint of {size} entries anchored and consistent.",
                 "{size} 条的检查点已锚定且前后一致。"),
    "no_chain": ("Anchors not confirmed on a chain (give --rpc URL to check them).",
                 "未在链上确认锚定（请提供 --rpc URL 以核对）。"),
    "receipt_pending": ("Receipt {name}: index {index} is not in the log's checkpoint yet.",
                        "回执 {name}：位置 {index} 尚未进入日志检查点。"),
    "receipt_overdue": (
        "WARNING: receipt {name} (index {index}) was accepted {hours} h ago and is still in "
        "no checkpoint of the log: the service may be withholding it.",
        "警告：回执 {name}（位置 {index}）已于 {hours} 小时前受理，但仍未进入日志的任何检查点："
        "服务可能在扣留该记录。"),
    "entries_unread": (
        "WARNING: {n} new entries of the log ({start}..{end}) were not read for this case's "
        "records (too many for one run).",
        "警告：日志中 {n} 条新条目（{start}..{end}）未读取以查找本案记录（单次运行过多）。"),
    "new_record": ("New record of the case at log index {index}: {kind} {record}.",
                   "本案新记录，日志位置 {index}：{kind} {record}。"),
    "no_case_view": ("Deadlines not checked (give --token or set CHAINARB_TOKEN to read the "
                     "case).",
                     "未检查期限（请提供 --token 或设置 CHAINARB_TOKEN 以读取案件）。"),
    "no_deadline": ("Stage {stage}: no deadline running.", "阶段 {stage}：无进行中的期限。"),
    "deadline_far": ("Stage {stage}: deadline {deadline} (in {hours} h).",
                     "阶段 {stage}：期限 {deadline}（还有 {hours} 小时）。"),
    "deadline_near": ("DEADLINE APPROACHING: stage {stage} ends {deadline} (in {hours} h).",
                      "期限将至：阶段 {stage} 于 {deadline} 截止（还有 {hours} 小时）。"),
    "deadline_passed": ("DEADLINE PASSED: stage {stage} ended {deadline}.",
                        "期限已过：阶段 {stage} 已于 {deadline} 截止。"),
    "no_institution": (
        "Cannot check: no institution key to check signatures with. Give "
        "--institution ADDRESS (the institution's key, from the escrow order).",
        "无法核对：没有用于核对签名的机构密钥。请提供 --institution 地址"
        "（托管订单中的机构密钥）。"),
    "checkpoint_forged": (
        "INCONSISTENT: a checkpoint is not signed by the institution ({err}).",
        "不一致：检查点并非机构签名（{err}）。"),
    "origin_changed": (
        "INCONSISTENT: the log was {was!r} and is now {now!r}.",
        "不一致：日志原为 {was!r}，现为 {now!r}。"),
    "inconsistent": (
        "INCONSISTENT: the checkpoint of {new} entries does not extend the one of {old} "
        "entries seen before ({why}). The service rewrote its log or shows different logs to "
        "different people (split view). Keep the state file: it is evidence.",
        "不一致：{new} 条的检查点并未延续此前所见 {old} 条的检查点（{why}）。服务改写了日志，或向"
        "不同的人展示不同的日志（分裂视图）。请保留状态文件：它是证据。"),
    "anchored_ahead": (
        "INCONSISTENT: an anchored checkpoint of {anchored} entries is ahead of the latest "
        "checkpoint shown ({size}).",
        "不一致：已锚定的检查点（{anchored} 条）超前于所示最新检查点（{size} 条）。"),
    "anchored_inconsistent": (
        "INCONSISTENT: the log shown ({size} entries) does not extend the anchored checkpoint "
        "of {anchored} entries ({why}): the service shows you another log than the one it "
        "anchored (split view).",
        "不一致：所示日志（{size} 条）并未延续已锚定的 {anchored} 条检查点（{why}）：服务向您"
        "展示的日志不是其锚定的那一个（分裂视图）。"),
    "not_anchored": (
        "INCONSISTENT: the checkpoint of {size} entries said to be anchored is not ({why}).",
        "不一致：声称已锚定的 {size} 条检查点实际未锚定（{why}）。"),
    "receipt_refused": (
        "INCONSISTENT: receipt {name} is not the institution's ({err}).",
        "不一致：回执 {name} 并非机构所签（{err}）。"),
    "receipt_other_log": (
        "INCONSISTENT: receipt {name} is for log {origin!r}, the service now shows {log!r}.",
        "不一致：回执 {name} 属于日志 {origin!r}，但服务现在展示的是 {log!r}。"),
    "receipt_missing": (
        "INCONSISTENT: receipt {name} promises record {record} at index {index}, but the log "
        "of {size} entries does not hold it there: the record was dropped or replaced.",
        "不一致：回执 {name} 承诺记录 {record} 位于位置 {index}，但 {size} 条的日志中该位置并非"
        "此记录：记录被删除或替换。"),
    "case_index": (
        "The case has {n} entries in the log of {size}, exactly those its head in the "
        "checkpoint's signed per-case index counts.",
        "本案在 {size} 条的日志中有 {n} 条记录，与检查点所签分案索引中的本案摘要完全一致。"),
    "case_index_refused": (
        "INCONSISTENT: the case's place in the signed per-case index of the checkpoint of "
        "{size} does not verify ({err}).",
        "不一致：本案在 {size} 条检查点所签分案索引中的位置无法核验（{err}）。"),
    "case_index_mismatch": (
        "INCONSISTENT: the service lists {n} entries of the case in the log of {size}, but "
        "the checkpoint's signed per-case index gives it {want} (up to index {last}), or a "
        "record seen before is gone: a record was dropped, added or moved.",
        "不一致：服务列出本案在 {size} 条的日志中有 {n} 条记录，但检查点所签分案索引记为 {want}"
        " 条（至位置 {last}），或此前见过的记录已不见：有记录被删除、增加或移动。"),
    "entry_unproven": (
        "INCONSISTENT: the service listed an entry at index {index} it cannot prove.",
        "不一致：服务列出的位置 {index} 的条目无法证明。"),
    "case_unlisted": (
        "WARNING: the service no longer lists this case for your key (access ended, or it "
        "is hidden); its state is kept.",
        "警告：服务不再为您的密钥列出此案件（访问已结束或被隐藏）；其状态已保留。"),
    "case_header": ("Case {case}:", "案件 {case}："),
    "all_cases": ("Monitor: {n} cases visible to your key.", "监控：您的密钥可见 {n} 个案件。"),
    "case_or_all": ("Give --case ID, or --all with --token (every case your key may see).",
                    "请提供 --case 案件编号，或同时提供 --all 与 --token"
                    "（您的密钥可见的全部案件）。"),
    # verdicts and usage
    "ok": ("Monitor: no inconsistency. State kept in {path}.",
           "监控：未发现不一致。状态保存在 {path}。"),
    "alarm": ("Monitor: INCONSISTENCY FOUND (exit 1). The state file {path} keeps the last "
              "good view.",
              "监控：发现不一致（退出码 1）。状态文件 {path} 保留最后一次正常的视图。"),
    "unreachable": ("Monitor could not run: {err}.", "监控无法运行：{err}。"),
    "state_bad": ("--state {path}: not a usable state file ({err}).",
                  "--state {path}：状态文件不可用（{err}）。"),
    "no_service": ("Give --service URL (or set CHAINARB_SERVICE_URL).",
                   "请提供 --service URL（或设置 CHAINARB_SERVICE_URL）。"),
    "bad_case": ("--case {case}: expected the case id, 0x and 64 hex digits.",
                 "--case {case}：应为案件编号，0x 加 64 位十六进制。"),
    "receipts_bad": ("--receipts {path}: {err}; its content is not shown.",
                     "--receipts {path}：{err}；不显示其内容。"),
    "absence_missing": ("{path}: no such file. Give the proof of absence (JSON) the service "
                        "issued (GET /log/absence).",
                        "{path}：文件不存在。请提供服务出具的不存在证明"
                        "（JSON，GET /log/absence）。"),
    "absence_bad": ("{path}: not a proof of absence ({err}); its content is not shown.",
                    "{path}：不是不存在证明（{err}）；不显示其内容。"),
    "absence_ok": (
        "Proof of absence holds: no record of case {case} entered log {origin!r} between its "
        "checkpoints of {start} and {end} entries ({n} entries checked, none of this case).",
        "不存在证明成立：在日志 {origin!r} 的 {start} 条与 {end} 条检查点之间，案件 {case} 没有任何"
        "记录进入（已核对 {n} 条，均不属于本案）。"),
    "absence_ok_index": (
        "Proof of absence holds: no record of case {case} entered log {origin!r} between its "
        "checkpoints of {start} and {end} entries (by the per-case index both checkpoints "
        "sign: the case's entries are the same at both, or it has none).",
        "不存在证明成立：在日志 {origin!r} 的 {start} 条与 {end} 条检查点之间，案件 {case} 没有任何"
        "记录进入（依两个检查点所签的分案索引：本案记录在两处相同，或均无记录）。"),
    "absence_failed": ("Proof of absence REFUSED: {err}.", "不存在证明不成立：{err}。"),
    "absence_case": ("Proof of absence REFUSED: it is about case {found}, not {case}.",
                     "不存在证明不成立：其所涉案件为 {found}，而非 {case}。"),
    "absence_keys": ("Give --institution ADDRESS (the institution's key, from the escrow order "
                     "or the judicial package) to check the signatures.",
                     "请提供 --institution 地址（托管订单或司法材料包中的机构密钥）以核对签名。"),
    "absence_anchor": (
        "Note: the two checkpoints are the institution's signed statements; that they were "
        "anchored, the package's log_checkpoints check (or the monitor with --rpc) shows.",
        "注意：两个检查点是机构签名的声明；其是否已锚定，由材料包的 log_checkpoints 检查（或带 "
        "--rpc 的监控）证明。"),
})


def _finding_json(f: Any) -> dict[str, Any]:
    return {"level": str(f.level), "key": f.key, "values": f.values,
            "text": {"en": t.pair(f.key)[0].format(**f.values),
                     "zh": t.pair(f.key)[1].format(**f.values)}}


_R = TypeVar("_R")


def _require_keys(given: list[str] | None, stored: bool) -> None:
    """Exit 2 when there is no institution key to check signatures with: the monitor could
    tell nothing, which is a usage error, not an inconsistency."""
    if not given and not stored:
        typer.echo(t("no_institution"), err=True)
        raise typer.Exit(EXIT_USAGE)


def _or_skip(run: Callable[[], _R]) -> _R:
    """`run()`, or exit 3 when the service or a chain node could not be reached."""
    from evidence._monitor_http import ServiceUnreachable
    from evidence.chain import is_unreachable

    try:
        return run()
    except (ServiceUnreachable, EvidenceError) as exc:
        typer.echo(t("unreachable", err=exc), err=True)
        raise typer.Exit(EXIT_SKIPPED) from None
    except Exception as exc:  # a chain node that went away mid-check
        if not is_unreachable(exc):
            raise
        typer.echo(t("unreachable", err=type(exc).__name__), err=True)
        raise typer.Exit(EXIT_SKIPPED) from None


def _held(receipts: Path | None) -> list[Any]:
    """The receipts folder's receipts (none when it does not exist); exit 2 on a bad file."""
    from evidence.receipts import default_folder, load_receipts

    folder = receipts or default_folder()
    try:
        return load_receipts(folder) if folder.is_dir() else []
    except EvidenceError as exc:
        typer.echo(t("receipts_bad", path=folder, err=exc), err=True)
        raise typer.Exit(EXIT_USAGE) from None


def _chain_check(rpc: str | None) -> Any:
    """The anchor check on the chain node `rpc` names (None without one); exit 2 if it
    cannot be used."""
    if not rpc:
        return None
    from evidence._monitor_http import chain_anchor_check
    from evidence.chain import InvalidRpcUrl, check_rpc_url, discover_chain

    try:
        check_rpc_url(rpc, "--rpc")
        found = discover_chain(rpc)
    except (InvalidRpcUrl, EvidenceError) as exc:
        typer.echo(t("unreachable", err=exc), err=True)
        raise typer.Exit(EXIT_USAGE) from None
    return chain_anchor_check(found.w3) if found is not None else None


def _monitor_all(url: str, state: Path | None, institution: list[str] | None,
                 receipts: Path | None, rpc: str | None, token: str, warn_hours: int,
                 as_json: bool) -> None:
    """`chainarb monitor --all`: every case the token's key may see, one state file."""
    from evidence._monitor_http import HttpLogService
    from evidence.monitor import Level, load_all, run_all, save_all

    path = state or Path("chainarb-monitor-all.json")
    try:
        current = load_all(path, service=url)
    except (EvidenceError, OSError) as exc:
        typer.echo(t("state_bad", path=path, err=exc), err=True)
        raise typer.Exit(EXIT_USAGE) from None
    _require_keys(institution, any(c.institution for c in current.cases))
    held = _held(receipts)
    check = _chain_check(rpc)
    src = HttpLogService(url, token=token)
    new, results = _or_skip(lambda: run_all(
        current, src, src.cases(), now=datetime.now(UTC),
        institution=[_addr(a) for a in institution or []], receipts=held,
        anchor_check=check, warn_seconds=warn_hours * 3600))
    save_all(path, new)
    bad = {case for case, found in results if any(f.level is Level.ALARM for f in found)}
    if as_json:
        typer.echo(json.dumps({"ok": not bad, "state": str(path), "cases": [
            {"case": case, "ok": case not in bad, "findings": [_finding_json(f) for f in found]}
            for case, found in results]}, ensure_ascii=False, indent=2, default=str))
    else:
        _say("ok", t("all_cases", n=len(results)))
        for case, found in results:
            _say("alarm" if case in bad else "ok", t("case_header", case=case))
            for f in found:
                _say(str(f.level), "  " + t(f.key, **f.values))
        _say("alarm" if bad else "ok", t("alarm" if bad else "ok", path=path))
    raise typer.Exit(EXIT_FAILED if bad else EXIT_OK)


def _say(level: str, text: str) -> None:
    typer.echo(text, err=level == "alarm")


def _case_ok(case: str) -> bool:
    c = case.lower()
    return c.startswith("0x") and len(c) == 66 and all(ch in "0123456789abcdef" for ch in c[2:])


def register_log_commands(app: typer.Typer) -> None:
    """Add `monitor` and `verify-absence` to the `chainarb` app."""

    @app.command("monitor")
    def monitor(
        case: Annotated[str | None, typer.Option("--case", help=bi(
            "The case id (0x + 64 hex digits).", "案件编号（0x 加 64 位十六进制）。"))] = None,
        all_cases: Annotated[bool, typer.Option("--all", help=bi(
            "Every case your key may see (needs --token); one state file for all "
            "(default ./chainarb-monitor-all.json).",
            "您的密钥可见的全部案件（需 --token）；所有案件共用一个状态文件"
            "（默认 ./chainarb-monitor-all.json）。"))] = False,
        service: Annotated[str | None, typer.Option("--service", help=bi(
            "The service's URL (default $CHAINARB_SERVICE_URL).",
            "服务地址（默认 $CHAINARB_SERVICE_URL）。"))] = None,
        state: Annotated[Path | None, typer.Option("--state", help=bi(
            "The monitor's state file (default ./chainarb-monitor-<case>.json); keep it: "
            "each run compares with it.",
            "监控状态文件（默认 ./chainarb-monitor-<案件>.json）；请保留：每次运行都与之比对。"))
        ] = None,
        institution: Annotated[list[str] | None, typer.Option("--institution", help=bi(
            "The institution's key (address) that signs the log; several after a key "
            "rotation. Remembered in the state file after the first run.",
            "签署日志的机构密钥（地址）；密钥轮换后可多个。首次运行后记入状态文件。"))] = None,
        receipts: Annotated[Path | None, typer.Option("--receipts", help=bi(
            "Folder of your receipts (default $CHAINARB_RECEIPTS_DIR, else "
            "<data dir>/receipts): each must be in the log.",
            "您的回执文件夹（默认 $CHAINARB_RECEIPTS_DIR，否则 <数据目录>/receipts）：每张都必须在"
            "日志中。"))] = None,
        rpc: Annotated[str | None, typer.Option("--rpc", help=bi(
            "JSON-RPC URL of a chain node you choose: confirms each anchored checkpoint there.",
            "您选择的链节点 JSON-RPC 地址：在链上确认每个已锚定的检查点。"))] = None,
        token: Annotated[str | None, typer.Option("--token", help=bi(
            "Your session token (default $CHAINARB_TOKEN) to read the case's deadlines.",
            "您的会话令牌（默认 $CHAINARB_TOKEN），用于读取案件期限。"))] = None,
        warn_hours: Annotated[int, typer.Option("--warn-hours", min=1, help=bi(
            "Warn this many hours before a deadline.", "在期限前多少小时提醒。"))] = 48,
        as_json: Annotated[bool, typer.Option("--json", help=bi(
            "Print the findings as JSON.", "以 JSON 输出结果。"))] = False,
    ) -> None:
        """Follow the institution's log for a case; alarm on any inconsistency. /
        跟踪机构日志中的案件；发现任何不一致即报警。

        Exit codes / 退出码: 0 no inconsistency / 未发现不一致; 1 inconsistency / 发现不一致;
        2 usage error / 用法错误; 3 could not run (service or chain down) / 无法运行.
        """
        from evidence._monitor_http import HttpLogService
        from evidence.monitor import Level, load_state, run_once, save_state

        url = service or os.environ.get(SERVICE_ENV, "").strip()
        if not url:
            typer.echo(t("no_service"), err=True)
            raise typer.Exit(EXIT_USAGE)
        token = token or os.environ.get(TOKEN_ENV) or None
        if (case is None) == (not all_cases) or (all_cases and not token):
            typer.echo(t("case_or_all"), err=True)
            raise typer.Exit(EXIT_USAGE)
        if case is None and token:
            _monitor_all(url, state, institution, receipts, rpc, token, warn_hours, as_json)
            return
        if case is None or not _case_ok(case):
            typer.echo(t("bad_case", case=case), err=True)
            raise typer.Exit(EXIT_USAGE)
        case = case.lower()
        path = state or Path(f"chainarb-monitor-{case[2:18]}.json")
        try:
            current = load_state(path, service=url, case_id=case)
        except (EvidenceError, OSError) as exc:
            typer.echo(t("state_bad", path=path, err=exc), err=True)
            raise typer.Exit(EXIT_USAGE) from None
        _require_keys(institution, bool(current.institution))
        held = _held(receipts)
        check = _chain_check(rpc)
        src = HttpLogService(url, token=token)
        new, findings = _or_skip(lambda: run_once(
            current, src, now=datetime.now(UTC),
            institution=[_addr(a) for a in institution or []], receipts=held,
            anchor_check=check, warn_seconds=warn_hours * 3600))
        save_state(path, new)
        alarm = any(f.level is Level.ALARM for f in findings)
        if as_json:
            typer.echo(json.dumps({"ok": not alarm, "state": str(path),
                                   "findings": [_finding_json(f) for f in findings]},
                                  ensure_ascii=False, indent=2, default=str))
        else:
            for f in findings:
                _say(str(f.level), t(f.key, **f.values))
            _say("alarm" if alarm else "ok", t("alarm" if alarm else "ok", path=path))
        raise typer.Exit(EXIT_FAILED if alarm else EXIT_OK)

    @app.command("verify-absence")
    def verify_absence(
        proof: Annotated[Path, typer.Argument(help=bi(
            "The proof of absence (JSON, from GET /log/absence).",
            "不存在证明（JSON，来自 GET /log/absence）。"))],
        institution: Annotated[list[str] | None, typer.Option("--institution", help=bi(
            "The institution's key (address); several after a key rotation.",
            "机构密钥（地址）；密钥轮换后可多个。"))] = None,
        case: Annotated[str | None, typer.Option("--case", help=bi(
            "The case it must be about (0x + 64 hex digits).",
            "证明所涉的案件编号（0x 加 64 位十六进制）。"))] = None,
    ) -> None:
        """Check a proof that no record of a case entered the log between two checkpoints.
        / 核验案件在两个检查点之间没有记录进入日志的签名证明。

        Exit codes / 退出码: 0 it holds / 成立; 1 refused / 不成立; 2 usage error / 用法错误.
        """
        from evidence import safejson
        from evidence.judicial import _logapi as api

        keys = [_addr(a) for a in institution or []]
        if not keys:
            typer.echo(t("absence_keys"), err=True)
            raise typer.Exit(EXIT_USAGE)
        if case is not None and not _case_ok(case):
            typer.echo(t("bad_case", case=case), err=True)
            raise typer.Exit(EXIT_USAGE)
        if not proof.is_file():
            typer.echo(t("absence_missing", path=proof), err=True)
            raise typer.Exit(EXIT_USAGE)
        try:
            if proof.stat().st_size > MAX_ABSENCE_BYTES:
                raise EvidenceError(f"more than {MAX_ABSENCE_BYTES} bytes")
            obj: Any = safejson.loads(proof.read_bytes(), what=proof.name,
                                      max_bytes=MAX_ABSENCE_BYTES)
        except (EvidenceError, ValueError, OSError) as exc:
            typer.echo(t("absence_bad", path=proof, err=type(exc).__name__), err=True)
            raise typer.Exit(EXIT_USAGE) from None
        try:
            result = api.open_absence(obj, keys)
        except EvidenceError as exc:
            typer.echo(t("absence_failed", err=exc), err=True)
            raise typer.Exit(EXIT_FAILED) from None
        found = "0x" + result.case_id.hex()
        if case is not None and found != case.lower():
            typer.echo(t("absence_case", found=found, case=case.lower()), err=True)
            raise typer.Exit(EXIT_FAILED)
        typer.echo(t("absence_ok_index" if result.by_index else "absence_ok", case=found,
                     origin=result.origin, start=result.start.size, end=result.end.size,
                     n=result.entries))
        typer.echo(t("absence_anchor"))
        raise typer.Exit(EXIT_OK)


def _addr(value: str) -> str:
    """An address as given, checksummed when it is one (else left for the check to refuse)."""
    try:
        from eth_utils import to_checksum_address

        return str(to_checksum_address(value))
    except (ValueError, TypeError):
        return value
