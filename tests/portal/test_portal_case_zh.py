"""The whole case with the built-in wallet in the other language order: the buyer, the
mediator and the arbitrator in Chinese, the seller, the case officer and the court in English
(tests/portal/whole_case.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from tests.portal.chain_world import ChainWorld
from tests.portal.whole_case import builtin_case

pytestmark = pytest.mark.node


def test_whole_case_with_the_built_in_wallet_in_the_other_languages(
        cw: ChainWorld, keys: dict[str, LocalAccount], tmp_path: Path) -> None:
    builtin_case(cw, keys, tmp_path, "zh-en")
