"""The OpenAPI viewers ``/docs`` (Swagger UI) and ``/redoc`` (ReDoc), served offline.

Why not FastAPI's defaults: they load Swagger UI and ReDoc from jsDelivr (and fonts from
Google), so an offline service showed blank pages and every reader told a CDN who they
were. Here the scripts are this release's copies in ``static/`` (made by
``scripts/build_web_assets.mjs`` from swagger-ui-dist 5.35.0 and redoc 2.5.4) and each
page's small inline script carries the request's CSP nonce (``headers.docs_csp``).
Swagger UI runs without deep links (see ``swagger_ui``), so /docs passes axe-core with no
serious finding and nothing let through.
"""

from __future__ import annotations

from fastapi import APIRouter, Request
from fastapi.openapi.docs import (
    get_redoc_html,
    get_swagger_ui_html,
    get_swagger_ui_oauth2_redirect_html,
)
from fastapi.responses import HTMLResponse

__all__ = ["DOCS_ASSETS", "router"]

OPENAPI_URL = "/openapi.json"
OAUTH2_REDIRECT = "/docs/oauth2-redirect"
# The static files the viewers load (backend/web/static, served at /ui/static/{name}).
DOCS_ASSETS = {
    "swagger_js": "/ui/static/swagger-ui-bundle.js",
    "swagger_css": "/ui/static/swagger-ui.css",
    "redoc_js": "/ui/static/redoc.standalone.js",
    "swagger_contrast_css": "/ui/static/apidocs.css",  # readable method badges (WCAG AA)
}
FAVICON = "data:,"  # none: nothing to fetch

router = APIRouter(include_in_schema=False)


def _nonced(response: HTMLResponse, request: Request) -> HTMLResponse:
    """The same page with the request's CSP nonce on its inline scripts."""
    nonce = str(getattr(request.state, "csp_nonce", ""))
    body = (bytes(response.body).decode("utf-8")
            .replace("<script>", f'<script nonce="{nonce}">')
            .replace("<html>", '<html lang="en">', 1))
    return HTMLResponse(body, status_code=response.status_code,
                        headers={"Cache-Control": "no-cache"})


@router.get("/docs")
def swagger_ui(request: Request) -> HTMLResponse:
    page = _nonced(get_swagger_ui_html(
        openapi_url=OPENAPI_URL, title="chainarb — Swagger UI",
        swagger_js_url=DOCS_ASSETS["swagger_js"], swagger_css_url=DOCS_ASSETS["swagger_css"],
        swagger_favicon_url=FAVICON, oauth2_redirect_url=OAUTH2_REDIRECT,
        # validatorUrl: no badge from swagger.io. deepLinking off: with it Swagger UI puts
        # each operation's path as a link inside the operation's own toggle button (axe-core
        # "nested-interactive", serious: a screen reader cannot reach or name the inner
        # control); without it the path is plain text in the button and the page passes.
        swagger_ui_parameters={"validatorUrl": None, "deepLinking": False}), request)
    contrast = f'<link rel="stylesheet" href="{DOCS_ASSETS["swagger_contrast_css"]}">'
    body = bytes(page.body).decode("utf-8").replace("</head>", contrast + "</head>", 1)
    return HTMLResponse(body, status_code=page.status_code, headers={"Cache-Control": "no-cache"})


@router.get(OAUTH2_REDIRECT)
def swagger_ui_redirect(request: Request) -> HTMLResponse:
    return _nonced(get_swagger_ui_oauth2_redirect_html(), request)


@router.get("/redoc")
def redoc(request: Request) -> HTMLResponse:
    return _nonced(get_redoc_html(
        openapi_url=OPENAPI_URL, title="chainarb — ReDoc", redoc_js_url=DOCS_ASSETS["redoc_js"],
        redoc_favicon_url=FAVICON, with_google_fonts=False), request)
