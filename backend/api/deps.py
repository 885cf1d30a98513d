"""Dependencies of the routes (``Annotated`` aliases, the template's deps.py style)."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Header, Request

from backend.services.auth import authenticate
from backend.services.errors import AccessDenied, AuthRequired

from .context import AppContext

__all__ = ["AdminUser", "Ctx", "CurrentUser", "Token"]


def get_ctx(request: Request) -> AppContext:
    return request.app.state.ctx  # type: ignore[no-any-return]


Ctx = Annotated[AppContext, Depends(get_ctx)]


def get_token(authorization: Annotated[str | None, Header()] = None) -> str:
    if not authorization or not authorization.startswith("Bearer "):
        raise AuthRequired("send 'Authorization: Bearer <token>' from /auth/sign-in")
    return authorization.removeprefix("Bearer ").strip()


Token = Annotated[str, Depends(get_token)]


def current_user(ctx: Ctx, token: Token) -> str:
    with ctx.sessions() as session:
        return authenticate(session, token, ctx.clock())


CurrentUser = Annotated[str, Depends(current_user)]


def admin_user(ctx: Ctx, user: CurrentUser) -> str:
    if not ctx.service.is_admin(user):
        raise AccessDenied(f"{user} is not an institution admin")
    return user


AdminUser = Annotated[str, Depends(admin_user)]
