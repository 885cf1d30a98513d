"""Sign-in with the wallet: nonce-bearing message → personal_sign → session token."""

from __future__ import annotations

from datetime import timedelta

from fastapi import APIRouter
from pydantic import BaseModel, Field
from typing_extensions import TypedDict

from backend.answers import open_answer
from backend.db import Account, begin_exclusive
from backend.notices.templates import LANGUAGES
from backend.services import auth as svc
from backend.services.errors import BadSubmission

from ..deps import Ctx, CurrentUser, Token
from ..errors import StrictBody, errors

router = APIRouter(prefix="/auth", tags=["sign-in"], responses=errors())


class ChallengeOut(BaseModel):
    message: str = Field(description="EIP-4361 text; sign it with personal_sign (EIP-191)")
    nonce: str
    expiresAt: str  # noqa: N815 (JSON field names are camelCase)


class SignInIn(StrictBody):
    message: str = Field(max_length=svc.MAX_MESSAGE_CHARS)
    signature: str = Field(max_length=200, description="0x + 65 bytes r||s||v")


class SignedInOut(BaseModel):
    token: str
    address: str
    expiresAt: str  # noqa: N815


class ProfileIn(StrictBody):
    displayName: str | None = Field(default=None, max_length=200)  # noqa: N815
    email: str | None = Field(default=None, max_length=320, pattern=r"^[^@\s]+@[^@\s]+$")
    preferredLanguage: str | None = None  # noqa: N815


def _iso(t: object) -> str:
    from backend.procedure import to_jsonable

    return str(to_jsonable(t))


@router.get("/nonce", response_model=ChallengeOut)
def nonce(ctx: Ctx, address: str) -> ChallengeOut:
    """A one-time sign-in message for ``address`` (expires; usable once)."""
    s = ctx.settings
    ch = svc.request_challenge(
        ctx.sessions, address=address, now=ctx.clock(), domain=f"{s.host}:{s.port}",
        uri=s.public_url or f"http://{s.host}:{s.port}", chain_id=ctx.service.domain.chain_id,
        lifetime=timedelta(seconds=s.sign_in_nonce_lifetime_seconds))
    return ChallengeOut(message=ch.message, nonce=ch.nonce, expiresAt=_iso(ch.expires_at))


@router.post("/sign-in", response_model=SignedInOut)
def sign_in(ctx: Ctx, body: SignInIn) -> SignedInOut:
    """Exchange the signed message for a session token (stored hashed, expiring)."""
    out = svc.sign_in_unit(ctx.sessions, message=body.message, signature=body.signature,
                           now=ctx.clock(),
                           lifetime=timedelta(seconds=ctx.settings.session_lifetime_seconds),
                           secret=ctx.auth_cache.secret)
    return SignedInOut(token=out.token, address=out.address, expiresAt=_iso(out.expires_at))


@router.post("/sign-out", status_code=204)
def sign_out(ctx: Ctx, token: Token) -> None:
    svc.sign_out_unit(ctx.sessions, token, ctx.clock(), ctx.auth_cache.secret)
    ctx.auth_cache.forget(token)


@open_answer
class MeJson(TypedDict):
    """The signed-in account: its address, whether it is an admin, its contact details."""

    address: str
    admin: bool
    displayName: str
    email: str | None
    preferredLanguage: str


@router.get("/me")
def me(ctx: Ctx, user: CurrentUser) -> MeJson:
    with ctx.sessions() as session:
        acct = session.get(Account, user)
        return {"address": user, "admin": ctx.service.is_admin(user),
                "displayName": acct.display_name if acct else "",
                "email": acct.email if acct else None,
                "preferredLanguage": acct.preferred_language if acct else "en"}


@router.put("/me")
def update_me(ctx: Ctx, user: CurrentUser, body: ProfileIn) -> MeJson:
    """Contact details for notices (e-mail, language: en or zh-Hans)."""
    if body.preferredLanguage is not None and body.preferredLanguage not in LANGUAGES:
        raise BadSubmission(f"preferredLanguage: expected one of {LANGUAGES}, found "
                            f"{body.preferredLanguage!r}")
    with ctx.sessions() as session:
        begin_exclusive(session)
        acct = session.get(Account, user)
        assert acct is not None  # created at sign-in
        if body.displayName is not None:
            acct.display_name = body.displayName
        if body.email is not None:
            acct.email = body.email
        if body.preferredLanguage is not None:
            acct.preferred_language = body.preferredLanguage
        session.add(acct)
        session.commit()
    return me(ctx, user)
