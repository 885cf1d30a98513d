"""The assessor pool's routes (docs/jury.md §1 and §5; backend/services/pool.py).

One route per pool step, as for case steps: ``POST /pool/{apply,admit,suspend,reinstate,
relationships}`` with ``{"record": <signed ProceduralStep>, "payload": {...}}``;
``POST /pool/prepare`` builds the unsigned record of one (what the pages sign);
``GET /pool/head`` is what a signer needs for the next step; ``GET /pool/me`` is an
assessor's own status and standing; ``GET /pool`` (admins) lists every assessor with
status and standing; ``GET /pool/records`` (admins) gives the signed steps themselves, from
which ``backend.jury.pool_from_records`` recomputes the pool. A case's computed snapshot
is ``GET /cases/{id}/jury/snapshot`` (admins).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter
from pydantic import Field
from starlette.concurrency import run_in_threadpool
from typing_extensions import TypedDict

from backend.answers import AS_OBJECT, AS_OBJECTS, FreeJson
from backend.services.pool import (
    POOL_ROUTES,
    InPoolJson,
    NotInPoolJson,
    PoolHeadJson,
    PoolOverviewJson,
    PoolStepAcceptedJson,
    PreparedPoolStepJson,
    SnapshotJson,
)
from evidence.records import SignedRecordJson
from evidence.safejson import JsonObject

from ..deps import AdminUser, Ctx, CurrentUser
from ..errors import StrictBody, errors

__all__ = ["router"]

router = APIRouter(tags=["jury"])


class PoolRecordJson(TypedDict):
    """A stored pool step: its signed record and its payload."""

    record: SignedRecordJson
    payload: JsonObject


class PoolStepIn(StrictBody):
    record: FreeJson = Field(description="canonical JSON of the signed ProceduralStep")
    payload: FreeJson = Field(description="the step's payload; its SHA-256 is "
                                               "payloadHash")


def _route(name: str, action: str) -> None:
    async def post(ctx: Ctx, user: CurrentUser, body: PoolStepIn
                   ) -> Annotated[PoolStepAcceptedJson, AS_OBJECT]:
        return await run_in_threadpool(ctx.service.pool.submit, user, action,
                                       {"record": body.record, "payload": body.payload})

    post.__name__ = f"pool_{name}"
    post.__doc__ = f"The pool step ``{action}`` (docs/jury.md §1)."
    router.add_api_route(f"/pool/{name}", post, methods=["POST"], status_code=201,
                         responses=errors(403, 409, 422), summary=f"pool: {action}")


for _name, _action in POOL_ROUTES.items():
    _route(_name, _action)


class PoolPrepareIn(StrictBody):
    action: str = Field(description="the pool step: pool.applied, pool.admitted, …")
    payload: FreeJson = Field(description="the step's payload, exactly as posted")


@router.post("/pool/prepare", responses=errors(403, 409, 422))
def pool_prepare(ctx: Ctx, user: CurrentUser, body: PoolPrepareIn
                 ) -> Annotated[PreparedPoolStepJson, AS_OBJECT]:
    """The unsigned pool step to sign next (typed data, record, endpoint), checked as the
    step's route would check it; the service keeps nothing."""
    return ctx.service.pool.prepare(user, body.action, body.payload)


@router.get("/pool/head", responses=errors(422))
def pool_head(ctx: Ctx, _user: CurrentUser) -> Annotated[PoolHeadJson, AS_OBJECT]:
    """The next pool step's sequence and previous hash; the published criteria and rule."""
    return ctx.service.pool.head()


@router.get("/pool/me", responses=errors(422))
def pool_me(ctx: Ctx, user: CurrentUser) -> Annotated[NotInPoolJson | InPoolJson, AS_OBJECT]:
    """Your own status in the pool and your standing (participation, agreement)."""
    return ctx.service.pool.mine(user)


@router.get("/pool", responses=errors(403))
def pool_overview(ctx: Ctx, _admin: AdminUser) -> Annotated[PoolOverviewJson, AS_OBJECT]:
    """Every assessor, with status and standing (the institution's view)."""
    return ctx.service.pool.overview()


@router.get("/pool/records", responses=errors(403))
def pool_records(ctx: Ctx, _admin: AdminUser) -> Annotated[list[PoolRecordJson], AS_OBJECTS]:
    """The pool's signed steps and payloads, in order (anyone holding them recomputes the
    pool: ``backend.jury.pool_from_records``)."""
    with ctx.sessions() as session:
        records, payloads = ctx.service.pool.records(session)
    return [{"record": r.to_json_obj(), "payload": pl} for r, pl in zip(records, payloads,
                                                                        strict=True)]


@router.get("/cases/{case_id}/jury/snapshot", responses=errors(403, 404))
def jury_snapshot(ctx: Ctx, _admin: AdminUser, case_id: str
                  ) -> Annotated[SnapshotJson, AS_OBJECT]:
    """The eligible pool of the case's next draw round, as the service computes it (what
    ``jury.seed_committed`` must fix), and why each admitted assessor left out is out."""
    return ctx.service.pool.snapshot(case_id).to_json_obj()
