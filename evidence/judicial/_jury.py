"""A jury case in the judicial package: the draw recomputed, every vote checked (pure).

Issue 14 item 8 (docs/jury.md §6). The verifier reads the jury only from the signed steps
and their payloads (never from the package's summary, which it recomputes and compares):

1. Each ``jury.seed_committed`` opens a draw round (the i-th commitment is round i): its
   ``seedHash``, ``drawBlock``, the pool snapshot and its hash. No party of the order may
   be in the snapshot.
2. Each ``jury.drawn`` reveals the seed and names the block's hash and prevrandao; the
   jury is recomputed with ``evidence.jury.recompute_draw`` (the seed must open the
   commitment, the snapshot must hash to ``poolHash``). Its ``appointees`` are the jurors
   of the last round who accepted, in order, then exactly the recomputed draw.
3. Each ``jury.vote_committed`` is by a sitting juror, once; each ``jury.vote_revealed``
   by a juror who committed, once, and its (choice, reason code, salt) must hash to the
   commitment (``evidence.jury.vote_commitment``); given the deployment's EIP-712 domain,
   the commit's ``signature`` (the juror's ``JuryVote`` signature the escrow counted) must
   recover to the juror over that commitment: each vote signature is checked.
4. The tally is recomputed from the reveals (``evidence.jury.tally``); a recorded
   ``jury.tallied`` must name the same counts and winner.

What the chain must confirm (the block's hash and prevrandao, the seed anchored before
the draw block) is checked by the caller against the package's carried headers and anchors
(evidence/judicial/verify.py, check ``jury``).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from eth_utils import to_checksum_address

from evidence import jury as public_jury
from evidence._keccak import keccak256
from evidence.errors import EvidenceError
from evidence.jury import TallyJson
from evidence.records import Domain, recover_signer
from evidence.safejson import JsonObject

__all__ = ["JuryRecomputed", "JurySectionJson", "JuryStep", "recompute", "section"]


@dataclass(frozen=True, kw_only=True)
class JuryStep:
    """One jury step of the chain as the package holds it."""

    sequence: int
    action: str
    signer: str
    payload: Mapping[str, Any]
    record_hash: bytes


@dataclass(kw_only=True)
class Draw:
    round: int
    seed_step: JuryStep
    seed_hash: str
    draw_block: int
    pool: tuple[str, ...]
    pool_hash: str
    seed: str | None = None
    block_hash: str | None = None
    prevrandao: str | None = None
    kept: tuple[str, ...] = ()
    drawn: tuple[str, ...] = ()


@dataclass(kw_only=True)
class JuryRecomputed:
    draws: list[Draw] = field(default_factory=list)
    jurors: tuple[str, ...] = ()
    options: list[Mapping[str, Any]] = field(default_factory=list)
    commitments: dict[str, str] = field(default_factory=dict)
    signatures: dict[str, str] = field(default_factory=dict)  # juror -> JuryVote signature
    reveals: dict[str, tuple[int, int]] = field(default_factory=dict)
    tally: public_jury.Tally | None = None
    recorded: tuple[tuple[int, ...], int | None] | None = None
    problems: list[str] = field(default_factory=list)


def _addr(value: Any) -> str:
    return to_checksum_address(str(value))


def _uint(value: Any, what: str) -> int:
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise ValueError(f"{what}: expected a decimal, found {value!r}")
    return int(value)


def _draw(r: JuryRecomputed, case_id: bytes, draw: Draw, step: JuryStep,
          accepted: set[str]) -> None:
    pl = step.payload
    draw.seed, draw.block_hash, draw.prevrandao = pl["seed"], pl["blockHash"], pl["prevrandao"]
    appointees = tuple(_addr(a) for a in pl["appointees"])
    kept = tuple(a for a in r.jurors if a in accepted)
    draw.kept = kept
    where = f"step {step.sequence} (jury.drawn, round {draw.round})"
    if appointees[:len(kept)] != kept:
        r.problems.append(f"{where}: the sitting jurors who accepted ({', '.join(kept)}) do "
                          f"not come first in its appointees")
    try:
        drawn = public_jury.recompute_draw(
            case_id=case_id, round_=draw.round, seed_hash=draw.seed_hash, seed=draw.seed,
            block_hash=draw.block_hash, prevrandao=draw.prevrandao, pool=draw.pool,
            pool_hash=draw.pool_hash, size=len(appointees) - len(kept))
    except EvidenceError as exc:
        r.problems.append(f"{where}: the draw cannot be recomputed ({exc})")
        drawn = ()
    draw.drawn = tuple(_addr(a) for a in drawn)
    if drawn and draw.drawn != appointees[len(kept):]:
        r.problems.append(f"{where}: the recomputed draw selects {', '.join(draw.drawn)}; the "
                          f"step names {', '.join(appointees[len(kept):])}")
    if draw.round == 0:
        r.options = list(pl.get("options") or [])
    r.jurors = appointees


def _vote_signed(domain: Domain, juror: str, commitment: str, signature: str) -> bool:
    """Whether ``signature`` is the juror's EIP-712 signature of the ``JuryVote`` whose
    ``hashStruct`` is ``commitment`` under ``domain``."""
    digest = keccak256(b"\x19\x01" + domain.separator() + bytes.fromhex(commitment[2:]))
    try:
        return recover_signer(digest, signature) == juror
    except EvidenceError:
        return False


def recompute(case_id: bytes, steps: Sequence[JuryStep], parties: Sequence[str],
              domain: Domain | None = None) -> JuryRecomputed:
    """The jury of a case recomputed from its jury steps, and every problem found (with
    ``domain``: each opened vote's ``JuryVote`` signature too)."""
    r = JuryRecomputed()
    pending: Draw | None = None
    accepted: set[str] = set()
    party_set = {_addr(a) for a in parties}
    for step in steps:
        try:
            pl = step.payload
            signer = _addr(step.signer)
            if step.action == "jury.seed_committed":
                pool = tuple(_addr(a) for a in pl["pool"])
                pending = Draw(round=len(r.draws), seed_step=step, seed_hash=pl["seedHash"],
                               draw_block=_uint(pl["drawBlock"], "drawBlock"), pool=pool,
                               pool_hash=pl["poolHash"])
                r.draws.append(pending)
                if party_set & set(pool):
                    r.problems.append(f"step {step.sequence}: the pool snapshot holds a party "
                                      f"({', '.join(sorted(party_set & set(pool)))})")
            elif step.action == "jury.drawn":
                if pending is None:
                    r.problems.append(f"step {step.sequence}: a draw without a seed "
                                      "commitment before it")
                    continue
                _draw(r, case_id, pending, step, accepted)
                accepted = {a for a in accepted if a in r.jurors}
                pending = None
            elif step.action == "jury.accepted":
                if signer not in r.jurors:
                    r.problems.append(f"step {step.sequence}: {signer} accepted but is not a "
                                      "sitting juror")
                accepted.add(signer)
            elif step.action == "jury.vote_committed":
                if signer not in r.jurors:
                    r.problems.append(f"step {step.sequence}: {signer} voted but was not "
                                      "drawn")
                elif signer in r.commitments:
                    r.problems.append(f"step {step.sequence}: {signer} committed twice")
                else:
                    r.commitments[signer] = str(pl["commitment"]).lower()
                    r.signatures[signer] = str(pl.get("signature", ""))
            elif step.action == "jury.vote_revealed":
                choice = _uint(pl["choice"], "choice")
                reason = _uint(pl["reasonCode"], "reasonCode")
                committed = r.commitments.get(signer)
                if committed is None:
                    r.problems.append(f"step {step.sequence}: {signer} revealed without a "
                                      "commitment")
                elif signer in r.reveals:
                    r.problems.append(f"step {step.sequence}: {signer} revealed twice")
                else:
                    opened = "0x" + public_jury.vote_commitment(
                        case_id, signer, choice, reason, pl["salt"]).hex()
                    if opened != committed:
                        r.problems.append(f"step {step.sequence}: {signer}'s reveal (choice "
                                          f"{choice}, reason {reason}) does not open the "
                                          f"commitment {committed}")
                    elif domain is not None and not _vote_signed(
                            domain, signer, committed, r.signatures.get(signer, "")):
                        r.problems.append(f"step {step.sequence}: {signer}'s vote (choice "
                                          f"{choice}, reason {reason}) does not carry the "
                                          "juror's JuryVote signature of its commitment")
                    else:
                        r.reveals[signer] = (choice, reason)
            elif step.action == "jury.tallied":
                counts = tuple(_uint(n, "counts") for n in pl["counts"])
                winner = None if pl["winner"] == "none" else _uint(pl["winner"], "winner")
                r.recorded = (counts, winner)
        except (KeyError, TypeError, ValueError, EvidenceError) as exc:
            r.problems.append(f"step {step.sequence} ({step.action}): payload unusable "
                              f"({type(exc).__name__}: {exc})")
    if r.options and (r.reveals or r.recorded is not None):
        try:
            r.tally = public_jury.tally(len(r.jurors), len(r.options), r.reveals.values())
        except EvidenceError as exc:
            r.problems.append(f"the tally cannot be recomputed ({exc})")
    if r.recorded is not None and r.tally is not None and \
            r.recorded != (r.tally.counts, r.tally.winner):
        r.problems.append(f"the recorded tally (counts {list(r.recorded[0])}, winner "
                          f"{r.recorded[1]}) differs from the reveals' (counts "
                          f"{list(r.tally.counts)}, winner {r.tally.winner})")
    return r


class JuryDrawJson(TypedDict):
    """One draw of the jury: its seed, the block it waited for, the pool and the drawn."""

    round: int
    seedStep: int
    seedHash: str
    drawBlock: int
    poolSize: int
    poolHash: str
    seed: str | None
    blockHash: str | None
    prevrandao: str | None
    kept: list[str]
    drawn: list[str]


class JuryVoteJson(TypedDict):
    """A juror's committed vote, and its reveal once made (None before)."""

    juror: str
    commitment: str
    choice: int | None
    reasonCode: int | None


class ReasonWordsJson(TypedDict):
    """A reason code's votes and its words in both languages."""

    code: int
    votes: int
    en: str
    zh: str


class JuryTallyJson(TallyJson):
    """The tally with its hash (what the escrow records) and its reasons in words."""

    tallyHash: str  # noqa: N815 (JSON's names: ruff cannot see the imported TypedDict base)
    reasonWords: list[ReasonWordsJson]  # noqa: N815


class JurySectionJson(TypedDict):
    """``documents/jury.json``: the draws, the jurors, the options, the votes, the tally."""

    draws: list[JuryDrawJson]
    jurors: list[str]
    options: list[JsonObject]
    votes: list[JuryVoteJson]
    tally: JuryTallyJson | None


def section(case_id: bytes, r: JuryRecomputed) -> JurySectionJson:
    """The jury's summary (``documents/jury.json``): what a court reads first; the
    verifier recomputes it from the steps and compares."""
    t = r.tally
    return {
        "draws": [{"round": d.round, "seedStep": d.seed_step.sequence,
                   "seedHash": d.seed_hash, "drawBlock": d.draw_block,
                   "poolSize": len(d.pool), "poolHash": d.pool_hash, "seed": d.seed,
                   "blockHash": d.block_hash, "prevrandao": d.prevrandao,
                   "kept": list(d.kept), "drawn": list(d.drawn)} for d in r.draws],
        "jurors": list(r.jurors),
        "options": [dict(o) for o in r.options],
        "votes": [{"juror": j, "commitment": c,
                   "choice": r.reveals[j][0] if j in r.reveals else None,
                   "reasonCode": r.reveals[j][1] if j in r.reveals else None}
                  for j, c in sorted(r.commitments.items())],
        "tally": None if t is None else {
            **t.to_json_obj(),
            "tallyHash": "0x" + public_jury.tally_hash(case_id, t.counts, t.winner).hex(),
            "reasonWords": [{"code": c, "votes": n,
                             "en": public_jury.REASON_CODES.get(c, ("", ""))[0],
                             "zh": public_jury.REASON_CODES.get(c, ("", ""))[1]}
                            for c, n in t.reasons]},
    }
