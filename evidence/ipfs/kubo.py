"""The kubo RPC API as a blockstore and client: a real IPFS node (kubo, or IPFS Cluster's
proxy of the same API) as the storage backend instead of the local blockstore.

Why a small httpx client rather than `ipfshttpclient` 0.7.0: that package has had no
release since 2021, `ipfshttpclient.connect()` refuses every kubo since 0.8.0, it pulls in
`requests` and `multiaddr`, has no type hints, and returns whatever the node sends. We use
six endpoints, each one POST with query parameters; httpx is already a base dependency
of `evidence` and gives timeouts, connection reuse and streaming bodies. (`ipfshttpclient`
stays a dev dependency: the tests use it to show our test node speaks kubo's dialect.)

Trust rule: the node is storage, not an authority. `add` computes the CID locally from
the same bytes while they are uploaded (one pass over the input) and fails if the node
answers another CID. `get`, and therefore `cat`, fetch blocks with `block/get` and check
each one against its CID, so a corrupted or lying node is reported and never served.
"""

from __future__ import annotations

import os
import re
import secrets
from collections.abc import Iterator
from typing import Any, BinaryIO

import httpx
from multiformats import CID

from evidence import safejson
from evidence.ipfs._cid import (
    CODEC_RAW,
    CidLike,
    check_block,
    cid_codec,
    parse_cid,
    to_display,
)
from evidence.ipfs.errors import BlockTooLargeError, KuboError, KuboMismatchError
from evidence.ipfs.unixfs import (
    CHUNK_SIZE,
    MAX_BLOCK_SIZE,
    MAX_DEPTH,
    MAX_READ_LINKS,
    FileImporter,
    _read_full,
    cat,
)

__all__ = ["DEFAULT_URL", "KuboBlockstore"]

DEFAULT_URL = "http://127.0.0.1:5001"
_MULTIADDR = re.compile(r"^/(ip4|ip6|dns4|dns6|dns)/([^/]+)/tcp/(\d+)(/(http|https))?/?$")
_MAX_JSON = 1024 * 1024


def _base_url(url: str) -> str:
    """Accept `http://host:port` or kubo's multiaddr form `/ip4/127.0.0.1/tcp/5001`."""
    m = _MULTIADDR.match(url)
    if m:
        host = f"[{m[2]}]" if m[1] == "ip6" else m[2]
        return f"{m[5] or 'http'}://{host}:{m[3]}"
    if not re.match(r"^https?://", url):
        raise ValueError(f"kubo RPC URL must be http(s)://host:port or a multiaddr, found {url!r}")
    return url.rstrip("/")


class KuboBlockstore:
    """A kubo node through its RPC API (`/api/v0`), usable wherever a Blockstore is.

    Args:
        url: the RPC API address, e.g. `http://127.0.0.1:5001` or `/ip4/127.0.0.1/tcp/5001`.
        timeout: seconds per request (connect, read and write each).
        client: an httpx.Client to use instead of a new one (tests, custom TLS, auth).
    """

    kind = "KuboBlockstore"

    def __init__(
        self, url: str = DEFAULT_URL, *, timeout: float = 120.0, client: httpx.Client | None = None
    ) -> None:
        self.url = _base_url(url)
        self._client = client or httpx.Client(timeout=timeout)
        self._own_client = client is None

    def __repr__(self) -> str:
        return f"KuboBlockstore({self.url!r})"

    def close(self) -> None:
        if self._own_client:
            self._client.close()

    def __enter__(self) -> KuboBlockstore:
        return self

    def __exit__(self, *_: object) -> None:
        self.close()

    # -- transport --------------------------------------------------------------------

    def _request(
        self, endpoint: str, params: dict[str, str], content: Any = None, boundary: str = ""
    ) -> httpx.Response:
        headers = {"Content-Type": f"multipart/form-data; boundary={boundary}"} if boundary else {}
        try:
            request = self._client.build_request(
                "POST", f"{self.url}/api/v0/{endpoint}", params=params, content=content,
                headers=headers,
            )
            response = self._client.send(request, stream=True)
        except httpx.HTTPError as exc:
            raise KuboError(
                f"cannot reach the kubo RPC API at {self.url} ({exc}); start the node or "
                f"check the URL"
            ) from exc
        if response.status_code != 200:
            body = response.read()[:_MAX_JSON]
            response.close()
            try:
                error = safejson.loads(body, what="kubo error", max_bytes=_MAX_JSON)
                if not isinstance(error, dict):
                    raise TypeError("not an object")
                message = error["Message"]
            except (ValueError, KeyError, TypeError):
                message = body.decode("utf-8", "replace").strip()
            raise KuboError(f"kubo {endpoint} failed (HTTP {response.status_code}): {message}")
        return response

    def _json(self, endpoint: str, params: dict[str, str], **kw: Any) -> Any:
        response = self._request(endpoint, params, **kw)
        try:
            body = _read_bounded(response, _MAX_JSON, f"kubo {endpoint} answer")
        finally:
            response.close()
        try:
            return safejson.loads(body, what=f"kubo {endpoint} answer", max_bytes=_MAX_JSON)
        except ValueError:
            raise KuboError(f"kubo {endpoint} answered non-JSON: {body[:200]!r}") from None

    # -- Blockstore protocol ----------------------------------------------------------

    def get(self, cid: CidLike) -> bytes:
        raw = parse_cid(cid)
        response = self._request("block/get", {"arg": to_display(raw)})
        try:
            data = _read_bounded(response, MAX_BLOCK_SIZE, f"block {to_display(raw)}")
        finally:
            response.close()
        check_block(raw, data, f"the kubo node at {self.url}")
        return data

    def has(self, cid: CidLike) -> bool:
        raw = parse_cid(cid)
        try:
            self._json("block/stat", {"arg": to_display(raw), "offline": "true"})
        except KuboError as exc:
            if "not found" in str(exc):
                return False
            raise
        return True

    def put(self, cid: CidLike, data: bytes, *, trusted: bool = False) -> None:
        raw = parse_cid(cid)
        if not trusted:
            check_block(raw, data, "the bytes given to put()")
        codec = "raw" if cid_codec(raw) == CODEC_RAW else "dag-pb"
        boundary = _boundary()
        answer = self._json(
            "block/put",
            {"cid-codec": codec, "mhtype": "sha2-256", "mhlen": "-1", "pin": "false"},
            content=_multipart(boundary, [data]),
            boundary=boundary,
        )
        _same_multihash(raw, answer.get("Key"), "block/put")

    # -- kubo operations --------------------------------------------------------------

    def version(self) -> str:
        return str(self._json("version", {}).get("Version", ""))

    def add(
        self,
        source: str | os.PathLike[str] | BinaryIO | bytes,
        *,
        cid_version: int = 0,
        pin: bool = True,
    ) -> CID:
        """`ipfs add [--cid-version=1]` over the API; the CID is checked against ours.

        The input is read once: each chunk is uploaded and fed to the local importer.
        Raises KuboMismatchError if the node's CID differs (a misconfigured node, e.g.
        another chunker, or a dishonest one).
        """
        importer = FileImporter(cid_version=cid_version)
        boundary = _boundary()
        params = {
            "cid-version": str(cid_version),
            "raw-leaves": "true" if cid_version == 1 else "false",
            "chunker": f"size-{CHUNK_SIZE}",
            "pin": "true" if pin else "false",
            "progress": "false",
        }
        if isinstance(source, bytes):
            answer = self._add(params, boundary, _tee_bytes(source, importer))
        elif isinstance(source, str | os.PathLike):
            with open(source, "rb") as stream:
                answer = self._add(params, boundary, _tee(stream, importer))
        else:
            answer = self._add(params, boundary, _tee(source, importer))
        ours = importer.finish()
        theirs = answer.get("Hash")
        if theirs != str(ours):
            raise KuboMismatchError(
                f"the kubo node at {self.url} stored the file as {theirs}, but its bytes give "
                f"{ours} with kubo's defaults (size-262144 chunks, balanced 174 links); check "
                f"the node's configuration — the local CID is the one to trust"
            )
        return ours

    def _add(
        self, params: dict[str, str], boundary: str, chunks: Iterator[bytes]
    ) -> dict[str, Any]:
        response = self._request(
            "add", params, content=_multipart(boundary, chunks), boundary=boundary
        )
        try:
            body = _read_bounded(response, _MAX_JSON, "kubo add answer")
        finally:
            response.close()
        last: dict[str, Any] = {}
        for line in body.splitlines():
            if line.strip():
                try:
                    item = safejson.loads(line, what="kubo add answer", max_bytes=_MAX_JSON)
                except ValueError:
                    raise KuboError(f"kubo add answered non-JSON: {line[:200]!r}") from None
                if isinstance(item, dict) and "Hash" in item:
                    last = item
        if not last:
            raise KuboError("kubo add answered without a Hash")
        return last

    def cat(
        self,
        cid: CidLike,
        *,
        max_depth: int = MAX_DEPTH,
        max_links: int = MAX_READ_LINKS,
        max_size: int | None = None,
    ) -> Iterator[bytes]:
        """The file's bytes, fetched block by block and each block verified."""
        return cat(cid, self, max_depth=max_depth, max_links=max_links, max_size=max_size)

    def pin(self, cid: CidLike) -> None:
        """Pin recursively (idempotent, as in kubo)."""
        raw = parse_cid(cid)
        answer = self._json("pin/add", {"arg": to_display(raw), "recursive": "true"})
        pins = answer.get("Pins") or []
        if not any(_multihash_of(p) == _multihash_of(raw) for p in pins):
            raise KuboError(f"kubo pin/add did not confirm {to_display(raw)}: {answer!r:.200}")

    def is_pinned(self, cid: CidLike) -> bool:
        raw = parse_cid(cid)
        try:
            answer = self._json("pin/ls", {"arg": to_display(raw), "type": "recursive"})
        except KuboError as exc:
            if "not pinned" in str(exc):
                return False
            raise
        return any(_multihash_of(k) == _multihash_of(raw) for k in answer.get("Keys") or {})

    def pins(self) -> list[CID]:
        """Recursive pins, as the node lists them (some nodes list v0 pins in v1 form)."""
        answer = self._json("pin/ls", {"type": "recursive"})
        return [CID.decode(k) for k in answer.get("Keys") or {}]


def _read_bounded(response: httpx.Response, limit: int, what: str) -> bytes:
    parts: list[bytes] = []
    total = 0
    try:
        for piece in response.iter_bytes():
            total += len(piece)
            if total > limit:
                raise BlockTooLargeError(f"{what} is larger than {limit} bytes")
            parts.append(piece)
    except httpx.HTTPError as exc:
        raise KuboError(f"{what}: connection broke ({exc})") from exc
    return b"".join(parts)


def _boundary() -> str:
    return "chainarb-" + secrets.token_hex(16)


def _multipart(boundary: str, chunks: Iterator[bytes] | list[bytes]) -> Iterator[bytes]:
    """One form part named "file", streamed (chunked transfer encoding)."""
    yield (
        f"--{boundary}\r\nContent-Disposition: form-data; name=\"file\"; filename=\"file\"\r\n"
        f"Content-Type: application/octet-stream\r\n\r\n"
    ).encode()
    yield from chunks
    yield f"\r\n--{boundary}--\r\n".encode()


def _tee(stream: BinaryIO, importer: FileImporter) -> Iterator[bytes]:
    while chunk := _read_full(stream, CHUNK_SIZE):
        importer.write(chunk)
        yield chunk


def _tee_bytes(data: bytes, importer: FileImporter) -> Iterator[bytes]:
    view = memoryview(data)
    for start in range(0, len(view), CHUNK_SIZE):
        piece = bytes(view[start : start + CHUNK_SIZE])
        importer.write(piece)
        yield piece


def _multihash_of(value: CidLike) -> bytes | None:
    try:
        raw = parse_cid(value)
    except Exception:
        return None
    return raw[-34:]


def _same_multihash(raw: bytes, key: object, endpoint: str) -> None:
    if not isinstance(key, str) or _multihash_of(key) != raw[-34:]:
        raise KuboMismatchError(
            f"kubo {endpoint} stored the block as {key!r}, expected {to_display(raw)}"
        )
