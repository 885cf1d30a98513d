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
    "EFFECT_TYPES",
    "AnchorStep",
    "AppointJuryOnChain",
    "AppointOnChain",
    "AppointmentRequested",
    "ConfirmReturnOnEscrow",
    "DeadlineSet",
    "Effect",
    "ExecuteAwardOnEscrow",
    "ExecuteFastTrackOnEscrow",
    "ExecuteSettlement",
    "FastTrackObjectedOnChain",
    "FreezeEscrow",
    "NotifyParties",
    "ObjectOnChain",
    "ResolveEscrowByTimeout",
    "ReturnDisputedOnChain",
    "ReturnShippedOnChain",
    "StageChanged",
    "SubmitAwardToEscrow",
    "SubmitFastTrackToEscrow",
    "SubmitVerdictToEscrow",
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
    """Both parties signed the same allocation: execute it on the escrow directly; with
    ``no_return`` (return and refund) the escrow's return stage starts instead."""

    order_id: int
    case_id: str
    allocation: Allocation
    no_return: Allocation | None = None


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
    """Relay a signed award to the escrow (``submitAward`` / ``submitPanelAward``).

    Round 0 is submitted when the arbitrator issues it, so the escrow's objection window
    runs alongside the case's; round 1 executes on submission (the panel's award is final).
    """

    order_id: int
    case_id: str
    award: AwardTerms
    round: int


@dataclass(frozen=True, kw_only=True)
class ExecuteAwardOnEscrow(Effect):
    """Call the escrow's ``executeAward`` (anyone may, once its objection window closed).

    The escrow's window started with the award's submission, a little after the case's; if
    the call reverts as too early, the edge retries (Enforce may be repeated).
    """

    order_id: int
    case_id: str


@dataclass(frozen=True, kw_only=True)
class ObjectOnChain(Effect):
    """The objecting party's wallet must call ``objectToAward`` (the escrow accepts only the
    buyer or seller as sender, and the backend holds no party key)."""

    order_id: int
    case_id: str
    party: str
    decision: bool = False  # to the jury's verdict pending on the escrow (not an award)


@dataclass(frozen=True, kw_only=True)
class ResolveEscrowByTimeout(Effect):
    """The case left for litigation: once the escrow's own deadline passes, anyone calls
    ``resolveByTimeout`` and the buyer is refunded (docs/contracts.md); until then the
    parties may still settle or the seller refund."""

    order_id: int
    case_id: str


@dataclass(frozen=True, kw_only=True)
class SubmitFastTrackToEscrow(Effect):
    """The institution submits the fast track's proposal to the escrow as a pending
    decision whose objection window is ``window_seconds`` (the case's), so the escrow's
    window runs alongside the case's and the escrow executes it after."""

    order_id: int
    case_id: str
    allocation: Allocation
    report_hash: str
    window_seconds: int


@dataclass(frozen=True, kw_only=True)
class FastTrackObjectedOnChain(Effect):
    """The objecting party's wallet must object to the pending fast-track decision on the
    escrow (which returns the order to ``Disputed``); the edge waits to see it."""

    order_id: int
    case_id: str
    party: str


@dataclass(frozen=True, kw_only=True)
class ExecuteFastTrackOnEscrow(Effect):
    """The fast track's proposal binds: execute the escrow's pending decision (anyone may,
    once its window closed; a call that is too early is retried)."""

    order_id: int
    case_id: str
    allocation: Allocation


@dataclass(frozen=True, kw_only=True)
class AnchorStep(Effect):
    """Store and anchor this step: a signed command (sequence set) or a default (None).

    ``step`` is ``Command.action()`` for a command (the core's name; the edge names the
    step by the step table's action), and ``deadline_missed.<stage>`` for a default (the
    institution records it as a step of the chain).
    """

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


@dataclass(frozen=True, kw_only=True)
class ReturnShippedOnChain(Effect):
    """The buyer's wallet must record the return shipment's tracking commitment on the
    escrow (``recordReturnShipment``: the escrow takes only the buyer as sender); the edge
    waits to see it."""

    order_id: int
    case_id: str
    buyer: str
    tracking: str


@dataclass(frozen=True, kw_only=True)
class ConfirmReturnOnEscrow(Effect):
    """The goods are back (the seller's confirmation or the carrier's delivered event): the
    institution calls ``confirmReturnReceived`` and the escrow pays the refund."""

    order_id: int
    case_id: str
    allocation: Allocation


@dataclass(frozen=True, kw_only=True)
class ReturnDisputedOnChain(Effect):
    """The seller's wallet must dispute the receipt on the escrow (``disputeReturnReceipt``:
    the order is Disputed again); the edge waits to see it."""

    order_id: int
    case_id: str
    seller: str


# Every effect the core returns, declared once: the edge's interpreter must handle each
# (backend/services/effects.py checks its table against this at import).
@dataclass(frozen=True, kw_only=True)
class AppointJuryOnChain(Effect):
    """A jury was drawn (or completed by a replacement draw): the institution fixes the
    sitting jury and its options on the escrow (``appointJury``), so the verdict can only
    name these jurors (docs/jury.md §7)."""

    order_id: int
    case_id: str
    jurors: tuple[str, ...]
    options: tuple[Allocation, ...]


@dataclass(frozen=True, kw_only=True)
class SubmitVerdictToEscrow(Effect):
    """The jury decided: the edge submits its verdict (every juror's signed and revealed
    vote, the institution's signature of the tally) to the escrow."""

    order_id: int
    case_id: str


EFFECT_TYPES: tuple[type[Effect], ...] = (
    NotifyParties,
    AppointJuryOnChain,
    SubmitVerdictToEscrow,
    FreezeEscrow,
    ExecuteSettlement,
    AppointOnChain,
    AppointmentRequested,
    SubmitAwardToEscrow,
    ExecuteAwardOnEscrow,
    ObjectOnChain,
    ResolveEscrowByTimeout,
    SubmitFastTrackToEscrow,
    FastTrackObjectedOnChain,
    ExecuteFastTrackOnEscrow,
    ReturnShippedOnChain,
    ConfirmReturnOnEscrow,
    ReturnDisputedOnChain,
    AnchorStep,
    StageChanged,
    DeadlineSet,
)
