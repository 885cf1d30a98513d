"""Effects: past-tense facts and requests that the edge turns into I/O.

The core never notifies, writes or transacts; it returns these and the edge (outbox,
chain gateway, anchoring worker, scheduler) carries them out in the same database
transaction that stores the new case.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ._states import Allocation, AwardTerms, Role, Stage

__all__ = [
    "AnchorStep",
    "AppointOnChain",
    "AppointmentRequested",
    "DeadlineSet",
    "Effect",
    "ExecuteSettlement",
    "FreezeEscrow",
    "NotifyParties",
    "StageChanged",
    "SubmitAwardToEscrow",
]


@dataclass(frozen=True, kw_only=True)
class Effect:
    """Base of every effect."""


@dataclass(frozen=True, kw_only=True)
class NotifyParties(Effect):
    """Send notice ``kind`` to ``recipients`` (the outbox records delivery)."""

    kind: str
    recipients: tuple[str, ...]


@dataclass(frozen=True, kw_only=True)
class FreezeEscrow(Effect):
    order_id: int
    case_id: str


@dataclass(frozen=True, kw_only=True)
class ExecuteSettlement(Effect):
    """Both parties signed the same allocation: execute it on the escrow directly."""

    order_id: int
    case_id: str
    allocation: Allocation


@dataclass(frozen=True, kw_only=True)
class AppointOnChain(Effect):
    """Register the appointed arbitrator(s) on the escrow: round 0 sole, round 1 panel."""

    order_id: int
    case_id: str
    arbitrators: tuple[str, ...]
    round: int


@dataclass(frozen=True, kw_only=True)
class AppointmentRequested(Effect):
    """The institution must appoint a neutral (a mediator, an arbitrator or a panel)."""

    role: Role
    by: datetime | None


@dataclass(frozen=True, kw_only=True)
class SubmitAwardToEscrow(Effect):
    order_id: int
    case_id: str
    award: AwardTerms
    round: int


@dataclass(frozen=True, kw_only=True)
class AnchorStep(Effect):
    """Store and anchor this step: a signed command (sequence set) or a default (None)."""

    case_id: str
    step: str
    sequence: int | None
    at: datetime


@dataclass(frozen=True, kw_only=True)
class StageChanged(Effect):
    case_id: str
    stage_from: Stage
    stage_to: Stage
    at: datetime
    by_default: bool  # True when a missed deadline moved the case


@dataclass(frozen=True, kw_only=True)
class DeadlineSet(Effect):
    """The scheduler must call advance() at ``at`` (also given by next_deadline())."""

    case_id: str
    stage: Stage
    at: datetime
