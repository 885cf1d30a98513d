"""Performance evidence: carrier and marketplace webhooks, a party's own records, reading.

``POST /webhooks/{sender}`` takes no session: the signature is the credential (the
sender's key or shared secret from ``CHAINARB_WEBHOOK_SENDERS``). Everything else is for
the order's parties, the case's members and the institution (docs/performance-evidence.md).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Header, Path, Query, Request, Response
from pydantic import Field
from starlette.concurrency import run_in_threadpool

from backend.performance import EventType
from backend.services.performance import (
    MAX_WEBHOOK_BYTES,
    Captured,
    PerformanceCapturedJson,
    PerformanceListJson,
    PerformanceProvenanceJson,
    PerformanceService,
    WebhookRefusalJson,
)

from ..deps import AdminUser, Ctx, CurrentUser, DbId, Token
from ..errors import StrictBody, errors
from ..schemas import ProvenanceOut
from .evidence import _session_ref
from .log import get_log

router = APIRouter(tags=["performance evidence"])

OrderId = Annotated[str, Path(pattern=r"^[0-9]{1,78}$", description="the escrow's order id")]


async def get_performance(request: Request, ctx: Ctx) -> PerformanceService:
    """The app's PerformanceService as a dependency. ``async`` (no I/O): a sync dependency is
    a thread-pool trip on every step (issue 10)."""
    return performance_service(request, ctx)


def performance_service(request: Request, ctx: Ctx) -> PerformanceService:
    """One PerformanceService per app, built from the app's context on first use."""
    svc = getattr(request.app.state, "performance", None)
    if svc is None:
        svc = PerformanceService(ctx.sessions, ctx.service, blockstore=ctx.service.blockstore,
                                 senders=ctx.settings.webhook_senders, clock=ctx.clock)
        request.app.state.performance = svc
    return svc


Performance = Annotated[PerformanceService, Depends(get_performance)]


@router.post("/webhooks/{sender}", status_code=201, responses=errors(403, 404, 409))
async def receive_webhook(
    sender: Annotated[str, Path(max_length=64)], request: Request, svc: Performance,
    ctx: Ctx,
    chainarb_timestamp: Annotated[str | None, Header(max_length=20)] = None,
    chainarb_signature: Annotated[str | None, Header(max_length=200)] = None,
) -> PerformanceCapturedJson:
    """One signed event from a configured carrier or marketplace, recorded as
    origin-verified evidence of its order. Refusals are logged (``GET
    /admin/webhook-refusals``) and answered with their code."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_WEBHOOK_BYTES:
            break
    remote = request.client.host if request.client else ""
    captured = await run_in_threadpool(svc.receive_webhook, sender, chainarb_timestamp or "",
                                       chainarb_signature, bytes(body), remote)
    return _with_receipt(ctx, captured)


def _with_receipt(ctx: Ctx, captured: Captured) -> PerformanceCapturedJson:
    """The item's view and the log receipts of its ``performance`` entry and of its other
    provenance entries (docs/log.md §12)."""
    log = get_log(ctx)
    return {**captured.view, "receipt": log.receipt(captured.appended),
            "provenanceReceipts": [log.receipt(a) for a in captured.provenance]}


class PartyEventIn(StrictBody):
    type: EventType
    shipment: str = Field(pattern=r"^[A-Za-z0-9._:\-]{1,64}$",
                          description="the tracking number (or any shipment reference)")
    occurredAt: str = Field(max_length=32,  # noqa: N815
                            description="UTC ISO 8601, e.g. 2026-12-01T08:00:00Z")
    location: str = Field(default="", max_length=200)
    signedBy: str = Field(default="", max_length=200)  # noqa: N815
    note: str = Field(default="", max_length=500)


@router.post("/orders/{order_id}/performance", status_code=201,
             responses=errors(403, 404, 409))
def record_party_event(order_id: OrderId, body: PartyEventIn, ctx: Ctx, user: CurrentUser,
                       token: Token, svc: Performance) -> PerformanceCapturedJson:
    """A party's own record of an event of its order (labelled party-submitted)."""
    fields = {k: v for k, v in body.model_dump(mode="json").items() if v != ""}
    return _with_receipt(ctx, svc.record_party(user, int(order_id), fields,
                                               _session_ref(ctx, token)))


@router.get("/orders/{order_id}/performance", responses=errors(403, 404))
def order_performance(order_id: OrderId, user: CurrentUser, svc: Performance
                      ) -> PerformanceListJson:
    """The order's performance evidence, before (or after) a case: its parties and admins."""
    return {"items": svc.for_order(user, int(order_id))}


@router.get("/cases/{case_id}/performance", responses=errors(403, 404))
def case_performance(case_id: str, user: CurrentUser, svc: Performance
                     ) -> PerformanceListJson:
    """The case's performance evidence (its order's, attached to the case)."""
    return {"items": svc.for_case(user, case_id)}


@router.get("/performance/{item_id}/provenance", response_model=ProvenanceOut,
            responses=errors(403, 404))
def performance_provenance(item_id: DbId, user: CurrentUser, svc: Performance
                           ) -> PerformanceProvenanceJson:
    return svc.provenance_log(user, item_id)


@router.get("/performance/{item_id}/content", responses={
    **errors(403, 404), 200: {"description": "The event's JSON body as captured",
                              "content": {"application/json": {}}}})
def performance_content(item_id: DbId, user: CurrentUser, svc: Performance) -> Response:
    """The event exactly as captured (the webhook's body bytes, decrypted)."""
    body = svc.content(user, item_id)
    return Response(body, media_type="application/json",
                    headers={"Cache-Control": "no-store"})


@router.get("/admin/webhook-refusals", responses=errors(403))
def webhook_refusals(_admin: AdminUser, svc: Performance,
                     after: Annotated[int, Query(ge=0, le=2**63 - 1)] = 0,
                     limit: Annotated[int, Query(ge=1, le=1000)] = 100
                     ) -> list[WebhookRefusalJson]:
    """Every refused webhook, oldest first (``after``: the last id already read)."""
    return svc.refusals(after=after, limit=limit)


__all__ = ["get_performance", "performance_service", "router"]
