"""The neutrals' pages: ``/ui/neutral`` (the queue of cases a mediator, arbitrator or panel
member sits in now) and ``/ui/neutral/cases/{id}`` (one case's desk).

The desk holds what a neutral works from, read through the same service views as the API
(so it shows exactly what the rules let this neutral see):

* the dispute in words, the escrow read live through the escrow port (status, escrowed
  amount, the seller's guarantee balance now), deadlines with a countdown;
* the neutral's disclosure on their appointment (a ``Disclosure`` their wallet signs) or,
  once given, what they disclosed;
* the steps they may sign now (``actions.py``'s forms: the mediator's pre-evaluation,
  proposals and impasse; the arbitrator's closing of the record and award editor, whose
  allocation is previewed against the escrow and the guarantee before anything is signed;
  a panel member's award);
* the whole record: every step in order, with its signed record, and every evidence item
  they may know of, shown inline (images, text) or downloaded; an item the rules do not
  disclose to them is listed as such (``procedure.can_see``).
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from sqlmodel import col, select

from backend import procedure as p
from backend.db import Participant
from backend.services import views
from backend.services.errors import ServiceError
from backend.services.identity import IdentityService
from backend.services.views import CaseViewJson
from evidence.records import Disclosure, SignedRecord, bytes32
from evidence.words import ORDER_STATUSES, timeline_label

from . import desk
from .actions import actions_section, case_data
from .desk import e
from .fields import field
from .i18n import UI, register, step_word, text, ui
from .logview import log_section
from .people import NEUTRAL_ROLES
from .receipts import receipts_section

if TYPE_CHECKING:
    from backend.procedure import CaseState

__all__ = ["OUTCOME_WORDS", "router"]

router = APIRouter(include_in_schema=False)  # mounted under /ui by pages.router

register({
    # the escrow's order status: the one vocabulary (evidence/words.py ORDER_STATUSES)
    **{f"escrow_status_{k}": {"en": en, "zh-Hans": zh} for k, (en, zh) in ORDER_STATUSES.items()},
    "nq_title": {"en": "Your appointments", "zh-Hans": "您的指定案件"},
    "nav_neutral": {"en": "Appointments", "zh-Hans": "指定案件"},
    "nq_intro": {"en": "The cases in which you sit as mediator, arbitrator or panel member, "
                       "the most urgent deadline first.",
                 "zh-Hans": "您担任调解员、仲裁员或仲裁庭成员的案件，期限最近者在前。"},
    "nq_empty": {"en": "You are not appointed in any case now.",
                 "zh-Hans": "您目前未被指定办理任何案件。"},
    "nq_seat": {"en": "Your seat", "zh-Hans": "您的职务"},
    "nq_parties": {"en": "Parties", "zh-Hans": "当事人"},
    "nq_waiting": {"en": "Waiting for you", "zh-Hans": "待您办理"},
    "nq_nothing": {"en": "nothing now", "zh-Hans": "暂无"},
    "nq_open": {"en": "Open the desk", "zh-Hans": "打开办案页"},
    "nq_disclosure_due": {"en": "your disclosure is due", "zh-Hans": "待您提交独立性披露"},
    "nd_title": {"en": "Case desk", "zh-Hans": "办案页"},
    "nd_not_neutral": {"en": "You do not sit as a neutral in this case.",
                       "zh-Hans": "您不是本案的中立人。"},
    "nd_case_page": {"en": "The case page", "zh-Hans": "案件页面"},
    "nd_claimed": {"en": "Amount claimed", "zh-Hans": "请求金额"},
    "nd_escrow": {"en": "The escrow now", "zh-Hans": "托管合约当前状态"},
    "nd_escrow_status": {"en": "Order", "zh-Hans": "订单状态"},
    "nd_escrow_amount": {"en": "Held in escrow", "zh-Hans": "托管金额"},
    "nd_guarantee_now": {"en": "Seller's guarantee balance now", "zh-Hans": "卖方保证金当前余额"},
    "nd_escrow_unreachable": {"en": "The escrow could not be read just now; the amounts below "
                                    "are those of the order when the case was opened.",
                              "zh-Hans": "暂时无法读取托管合约；以下金额为立案时订单所载金额。"},
    "nd_disclosure": {"en": "Your disclosure", "zh-Hans": "您的独立性披露"},
    "nd_disclosure_text": {"en": "Before you act, state whether you are impartial and "
                                 "independent of the parties, and any circumstance that could "
                                 "give rise to doubts (UNCITRAL Arbitration Rules, art. 11). "
                                 "Your wallet signs it; the parties and the court see it.",
                           "zh-Hans": "办理前，请声明您是否公正并独立于各方当事人，并披露任何可能"
                                      "引起合理怀疑的情况（《联合国国际贸易法委员会仲裁规则》"
                                      "第 11 条）。由您的钱包签署；当事人与法院可见。"},
    "nd_independent": {"en": "Are you impartial and independent?",
                       "zh-Hans": "您是否公正且独立？"},
    "nd_yes": {"en": "Yes", "zh-Hans": "是"},
    "nd_no": {"en": "No (name the circumstances below)", "zh-Hans": "否（请在下方说明情况）"},
    "nd_conflicts": {"en": "Circumstances to disclose (empty when there are none)",
                     "zh-Hans": "需披露的情况（如无请留空）"},
    "nd_statement": {"en": "Your statement", "zh-Hans": "您的声明"},
    "nd_statement_default": {"en": "I am impartial and independent of the parties and will "
                                   "remain so.",
                             "zh-Hans": "本人公正并独立于各方当事人，并将始终保持。"},
    "nd_sign_disclosure": {"en": "Sign the disclosure", "zh-Hans": "签署披露"},
    "nd_disclosed": {"en": "You disclosed, signed", "zh-Hans": "您已披露，签署时间"},
    "nd_disclosed_independent": {"en": "Impartial and independent.",
                                 "zh-Hans": "公正且独立。"},
    "nd_disclosed_conflicts": {"en": "Circumstances disclosed:", "zh-Hans": "已披露的情况："},
    "nd_no_appointment": {"en": "No appointment step names you yet.",
                          "zh-Hans": "尚无指定您的程序步骤。"},
    "nd_record": {"en": "The record", "zh-Hans": "案件记录"},
    "nd_seq": {"en": "No.", "zh-Hans": "序号"},
    "nd_signed_record": {"en": "signed record", "zh-Hans": "已签名记录"},
    "nd_evidence": {"en": "Evidence", "zh-Hans": "证据"},
    "nd_file": {"en": "File", "zh-Hans": "文件"},
    "nd_size": {"en": "{n} bytes", "zh-Hans": "{n} 字节"},
    "nd_show": {"en": "Show", "zh-Hans": "查看"},
    "nd_download": {"en": "Download", "zh-Hans": "下载"},
    "nd_not_disclosed": {"en": "not disclosed to you (the rules keep it from you)",
                         "zh-Hans": "未向您披露（依规则不可查阅）"},
    "nd_submitted_in": {"en": "submitted during", "zh-Hans": "提交阶段"},
    "nd_no_evidence": {"en": "No evidence in this case yet.", "zh-Hans": "本案尚无证据。"},
    "pe_title": {"en": "The rule-based pre-evaluation", "zh-Hans": "基于规则的预评估"},
    "pe_intro": {"en": "What the report says for the tracking status chosen in the form "
                       "above, before you sign it.",
                 "zh-Hans": "发布前，依上方表单所选物流状态生成的报告内容。"},
    "pe_published": {"en": "Published: the parties were recommended", "zh-Hans": "已发布，建议："},
    "pe_for": {"en": "Carrier tracking status", "zh-Hans": "物流跟踪状态"},
    "pe_outcome": {"en": "Recommendation", "zh-Hans": "建议"},
    "pe_confidence": {"en": "Confidence", "zh-Hans": "可信度"},
    "pe_reasons": {"en": "Reasons (rules applied)", "zh-Hans": "理由（所适用的规则）"},
    "pe_conf_low": {"en": "low", "zh-Hans": "低"},
    "pe_conf_medium": {"en": "medium", "zh-Hans": "中"},
    "pe_conf_high": {"en": "high", "zh-Hans": "高"},
    "pe_out_full": {"en": "full refund", "zh-Hans": "全额退款"},
    "pe_out_partial": {"en": "partial refund", "zh-Hans": "部分退款"},
    "pe_out_return": {"en": "return the goods and refund", "zh-Hans": "退货退款"},
    "pe_out_release": {"en": "release the payment to the seller",
                                 "zh-Hans": "向卖方放款"},
    "of_title": {"en": "Offers and proposals", "zh-Hans": "和解要约与调解方案"},
    "of_none": {"en": "No open offer or proposal.", "zh-Hans": "暂无有效的要约或方案。"},
    "of_by": {"en": "Made by", "zh-Hans": "提出人"},
    "of_terms": {"en": "Terms", "zh-Hans": "条件"},
    "of_expires": {"en": "Open until", "zh-Hans": "有效期至"},
    "of_accepted": {"en": "Accepted by", "zh-Hans": "已接受方"},
    "disclosed": {"en": "Disclosure signed and recorded.", "zh-Hans": "披露已签署并记录。"},
    "err_statement_required": {"en": "Write your statement.", "zh-Hans": "请填写您的声明。"},
    "err_conflicts_required": {"en": "Name the circumstances that could give rise to doubts.",
                               "zh-Hans": "请说明可能引起怀疑的情况。"},
})


def _seats(case: CaseState, viewer: str) -> list[str]:
    """The neutral seats `viewer` holds in the case now."""
    seats = []
    if case.mediator == viewer:
        seats.append("mediator")
    if case.arbitrator == viewer:
        seats.append("arbitrator")
    if viewer in case.panel:
        seats.append("panelist")
    return seats


def _messages(lang: str) -> dict[str, str]:
    keys = [k for k in UI if k.startswith("err_")] + ["signing", "disclosed", "left", "passed"]
    return {k: UI[k][lang] for k in keys}


@router.get("/neutral", response_class=HTMLResponse)
def queue_page(request: Request) -> HTMLResponse:
    from .pages import lang_of, need_sign_in, page, viewer_of

    lang = lang_of(request)
    viewer = viewer_of(request)
    if viewer is None:
        return need_sign_in(request, lang)
    ctx = request.app.state.ctx
    service = ctx.service
    with ctx.sessions() as session:
        ids = sorted(set(session.exec(select(Participant.case_id).where(
            col(Participant.address) == viewer,
            col(Participant.role).in_(NEUTRAL_ROLES))).all()))
        rows = []
        for case_id in ids:
            _row, case = service.load_in(session, case_id)
            seats = _seats(case, viewer)
            if not seats:
                continue  # replaced, or the seat ended: no longer this neutral's case
            appointment = IdentityService(service).appointment_of(session, case_id, viewer)
            disclosed = appointment is not None and IdentityService(service).disclosure_of(
                session, case_id, viewer, appointment[0], appointment[1]) is not None
            rows.append((case_id, case, seats, appointment is not None and not disclosed))
    rows.sort(key=lambda r: (r[1].deadline is None, r[1].deadline or 0, r[0]))
    title = ui("nq_title", lang)
    if not rows:
        inner = f'<p id="queue-empty">{e(ui("nq_empty", lang))}</p>'
    else:
        who = desk.names(request, [a for r in rows for a in (r[1].order.buyer,
                                                              r[1].order.seller)])
        trs = []
        sep = "；" if lang == "zh-Hans" else "; "
        for case_id, case, seats, due in rows:
            waiting = [step_word(a, lang) for a in views.case_view(service, case_id, viewer)
                       .get("allowedSteps", []) if a != "enforcement.requested"]
            if due:
                waiting.insert(0, ui("nq_disclosure_due", lang))
            deadline = p.to_jsonable(case.deadline) if case.deadline else None
            dispute, _remedy = desk.dispute_words(
                case.dispute_type.value if case.dispute_type else None, None, lang)
            link = f"/ui/neutral/cases/{case_id}?lang={lang}"
            trs.append(
                f'<tr data-case="{e(case_id)}"><td><a href="{e(link)}">{e(case_id[:10])}…</a>'
                f'<br><span class="muted">{e(dispute)}</span></td>'
                f'<td>{e(", ".join(desk.role_words(s, lang) for s in seats))}</td>'
                f'<td>{desk.person(case.order.buyer, lang, who)} · '
                f'{desk.person(case.order.seller, lang, who)}</td>'
                f'<td>{desk.stage(case.stage.value, lang)}</td>'
                f'<td>{desk.when(deadline)}{desk.countdown(deadline)}</td>'
                f'<td class="waiting">{e(sep.join(waiting) or ui("nq_nothing", lang))}</td>'
                "</tr>")
        inner = (f'<table id="queue"><thead><tr><th>{e(text("case", lang))}</th>'
                 f'<th>{e(ui("nq_seat", lang))}</th><th>{e(ui("nq_parties", lang))}</th>'
                 f'<th>{e(text("stage", lang))}</th><th>{e(text("deadline", lang))}</th>'
                 f'<th>{e(ui("nq_waiting", lang))}</th></tr></thead>'
                 f'<tbody>{"".join(trs)}</tbody></table>')
    body = (f'<section id="neutral-queue"><h1>{e(title)}</h1>'
            f'<p class="muted">{e(ui("nq_intro", lang))}</p>{inner}</section>'
            + desk.data_script("desk-data", {"messages": _messages(lang), "lang": lang,
                                             "viewer": viewer}))
    return page(request, lang, title, body, viewer)


def _escrow(request: Request, view: CaseViewJson, lang: str) -> tuple[str, dict[str, str]]:
    """The escrow order read now (the port), and the limits the award editor checks."""
    service = request.app.state.ctx.service
    limits = {"amount": view["amount"], "guarantee": view["guarantee"], "live": "false"}
    try:
        order = service.port.read_order(int(view["orderId"]))
    except Exception:  # any chain failure: say so, and fall back to the case's amounts
        note = (f'<p class="muted" id="escrow-unreachable">'
                f'{e(ui("nd_escrow_unreachable", lang))}</p>')
        return note, limits
    status_key = f"escrow_status_{order.status}"
    status = ui(status_key, lang) if status_key in UI else order.status
    limits = {"amount": str(order.amount) if order.status != "Resolved" else view["amount"],
              "guarantee": str(min(order.guarantee, int(view["guarantee"]))), "live": "true"}
    rows = [("nd_escrow_status", status),
            ("nd_escrow_amount", desk.money(order.amount, view)),
            ("nd_guarantee_now", desk.money(order.guarantee, view))]
    return ('<dl class="facts" id="escrow-now">' + "".join(
        f'<dt>{e(ui(k, lang))}</dt><dd data-field="{e(k)}">{e(v)}</dd>' for k, v in rows)
        + "</dl>"), limits


def _disclosure(request: Request, case_id: str, viewer: str, lang: str
                ) -> tuple[str, dict[str, Any] | None]:
    ctx = request.app.state.ctx
    service = ctx.service
    identity = IdentityService(service)
    with ctx.sessions() as session:
        appointment = identity.appointment_of(session, case_id, viewer)
        given = (identity.disclosure_of(session, case_id, viewer, appointment[0],
                                        appointment[1]) if appointment else None)
    head = (f'<section id="disclosure-section" aria-labelledby="disclosure-h">'
            f'<h2 id="disclosure-h">{e(ui("nd_disclosure", lang))}</h2>')
    if appointment is None:
        return head + f'<p class="muted">{e(ui("nd_no_appointment", lang))}</p></section>', None
    if given is not None:
        rec = given.record
        assert isinstance(rec, Disclosure)
        said = (ui("nd_disclosed_independent", lang) if rec.independent
                else ui("nd_disclosed_conflicts", lang))
        at = desk.when(_iso(rec.signed_at))
        return (head + f'<p id="disclosure-given">{e(ui("nd_disclosed", lang))} {at}. '
                f'{e(said)}</p>' + (f'<blockquote>{e(rec.conflicts)}</blockquote>'
                                    if rec.conflicts else "")
                + f'<p class="muted">{e(rec.statement)}</p></section>'), None
    role, appointment_hash = appointment
    template = Disclosure(case_id=bytes32(case_id), appointee=viewer, role=role,
                          appointment_hash=bytes32(appointment_hash), independent=True,
                          conflicts="", statement="-", signed_at=0)
    signed = SignedRecord(domain=service.domain, record=template)
    data = {"typedData": template.typed_data_json(service.domain),
            "domain": signed.to_json_obj()["domain"]}
    fid = "disclosure"
    form = (f'<form id="{fid}" aria-labelledby="disclosure-h">'
            f'<p>{e(ui("nd_disclosure_text", lang))}</p>'
            f'<fieldset><legend>{e(ui("nd_independent", lang))}</legend>'
            f'<label><input type="radio" name="independent" value="yes" checked> '
            f'{e(ui("nd_yes", lang))}</label> '
            f'<label><input type="radio" name="independent" value="no"> '
            f'{e(ui("nd_no", lang))}</label></fieldset>'
            + field(fid, "conflicts", ui("nd_conflicts", lang),
                    '<textarea {id} rows="3" maxlength="4000"></textarea>')
            + field(fid, "statement", ui("nd_statement", lang),
                    '<textarea {id} rows="3" maxlength="4000" required>'
                    f'{e(ui("nd_statement_default", lang))}</textarea>')
            + f'<button type="submit">{e(ui("nd_sign_disclosure", lang))}</button>'
            '<p class="result" role="status" aria-live="polite"></p></form>')
    return head + form + "</section>", data


# The report's outcomes (``procedure.Outcome``) to their words' keys (no enum value in a key:
# the page's data carries every key, and a page must show no internal token).
OUTCOME_WORDS: dict[str, str] = {
    "full_refund": "pe_out_full", "partial_refund": "pe_out_partial",
    "return_and_refund": "pe_out_return", "release_to_seller": "pe_out_release"}
assert set(OUTCOME_WORDS) == {o.value for o in p.Outcome}


def _preevaluation(case: p.CaseState, view: CaseViewJson, lang: str) -> str:
    """The mediator's report, as the rules write it for each tracking status (the one the
    form selects is shown: desk.js), or the recommendation already published."""
    from .actions import TRACKING

    i = 1 if lang == "zh-Hans" else 0
    head = (f'<section id="preevaluation" aria-labelledby="pe-h"><h2 id="pe-h">'
            f'{e(ui("pe_title", lang))}</h2>')
    published = view.get("preEvaluation")
    if published:
        return (head + f'<p id="pe-published">{e(ui("pe_published", lang))} '
                f'<strong>{e(ui(OUTCOME_WORDS[str(published[0])], lang))}</strong> '
                f'<code title="{e(published[1])}">{e(str(published[1])[:10])}…</code></p>'
                "</section>")
    if "preevaluation.published" not in (view.get("allowedSteps") or []):
        return ""
    blocks = []
    for n, tracking in enumerate(TRACKING):
        report = p.pre_evaluate(p.facts_from_case(case, p.TrackingStatus(tracking))).as_dict()
        alloc = report["allocation"]
        reasons = "".join(f'<li>{e(r["zh-Hans"] if i else r["en"])} '
                          f'<span class="muted">({e(r["rule"])})</span></li>'
                          for r in report["reasons"])
        blocks.append(
            f'<div class="preeval-report" data-tracking="{e(tracking)}"'
            f'{"" if n == 0 else " hidden"}><dl class="facts">'
            f'<dt>{e(ui("pe_for", lang))}</dt><dd>{e(ui("tracking_" + tracking, lang))}</dd>'
            f'<dt>{e(ui("pe_outcome", lang))}</dt>'
            f'<dd>{e(ui(OUTCOME_WORDS[report["outcome"]], lang))}</dd>'
            f'<dt>{e(text("to_buyer", lang))}</dt>'
            f'<dd>{e(desk.money(alloc["to_buyer"], view))}</dd>'
            f'<dt>{e(text("to_seller", lang))}</dt>'
            f'<dd>{e(desk.money(alloc["to_seller"], view))}</dd>'
            f'<dt>{e(text("compensation", lang))}</dt>'
            f'<dd>{e(desk.money(alloc["compensation"], view))}</dd>'
            f'<dt>{e(ui("pe_confidence", lang))}</dt>'
            f'<dd>{e(ui("pe_conf_" + report["confidence"], lang))}</dd></dl>'
            f'<p><strong>{e(ui("pe_reasons", lang))}</strong></p><ul>{reasons}</ul>'
            f'<p class="muted">{e(report["disclaimer"]["zh-Hans" if lang == "zh-Hans" else "en"])}'
            '</p></div>')
    return head + f'<p class="muted">{e(ui("pe_intro", lang))}</p>' + "".join(blocks) + \
        "</section>"


def _offers(request: Request, view: CaseViewJson, lang: str) -> str:
    """Open offers and the mediator's proposals, in exact amounts (parties and mediator
    only: the case view carries them to no one else)."""
    if "offers" not in view:
        return ""
    open_ = [o for o in view["offers"] if not o.get("withdrawn")]
    head = (f'<section id="offers" aria-labelledby="offers-h"><h2 id="offers-h">'
            f'{e(ui("of_title", lang))}</h2>')
    if not open_:
        return head + f'<p class="muted">{e(ui("of_none", lang))}</p></section>'
    who = desk.names(request, [*(o["made_by"] for o in open_),
                               *(a for o in open_ for a in o.get("accepted_by") or [])])
    trs = []
    for o in open_:
        a = o["allocation"]
        terms = (f'{text("to_buyer", lang)}: {desk.money(a["to_buyer"], view)} · '
                 f'{text("to_seller", lang)}: {desk.money(a["to_seller"], view)} · '
                 f'{text("compensation", lang)}: {desk.money(a["compensation"], view)}')
        accepted = ", ".join(desk.person(x, lang, who) for x in o.get("accepted_by") or [])
        trs.append(f'<tr><td>{desk.person(o["made_by"], lang, who)}</td><td>{e(terms)}</td>'
                   f'<td>{desk.when(o.get("expires_at"))}{desk.countdown(o.get("expires_at"))}'
                   f'</td><td>{accepted or "—"}</td></tr>')
    return (head + f'<table><thead><tr><th>{e(ui("of_by", lang))}</th>'
            f'<th>{e(ui("of_terms", lang))}</th><th>{e(ui("of_expires", lang))}</th>'
            f'<th>{e(ui("of_accepted", lang))}</th></tr></thead>'
            f'<tbody>{"".join(trs)}</tbody></table></section>')


def _iso(epoch: int) -> str:
    from datetime import UTC, datetime

    return datetime.fromtimestamp(epoch, UTC).isoformat().replace("+00:00", "Z")


def _record(request: Request, case_id: str, viewer: str, lang: str) -> str:
    items = views.timeline(request.app.state.ctx.service, case_id, viewer)
    steps = [i for i in items if views.is_step(i)]
    who = desk.names(request, [s["signer"] for s in steps])
    trs = []
    for n, s in enumerate(steps, 1):  # numbered as listed: a step kept from this neutral
        en, zh = timeline_label(s["recordType"], s["action"])  # leaves no gap
        link = f'/ui/api/cases/{case_id}/steps/{s["sequence"]}'
        trs.append(f'<tr><td>{n}</td><td>{desk.when(s["at"])}</td>'
                   f'<td>{e(zh if lang == "zh-Hans" else en)}</td>'
                   f'<td>{desk.person(s["signer"], lang, who)}</td>'
                   f'<td><a href="{e(link)}" download="step-{e(s["sequence"])}.json">'
                   f'{e(ui("nd_signed_record", lang))}</a></td></tr>')
    return (f'<section id="record" aria-labelledby="record-h"><h2 id="record-h">'
            f'{e(ui("nd_record", lang))}</h2><table><thead><tr><th>{e(ui("nd_seq", lang))}</th>'
            f'<th>{e(text("time", lang))}</th><th>{e(text("action", lang))}</th>'
            f'<th>{e(text("signer", lang))}</th><th></th></tr></thead>'
            f'<tbody>{"".join(trs)}</tbody></table></section>')


def _evidence(request: Request, case_id: str, viewer: str, lang: str) -> str:
    from backend.api.routes.evidence import get_evidence

    ctx = request.app.state.ctx
    items = get_evidence(request, ctx).list_items(viewer, case_id)
    items = [i for i in items if i["status"] == "submitted"]
    head = (f'<section id="evidence-read" aria-labelledby="evidence-read-h">'
            f'<h2 id="evidence-read-h">{e(ui("nd_evidence", lang))}</h2>')
    if not items:
        return head + f'<p>{e(ui("nd_no_evidence", lang))}</p></section>'
    view = views.case_view(ctx.service, case_id, viewer)
    stages = {i["commitment"]: i["stage"] for i in view.get("evidence") or []}
    who = desk.names(request, [i["submitter"] for i in items])
    rows = []
    for i in items:
        kind_key = f'kind_{i["kind"]}'
        kind = ui(kind_key, lang) if kind_key in UI else i["kind"]
        stage = stages.get(i["commitment"])
        meta = (f'{desk.person(i["submitter"], lang, who)}'
                + (f' · {e(ui("nd_submitted_in", lang))} {desk.stage(stage, lang)}'
                   if stage else ""))
        if "filename" in i:
            url = f'/ui/api/cases/{case_id}/evidence/{i["id"]}/content'
            box = f'evidence-box-{i["id"]}'
            inline = i["mediaType"].startswith("image/") or i["mediaType"].startswith("text/")
            show = (f'<button type="button" class="open" data-open="{e(url)}" '
                    f'aria-controls="{box}" aria-expanded="false" data-alt="{e(i["filename"])}">'
                    f'{e(ui("nd_show", lang))}</button> ' if inline else "")
            body = (f'<p><strong>{e(i["filename"])}</strong> '
                    f'<span class="muted">({e(i["mediaType"])}, '
                    f'{e(ui("nd_size", lang).format(n=i["size"]))})</span></p>'
                    f'<p>{show}<a class="download" href="{e(url)}" '
                    f'download="{e(i["filename"])}">{e(ui("nd_download", lang))}</a></p>'
                    f'<div class="evidence-box" id="{box}" hidden></div>'
                    f'<p class="sha">SHA-256 <code>{e(i["sha256"])}</code></p>')
        else:
            body = f'<p class="muted">{e(ui("nd_not_disclosed", lang))}</p>'
        rows.append(f'<article class="evidence-item" id="evidence-{e(i["id"])}" '
                    f'data-readable="{"true" if "filename" in i else "false"}">'
                    f'<h3>{e(kind)}</h3><p>{meta}</p>{body}</article>')
    return head + "".join(rows) + "</section>"


@router.get("/neutral/cases/{case_id}", response_class=HTMLResponse)
def desk_page(request: Request, case_id: str) -> HTMLResponse:
    from .pages import lang_of, need_sign_in, page, viewer_of

    lang = lang_of(request)
    viewer = viewer_of(request)
    if viewer is None:
        return need_sign_in(request, lang)
    service = request.app.state.ctx.service
    case_id = case_id.lower()
    title = ui("nd_title", lang)
    try:
        view = views.case_view(service, case_id, viewer)
        _row, case = service.load(case_id)
    except ServiceError as exc:
        key = "denied" if exc.http_status == 403 else "not_found"
        body = f'<section><h1>{e(title)}</h1><p class="error">{e(text(key, lang))}</p></section>'
        return page(request, lang, title, body, viewer,
                    status=exc.http_status if exc.http_status in (403, 404) else 400)
    seats = _seats(case, viewer)
    case_link = f"/ui/cases/{case_id}?lang={lang}"
    if not seats:
        body = (f'<section><h1>{e(title)}</h1><p class="error" id="not-neutral">'
                f'{e(ui("nd_not_neutral", lang))}</p><p><a href="{e(case_link)}">'
                f'{e(ui("nd_case_page", lang))}</a></p></section>')
        return page(request, lang, title, body, viewer, status=403)
    dispute, remedy = desk.dispute_words(view.get("disputeType"), view.get("remedy"), lang)
    who = desk.names(request, [view["buyer"], view["seller"], view.get("claimant"),
                               view.get("respondent")])
    facts = [(text("claimant", lang), desk.person(view.get("claimant"), lang, who)),
             (text("respondent", lang), desk.person(view.get("respondent"), lang, who)),
             (text("dispute", lang), e(dispute)), (text("remedy", lang), e(remedy)),
             (ui("nd_claimed", lang), e(desk.money(view.get("claimedAmount"), view))),
             (text("amount", lang), e(desk.money(view["amount"], view))),
             (text("guarantee", lang), e(desk.money(view["guarantee"], view))),
             (text("deadline", lang), desk.when(view.get("deadline"))
              + desk.countdown(view.get("deadline")))]
    escrow_html, limits = _escrow(request, view, lang)
    summary = (f'<section id="summary"><h1>{e(title)}: {e(text("case", lang))} '
               f'<code title="{e(case_id)}">{e(case_id[:10])}…</code></h1>'
               f'<p>{e(ui("nq_seat", lang))}: '
               f'<strong>{e(", ".join(desk.role_words(s, lang) for s in seats))}</strong> · '
               f'{e(text("stage", lang))}: {desk.stage(view["stage"], lang)} · '
               f'<a href="{e(case_link)}">{e(ui("nd_case_page", lang))}</a></p>'
               '<dl class="facts">' + "".join(f"<dt>{e(k)}</dt><dd>{v}</dd>" for k, v in facts)
               + f'</dl><h2>{e(ui("nd_escrow", lang))}</h2>{escrow_html}</section>')
    disclosure_html, disclosure = _disclosure(request, case_id, viewer, lang)
    data = case_data(request, view, viewer, lang)
    data["escrow"] = limits
    actions = actions_section(data, lang)
    body = (summary + disclosure_html + actions + _preevaluation(case, view, lang)
            + _offers(request, view, lang) + _evidence(request, case_id, viewer, lang)
            + _record(request, case_id, viewer, lang)
            + log_section(request, case_id, viewer, lang)
            + receipts_section(case_id, viewer, lang)
            + desk.data_script("desk-data", {
                "messages": _messages(lang), "lang": lang, "viewer": viewer,
                "caseId": case_id, "serverNow": data["serverNow"],
                "disclosure": disclosure}))
    return page(request, lang, f"{title} {case_id[:10]}…", body, viewer, case=view)
