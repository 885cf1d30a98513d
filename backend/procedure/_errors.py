# ruff: noqa: N818  -- the refusal names (WrongStage, StaleSequence, ...) are the API the
# issue fixed; an "Error" suffix would only repeat the base class ProcedureError.
"""Refusals of the procedure core.

Every refusal is a subclass of the abstract :class:`ProcedureError` and carries a
machine-readable ``code`` and an ``http_status_hint``; the API edge translates them once
(STYLE §5) and the core never raises HTTP errors. A refusal never changes the case: the
case is immutable and :func:`apply` only returns a new one on success.

Checks run in a fixed order, so a command that is wrong in several ways always gets the
same answer: case closed → wrong actor → stale sequence → wrong stage → deadline passed →
the command's own content (``InvalidCommand`` and its subclasses).
"""

from __future__ import annotations

__all__ = [
    "CaseClosed",
    "ConflictOfInterest",
    "DeadlinePassed",
    "DuplicateAction",
    "InvalidAllocation",
    "InvalidClock",
    "InvalidCommand",
    "ProcedureError",
    "StaleSequence",
    "UnknownOffer",
    "WrongActor",
    "WrongReveal",
    "WrongStage",
]


class ProcedureError(Exception):
    """Base of every refusal; abstract (like h11's ProtocolError) so callers catch a kind."""

    code: str = "procedure_error"
    http_status_hint: int = 400

    def __init__(self, message: str) -> None:
        if type(self) is ProcedureError:
            raise TypeError("ProcedureError is abstract; raise one of its subclasses")
        super().__init__(message)
        self.message = message


class InvalidClock(ProcedureError, ValueError):
    """The edge passed a naive or non-UTC-aware time: a programming error, not the user's."""

    code = "invalid_clock"
    http_status_hint = 500


class WrongActor(ProcedureError):
    """The signer holds no role in this case that may ever issue this command."""

    code = "wrong_actor"
    http_status_hint = 403


class StaleSequence(ProcedureError):
    """The command's sequence is not the case's next one (replayed, or signed on an old view)."""

    code = "stale_sequence"
    http_status_hint = 409


class WrongStage(ProcedureError):
    """The actor may issue this command, but not in the case's current stage."""

    code = "wrong_stage"
    http_status_hint = 409


class CaseClosed(WrongStage):
    """The case is in a terminal stage; nothing can happen to it any more."""

    code = "case_closed"
    http_status_hint = 409


class DeadlinePassed(ProcedureError):
    """The current stage's deadline has passed; only the scheduler's advance() moves on."""

    code = "deadline_passed"
    http_status_hint = 409


class InvalidCommand(ProcedureError, ValueError):
    """The command's content is wrong (also raised when a command is built with bad fields)."""

    code = "invalid_command"
    http_status_hint = 422


class InvalidAllocation(InvalidCommand):
    """An allocation does not add up to the escrowed amount or exceeds the guarantee cap."""

    code = "invalid_allocation"


class ConflictOfInterest(InvalidCommand):
    """A proposed neutral is a party, already sits in the case, or declared a relationship."""

    code = "conflict_of_interest"


class UnknownOffer(InvalidCommand):
    """The offer named does not exist, was withdrawn, or may not be handled by this actor."""

    code = "unknown_offer"
    http_status_hint = 404


class DuplicateAction(InvalidCommand):
    """The actor already did this once and the rules allow it only once."""

    code = "duplicate_action"
    http_status_hint = 409


class WrongReveal(InvalidCommand):
    """A reveal does not open its commitment: the jury seed's or a juror's vote."""

    code = "wrong_reveal"


class NotAReturnAward(InvalidCommand):
    """A return-and-refund award (one with a fallback) that is none: its refund gives the
    buyer nothing, or its fallback equals the refund (no return would change anything)."""

    code = "not_a_return_award"
