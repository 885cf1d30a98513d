"""The package's jury check (evidence/judicial/_jury.py): a court recomputes the draw from
the signed steps' payloads and checks every vote and the tally; each forgery is named."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from eth_account import Account

from evidence import jury as public_jury
from evidence.judicial import JuryStep, jury_section, recompute_jury

CASE = bytes.fromhex("c0" * 32)
BUYER, SELLER = Account.create("buyer").address, Account.create("seller").address
POOL = sorted((Account.create(f"assessor {i}").address for i in range(9)),
              key=lambda a: bytes.fromhex(a[2:]))
POOL_HASH = "0x" + public_jury.pool_snapshot_hash(POOL).hex()
SEEDS = ["0x" + "5e" * 32, "0x" + "6f" * 32]
BLOCK, RANDAO = "0x" + "b1" * 32, "0x" + "4a" * 32
OPTIONS = [{"toBuyer": "100", "toSeller": "0", "compensation": "0"},
           {"toBuyer": "0", "toSeller": "100", "compensation": "0"}]
INSTITUTION = Account.create("institution").address


def salt(juror: str) -> str:
    return "0x" + public_jury.keccak256(juror.encode()).hex()  # type: ignore[attr-defined]


class Steps:
    def __init__(self) -> None:
        self.steps: list[JuryStep] = []

    def add(self, action: str, signer: str, payload: dict[str, Any]) -> None:
        self.steps.append(JuryStep(sequence=len(self.steps), action=action, signer=signer,
                                   payload=payload, record_hash=bytes([len(self.steps)]) * 32))


def drawn(round_: int, size: int, pool: list[str] = POOL) -> tuple[str, ...]:
    r = public_jury.draw_randomness(CASE, round_, SEEDS[round_], BLOCK, RANDAO,
                                    public_jury.pool_snapshot_hash(pool))
    return public_jury.draw(pool, size, r)


def jury_case(votes: list[tuple[int, int]] | None = None) -> tuple[Steps, tuple[str, ...]]:
    """A 3-juror case: seed, draw, acceptances, commits, reveals, the tally."""
    s = Steps()
    jurors = drawn(0, 3)
    s.add("jury.seed_committed", INSTITUTION, {
        "seedHash": "0x" + public_jury.seed_commitment(CASE, 0, SEEDS[0]).hex(),
        "drawBlock": "100", "pool": POOL, "poolHash": POOL_HASH})
    s.add("jury.drawn", INSTITUTION, {"role": "juror", "appointees": list(jurors),
                                      "seed": SEEDS[0], "blockHash": BLOCK,
                                      "prevrandao": RANDAO, "options": OPTIONS})
    votes = votes or [(0, 1), (0, 2), (1, 4)]
    for j in jurors:
        s.add("jury.accepted", j, {})
    for j, (choice, reason) in zip(jurors, votes, strict=True):
        s.add("jury.vote_committed", j, {"commitment": "0x" + public_jury.vote_commitment(
            CASE, j, choice, reason, salt(j)).hex()})
    for j, (choice, reason) in zip(jurors, votes, strict=True):
        s.add("jury.vote_revealed", j, {"choice": str(choice), "reasonCode": str(reason),
                                        "salt": salt(j)})
    t = public_jury.tally(3, 2, votes)
    s.add("jury.tallied", INSTITUTION, {"counts": [str(n) for n in t.counts],
                                        "winner": "none" if t.winner is None else str(t.winner)})
    return s, jurors


def test_an_honest_jury_case_recomputes_without_problems() -> None:
    s, jurors = jury_case()
    r = recompute_jury(CASE, s.steps, (BUYER, SELLER))
    assert r.problems == []
    assert r.jurors == jurors and r.tally is not None
    assert (r.tally.counts, r.tally.winner) == ((2, 1), 0)
    doc = jury_section(CASE, r)
    assert doc["draws"][0]["drawn"] == list(jurors) and doc["draws"][0]["poolSize"] == 9
    assert doc["tally"] is not None
    assert doc["tally"]["tallyHash"] == "0x" + public_jury.tally_hash(CASE, (2, 1), 0).hex()
    assert [w["en"] for w in doc["tally"]["reasonWords"]] == [
        "goods not received", "goods not as described", "delivery proven"]


def _with(s: Steps, index: int, **payload: Any) -> list[JuryStep]:
    out = list(s.steps)
    out[index] = replace(out[index], payload={**out[index].payload, **payload})
    return out


def test_a_forged_draw_is_named() -> None:
    s, jurors = jury_case()
    others = [a for a in POOL if a not in jurors]
    forged = _with(s, 1, appointees=[others[0], *jurors[1:]])
    problems = recompute_jury(CASE, forged, (BUYER, SELLER)).problems
    assert any("recomputed draw selects" in x for x in problems), problems


def test_another_seed_or_snapshot_is_named() -> None:
    s, _ = jury_case()
    assert any("does not open" in x for x in recompute_jury(
        CASE, _with(s, 1, seed=SEEDS[1]), (BUYER, SELLER)).problems)
    assert any("does not hash" in x for x in recompute_jury(
        CASE, _with(s, 0, pool=POOL[:-1]), (BUYER, SELLER)).problems)


def test_a_party_in_the_snapshot_is_named() -> None:
    pool = sorted([*POOL[:-1], BUYER], key=lambda a: bytes.fromhex(a[2:]))
    s, _ = jury_case()
    steps = _with(s, 0, pool=pool, poolHash="0x" + public_jury.pool_snapshot_hash(pool).hex())
    assert any("holds a party" in x for x in recompute_jury(CASE, steps, (BUYER, SELLER)).problems)


def test_a_reveal_that_does_not_open_its_commitment_is_named() -> None:
    s, _ = jury_case()
    reveal = next(i for i, x in enumerate(s.steps) if x.action == "jury.vote_revealed")
    problems = recompute_jury(CASE, _with(s, reveal, choice="1"), (BUYER, SELLER)).problems
    assert any("does not open the commitment" in x for x in problems), problems


def test_a_vote_by_someone_not_drawn_and_a_double_vote_are_named() -> None:
    s, jurors = jury_case()
    outsider = next(a for a in POOL if a not in jurors)
    s.add("jury.vote_committed", outsider, {"commitment": "0x" + "00" * 32})
    s.add("jury.vote_committed", jurors[0], {"commitment": "0x" + "00" * 32})
    problems = recompute_jury(CASE, s.steps, (BUYER, SELLER)).problems
    assert any("was not drawn" in x for x in problems)
    assert any("committed twice" in x for x in problems)


def test_a_forged_or_minority_tally_is_named() -> None:
    s, _ = jury_case()
    last = len(s.steps) - 1
    for forged in ({"counts": ["1", "2"], "winner": "1"}, {"counts": ["2", "1"], "winner": "1"},
                   {"counts": ["2", "1"], "winner": "none"}):
        problems = recompute_jury(CASE, _with(s, last, **forged), (BUYER, SELLER)).problems
        assert any("recorded tally" in x for x in problems), forged


def test_a_replacement_round_keeps_the_accepting_jurors_first() -> None:
    """Round 0 draws 3; one does not accept; round 1 draws one more from a snapshot
    without those drawn before; the verifier recomputes both rounds."""
    s = Steps()
    first = drawn(0, 3)
    s.add("jury.seed_committed", INSTITUTION, {
        "seedHash": "0x" + public_jury.seed_commitment(CASE, 0, SEEDS[0]).hex(),
        "drawBlock": "100", "pool": POOL, "poolHash": POOL_HASH})
    s.add("jury.drawn", INSTITUTION, {"role": "juror", "appointees": list(first),
                                      "seed": SEEDS[0], "blockHash": BLOCK,
                                      "prevrandao": RANDAO, "options": OPTIONS})
    s.add("jury.accepted", first[0], {})
    s.add("jury.accepted", first[2], {})
    pool1 = [a for a in POOL if a not in first]
    s.add("jury.seed_committed", INSTITUTION, {
        "seedHash": "0x" + public_jury.seed_commitment(CASE, 1, SEEDS[1]).hex(),
        "drawBlock": "200", "pool": pool1,
        "poolHash": "0x" + public_jury.pool_snapshot_hash(pool1).hex()})
    new = drawn(1, 1, pool1)
    s.add("jury.drawn", INSTITUTION, {"role": "juror",
                                      "appointees": [first[0], first[2], *new],
                                      "seed": SEEDS[1], "blockHash": BLOCK,
                                      "prevrandao": RANDAO, "options": []})
    r = recompute_jury(CASE, s.steps, (BUYER, SELLER))
    assert r.problems == []
    assert r.jurors == (first[0], first[2], *new)
    assert [d.kept for d in r.draws] == [(), (first[0], first[2])]
    # the kept jurors in another order are refused
    s.steps[-1] = replace(s.steps[-1], payload={**s.steps[-1].payload,
                                                "appointees": [first[2], first[0], *new]})
    assert any("come first" in x for x in recompute_jury(CASE, s.steps, (BUYER, SELLER)).problems)
