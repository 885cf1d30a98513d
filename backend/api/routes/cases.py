"""Cases and their signed steps.

Every procedural action is a signed EIP-712 record posted to one of the step endpoints
below (or the generic ``POST /cases/{id}/steps``). The body is always::

    {"record": <canonical record JSON (docs/evidence.md 1.7)>,
     "payload": {...} | null,        # ProceduralStep: what payloadHash is the SHA-256 of
     "attachments": [<record JSON>], # the escrow Settlement / Award the step carries
     "reasons": "..." | null,        # a court's refusal: the text reasonsHash covers
     "document": {"filename", "media_type", "content_base64"} | null}

A typed endpoint only accepts its own action (``wrong_endpoint`` otherwise), so the
OpenAPI page lists each act of the procedure; the checks are the same everywhere.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from typing import Any

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse, Response
from pydantic import Field, field_validator
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool
from typing_extensions import TypedDict

from backend import procedure as p
from backend.answers import FreeJson, open_answer
from backend.db import Notice
from backend.performance import evidence_facts
from backend.services import prepare, views
from backend.services.errors import AccessDenied, BadSubmission, NotFound
from backend.services.fast_track import (
    CheckedReportJson,
    FastTrackJson,
    PreEvaluationJson,
    check_proposal,
    proposal,
)
from backend.services.fields import is_ascii_decimal
from backend.services.performance import PerformanceService
from backend.services.pipeline import ChainActionJson, StepBody
from evidence.errors import InvalidRecord
from evidence.log.receipt import ReceiptJson
from evidence.records import canonical_json
from evidence.steps import STEPS, StepSpec

from ..context import AppContext
from ..deps import Ctx, CurrentUser, DbId, context_of
from ..errors import StrictBody, errors
from ..schemas import TimelineItemOut
from .log import get_log
from .performance import Performance, get_performance

router = APIRouter(tags=["cases"], responses=errors(403, 404, 409, 502, 503))


class Document(StrictBody):
    filename: str = Field(default="document", max_length=255)
    media_type: str = Field(default="application/octet-stream", max_length=127)
    content_base64: str


class StepIn(StrictBody):
    record: FreeJson = Field(description="canonical JSON of the signed record")
    payload: FreeJson | None = None
    attachments: list[FreeJson] = Field(default_factory=list, max_length=4)
    reasons: str | None = Field(default=None, max_length=4000)
    document: Document | None = None


class PrepareIn(StrictBody):
    action: str = Field(max_length=64, description="the step's action, as in allowedSteps")
    payload: FreeJson | None = Field(
        default=None, description="the action's fields (docs/api.md, 'Preparing a step')")


class OpenCaseIn(StrictBody):
    orderId: str = Field(pattern=r"^[0-9]{1,78}$",  # noqa: N815
                         description="the escrow order id (uint256, decimal string)")

    @field_validator("orderId")
    @classmethod
    def _uint256(cls, value: str) -> str:
        if not is_ascii_decimal(value) or int(value) >= 1 << 256:
            raise ValueError("expected a decimal string of ASCII digits below 2**256")
        return value


FAST_TRACK = "fasttrack.proposed"


def step_kind(record: Mapping[str, object], allowed: frozenset[str] | None) -> str | None:
    """The record type, or the ``ProceduralStep``'s action, that a step posts, checked
    against the endpoint's ``allowed`` (None: any): the first checks of a step, after
    the caller's session and the body's shape (``InvalidRecord``, ``wrong_endpoint``)."""
    kind = record.get("type")
    message = record.get("message")
    if not isinstance(kind, str | None):
        raise InvalidRecord(f"record.type: expected a string, found {type(kind).__name__}")
    if not isinstance(message, dict | None):
        raise InvalidRecord(f"record.message: expected an object, found "
                            f"{type(message).__name__}")
    if kind == "ProceduralStep":
        kind = (message or {}).get("action")
        if not isinstance(kind, str | None):
            raise InvalidRecord(f'record.message.action: expected a string, found '
                                f"{type(kind).__name__}")
    if allowed is not None and kind not in allowed:
        raise BadSubmission(f"this endpoint takes {', '.join(sorted(allowed))}; found {kind!r}",
                            code="wrong_endpoint")
    return kind


@open_answer
class StepAcceptedJson(TypedDict):
    """A step accepted: where it stands in the case, the chain actions it queued, and the
    log's receipt for it."""

    caseId: str
    sequence: int
    recordHash: str
    action: str
    stage: str
    cid: str | None
    chainActions: list[ChainActionJson]
    receipt: ReceiptJson


def accept_step(ctx: AppContext, user: str, case_id: str, body: StepIn) -> StepAcceptedJson:
    """The step stored (``CaseService.submit_step``) and the 201 answer's body with its
    signed receipt: the thread-pool part of every step endpoint, and of the edge's
    shortcut for them (backend/api/shortcut.py)."""
    # the validated fields as they are (model_dump would copy the record's JSON again)
    data: StepBody = {
        "record": body.record, "payload": body.payload, "attachments": body.attachments,
        "reasons": body.reasons,
        "document": body.document.model_dump() if body.document is not None else None}
    result = ctx.service.submit_step(user, case_id, data)
    assert result.log is not None  # every stored step is appended to the log
    return {"caseId": result.case_id, "sequence": result.sequence,
            "recordHash": result.record_hash, "action": result.action,
            "stage": result.stage, "cid": result.cid, "chainActions": result.chain_actions,
            "receipt": get_log(ctx).receipt(result.log)}


async def _submit(request: Request, ctx: Ctx, user: str, case_id: str, body: StepIn,
                  allowed: frozenset[str] | None) -> JSONResponse:
    """``async`` with one explicit trip to the thread pool for the service (and the
    receipt): a sync endpoint costs FastAPI a second trip to validate the returned dict,
    and the event loop's share of a step was mostly such trips. The performance service
    is looked up only for the one step that reads it (a dependency costs every step its
    solving)."""
    kind = step_kind(body.record, allowed)
    if kind == FAST_TRACK:  # the proposal must be the pre-evaluation (below)
        if body.document is None:
            raise BadSubmission("document: a fast-track proposal carries its report (the "
                                "reasons) as its document; GET /cases/{id}/fast-track gives "
                                "it as `canonical`")
        perf = await get_performance(request, ctx)
        await run_in_threadpool(_check_fast_track, ctx, perf, case_id, body.payload)
    answer = await run_in_threadpool(accept_step, ctx, user, case_id, body)
    return JSONResponse(answer, status_code=201)


@router.get("/cases")
def list_cases(ctx: Ctx, user: CurrentUser) -> list[views.CaseSummaryJson]:
    """Cases you take part in (all cases for institution admins)."""
    return views.list_cases(ctx.service, user)


@router.post("/cases", status_code=201)
def open_case(ctx: Ctx, user: CurrentUser, body: OpenCaseIn) -> views.CaseViewJson:
    """Open the case of an escrow order (its buyer or seller); then file with ``/filing``."""
    case_id = ctx.service.open_case(user, int(body.orderId))
    return views.case_view(ctx.service, case_id, user)


@router.get("/cases/{case_id}", response_model=views.CaseViewJson)
async def get_case(request: Request, user: CurrentUser, case_id: str) -> Response:
    """The case as you may see it, with ``nextSequence``/``prevHash``/``domain`` to sign."""
    ctx = context_of(request)  # not ``Ctx``: a dependency costs every read its solving
    # One thread-pool trip and the view as built (CaseViewJson documents it): validating
    # the dict against the model cost about a third of a read (issue 10); its JSON text
    # as JSONResponse renders it, each listed offer's text kept (views.case_view_json)
    body = await run_in_threadpool(views.case_view_json, ctx.service, case_id, user)
    return Response(body, media_type="application/json")


@router.get("/cases/{case_id}/timeline", response_model=list[TimelineItemOut])
def get_timeline(ctx: Ctx, user: CurrentUser, case_id: str) -> list[views.TimelineItemJson]:
    """Signed steps, stage changes and deadlines in time order (UTC ISO 8601)."""
    return views.timeline(ctx.service, case_id, user)


@router.get("/cases/{case_id}/steps/{sequence}")
def get_step(ctx: Ctx, user: CurrentUser, case_id: str, sequence: DbId) -> views.StepViewJson:
    return views.step_view(ctx.service, case_id, sequence, user)


def _check_fast_track(ctx: Ctx, perf: PerformanceService, case_id: str,
                      payload: dict[str, Any] | None) -> None:
    """``fasttrack.proposed`` proposes the pre-evaluation of the evidence as recorded now
    (backend/services/fast_track.py); a case the caller may not act in is left to the
    pipeline's own refusals."""
    _row, case = ctx.service.load(case_id)
    check_proposal(case, perf.facts(case), payload)


@router.post("/cases/{case_id}/steps", status_code=201, response_model=StepAcceptedJson)
async def post_step(request: Request, ctx: Ctx, user: CurrentUser, case_id: str,
                    body: StepIn) -> JSONResponse:  # documented by response_model
    """Any signed step (the typed endpoints below accept one action each)."""
    return await _submit(request, ctx, user, case_id, body, None)


@router.post("/cases/{case_id}/steps/prepare")
def prepare_step(ctx: Ctx, user: CurrentUser, case_id: str, body: PrepareIn
                 ) -> prepare.PreparedStepJson:
    """The exact EIP-712 typed data to sign for ``action`` now (nothing is signed or
    stored): ``typedData`` for ``eth_signTypedData_v4``, the ``unsignedRecord`` to post
    with the signature, the ``payload``, the ``attachments`` to sign too (the escrow
    ``Settlement`` of an offer, the ``Award``) and the ``endpoint``."""
    return prepare.prepare_step(ctx.service, case_id, user, body.action, body.payload)


@router.get("/cases/{case_id}/pre-evaluation")
def pre_evaluation(ctx: Ctx, user: CurrentUser, case_id: str, perf: Performance,
                   tracking: p.TrackingStatus | None = None) -> PreEvaluationJson:
    """The rule-based pre-evaluation report (docs/procedure.md) for the mediator to sign:
    publish it with ``preevaluation.published`` and ``reportHash`` = ``sha256``.

    The tracking status and the parties' delivery records are read from the order's
    performance evidence (docs/performance-evidence.md); ``tracking`` asks "what if" instead,
    and the report then says its tracking is the mediator's hypothesis, not evidence."""
    _row, case = ctx.service.load(case_id)
    if user != case.mediator:
        raise AccessDenied("the pre-evaluation is prepared for the case's mediator")
    facts, basis = evidence_facts(case, perf.facts(case), hypothesis=tracking)
    report: CheckedReportJson = {**p.pre_evaluate(facts).as_dict(), "basis": basis}
    raw = canonical_json(report)
    return {"report": report, "canonical": raw.decode(),
            "sha256": "0x" + hashlib.sha256(raw).hexdigest(), "recommended": report["outcome"]}


@router.get("/cases/{case_id}/fast-track")
def fast_track(ctx: Ctx, user: CurrentUser, case_id: str, perf: Performance) -> FastTrackJson:
    """The fast track's proposal for the mediator to sign (docs/jury.md "Fast track"): the
    rule-based pre-evaluation of the order's performance evidence as recorded now, its
    reasons in both languages, and the ``payload`` of ``fasttrack.proposed`` (post it with
    the report as its document). No what-if: the proposal binds unless a party objects."""
    _row, case = ctx.service.load(case_id)
    if user != case.mediator:
        raise AccessDenied("the fast-track proposal is prepared for the case's mediator")
    if case.dispute_type is None:
        raise NotFound("the case has no claim yet")
    return proposal(case, perf.facts(case))


@open_answer
class CaseNoticeJson(TypedDict):
    """A notice of the case sent to the signed-in address, with its delivery record."""

    id: int | None
    kind: str
    language: str
    subject: str
    body: str
    status: str
    attempts: int
    error: str | None
    createdAt: str | None
    deliveredAt: str | None


@router.get("/cases/{case_id}/notices")
def my_notices(ctx: Ctx, user: CurrentUser, case_id: str) -> list[CaseNoticeJson]:
    """Your notices in this case, with their delivery record."""
    with ctx.sessions() as session:
        _row, case = ctx.service.load_in(session, case_id)
        views.check_reader(ctx.service, session, case, user)
        rows = session.exec(select(Notice).where(col(Notice.case_id) == case_id,
                                                 col(Notice.recipient) == user)
                            .order_by(col(Notice.id))).all()
        return [{"id": n.id, "kind": n.kind, "language": n.language, "subject": n.subject,
                 "body": n.body, "status": n.status, "attempts": n.attempts,
                 "error": n.error, "createdAt": p.to_jsonable(n.created_at),
                 "deliveredAt": p.to_jsonable(n.delivered_at)} for n in rows]


def _endpoints() -> tuple[tuple[str, frozenset[str], str], ...]:
    """One endpoint per act of the procedure, from the step table (evidence/steps.py):
    (path, the record types or ProceduralStep actions it accepts, summary)."""
    by_path: dict[str, list[StepSpec]] = {}
    for spec in STEPS:
        if spec.endpoint is not None:
            by_path.setdefault(spec.endpoint, []).append(spec)
    return tuple((path, frozenset(s.action if s.record == "ProceduralStep" else s.record
                                  for s in specs), "; ".join(s.en for s in specs))
                 for path, specs in by_path.items())


STEP_ENDPOINTS = _endpoints()


def _make_endpoint(allowed: frozenset[str]) -> Any:
    async def endpoint(request: Request, user: CurrentUser, case_id: str,
                       body: StepIn) -> JSONResponse:  # documented by response_model
        return await _submit(request, context_of(request), user, case_id, body, allowed)

    return endpoint


for _path, _allowed, _summary in STEP_ENDPOINTS:
    router.add_api_route(f"/cases/{{case_id}}/{_path}", _make_endpoint(_allowed),
                         methods=["POST"], status_code=201, summary=_summary,
                         response_model=StepAcceptedJson,
                         name=f"step_{_path.replace('/', '_').replace('-', '_')}")
