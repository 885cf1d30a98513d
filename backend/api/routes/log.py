"""The institution's log, public and read-only (docs/api.md, "The institution's log").

No sign-in: a monitor, a party or a court asks these. Everything answered is a hash, a
signed checkpoint, a proof or a signed statement; a leaf shows its entry (kind, case id,
record hash, signatures hash), never a record's content.
"""

from __future__ import annotations

from typing import Annotated, Literal

from fastapi import APIRouter, Path, Query
from starlette.concurrency import run_in_threadpool

from backend.log import LogService, log_service_from_settings
from backend.log.service import (
    CaseLogJson,
    CheckpointJson,
    CheckpointsJson,
    ConsistencyJson,
    InclusionJson,
    LeafJson,
)
from evidence.log.absence import AbsenceJson
from evidence.log.absence_index import IndexAbsenceJson

from ..deps import Ctx
from ..errors import errors

__all__ = ["router"]

router = APIRouter(prefix="/log", tags=["log"], responses=errors(404, 409))

MAX_SIZE = (1 << 63) - 1
HASH_PATTERN = r"^0x[0-9a-fA-F]{64}$"


def get_log(ctx: Ctx) -> LogService:
    """The app's LogService (``ctx.log``; built from the settings if the context has none)."""
    if ctx.log is None:
        ctx.log = log_service_from_settings(ctx.settings, ctx.sessions, ctx.clock)
    return ctx.log


@router.get("/checkpoint")
async def checkpoint(ctx: Ctx) -> CheckpointJson:
    """The newest signed checkpoint (a C2SP ``tlog-checkpoint`` signed note), the batch
    leaf that carries it and where that batch is anchored (``anchored`` once confirmed on
    every chain)."""
    svc = get_log(ctx)
    return await run_in_threadpool(svc.latest)


@router.get("/checkpoints")
async def checkpoints(ctx: Ctx,
                      after: Annotated[int, Query(ge=-1, le=MAX_SIZE)] = -1,
                      limit: Annotated[int, Query(ge=1, le=100)] = 100) -> CheckpointsJson:
    """Anchored checkpoints of size greater than ``after``, smallest first, each with its
    anchors (chain, contract, transaction, block)."""
    svc = get_log(ctx)
    found = await run_in_threadpool(svc.anchored_checkpoints, after, limit)
    return {"origin": svc.origin, "checkpoints": [c.as_dict() for c in found]}


@router.get("/proof/inclusion")
async def inclusion(ctx: Ctx,
                    index: Annotated[int, Query(ge=0, le=MAX_SIZE - 1)],
                    size: Annotated[int | None, Query(ge=1, le=MAX_SIZE)] = None
                    ) -> InclusionJson:
    """Entry ``index`` and its RFC 9162 inclusion proof to the checkpoint of ``size``
    (default: the first anchored checkpoint that covers it). ``inclusion`` completes a
    receipt."""
    svc = get_log(ctx)
    return await run_in_threadpool(svc.inclusion, index, size)


@router.get("/proof/consistency")
async def consistency(ctx: Ctx,
                      first: Annotated[int, Query(alias="from", ge=0, le=MAX_SIZE)],
                      second: Annotated[int, Query(alias="to", ge=0, le=MAX_SIZE)]
                      ) -> ConsistencyJson:
    """The RFC 9162 consistency proof between the signed checkpoints of sizes ``from`` and
    ``to`` (both notes included)."""
    svc = get_log(ctx)
    return await run_in_threadpool(svc.consistency, first, second)


@router.get("/leaf/{record_hash}")
async def leaf(ctx: Ctx,
               record_hash: Annotated[str, Path(pattern=HASH_PATTERN)]) -> LeafJson:
    """The log entries naming a record hash (hashes only), with their indices."""
    svc = get_log(ctx)
    return await run_in_threadpool(svc.leaf, record_hash)


@router.get("/absence", response_model_exclude_none=True)
async def absence(ctx: Ctx,
                  case: Annotated[str, Query(pattern=HASH_PATTERN)],
                  first: Annotated[int, Query(alias="from", ge=0, le=MAX_SIZE)],
                  second: Annotated[int, Query(alias="to", ge=0, le=MAX_SIZE)],
                  by: Annotated[Literal["index", "range"], Query()] = "index",
                  ) -> AbsenceJson | IndexAbsenceJson:
    """A signed proof that no record of ``case`` entered the log between the anchored
    checkpoints of sizes ``from`` and ``to`` (``chainarb.log-absence``, checked by the
    service before it signs): by the case's heads in both checkpoints' signed per-case
    indexes (version 2, the default when both sign one), or by the entries between them
    (version 1, ``by=range``, and for checkpoints signed before the index)."""
    svc = get_log(ctx)
    return await run_in_threadpool(svc.absence, case.lower(), first, second, by)


@router.get("/case/{case_id}")
async def case_log(ctx: Ctx, case_id: Annotated[str, Path(pattern=HASH_PATTERN)],
                   size: Annotated[int, Query(ge=0, le=MAX_SIZE)]) -> CaseLogJson:
    """The case's entries in the log of ``size`` (a signed checkpoint's, hashes only) and its
    head in that checkpoint's signed per-case index, with the proof (or its neighbours' when
    it has none): what ``chainarb monitor --case`` follows (docs/log.md §14)."""
    svc = get_log(ctx)
    return await run_in_threadpool(svc.case_log, case_id.lower(), size)
