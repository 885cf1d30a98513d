"""The live service the portal's page tests share (one per module)."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.backend.web.web_world import WebWorld, web_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    with web_world(tmp_path_factory.mktemp("portal")) as w:
        yield w
