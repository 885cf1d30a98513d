"""A ``TestClient`` whose request is one trip into the app's event loop.

Why: starlette's ``TestClient`` streams each answer from the app's task to the test's
thread, and a request crosses between the two threads about seven times (its events made
in the loop, the app started, the start awaited, each body chunk handed over). Measured on
test_step_shortcut's routing sweep (6,528 refused steps), that was ~1.1 ms of the ~1.7 ms
of CPU a request cost: 11.2 s of CPU against 3.7 s for the same requests in one trip.

The tests read whole answers, so ``OneTripClient`` runs the app to its end in one
``portal.call`` and hands httpx the status, headers and body the app sent, unchanged (no
header added: the body is given as a stream, as starlette does). What the app sees is what
starlette's transport gives it: the same scope, the request body in one message, and
``http.disconnect`` only once the response is complete; an exception of the app is raised
in the test (``raise_server_exceptions``), or, when told not to, answered as starlette
answers it. WebSocket requests go through starlette's transport unchanged.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import unquote

import anyio
import httpx
from starlette.testclient import TestClient, _TestClientTransport
from starlette.types import ASGIApp, Message

__all__ = ["OneTripClient"]


class _Exchange:
    """One request's messages, on the app's side: what it is given and what it sent."""

    def __init__(self, body: bytes) -> None:
        self.body = body
        self.status: int | None = None
        self.headers: list[tuple[str, str]] = []
        self.chunks: list[bytes] = []
        self.trailers: list[tuple[bytes, bytes]] = []
        self.trailers_expected = False
        self.debug: dict[str, Any] | None = None
        self._body_given = False
        self._complete: anyio.Event | None = None

    async def run(self, app: ASGIApp, scope: dict[str, Any]) -> None:
        self._complete = anyio.Event()
        try:
            await app(scope, self.receive, self.send)
        finally:
            self._complete.set()  # a receive still waiting learns of the disconnect

    async def receive(self) -> Message:
        if self._body_given:  # a client stays until its answer is complete
            assert self._complete is not None
            await self._complete.wait()
            return {"type": "http.disconnect"}
        self._body_given = True
        return {"type": "http.request", "body": self.body}

    async def send(self, message: Message) -> None:
        kind = message["type"]
        assert self._complete is not None
        if kind == "http.response.start":
            assert self.status is None, "two http.response.start messages"
            self.status = message["status"]
            self.headers = [(k.decode(), v.decode()) for k, v in message.get("headers", [])]
            self.trailers_expected = message.get("trailers", False)
        elif kind == "http.response.body":
            assert self.status is not None and not self._complete.is_set(), message
            self.chunks.append(bytes(message.get("body", b"")))
            if not message.get("more_body", False) and not self.trailers_expected:
                self._complete.set()
        elif kind == "http.response.trailers":
            assert self.trailers_expected and not self._complete.is_set(), message
            self.trailers.extend(message.get("headers", []))
            if not message.get("more_trailers", False):
                self._complete.set()
        elif kind == "http.response.debug":
            self.debug = message["info"]


class _OneTripTransport(httpx.BaseTransport):
    """HTTP requests in one trip; starlette's transport (kept) for WebSockets and closing."""

    def __init__(self, streaming: _TestClientTransport) -> None:
        self._streaming = streaming  # holds the client's app, portal and settings

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        url = request.url
        if url.scheme in ("ws", "wss"):
            upgraded: httpx.Response = self._streaming.handle_request(request)
            return upgraded
        c = self._streaming
        headers = [(k.lower().encode(), v.encode()) for k, v in request.headers.multi_items()]
        if "host" not in request.headers:
            headers.insert(0, (b"host", url.netloc))
        scope: dict[str, Any] = {
            "type": "http", "http_version": "1.1", "method": request.method,
            "path": unquote(url.path), "raw_path": url.raw_path.split(b"?", 1)[0],
            "root_path": c.root_path, "scheme": url.scheme, "query_string": url.query,
            "headers": headers, "client": c.client,
            "server": [url.raw_host.decode("ascii"),
                       url.port or {"http": 80, "https": 443}[url.scheme]],
            "extensions": {"http.response.debug": {}, "http.response.trailers": {}},
            "state": c.app_state.copy(),
        }
        exchange = _Exchange(request.read())
        with c.portal_factory() as portal:
            try:
                portal.call(exchange.run, c.app, scope)
            except Exception:
                if c.raise_server_exceptions:
                    raise
        if exchange.status is None:
            if c.raise_server_exceptions:
                raise AssertionError("TestClient did not receive any response.")
            return httpx.Response(500, headers=[], stream=httpx.ByteStream(b""), request=request)
        body = b"" if request.method == "HEAD" else b"".join(exchange.chunks)
        response = httpx.Response(exchange.status, headers=exchange.headers,
                                  stream=httpx.ByteStream(body), request=request)
        if exchange.trailers_expected:
            response.extensions["http.response.trailers"] = exchange.trailers
        if exchange.debug is not None:  # a template's name and context, as starlette gives
            response.extensions["http.response.debug"] = exchange.debug
            for name in ("template", "context"):
                if name in exchange.debug:
                    setattr(response, name, exchange.debug[name])
        return response

    def close(self) -> None:
        self._streaming.close()


class OneTripClient(TestClient):
    """``TestClient`` with each HTTP request run in one trip (module doc)."""

    def __init__(self, app: ASGIApp, *args: Any, **kw: Any) -> None:
        super().__init__(app, *args, **kw)
        streaming = vars(self)["_transport"]  # httpx's attribute (mypy cannot type it)
        assert isinstance(streaming, _TestClientTransport)
        self._transport = _OneTripTransport(streaming)
