"""The on-chain check contract of test_records.py and test_merkle.py, deployed once per process."""

from __future__ import annotations

from typing import Any

import pytest

from tests.evidence._evidence_onchain import deployed


@pytest.fixture(scope="session")
def evidence_check() -> Any:
    """``deployed()``'s (contract, chain id), from the committed artifact (no compile)."""
    return deployed()
