"""Bounds on request bodies (STYLE §4: every length has a bound), before any parsing.

Signed steps are small (a record is at most 64 KiB; an inline document at most 10 MB in
base64). Streamed evidence uploads (multipart) are bounded by their own endpoint, which
counts bytes as they arrive; this middleware refuses any other body larger than
``max_bytes`` with 413 ``body_too_large``, whether announced by Content-Length or sent
chunked.

Every body that FastAPI would parse as JSON (no Content-Type, ``application/json`` or
``application/*+json``: the same test as ``fastapi.routing``) is read here in full (it is
bounded) and pre-scanned by ``evidence.safejson``: nested deeper than
``safejson.MAX_DEPTH`` (64) is 422 ``body_too_deep`` before any recursive parser sees it
(200,000 nested brackets crashed the process in the C JSON scanner, issue 9). The body is
then handed on unchanged. This covers every route, /auth and the /ui proxy included.
"""

from __future__ import annotations

import email.message
import json
from functools import lru_cache

from anyio import to_thread
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from evidence import safejson

__all__ = ["DEFAULT_MAX_JSON_BYTES", "JsonBodyLimit", "parsed_as_json", "shallow"]

DEFAULT_MAX_JSON_BYTES = 16 * 1024 * 1024
_SCAN_IN_THREAD = 256 * 1024  # a larger body is pre-scanned off the event loop


@lru_cache(maxsize=256)
def parsed_as_json(content_type: str) -> bool:
    """Whether FastAPI parses a body with this Content-Type as JSON (fastapi.routing:
    none given, or maintype ``application`` with subtype ``json`` or ``*+json``).
    Remembered: parsing the header with ``email.message`` cost microseconds per request,
    and clients send a handful of distinct values."""
    if not content_type:
        return True
    message = email.message.Message()
    message["content-type"] = content_type
    if message.get_content_maintype() != "application":
        return False
    subtype = message.get_content_subtype()
    return subtype == "json" or subtype.endswith("+json")


class _TooLargeError(Exception):
    pass


class JsonBodyLimit:
    def __init__(self, app: ASGIApp, max_bytes: int = DEFAULT_MAX_JSON_BYTES) -> None:
        self.app = app
        self.max_bytes = max_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers: dict[bytes, bytes] = {}
        for name, value in scope.get("headers") or []:  # the first of each, as Starlette reads
            headers.setdefault(name.lower(), value)
        ctype = headers.get(b"content-type", b"").decode("latin-1").lower()
        if ctype.startswith("multipart/"):
            await self.app(scope, receive, send)
            return
        length = headers.get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await self._refuse(send)
            return
        if parsed_as_json(ctype):
            await self._json(scope, receive, send)
            return
        seen = 0
        started = False
        tripped = False  # the limit was hit; the app may have turned that into its own error

        async def limited() -> Message:
            nonlocal seen, tripped
            message = await receive()
            if message["type"] == "http.request":
                seen += len(message.get("body", b""))
                if seen > self.max_bytes:
                    tripped = True
                    raise _TooLargeError
            return message

        async def tracking_send(message: Message) -> None:
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

    async def _json(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Read the whole (bounded) body, pre-scan its depth, then replay it to the app."""
        chunks: list[bytes] = []
        seen = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":  # the client went away
                return
            chunk = message.get("body", b"")
            seen += len(chunk)
            if seen > self.max_bytes:
                await self._refuse(send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        try:
            if len(body) > _SCAN_IN_THREAD:
                await to_thread.run_sync(self._check, body)
            else:
                self._check(body)
        except safejson.JsonTooDeep as exc:
            await self._answer(send, 422, "body_too_deep", str(exc))
            return
        replayed = False

        async def replay() -> Message:
            nonlocal replayed
            if not replayed:
                replayed = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()  # after the body: disconnect detection as before

        await self.app(scope, replay, send)

    def _check(self, body: bytes) -> None:
        if len(body) <= self.max_bytes and shallow(body):
            return
        safejson.check_bounds(body, what="request body", max_bytes=self.max_bytes)

    async def _refuse(self, send: Send) -> None:
        await self._answer(send, 413, "body_too_large",
                           f"request body over {self.max_bytes} bytes")

    @staticmethod
    async def _answer(send: Send, status: int, code: str, detail: str) -> None:
        body = json.dumps({"code": code, "detail": detail}).encode()
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json"),
                                (b"content-length", str(len(body)).encode())]})
        await send({"type": "http.response.body", "body": body})


def shallow(body: bytes) -> bool:
    """Whether ``body`` cannot nest deeper than ``safejson.MAX_DEPTH``: it has no more
    opening brackets than that in all (strings included, so never fewer than the scan
    counts). Two C-speed counts instead of the scan (28 us for a signed step's ~1 KB)."""
    return body.count(b"[") + body.count(b"{") <= safejson.MAX_DEPTH
