"""evidence/jury.py: the draw and the votes are recomputable from public data, byte for byte.

The hashes are checked against eth_abi's ``encode`` (an independent ABI encoder) and
eth_utils' keccak, so a contract computing ``keccak256(abi.encode(...))`` agrees.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Any

import pytest
from eth_abi import encode
from eth_utils import keccak, to_checksum_address
from hypothesis import given
from hypothesis import strategies as st

from evidence import jury
from evidence.errors import InvalidRecord

CASE = "0x" + "ca" * 32
SEED = "0x" + "5e" * 32
BLOCK = "0x" + "b1" * 32
RANDAO = "0x" + "4a" * 32
POOL = [to_checksum_address(f"0x{0x1000 + i:040x}") for i in range(40)]


def b(hex_: str) -> bytes:
    return bytes.fromhex(hex_[2:])


def test_seed_commitment_is_keccak_of_abi_encode() -> None:
    expected = keccak(encode(["bytes32", "bytes32", "uint256", "bytes32"],
                             [keccak(b"chainarb.jury.seed.v1"), b(CASE), 2, b(SEED)]))
    assert jury.seed_commitment(CASE, 2, SEED) == expected
    assert jury.seed_commitment(CASE, 3, SEED) != expected  # bound to the round
    assert jury.seed_commitment("0x" + "cb" * 32, 2, SEED) != expected  # and to the case


def test_pool_hash_is_order_free_and_abi_encoded() -> None:
    shuffled = list(reversed(POOL))
    ordered = sorted(POOL, key=lambda a: b(a))
    expected = keccak(encode(["bytes32", "uint256"] + ["address"] * 40,
                             [keccak(b"chainarb.jury.pool.v1"), 40, *ordered]))
    assert jury.pool_snapshot_hash(shuffled) == jury.pool_snapshot_hash(POOL) == expected
    assert jury.pool_snapshot_hash(POOL[:-1]) != expected


def test_pool_refuses_duplicates_and_non_addresses() -> None:
    with pytest.raises(InvalidRecord, match="twice"):
        jury.pool_snapshot_hash([POOL[0], POOL[0]])
    with pytest.raises(InvalidRecord, match="address"):
        jury.pool_snapshot_hash(["0x1234"])


def test_draw_randomness_mixes_every_input() -> None:
    pool_hash = jury.pool_snapshot_hash(POOL)
    base = jury.draw_randomness(CASE, 0, SEED, BLOCK, RANDAO, pool_hash)
    expected = keccak(encode(["bytes32"] * 2 + ["uint256"] + ["bytes32"] * 4,
                             [keccak(b"chainarb.jury.draw.v1"), b(CASE), 0, b(SEED), b(BLOCK),
                              b(RANDAO), pool_hash]))
    assert base == expected
    others = [
        jury.draw_randomness(CASE, 0, "0x" + "5f" * 32, BLOCK, RANDAO, pool_hash),
        jury.draw_randomness(CASE, 0, SEED, "0x" + "b2" * 32, RANDAO, pool_hash),
        jury.draw_randomness(CASE, 0, SEED, BLOCK, "0x" + "4b" * 32, pool_hash),
        jury.draw_randomness(CASE, 0, SEED, BLOCK, RANDAO, jury.pool_snapshot_hash(POOL[1:])),
        jury.draw_randomness(CASE, 1, SEED, BLOCK, RANDAO, pool_hash),
    ]
    assert len({base, *others}) == 6


def _draw(seed: str = SEED, pool: Sequence[str] = POOL, size: int = 7) -> tuple[str, ...]:
    randomness = jury.draw_randomness(CASE, 0, seed, BLOCK, RANDAO, jury.pool_snapshot_hash(pool))
    return jury.draw(pool, size, randomness)


def test_draw_is_reproducible_and_independent_of_input_order() -> None:
    first = _draw()
    assert first == _draw() == _draw(pool=list(reversed(POOL)))
    assert len(first) == 7 and len(set(first)) == 7 and set(first) <= set(POOL)


def test_draw_changes_with_the_revealed_seed() -> None:
    juries = {_draw(seed=f"0x{i:064x}") for i in range(20)}
    assert len(juries) == 20


def test_draw_vector() -> None:
    """A literal vector (docs/jury.md's worked example): the algorithm is fixed."""
    randomness = keccak(b"vector")
    pool = [to_checksum_address(f"0x{i:040x}") for i in range(1, 6)]
    stream_words = [int.from_bytes(keccak(randomness + i.to_bytes(32, "big")), "big")
                    for i in range(3)]
    # by hand: partial Fisher–Yates with j = i + r_i mod (n - i) (no rejection at these n)
    expected = list(pool)
    for i, r in enumerate(stream_words):
        j = i + r % (5 - i)
        expected[i], expected[j] = expected[j], expected[i]
    assert jury.draw(pool, 3, randomness) == tuple(expected[:3])


def test_uniform_rejects_the_biased_tail() -> None:
    """With n = 2**255 + 1 almost half the words are rejected: the rejected word is skipped,
    not reduced modulo n."""

    class Fixed(jury._Stream):
        def __init__(self, words: list[int]) -> None:
            self.words = words

        def next(self) -> int:
            return self.words.pop(0)

    n = (1 << 255) + 1
    limit = (1 << 256) - ((1 << 256) % n)
    stream = Fixed([limit, limit + 5, 7])
    assert jury.uniform(stream, n) == 7
    assert stream.words == []


def test_draw_is_close_to_uniform() -> None:
    """Each of 10 assessors is drawn into a jury of 3 about 3/10 of the time."""
    pool = POOL[:10]
    seen: Counter[str] = Counter()
    runs = 2000
    for i in range(runs):
        seen.update(jury.draw(pool, 3, keccak(i.to_bytes(4, "big"))))
    for a in pool:
        assert abs(seen[a] / runs - 0.3) < 0.05, (a, seen[a])


def test_draw_refuses_too_many_or_bad_sizes() -> None:
    randomness = keccak(b"x")
    with pytest.raises(InvalidRecord, match="holds 2"):
        jury.draw(POOL[:2], 3, randomness)
    with pytest.raises(InvalidRecord, match="size"):
        jury.draw(POOL, 0, randomness)
    with pytest.raises(InvalidRecord, match="size"):
        jury.draw(POOL, 33, randomness)


def test_vote_commitment_is_the_eip712_struct_hash() -> None:
    salt = "0x" + "11" * 32
    juror = POOL[3]
    typehash = keccak(text="JuryVote(bytes32 caseId,address juror,uint8 choice,"
                           "uint16 reasonCode,bytes32 salt)")
    expected = keccak(encode(["bytes32", "bytes32", "address", "uint8", "uint16", "bytes32"],
                             [typehash, b(CASE), juror, 2, 5, b(salt)]))
    assert jury.vote_commitment(CASE, juror, 2, 5, salt) == expected
    assert jury.vote_commitment(CASE, juror, 1, 5, salt) != expected
    assert jury.vote_commitment(CASE, POOL[4], 2, 5, salt) != expected  # bound to the juror


def test_tally_majority_quorum_and_absence() -> None:
    t = jury.tally(7, 3, [(1, 2), (1, 2), (0, 4), (0, 1), (2, 8)])
    assert t.counts == (2, 2, 1) and t.revealed == 5 and t.winner is None  # a plurality is not
    t = jury.tally(7, 3, [(1, 2), (1, 2), (1, 4), (0, 1), (2, 8)])
    assert t.counts == (1, 3, 1) and t.winner == 1  # 3 of the 5 votes cast
    t = jury.tally(7, 3, [(1, 2), (1, 2), (1, 4), (0, 1)])
    assert t.winner == 1 and t.reasons == ((1, 1), (2, 2), (4, 1))
    t = jury.tally(7, 3, [(1, 2), (1, 2), (1, 4)])  # 3 of 7 revealed: no quorum
    assert t.winner is None
    with pytest.raises(InvalidRecord):
        jury.tally(3, 2, [(2, 0)])


def test_tally_hash_is_abi_encoded() -> None:
    expected = keccak(encode(["bytes32", "bytes32", "uint256", "uint256", "uint256",
                              "uint256"],
                             [keccak(b"chainarb.jury.tally.v1"), b(CASE), 2, 3, 1, 1]))
    assert jury.tally_hash(CASE, (3, 1), 0) == expected
    assert jury.tally_hash(CASE, (3, 1), None) != expected


def _committed(seed: str = SEED, pool: Sequence[str] = POOL) -> dict[str, Any]:
    return dict(case_id=CASE, round_=0, seed_hash=jury.seed_commitment(CASE, 0, SEED),
                seed=seed, block_hash=BLOCK, prevrandao=RANDAO, pool=pool,
                pool_hash=jury.pool_snapshot_hash(POOL), size=7)


def test_a_verifier_recomputes_the_draw_from_the_public_records() -> None:
    assert jury.recompute_draw(**_committed()) == _draw()


def test_a_wrong_reveal_or_another_snapshot_is_refused() -> None:
    with pytest.raises(InvalidRecord, match="seed"):
        jury.recompute_draw(**_committed(seed="0x" + "5f" * 32))
    with pytest.raises(InvalidRecord, match="poolHash"):
        jury.recompute_draw(**_committed(pool=POOL[:-1]))


@given(n=st.integers(1, 60), k=st.integers(1, 31), salt=st.binary(min_size=1, max_size=8))
def test_draw_properties(n: int, k: int, salt: bytes) -> None:
    """Any pool and size: distinct members of the pool, the same for the same inputs, and
    the first k-1 of a draw of k equal a draw of k-1 (the jury is a prefix of one order)."""
    pool = POOL[:n] if n <= len(POOL) else POOL + [
        to_checksum_address(f"0x{0x9000 + i:040x}") for i in range(n - len(POOL))]
    randomness = keccak(salt)
    if k > n:
        with pytest.raises(InvalidRecord):
            jury.draw(pool, k, randomness)
        return
    drawn = jury.draw(pool, k, randomness)
    assert len(set(drawn)) == k and set(drawn) <= set(pool)
    assert drawn == jury.draw(list(reversed(pool)), k, randomness)
    if k > 1:
        assert jury.draw(pool, k - 1, randomness) == drawn[:-1]
