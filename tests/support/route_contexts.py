"""Each route's FastAPI state built once per test process instead of once per app.

FastAPI (0.16x) builds an included route's state lazily, per app: on an app's first
request, ``_IncludedRouter.effective_candidates`` calls ``_EffectiveRouteContext.
from_api_route`` for every route of every included router, which solves the endpoint's
dependencies and makes a pydantic ``TypeAdapter`` for each parameter, body and response
model. For chainarb's 124 routes that is ~0.4 s of CPU per app (more when a full garbage
collection falls in it). The service makes one app per process; the tests make one per
world, hundreds per run, and this was the largest single cost of the API tests (13.6 of
36.3 s of CPU in test_access, test_checkout, test_active_content and test_web_words).

What is kept: the state FastAPI derives from the route and its inclusion alone (path,
dependant, body and response fields, methods, response class ...), keyed by the route
object and by the inclusion's settings compared by value (``==`` of the dataclass), the
app that includes it left out. What stays each app's own: the
``dependency_overrides_provider`` (the app) and the ASGI handler, made again for each app
exactly as ``from_api_route`` makes it (``get_route_handler`` under the context variable),
so a handler reads its own app's ``dependency_overrides``; nothing kept refers to an app,
so a world's app is freed as before. An inclusion with other settings
(prefix, dependencies, body limit ...) is a miss and built as before.
``tests/test_route_contexts.py`` holds an app built through this to the answers and
overrides of an app built by FastAPI alone.

This reaches into FastAPI's private names on purpose, and fails at import when they
change (``install``'s asserts) rather than silently doing something else; pinned in
constraints.txt.
"""

from __future__ import annotations

import copy
import dataclasses
from typing import Any

from fastapi import _body_limit, routing

__all__ = ["builds", "install", "installed", "uninstall"]

_Context = routing._EffectiveRouteContext
_original = _Context.__dict__["from_api_route"]
# id(route) -> [(route, inclusion without its app, context built for the first app)]
_kept: dict[int, list[tuple[Any, Any, Any]]] = {}
builds = {"built": 0, "reused": 0}


def _handler(context: Any, route: Any) -> Any:
    """The ASGI app ``from_api_route`` gives ``context`` (its last step, as it does it)."""
    token = routing._effective_route_context_var.set(context)
    try:
        return _body_limit.wrap_app_with_body_limit(
            routing.request_response(route.get_route_handler()), context.max_body_size)
    finally:
        routing._effective_route_context_var.reset(token)


def _from_api_route(cls: type, *, original_route: Any, include_context: Any) -> Any:
    inclusion = dataclasses.replace(include_context, dependency_overrides_provider=None)
    for route, kept_inclusion, kept in _kept.get(id(original_route), ()):
        if route is original_route and kept_inclusion == inclusion:
            context = copy.copy(kept)
            context.dependency_overrides_provider = include_context.dependency_overrides_provider
            context.app = _handler(context, original_route)
            builds["reused"] += 1
            return context
    context = _original.__func__(cls, original_route=original_route,
                                 include_context=include_context)
    # kept without what belongs to this app (its handler and the app itself), so the first
    # app of a process is not kept alive by the ones after it
    kept = copy.copy(context)
    kept.dependency_overrides_provider = kept.app = None
    _kept.setdefault(id(original_route), []).append((original_route, inclusion, kept))
    builds["built"] += 1
    return context


def installed() -> bool:
    return _Context.__dict__["from_api_route"] is not _original


def install() -> None:
    """Route FastAPI's per-app builds through the kept ones (idempotent)."""
    assert isinstance(_original, classmethod), "FastAPI changed from_api_route"
    assert dataclasses.is_dataclass(routing._RouterIncludeContext)
    assert "dependency_overrides_provider" in {
        f.name for f in dataclasses.fields(routing._RouterIncludeContext)}
    assert callable(routing.request_response) and callable(_body_limit.wrap_app_with_body_limit)
    if not installed():
        _Context.from_api_route = classmethod(_from_api_route)  # type: ignore[method-assign,assignment]


def uninstall() -> None:
    """FastAPI's own build again, and nothing kept (for the tests of this module)."""
    _Context.from_api_route = _original  # type: ignore[method-assign]
    _kept.clear()
