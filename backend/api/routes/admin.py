"""Institution admin: courts, court access, running the background work now."""

from __future__ import annotations

from fastapi import APIRouter
from pydantic import Field
from sqlmodel import col, select
from typing_extensions import TypedDict

from backend.answers import open_answer
from backend.db.service_models import ChainAction, ChainActionStatus
from backend.services.advance import AdvanceRefundJson, release_advance_refund
from backend.services.cases import chain_action_view
from backend.services.courts import grant_court as grant_court_step
from backend.services.identity import IdentityService
from backend.services.pipeline import ChainActionJson

from ..context import TickJson
from ..deps import AdminUser, Ctx, DbId
from ..errors import StrictBody, errors

router = APIRouter(tags=["institution"], responses=errors(403, 404, 409, 502, 503))


class CourtIn(StrictBody):
    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    name: str = Field(min_length=1, max_length=200)
    nameZh: str = Field(default="", max_length=200)  # noqa: N815 - the API's JSON names
    country: str = Field(default="", pattern=r"^([A-Z]{2})?$")


class NeutralIn(StrictBody):
    address: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")
    name: str = Field(min_length=1, max_length=200)
    nameZh: str = Field(default="", max_length=200)  # noqa: N815 - the API's JSON names
    country: str = Field(default="", pattern=r"^([A-Z]{2})?$")
    language: str = Field(default="", max_length=35)
    contact: str = Field(default="", max_length=320)


class CourtAccessIn(StrictBody):
    court: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")


class AdvanceRefundIn(StrictBody):
    # integer of the token's smallest unit, as a string (amounts exceed JSON's safe integers)
    amount: str = Field(pattern=r"^[1-9][0-9]{0,77}$")
    token: str = Field(pattern=r"^0x[0-9a-fA-F]{40}$")  # the order's, named again


def _checksum(address: str) -> str:
    from evidence.records import checksum_address

    return checksum_address(address)


@open_answer
class CourtJson(TypedDict):
    """A court's wallet registered, with the name the institution gave it."""

    address: str
    name: str


@open_answer
class CourtAccessJson(TypedDict):
    """A court given access to a case."""

    caseId: str
    court: str


@router.post("/admin/courts", status_code=201)
def register_court(ctx: Ctx, admin: AdminUser, body: CourtIn) -> CourtJson:
    """Register a court's wallet (courts sign in like anyone else)."""
    address = _checksum(body.address)
    ctx.service.register_court(admin, address, body.name, name_zh=body.nameZh,
                               country=body.country)
    return {"address": address, "name": body.name}


@router.post("/admin/neutrals", status_code=201)
def register_neutral(ctx: Ctx, _admin: AdminUser, body: NeutralIn) -> dict[str, str]:
    """Put a mediator or arbitrator on the institution's register: the institution signs
    the neutral's ``Profile`` (packages show it unless the neutral signed a newer one)."""
    signed = IdentityService(ctx.service).issue_profile(
        _checksum(body.address), body.name, name_zh=body.nameZh, country=body.country,
        language=body.language, contact=body.contact)
    return {"address": _checksum(body.address), "name": body.name,
            "recordHash": "0x" + signed.record_hash.hex()}


@router.post("/cases/{case_id}/courts", status_code=201)
def grant_court(ctx: Ctx, admin: AdminUser, case_id: str, body: CourtAccessIn
                ) -> CourtAccessJson:
    """Give a registered court access to a case (an institution-signed ``appoint.court``
    step records it on the hash chain): it reads, then confirms or refuses."""
    court = _checksum(body.court)
    grant_court_step(ctx.service, admin, case_id, court)
    return {"caseId": case_id, "court": court}


@router.post("/cases/{case_id}/advance-refund", status_code=201, responses=errors(422))
def advance_refund(ctx: Ctx, admin: AdminUser, case_id: str, body: AdvanceRefundIn
                   ) -> AdvanceRefundJson:
    """Release an advance refund to the buyer from the seller's guarantee (Trade Assurance):
    the seller missed the delivery deadline of an order in dispute whose contract of sale's
    rules provide for it. An institution-signed ``advance.refunded`` step records it; the
    escrow's ``advanceRefund`` pays it, capped at the amount and the guarantee."""
    return release_advance_refund(ctx.service, admin, case_id, int(body.amount),
                                  _checksum(body.token))


@router.post("/admin/tick")
def tick(ctx: Ctx, _admin: AdminUser) -> TickJson:
    """Run the scheduler (missed deadlines), chain actions, anchoring and e-mail now."""
    return ctx.tick(force=True).as_dict()


@open_answer
class CaseChainActionJson(ChainActionJson):
    """A chain action with the case it is for."""

    caseId: str  # noqa: N815 (JSON field names are camelCase)


@router.get("/admin/chain-actions")
def chain_actions(ctx: Ctx, _admin: AdminUser, status: ChainActionStatus | None = None
                  ) -> list[CaseChainActionJson]:
    with ctx.sessions() as session:
        query = select(ChainAction).order_by(col(ChainAction.id))
        if status is not None:
            query = query.where(col(ChainAction.status) == status)
        return [{**chain_action_view(a), "caseId": a.case_id}
                for a in session.exec(query).all()]


@router.post("/admin/chain-actions/{action_id}/retry")
def retry_chain_action(ctx: Ctx, _admin: AdminUser, action_id: DbId) -> CaseChainActionJson:
    """Put a failed chain action back in the queue (after fixing its cause); run it now."""
    from backend.db import begin_exclusive
    from backend.services.errors import Conflict, NotFound

    with ctx.sessions() as session:
        begin_exclusive(session)
        action = session.get(ChainAction, action_id)
        if action is None:
            raise NotFound(f"chain action {action_id} does not exist")
        if action.status != ChainActionStatus.FAILED:
            raise Conflict(f"chain action {action_id} is {action.status}, not failed")
        action.status, action.attempts = ChainActionStatus.PENDING, 0
        session.add(action)
        session.commit()
        case_id = action.case_id
    ctx.service.executor.run(case_id=case_id)
    with ctx.sessions() as session:
        done = session.get(ChainAction, action_id)
        assert done is not None
        return {**chain_action_view(done), "caseId": done.case_id}
