"""The assessor pool's page (``/ui/pool``; docs/jury.md §1 and §5, issue 14 items 1 and 7).

Who sees what: every signed-in person sees the published admission criteria and standing
rule, their own place in the pool and standing (``GET /pool/me``), and may apply or
declare a relationship with a possible party; an institution admin sees every assessor
with status and standing (``GET /pool``) and admits (recording the measured values
against the published criteria), suspends and reinstates.

Each act is a signed step of the pool's own chain: ``pool.js`` has the service prepare it
(``POST /pool/prepare``, through the pages' proxy), checks the prepared record says what
was entered (action, signer, domain, the payload's SHA-256), has the wallet sign it and
posts it to the step's route. The service countersigns an admin's institution step.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse

from evidence.words import STANDING_FIELDS, Words

from .desk import e as _e
from .fields import field as _field
from .i18n import UI, register, ui
from .people import names_for, person_html

__all__ = ["router"]

router = APIRouter(include_in_schema=False)  # mounted under /ui by pages.router

register({
    "nav_pool": {"en": "Public assessors", "zh-Hans": "大众评审员"},
    "pool_title": {"en": "Public assessors", "zh-Hans": "大众评审员"},
    "pool_intro": {"en": "Small claims may be decided by a jury drawn at random from the "
                         "institution's public assessors. Each act below is a step you sign "
                         "with your wallet; anyone holding the pool's records can recompute "
                         "who was eligible.",
                   "zh-Hans": "小额争议可由从本机构大众评审员中随机抽选的评审团裁决。以下每项操作"
                              "都是您用钱包签署的步骤；持有评审员库记录的任何人都可以复算谁有"
                              "资格被抽选。"},
    "pool_criteria_title": {"en": "Published admission criteria",
                            "zh-Hans": "公开的准入标准"},
    "pool_crit_age": {"en": "Account at least {n} days old",
                      "zh-Hans": "账户注册满 {n} 天"},
    "pool_crit_identity": {"en": "Identity verified by the institution",
                           "zh-Hans": "身份经本机构核验"},
    "pool_crit_standing": {"en": "Account standing at least {n} of 100",
                           "zh-Hans": "账户信用分不低于 {n}（满分 100）"},
    "pool_crit_test": {"en": "Qualification test of sample cases: at least {n} of 100",
                       "zh-Hans": "样例案件资格测试不低于 {n} 分（满分 100）"},
    "pool_rule_title": {"en": "Published standing rule", "zh-Hans": "公开的评审信誉规则"},
    "pool_rule_participation": {
        "en": "After {seats} finished seats, an assessor who revealed a vote in fewer than "
              "{pct}% of them is not drawn.",
        "zh-Hans": "完成 {seats} 次任务后，公开投票比例低于 {pct}% 的评审员不再被抽选。"},
    "pool_rule_agreement": {
        "en": "After {n} votes in decided cases, an assessor who agreed with the final "
              "outcome in fewer than {pct}% of them is not drawn.",
        "zh-Hans": "在已有最终结果的案件中投票满 {n} 次后，与最终结果一致比例低于 {pct}% 的"
                   "评审员不再被抽选。"},
    "pool_hash": {"en": "SHA-256 of the published criteria, signed into every admission:",
                  "zh-Hans": "公开标准的 SHA-256，签入每一项准入记录："},
    "pool_rule_hash": {"en": "SHA-256 of the published rule:",
                       "zh-Hans": "公开规则的 SHA-256："},
    "pool_me_title": {"en": "Your place in the pool", "zh-Hans": "您在评审员库中的情况"},
    "pool_status_none": {"en": "You have not applied to be an assessor.",
                         "zh-Hans": "您尚未申请成为评审员。"},
    "pool_status_applied": {"en": "Applied; waiting for the institution's decision.",
                            "zh-Hans": "已申请，等待本机构审核。"},
    "pool_status_admitted": {"en": "Admitted as an assessor.", "zh-Hans": "已获准成为评审员。"},
    "pool_status_suspended": {"en": "Suspended by the institution.",
                              "zh-Hans": "已被本机构暂停资格。"},
    "pool_word_none": {"en": "not applied", "zh-Hans": "未申请"},
    "pool_word_applied": {"en": "applied", "zh-Hans": "已申请"},
    "pool_word_admitted": {"en": "admitted", "zh-Hans": "已获准"},
    "pool_word_suspended": {"en": "suspended", "zh-Hans": "已暂停"},
    "pool_applied_at": {"en": "Applied", "zh-Hans": "申请时间"},
    "pool_admitted_at": {"en": "Admitted", "zh-Hans": "获准时间"},
    "pool_standing_title": {"en": "Your standing", "zh-Hans": "您的评审信誉"},
    "pool_standing_none": {"en": "No seats yet: your standing starts with your first draw.",
                           "zh-Hans": "尚无任务：您的评审信誉从第一次被抽中开始计算。"},
    "pool_yes": {"en": "yes", "zh-Hans": "是"},
    "pool_no": {"en": "no", "zh-Hans": "否"},
    "pool_not_yet": {"en": "—", "zh-Hans": "—"},
    "pool_apply_title": {"en": "Apply to be an assessor", "zh-Hans": "申请成为评审员"},
    "pool_apply_text": {"en": "You sign your application with your wallet. The institution "
                              "then checks you against the published criteria; you decide no "
                              "case until it admits you.",
                        "zh-Hans": "您用钱包签署申请。之后由本机构按公开标准审核；获准之前您不会"
                                   "参与任何案件。"},
    "pool_apply_sign": {"en": "Sign and apply", "zh-Hans": "签署并申请"},
    "pool_relations_title": {"en": "Relationships you declared",
                             "zh-Hans": "您申报的关系"},
    "pool_relations_none": {"en": "None declared.", "zh-Hans": "尚未申报。"},
    "pool_relation_with": {"en": "With", "zh-Hans": "对方"},
    "pool_relation_nature": {"en": "Nature", "zh-Hans": "关系性质"},
    "pool_declare_title": {"en": "Declare a relationship", "zh-Hans": "申报关系"},
    "pool_declare_text": {"en": "Name anyone you are tied to (family, employer, business "
                                "partner): you will never be drawn in a case of theirs.",
                          "zh-Hans": "请申报与您有关联的人（亲属、雇主、生意伙伴）：您不会被抽选"
                                     "参与其案件。"},
    "pool_party_label": {"en": "Their wallet address", "zh-Hans": "对方的钱包地址"},
    "pool_party_hint": {"en": "0x followed by 40 hexadecimal characters; the page shows "
                              "their name once declared.",
                        "zh-Hans": "0x 加 40 位十六进制字符；申报后页面显示对方姓名。"},
    "pool_nature_label": {"en": "Nature of the relationship", "zh-Hans": "关系性质"},
    "pool_declare_sign": {"en": "Sign the declaration", "zh-Hans": "签署申报"},
    "pool_all_title": {"en": "Every assessor", "zh-Hans": "全部评审员"},
    "pool_all_none": {"en": "Nobody has applied yet.", "zh-Hans": "尚无人申请。"},
    "pool_col_assessor": {"en": "Assessor", "zh-Hans": "评审员"},
    "pool_col_status": {"en": "Status", "zh-Hans": "状态"},
    "pool_col_seats": {"en": "Seats (drawn / finished)", "zh-Hans": "任务（被抽中 / 已结束）"},
    "pool_decide_title": {"en": "Decide on {name}", "zh-Hans": "处理{name}"},
    "pool_admit_title": {"en": "Admit under the published criteria",
                         "zh-Hans": "按公开标准准入"},
    "pool_admit_text": {"en": "Record what you measured; the service refuses an admission "
                              "that does not meet the criteria.",
                        "zh-Hans": "请登记您核实的数值；不符合标准的准入将被系统拒绝。"},
    "pool_age_label": {"en": "Account age (days)", "zh-Hans": "账户注册天数"},
    "pool_identity_label": {"en": "Identity verified by the institution",
                            "zh-Hans": "身份已经本机构核验"},
    "pool_standing_label": {"en": "Account standing (0–100)", "zh-Hans": "账户信用分（0–100）"},
    "pool_test_label": {"en": "Qualification test score (0–100)",
                        "zh-Hans": "资格测试得分（0–100）"},
    "pool_admit_sign": {"en": "Sign the admission", "zh-Hans": "签署准入"},
    "pool_suspend_title": {"en": "Suspend", "zh-Hans": "暂停资格"},
    "pool_reason_label": {"en": "Reason (kept by you; its SHA-256 is signed)",
                          "zh-Hans": "理由（由您保存；签署其 SHA-256）"},
    "pool_suspend_sign": {"en": "Sign the suspension", "zh-Hans": "签署暂停"},
    "pool_reinstate_title": {"en": "Reinstate", "zh-Hans": "恢复资格"},
    "pool_reinstate_text": {"en": "The assessor returns to what they were before the "
                                  "suspension.",
                            "zh-Hans": "该评审员恢复到暂停前的状态。"},
    "pool_reinstate_sign": {"en": "Sign the reinstatement", "zh-Hans": "签署恢复"},
    "pool_signing": {"en": "Preparing the step and asking your wallet to sign…",
                     "zh-Hans": "正在准备步骤并请求钱包签名…"},
    "pool_done": {"en": "Signed and recorded.", "zh-Hans": "已签署并记录。"},
    "err_pool_number": {"en": "Enter a whole number in the range shown.",
                        "zh-Hans": "请输入所示范围内的整数。"},
    "err_pool_reason": {"en": "Write the reason.", "zh-Hans": "请填写理由。"},
    "err_pool_nature": {"en": "Say what the relationship is.", "zh-Hans": "请说明关系性质。"},
})

_STANDING_ROWS = ("drawn", "accepted", "finished", "revealed", "decided", "agreed",
                  "participation", "agreement", "eligible")


def _word(table: Mapping[str, Words], key: str, lang: str) -> str:
    en, zh = table[key]
    return str(zh if lang == "zh-Hans" else en[:1].upper() + en[1:])


def _status(status: str | None, lang: str) -> str:
    return ui(f"pool_word_{status or 'none'}", lang)


def _criteria(head: dict[str, Any], lang: str) -> str:
    c, r = head["criteria"], head["standingRule"]
    crit = [ui("pool_crit_age", lang).format(n=c["minAccountAgeDays"])]
    if c["identityVerified"]:
        crit.append(ui("pool_crit_identity", lang))
    crit += [ui("pool_crit_standing", lang).format(n=c["minStanding"]),
             ui("pool_crit_test", lang).format(n=c["minTestScore"])]
    rule = [ui("pool_rule_participation", lang).format(seats=r["minSeats"],
                                                       pct=r["minParticipation"]),
            ui("pool_rule_agreement", lang).format(n=r["minDecided"], pct=r["minAgreement"])]
    return (f'<section id="pool-criteria" aria-labelledby="pool-criteria-h">'
            f'<h2 id="pool-criteria-h">{_e(ui("pool_criteria_title", lang))}</h2>'
            f"<ul>{_li(crit)}</ul>"
            f'<p class="muted">{_e(ui("pool_hash", lang))} <code title="{_e(c["hash"])}">'
            f'{_e(c["hash"][:18])}…</code></p>'
            f'<h3>{_e(ui("pool_rule_title", lang))}</h3><ul>{_li(rule)}</ul>'
            f'<p class="muted">{_e(ui("pool_rule_hash", lang))} <code title="{_e(r["hash"])}">'
            f'{_e(r["hash"][:18])}…</code></p></section>')


def _li(items: list[str]) -> str:
    return "".join(f"<li>{_e(x)}</li>" for x in items)


def _percent(value: object) -> str:
    return "—" if value is None else f"{value}%"


def _eligible(status: str | None, st: dict[str, Any], lang: str) -> str:
    """Drawable: admitted, not suspended, and in good standing under the published rule."""
    return ui("pool_yes" if status == "admitted" and st.get("eligible") else "pool_no", lang)


def _standing_table(st: dict[str, Any], status: str | None, lang: str) -> str:
    def value(key: str) -> str:
        if key in ("participation", "agreement"):
            return _percent(st[key])
        if key == "eligible":
            return _eligible(status, st, lang)
        return str(st[key])

    return ('<table class="standing">' + "".join(
        f'<tr data-standing="{k}"><th scope="row">{_e(_word(STANDING_FIELDS, k, lang))}</th>'
        f'<td class="amount">{_e(value(k))}</td></tr>' for k in _STANDING_ROWS) + "</table>")


def _form(action: str, fid: str, title: str, inner: str, button: str,
          assessor: str | None = None, heading: str = "h3") -> str:
    who = f' data-assessor="{_e(assessor)}"' if assessor else ""
    return (f'<form class="step pool-step" data-action="{_e(action)}" id="{fid}"{who} '
            f'novalidate aria-labelledby="{fid}-h"><{heading} id="{fid}-h">{_e(title)}'
            f'</{heading}>{inner}<button type="submit">{_e(button)}</button>'
            f'<p class="result" role="status" aria-live="polite"></p></form>')


def _mine(me: dict[str, Any], names: dict[str, Any], lang: str) -> str:
    from .pages import time_html

    status = me.get("status")
    key = f"pool_status_{status or 'none'}"
    parts = [f'<p id="pool-status" data-status="{_e(status or "none")}">'
             f'<strong>{_e(ui(key, lang))}</strong></p>']
    if status:
        times = [("pool_applied_at", me.get("appliedAt")),
                 ("pool_admitted_at", me.get("admittedAt"))]
        parts.append('<p class="muted">' + " · ".join(
            f'{_e(ui(k, lang))} {time_html(v)}' for k, v in times if v) + "</p>")
        st = me.get("standing") or {}
        parts.append(f'<h3>{_e(ui("pool_standing_title", lang))}</h3>')
        if not st.get("drawn"):
            parts.append(f'<p id="pool-standing-none">{_e(ui("pool_standing_none", lang))}</p>')
        parts.append(_standing_table(st, status, lang))
        rel = me.get("relationships") or []
        parts.append(f'<h3>{_e(ui("pool_relations_title", lang))}</h3>')
        if rel:
            parts.append(
                f'<table id="pool-relations"><thead><tr><th scope="col">'
                f'{_e(ui("pool_relation_with", lang))}</th><th scope="col">'
                f'{_e(ui("pool_relation_nature", lang))}</th></tr></thead><tbody>'
                + "".join(f'<tr><td>{person_html(r["party"], names, lang)}</td>'
                          f'<td translate="no">{_e(r["nature"])}</td></tr>' for r in rel)
                + "</tbody></table>")
        else:
            parts.append(f'<p>{_e(ui("pool_relations_none", lang))}</p>')
        fid = "pool-declare"
        inner = (f'<p>{_e(ui("pool_declare_text", lang))}</p>'
                 + _field(fid, "party", ui("pool_party_label", lang),
                          '<input {id} type="text" autocomplete="off" spellcheck="false" '
                          'pattern="0x[0-9a-fA-F]{40}" required>', ui("pool_party_hint", lang))
                 + _field(fid, "nature", ui("pool_nature_label", lang),
                          '<input {id} type="text" maxlength="200" required>'))
        parts.append(_form("pool.relationship_declared", fid, ui("pool_declare_title", lang),
                           inner, ui("pool_declare_sign", lang), me["assessor"]))
    else:
        parts.append(_form("pool.applied", "pool-apply", ui("pool_apply_title", lang),
                           f'<p>{_e(ui("pool_apply_text", lang))}</p>',
                           ui("pool_apply_sign", lang), me["assessor"]))
    return (f'<section id="pool-me" aria-labelledby="pool-me-h"><h2 id="pool-me-h">'
            f'{_e(ui("pool_me_title", lang))}</h2>{"".join(parts)}</section>')


def _number(fid: str, name: str, label: str, high: int) -> str:
    return _field(fid, name, label, f'<input {{id}} type="number" min="0" max="{high}" '
                  'step="1" inputmode="numeric" required>')


def _decisions(a: dict[str, Any], n: int, names: dict[str, Any], lang: str) -> str:
    """The admin's forms for one assessor: admit (applied), suspend (applied or admitted),
    reinstate (suspended)."""
    status, who = a["status"], a["assessor"]
    forms = []
    if status == "applied":
        fid = f"pool-admit-{n}"
        inner = (f'<p>{_e(ui("pool_admit_text", lang))}</p>'
                 + _number(fid, "accountAgeDays", ui("pool_age_label", lang), 100_000)
                 + '<div class="field check">'
                 f'<label><input type="checkbox" id="{fid}-identityVerified" '
                 f'name="identityVerified"> {_e(ui("pool_identity_label", lang))}</label></div>'
                 + _number(fid, "standing", ui("pool_standing_label", lang), 100)
                 + _number(fid, "testScore", ui("pool_test_label", lang), 100))
        forms.append(_form("pool.admitted", fid, ui("pool_admit_title", lang), inner,
                           ui("pool_admit_sign", lang), who, "h4"))
    if status in ("applied", "admitted"):
        fid = f"pool-suspend-{n}"
        inner = _field(fid, "reason", ui("pool_reason_label", lang),
                       '<textarea {id} rows="2" maxlength="2000" required></textarea>')
        forms.append(_form("pool.suspended", fid, ui("pool_suspend_title", lang), inner,
                           ui("pool_suspend_sign", lang), who, "h4"))
    if status == "suspended":
        forms.append(_form("pool.reinstated", f"pool-reinstate-{n}",
                           ui("pool_reinstate_title", lang),
                           f'<p>{_e(ui("pool_reinstate_text", lang))}</p>',
                           ui("pool_reinstate_sign", lang), who, "h4"))
    title = ui("pool_decide_title", lang).format(name="")
    return (f'<div class="pool-decide" id="pool-decide-{n}" data-assessor="{_e(who)}">'
            f'<h3>{_e(title)}{person_html(who, names, lang)}</h3>{"".join(forms)}</div>')


def _overview(view: dict[str, Any], names: dict[str, Any], lang: str) -> str:
    from .pages import time_html

    rows = view["assessors"]
    if not rows:
        inner = f'<p id="pool-all-none">{_e(ui("pool_all_none", lang))}</p>'
    else:
        heads = [ui("pool_col_assessor", lang), ui("pool_col_status", lang),
                 ui("pool_applied_at", lang), ui("pool_admitted_at", lang),
                 ui("pool_col_seats", lang), _word(STANDING_FIELDS, "participation", lang),
                 _word(STANDING_FIELDS, "agreement", lang),
                 _word(STANDING_FIELDS, "eligible", lang)]
        trs = "".join(
            f'<tr data-assessor="{_e(a["assessor"])}" data-status="{_e(a["status"])}">'
            f'<td class="nowrap">{person_html(a["assessor"], names, lang)}</td>'
            f'<td>{_e(_status(a["status"], lang))}</td>'
            f'<td>{time_html(a.get("appliedAt"))}</td><td>{time_html(a.get("admittedAt"))}</td>'
            f'<td class="amount">{a["standing"]["drawn"]} / {a["standing"]["finished"]}</td>'
            f'<td class="amount">{_percent(a["standing"]["participation"])}</td>'
            f'<td class="amount">{_percent(a["standing"]["agreement"])}</td>'
            f'<td>{_e(_eligible(a["status"], a["standing"], lang))}</td>'
            "</tr>" for a in rows)
        inner = ("<table id=\"pool-table\"><thead><tr>"
                 + "".join(f'<th scope="col">{_e(h)}</th>' for h in heads)
                 + f"</tr></thead><tbody>{trs}</tbody></table>"
                 + "".join(_decisions(a, n, names, lang) for n, a in enumerate(rows)))
    return (f'<section id="pool-all" aria-labelledby="pool-all-h"><h2 id="pool-all-h">'
            f'{_e(ui("pool_all_title", lang))}</h2>{inner}</section>')


def _messages(lang: str) -> dict[str, str]:
    """The words pool.js shows: its own and the API's error codes (the case page's)."""
    return {k: v[lang] for k, v in UI.items()
            if k.startswith(("err_", "pool_signing", "pool_done")) or k == "refresh"}


@router.get("/pool", response_class=HTMLResponse)
def pool_page(request: Request) -> HTMLResponse:
    """The pool: the criteria, your own place and standing; every assessor for admins."""
    from .pages import lang_of, need_sign_in, page, viewer_of

    lang = lang_of(request)
    viewer = viewer_of(request)
    if viewer is None:
        return need_sign_in(request, lang)
    ctx = request.app.state.ctx
    pool = ctx.service.pool
    admin = ctx.service.is_admin(viewer)
    view = pool.overview() if admin else pool.mine(viewer)
    people = [a["assessor"] for a in view.get("assessors") or []]
    people += [r["party"] for r in view.get("relationships") or []] + [viewer]
    names = names_for(ctx, people)
    body = (f'<section id="pool-intro"><h1>{_e(ui("pool_title", lang))}</h1>'
            f'<p>{_e(ui("pool_intro", lang))}</p></section>')
    body += _overview(view, names, lang) if admin else _mine(view, names, lang)
    body += _criteria(view, lang)
    data = {"viewer": viewer, "domain": ctx.service.domain.to_json_obj(),
            "criteriaHash": view["criteria"]["hash"], "messages": _messages(lang)}
    blob = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    body += (f'<script type="application/json" id="pool-data">{blob}</script>'
             '<script src="/ui/static/signer.js" defer></script>'  # the wallet (the case's too)
             '<script src="/ui/static/pool.js" defer></script>')
    return page(request, lang, ui("pool_title", lang), body, viewer)
