"""The service's web pages (server-rendered): wallet sign-in, cases, a case's record.

``router`` is mounted by the composition root (``backend.api.app``) under ``/ui``.
"""

from backend.web.pages import COOKIE, router

__all__ = ["COOKIE", "router"]
