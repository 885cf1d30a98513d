"""The jury track's test support: an anchoring chain whose headers give a draw block's hash
and prevrandao, and the assessor pool built through its routes (docs/jury.md)."""

from __future__ import annotations

import hashlib
from typing import Any

from backend.chain import jury_vote_typed_data, sign_typed_data
from backend.jury import DEFAULT_CRITERIA, POOL_ID
from backend.services.jury_draw import DrawHeader
from backend.services.steps import payload_hash
from evidence import jury as public_jury
from evidence._keccak import keccak256
from evidence.records import ProceduralStep, bytes32
from tests.support.anchor_chain import FakeChain
from tests.support.world import Actor, World

GOOD = {"accountAgeDays": 400, "identityVerified": True, "standing": 90, "testScore": 95}


class DrawChain(FakeChain):
    """The fake anchoring chain, also a ``BlockSource``: each block's prevrandao is a hash
    of its number (what a beacon chain would give; unknowable before the block)."""

    def draw_header(self, number: int) -> DrawHeader | None:
        if number >= len(self.blocks):
            return None
        randao = "0x" + hashlib.sha256(f"randao{number}".encode()).hexdigest()
        return DrawHeader(block_hash=self.blocks[number], prevrandao=randao)

    def mine_to(self, number: int) -> None:
        while self.head() < number:
            self.empty_block()


def pool_step(w: World, who: Actor, action: str, payload: dict[str, Any]) -> Any:
    """Sign and post one pool step as ``who`` (its route is the action's)."""
    head = w.admin.get("/pool/head").json()
    rec = ProceduralStep(case_id=bytes32(POOL_ID), sequence=head["nextSequence"],
                         prev_hash=bytes32(head["prevHash"]), actor=who.address,
                         action=action, payload_hash=bytes32(payload_hash(payload)),
                         signed_at=who.at())
    route = {"pool.applied": "apply", "pool.admitted": "admit", "pool.suspended": "suspend",
             "pool.reinstated": "reinstate", "pool.relationship_declared": "relationships"}
    return who.post(f"/pool/{route[action]}", json={
        "record": rec.sign(who.key.key, w.domain).to_json_obj(), "payload": payload})


def admit(w: World, *names: str) -> None:
    """``names`` apply and the institution (an admin) admits each."""
    for n in names:
        who = w.actors[n]
        r = pool_step(w, who, "pool.applied", {"assessor": who.address})
        assert r.status_code == 201, r.text
        r = pool_step(w, w.admin, "pool.admitted", {
            "assessor": who.address, "criteriaHash": DEFAULT_CRITERIA.hash(), **GOOD})
        assert r.status_code == 201, r.text


def seed_hash(w: World, round_: int, seed: str) -> str:
    return "0x" + public_jury.seed_commitment(w.case_id, round_, seed).hex()


def vote_salt(juror: Actor) -> str:
    """A juror's salt in tests (derived from its address)."""
    return "0x" + keccak256(juror.address.encode()).hex()


def vote_payload(w: World, juror: Actor, choice: int, reason: int,
                 signer: Actor | None = None) -> dict[str, str]:
    """The commit step's payload: the commitment and the juror's EIP-712 JuryVote signature
    of it (what the escrow counts; ``signer`` signs in the juror's name: an attack)."""
    salt = vote_salt(juror)
    typed = jury_vote_typed_data(w.domain, bytes.fromhex(w.case_id[2:]), juror.address,
                                 choice, reason, bytes.fromhex(salt[2:]))
    sig = sign_typed_data((signer or juror).key, typed)
    commitment = public_jury.vote_commitment(w.case_id, juror.address, choice, reason, salt)
    return {"commitment": "0x" + commitment.hex(), "signature": "0x" + sig.hex()}
