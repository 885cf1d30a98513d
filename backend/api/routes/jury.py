"""The juror's own read: ``GET /cases/{id}/jury/view`` (backend/services/jury_view.py).

The jury's steps themselves are routes generated from the step table (``jury/*`` under
``/cases/{id}/``, backend/api/routes/cases.py); this is the one read a juror has, since a
juror never reads the case record.
"""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from pydantic import BaseModel

from backend.services import jury_view

from ..deps import Ctx, CurrentUser
from ..errors import errors
from .evidence import Evidence

__all__ = ["router"]

router = APIRouter(tags=["jury"])


class JuryClaimOut(BaseModel):
    by: str  # buyer | seller: the side, never the person
    disputeType: str | None  # noqa: N815
    remedy: str | None
    claimedAmount: str  # noqa: N815
    escrowed: str
    text: str | None  # the statement of claim, redacted


class JuryAnswerOut(BaseModel):
    text: str | None


class JuryOptionOut(BaseModel):
    toBuyer: str  # noqa: N815
    toSeller: str  # noqa: N815
    compensation: str


class ReasonCodeOut(BaseModel):
    code: int
    en: str
    zh: str


class MyVoteOut(BaseModel):
    accepted: bool
    committed: bool
    revealed: bool


class JuryViewOut(BaseModel):
    caseId: str  # noqa: N815
    stage: str
    deadline: str | None
    claim: JuryClaimOut
    answer: JuryAnswerOut
    evidence: list[dict[str, str]]
    options: list[JuryOptionOut]
    reasonCodes: list[ReasonCodeOut]  # noqa: N815
    myVote: MyVoteOut  # noqa: N815


@router.get("/cases/{case_id}/jury/view", response_model=JuryViewOut,
            responses=errors(403, 404))
def juror_view(ctx: Ctx, user: CurrentUser, case_id: str, svc: Evidence) -> dict[str, Any]:
    """The case as a juror sees it: the dispute, never the parties (logged)."""
    return jury_view.juror_view(ctx.service, svc, case_id, user)
