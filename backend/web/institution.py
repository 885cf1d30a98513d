"""The institution's page (``/ui/institution``, admins only): its register of neutrals and
courts, every case under its own heading with what the institution may do in it, and the
chain actions queue with retry.

Why one page: an admin's day is these three lists. Registering and retrying are plain API
calls (``POST /admin/neutrals``, ``/admin/courts``, ``/cases/{id}/courts``,
``/admin/chain-actions/{id}/retry``) made by ``desk.js`` through the pages' proxy with the
admin's session: no key signs them (the institution key signs the profiles it issues,
server-side). Appointments are signed steps: each case links to its case page's
appointment form, where the admin's wallet signs and the service countersigns.
Nothing here reads evidence: admins see metadata only (``procedure.can_see``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import col, select

from backend.db import Case
from backend.db.service_models import ChainAction, ChainActionStatus, CourtAccount
from backend.services import views
from backend.services.advance import advance_terms
from backend.services.errors import ServiceError
from backend.services.escrow import ACTIONS
from backend.services.identity import IdentityService
from backend.services.views import CaseViewJson
from evidence.records import Profile

from . import desk

if TYPE_CHECKING:
    from backend.api.context import AppContext
from .desk import e
from .fields import field as _field
from .i18n import UI, register, step_word, text, ui
from .money import token_of
from .people import profile_href

__all__ = ["CASES_SHOWN", "register_neutrals", "router"]

CASES_SHOWN = 200  # newest first; older ones stay reachable from the case list
ACTIONS_SHOWN = 200

router = APIRouter(include_in_schema=False)  # mounted under /ui by pages.router

# The steps the institution takes in a case, each with the case page's form (actions.py).
INSTITUTION_FORMS = {"appoint.mediator": "step-appoint_mediator",
                     "appoint.arbitrator": "step-appoint_arbitrator",
                     "appoint.panel": "step-appoint_panel"}

_CHAIN_KINDS = {
    "freeze": ("Confirm the buyer's dispute freeze", "确认买方的争议冻结"),
    "object": ("Confirm a party's objection", "确认当事人的异议"),
    "appoint_arbitrator": ("Register the arbitrator on the escrow", "在托管合约登记仲裁员"),
    "appoint_panel": ("Register the panel on the escrow", "在托管合约登记仲裁庭"),
    "execute_settlement": ("Pay out the settlement", "执行和解付款"),
    "submit_award": ("Submit the award to the escrow", "向托管合约提交裁决"),
    "execute_award": ("Pay out the final award", "执行终局裁决付款"),
    "submit_panel_award": ("Submit the panel's award and pay out", "提交合议庭裁决并付款"),
    "resolve_by_timeout": ("Refund on the escrow's timeout", "托管超时退款"),
    "appoint_jury": ("Register the drawn jury on the escrow", "在托管合约登记抽选的评审团"),
    "submit_jury_verdict": ("Submit the jury's verdict to the escrow",
                            "向托管合约提交评审团裁决"),
    "submit_fast_track": ("Submit the fast-track proposal to the escrow",
                          "向托管合约提交快速程序处理建议"),
    "advance_refund": ("Pay the buyer an advance refund from the seller's guarantee",
                       "从卖方保证金向买方先行退款"),
    "submit_return_award": ("Submit the return-and-refund award to the escrow",
                            "向托管合约提交退货退款裁决"),
    "submit_return_settlement": ("Submit the parties' return-and-refund settlement to the "
                                 "escrow", "向托管合约提交双方签署的退货退款和解协议"),
    "return_shipped": ("Confirm the buyer recorded the return shipment",
                       "确认买方已登记退货运单"),
    "confirm_return_received": ("Confirm the return arrived: pay the refund",
                                "确认退货已送达：执行退款"),
    "return_disputed": ("Confirm the seller disputed the return's receipt",
                        "确认卖方对退货签收提出争议"),
}
assert set(_CHAIN_KINDS) == set(ACTIONS), "words for every chain action kind"
# The same acts on a pending decision (a jury's verdict, a fast-track proposal; the
# payload's ``decision``) have words of their own.
_CHAIN_DECISION_KINDS = {
    "object": ("Confirm a party's objection to the pending decision",
               "确认当事人对待定决定的异议"),
    "execute_award": ("Pay out the binding decision", "执行已生效决定的付款"),
}
assert all(ACTIONS[k].__dataclass_fields__.get("decision") for k in _CHAIN_DECISION_KINDS)
_CHAIN_STATUS = {
    ChainActionStatus.PENDING: ("waiting to be sent", "等待发送"),
    ChainActionStatus.AWAITING_PARTY: ("waiting for the party's own transaction",
                                       "等待当事人自行发送交易"),
    ChainActionStatus.DONE: ("done", "已完成"),
    ChainActionStatus.FAILED: ("failed", "失败"),
}
assert set(_CHAIN_STATUS) == set(ChainActionStatus)

register({
    **{f"chain_kind_{k}": {"en": en, "zh-Hans": zh} for k, (en, zh) in _CHAIN_KINDS.items()},
    **{f"chain_kind_{k}_decision": {"en": en, "zh-Hans": zh}
       for k, (en, zh) in _CHAIN_DECISION_KINDS.items()},
    **{f"chain_status_{k.value}": {"en": en, "zh-Hans": zh}
       for k, (en, zh) in _CHAIN_STATUS.items()},
    "inst_title": {"en": "Institution", "zh-Hans": "仲裁机构"},
    "nav_institution": {"en": "Institution desk", "zh-Hans": "机构工作台"},
    "inst_intro": {"en": "The register of neutrals and courts, every case with what it awaits "
                         "from the institution, and the escrow transactions the service sends.",
                   "zh-Hans": "中立人与法院名册、各案件及其待仲裁机构办理的事项，以及服务发送的"
                              "托管合约交易。"},
    "inst_only_admins": {"en": "This page is for the institution's admins.",
                         "zh-Hans": "本页面仅供仲裁机构管理员使用。"},
    "inst_register": {"en": "Register of neutrals and courts", "zh-Hans": "中立人与法院名册"},
    "inst_register_empty": {"en": "Nobody is registered yet.", "zh-Hans": "名册暂无登记。"},
    "inst_name": {"en": "Name", "zh-Hans": "名称"},
    "inst_name_en": {"en": "Name (English)", "zh-Hans": "名称（英文）"},
    "inst_name_zh": {"en": "Name (Chinese)", "zh-Hans": "名称（中文）"},
    "inst_country": {"en": "Country (two letters, ISO 3166)",
                     "zh-Hans": "国家或地区（两位字母，ISO 3166）"},
    "inst_language": {"en": "Language (e.g. en, zh-Hans)", "zh-Hans": "语言（如 en、zh-Hans）"},
    "inst_contact": {"en": "Contact address (e-mail)", "zh-Hans": "联系地址（电子邮件）"},
    "inst_address": {"en": "Wallet address", "zh-Hans": "钱包地址"},
    "inst_kind": {"en": "On the register as", "zh-Hans": "登记身份"},
    "inst_kind_neutral": {"en": "neutral (mediator or arbitrator)",
                          "zh-Hans": "中立人（调解员或仲裁员）"},
    "inst_kind_court": {"en": "court", "zh-Hans": "法院"},
    "inst_issued": {"en": "Profile signed by the institution", "zh-Hans": "机构签署资料时间"},
    "inst_new_neutral": {"en": "Register a neutral", "zh-Hans": "登记中立人"},
    "inst_new_neutral_text": {"en": "The institution's key signs the neutral's profile; "
                                    "packages and pages name them with it.",
                              "zh-Hans": "仲裁机构密钥签署该中立人的资料；"
                                         "材料包与页面据此显示其名称。"},
    "inst_new_court": {"en": "Register a court", "zh-Hans": "登记法院"},
    "inst_new_court_text": {"en": "The court signs in with this wallet; the institution "
                                  "signs its profile.",
                            "zh-Hans": "法院使用该钱包登录；仲裁机构签署其资料。"},
    "inst_register_button": {"en": "Register", "zh-Hans": "登记"},
    "inst_registered": {"en": "Registered.", "zh-Hans": "已登记。"},
    "inst_chain": {"en": "Escrow transactions (chain actions)",
                   "zh-Hans": "托管合约交易（链上操作）"},
    "inst_chain_empty": {"en": "No chain actions yet.", "zh-Hans": "暂无链上操作。"},
    "inst_chain_what": {"en": "What", "zh-Hans": "事项"},
    "inst_chain_attempts": {"en": "Attempts", "zh-Hans": "尝试次数"},
    "inst_chain_error": {"en": "Why it failed", "zh-Hans": "失败原因"},
    "inst_technical": {"en": "Technical detail", "zh-Hans": "技术详情"},
    "inst_retry": {"en": "Retry", "zh-Hans": "重试"},
    "inst_retried": {"en": "Sent again. Status:", "zh-Hans": "已重新发送。状态："},
    "inst_cases": {"en": "Cases", "zh-Hans": "案件"},
    "inst_cases_count": {"en": "{n} cases, newest first.", "zh-Hans": "共 {n} 件，按时间倒序。"},
    "inst_cases_more": {"en": "Showing the newest {n}.", "zh-Hans": "显示最新 {n} 件。"},
    "inst_case_heading": {"en": "Case {case}, escrow order {order}",
                          "zh-Hans": "案件 {case}，托管订单 {order}"},
    "inst_awaits": {"en": "Awaiting the institution", "zh-Hans": "待仲裁机构办理"},
    "inst_awaits_none": {"en": "Nothing awaits the institution in this case.",
                         "zh-Hans": "本案暂无待仲裁机构办理的事项。"},
    "inst_open_form": {"en": "open the signed form", "zh-Hans": "打开签署表单"},
    "inst_courts": {"en": "Courts given the case", "zh-Hans": "已获本案访问权的法院"},
    "inst_grant": {"en": "Give a registered court access to this case",
                   "zh-Hans": "授予已登记法院本案访问权"},
    "inst_grant_button": {"en": "Give access", "zh-Hans": "授予访问权"},
    "inst_granted": {"en": "Access given.", "zh-Hans": "已授予访问权。"},
    "inst_no_courts": {"en": "Register a court first.", "zh-Hans": "请先登记法院。"},
    "inst_open_case": {"en": "Open the case page", "zh-Hans": "打开案件页面"},
    "inst_pick_court": {"en": "Court", "zh-Hans": "法院"},
    "inst_working": {"en": "Working…", "zh-Hans": "处理中…"},
    "inst_contents": {"en": "On this page", "zh-Hans": "本页内容"},
    "inst_advance": {"en": "Advance refund to the buyer from the seller's guarantee",
                     "zh-Hans": "从卖方保证金向买方先行退款"},
    "inst_advance_reason": {
        "en": "The seller missed the delivery deadline, and the order's contract of sale "
              "provides for an advance refund. The institution's key signs the step; the "
              "escrow pays the buyer from the guarantee, and a later award in the seller's "
              "favour recovers it. Delivery deadline:",
        "zh-Hans": "卖方未在交付期限前交货，且本订单买卖合同约定可先行退款。机构密钥签署该步骤，"
                   "托管合约从保证金向买方付款；日后裁决支持卖方的，从中追回。交付期限："},
    "inst_advance_not_yet": {
        "en": "Not possible yet: an advance refund is paid once the seller has missed the "
              "delivery deadline, while the order is in dispute on the escrow. Delivery "
              "deadline:",
        "zh-Hans": "暂不可行：卖方错过交付期限、且订单在托管合约上处于争议中时，方可先行退款。"
                   "交付期限："},
    "inst_advance_cap": {"en": "At most {cap}: the seller's guarantee holds {guarantee}; "
                               "{advanced} advanced so far.",
                         "zh-Hans": "最多 {cap}：卖方保证金余额 {guarantee}；"
                                    "已先行退款 {advanced}。"},
    "inst_advance_spent": {"en": "Nothing more can be advanced (the cap is reached).",
                           "zh-Hans": "已达上限，不能再先行退款。"},
    "inst_advance_amount": {"en": "Amount to refund in advance ({currency})",
                            "zh-Hans": "先行退款金额（{currency}）"},
    "inst_advance_hint": {"en": "At most {decimals} decimals, up to {cap}.",
                          "zh-Hans": "最多 {decimals} 位小数，不超过 {cap}。"},
    "inst_advance_button": {"en": "Release the advance refund", "zh-Hans": "执行先行退款"},
    "inst_advance_done": {"en": "Advance refund recorded; the escrow pays the buyer.",
                          "zh-Hans": "已记录先行退款，托管合约向买方付款。"},
    "err_advance_above_cap": {"en": "Above the cap: at most what the seller's guarantee still "
                                    "holds, and what the order's amount leaves.",
                              "zh-Hans": "超过上限：不得超过卖方保证金余额及订单金额余额。"},
    "err_advance_not_in_terms": {"en": "The order's contract of sale provides for no advance "
                                       "refund.",
                                 "zh-Hans": "本订单买卖合同未约定先行退款。"},
    "err_advance_not_in_dispute": {"en": "The order is not in dispute on the escrow.",
                                   "zh-Hans": "订单在托管合约上未处于争议中。"},
    "err_advance_deadline_not_missed": {"en": "The delivery deadline has not passed yet.",
                                        "zh-Hans": "交付期限尚未届满。"},
    "err_advance_wrong_token": {"en": "That is not the order's token.",
                                "zh-Hans": "该代币不是本订单的代币。"},
    "err_conflict": {"en": "This is no longer possible: the page is out of date.",
                     "zh-Hans": "该操作已不可行：页面内容已过期。"},
    "err_invalid_field": {"en": "Some fields are missing or malformed.",
                             "zh-Hans": "部分字段缺失或格式错误。"},
    "err_not_found": {"en": "Not found.", "zh-Hans": "未找到。"},
    "err_court_unknown": {"en": "That court is not registered.", "zh-Hans": "该法院尚未登记。"},
})


def _profile_rows(request: Request, lang: str) -> tuple[str, list[tuple[str, str]]]:
    """The register's table, and the registered courts (address, name) for the forms."""
    ctx = request.app.state.ctx
    with ctx.sessions() as session:
        issued = IdentityService(ctx.service).issued_profiles(session)
        courts = {c.address: c.name for c in session.exec(
            select(CourtAccount).order_by(col(CourtAccount.created_at))).all()}
    if not issued:
        return f'<p id="register-empty">{e(ui("inst_register_empty", lang))}</p>', []
    trs = []
    for signed in issued:
        rec = signed.record
        assert isinstance(rec, Profile)
        kind = "court" if rec.subject in courts else "neutral"
        zh = lang == "zh-Hans" and bool(rec.name_zh)
        shown = rec.name_zh if zh else rec.name
        trs.append(
            f'<tr data-address="{e(rec.subject)}"><td lang="{"zh-Hans" if zh else "en"}">'
            f'<a href="{e(profile_href(rec.subject, lang))}">{e(shown)}</a></td>'
            f'<td>{e(ui("inst_kind_" + kind, lang))}</td>'
            f'<td>{e(rec.country or "—")}</td><td><code>{e(rec.subject)}</code></td>'
            f'<td>{desk.when(_iso(rec.signed_at))}</td></tr>')
    table = (f'<table id="register-table"><thead><tr><th>{e(ui("inst_name", lang))}</th>'
             f'<th>{e(ui("inst_kind", lang))}</th><th>{e(ui("inst_country", lang))}</th>'
             f'<th>{e(ui("inst_address", lang))}</th><th>{e(ui("inst_issued", lang))}</th>'
             f'</tr></thead><tbody>{"".join(trs)}</tbody></table>')
    return table, list(courts.items())


def register_neutrals(ctx: AppContext) -> list[dict[str, str]]:
    """The neutrals the institution registered (not its courts), for the appointment
    forms' choice by name: ``{"address", "name"}`` with both languages' names."""
    with ctx.sessions() as session:
        issued = IdentityService(ctx.service).issued_profiles(session)
        courts = set(session.exec(select(CourtAccount.address)).all())
    out = []
    for signed in issued:
        rec = signed.record
        assert isinstance(rec, Profile)
        if rec.subject not in courts:
            name = " / ".join(n for n in (rec.name, rec.name_zh) if n)
            out.append({"address": rec.subject, "name": name})
    return out


def _iso(epoch: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


_ADDRESS = ('<input {id} type="text" autocomplete="off" spellcheck="false" '
            'pattern="0x[0-9a-fA-F]{40}" required>')


def _register_forms(lang: str) -> str:
    neutral = "register-neutral"
    court = "register-court"
    text = '<input {id} type="text" maxlength="200" autocomplete="off"'
    country = '<input {id} type="text" maxlength="2" pattern="[A-Z]{2}" autocomplete="off">'
    return (
        f'<form class="admin" id="{neutral}" data-path="admin/neutrals" '
        f'data-done="{e(ui("inst_registered", lang))}" aria-labelledby="{neutral}-h">'
        f'<h3 id="{neutral}-h">{e(ui("inst_new_neutral", lang))}</h3>'
        f'<p class="muted">{e(ui("inst_new_neutral_text", lang))}</p>'
        + _field(neutral, "address", ui("inst_address", lang), _ADDRESS)
        + _field(neutral, "name", ui("inst_name_en", lang), text + " required>")
        + _field(neutral, "nameZh", ui("inst_name_zh", lang), text + ">")
        + _field(neutral, "country", ui("inst_country", lang), country)
        + _field(neutral, "language", ui("inst_language", lang),
                 '<input {id} type="text" maxlength="35" autocomplete="off">')
        + _field(neutral, "contact", ui("inst_contact", lang),
                 '<input {id} type="email" maxlength="320" autocomplete="off">')
        + f'<button type="submit">{e(ui("inst_register_button", lang))}</button>'
        '<p class="result" role="status" aria-live="polite"></p></form>'
        f'<form class="admin" id="{court}" data-path="admin/courts" '
        f'data-done="{e(ui("inst_registered", lang))}" aria-labelledby="{court}-h">'
        f'<h3 id="{court}-h">{e(ui("inst_new_court", lang))}</h3>'
        f'<p class="muted">{e(ui("inst_new_court_text", lang))}</p>'
        + _field(court, "address", ui("inst_address", lang), _ADDRESS)
        + _field(court, "name", ui("inst_name_en", lang), text + " required>")
        + _field(court, "nameZh", ui("inst_name_zh", lang), text + ">")
        + _field(court, "country", ui("inst_country", lang), country)
        + f'<button type="submit">{e(ui("inst_register_button", lang))}</button>'
        '<p class="result" role="status" aria-live="polite"></p></form>')


def _kind(kind: str, payload: dict[str, Any], lang: str) -> str:
    key = f"chain_kind_{kind}" + ("_decision" if payload.get("decision") else "")
    return ui(key, lang) if key in UI else kind


def _failure(error: str | None, status: ChainActionStatus, lang: str) -> str:
    """Why a failed action failed: the node's or contract's own message, for the operator,
    folded under words (other statuses' notes say what the status already says)."""
    if status != ChainActionStatus.FAILED or not error:
        return ""
    return (f'<details class="technical"><summary>{e(ui("inst_technical", lang))}</summary>'
            f"<code>{e(error)}</code></details>")


def _chain_actions(request: Request, lang: str) -> str:
    ctx = request.app.state.ctx
    with ctx.sessions() as session:
        rows = session.exec(select(ChainAction).order_by(col(ChainAction.id).desc())
                            .limit(ACTIONS_SHOWN)).all()
    if not rows:
        return f'<p id="chain-empty">{e(ui("inst_chain_empty", lang))}</p>'
    trs = []
    for a in rows:
        status = ChainActionStatus(a.status)
        retry = (f'<button type="button" class="retry" data-retry="{e(a.id)}" '
                 f'id="retry-{e(a.id)}">{e(ui("inst_retry", lang))}</button>'
                 if status == ChainActionStatus.FAILED else "")
        tx = (f'<code title="{e(a.tx_hash)}">{e(a.tx_hash[:10])}…</code>' if a.tx_hash
              else "—")
        trs.append(
            f'<tr id="chain-action-{e(a.id)}" data-status="{e(status.value)}">'
            f'<td><a href="#case-{e(a.case_id)}">{e(a.case_id[:10])}…</a></td>'
            f'<td>{e(_kind(a.kind, a.payload, lang))}</td>'
            f'<td class="status">{e(ui("chain_status_" + status.value, lang))}</td>'
            f'<td>{e(a.attempts)}</td><td>{tx}</td>'
            f'<td class="error-text">{_failure(a.error, status, lang)}</td>'
            f'<td>{retry}<span class="result" role="status" aria-live="polite"></span></td></tr>')
    return (f'<table id="chain-table"><thead><tr><th>{e(text("case", lang))}</th>'
            f'<th>{e(ui("inst_chain_what", lang))}</th><th>{e(text("status", lang))}</th>'
            f'<th>{e(ui("inst_chain_attempts", lang))}</th><th>{e(text("tx", lang))}</th>'
            f'<th>{e(ui("inst_chain_error", lang))}</th><th></th></tr></thead>'
            f'<tbody>{"".join(trs)}</tbody></table>')


def _case_section(request: Request, case_id: str, admin: str, courts: list[tuple[str, str]],
                  lang: str) -> str:
    service = request.app.state.ctx.service
    try:
        view = views.case_view(service, case_id, admin)
        _row, state = service.load(case_id)
    except ServiceError:
        return ""
    given = set(state.courts)
    hid = f"case-{case_id}"
    dispute, remedy = desk.dispute_words(view.get("disputeType"), view.get("remedy"), lang)
    people = [("buyer", view["buyer"]), ("seller", view["seller"]),
              ("claimant", view.get("claimant")), ("mediator", view.get("mediator")),
              ("arbitrator", view.get("arbitrator"))]
    people += [("panel", m) for m in view.get("panel") or []]
    who = desk.names(request, [a for _, a in people] + sorted(given))
    facts = "".join(f'<dt>{e(text(k, lang))}</dt><dd>{desk.person(a, lang, who)}</dd>'
                    for k, a in people if a)
    facts += (f'<dt>{e(text("dispute", lang))}</dt><dd>{e(dispute)}</dd>'
              f'<dt>{e(text("remedy", lang))}</dt><dd>{e(remedy)}</dd>'
              f'<dt>{e(text("amount", lang))}</dt><dd>{e(desk.money(view["amount"], view))}</dd>'
              f'<dt>{e(text("guarantee", lang))}</dt>'
              f'<dd>{e(desk.money(view["guarantee"], view))}</dd>'
              f'<dt>{e(text("deadline", lang))}</dt><dd>{desk.when(view.get("deadline"))}'
              f'{desk.countdown(view.get("deadline"))}</dd>')
    if given:
        facts += (f'<dt>{e(ui("inst_courts", lang))}</dt><dd>'
                  + ", ".join(desk.person(c, lang, who) for c in sorted(given)) + "</dd>")
    link = f"/ui/cases/{case_id}?lang={lang}"
    awaits = [a for a in view.get("allowedSteps") or [] if a in INSTITUTION_FORMS
              and not (a == "appoint.mediator" and view.get("mediator"))]
    if awaits:
        todo = "<ul>" + "".join(
            f'<li><a href="{e(link)}#{INSTITUTION_FORMS[a]}">{e(step_word(a, lang))}</a> '
            f'<span class="muted">({e(ui("inst_open_form", lang))})</span></li>'
            for a in awaits) + "</ul>"
    else:
        todo = f'<p class="muted">{e(ui("inst_awaits_none", lang))}</p>'
    open_courts = [(a, n) for a, n in courts if a not in given]
    if courts and open_courts:
        options = "".join(f'<option value="{e(a)}">{e(n)}</option>' for a, n in open_courts)
        fid = f"grant-{case_id}"
        grant = (f'<form class="admin grant" id="{e(fid)}" data-path="cases/{e(case_id)}/courts" '
                 f'data-done="{e(ui("inst_granted", lang))}">'
                 f'<div class="field"><label for="{e(fid)}-court">{e(ui("inst_grant", lang))}'
                 f'</label><select id="{e(fid)}-court" name="court">{options}</select></div>'
                 f'<button type="submit">{e(ui("inst_grant_button", lang))}</button>'
                 '<p class="result" role="status" aria-live="polite"></p></form>')
    elif not courts:
        grant = f'<p class="muted">{e(ui("inst_no_courts", lang))}</p>'
    else:
        grant = ""
    advance = _advance_form(request, case_id, view, lang)
    heading = ui("inst_case_heading", lang).format(case=f"{case_id[:10]}…",
                                                    order=view["orderId"])
    return (f'<section class="case" id="{e(hid)}" aria-labelledby="{e(hid)}-h">'
            f'<h3 id="{e(hid)}-h">{e(heading)} {desk.stage(view["stage"], lang)}</h3>'
            f'<dl class="facts">{facts}</dl>'
            f'<h4>{e(ui("inst_awaits", lang))}</h4>{todo}{grant}{advance}'
            f'<p><a href="{e(link)}">{e(ui("inst_open_case", lang))}</a></p></section>')


def _advance_form(request: Request, case_id: str, view: CaseViewJson, lang: str) -> str:
    """The advance refund (Trade Assurance) when the order's contract provides for it: the
    reason and the cap shown, the form once the seller has missed the delivery deadline of
    the order in dispute. The amount is typed in the order's token (``desk.js`` turns it
    into the integer the API takes); the service signs the institution's step."""
    try:
        terms = advance_terms(request.app.state.ctx.service, case_id)
    except ServiceError:
        return ""
    if terms is None:
        return ""
    token = token_of(view)
    fid = f"advance-{case_id}"
    deadline = desk.when(terms.deadline.isoformat().replace("+00:00", "Z"))
    head = f'<h4 id="{e(fid)}-h">{e(ui("inst_advance", lang))}</h4>'
    order = terms.order
    cap_words = ui("inst_advance_cap", lang).format(
        cap=token.money(terms.cap), guarantee=token.money(order.guarantee),
        advanced=token.money(order.advanced))
    cap = f'<p class="advance-cap">{e(cap_words)}</p>'
    if not terms.ready:
        return (f'<section class="advance" aria-labelledby="{e(fid)}-h">{head}'
                f'<p class="muted">{e(ui("inst_advance_not_yet", lang))} {deadline}</p>'
                f'{cap}</section>')
    reason = f'<p class="advance-reason">{e(ui("inst_advance_reason", lang))} {deadline}</p>'
    if terms.cap <= 0:
        return (f'<section class="advance" aria-labelledby="{e(fid)}-h">{head}{reason}{cap}'
                f'<p class="muted">{e(ui("inst_advance_spent", lang))}</p></section>')
    control = ('<input {id} type="text" inputmode="decimal" autocomplete="off" '
               f'spellcheck="false" required data-decimals="{e(token.decimals or 0)}">')
    hint = ui("inst_advance_hint", lang).format(decimals=token.decimals or 0,
                                                cap=token.plain(terms.cap))
    return (f'<section class="advance" aria-labelledby="{e(fid)}-h">{head}{reason}{cap}'
            f'<form class="admin advance-form" id="{e(fid)}" '
            f'data-path="cases/{e(case_id)}/advance-refund" '
            f'data-done="{e(ui("inst_advance_done", lang))}" '
            f'data-decimals-words="{e(token.words(ui("err_amount_decimals", lang)))}">'
            + _field(fid, "amount", token.words(ui("inst_advance_amount", lang)), control,
                     hint)
            + f'<input type="hidden" name="token" value="{e(order.token)}">'
            f'<button type="submit">{e(ui("inst_advance_button", lang))}</button>'
            '<p class="result" role="status" aria-live="polite"></p></form></section>')


def _messages(lang: str) -> dict[str, str]:
    keys = [k for k in UI if k.startswith(("err_", "inst_", "chain_status_"))]
    return {k: UI[k][lang] for k in keys} | {"left": UI["left"][lang],
                                             "passed": UI["passed"][lang]}


@router.get("/institution", response_class=HTMLResponse)
def institution_page(request: Request) -> HTMLResponse:
    from .pages import lang_of, need_sign_in, page, viewer_of

    lang = lang_of(request)
    viewer = viewer_of(request)
    if viewer is None:
        return need_sign_in(request, lang)
    ctx = request.app.state.ctx
    title = ui("inst_title", lang)
    if not ctx.service.is_admin(viewer):
        body = (f'<section><h1>{e(title)}</h1><p class="error" id="not-admin">'
                f'{e(ui("inst_only_admins", lang))}</p></section>')
        return page(request, lang, title, body, viewer, status=403)
    register_table, courts = _profile_rows(request, lang)
    with ctx.sessions() as session:
        total = len(session.exec(select(Case.id)).all())
        ids = session.exec(select(Case.id).order_by(col(Case.created_at).desc())
                           .limit(CASES_SHOWN)).all()
    cases = "".join(_case_section(request, i, viewer, courts, lang) for i in ids)
    more = (f' {e(ui("inst_cases_more", lang).format(n=CASES_SHOWN))}'
            if total > CASES_SHOWN else "")
    toc = (f'<nav aria-label="{e(ui("inst_contents", lang))}" class="toc"><ul>'
           f'<li><a href="#cases-h">{e(ui("inst_cases", lang))}</a></li>'
           f'<li><a href="#chain-h">{e(ui("inst_chain", lang))}</a></li>'
           f'<li><a href="#register-h">{e(ui("inst_register", lang))}</a></li></ul></nav>')
    body = (f'<section id="institution-head"><h1>{e(title)}</h1>'
            f'<p>{e(ui("inst_intro", lang))}</p>{toc}</section>'
            f'<section id="cases-all" aria-labelledby="cases-h"><h2 id="cases-h">'
            f'{e(ui("inst_cases", lang))}</h2><p class="muted">'
            f'{e(ui("inst_cases_count", lang).format(n=total))}{more}</p>{cases}</section>'
            f'<section id="chain-actions" aria-labelledby="chain-h"><h2 id="chain-h">'
            f'{e(ui("inst_chain", lang))}</h2>{_chain_actions(request, lang)}</section>'
            f'<section id="register" aria-labelledby="register-h"><h2 id="register-h">'
            f'{e(ui("inst_register", lang))}</h2>{register_table}{_register_forms(lang)}'
            "</section>"
            # signer.js and actions.js first (deferred, run in order): actions.js's exact
            # amount parsing, its canonical JSON from signer.js
            + '<script src="/ui/static/signer.js" defer></script>'
            + '<script src="/ui/static/actions.js" defer></script>'
            + desk.data_script("desk-data", {"messages": _messages(lang), "lang": lang}))
    return page(request, lang, title, body, viewer)
