"""The on-chain check contract of test_records.py and test_merkle.py, compiled once per run."""

from __future__ import annotations

import os
from typing import Any

import pytest

from tests.evidence._evidence_onchain import deployed


@pytest.fixture(scope="session")
def evidence_check(tmp_path_factory: pytest.TempPathFactory) -> Any:
    """``deployed()``'s (contract, chain id); in a pytest-xdist worker the compile is shared
    with the run's other workers through the directory above each worker's own temporary
    one (the run's, removed with it)."""
    shared = tmp_path_factory.getbasetemp().parent if "PYTEST_XDIST_WORKER" in os.environ \
        else None
    return deployed(shared)
