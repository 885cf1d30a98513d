"""Server-rendered pages: wallet sign-in, the viewer's cases, a case with its record.

Why plain Python rendering and no template engine: five small pages, every value escaped
in one place (``_e``), no new dependency. The pages read through the same service views as
the API (``backend.services.views``), so a page shows exactly what the API would give the
viewer: evidence as the disclosure rules allow, offers only to those who may see them.

* Sign-in: ``/ui/sign-in`` uses the browser wallet (``window.ethereum``): it asks the API
  for the EIP-4361 message, has the wallet sign it with ``personal_sign``, exchanges it
  for a session token (``POST /auth/sign-in``) and hands the token to ``POST
  /ui/session``, which keeps it in an HttpOnly, SameSite=Strict cookie. The pages never
  see a private key; the script also exposes ``chainarbSignTypedData`` (the wallet's
  ``eth_signTypedData_v4``) for signing steps.
* Language: ``?lang=en|zh-Hans``, else Accept-Language (``i18n.negotiate``).
* Times: UTC ISO 8601 in ``<time datetime>``; a small script shows them in the browser's
  time zone (the text before it runs is the UTC value); deadlines carry a countdown.
* Actions (``actions.py``, ``actions.js``): the case page offers forms for the steps the
  case view's ``allowedSteps`` opens to the viewer; the wallet signs each record and the
  page posts it through ``/ui/api/`` (the API itself, with the cookie's token).
"""

from __future__ import annotations

import html
from dataclasses import dataclass
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from pydantic import BaseModel, Field
from sqlmodel import col, select

from backend.db.models import AnchorBatch, AnchorInclusion, Leaf
from backend.services import views
from backend.services.auth import authenticate
from backend.services.errors import ServiceError
from backend.worker.runner import chain_labels
from evidence.words import amount, timeline_label

from .actions import actions_section, case_data
from .actions import router as actions_router
from .assets import router as assets_router
from .i18n import LANGS, STAGES, UI, negotiate, register, step_word, text, ui
from .party import router as party_router
from .party import wallet_section
from .people import Person, names_for, person_html, viewer_kinds
from .profile import router as profile_router

__all__ = ["COOKIE", "NAV", "NavItem", "csp_nonce", "lang_of", "nav_for", "need_sign_in", "page",
           "root_router", "router", "time_html", "viewer_of"]

COOKIE = "chainarb_session"
DECIMALS = 6  # the escrow's stablecoin (docs: amounts are shown exactly, 6 decimals)

router = APIRouter(prefix="/ui", tags=["web pages"], include_in_schema=False)


def _e(value: Any) -> str:
    return html.escape("" if value is None else str(value), quote=True)


def _amount(units: Any) -> str:
    if units in (None, ""):
        return "—"
    return amount(units, DECIMALS, "")


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
padding:.1rem .7rem;font-weight:600}.muted{color:#6b7280}.amount{font-variant-numeric:
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
"""

_TIME_SCRIPT = """
document.querySelectorAll('time[datetime]').forEach(function (el) {
  var d = new Date(el.getAttribute('datetime'));
  if (!isNaN(d)) { el.title = el.getAttribute('datetime');
    el.textContent = d.toLocaleString(document.documentElement.lang); }
});
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
]

register({
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


def csp_nonce(request: Request) -> str:
    """This request's CSP nonce (``backend.api.headers.SecurityHeaders`` sets it and names
    it in the page's Content-Security-Policy): only inline scripts and styles carrying it
    run. Without the middleware there is no nonce and no inline script runs."""
    return str(getattr(request.state, "csp_nonce", ""))


def page(request: Request, lang: str, title: str, body: str, viewer: str | None,
         status: int = 200) -> HTMLResponse:
    """A page of the service in ``lang``: header with the nav (``NAV``) for this viewer,
    who is signed in (by name), the language switch, the body, local times."""
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
<title>{_e(title)} — chainarb</title><style nonce="{nonce}">{_CSS}</style></head>
<body><header><a class="brand" href="/ui?lang={lang}">chainarb</a>
<span class="tagline">{_e(text("title", lang))}</span>
{_nav_html(request, viewer_kinds(ctx, viewer), lang)}
<div class="account">{who}
<span class="lang-switch">{switch}</span></div></header>
<main>{body}<p class="muted" id="tz-note">{_e(text("times_local", lang))}</p></main>
<script nonce="{nonce}">{_TIME_SCRIPT}</script></body></html>"""
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

_SIGN_IN_SCRIPT = """
function hexUtf8(s) { return '0x' + Array.from(new TextEncoder().encode(s))
  .map(function (b) { return b.toString(16).padStart(2, '0'); }).join(''); }
async function chainarbSignTypedData(typedData) {
  var accounts = await window.ethereum.request({method: 'eth_requestAccounts'});
  return window.ethereum.request({method: 'eth_signTypedData_v4',
    params: [accounts[0], JSON.stringify(typedData)]});
}
window.chainarbSignTypedData = chainarbSignTypedData;
async function chainarbSignIn() {
  var out = document.getElementById('sign-in-status');
  if (!window.ethereum) { out.textContent = MSG.noWallet; out.className = 'error'; return; }
  try {
    var accounts = await window.ethereum.request({method: 'eth_requestAccounts'});
    var address = accounts[0];
    var ch = await (await fetch('/auth/nonce?address=' + encodeURIComponent(address))).json();
    var sig = await window.ethereum.request({method: 'personal_sign',
      params: [hexUtf8(ch.message), address]});
    var r = await fetch('/auth/sign-in', {method: 'POST',
      headers: {'Content-Type': 'application/json'},
      body: JSON.stringify({message: ch.message, signature: sig})});
    var body = await r.json();
    if (!r.ok) { throw new Error(body.detail || r.status); }
    var s = await fetch('/ui/session', {method: 'POST',
      headers: {'Content-Type': 'application/json'}, body: JSON.stringify({token: body.token})});
    if (!s.ok) { throw new Error('session ' + s.status); }
    location.href = '/ui/cases?lang=' + LANG;
  } catch (e) { out.textContent = String(e.message || e); out.className = 'error'; }
}
document.getElementById('sign-in').addEventListener('click', chainarbSignIn);
"""


@router.get("/sign-in", response_class=HTMLResponse)
def sign_in_page(request: Request) -> HTMLResponse:
    import json

    lang = _lang(request)
    consts = (f"var LANG = {json.dumps(lang)}; "
              f"var MSG = {{noWallet: {json.dumps(text('no_wallet', lang))}}};")
    body = f"""<section><h1>{_e(text("sign_in", lang))}</h1>
<p>{_e(text("sign_in_help", lang))}</p>
<button id="sign-in" type="button">{_e(text("sign_in_button", lang))}</button>
<p id="sign-in-status" role="status"></p></section>
<script nonce="{csp_nonce(request)}">{consts}{_SIGN_IN_SCRIPT}</script>"""
    return page(request, lang, text("sign_in", lang), body, _viewer(request))


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


@router.get("/cases", response_class=HTMLResponse)
def case_list(request: Request) -> HTMLResponse:
    lang = _lang(request)
    viewer = _viewer(request)
    if viewer is None:
        return _need_sign_in(request, lang)
    rows = views.list_cases(request.app.state.ctx.service, viewer)
    if rows:
        trs = "".join(
            f'<tr><td><a href="/ui/cases/{_e(r["caseId"])}?lang={lang}">'
            f'<code>{_e(_short(r["caseId"]))}</code></a></td><td>{_e(r["orderId"])}</td>'
            f'<td>{_stage(r["stage"], lang)}</td><td>{_time(r["nextDeadline"])}</td></tr>'
            for r in rows)
        table = (f'<table id="cases"><thead><tr><th>{_e(text("case", lang))}</th>'
                 f'<th>{_e(text("order", lang))}</th><th>{_e(text("stage", lang))}</th>'
                 f'<th>{_e(text("deadline", lang))}</th></tr></thead><tbody>{trs}</tbody>'
                 "</table>")
    else:
        table = f'<p>{_e(text("no_cases", lang))}</p>'
    body = f'<section><h1>{_e(text("cases", lang))}</h1>{table}</section>'
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


def _case_people(view: dict[str, Any]) -> list[str | None]:
    """Every address a case page names (one ``names_for`` query for the lot)."""
    return [view.get(k) for k in ("buyer", "seller", "claimant", "respondent", "mediator",
                                  "arbitrator", "institution")] + list(view.get("panel") or [])


def _parties(view: dict[str, Any], lang: str, names: dict[str, Person]) -> str:
    rows = [("buyer", view.get("buyer")), ("seller", view.get("seller")),
            ("claimant", view.get("claimant")), ("respondent", view.get("respondent")),
            ("mediator", view.get("mediator")), ("arbitrator", view.get("arbitrator")),
            ("institution", view.get("institution"))]
    rows += [("panel", m) for m in view.get("panel") or []]
    trs = "".join(f'<tr><th>{_e(text(k, lang))}</th><td>{person_html(v, names, lang)}</td></tr>'
                  for k, v in rows if v)
    facts = [("amount", _amount(view.get("amount"))),
             ("guarantee", _amount(view.get("guarantee"))),
             ("dispute", view.get("disputeType") or "—"), ("remedy", view.get("remedy") or "—"),
             ("your_roles", ", ".join(view.get("yourRoles") or []))]
    trs += "".join(f'<tr><th>{_e(text(k, lang))}</th><td>{_e(v)}</td></tr>' for k, v in facts)
    return (f'<section id="parties"><h2>{_e(text("parties", lang))}</h2>'
            f"<table>{trs}</table></section>")


def _timeline(items: list[dict[str, Any]], lang: str) -> str:
    trs = []
    for i in items:
        if i["type"] == "step":
            en, zh = timeline_label("ProceduralStep", i["action"])  # the step, past tense
            trs.append(f'<tr class="step"><td>{_time(i["at"])}</td><td>#{_e(i["sequence"])} '
                       f'{_e(zh if lang == "zh-Hans" else en)} '
                       f'<code title="{_e(step_word(i["action"], lang))}">{_e(i["action"])}</code>'
                       f'</td><td>{_hash(i["signer"])}</td>'
                       f'<td>{_hash(i["recordHash"])}</td><td>{_hash(i.get("cid"))}</td></tr>')
        else:
            detail = ", ".join(f"{k}: {v}" for k, v in i.items() if k not in ("at", "type"))
            trs.append(f'<tr class="event muted"><td>{_time(i["at"])}</td>'
                       f'<td colspan="4">{_e(i["type"])} — {_e(detail)}</td></tr>')
    return (f'<section id="timeline"><h2>{_e(text("timeline", lang))}</h2><table><thead><tr>'
            f'<th>{_e(text("time", lang))}</th><th>{_e(text("action", lang))}</th>'
            f'<th>{_e(text("signer", lang))}</th><th>{_e(text("record", lang))}</th>'
            f'<th>{_e(text("cid", lang))}</th></tr></thead><tbody>{"".join(trs)}</tbody>'
            "</table></section>")


def _kind(kind: str, lang: str) -> str:
    entry = UI.get(f"kind_{kind}")
    return entry[lang] if entry else kind


def _evidence(view: dict[str, Any], lang: str) -> str:
    items = view.get("evidence") or []
    if not items:
        inner = f'<p>{_e(text("no_evidence", lang))}</p>'
    else:
        trs = "".join(
            f'<tr><td>{_e(_kind(i["kind"], lang))}</td><td>{_hash(i["submittedBy"])}</td>'
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


def _readable(case_id: str, item: dict[str, Any], lang: str) -> str:
    """A link to the item's page (party.py: shown inline, checked, downloadable), or "no"."""
    if not item["readable"]:
        return _e(text("no", lang))
    return (f'<a class="open-evidence" href="/ui/cases/{_e(case_id)}/evidence/'
            f'{_e(item["commitment"])}?lang={lang}">{_e(ui("evidence_open", lang))}</a>')


def _award(view: dict[str, Any], lang: str) -> str:
    award = view.get("award")
    if not award:
        inner = f'<p>{_e(text("no_award", lang))}</p>'
    else:
        alloc = award.get("allocation") or {}
        rows = [("to_buyer", _amount(alloc.get("to_buyer"))),
                ("to_seller", _amount(alloc.get("to_seller"))),
                ("compensation", _amount(alloc.get("compensation")))]
        inner = "<table>" + "".join(
            f'<tr><th>{_e(text(k, lang))}</th><td class="amount">{_e(v)}</td></tr>'
            for k, v in rows) + (f'<tr><th>{_e(text("award_hash", lang))}</th>'
                                 f'<td>{_hash(award.get("award_hash"))}</td></tr></table>')
    court = view.get("courtDecision")
    if court:
        inner += (f'<p><strong>{_e(text("court", lang))}:</strong> '
                  f'{_e(court.get("court_reference") or "")} '
                  f'{_e("✓" if court.get("confirmed", True) else "✗")}</p>')
    return f'<section id="award"><h2>{_e(text("award", lang))}</h2>{inner}</section>'


def _anchor_table(rows: list[tuple[AnchorBatch, AnchorInclusion]], lang: str,
                  names: dict[int, str]) -> str:
    if not rows:
        inner = f'<p>{_e(text("no_anchors", lang))}</p>'
    else:
        trs = "".join(
            f'<tr><td>{_hash(b.root)}</td>'
            f'<td>{_e(names.get(i.chain_id, "chain"))} ({_e(i.chain_id)})</td>'
            f'<td>{_hash(i.tx_hash)}</td>'
            f'<td>{_e(i.block_number if i.block_number is not None else "—")}</td>'
            f'<td>{_time(_iso(i.block_time))}</td><td>{_e(i.status)}</td></tr>'
            for b, i in rows)
        inner = (f'<table><thead><tr><th>{_e(text("root", lang))}</th>'
                 f'<th>{_e(text("chain", lang))}</th>'
                 f'<th>{_e(text("tx", lang))}</th><th>{_e(text("block", lang))}</th>'
                 f'<th>{_e(text("time", lang))}</th><th>{_e(text("status", lang))}</th></tr>'
                 f"</thead><tbody>{trs}</tbody></table>")
    return f'<section id="anchors"><h2>{_e(text("anchors", lang))}</h2>{inner}</section>'


def _iso(value: Any) -> str | None:
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
    head = (f'<section id="summary"><h1>{_e(text("case", lang))} '
            f'<code>{_e(_short(view["caseId"]))}</code></h1>'
            f'<p>{_e(text("stage", lang))}: {_stage(view["stage"], lang)} · '
            f'{_e(text("order", lang))} {_e(view["orderId"])} · '
            f'{_e(text("deadline", lang))}: {_time(view.get("deadline"))}'
            + (f' <span class="countdown" data-countdown="{_e(view["deadline"])}"></span>'
               if view.get("deadline") else "") + "</p></section>")
    actions = (wallet_section(request, case_id, viewer, lang)
               + actions_section(case_data(request, view, viewer, lang), lang))
    names = names_for(request.app.state.ctx, _case_people(view))
    body = (head + actions + _parties(view, lang, names) + _timeline(items, lang)
            + _evidence(view, lang) + _award(view, lang)
            + _anchor_table(_anchors(request, case_id), lang, _chain_names(request)))
    return page(request, lang, f'{text("case", lang)} {_short(case_id)}', body, viewer)


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

assert set(LANGS) == {"en", "zh-Hans"}
