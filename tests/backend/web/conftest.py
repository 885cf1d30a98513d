"""One live service with one case for every page test in this folder."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.backend.web.web_world import WebWorld, web_world


@pytest.fixture(scope="module")
def world(tmp_path_factory: pytest.TempPathFactory) -> Iterator[WebWorld]:
    with web_world(tmp_path_factory.mktemp("web")) as w:
        yield w
