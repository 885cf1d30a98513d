"""The whole case with an injected EIP-1193 wallet (an extension) for everyone
(tests/portal/whole_case.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from tests.portal.chain_world import ChainWorld
from tests.portal.whole_case import extension_case

pytestmark = pytest.mark.node


def test_whole_case_with_an_extension_wallet(
        cw: ChainWorld, keys: dict[str, LocalAccount], tmp_path: Path) -> None:
    extension_case(cw, keys, tmp_path)
