"""One whole case through the portal (tests/portal/whole_case.py) with the built-in wallet,
the buyer, the mediator and the arbitrator in English, the seller, the case officer and the
court in Chinese. The other language order: test_portal_case_zh.py; an extension wallet:
test_portal_case_extension.py."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from tests.portal.chain_world import ChainWorld
from tests.portal.whole_case import builtin_case

pytestmark = pytest.mark.node


def test_whole_case_with_the_built_in_wallet(
        cw: ChainWorld, keys: dict[str, LocalAccount], tmp_path: Path) -> None:
    builtin_case(cw, keys, tmp_path, "en-zh")
