"""bench/http1.py, the benchmarks' lean client, against a socket server that answers with
hand-written bytes: what it sends, each way an answer's body can end, a connection the
server closes, and answers it must refuse."""

from __future__ import annotations

import asyncio

import pytest
from http1 import Http1, Http1Error


async def _serve(answers: list[bytes | None], seen: list[bytes], connections: list[int]
                 ) -> asyncio.Server:
    """Answer each request (head and Content-Length body) with the next of ``answers``;
    None closes the connection without answering."""

    async def handle(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        connections.append(1)
        try:
            while answers:
                head = await reader.readuntil(b"\r\n\r\n")
                length = 0
                for line in head.split(b"\r\n"):
                    if line.lower().startswith(b"content-length:"):
                        length = int(line.split(b":")[1])
                seen.append(head + await reader.readexactly(length))
                answer = answers.pop(0)
                if answer is None:
                    break
                writer.write(answer)
                await writer.drain()
                lower = answer.lower()
                if b"connection: close" in lower or (b"content-length" not in lower
                                                     and b"chunked" not in lower):
                    break
        except asyncio.IncompleteReadError:
            pass
        writer.close()

    return await asyncio.start_server(handle, "127.0.0.1", 0)


def _run(answers: list[bytes | None],
         requests: list[tuple[str, str, bytes | None]]) -> tuple[list[object], list[bytes], int]:
    """Send ``requests`` one after the other on one client; each result or the exception."""
    seen: list[bytes] = []
    connections: list[int] = []

    async def main() -> list[object]:
        server = await _serve(answers, seen, connections)
        port = server.sockets[0].getsockname()[1]
        client = Http1("127.0.0.1", port, timeout=5)
        out: list[object] = []
        for method, path, body in requests:
            try:
                out.append(await client.request(
                    method, path, headers=b"Authorization: Bearer t\r\n", body=body))
            except (Http1Error, OSError) as exc:
                out.append(exc)
        await client.close()
        server.close()
        await server.wait_closed()
        return out

    return asyncio.run(main()), seen, len(connections)


def test_requests_on_one_kept_connection_with_their_bytes() -> None:
    answers: list[bytes | None] = [
        b"HTTP/1.1 201 Created\r\ncontent-length: 11\r\ncontent-type: application/json\r\n\r\n"
        b'{"a":"\xc3\xa9"}x',
        b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\n{}",
    ]
    out, seen, connections = _run(answers, [("POST", "/cases/c/offers", b'{"x":1}'),
                                            ("GET", "/cases/c", None)])
    assert out == [(201, b'{"a":"\xc3\xa9"}x'), (200, b"{}")]
    assert connections == 1  # kept alive
    post, get = seen
    assert post.startswith(b"POST /cases/c/offers HTTP/1.1\r\nHost: 127.0.0.1:")
    assert b"\r\nAuthorization: Bearer t\r\n" in post
    assert b"\r\nContent-Type: application/json\r\nContent-Length: 7\r\n\r\n{\"x\":1}" in post
    assert get.startswith(b"GET /cases/c HTTP/1.1\r\n") and b"Content-Length" not in get


def test_chunked_body_with_trailers() -> None:
    answers: list[bytes | None] = [
        b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n"
        b"3;ext=1\r\nabc\r\nA\r\n0123456789\r\n0\r\nX-Trailer: 1\r\n\r\n",
        b"HTTP/1.1 204 No Content\r\n\r\n",
    ]
    out, _, connections = _run(answers, [("GET", "/a", None), ("GET", "/b", None)])
    assert out == [(200, b"abc0123456789"), (204, b"")]
    assert connections == 1


def test_a_closed_connection_is_opened_again() -> None:
    answers: list[bytes | None] = [
        b"HTTP/1.1 409 Conflict\r\nContent-Length: 2\r\nConnection: close\r\n\r\n{}",
        b"HTTP/1.1 200 OK\r\n\r\nto the end",  # no length: the body ends with the connection
        b"HTTP/1.1 200 OK\r\nContent-Length: 1\r\n\r\n1",
    ]
    out, _, connections = _run(answers, [("GET", "/a", None), ("GET", "/b", None),
                                         ("GET", "/c", None)])
    assert out == [(409, b"{}"), (200, b"to the end"), (200, b"1")]
    assert connections == 3


@pytest.mark.parametrize("answer, why", [
    (b"SMTP 220 hello\r\n\r\n", "ValueError"),  # not HTTP
    (b"HTTP/1.1 2x0 OK\r\nContent-Length: 0\r\n\r\n", "ValueError"),  # no status code
    (b"HTTP/1.1 200 OK\r\nContent-Length: 10\r\nConnection: close\r\n\r\nshort",
     "IncompleteReadError"),  # the body cut short
    (None, "IncompleteReadError"),  # closed without an answer
    (b"HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n3\r\nabcXY0\r\n\r\n",
     "ValueError"),  # a chunk without its CRLF
])
def test_an_answer_that_cannot_be_read_is_an_error_and_the_next_request_reconnects(
        answer: bytes | None, why: str) -> None:
    answers = [answer, b"HTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok"]
    out, _, connections = _run(answers, [("GET", "/a", None), ("GET", "/b", None)])
    assert isinstance(out[0], Http1Error) and why in str(out[0]), out[0]
    assert out[1] == (200, b"ok")
    assert connections == 2


def test_a_server_that_does_not_answer_times_out() -> None:
    async def main() -> object:
        async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
            await reader.readuntil(b"\r\n\r\n")
            await asyncio.sleep(5)
            writer.close()

        server = await asyncio.start_server(silent, "127.0.0.1", 0)
        client = Http1("127.0.0.1", server.sockets[0].getsockname()[1], timeout=0.2)
        try:
            return await client.request("GET", "/slow")
        except Http1Error as exc:
            return exc
        finally:
            server.close()

    got = asyncio.run(main())
    assert isinstance(got, Http1Error) and "TimeoutError" in str(got)
