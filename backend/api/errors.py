"""The one error body of the API, as OpenAPI declares it, and malformed requests.

Every refusal answers ``{"code", "detail"}`` (STYLE §5). ``ErrorBody`` is that body's
model; ``errors(...)`` declares it for a route's refusal statuses, so /openapi.json says
what a client (and schemathesis) may receive. FastAPI's own refusal of a request that does
not parse or does not fit the route's parameters (a ``RequestValidationError``) is turned
into the same body here, with a code that names the class:

- ``bad_json`` (422): the body is not JSON (or not UTF-8);
- ``expected_json`` (415): a JSON route was sent another ``Content-Type``;
- ``invalid_field`` (422): a field is missing, extra, of the wrong type or out of its
  bounds; ``detail`` names each field (``body.record: Input should be ...``).

Starlette's own ``HTTPException`` (a path no route serves, a method a route does not take,
a body FastAPI cannot decode at all) gets the same body too: ``not_found`` (404),
``method_not_allowed`` (405), ``bad_json`` (422, a body that cannot be decoded), else
``http_<status>``.
"""

from __future__ import annotations

from typing import Any

from fastapi import Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, ConfigDict
from starlette.exceptions import HTTPException

__all__ = ["COMMON", "ErrorBody", "StrictBody", "errors", "http_error", "validation_error"]


class ErrorBody(BaseModel):
    """Every refusal: a stable machine ``code`` and an English ``detail``."""

    model_config = ConfigDict(extra="forbid")

    code: str
    detail: str


class StrictBody(BaseModel):
    """A request body: a field the route does not know is refused (``invalid_field``),
    never silently dropped, so a client's typo is not taken for an accepted option."""

    model_config = ConfigDict(extra="forbid")


_WHY = {
    400: "Malformed: not JSON, or a signature that does not parse",
    401: "No session, or the session is unknown, signed out or expired",
    403: "Not allowed for this caller (role, signer, case)",
    404: "No such case, item, step or resource",
    409: "Conflicts with the case's state (stale position, replay, wrong stage, deadline)",
    413: "Body over the size limit",
    415: "Unsupported Content-Type or file type",
    422: "A field is missing, extra, mistyped or refused by the procedure",
    502: "The chain refused or failed the transaction",
    503: "The service or its storage is unavailable now; nothing was stored; retry",
    507: "The service's storage is full; nothing was stored",
}

COMMON = (401, 413, 415, 422, 503, 507)
"""What any signed-in route may answer: no session, body too large, not JSON, bad field,
and the service's own storage or database down or full (never the client's fault)."""


def errors(*statuses: int) -> dict[int | str, dict[str, Any]]:
    """``responses=`` for a route: ``ErrorBody`` at each status (with the common ones)."""
    return {s: {"model": ErrorBody, "description": _WHY[s]}
            for s in sorted({400, *COMMON, *statuses})}


def _where(loc: tuple[Any, ...] | list[Any]) -> str:
    return ".".join(str(x) for x in loc) or "request"


async def validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
    """FastAPI's refusal of the request's shape, as ``{"code", "detail"}`` (never echoing
    the input back: it may be large, or a secret pasted in the wrong field)."""
    errs = list(exc.errors())
    if any(e.get("type") == "json_invalid" for e in errs):
        e = next(e for e in errs if e.get("type") == "json_invalid")
        why = (e.get("ctx") or {}).get("error", "JSON decode error")
        return JSONResponse({"code": "bad_json", "detail": f"body: not JSON ({why})"},
                            status_code=422)
    ctype = request.headers.get("content-type", "")
    media = ctype.split(";", 1)[0].strip().lower()
    if media and not (media == "application/json" or media.endswith("+json")) and any(
            tuple(e.get("loc", ())) == ("body",) for e in errs):
        return JSONResponse({"code": "expected_json",
                             "detail": f"send the body as application/json (found "
                                       f"Content-Type {media[:100]!r})"}, status_code=415)
    parts = [f"{_where(e.get('loc', ()))}: {str(e.get('msg', 'invalid'))[:200]}"
             for e in errs[:5]]
    if len(errs) > 5:
        parts.append(f"… {len(errs) - 5} more")
    return JSONResponse({"code": "invalid_field", "detail": "; ".join(parts)},
                        status_code=422)


_HTTP_CODES = {404: "not_found", 405: "method_not_allowed"}
_UNDECODABLE = "There was an error parsing the body"  # FastAPI's words for such a body


async def http_error(_request: Request, exc: HTTPException) -> JSONResponse:
    """Starlette's and FastAPI's own refusals (unknown path, wrong method, a body that
    cannot be decoded) as ``{"code", "detail"}``, keeping their status and headers."""
    detail = exc.detail if isinstance(exc.detail, str) else str(exc.detail)
    if exc.status_code == 400 and detail == _UNDECODABLE:
        return JSONResponse({"code": "bad_json", "detail": f"body: not JSON in UTF-8 ({detail})"},
                            status_code=422)
    code = _HTTP_CODES.get(exc.status_code, f"http_{exc.status_code}")
    return JSONResponse({"code": code, "detail": detail}, status_code=exc.status_code,
                        headers=getattr(exc, "headers", None))
