"""The composition root: settings in, a FastAPI app out (OpenAPI at /docs).

``create_app(settings)`` builds, once: the database engine (migrated to head), the IPFS
blockstore (local or kubo, per settings), the chain (embedded or JSON-RPC) with the escrow
port and the anchoring worker, the case service with its clock, the SMTP sender, and the
background tick. Tests inject ``clock``, ``port`` and ``blockstore`` (and turn the
background thread off) to drive time and the chain themselves.

Errors are translated here, once (STYLE §5): ``ProcedureError`` → its
``http_status_hint`` and ``code``; ``ServiceError`` → its ``http_status`` and ``code``;
``EvidenceError`` → 400 (signature), 403 (wrong signer), 409 (replay) or 422 (format),
with the failed check named in ``code``. Bodies are ``{"code": ..., "detail": ...}``.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from datetime import UTC, datetime
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException

from backend.db import make_engine, make_session_factory, upgrade_to_head
from backend.notices.smtp import SmtpSender
from backend.procedure import CaseRules, ProcedureError
from backend.services.cases import CaseService, ServiceConfig
from backend.services.chain import EscrowPort
from backend.services.errors import ServiceError
from backend.services.keys import seal_legacy_keys
from backend.settings import Settings
from backend.web import router as web_pages
from backend.worker.anchoring import AnchoringWorker
from evidence.errors import (
    EvidenceError,
    FormatError,
    InvalidSignature,
    ReplayError,
    WrongSigner,
)
from evidence.ipfs import Blockstore

from .context import AppContext
from .limits import JsonBodyLimit
from .routes import admin, auth, cases, court, evidence

__all__ = ["create_app", "error_body"]

log = logging.getLogger(__name__)


def error_body(code: str, detail: str) -> dict[str, str]:
    return {"code": code, "detail": detail}


def _evidence_status(exc: EvidenceError) -> int:
    if isinstance(exc, ReplayError):
        return 409
    if isinstance(exc, WrongSigner):
        return 403
    if isinstance(exc, InvalidSignature):
        return 400
    if isinstance(exc, FormatError):
        return 422
    return 400


def _blockstore(settings: Settings) -> Blockstore:
    if settings.ipfs_api_url:
        from evidence.ipfs import KuboBlockstore

        return KuboBlockstore(settings.ipfs_api_url)
    from evidence.ipfs import LocalBlockstore

    settings.ipfs_dir.mkdir(parents=True, exist_ok=True)
    return LocalBlockstore(settings.ipfs_dir)


def _chain(settings: Settings, key: str, sessions: sessionmaker[Session],
           closers: list[Callable[[], None]]) -> tuple[EscrowPort, AnchoringWorker]:
    """The escrow port and the anchoring worker (with the settings' RFC 3161 authority, so
    each anchored root is stamped when it is anchored) on the configured chain."""
    from eth_account import Account

    from backend.chain import EscrowContract, Transactor
    from backend.gateway import check_deployment, load_deployment, open_chain
    from backend.services.chain import Web3EscrowPort
    from backend.worker import build_worker

    handle = open_chain(settings)
    closers.append(handle.close)
    deployment = load_deployment(settings)
    if deployment is None or not deployment.escrow or not deployment.anchor:
        raise ValueError(
            f"no contracts deployed for chain {handle.chain_id}: run `chainarb demo` (embedded) "
            "or set CHAINARB_ESCROW_ADDRESS and CHAINARB_ANCHOR_ADDRESS"
        )
    check_deployment(handle, deployment)
    escrow = EscrowContract(Transactor(handle.w3), deployment.escrow)
    port = Web3EscrowPort(escrow, Account.from_key(key), flush=handle.flush)
    return port, build_worker(settings, sessions, handle, deployment.anchor)


def _timestamper(settings: Settings) -> Callable[[bytes], bytes] | None:
    """The settings' RFC 3161 authority as the worker's timestamper (None when unset)."""
    if not settings.tsa_url:
        return None
    from evidence.timestamp import request_timestamp

    url = settings.tsa_url
    return lambda digest: request_timestamp(url, digest)


def _rules(settings: Settings) -> CaseRules:
    """The default case rules from the settings (DESIGN.md's deadlines in days)."""
    return CaseRules(negotiation_days=settings.negotiation_days,
                     facilitation_days=settings.facilitation_days,
                     evidence_days=settings.evidence_days, award_days=settings.award_days,
                     objection_days=settings.objection_days)


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] | None = None,
    port: EscrowPort | None = None,
    blockstore: Blockstore | None = None,
    anchor_sender: Any = None,
    background: bool = True,
) -> FastAPI:
    """Build the service. Anything not injected is built from ``settings``."""
    admins = settings.admins
    tick_seconds = settings.tick_seconds
    clock = clock or (lambda: datetime.now(UTC))
    upgrade_to_head(settings.database)
    engine = make_engine(settings.database)
    sessions = make_session_factory(engine)
    closers: list[Callable[[], None]] = []
    key = settings.institution_private_key()
    anchoring: AnchoringWorker | None = None
    if port is None:
        port, anchoring = _chain(settings, key, sessions, closers)
    if anchor_sender is not None:  # injected (tests): same limits and authority
        anchoring = AnchoringWorker(sessions, anchor_sender,
                                    batch_limit=settings.anchor_batch_limit,
                                    confirmations=settings.confirmations,
                                    timestamper=_timestamper(settings))
    blockstore = blockstore or _blockstore(settings)
    base_url = settings.public_url or f"http://{settings.host}:{settings.port}"
    service = CaseService(
        sessions, port=port, blockstore=blockstore, clock=clock,
        config=ServiceConfig(admins=admins, institution_key=key, base_url=base_url,
                             smtp_enabled=bool(settings.smtp_host), rules=_rules(settings)),
    )
    sealed = seal_legacy_keys(sessions, service.keys, blockstore)  # pre-0003 rows
    if sealed.sealed or sealed.failed:
        log.warning("data keys at rest: %d plaintext key(s) wrapped for the service key; "
                    "%d row(s) could not be sealed now (step ids %s), retried at next start",
                    sealed.sealed, len(sealed.failed), sorted(sealed.failed))
    smtp = None
    if settings.smtp_host:
        smtp = SmtpSender(
            sessions, host=settings.smtp_host, port=settings.smtp_port,
            sender=settings.smtp_from, user=settings.smtp_user,
            password=settings.smtp_password.get_secret_value() if settings.smtp_password
            else None, starttls=settings.smtp_starttls, clock=clock)
    ctx = AppContext(settings=settings, engine=engine, sessions=sessions, service=service,
                     clock=clock, smtp=smtp, anchoring=anchoring,
                     tick_seconds=tick_seconds,
                     anchor_interval=settings.anchor_interval_seconds, closers=closers)

    @asynccontextmanager
    async def lifespan(_app: FastAPI) -> AsyncIterator[None]:
        if background:
            ctx.start()
        try:
            yield
        finally:
            ctx.close()

    app = FastAPI(
        title="chainarb",
        version="1",
        summary="Online dispute resolution for cross-border e-commerce: signed steps, "
                "escrow on an EVM chain, evidence in IPFS.",
        lifespan=lifespan,
    )
    app.state.ctx = ctx
    app.add_middleware(JsonBodyLimit)

    @app.exception_handler(ProcedureError)
    async def _procedure(_r: Request, exc: ProcedureError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.http_status_hint)

    @app.exception_handler(ServiceError)
    async def _service(_r: Request, exc: ServiceError) -> JSONResponse:
        headers = {"WWW-Authenticate": "Bearer"} if exc.http_status == 401 else None
        return JSONResponse(error_body(exc.code, exc.message), status_code=exc.http_status,
                            headers=headers)

    @app.exception_handler(EvidenceError)
    async def _evidence(_r: Request, exc: EvidenceError) -> JSONResponse:
        return JSONResponse(error_body(exc.code, str(exc)), status_code=_evidence_status(exc))

    # MERGE NOTE: main has its own handlers for these two (validation_error, http_error,
    # with bad_json); keep main's and drop these two when merging this branch.
    @app.exception_handler(RequestValidationError)
    async def _invalid(_r: Request, exc: RequestValidationError) -> JSONResponse:
        """FastAPI's own checks of a request (types, required fields): one code, the
        fields named (never the input echoed)."""
        where = []
        for e in exc.errors()[:10]:
            loc = ".".join(str(x) for x in e.get("loc", ()) if x != "body") or "body"
            where.append(f"{loc}: {e.get('msg', 'invalid')}")
        return JSONResponse(error_body("invalid_field", "; ".join(where)), status_code=422)

    @app.exception_handler(StarletteHTTPException)
    async def _http(_r: Request, exc: StarletteHTTPException) -> JSONResponse:
        """The router's own answers (no such route, method not allowed) in our form."""
        code = {404: "not_found", 405: "method_not_allowed"}.get(exc.status_code,
                                                                 "http_error")
        return JSONResponse(error_body(code, str(exc.detail)), status_code=exc.status_code,
                            headers=exc.headers)

    @app.exception_handler(LookupError)
    async def _lookup(_r: Request, exc: LookupError) -> JSONResponse:
        return JSONResponse(error_body("not_found", str(exc)), status_code=404)

    app.include_router(auth.router)
    app.include_router(cases.router)
    app.include_router(admin.router)
    app.include_router(evidence.router)
    app.include_router(court.router)
    app.include_router(web_pages)  # server-rendered pages under /ui

    @app.get("/health", tags=["service"])
    def health() -> dict[str, Any]:
        return {"ok": True, "chainId": service.domain.chain_id,
                "escrow": service.domain.verifying_contract,
                "institution": service.institution_address}

    return app
