"""The step table (evidence/steps.py) is the one declaration: the docs table is drawn from it,
it agrees with the procedure's transition table, and the service's tables are its images."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from backend import procedure as p
from backend.api.routes.cases import STEP_ENDPOINTS as ROUTES
from backend.services import prepare, steps
from evidence.judicial.verify import allowed_roles
from evidence.steps import STEPS

ROOT = Path(__file__).resolve().parents[3]


def test_docs_table_is_generated_from_the_current_step_table() -> None:
    result = subprocess.run([sys.executable, str(ROOT / "scripts" / "steps_table.py"),
                             "--check"], capture_output=True, text=True, cwd=ROOT)
    assert result.returncode == 0, result.stderr


def test_who_may_sign_is_what_the_procedure_admits() -> None:
    """A row's signers are exactly the roles the core's table lets issue its command."""
    for spec in STEPS:
        if spec.command is None:
            assert spec.endpoint is None, spec.action  # a service record, no client step
            continue
        cls = p.COMMANDS_BY_NAME[spec.command]
        roles = {role.value for role, stages in p.COMMAND_TRANSITIONS.items()
                 if any(cls in row for row in stages.values())}
        assert roles == spec.signers, spec.action


def test_every_command_is_one_step() -> None:
    commands = [s.command for s in STEPS if s.command is not None]
    assert sorted(commands) == sorted(c.__name__ for c in p.COMMAND_TYPES)


def test_the_service_tables_are_images_of_the_step_table() -> None:
    client_steps = {s.action for s in STEPS if s.endpoint is not None}
    assert set(steps.STEP_ENDPOINTS) == set(steps.COMMAND_OF_STEP) == client_steps
    assert set(prepare.PREPARE_FIELDS) == client_steps
    routed = {path for path, _accepted, _summary in ROUTES}
    assert routed == {s.endpoint for s in STEPS if s.endpoint is not None}
    institution = {s.action for s in STEPS if s.institution and s.command is not None}
    assert institution == steps.INSTITUTION_ACTIONS
    for spec in STEPS:  # the court's verifier reads the same signers
        assert allowed_roles(spec.record, spec.action) is not None
        if spec.record == "ProceduralStep":
            assert allowed_roles(spec.record, spec.action) == spec.signers
    assert allowed_roles("ProceduralStep", "deadline_missed.filed") is None
