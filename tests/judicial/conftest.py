"""Fixtures for the judicial package tests: a local TSA and one real, built case."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from tests.judicial.judicial_world import Case, make_case
from tests.support.tsa import LocalTSA, start_tsa


@pytest.fixture(scope="session")
def local_tsa(tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalTSA]:
    with start_tsa(tmp_path_factory.mktemp("judicial-tsa")) as tsa:
        yield tsa


@pytest.fixture(scope="session")
def case(tmp_path_factory: pytest.TempPathFactory, local_tsa: LocalTSA) -> Case:
    return make_case(tmp_path_factory.mktemp("case"), local_tsa)
