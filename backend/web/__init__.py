"""The service's web pages (server-rendered): wallet sign-in, cases, a case's record.

``router`` is mounted by the composition root (``backend.api.app``) under ``/ui``;
``root_router`` answers ``GET /`` with the way to the pages;
``verify_router`` serves the public ``/verify/{digest}`` a certificate's QR code opens.
"""

from backend.web.pages import COOKIE, not_found_page, root_router, router
from backend.web.verify import router as verify_router

__all__ = ["COOKIE", "not_found_page", "root_router", "router", "verify_router"]
