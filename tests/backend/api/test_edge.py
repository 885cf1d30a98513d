"""The API's edge (backend/api/edge.py): its header fast path against the general one."""

from __future__ import annotations

import itertools

import pytest
from starlette.datastructures import MutableHeaders

from backend.api.headers import _apply, secure
from backend.api.limits import parsed_as_json

PATHS = ["/cases/abc", "/ui", "/ui/cases/x", "/ui/cases/x/evidence/y", "/verify/0xab",
         "/docs", "/redoc", "/docs/oauth2-redirect", "/health", ""]
TYPES = [None, b"application/json", b"application/json; charset=utf-8", b"text/html",
         b"text/html; charset=utf-8", b"TEXT/HTML", b"text/javascript",
         b"application/problem+json", b"application/pdf", b"application/octet-stream",
         b"text/plain", b"image/png", b""]
EXTRA = [
    [],
    [(b"content-disposition", b"inline; filename=\"a.pdf\"")],
    [(b"content-disposition", b"attachment; filename=\"a.pdf\"")],
    [(b"content-security-policy", b"default-src 'self'")],
    [(b"x-frame-options", b"SAMEORIGIN"), (b"x-frame-options", b"ALLOW")],
    [(b"referrer-policy", b"origin")],
    [(b"Content-Type", b"text/html")],  # not lower case: neither path reads it
    [(b"content-type", b"text/plain")],  # a second one: both read the first
]


@pytest.mark.parametrize(("path", "ctype", "extra"),
                         list(itertools.product(PATHS, TYPES, range(len(EXTRA)))))
def test_secure_is_apply(path: str, ctype: bytes | None, extra: int) -> None:
    """Byte for byte (names, values, order) what ``_apply`` makes of the same list."""
    base = [(b"content-length", b"12")]
    if ctype is not None:
        base.append((b"content-type", ctype))
    base += EXTRA[extra] + [(b"x-request-id", b"0123456789abcdef")]
    fast, general = list(base), list(base)
    secure(fast, path, "n0nce")
    _apply(MutableHeaders(raw=general), path, "n0nce")
    assert fast == general
    assert (b"x-content-type-options", b"nosniff") in fast


@pytest.mark.parametrize("ctype", ["", "application/json", "application/ld+json",
                                   "application/json; charset=utf-8", "text/plain",
                                   "multipart/form-data", "application/x-www-form-urlencoded",
                                   "application/jsonx", "application/json;"])
def test_parsed_as_json_remembered(ctype: str) -> None:
    """The remembered answer is the computed one, asked twice."""
    computed = parsed_as_json.__wrapped__(ctype)
    assert parsed_as_json(ctype) == computed
    assert parsed_as_json(ctype) == computed
    assert computed == (ctype in ("", "application/json", "application/ld+json",
                                  "application/json; charset=utf-8", "application/json;"))
