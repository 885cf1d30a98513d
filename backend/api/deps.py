"""Dependencies of the routes (``Annotated`` aliases, the template's deps.py style)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Path, Request
from starlette.concurrency import run_in_threadpool

from backend.services.errors import AccessDenied, AuthRequired
from backend.services.fields import MAX_DB_ID

from .context import AppContext

__all__ = ["AdminUser", "Ctx", "CurrentUser", "DbId", "Token", "context_of"]

# A database id or step sequence in a path: a 64-bit signed INTEGER in SQLite and
# PostgreSQL, so anything outside [0, 2**63 - 1] is 422 ``invalid_field`` naming it, not an
# OverflowError in the driver (backend/services/fields.py).
DbId = Annotated[int, Path(ge=0, le=MAX_DB_ID)]


# The dependencies that do no I/O are ``async``: FastAPI runs a sync dependency in the
# thread pool, a hop that cost more than the work.

def context_of(request: Request) -> AppContext:
    """The app's context (put there by create_app); what ``Ctx`` gives, without a
    dependency to solve (the hot routes call it)."""
    ctx: AppContext = request.app.state.ctx
    return ctx


async def get_ctx(request: Request) -> AppContext:
    return context_of(request)


Ctx = Annotated[AppContext, Depends(get_ctx)]


Authorization = Annotated[str | None, Header()]


def _bearer(authorization: str | None) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise AuthRequired("send 'Authorization: Bearer <token>' from /auth/sign-in")
    return authorization.removeprefix("Bearer ").strip()


async def get_token(authorization: Authorization = None) -> str:
    return _bearer(authorization)


Token = Annotated[str, Depends(get_token)]


async def current_user(request: Request, authorization: Authorization = None) -> str:
    """The signed-in address: from the session cache (``SessionCache``: expiry checked on
    every request, sign-out here immediate, revocation elsewhere within its TTL), else
    from the database in the thread pool. Reads the header and the context itself, not
    through ``Token`` and ``Ctx``: each sub-dependency cost every request FastAPI's
    solving of it (the same header parameter, so the same OpenAPI and the same 401)."""
    token = _bearer(authorization)
    ctx = context_of(request)
    now = ctx.clock()
    user = ctx.auth_cache.cached(token, now)
    if user is None:
        user = await run_in_threadpool(ctx.auth_cache.authenticate, ctx.sessions, token, now)
    return user


CurrentUser = Annotated[str, Depends(current_user)]


def admin_user(ctx: Ctx, user: CurrentUser) -> str:
    if not ctx.service.is_admin(user):
        raise AccessDenied(f"{user} is not an institution admin")
    return user


AdminUser = Annotated[str, Depends(admin_user)]
