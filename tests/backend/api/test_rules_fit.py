"""The service never promises a longer objection window than the deployed escrow's."""

from __future__ import annotations

from datetime import timedelta

from backend.api.app import _fit_objection
from backend.procedure import CaseRules

DAY = 86_400


def test_rules_that_fit_are_kept() -> None:
    rules = CaseRules(objection_days=10)
    assert _fit_objection(rules, 10 * DAY) is rules
    assert _fit_objection(rules, 30 * DAY) is rules


def test_a_development_escrow_gives_a_window_in_seconds() -> None:
    fitted = _fit_objection(CaseRules(), 5)
    assert fitted.objection_seconds == 5 and fitted.period("objection_days") == timedelta(
        seconds=5)
    assert fitted.escrow_conflicts(appointment=timedelta(days=30), award=timedelta(days=30),
                                   objection=timedelta(seconds=5),
                                   panel_appointment=timedelta(days=10),
                                   panel_award=timedelta(days=30)) == ()


def test_an_escrow_of_whole_days_shortens_the_days() -> None:
    fitted = _fit_objection(CaseRules(objection_days=10), 7 * DAY + 3600)
    assert fitted.objection_days == 7 and fitted.objection_seconds is None
