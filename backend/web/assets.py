"""The pages' static files (scripts, styles, fonts), served by the service itself.

Why here and not a CDN: the pages must work with every network but loopback blocked, and
the trust model wants the scripts that touch a person's key to be the ones this release
ships. Files live in ``backend/web/static/`` (package data, read through
``importlib.resources`` so an installed wheel serves them too); only names with a known
type are served, and nothing outside that folder.
"""

from __future__ import annotations

from importlib import resources

from fastapi import APIRouter
from fastapi.responses import JSONResponse, Response

__all__ = ["MEDIA_TYPES", "router", "static_bytes"]

# The file types the pages use, by suffix; any other name is a 404.
MEDIA_TYPES = {
    ".js": "text/javascript; charset=utf-8",
    ".mjs": "text/javascript; charset=utf-8",
    ".css": "text/css; charset=utf-8",
    ".json": "application/json",
    ".map": "application/json",
    ".svg": "image/svg+xml",
    ".png": "image/png",
    ".woff2": "font/woff2",
}

router = APIRouter(include_in_schema=False)  # mounted under /ui by pages.router


def static_bytes(name: str) -> bytes | None:
    """The file ``name`` of the static folder, or None when there is no such servable file."""
    suffix = "." + name.rsplit(".", 1)[-1] if "." in name else ""
    if suffix not in MEDIA_TYPES or "/" in name or "\\" in name or name.startswith("."):
        return None
    entry = resources.files("backend.web").joinpath("static", name)
    return entry.read_bytes() if entry.is_file() else None


@router.get("/static/{name}")
def static_file(name: str) -> Response:
    body = static_bytes(name)
    if body is None:
        return JSONResponse({"code": "not_found", "detail": f"no static file {name!r}"},
                            status_code=404)
    suffix = "." + name.rsplit(".", 1)[-1]
    return Response(body, media_type=MEDIA_TYPES[suffix],
                    headers={"Cache-Control": "no-cache"})
