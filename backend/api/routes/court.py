"""Courts: download a case's judicial package, verify it offline, then sign a decision.

``GET /cases/{id}/judicial-package`` answers the ZIP (docs/judicial-package.md) to a court
given access to the case, once there is a result to confirm. The headers name what the
court's signed ``CourtConfirmation`` refers to: ``X-Package-Manifest-Sha256`` is its
``packageHash``; ``X-Package-Digest`` is the digest the certificate prints. The court runs
``chainarb verify PACKAGE`` first (or has the service run the same checks on the file:
``POST /verify``, backend/services/verification.py), then posts its decision to
``POST /cases/{id}/court-decision`` (the case routes; a signed step like any other).
"""

from __future__ import annotations

from typing import Annotated

from fastapi import APIRouter, Depends, Request
from fastapi.responses import FileResponse
from starlette.concurrency import run_in_threadpool

from backend.gateway.escrow import Web3EscrowPort
from backend.services.evidence import UploadTooLarge
from backend.services.package import PackageService
from backend.services.verification import PackageCheck, PackageVerificationJson
from backend.timestamping import pool_from_settings
from backend.worker import chain_labels, extra_chain_web3

from ..deps import Ctx, CurrentUser
from ..errors import errors
from .evidence import MULTIPART_OVERHEAD, UploadForm, get_evidence, read_multipart

router = APIRouter(tags=["court"], responses=errors(403, 404, 409, 502, 503))


def get_packages(request: Request, ctx: Ctx) -> PackageService:
    """One PackageService per app, on the app's chain, blockstore and TSA settings."""
    svc = getattr(request.app.state, "packages", None)
    if svc is None:
        s = ctx.settings
        port = ctx.service.port  # the deployed escrow's chain, when the port has one
        w3 = port.escrow.tx.w3 if isinstance(port, Web3EscrowPort) else None
        chains = chain_labels(s, int(w3.eth.chain_id)) if w3 is not None else {}
        svc = PackageService(ctx.sessions, ctx.service, get_evidence(request, ctx),
                             blockstore=ctx.service.blockstore, w3=w3,
                             out_dir=s.data_dir / "packages", clock=ctx.clock,
                             timestamper=pool_from_settings(s),
                             tsa_certificates=s.tsa_certificates(), chains=chains,
                             anchor_chains=extra_chain_web3(s), pdf_font=s.pdf_font)
        request.app.state.packages = svc
    return svc


Packages = Annotated[PackageService, Depends(get_packages)]


@router.get("/cases/{case_id}/judicial-package", response_class=FileResponse,
            responses={200: {"description": "The judicial package (docs/judicial-package.md)",
                             "content": {"application/zip": {"schema": {
                                 "type": "string", "format": "binary"}}}}})
async def judicial_package(case_id: str, user: CurrentUser, svc: Packages) -> FileResponse:
    """The case's judicial package (ZIP), for a court given access to the case."""
    out = await run_in_threadpool(svc.export, user, case_id)
    await run_in_threadpool(svc.record_download, user, out)
    return FileResponse(out.path, media_type="application/zip",
                        filename=f"chainarb-{out.case_id[2:14]}-{out.digest[:12]}.zip",
                        headers={"X-Package-Digest": out.digest,
                                 "X-Package-Manifest-Sha256": out.manifest_sha256,
                                 "Cache-Control": "no-store"})


def get_package_check(request: Request, ctx: Ctx) -> PackageCheck:
    """One PackageCheck per app (``app.state.package_check``; a test may set its own)."""
    svc = getattr(request.app.state, "package_check", None)
    if svc is None:
        svc = PackageCheck(ctx.sessions, base_url=ctx.settings.base_url)
        request.app.state.package_check = svc
    return svc


_PACKAGE_UPLOAD = {"requestBody": {"required": True, "content": {"multipart/form-data": {
    "schema": {"type": "object", "required": ["file"], "additionalProperties": False,
               "properties": {"file": {"type": "string", "format": "binary",
                                       "description": "the judicial package (.zip)"}}}}}}}


@router.post("/verify", openapi_extra=_PACKAGE_UPLOAD,
             responses={**errors(413, 415, 422), 200: {
                 "description": "The checks `chainarb verify` runs, run by the service on "
                                "the uploaded file; block hashes left for the court to "
                                "confirm"}})
async def verify_uploaded_package(request: Request, user: CurrentUser,
                                  svc: Annotated[PackageCheck, Depends(get_package_check)]
                                  ) -> PackageVerificationJson:
    """Check a judicial package the court uploads (multipart, one part ``file``)."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and \
            int(declared) > svc.max_bytes + MULTIPART_OVERHEAD:
        raise UploadTooLarge(f"the request declares {declared} bytes; this service checks "
                             f"packages of at most {svc.max_bytes} bytes; nothing was read")
    spool = await run_in_threadpool(svc.start)
    form = UploadForm(spool, allowed=())
    await read_multipart(request, form)
    return await run_in_threadpool(svc.check, user, spool, form.filename or "package.zip")
