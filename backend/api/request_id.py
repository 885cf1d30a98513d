"""A request id on every answer, and a JSON 500 that names it (issue 9, defect 6).

Why: an unexpected exception must not reach the client as a bare text 500 or a dropped
connection, and the operator must find its traceback from what the client reports. Each
request gets an id (the client's ``X-Request-ID`` when it is a short token, else a new
random one), echoed in the ``X-Request-ID`` header of every response. An exception that no
handler translated is logged once, with its traceback and the id, and answered
``500 {"code": "internal_error", "detail": ..., "requestId": <id>}``.

Pure ASGI (no BaseHTTPMiddleware), outermost of our middleware, so the body bounds'
refusals carry the header too.
"""

from __future__ import annotations

import json
import logging
import re
import secrets

from starlette.types import ASGIApp, Message, Receive, Scope, Send

__all__ = ["REQUEST_ID_HEADER", "RequestIdMiddleware", "request_id_of"]

log = logging.getLogger("backend.api.errors")

REQUEST_ID_HEADER = "X-Request-ID"
_SCOPE_KEY = "chainarb.request_id"
_GOOD_ID = re.compile(rb"[A-Za-z0-9._-]{8,64}")


def request_id_of(scope: Scope) -> str | None:
    """The id this middleware gave the request (None outside it)."""
    rid: str | None = scope.get(_SCOPE_KEY)  # set by the middleware below, if it ran
    return rid


class RequestIdMiddleware:
    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        given = next((v for k, v in scope.get("headers") or []
                      if k.lower() == b"x-request-id"), b"")
        rid = given.decode("ascii") if _GOOD_ID.fullmatch(given) else secrets.token_hex(16)
        scope[_SCOPE_KEY] = rid
        started = False

        async def send_with_id(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers") or []
                           if k.lower() != b"x-request-id"]
                headers.append((b"x-request-id", rid.encode()))
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            log.exception("internal_error requestId=%s %s %s", rid, scope.get("method"),
                          scope.get("path"))
            if started:  # the answer is under way: nothing more to say to the client
                raise
            body = json.dumps({
                "code": "internal_error",
                "detail": f"an unexpected error; the operator finds it in the log under "
                          f"request id {rid}",
                "requestId": rid}).encode()
            await send_with_id({"type": "http.response.start", "status": 500,
                                "headers": [(b"content-type", b"application/json"),
                                            (b"content-length", str(len(body)).encode())]})
            await send_with_id({"type": "http.response.body", "body": body})
