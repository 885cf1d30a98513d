"""Case rules: how long each stage may last, and who may see which evidence when.

Deadlines are whole days (DESIGN.md defaults: negotiation 10, facilitation 10, evidence 7,
award 10 after the record closes, objection 10); only the objection window may instead be
seconds (``objection_seconds``), to match an escrow deployed with such a window.
``appointment_days`` and ``max_reappointments`` are our additions (docs/procedure.md):
without them an institution that never appoints would stall a case, and DESIGN.md says
missed deadlines never stall.

Disclosure (docs/procedure.md §Disclosure) is a pure function of the case, the item and
the viewer, so the API's access control and the tests read the same rule.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ._errors import InvalidCommand
from ._states import CaseState, EvidenceItem, Stage

__all__ = [
    "CAUCUS_STAGES",
    "COURT_READ_STAGES",
    "DEFAULT_RULES",
    "NEGOTIATION_STAGES",
    "CaseRules",
    "can_see",
    "visible_evidence",
]

MAX_DAYS = 365


@dataclass(frozen=True, kw_only=True)
class CaseRules:
    """Configurable per case (and per institution); every value is checked when built."""

    negotiation_days: int = 10
    facilitation_days: int = 10
    evidence_days: int = 7
    award_days: int = 10  # after the record closes; also the panel's time to decide
    objection_days: int = 10
    appointment_days: int = 5  # ours: the institution's time to appoint a tribunal
    # ours: replacements of an arbitrator who missed the award. 0 by default because the
    # ArbitrationEscrow cannot replace an appointed arbitrator (docs/contracts.md); a value
    # above 0 needs an escrow that can.
    max_reappointments: int = 0
    max_evidence_items: int = 200  # ours: bounds the record (STYLE §4)
    # ours: an objection window shorter than a day, replacing objection_days. Only for an
    # escrow whose own (binding: objectToAward reverts after it) window is that short, as on
    # the embedded development chain, where the demo waits it out in real time.
    objection_seconds: int | None = None
    # the jury track (docs/jury.md): the largest order amount it may decide (0: none), the
    # jury's odd size, its stages' periods and how often non-accepting jurors are replaced
    jury_max_amount: int = 0
    jury_size: int = 7
    jury_draw_days: int = 3
    jury_accept_days: int = 2
    jury_vote_days: int = 5
    jury_reveal_days: int = 2
    max_jury_redraws: int = 2
    # the fast track (docs/jury.md "Fast track"): the largest order amount whose
    # pre-evaluation the mediator may propose as a resolution that binds unless a party
    # objects (0: none), and that objection window (never longer than the objection window)
    fast_track_max_amount: int = 0
    fast_track_days: int = 3
    # the return stage of a return-and-refund award (docs/procedure.md "Return and refund"):
    # the buyer's time to ship back and record the tracking, then the seller's to confirm or
    # dispute the receipt. Shorter than the escrow's returnShipment 15 / returnReceipt 10
    # days, whose windows open a little earlier (the escrow's timeout is the backstop).
    return_shipment_days: int = 14
    return_receipt_days: int = 9

    def __post_init__(self) -> None:
        for name in (
            "negotiation_days",
            "facilitation_days",
            "evidence_days",
            "award_days",
            "objection_days",
            "appointment_days",
            "jury_draw_days",
            "jury_accept_days",
            "jury_vote_days",
            "jury_reveal_days",
            "fast_track_days",
            "return_shipment_days",
            "return_receipt_days",
        ):
            value = getattr(self, name)
            if type(value) is not int or not 1 <= value <= MAX_DAYS:
                raise InvalidCommand(f"{name}: expected whole days 1..{MAX_DAYS}, found {value!r}")
        if type(self.max_reappointments) is not int or not 0 <= self.max_reappointments <= 5:
            raise InvalidCommand(
                f"max_reappointments: expected 0..5, found {self.max_reappointments!r}"
            )
        if self.objection_seconds is not None and (
                type(self.objection_seconds) is not int
                or not 1 <= self.objection_seconds < 86_400):
            raise InvalidCommand(f"objection_seconds: expected None or 1..86399 (under a day; "
                                 f"else objection_days), found {self.objection_seconds!r}")
        if type(self.jury_max_amount) is not int or self.jury_max_amount < 0:
            raise InvalidCommand(f"jury_max_amount: expected a non-negative integer, found "
                                 f"{self.jury_max_amount!r}")
        if type(self.fast_track_max_amount) is not int or self.fast_track_max_amount < 0:
            raise InvalidCommand(f"fast_track_max_amount: expected a non-negative integer, "
                                 f"found {self.fast_track_max_amount!r}")
        if type(self.jury_size) is not int or not 3 <= self.jury_size <= 31 \
                or self.jury_size % 2 == 0:
            raise InvalidCommand(f"jury_size: expected an odd number 3..31, found "
                                 f"{self.jury_size!r}")
        if type(self.max_jury_redraws) is not int or not 0 <= self.max_jury_redraws <= 5:
            raise InvalidCommand(
                f"max_jury_redraws: expected 0..5, found {self.max_jury_redraws!r}")
        if type(self.max_evidence_items) is not int or not 1 <= self.max_evidence_items <= 10_000:
            raise InvalidCommand(
                f"max_evidence_items: expected 1..10000, found {self.max_evidence_items!r}"
            )

    def period(self, field_name: str) -> timedelta:
        """The length of the period named by a ``*_days`` field (``objection_seconds``, when
        set, is the objection window; the fast track's window is never longer than the
        objection window, as the escrow caps it so: docs/jury.md "Fast track")."""
        if field_name == "objection_days" and self.objection_seconds is not None:
            return timedelta(seconds=self.objection_seconds)
        if field_name == "fast_track_days":
            return min(timedelta(days=self.fast_track_days), self.period("objection_days"))
        return timedelta(days=getattr(self, field_name))

    def escrow_conflicts(
        self,
        *,
        appointment: timedelta,
        award: timedelta,
        objection: timedelta,
        panel_appointment: timedelta,
        panel_award: timedelta,
        return_shipment: timedelta | None = None,
        return_receipt: timedelta | None = None,
    ) -> tuple[str, ...]:
        """Where these rules would let the escrow's timeouts (docs/contracts.md) overtake the
        case; empty when the case always moves first. The service checks this at startup
        with the deployed escrow's ``timeouts()``, so a refund by timeout can never pre-empt
        a decision the rules still allow.
        """
        problems = []
        before_appointment = self.period("negotiation_days") + self.period(
            "facilitation_days") + self.period("appointment_days")
        if before_appointment >= appointment:
            problems.append(f"negotiation + facilitation + appointment = {before_appointment}; "
                            f"the escrow's appointment timeout is {appointment}")
        tries = 1 + self.max_reappointments
        to_award = self.period("evidence_days") + tries * self.period("award_days") + (
            self.max_reappointments * self.period("appointment_days"))
        if to_award >= award:
            problems.append(f"evidence + award (with reappointments) = {to_award}; "
                            f"the escrow's award timeout is {award}")
        if self.period("objection_days") > objection:
            problems.append(f"objection window {self.period('objection_days')} is longer than "
                            f"the escrow's {objection}")
        if self.period("appointment_days") >= panel_appointment:
            problems.append(f"panel appointment {self.period('appointment_days')}; the escrow's "
                            f"timeout is {panel_appointment}")
        if self.period("award_days") >= panel_award:
            problems.append(f"panel award {self.period('award_days')}; the escrow's timeout is "
                            f"{panel_award}")
        for name, escrow_window in (("return_shipment_days", return_shipment),
                                    ("return_receipt_days", return_receipt)):
            if escrow_window is not None and self.period(name) >= escrow_window:
                problems.append(f"{name.removesuffix('_days').replace('_', ' ')} window "
                                f"{self.period(name)}; the escrow's is {escrow_window}")
        if self.jury_max_amount > 0:
            # the jury track on the escrow (docs/jury.md §7): the first draw is fixed on it
            # (appointJury) under the appointment timeout; the jury then sits under the award
            # timeout (replacement draws, the vote, the reveals, the tally); its verdict's
            # window is the objection window checked above
            to_draw = before_appointment - self.period("appointment_days") + \
                self.period("jury_draw_days")
            if to_draw >= appointment:
                problems.append(f"the jury track (negotiation + facilitation + the draw) = "
                                f"{to_draw}; the escrow's appointment timeout is {appointment}")
            sitting = (1 + self.max_jury_redraws) * self.period("jury_accept_days") + \
                self.max_jury_redraws * self.period("jury_draw_days") + \
                self.period("jury_vote_days") + self.period("jury_reveal_days") + \
                self.period("appointment_days")
            if sitting >= award:
                problems.append(f"the jury track (acceptances and redraws, vote, reveals, "
                                f"tally) = {sitting}; the escrow's award timeout is {award}")
        return tuple(problems)


DEFAULT_RULES = CaseRules()

# Evidence submitted in these stages is the parties' open exchange: the other party sees it.
NEGOTIATION_STAGES: frozenset[Stage] = frozenset({Stage.FILED, Stage.NEGOTIATION})
# Evidence submitted in facilitation is for the mediator only (private caucus); it is never
# relied on in arbitration (cf. UNCITRAL Model Law on International Commercial Mediation,
# art. 10-11), so neither the other party, the tribunal nor the court sees it.
CAUCUS_STAGES: frozenset[Stage] = frozenset({Stage.FACILITATION})
# A court reads the record once the procedure has an end: a result to confirm (and after
# its decision), or a case closed for litigation, whose court hears the dispute itself.
COURT_READ_STAGES: frozenset[Stage] = frozenset(
    {Stage.SETTLED, Stage.ENFORCED, Stage.JUDICIALLY_CONFIRMED, Stage.CONFIRMATION_REFUSED,
     Stage.CLOSED_FOR_LITIGATION}
)


def can_see(case: CaseState, item: EvidenceItem, viewer: str) -> bool:
    """Whether ``viewer`` may read the content of ``item`` now.

    Rules, in order:
    1. The submitter always sees its own item.
    2. Caucus items (submitted in facilitation): the case's mediator, nobody else.
    3. Other items (negotiation or arbitration): the other party at once — in arbitration
       every document given to the tribunal is communicated to the other party (UNCITRAL
       Model Law on International Commercial Arbitration, art. 24(3)); the mediator if
       the item was submitted before arbitration; the sitting arbitrator and panel (a
       replaced arbitrator loses access); a court of the case once it may read.
    4. The institution's admins see metadata only, never content; everyone else nothing.
    """
    if viewer == item.submitted_by:
        return True
    if item.stage in CAUCUS_STAGES:
        return viewer == case.mediator
    if viewer in case.parties:
        return True
    if viewer == case.mediator:
        return item.stage in NEGOTIATION_STAGES
    if viewer == case.arbitrator or viewer in case.panel:
        return True
    return viewer in case.courts and case.stage in COURT_READ_STAGES


def visible_evidence(case: CaseState, viewer: str) -> tuple[EvidenceItem, ...]:
    """The case's evidence items whose content ``viewer`` may read, in submission order."""
    return tuple(item for item in case.evidence if can_see(case, item, viewer))
