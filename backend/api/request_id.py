"""A request id on every answer, and a JSON 500 that names it (issue 9, defect 6).

Why: an unexpected exception must not reach the client as a bare text 500 or a dropped
connection, and the operator must find its traceback from what the client reports. Each
request gets an id (the client's ``X-Request-ID`` when it is a short token, else a new
random one), echoed in the ``X-Request-ID`` header of every response. An exception that no
handler translated is logged once, with its traceback and the id, and answered
``500 {"code": "internal_error", "detail": ..., "requestId": <id>}``.

Done by the API's edge (``edge.ApiEdge``, pure ASGI), outside the body bounds, so their
refusals carry the header too.
"""

from __future__ import annotations

import json
import logging
import re
import secrets

from starlette.types import Message, Scope

__all__ = ["REQUEST_ID_HEADER", "SCOPE_KEY", "internal_error", "request_id", "request_id_of"]

log = logging.getLogger("backend.api.errors")

REQUEST_ID_HEADER = "X-Request-ID"
SCOPE_KEY = "chainarb.request_id"
_GOOD_ID = re.compile(rb"[A-Za-z0-9._-]{8,64}")


def request_id_of(scope: Scope) -> str | None:
    """The id the edge (``edge.ApiEdge``) gave the request (None outside it)."""
    rid: str | None = scope.get(SCOPE_KEY)  # set by the edge, if it ran
    return rid


def request_id(scope: Scope) -> str:
    """The client's ``X-Request-ID`` when it is a short token, else a new random one."""
    given = next((v for k, v in scope.get("headers") or []
                  if k.lower() == b"x-request-id"), b"")
    return given.decode("ascii") if _GOOD_ID.fullmatch(given) else secrets.token_hex(16)


def internal_error(scope: Scope, rid: str) -> list[Message]:
    """Log the exception being handled (its traceback, under ``rid``) and return the
    500 answer's messages (``edge.ApiEdge`` sends them unless the answer is under way)."""
    log.exception("internal_error requestId=%s %s %s", rid, scope.get("method"),
                  scope.get("path"))
    body = json.dumps({
        "code": "internal_error",
        "detail": f"an unexpected error; the operator finds it in the log under "
                  f"request id {rid}",
        "requestId": rid}).encode()
    return [{"type": "http.response.start", "status": 500,
             "headers": [(b"content-type", b"application/json"),
                         (b"content-length", str(len(body)).encode())]},
            {"type": "http.response.body", "body": body}]
