"""The jury track's service side (issue 14 items 1, 2, 3, 7; docs/jury.md): the assessor
pool through its routes, the snapshot the service computes (conflicts from the database,
standing), the draw block read from the anchoring chain, a seed commitment anchored before
it, juror replacement, pseudonyms towards the parties, and the jurors' standing."""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.jury import DEFAULT_CRITERIA
from evidence import jury as public_jury
from tests.backend.api.test_jury_api import (
    ASSESSORS,
    SEED,
    _draw,
    _post,
    _refused,
    _salt,
    _to_jury_draw,
    _vote,
    chain_of,
)
from tests.support.jury import GOOD, DrawChain, admit, pool_step, seed_hash
from tests.support.migrated import migrated
from tests.support.world import AMOUNT, ORDER_ID, World, make_world, ok


@pytest.fixture
def jury_world(clean_db_url: str, tmp_path: Path) -> Iterator[World]:
    """test_jury_api's world (4 admitted assessors, a jury of 3, a draw chain) on SQLite
    and PostgreSQL: the pool's reads (a text search of the cases' state) on both."""
    w = make_world(clean_db_url, tmp_path, jury_max_amount=AMOUNT, jury_size=3,
                   anchor_sender=DrawChain(), anchor_interval_seconds=0)
    with w.client:
        admit(w, *ASSESSORS)
        yield w


def _commit(w: World, pool: list[str], pool_hash: str, draw_block: int) -> Any:
    return _post(w, w.admin, "jury/seed", "jury.seed_committed",
                 {"seedHash": seed_hash(w, 0, SEED), "drawBlock": str(draw_block),
                  "pool": pool, "poolHash": pool_hash})


# -- the pool ---------------------------------------------------------------------------------


def test_the_pool_through_its_routes(jury_world: World) -> None:
    w = jury_world  # the four ASSESSORS applied and were admitted by the admin
    overview = ok(w.admin.get("/pool"))
    assert [(a["status"], a["standing"]["drawn"]) for a in overview["assessors"]] == [
        ("admitted", 0)] * 4
    assert overview["criteria"]["hash"] == DEFAULT_CRITERIA.hash()
    assert overview["nextSequence"] == 8
    # an assessor reads its own status and standing; the overview is the institution's
    me = ok(w.actors["panel1"].get("/pool/me"))
    assert (me["status"], me["standing"]["eligible"]) == ("admitted", True)
    _refused(w.actors["panel1"].get("/pool"), 403, "access_denied")
    # the stored records recompute the same pool (anyone holding them)
    from backend.jury import pool_from_records
    from evidence.records import SignedRecord

    rows = ok(w.admin.get("/pool/records"))
    again = pool_from_records([SignedRecord.from_json_obj(r["record"]) for r in rows],
                              [r["payload"] for r in rows], domain=w.domain,
                              institution=ok(w.admin.get("/health"))["institution"])
    assert sorted(a.address for a in again.assessors) == sorted(
        w.actors[n].address for n in ASSESSORS)
    # the admin's own authorisation is kept; the stored record is the institution's
    assert all(r["record"]["message"]["actor"] != w.admin.address for r in rows)


def test_pool_refusals(jury_world: World) -> None:
    w = jury_world
    court = w.actors["court"]
    # only the applicant applies for itself
    _refused(pool_step(w, w.buyer, "pool.applied", {"assessor": court.address}),
             403, "wrong_actor")
    ok(pool_step(w, court, "pool.applied", {"assessor": court.address}))
    _refused(pool_step(w, court, "pool.applied", {"assessor": court.address}),
             409, "duplicate_action")
    # only an admin admits, under the published criteria
    _refused(pool_step(w, court, "pool.admitted", {
        "assessor": court.address, "criteriaHash": DEFAULT_CRITERIA.hash(), **GOOD}),
        403, "access_denied")
    r = pool_step(w, w.admin, "pool.admitted", {
        "assessor": court.address, "criteriaHash": DEFAULT_CRITERIA.hash(),
        **{**GOOD, "testScore": 40}})
    _refused(r, 422, "invalid_command")
    assert "qualification test score 40 < 80" in r.text
    # a step of another route, and a stale link
    head = ok(w.admin.get("/pool/head"))
    from backend.jury import POOL_ID
    from backend.services.steps import payload_hash
    from evidence.records import ProceduralStep, bytes32

    payload = {"assessor": court.address, "party": w.buyer.address, "nature": "brother"}
    rec = ProceduralStep(case_id=bytes32(POOL_ID), sequence=head["nextSequence"],
                         prev_hash=bytes32("0x" + "00" * 32), actor=court.address,
                         action="pool.relationship_declared",
                         payload_hash=bytes32(payload_hash(payload)), signed_at=court.at())
    body = {"record": rec.sign(court.key.key, w.domain).to_json_obj(), "payload": payload}
    _refused(court.post("/pool/apply", json=body), 422, "bad_submission")
    _refused(court.post("/pool/relationships", json=body), 409, "stale_sequence")
    _refused(court.post("/pool/relationships", json={**body, "payload": {**payload,
                                                                         "nature": "x"}}),
             422, "payload_mismatch")
    ok(pool_step(w, court, "pool.relationship_declared", payload))


def test_the_snapshot_is_the_services_not_the_admins(jury_world: World) -> None:
    """Suspended assessors, declared relationships and prior cases together are left out,
    each with its reason; a commitment naming another snapshot is refused."""
    w = jury_world
    p1, p2, p3, stranger = (w.actors[n] for n in ASSESSORS)
    ok(pool_step(w, w.admin, "pool.suspended", {"assessor": p1.address,
                                                "reasonHash": "0x" + "ab" * 32}))
    ok(pool_step(w, p2, "pool.relationship_declared",
                 {"assessor": p2.address, "party": w.seller.address, "nature": "supplier"}))
    _to_jury_draw(w)
    snap = ok(w.admin.get(f"/cases/{w.case_id}/jury/snapshot"))
    assert snap["pool"] == sorted([p3.address, stranger.address],
                                  key=lambda a: bytes.fromhex(a[2:]))
    why = {e["assessor"]: e["reasons"] for e in snap["excluded"]}
    assert set(why) == {p2.address} and "supplier" in why[p2.address][0]
    # the admin's own list (every assessor) is refused, and so is a wrong hash
    everyone = sorted((w.actors[n].address for n in ASSESSORS),
                      key=lambda a: bytes.fromhex(a[2:]))
    block = chain_of(w).head() + 3
    _refused(_commit(w, everyone, "0x" + public_jury.pool_snapshot_hash(everyone).hex(),
                     block), 422, "pool_snapshot_mismatch")
    # reinstated: back in the snapshot
    ok(pool_step(w, w.admin, "pool.reinstated", {"assessor": p1.address}))
    assert p1.address in ok(w.admin.get(f"/cases/{w.case_id}/jury/snapshot"))["pool"]
    _refused(w.buyer.get(f"/cases/{w.case_id}/jury/snapshot"), 403, "access_denied")


@pytest.fixture
def two_case_world(clean_db_url: str, tmp_path: Path) -> Iterator[World]:
    w = make_world(clean_db_url, tmp_path, jury_max_amount=AMOUNT, jury_size=3,
                   orders=((ORDER_ID, "buyer", "seller"), (ORDER_ID + 1, "buyer", "panel3")),
                   anchor_sender=DrawChain(), anchor_interval_seconds=0)
    with w.client:
        admit(w, *ASSESSORS)
        yield w


def test_a_prior_case_together_with_a_party_excludes_from_the_database(
        two_case_world: World) -> None:
    """panel3 sold to the buyer in another order: once that case exists, panel3 is out of
    every snapshot of a case of the buyer's (the history is the service's, not supplied)."""
    w = two_case_world
    w.buyer.post("/cases", json={"orderId": str(ORDER_ID + 1)})
    _to_jury_draw(w)
    snap = ok(w.admin.get(f"/cases/{w.case_id}/jury/snapshot"))
    panel3 = w.actors["panel3"].address
    assert panel3 not in snap["pool"]
    why = {e["assessor"]: e["reasons"] for e in snap["excluded"]}
    assert "prior case together" in why[panel3][0]


# -- the draw block ---------------------------------------------------------------------------


def test_the_draw_block_is_read_from_the_chain(jury_world: World) -> None:
    w = jury_world
    _to_jury_draw(w)
    chain = chain_of(w)
    snap = ok(w.admin.get(f"/cases/{w.case_id}/jury/snapshot"))
    pool, pool_hash = snap["pool"], snap["poolHash"]
    # a draw block the chain already has is refused: its randomness is known
    chain.mine_to(2)
    _refused(_commit(w, pool, pool_hash, chain.head()), 422, "draw_block_not_future")
    block = chain.head() + 3
    ok(_commit(w, pool, pool_hash, block))
    header_later = None

    def draw(block_hash: str, prevrandao: str) -> Any:
        r = public_jury.draw_randomness(w.case_id, 0, SEED, block_hash, prevrandao, pool_hash)
        return _post(w, w.admin, "jury/draw", "jury.drawn", {
            "role": "juror", "appointees": list(public_jury.draw(pool, 3, r)), "seed": SEED,
            "blockHash": block_hash, "prevrandao": prevrandao,
            "options": [{"toBuyer": str(AMOUNT), "toSeller": "0", "compensation": "0"}]})

    # before the block exists: nothing to draw with
    _refused(draw("0x" + "b1" * 32, "0x" + "4a" * 32), 409, "draw_block_pending")
    # the block mined before the commitment was anchored (no anchoring round yet)
    chain.mine_to(block)
    header_later = chain.draw_header(block)
    assert header_later is not None
    _refused(draw(header_later.block_hash, header_later.prevrandao), 409, "seed_not_anchored")
    w.tick()  # now anchored: in a block after the draw block, which is too late
    _refused(draw(header_later.block_hash, header_later.prevrandao), 409, "seed_not_anchored")
    assert w.admin.case()["stage"] == "jury_draw"


def test_randomness_other_than_the_blocks_is_refused(jury_world: World) -> None:
    w = jury_world
    _to_jury_draw(w)
    chain = chain_of(w)
    snap = ok(w.admin.get(f"/cases/{w.case_id}/jury/snapshot"))
    pool, pool_hash = snap["pool"], snap["poolHash"]
    block = chain.head() + 3
    ok(_commit(w, pool, pool_hash, block))
    w.tick()  # anchored before the draw block
    chain.mine_to(block)
    header = chain.draw_header(block)
    assert header is not None
    for block_hash, prevrandao in ((header.block_hash, "0x" + "4a" * 32),
                                   ("0x" + "b1" * 32, header.prevrandao)):
        r = public_jury.draw_randomness(w.case_id, 0, SEED, block_hash, prevrandao, pool_hash)
        _refused(_post(w, w.admin, "jury/draw", "jury.drawn", {
            "role": "juror", "appointees": list(public_jury.draw(pool, 3, r)), "seed": SEED,
            "blockHash": block_hash, "prevrandao": prevrandao,
            "options": [{"toBuyer": str(AMOUNT), "toSeller": "0", "compensation": "0"}]}),
            422, "draw_block_mismatch")


def test_without_an_anchoring_chain_no_jury_is_drawn(tmp_path: Path) -> None:

    url = f"sqlite:///{tmp_path / 'nochain.sqlite3'}"
    migrated(url)
    w = make_world(url, tmp_path, jury_max_amount=AMOUNT, jury_size=3)
    with w.client:
        admit(w, *ASSESSORS)
        _to_jury_draw(w)
        snap = ok(w.admin.get(f"/cases/{w.case_id}/jury/snapshot"))
        _refused(_commit(w, snap["pool"], snap["poolHash"], 10**6), 503, "chain_unavailable")


# -- replacement, anonymity, standing ------------------------------------------------------------


def test_a_juror_who_does_not_accept_is_replaced_by_the_same_procedure(
        jury_world: World) -> None:
    w = jury_world
    _to_jury_draw(w)
    jurors, _ = _draw(w)
    ok(_post(w, jurors[0], "jury/acceptance", "jury.accepted"))
    ok(_post(w, jurors[1], "jury/acceptance", "jury.accepted"))
    w.clock.advance(days=2, seconds=1)
    w.tick()
    view = w.admin.case()
    assert view["stage"] == "jury_draw"
    snap = ok(w.admin.get(f"/cases/{w.case_id}/jury/snapshot"))
    assert snap["round"] == 1
    # nobody drawn before in the case is in the new snapshot (the one who did not accept,
    # nor the two sitting)
    assert not {j.address for j in jurors} & set(snap["pool"])
    why = {e["assessor"]: e["reasons"] for e in snap["excluded"]}
    assert all("already drawn" in why[j.address][-1] for j in jurors)
    new, _ = _draw(w, round_=1, seed="0x" + "77" * 32,
                   kept=(jurors[0].address, jurors[1].address))
    assert len(new) == 1 and new[0].address not in {j.address for j in jurors}
    assert w.admin.case()["jurors"] == [jurors[0].address, jurors[1].address, new[0].address]
    # the replaced juror's standing: drawn once, never accepted, finished
    me = ok(jurors[2].get("/pool/me"))["standing"]
    assert (me["drawn"], me["accepted"], me["finished"], me["revealed"]) == (1, 0, 1, 0)


def _decide(w: World, votes: list[tuple[int, int]]) -> list[Any]:
    jurors, _ = _draw(w)
    for juror in jurors:
        ok(_post(w, juror, "jury/acceptance", "jury.accepted"))
    for juror, (choice, reason) in zip(jurors, votes, strict=True):
        ok(_post(w, juror, "jury/votes", "jury.vote_committed",
                 _vote(w, juror, choice, reason)))
    assert w.admin.case()["stage"] == "jury_reveal"  # every juror committed: reveals open
    for juror, (choice, reason) in zip(jurors, votes, strict=True):
        ok(_post(w, juror, "jury/reveals", "jury.vote_revealed",
                 {"choice": str(choice), "reasonCode": str(reason), "salt": _salt(juror)}))
    t = public_jury.tally(3, 3, votes)
    ok(_post(w, w.admin, "jury/tally", "jury.tallied",
             {"counts": [str(n) for n in t.counts], "winner": str(t.winner)}))
    return jurors


def test_parties_see_pseudonyms_the_institution_sees_addresses(jury_world: World) -> None:
    w = jury_world
    _to_jury_draw(w)
    jurors = _decide(w, [(1, 2), (1, 6), (0, 1)])
    addresses = [j.address for j in jurors]
    pool = [w.actors[n].address for n in ASSESSORS]  # the one not drawn is not shown either
    for party in (w.buyer, w.seller, w.mediator):
        seen = [party.get(f"/cases/{w.case_id}").text,
                party.get(f"/cases/{w.case_id}/timeline").text]
        timeline = ok(party.get(f"/cases/{w.case_id}/timeline"))
        for item in timeline:
            if item["type"] == "step" and item["action"].startswith("jury."):
                seen.append(party.get(f"/cases/{w.case_id}/steps/{item['sequence']}").text)
        for text in seen:
            for a in pool:
                assert a.lower() not in text.lower(), (party.name, a, text[:300])
        assert party.case()["jurors"] == ["juror-1", "juror-2", "juror-3"]
        signers = {i["signer"] for i in timeline if i["type"] == "step"
                   and i["action"] == "jury.vote_committed"}
        assert signers == {"juror-1", "juror-2", "juror-3"}
    # the seed step shows the snapshot's size and hash only, never its members
    seed_step = next(i for i in ok(w.buyer.get(f"/cases/{w.case_id}/timeline"))
                     if i["type"] == "step" and i["action"] == "jury.seed_committed")
    shown = json.loads(ok(w.buyer.get(
        f"/cases/{w.case_id}/steps/{seed_step['sequence']}"))["payload"])
    assert shown["pool"] is None and shown["poolSize"] == 4
    # the institution sees the addresses, and who read the juror view when
    assert w.admin.case()["jurors"] == addresses
    full = ok(w.admin.get(f"/cases/{w.case_id}/steps/{seed_step['sequence']}"))
    assert len(json.loads(full["payload"])["pool"]) == 4


def test_standing_follows_the_final_outcome(jury_world: World) -> None:
    w = jury_world
    _to_jury_draw(w)
    jurors = _decide(w, [(1, 2), (1, 6), (0, 1)])
    assert w.admin.case()["stage"] == "jury_decided"
    # not final yet: the objection window runs
    mine = ok(jurors[2].get("/pool/me"))["standing"]
    assert (mine["revealed"], mine["decided"]) == (1, 0)
    w.clock.advance(days=10, seconds=1)
    w.tick()
    assert w.admin.case()["stage"] == "jury_final"
    by = {a["assessor"]: a["standing"] for a in ok(w.admin.get("/pool"))["assessors"]}
    assert [by[j.address]["agreed"] for j in jurors] == [1, 1, 0]
    assert [by[j.address]["agreement"] for j in jurors] == [100, 100, 0]
    assert ok(jurors[2].get("/pool/me"))["standing"]["participation"] == 100
