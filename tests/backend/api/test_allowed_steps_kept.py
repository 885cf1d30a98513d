"""The case view's allowed steps, remembered per state, viewer and side of the deadline
(``views._allowed``), are what the procedure answers at that moment (``_allowed_now``)."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta

import pytest

from backend import procedure as p
from backend.services import views
from tests.backend.procedure import procedure_helpers as h

BUILDERS: list[Callable[[], p.CaseState]] = [
    h.file_claim, h.to_negotiation, h.to_facilitation, h.to_appointment, h.to_evidence,
    h.to_record_closed, h.to_awarded, h.to_final, h.to_panel_appointment, h.to_panel,
    h.to_awarded_by_panel, h.to_enforced, h.to_settled, h.to_litigation, h.to_confirmed,
    h.to_refused, h.to_jury_draw,
]
VIEWERS = [h.BUYER, h.SELLER, h.MEDIATOR, h.ARBITRATOR, *h.PANEL, h.ADMIN, h.COURT,
           h.STRANGER, h.CONFLICTED]


@dataclass
class _Service:
    """What ``_allowed`` reads of the case service."""

    clock: datetime
    institution_address: str = h.ADMIN
    admins: frozenset[str] = field(default_factory=lambda: frozenset({h.SPARE}))

    @property
    def config(self) -> _Service:
        return self

    def now(self) -> datetime:
        return self.clock

    def is_admin(self, address: str) -> bool:
        return address in self.admins or address == self.institution_address


def _moments(case: p.CaseState) -> list[datetime]:
    start = case.stage_entered_at or h.T0
    out = [start, start + timedelta(hours=1), start + timedelta(days=400)]
    due = p.next_deadline(case)
    if due is not None:
        out += [due - timedelta(microseconds=1), due, due + timedelta(seconds=1)]
    return out


@pytest.mark.parametrize("build", BUILDERS, ids=lambda b: b.__name__)
def test_kept_allowed_steps_are_the_procedures(build: Callable[[], p.CaseState]) -> None:
    case = build()
    views._allowed_steps.clear()
    asked = 0
    for moment in _moments(case) * 2:  # the second round answers from what was kept
        for viewer in VIEWERS:
            service = _Service(clock=moment)
            expected = views._allowed_now(service, case, viewer, moment)  # type: ignore[arg-type]
            assert views._allowed(service, case, viewer) == expected  # type: ignore[arg-type]
            asked += bool(expected)
    if build in (h.file_claim, h.to_negotiation, h.to_evidence, h.to_awarded):
        assert asked  # someone may act here: the comparison is not of empty lists only
    assert views._allowed_steps  # and the answers were kept


def test_the_admins_are_part_of_the_key() -> None:
    case = h.to_evidence()
    moment = case.stage_entered_at or h.T0
    views._allowed_steps.clear()
    plain = _Service(clock=moment, admins=frozenset())
    admin = _Service(clock=moment, admins=frozenset({h.STRANGER}))
    first = views._allowed(plain, case, h.STRANGER)  # type: ignore[arg-type]
    expected = views._allowed_now(admin, case, h.STRANGER, moment)  # type: ignore[arg-type]
    assert views._allowed(admin, case, h.STRANGER) == expected  # type: ignore[arg-type]
    assert views._allowed(plain, case, h.STRANGER) == first  # type: ignore[arg-type]


def test_a_clock_the_procedure_refuses_is_refused_as_before() -> None:
    case = h.to_negotiation()
    assert case.stage_entered_at is not None
    early = _Service(clock=case.stage_entered_at - timedelta(seconds=1))
    with pytest.raises(p.InvalidClock):
        views._allowed(early, case, h.BUYER)  # type: ignore[arg-type]
    naive = _Service(clock=(case.stage_entered_at + timedelta(hours=1)).replace(tzinfo=None))
    with pytest.raises(p.InvalidClock):
        views._allowed(naive, case, h.BUYER)  # type: ignore[arg-type]
