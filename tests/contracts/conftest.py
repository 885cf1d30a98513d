"""Fixtures for the contract tests: one deployment per chain, rolled back after each test.

``env`` is parametrised over the in-process EVM (``tester``) and anvil (``anvil``): each
test body runs on both. The deployment (escrow with short timeouts, anchor, test tokens,
funded accounts, approvals) is made once per chain per session; every test starts from a
snapshot taken right after it and its changes are reverted afterwards.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from backend.chain.devchain import AnvilNode, in_process_web3, revert_to, snapshot
from tests.contracts.helpers import Env, deploy_env


@pytest.fixture(scope="session")
def _tester_env() -> Env:
    return deploy_env("tester", in_process_web3())


@pytest.fixture(scope="session")
def _anvil_env(anvil_node: AnvilNode) -> Env:
    return deploy_env("anvil", anvil_node.web3())


@pytest.fixture(params=["tester", pytest.param("anvil", marks=pytest.mark.anvil)])
def env(request: pytest.FixtureRequest) -> Iterator[Env]:
    deployed: Env = request.getfixturevalue(f"_{request.param}_env")
    snap = snapshot(deployed.w3)
    try:
        yield deployed
    finally:
        revert_to(deployed.w3, snap)
