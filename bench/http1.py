"""A lean HTTP/1.1 keep-alive client for the benchmarks' load: one connection per client.

Why not httpx (issue 10, fourteenth round): at 50 clients httpx's async client (its pool,
anyio, h11's pure-Python parser) spent 2.5-6 ms of CPU per request, so the one client
process used a whole core while the server used half of one: the "saturating" phase
measured the client, the server's groups stayed small, and its CPU per action was that
of a server at half load. This client writes the request's bytes and reads the answer's
status line, headers and body (``Content-Length`` or chunked) on asyncio's streams, about
a tenth of that. It speaks only what the benchmarks send (no redirects, no cookies, no
TLS, no compression).
"""

from __future__ import annotations

import asyncio
import contextlib

__all__ = ["Http1", "Http1Error"]


class Http1Error(Exception):
    """The server's answer could not be read (closed, malformed, too slow)."""


class Http1:
    """One keep-alive connection to ``host:port``, opened at the first request and
    again after the server closed it; one request at a time."""

    def __init__(self, host: str, port: int, *, timeout: float = 60.0) -> None:
        self.host, self.port, self.timeout = host, port, timeout
        self._host_line = f"Host: {host}:{port}\r\n".encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def request(self, method: str, path: str, *, headers: bytes = b"",
                      body: bytes | None = None) -> tuple[int, bytes]:
        """Send one request (``headers``: ready ``Name: value\\r\\n`` lines) and return the
        answer's status and body. Raises ``Http1Error`` (or ``OSError``) when the answer
        cannot be read; the connection is then dropped."""
        head = [f"{method} {path} HTTP/1.1\r\n".encode(), self._host_line, headers]
        if body is not None:
            head.append(b"Content-Type: application/json\r\nContent-Length: %d\r\n"
                        % len(body))
        head.append(b"\r\n")
        if body:
            head.append(body)
        try:
            async with asyncio.timeout(self.timeout):
                if self._writer is None:
                    self._reader, self._writer = await asyncio.open_connection(
                        self.host, self.port)
                self._writer.write(b"".join(head))
                return await self._answer()
        except (TimeoutError, asyncio.IncompleteReadError, asyncio.LimitOverrunError,
                ValueError, IndexError) as exc:
            await self.close()
            raise Http1Error(f"{method} {path}: {type(exc).__name__}: {exc}") from exc
        except OSError:
            await self.close()
            raise

    async def _answer(self) -> tuple[int, bytes]:
        assert self._reader is not None
        raw = await self._reader.readuntil(b"\r\n\r\n")
        lines = raw.split(b"\r\n")
        parts = lines[0].split(b" ", 2)
        if len(parts) < 2 or not parts[0].startswith(b"HTTP/1."):
            raise ValueError(f"not an HTTP/1.x status line: {lines[0][:80]!r}")
        status = int(parts[1])
        length, chunked, close = None, False, parts[0] == b"HTTP/1.0"
        for line in lines[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                close = value.strip().lower() == b"close"
        if chunked:
            body = await self._chunks()
        elif length is not None:
            body = await self._reader.readexactly(length)
        elif status in (204, 304) or 100 <= status < 200:
            body = b""
        else:  # no length: the body runs to the connection's end
            body, close = await self._reader.read(), True
        if close:
            await self.close()
        return status, body

    async def _chunks(self) -> bytes:
        assert self._reader is not None
        out: list[bytes] = []
        while True:
            size = int((await self._reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while await self._reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers
                return b"".join(out)
            out.append(await self._reader.readexactly(size))
            if await self._reader.readexactly(2) != b"\r\n":
                raise ValueError("a chunk not followed by CRLF")

    async def close(self) -> None:
        writer, self._reader, self._writer = self._writer, None, None
        if writer is not None:
            writer.close()
            with contextlib.suppress(OSError):
                await writer.wait_closed()
