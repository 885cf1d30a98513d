"""`chainarb verify`'s `jury` check on a package (docs/jury.md §6): the draw recomputed from
the signed steps, the draw block's hash and prevrandao read from a carried header, the seed
anchored before that block, every vote opened, the tally recomputed; each forgery failed
by name. The jury's steps are added to the real case's package (the other checks then fail,
as they must for added records; the `jury` check stands on its own)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

from eth_account import Account

from backend.chain import jury_vote_typed_data, sign_typed_data
from evidence import jury as public_jury
from evidence.blockproof import BlockHeader
from evidence.chainproofs import header_of
from evidence.judicial import JuryStep, Status, jury_section, recompute_jury, verify_package
from evidence.judicial import _format as fmt
from evidence.records import ProceduralStep, SignedRecord, canonical_json
from tests.judicial.judicial_world import Case
from tests.judicial.test_judicial_package import entries, repack

JURORS_KEYS = [Account.create(f"assessor {i}") for i in range(5)]
POOL = sorted((k.address for k in JURORS_KEYS), key=lambda a: bytes.fromhex(a[2:]))
SEED = "0x" + "5e" * 32
OPTIONS = [{"toBuyer": "2000000000000000000", "toSeller": "0", "compensation": "0"},
           {"toBuyer": "0", "toSeller": "2000000000000000000", "compensation": "0"}]


def _vote_signature(case: Case, juror: Any, vote: tuple[int, int], salt: str) -> str:
    """The juror's EIP-712 JuryVote signature (what the escrow counts, the verifier checks)."""
    typed = jury_vote_typed_data(case.domain, case.case_id, juror.address,
                                 vote[0], vote[1], bytes.fromhex(salt[2:]))
    return "0x" + sign_typed_data(juror, typed).hex()


def _anchor_of_first_batch(files: dict[str, bytes]) -> tuple[str, int, int]:
    row = json.loads(files[fmt.ANCHORS])["anchors"][0]
    return row["root"], int(row["blockNumber"]), int(row["chainId"])


def jury_edit(case: Case, *, forge: Callable[[list[dict[str, Any]]], None] | None = None,
              anchored_late: bool = False, summary: bool = True
              ) -> Callable[[dict[str, bytes]], None]:
    """Append a 3-juror case's steps (signed by their signers), their payloads, the draw
    block's header, a proof naming the seed step's root, and the jury documents."""

    def edit(files: dict[str, bytes]) -> None:
        root, anchored_in, chain_id = _anchor_of_first_batch(files)
        number = case.w3.eth.block_number if not anchored_late else anchored_in
        block = case.w3.eth.get_block(number)
        header: BlockHeader = header_of(block)
        block_hash, mix = "0x" + header.hash.hex(), "0x" + header.fields[13].hex()
        case_id = case.case_id
        pool_hash = "0x" + public_jury.pool_snapshot_hash(POOL).hex()
        r = public_jury.draw_randomness(case_id, 0, SEED, block_hash, mix, pool_hash)
        jurors = public_jury.draw(POOL, 3, r)
        keys = {k.address: k for k in JURORS_KEYS}
        inst = case.actors.institution
        salt = {j: "0x" + public_jury.keccak256(j.encode()).hex() for j in jurors}  # type: ignore[attr-defined]
        votes = dict(zip(jurors, [(0, 1), (0, 2), (1, 4)], strict=True))
        plan: list[dict[str, Any]] = [
            {"key": inst, "action": "jury.seed_committed", "payload": {
                "seedHash": "0x" + public_jury.seed_commitment(case_id, 0, SEED).hex(),
                "drawBlock": str(number), "pool": POOL, "poolHash": pool_hash}},
            {"key": inst, "action": "jury.drawn", "payload": {
                "role": "juror", "appointees": list(jurors), "seed": SEED,
                "blockHash": block_hash, "prevrandao": mix, "options": OPTIONS}},
            *({"key": keys[j], "action": "jury.accepted", "payload": {}} for j in jurors),
            *({"key": keys[j], "action": "jury.vote_committed", "payload": {
                "commitment": "0x" + public_jury.vote_commitment(
                    case_id, j, *votes[j], salt[j]).hex(),
                "signature": _vote_signature(case, keys[j], votes[j], salt[j])}}
              for j in jurors),
            *({"key": keys[j], "action": "jury.vote_revealed", "payload": {
                "choice": str(votes[j][0]), "reasonCode": str(votes[j][1]),
                "salt": salt[j]}} for j in jurors),
            {"key": inst, "action": "jury.tallied", "payload": {"counts": ["2", "1"],
                                                                "winner": "0"}},
        ]
        if forge is not None:
            forge(plan)
        lines = files[fmt.STEPS].splitlines(keepends=True)
        last = SignedRecord.from_json(lines[-1])
        prev, seq, at = last.record_hash, last.record.sequence + 1, last.record.signed_at  # type: ignore[attr-defined]
        signed_steps = []
        for n, s in enumerate(plan):
            data = canonical_json(s["payload"])
            rec = ProceduralStep(case_id=case_id, sequence=seq + n, prev_hash=prev,
                                 actor=s["key"].address, action=s["action"],
                                 payload_hash=hashlib.sha256(data).digest(),
                                 signed_at=at + n)
            signed = rec.sign(s["key"].key, case.domain)
            signed_steps.append((signed, s["payload"]))
            prev = signed.record_hash
            files[f"{fmt.PAYLOADS_DIR}{rec.payload_hash.hex()}.json"] = data
            lines.append(signed.to_json() + b"\n")
        files[fmt.STEPS] = b"".join(lines)
        blocks = json.loads(files[fmt.BLOCKS])
        blocks["headers"].append({"chainId": str(chain_id), "number": str(header.number),
                                  "hash": block_hash, "rlp": "0x" + header.rlp.hex()})
        files[fmt.BLOCKS] = fmt.pretty(blocks)
        merkle = json.loads(files[fmt.MERKLE])
        seed_step = signed_steps[0][0]
        merkle["proofs"].append({"recordHash": "0x" + seed_step.record_hash.hex(),
                                 "root": root})
        files[fmt.MERKLE] = fmt.pretty(merkle)
        if summary:
            steps = [JuryStep(sequence=sg.record.sequence, action=sg.record.action,
                              signer=sg.record.actor, payload=pl, record_hash=sg.record_hash)
                     for sg, pl in signed_steps]
            done = recompute_jury(case_id, steps, (case.actors.buyer.address,
                                                   case.actors.seller.address))
            files[fmt.JURY] = fmt.pretty(jury_section(case_id, done))
            files[fmt.JURY_REDACTION] = fmt.pretty({"version": 1})

    return edit


def jury_check(case: Case, path: Path) -> tuple[Status, str]:
    report = verify_package(path, chain=case.w3)
    c = next(c for c in report.checks if c.name == "jury")
    return c.status, c.reason + " | " + " | ".join(c.details)


def test_a_case_without_a_jury_passes(case: Case) -> None:
    assert jury_check(case, case.package) == (Status.PASSED, "no jury in this case | ")


def test_an_honest_jury_is_recomputed(case: Case, tmp_path: Path) -> None:
    status, reason = jury_check(case, repack(case, tmp_path / "j.zip", jury_edit(case)))
    assert status is Status.PASSED, reason
    assert "1 draw round(s) recomputed; 3 of 3 committed vote(s) open" in reason
    assert "counts [2, 1]: option 0" in reason
    assert "reason 4 (delivery proven): 1 vote(s)" in reason


def test_the_draw_block_is_confirmed_by_the_courts_sources(case: Case, tmp_path: Path) -> None:
    """The header the draw rests on is among the blocks `block_confirmation` confirms."""
    path = repack(case, tmp_path / "j.zip", jury_edit(case))
    report = verify_package(path, chain=case.w3)
    confirm = next(c for c in report.checks if c.name == "block_confirmation")
    number = str(case.w3.eth.block_number)
    assert any(number in d for d in confirm.details) or number in confirm.reason, confirm


def _fails(case: Case, tmp_path: Path, says: str, **kw: Any) -> None:
    status, reason = jury_check(case, repack(case, tmp_path / "j.zip", jury_edit(case, **kw)))
    assert status is Status.FAILED, reason
    assert says in reason, reason


def test_a_forged_draw_fails(case: Case, tmp_path: Path) -> None:
    def forge(plan: list[dict[str, Any]]) -> None:
        drawn = plan[1]["payload"]["appointees"]
        other = next(a for a in POOL if a not in drawn)
        plan[1]["payload"]["appointees"] = [other, *drawn[1:]]

    _fails(case, tmp_path, "recomputed draw selects", forge=forge, summary=False)


def test_another_blocks_randomness_fails(case: Case, tmp_path: Path) -> None:
    def forge(plan: list[dict[str, Any]]) -> None:
        plan[1]["payload"]["prevrandao"] = "0x" + "4a" * 32

    _fails(case, tmp_path, "prevrandao", forge=forge)


def test_a_seed_anchored_at_or_after_the_draw_block_fails(case: Case, tmp_path: Path) -> None:
    _fails(case, tmp_path, "must be anchored before the draw block", anchored_late=True)


def test_a_reveal_that_does_not_open_its_commitment_fails(case: Case,
                                                          tmp_path: Path) -> None:
    def forge(plan: list[dict[str, Any]]) -> None:
        plan[8]["payload"]["reasonCode"] = "7"

    _fails(case, tmp_path, "does not open the commitment", forge=forge, summary=False)


def test_a_vote_signed_by_another_key_fails(case: Case, tmp_path: Path) -> None:
    """Every vote signature is checked: a commit whose JuryVote signature is another
    juror's (the escrow would not count it) fails, naming the vote's step and juror."""
    def forge(plan: list[dict[str, Any]]) -> None:
        plan[5]["payload"]["signature"] = plan[6]["payload"]["signature"]

    _fails(case, tmp_path, "does not carry the juror's JuryVote signature", forge=forge,
           summary=False)


def test_a_forged_tally_fails(case: Case, tmp_path: Path) -> None:
    def forge(plan: list[dict[str, Any]]) -> None:
        plan[-1]["payload"] = {"counts": ["1", "2"], "winner": "1"}

    _fails(case, tmp_path, "recorded tally", forge=forge)


def test_a_summary_other_than_the_steps_fails(case: Case, tmp_path: Path) -> None:
    def edit(files: dict[str, bytes]) -> None:
        jury_edit(case)(files)
        doc = json.loads(files[fmt.JURY])
        doc["tally"]["winner"] = 1
        files[fmt.JURY] = fmt.pretty(doc)

    status, reason = jury_check(case, repack(case, tmp_path / "j.zip", edit))
    assert status is Status.FAILED and "differs from the draw" in reason
    assert entries(case.package)  # the original package is untouched
