"""The case view's shortcut: ``GET /cases/{id}`` answered before FastAPI's routing.

Why (issue 10): a case view is the most frequent request, and FastAPI's routing over the
app's ~150 routes, its dependency solving and its inner middlewares cost a read about
0.3 ms of CPU, more than the view itself once the view's text is kept
(``views.case_view_json``). The shortcut takes only a GET of exactly the route's path
(Starlette's ``/cases/{case_id}``: one segment of anything but ``/``; no ``root_path``) and
does what the route does: the bearer token through the session cache (``current_user``:
sign-out here immediate, expiry checked on every request), then the view, in one trip to
the thread pool. Its answer is the route's: ``Response(body, media_type="application/
json")``; a refusal or fault (401, 403, 404, a storage outage ...) is answered by the
app's own exception handlers, those FastAPI's ``ExceptionMiddleware`` holds (the next
layer), exactly as when the route raises it; an exception no handler takes reaches the
edge's logged 500, as from the route. ``tests/backend/api/test_case_view_shortcut.py``
holds the answers byte for byte equal to the route's.
"""

from __future__ import annotations

import copy
import re

from starlette.concurrency import run_in_threadpool
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from backend.services import views

from .context import AppContext
from .deps import _bearer

__all__ = ["CaseViewShortcut", "case_view_answer"]

# Starlette's compiled ``/cases/{case_id}`` (``[^/]+``), matched against the whole path
_CASE_VIEW = re.compile(r"/cases/([^/]+)")


def case_view_answer(ctx: AppContext, authorization: str | None, case_id: str) -> bytes:
    """The case view's body for this request, as ``current_user`` and ``get_case`` give
    it, or their exception (in the thread pool: a miss of the session cache reads the
    database, the view always does)."""
    token = _bearer(authorization)
    now = ctx.clock()
    user = ctx.auth_cache.cached(token, now)
    if user is None:
        user = ctx.auth_cache.authenticate(ctx.sessions, token, now)
    return views.case_view_json(ctx.service, case_id, user)


class CaseViewShortcut:
    """Pure ASGI, in front of FastAPI's ``ExceptionMiddleware`` (module docstring)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        found = None
        if scope["type"] == "http" and scope["method"] == "GET" and not scope.get("root_path") \
                and isinstance(self.app, ExceptionMiddleware):
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
        try:
            body = await run_in_threadpool(case_view_answer, ctx, authorization,
                                           found.group(1))
        except Exception as exc:
            await self._refuse(exc, scope, receive, send)
            return
        await Response(body, media_type="application/json")(scope, receive, send)

    async def _refuse(self, exc: Exception, scope: Scope, receive: Receive, send: Send
                      ) -> None:
        """``exc`` answered by the app's exception handlers: the next layer, FastAPI's
        ``ExceptionMiddleware``, run over an app that raises it (its own tables and code)."""

        async def raising(_scope: Scope, _receive: Receive, _send: Send) -> None:
            raise exc

        handlers = copy.copy(self.app)
        assert isinstance(handlers, ExceptionMiddleware)  # checked in __call__
        handlers.app = raising
        await handlers(scope, receive, send)
