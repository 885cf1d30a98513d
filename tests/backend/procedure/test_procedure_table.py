"""Every entry of the transition tables is exercised, and every missing entry is refused."""

from __future__ import annotations

import pytest
from procedure_helpers import (
    ACTOR_OF_ROLE,
    STAGE_BUILDERS,
    command,
    now_of,
    prepare,
    to_facilitation,
)

from backend import procedure as p
from backend.procedure._machine import ROLE_ORDER

ENTRIES = [
    (role, stage, cls, target)
    for role, stages in p.COMMAND_TRANSITIONS.items()
    for stage, row in stages.items()
    for cls, target in row.items()
]
CASES = {stage: build() for stage, build in STAGE_BUILDERS.items()}


def test_every_stage_has_a_builder() -> None:
    assert set(CASES) == set(p.Stage)
    for stage, case in CASES.items():
        assert case.stage is stage


@pytest.mark.parametrize(
    ("role", "stage", "cls", "target"),
    ENTRIES,
    ids=[f"{r}-{s}-{c.__name__}" for r, s, c, _ in ENTRIES],
)
def test_every_command_transition(role, stage, cls, target) -> None:
    actor = ACTOR_OF_ROLE[role]
    base = CASES[stage]
    if cls is p.AgreeToArbitrate and actor in base.arbitration_agreed_by:
        base = to_facilitation(agreed=False)
    if cls is p.AppointMediator:
        base = to_facilitation(mediator=False)
    case = prepare(base, cls, actor)
    assert case.stage is stage
    before_seq = case.next_sequence
    new, effects = p.apply(case, command(case, cls, actor), now_of(case))
    allowed = {target.if_true, target.if_false} if isinstance(target, p.Choice) else {target}
    assert new.stage in allowed
    assert new.next_sequence == before_seq + 1
    anchors = [e for e in effects if isinstance(e, p.AnchorStep)]
    assert anchors == [p.AnchorStep(case_id=case.case_id, step=cls.action(),
                                    sequence=before_seq, at=now_of(case))]
    changed = [e for e in effects if isinstance(e, p.StageChanged)]
    if new.stage is stage:
        assert changed == []
    else:
        assert changed == [p.StageChanged(case_id=case.case_id, stage_from=stage,
                                          stage_to=new.stage, at=now_of(case),
                                          by_default=False)]


def _refusals():
    for stage in p.Stage:
        for cls in p.COMMAND_TYPES:
            for role in ROLE_ORDER:
                if cls in p.COMMAND_TRANSITIONS.get(role, {}).get(stage, {}):
                    continue
                yield stage, cls, role


REFUSALS = list(_refusals())


def _expected_error(case: p.CaseState, cls, actor: str) -> type[p.ProcedureError]:
    if case.stage in p.TERMINAL_STAGES:
        return p.CaseClosed
    roles = case.roles_of(actor)
    may_ever = [r for r in roles if any(cls in row for row in p.COMMAND_TRANSITIONS.get(r, {})
                                        .values())]
    if not may_ever:
        return p.WrongActor
    if any(cls in p.COMMAND_TRANSITIONS.get(r, {}).get(case.stage, {}) for r in roles):
        return type(None)  # another role of the actor admits it (e.g. ANYONE)
    return p.WrongStage


@pytest.mark.parametrize(("stage", "cls", "role"), REFUSALS,
                         ids=[f"{s}-{c.__name__}-{r}" for s, c, r in REFUSALS])
def test_every_missing_entry_is_refused_and_changes_nothing(stage, cls, role) -> None:
    case = CASES[stage]
    actor = ACTOR_OF_ROLE[role]
    expected = _expected_error(case, cls, actor)
    if expected is type(None):
        return  # admitted through another role; covered by test_every_command_transition
    cmd = command(case, cls, actor)
    snapshot = case
    with pytest.raises(expected) as info:
        p.apply(case, cmd, now_of(case))
    assert info.value.code == expected.code
    assert case == snapshot and case is CASES[stage]


@pytest.mark.parametrize("stage", sorted(p.TERMINAL_STAGES))
def test_terminal_stages_have_no_exits(stage) -> None:
    assert all(stage not in stages for stages in p.COMMAND_TRANSITIONS.values())
    assert stage not in p.DEADLINE_TRANSITIONS
    case = CASES[stage]
    assert p.next_deadline(case) is None
    later = now_of(case) + 10_000 * (p.DEFAULT_RULES.period("award_days"))
    assert p.advance(case, later) == (case, [])


def _targets(target) -> set[p.Stage]:
    return {target.if_true, target.if_false} if isinstance(target, p.Choice) else {target}


def test_every_stage_is_reachable_in_the_tables() -> None:
    """Breadth-first over both tables from NOT_FILED reaches every stage."""
    edges: dict[p.Stage, set[p.Stage]] = {}
    for _role, _stage, _cls, target in ENTRIES:
        edges.setdefault(_stage, set()).update(_targets(target))
    for stage, target in p.DEADLINE_TRANSITIONS.items():
        edges.setdefault(stage, set()).update(_targets(target))
    seen, todo = {p.Stage.NOT_FILED}, [p.Stage.NOT_FILED]
    while todo:
        for nxt in edges.get(todo.pop(), ()):
            if nxt not in seen:
                seen.add(nxt)
                todo.append(nxt)
    assert seen == set(p.Stage)


def test_non_terminal_stages_all_have_an_exit() -> None:
    for stage in set(p.Stage) - p.TERMINAL_STAGES:
        exits = {t for stages in p.COMMAND_TRANSITIONS.values()
                 for row in [stages.get(stage, {})] for t in row.values()}
        exits |= {p.DEADLINE_TRANSITIONS[stage]} if stage in p.DEADLINE_TRANSITIONS else set()
        assert any(s != stage for t in exits for s in _targets(t)), stage


def test_stages_with_deadlines_have_deadline_transitions() -> None:
    assert set(p.STAGE_CLOCKS) == set(p.DEADLINE_TRANSITIONS)


def test_guards_named_in_tables_exist() -> None:
    named = {t.guard for *_, t in ENTRIES if isinstance(t, p.Choice)}
    named |= {t.guard for t in p.DEADLINE_TRANSITIONS.values() if isinstance(t, p.Choice)}
    assert named == set(p.GUARDS)


def test_claimant_and_respondent_share_one_rule_set() -> None:
    """Rule 2: outside filing and the answer, both parties have identical rows."""
    claimant = p.COMMAND_TRANSITIONS[p.Role.CLAIMANT]
    respondent = p.COMMAND_TRANSITIONS[p.Role.RESPONDENT]
    for stage in (p.Stage.NEGOTIATION, p.Stage.FACILITATION, p.Stage.ARBITRATOR_APPOINTMENT,
                  p.Stage.RECORD_CLOSED, p.Stage.AWARDED):
        assert claimant[stage] == respondent[stage]
    extra = set(respondent[p.Stage.EVIDENCE]) - set(claimant[p.Stage.EVIDENCE])
    assert extra == {p.SubmitAnswer}


@pytest.mark.parametrize("stage", list(p.Stage))
def test_allowed_commands_agree_with_apply(stage) -> None:
    """allowed_commands() lists exactly the commands that pass the table-level checks."""
    case = CASES[stage]
    now = now_of(case)
    table_errors = (p.CaseClosed, p.WrongActor, p.WrongStage, p.DeadlinePassed)
    for actor in {*ACTOR_OF_ROLE.values()}:
        allowed = set(p.allowed_commands(case, actor, now))
        for cls in p.COMMAND_TYPES:
            try:
                p.apply(case, command(case, cls, actor), now)
                refused_by_table = False
            except table_errors:
                refused_by_table = True
            except p.InvalidCommand:
                refused_by_table = False
            assert (cls in allowed) == (not refused_by_table), (stage, actor, cls)
    if case.deadline is not None:
        assert p.allowed_commands(case, ACTOR_OF_ROLE[p.Role.CLAIMANT], case.deadline) == ()
