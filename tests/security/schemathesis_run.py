"""Schemathesis over every operation of /openapi.json, in process: what the two test modules
share (``test_schemathesis.py`` as a party, ``test_schemathesis_admin.py`` as an admin; two
modules so the slow set's pytest-xdist processes run the roles side by side).

The app is the project's real one on SQLite (``_world.Twin``: two real cases, a fresh
pair per module, so neither role's requests change what the other's meet). Each
operation gets ``MAX_EXAMPLES`` generated requests per role, derandomized (the same
requests on every run, so CI is reproducible), with the session of a party of case A or
of the institution admin; a path's ``case_id`` is case A's real id for about half the
requests (so generation reaches the case's routes, not only 404s) and ``item_id`` case
A's evidence item likewise. Each response must not be a server error and must conform to
the schema: a documented status, a documented content type, a body that matches the
declared model (every refusal the ``{"code", "detail"}`` ``ErrorBody``) and the declared
headers. ``POST /auth/sign-out`` runs with a session of its own (it ends the session it
is given). Bounded to about two minutes on two cores (``MAX_EXAMPLES``, measured: 94 s
for both roles at load 1.5; several times that while other suites share the machine).
"""

from __future__ import annotations

import zlib
from typing import Any

from hypothesis import HealthCheck, Phase, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (
    content_type_conformance,
    not_a_server_error,
    response_headers_conformance,
    response_schema_conformance,
    status_code_conformance,
)

from tests.security._world import Twin

MAX_EXAMPLES = 80
NEGATIVE_EXAMPLES = 40
CHECKS = (not_a_server_error, status_code_conformance, content_type_conformance,
          response_schema_conformance, response_headers_conformance)
ROLES = {"party": "buyer", "admin": "admin"}


def _pick(case: Any, salt: str) -> bool:
    """A stable half of the generated requests (crc32, not hash(): hash is salted)."""
    seed = repr((case.path_parameters, case.query, case.body)).encode()
    return zlib.crc32(seed + salt.encode()) % 2 == 0


def _run(case: Any, role: str, twin: Twin) -> None:
    w = twin.world
    actor = w.actors[ROLES[role]]
    params = case.path_parameters or {}
    if "case_id" in params and _pick(case, "case"):
        params["case_id"] = twin.a
    if "item_id" in params and _pick(case, "item"):
        params["item_id"] = twin.item_a
    if case.operation.path == "/auth/sign-out":
        token = actor.sign_in()
        actor.token = None
    else:
        token = actor.headers["Authorization"].removeprefix("Bearer ")
    headers = dict(case.headers or {})
    headers.pop("authorization", None)
    headers["Authorization"] = f"Bearer {token}"
    response = case.call(headers=headers)
    case.validate_response(response, checks=CHECKS)


def _settings(examples: int) -> settings:
    return settings(max_examples=examples, derandomize=True, deadline=None, database=None,
                    suppress_health_check=list(HealthCheck),
                    phases=[Phase.explicit, Phase.generate], print_blob=False)


MODES = ((GenerationMode.POSITIVE, MAX_EXAMPLES), (GenerationMode.NEGATIVE, NEGATIVE_EXAMPLES))


def _negatable(op: Any) -> bool:
    """Whether the schema lets a request be invalid here: a body, a query parameter or a
    typed path parameter (a string path id and our own session header cannot be)."""
    if list(op.body) or list(op.query):
        return True
    for param in op.path_parameters:
        schema_ = (getattr(param, "definition", None) or {}).get("schema") or {}
        if schema_.get("type") not in (None, "string"):
            return True
    return False


def exercise(api_schema: Any, twin: Twin, role: str) -> None:
    """Every operation in turn, with valid and then invalid requests; all failures are
    collected and reported together."""
    failures: list[str] = []
    ran = 0
    for result in api_schema.get_all_operations():
        op = result.ok()
        for mode, examples in MODES:
            if mode is GenerationMode.NEGATIVE and not _negatable(op):
                continue

            @given(case=op.as_strategy(generation_mode=mode))
            @_settings(examples)
            def run(case: Any) -> None:
                _run(case, role, twin)

            try:
                run()
            except Unsatisfiable:
                # no request the schema calls invalid exists here (only string path ids
                # and the session header, which is always ours): nothing to send
                assert mode is GenerationMode.NEGATIVE, op.label
            except (Exception, BaseExceptionGroup) as exc:  # reported with the others
                failures.append(f"{op.label} ({mode.value}): {type(exc).__name__}: "
                                f"{str(exc)[:1500]}")
        ran += 1
    assert ran >= 50, ran
    assert not failures, f"{len(failures)} operation(s) failed:\n\n" + "\n\n".join(failures)

