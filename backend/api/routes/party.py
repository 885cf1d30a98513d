"""A party's own reads: their escrowed orders, the transactions their wallet must send, the
notices they received (backend/services/party.py says why the server never sends them).

* ``GET /orders``: the escrow's orders whose buyer or seller is the signed-in address, read
  from the chain (``OrderOpened`` events, then each order's state), with the case this
  service holds for each (``caseId`` is the id the case has or will have).
* ``GET /cases/{id}/wallet-transactions``: the escrow calls the case waits for from the
  signed-in party's own wallet (``raiseDispute`` after filing, ``objectToAward`` after a
  signed objection): ``to``, ``data``, ``value`` to hand the wallet as they are.
* ``GET /notices``: every notice sent to the signed-in address, newest first.
* ``GET /cases/{id}/documents`` and ``GET /cases/{id}/steps/{sequence}/document``: the
  documents steps carry (statement, answer, pre-evaluation report, reasoned award,
  objection), for whoever may read the step (backend/services/documents.py).
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

from fastapi import APIRouter, Request
from fastapi.responses import Response
from starlette.concurrency import run_in_threadpool

from backend.services import documents, party
from backend.services.errors import ChainUnavailable
from backend.services.escrow import EscrowRefusal

from ..deps import Ctx, CurrentUser, DbId
from ..errors import errors
from ..headers import attachment
from .evidence import get_evidence

if TYPE_CHECKING:
    from ..context import AppContext

__all__ = ["router"]

log = logging.getLogger(__name__)

router = APIRouter(tags=["parties"])


def _orders(ctx: AppContext, user: str) -> list[party.OrderJson]:
    try:
        return party.my_orders(ctx.service, user)
    except EscrowRefusal:
        raise
    except (ConnectionError, OSError, TimeoutError) as exc:
        log.warning("orders of %s: the chain did not answer: %s", user, exc)
        raise ChainUnavailable(f"the chain node did not answer ({exc}); try again") from None


@router.get("/orders", responses=errors(503))
async def my_orders(ctx: Ctx, user: CurrentUser) -> list[party.OrderJson]:
    """Your escrowed orders (buyer or seller), newest first, read from the chain."""
    return await run_in_threadpool(_orders, ctx, user)


@router.get("/cases/{case_id}/wallet-transactions", responses=errors(403, 404))
def wallet_transactions(ctx: Ctx, user: CurrentUser, case_id: str
                        ) -> list[party.WalletTxJson]:
    """The escrow calls this case waits for from your own wallet (none: nothing to send)."""
    return party.wallet_transactions(ctx.service, case_id, user)


@router.get("/notices", responses=errors())
def notices(ctx: Ctx, user: CurrentUser) -> list[party.MyNoticeJson]:
    """The notices sent to you in every case, newest first (at most 200)."""
    with ctx.sessions() as session:
        return party.my_notices(session, user)


@router.get("/cases/{case_id}/documents", responses=errors(403, 404))
def case_documents(ctx: Ctx, user: CurrentUser, case_id: str
                   ) -> list[documents.DocumentJson]:
    """The documents of the steps you may read, in step order."""
    return documents.list_documents(ctx.service, case_id, user)


@router.get("/cases/{case_id}/steps/{sequence}/document", response_class=Response,
            responses={**errors(403, 404),
                       200: {"description": "The step's document, checked against the "
                                            "SHA-256 its step signed",
                             "content": {"*/*": {"schema": {"type": "string",
                                                            "format": "binary"}}}}})
def step_document(request: Request, ctx: Ctx, user: CurrentUser, case_id: str,
                  sequence: DbId) -> Response:
    """The document step ``sequence`` carries (a download: never shown as a page)."""
    meta, content = documents.read_document(ctx.service, get_evidence(request, ctx), case_id,
                                            sequence, user)
    media = meta["mediaType"] + ("; charset=utf-8" if meta["mediaType"].startswith("text/")
                                 else "")
    return Response(content, media_type=media, headers={
        "Content-Disposition": attachment(meta["filename"], f"document-{sequence}"),
        "Cache-Control": "no-store", "X-Document-Sha256": meta["sha256"]})
