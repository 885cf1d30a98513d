"""The assessor pool in the service: its signed steps stored, each case's snapshot and the
assessors' standing computed here (docs/jury.md §1 and §5; issue 14 items 1 and 7).

Theory of operation:

* Each pool step (apply, admit, suspend, reinstate, declare a relationship) is a signed
  ``ProceduralStep`` of the pool's own hash chain (``POOL_ID``), posted to its route. The
  service checks it as the pure fold does (``backend.jury.apply_pool``: action, sequence,
  payload keys, signer, content) plus the chain's link (``prevHash``), the deployment's
  domain and the payload's hash, then stores it: one row per step
  (``assessor_pool_step``). An institution step an admin signs is countersigned by the
  institution key (as case steps are), the admin's record kept as its authorisation, so
  ``pool_from_records`` recomputes the same pool from the stored records alone.
* A case's snapshot (what ``jury.seed_committed`` must fix) is computed here, never taken
  from the admin: admitted, unsuspended assessors with no conflict — not a party, no
  declared relationship with a party, no earlier case together with a party (from the
  database: the participants and jurors of every other case a party took part in), not the
  institution, a court or a neutral of the case, not drawn before in it — and in good
  standing (``backend.jury.standing`` over their seats in every case). ``excluded`` says
  why each admitted assessor left out is left out (shown to the institution only).
* Standing is computed from the cases' states (never stored): participation and agreement
  with the final outcome, shown to the assessor (``GET /pool/me``) and the institution
  (``GET /pool``).
"""

from __future__ import annotations

import threading
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime

import sqlalchemy as sa
from sqlmodel import Session, col, select
from typing_extensions import TypedDict

from backend import procedure as p
from backend.db import Case, Participant, write_scope
from backend.db.jury_models import PoolStepRow
from backend.jury import (
    DEFAULT_CRITERIA,
    DEFAULT_STANDING_RULE,
    POOL_ID,
    POOL_STEPS,
    AdmissionCriteria,
    AssessorStatus,
    Pool,
    Standing,
    StandingRule,
    apply_pool,
    conflicts,
    new_pool,
    seats_of,
    standing,
)
from evidence.jury import pool_snapshot_hash
from evidence.records import (
    ProceduralStep,
    SignedRecord,
    SignedRecordJson,
    TypedDataJson,
    bytes32,
    checksum_address,
)
from evidence.safejson import JSON, JsonObject

from .cases import CaseService
from .errors import AccessDenied, BadSubmission, StaleStep
from .pipeline import MAX_CLOCK_SKEW_SECONDS
from .steps import payload_hash

__all__ = ["POOL_ROUTES", "PoolService", "Snapshot"]


class ExcludedJson(TypedDict):
    """An admitted assessor left out of a case's draw, and why."""

    assessor: str
    reasons: list[str]


class SnapshotJson(TypedDict):
    """``GET /cases/{id}/jury/snapshot``: the eligible pool of the next draw round."""

    caseId: str
    round: int
    pool: list[str]
    poolHash: str | None
    excluded: list[ExcludedJson]


class PoolStepAcceptedJson(TypedDict):
    """A pool step stored, and the assessor's status after it."""

    sequence: int
    recordHash: str
    action: str
    status: str | None


class PreparedPoolStepJson(TypedDict):
    """``POST /pool/prepare``: the unsigned pool step to sign next."""

    action: str
    endpoint: str
    recordType: str
    typedData: TypedDataJson
    unsignedRecord: SignedRecordJson
    payload: JsonObject
    sequence: int
    prevHash: str


class CriteriaJson(TypedDict):
    """The published admission criteria, with their hash."""

    hash: str
    minAccountAgeDays: int
    identityVerified: bool
    minStanding: int
    minTestScore: int


class StandingRuleJson(TypedDict):
    """The published standing rule, with its hash."""

    hash: str
    minSeats: int
    minParticipation: int
    minDecided: int
    minAgreement: int


class PoolHeadJson(TypedDict):
    """``GET /pool/head``: what a signer needs for the next pool step."""

    poolId: str
    nextSequence: int
    prevHash: str
    criteria: CriteriaJson
    standingRule: StandingRuleJson


class RelationshipJson(TypedDict):
    """A relationship an assessor declared with a party."""

    party: str
    nature: str


class AssessorJson(TypedDict):
    """An assessor's status and standing."""

    assessor: str
    status: str
    appliedAt: JSON
    admittedAt: JSON
    relationships: list[RelationshipJson]
    standing: dict[str, object]


class PoolOverviewJson(PoolHeadJson):
    """``GET /pool``: the head and every assessor."""

    assessors: list[AssessorJson]


class NotInPoolJson(PoolHeadJson):
    """``GET /pool/me`` of an address the pool does not know."""

    assessor: str
    status: None
    standing: None


class InPoolJson(PoolHeadJson, AssessorJson):
    """``GET /pool/me`` of an assessor: the head and the assessor's view."""

ZERO = "0x" + "00" * 32
POOL_ROUTES: Mapping[str, str] = {
    "apply": "pool.applied", "admit": "pool.admitted", "suspend": "pool.suspended",
    "reinstate": "pool.reinstated", "relationships": "pool.relationship_declared"}
"""The route under ``/pool/`` of each pool step (one route per step, as for case steps)."""
_SIGNER = {s.action: s.signer for s in POOL_STEPS}
_JURY_STATE = '%urors":["0x%'  # a case state naming jurors or former jurors (its JSON text)


def _h(b: bytes) -> str:
    return "0x" + b.hex()


def _by_bytes(addresses: Iterable[str]) -> list[str]:
    return sorted(addresses, key=lambda a: bytes.fromhex(a[2:]))


@dataclass(frozen=True, kw_only=True)
class Snapshot:
    """A case's eligible pool as the service computes it for the next draw round."""

    case_id: str
    round: int
    pool: tuple[str, ...]  # sorted by address bytes
    pool_hash: str | None  # None when nobody is eligible
    excluded: Mapping[str, tuple[str, ...]]  # admitted but left out, and why

    def to_json_obj(self) -> SnapshotJson:
        return {"caseId": self.case_id, "round": self.round, "pool": list(self.pool),
                "poolHash": self.pool_hash,
                "excluded": [{"assessor": a, "reasons": list(r)}
                             for a, r in sorted(self.excluded.items())]}


class PoolService:
    """The pool's steps, snapshots and standing (see the module doc)."""

    def __init__(self, service: CaseService, *, criteria: AdmissionCriteria = DEFAULT_CRITERIA,
                 rule: StandingRule = DEFAULT_STANDING_RULE) -> None:
        self.service = service
        self.criteria = criteria
        self.rule = rule
        self._lock = threading.Lock()
        # the pool folded up to a sequence, and the record hash of its last step
        self._folded: tuple[Pool, str] = (new_pool(service.institution_address, criteria),
                                          ZERO)

    # -- the pool ----------------------------------------------------------------------------

    def pool(self, session: Session) -> tuple[Pool, str]:
        """(the pool as its stored steps make it, the last step's record hash)."""
        with self._lock:
            pool, head = self._folded
        rows = session.exec(select(PoolStepRow).where(
            col(PoolStepRow.sequence) >= pool.next_sequence).order_by(
            col(PoolStepRow.sequence))).all()
        for row in rows:
            rec = SignedRecord.from_json_obj(row.record).record
            assert isinstance(rec, ProceduralStep)
            pool = apply_pool(pool, rec.action, rec.actor, row.payload,
                              datetime.fromtimestamp(rec.signed_at, UTC),
                              sequence=rec.sequence)
            head = row.record_hash
        with self._lock:
            if pool.next_sequence > self._folded[0].next_sequence:
                self._folded = (pool, head)
        return pool, head

    def records(self, session: Session) -> tuple[list[SignedRecord], list[JsonObject]]:
        """Every stored pool step and its payload, in order (``pool_from_records`` input)."""
        rows = session.exec(select(PoolStepRow).order_by(col(PoolStepRow.sequence))).all()
        return [SignedRecord.from_json_obj(r.record) for r in rows], [r.payload for r in rows]

    def submit(self, user: str, action: str, body: Mapping[str, object]) -> PoolStepAcceptedJson:
        """Check and store one signed pool step of ``action`` posted by ``user``."""
        posted = body.get("payload") if isinstance(body, Mapping) else None
        if not isinstance(body, Mapping) or "record" not in body or \
                not isinstance(posted, Mapping):
            raise BadSubmission("body: expected {'record': <signed record JSON>, "
                                "'payload': {...}}")
        signed = SignedRecord.from_json_obj(body["record"])
        signer = signed.verify()[0]
        if signer != user:
            raise AccessDenied(f"the record is signed by {signer}, but you are signed in as "
                               f"{user}; post your own signed records")
        rec = signed.record
        if not isinstance(rec, ProceduralStep):
            raise BadSubmission(f"a pool step is a ProceduralStep; found {rec.TYPE_NAME}",
                                code="wrong_record_type")
        signed.check_binding(self.service.domain, case_id=POOL_ID)  # ReplayError
        if rec.action != action:
            raise BadSubmission(f"this route takes {action}; the record's action is "
                                f"{rec.action}", code="bad_submission")
        payload = dict(posted)
        if payload_hash(payload) != _h(rec.payload_hash):
            raise BadSubmission(f"payloadHash {_h(rec.payload_hash)}: the payload hashes to "
                                f"{payload_hash(payload)}", code="payload_mismatch")
        now_s = int(self.service.now().timestamp())
        if rec.signed_at > now_s + MAX_CLOCK_SKEW_SECONDS:
            raise BadSubmission(f"signedAt {rec.signed_at} is in the future (now {now_s})",
                                code="clock_skew")
        authorization: SignedRecordJson | None = None
        if _SIGNER[action] == "institution" and signer != self.service.institution_address:
            if not self.service.is_admin(signer):
                raise AccessDenied(f"{action} is the institution's; {signer} is not an admin")
            authorization = signed.to_json_obj()
            signed = self.service.institution.countersign(rec)
            rec = signed.record
            assert isinstance(rec, ProceduralStep)
        with write_scope(self.service.sessions) as session:
            pool, head = self.pool(session)
            after = apply_pool(pool, action, rec.actor, payload,
                               datetime.fromtimestamp(rec.signed_at, UTC),
                               sequence=rec.sequence)
            if _h(rec.prev_hash) != head:
                raise StaleStep(f"pool step {rec.sequence} links to {_h(rec.prev_hash)}; the "
                                f"pool's last step is {head}: reload the pool and sign again")
            assessor = checksum_address(payload["assessor"])  # apply_pool checked it
            session.add(PoolStepRow(sequence=rec.sequence, action=action, assessor=assessor,
                                    signer=rec.actor, record=signed.to_json_obj(),
                                    payload=payload, authorization=authorization,
                                    record_hash=_h(signed.record_hash),
                                    created_at=self.service.now()))
            session.commit()
        member = after.assessor(assessor)
        return {"sequence": rec.sequence, "recordHash": _h(signed.record_hash),
                "action": action, "status": member.status.value if member else None}

    def prepare(self, user: str, action: str, payload: object) -> PreparedPoolStepJson:
        """The unsigned pool step ``user`` signs next, built and dry-run here (as a case
        step's ``steps/prepare``): a page or a wallet front-end never rebuilds the record
        type, the pool's position or the payload's hash itself. Refuses as ``submit``
        would (who signs, then ``apply_pool``'s checks); keeps nothing."""
        route = {a: r for r, a in POOL_ROUTES.items()}.get(action)
        if route is None:
            raise BadSubmission(f"action {action!r}: expected one of "
                                f"{', '.join(POOL_ROUTES.values())}", code="unknown_action")
        if not isinstance(payload, Mapping):
            raise BadSubmission(f"payload of {action}: expected an object", code="bad_payload")
        actor = user
        if _SIGNER[action] == "institution" and user != self.service.institution_address:
            if not self.service.is_admin(user):
                raise AccessDenied(f"{action} is the institution's; {user} is not an admin")
            actor = self.service.institution_address  # countersigned when posted
        now = self.service.now()
        with self.service.sessions() as session:
            pool, head = self.pool(session)
        apply_pool(pool, action, actor, payload, now, sequence=pool.next_sequence)  # dry run
        domain = self.service.domain
        rec = ProceduralStep(case_id=bytes32(POOL_ID), sequence=pool.next_sequence,
                             prev_hash=bytes32(head), actor=user, action=action,
                             payload_hash=bytes32(payload_hash(dict(payload))),
                             signed_at=int(now.timestamp()))
        return {"action": action, "endpoint": f"/pool/{route}", "recordType": rec.TYPE_NAME,
                "typedData": rec.typed_data_json(domain),
                "unsignedRecord": SignedRecord(domain=domain, record=rec).to_json_obj(),
                "payload": dict(payload), "sequence": rec.sequence, "prevHash": head}

    def head(self) -> PoolHeadJson:
        """What a signer needs for the next pool step: its sequence, the previous record's
        hash, the pool's chain id and the published criteria and standing rule."""
        with self.service.sessions() as session:
            pool, head = self.pool(session)
        return {"poolId": POOL_ID, "nextSequence": pool.next_sequence, "prevHash": head,
                "criteria": {"hash": self.criteria.hash(),
                             "minAccountAgeDays": self.criteria.min_account_age_days,
                             "identityVerified": self.criteria.identity_verified,
                             "minStanding": self.criteria.min_standing,
                             "minTestScore": self.criteria.min_test_score},
                "standingRule": {"hash": self.rule.hash(), "minSeats": self.rule.min_seats,
                                 "minParticipation": self.rule.min_participation,
                                 "minDecided": self.rule.min_decided,
                                 "minAgreement": self.rule.min_agreement}}

    # -- the cases: seats, history --------------------------------------------------------------

    def _cases(self, session: Session, ids: Iterable[str]) -> list[p.CaseState]:
        repo = self.service.repository
        return [repo.load(session, cid)[1] for cid in sorted(set(ids))]

    def jury_cases(self, session: Session, *, naming: str | None = None) -> list[p.CaseState]:
        """Every case whose state names jurors (drawn or replaced); ``naming``: only those
        whose state names this address too."""
        text = sa.cast(col(Case.state), sa.Text)
        query = select(Case.id).where(text.like(_JURY_STATE))
        if naming is not None:
            query = query.where(text.like(f"%{naming}%"))
        return self._cases(session, session.exec(query).all())

    def standing_of(self, assessor: str, cases: Sequence[p.CaseState]) -> Standing:
        return standing(seats_of(assessor, cases), self.rule)

    def history(self, session: Session, case: p.CaseState) -> list[tuple[str, ...]]:
        """The participants (parties, neutrals, courts, jurors) of every other case one of
        ``case``'s parties took part in: the "prior case together" conflict's data."""
        parties = case.parties or (case.order.buyer, case.order.seller)
        ids = set(session.exec(select(Participant.case_id).where(
            col(Participant.address).in_(list(parties)))).all())
        ids.discard(case.case_id)
        if not ids:
            return []
        people: dict[str, set[str]] = {cid: set() for cid in ids}
        for cid, address in session.exec(select(Participant.case_id, Participant.address).where(
                col(Participant.case_id).in_(sorted(ids)))).all():
            people[cid].add(address)
        for other in self._cases(session, ids):
            people[other.case_id] |= {*other.jury.jurors, *other.jury.former_jurors}
        return [tuple(sorted(v)) for _, v in sorted(people.items())]

    # -- a case's snapshot ------------------------------------------------------------------------

    def snapshot(self, case_id: str) -> Snapshot:
        """The eligible pool of the case's next draw round, computed (see the module doc)."""
        with self.service.sessions() as session:
            _row, case = self.service.load_in(session, case_id.lower())
            return self.snapshot_of(session, case)

    def snapshot_of(self, session: Session, case: p.CaseState) -> Snapshot:
        """``snapshot`` of a case already loaded, in the caller's session."""
        pool, _ = self.pool(session)
        history = self.history(session, case)
        seated = self.jury_cases(session)
        parties = case.parties or (case.order.buyer, case.order.seller)
        j = case.jury
        barred = {
            **{a: "already drawn in this case" for a in (*j.jurors, *j.former_jurors)},
            **{a: "a neutral of this case" for a in case.neutrals},
            **{a: "an institution admin or a court" for a in (*case.institution,
                                                               *case.courts)}}
        related = {r.neutral for r in case.relationships if r.party in parties}
        members, excluded = [], {}
        for a in pool.assessors:
            if a.status is not AssessorStatus.ADMITTED:
                continue
            why = conflicts(pool, a.address, parties, history)
            if a.address in barred:
                why.append(barred[a.address])
            if a.address in related:
                why.append("declared a relationship with a party in this case")
            good = self.standing_of(a.address, seated)
            why += list(good.reasons)
            if why:
                excluded[a.address] = tuple(why)
            else:
                members.append(a.address)
        ordered = tuple(_by_bytes(members))
        return Snapshot(case_id=case.case_id, round=j.round, pool=ordered,
                        pool_hash=_h(pool_snapshot_hash(ordered)) if ordered else None,
                        excluded=excluded)

    # -- views --------------------------------------------------------------------------------

    def _assessor_view(self, pool: Pool, address: str, cases: Sequence[p.CaseState]
                       ) -> AssessorJson:
        a = pool.assessor(address)
        assert a is not None
        return {"assessor": a.address, "status": a.status.value,
                "appliedAt": p.to_jsonable(a.applied_at),
                "admittedAt": p.to_jsonable(a.admitted_at),
                "relationships": [{"party": party, "nature": nature}
                                  for party, nature in a.relationships],
                "standing": self.standing_of(a.address, cases).to_json_obj()}

    def overview(self) -> PoolOverviewJson:
        """The institution's view: every assessor with status and standing."""
        with self.service.sessions() as session:
            pool, _ = self.pool(session)
            cases = self.jury_cases(session)
        return {**self.head(),
                "assessors": [self._assessor_view(pool, a.address, cases)
                              for a in pool.assessors]}

    def mine(self, user: str) -> NotInPoolJson | InPoolJson:
        """An assessor's own status and standing (the seats named by case, never party)."""
        with self.service.sessions() as session:
            pool, _ = self.pool(session)
            if pool.assessor(user) is None:
                return {**self.head(), "assessor": user, "status": None, "standing": None}
            cases = self.jury_cases(session, naming=user)
        return {**self.head(), **self._assessor_view(pool, user, cases)}
