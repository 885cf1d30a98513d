"""The service's web pages (server-rendered): wallet sign-in, cases, a case's record.

``router`` is mounted by the composition root (``backend.api.app``) under ``/ui``;
``verify_router`` serves the public ``/verify/{digest}`` a certificate's QR code opens.
"""

from backend.web.pages import COOKIE, router
from backend.web.verify import router as verify_router

__all__ = ["COOKIE", "router", "verify_router"]
