# ruff: noqa: N818  -- refusal names (AccessDenied, NotFound, ...) read as HTTP outcomes; an
# "Error" suffix would only repeat the base class ServiceError.
"""Refusals of the service layer (auth, access, step submission, chain).

One abstract base, ``ServiceError``, with a machine-readable ``code`` and an
``http_status`` hint; the API translates it once at the edge (STYLE §5). Procedure
refusals (``backend.procedure.ProcedureError``) and record refusals
(``evidence.errors.EvidenceError``) pass through unchanged and are translated there too.
"""

from __future__ import annotations

__all__ = [
    "AccessDenied",
    "AuthRequired",
    "BadSubmission",
    "ChainActionError",
    "ChainUnavailable",
    "Conflict",
    "GroupCommitFailed",
    "NotFound",
    "ServiceError",
    "SignInRefused",
    "StaleStep",
]


class ServiceError(Exception):
    """Base of the service's refusals; abstract, raise a subclass."""

    code: str = "service_error"
    http_status: int = 400

    def __init__(self, message: str, *, code: str | None = None) -> None:
        if type(self) is ServiceError:
            raise TypeError("ServiceError is abstract; raise one of its subclasses")
        super().__init__(message)
        self.message = message
        if code is not None:
            self.code = code


class AuthRequired(ServiceError):
    """No session token, or one that is unknown, expired or revoked."""

    code = "auth_required"
    http_status = 401


class SignInRefused(ServiceError):
    """A sign-in message or signature that does not prove the wallet (replay, expiry, forgery)."""

    code = "sign_in_refused"
    http_status = 401


class AccessDenied(ServiceError):
    """Signed in, but this role may not do or see this."""

    code = "access_denied"
    http_status = 403


class NotFound(ServiceError, LookupError):
    """What the request names (a case, step, item, offer, court, order, chain action)
    really does not exist. The only refusal answered 404: a ``KeyError`` or other
    ``LookupError`` raised by a bug is a 500 ``internal_error``, not "not found". Also a
    ``LookupError`` so code that catches the stdlib type keeps working."""

    code = "not_found"
    http_status = 404


class Conflict(ServiceError):
    code = "conflict"
    http_status = 409


class StaleStep(Conflict):
    """The record names another position in the case's step chain (replay or stale view)."""

    code = "stale_sequence"


class BadSubmission(ServiceError):
    """The body is well-formed JSON but does not fit the step (wrong action, payload hash...)."""

    code = "bad_submission"
    http_status = 422


class ChainActionError(ServiceError):
    """A chain effect failed (retried by the executor; recorded on the chain action)."""

    code = "chain_action_failed"
    http_status = 502


class ChainUnavailable(ServiceError):
    """The chain node did not answer a read the answer needs (nothing was changed)."""

    code = "chain_unavailable"
    http_status = 503


class GroupCommitFailed(ServiceError):
    """The shared transaction of a group of steps failed (not a refusal of this step):
    nothing of the group was stored; sending the same signed record again is safe."""

    code = "commit_failed"
    http_status = 503
