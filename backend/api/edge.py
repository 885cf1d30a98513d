"""The API's edge: one pure ASGI layer in front of every route.

It does, in this order, what three middlewares did one inside the other (issue 10: each
layer cost every request a coroutine, a ``send`` wrapper and a copy of the response's
start message):

1. the security headers and the CSP nonce (``headers.py``), outermost: every response,
   errors included;
2. the request id and the logged JSON 500 (``request_id.py``);
3. the body bounds (``limits.JsonBodyLimit``), whose refusals carry both of the above;
4. the shortcuts (``shortcut.Shortcuts``: a ``GET /cases/{id}``, and a signed step whose
   body is the step routes' own, are answered without FastAPI's routing; anything else
   goes on to the app).

One ``send`` wrapper gives the start message its ``X-Request-ID`` and the security
headers, in the order the three layers gave them (``headers.secure``).
"""

from __future__ import annotations

import secrets
from typing import Any

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from .headers import secure
from .limits import DEFAULT_MAX_JSON_BYTES, JsonBodyLimit
from .request_id import SCOPE_KEY, internal_error, request_id
from .shortcut import Shortcuts

__all__ = ["ApiEdge"]


class ApiEdge:
    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_JSON_BYTES) -> None:
        self.app = app
        self.limited = JsonBodyLimit(Shortcuts(app), max_bytes)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        nonce = secrets.token_urlsafe(18)
        state: dict[str, Any] = scope.setdefault("state", {})
        state["csp_nonce"] = nonce
        path: str = scope.get("path", "")
        rid = request_id(scope)
        scope[SCOPE_KEY] = rid
        rid_header = (b"x-request-id", rid.encode())
        started = False

        async def edge_send(message: Message) -> None:
            nonlocal started
            if message["type"] == "http.response.start":
                started = True
                headers = [(k, v) for k, v in message.get("headers") or []
                           if k.lower() != b"x-request-id"]
                headers.append(rid_header)
                secure(headers, path, nonce)
                message = {**message, "headers": headers}
            await send(message)

        try:
            await self.limited(scope, receive, edge_send)
        except Exception:
            if started:  # the answer is under way: nothing more to say to the client
                internal_error(scope, rid)
                raise
            for message in internal_error(scope, rid):
                await edge_send(message)
