"""The case view's shortcut: ``GET /cases/{id}`` answered before FastAPI's routing.

Why (issue 10): a case view is the most frequent request, and FastAPI's routing over the
app's ~150 routes, its dependency solving and its two inner middlewares cost a read about
0.3 ms of CPU, more than the view itself once the view's text is kept
(``views.case_view_json``). The shortcut answers only what it is sure of: a GET of exactly
the route's path (Starlette's ``/cases/{case_id}``: one segment of anything but ``/``),
a bearer token that authenticates (``SessionCache`` as ``current_user``: sign-out here
immediate, expiry checked) and a view that builds. Anything else - no or a bad token, an
unknown case, a viewer with no part in it, a storage fault, any exception - goes to the
app as if the shortcut were not there, which answers it exactly as before (a read
changes nothing, so asking it again is harmless). The answer it gives is the route's own:
``Response(body, media_type="application/json")`` with the same body, status and headers
(``tests/backend/api/test_case_view_shortcut.py`` holds the two byte for byte equal).
"""

from __future__ import annotations

import re

from starlette.concurrency import run_in_threadpool
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.services import views

from .context import AppContext
from .deps import _bearer

__all__ = ["CaseViewShortcut", "case_view_answer"]

# Starlette's compiled ``/cases/{case_id}`` (``[^/]+``), matched against the whole path
_CASE_VIEW = re.compile(r"/cases/([^/]+)")


def case_view_answer(ctx: AppContext, authorization: str | None, case_id: str
                     ) -> bytes | None:
    """The case view's body for this request, or None when the route must answer (in the
    thread pool: a miss of the session cache reads the database, the view always does)."""
    try:
        token = _bearer(authorization)
        now = ctx.clock()
        user = ctx.auth_cache.cached(token, now)
        if user is None:
            user = ctx.auth_cache.authenticate(ctx.sessions, token, now)
        return views.case_view_json(ctx.service, case_id, user)
    except Exception:  # 401, 403, 404, a fault ...: the route's own answer
        return None


class CaseViewShortcut:
    """Pure ASGI: ``GET /cases/{id}`` that succeeds, else the app (module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = None
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path"):
            found = _CASE_VIEW.fullmatch(scope["path"])
        ctx = getattr(getattr(scope.get("app"), "state", None), "ctx", None) \
            if found is not None else None
        if found is None or not isinstance(ctx, AppContext):
            await self.app(scope, receive, send)
            return
        authorization = None
        for name, value in scope["headers"]:  # the first, as Starlette's Headers.get
            if name == b"authorization":
                authorization = value.decode("latin-1")
                break
        body = await run_in_threadpool(case_view_answer, ctx, authorization, found.group(1))
        if body is None:
            await self.app(scope, receive, send)
            return
        await Response(body, media_type="application/json")(scope, receive, send)
