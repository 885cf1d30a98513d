"""The composition root: settings in, a FastAPI app out (OpenAPI at /docs).

``create_app(settings)`` builds, once: the database engine (migrated to head), the IPFS
blockstore (local or kubo, per settings), the chain (embedded or JSON-RPC) with the escrow
port and the anchoring worker, the case service with its clock, the SMTP sender, and the
background tick. Tests inject ``clock``, ``port`` and ``blockstore`` (and turn the
background thread off) to drive time and the chain themselves.

Errors are translated here, once (STYLE §5): ``ProcedureError`` → its
``http_status_hint`` and ``code``; ``ServiceError`` → its ``http_status`` and ``code``;
``EvidenceError`` → 400 (signature), 403 (wrong signer), 409 (replay) or 422 (format),
with the failed check named in ``code``; FastAPI's own validation of paths, queries and
bodies → 422 ``invalid_field`` (``bad_json`` for a body that is not JSON) naming each
field. Bodies are ``{"code": ..., "detail": ...}``. Every answer carries ``X-Request-ID``;
anything else raised is a logged 500 ``internal_error`` with that id (request_id.py).
"Not found" is the service's ``NotFound``, raised where a case, step, item or offer
really is missing; a stray ``KeyError`` (any ``LookupError``) is a bug, so a 500.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import UTC, datetime, timedelta

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from starlette.exceptions import HTTPException as StarletteHTTPException
from typing_extensions import TypedDict

from backend.answers import open_answer
from backend.db import make_engine, make_session_factory, upgrade_to_head
from backend.log import checkpointer_from_settings, log_service_from_settings
from backend.notices.smtp import SmtpSender
from backend.procedure import CaseRules, ProcedureError
from backend.services.auth import SessionCache
from backend.services.cases import CaseService, ServiceConfig
from backend.services.chain import EscrowPort
from backend.services.errors import ServiceError
from backend.services.jury_draw import BlockSource, JuryDrawGate, draw_blocks
from backend.services.keys import seal_legacy_keys
from backend.settings import Settings
from backend.web import not_found_page, verify_router
from backend.web import root_router as web_root
from backend.web import router as web_pages
from backend.web.apidocs import router as apidocs_router
from backend.worker.anchoring import AnchoringWorker, AnchorSender
from evidence.errors import (
    EvidenceError,
    FormatError,
    InvalidSignature,
    ReplayError,
    WrongSigner,
)
from evidence.ipfs import Blockstore

from .context import AppContext
from .edge import ApiEdge
from .errors import validation_error
from .outages import register as register_outage_handlers
from .routes import (
    admin,
    auth,
    cases,
    checkout,
    court,
    evidence,
    identity,
    jury,
    party,
    performance,
)
from .routes import log as log_routes
from .routes import pool as pool_routes

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


def _blockstore(settings: Settings, engine: Engine) -> Blockstore:
    """kubo if configured; else the local store: step blocks in the database (written in
    each step's transaction), other blocks as files under ``<data dir>/ipfs``
    (backend/db/blocks.py)."""
    if settings.ipfs_api_url:
        from evidence.ipfs import KuboBlockstore

        return KuboBlockstore(settings.ipfs_api_url)
    from backend.db.blocks import ServiceBlockstore
    from evidence.ipfs import LocalBlockstore

    settings.ipfs_dir.mkdir(parents=True, exist_ok=True)
    return ServiceBlockstore(engine, LocalBlockstore(settings.ipfs_dir))


def _chain(settings: Settings, key: str, sessions: sessionmaker[Session],
           closers: list[Callable[[], None]]) -> tuple[EscrowPort, AnchoringWorker, int, str]:
    """The escrow port, the anchoring worker (with the settings' RFC 3161 authority, so
    each anchored root is stamped when it is anchored), the escrow's objection window
    (seconds) on the configured chain and its node's URL (the pages' chain relay).

    On the embedded chain the contracts are deployed once per data dir (``ensure_deployment``
    with the development timeouts, docs/chain.md), whichever of ``serve`` and ``demo`` runs
    first; against an external node they must be configured (``GatewayError`` otherwise).
    """
    from eth_account import Account

    from backend.chain import EscrowContract, Transactor
    from backend.gateway import (
        DeploymentMismatchError,
        contracts_deployer,
        ensure_deployment,
        open_chain,
    )
    from backend.gateway.escrow import Web3EscrowPort
    from backend.worker import build_worker

    handle = open_chain(settings)
    try:
        deployment = ensure_deployment(handle, settings, contracts_deployer(key))
        if not deployment.escrow or not deployment.anchor:
            raise DeploymentMismatchError(
                f"no escrow or anchor contract known for chain {handle.chain_id}: set "
                "CHAINARB_ESCROW_ADDRESS and CHAINARB_ANCHOR_ADDRESS")
        institution = Account.from_key(key).address
        escrow = EscrowContract(Transactor(handle.w3), deployment.escrow)
        retired_to = escrow.successor_of(institution)
        if int(retired_to, 16):  # a rotated key: it can act for no order any more
            raise DeploymentMismatchError(
                f"the institution key {institution} was rotated to {retired_to} "
                "(`chainarb institution rotate-key`); configure that key "
                "(CHAINARB_INSTITUTION_KEY, or the data dir's institution.key)")
        if handle.embedded and deployment.deployer and deployment.deployer != institution \
                and escrow.institution_of(deployment.deployer) != institution:
            raise DeploymentMismatchError(_foreign_deployer(settings, deployment.deployer,
                                                            institution))
        objection = escrow.timeouts().objection
    except BaseException:
        handle.close()
        raise
    closers.append(handle.close)
    port = Web3EscrowPort(escrow, Account.from_key(key), flush=handle.flush)
    return (port, build_worker(settings, sessions, handle, deployment.anchor), objection,
            handle.rpc_url)


def _foreign_deployer(settings: Settings, deployer: str, institution: str) -> str:
    """Why an embedded data dir's contracts do not belong to this institution key."""
    from evidence.published_keys import published_key_source

    source = published_key_source(deployer)
    if source is not None:
        return (f"the contracts in {settings.deployment_path} were deployed with {source} "
                f"({deployer}), a published key that is no longer accepted; this data dir's "
                "chain, escrow role and sealed evidence keys belong to it. Start a new "
                "data dir (CHAINARB_DATA_DIR)")
    return (f"the contracts in {settings.deployment_path} were deployed by {deployer}, but "
            f"the institution key is {institution}: restore the data dir's institution.key "
            "(or CHAINARB_INSTITUTION_KEY) that deployed them")


def _fit_objection(rules: CaseRules, window_seconds: int) -> CaseRules:
    """The rules with an objection window no longer than the escrow's.

    The escrow's window binds (``objectToAward`` reverts after it, and anyone may then
    ``executeAward``), so a longer window in the rules would promise parties a right the
    chain no longer gives. On the embedded development chain the window is seconds long
    (``DEV_OBJECTION_SECONDS``); an institution's own escrow normally fits its rules.
    """
    if rules.period("objection_days") <= timedelta(seconds=window_seconds):
        return rules
    if window_seconds < 86_400:
        fitted = replace(rules, objection_seconds=window_seconds)
    else:
        fitted = replace(rules, objection_days=window_seconds // 86_400, objection_seconds=None)
    # Expected on a development chain (seconds); a surprise on an institution's own escrow.
    level = logging.INFO if window_seconds < 86_400 else logging.WARNING
    log.log(level, "the escrow's objection window is %d s, shorter than the rules' %d s "
            "(CHAINARB_OBJECTION_DAYS): new cases use the escrow's window", window_seconds,
            int(rules.period("objection_days").total_seconds()))
    return fitted


@open_answer
class HealthJson(TypedDict):
    """``GET /health``: the service answers, on this chain, for this escrow and institution."""

    ok: bool
    chainId: int
    escrow: str
    institution: str


def institution_identity(settings: Settings) -> dict[str, str]:
    """The institution's legal identity as configured (``CHAINARB_INSTITUTION_*``), as
    ``backend.services.institution.institution_info`` takes it."""
    custody_en, custody_zh = settings.institution_key_held
    return {"name": settings.institution_name, "name_zh": settings.institution_name_zh,
            "seat": settings.institution_seat,
            "registration": settings.institution_registration,
            "website": settings.institution_website, "key_custody_en": custody_en,
            "key_custody_zh": custody_zh}


def _timestamper(settings: Settings) -> Callable[[bytes], bytes] | None:
    """The settings' RFC 3161 authorities as the worker's timestamper (None when unset)."""
    from backend.timestamping import pool_from_settings

    return pool_from_settings(settings)


def _rules(settings: Settings) -> CaseRules:
    """The default case rules from the settings (DESIGN.md's deadlines in days)."""
    return CaseRules(negotiation_days=settings.negotiation_days,
                     facilitation_days=settings.facilitation_days,
                     evidence_days=settings.evidence_days, award_days=settings.award_days,
                     objection_days=settings.objection_days,
                     jury_max_amount=settings.jury_max_amount, jury_size=settings.jury_size,
                     fast_track_max_amount=settings.fast_track_max_amount,
                     fast_track_days=settings.fast_track_days)


def create_app(
    settings: Settings,
    *,
    clock: Callable[[], datetime] | None = None,
    port: EscrowPort | None = None,
    blockstore: Blockstore | None = None,
    anchor_sender: AnchorSender | Sequence[AnchorSender] | None = None,
    block_source: BlockSource | None = None,
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
    rules = _rules(settings)
    chain_rpc_url = settings.chain_rpc_url or None  # an injected port: the configured node
    if port is None:
        port, anchoring, objection_window, chain_rpc_url = _chain(settings, key, sessions,
                                                                  closers)
        rules = _fit_objection(rules, objection_window)
    if anchor_sender is not None:  # injected (tests): same limits and authority; one or a
        # sender per anchoring chain
        anchoring = AnchoringWorker(sessions, anchor_sender,
                                    batch_limit=settings.anchor_batch_limit,
                                    confirmations=settings.confirmations,
                                    timestamper=_timestamper(settings),
                                    checkpointer=checkpointer_from_settings(settings))
    blockstore = blockstore or _blockstore(settings, engine)
    base_url = settings.public_url or f"http://{settings.host}:{settings.port}"
    service = CaseService(
        sessions, port=port, blockstore=blockstore, clock=clock,
        config=ServiceConfig(admins=admins, institution_key=key, base_url=base_url,
                             smtp_enabled=bool(settings.smtp_host), rules=rules,
                             identity=institution_identity(settings)),
    )
    closers.append(service.repository.close)  # the writer's own connection (SQLite)
    # the jury draw: the service's snapshot and the anchoring chain's draw block (jury_draw)
    blocks = block_source if block_source is not None else draw_blocks(anchoring)
    service.pipeline.gates.append(JuryDrawGate(service.pool, blocks).check)
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
                     clock=clock, auth_cache=SessionCache(secret=settings.session_secret_bytes()),
                     smtp=smtp, anchoring=anchoring,
                     tick_seconds=tick_seconds,
                     anchor_interval=settings.anchor_interval_seconds, closers=closers,
                     chain_rpc_url=chain_rpc_url,
                     log=log_service_from_settings(settings, sessions, clock))

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
        docs_url=None, redoc_url=None,  # served offline by backend/web/apidocs.py
    )
    app.state.ctx = ctx
    # security headers (outermost: every response, errors included), the request id, then
    # the body bounds (their refusals carry both): one layer (edge.py)
    app.add_middleware(ApiEdge)
    # The decorator form: Starlette types add_exception_handler for handlers of Exception.
    app.exception_handler(RequestValidationError)(validation_error)
    # a browser's unknown page under /ui gets a page in words; the rest the JSON body
    app.exception_handler(StarletteHTTPException)(not_found_page)

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

    register_outage_handlers(app)  # storage and database faults: 503/507, never a 500
    app.include_router(auth.router)
    app.include_router(cases.router)
    app.include_router(admin.router)
    app.include_router(evidence.router)
    app.include_router(court.router)
    app.include_router(identity.router)
    app.include_router(checkout.router)  # marketplaces: contracts of sale
    app.include_router(party.router)  # a party's orders, wallet transactions, notices
    app.include_router(performance.router)  # webhooks and records of an order's performance
    app.include_router(log_routes.router)  # the institution's log, public (issue 15)
    app.include_router(jury.router)  # a juror's redacted view of a case (docs/jury.md)
    app.include_router(pool_routes.router)  # the assessor pool (docs/jury.md §1)
    app.include_router(web_pages)  # server-rendered pages under /ui
    app.include_router(web_root)  # GET / leads to the pages
    app.include_router(verify_router)  # /verify/{digest}: public, no sign-in (QR codes)
    app.include_router(apidocs_router)  # /docs and /redoc from this origin (no CDN)

    @app.get("/health", tags=["service"])
    def health() -> HealthJson:
        return {"ok": True, "chainId": service.domain.chain_id,
                "escrow": service.domain.verifying_contract,
                "institution": service.institution_address}

    return app
