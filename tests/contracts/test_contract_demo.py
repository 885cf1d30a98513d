"""`chainarb demo`'s contract loop: exact balances before and after, nothing created or lost."""

from __future__ import annotations

import io

from rich.console import Console

from backend.chain import Resolution
from backend.contract_demo import run_contract_demo

UNIT = 10**6


def test_contract_demo_moves_exactly_the_awarded_amounts() -> None:
    buffer = io.StringIO()
    result = run_contract_demo(Console(file=buffer, width=120, color_system=None))
    assert result.resolution == Resolution.AWARD_EXECUTED
    assert result.before == {
        "buyer": 1_000 * UNIT,
        "seller": 300 * UNIT,
        "seller's guarantee": 200 * UNIT,
        "escrow contract": 200 * UNIT,
    }
    assert result.after == {
        "buyer": 880 * UNIT,
        "seller": 450 * UNIT,
        "seller's guarantee": 170 * UNIT,
        "escrow contract": 170 * UNIT,
    }
    text = buffer.getvalue()
    assert "880.000000 tUSD" in text and "−120.000000 tUSD" in text
    assert "RESOLVED, AWARD_EXECUTED" in text
