"""A bound on JSON request bodies (STYLE §4: every length has a bound).

Signed steps are small (a record is at most 64 KiB; an inline document at most 10 MB in
base64). Streamed evidence uploads (multipart) are bounded by their own endpoint, which
counts bytes as they arrive; this middleware refuses any other body larger than
``max_bytes`` with 413, whether announced by Content-Length or sent chunked.
"""

from __future__ import annotations

import json
from typing import Any

__all__ = ["DEFAULT_MAX_JSON_BYTES", "JsonBodyLimit"]

DEFAULT_MAX_JSON_BYTES = 16 * 1024 * 1024


class _TooLargeError(Exception):
    pass


class JsonBodyLimit:
    def __init__(self, app: Any, max_bytes: int = DEFAULT_MAX_JSON_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope.get("headers") or [])
        ctype = headers.get(b"content-type", b"").decode("latin-1").lower()
        if ctype.startswith("multipart/"):
            await self.app(scope, receive, send)
            return
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(send)
            return
        seen = 0
        started = False
        tripped = False  # the limit was hit; the app may have turned that into its own error

        async def limited() -> Any:
            nonlocal seen, tripped
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    tripped = True
                    raise _TooLargeError
            return message

        async def tracking_send(message: Any) -> None:
            nonlocal started
            if tripped:
                # FastAPI catches any error while reading the body and answers 400 "error
                # parsing the body": the answer to a body over the limit is 413, always
                if message["type"] == "http.response.start" and not started:
                    started = True
                    await self._refuse(send)
                return
            if message["type"] == "http.response.start":
                started = True
            await send(message)

        try:
            await self.app(scope, limited, tracking_send)
        except _TooLargeError:
            if not started:
                await self._refuse(send)

    async def _refuse(self, send: Any) -> None:
        body = json.dumps({"code": "body_too_large",
                           "detail": f"request body over {self.max_bytes} bytes"}).encode()
        await send({"type": "http.response.start", "status": 413,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})
