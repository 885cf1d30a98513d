"""The assessor pool: signed steps (apply, admit under the published criteria, suspend,
reinstate, declare a relationship), the conflict checks, and the eligible snapshot a case's
draw fixes — recomputed from the signed records alone."""

from __future__ import annotations

import hashlib
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

import pytest
from eth_account import Account

from backend import jury as j
from backend import procedure as p
from evidence import jury as public_jury
from evidence.records import Domain, ProceduralStep, SignedRecord, bytes32, canonical_json

T0 = datetime(2026, 3, 1, 9, 0, tzinfo=UTC)
DOMAIN = Domain(chain_id=31337, verifying_contract="0x" + "ee" * 20)
INSTITUTION = Account.create("institution")
PEOPLE = [Account.create(f"assessor {i}") for i in range(6)]
BUYER, SELLER = Account.create("buyer"), Account.create("seller")
GOOD = {"accountAgeDays": 400, "identityVerified": True, "standing": 90, "testScore": 95}


def admit_payload(who: str, **over: Any) -> dict[str, Any]:
    return {"assessor": who, "criteriaHash": j.DEFAULT_CRITERIA.hash(), **GOOD, **over}


class Chain:
    """Signs pool steps as their signers would, linking each to the one before."""

    def __init__(self) -> None:
        self.records: list[SignedRecord] = []
        self.payloads: list[dict[str, Any]] = []
        self.pool = j.new_pool(INSTITUTION.address)

    def step(self, signer: Any, action: str, payload: dict[str, Any]) -> None:
        prev = self.records[-1].record_hash if self.records else b"\x00" * 32
        at = int(T0.timestamp()) + len(self.records)
        rec = ProceduralStep(case_id=bytes32(j.POOL_ID), sequence=len(self.records),
                             prev_hash=prev, actor=signer.address, action=action,
                             payload_hash=hashlib.sha256(canonical_json(payload)).digest(),
                             signed_at=at)
        self.pool = j.apply_pool(self.pool, action, signer.address, payload,
                                 datetime.fromtimestamp(at, UTC), sequence=len(self.records))
        self.records.append(rec.sign(signer.key, DOMAIN))
        self.payloads.append(payload)


def admitted_chain(n: int = 5) -> Chain:
    c = Chain()
    for person in PEOPLE[:n]:
        c.step(person, "pool.applied", {"assessor": person.address})
        c.step(INSTITUTION, "pool.admitted", admit_payload(person.address))
    return c


def test_apply_then_admit_under_the_published_criteria() -> None:
    c = admitted_chain(1)
    a = c.pool.assessor(PEOPLE[0].address)
    assert a is not None and a.status is j.AssessorStatus.ADMITTED
    assert a.admitted_at == datetime.fromtimestamp(int(T0.timestamp()) + 1, UTC)


@pytest.mark.parametrize(("field", "value", "says"), [
    ("accountAgeDays", 89, "account age"),
    ("identityVerified", False, "identity"),
    ("standing", 59, "standing"),
    ("testScore", 79, "test score"),
])
def test_admission_below_a_criterion_is_refused(field: str, value: Any, says: str) -> None:
    c = Chain()
    c.step(PEOPLE[0], "pool.applied", {"assessor": PEOPLE[0].address})
    with pytest.raises(p.InvalidCommand, match=says):
        c.step(INSTITUTION, "pool.admitted", admit_payload(PEOPLE[0].address, **{field: value}))


def test_admission_must_name_the_published_criteria() -> None:
    c = Chain()
    c.step(PEOPLE[0], "pool.applied", {"assessor": PEOPLE[0].address})
    other = j.AdmissionCriteria(min_test_score=10).hash()
    with pytest.raises(p.InvalidCommand, match="criteriaHash"):
        c.step(INSTITUTION, "pool.admitted",
               admit_payload(PEOPLE[0].address, criteriaHash=other))


def test_only_the_institution_admits_and_only_the_assessor_applies() -> None:
    c = Chain()
    with pytest.raises(p.WrongActor):
        c.step(PEOPLE[1], "pool.applied", {"assessor": PEOPLE[0].address})
    c.step(PEOPLE[0], "pool.applied", {"assessor": PEOPLE[0].address})
    with pytest.raises(p.WrongActor):
        c.step(PEOPLE[0], "pool.admitted", admit_payload(PEOPLE[0].address))
    with pytest.raises(p.DuplicateAction):
        c.step(PEOPLE[0], "pool.applied", {"assessor": PEOPLE[0].address})
    with pytest.raises(p.InvalidCommand, match="not applied"):
        c.step(INSTITUTION, "pool.admitted", admit_payload(PEOPLE[1].address))


def test_suspended_assessors_leave_the_eligible_pool_until_reinstated() -> None:
    c = admitted_chain(3)
    parties = (BUYER.address, SELLER.address)
    assert len(j.eligible(c.pool, parties)) == 3
    c.step(INSTITUTION, "pool.suspended", {"assessor": PEOPLE[1].address,
                                           "reasonHash": "0x" + "ab" * 32})
    assert PEOPLE[1].address not in j.eligible(c.pool, parties)
    with pytest.raises(p.DuplicateAction):
        c.step(INSTITUTION, "pool.suspended", {"assessor": PEOPLE[1].address,
                                               "reasonHash": "0x" + "ab" * 32})
    c.step(INSTITUTION, "pool.reinstated", {"assessor": PEOPLE[1].address})
    assert PEOPLE[1].address in j.eligible(c.pool, parties)


def test_conflict_checks_same_address_relationship_and_prior_case() -> None:
    c = admitted_chain(5)
    c.step(PEOPLE[2], "pool.relationship_declared",
           {"assessor": PEOPLE[2].address, "party": SELLER.address, "nature": "cousin"})
    parties = (BUYER.address, SELLER.address, PEOPLE[0].address)  # PEOPLE[0] is a party here
    history = [(PEOPLE[3].address, BUYER.address, Account.create("x").address)]
    assert j.conflicts(c.pool, PEOPLE[0].address, parties) == ["is a party (same address)"]
    assert "cousin" in j.conflicts(c.pool, PEOPLE[2].address, parties)[0]
    assert "prior case" in j.conflicts(c.pool, PEOPLE[3].address, parties, history)[0]
    members, pool_hash = j.snapshot(c.pool, parties, history)
    assert members == tuple(sorted((PEOPLE[1].address, PEOPLE[4].address),
                                   key=lambda a: bytes.fromhex(a[2:])))
    assert pool_hash == "0x" + public_jury.pool_snapshot_hash(members).hex()


def test_the_pool_is_recomputed_from_the_signed_records_alone() -> None:
    c = admitted_chain(4)
    c.step(INSTITUTION, "pool.suspended", {"assessor": PEOPLE[0].address,
                                           "reasonHash": "0x" + "cd" * 32})
    again = j.pool_from_records(c.records, c.payloads, domain=DOMAIN,
                                institution=INSTITUTION.address)
    assert again.assessors == c.pool.assessors
    parties = (BUYER.address, SELLER.address)
    assert j.snapshot(again, parties) == j.snapshot(c.pool, parties)


def test_a_forged_or_altered_pool_record_is_refused() -> None:
    c = admitted_chain(2)
    kw = dict(domain=DOMAIN, institution=INSTITUTION.address)
    # the institution's admission carrying an assessor's signature instead of its own
    rec = c.records[1].record
    sig = Account.unsafe_sign_hash(rec.digest(DOMAIN), PEOPLE[0].key).signature
    swapped = [c.records[0], SignedRecord(DOMAIN, rec, (bytes(sig),)), *c.records[2:]]
    with pytest.raises(p.InvalidCommand, match="step 1"):
        j.pool_from_records(swapped, c.payloads, **kw)
    # an assessor admits itself, signing as the actor of its own admission
    self_admitted = replace(rec, actor=PEOPLE[0].address).sign(PEOPLE[0].key, DOMAIN)  # type: ignore[call-arg]
    with pytest.raises(p.WrongActor, match="institution"):
        j.pool_from_records([c.records[0], self_admitted], c.payloads[:2], **kw)
    # an altered payload (a lower test score than the one signed)
    altered = [dict(x) for x in c.payloads]
    altered[1]["testScore"] = 100
    with pytest.raises(p.InvalidCommand, match="payload hashes"):
        j.pool_from_records(c.records, altered, **kw)
    # a dropped step breaks the chain
    with pytest.raises(p.InvalidCommand, match="prevHash"):
        j.pool_from_records(c.records[1:], c.payloads[1:], **kw)
    # another deployment's records
    other = Domain(chain_id=1, verifying_contract="0x" + "ee" * 20)
    with pytest.raises(p.InvalidCommand, match="another deployment"):
        j.pool_from_records([r.record.sign(PEOPLE[0].key, other) for r in c.records[:1]],
                            c.payloads[:1], **kw)


def test_every_pool_step_has_words_in_both_languages() -> None:
    for spec in j.POOL_STEPS:
        assert spec.en and any("\u4e00" <= ch <= "\u9fff" for ch in spec.zh), spec.action


def test_a_case_snapshot_feeds_the_draw() -> None:
    """The snapshot the pool gives is what the case's seed step commits and the draw uses."""
    c = admitted_chain(6)
    members, pool_hash = j.snapshot(c.pool, (BUYER.address, SELLER.address))
    case_id = "0x" + "ca" * 32
    randomness = public_jury.draw_randomness(case_id, 0, "0x" + "01" * 32, "0x" + "02" * 32,
                                             "0x" + "03" * 32, pool_hash)
    jury = public_jury.draw(members, 3, randomness)
    assert set(jury) <= set(members) and len(set(jury)) == 3
