"""The court's pages: the cases given to the court, and one case's workspace.

Why a page of its own: a judge's job is not a party's. The workspace is three steps in
order, each usable without a command line:

1. **The judicial package**, downloaded from the page (``GET /cases/{id}/judicial-package``
   through the pages' proxy) with its digest and the SHA-256 of its manifest (what the
   decision names); every package the service gave this court is listed.
2. **The checks**, run by the service on a package the court uploads (``POST /verify``, the
   checks of ``chainarb verify``), shown with their reasons; the block hashes the result
   rests on are listed for the court to confirm itself, with how.
3. **The decision**: confirmation or refusal, signed in the court's wallet (the case
   page's forms, ``actions.py``), naming one of the packages given to it. The page reloads
   from the service afterwards, so it shows the decision and no form (no stale state).

Only a court given access to the case opens its workspace (403 page otherwise); the list
shows a court's own cases only.
"""

from __future__ import annotations

import json
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import col, select

from backend.db import Case
from backend.db.service_models import CourtAccess, CourtAccount
from backend.services import views
from backend.services.errors import ServiceError
from backend.services.package import ExportJson, exports_to
from backend.services.verification import MAX_PACKAGE_BYTES
from backend.services.views import CaseViewJson

from .actions import actions_section, case_data
from .desk import e as _e
from .i18n import UI, register, text, ui
from .logview import log_section
from .people import names_for, person_html
from .receipts import receipts_section

__all__ = ["WORDS", "router"]

router = APIRouter(include_in_schema=False)  # mounted under /ui by pages.router

WORDS = register({
    "court_cases": {"en": "Cases given to your court", "zh-Hans": "交由本院审查的案件"},
    "court_nav": {"en": "Court", "zh-Hans": "法院"},
    "court_not_registered": {
        "en": "This wallet is not registered as a court with this institution. An institution "
              "administrator registers courts and gives them access to cases.",
        "zh-Hans": "此钱包未在本机构登记为法院。法院由机构管理员登记，并由其授予案件查阅权限。"},
    "court_no_cases": {"en": "No case has been given to your court yet.",
                       "zh-Hans": "尚无交由本院审查的案件。"},
    "court_given": {"en": "Given to you", "zh-Hans": "移交时间"},
    "court_your_decision": {"en": "Your decision", "zh-Hans": "本院决定"},
    "court_undecided": {"en": "not decided yet", "zh-Hans": "尚未决定"},
    "court_confirmed": {"en": "confirmed", "zh-Hans": "已确认"},
    "court_refused": {"en": "confirmation refused", "zh-Hans": "不予确认"},
    "court_workspace": {"en": "Judicial review", "zh-Hans": "司法审查"},
    "court_workspace_title": {"en": "Judicial review: {order}", "zh-Hans": "司法审查：{order}"},
    "court_open_workspace": {"en": "Open the court's workspace for this case",
                             "zh-Hans": "打开本案的法院审查页面"},
    "court_whole_record": {"en": "The whole record of the case (timeline, evidence, award)",
                           "zh-Hans": "本案完整记录（时间线、证据、裁决）"},
    "court_step1": {"en": "1. The judicial package", "zh-Hans": "1. 司法确认材料包"},
    "court_step1_text": {
        "en": "One ZIP file with every signed record, the evidence, the proofs of the anchors "
              "on the chain, the timestamps and a certificate. The service builds it from the "
              "case as it stands now. Keep the file: your decision names it.",
        "zh-Hans": "一个 ZIP 文件，包含全部签名记录、证据、链上存证的证明、时间戳及证书。服务方"
                   "按本案当前状态生成。请保存该文件：您的决定将指向它。"},
    "court_download": {"en": "Download the judicial package", "zh-Hans": "下载司法确认材料包"},
    "court_downloading": {"en": "Building the package…", "zh-Hans": "正在生成材料包…"},
    "court_saved": {"en": "Saved as {name}.", "zh-Hans": "已保存为 {name}。"},
    "court_packages": {"en": "Packages given to you for this case",
                       "zh-Hans": "本案已交付本院的材料包"},
    "court_no_packages": {"en": "You have not downloaded a package of this case yet.",
                          "zh-Hans": "您尚未下载本案的材料包。"},
    "court_digest": {"en": "Package digest (SHA-256 of SHA256SUMS, printed on the certificate)",
                     "zh-Hans": "材料包摘要（SHA256SUMS 的 SHA-256，载于证书）"},
    "court_manifest": {"en": "SHA-256 of manifest.json (what your decision names)",
                       "zh-Hans": "manifest.json 的 SHA-256（您的决定所指向的值）"},
    "court_downloaded": {"en": "Downloaded", "zh-Hans": "下载时间"},
    "court_step2": {"en": "2. Check the package", "zh-Hans": "2. 核验材料包"},
    "court_step2_text": {
        "en": "Choose a package file. The service runs on it the checks of {tool} "
              "(signatures, hash chain, evidence, Merkle proofs, block headers and receipts, "
              "timestamps, the escrow's payout) and shows each result. The checks are run by "
              "the service: to check without trusting it, run {command} yourself with a node "
              "you choose.",
        "zh-Hans": "请选择材料包文件。服务方将对其运行 {tool} 的各项检查（签名、哈希链、"
                   "证据、默克尔证明、区块头与收据、时间戳、托管执行）并逐项显示结果。这些检查由"
                   "服务方运行：如需在不信任服务方的前提下核验，请使用您选择的节点自行运行 "
                   "{command}。"},
    "court_command": {"en": "chainarb verify PACKAGE.zip --rpc URL",
                      "zh-Hans": "chainarb verify 材料包.zip --rpc URL"},
    "court_file_label": {"en": "Package file (.zip)", "zh-Hans": "材料包文件（.zip）"},
    "court_file_hint": {"en": "At most {size}. Nothing of it is kept by the service.",
                        "zh-Hans": "不超过 {size}。服务方不保留该文件的任何内容。"},
    "court_check": {"en": "Check this package", "zh-Hans": "核验此材料包"},
    "court_uploading": {"en": "Uploading", "zh-Hans": "正在上传"},
    "court_checking": {"en": "Uploaded; the service is running the checks…",
                       "zh-Hans": "已上传；服务方正在运行检查…"},
    "court_pick_file": {"en": "Choose the package file first.",
                        "zh-Hans": "请先选择材料包文件。"},
    "court_col_check": {"en": "Check", "zh-Hans": "检查项"},
    "court_col_result": {"en": "Result", "zh-Hans": "结果"},
    "court_col_reason": {"en": "Reason", "zh-Hans": "原因"},
    "court_passed": {"en": "passed", "zh-Hans": "通过"},
    "court_failed": {"en": "FAILED", "zh-Hans": "未通过"},
    "court_not_run": {"en": "not run", "zh-Hans": "未运行"},
    "court_outcome_verified": {"en": "Every check passed.", "zh-Hans": "全部检查通过。"},
    "court_outcome_failed": {
        "en": "Not verified: these checks failed: {names}. The package is not what it claims.",
        "zh-Hans": "核验未通过：以下检查项未通过：{names}。该材料包与其所称内容不符。"},
    "court_outcome_not_run": {
        "en": "Nothing failed, but not every check could run: {names}. This is not yet a pass.",
        "zh-Hans": "没有未通过项，但部分检查未运行：{names}。这尚不等于核验通过。"},
    "court_outcome_unreadable": {
        "en": "This file cannot be read as a ZIP archive (not a package, truncated or "
              "corrupt): nothing was checked.",
        "zh-Hans": "该文件无法作为 ZIP 归档读取（不是材料包，或已截断、损坏）：未进行任何检查。"},
    "court_run_by": {"en": "Run by the service", "zh-Hans": "由服务方运行"},
    "court_blocks": {"en": "Block hashes for you to confirm", "zh-Hans": "待您确认的区块哈希"},
    "court_block_chain": {"en": "Chain", "zh-Hans": "链"},
    "court_block_number": {"en": "Block number", "zh-Hans": "区块号"},
    "court_block_hash": {"en": "Block hash", "zh-Hans": "区块哈希"},
    "court_block_time": {"en": "Block time", "zh-Hans": "区块时间"},
    "court_yours": {"en": "This is the package the service gave you on {at}; your decision "
                          "below names it.",
                    "zh-Hans": "这是服务方于 {at} 交付本院的材料包；下方的决定将指向它。"},
    "court_not_yours": {
        "en": "This package is not one the service gave you for this case: your decision must "
              "name a package you downloaded here.",
        "zh-Hans": "该材料包不是服务方就本案交付本院的材料包："
                   "您的决定必须指向您在此下载的材料包。"},
    "court_step3": {"en": "3. Your decision", "zh-Hans": "3. 本院决定"},
    "court_decided": {"en": "Your court's decision is recorded as a signed step:",
                      "zh-Hans": "本院决定已作为签名步骤记录："},
    "court_reference": {"en": "Court reference", "zh-Hans": "法院案号"},
    "court_package_named": {"en": "Package named (manifest SHA-256)",
                            "zh-Hans": "所指向的材料包（manifest SHA-256）"},
    "court_package_option": {"en": "Downloaded {at} · digest {digest}…",
                             "zh-Hans": "{at} 下载 · 摘要 {digest}…"},
    "court_package_label": {"en": "The package you decide on", "zh-Hans": "您所决定的材料包"},
    "court_package_hint": {"en": "Your signed decision names this package by the SHA-256 of "
                                 "its manifest.json.",
                           "zh-Hans": "您签署的决定以其 manifest.json 的 SHA-256 指向该材料包。"},
    "court_package_first": {"en": "Download the package (step 1) before you decide.",
                            "zh-Hans": "请先下载材料包（第 1 步），再作决定。"},
    "court_err_not_anchored_yet": {
        "en": "The last records of the case are being anchored on the chain; the package is "
              "ready in a minute or two. Try again then.",
        "zh-Hans": "本案最后几条记录正在链上存证；材料包将在一两分钟内就绪，请稍后重试。"},
    "court_err_upload_too_large": {
        "en": "The file is larger than the service checks; run chainarb verify on it.",
        "zh-Hans": "文件超过服务方可核验的大小；请对其运行 chainarb verify。"},
    "court_err_empty_file": {"en": "The file is empty.", "zh-Hans": "文件为空。"},
    "court_err_package_unavailable": {
        "en": "The service cannot build the package now (its chain or timestamp authority "
              "does not answer). Try again later.",
        "zh-Hans": "服务方目前无法生成材料包（其区块链或时间戳机构无响应），请稍后重试。"},
    "court_err_escrow_not_resolved": {
        "en": "The escrow has not paid out yet; the package follows once it has.",
        "zh-Hans": "托管合约尚未执行；执行后即可生成材料包。"},
    "court_err_wrong_stage": {
        "en": "The case has no result to confirm yet (it is neither settled nor enforced, nor "
              "closed for litigation): the package follows once it has one.",
        "zh-Hans": "本案尚无可供确认的结果（既未和解或执行，也未转入诉讼）："
                   "有结果后即可生成材料包。"},
    "court_err_network": {"en": "The service could not be reached. Try again.",
                    "zh-Hans": "无法连接服务方，请重试。"},
})


def _step2_text(lang: str) -> str:
    """What step 2 does, the commands set as code (a command is not a word to translate)."""
    return _e(ui("court_step2_text", lang)).format(
        tool="<code>chainarb verify</code>",
        command=f'<code>{_e(ui("court_command", lang))}</code>')


def _size(n: int) -> str:
    return f"{n / (1 << 30):g} GiB" if n >= 1 << 30 else f"{n / (1 << 20):g} MiB"


def _court_cases(request: Request, viewer: str) -> tuple[bool, list[dict[str, Any]]]:
    """Whether the viewer is a registered court, and its cases (newest grant last)."""
    ctx = request.app.state.ctx
    with ctx.sessions() as session:
        registered = session.get(CourtAccount, viewer) is not None
        rows = session.exec(select(CourtAccess, Case).join(
            Case, col(Case.id) == col(CourtAccess.case_id)).where(
            col(CourtAccess.court) == viewer).order_by(col(CourtAccess.id))).all()
    from backend import procedure as p

    out = []
    for access, case in rows:
        state = p.case_from_dict(case.state)
        decision = state.court_decision if state.court_decision and \
            state.court_decision.court == viewer else None
        out.append({"caseId": case.id, "orderId": case.order_id, "stage": case.stage,
                    "buyer": state.order.buyer, "seller": state.order.seller,
                    "given": p.to_jsonable(access.created_at),
                    "decision": None if decision is None else decision.confirmed})
    return registered, out


def _decision_word(confirmed: bool | None, lang: str) -> str:
    if confirmed is None:
        return ui("court_undecided", lang)
    return ui("court_confirmed" if confirmed else "court_refused", lang)


@router.get("/court", response_class=HTMLResponse)
def court_cases(request: Request) -> HTMLResponse:
    """The cases given to the signed-in court, each with its stage and this court's decision."""
    from .pages import _stage, lang_of, need_sign_in, page, time_html, viewer_of

    lang = lang_of(request)
    viewer = viewer_of(request)
    if viewer is None:
        return need_sign_in(request, lang)
    registered, rows = _court_cases(request, viewer)
    names = names_for(request.app.state.ctx, [a for r in rows for a in (r["buyer"], r["seller"])])
    if not registered:
        inner = f'<p id="court-not-registered">{_e(ui("court_not_registered", lang))}</p>'
    elif not rows:
        inner = f'<p id="court-no-cases">{_e(ui("court_no_cases", lang))}</p>'
    else:
        trs = "".join(
            f'<tr data-case="{_e(r["caseId"])}"><td><a href="/ui/court/cases/{_e(r["caseId"])}'
            f'?lang={lang}">{_e(ui("order_n", lang).format(n=r["orderId"]))}</a></td>'
            f'<td>{person_html(r["buyer"], names, lang)} · '
            f'{person_html(r["seller"], names, lang)}</td><td>{_stage(r["stage"], lang)}</td>'
            f'<td>{time_html(r["given"])}</td><td class="decision">'
            f'{_e(_decision_word(r["decision"], lang))}</td></tr>' for r in rows)
        inner = (f'<table id="court-cases"><thead><tr><th>{_e(text("case", lang))}</th>'
                 f'<th>{_e(ui("list_parties", lang))}</th><th>{_e(text("stage", lang))}</th>'
                 f'<th>{_e(ui("court_given", lang))}</th>'
                 f'<th>{_e(ui("court_your_decision", lang))}</th></tr></thead>'
                 f"<tbody>{trs}</tbody></table>")
    body = f'<section><h1>{_e(ui("court_cases", lang))}</h1>{inner}</section>'
    return page(request, lang, ui("court_cases", lang), body, viewer)


def _digest_link(digest: str | None, lang: str) -> str:
    """The digest, linking to the service's public record of the package (``/verify/{d}``,
    what the certificate's QR code opens)."""
    if not digest:
        return "—"
    return (f'<a href="/verify/{_e(digest)}?lang={lang}" class="digest">'
            f"<code>{_e(digest)}</code></a>")


def _exports_table(packages: list[ExportJson], lang: str) -> str:
    from .pages import time_html

    rows = "".join(
        f'<tr><td>{time_html(x["at"])}</td><td>{_digest_link(x["digest"], lang)}</td>'
        f'<td><code>{_e(x["manifestSha256"])}</code></td></tr>' for x in reversed(packages))
    empty = (f'<p id="package-none" class="muted">{_e(ui("court_no_packages", lang))}</p>'
             if not packages else "")
    return (f'<h3>{_e(ui("court_packages", lang))}</h3>{empty}'
            f'<table id="package-exports"{" hidden" if not packages else ""}><thead><tr>'
            f'<th>{_e(ui("court_downloaded", lang))}</th><th>{_e(ui("court_digest", lang))}</th>'
            f'<th>{_e(ui("court_manifest", lang))}</th></tr></thead><tbody>{rows}</tbody>'
            "</table>")


def _decision(view: CaseViewJson, viewer: str, lang: str) -> str:
    """The decision recorded on the case: this court's own, or (with several courts) the
    one another court made, said as such."""
    d = view.get("courtDecision")
    if not d:
        return ""
    own = str(d.get("court", "")).lower() == viewer.lower()
    rows = [(ui("court_your_decision", lang) if own else text("court", lang),
             _e(_decision_word(bool(d.get("confirmed")), lang))),
            (ui("court_reference", lang), _e(d.get("court_reference"))),
            (ui("court_package_named", lang), f'<code>{_e(d.get("package_hash"))}</code>')]
    if d.get("reasons"):
        rows.append((ui("refusal_reasons_label", lang), _e(d["reasons"])))
    table = "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows)
    intro = f'<p>{_e(ui("court_decided", lang))}</p>' if own else ""
    return f'<div id="court-decision">{intro}<table>{table}</table></div>'


@router.get("/court/cases/{case_id}", response_class=HTMLResponse)
def court_workspace(request: Request, case_id: str) -> HTMLResponse:
    """One case for its court: the package, the service's checks, the signed decision."""
    from .pages import _short, _stage, csp_nonce, lang_of, need_sign_in, page, viewer_of

    lang = lang_of(request)
    viewer = viewer_of(request)
    if viewer is None:
        return need_sign_in(request, lang)
    ctx = request.app.state.ctx
    case_id = case_id.lower()
    try:
        view = views.case_view(ctx.service, case_id, viewer)
    except ServiceError as exc:
        key = "denied" if exc.http_status == 403 else "not_found"
        body = f'<section><p class="error">{_e(text(key, lang))}</p></section>'
        return page(request, lang, ui("court_workspace", lang), body, viewer,
                    status=exc.http_status if exc.http_status in (403, 404) else 400)
    if "court" not in view["yourRoles"]:
        body = f'<section><p class="error">{_e(text("denied", lang))}</p></section>'
        return page(request, lang, ui("court_workspace", lang), body, viewer, status=403)
    with ctx.sessions() as session:
        packages = exports_to(session, viewer, {case_id})
    data = case_data(request, view, viewer, lang)
    names = names_for(ctx, [view["buyer"], view["seller"]])
    order = ui("order_n", lang).format(n=view["orderId"])
    title = ui("court_workspace_title", lang).format(order=order)
    head = (f'<section id="summary"><h1>{_e(title)}</h1>'
            f'<p>{person_html(view["buyer"], names, lang)} · '
            f'{person_html(view["seller"], names, lang)}</p>'
            f'<p>{_e(text("stage", lang))}: {_stage(view["stage"], lang)}</p>'
            f'<p>{_e(text("case", lang))} <code title="{_e(view["caseId"])}">'
            f'{_e(_short(view["caseId"]))}</code></p>'
            f'<p><a id="whole-record" href="/ui/cases/{_e(case_id)}?lang={lang}">'
            f'{_e(ui("court_whole_record", lang))}</a></p></section>')
    package = (f'<section id="package" aria-labelledby="package-h"><h2 id="package-h">'
               f'{_e(ui("court_step1", lang))}</h2><p>{_e(ui("court_step1_text", lang))}</p>'
               f'<button type="button" id="package-download">{_e(ui("court_download", lang))}'
               '</button><p id="package-status" class="result" role="status" '
               f'aria-live="polite"></p>{_exports_table(packages, lang)}</section>')
    check = (f'<section id="check" aria-labelledby="check-h"><h2 id="check-h">'
             f'{_e(ui("court_step2", lang))}</h2><p>{_step2_text(lang)}</p>'
             f'<form id="check-form" novalidate><div class="field">'
             f'<label for="check-file">{_e(ui("court_file_label", lang))}</label>'
             '<input id="check-file" name="file" type="file" accept=".zip,application/zip" '
             'aria-describedby="check-file-hint" required>'
             f'<small id="check-file-hint" class="muted">'
             f'{_e(ui("court_file_hint", lang).format(size=_size(MAX_PACKAGE_BYTES)))}</small>'
             f'</div><button type="submit" id="check-run">{_e(ui("court_check", lang))}</button>'
             f'<p><progress id="check-progress" max="100" value="0" hidden '
             f'aria-label="{_e(ui("court_uploading", lang))}"></progress></p>'
             '<p id="check-status" class="result" role="status" aria-live="polite"></p>'
             '</form><div id="check-result"></div></section>')
    decided = _decision(view, viewer, lang)
    first = ("" if decided or packages else
             f'<p id="package-first" class="muted">{_e(ui("court_package_first", lang))}</p>')
    decision = actions_section(data, lang, heading=ui("court_step3", lang),
                               intro=decided + first)
    words = {k: v[lang] for k, v in UI.items() if k.startswith("err_")}
    words.update({k: ui(k, lang) for k in WORDS})
    blob = json.dumps({"caseId": case_id, "lang": lang, "words": words,
                       "zh": lang == "zh-Hans"}, ensure_ascii=False).replace("<", "\\u003c")
    script = (f'<script type="application/json" id="court-data">{blob}</script>'
              f'<script src="/ui/static/court.js" defer nonce="{csp_nonce(request)}"></script>')
    body = (head + package + check + decision + log_section(request, case_id, viewer, lang)
            + receipts_section(case_id, viewer, lang) + script)
    return page(request, lang, title, body, viewer, case=view)
