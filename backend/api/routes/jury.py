"""The juror's own reads: ``GET /cases/{id}/jury/view`` and the files of the items put
before the jury, ``GET /cases/{id}/jury/files/{evidenceId}`` (backend/services/jury_view.py).

The jury's steps themselves are routes generated from the step table (``jury/*`` under
``/cases/{id}/``, backend/api/routes/cases.py); this is the one read a juror has, since a
juror never reads the case record.
"""

from __future__ import annotations

from fastapi import APIRouter
from fastapi.responses import Response

from backend.services import jury_view

from ..deps import Ctx, CurrentUser
from ..errors import errors
from ..headers import attachment
from .evidence import Evidence

__all__ = ["router"]

router = APIRouter(tags=["jury"])


@router.get("/cases/{case_id}/jury/view", responses=errors(403, 404))
def juror_view(ctx: Ctx, user: CurrentUser, case_id: str, svc: Evidence
               ) -> jury_view.JuryViewJson:
    """The case as a juror sees it: the dispute, never the parties (logged)."""
    return jury_view.juror_view(ctx.service, svc, case_id, user)


@router.get("/cases/{case_id}/jury/files/{evidence_id}", response_class=Response,
            responses={**errors(403, 404),
                       200: {"description": "The file cleaned under the rule for files",
                             "content": {"*/*": {"schema": {"type": "string",
                                                            "format": "binary"}}}}})
def juror_file(ctx: Ctx, user: CurrentUser, case_id: str, evidence_id: str, svc: Evidence
               ) -> Response:
    """A file put before the jury as a sitting juror may read it: metadata stripped (or
    withheld, 403 ``file_withheld``), under a neutral name; logged (docs/jury.md §4)."""
    out = jury_view.juror_file(ctx.service, svc, case_id, evidence_id, user)
    media = out.media_type + ("; charset=utf-8" if out.media_type == "text/plain" else "")
    return Response(out.content, media_type=media, headers={
        "Content-Disposition": attachment(out.filename), "Cache-Control": "no-store"})
