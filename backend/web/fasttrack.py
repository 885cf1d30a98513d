"""The case page's fast-track section (docs/jury.md §9): the proposed resolution, the
pre-evaluation's reasons it rests on, and where it stands — binding unless a party objects
by the deadline, objected (the jury or a sole arbitrator decides), or binding and paid out.

Why here and not only in the objection form: a party deciding whether to object must read
what binds them and why, in their language. The reasons come from the proposal step's
document (the report the mediator signed, checked against its SHA-256 when read), so the
page shows exactly what the record holds; a reader who may not read that step's document
sees the allocation and the report's hash only.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING

from fastapi import Request

from backend.services import documents
from backend.services.errors import ServiceError
from backend.services.step_store import MAX_INLINE_DOCUMENT_CHARS
from evidence import safejson
from evidence.safejson import JsonObject

from .desk import e as _e
from .i18n import UI, register, text, ui
from .money import money
from .neutral import OUTCOME_WORDS
from .people import names_for, person_html

if TYPE_CHECKING:
    from backend.services.fast_track import CheckedReportJson
    from backend.services.views import CaseViewJson

    from .money import Denomination

__all__ = ["fast_track_section", "preview", "preview_html"]

register({
    "ft_title": {"en": "Fast-track proposal", "zh-Hans": "快速程序处理建议"},
    "ft_pending": {"en": "This resolution binds both parties unless one of them objects "
                         "before the deadline:",
                   "zh-Hans": "除非一方在截止时间前提出异议，本处理建议对双方具有约束力。"
                              "截止时间："},
    "ft_objected": {"en": "{name} objected: the proposal does not bind. The jury or a sole "
                          "arbitrator decides, with this report in the record.",
                    "zh-Hans": "{name}已提出异议：本建议不具约束力。由评审团或独任仲裁员裁决，"
                               "本报告记入案卷。"},
    "ft_bound": {"en": "No party objected in time: the resolution binds and the escrow pays "
                       "it out.",
                 "zh-Hans": "双方均未在期限内提出异议：处理结果生效，由托管合约执行付款。"},
    "ft_paid": {"en": "Paid out by the escrow.", "zh-Hans": "托管合约已执行付款。"},
    "ft_outcome": {"en": "Proposed resolution", "zh-Hans": "建议的处理结果"},
    "ft_proposed_by": {"en": "Proposed by the mediator", "zh-Hans": "调解员提出"},
    "ft_reasons": {"en": "The pre-evaluation's reasons", "zh-Hans": "预评估理由"},
    "ft_rule": {"en": "rule {rule}", "zh-Hans": "规则 {rule}"},
    "ft_report": {"en": "The report (its SHA-256 is signed in the proposal):",
                  "zh-Hans": "报告（其 SHA-256 已签入建议）："},
    "ft_report_open": {"en": "Open the signed report", "zh-Hans": "打开已签署的报告"},
    "ft_preview": {"en": "What you propose (the rules' report on the evidence as recorded "
                         "now):",
                   "zh-Hans": "您将提出的内容（规则依目前记录的证据得出的报告）："},
})

# Stages in which the proposal bound and the escrow's payment is recorded.
_PAID = frozenset({"enforced", "judicially_confirmed", "confirmation_refused"})


def _report(request: Request, case_id: str, viewer: str) -> tuple[int, JsonObject] | None:
    """(step sequence, report) of the latest fast-track proposal the viewer may read."""
    from backend.api.routes.evidence import get_evidence

    ctx = request.app.state.ctx
    try:
        docs = [d for d in documents.list_documents(ctx.service, case_id, viewer)
                if d["action"] == "fasttrack.proposed"]
        if not docs:
            return None
        seq = docs[-1]["sequence"]
        _meta, content = documents.read_document(ctx.service, get_evidence(request, ctx),
                                                 case_id, seq, viewer)
        report = safejson.loads(content, what="the fast-track proposal's report",
                                max_bytes=MAX_INLINE_DOCUMENT_CHARS)
    except (ServiceError, ValueError):
        return None
    return (seq, report) if isinstance(report, dict) else None


def preview(request: Request, view: CaseViewJson, viewer: str) -> CheckedReportJson | None:
    """The report the mediator would propose now (what ``GET /cases/{id}/fast-track`` gives
    and the form signs), for the form to show before signing; None for anyone else."""
    if viewer != view.get("mediator") or not (view.get("fastTrack") or {}).get("open") \
            or "fasttrack.proposed" not in (view.get("allowedSteps") or []):
        return None
    from backend.api.routes.performance import performance_service
    from backend.services.fast_track import proposal

    ctx = request.app.state.ctx
    try:
        _row, case = ctx.service.load(view["caseId"])
        report = proposal(case, performance_service(request, ctx).facts(case))["report"]
    except (ServiceError, ValueError):
        return None
    return report


def _reasons(report: Mapping[str, object], lang: str) -> str:
    reasons = report.get("reasons")
    return "".join(
        f'<li>{_e(r.get("zh-Hans") if lang == "zh-Hans" else r.get("en"))} '
        f'<span class="muted">({_e(ui("ft_rule", lang).format(rule=r.get("rule")))})'
        "</span></li>" for r in (reasons if isinstance(reasons, list) else [])
        if isinstance(r, dict))


def _units(allocation: object, key: str) -> int | str | None:
    """An amount of a report's ``allocation`` (an object of integers), None if absent."""
    value = allocation.get(key) if isinstance(allocation, dict) else None
    return value if isinstance(value, int | str) else None


def preview_html(report: Mapping[str, object], view: Denomination, lang: str) -> str:
    """The mediator's form: the outcome, the allocation and the reasons about to be signed
    (the report as the service makes it, or as a proposal's stored document holds it)."""
    alloc = report.get("allocation")
    rows = [("ft_outcome", ui(OUTCOME_WORDS.get(str(report.get("outcome")), "pe_out_partial"),
                              lang)),
            ("to_buyer", money(_units(alloc, "to_buyer"), view)),
            ("to_seller", money(_units(alloc, "to_seller"), view)),
            ("compensation", money(_units(alloc, "compensation"), view))]
    return (f'<div class="fast-track-preview"><p>{_e(ui("ft_preview", lang))}</p><table>'
            + "".join(f'<tr><th scope="row">{_e(_label(k, lang))}</th><td>{_e(v)}</td></tr>'
                      for k, v in rows)
            + f'</table><ol>{_reasons(report, lang)}</ol></div>')


def fast_track_section(request: Request, view: CaseViewJson, viewer: str, lang: str) -> str:
    """The section ('' while no fast-track resolution was proposed in the case)."""
    from .pages import time_html

    proposal = view["fastTrack"]["proposal"]
    if not proposal:
        return ""
    case_id, stage = view["caseId"], view.get("stage")
    objector = proposal.get("objected_by")
    names = names_for(request.app.state.ctx, [objector, view.get("mediator")])
    if objector:
        status = _e(ui("ft_objected", lang)).replace(
            "{name}", person_html(objector, names, lang))
        state = "objected"
    elif stage == "fast_track_proposed":
        deadline = view.get("deadline")
        status = (f'{_e(ui("ft_pending", lang))} {time_html(deadline)} '
                  f'<span class="countdown" data-countdown="{_e(deadline)}"></span>')
        state = "pending"
    else:
        status = _e(ui("ft_bound", lang))
        state = "bound"
        if stage in _PAID:
            status += " " + _e(ui("ft_paid", lang))
            state = "paid"
    alloc = proposal["allocation"]
    rows = [("ft_outcome", _e(ui(OUTCOME_WORDS.get(str(proposal.get("recommended")),
                                                   "pe_out_partial"), lang))),
            ("ft_proposed_by", person_html(view.get("mediator"), names, lang)
             + " · " + time_html(proposal.get("proposed_at"))),
            ("to_buyer", _e(money(alloc["to_buyer"], view))),
            ("to_seller", _e(money(alloc["to_seller"], view))),
            ("compensation", _e(money(alloc["compensation"], view)))]
    table = "<table>" + "".join(
        f'<tr><th scope="row">{_e(_label(k, lang))}</th><td>{v}</td></tr>' for k, v in rows
    ) + "</table>"
    found = _report(request, case_id, viewer)
    reasons = ""
    if found is not None:
        seq, report = found
        items = _reasons(report, lang)
        disclaimer = report.get("disclaimer")
        notice = disclaimer.get(lang) if isinstance(disclaimer, dict) else None
        reasons = (f'<h3>{_e(ui("ft_reasons", lang))}</h3><ol id="fast-track-reasons">{items}'
                   "</ol>" + (f'<p class="muted">{_e(notice)}</p>' if notice else "")
                   + f'<p><a href="/ui/cases/{_e(case_id)}/documents/{seq}?lang={lang}">'
                   f'{_e(ui("ft_report_open", lang))}</a></p>')
    report_hash = str(proposal.get("report_hash") or "")
    return (f'<section id="fast-track" data-state="{state}" aria-labelledby="fast-track-h">'
            f'<h2 id="fast-track-h">{_e(ui("ft_title", lang))}</h2>'
            f'<p id="fast-track-status">{status}</p>{table}{reasons}'
            f'<p class="muted">{_e(ui("ft_report", lang))} <code title="{_e(report_hash)}">'
            f'{_e(report_hash[:18])}…</code></p></section>')


def _label(key: str, lang: str) -> str:
    """This section's words (``ft_*``) or the case page's (the allocation's)."""
    return ui(key, lang) if key in UI else text(key, lang)
