"""The case service: signed steps in, one transaction out, chain effects after commit.

Theory of operation (docs/api.md has the HTTP view):

* ``submit_step`` verifies a signed record (form, signature = its signer field, domain,
  case, position in the step chain: ``sequence`` = the number of records so far and
  ``prevHash`` = the last record's hash), translates it into a procedure command
  (``backend.services.steps``), calls ``procedure.apply`` with the injected clock, admits
  it against what the service holds (``_admit``: an ``EvidenceSubmission`` must name an
  upload of its signer in this case, not yet submitted; a ``CourtConfirmation`` must name
  a package exported to that court for this case), and in
  ONE database transaction stores the new case, the step row and its details, the record
  bundle's IPFS CID (encrypted when the rules make it confidential), a pending Merkle leaf,
  the outbox notices, timeline events and the chain actions. The case row is locked first
  (``FOR UPDATE`` on PostgreSQL, ``BEGIN IMMEDIATE`` on SQLite), so two requests for one
  position cannot both win; the unique ``(case_id, sequence)`` is the last guard. On
  SQLite concurrent steps share that transaction (``group_commit``: a SAVEPOINT per step,
  one commit per group of up to ``GROUP_COMMIT_MAX``); each step still succeeds or is
  refused on its own.
* Institution steps (appointments, the escrow's execution of an award, defaults after a
  missed deadline) are signed by the institution's key, the one the escrow names as the
  order's institution and the judicial package checks. An admin authorises an
  appointment with their own wallet: their signed record (same case, position, action and
  payload) is kept beside the step as its ``authorization``.
* ``run_due`` is the scheduler: for every case whose ``next_deadline`` has passed it calls
  ``procedure.advance`` and records each default as an institution-signed
  ``deadline.missed`` step, anchored like any other.
* After commit the ``ChainExecutor`` sends the chain actions; when the escrow has executed
  an award, ``enforcement.recorded`` is signed and applied (stage ``enforced``).

The clock is injected (``clock()`` returns an aware UTC datetime); nothing here reads the
wall clock.
"""

from __future__ import annotations

import hashlib
import io
import json
import logging
import threading
from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any

from eth_account import Account as EthAccount
from eth_utils import keccak
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from backend import procedure as p
from backend.db import (
    Case,
    LeafKind,
    Participant,
    Step,
    begin_exclusive,
    is_postgres,
)
from backend.db.service_models import (
    CaseEvent,
    ChainAction,
    ChainActionStatus,
    CourtAccount,
    OfferSignature,
    StepDetail,
)
from backend.notices.outbox import enqueue_notice
from backend.worker.anchoring import enqueue_leaf
from evidence.encryption import Header, encrypt_stream, generate_data_key
from evidence.errors import EvidenceError
from evidence.ipfs import Blockstore, add_bytes_text
from evidence.records import (
    ZERO_HASH,
    CourtConfirmation,
    Domain,
    EvidenceSubmission,
    ProceduralStep,
    SignedRecord,
    canonical_json,
)

from .chain import ChainExecutor, EscrowPort
from .errors import AccessDenied, BadSubmission, NotFound, ServiceError, StaleStep
from .evidence import bind_submission, require_staged
from .group_commit import GroupCommitter, Unit
from .keys import ServiceKey
from .steps import CONFIDENTIAL_ACTIONS, Translated, institution_actor, payload_hash, translate

__all__ = ["CaseService", "ServiceConfig", "StepResult", "case_id_for_order"]

log = logging.getLogger(__name__)

MAX_CLOCK_SKEW_SECONDS = 300
BUNDLE_FORMAT = "chainarb.step"
BUNDLE_CHUNK_SIZE = 64 * 1024
STATE_CACHE_SIZE = 512
# Steps per group commit (SQLite). Measured with bench/api.py at 50 clients: 8 gave the
# best rate and tail (p99 ~0.6 s); 32-64 made the tail 4x longer and the rate lower (a
# step's answer waits for its whole group, and a long group holds the GIL in long runs).
GROUP_COMMIT_MAX = 8


def _h(b: bytes) -> str:
    return "0x" + b.hex()


def case_id_for_order(domain: Domain, order_id: int) -> str:
    """One case per escrow order: keccak256 of the deployment and the order id."""
    return _h(keccak(text=f"chainarb.case:{domain.chain_id}:{domain.verifying_contract}:"
                          f"{order_id}"))


@dataclass(frozen=True)
class ServiceConfig:
    admins: frozenset[str]
    institution_key: str  # hex; signs institution records (never logged)
    rules: p.CaseRules = p.DEFAULT_RULES
    base_url: str = ""
    smtp_enabled: bool = False


@dataclass(frozen=True)
class _Stored:
    """A step's IPFS record written before the write lock (see ``_prestore``)."""

    bundle: bytes
    confidential: bool
    data_key_wraps: str | None  # KeyWraps JSON for the service key (never the plain key)
    cid: str


@dataclass(frozen=True)
class StepResult:
    case_id: str
    sequence: int
    record_hash: str
    action: str
    stage: str
    cid: str | None
    chain_actions: list[dict[str, Any]]


class CaseService:
    def __init__(self, sessions: sessionmaker[Session], *, port: EscrowPort,
                 blockstore: Blockstore, clock: Callable[[], datetime],
                 config: ServiceConfig) -> None:
        self.sessions = sessions
        self.port = port
        self.blockstore = blockstore
        self.clock = clock
        self.config = config
        self._institution = EthAccount.from_key(config.institution_key)
        self.keys = ServiceKey.from_institution_key(config.institution_key)
        if self._institution.address != port.institution_address:
            raise ValueError(f"the institution key's address {self._institution.address} is "
                             f"not the escrow port's institution {port.institution_address}")
        self.domain = port.domain()
        self.executor = ChainExecutor(sessions, port, clock=clock, on_done=self._after_chain)
        bind = sessions.kw.get("bind")
        self._sqlite = bind is not None and bind.dialect.name == "sqlite"
        self._write_lock = threading.Lock()
        # SQLite has one writer at a time: steps share transactions (group commit).
        self._group: GroupCommitter[StepResult] | None = \
            GroupCommitter(self._run_group, max_group=GROUP_COMMIT_MAX) if self._sqlite else None
        self._states: dict[tuple[Any, ...], p.CaseState] = {}
        self._states_lock = threading.Lock()
        # case id -> chain head after this process's last commit on it (see _remember_step)
        self._heads: dict[str, tuple[int, bytes, int]] = {}
        # case id -> (next position, version, state) this process last committed (a hint
        # for _prestore only; the locked section decides on the row it locks)
        self._latest: dict[str, tuple[int, tuple[Any, ...] | None, p.CaseState]] = {}

    def __repr__(self) -> str:
        return f"CaseService(institution={self.institution_address})"

    @property
    def institution_address(self) -> str:
        return str(self._institution.address)

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    # -- roles ---------------------------------------------------------------------------

    def is_admin(self, address: str) -> bool:
        return address in self.config.admins or address == self.institution_address

    def viewer_roles(self, case: p.CaseState, address: str, session: Session) -> set[str]:
        """The viewer's roles for access control (the procedure's plus admin/court access)."""
        roles = {r.value for r in case.roles_of(address)} - {"anyone", "institution", "court"}
        if case.claimant is None and address in (case.order.buyer, case.order.seller):
            roles = (roles - {"claimant"}) | {"party"}
        if self.is_admin(address):
            roles.add("admin")
        if address in case.courts:
            roles.add("court")
        return roles

    # -- loading ------------------------------------------------------------------------

    def _load(self, session: Session, case_id: str, *, lock: bool) -> tuple[Case, p.CaseState]:
        query = select(Case).where(col(Case.id) == case_id.lower())
        if lock and is_postgres(session):
            query = query.with_for_update()
        row = session.exec(query).first()
        if row is None:
            raise NotFound(f"case {case_id} does not exist")
        return row, self._decode(row)

    def _decode(self, row: Case) -> p.CaseState:
        """The row's CaseState; decoded once per version (CaseState is immutable, so the
        cached object can be shared). A version is the step-chain position, the time of
        the last save and the courts (the only change made without a step)."""
        key = _version(row)
        if key is None:
            return p.case_from_dict(row.state)  # malformed: let the decoder say why
        found = self._states.get(key)
        if found is None:
            found = p.case_from_dict(row.state)
            if found.next_sequence != row.next_sequence:
                # saved before the chain position became the procedure's counter (it then
                # counted commands only): the chain's position is the one to check against
                found = replace(found, next_sequence=row.next_sequence)
            self._remember_state(key, found)
        return found

    def _remember_state(self, key: tuple[Any, ...], state: p.CaseState) -> None:
        with self._states_lock:
            if len(self._states) >= STATE_CACHE_SIZE:
                self._states.pop(next(iter(self._states)))
            self._states[key] = state

    def _after_commit(self, session: Session, fn: Callable[[], None]) -> None:
        """Run ``fn`` once the transaction holding this step has committed (see
        ``_commit_unit``/``_run_group``); dropped if the step or its group rolls back."""
        session.info.setdefault("after_commit", []).append(fn)

    def _remember_step(self, case_id: str, version: tuple[Any, ...] | None,
                       head: tuple[int, bytes, int], state: p.CaseState) -> None:
        """After commit: the new version's decoded state (the next step of the case
        finds it instead of decoding the JSON it was just encoded to) and the chain head
        (next position, last record hash, last signedAt), so the next step of the case
        needs no select for it. Both are checked against the row the next step locks,
        so a step committed by another process is simply a miss."""
        if version is not None:
            self._remember_state(version, state)
        with self._states_lock:
            self._heads[case_id] = head
            self._latest[case_id] = (head[0], version, state)
            for d in (self._heads, self._latest):
                if len(d) > STATE_CACHE_SIZE:
                    d.pop(next(iter(d)))

    def load(self, case_id: str) -> tuple[Case, p.CaseState]:
        with self.sessions() as session:
            return self._load(session, case_id, lock=False)

    def _writer(self) -> AbstractContextManager[Any]:
        """One writer at a time in this process on SQLite: threads queue on a lock instead
        of polling SQLite's busy handler (which sleeps between retries); other processes
        still serialise on SQLite's own lock. PostgreSQL: row locks, no process lock."""
        return self._write_lock if self._sqlite else nullcontext()

    def _begin_write(self, session: Session) -> None:
        begin_exclusive(session)  # SQLite: take the write lock first; PostgreSQL: no-op

    # -- opening a case -----------------------------------------------------------------

    def open_case(self, user: str, order_id: int) -> str:
        """Create the (unfiled) case of an escrow order; a party of the order asks."""
        order = self.port.read_order(order_id)
        if user not in (order.buyer, order.seller):
            raise AccessDenied(f"only the buyer {order.buyer} or the seller {order.seller} of "
                               f"order {order_id} may open its case; you are {user}")
        if order.institution != self.institution_address:
            raise BadSubmission(f"order {order_id} names the institution {order.institution}, "
                                f"not this one ({self.institution_address})",
                                code="wrong_institution")
        case_id = case_id_for_order(self.domain, order_id)
        now = self.now()
        state = p.new_case(
            case_id=case_id,
            order=p.Order(order_id=order_id, buyer=order.buyer, seller=order.seller,
                          amount=order.amount, guarantee=order.guarantee),
            institution=self.config.admins | {self.institution_address},
            rules=self.config.rules,
        )
        with self._writer(), self.sessions() as session:
            self._begin_write(session)
            if session.get(Case, case_id) is not None:
                session.rollback()
                return case_id  # idempotent: one case per order
            session.add(Case(id=case_id, order_id=str(order_id), claimant=order.buyer,
                             respondent=order.seller, stage=state.stage.value,
                             state=p.case_to_dict(state), next_sequence=0, created_at=now,
                             updated_at=now))
            session.flush()
            for addr, role in ((order.buyer, "buyer"), (order.seller, "seller")):
                session.add(Participant(case_id=case_id, address=addr, role=role,
                                        appointed_at=now))
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
        return case_id

    # -- steps ----------------------------------------------------------------------------

    def chain_head(self, session: Session, case_id: str, *, next_sequence: int | None = None
                   ) -> tuple[int, bytes, int]:
        """(next position, previous record hash, previous signedAt) of the step chain.

        ``next_sequence``: the locked case row's; when this process committed the step
        before that position, its remembered head is used (steps never change and a
        position is taken once, so the head of position n is the same for everyone)."""
        if next_sequence is not None:
            head = self._heads.get(case_id)
            if head is not None and head[0] == next_sequence:
                return head
        last = session.exec(select(Step).where(col(Step.case_id) == case_id)
                            .order_by(col(Step.sequence).desc()).limit(1)).first()
        if last is None:
            return 0, ZERO_HASH, 0
        return (last.sequence + 1, bytes.fromhex(last.record_hash[2:]),
                int(last.record["message"]["signedAt"]))

    def submit_step(self, user: str, case_id: str, body: Mapping[str, Any]) -> StepResult:
        """Verify, translate, apply and store one signed step (see the module doc)."""
        if not isinstance(body, Mapping) or "record" not in body:
            raise BadSubmission("body: expected {'record': <signed record JSON>, ...}")
        signed = SignedRecord.from_json_obj(body["record"])
        rec = signed.record
        signer = signed.verify()[0]  # the record's signer field signed it
        if signer != user:
            raise AccessDenied(f"the record is signed by {signer}, but you are signed in as "
                               f"{user}; post your own signed records")
        payload = body.get("payload")
        attachments = body.get("attachments") or []
        now = self.now()
        admin_record: SignedRecord | None = None
        if isinstance(rec, ProceduralStep) and institution_actor(
                rec.action, signer, is_admin=self.is_admin,
                institution=self.institution_address) != signer:
            if rec.action == "enforcement.recorded":
                raise AccessDenied("enforcement.recorded is written by the service when the "
                                   "escrow has paid out")
            if signed.domain != self.domain:  # the authorisation must be for this deployment
                signed.check_binding(self.domain, case_id=_h(rec.case_id))
            admin_record = signed
            signed = replace(rec, actor=self.institution_address).sign(
                self._institution.key, self.domain)
        if isinstance(rec, EvidenceSubmission):  # the upload says what it is (a hint here)
            staged = self._staged_payload(case_id, rec)
            payload = staged or payload
            prepared = self._prestore(case_id, signed, {**body, "payload": payload},
                                      admin_record) if staged else None
        else:
            prepared = self._prestore(case_id, signed, body, admin_record)

        def unit(session: Session) -> StepResult:
            """The locked part: decide on the current state and store (no commit)."""
            row, case = self._load(session, case_id, lock=True)
            position = self._check_binding(session, row, signed, now)
            award_hash = self._award_record_hash(session, row.id, case)
            step_payload = payload
            if isinstance(rec, EvidenceSubmission):  # decided on the locked state
                step_payload = self._staged_payload(case_id, rec, session) or payload
            translated = translate(case, signed, actor=_signer(signed),
                                   payload=step_payload, attachments=attachments,
                                   reasons=body.get("reasons"), award_record_hash=award_hash,
                                   now=now)
            self._check_document(translated, body.get("document"))
            new_case, effects = p.apply(case, translated.command, now)
            bind = self._admit(session, row.id, signed)  # who, when, then: backed by what
            stored = self._store(session, row, case, new_case, effects, signed, translated,
                                 now, authorization=admin_record,
                                 document=body.get("document"), prepared=prepared,
                                 next_sequence=position + 1)
            if bind is not None:
                bind(stored)
            # the values now: a later step of the same case in this group changes the row
            key, version = row.id, _version(row)
            head = (row.next_sequence, signed.record_hash,
                    int(signed.record.signed_at))  # type: ignore[attr-defined]
            self._after_commit(session, lambda: self._remember_step(key, version, head,
                                                                    new_case))
            return stored

        result = self._commit_unit(unit)
        if not result.chain_actions:
            return result  # no chain work: nothing to send or report
        self.executor.run(case_id=result.case_id)  # this step queued chain work: send it now
        return self._with_actions(result)

    def _staged_payload(self, case_id: str, rec: EvidenceSubmission,
                        session: Session | None = None) -> dict[str, str] | None:
        """The step payload of the upload an ``EvidenceSubmission`` names (its kind and
        item id), or None when no such upload is staged (``_admit`` refuses it)."""
        if session is None:
            with self.sessions() as s:
                return self._staged_payload(case_id, rec, s)
        try:
            item = require_staged(session, case_id, rec)
        except ServiceError:
            return None
        return {"kind": item.kind, "evidenceId": f"ev{item.id}"}

    def _admit(self, session: Session, case_id: str, signed: SignedRecord
               ) -> Callable[[StepResult], None] | None:
        """Refuse a step that names what this service does not hold (in the step's locked
        transaction, after the procedure accepted who and when). Returns what to do once the
        step is stored (bind an evidence item to its submission), if anything.

        * ``EvidenceSubmission``: an upload of the signer in this case with this commitment
          and CID, not yet submitted (``evidence_not_uploaded`` / ``already_submitted``).
        * ``CourtConfirmation``: a package whose manifest SHA-256 is ``packageHash``,
          exported to this court for this case (``unknown_package``)."""
        rec = signed.record
        if isinstance(rec, EvidenceSubmission):
            item = require_staged(session, case_id, rec)

            def bind(stored: StepResult) -> None:
                bind_submission(session, item, signed, stored.sequence, stored.record_hash,
                                keys=self.keys, domain=self.domain,
                                service_key=self.config.institution_key, now=self.now())
                session.flush()

            return bind
        if isinstance(rec, CourtConfirmation):
            from .package import require_exported  # the package service imports this one

            require_exported(session, case_id, _signer(signed), _h(rec.package_hash))
        return None

    def _commit_unit(self, unit: Callable[[Session], StepResult]) -> StepResult:
        """Run a step's locked part and commit it. SQLite: in the next group of the
        group committer (one transaction, a savepoint per step, one commit; see
        ``group_commit``). PostgreSQL: its own transaction under the case's row lock, so
        workers in several processes write different cases at once."""
        if self._group is not None:
            return self._group.submit(unit)
        with self.sessions() as session:
            self._begin_write(session)
            result = unit(session)
            try:
                session.commit()
            except IntegrityError:
                session.rollback()
                raise _stale() from None
            hooks = session.info.pop("after_commit", [])
        _run_hooks(hooks)
        return result

    def _run_group(self, units: Sequence[Unit[StepResult]]) -> None:
        """One SQLite transaction for a group of steps (``GroupCommitter``'s run_group).

        Each unit runs inside its own SAVEPOINT: a refusal (or a unique-constraint
        conflict, reported as a stale step) rolls back that unit's rows only. Results are
        settled after the commit; if anything outside a savepoint fails, the committer
        fails the whole group and the session's rollback stores none of it."""
        done: list[tuple[Unit[StepResult], StepResult]] = []
        with self._write_lock, self.sessions() as session:
            self._begin_write(session)
            hooks: list[Callable[[], None]] = session.info.setdefault("after_commit", [])
            for u in units:
                session.info.pop("queued", None)  # chain actions are listed per step
                mark = len(hooks)
                try:
                    with session.begin_nested():
                        done.append((u, u.fn(session)))
                except IntegrityError:
                    del hooks[mark:]
                    u.fail(_stale())
                except Exception as exc:  # the step's refusal: its own request hears it
                    del hooks[mark:]
                    u.fail(exc)
            session.commit()
        _run_hooks(hooks)
        for u, result in done:
            u.succeed(result)

    def _prestore(self, case_id: str, signed: SignedRecord, body: Mapping[str, Any],
                  authorization: SignedRecord | None) -> _Stored | None:
        """Write the step's IPFS record before taking the write lock, against the last
        committed state: the block write and its fsync then run beside other requests
        instead of inside the serialised section. The locked section re-translates on the
        current state and reuses this record only if its bytes and confidentiality are the
        same (else it writes its own); a refusal here is left to the locked section, which
        decides on the current state. Only a record for the case's next position is
        stored early, so stale submissions cost no disk write."""
        rec = signed.record
        if not rec.CHAINED or body.get("document") is not None:
            return None
        try:
            current = self._state_for(case_id, rec.sequence)  # type: ignore[attr-defined]
            if current is None:
                return None
            case, award_hash = current
            t = translate(case, signed, actor=_signer(signed), payload=body.get("payload"),
                          attachments=body.get("attachments") or [],
                          reasons=body.get("reasons"), award_record_hash=award_hash,
                          now=self.now())
        except (ServiceError, p.ProcedureError, EvidenceError, KeyError, TypeError,
                ValueError):
            return None  # the locked section refuses it precisely (or accepts it)
        bundle = self._bundle(signed, t.action, t.payload, t.attachments, authorization)
        confidential = self._confidential(t.action, case)
        cid, wraps = self._put_bundle(bundle, confidential)
        return _Stored(bundle, confidential, wraps, cid)

    def _state_for(self, case_id: str, position: int
                   ) -> tuple[p.CaseState, str | None] | None:
        """For ``_prestore``: the case's last committed state and award record hash, if
        ``position`` is its next one (else None). This process's last commit on the case
        answers without a query when it is at that position (a hint only: the locked
        section decides on the row it locks)."""
        latest = self._latest.get(case_id)
        if latest is not None and latest[0] == position and latest[2].final_award is None:
            return latest[2], None
        with self.sessions() as session:
            row, case = self._load(session, case_id, lock=False)
            if position != row.next_sequence:
                return None
            return case, self._award_record_hash(session, row.id, case)

    @staticmethod
    def _confidential(action: str, case: p.CaseState) -> bool:
        return action in CONFIDENTIAL_ACTIONS or case.stage in (p.Stage.FACILITATION,)

    @staticmethod
    def _bundle(signed: SignedRecord, action: str, payload: bytes | None,
                attachments: Sequence[SignedRecord], authorization: SignedRecord | None
                ) -> bytes:
        """Canonical JSON of the step's IPFS record (what its CID addresses)."""
        return canonical_json({
            "format": BUNDLE_FORMAT, "v": 1, "action": action,
            "record": signed.to_json_obj(),
            "payload": json.loads(payload) if payload is not None else None,
            "attachments": [a.to_json_obj() for a in attachments],
            "authorization": authorization.to_json_obj() if authorization else None,
        })

    def _with_actions(self, result: StepResult) -> StepResult:
        with self.sessions() as session:
            actions = session.exec(select(ChainAction).where(
                col(ChainAction.case_id) == result.case_id).order_by(col(ChainAction.id))).all()
            listed = [chain_action_view(a) for a in actions]
        return replace(result, chain_actions=listed)

    def _check_binding(self, session: Session, row: Case, signed: SignedRecord,
                       now: datetime) -> int:
        """Check the record's place in the step chain; returns the position it claims.

        A position other than the case's next one is the procedure's refusal
        (``StaleSequence``, after who and before when: ``p.admit``); here only the link
        to the previous record and the clock of a record at that position are checked."""
        rec = signed.record
        if not rec.CHAINED:
            raise BadSubmission(f"{rec.TYPE_NAME} has no place in the step chain; carry it "
                                "as an attachment of the step that binds it",
                                code="wrong_record_type")
        position, prev, prev_at = self.chain_head(session, row.id,
                                                  next_sequence=row.next_sequence)
        if signed.domain != self.domain:
            signed.check_binding(self.domain, case_id=row.id)  # raises ReplayError
        if _h(rec.case_id) != row.id:
            signed.check_binding(self.domain, case_id=row.id)
        seq: int = rec.sequence  # type: ignore[attr-defined]
        rec_prev: bytes = rec.prev_hash  # type: ignore[attr-defined]
        if seq != position:
            return seq  # the procedure refuses it in its order of checks (StaleSequence)
        if rec_prev != prev:
            raise StaleStep(f"{rec.TYPE_NAME} is for position {seq} after {_h(rec_prev)}; the "
                            f"case's next position is {position} after {_h(prev)}: reload the "
                            "case and sign again")
        signed_at: int = rec.signed_at  # type: ignore[attr-defined]
        now_s = int(now.timestamp())
        if signed_at > now_s + MAX_CLOCK_SKEW_SECONDS:
            raise BadSubmission(f"signedAt {signed_at} is in the future (now {now_s})",
                                code="clock_skew")
        if signed_at < prev_at:
            raise BadSubmission(f"signedAt {signed_at} is before the previous step's "
                                f"{prev_at}", code="clock_skew")
        return position

    def _award_record_hash(self, session: Session, case_id: str, case: p.CaseState
                           ) -> str | None:
        """Record hash of the binding award's Award record (panel's if any), or None."""
        if case.final_award is None:
            return None
        action = "award.panel_signed" if case.panel_award is not None else "award.issued"
        details = session.exec(select(StepDetail).where(col(StepDetail.case_id) == case_id,
                                                        col(StepDetail.action) == action)
                               .order_by(col(StepDetail.step_id))).all()
        final = case.final_award
        for d in details:
            for att in d.attachments:
                if att.get("type") == "Award":
                    a = SignedRecord.from_json_obj(att)
                    if _h(a.record.award_hash) == final.award_hash:  # type: ignore[attr-defined]
                        return _h(a.record_hash)
        return None

    @staticmethod
    def _check_document(t: Translated, document: Mapping[str, Any] | None) -> None:
        if document is None:
            return
        from .steps import DOCUMENT_FIELDS

        name = DOCUMENT_FIELDS.get(type(t.command))
        if name is None:
            raise BadSubmission(f"document: {t.action} takes no document")
        content = _document_bytes(document)
        digest = "0x" + hashlib.sha256(content).hexdigest()
        if digest != getattr(t.command, name):
            raise BadSubmission(f"document: its SHA-256 {digest} is not the signed {name} "
                                f"{getattr(t.command, name)}", code="document_mismatch")

    # -- storing ----------------------------------------------------------------------------

    def _store(self, session: Session, row: Case, before: p.CaseState, after: p.CaseState,
               effects: Sequence[p.Effect], signed: SignedRecord, t: Translated,
               now: datetime, *, authorization: SignedRecord | None = None,
               document: Mapping[str, Any] | None = None, prepared: _Stored | None = None,
               next_sequence: int | None = None) -> StepResult:
        step = self._insert_step(session, row, before, signed, t.action, now,
                                 payload=t.payload, attachments=t.attachments,
                                 authorization=authorization, command=p.command_to_dict(
                                     t.command), document=document, prepared=prepared)
        if t.settlement is not None and t.offer_id is not None:
            session.add(OfferSignature(case_id=row.id, offer_id=t.offer_id,
                                       signer=t.command.actor,
                                       signature=_h(t.settlement.signatures[0]),
                                       record_hash=_h(t.settlement.record_hash), created_at=now))
            session.flush()
        self._apply_effects(session, row, after, effects, now, step_action=t.action,
                            actor=t.command.actor, award=t.award)
        self._save_case(session, row, after, now, before=before, next_sequence=next_sequence)
        return StepResult(case_id=row.id, sequence=step.sequence, record_hash=step.record_hash,
                          action=t.action, stage=after.stage.value, cid=step.cid,
                          chain_actions=[{"kind": k} for k in session.info.pop("queued", [])])

    def _insert_step(self, session: Session, row: Case, case: p.CaseState,
                     signed: SignedRecord, action: str, now: datetime, *,
                     payload: bytes | None, attachments: Sequence[SignedRecord] = (),
                     authorization: SignedRecord | None = None,
                     command: dict[str, Any] | None = None,
                     document: Mapping[str, Any] | None = None,
                     prepared: _Stored | None = None) -> Step:
        rec = signed.record
        confidential = self._confidential(action, case)
        bundle = self._bundle(signed, action, payload, attachments, authorization)
        wraps: str | None
        if prepared is not None and prepared.bundle == bundle \
                and prepared.confidential == confidential:
            wraps, cid = prepared.data_key_wraps, prepared.cid  # stored before the lock
        else:
            cid, wraps = self._put_bundle(bundle, confidential)
        stored_attachments = [a.to_json_obj() for a in attachments]
        if document is not None:
            content = _document_bytes(document)
            doc_key = generate_data_key()
            doc_cid, doc_header = self._put(content, doc_key)
            assert doc_header is not None
            stored_attachments.append({
                "type": "Document", "filename": str(document.get("filename", "document")),
                "mediaType": str(document.get("media_type", "application/octet-stream")),
                "sha256": "0x" + hashlib.sha256(content).hexdigest(),
                "cid": doc_cid, "keywraps": self.keys.wrap(doc_key, doc_header)})
        step = Step(case_id=row.id, sequence=rec.sequence,  # type: ignore[attr-defined]
                    kind=action, record=signed.to_json_obj(),
                    signature=_h(signed.signatures[0]), signer=_signer(signed),
                    record_hash=_h(signed.record_hash),
                    prev_hash=_h(rec.prev_hash),  # type: ignore[attr-defined]
                    cid=cid, created_at=now)
        session.add(step)
        session.flush()
        assert step.id is not None
        session.add(StepDetail(
            step_id=step.id, case_id=row.id, action=action, command=command or {},
            payload=payload.decode() if payload is not None else None,
            attachments=stored_attachments,
            authorization=authorization.to_json_obj() if authorization else None,
            confidential=confidential, data_key_wraps=wraps,
            bundle_cid=cid,
            signed_at=datetime.fromtimestamp(rec.signed_at, UTC),  # type: ignore[attr-defined]
            created_at=now))
        enqueue_leaf(session, kind=LeafKind.STEP, ref_id=step.id, case_id=row.id,
                     value=signed.merkle_leaf())
        session.flush()
        return step

    def _put(self, data: bytes, data_key: bytes | None) -> tuple[str, Header | None]:
        """Store bytes in IPFS (encrypted under ``data_key`` when given); returns the CID
        and the container's header (None when stored plain), which a key wrap binds."""
        header: Header | None = None
        if data_key is not None:
            out = io.BytesIO()
            # small chunks: a step bundle is a few KiB, and each chunk size is a buffer
            header = encrypt_stream(io.BytesIO(data), out, data_key,
                                    chunk_size=BUNDLE_CHUNK_SIZE, hash_in_thread=False).header
            data = out.getvalue()
        return add_bytes_text(data, cid_version=1, blockstore=self.blockstore), header

    def _put_bundle(self, bundle: bytes, confidential: bool) -> tuple[str, str | None]:
        """Store a step bundle; returns its CID and, when confidential, its fresh data key
        wrapped for the service key (the only form in which the key is kept)."""
        if not confidential:
            return self._put(bundle, None)[0], None
        data_key = generate_data_key()
        cid, header = self._put(bundle, data_key)
        assert header is not None
        return cid, self.keys.wrap(data_key, header)

    def _chain(self, session: Session, case_id: str, kind: str, payload: dict[str, Any],
               now: datetime, status: ChainActionStatus = ChainActionStatus.PENDING) -> None:
        session.add(ChainAction(case_id=case_id, kind=kind, payload=payload, status=status,
                                created_at=now, updated_at=now))
        session.info.setdefault("queued", []).append(kind)  # per request, not shared

    def _apply_effects(self, session: Session, row: Case, case: p.CaseState,
                       effects: Sequence[p.Effect], now: datetime, *, step_action: str,
                       actor: str | None, award: SignedRecord | None = None) -> None:
        notified: set[str] = set()
        order_id = str(case.order.order_id)
        for e in effects:
            if isinstance(e, p.NotifyParties):
                kind, stage = e.kind, case.stage.value
                if kind.startswith("stage:"):  # the procedure's notice of a stage change
                    kind, stage = "stage_changed", kind.split(":", 1)[1]
                for r in e.recipients:
                    enqueue_notice(session, case_id=row.id, recipient=r, kind=kind, now=now,
                                   stage=stage, base_url=self.config.base_url,
                                   smtp_enabled=self.config.smtp_enabled)
                    notified.add(r)
            elif isinstance(e, p.FreezeEscrow):
                self._chain(session, row.id, "freeze", {"orderId": order_id, "caseId": row.id},
                            now, status=ChainActionStatus.AWAITING_PARTY)
            elif isinstance(e, p.AppointOnChain):
                kind = "appoint_arbitrator" if e.round == 0 else "appoint_panel"
                self._chain(session, row.id, kind, {"orderId": order_id, "caseId": row.id,
                                                    "arbitrators": list(e.arbitrators)}, now)
            elif isinstance(e, p.ExecuteSettlement):
                self._settlement_action(session, row.id, case, e, now)
            elif isinstance(e, p.SubmitAwardToEscrow):
                if e.round == 0:
                    if award is None:
                        raise AssertionError("a round-0 award is submitted with its record")
                    self._chain(session, row.id, "submit_award", {
                        "orderId": order_id, "caseId": row.id,
                        "allocation": p.to_jsonable(e.award.allocation),
                        "awardHash": e.award.award_hash,
                        "signature": _h(award.signatures[0])}, now)
                else:
                    self._chain(session, row.id, "submit_panel_award",
                                self._panel_payload(session, row.id, case, e), now)
            elif type(e).__name__ == "ExecuteAwardOnEscrow":
                award_terms = case.final_award
                self._chain(session, row.id, "execute_award", {
                    "orderId": order_id, "caseId": row.id,
                    "allocation": p.to_jsonable(award_terms.allocation if award_terms
                                                else None)}, now)
            elif type(e).__name__ == "ObjectOnChain":
                self._chain(session, row.id, "object", {"orderId": order_id, "caseId": row.id,
                                                        "party": getattr(e, "party", None)},
                            now, status=ChainActionStatus.AWAITING_PARTY)
            elif type(e).__name__ == "ResolveEscrowByTimeout":
                self._chain(session, row.id, "resolve_by_timeout",
                            {"orderId": order_id, "caseId": row.id}, now)
            elif isinstance(e, p.StageChanged):
                session.add(CaseEvent(case_id=row.id, at=e.at, kind="stage_changed", data={
                    "from": e.stage_from.value, "to": e.stage_to.value,
                    "byDefault": e.by_default}))
            elif isinstance(e, p.DeadlineSet):
                session.add(CaseEvent(case_id=row.id, at=now, kind="deadline_set", data={
                    "stage": e.stage.value, "at": p.to_jsonable(e.at)}))
            elif isinstance(e, p.AppointmentRequested):
                session.add(CaseEvent(case_id=row.id, at=now, kind="appointment_requested",
                                      data={"role": e.role.value, "by": p.to_jsonable(e.by)}))
        # Every step is notified to each party; evidence notices follow disclosure only.
        if step_action != "evidence.submitted":
            for party in case.parties:
                if party not in notified and party != actor:
                    self._notice(session, row.id, party, "step_recorded", now, case,
                                 action=step_action)

    def _notice(self, session: Session, case_id: str, recipient: str, kind: str,
                now: datetime, case: p.CaseState, action: str = "") -> None:
        enqueue_notice(session, case_id=case_id, recipient=recipient, kind=kind, now=now,
                       stage=case.stage.value, action=action, base_url=self.config.base_url,
                       smtp_enabled=self.config.smtp_enabled)

    def _settlement_action(self, session: Session, case_id: str, case: p.CaseState,
                           e: p.ExecuteSettlement, now: datetime) -> None:
        accepted = [o for o in case.offers if o.allocation == e.allocation
                    and set(case.parties) <= o.accepted_by]
        sigs: dict[str, str] = {}
        for offer in accepted:
            rows = session.exec(select(OfferSignature).where(
                col(OfferSignature.case_id) == case_id,
                col(OfferSignature.offer_id) == offer.offer_id)).all()
            sigs = {r.signer: r.signature for r in rows}
            if case.order.buyer in sigs and case.order.seller in sigs:
                break
        self._chain(session, case_id, "execute_settlement", {
            "orderId": str(case.order.order_id), "caseId": case_id,
            "allocation": p.to_jsonable(e.allocation),
            "buyerSignature": sigs.get(case.order.buyer, ""),
            "sellerSignature": sigs.get(case.order.seller, "")}, now)

    def _panel_payload(self, session: Session, case_id: str, case: p.CaseState,
                       e: p.SubmitAwardToEscrow) -> dict[str, Any]:
        by_member: dict[str, str] = {}
        details = session.exec(select(StepDetail).where(
            col(StepDetail.case_id) == case_id,
            col(StepDetail.action) == "award.panel_signed")).all()
        for d in details:
            for att in d.attachments:
                if att.get("type") != "Award":
                    continue
                a = SignedRecord.from_json_obj(att)
                r = a.record
                terms = (r.to_buyer, r.to_seller, r.compensation,  # type: ignore[attr-defined]
                         _h(r.award_hash))  # type: ignore[attr-defined]
                want = (e.award.allocation.to_buyer, e.award.allocation.to_seller,
                        e.award.allocation.compensation, e.award.award_hash)
                if terms == want:
                    by_member[a.signers()[0]] = _h(a.signatures[0])
        return {"orderId": str(case.order.order_id), "caseId": case_id,
                "allocation": p.to_jsonable(e.award.allocation),
                "awardHash": e.award.award_hash,
                "signatures": [by_member.get(m, "") for m in case.panel]}

    def _save_case(self, session: Session, row: Case, case: p.CaseState, now: datetime, *,
                   before: p.CaseState | None = None, next_sequence: int | None = None) -> None:
        """``next_sequence``: the chain's next position when the caller knows it (one step
        stored after a checked position), else read from the steps."""
        row.state = p.case_to_dict(case)
        row.stage = case.stage.value
        row.next_sequence = next_sequence if next_sequence is not None \
            else self.chain_head(session, row.id)[0]
        row.next_deadline = p.next_deadline(case)
        if case.claimant is not None and case.respondent is not None:
            row.claimant, row.respondent = case.claimant, case.respondent
        row.updated_at = now
        session.add(row)
        wanted = [(case.mediator, "mediator"), (case.arbitrator, "arbitrator"),
                  *((m, "panelist") for m in case.panel)]
        if before is not None and [(before.mediator, "mediator"),
                                   (before.arbitrator, "arbitrator"),
                                   *((m, "panelist") for m in before.panel)] == wanted:
            session.flush()
            return  # no appointment in this step: the participants are as they were
        have = {(x.address, x.role) for x in session.exec(
            select(Participant).where(col(Participant.case_id) == row.id)).all()}
        for addr, role in wanted:
            if addr is not None and (addr, role) not in have:
                session.add(Participant(case_id=row.id, address=addr, role=role,
                                        appointed_at=now))
        session.flush()

    # -- institution-signed steps ---------------------------------------------------------

    def _institution_step(self, session: Session, row: Case, action: str,
                          payload: Mapping[str, Any], now: datetime) -> SignedRecord:
        position, prev, prev_at = self.chain_head(session, row.id)
        rec = ProceduralStep(case_id=row.id, sequence=position, prev_hash=prev,
                             actor=self.institution_address, action=action,
                             payload_hash=payload_hash(payload),
                             signed_at=max(int(now.timestamp()), prev_at))
        return rec.sign(self._institution.key, self.domain)

    def _after_chain(self, action: ChainAction) -> None:
        """The escrow executed an award: sign and apply ``enforcement.recorded``."""
        if action.kind not in ("execute_award", "submit_panel_award") or not action.tx_hash:
            return
        a = action.payload["allocation"]
        shortfall = getattr(self.port, "shortfalls", {}).get(action.tx_hash, 0)
        payload = {"txHash": action.tx_hash, "toBuyer": str(a["to_buyer"]),
                   "toSeller": str(a["to_seller"]), "compensation": str(a["compensation"]),
                   "compensationShortfall": str(shortfall)}
        now = self.now()
        with self._writer(), self.sessions() as session:
            self._begin_write(session)
            row, case = self._load(session, action.case_id, lock=True)
            if case.stage not in p.ENFORCEABLE_STAGES:
                session.rollback()
                return
            signed = self._institution_step(session, row, "enforcement.recorded", payload, now)
            t = translate(case, signed, actor=self.institution_address, payload=payload,
                          attachments=[], reasons=None, award_record_hash=None, now=now)
            new_case, effects = p.apply(case, t.command, now)
            self._store(session, row, case, new_case, effects, signed, t, now)
            session.commit()

    def reconcile_enforcement(self) -> list[str]:
        """Record ``enforcement.recorded`` for every award the escrow has executed but the
        case has not recorded yet (the step after a chain action failed or was cut off)."""
        with self.sessions() as session:
            rows = session.exec(select(ChainAction).join(Case, col(Case.id) == col(
                ChainAction.case_id)).where(
                col(ChainAction.status) == ChainActionStatus.DONE,
                col(ChainAction.kind).in_(["execute_award", "submit_panel_award"]),
                col(Case.stage).in_([s.value for s in p.ENFORCEABLE_STAGES]))).all()
        done = []
        for action in rows:
            self._after_chain(action)
            done.append(action.case_id)
        return done

    # -- the scheduler ---------------------------------------------------------------------

    def run_due(self, now: datetime | None = None) -> list[str]:
        """Advance every case whose deadline has passed (default proceedings)."""
        now = now or self.now()
        with self.sessions() as session:
            due = list(session.exec(select(Case.id).where(
                col(Case.next_deadline).is_not(None), col(Case.next_deadline) <= now)).all())
        advanced = []
        for case_id in due:
            if self.advance_case(case_id, now):
                advanced.append(case_id)
            self.executor.run(case_id=case_id)
        return advanced

    def advance_case(self, case_id: str, now: datetime | None = None) -> bool:
        now = now or self.now()
        with self._writer(), self.sessions() as session:
            self._begin_write(session)
            row, case = self._load(session, case_id, lock=True)
            new_case, effects = p.advance(case, now)
            if not effects:
                session.rollback()
                return False
            for e in effects:
                if isinstance(e, p.AnchorStep) and e.sequence is None:
                    stage = case.stage.value
                    for sep in (":", "."):
                        if sep in e.step:
                            stage = e.step.rsplit(sep, 1)[1]
                    action = f"deadline_missed.{stage}"
                    payload = {"missed": stage, "deadline": p.to_jsonable(e.at)}
                    signed = self._institution_step(session, row, action, payload, now)
                    self._insert_step(session, row, case, signed, action, now,
                                      payload=canonical_json(payload))
            self._apply_effects(session, row, new_case, effects, now,
                                step_action="deadline_missed", actor=None)
            self._save_case(session, row, new_case, now)
            session.commit()
        return True

    # -- courts ----------------------------------------------------------------------------

    def register_court(self, admin: str, address: str, name: str) -> None:
        if not self.is_admin(admin):
            raise AccessDenied("only an institution admin registers courts")
        with self._writer(), self.sessions() as session:
            self._begin_write(session)
            if session.get(CourtAccount, address) is None:
                session.add(CourtAccount(address=address, name=name, registered_by=admin,
                                         created_at=self.now()))
                session.commit()


def _version(row: Case) -> tuple[Any, ...] | None:
    """The key of a case row's state version: the step-chain position, the time of the
    last save, the stage and the courts (the only change made without a step); None
    when the stored state is malformed (the decoder then says why)."""
    try:
        courts = tuple(row.state["case"]["courts"])
    except (KeyError, TypeError):
        return None
    return (row.id, row.next_sequence, row.updated_at, row.stage, courts)


def _run_hooks(hooks: Sequence[Callable[[], None]]) -> None:
    """After-commit hooks only fill caches: one that fails must not turn a committed
    step into an error (the cache then misses and the next step reads the database)."""
    for hook in hooks:
        try:
            hook()
        except Exception:
            log.exception("after-commit hook failed (a cache miss follows)")


def _stale() -> StaleStep:
    return StaleStep("another step took this position in the case first; reload and sign "
                     "again")


def _signer(signed: SignedRecord) -> str:
    """The signer field of a chained record (verified before it gets here, or signed by
    the institution key here): no second signature recovery."""
    field_name = signed.record.SIGNER_FIELD
    assert field_name is not None
    return str(signed.record.message()[field_name])


def chain_action_view(a: ChainAction) -> dict[str, Any]:
    return {"id": a.id, "kind": a.kind, "status": a.status, "attempts": a.attempts,
            "txHash": a.tx_hash, "error": a.error}


def _document_bytes(document: Mapping[str, Any]) -> bytes:
    import base64
    import binascii

    raw = document.get("content_base64")
    if not isinstance(raw, str):
        raise BadSubmission("document.content_base64: expected base64 text")
    if len(raw) > 14_000_000:
        raise BadSubmission("document: at most 10 MB inline; upload larger files as evidence")
    try:
        return base64.b64decode(raw, validate=True)
    except binascii.Error:
        raise BadSubmission("document.content_base64: not valid base64") from None
