"""A jury case's judicial package built by the service end to end (issue 14 item 8).

A small claim runs through the service on a real EVM (in-process py-evm): both parties
choose the jury, the mediator declares an impasse, assessors admitted to the pool are drawn
from a block of the anchoring chain, each juror accepts, commits and reveals a signed vote,
the institution tallies, the escrow checks and executes the verdict (submitJuryVerdict,
executeAward). A court downloads the package the service builds and ``chainarb verify``'s
checks pass, the ``jury`` check recomputing the draw and every vote; a vote tampered with
in that package fails, the failure naming the vote.
"""

from __future__ import annotations

import json
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from backend.chain.contracts import Timeouts
from backend.chain.devchain import advance_time, chain_time
from evidence import jury as public_jury
from evidence.judicial import _format as fmt
from evidence.judicial.verify import verify_package
from evidence.records import ProceduralStep, SignedRecord
from tests.backend.package.package_world import AMOUNT, ChainWorld, make_chain_world, post
from tests.support.identity import declare_profile, disclose
from tests.support.jury import admit, seed_hash, vote_payload, vote_salt
from tests.support.tsa import LocalTSA
from tests.support.world import Actor, filing_payload

ASSESSORS = ("panel1", "panel2", "panel3", "stranger")
OPTIONS = [{"toBuyer": str(AMOUNT), "toSeller": "0", "compensation": "0"},
           {"toBuyer": str(AMOUNT // 2), "toSeller": str(AMOUNT // 2), "compensation": "0"},
           {"toBuyer": "0", "toSeller": str(AMOUNT), "compensation": "0"}]
VOTES = ((1, 2), (1, 6), (0, 1))  # (option, reason code) of each juror in draw order


@pytest.fixture
def jury_chain_world(clean_db_url: str, tmp_path: Path,
                     local_tsa: LocalTSA) -> Iterator[ChainWorld]:
    """A chain world whose order a jury of three may decide, on SQLite and PostgreSQL (the
    PostgreSQL run is in the slow set)."""
    cw = make_chain_world(clean_db_url, tmp_path, local_tsa, jury_max_amount=AMOUNT,
                          jury_size=3, anchor_interval_seconds=0)
    with cw.world.client, local_tsa.following(lambda: chain_time(cw.w3)):
        admit(cw.world, *ASSESSORS)
        yield cw


def _step(who: Actor, case_id: str, path: str, action: str,
          payload: dict[str, Any] | None = None) -> dict[str, Any]:
    return post(who, f"/cases/{case_id}/{path}", who.plain(action, payload))


def _seed_block(cw: ChainWorld) -> int | None:
    from backend.services.jury_draw import seed_anchor

    ctx = cw.world.app.state.ctx
    with ctx.sessions() as session:
        return seed_anchor(session, cw.case_id, int(cw.w3.eth.chain_id))


def _draw(cw: ChainWorld) -> list[Actor]:
    """Commit a seed naming a future block, anchor it, mine to the block, reveal: the jury."""
    w, w3 = cw.world, cw.w3
    snap = w.admin.get(f"/cases/{cw.case_id}/jury/snapshot").json()
    pool, pool_hash = snap["pool"], snap["poolHash"]
    seed = "0x" + "5e" * 32
    draw_block = int(w3.eth.block_number) + 12
    _step(w.admin, cw.case_id, "jury/seed", "jury.seed_committed",
          {"seedHash": seed_hash(w, 0, seed), "drawBlock": str(draw_block), "pool": pool,
           "poolHash": pool_hash})
    cw.anchor_all()
    anchored = _seed_block(cw)
    assert anchored is not None and anchored < draw_block, (anchored, draw_block)
    while int(w3.eth.block_number) < draw_block:
        advance_time(w3, 1)
    block = w3.eth.get_block(draw_block)
    block_hash, prevrandao = "0x" + bytes(block["hash"]).hex(), "0x" + bytes(block["mixHash"]).hex()
    randomness = public_jury.draw_randomness(cw.case_id, 0, seed, block_hash, prevrandao,
                                             pool_hash)
    drawn = public_jury.draw(pool, 3, randomness)
    _step(w.admin, cw.case_id, "jury/draw", "jury.drawn",
          {"role": "juror", "appointees": list(drawn), "seed": seed, "blockHash": block_hash,
           "prevrandao": prevrandao, "options": OPTIONS})
    by_address = {w.actors[n].address: w.actors[n] for n in ASSESSORS}
    return [by_address[a] for a in drawn]


def run_jury_to_enforcement(cw: ChainWorld) -> list[Actor]:
    """The small claim from filing to the escrow paying the jury's verdict; the jurors."""
    w = cw.world
    case_id = w.open_case("buyer", cw.order_id)
    declare_profile(w.buyer, "Lena Fischer", "莉娜·菲舍尔", "DE", contact="lena@example.de")
    declare_profile(w.seller, "Wang Jianguo", "王建国", "CN", language="zh-Hans")
    payload = filing_payload(w, amount=AMOUNT // 2) | {"orderId": str(cw.order_id)}
    post(w.buyer, f"/cases/{case_id}/filing", w.buyer.plain("case.filed", payload))
    cw.escrow.raise_dispute(w.buyer.key, cw.order_id, bytes.fromhex(case_id[2:]))
    w.tick()
    for who in (w.seller, w.buyer):
        _step(who, case_id, "jury/choice", "jury.chosen")
    _step(w.buyer, case_id, "facilitation", "facilitation.requested")
    appointed = post(w.admin, f"/cases/{case_id}/mediator",
                     w.admin.appoint("mediator", w.mediator))
    disclose(w.mediator, case_id, "mediator", appointed)
    _step(w.mediator, case_id, "impasse", "impasse.declared")
    assert w.admin.case()["stage"] == "jury_draw"
    jurors = _draw(cw)
    w.tick()  # the escrow holds the jury (appointJury)
    for juror in jurors:
        _step(juror, case_id, "jury/acceptance", "jury.accepted")
    for juror, (choice, reason) in zip(jurors, VOTES, strict=True):
        _step(juror, case_id, "jury/votes", "jury.vote_committed",
              vote_payload(w, juror, choice, reason))
    for juror, (choice, reason) in zip(jurors, VOTES, strict=True):
        _step(juror, case_id, "jury/reveals", "jury.vote_revealed",
              {"choice": str(choice), "reasonCode": str(reason), "salt": vote_salt(juror)})
    _step(w.admin, case_id, "jury/tally", "jury.tallied", {"counts": ["1", "2", "0"],
                                                           "winner": "1"})
    assert w.admin.case()["stage"] == "jury_decided"
    w.tick()  # the escrow checks the jury's votes: submitJuryVerdict
    assert cw.world.port.read_order(cw.order_id).status == "DecisionPending"
    advance_time(cw.w3, Timeouts().objection + 60)
    cw.advance(days=10, seconds=60)
    w.tick()
    assert w.admin.case()["stage"] == "jury_final"
    post(w.buyer, f"/cases/{case_id}/enforcement", w.buyer.plain("enforcement.requested"))
    w.tick()
    view = w.admin.case()
    assert view["stage"] == "enforced", view["chainActions"]
    return jurors


def _package(cw: ChainWorld, tmp_path: Path) -> Path:
    w = cw.world
    r = w.admin.post("/admin/courts", json={"address": w.court.address, "name": "Court"})
    assert r.status_code in (200, 201), r.text
    r = w.admin.post(f"/cases/{cw.case_id}/courts", json={"court": w.court.address})
    assert r.status_code in (200, 201), r.text
    url = f"/cases/{cw.case_id}/judicial-package"
    for _ in range(3):
        cw.anchor_all()
        r = w.court.get(url)
        if r.status_code != 409:
            break
    assert r.status_code == 200, r.text[:300]
    path = tmp_path / "jury-package.zip"
    path.write_bytes(r.content)
    return path


def _tamper_reveal(src: Path, dst: Path, juror: str) -> int:
    """``src`` with ``juror``'s reveal changed to another option; its step's sequence."""
    with zipfile.ZipFile(src) as z:
        files = {n: z.read(n) for n in z.namelist()}
    sequence = -1
    for line in files[fmt.STEPS].splitlines():
        signed = SignedRecord.from_json(line)
        rec = signed.record
        if isinstance(rec, ProceduralStep) and rec.action == "jury.vote_revealed" \
                and rec.actor == juror:
            name = f"{fmt.PAYLOADS_DIR}{rec.payload_hash.hex()}.json"
            payload = json.loads(files[name])
            payload["choice"] = "2"
            files[name] = json.dumps(payload, separators=(",", ":"), sort_keys=True).encode()
            sequence = rec.sequence
    with zipfile.ZipFile(dst, "w") as z:
        for n, data in files.items():
            z.writestr(n, data)
    return sequence


def test_a_jury_case_package_verifies_and_a_tampered_vote_fails(
        jury_chain_world: ChainWorld, tmp_path: Path) -> None:
    cw = jury_chain_world
    jurors = run_jury_to_enforcement(cw)
    assert cw.world.port.read_order(cw.order_id).status == "Resolved"
    path = _package(cw, tmp_path)

    report = verify_package(path, chain=cw.w3, tsa_trust=cw.tsa.ca_pem.read_bytes())
    failed = {c.name: c.reason for c in report.checks if not c.passed}
    assert failed == {}, failed
    jury = next(c for c in report.checks if c.name == "jury")
    assert "1 draw round(s) recomputed; 3 of 3 committed vote(s) open" in jury.reason
    assert any("counts [1, 2, 0]: option 1" in d for d in jury.details), jury.details
    with zipfile.ZipFile(path) as z:
        summary = json.loads(z.read(fmt.JURY))
        assert json.loads(z.read(fmt.JURY_REDACTION))["version"] >= 1
    assert summary["jurors"] == [j.address for j in jurors]
    assert summary["tally"]["tallyHash"] == "0x" + public_jury.tally_hash(
        cw.case_id, (1, 2, 0), 1).hex()

    # the third juror's reveal changed to another option: the jury check names that vote
    forged = tmp_path / "forged.zip"
    sequence = _tamper_reveal(path, forged, jurors[2].address)
    report = verify_package(forged, chain=cw.w3, tsa_trust=cw.tsa.ca_pem.read_bytes())
    jury = next(c for c in report.checks if c.name == "jury")
    assert not jury.passed
    assert jury.reason.startswith(f"step {sequence} (jury.vote_revealed signed by "
                                  f"{jurors[2].address}): "), jury.reason
    assert "differs from step" in jury.reason and "payloadHash" in jury.reason
