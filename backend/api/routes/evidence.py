"""Evidence: streamed upload, signed submission, access-controlled reading.

Upload is two requests, because the record a party signs names the CID of the encrypted
container, which exists only once the server has encrypted the file
(docs/evidence-upload.md):

1. ``POST /cases/{id}/evidence?kind=photo`` with ``multipart/form-data``: one part
   ``file`` and, optionally, ``sha256`` and ``salt`` (0x-hex; the client's own hash and
   salt, so it can check the commitment it is asked to sign), ``description``. The body
   is parsed as it arrives and never held whole: the file part streams through hashing,
   encryption and IPFS. Answers 201 with the staged item and the ``EvidenceSubmission``
   typed data to sign.
2. ``POST /cases/{id}/evidence/{item}/submit`` with ``{"record": <signed record JSON>}``.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Protocol

from fastapi import APIRouter, Depends, Query, Request
from fastapi.responses import StreamingResponse
from pydantic import Field
from python_multipart.exceptions import MultipartParseError
from python_multipart.multipart import MultipartParser, parse_options_header

if TYPE_CHECKING:  # declared for type checkers only
    from python_multipart.multipart import MultipartCallbacks
from sqlmodel import col, select
from starlette.concurrency import run_in_threadpool

from backend.answers import FreeJson
from backend.db import AuthSession
from backend.services.auth import token_digest
from backend.services.errors import BadSubmission
from backend.services.evidence import (
    PROVENANCE_SESSION_PREFIX,
    EvidenceItemJson,
    EvidenceListJson,
    EvidenceProvenanceJson,
    EvidenceService,
    EvidenceSubmittedJson,
    KeyWrapsJson,
    ReaderKeyJson,
    StagedEvidenceJson,
    UnsupportedMediaType,
    UploadMeta,
    UploadTooLarge,
)
from backend.services.fields import is_ascii_decimal
from evidence.records import TypedDataJson

from ..deps import Ctx, CurrentUser, DbId, Token
from ..errors import StrictBody, errors
from ..headers import attachment
from ..schemas import (
    ProvenanceOut,
    TypedDataOut,
)
from .log import get_log

router = APIRouter(tags=["evidence"], responses=errors(403, 404, 409, 502, 503))

MULTIPART_OVERHEAD = 64 * 1024  # boundaries, headers and the small fields
MAX_FIELD_BYTES = 1024
FIELDS = ("sha256", "salt", "description", "kind")


def get_evidence(request: Request, ctx: Ctx) -> EvidenceService:
    """One EvidenceService per app, built from the app's context on first use."""
    svc = getattr(request.app.state, "evidence", None)
    if svc is None:
        svc = EvidenceService(ctx.sessions, ctx.service, blockstore=ctx.service.blockstore,
                              max_upload_bytes=ctx.settings.max_upload_bytes, clock=ctx.clock)
        request.app.state.evidence = svc
    return svc


Evidence = Annotated[EvidenceService, Depends(get_evidence)]


class Sink(Protocol):
    """Where the file part goes as it arrives (an upload pipeline, a spool)."""

    def feed(self, data: bytes) -> None: ...

    def abort(self) -> None: ...


class UploadForm:
    """Callbacks of the streaming multipart parser: fields kept, the file part piped into
    ``pipeline``; ``allowed`` names the small fields the route takes beside ``file``."""

    def __init__(self, pipeline: Sink, allowed: tuple[str, ...] = FIELDS) -> None:
        self.pipeline = pipeline
        self.allowed = allowed
        self.fields: dict[str, str] = {}
        self.filename: str | None = None
        self.file_type = ""
        self.files = 0
        self.ended = False
        self._headers: dict[bytes, bytes] = {}
        self._field = b""
        self._value = b""
        self._name: str | None = None
        self._is_file = False
        self._buf = bytearray()

    def callbacks(self) -> MultipartCallbacks:
        return {"on_part_begin": self.part_begin, "on_part_data": self.part_data,
                "on_part_end": self.part_end, "on_header_field": self.header_field,
                "on_header_value": self.header_value, "on_header_end": self.header_end,
                "on_headers_finished": self.headers_finished, "on_end": self.end}

    def part_begin(self) -> None:
        self._headers = {}
        self._buf = bytearray()
        self._name = None
        self._is_file = False

    def header_field(self, data: bytes, start: int, end: int) -> None:
        self._field += data[start:end]

    def header_value(self, data: bytes, start: int, end: int) -> None:
        self._value += data[start:end]

    def header_end(self) -> None:
        self._headers[self._field.lower()] = self._value
        self._field = self._value = b""

    def headers_finished(self) -> None:
        disposition, options = parse_options_header(self._headers.get(b"content-disposition",
                                                                      b""))
        if disposition != b"form-data" or b"name" not in options:
            raise BadSubmission("multipart: every part needs 'Content-Disposition: form-data; "
                                "name=...'", code="malformed_multipart")
        self._name = options[b"name"].decode("utf-8", "replace")
        if self._name == "file":
            self.files += 1
            if self.files > 1:
                raise BadSubmission("multipart: exactly one part named 'file', found more",
                                    code="malformed_multipart")
            self._is_file = True
            self.filename = options.get(b"filename", b"").decode("utf-8", "replace")
            self.file_type = self._headers.get(b"content-type", b"").decode("latin-1")[:127]
        elif self._name not in self.allowed:
            also = f" and optionally {', '.join(self.allowed)}" if self.allowed else " only"
            raise BadSubmission(f"multipart: unknown part {self._name!r}; expected 'file'{also}",
                                code="malformed_multipart")

    def part_data(self, data: bytes, start: int, end: int) -> None:
        if self._is_file:
            self.pipeline.feed(data[start:end])
            return
        self._buf += data[start:end]
        if len(self._buf) > MAX_FIELD_BYTES:
            raise BadSubmission(f"multipart: field {self._name!r} exceeds {MAX_FIELD_BYTES} "
                                "bytes", code="malformed_multipart")

    def part_end(self) -> None:
        if not self._is_file and self._name is not None:
            try:
                self.fields[self._name] = self._buf.decode("utf-8")
            except UnicodeDecodeError:
                raise BadSubmission(f"multipart: field {self._name!r} is not UTF-8",
                                    code="malformed_multipart") from None

    def end(self) -> None:
        self.ended = True


async def read_multipart(request: Request, form: UploadForm) -> None:
    """Parse the request body as it arrives into ``form`` (the file part streams into its
    sink, never held whole); on any refusal the sink is aborted and the error raised."""
    try:
        ctype, options = parse_options_header(request.headers.get("content-type", ""))
        if ctype != b"multipart/form-data" or not options.get(b"boundary"):
            raise UnsupportedMediaType("send the file as multipart/form-data with a boundary "
                                       f"(found Content-Type {ctype.decode('latin-1')!r})",
                                       code="expected_multipart")
        parser = MultipartParser(options[b"boundary"], form.callbacks())
        async for chunk in request.stream():
            if chunk:
                await run_in_threadpool(parser.write, chunk)
        parser.finalize()
        if not form.ended:
            raise BadSubmission("multipart: the body ended before its closing boundary "
                                "(truncated upload); nothing was stored",
                                code="malformed_multipart")
        if form.files != 1:
            raise BadSubmission("multipart: no part named 'file'", code="malformed_multipart")
    except MultipartParseError as exc:
        form.pipeline.abort()
        raise BadSubmission(f"multipart: malformed body ({exc}); nothing was stored",
                            code="malformed_multipart") from None
    except BaseException:
        form.pipeline.abort()
        raise


def _session_ref(ctx: Ctx, token: str) -> str:
    with ctx.sessions() as session:
        row = session.exec(select(AuthSession).where(
            col(AuthSession.token_sha256) == token_digest(token, ctx.auth_cache.secret))).first()
    return f"{PROVENANCE_SESSION_PREFIX}{row.id if row is not None else 'unknown'}"


@router.post("/cases/{case_id}/evidence", status_code=201)
async def upload_evidence(
    case_id: str, request: Request, ctx: Ctx, user: CurrentUser, token: Token, svc: Evidence,
    kind: Annotated[str, Query(max_length=32)] = "other",
) -> StagedEvidenceJson:
    """Stream one file in; answers the staged item and the record to sign."""
    case_id = case_id.lower()
    await run_in_threadpool(svc.preflight, user, case_id, kind)
    declared = request.headers.get("content-length")
    if declared is not None and is_ascii_decimal(declared) and \
            int(declared) > svc.max_upload_bytes + MULTIPART_OVERHEAD:
        raise UploadTooLarge(f"the request declares {declared} bytes; the upload limit is "
                             f"{svc.max_upload_bytes} bytes; nothing was read")
    session_ref = _session_ref(ctx, token)
    pipeline = svc.start_upload()
    form = UploadForm(pipeline)
    await read_multipart(request, form)
    meta = UploadMeta(kind=kind, claimed_media_type=form.file_type,
                      client_filename=form.filename or "", sha256=form.fields.get("sha256"),
                      salt=form.fields.get("salt"),
                      description=form.fields.get("description", ""))
    if form.fields.get("kind", kind) != kind:
        pipeline.abort()
        raise BadSubmission("kind: give it once, as the query parameter ?kind=")
    return await run_in_threadpool(svc.stage, user, case_id, pipeline, meta, session_ref)


class SubmitIn(StrictBody):
    record: FreeJson = Field(description="the signed EvidenceSubmission (record JSON)")


@router.get("/cases/{case_id}/evidence")
def list_evidence(case_id: str, user: CurrentUser, svc: Evidence) -> EvidenceListJson:
    """Items the viewer may know of; file metadata and openings only where it may read."""
    return {"items": svc.list_items(user, case_id.lower())}


@router.get("/cases/{case_id}/evidence/{item_id}")
def get_evidence_item(case_id: str, item_id: DbId, user: CurrentUser, svc: Evidence
                      ) -> EvidenceItemJson:
    return svc.item(user, case_id.lower(), item_id)


@router.get("/cases/{case_id}/evidence/{item_id}/typed-data", response_model=TypedDataOut)
def evidence_typed_data(case_id: str, item_id: DbId, user: CurrentUser, svc: Evidence
                        ) -> TypedDataJson:
    """A fresh EvidenceSubmission to sign (another step may have taken the position)."""
    return svc.typed_data(user, case_id.lower(), item_id)


@router.post("/cases/{case_id}/evidence/{item_id}/submit", status_code=201)
def submit_evidence(case_id: str, item_id: DbId, body: SubmitIn, user: CurrentUser,
                    svc: Evidence, ctx: Ctx) -> EvidenceSubmittedJson:
    """Sign the staged item in: a step of the case; answers the item and the receipts of
    its ``EvidenceSubmission`` and of the provenance entries it logged."""
    out, result = svc.submit_step(user, case_id.lower(), item_id, body.record)
    assert result.log is not None  # every stored step is appended to the log
    log = get_log(ctx)
    return {**out, "receipt": log.receipt(result.log),
            "provenanceReceipts": [log.receipt(a) for a in
                                   svc.provenance_logged(case_id.lower(), item_id)]}


@router.get("/cases/{case_id}/evidence/{item_id}/content", response_class=StreamingResponse,
            responses={200: {"description": "The plain file, of its stored media type",
                             "content": {"*/*": {"schema": {"type": "string",
                                                            "format": "binary"}}}}})
def evidence_content(case_id: str, item_id: DbId, user: CurrentUser, svc: Evidence
                     ) -> StreamingResponse:
    """The plain file, decrypted with the service key as it streams (never cached)."""
    # Read, authenticate and hash the whole file once before the first byte is sent: a
    # damaged or missing block then answers a JSON error naming it (503 corrupt_block /
    # block_not_found, backend/api/outages.py) instead of a 200 whose body breaks off.
    meta, chunks = svc.open_content(user, case_id.lower(), item_id)
    for _chunk in chunks:
        pass
    meta, chunks = svc.open_content(user, case_id.lower(), item_id)
    media = meta["mediaType"] + ("; charset=utf-8" if meta["mediaType"] == "text/plain" else "")
    # nosniff, CSP and the other browser headers: backend.api.headers, for every response
    headers = {
        "Content-Disposition": attachment(meta["filename"], f"evidence-{item_id}"),
        "Content-Length": str(meta["size"]),
        "Cache-Control": "no-store",
        "X-Evidence-Sha256": meta["sha256"],
        "X-Evidence-Commitment": meta["commitment"],
    }
    # A block damaged between the check and the stream (a race with the disk) still raises
    # inside the iterator: the stream ends early and Content-Length tells the client the
    # body is incomplete (discard it).
    return StreamingResponse(chunks, media_type=media, headers=headers)


@router.get("/cases/{case_id}/evidence/{item_id}/keywraps")
def evidence_keywraps(case_id: str, item_id: DbId, user: CurrentUser, svc: Evidence
                      ) -> KeyWrapsJson:
    return svc.keywraps(user, case_id.lower(), item_id)


@router.get("/cases/{case_id}/evidence/{item_id}/provenance", response_model=ProvenanceOut)
def evidence_provenance(case_id: str, item_id: DbId, user: CurrentUser, svc: Evidence
                        ) -> EvidenceProvenanceJson:
    return svc.provenance_log(user, case_id.lower(), item_id)


class KeyIn(StrictBody):
    publicKey: str = Field(pattern=r"^0x[0-9a-fA-F]{64}$")  # noqa: N815


@router.put("/cases/{case_id}/encryption-key")
def register_encryption_key(case_id: str, body: KeyIn, user: CurrentUser, svc: Evidence
                            ) -> ReaderKeyJson:
    """Publish your X25519 public key: items you may read get a key wrap for it."""
    return svc.register_key(user, case_id.lower(), body.publicKey)
