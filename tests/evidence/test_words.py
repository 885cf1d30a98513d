"""The case vocabulary (evidence/words.py) names every value the procedure can produce, in
both languages, and every step of the table has its timeline label."""

from __future__ import annotations

import re

import pytest

from backend.procedure import DisputeType, Remedy, Stage
from evidence.judicial.inputs import ROLES as PACKAGE_ROLES
from evidence.steps import STEPS, StepSpec
from evidence.words import DISPUTE_TYPES, REMEDIES, ROLES, STAGES, timeline_label

CJK = re.compile(r"[\u4e00-\u9fff]")


@pytest.mark.parametrize(("table", "values"), [
    (STAGES, {s.value for s in Stage}),
    (DISPUTE_TYPES, {d.value for d in DisputeType}),
    (REMEDIES, {r.value for r in Remedy}),
    (ROLES, set(PACKAGE_ROLES) | {"party", "admin"}),  # + the seats the service adds
], ids=["stages", "dispute types", "remedies", "roles"])
def test_every_value_of_the_procedure_has_words_in_both_languages(
        table: dict[str, tuple[str, str]], values: set[str]) -> None:
    assert set(table) == values
    for key, (en, zh) in table.items():
        assert en and "_" not in en, key
        assert CJK.search(zh), (key, zh)


@pytest.mark.parametrize("spec", STEPS, ids=lambda s: s.action)
def test_every_step_has_a_past_tense_label_in_both_languages(spec: StepSpec) -> None:
    en, zh = timeline_label(spec.record, spec.action,
                            confirmed=spec.confirmed)
    assert (en, zh) == (spec.done_en, spec.done_zh)
    assert en != spec.en and CJK.search(zh)


def test_court_decisions_escrow_records_and_defaults_are_labelled() -> None:
    assert timeline_label("CourtConfirmation", "court.decided", confirmed=True)[1] == "法院确认裁决"
    assert "不予确认" in timeline_label("CourtConfirmation", "court.decided", confirmed=False)[1]
    assert CJK.search(timeline_label("Award", "award.signed")[1])
    assert CJK.search(timeline_label("Settlement", "settlement.signed")[1])
    en, zh = timeline_label("ProceduralStep", "deadline_missed.awarded")
    assert "awarded (objection window)" in en and "已裁决（异议期）" in zh
    # A value from a newer version is shown as it is, never hidden.
    assert timeline_label("ProceduralStep", "some.new_step") == ("some.new_step", "some.new_step")


def test_every_escrow_status_has_words_in_both_languages() -> None:
    from backend.services.escrow import STATUSES
    from evidence.words import ORDER_STATUSES

    assert set(ORDER_STATUSES) == set(STATUSES)
    assert all(en and zh and en != zh for en, zh in ORDER_STATUSES.values())


def test_every_seat_a_viewer_can_hold_has_words() -> None:
    """The case page names the viewer's seats: the procedure's roles and the ones the service
    adds for access (a party before filing, institution staff). None may fall back to its key."""
    from backend.procedure import Role
    from evidence.words import ROLES

    seats = {r.value for r in Role} | {"party", "admin"}
    assert seats <= set(ROLES), seats - set(ROLES)
    for en, zh in ROLES.values():
        assert en and zh and en != zh


def test_every_assessor_status_and_standing_figure_has_words() -> None:
    """The pool's statuses and the standing's figures, as the assessor and the institution
    read them (docs/jury.md §1 and §5), in both languages."""
    from backend.jury import AssessorStatus, Standing
    from evidence.words import ASSESSOR_STATUSES, STANDING_FIELDS

    assert set(ASSESSOR_STATUSES) == {s.value for s in AssessorStatus}
    figures = set(Standing.__dataclass_fields__) - {"reasons"}
    assert set(STANDING_FIELDS) == figures
    for en, zh in (*ASSESSOR_STATUSES.values(), *STANDING_FIELDS.values()):
        assert en and zh and en != zh
