"""Jurors' standing: participation and agreement with the final outcome (pure; issue 14 item 7).

Rule 1: standing is computed from the cases alone (their procedure states), never stored,
so the assessor, the institution and the draw's eligibility read the same figures.

Rule 2: only finished seats count. A seat is finished when the jury's tally is recorded
(or applied by default) or when the juror left without accepting (replaced); a juror who
was drawn in a case still voting is neither praised nor blamed yet. Agreement counts the
revealed votes of cases whose outcome is final (the verdict stood, or the sole arbitrator's
award after an objection or a split jury, or a settlement): a vote agrees when its option's
allocation is the outcome's.

Rule 3 (the published standing rule, ``StandingRule``): after ``min_seats`` finished seats,
an assessor who revealed a vote in fewer than ``min_participation`` percent of them is not
eligible; after ``min_decided`` decided votes, one who agreed with the final outcome in
fewer than ``min_agreement`` percent is not eligible. Agreement is a weak signal (a lone
dissent may be right), so its bar is low; missing votes is the stronger one.
"""

from __future__ import annotations

import hashlib
from collections.abc import Iterable
from dataclasses import dataclass

from backend import procedure as p
from evidence.records import canonical_json

__all__ = ["DEFAULT_STANDING_RULE", "Seat", "Standing", "StandingRule", "seats_of",
           "standing"]

# Stages where a case's outcome no longer changes by the procedure's ordinary path.
_FINAL_STAGES = frozenset({
    p.Stage.JURY_FINAL, p.Stage.FINAL, p.Stage.ENFORCED, p.Stage.AWARDED_BY_PANEL,
    p.Stage.SETTLED, p.Stage.JUDICIALLY_CONFIRMED, p.Stage.CONFIRMATION_REFUSED})


@dataclass(frozen=True, kw_only=True)
class StandingRule:
    """The published standing rule (its hash is shown with every standing)."""

    min_seats: int = 3
    min_participation: int = 50  # percent of finished seats with a revealed vote
    min_decided: int = 5
    min_agreement: int = 30  # percent of decided votes agreeing with the final outcome

    def hash(self) -> str:
        return "0x" + hashlib.sha256(canonical_json({
            "minSeats": self.min_seats, "minParticipation": self.min_participation,
            "minDecided": self.min_decided, "minAgreement": self.min_agreement,
        })).hexdigest()


DEFAULT_STANDING_RULE = StandingRule()


@dataclass(frozen=True, kw_only=True)
class Seat:
    """One assessor's seat in one case."""

    case_id: str
    accepted: bool
    finished: bool  # tallied, or left without accepting
    revealed: bool
    agreed: bool | None  # None: no revealed vote, or the outcome is not final yet


@dataclass(frozen=True, kw_only=True)
class Standing:
    drawn: int
    accepted: int
    finished: int
    revealed: int
    decided: int
    agreed: int
    participation: int | None  # percent of finished seats with a revealed vote
    agreement: int | None  # percent of decided votes agreeing with the outcome
    eligible: bool
    reasons: tuple[str, ...]  # why not eligible (empty: eligible)

    def to_json_obj(self) -> dict[str, object]:
        return {"drawn": self.drawn, "accepted": self.accepted, "finished": self.finished,
                "revealed": self.revealed, "decided": self.decided, "agreed": self.agreed,
                "participation": self.participation, "agreement": self.agreement,
                "eligible": self.eligible, "reasons": list(self.reasons)}


def _outcome(case: p.CaseState) -> p.Allocation | None:
    if case.stage not in _FINAL_STAGES:
        return None
    if case.stage is p.Stage.SETTLED:
        return case.settlement
    final = case.final_award
    return final.allocation if final is not None else None


def seats_of(assessor: str, cases: Iterable[p.CaseState]) -> list[Seat]:
    """Every seat ``assessor`` held (drawn, replaced or sitting) in ``cases``."""
    out = []
    for case in cases:
        j = case.jury
        if assessor in j.former_jurors:
            out.append(Seat(case_id=case.case_id, accepted=False, finished=True,
                            revealed=False, agreed=None))
            continue
        if assessor not in j.jurors:
            continue
        vote = j.vote_of(assessor)
        revealed = vote is not None and vote.choice is not None
        agreed = None
        outcome = _outcome(case)
        if revealed and outcome is not None and vote is not None and vote.choice is not None:
            agreed = j.options[vote.choice] == outcome
        out.append(Seat(case_id=case.case_id, accepted=assessor in j.accepted,
                        finished=j.tallied, revealed=revealed, agreed=agreed))
    return out


def _pct(part: int, whole: int) -> int | None:
    return None if whole == 0 else (100 * part) // whole


def standing(seats: Iterable[Seat], rule: StandingRule = DEFAULT_STANDING_RULE) -> Standing:
    """The figures of ``seats`` and whether the rule lets the assessor be drawn."""
    seats = list(seats)
    finished = [s for s in seats if s.finished]
    revealed = sum(1 for s in finished if s.revealed)
    decided = [s for s in seats if s.agreed is not None]
    agreed = sum(1 for s in decided if s.agreed)
    participation, agreement = _pct(revealed, len(finished)), _pct(agreed, len(decided))
    reasons = []
    if len(finished) >= rule.min_seats and participation is not None \
            and participation < rule.min_participation:
        reasons.append(f"voted in {participation}% of {len(finished)} finished seats "
                       f"(the rule asks {rule.min_participation}%)")
    if len(decided) >= rule.min_decided and agreement is not None \
            and agreement < rule.min_agreement:
        reasons.append(f"agreed with the final outcome in {agreement}% of {len(decided)} "
                       f"decided votes (the rule asks {rule.min_agreement}%)")
    return Standing(drawn=len(seats), accepted=sum(1 for s in seats if s.accepted),
                    finished=len(finished), revealed=revealed, decided=len(decided),
                    agreed=agreed, participation=participation, agreement=agreement,
                    eligible=not reasons, reasons=tuple(reasons))
