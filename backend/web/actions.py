"""The case page's actions: forms for the steps the viewer may sign now, and the page's
way to the API.

Why a proxy (``/ui/api/…``): the session token lives in an HttpOnly cookie the page's script
cannot read (so an injected script cannot steal it either); the proxy adds it as the
``Authorization`` header and hands the request to the API in-process, so every check, limit
and error code is the API's own. It only forwards ``cases/…`` paths and requires the
``X-Chainarb-UI`` header on writes (with the SameSite=Strict cookie: no cross-site forms).

The forms are rendered here from the case view's ``allowedSteps`` (action names), one per
step the viewer may take now, for every role: parties, mediator, institution admin,
arbitrator, panelist, court. ``actions.js`` asks the service to prepare each record
(``steps/prepare``), checks it against what was entered, has the wallet sign it and posts it.
"""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING, NotRequired

import httpx
from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from typing_extensions import TypedDict

from evidence.records import DomainJson
from evidence.steps import STEPS
from evidence.words import DISPUTE_TYPES, REMEDIES

if TYPE_CHECKING:
    from backend.services.fast_track import CheckedReportJson
    from backend.services.package import ExportJson
    from backend.services.views import CaseViewJson

from . import award
from .desk import e as _e
from .fields import field as _field
from .i18n import STAGES, UI, register, step_word, ui
from .money import token_of

__all__ = ["CaseDataJson", "OfferFormJson", "actions_section", "case_data", "router"]
# The API paths the pages may call through the proxy (prefixes); a page that needs another
# adds it here.
# "cases": the case steps and opening a case (POST /cases); "orders", "notices": a
# party's reads (party.py); "profile": PUT /profile (profile.js); the institution
# page's admin calls (institution.py: register neutrals and courts, retry chain actions);
# "verify": POST /verify (court.js); "pool/": the assessor pool's steps (pool.js)
PROXIED = ("cases", "orders", "notices", "profile", "admin/neutrals", "admin/courts",
           "admin/chain-actions/", "verify", "pool/")
EVIDENCE_KINDS = ("photo", "video", "invoice", "contract", "communication", "tracking_record",
                  "delivery_confirmation", "inspection_report", "other")

router = APIRouter(include_in_schema=False)  # mounted under /ui by pages.router

register({  # the claim form and the upload's progress (the party's part of the case page)
    "file_title": {"en": "File your claim", "zh-Hans": "提出仲裁申请"},
    "file_text": {"en": "Say what went wrong and what you ask for. You sign the claim with "
                        "your wallet; afterwards your wallet freezes the escrow.",
                  "zh-Hans": "请说明发生了什么问题以及您的请求。您用钱包签署申请；"
                             "随后由您的钱包冻结托管资金。"},
    "dispute_label": {"en": "What went wrong", "zh-Hans": "争议类型"},
    "remedy_label": {"en": "What you ask for", "zh-Hans": "请求事项"},
    "claimed_label": {"en": "Amount you claim", "zh-Hans": "请求金额"},
    "statement_label": {"en": "Your statement", "zh-Hans": "申请陈述"},
    "statement_hint": {"en": "Kept with the case as a document; its SHA-256 is signed in the "
                             "claim.",
                       "zh-Hans": "作为文件随案件保存；其 SHA-256 将在申请中签署。"},
    "first_evidence": {"en": "First evidence (optional)", "zh-Hans": "首份证据（可选）"},
    "sign_file": {"en": "Sign and file the claim", "zh-Hans": "签署并提出申请"},
    "upload_progress": {"en": "Upload", "zh-Hans": "上传进度"},
    "commitment_shown": {"en": "The file is stored encrypted. Its commitment, which your "
                               "wallet signs next (SHA-256 of the tag, your salt and the "
                               "file's SHA-256), checked in this page:",
                         "zh-Hans": "文件已加密存储。其承诺值（标签、您的盐值与文件 SHA-256 的 "
                                    "SHA-256）已在本页核对，接下来由您的钱包签署："},
    "sign_commitment": {"en": "Sign this commitment", "zh-Hans": "签署此承诺值"},
    "err_claim_statement_required": {"en": "Write your statement.",
                                     "zh-Hans": "请填写申请陈述。"},
    "err_claim_too_large": {"en": "The claim cannot exceed the escrowed amount.",
                            "zh-Hans": "请求金额不能超过托管金额。"},
})


@router.api_route("/api/{path:path}", methods=["GET", "POST", "PUT"])
async def proxy(request: Request, path: str) -> Response:
    """Forward one API call of the page with the cookie's token (see the module doc)."""
    from .pages import COOKIE

    if not path.startswith(PROXIED) or ".." in path:
        return JSONResponse({"code": "not_found",
                             "detail": "the page may call " + ", ".join(PROXIED) + " only"},
                            status_code=404)
    if request.method != "GET" and request.headers.get("x-chainarb-ui") != "1":
        return JSONResponse({"code": "access_denied", "detail": "missing X-Chainarb-UI"},
                            status_code=403)
    token = request.cookies.get(COOKIE)
    if not token:
        return JSONResponse({"code": "auth_required", "detail": "sign in first"},
                            status_code=401)
    headers = {"Authorization": f"Bearer {token}"}
    for name in ("content-type", "content-length"):
        if name in request.headers:
            headers[name] = request.headers[name]
    transport = httpx.ASGITransport(app=request.app)
    async with httpx.AsyncClient(transport=transport, base_url="http://chainarb.ui",
                                 timeout=120) as client:
        upstream = await client.request(request.method, "/" + path,
                                        params=request.query_params, headers=headers,
                                        content=request.stream())
    # A download keeps its name and disposition; the browser headers are the middleware's.
    kept = {k: v for k, v in upstream.headers.items()
            if k.lower() in ("content-disposition", "cache-control") or
            k.lower().startswith(("x-evidence-", "x-package-"))}
    return Response(upstream.content, status_code=upstream.status_code,
                    media_type=upstream.headers.get("content-type"), headers=kept)


class OfferFormJson(TypedDict):
    """An open offer as the page's forms read it (amounts as decimal strings)."""

    offerId: str
    madeBy: str
    acceptedBy: list[str]
    expiresAt: str | None
    allocation: dict[str, str]  # toBuyer, toSeller, compensation
    settlementHash: str


class PageFastTrackJson(TypedDict):
    """Whether the rules open the fast track to this order, and the mediator's preview."""

    open: bool
    preview: CheckedReportJson | None  # the report GET /cases/{id}/fast-track gives


class CaseDataJson(TypedDict):
    """What the page's script needs to check and sign the next step (``case_data``)."""

    caseId: str
    orderId: str
    viewer: str
    buyer: str
    seller: str
    amount: str
    guarantee: str
    decimals: int
    currency: str
    nextSequence: int
    prevHash: str
    domain: DomainJson
    allowedSteps: list[str]
    serverNow: int
    offers: dict[str, OfferFormJson]
    awardRecordHash: str | None
    mediator: str | None
    fastTrack: PageFastTrackJson
    panelSignedBy: list[str]
    packages: list[ExportJson]
    register: list[dict[str, str]]
    messages: dict[str, str | dict[str, str]]
    # the neutral's desk: the amounts the escrow holds now (``neutral._escrow``)
    escrow: NotRequired[dict[str, str]]


def _offers(view: CaseViewJson) -> dict[str, OfferFormJson]:
    """Open offers by id, each with the ``Settlement`` record hash an acceptance names (the
    case view's, computed by the service)."""
    out: dict[str, OfferFormJson] = {}
    for o in view.get("offers") or []:
        if o.get("withdrawn"):
            continue
        a = o["allocation"]
        alloc = {"toBuyer": str(a["to_buyer"]), "toSeller": str(a["to_seller"]),
                 "compensation": str(a["compensation"])}
        out[o["offer_id"]] = {"offerId": o["offer_id"], "madeBy": o["made_by"],
                              "acceptedBy": list(o.get("accepted_by") or []),
                              "expiresAt": o.get("expires_at"), "allocation": alloc,
                              "settlementHash": o["settlementHash"]}
    return out


def _packages(request: Request, view: CaseViewJson, viewer: str) -> list[ExportJson]:
    """The judicial packages given to the viewer for this case (a court's decision names
    one); none for anyone else."""
    if "court" not in (view.get("yourRoles") or []):
        return []
    from backend.services.package import exports_to

    with request.app.state.ctx.sessions() as session:
        return exports_to(session, viewer, {view["caseId"]})


def case_data(request: Request, view: CaseViewJson, viewer: str, lang: str) -> CaseDataJson:
    """What the page's script needs to check and sign the next step (embedded as JSON).
    The records themselves come from ``POST /cases/{id}/steps/prepare``."""
    allowed = view.get("allowedSteps") or []
    now = datetime.fromisoformat(view["now"].replace("Z", "+00:00"))
    token = token_of(view)
    return {
        "caseId": view["caseId"], "orderId": view["orderId"], "viewer": viewer,
        "buyer": view.get("buyer"), "seller": view.get("seller"),
        "amount": view["amount"], "guarantee": view["guarantee"],
        # the order's token: what amounts are typed and shown in (0 decimals when the
        # escrow could not be read: amounts are then entered in the smallest unit)
        "decimals": token.decimals or 0, "currency": token.currency,
        "nextSequence": view["nextSequence"], "prevHash": view["prevHash"],
        "domain": view["domain"], "allowedSteps": allowed,
        "serverNow": int(now.timestamp()),
        "offers": _offers(view),
        "awardRecordHash": view.get("awardRecordHash"),
        "mediator": view.get("mediator"),
        # whether the rules open the fast track to this order (the mediator's form)
        "fastTrack": {"open": bool((view.get("fastTrack") or {}).get("open")),
                      "preview": _fast_track_preview(request, view, viewer)},
        "panelSignedBy": view.get("panelSignedBy") or [],
        "packages": _packages(request, view, viewer),
        "register": _register(request, allowed),
        "messages": {**{k: token.words(v[lang]) for k, v in UI.items()},
                     "stages": {k: v[lang] for k, v in STAGES.items()}},
    }


def _fast_track_preview(request: Request, view: CaseViewJson, viewer: str
                        ) -> CheckedReportJson | None:
    """The report the mediator's form shows before the wallet signs it (else None)."""
    from .fasttrack import preview

    return preview(request, view, viewer)


def _register(request: Request, allowed: list[str]) -> list[dict[str, str]]:
    """The neutrals on the institution's register, offered by name in the appointment
    forms (only when the viewer may appoint; the server still checks conflicts)."""
    if not any(a.startswith("appoint.") for a in allowed):
        return []
    from .institution import register_neutrals

    return register_neutrals(request.app.state.ctx)


def _form(step: str, title: str, inner: str, button: str, lang: str, idx: str = "") -> str:
    fid = f"step-{step}{idx}"
    return (f'<form class="step" data-step="{step}" id="{fid}" novalidate '
            f'aria-labelledby="{fid}-h"><h3 id="{fid}-h">{_e(title)}</h3>{inner}'
            f'<button type="submit">{_e(button)}</button>'
            f'<p class="result" role="status" aria-live="polite"></p></form>')


_AMOUNT_INPUT = '<input {id} type="text" inputmode="decimal" autocomplete="off" required>'
_ADDRESS_INPUT = ('<input {id} type="text" autocomplete="off" spellcheck="false" '
                  'pattern="0x[0-9a-fA-F]{40}" required>')
TRACKING = ("delivered", "delivered_signed", "in_transit", "no_tracking", "lost", "damaged",
            "returned_to_sender")


def _allocation_fields(fid: str, data: CaseDataJson, lang: str) -> str:
    held, guarantee, _live = award.limits(data)
    token = token_of(data)
    return (_field(fid, "toBuyer", token.words(ui("to_buyer_label", lang)), _AMOUNT_INPUT,
                   token.words(ui("amount_hint", lang)).format(amount=token.money(held)))
            + _field(fid, "compensation", token.words(ui("compensation_label", lang)),
                     '<input {id} type="text" inputmode="decimal" autocomplete="off" '
                     'value="0">',
                     ui("compensation_hint", lang).format(amount=token.money(guarantee)))
            + award.preview(fid, data, lang))


def _days_field(fid: str, lang: str) -> str:
    return _field(fid, "days", ui("days_label", lang),
                  '<input {id} type="number" min="1" max="30" step="1" value="2" required>')


def _simple(step: str, key: str, lang: str) -> str:
    """A step with nothing to enter: a title, what signing it means, a button."""
    return _form(step, ui(f"{key}_title", lang), f'<p>{_e(ui(f"{key}_text", lang))}</p>',
                 ui(f"sign_{key}", lang), lang)


def _evidence_fields(fid: str, lang: str, *, required: bool) -> str:
    """Kind and file of an evidence upload, with where its progress and commitment show
    (actions.js fills them in: the commitment is shown before the wallet signs it)."""
    options = "".join(f'<option value="{k}">{_e(ui("kind_" + k, lang))}</option>'
                      for k in EVIDENCE_KINDS)
    return (_field(fid, "kind", ui("kind_label", lang), f"<select {{id}}>{options}</select>")
            + _field(fid, "file", ui("file_label", lang),
                     f'<input {{id}} type="file"{" required" if required else ""}>',
                     ui("file_hint", lang))
            + f'<div class="upload" id="{fid}-upload" hidden>'
            f'<label for="{fid}-progress">{_e(ui("upload_progress", lang))}</label> '
            f'<progress id="{fid}-progress" max="100" value="0"></progress> '
            f'<span class="upload-percent" aria-live="polite"></span>'
            f'<div class="commitment" hidden><p>{_e(ui("commitment_shown", lang))}</p>'
            f'<p><code class="commitment-value"></code></p>'
            f'<button type="button" class="sign-commitment">{_e(ui("sign_commitment", lang))}'
            "</button></div></div>")


def _filing_form(data: CaseDataJson, lang: str) -> str:
    """The claim: dispute type and remedy in words, the amount claimed, the statement (a
    document whose SHA-256 the filing signs) and, optionally, a first piece of evidence."""
    fid = "step-file"
    disputes = "".join(f'<option value="{k}">{_e(w[1] if lang == "zh-Hans" else w[0])}'
                       "</option>" for k, w in DISPUTE_TYPES.items())
    remedies = "".join(f'<option value="{k}">{_e(w[1] if lang == "zh-Hans" else w[0])}'
                       "</option>" for k, w in REMEDIES.items())
    inner = (f'<p>{_e(ui("file_text", lang))}</p>'
             + _field(fid, "disputeType", ui("dispute_label", lang),
                      f"<select {{id}}>{disputes}</select>")
             + _field(fid, "remedy", ui("remedy_label", lang),
                      f"<select {{id}}>{remedies}</select>")
             + _field(fid, "claimedAmount", ui("claimed_label", lang), _AMOUNT_INPUT,
                      token_of(data).words(ui("amount_hint", lang)).format(
                          amount=token_of(data).money(data["amount"])))
             + _field(fid, "statement", ui("statement_label", lang),
                      '<textarea {id} rows="6" maxlength="20000" required></textarea>',
                      ui("statement_hint", lang))
             + f'<h4>{_e(ui("first_evidence", lang))}</h4>'
             + _evidence_fields(fid, lang, required=False))
    return _form("file", ui("file_title", lang), inner, ui("sign_file", lang), lang)


def _party_forms(data: CaseDataJson, allowed: set[str], lang: str) -> list[str]:
    viewer = data["viewer"].lower()
    forms: list[str] = []
    if "offer.made" in allowed:
        fid = "step-offer"
        forms.append(_form("offer", ui("make_offer", lang),
                           _allocation_fields(fid, data, lang) + _days_field(fid, lang),
                           ui("sign_offer", lang), lang))
    for i, (oid, o) in enumerate(data["offers"].items()):
        a = o["allocation"]
        token = token_of(data)
        terms = ui("offer_terms", lang).format(buyer=token.money(a["toBuyer"]),
                                               seller=token.money(a["toSeller"]),
                                               comp=token.money(a["compensation"]))
        summary = (f'<p class="offer-terms">{_e(terms)}'
                   + (f' · {_e(ui("expires", lang))} <time datetime="{_e(o["expiresAt"])}">'
                      f'{_e(o["expiresAt"])}</time> <span class="countdown" '
                      f'data-countdown="{_e(o["expiresAt"])}"></span>'
                      if o.get("expiresAt") else "") + "</p>"
                   f'<input type="hidden" name="offerId" value="{_e(oid)}">')
        mine = o["madeBy"].lower() == viewer
        if mine and "offer.withdrawn" in allowed:
            forms.append(_form("withdraw", ui("your_offer", lang), summary,
                               ui("withdraw_offer", lang), lang, f"-{i}"))
        elif not mine and viewer not in [x.lower() for x in o["acceptedBy"]] \
                and "offer.accepted" in allowed:
            forms.append(_form("accept", ui("offer_to_you", lang), summary,
                               ui("accept_offer", lang), lang, f"-{i}"))
    if "case.filed" in allowed:
        forms.append(_filing_form(data, lang))
    if "evidence.submitted" in allowed:
        fid = "step-evidence"
        inner = _evidence_fields(fid, lang, required=True)
        forms.append(_form("evidence", ui("upload_evidence", lang), inner,
                           ui("sign_upload", lang), lang))
    if "facilitation.requested" in allowed:
        forms.append(_simple("facilitation", "facilitation", lang))
    if "arbitration.agreed" in allowed:
        forms.append(_simple("agree", "agree", lang))
    if "answer.submitted" in allowed:
        inner = _field("step-answer", "document", ui("answer_label", lang),
                       '<input {id} type="file" required>')
        forms.append(_form("answer", ui("answer_title", lang), inner, ui("sign_answer", lang),
                           lang))
    if "fasttrack.objected" in allowed:
        forms.append(_simple("fast_track_objection", "fast_track_objection", lang))
    forms += _return_forms(data, allowed, lang)
    if "award.objected" in allowed and data.get("awardRecordHash"):
        inner = _field("step-objection", "reasons", ui("reasons_label", lang),
                       '<textarea {id} rows="4" required></textarea>')
        forms.append(_form("objection", ui("objection_title", lang), inner,
                           ui("sign_objection", lang), lang))
    return forms


def _return_forms(data: CaseDataJson, allowed: set[str], lang: str) -> list[str]:
    """The return stage: the buyer's shipment (carrier and tracking number, committed in
    the browser), the seller's receipt or dispute. The stage admits both parties; each side
    is shown its own (the service refuses the other's: wrong_actor)."""
    viewer = data["viewer"].lower()
    buyer = viewer == str(data.get("buyer", "")).lower()
    seller = viewer == str(data.get("seller", "")).lower()
    forms: list[str] = []
    if "return.shipped" in allowed and buyer:
        fid = "step-return_shipment"
        text = '<input {id} type="text" maxlength="64" autocomplete="off" required>'
        inner = (f'<p>{_e(ui("return_shipment_text", lang))}</p>'
                 + _field(fid, "carrier", ui("carrier_label", lang), text)
                 + _field(fid, "trackingNumber", ui("tracking_number_label", lang), text))
        forms.append(_form("return_shipment", ui("return_shipment_title", lang), inner,
                           ui("sign_return_shipment", lang), lang))
    if "return.received" in allowed and seller:
        forms.append(_simple("return_receipt", "return_receipt", lang))
    if "return.disputed" in allowed and seller:
        forms.append(_simple("return_dispute", "return_dispute", lang))
    return forms
def _fast_track_report(data: CaseDataJson, lang: str) -> str:
    from .fasttrack import preview_html

    report = data["fastTrack"].get("preview")
    return preview_html(report, data, lang) if report else ""


def _package_field(fid: str, packages: list[ExportJson], lang: str) -> str:
    """The package a court decides on: one of those given to it (newest first), else the
    manifest SHA-256 typed in (the court downloaded it through the API)."""
    if not packages:
        return _field(fid, "packageHash", ui("package_hash_label", lang),
                      '<input {id} type="text" autocomplete="off" spellcheck="false" required>',
                      ui("package_hash_hint", lang))
    options = "".join(
        f'<option value="{_e(x["manifestSha256"])}">'
        + _e(ui("court_package_option", lang).format(
            at=str(x["at"])[:16].replace("T", " ") + " UTC", digest=(x["digest"] or "—")[:8]))
        + "</option>" for x in reversed(packages))
    return _field(fid, "packageHash", ui("court_package_label", lang),
                  f"<select {{id}} required>{options}</select>", ui("court_package_hint", lang))


def _neutral_forms(data: CaseDataJson, allowed: set[str], lang: str) -> list[str]:
    forms: list[str] = []
    if "preevaluation.published" in allowed:  # mediator
        # the report reads the order's performance evidence (docs/performance-evidence.md);
        # a chosen status is a what-if, and the published report says it is a hypothesis
        options = (f'<option value="" selected>{_e(ui("tracking_from_evidence", lang))}</option>'
                   f'<optgroup label="{_e(ui("tracking_whatif", lang))}">'
                   + "".join(f'<option value="{k}">{_e(ui("tracking_" + k, lang))}</option>'
                             for k in TRACKING)
                   + "</optgroup>")
        inner = (f'<p>{_e(ui("preeval_text", lang))}</p>'
                 + _field("step-preeval", "tracking", ui("tracking_label", lang),
                          f"<select {{id}}>{options}</select>"))
        forms.append(_form("preeval", ui("preeval_title", lang), inner,
                           ui("sign_preeval", lang), lang))
    if "settlement.proposed" in allowed:
        fid = "step-propose"
        forms.append(_form("propose", ui("propose_title", lang),
                           _allocation_fields(fid, data, lang) + _days_field(fid, lang),
                           ui("sign_propose", lang), lang))
    if "fasttrack.proposed" in allowed and (data.get("fastTrack") or {}).get("open"):
        # mediator, when the rules open the fast track to this order: what it proposes shown
        forms.append(_form("fast_track", ui("fast_track_title", lang),
                           f'<p>{_e(ui("fast_track_text", lang))}</p>'
                           + _fast_track_report(data, lang),
                           ui("sign_fast_track", lang), lang))
    if "impasse.declared" in allowed:
        forms.append(_simple("impasse", "impasse", lang))
    picker = (_ADDRESS_INPUT.replace(" required>", ' list="neutral-register" required>')
              if data.get("register") else _ADDRESS_INPUT)
    for action, step in (("appoint.mediator", "appoint_mediator"),
                         ("appoint.arbitrator", "appoint_arbitrator")):
        if action == "appoint.mediator" and data.get("mediator"):
            continue  # the tables leave it open, but one is appointed (a second is refused)
        if action in allowed:  # institution admin
            inner = (f'<p>{_e(ui("appoint_text", lang))}</p>'
                     + _field(f"step-{step}", "appointee", ui(f"{step}_label", lang),
                              picker, ui("address_hint", lang)))
            forms.append(_form(step, ui(f"{step}_title", lang), inner,
                               ui("sign_appoint", lang), lang))
    if "appoint.panel" in allowed:
        inner = f'<p>{_e(ui("appoint_text", lang))}</p>' + "".join(
            _field("step-appoint_panel", f"appointee{n}",
                   ui("panelist_label", lang).format(n=n), picker,
                   ui("address_hint", lang) if n == 1 else "") for n in (1, 2, 3))
        forms.append(_form("appoint_panel", ui("appoint_panel_title", lang), inner,
                           ui("sign_appoint", lang), lang))
    if "record.closed" in allowed:  # arbitrator
        forms.append(_simple("close", "close", lang))
    signed = [a.lower() for a in data.get("panelSignedBy") or []]
    for action, step in (("award.issued", "award"), ("award.panel_signed", "panel_award")):
        if step == "panel_award" and data["viewer"].lower() in signed:
            continue  # the tables leave it open until the panel decides; a second is refused
        if action in allowed:
            fid = f"step-{step}"
            inner = _allocation_fields(fid, data, lang) + award.award_fields(fid, lang)
            forms.append(_form(step, ui(f"{step}_title", lang), inner,
                               ui("sign_award", lang), lang))
    for action, step in (("court.confirmed", "confirm"), ("court.refused", "refuse")):
        if action in allowed:  # court
            fid = f"step-{step}"
            inner = (_package_field(fid, data.get("packages") or [], lang)
                     + _field(fid, "courtReference", ui("court_reference_label", lang),
                              '<input {id} type="text" maxlength="200" required>'))
            if step == "refuse":
                inner += _field(fid, "reasons", ui("refusal_reasons_label", lang),
                                '<textarea {id} rows="4" maxlength="4000" required></textarea>')
            forms.append(_form(step, ui(f"{step}_title", lang), inner,
                               ui(f"sign_{step}", lang), lang))
    if "enforcement.requested" in allowed:  # anyone
        forms.append(_simple("enforce", "enforce", lang))
    return forms


# The steps the page has a form for (each a row of evidence/steps.py); any other allowed
# step is listed as API-only, with its name from the step table.
HANDLED = frozenset({
    "case.filed", "offer.made", "offer.accepted", "offer.withdrawn", "evidence.submitted",
    "facilitation.requested", "arbitration.agreed", "answer.submitted", "award.objected",
    "preevaluation.published", "settlement.proposed", "impasse.declared", "appoint.mediator",
    "appoint.arbitrator", "appoint.panel", "record.closed", "award.issued",
    "award.panel_signed", "court.confirmed", "court.refused", "enforcement.requested",
    "fasttrack.proposed", "fasttrack.objected", "return.shipped", "return.received",
    "return.disputed"})
assert not HANDLED - {s.action for s in STEPS if s.endpoint is not None}, "forms for steps only"


def actions_section(data: CaseDataJson, lang: str, *, heading: str | None = None,
                    intro: str = "") -> str:
    """The forms for what the viewer may do now; nothing at all for a reader. A page of
    its own (the court's workspace) gives the section its ``heading`` and an ``intro``
    (HTML) before the forms."""
    allowed = set(data["allowedSteps"])
    forms = _party_forms(data, allowed, lang) + _neutral_forms(data, allowed, lang)
    others = sorted(allowed - HANDLED)
    note = (f'<p class="muted" id="other-steps">{_e(ui("other_steps", lang))} '
            + ", ".join(f'<code title="{_e(step_word(o, lang))}">{_e(o)}</code>'
                        for o in others) + "</p>") if others else ""
    if not forms and not note:
        body = f'<p class="muted">{_e(ui("nothing_now", lang))}</p>'
    else:
        body = "".join(forms) + note
    if data.get("register") and any('data-step="appoint' in f for f in forms):
        body += '<datalist id="neutral-register" translate="no">' + "".join(
            f'<option value="{_e(n["address"])}">{_e(n["name"])}</option>'
            for n in data["register"]) + "</datalist>"
    blob = json.dumps(data, ensure_ascii=False).replace("<", "\\u003c")
    return (f'<section id="actions" aria-labelledby="actions-h"><h2 id="actions-h">'
            f'{_e(heading or ui("your_steps", lang))}</h2>{intro}{body}</section>'
            f'<script type="application/json" id="case-data">{blob}</script>'
            '<link rel="stylesheet" href="/ui/static/desk.css">'  # the allocation preview
            '<script src="/ui/static/signer.js" defer></script>'  # the wallet (pool's too)
            '<script src="/ui/static/actions.js" defer></script>')
