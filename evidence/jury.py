"""The jury's public arithmetic: the draw and the hidden votes, recomputable by anyone.

Pure (no I/O, no clock, no database): a court or a party recomputes a jury case's draw and
checks every vote from the case's public records alone (docs/jury.md states the algorithm
byte by byte; this module is its reference implementation).

Rules:
1. Every hash is keccak256 over ``abi.encode`` of static 32-byte words, so a contract can
   recompute each one with the same bytes (the escrow's tally check, not yet built).
2. Every value is bound to its case and round (a seed or a vote of one case is worthless
   in another), and every pre-image starts with a domain tag (the keccak of a fixed string).
3. Selection never takes a random number modulo n without rejection sampling: the draw has
   no modulo bias, however many assessors the pool holds.

Theory of the draw: the institution commits to a secret ``seed`` (its keccak commitment is
a signed step) naming a future block; after that block, it reveals the seed. The draw's
randomness mixes the seed with that block's hash and ``prevrandao`` and with the pool
snapshot's hash, so neither the institution (committed before the block existed) nor a
block producer (does not know the seed) chooses the jury alone. The eligible addresses are
sorted, then a partial Fisher–Yates shuffle driven by a keccak counter stream picks the
jury in order.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from typing import TypedDict

from evidence._keccak import keccak256
from evidence.errors import InvalidRecord

__all__ = [
    "DECISION_FAST_TRACK",
    "DECISION_JURY_VERDICT",
    "DECISION_TYPE",
    "DRAW_TAG",
    "JURY_VOTE_TYPE",
    "MAX_JURY_SIZE",
    "MAX_OPTIONS",
    "MAX_POOL",
    "POOL_TAG",
    "REASON_CODES",
    "SEED_TAG",
    "TALLY_TAG",
    "Tally",
    "TallyJson",
    "decision_struct_hash",
    "draw",
    "draw_randomness",
    "jury_hash",
    "jury_order",
    "pool_snapshot_hash",
    "recompute_draw",
    "seed_commitment",
    "tally",
    "tally_hash",
    "uniform",
    "vote_commitment",
    "votes_hash",
]

MAX_POOL = 10_000  # bounds a snapshot (and a step's payload) — STYLE §4
MAX_JURY_SIZE = 31  # Taobao's jury
MAX_OPTIONS = 4
MAX_REASON_CODE = 0xFFFF

SEED_TAG = keccak256(b"chainarb.jury.seed.v1")
DRAW_TAG = keccak256(b"chainarb.jury.draw.v1")
POOL_TAG = keccak256(b"chainarb.jury.pool.v1")
TALLY_TAG = keccak256(b"chainarb.jury.tally.v1")
JURY_VOTE_TYPE = ("JuryVote(bytes32 caseId,address juror,uint8 choice,uint16 reasonCode,"
                  "bytes32 salt)")
_JURY_VOTE_TYPEHASH = keccak256(JURY_VOTE_TYPE.encode())
# The escrow's institution-signed decision (docs/eip712.md): a jury's verdict (kind 0) or a
# fast-track proposal (kind 1), executed after the objection window.
DECISION_TYPE = ("Decision(uint256 orderId,bytes32 caseId,uint8 kind,uint256 toBuyer,"
                 "uint256 toSeller,uint256 compensation,bytes32 decisionHash)")
DECISION_JURY_VERDICT = 0
DECISION_FAST_TRACK = 1
_DECISION_TYPEHASH = keccak256(DECISION_TYPE.encode())
_TWO_256 = 1 << 256

# The short reason a juror gives with a vote (code -> (English, 简体中文)). The court sees
# the reasons by code and the majority; jurors write no free text (it could identify them).
REASON_CODES: Mapping[int, tuple[str, str]] = {
    1: ("goods not received", "未收到货物"),
    2: ("goods not as described", "货物与描述不符"),
    3: ("damaged in transit", "运输途中损坏"),
    4: ("delivery proven", "已证明交付"),
    5: ("evidence insufficient", "证据不足"),
    6: ("partial fault on both sides", "双方均有部分过错"),
    7: ("return not made as agreed", "未按约定退货"),
    8: ("the respondent's offer was fair", "被申请人的方案公平"),
}


def _word(value: int) -> bytes:
    return value.to_bytes(32, "big")


def _b32(value: bytes | str, what: str) -> bytes:
    raw = bytes.fromhex(value[2:]) if isinstance(value, str) and value.startswith("0x") \
        else value
    if not isinstance(raw, bytes) or len(raw) != 32:
        raise InvalidRecord(f"{what}: expected 32 bytes (0x + 64 hex), found {value!r}")
    return raw


def _addr(value: str, what: str) -> bytes:
    if not isinstance(value, str) or len(value) != 42 or not value.startswith("0x"):
        raise InvalidRecord(f"{what}: expected an address (0x + 40 hex), found {value!r}")
    try:
        return bytes.fromhex(value[2:])
    except ValueError:
        raise InvalidRecord(f"{what}: expected an address (0x + 40 hex), found {value!r}") \
            from None


def _round(value: int) -> int:
    if type(value) is not int or not 0 <= value < 256:
        raise InvalidRecord(f"round: expected 0..255, found {value!r}")
    return value


def seed_commitment(case_id: bytes | str, round_: int, seed: bytes | str) -> bytes:
    """``keccak256(abi.encode(SEED_TAG, caseId, round, seed))``: what the seed step signs
    before the draw block exists; the reveal must hash to it."""
    return keccak256(SEED_TAG + _b32(case_id, "caseId") + _word(_round(round_))
                     + _b32(seed, "seed"))


def pool_snapshot_hash(addresses: Iterable[str]) -> bytes:
    """``keccak256(abi.encode(POOL_TAG, n, a_1, …, a_n))`` of the eligible addresses in
    ascending byte order (each a left-padded 32-byte word). Duplicates are refused."""
    raw = sorted(_addr(a, "pool") for a in addresses)
    if len(raw) > MAX_POOL:
        raise InvalidRecord(f"pool: at most {MAX_POOL} addresses, found {len(raw)}")
    if len(set(raw)) != len(raw):
        raise InvalidRecord("pool: an address appears twice")
    return keccak256(POOL_TAG + _word(len(raw)) + b"".join(bytes(12) + a for a in raw))


def draw_randomness(case_id: bytes | str, round_: int, seed: bytes | str,
                    block_hash: bytes | str, prevrandao: bytes | str,
                    pool_hash: bytes | str) -> bytes:
    """``keccak256(abi.encode(DRAW_TAG, caseId, round, seed, blockHash, prevrandao,
    poolHash))``: the draw's one random value."""
    return keccak256(DRAW_TAG + _b32(case_id, "caseId") + _word(_round(round_))
                     + _b32(seed, "seed") + _b32(block_hash, "blockHash")
                     + _b32(prevrandao, "prevrandao") + _b32(pool_hash, "poolHash"))


class _Stream:
    """``r_i = keccak256(randomness || uint256(i))`` for i = 0, 1, 2, …"""

    def __init__(self, randomness: bytes) -> None:
        self._randomness = randomness
        self._i = 0

    def next(self) -> int:
        value = int.from_bytes(keccak256(self._randomness + _word(self._i)), "big")
        self._i += 1
        return value


def uniform(stream: _Stream, n: int) -> int:
    """An unbiased integer in ``[0, n)``: reject words at or above the largest multiple of
    ``n`` below 2**256, then take the remainder."""
    if n <= 0:
        raise ValueError("uniform: n must be positive")
    limit = _TWO_256 - (_TWO_256 % n)
    while True:
        r = stream.next()
        if r < limit:
            return r % n


def draw(eligible: Sequence[str], size: int, randomness: bytes | str) -> tuple[str, ...]:
    """The ``size`` jurors drawn from ``eligible`` with ``randomness``, in draw order.

    The eligible addresses are sorted by their 20 bytes; for i = 0 … size-1,
    ``j = i + uniform(n - i)`` and positions i and j are swapped; the jury is the first
    ``size`` positions. Addresses are returned as given (checksummed when given so).
    """
    rand = _b32(randomness, "randomness")
    if type(size) is not int or not 1 <= size <= MAX_JURY_SIZE:
        raise InvalidRecord(f"size: expected 1..{MAX_JURY_SIZE} jurors, found {size!r}")
    pool_snapshot_hash(eligible)  # its checks: addresses, no duplicates, at most MAX_POOL
    ordered = sorted(eligible, key=lambda a: _addr(a, "pool"))
    if size > len(ordered):
        raise InvalidRecord(f"size: {size} jurors requested; the eligible pool holds "
                            f"{len(ordered)}")
    stream = _Stream(rand)
    for i in range(size):
        j = i + uniform(stream, len(ordered) - i)
        ordered[i], ordered[j] = ordered[j], ordered[i]
    return tuple(ordered[:size])


def recompute_draw(*, case_id: bytes | str, round_: int, seed_hash: bytes | str,
                   seed: bytes | str, block_hash: bytes | str, prevrandao: bytes | str,
                   pool: Sequence[str], pool_hash: bytes | str, size: int) -> tuple[str, ...]:
    """The jury a case's public records fix, for a verifier holding only those records:
    the seed step's ``seedHash``, ``pool`` and ``poolHash``, the draw step's ``seed``,
    ``blockHash`` and ``prevrandao``. Refuses (``InvalidRecord``) a seed that does not open
    the commitment and a snapshot that does not hash to the committed hash."""
    if seed_commitment(case_id, round_, seed) != _b32(seed_hash, "seedHash"):
        raise InvalidRecord("seed: the revealed seed does not open the committed seedHash")
    if pool_snapshot_hash(pool) != _b32(pool_hash, "poolHash"):
        raise InvalidRecord("pool: the snapshot does not hash to the committed poolHash")
    randomness = draw_randomness(case_id, round_, seed, block_hash, prevrandao, pool_hash)
    return draw(pool, size, randomness)


def vote_commitment(case_id: bytes | str, juror: str, choice: int, reason_code: int,
                    salt: bytes | str) -> bytes:
    """The EIP-712 ``hashStruct`` of ``JuryVote`` (``JURY_VOTE_TYPE``): what a juror's
    commit step carries and the reveal must reproduce."""
    if type(choice) is not int or not 0 <= choice < MAX_OPTIONS:
        raise InvalidRecord(f"choice: expected an option index 0..{MAX_OPTIONS - 1}, "
                            f"found {choice!r}")
    if type(reason_code) is not int or not 0 <= reason_code <= MAX_REASON_CODE:
        raise InvalidRecord(f"reasonCode: expected 0..{MAX_REASON_CODE}, found {reason_code!r}")
    return keccak256(_JURY_VOTE_TYPEHASH + _b32(case_id, "caseId")
                     + bytes(12) + _addr(juror, "juror") + _word(choice)
                     + _word(reason_code) + _b32(salt, "salt"))


class TallyJson(TypedDict):
    """A tally in JSON: ``reasons`` as [reason code, votes] pairs."""

    jurySize: int
    counts: list[int]
    reasons: list[list[int]]
    revealed: int
    winner: int | None


@dataclass(frozen=True, kw_only=True)
class Tally:
    """The count of revealed votes. ``winner`` is the option index holding more than half
    of the votes revealed, provided a majority of the jury revealed (the quorum); None
    otherwise (the case then goes to a sole arbitrator)."""

    jury_size: int
    counts: tuple[int, ...]
    reasons: tuple[tuple[int, int], ...]  # (reason code, votes), ascending code
    revealed: int
    winner: int | None

    def to_json_obj(self) -> TallyJson:
        return {"jurySize": self.jury_size, "counts": list(self.counts),
                "reasons": [[c, n] for c, n in self.reasons], "revealed": self.revealed,
                "winner": self.winner}


def tally(jury_size: int, options: int, reveals: Iterable[tuple[int, int]]) -> Tally:
    """Count ``reveals`` ((choice, reason code) per juror who revealed) among ``options``
    allocation options of a jury of ``jury_size``. Unrevealed commitments are simply not
    in ``reveals``: they count as absent."""
    if not 1 <= options <= MAX_OPTIONS:
        raise InvalidRecord(f"options: expected 1..{MAX_OPTIONS}, found {options}")
    counts = [0] * options
    reasons: dict[int, int] = {}
    revealed = 0
    for choice, reason in reveals:
        if not 0 <= choice < options:
            raise InvalidRecord(f"choice {choice}: outside the {options} options")
        counts[choice] += 1
        reasons[reason] = reasons.get(reason, 0) + 1
        revealed += 1
    if revealed > jury_size:
        raise InvalidRecord(f"{revealed} reveals for a jury of {jury_size}")
    winner = None
    if 2 * revealed > jury_size:
        best = max(range(options), key=lambda i: counts[i])
        if 2 * counts[best] > revealed:
            winner = best
    return Tally(jury_size=jury_size, counts=tuple(counts),
                 reasons=tuple(sorted(reasons.items())), revealed=revealed, winner=winner)


def tally_hash(case_id: bytes | str, counts: Sequence[int], winner: int | None) -> bytes:
    """``keccak256(abi.encode(TALLY_TAG, caseId, n, count_0, …, count_{n-1}, winner + 1))``
    (``winner + 1`` is 0 for no verdict): the document hash a jury verdict carries as an
    award."""
    if not 1 <= len(counts) <= MAX_OPTIONS:
        raise InvalidRecord(f"counts: expected 1..{MAX_OPTIONS}, found {len(counts)}")
    return keccak256(TALLY_TAG + _b32(case_id, "caseId") + _word(len(counts))
                     + b"".join(_word(n) for n in counts)
                     + _word(0 if winner is None else winner + 1))


# -- what the escrow checks (ArbitrationEscrow.appointJury / submitJuryVerdict) ----------


def jury_order(jurors: Iterable[str]) -> tuple[str, ...]:
    """The jurors in ascending order of their 20 address bytes: the order the escrow reads
    them in (distinct, none zero). Addresses are returned as given."""
    listed = list(jurors)
    ordered = sorted(listed, key=lambda a: _addr(a, "juror"))
    raw = [_addr(a, "juror") for a in ordered]
    if len(set(raw)) != len(raw) or any(r == bytes(20) for r in raw):
        raise InvalidRecord("jurors: an address appears twice or is zero")
    return tuple(ordered)


def jury_hash(jurors: Iterable[str], options: Sequence[tuple[int, int, int]]) -> bytes:
    """``keccak256(abi.encodePacked(n, jurors, options))``: the jury the institution fixes
    on the escrow (``appointJury``). ``jurors`` in ascending address order (``jury_order``),
    each a 32-byte word; each option three words (toBuyer, toSeller, compensation)."""
    ordered = jury_order(jurors)
    if not 1 <= len(options) <= MAX_OPTIONS:
        raise InvalidRecord(f"options: expected 1..{MAX_OPTIONS}, found {len(options)}")
    words = [_word(len(ordered))] + [bytes(12) + _addr(a, "juror") for a in ordered]
    for option in options:
        if len(option) != 3 or any(type(v) is not int or not 0 <= v < _TWO_256
                                   for v in option):
            raise InvalidRecord(f"options: expected three uint256 words, found {option!r}")
        words.extend(_word(v) for v in option)
    return keccak256(b"".join(words))


def votes_hash(commitments: Sequence[bytes | str | None]) -> bytes:
    """The hash of the jury's votes as the escrow rolls it: ``h = 0``, then for each juror
    in ``jury_order`` ``h = keccak256(abi.encode(h, commitment))``, a zero commitment for an
    absent juror (None). The institution signs it as a jury verdict's ``decisionHash``."""
    h = bytes(32)
    for c in commitments:
        h = keccak256(h + (bytes(32) if c is None else _b32(c, "commitment")))
    return h


def decision_struct_hash(order_id: int, case_id: bytes | str, kind: int,
                         allocation: tuple[int, int, int], decision_hash: bytes | str) -> bytes:
    """The EIP-712 ``hashStruct`` of a ``Decision`` (``DECISION_TYPE``)."""
    if kind not in (DECISION_JURY_VERDICT, DECISION_FAST_TRACK):
        raise InvalidRecord(f"kind: expected 0 (jury verdict) or 1 (fast track), found {kind!r}")
    return keccak256(_DECISION_TYPEHASH + _word(order_id) + _b32(case_id, "caseId")
                     + _word(kind) + b"".join(_word(v) for v in allocation)
                     + _b32(decision_hash, "decisionHash"))
