"""Three clocks that must agree: the signers' `signedAt`, the chains' block times, and the
time-stamping authorities' genTime.

Why: each clock is kept by someone else. A signer dates its record; the chain dates the
block that anchored the record's Merkle root (on the operator's own chain, the operator
chooses that date); an RFC 3161 authority dates the same root a second time. Any one of
them alone can be wrong or shifted; a court learns something only when they agree, and a
contradiction between them is a forgery or a broken clock. The rules (the numbers are
documented in docs/judicial-package.md, §4 "clocks"):

1. **Signed before anchored.** A record's `signedAt` is at most the time of every block
   that anchored a root it is proven into, plus `SIGNER_SKEW` (the service admits a
   signer's clock that far ahead of its own, so an honest record anchored at once may be
   dated a little after its block).
2. **Stamped near the anchor.** A root's genTime lies in
   [t - `TSA_EARLY`, t + `TSA_LATE`], t the earliest block that anchored that root (the
   service asks for the token once the root is first confirmed; a later anchoring on
   another chain, caught up after an outage, is not a contradiction). The early bound
   allows the clocks of a block proposer and a TSA to differ; the late bound allows the
   confirmations and an outage of the authorities, and bounds how far an anchor's block
   time can be shifted back unseen.
3. **Block times never go back.** On each chain, for the blocks the package names: a higher
   number never has an earlier time, and one number has one hash and one time.

Pure: plain values in, a list of problems (one sentence each) out; no I/O and no parsing.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from itertools import pairwise

__all__ = [
    "DEFAULT_TOLERANCE",
    "SIGNER_SKEW",
    "TSA_EARLY",
    "TSA_LATE",
    "Anchoring",
    "Block",
    "SignedTime",
    "Tolerance",
    "blocks_never_go_back",
    "iso",
    "signed_before_anchored",
    "stamped_near_anchor",
]

SIGNER_SKEW = 300
"""Seconds a record's `signedAt` may follow its anchoring block's time: the service admits
a signer's clock up to this far ahead of its own (`backend.services.pipeline` imports it)."""

TSA_EARLY = 900
"""Seconds genTime may precede the anchoring block's time (a chain's timestamps may run
ahead of real time: Ethereum clients accepted blocks up to 15 minutes in the future)."""

TSA_LATE = 86_400
"""Seconds genTime may follow the anchoring block's time (confirmations, and authorities that
were all down for a while: the worker retries each round, failing over between them)."""


@dataclass(frozen=True)
class Tolerance:
    """The agreement the verifier asks of the clocks, in seconds (defaults: the constants)."""

    signer_skew: int = SIGNER_SKEW
    tsa_early: int = TSA_EARLY
    tsa_late: int = TSA_LATE


DEFAULT_TOLERANCE = Tolerance()


@dataclass(frozen=True)
class Block:
    """A block as the package states it; `source` says where (for the problem's sentence)."""

    chain_id: int
    number: int
    block_hash: bytes
    time: int
    source: str


@dataclass(frozen=True)
class Anchoring:
    """One anchoring of a root (a row of proofs/anchors.json): the root and its block."""

    root: bytes
    block: Block


@dataclass(frozen=True)
class SignedTime:
    """A signed record's `signedAt` and the roots its Merkle proofs lead to."""

    name: str
    signed_at: int
    roots: tuple[bytes, ...]


def iso(t: int) -> str:
    """Epoch seconds as UTC ISO 8601 (what the reasons print); a time no calendar holds
    (a hostile package's) as its number."""
    try:
        return datetime.fromtimestamp(t, UTC).isoformat().replace("+00:00", "Z")
    except (OverflowError, OSError, ValueError):
        return f"{t} (epoch seconds)"


def _span(seconds: int) -> str:
    """A duration, exact, with days or hours beside it when it is long."""
    s = abs(seconds)
    if s < 3_600:
        return f"{s} s"
    human = f"{s / 3_600:.1f} h" if s < 172_800 else f"{s / 86_400:.1f} days"
    return f"{s:,} s ({human})"


def _root(root: bytes) -> str:
    return f"root 0x{root.hex()[:16]}…"


def _by_root(anchorings: Iterable[Anchoring]) -> dict[bytes, list[Anchoring]]:
    out: dict[bytes, list[Anchoring]] = {}
    for a in anchorings:
        out.setdefault(a.root, []).append(a)
    return out


def signed_before_anchored(records: Iterable[SignedTime], anchorings: Sequence[Anchoring],
                           tolerance: Tolerance = DEFAULT_TOLERANCE) -> list[str]:
    """Rule 1: every record's signedAt ≤ each anchoring block's time + the signer skew."""
    rows = _by_root(anchorings)
    problems = []
    for rec in records:
        for root in rec.roots:
            for a in rows.get(root, []):
                late = rec.signed_at - a.block.time
                if late > tolerance.signer_skew:
                    problems.append(
                        f"{rec.name}: signedAt {iso(rec.signed_at)} is {_span(late)} after "
                        f"block {a.block.number} on chain {a.block.chain_id} "
                        f"({iso(a.block.time)}, {a.block.source}) that anchored its "
                        f"{_root(root)}; a record cannot be signed after it was anchored "
                        f"(at most {tolerance.signer_skew} s of clock skew)")
    return problems


def stamped_near_anchor(gen_times: Mapping[bytes, datetime], anchorings: Sequence[Anchoring],
                        tolerance: Tolerance = DEFAULT_TOLERANCE) -> list[str]:
    """Rule 2: each stamped root's genTime lies within the tolerance of its first anchoring."""
    rows = _by_root(anchorings)
    problems = []
    for root, gen in gen_times.items():
        if not rows.get(root):
            continue  # a token for a root nobody anchored: the `timestamps` check's business
        first = min(rows[root], key=lambda a: a.block.time).block
        delta = int(gen.timestamp()) - first.time
        if delta < -tolerance.tsa_early:
            problems.append(
                f"{_root(root)}: the TSA's genTime {iso(int(gen.timestamp()))} is "
                f"{_span(delta)} before block {first.number} on chain {first.chain_id} "
                f"({iso(first.time)}) that first anchored it; expected at most "
                f"{tolerance.tsa_early} s before (the block time is ahead of the authority's "
                "clock)")
        elif delta > tolerance.tsa_late:
            problems.append(
                f"{_root(root)}: the TSA's genTime {iso(int(gen.timestamp()))} is "
                f"{_span(delta)} after block {first.number} on chain {first.chain_id} "
                f"({iso(first.time)}) that first anchored it; expected at most "
                f"{tolerance.tsa_late} s after (the block time is behind the authority's "
                "clock)")
    return problems


def blocks_never_go_back(blocks: Iterable[Block]) -> list[str]:
    """Rule 3: per chain, block times do not decrease with the number; one number, one block."""
    per_chain: dict[int, dict[int, Block]] = {}
    problems = []
    for b in blocks:
        seen = per_chain.setdefault(b.chain_id, {})
        other = seen.get(b.number)
        if other is None:
            seen[b.number] = b
        elif (other.block_hash, other.time) != (b.block_hash, b.time):
            problems.append(
                f"chain {b.chain_id} block {b.number}: {other.source} says hash "
                f"0x{other.block_hash.hex()} at {iso(other.time)}, {b.source} says hash "
                f"0x{b.block_hash.hex()} at {iso(b.time)}; one height has one block")
    for chain_id, seen in sorted(per_chain.items()):
        ordered = [seen[n] for n in sorted(seen)]
        for prev, cur in pairwise(ordered):
            if cur.time < prev.time:
                problems.append(
                    f"chain {chain_id}: block {cur.number} ({cur.source}) is dated "
                    f"{iso(cur.time)}, {_span(prev.time - cur.time)} before block "
                    f"{prev.number} ({prev.source}, {iso(prev.time)}); block times never go "
                    "back")
    return problems
