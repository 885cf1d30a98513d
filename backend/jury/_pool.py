"""The assessor pool: who may be drawn as a juror, as a fold over signed steps (pure).

Rule 1: every change to the pool is one signed ``ProceduralStep`` of the pool's own hash
chain (``POOL_ID`` is its case id): an assessor applies, the institution admits (under the
published criteria, whose values it records in the step), suspends or reinstates, and an
assessor declares a relationship. ``POOL_STEPS`` declares each step once (action, signer,
payload keys, words); ``apply_pool`` is the one function that decides admission of a step.

Rule 2: no clock, no database, no keys. ``pool_from_records`` recomputes the pool from the
signed records alone (signatures, the hash chain, payload hashes), so anyone holding the
records gets the same pool and the same eligible snapshot for a case.

Theory: a case's draw reads ``eligible(pool, parties, history)``: admitted, not suspended
assessors with no conflict — not a party, no declared relationship with a party, never in
a prior case together with a party (``history``: the participants of each earlier case, as
the service knows them) — sorted by address. Its hash is the snapshot the case's
``jury.seed_committed`` step fixes (evidence.jury.pool_snapshot_hash).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from enum import StrEnum
from typing import Any

from backend.procedure import (
    DuplicateAction,
    InvalidCommand,
    StaleSequence,
    WrongActor,
)
from evidence.errors import EvidenceError
from evidence.jury import pool_snapshot_hash
from evidence.records import Domain, ProceduralStep, SignedRecord, canonical_json, checksum_address

__all__ = [
    "DEFAULT_CRITERIA",
    "POOL_ID",
    "POOL_STEPS",
    "AdmissionCriteria",
    "Assessor",
    "AssessorStatus",
    "Pool",
    "PoolStepSpec",
    "apply_pool",
    "conflicts",
    "eligible",
    "new_pool",
    "pool_from_records",
    "snapshot",
]

POOL_ID = "0x" + hashlib.sha256(b"chainarb.assessor-pool.v1").hexdigest()
"""The pool's hash chain id (the ``caseId`` of its steps): no case id is a SHA-256 of it."""

MAX_NATURE_CHARS = 200


@dataclass(frozen=True, kw_only=True)
class AdmissionCriteria:
    """The published criteria (Alibaba's mass jury: accounts at least 90 days old, real-name
    verified, good credit; ours adds a qualification test of sample cases)."""

    min_account_age_days: int = 90
    identity_verified: bool = True
    min_standing: int = 60  # the institution's standing score of the account, 0..100
    min_test_score: int = 80  # the qualification test of sample cases, 0..100

    def hash(self) -> str:
        """SHA-256 of the criteria's canonical JSON: what every admission step names."""
        return "0x" + hashlib.sha256(canonical_json({
            "minAccountAgeDays": self.min_account_age_days,
            "identityVerified": self.identity_verified,
            "minStanding": self.min_standing, "minTestScore": self.min_test_score,
        })).hexdigest()

    def refusals(self, *, account_age_days: int, identity_verified: bool, standing: int,
                 test_score: int) -> list[str]:
        """Each criterion the measured values fail (empty: admissible)."""
        out = []
        if account_age_days < self.min_account_age_days:
            out.append(f"account age {account_age_days} days < {self.min_account_age_days}")
        if self.identity_verified and not identity_verified:
            out.append("identity not verified by the institution")
        if standing < self.min_standing:
            out.append(f"standing {standing} < {self.min_standing}")
        if test_score < self.min_test_score:
            out.append(f"qualification test score {test_score} < {self.min_test_score}")
        return out


DEFAULT_CRITERIA = AdmissionCriteria()


class AssessorStatus(StrEnum):
    APPLIED = "applied"
    ADMITTED = "admitted"
    SUSPENDED = "suspended"


@dataclass(frozen=True, kw_only=True)
class Assessor:
    address: str
    status: AssessorStatus
    applied_at: datetime
    admitted_at: datetime | None = None
    relationships: tuple[tuple[str, str], ...] = ()  # (party address, nature)


@dataclass(frozen=True, kw_only=True)
class Pool:
    institution: str
    criteria: AdmissionCriteria = DEFAULT_CRITERIA
    assessors: tuple[Assessor, ...] = ()
    next_sequence: int = 0

    def assessor(self, address: str) -> Assessor | None:
        for a in self.assessors:
            if a.address == address:
                return a
        return None


@dataclass(frozen=True, kw_only=True)
class PoolStepSpec:
    """One pool step: its action, who signs it, its exact payload keys, its words."""

    action: str
    signer: str  # "assessor" (the payload's ``assessor``) or "institution"
    payload: tuple[str, ...]
    en: str
    zh: str


POOL_STEPS: tuple[PoolStepSpec, ...] = (
    PoolStepSpec(action="pool.applied", signer="assessor", payload=("assessor",),
                 en="Applied to be a public assessor", zh="申请成为大众评审员"),
    PoolStepSpec(action="pool.admitted", signer="institution",
                 payload=("assessor", "criteriaHash", "accountAgeDays", "identityVerified",
                          "standing", "testScore"),
                 en="Admitted as an assessor under the published criteria",
                 zh="依公开标准获准成为评审员"),
    PoolStepSpec(action="pool.suspended", signer="institution",
                 payload=("assessor", "reasonHash"),
                 en="Assessor suspended by the institution", zh="机构暂停评审员资格"),
    PoolStepSpec(action="pool.reinstated", signer="institution", payload=("assessor",),
                 en="Assessor reinstated by the institution", zh="机构恢复评审员资格"),
    PoolStepSpec(action="pool.relationship_declared", signer="assessor",
                 payload=("assessor", "party", "nature"),
                 en="Relationship with a possible party declared by an assessor",
                 zh="评审员申报与潜在当事人的关系"),
)
_SPECS: Mapping[str, PoolStepSpec] = {s.action: s for s in POOL_STEPS}


def new_pool(institution: str, criteria: AdmissionCriteria = DEFAULT_CRITERIA) -> Pool:
    return Pool(institution=checksum_address(institution, "institution"), criteria=criteria)


def _address(payload: Mapping[str, Any], key: str) -> str:
    try:
        return checksum_address(payload[key], f"payload.{key}")
    except EvidenceError as exc:
        raise InvalidCommand(str(exc)) from None


def _int(payload: Mapping[str, Any], key: str, high: int) -> int:
    value = payload[key]
    if type(value) is not int or not 0 <= value <= high:
        raise InvalidCommand(f"payload.{key}: expected an integer 0..{high}, found {value!r}")
    return value


def _replace_assessor(pool: Pool, new: Assessor) -> tuple[Assessor, ...]:
    if pool.assessor(new.address) is None:
        return (*pool.assessors, new)
    return tuple(new if a.address == new.address else a for a in pool.assessors)


def apply_pool(pool: Pool, action: str, actor: str, payload: Mapping[str, object], now: datetime,
               *, sequence: int) -> Pool:
    """Apply one pool step signed by ``actor`` at ``now``; the new pool, or a refusal
    (``WrongActor``, ``StaleSequence``, ``DuplicateAction``, ``InvalidCommand``) that
    changes nothing. Checked in this order: action, sequence, payload keys, signer, content.
    """
    spec = _SPECS.get(action)
    if spec is None:
        raise InvalidCommand(f"action {action!r}: expected one of {', '.join(_SPECS)}")
    if sequence != pool.next_sequence:
        raise StaleSequence(f"{action}: expected sequence {pool.next_sequence}, found {sequence}")
    if set(payload) != set(spec.payload):
        raise InvalidCommand(f"payload of {action}: expected keys {sorted(spec.payload)}, "
                             f"found {sorted(payload)}")
    assessor = _address(payload, "assessor")
    signer = assessor if spec.signer == "assessor" else pool.institution
    if actor != signer:
        raise WrongActor(f"{action} is signed by the {spec.signer} ({signer}); found {actor}")
    current = pool.assessor(assessor)
    updated = _HANDLERS[action](pool, current, assessor, payload, now)
    return replace(pool, assessors=_replace_assessor(pool, updated),
                   next_sequence=pool.next_sequence + 1)


def _applied(pool: Pool, current: Assessor | None, assessor: str, payload: Mapping[str, Any],
             now: datetime) -> Assessor:
    if current is not None:
        raise DuplicateAction(f"{assessor} already applied (status {current.status})")
    if assessor == pool.institution:
        raise InvalidCommand("the institution's key cannot be an assessor")
    return Assessor(address=assessor, status=AssessorStatus.APPLIED, applied_at=now)


def _need(current: Assessor | None, assessor: str, *allowed: AssessorStatus) -> Assessor:
    if current is None:
        raise InvalidCommand(f"{assessor} has not applied to the pool")
    if current.status not in allowed:
        raise DuplicateAction(f"{assessor} is {current.status}; expected "
                              f"{' or '.join(allowed)}")
    return current


def _admitted(pool: Pool, current: Assessor | None, assessor: str, payload: Mapping[str, Any],
              now: datetime) -> Assessor:
    a = _need(current, assessor, AssessorStatus.APPLIED)
    if payload["criteriaHash"] != pool.criteria.hash():
        raise InvalidCommand(f"payload.criteriaHash: the published criteria hash to "
                             f"{pool.criteria.hash()}; found {payload['criteriaHash']!r}")
    verified = payload["identityVerified"]
    if not isinstance(verified, bool):
        raise InvalidCommand(f"payload.identityVerified: expected true or false, found "
                             f"{verified!r}")
    failed = pool.criteria.refusals(
        account_age_days=_int(payload, "accountAgeDays", 100_000), identity_verified=verified,
        standing=_int(payload, "standing", 100), test_score=_int(payload, "testScore", 100))
    if failed:
        raise InvalidCommand(f"{assessor} does not meet the published criteria: "
                             f"{'; '.join(failed)}")
    return replace(a, status=AssessorStatus.ADMITTED, admitted_at=now)


def _suspended(pool: Pool, current: Assessor | None, assessor: str, payload: Mapping[str, Any],
               now: datetime) -> Assessor:
    reason = payload["reasonHash"]
    if not isinstance(reason, str) or len(reason) != 66 or not reason.startswith("0x"):
        raise InvalidCommand(f"payload.reasonHash: expected 0x + 64 hex, found {reason!r}")
    a = _need(current, assessor, AssessorStatus.ADMITTED, AssessorStatus.APPLIED)
    return replace(a, status=AssessorStatus.SUSPENDED)


def _reinstated(pool: Pool, current: Assessor | None, assessor: str,
                payload: Mapping[str, Any], now: datetime) -> Assessor:
    a = _need(current, assessor, AssessorStatus.SUSPENDED)
    status = AssessorStatus.ADMITTED if a.admitted_at is not None else AssessorStatus.APPLIED
    return replace(a, status=status)


def _relationship(pool: Pool, current: Assessor | None, assessor: str,
                  payload: Mapping[str, Any], now: datetime) -> Assessor:
    a = _need(current, assessor, *AssessorStatus)
    party = _address(payload, "party")
    nature = payload["nature"]
    if not isinstance(nature, str) or not 0 < len(nature) <= MAX_NATURE_CHARS:
        raise InvalidCommand(f"payload.nature: 1 to {MAX_NATURE_CHARS} characters")
    return replace(a, relationships=(*a.relationships, (party, nature)))


_HANDLERS: Mapping[str, Callable[[Pool, Assessor | None, str, Mapping[str, Any], datetime],
                                 Assessor]] = {
    "pool.applied": _applied,
    "pool.admitted": _admitted,
    "pool.suspended": _suspended,
    "pool.reinstated": _reinstated,
    "pool.relationship_declared": _relationship,
}
assert set(_HANDLERS) == set(_SPECS), "every pool step needs a handler"


def conflicts(pool: Pool, assessor: str, parties: Sequence[str],
              history: Iterable[Iterable[str]] = ()) -> list[str]:
    """Why ``assessor`` may not sit in a case between ``parties`` (empty: no conflict).

    ``history``: the participants (parties, neutrals, jurors) of each earlier case."""
    out = []
    if assessor in parties:
        out.append("is a party (same address)")
    a = pool.assessor(assessor)
    for party, nature in a.relationships if a is not None else ():
        if party in parties:
            out.append(f"declared a relationship with {party} ({nature})")
    for participants in history:
        people = set(participants)
        if assessor in people and people & set(parties):
            together = sorted(people & set(parties))
            out.append(f"was in a prior case together with {', '.join(together)}")
            break
    return out


def eligible(pool: Pool, parties: Sequence[str], history: Iterable[Iterable[str]] = ()
             ) -> tuple[str, ...]:
    """The admitted, unsuspended assessors with no conflict, sorted by address bytes."""
    past = [tuple(h) for h in history]
    found = [a.address for a in pool.assessors if a.status is AssessorStatus.ADMITTED
             and not conflicts(pool, a.address, parties, past)]
    return tuple(sorted(found, key=lambda x: bytes.fromhex(x[2:])))


def snapshot(pool: Pool, parties: Sequence[str], history: Iterable[Iterable[str]] = ()
             ) -> tuple[tuple[str, ...], str]:
    """(the eligible pool, its hash): what a case's ``jury.seed_committed`` step fixes."""
    members = eligible(pool, parties, history)
    return members, "0x" + pool_snapshot_hash(members).hex()


def _h(b: bytes) -> str:
    return "0x" + b.hex()


def pool_from_records(records: Sequence[SignedRecord], payloads: Sequence[Mapping[str, object]],
                      *, domain: Domain, institution: str,
                      criteria: AdmissionCriteria = DEFAULT_CRITERIA) -> Pool:
    """Recompute the pool from its signed steps and their payloads, checking each link:
    the deployment's domain, the pool's chain id, sequence and previous hash, one valid
    signature by the step's actor, ``payloadHash`` = SHA-256 of the payload's canonical
    JSON; then ``apply_pool``. Raises ``InvalidCommand`` naming the first broken step."""
    if len(records) != len(payloads):
        raise InvalidCommand(f"{len(records)} records but {len(payloads)} payloads")
    pool = new_pool(institution, criteria)
    prev = b"\x00" * 32
    for i, (signed, payload) in enumerate(zip(records, payloads, strict=True)):
        rec = signed.record
        if not isinstance(rec, ProceduralStep):
            raise InvalidCommand(f"pool step {i}: expected a ProceduralStep, found "
                                 f"{rec.TYPE_NAME}")
        if signed.domain != domain:
            raise InvalidCommand(f"pool step {i}: signed for another deployment")
        if _h(rec.case_id) != POOL_ID:
            raise InvalidCommand(f"pool step {i}: caseId {_h(rec.case_id)} is not the pool's")
        if rec.prev_hash != prev:
            raise InvalidCommand(f"pool step {i}: prevHash {_h(rec.prev_hash)} does not name "
                                 f"the step before ({_h(prev)})")
        try:
            signed.verify([rec.actor], threshold=1)
        except EvidenceError as exc:
            raise InvalidCommand(f"pool step {i}: {exc}") from None
        digest = hashlib.sha256(canonical_json(dict(payload))).digest()
        if digest != rec.payload_hash:
            raise InvalidCommand(f"pool step {i}: the payload hashes to {_h(digest)}, the "
                                 f"record's payloadHash is {_h(rec.payload_hash)}")
        when = datetime.fromtimestamp(rec.signed_at, UTC)
        pool = apply_pool(pool, rec.action, rec.actor, payload, when, sequence=rec.sequence)
        prev = signed.record_hash
    return pool
