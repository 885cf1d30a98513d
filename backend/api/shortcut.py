"""The edge's shortcuts: the case view and the signed steps answered before FastAPI's routing.

Why (issue 10): a case view is the most frequent request and a signed step the costliest,
and FastAPI's routing over the app's ~150 routes, its dependency solving, its body
handling and its inner middlewares cost each of them several tenths of a millisecond of
CPU, more than a kept view and a good part of a step. A shortcut takes only the exact
paths and methods of its routes (no ``root_path``) and does what the route does, in one
trip to the thread pool; whatever it does not take goes on to the app unchanged.

* ``GET /cases/{case_id}`` (Starlette's ``{case_id}``: one segment of anything but
  ``/``): the bearer token through the session cache (``current_user``: sign-out here
  immediate, expiry checked on every request), then the view, in the view's own few
  threads (``lane.view_lane``, not anyio's pool). Its answer is the route's:
  ``Response(body, media_type="application/json")``.
* ``POST /cases/{case_id}/steps`` and the typed step endpoints (``cases.STEP_ENDPOINTS``,
  from evidence/steps.py): only a body FastAPI would parse as JSON (the Content-Type
  test of ``limits.parsed_as_json``, none given excluded as FastAPI's strict content
  type excludes it) that parses as plain UTF-8 JSON (``safejson.loads``: the value
  FastAPI's ``json.loads`` makes of it) and validates as the routes' ``StepIn``; any
  other body goes on to the app, replayed as it came, so
  every refusal of a body's shape (422 ``bad_json``/``invalid_field``, 415
  ``expected_json``) stays FastAPI's own. A ``fasttrack.proposed`` goes on too (its
  check reads the performance service, built on the event loop: rare, not worth a copy).
  Then, as the route: the session (401 first, as the route's dependency), the record's
  kind against the endpoint (``cases.step_kind``), the step and its receipt
  (``cases.accept_step``); the answer is the route's ``JSONResponse(answer, 201)``.

The edge's outer work (security headers, request id, the logged 500, the body bounds:
413 ``body_too_large``, 422 ``body_too_deep``) wraps the shortcuts as it wraps the app.
A refusal or fault (401, 403, 404, 409, a storage outage ...) is answered by the app's
own exception handlers, those FastAPI's ``ExceptionMiddleware`` holds (the next layer),
exactly as when the route raises it; an exception no handler takes reaches the edge's
logged 500, as from the route. What a shortcut skips that the route has: FastAPI's
``AsyncExitStackMiddleware`` (it closes uploaded files and dependencies with ``yield``;
these routes have neither) and the route's entries in the scope (``route``,
``endpoint``, ``path_params``: nothing after it reads them). ``tests/backend/api/
test_case_view_shortcut.py`` and ``test_step_shortcut.py`` hold the answers byte for byte
equal to the routes'.
"""

from __future__ import annotations

import copy
import functools
import re
from collections.abc import Mapping

from pydantic import ValidationError
from starlette.middleware.exceptions import ExceptionMiddleware
from starlette.responses import JSONResponse, Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from backend.services import views
from evidence import safejson
from evidence.errors import FormatError

from .context import AppContext
from .deps import _bearer
from .lane import step_lane, view_lane
from .limits import DEFAULT_MAX_JSON_BYTES, parsed_as_json
from .routes import cases

__all__ = ["Shortcuts", "case_view_answer", "signed_in", "step_answer"]

# Starlette's compiled ``/cases/{case_id}`` (``[^/]+``), matched against the whole path
_CASE_VIEW = re.compile(r"/cases/([^/]+)")
# ``/cases/{case_id}/<endpoint>``: the endpoint (which may hold a ``/``) looked up below
_STEP = re.compile(r"/cases/([^/]+)/(.+)")
# each step endpoint's path after the case id -> the kinds it takes (None: any)
STEP_PATHS: dict[str, frozenset[str] | None] = {
    "steps": None, **{path: allowed for path, allowed, _summary in cases.STEP_ENDPOINTS}}


def signed_in(ctx: AppContext, authorization: str | None, *, plain: bool = False) -> str:
    """The caller's address as ``current_user`` gives it, or its 401 (a miss of the
    session cache reads the database: call it in the thread pool). ``plain``: the miss
    reads as the case view does, a plain read on a connection (``CaseRepository.reading``:
    no ORM session; on PostgreSQL one round trip in autocommit, on SQLite its SELECT
    alone)."""
    token = _bearer(authorization)
    now = ctx.clock()
    user = ctx.auth_cache.cached(token, now)
    if user is None:
        sessions = functools.partial(ctx.service.repository.reading, alone=True) if plain \
            else ctx.sessions
        user = ctx.auth_cache.authenticate(sessions, token, now)
    return user


def case_view_answer(ctx: AppContext, authorization: str | None, case_id: str) -> bytes:
    """The case view's body for this request, as ``current_user`` and ``get_case`` give
    it, or their exception (in the lane's thread: the view always reads the database)."""
    return views.case_view_json(ctx.service, case_id, signed_in(ctx, authorization, plain=True))


def step_answer(ctx: AppContext, authorization: str | None, case_id: str,
                body: cases.StepIn, allowed: frozenset[str] | None) -> Response:
    """A step endpoint's answer to a body that validated, as ``current_user`` and
    ``cases._submit`` give it, or their exception (in the thread pool)."""
    user = signed_in(ctx, authorization)
    kind = cases.step_kind(body.record, allowed)
    assert kind != cases.FAST_TRACK  # left to the route (Shortcuts._step)
    return JSONResponse(cases.accept_step(ctx, user, case_id, body), status_code=201)


def _header(scope: Scope, wanted: bytes) -> bytes | None:
    """The first value of a header, as Starlette's ``Headers.get`` reads it."""
    for name, value in scope["headers"]:
        if name == wanted:
            return bytes(value)
    return None


def _authorization(scope: Scope) -> str | None:
    value = _header(scope, b"authorization")
    return value.decode("latin-1") if value is not None else None


def _plain_kind(record: Mapping[str, object]) -> object:
    """The kind ``cases.step_kind`` finds, without its refusals (those come after the
    session's, in the thread pool)."""
    kind = record.get("type")
    message = record.get("message")
    if kind == "ProceduralStep" and isinstance(message, dict):
        return message.get("action")
    return kind


class Shortcuts:
    """Pure ASGI, in front of FastAPI's ``ExceptionMiddleware`` (module docstring): the
    case view's and the step endpoints' shortcuts."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        ctx = None
        if scope["type"] == "http" and not scope.get("root_path") \
                and isinstance(self.app, ExceptionMiddleware):
            ctx = getattr(getattr(scope.get("app"), "state", None), "ctx", None)
        if isinstance(ctx, AppContext):
            method = scope["method"]
            if method == "GET":
                found = _CASE_VIEW.fullmatch(scope["path"])
                if found is not None:
                    await self._view(ctx, found.group(1), scope, receive, send)
                    return
            elif method == "POST":
                found = _STEP.fullmatch(scope["path"])
                if found is not None and found.group(2) in STEP_PATHS:
                    await self._step(ctx, found.group(1), STEP_PATHS[found.group(2)],
                                     scope, receive, send)
                    return
        await self.app(scope, receive, send)

    async def _view(self, ctx: AppContext, case_id: str, scope: Scope, receive: Receive,
                    send: Send) -> None:
        try:
            body = await view_lane.run(case_view_answer, ctx, _authorization(scope), case_id)
        except Exception as exc:
            await self._refuse(exc, scope, receive, send)
            return
        await Response(body, media_type="application/json")(scope, receive, send)

    async def _step(self, ctx: AppContext, case_id: str, allowed: frozenset[str] | None,
                    scope: Scope, receive: Receive, send: Send) -> None:
        ctype = _header(scope, b"content-type")
        if not ctype or not parsed_as_json(ctype.decode("latin-1").lower()):
            await self.app(scope, receive, send)
            return
        first = await receive()
        replay = _replaying(first, receive)
        if first["type"] != "http.request" or first.get("more_body", False):
            await self.app(scope, replay, send)  # not the edge's one message: the app's
            return
        try:
            raw = safejson.loads(first.get("body", b""), what="request body",
                                 max_bytes=DEFAULT_MAX_JSON_BYTES)
            body = cases.StepIn.model_validate(raw)
        except (FormatError, ValidationError):
            # not JSON in plain UTF-8 (FastAPI's ``json.loads`` of the bytes also takes a
            # BOM, UTF-16 and surrogates: what it makes of those is its own), or not the
            # routes' body: FastAPI's own answer
            await self.app(scope, replay, send)
            return
        if _plain_kind(body.record) == cases.FAST_TRACK:
            await self.app(scope, replay, send)
            return
        try:
            response = await step_lane.run(step_answer, ctx, _authorization(scope), case_id,
                                           body, allowed)
        except Exception as exc:
            await self._refuse(exc, scope, replay, send)
            return
        await response(scope, replay, send)

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


def _replaying(first: Message, receive: Receive) -> Receive:
    """``receive`` that gives ``first`` (a message already taken) once, then the rest."""
    given = False

    async def replay() -> Message:
        nonlocal given
        if not given:
            given = True
            return first
        return await receive()

    return replay

