"""The API's edge (backend/api/edge.py, limits.py): its fast paths against the general ones."""

from __future__ import annotations

import itertools
import random
from collections.abc import Callable

import pytest
from starlette.datastructures import MutableHeaders

from backend.api.headers import _apply, secure
from backend.api.limits import JsonBodyLimit, parsed_as_json, shallow
from evidence.safejson import MAX_DEPTH, JsonTooDeep, check_bounds, json_depth

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


def test_secure_is_apply() -> None:
    """Byte for byte (names, values, order) what ``_apply`` makes of the same list, for
    every path, content type and set of headers a route may have set (one behaviour: the
    combinations are its inputs, not tests of their own)."""
    for path, ctype, extra in itertools.product(PATHS, TYPES, EXTRA):
        base = [(b"content-length", b"12")]
        if ctype is not None:
            base.append((b"content-type", ctype))
        base += [*extra, (b"x-request-id", b"0123456789abcdef")]
        fast, general = list(base), list(base)
        secure(fast, path, "n0nce")
        _apply(MutableHeaders(raw=general), path, "n0nce")
        assert fast == general, (path, ctype, extra)
        assert (b"x-content-type-options", b"nosniff") in fast, (path, ctype, extra)


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


def _bodies() -> list[bytes]:
    """Bodies around the depth bound: nested arrays and objects, brackets in strings
    (which the scan drops and the count does not), unterminated strings, escapes."""
    depth = MAX_DEPTH
    out = [b"", b"{}", b'{"record": {"a": [1, 2, {"b": "x[y{z"}]}}',
           b"[" * depth + b"]" * depth, b"[" * (depth + 1) + b"]" * (depth + 1),
           b"[" * (depth + 1), b"{" * depth, b'"' + b"[" * 200 + b'"',
           b'["\\"' + b"[" * 70 + b'"]', b'"unterminated [[[[', b"[" * 40 + b"{" * 24,
           b"[" * 40 + b"{" * 25]
    rng = random.Random(10)
    for _ in range(400):
        out.append(bytes(rng.choice(b'[]{}"\\ax,:') for _ in range(rng.randrange(1, 140))))
    return out


def _outcome(check: Callable[..., None]) -> str | None:
    try:
        check()
    except JsonTooDeep as exc:
        return str(exc)
    return None


def test_body_check_is_the_scan() -> None:
    """The edge's check (count first, scan when needed) refuses exactly what the scan
    alone refuses; the count's shortcut only ever skips bodies the scan accepts."""
    limit = JsonBodyLimit(None, max_bytes=1 << 20)  # type: ignore[arg-type]  # no app: check only
    refused = 0
    for body in _bodies():
        alone = _outcome(lambda body=body: check_bounds(body, what="request body",
                                                        max_bytes=1 << 20))
        assert _outcome(lambda body=body: limit._check(body)) == alone, body
        assert (alone is not None) == (json_depth(body) > MAX_DEPTH), body
        if shallow(body):
            assert alone is None, body
        refused += alone is not None
    assert refused >= 2  # the set holds bodies over the bound (else it proves nothing)


def test_shallow_at_the_bound() -> None:
    assert shallow(b"[" * MAX_DEPTH + b"]" * MAX_DEPTH)
    assert not shallow(b"[" * (MAX_DEPTH + 1) + b"]" * (MAX_DEPTH + 1))
