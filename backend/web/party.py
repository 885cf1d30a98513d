"""The parties' pages: their escrowed orders, reading an evidence item, the notices they
received, and the transactions a case waits for from their own wallet.

* ``/ui/orders``: the orders the chain shows for the signed-in address (``GET /orders``'s
  read: ``backend.services.party.my_orders``), the other party by name, the amount with its
  currency, the escrow's status and the case's stage in words, the deadline with a
  countdown; "File a claim" opens the order's case (``POST /cases``, through the page's
  proxy) and leads to its page, where the filing form is (``actions.py``).
* ``/ui/cases/{id}/evidence/{item}``: one item the viewer may read, shown in the page
  (images, PDF, text) after the page's script fetched it and checked it against the signed
  commitment (SHA-256 of tag ‖ salt ‖ SHA-256 of the file); always a download link.
  ``item`` is the item's number or its commitment (what the case page links by).
* ``/ui/notices``: every notice sent to the viewer, newest first, with its case.
* ``wallet_section``: on a case page, the escrow calls waiting for the viewer's own wallet
  (``raiseDispute`` after filing, ``objectToAward`` after an objection); ``party.js``
  hands each to the wallet (``chainarbWallet.sendTransaction``, else the extension's
  ``eth_sendTransaction``). The server never signs or sends them.
"""

from __future__ import annotations

import json
import re
from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from backend.services import documents, party
from backend.services.errors import ServiceError
from backend.services.evidence import EvidenceListedJson
from evidence.words import ORDER_STATUSES, SIDES, amount, timeline_label, word

from . import pages as pg  # pages imports this module first: its names are read at call time
from .desk import e as _e
from .i18n import STAGES, UI, register, step_word, text, ui
from .people import names_for, person_html
from .people import short_address as _short

if TYPE_CHECKING:
    from backend.api.context import AppContext

__all__ = ["documents_section", "router", "wallet_section"]

router = APIRouter(include_in_schema=False)  # mounted under /ui by pages.router

WORDS = register({
    "nav_orders": {"en": "Your orders", "zh-Hans": "我的订单"},
    "nav_notices": {"en": "Notices", "zh-Hans": "通知"},
    "orders_title": {"en": "Your escrowed orders", "zh-Hans": "我的托管订单"},
    "orders_intro": {"en": "Orders the escrow contract holds for your address, read from the "
                           "chain. File a claim on an order to open its case.",
                     "zh-Hans": "托管合约为您的地址保管的订单，读取自区块链。"
                                "对订单提出申请即可立案。"},
    "orders_none": {"en": "The escrow holds no order for your address.",
                    "zh-Hans": "托管合约中没有您地址的订单。"},
    "orders_unavailable": {"en": "The chain did not answer; your orders cannot be shown now. "
                                 "Try again in a moment.",
                           "zh-Hans": "区块链未响应，暂时无法显示您的订单。请稍后重试。"},
    "col_order": {"en": "Order", "zh-Hans": "订单"},
    "col_you_are": {"en": "You are", "zh-Hans": "您的身份"},
    "col_other": {"en": "Other party", "zh-Hans": "对方"},
    "col_amount": {"en": "Amount", "zh-Hans": "金额"},
    "col_escrow": {"en": "Escrow", "zh-Hans": "托管状态"},
    "col_case": {"en": "Case", "zh-Hans": "案件"},
    "order_no": {"en": "Order {n}", "zh-Hans": "订单 {n}"},
    "file_claim": {"en": "File a claim", "zh-Hans": "提出申请"},
    "continue_claim": {"en": "Continue the claim", "zh-Hans": "继续提出申请"},
    "open_case": {"en": "Open the case", "zh-Hans": "查看案件"},
    "other_institution": {"en": "Handled by another institution",
                          "zh-Hans": "由其他仲裁机构处理"},
    "opening_case": {"en": "Opening the case…", "zh-Hans": "正在立案…"},
    "notices_title": {"en": "Notices you received", "zh-Hans": "您收到的通知"},
    "notices_none": {"en": "No notices yet.", "zh-Hans": "暂无通知。"},
    "notice_case": {"en": "Case of order {n}", "zh-Hans": "订单 {n} 的案件"},
    "notice_of_case": {"en": "Case", "zh-Hans": "所属案件"},
    "evidence_item_title": {"en": "Evidence: {kind}", "zh-Hans": "证据：{kind}"},
    "evidence_back": {"en": "Back to the case", "zh-Hans": "返回案件"},
    "evidence_download": {"en": "Download {name}", "zh-Hans": "下载 {name}"},
    "evidence_file": {"en": "File", "zh-Hans": "文件"},
    "evidence_size": {"en": "Size", "zh-Hans": "大小"},
    "evidence_bytes": {"en": "{n} bytes", "zh-Hans": "{n} 字节"},
    "evidence_type": {"en": "Type", "zh-Hans": "类型"},
    "evidence_submitter": {"en": "Submitted by", "zh-Hans": "提交人"},
    "evidence_commitment": {"en": "Signed commitment", "zh-Hans": "已签名的承诺值"},
    "evidence_loading": {"en": "Loading and checking the file…",
                         "zh-Hans": "正在载入并核对文件…"},
    "evidence_checked": {"en": "Checked: this file opens the signed commitment.",
                         "zh-Hans": "已核对：此文件与已签名的承诺值相符。"},
    "evidence_mismatch": {"en": "Warning: this file does not open the signed commitment; do "
                                "not rely on it.",
                          "zh-Hans": "警告：此文件与已签名的承诺值不符，请勿采信。"},
    "evidence_no_preview": {"en": "This kind of file is not shown in the page; download it.",
                            "zh-Hans": "此类文件不在页面中显示，请下载查看。"},
    "evidence_pdf_note": {"en": "If your browser shows no PDF above, download it.",
                          "zh-Hans": "如上方未显示 PDF，请下载查看。"},
    "evidence_failed": {"en": "The file could not be loaded.", "zh-Hans": "文件无法载入。"},
    "evidence_not_readable": {"en": "You may not read this item, or there is no such item.",
                              "zh-Hans": "您无权阅读此证据，或该证据不存在。"},
    "evidence_open": {"en": "Open", "zh-Hans": "打开"},
    "evidence_doc_checked": {"en": "Checked: this file's SHA-256 is the one its step signed.",
                             "zh-Hans": "已核对：此文件的 SHA-256 与其程序步骤所签署的一致。"},
    "evidence_doc_mismatch": {"en": "Warning: this file's SHA-256 is not the one its step "
                                    "signed; do not rely on it.",
                              "zh-Hans": "警告：此文件的 SHA-256 与其程序步骤所签署的不一致，"
                                         "请勿采信。"},
    "documents_title": {"en": "Documents", "zh-Hans": "文书"},
    "document_title": {"en": "Document: {step}", "zh-Hans": "文书：{step}"},
    "document_of": {"en": "Step", "zh-Hans": "所属步骤"},
    "document_signer": {"en": "Signed by", "zh-Hans": "签署人"},
    "document_when": {"en": "Recorded", "zh-Hans": "记录时间"},
    "document_sha256": {"en": "Signed SHA-256", "zh-Hans": "已签署的 SHA-256"},
    "document_open": {"en": "Open {name}", "zh-Hans": "打开 {name}"},
    "wallet_title": {"en": "Waiting for your wallet", "zh-Hans": "等待您的钱包操作"},
    "wallet_intro": {"en": "The escrow contract accepts these only from your own wallet; the "
                           "service never sends them for you.",
                     "zh-Hans": "托管合约只接受您本人钱包发送的这些交易；服务不会代您发送。"},
    "wallet_freeze": {"en": "Freeze the escrow (raiseDispute): the payment of order {n} stays "
                            "held until the case ends.",
                      "zh-Hans": "冻结托管资金（raiseDispute）：订单 {n} 的货款"
                                 "在案件结束前保持冻结。"},
    "wallet_object": {"en": "Register your objection on the escrow (objectToAward), so the "
                            "award of order {n} is not paid out.",
                      "zh-Hans": "在托管合约登记您的异议（objectToAward），"
                                 "使订单 {n} 的裁决暂不执行。"},
    "wallet_return_shipped": {"en": "Record your return shipment's tracking commitment on "
                                    "the escrow (recordReturnShipment) for order {n}, before "
                                    "the return window closes.",
                              "zh-Hans": "在退货期限届满前，于托管合约登记订单 {n} 退货运单的"
                                         "承诺值（recordReturnShipment）。"},
    "wallet_return_disputed": {"en": "Dispute the return's receipt on the escrow "
                                     "(disputeReturnReceipt): the payment of order {n} is "
                                     "frozen again until an arbitrator decides.",
                               "zh-Hans": "在托管合约对退货签收提出争议（disputeReturnReceipt）："
                                          "订单 {n} 的货款再次冻结，待仲裁员裁决。"},
    "wallet_send": {"en": "Send from your wallet", "zh-Hans": "用钱包发送"},
    "wallet_sending": {"en": "Waiting for your wallet to send…",
                       "zh-Hans": "等待钱包发送交易…"},
    "wallet_sent": {"en": "Sent: transaction {tx}. The service sees it on the chain within a "
                          "few seconds.",
                    "zh-Hans": "已发送：交易 {tx}。服务将在数秒内在链上确认。"},
    "wallet_refused": {"en": "Your wallet did not send the transaction; nothing happened.",
                       "zh-Hans": "钱包未发送交易；未做任何更改。"},
    "wallet_since": {"en": "waiting since", "zh-Hans": "等待自"},
    "wallet_wrong_chain": {"en": "Your wallet is on another network and did not switch to "
                                 "chain {chain} (the escrow's). Switch it and send again. "
                                 "Nothing was sent.",
                           "zh-Hans": "您的钱包连接的是其他网络，且未切换到链 {chain}（托管合约"
                                      "所在的链）。请切换后重新发送。未发送任何交易。"},
})

_TEXT = frozenset({"text/plain", "text/csv", "application/json"})
_IMAGE = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})
_PDF = "application/pdf"
_COMMITMENT = re.compile(r"^0x[0-9a-fA-F]{64}$")
_CSS_LINK = '<link rel="stylesheet" href="/ui/static/party.css">'


def _w(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "zh-Hans" else pair[0]


def _deadline(deadline: str | None) -> str:
    if not deadline:
        return ""
    # layout.js (every page) counts down from the service's time
    return (f'{pg.time_html(deadline)} <span class="countdown" '
            f'data-countdown="{_e(deadline)}"></span>')


# --- orders -------------------------------------------------------------------------------

def _case_cell(o: party.OrderJson, lang: str) -> str:
    case = o["case"]
    href = f'/ui/cases/{_e(o["caseId"])}?lang={lang}'
    if case is not None and case["stage"] != "not_filed":
        stage = STAGES.get(case["stage"], {}).get(lang, case["stage"])
        return (f'<a href="{href}" class="open-case">{_e(ui("open_case", lang))}</a> '
                f'<span class="stage">{_e(stage)}</span> {_deadline(case["nextDeadline"])}')
    if not o["ours"]:
        return f'<span class="muted">{_e(ui("other_institution", lang))}</span>'
    if o["status"] != "Paid":
        return "—"
    label = ui("continue_claim" if case is not None else "file_claim", lang)
    return (f'<button type="button" class="claim" id="claim-{_e(o["orderId"])}" '
            f'data-order="{_e(o["orderId"])}" data-case="{_e(o["caseId"])}">{_e(label)}'
            "</button>")


@router.get("/orders", response_class=HTMLResponse)
def orders_page(request: Request) -> HTMLResponse:
    lang = pg.lang_of(request)
    viewer = pg.viewer_of(request)
    if viewer is None:
        return pg.need_sign_in(request, lang)
    ctx = request.app.state.ctx
    try:
        orders = party.my_orders(ctx.service, viewer)
    except (ConnectionError, OSError, TimeoutError):
        body = (f'<section id="orders"><h1>{_e(ui("orders_title", lang))}</h1>'
                f'<p class="error" id="orders-error">{_e(ui("orders_unavailable", lang))}</p>'
                "</section>")
        return pg.page(request, lang, ui("orders_title", lang), body, viewer, status=503)
    names = names_for(ctx, [o["counterparty"] for o in orders])
    if orders:
        rows = "".join(
            f'<tr data-order="{_e(o["orderId"])}">'
            f'<td>{_e(ui("order_no", lang).format(n=o["orderId"]))}</td>'
            f'<td>{_e(_w(word(SIDES, o["side"]), lang))}</td>'
            f'<td>{person_html(o["counterparty"], names, lang)}</td>'
            f'<td class="amount">{_e(amount(o["amount"], o["decimals"], o["currency"]))}</td>'
            f'<td>{_e(_w(word(ORDER_STATUSES, o["status"]), lang))}</td>'
            f'<td>{_case_cell(o, lang)}</td></tr>' for o in orders)
        heads = "".join(f'<th scope="col">{_e(ui(k, lang))}</th>' for k in (
            "col_order", "col_you_are", "col_other", "col_amount", "col_escrow", "col_case"))
        table = (f'<table id="orders-table"><thead><tr>{heads}</tr></thead><tbody>{rows}'
                 "</tbody></table>")
    else:
        table = f'<p id="orders-none">{_e(ui("orders_none", lang))}</p>'
    msgs = {k: ui(k, lang) for k in ("opening_case",)} | {"lang": lang}
    body = (f'<section id="orders"><h1>{_e(ui("orders_title", lang))}</h1>'
            f'<p class="muted">{_e(ui("orders_intro", lang))}</p>{table}'
            '<p id="orders-status" class="result" role="status" aria-live="polite"></p>'
            "</section>"
            f'<script type="application/json" id="party-data">{_json(msgs)}</script>'
            '<script src="/ui/static/party.js" defer></script>')
    return pg.page(request, lang, ui("orders_title", lang), body, viewer)


def _json(data: object) -> str:
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


# --- notices ------------------------------------------------------------------------------

@router.get("/notices", response_class=HTMLResponse)
def notices_page(request: Request) -> HTMLResponse:
    lang = pg.lang_of(request)
    viewer = pg.viewer_of(request)
    if viewer is None:
        return pg.need_sign_in(request, lang)
    ctx = request.app.state.ctx
    with ctx.sessions() as session:
        notices = party.my_notices(session, viewer)
    orders = _case_orders(ctx, {n["caseId"] for n in notices if n["caseId"]})
    if notices:
        items = "".join(
            f'<li class="notice" data-notice="{_e(n["id"])}" lang="{_e(n["language"])}">'
            f'<h2>{_e(n["subject"])}</h2><p class="muted">{pg.time_html(n["createdAt"])}'
            + (f' · <a href="/ui/cases/{_e(n["caseId"])}?lang={lang}">'
               f'{_e(ui("notice_case", lang).format(n=orders.get(n["caseId"], "?")))}</a>'
               if n["caseId"] else "")
            + f'</p><pre class="notice-body">{_e(n["body"])}</pre></li>' for n in notices)
        inner = f'<ol id="notices-list" class="notices">{items}</ol>'
    else:
        inner = f'<p id="notices-none">{_e(ui("notices_none", lang))}</p>'
    body = (f'{_CSS_LINK}<section id="notices"><h1>{_e(ui("notices_title", lang))}</h1>'
            f"{inner}</section>")
    return pg.page(request, lang, ui("notices_title", lang), body, viewer)


def _case_orders(ctx: AppContext, case_ids: set[str]) -> dict[str, str]:
    """Each case's escrow order number (what a person knows their case by)."""
    from sqlmodel import col, select

    from backend.db.models import Case

    if not case_ids:
        return {}
    with ctx.sessions() as session:
        rows = session.exec(select(Case.id, Case.order_id).where(
            col(Case.id).in_(case_ids))).all()
    return {cid: oid for cid, oid in rows}


# --- one evidence item --------------------------------------------------------------------

def _item(request: Request, viewer: str, case_id: str, ref: str
          ) -> EvidenceListedJson | None:
    """The item ``ref`` (number or commitment) of the case as the viewer may read it."""
    from backend.api.routes.evidence import get_evidence

    ctx = request.app.state.ctx
    svc = get_evidence(request, ctx)
    try:
        items = svc.list_items(viewer, case_id)
    except ServiceError:
        return None
    for item in items:
        if (ref.isdecimal() and str(item["id"]) == ref) or \
                (_COMMITMENT.match(ref) and item["commitment"].lower() == ref.lower()):
            return item if "sha256" in item and item["status"] == "submitted" else None
    return None


def _kind(kind: str, lang: str) -> str:
    words = UI.get(f"kind_{kind}")
    return words[lang] if words else kind


def _show(media: str) -> str:
    """How the page shows a file of this type (``none``: download only)."""
    return ("image" if media in _IMAGE else "pdf" if media == _PDF
            else "text" if media in _TEXT or media.startswith("text/") else "none")


def _not_readable(request: Request, lang: str, viewer: str, case_id: str) -> HTMLResponse:
    body = (f'<section id="evidence-item"><h1>{_e(text("evidence", lang))}</h1>'
            f'<p class="error">{_e(ui("evidence_not_readable", lang))}</p>'
            f"{_back(case_id, lang)}</section>")
    return pg.page(request, lang, text("evidence", lang), body, viewer, status=404)


def _back(case_id: str, lang: str) -> str:
    return (f'<p><a href="/ui/cases/{_e(case_id)}?lang={lang}" id="evidence-back">'
            f'{_e(ui("evidence_back", lang))}</a></p>')


def _viewer_page(request: Request, lang: str, viewer: str, case_id: str, title: str,
                 facts: list[tuple[str, str]], data: dict[str, Any]) -> HTMLResponse:
    """A file of the case in the page: its facts, the check, the file, the download
    (``evidence_view.js`` fetches ``data["content"]``, checks it, shows it)."""
    checks = ("checked", "mismatch") if data.get("salt") else ("doc_checked", "doc_mismatch")
    data = {**data, "title": title, "messages": {
        "evidence_checked": ui(f"evidence_{checks[0]}", lang),
        "evidence_mismatch": ui(f"evidence_{checks[1]}", lang),
        **{k: ui(k, lang) for k in ("evidence_no_preview", "evidence_pdf_note",
                                    "evidence_failed")}}}
    table = "<table>" + "".join(f'<tr><th scope="row">{_e(ui(k, lang))}</th><td>{v}</td></tr>'
                                for k, v in facts) + "</table>"
    name = data["filename"]
    body = (f'{_CSS_LINK}<section id="evidence-item"><h1>{_e(title)}</h1>{table}'
            f'<p id="evidence-check" class="result pending" role="status" aria-live="polite">'
            f'{_e(ui("evidence_loading", lang))}</p>'
            f'<div id="evidence-view" data-show="{_e(data["show"])}"></div>'
            f'<p><a id="evidence-download" href="{_e(data["content"])}" download="{_e(name)}">'
            f'{_e(ui("evidence_download", lang).format(name=name))}</a></p>'
            f"{_back(case_id, lang)}</section>"
            f'<script type="application/json" id="evidence-data">{_json(data)}</script>'
            '<script src="/ui/static/evidence_view.js" defer></script>')
    return pg.page(request, lang, title, body, viewer)


@router.get("/cases/{case_id}/evidence/{ref}", response_class=HTMLResponse)
def evidence_page(request: Request, case_id: str, ref: str) -> HTMLResponse:
    lang = pg.lang_of(request)
    viewer = pg.viewer_of(request)
    if viewer is None:
        return pg.need_sign_in(request, lang)
    case_id = case_id.lower()
    item = _item(request, viewer, case_id, ref[:80])
    if item is None:
        return _not_readable(request, lang, viewer, case_id)
    names = names_for(request.app.state.ctx, [item["submitter"]])
    media = str(item["mediaType"])
    facts = [
        ("evidence_file", _e(item["filename"])),
        ("evidence_type", f'<code>{_e(media)}</code>'),
        ("evidence_size", _e(ui("evidence_bytes", lang).format(n=item["size"]))),
        ("evidence_submitter", person_html(item["submitter"], names, lang)),
        ("evidence_commitment", f'<code title="{_e(item["commitment"])}">'
                                f'{_e(_short(item["commitment"]))}</code>'),
    ]
    data = {"content": f'/ui/api/cases/{case_id}/evidence/{item["id"]}/content',
            "show": _show(media), "mediaType": media, "sha256": item["sha256"],
            "salt": item["salt"], "commitment": item["commitment"],
            "filename": item["filename"]}
    title = ui("evidence_item_title", lang).format(kind=_kind(item["kind"], lang))
    return _viewer_page(request, lang, viewer, case_id, title, facts, data)


# --- the documents steps carry ------------------------------------------------------------

def _documents(request: Request, case_id: str, viewer: str) -> list[documents.DocumentJson]:
    try:
        return documents.list_documents(request.app.state.ctx.service, case_id, viewer)
    except ServiceError:
        return []


@router.get("/cases/{case_id}/documents/{sequence}", response_class=HTMLResponse)
def document_page(request: Request, case_id: str, sequence: int) -> HTMLResponse:
    lang = pg.lang_of(request)
    viewer = pg.viewer_of(request)
    if viewer is None:
        return pg.need_sign_in(request, lang)
    case_id = case_id.lower()
    doc = next((d for d in _documents(request, case_id, viewer)
                if d["sequence"] == sequence), None)
    if doc is None:
        return _not_readable(request, lang, viewer, case_id)
    names = names_for(request.app.state.ctx, [doc["signer"]])
    media = doc["mediaType"]
    facts = [
        ("document_of", _e(step_word(doc["action"], lang))),
        ("evidence_file", _e(doc["filename"])),
        ("evidence_type", f'<code>{_e(media)}</code>'),
        ("document_signer", person_html(doc["signer"], names, lang)),
        ("document_sha256", f'<code title="{_e(doc["sha256"])}">'
                            f'{_e(_short(doc["sha256"]))}</code>'),
    ]
    data = {"content": f"/ui/api/cases/{case_id}/steps/{sequence}/document",
            "show": _show(media), "mediaType": media, "sha256": doc["sha256"], "salt": None,
            "commitment": None, "filename": doc["filename"]}
    title = ui("document_title", lang).format(step=_done(doc["action"], lang))
    return _viewer_page(request, lang, viewer, case_id, title, facts, data)


def _done(action: str, lang: str) -> str:
    en, zh = timeline_label("ProceduralStep", action)
    return zh if lang == "zh-Hans" else en


def documents_section(request: Request, case_id: str, viewer: str, lang: str) -> str:
    """The case page's list of the documents the viewer may read ('' for none)."""
    docs = _documents(request, case_id, viewer)
    if not docs:
        return ""
    names = names_for(request.app.state.ctx, [d["signer"] for d in docs])
    rows = "".join(
        f'<tr data-sequence="{d["sequence"]}"><td>{_e(_done(d["action"], lang))}</td>'
        f'<td>{person_html(d["signer"], names, lang)}</td><td>{pg.time_html(d["recordedAt"])}</td>'
        f'<td><a class="open-document" href="/ui/cases/{_e(case_id)}/documents/'
        f'{d["sequence"]}?lang={lang}">{_e(ui("document_open", lang).format(name=d["filename"]))}'
        "</a></td></tr>" for d in docs)
    heads = "".join(f'<th scope="col">{_e(ui(k, lang))}</th>' for k in (
        "document_of", "document_signer", "document_when", "evidence_file"))
    return (f'<section id="documents" aria-labelledby="documents-h">'
            f'<h2 id="documents-h">{_e(ui("documents_title", lang))}</h2>'
            f"<table><thead><tr>{heads}</tr></thead><tbody>{rows}</tbody></table></section>")


# --- the case page's wallet transactions --------------------------------------------------

def _tx(t: party.WalletTxJson, lang: str) -> dict[str, Any]:
    """What the page hands the wallet: the call, and what it is for in words (the built-in
    wallet's prompt shows it)."""
    return {**{k: t[k] for k in ("to", "data", "value", "chainId")},
            "description": ui("wallet_" + t["kind"], lang).format(n=t["orderId"])}


def wallet_section(request: Request, case_id: str, viewer: str, lang: str) -> str:
    """The escrow calls this case waits for from the viewer's own wallet ('' for none)."""
    try:
        txs = party.wallet_transactions(request.app.state.ctx.service, case_id, viewer)
    except ServiceError:
        return ""
    if not txs:
        return ""
    items = "".join(
        f'<li class="wallet-tx" data-kind="{_e(t["kind"])}">'
        f'<p>{_e(ui("wallet_" + t["kind"], lang).format(n=t["orderId"]))} '
        f'<span class="muted">{_e(ui("wallet_since", lang))} '
        f'{pg.time_html(t["since"])}</span></p>'
        f'<button type="button" class="send-tx" id="send-tx-{_e(t["id"])}" '
        f'data-call="{_e(_json(_tx(t, lang)))}">'
        f'{_e(ui("wallet_send", lang))}</button>'
        '<p class="result" role="status" aria-live="polite"></p></li>' for t in txs)
    msgs = {k: ui(k, lang) for k in ("wallet_sending", "wallet_sent", "wallet_refused",
                                     "wallet_wrong_chain")}
    return (f'{_CSS_LINK}<section id="wallet-transactions" aria-labelledby="wallet-h">'
            f'<h2 id="wallet-h">{_e(ui("wallet_title", lang))}</h2>'
            f'<p class="muted">{_e(ui("wallet_intro", lang))}</p><ul class="plain">{items}</ul>'
            "</section>"
            f'<script type="application/json" id="party-data">{_json(msgs)}</script>'
            '<script src="/ui/static/party.js" defer></script>')

