"""``/verify/{digest}``: the public page a certificate's QR code opens (HTML, or JSON for
``Accept: application/json`` at the same path; backend/services/published.py says what it
shows and why it needs no sign-in)."""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response

from backend.api.errors import ErrorBody
from backend.services.errors import NotFound
from backend.services.published import PackageStatusJson, PublishedCaseJson, package_status
from backend.worker.runner import chain_labels
from evidence.words import DISPUTE_TYPES, REMEDIES, amount, word

from .desk import e as _e
from .i18n import STAGES, negotiate, text
from .pages import page

__all__ = ["router"]

router = APIRouter(tags=["public"])

_JSON, _HTML = "application/json", "text/html"


def prefers_json(accept: str | None) -> bool:
    """True when the Accept header ranks JSON above HTML (no header, ``*/*``: HTML)."""
    best: dict[str, float] = {}
    for part in (accept or "").split(",")[:20]:
        kind, _, params = part.partition(";")
        kind = kind.strip().lower()
        q = 1.0
        for param in params.split(";"):
            name, _, value = param.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        for media in (_JSON, _HTML):
            if kind in (media, media.split("/")[0] + "/*", "*/*"):
                # an exact type outranks a wildcard of the same quality
                rank = q + (0.0001 if kind == media else 0.0)
                best[media] = max(best.get(media, 0.0), rank)
    return best.get(_JSON, 0.0) > best.get(_HTML, 0.0)


def _time(value: str | None) -> str:
    """UTC ISO 8601 in the markup; the page's script shows it in the reader's time zone."""
    return f'<time datetime="{_e(value)}">{_e(value)}</time>' if value else "—"


def _lang(request: Request) -> str:
    return negotiate(request.query_params.get("lang"), request.headers.get("accept-language"))


def _words(pair: tuple[str, str], lang: str) -> str:
    return pair[1] if lang == "zh-Hans" else pair[0]


def _amount(case: PublishedCaseJson, lang: str) -> str:
    decimals = case["decimals"]
    if case["currency"] and decimals is not None:
        return amount(case["amount"], int(decimals), str(case["currency"]))
    return text("pkg_units", lang).format(amount=case["amount"])


def _table(rows: list[tuple[str, str]]) -> str:
    """(header, cell HTML) rows of a two-column table."""
    return "<table>" + "".join(f"<tr><th>{_e(k)}</th><td>{v}</td></tr>" for k, v in rows) + \
        "</table>"


def _grid(heads: list[str], rows: list[list[str]]) -> str:
    head = "".join(f"<th>{_e(h)}</th>" for h in heads)
    body = "".join("<tr>" + "".join(f"<td>{c}</td>" for c in r) + "</tr>" for r in rows)
    return f"<table><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def _code(value: object) -> str:
    return f"<code>{_e(value)}</code>" if value else "—"


def _status_html(status: PackageStatusJson, lang: str) -> str:
    case = status["case"]
    stage = STAGES.get(case["stage"], {}).get(lang, case["stage"])
    summary = _table([
        (text("pkg_digest", lang), _code(status["digest"])),
        (text("pkg_manifest", lang), _code(status["manifestSha256"])),
        (text("pkg_case", lang), _code(case["caseId"])),
        (text("order", lang), _e(case["orderId"])),
        (text("stage", lang), f'<span class="stage">{_e(stage)}</span>'),
        (text("dispute", lang), _e(_words(word(DISPUTE_TYPES, case["disputeType"] or "—"), lang))),
        (text("remedy", lang), _e(_words(word(REMEDIES, case["remedy"] or "—"), lang))),
        (text("amount", lang), _e(_amount(case, lang))),
        (text("pkg_filed", lang), _time(case["filedAt"])),
    ])
    exports = _grid([text("pkg_court", lang), text("pkg_exported_at", lang)],
                    [[(_e(e["courtName"]) + " " if e["courtName"] else "") + _code(e["court"]),
                      _time(e["at"])] for e in status["exports"]])
    anchors = _grid(
        [text("root", lang), text("pkg_chain", lang), text("tx", lang), text("block", lang),
         text("time", lang), text("status", lang)],
        [[_code(a["root"]), _e(f'{a["chainName"]} ({a["chainId"]})' if a["chainName"]
                               else a["chainId"]), _code(a["txHash"]),
          _e(a["blockNumber"] or "—"), _time(a["blockTime"]),
          _e(text(f"anchor_{a['status']}", lang) if f"anchor_{a['status']}" in _ANCHOR_KEYS
             else a["status"])] for a in status["anchors"]])
    depth = text("pkg_confirmations", lang).format(n=status["confirmationsRequired"])
    if status["decisions"]:
        decisions = _grid(
            [text("pkg_court", lang), text("pkg_outcome", lang), text("pkg_reference", lang),
             text("time", lang)],
            [[(_e(d["courtName"]) + " " if d["courtName"] else "") + _code(d["court"]),
              _e(text("pkg_confirmed" if d["confirmed"] else "pkg_refused", lang)),
              _e(d["courtReference"]), _time(d["signedAt"])] for d in status["decisions"]])
    else:
        decisions = f'<p>{_e(text("pkg_no_decision", lang))}</p>'
    return (f'<section id="package"><h1>{_e(text("pkg_title", lang))}</h1>'
            f'<p class="muted">{_e(text("pkg_notice", lang))}</p>{summary}</section>'
            f'<section id="decision"><h2>{_e(text("pkg_decision", lang))}</h2>{decisions}'
            "</section>"
            f'<section id="exports"><h2>{_e(text("pkg_exports", lang))}</h2>{exports}</section>'
            f'<section id="anchors"><h2>{_e(text("anchors", lang))}</h2>{anchors}'
            f'<p class="muted">{_e(depth)}</p></section>')


_ANCHOR_KEYS = frozenset({"anchor_confirmed", "anchor_sent", "anchor_pending", "anchor_failed"})


@router.get("/verify/{digest}", response_model=None, responses={
    200: {"description": "What the service knows of the package (HTML; JSON with "
                         "`Accept: application/json`): docs/api.md, Public package record",
          "content": {"text/html": {}, "application/json": {}}},
    404: {"model": ErrorBody, "content": {"text/html": {}},
          "description": "No package with this digest: `not_found` (JSON), or a bilingual page"},
    422: {"model": ErrorBody, "description": "Never sent: any digest is looked up (FastAPI "
                                             "declares a 422 for every path parameter)"}})
def package_record(request: Request, digest: str) -> Response:
    """The service's public record of the judicial package with this digest (no sign-in)."""
    ctx = request.app.state.ctx
    want_json = prefers_json(request.headers.get("accept"))
    settings = ctx.settings
    headers = {"Vary": "Accept, Accept-Language", "Cache-Control": "no-store"}
    try:
        status = package_status(ctx.sessions, digest, out_dir=settings.data_dir / "packages",
                                confirmations=settings.confirmations,
                                chains=chain_labels(settings, ctx.service.domain.chain_id))
    except NotFound:
        if want_json:
            raise  # the API's error body: 404 {"code": "not_found", "detail": ...}
        lang = _lang(request)
        body = (f'<section id="package"><h1>{_e(text("pkg_title", lang))}</h1>'
                f'<p class="error">{_e(text("pkg_not_found", lang))}</p>'
                f'<p lang="{"en" if lang == "zh-Hans" else "zh-Hans"}" class="muted">'
                f'{_e(text("pkg_not_found", "en" if lang == "zh-Hans" else "zh-Hans"))}</p>'
                "</section>")
        response: HTMLResponse = page(request, lang, text("pkg_title", lang), body, None,
                                      status=404)
        response.headers.update(headers)
        return response
    if want_json:
        return JSONResponse(status, headers=headers)
    lang = _lang(request)
    response = page(request, lang, text("pkg_title", lang), _status_html(status, lang), None)
    response.headers.update(headers)
    return response
