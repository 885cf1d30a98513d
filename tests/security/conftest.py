"""Fixtures of the security suite: the API test helpers on the path, and the two-case world.

``twin`` is built once per module (the attacks only read, or are refused and so change
nothing; tests that change a case build their own ``fresh_twin``). Every world runs the
project's real app on a real SQLite file. ``api_schema``: schemathesis's view of that
app's OpenAPI document (tests/security/schemathesis_run.py).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.security._world import Twin, make_twin


@pytest.fixture(scope="module")
def twin(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Twin]:
    t = make_twin(tmp_path_factory.mktemp("twin"))
    try:
        yield t
    finally:
        t.world.client.__exit__(None, None, None)


@pytest.fixture(scope="module")
def api_schema(twin: Twin) -> Any:
    import schemathesis  # only the schemathesis modules pay for its import

    return schemathesis.openapi.from_asgi("/openapi.json", twin.world.app)


@pytest.fixture
def fresh_twin(tmp_path: Path) -> Iterator[Callable[[], Twin]]:
    made: list[Twin] = []

    def make() -> Twin:
        t = make_twin(tmp_path / f"t{len(made)}")
        made.append(t)
        return t

    yield make
    for t in made:
        t.world.client.__exit__(None, None, None)
