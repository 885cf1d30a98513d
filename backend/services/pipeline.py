"""The step pipeline: one signed step from request body to committed case, in stages.

Why stages: each answers one question, in the order the refusals must come, and each
can be read (and tested) alone:

1. ``decode``      the body's signed record and its parts (``BadSubmission``, record errors)
2. ``authorize``   the record is the caller's; an admin's institution act is countersigned
                   by the institution key (the admin's record kept as its authorization)
3. ``prestore``    the bundle written to IPFS before the lock (a hint, reused if still true)
   -- under the case's write lock, in the step's transaction (``StepTransactions``): --
4. ``locate``      the record's place in the step chain: domain, case, and for a record
                   at the next position its prevHash and signedAt (``StaleStep``,
                   ``ReplayError``, ``clock_skew``)
5. ``translate``   the procedure's admission (``p.admit``: closed, who, the record's
                   position as the one replay counter ``StaleSequence``, stage, deadline),
                   then record -> procedure command (``backend.services.steps``; a
                   document checked against the signed hash)
6. ``apply``       ``procedure.apply`` with the injected clock (the procedure's refusals)
7. ``admit``       what the step names must be held here (a staged upload, an exported
                   package)
8. ``persist``     the step store (rows, bundle, leaf), the settlement signature, the case
9. ``interpret``   the effects (``EffectInterpreter``: chain actions, notices, events)
10. ``after_commit`` caches filled, this step's chain actions sent and listed

The clock is injected (``clock()`` returns an aware UTC datetime); nothing here reads the
wall clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from contextlib import AbstractContextManager, nullcontext
from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import Any, Protocol, Required

from sqlmodel import Session, col, select
from typing_extensions import TypedDict

from backend import procedure as p
from backend.answers import open_answer
from backend.db.service_models import ChainAction
from backend.log.store import Appended
from backend.notices.outbox import held_notices
from evidence.clocks import SIGNER_SKEW
from evidence.errors import EvidenceError
from evidence.records import (
    ChainedRecord,
    CourtConfirmation,
    Domain,
    EvidenceSubmission,
    ProceduralStep,
    SignedRecord,
)

from .chain import ChainExecutor
from .effects import EffectInterpreter
from .errors import AccessDenied, BadSubmission, ServiceError, StaleStep
from .evidence import bind_submission, require_staged
from .institution import Institution
from .keys import ServiceKey
from .repository import CaseRepository, CaseRow, version_of
from .step_store import Prestored, StepStore, check_document, hex0x, signer_of
from .steps import Translated, institution_actor, translate
from .transactions import StepTransactions, after_commit

__all__ = ["MAX_CLOCK_SKEW_SECONDS", "StepPipeline", "StepResult", "Submission",
           "chain_action_view"]

MAX_CLOCK_SKEW_SECONDS = SIGNER_SKEW  # the verifier's `clocks` check allows the same


@open_answer
class ChainActionJson(TypedDict):
    """A chain action a step (or the scheduler) queued: its kind, its state, its
    transaction once sent."""

    id: int | None
    kind: str
    status: str
    attempts: int
    txHash: str | None
    error: str | None


@dataclass(frozen=True)
class StepResult:
    case_id: str
    sequence: int
    record_hash: str
    action: str
    stage: str
    cid: str | None
    chain_actions: list[ChainActionJson]  # the case's, once the step's are sent
    log: Appended | None = None  # the step's entry in the institution's log (its receipt)
    queued: tuple[str, ...] = ()  # the kinds of chain action the step queued


class StepBody(TypedDict, total=False):
    """A step's body as the API's ``StepIn`` validated it (or a service built it): the
    signed record (``decode`` reads it), its payload, attachments, reasons and document."""

    record: Required[object]
    payload: Mapping[str, object] | None
    attachments: Sequence[Mapping[str, object]]
    reasons: str | None
    document: Mapping[str, object] | None


@dataclass(frozen=True)
class Submission:
    """A decoded step body. ``signed`` is the record the chain will hold (the
    institution's countersignature when an admin authorised an institution act, the
    admin's own record then being ``authorization``)."""

    signed: SignedRecord
    signer: str
    payload: Mapping[str, object] | None  # the shapes the API's StepIn validated
    attachments: Sequence[Mapping[str, object]]
    reasons: str | None
    document: Mapping[str, object] | None
    authorization: SignedRecord | None = None


class ChainActionRow(Protocol):
    """What a chain action's view reads: a ``ChainAction`` or a Core row of its columns."""

    @property
    def id(self) -> int | None: ...
    @property
    def kind(self) -> str: ...
    @property
    def status(self) -> str: ...
    @property
    def attempts(self) -> int: ...
    @property
    def tx_hash(self) -> str | None: ...
    @property
    def error(self) -> str | None: ...


def chain_action_view(a: ChainActionRow) -> ChainActionJson:
    return {"id": a.id, "kind": a.kind, "status": a.status, "attempts": a.attempts,
            "txHash": a.tx_hash, "error": a.error}


class StepPipeline:
    """Runs signed steps through the stages; also records steps the service signs itself."""

    def __init__(self, *, repository: CaseRepository, transactions: StepTransactions[StepResult],
                 store: StepStore, effects: EffectInterpreter, institution: Institution,
                 executor: ChainExecutor, keys: ServiceKey, service_key: str,
                 is_admin: Callable[[str], bool], clock: Callable[[], datetime]) -> None:
        self.repository = repository
        self.transactions = transactions
        self.store = store
        self.effects = effects
        self.institution = institution
        self.executor = executor
        self.keys = keys
        self._service_key = service_key  # binds evidence to its submission (never logged)
        self.is_admin = is_admin
        self.clock = clock
        # The service's own checks of a step the core accepted, in the step's transaction
        # (the jury draw's chain and snapshot checks: backend/services/jury_draw.py).
        self.gates: list[Callable[[Session, p.CaseState, p.Command], None]] = []

    @property
    def domain(self) -> Domain:
        return self.institution.domain

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    # -- the whole path ---------------------------------------------------------------------

    def submit(self, user: str, case_id: str, body: StepBody) -> StepResult:
        """Verify, translate, apply and store one signed step (see the module doc)."""
        sub = self.authorize(user, case_id, self.decode(body))
        now = self.now()
        rec = sub.signed.record
        prepared: Prestored | None
        if isinstance(rec, EvidenceSubmission):  # the upload says what it is (a hint here)
            staged = self.staged_payload(case_id, rec)
            sub = replace(sub, payload=staged or sub.payload)
            prepared = self.prestore(case_id, sub, now) if staged else None
        else:
            prepared = self.prestore(case_id, sub, now)

        def unit(session: Session) -> StepResult:
            """The locked part: decide on the current state and store (no commit)."""
            row, case = self.repository.load(session, case_id, lock=True)
            position = self.locate(session, row, sub.signed, now)
            step = sub
            if isinstance(rec, EvidenceSubmission):  # decided on the locked state
                step = replace(sub, payload=self.staged_payload(case_id, rec, session)
                               or sub.payload)
            t = self.translate(session, row, case, step, now,
                               None if step is not sub else prepared)
            new_case, effects = p.apply(case, t.command, now)
            for gate in self.gates:
                gate(session, case, t.command)
            bind = self.admit(session, row.id, sub.signed)  # who, when, then: backed by what
            stored = self.persist(session, row, case, new_case, effects, sub.signed, t, now,
                                  authorization=sub.authorization, document=sub.document,
                                  prepared=prepared, next_sequence=position + 1)
            if bind is not None:
                bind(stored)
            self._remember_after_commit(session, row, sub.signed, new_case)
            return stored

        return self.after_commit(self.transactions.commit(unit))

    # -- the stages ---------------------------------------------------------------------------

    @staticmethod
    def decode(body: StepBody) -> Submission:
        """The body's signed record, verified: its signer field signed it."""
        if not isinstance(body, Mapping) or "record" not in body:
            raise BadSubmission("body: expected {'record': <signed record JSON>, ...}")
        signed = SignedRecord.from_json_obj(body["record"])
        signer = signed.verify()[0]
        return Submission(signed=signed, signer=signer, payload=body.get("payload"),
                          attachments=body.get("attachments") or [],
                          reasons=body.get("reasons"), document=body.get("document"))

    def authorize(self, user: str, case_id: str, sub: Submission) -> Submission:
        """The record must be the caller's. An institution act signed by an admin is
        countersigned by the institution key (the escrow and the judicial package know
        that key), the admin's record kept beside it as its authorization."""
        if sub.signer != user:
            raise AccessDenied(f"the record is signed by {sub.signer}, but you are signed in "
                               f"as {user}; post your own signed records")
        rec = sub.signed.record
        if not isinstance(rec, ProceduralStep) or institution_actor(
                rec.action, sub.signer, is_admin=self.is_admin,
                institution=self.institution.address) == sub.signer:
            return sub
        if rec.action == "enforcement.recorded":
            raise AccessDenied("enforcement.recorded is written by the service when the "
                               "escrow has paid out")
        if sub.signed.domain != self.domain:  # the authorisation must be for this deployment
            sub.signed.check_binding(self.domain, case_id=hex0x(rec.case_id))
        return replace(sub, signed=self.institution.countersign(rec),
                       authorization=sub.signed)

    def prestore(self, case_id: str, sub: Submission, now: datetime) -> Prestored | None:
        """Write the step's IPFS record before taking the write lock, against the last
        committed state. The locked section re-translates on the current state and reuses
        this record only if its bytes and confidentiality are the same (else it writes its
        own); a refusal here is left to the locked section, which decides on the current
        state. Only a record for the case's next position is stored early, so stale
        submissions cost no disk write."""
        rec = sub.signed.record
        if not isinstance(rec, ChainedRecord) or sub.document is not None:
            return None
        try:
            current = self._committed_state(case_id, rec.sequence)
            if current is None:
                return None
            case, award_hash = current
            t = translate(case, sub.signed, actor=signer_of(sub.signed), payload=sub.payload,
                          attachments=sub.attachments, reasons=sub.reasons,
                          award_record_hash=award_hash, now=now)
        except (ServiceError, p.ProcedureError, EvidenceError, KeyError, TypeError,
                ValueError):
            return None  # the locked section refuses it precisely (or accepts it)
        return replace(self.store.prestore(sub.signed, t, case, sub.authorization),
                       case=case, award_hash=award_hash, translated=t)

    def locate(self, session: Session, row: CaseRow, signed: SignedRecord, now: datetime) -> int:
        """Check the record's place in the step chain; returns the position it claims.

        A position other than the case's next one is the procedure's refusal
        (``StaleSequence``, after who and before when: ``p.admit`` in ``translate``); here
        only the link to the previous record and the clock of a record at that position
        are checked."""
        rec = signed.record
        if not isinstance(rec, ChainedRecord):
            raise BadSubmission(f"{rec.TYPE_NAME} has no place in the step chain; carry it "
                                "as an attachment of the step that binds it",
                                code="wrong_record_type")
        position, prev, prev_at = self.repository.chain_head(
            session, row.id, next_sequence=row.next_sequence)
        if signed.domain != self.domain:
            signed.check_binding(self.domain, case_id=row.id)  # raises ReplayError
        if hex0x(rec.case_id) != row.id:
            signed.check_binding(self.domain, case_id=row.id)
        seq, rec_prev = rec.sequence, rec.prev_hash
        if seq != position:
            return seq  # the procedure refuses it in its order of checks (StaleSequence)
        if rec_prev != prev:
            raise StaleStep(f"{rec.TYPE_NAME} is for position {seq} after {hex0x(rec_prev)}; "
                            f"the case's next position is {position} after {hex0x(prev)}: "
                            "reload the case and sign again")
        signed_at = rec.signed_at
        now_s = int(now.timestamp())
        if signed_at > now_s + MAX_CLOCK_SKEW_SECONDS:
            raise BadSubmission(f"signedAt {signed_at} is in the future (now {now_s})",
                                code="clock_skew")
        if signed_at < prev_at:
            raise BadSubmission(f"signedAt {signed_at} is before the previous step's "
                                f"{prev_at}", code="clock_skew")
        return position

    def translate(self, session: Session, row: CaseRow, case: p.CaseState, sub: Submission,
                  now: datetime, prepared: Prestored | None = None) -> Translated:
        """Record -> command on the locked state, once the procedure admits its step now
        (``p.admit``: closed, who, the record's position, stage, deadline; before the
        content); an inline document must match it. The pre-lock translation of ``sub`` is
        the answer when it was made on this very state at this very time (``translate`` is
        pure): one translation and two recoveries per offer (issue 10)."""
        award_hash = self.store.award_record_hash(session, row.id, case)
        if prepared is not None and prepared.translated is not None \
                and prepared.case is case and prepared.award_hash == award_hash:
            t = prepared.translated
        else:
            t = translate(case, sub.signed, actor=signer_of(sub.signed), payload=sub.payload,
                          attachments=sub.attachments, reasons=sub.reasons,
                          award_record_hash=award_hash, now=now)
        check_document(t, sub.document)
        return t

    def admit(self, session: Session, case_id: str, signed: SignedRecord
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
                                service_key=self._service_key, now=self.now())
                session.flush()

            return bind
        if isinstance(rec, CourtConfirmation):
            from .package import require_exported  # the package service imports this one

            require_exported(session, case_id, signer_of(signed), hex0x(rec.package_hash))
        return None

    def persist(self, session: Session, row: CaseRow, before: p.CaseState, after: p.CaseState,
                effects: Sequence[p.Effect], signed: SignedRecord, t: Translated,
                now: datetime, *, authorization: SignedRecord | None = None,
                document: Mapping[str, object] | None = None, prepared: Prestored | None = None,
                next_sequence: int | None = None) -> StepResult:
        """Store the step, interpret its effects and save the case, in ``session``'s
        transaction (the caller commits). Also the path of steps the service signs."""
        signature = self.store.offer_signature(row.id, t, now)  # read by ``interpret``
        step = self.store.insert(session, row.id, before, signed, t.action, now,
                                 payload=t.payload, attachments=t.attachments,
                                 authorization=authorization,
                                 command=p.command_to_dict(t.command), document=document,
                                 prepared=prepared, also=() if signature is None else (signature,))
        # PostgreSQL: the step's notices held for the case's UPDATE (``save``; nothing
        # reads them before), one round trip fewer; SQLite stores them as they come
        holding: AbstractContextManager[list[dict[str, Any]]] = \
            nullcontext([]) if self.repository.sqlite else held_notices(session)
        with holding as notices:
            queued = self.effects.interpret(session, row.id, after, effects, now,
                                            step_action=t.action, actor=t.command.actor,
                                            award=t.award)
        self.repository.save(session, row, after, now, before=before,
                             next_sequence=next_sequence, notices=notices)
        return StepResult(case_id=row.id, sequence=step.sequence, record_hash=step.record_hash,
                          action=t.action, stage=after.stage.value, cid=step.cid,
                          chain_actions=[], log=step.log, queued=tuple(queued))

    def after_commit(self, result: StepResult) -> StepResult:
        """The step is durable: send the chain work it queued and list the case's actions."""
        if not result.queued:
            return result  # no chain work: nothing to send or report
        self.executor.run(case_id=result.case_id)
        with self.repository.sessions() as session:
            actions = session.exec(select(ChainAction).where(
                col(ChainAction.case_id) == result.case_id).order_by(col(ChainAction.id))).all()
            listed = [chain_action_view(a) for a in actions]
        return replace(result, chain_actions=listed)

    # -- helpers ------------------------------------------------------------------------------

    def staged_payload(self, case_id: str, rec: EvidenceSubmission,
                       session: Session | None = None) -> dict[str, str] | None:
        """The step payload of the upload an ``EvidenceSubmission`` names (its kind and
        item id), or None when no such upload is staged (``admit`` refuses it)."""
        if session is None:
            with self.repository.sessions() as s:
                return self.staged_payload(case_id, rec, s)
        try:
            item = require_staged(session, case_id, rec)
        except ServiceError:
            return None
        return {"kind": item.kind, "evidenceId": f"ev{item.id}"}

    def _committed_state(self, case_id: str, position: int
                         ) -> tuple[p.CaseState, str | None] | None:
        """For ``prestore``: the case's last committed state and award record hash, if
        ``position`` is its next one (else None). This process's last commit on the case
        answers without a query when it is at that position (a hint only: the locked
        section decides on the row it locks)."""
        latest = self.repository.latest(case_id)
        if latest is not None and latest[0] == position and latest[2].final_award is None:
            return latest[2], None
        with self.repository.sessions() as session:
            row, case = self.repository.load(session, case_id)
            if position != row.next_sequence:
                return None
            return case, self.store.award_record_hash(session, row.id, case)

    def _remember_after_commit(self, session: Session, row: CaseRow, signed: SignedRecord,
                               case: p.CaseState) -> None:
        """Once committed, the repository's caches know this step (the values now: a later
        step of the same case in this group changes the row)."""
        key, version = row.id, version_of(row)
        rec = signed.record
        assert isinstance(rec, ChainedRecord), "a stored step is a link of the chain"
        head = (row.next_sequence, signed.record_hash, int(rec.signed_at))
        after_commit(session, lambda: self.repository.remember_step(key, version, head, case))
