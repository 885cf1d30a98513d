"""evidence.clocks: the three rules at their bounds, on plain values."""

from __future__ import annotations

from datetime import UTC, datetime

from evidence.clocks import (
    SIGNER_SKEW,
    TSA_EARLY,
    TSA_LATE,
    Anchoring,
    Block,
    SignedTime,
    Tolerance,
    blocks_never_go_back,
    signed_before_anchored,
    stamped_near_anchor,
)

T = 1_800_000_000
R1, R2 = b"\x01" * 32, b"\x02" * 32


def block(number: int, time: int, chain: int = 1, h: bytes = b"") -> Block:
    return Block(chain, number, h or number.to_bytes(32, "big"), time, f"row {number}")


def at(t: int) -> datetime:
    return datetime.fromtimestamp(t, UTC)


def test_signed_at_the_skew_passes_one_second_more_fails() -> None:
    rows = [Anchoring(R1, block(10, T))]
    ok = SignedTime("step 1", T + SIGNER_SKEW, (R1,))
    late = SignedTime("step 2", T + SIGNER_SKEW + 1, (R1,))
    assert signed_before_anchored([ok], rows) == []
    [problem] = signed_before_anchored([ok, late], rows)
    assert problem.startswith("step 2: signedAt 2027-01-15T08:05:01Z is 301 s after block 10")
    assert signed_before_anchored([late], rows, Tolerance(signer_skew=301)) == []


def test_a_record_is_checked_against_every_chain_that_anchored_its_root() -> None:
    rows = [Anchoring(R1, block(10, T + 100, chain=1)), Anchoring(R1, block(5, T, chain=2))]
    rec = SignedTime("step 1", T + SIGNER_SKEW + 50, (R1,))
    [problem] = signed_before_anchored([rec], rows)
    assert "block 5 on chain 2" in problem
    # a record of another root is not compared with these blocks
    assert signed_before_anchored([SignedTime("x", T + 10**6, (R2,))], rows) == []


def test_gen_time_window_bounds() -> None:
    rows = [Anchoring(R1, block(10, T))]
    assert stamped_near_anchor({R1: at(T - TSA_EARLY)}, rows) == []
    assert stamped_near_anchor({R1: at(T + TSA_LATE)}, rows) == []
    [early] = stamped_near_anchor({R1: at(T - TSA_EARLY - 1)}, rows)
    assert "901 s before block 10" in early and "ahead of the authority's clock" in early
    [late] = stamped_near_anchor({R1: at(T + 10 * 86_400)}, rows)
    assert "(10.0 days) after block 10" in late and "behind the authority's clock" in late


def test_gen_time_is_compared_with_the_first_anchoring() -> None:
    """A second chain that caught up a day later is not a contradiction."""
    rows = [Anchoring(R1, block(10, T + 86_000, chain=2)), Anchoring(R1, block(4, T, chain=1))]
    assert stamped_near_anchor({R1: at(T + 30)}, rows) == []
    assert stamped_near_anchor({R2: at(T)}, rows) == []  # nobody anchored R2: not ours


def test_block_times_never_go_back() -> None:
    assert blocks_never_go_back([block(1, T), block(2, T), block(3, T + 12)]) == []
    [back] = blocks_never_go_back([block(3, T), block(1, T + 1), block(2, T + 5)])
    assert back.startswith("chain 1: block 3 (row 3) is dated") and "5 s before block 2" in back
    # chains are independent
    assert blocks_never_go_back([block(5, T, chain=1), block(6, T - 99, chain=2)]) == []


def test_one_height_one_block() -> None:
    same = [block(7, T), block(7, T)]
    assert blocks_never_go_back(same) == []
    [twin] = blocks_never_go_back([block(7, T), block(7, T, h=b"\xff" * 32)])
    assert "one height has one block" in twin
    [retimed] = blocks_never_go_back([block(7, T), block(7, T + 1)])
    assert "chain 1 block 7" in retimed


def test_defaults_are_the_documented_numbers() -> None:
    from pathlib import Path

    assert (SIGNER_SKEW, TSA_EARLY, TSA_LATE) == (300, 900, 86_400)
    doc = (Path(__file__).parents[2] / "docs" / "judicial-package.md").read_text()
    for n in ("300 s", "900 s", "86,400 s"):
        assert n in doc, n


def test_times_no_calendar_holds_are_reported_not_raised() -> None:
    """A hostile package's block time of 10**30 or -1 fails with a sentence."""
    huge, negative = block(2, 10**30), block(3, -1)
    [back] = blocks_never_go_back([huge, negative])
    assert "1000000000000000000000000000000 (epoch seconds)" in back
    rec = SignedTime("step 1", 10**30, (R1,))
    [late] = signed_before_anchored([rec], [Anchoring(R1, block(1, T))])
    assert "(epoch seconds)" in late
