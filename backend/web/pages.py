"""Server-rendered pages: wallet sign-in, the viewer's cases, a case with its record.

Why plain Python rendering and no template engine: five small pages, every value escaped
in one place (``_e``), no new dependency. The pages read through the same service views as
the API (``backend.services.views``), so a page shows exactly what the API would give the
viewer: evidence as the disclosure rules allow, offers only to those who may see them.

* Sign-in: ``/ui/sign-in`` (``wallet.py``) uses ``window.chainarbWallet`` — the wallet built
  into the page (key made and kept encrypted in the browser) or an extension: it signs the
  API's EIP-4361 message, exchanges it for a session token (``POST /auth/sign-in``) and
  hands the token to ``POST /ui/session``, which keeps it in an HttpOnly, SameSite=Strict
  cookie. Every page loads the wallet (``wallet_head``); the server never sees a key.
* Language: ``?lang=en|zh-Hans``, else Accept-Language (``i18n.negotiate``).
* Times: UTC ISO 8601 in ``<time datetime>``; a small script shows them in the browser's
  time zone (the text before it runs is the UTC value); deadlines carry a countdown.
* Actions (``actions.py``, ``actions.js``): the case page offers forms for the steps the
  case view's ``allowedSteps`` opens to the viewer; the wallet signs each record and the
  page posts it through ``/ui/api/`` (the API itself, with the cookie's token).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import col, select
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.db.models import AnchorBatch, AnchorInclusion, Leaf
from backend.services import views
from backend.services.auth import authenticate
from backend.services.errors import ServiceError
from backend.services.views import CaseViewJson, EvidenceEntryJson
from backend.worker.runner import chain_labels
from evidence.words import DISPUTE_TYPES, REMEDIES, ROLES, SIDES, word

from .actions import actions_section, case_data
from .actions import router as actions_router
from .assets import router as assets_router
from .desk import e as _e
from .fasttrack import fast_track_section
from .i18n import LANGS, STAGES, UI, T, negotiate, register, text, ui
from .money import money
from .party import documents_section, wallet_section
from .party import router as party_router
from .people import Person, names_for, person_html, viewer_kinds
from .profile import router as profile_router
from .receipts import receipts_section
from .timeline import timeline_people, timeline_section
from .wallet import router as wallet_router
from .wallet import wallet_context, wallet_head

if TYPE_CHECKING:
    from collections.abc import Mapping

    from backend.api.context import AppContext
    from evidence.words import Words

__all__ = ["COOKIE", "NAV", "NavItem", "csp_nonce", "lang_of", "nav_for", "need_sign_in",
           "not_found_page", "page", "root_router", "router", "time_html", "viewer_of"]

COOKIE = "chainarb_session"

router = APIRouter(prefix="/ui", tags=["web pages"], include_in_schema=False)


def _short(value: str | None, keep: int = 10) -> str:
    if not value:
        return "—"
    return value if len(value) <= 2 * keep + 1 else f"{value[:keep]}…{value[-6:]}"


def _hash(value: str | None) -> str:
    if not value:
        return "—"
    return f'<code title="{_e(value)}">{_e(_short(value))}</code>'


def _time(value: str | None) -> str:
    if not value:
        return "—"
    return f'<time datetime="{_e(value)}">{_e(value)}</time>'


def _lang(request: Request) -> str:
    return negotiate(request.query_params.get("lang"), request.headers.get("accept-language"))


def _viewer(request: Request) -> str | None:
    token = request.cookies.get(COOKIE)
    if not token:
        return None
    ctx = request.app.state.ctx
    try:
        with ctx.sessions() as session:
            return authenticate(session, token, ctx.clock(), ctx.auth_cache.secret)
    except ServiceError:
        return None


_CSS = """
body{font-family:system-ui,-apple-system,"Segoe UI","PingFang SC","Noto Sans CJK SC",
"Microsoft YaHei",sans-serif;margin:0;color:#1d2430;background:#f6f7f9}
header{background:#17324d;color:#fff;padding:.8rem 1.5rem;display:flex;gap:1rem;
align-items:center;flex-wrap:wrap}
header code{color:#17324d}header .muted{color:#c9d3df}
header a{color:#cfe3ff}header .brand{font-weight:700;font-size:1.1rem;color:#fff;
text-decoration:none}header .tagline{color:#c9d3df}header nav.main{display:flex;gap:.8rem;
align-items:center}header nav.main a[aria-current=page]{color:#fff;font-weight:700;
text-decoration-thickness:2px}header .account{margin-left:auto;display:flex;gap:.8rem;
align-items:center;flex-wrap:wrap}header .who a.person{color:#fff}
main{max-width:72rem;margin:1.5rem auto;padding:0 1rem}
section{background:#fff;border:1px solid #dde2ea;border-radius:8px;padding:1rem 1.2rem;
margin-bottom:1rem}h1{font-size:1.4rem}h2{font-size:1.1rem;margin-top:0}
table{border-collapse:collapse;width:100%;font-size:.92rem}
th,td{text-align:left;padding:.35rem .5rem;border-bottom:1px solid #eef0f4;
vertical-align:top}th{color:#5a6475;font-weight:600}
code{font-size:.85rem;background:#f1f3f6;padding:0 .2rem;border-radius:3px}
.stage{display:inline-block;background:#e6f0ff;color:#17324d;border-radius:999px;
padding:.1rem .7rem;font-weight:600}.muted{color:#5f6675}
.muted code{color:#3f4856}.amount{font-variant-numeric:
tabular-nums;text-align:right}button{background:#17324d;color:#fff;border:0;
border-radius:6px;padding:.5rem 1rem;font-size:1rem;cursor:pointer}
.error{color:#a40000}
form.step{border-top:1px solid #eef0f4;padding:.6rem 0 .4rem}form.step:first-of-type{border-top:0}
form.step h3{font-size:1rem;margin:.2rem 0 .5rem}.field{display:flex;flex-direction:column;
gap:.2rem;margin-bottom:.6rem;max-width:28rem}.field label{font-weight:600}
.field input,.field select,.field textarea{font:inherit;padding:.4rem .5rem;border:1px solid
#b8c0cc;border-radius:6px}.field small{font-size:.85rem}
button:focus-visible,input:focus-visible,select:focus-visible,textarea:focus-visible,
a:focus-visible{outline:3px solid #f0a500;outline-offset:2px}
button:disabled{opacity:.6;cursor:wait}.result{margin:.5rem 0 0;min-height:1.2em}
[aria-invalid=true]{border-color:#a40000!important;box-shadow:0 0 0 1px #a40000}
.result.ok{color:#0a6b2d}.result.error{color:#a40000}.result.pending{color:#5a6475}
.result .refresh{margin-left:.5rem;background:#fff;color:#17324d;border:1px solid #17324d;
padding:.2rem .6rem;font-size:.9rem}.countdown{color:#8a4b00;font-weight:600;
margin-left:.4rem}.countdown.passed{color:#a40000}.offer-terms{margin:.2rem 0 .5rem}
form.inline{display:inline}td code{word-break:break-all}
table.standing,.fast-track-preview table{max-width:36rem}.nowrap{white-space:nowrap}
"""

@dataclass(frozen=True)
class NavItem:
    """One link of the header's navigation: its words (a ``UI`` key), where it goes, and
    who sees it (``people.viewer_kinds``: ``guest``, ``person``, ``admin``, ``court``,
    ``neutral``; a viewer sees an item when the two sets meet)."""

    label: str
    path: str
    audience: frozenset[str]


_PERSON = frozenset({"person"})

# The navigation, in the order shown. A page module adds its own entry here (one line) and
# its label's words with i18n.register; the crawl test visits every path for every kind.
NAV: list[NavItem] = [
    NavItem("nav_cases", "/ui/cases", _PERSON),
    NavItem("nav_profile", "/ui/profile", _PERSON),
    NavItem("nav_orders", "/ui/orders", _PERSON),  # party.py
    NavItem("nav_notices", "/ui/notices", _PERSON),  # party.py
    NavItem("nav_pool", "/ui/pool", _PERSON),  # pool.py
    NavItem("nav_neutral", "/ui/neutral", frozenset({"neutral"})),  # neutral.py
    NavItem("nav_institution", "/ui/institution", frozenset({"admin"})),  # institution.py
    NavItem("court_nav", "/ui/court", frozenset({"court"})),  # backend/web/court.py
]

register({
    "order_n": {"en": "Order {n}", "zh-Hans": "订单 {n}"},
    "chain_embedded": {"en": "embedded chain", "zh-Hans": "内置链"},
    "chain_n": {"en": "chain {n}", "zh-Hans": "链 {n}"},
    "list_case": {"en": "Case", "zh-Hans": "案件"},
    "list_your_role": {"en": "Your role", "zh-Hans": "您的身份"},
    "list_other_side": {"en": "Other side", "zh-Hans": "对方"},
    "list_parties": {"en": "Parties", "zh-Hans": "当事人"},
    "list_institution": {"en": "Institution: every case", "zh-Hans": "仲裁机构：全部案件"},
    "list_none_institution": {"en": "No other cases.", "zh-Hans": "没有其他案件。"},
    "page_missing": {"en": "No such page", "zh-Hans": "页面不存在"},
    "page_missing_help": {"en": "The address may be mistyped, or the page has moved.",
                          "zh-Hans": "网址可能有误，或页面已移动。"},
    "page_start": {"en": "Go to the start page", "zh-Hans": "前往首页"},
    "nav_cases": {"en": "Cases", "zh-Hans": "案件"},
    "nav_profile": {"en": "Your profile", "zh-Hans": "个人资料"},
    "nav_label": {"en": "Main", "zh-Hans": "主导航"},
})


def nav_for(kinds: frozenset[str]) -> list[NavItem]:
    """The items a viewer of these kinds sees."""
    return [item for item in NAV if item.audience & kinds]


def _nav_html(request: Request, kinds: frozenset[str], lang: str) -> str:
    here = request.url.path
    links = "".join(
        f'<a href="{_e(item.path)}?lang={lang}" data-nav="{_e(item.label)}"'
        f'{" aria-current=page" if here == item.path else ""}>{_e(ui(item.label, lang))}</a>'
        for item in nav_for(kinds))
    return f'<nav class="main" aria-label="{_e(ui("nav_label", lang))}">{links}</nav>'


def _layout_data(ctx: AppContext, lang: str) -> str:
    """What layout.js needs: the service's clock now (countdowns) and its words."""
    import json

    data = {"serverNow": int(ctx.clock().timestamp()), "left": ui("left", lang),
            "passed": ui("passed", lang)}
    return json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")


def csp_nonce(request: Request) -> str:
    """This request's CSP nonce (the API's edge, ``backend.api.edge.ApiEdge``, sets it and
    ``backend.api.headers.secure`` names it in the page's Content-Security-Policy): only
    inline scripts and styles carrying it run. Without the edge there is no nonce and no
    inline script runs."""
    return str(getattr(request.state, "csp_nonce", ""))


def page(request: Request, lang: str, title: str, body: str, viewer: str | None,
         status: int = 200, *, case: CaseViewJson | None = None) -> HTMLResponse:
    """A page of the service in ``lang``: header with the nav (``NAV``) for this viewer,
    who is signed in (by name), the language switch, the body, local times. ``case``: the
    case view the page is about (its token and people, for the wallet's signing prompt)."""
    path = request.url.path
    keep = "&".join(f"{_e(k)}={_e(v)}" for k, v in request.query_params.items() if k != "lang")
    switch = " · ".join(
        f'<a href="{_e(path)}?lang={code}{"&" + keep if keep else ""}" hreflang="{code}" '
        f'lang="{code}"{" aria-current=true" if code == lang else ""}>{name}</a>'
        for code, name in (("en", "English"), ("zh-Hans", "简体中文")))
    ctx = request.app.state.ctx
    who = (f'<span class="who"><span class="muted">{_e(text("signed_in_as", lang))}</span> '
           f'{person_html(viewer, names_for(ctx, [viewer]), lang)}</span> '
           f'<form method="post" action="/ui/sign-out?lang={lang}" class="inline">'
           f'<button type="submit" id="sign-out">{_e(text("sign_out", lang))}</button></form>'
           if viewer else f'<a href="/ui/sign-in?lang={lang}">{_e(text("sign_in", lang))}</a>')
    nonce = csp_nonce(request)
    doc = f"""<!doctype html>
<html lang="{lang}"><head><meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1"><link rel="icon" href="data:,">
<title>{_e(title)} — chainarb</title><style nonce="{nonce}">{_CSS}</style>
{wallet_head(lang, wallet_context(ctx, lang, viewer, case))}</head>
<body><header><a class="brand" href="/ui?lang={lang}">chainarb</a>
<span class="tagline">{_e(text("title", lang))}</span>
{_nav_html(request, viewer_kinds(ctx, viewer), lang)}
<div class="account">{who}
<span class="lang-switch">{switch}</span></div></header>
<main>{body}<p class="muted" id="tz-note">{_e(text("times_local", lang))}</p></main>
<script type="application/json" id="layout-data">{_layout_data(ctx, lang)}</script>
<script nonce="{nonce}" src="/ui/static/layout.js"></script></body></html>"""
    return HTMLResponse(doc, status_code=status,
                        headers={"Content-Language": lang, "Vary": "Accept-Language, Cookie",
                                 "Cache-Control": "no-store"})


@router.get("", include_in_schema=False)
@router.get("/", include_in_schema=False)
def home(request: Request) -> RedirectResponse:
    """Where the pages start: a signed-in person's cases, else the sign-in page."""
    where = "cases" if _viewer(request) else "sign-in"
    return RedirectResponse(f"/ui/{where}?lang={_lang(request)}", status_code=303)


root_router = APIRouter(include_in_schema=False)


@root_router.get("/", include_in_schema=False)
def root(request: Request) -> RedirectResponse:
    """``GET /`` leads to the pages (a browser opening the service's address)."""
    return RedirectResponse(f"/ui?lang={_lang(request)}", status_code=303)


# --- sign-in ------------------------------------------------------------------------------

class SessionIn(BaseModel):
    token: str = Field(min_length=16, max_length=256)


@router.post("/session", status_code=204)
def set_session(request: Request, body: SessionIn) -> Response:
    """Keep a session token from /auth/sign-in in an HttpOnly cookie for the pages."""
    ctx = request.app.state.ctx
    with ctx.sessions() as session:
        authenticate(session, body.token, ctx.clock(), ctx.auth_cache.secret)  # 401 unless live
    response = Response(status_code=204)
    response.set_cookie(COOKIE, body.token, httponly=True, samesite="strict", path="/",
                        max_age=ctx.settings.session_lifetime_seconds)
    return response


@router.post("/sign-out")
def sign_out(request: Request) -> RedirectResponse:
    from backend.services.auth import sign_out_unit

    token = request.cookies.get(COOKIE)
    if token:
        ctx = request.app.state.ctx
        try:
            sign_out_unit(ctx.sessions, token, ctx.clock(), ctx.auth_cache.secret)
            ctx.auth_cache.forget(token)
        except ServiceError:
            pass
    response = RedirectResponse(f"/ui/sign-in?lang={_lang(request)}", status_code=303)
    response.delete_cookie(COOKIE, path="/")
    return response


# --- cases --------------------------------------------------------------------------------

def _stage(stage: str | None, lang: str) -> str:
    name = STAGES.get(stage or "", {}).get(lang, stage or "—")
    return f'<span class="stage" data-stage="{_e(stage)}">{_e(name)}</span>'


def _need_sign_in(request: Request, lang: str) -> HTMLResponse:
    body = (f'<section><p>{_e(text("need_sign_in", lang))}</p>'
            f'<p><a href="/ui/sign-in?lang={lang}">{_e(text("sign_in", lang))}</a></p>'
            "</section>")
    return page(request, lang, text("sign_in", lang), body, None, status=401)


def _role_words(role: str, lang: str) -> str:
    """A seat in a case in words (buyer and seller are the escrow's sides)."""
    en, zh = word(SIDES, role) if role in SIDES else word(ROLES, role)
    return zh if lang == "zh-Hans" else en[:1].upper() + en[1:]


def _other_side(row: views.CaseSummaryJson, viewer: str, names: dict[str, Person], lang: str
                ) -> str:
    """Who the case is against, for a party; both sides, for anyone else."""
    if viewer == row["buyer"]:
        return person_html(row["seller"], names, lang)
    if viewer == row["seller"]:
        return person_html(row["buyer"], names, lang)
    return (f'{_e(_role_words("buyer", lang))}{_colon(lang)}'
            f'{person_html(row["buyer"], names, lang)}<br>'
            f'{_e(_role_words("seller", lang))}{_colon(lang)}'
            f'{person_html(row["seller"], names, lang)}')


def _colon(lang: str) -> str:
    """A label's colon in the page's language (full-width in Chinese)."""
    return "：" if lang == "zh-Hans" else ": "


def _deadline_html(value: str | None) -> str:
    if not value:
        return "—"
    return f'{_time(value)} <span class="countdown" data-countdown="{_e(value)}"></span>'


def _case_rows(rows: list[views.CaseSummaryJson], viewer: str, names: dict[str, Person], lang: str,
               *, mine: bool) -> str:
    """The table of cases: soonest deadline first, then the ones with none, oldest first."""
    rows = sorted(rows, key=lambda r: (r["nextDeadline"] is None, r["nextDeadline"] or ""))
    trs = []
    for r in rows:
        roles = ", ".join(_role_words(x, lang) for x in r.get("yourRoles") or [])
        trs.append(
            f'<tr data-case="{_e(r["caseId"])}"><td><a href="/ui/cases/{_e(r["caseId"])}'
            f'?lang={lang}">{_e(ui("order_n", lang).format(n=r["orderId"]))}</a></td>'
            + (f'<td>{_e(roles)}</td>' if mine else "")
            + f'<td>{_other_side(r, viewer, names, lang)}</td>'
            f'<td>{_e(_words(DISPUTE_TYPES, r.get("disputeType"), lang))}</td>'
            f'<td class="amount">{_e(money(r.get("amount"), r))}</td>'
            f'<td>{_stage(r["stage"], lang)}</td><td>{_deadline_html(r["nextDeadline"])}</td>'
            "</tr>")
    head = ([ui("list_case", lang)] + ([ui("list_your_role", lang)] if mine else [])
            + [ui("list_other_side" if mine else "list_parties", lang), text("dispute", lang),
               text("amount", lang), text("stage", lang), text("deadline", lang)])
    ths = "".join(f'<th scope="col">{_e(h)}</th>' for h in head)
    return f"<table><thead><tr>{ths}</tr></thead><tbody>{''.join(trs)}</tbody></table>"


@router.get("/cases", response_class=HTMLResponse)
def case_list(request: Request) -> HTMLResponse:
    """The viewer's cases; an admin's institution cases under a heading of their own."""
    lang = _lang(request)
    viewer = _viewer(request)
    if viewer is None:
        return _need_sign_in(request, lang)
    ctx = request.app.state.ctx
    rows = views.list_cases(ctx.service, viewer)
    names = names_for(ctx, [a for r in rows for a in (r["buyer"], r["seller"])])
    mine = [r for r in rows if r["yourRoles"]]
    admin = ctx.service.is_admin(viewer)
    body = ""
    if mine or not admin:  # an admin without a seat of their own sees only the institution's
        body = f'<section id="your-cases"><h1>{_e(text("cases", lang))}</h1>'
        body += (f'<div id="cases">{_case_rows(mine, viewer, names, lang, mine=True)}</div>'
                 if mine else f'<p id="no-cases">{_e(text("no_cases", lang))}</p>')
        body += "</section>"
    if admin:
        rest = [r for r in rows if not r["yourRoles"]]
        inner = (_case_rows(rest, viewer, names, lang, mine=False) if rest
                 else f'<p>{_e(ui("list_none_institution", lang))}</p>')
        h = "h2" if body else "h1"
        body += (f'<section id="institution-cases"><{h}>{_e(ui("list_institution", lang))}'
                 f"</{h}>{inner}</section>")
    return page(request, lang, text("cases", lang), body, viewer)


def _anchors(request: Request, case_id: str) -> list[tuple[AnchorBatch, AnchorInclusion]]:
    """The case's batches with their inclusion on each chain (batch order, then chain)."""
    ctx = request.app.state.ctx
    with ctx.sessions() as session:
        ids = set(session.exec(select(Leaf.batch_id).where(
            col(Leaf.case_id) == case_id, col(Leaf.batch_id).is_not(None))).all())
        if not ids:
            return []
        rows = session.exec(select(AnchorBatch, AnchorInclusion)
                            .join(AnchorInclusion,
                                  col(AnchorInclusion.batch_id) == col(AnchorBatch.id))
                            .where(col(AnchorBatch.id).in_(ids))
                            .order_by(col(AnchorBatch.id), col(AnchorInclusion.id))).all()
        return [(b, i) for b, i in rows]


def _chain_names(request: Request) -> dict[int, str]:
    """Each anchoring chain's configured name by id (the service's own chain first)."""
    ctx = request.app.state.ctx
    labels = chain_labels(ctx.settings, ctx.service.domain.chain_id)
    return {chain_id: label.name for chain_id, label in labels.items()}


def _case_people(view: CaseViewJson) -> list[str | None]:
    """Every address a case page names (one ``names_for`` query for the lot)."""
    return [view.get("buyer"), view.get("seller"), view.get("claimant"),
            view.get("respondent"), view.get("mediator"), view.get("arbitrator"),
            view.get("institution"), *(view.get("panel") or [])]


def _parties(view: CaseViewJson, lang: str, names: dict[str, Person]) -> str:
    rows = [("buyer", view.get("buyer")), ("seller", view.get("seller")),
            ("claimant", view.get("claimant")), ("respondent", view.get("respondent")),
            ("mediator", view.get("mediator")), ("arbitrator", view.get("arbitrator")),
            ("institution", view.get("institution"))]
    rows += [("panel", m) for m in view.get("panel") or []]
    trs = "".join(f'<tr><th>{_e(text(k, lang))}</th><td>{person_html(v, names, lang)}</td></tr>'
                  for k, v in rows if v)
    facts = [("amount", money(view.get("amount"), view)),
             ("guarantee", money(view.get("guarantee"), view)),
             ("dispute", _words(DISPUTE_TYPES, view.get("disputeType"), lang)),
             ("remedy", _words(REMEDIES, view.get("remedy"), lang)),
             ("your_roles", ", ".join(_role_words(r, lang) for r in view.get("yourRoles") or []))]
    trs += "".join(f'<tr><th>{_e(text(k, lang))}</th><td>{_e(v)}</td></tr>' for k, v in facts)
    return (f'<section id="parties"><h2>{_e(text("parties", lang))}</h2>'
            f"<table>{trs}</table></section>")


def _kind(kind: str, lang: str) -> str:
    entry = UI.get(f"kind_{kind}")
    return entry[lang] if entry else kind


def _evidence(view: CaseViewJson, lang: str, names: dict[str, Person]) -> str:
    items = view.get("evidence") or []
    if not items:
        inner = f'<p>{_e(text("no_evidence", lang))}</p>'
    else:
        trs = "".join(
            f'<tr><td>{_e(_kind(i["kind"], lang))}</td>'
            f'<td>{person_html(i["submittedBy"], names, lang)}</td>'
            f'<td>{_stage(i["stage"], lang)}</td><td>{_time(i["submittedAt"])}</td>'
            f'<td>{_hash(i["commitment"])}</td><td>{_hash(i.get("contentCid"))}</td>'
            f'<td>{_readable(view["caseId"], i, lang)}</td></tr>'
            for i in items)
        inner = (f'<table><thead><tr><th>{_e(text("kind", lang))}</th>'
                 f'<th>{_e(text("submitted_by", lang))}</th><th>{_e(text("stage", lang))}</th>'
                 f'<th>{_e(text("time", lang))}</th><th>{_e(text("commitment", lang))}</th>'
                 f'<th>{_e(text("cid", lang))}</th><th>{_e(text("readable", lang))}</th></tr>'
                 f"</thead><tbody>{trs}</tbody></table>")
    return f'<section id="evidence"><h2>{_e(text("evidence", lang))}</h2>{inner}</section>'


def _readable(case_id: str, item: EvidenceEntryJson, lang: str) -> str:
    """A link to the item's page (party.py: shown inline, checked, downloadable), or "no"."""
    if not item["readable"]:
        return _e(text("no", lang))
    return (f'<a class="open-evidence" href="/ui/cases/{_e(case_id)}/evidence/'
            f'{_e(item["commitment"])}?lang={lang}">{_e(ui("evidence_open", lang))}</a>')


def _award(view: CaseViewJson, lang: str) -> str:
    award = view.get("award")
    if not award:
        inner = f'<p>{_e(text("no_award", lang))}</p>'
    else:
        alloc = award["allocation"]
        rows = [("to_buyer", money(alloc["to_buyer"], view)),
                ("to_seller", money(alloc["to_seller"], view)),
                ("compensation", money(alloc["compensation"], view))]
        inner = "<table>" + "".join(
            f'<tr><th>{_e(text(k, lang))}</th><td class="amount">{_e(v)}</td></tr>'
            for k, v in rows) + (f'<tr><th>{_e(text("award_hash", lang))}</th>'
                                 f'<td>{_hash(award.get("award_hash"))}</td></tr></table>')
    court = view.get("courtDecision")
    if court:
        outcome = "pkg_confirmed" if court.get("confirmed", True) else "pkg_refused"
        inner += (f'<p id="court-decision"><strong>{_e(text("court", lang))}:</strong> '
                  f'{_e(text(outcome, lang))} · {_e(text("pkg_reference", lang))} '
                  f'{_e(court.get("court_reference") or "—")}</p>')
    return f'<section id="award"><h2>{_e(text("award", lang))}</h2>{inner}</section>'


def _anchor_table(rows: list[tuple[AnchorBatch, AnchorInclusion]], lang: str,
                  names: dict[int, str]) -> str:
    if not rows:
        inner = f'<p>{_e(text("no_anchors", lang))}</p>'
    else:
        trs = "".join(
            f'<tr><td>{_hash(b.root)}</td>'
            f'<td>{_chain_name(names.get(i.chain_id), i.chain_id, lang)} ({_e(i.chain_id)})</td>'
            f'<td>{_hash(i.tx_hash)}</td>'
            f'<td>{_e(i.block_number if i.block_number is not None else "—")}</td>'
            f'<td>{_time(_iso(i.block_time))}</td>'
            f'<td>{_e(_anchor_status(i.status, lang))}</td></tr>'
            for b, i in rows)
        inner = (f'<table><thead><tr><th>{_e(text("root", lang))}</th>'
                 f'<th>{_e(text("chain", lang))}</th>'
                 f'<th>{_e(text("tx", lang))}</th><th>{_e(text("block", lang))}</th>'
                 f'<th>{_e(text("time", lang))}</th><th>{_e(text("status", lang))}</th></tr>'
                 f"</thead><tbody>{trs}</tbody></table>")
    return f'<section id="anchors"><h2>{_e(text("anchors", lang))}</h2>{inner}</section>'


def _chain_name(name: str | None, chain_id: int, lang: str) -> str:
    """A chain's name: the operator's configured one as written; the defaults in words."""
    if name in (None, "embedded chain", f"chain {chain_id}"):
        key = "chain_embedded" if name == "embedded chain" else "chain_n"
        return _e(ui(key, lang).format(n=chain_id))
    return f'<span translate="no">{_e(name)}</span>'


def _anchor_status(status: object, lang: str) -> str:
    """An anchor's state in words (the verify page's words)."""
    key = f"anchor_{getattr(status, 'value', status)}"
    return text(key, lang) if key in T else str(status)


def _words(table: Mapping[str, Words], key: str | None, lang: str) -> str:
    """A case value (dispute type, remedy) in words; ``—`` when not stated."""
    if not key:
        return "—"
    en, zh = word(table, key)
    return zh if lang == "zh-Hans" else en[:1].upper() + en[1:]


def _iso(value: datetime | None) -> str | None:
    from backend import procedure as p

    return p.to_jsonable(value) if value is not None else None


@router.get("/cases/{case_id}", response_class=HTMLResponse)
def case_page(request: Request, case_id: str) -> HTMLResponse:
    lang = _lang(request)
    viewer = _viewer(request)
    if viewer is None:
        return _need_sign_in(request, lang)
    service = request.app.state.ctx.service
    case_id = case_id.lower()
    try:
        view = views.case_view(service, case_id, viewer)
        items = views.timeline(service, case_id, viewer)
    except ServiceError as exc:
        key = "denied" if exc.http_status == 403 else "not_found"
        body = f'<section><p class="error">{_e(text(key, lang))}</p></section>'
        return page(request, lang, text("case", lang), body, viewer,
                     status=exc.http_status if exc.http_status in (403, 404) else 400)
    names = names_for(request.app.state.ctx, _case_people(view) + timeline_people(items)
                      + [i["submittedBy"] for i in view.get("evidence") or []])
    head = (f'<section id="summary"><h1>{_e(ui("order_n", lang).format(n=view["orderId"]))}: '
            f'{person_html(view["buyer"], names, lang)} · '
            f'{person_html(view["seller"], names, lang)}</h1>'
            f'<p>{_e(text("stage", lang))}{_colon(lang)}{_stage(view["stage"], lang)} · '
            f'{_e(text("deadline", lang))}{_colon(lang)}{_deadline_html(view.get("deadline"))}'
            '</p>'
            f'<p class="muted">{_e(text("case", lang))} <code title="{_e(view["caseId"])}">'
            f'{_e(_short(view["caseId"]))}</code> · {_e(text("order", lang))} '
            f'{_e(view["orderId"])}</p>'
            + (f'<p><a id="court-workspace" href="/ui/court/cases/{_e(case_id)}?lang={lang}">'
               f'{_e(ui("court_open_workspace", lang))}</a></p>'
               if "court" in view["yourRoles"] else "") + "</section>")
    actions = (wallet_section(request, case_id, viewer, lang)
               + actions_section(case_data(request, view, viewer, lang), lang))
    body = (head + fast_track_section(request, view, viewer, lang) + actions
            + _parties(view, lang, names) + timeline_section(items, names, lang)
            + _evidence(view, lang, names) + documents_section(request, case_id, viewer, lang)
            + receipts_section(view["caseId"], viewer, lang) + _award(view, lang)
            + _anchor_table(_anchors(request, case_id), lang, _chain_names(request)))
    return page(request, lang, ui("order_n", lang).format(n=view["orderId"]), body, viewer,
                case=view)


async def not_found_page(request: Request, exc: StarletteHTTPException) -> Response:
    """A page's 404 in words (an unknown page under ``/ui``, asked for by a browser); any
    other refusal stays the API's JSON body (``backend.api.errors.http_error``)."""
    from backend.api.errors import http_error

    path = request.url.path
    wants_page = (exc.status_code == 404 and request.method == "GET" and path.startswith("/ui")
                  and not path.startswith(("/ui/api/", "/ui/static/"))
                  and "text/html" in request.headers.get("accept", ""))
    if not wants_page:
        return await http_error(request, exc)
    lang = _lang(request)
    body = (f'<section id="not-found"><h1>{_e(ui("page_missing", lang))}</h1>'
            f'<p>{_e(ui("page_missing_help", lang))}</p>'
            f'<p><a href="/ui?lang={lang}">{_e(ui("page_start", lang))}</a></p></section>')
    return page(request, lang, ui("page_missing", lang), body, _viewer(request), status=404)


def lang_of(request: Request) -> str:
    """The page language of this request (``?lang=``, else Accept-Language)."""
    return _lang(request)


def viewer_of(request: Request) -> str | None:
    """The signed-in address of the page's session cookie, or None."""
    return _viewer(request)


def need_sign_in(request: Request, lang: str) -> HTMLResponse:
    """The 401 page that leads to sign-in (for a page that needs a signed-in viewer)."""
    return _need_sign_in(request, lang)


def time_html(value: str | None) -> str:
    """A UTC ISO 8601 time as ``<time datetime>`` (shown in the viewer's zone by script)."""
    return _time(value)


router.include_router(actions_router)
router.include_router(assets_router)
router.include_router(profile_router)
router.include_router(party_router)
router.include_router(wallet_router)

from .court import router as court_router  # noqa: E402  (its pages use page() above)
from .institution import router as institution_router  # noqa: E402 - uses page()
from .neutral import router as neutral_router  # noqa: E402 - uses page()
from .pool import router as pool_router  # noqa: E402 - uses page()

router.include_router(court_router)
router.include_router(institution_router)
router.include_router(neutral_router)
router.include_router(pool_router)

assert set(LANGS) == {"en", "zh-Hans"}
