"""Response headers that keep a browser from running what the service serves.

One place (``secure``, applied by the API's edge, ``edge.ApiEdge``, in front of every
route) decides them, so no route can forget (docs/evidence-upload.md, "Serving content"):

* every response: ``X-Content-Type-Options: nosniff`` (a browser never guesses a type
  other than the one declared), ``Referrer-Policy: no-referrer`` (case URLs stay out of
  other sites' logs), ``X-Frame-Options: DENY`` with CSP ``frame-ancestors 'none'`` (no
  page of ours in someone else's frame), ``Cross-Origin-Resource-Policy: same-origin``
  (another site cannot embed an evidence file as an image or script);
* the server-rendered pages (``text/html`` under ``/ui``, and the public package record
  ``/verify/{digest}``): ``PAGE_CSP`` — scripts and
  styles only from this origin or carrying the request's nonce (the pages' inline
  ``<script>``/``<style>`` read it from ``request.state.csp_nonce``), no plugins, no
  base-URI or form target elsewhere;
* the OpenAPI viewers (``/docs``, ``/redoc``): Swagger UI and ReDoc from this origin
  (backend/web/apidocs.py) with a nonce'd inline script; ``docs_csp`` allows exactly that
  and they show no case data;
* everything else — JSON, evidence content, the judicial package, the pages' script —
  ``DOWNLOAD_CSP`` (``default-src 'none'; sandbox``: a document opened from it runs
  nothing and has no origin), and any body that is not JSON, a page or our own script is
  an attachment (``Content-Disposition: attachment`` unless the route named the file).
"""

from __future__ import annotations

import re
import unicodedata
import urllib.parse

from starlette.datastructures import MutableHeaders

__all__ = ["DOWNLOAD_CSP", "attachment", "docs_csp", "page_csp", "secure"]

DOWNLOAD_CSP = "default-src 'none'; frame-ancestors 'none'; sandbox"


def docs_csp(nonce: str) -> str:
    """The CSP of ``/docs`` and ``/redoc`` (backend/web/apidocs.py): scripts from this origin
    plus the page's inline one with ``nonce``; styles inline too (Swagger UI and ReDoc add
    theirs at run time), ReDoc's search worker from a blob; nothing from anywhere else."""
    return (f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; "
            "style-src 'self' 'unsafe-inline'; img-src 'self' data:; font-src 'self' data:; "
            "worker-src blob:; connect-src 'self'; base-uri 'none'; form-action 'none'; "
            "frame-ancestors 'none'")


DOCS_PATHS = frozenset({"/docs", "/docs/oauth2-redirect", "/redoc"})
PAGE_PREFIXES = ("/ui/", "/verify/")  # where our own server-rendered pages live
# Bodies a browser may show inline: JSON (never rendered as a page under nosniff), our
# pages and our own script. Anything else is a download.
_INLINE_TYPES = ("application/json", "text/html", "text/javascript")
_FALLBACK_BAD = frozenset('"\\%;')


# The evidence and document viewer (backend/web/party.py) shows a PDF in a frame of a
# ``blob:`` URL it made from the checked bytes, typed application/pdf; no other page may
# frame anything.
_BLOB_FRAME_PAGE = re.compile(r"^/ui/cases/[^/]+/(evidence|documents)/[^/]+$")


def page_csp(nonce: str, *, blob_frames: bool = False) -> str:
    """The CSP of a /ui page: this origin's script plus the inline ones with ``nonce``."""
    frames = "frame-src blob:; " if blob_frames else ""
    return (f"default-src 'none'; script-src 'self' 'nonce-{nonce}'; "
            f"style-src 'self' 'nonce-{nonce}'; img-src 'self' data:; connect-src 'self'; "
            f"{frames}form-action 'self'; base-uri 'none'; frame-ancestors 'none'")


def attachment(filename: str, fallback: str = "download") -> str:
    """``Content-Disposition: attachment`` naming ``filename`` per RFC 6266.

    ``filename=`` carries an ASCII-only stand-in (accents dropped, anything outside
    printable ASCII or a quote, backslash, ``%`` or ``;`` replaced by ``_``) for old
    clients; ``filename*=UTF-8''…`` the exact name, percent-encoded (RFC 8187).
    """
    stem, dot, ext = filename.rpartition(".")
    if not dot:
        stem, ext = filename, ""
    ascii_stem = _fold(stem).strip(" ._") or fallback
    ascii_ext = _fold(ext).strip(" ._")
    ascii_name = ascii_stem + (f".{ascii_ext}" if ascii_ext else "")
    quoted = urllib.parse.quote(filename, safe="")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quoted}"


def _fold(text: str) -> str:
    """Printable ASCII without quote, backslash, ``%`` or ``;`` (accents folded away)."""
    folded = unicodedata.normalize("NFKD", text).encode("ascii", "ignore").decode()
    return "".join("_" if (ch in _FALLBACK_BAD or not 0x20 <= ord(ch) < 0x7F) else ch
                   for ch in folded)


# The headers ``_apply`` sets on every response, as they go on the wire.
_ALWAYS = ((b"x-content-type-options", b"nosniff"), (b"referrer-policy", b"no-referrer"),
           (b"x-frame-options", b"DENY"), (b"cross-origin-resource-policy", b"same-origin"))
_SET_HERE = frozenset({k for k, _ in _ALWAYS} | {b"content-security-policy",
                                                 b"content-disposition"})


def secure(headers: list[tuple[bytes, bytes]], path: str, nonce: str) -> None:
    """Add the headers above to a response's raw header list (in place), exactly as
    ``_apply`` does through ``MutableHeaders``, without its per-header scans when the
    response set none of them (nearly always); else ``_apply`` itself."""
    ctype_raw: bytes | None = None
    for key, value in headers:
        if key in _SET_HERE:
            _apply(MutableHeaders(raw=headers), path, nonce)
            return
        if key == b"content-type" and ctype_raw is None:
            ctype_raw = value
    ctype = (ctype_raw or b"").decode("latin-1").split(";")[0].strip().lower()
    headers.extend(_ALWAYS)
    headers.append((b"content-security-policy", _csp(ctype, path, nonce).encode("latin-1")))
    if ctype and not ctype.startswith(_INLINE_TYPES) and not ctype.endswith("+json"):
        headers.append((b"content-disposition", b"attachment"))


def _csp(ctype: str, path: str, nonce: str) -> str:
    if ctype == "text/html" and (path == "/ui" or path.startswith(PAGE_PREFIXES)):
        return page_csp(nonce, blob_frames=bool(_BLOB_FRAME_PAGE.match(path)))
    if ctype == "text/html" and path in DOCS_PATHS:
        return docs_csp(nonce)
    return DOWNLOAD_CSP


def _apply(headers: MutableHeaders, path: str, nonce: str) -> None:
    ctype = headers.get("content-type", "").split(";")[0].strip().lower()
    headers["X-Content-Type-Options"] = "nosniff"
    headers["Referrer-Policy"] = "no-referrer"
    headers["X-Frame-Options"] = "DENY"
    headers["Cross-Origin-Resource-Policy"] = "same-origin"
    headers["Content-Security-Policy"] = _csp(ctype, path, nonce)
    if ctype and not ctype.startswith(_INLINE_TYPES) and \
            not ctype.endswith("+json") and "content-disposition" not in headers:
        headers["Content-Disposition"] = "attachment"
    elif "content-disposition" in headers:
        kind, sep, rest = headers["content-disposition"].partition(";")
        if kind.strip().lower() != "attachment":  # no route serves a file inline
            headers["Content-Disposition"] = "attachment" + sep + rest
