"""The effect interpreter: what the procedure asks for, turned into rows of this transaction.

Why a table: the core returns effects as data (``backend.procedure.EFFECT_TYPES``); each
type has exactly one handler here, looked up by its type, and the table is checked
against the core's list at import, as the core checks its command handlers. A new
effect without a handler fails at import, not in production.

Nothing here does I/O beyond the caller's database session: a chain effect becomes a
``ChainAction`` row (``queue_chain_action``, sent by the ``ChainExecutor`` after
commit), a notice an outbox row, a stage change or deadline a timeline event.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlmodel import Session, col, select

from backend import procedure as p
from backend.db.service_models import (
    CaseEvent,
    ChainAction,
    ChainActionStatus,
    OfferSignature,
    StepDetail,
    details_of_case,
)
from backend.notices.outbox import enqueue_notice
from evidence.records import Award, ReturnAward, SignedRecord

from . import escrow as x
from .step_store import hex0x

__all__ = ["HANDLERS", "EffectInterpreter", "queue_chain_action"]


def queue_chain_action(session: Session, case_id: str, act: x.ActionPayload,
                       now: datetime, status: ChainActionStatus = ChainActionStatus.PENDING
                       ) -> str:
    """The one way an effect reaches the chain: a ``ChainAction`` row, the typed act of the
    escrow port as its kind and JSON, that the executor sends after commit
    (``AWAITING_PARTY``: a party's wallet must act). Returns the kind."""
    session.add(ChainAction(case_id=case_id, kind=act.KIND, payload=act.to_json(),
                            status=status, created_at=now, updated_at=now))
    return act.KIND


@dataclass
class _Run:
    """One interpretation: the step's transaction, its case after the step, and what the
    handlers have done so far (notified recipients, chain actions queued)."""

    session: Session
    case_id: str
    case: p.CaseState
    now: datetime
    award: SignedRecord | None
    notices: EffectInterpreter
    notified: set[str] = field(default_factory=set)
    queued: list[str] = field(default_factory=list)

    @property
    def order_id(self) -> int:
        return self.case.order.order_id

    def chain(self, act: x.ActionPayload,
              status: ChainActionStatus = ChainActionStatus.PENDING) -> None:
        self.queued.append(queue_chain_action(self.session, self.case_id, act, self.now,
                                              status))

    def event(self, kind: str, at: datetime, data: dict[str, Any]) -> None:
        self.session.add(CaseEvent(case_id=self.case_id, at=at, kind=kind, data=data))


# -- the handlers, one per effect type -----------------------------------------------------

def _notify_parties(run: _Run, e: p.NotifyParties) -> None:
    kind, stage = e.kind, run.case.stage.value
    if kind.startswith("stage:"):  # the procedure's notice of a stage change
        kind, stage = "stage_changed", kind.split(":", 1)[1]
    for r in e.recipients:
        run.notices.notify(run.session, run.case_id, r, kind, run.now, stage=stage)
        run.notified.add(r)


def _freeze(run: _Run, _e: p.FreezeEscrow) -> None:
    run.chain(x.ConfirmDispute(order_id=run.order_id, case_id=run.case_id),
              status=ChainActionStatus.AWAITING_PARTY)


def _appoint_on_chain(run: _Run, e: p.AppointOnChain) -> None:
    run.chain(x.appointment(run.order_id, run.case_id, e.round, e.arbitrators))


def _execute_settlement(run: _Run, e: p.ExecuteSettlement) -> None:
    """The escrow takes both parties' EIP-712 signatures of the accepted allocation."""
    case = run.case
    accepted = [o for o in case.offers if o.allocation == e.allocation
                and o.no_return == e.no_return and set(case.parties) <= o.accepted_by]
    sigs: dict[str, str] = {}
    for offer in accepted:
        rows = run.session.exec(select(OfferSignature).where(
            col(OfferSignature.case_id) == run.case_id,
            col(OfferSignature.offer_id) == offer.offer_id)).all()
        sigs = {r.signer: r.signature for r in rows}
        if case.order.buyer in sigs and case.order.seller in sigs:
            break
    buyer = _bytes(sigs.get(case.order.buyer, ""))
    seller = _bytes(sigs.get(case.order.seller, ""))
    if e.no_return is not None:  # "return and refund": the escrow's return stage starts
        run.chain(x.SubmitReturnSettlement(
            order_id=run.order_id, case_id=run.case_id, allocation=e.allocation,
            no_return=e.no_return, buyer_signature=buyer, seller_signature=seller))
        return
    run.chain(x.ExecuteSettlement(
        order_id=run.order_id, case_id=run.case_id, allocation=e.allocation,
        buyer_signature=buyer, seller_signature=seller))


def _submit_award(run: _Run, e: p.SubmitAwardToEscrow) -> None:
    if e.round == 0:
        if run.award is None:
            raise AssertionError("a round-0 award is submitted with its record")
        if e.award.no_return is not None:  # signed as the escrow's ReturnAward
            assert isinstance(run.award.record, ReturnAward)
            run.chain(x.SubmitReturnAward(order_id=run.order_id, case_id=run.case_id,
                                          allocation=e.award.allocation,
                                          no_return=e.award.no_return,
                                          award_hash=e.award.award_hash,
                                          signature=bytes(run.award.signatures[0])))
            return
        run.chain(x.SubmitAward(order_id=run.order_id, case_id=run.case_id,
                                allocation=e.award.allocation,
                                award_hash=e.award.award_hash,
                                signature=bytes(run.award.signatures[0])))
    else:
        first, second, third = _panel_signatures(run, e)
        run.chain(x.SubmitPanelAward(order_id=run.order_id, case_id=run.case_id,
                                     allocation=e.award.allocation,
                                     award_hash=e.award.award_hash,
                                     signatures=(first, second, third)))


def _panel_signatures(run: _Run, e: p.SubmitAwardToEscrow) -> list[bytes | None]:
    """Each panel member's signature of these award terms, in the panel's order (None for
    a member who did not sign them)."""
    by_member: dict[str, bytes] = {}
    details = run.session.exec(details_of_case(run.case_id).where(
        col(StepDetail.action) == "award.panel_signed")).all()
    want = (e.award.allocation.to_buyer, e.award.allocation.to_seller,
            e.award.allocation.compensation, e.award.award_hash)
    for d in details:
        for att in d.attachments:
            if att.get("type") != "Award":
                continue
            a = SignedRecord.from_json_obj(att)
            r = a.record
            if not isinstance(r, Award):
                continue
            terms = (r.to_buyer, r.to_seller, r.compensation, hex0x(r.award_hash))
            if terms == want:
                by_member[a.signers()[0]] = bytes(a.signatures[0])
    return [by_member.get(m) for m in run.case.panel]


def _execute_award(run: _Run, _e: p.ExecuteAwardOnEscrow) -> None:
    terms = run.case.final_award
    run.chain(x.ExecuteAward(order_id=run.order_id, case_id=run.case_id,
                             allocation=terms.allocation if terms else None))


def _object_on_chain(run: _Run, e: p.ObjectOnChain) -> None:
    run.chain(x.ConfirmObjection(order_id=run.order_id, case_id=run.case_id, party=e.party,
                                 decision=e.decision),
              status=ChainActionStatus.AWAITING_PARTY)


def _appoint_jury(run: _Run, e: p.AppointJuryOnChain) -> None:
    run.chain(x.AppointJury(order_id=run.order_id, case_id=run.case_id, jurors=e.jurors,
                            options=e.options))


def _submit_verdict(run: _Run, _e: p.SubmitVerdictToEscrow) -> None:
    """Every juror's ballot as the case recorded it: the signed commitment and, once
    revealed, its choice, reason code and salt (unrevealed: absent, as the tally counts)."""
    jury = run.case.jury
    ballots = []
    for juror in jury.jurors:
        v = jury.vote_of(juror)
        if v is None or v.choice is None or v.salt is None:
            ballots.append(x.Ballot(juror))
            continue
        ballots.append(x.Ballot(juror, v.choice, v.reason_code or 0, v.salt,
                                _bytes(v.signature)))
    assert jury.winner is not None, "a verdict is submitted only when the jury decided"
    run.chain(x.SubmitJuryVerdict(order_id=run.order_id, case_id=run.case_id,
                                  jurors=jury.jurors, options=jury.options, winner=jury.winner,
                                  ballots=tuple(ballots)))


def _resolve_by_timeout(run: _Run, _e: p.ResolveEscrowByTimeout) -> None:
    run.chain(x.RefundOnTimeout(order_id=run.order_id, case_id=run.case_id))


def _submit_fast_track(run: _Run, e: p.SubmitFastTrackToEscrow) -> None:
    run.chain(x.SubmitFastTrack(order_id=run.order_id, case_id=run.case_id,
                                allocation=e.allocation, report_hash=e.report_hash,
                                window_seconds=e.window_seconds))


def _fast_track_objected(run: _Run, e: p.FastTrackObjectedOnChain) -> None:
    run.chain(x.ConfirmObjection(order_id=run.order_id, case_id=run.case_id, party=e.party,
                                 decision=True),
              status=ChainActionStatus.AWAITING_PARTY)


def _execute_fast_track(run: _Run, e: p.ExecuteFastTrackOnEscrow) -> None:
    run.chain(x.ExecuteAward(order_id=run.order_id, case_id=run.case_id,
                             allocation=e.allocation, decision=True))


def _return_shipped(run: _Run, e: p.ReturnShippedOnChain) -> None:
    run.chain(x.ConfirmReturnShipment(order_id=run.order_id, case_id=run.case_id,
                                      tracking=e.tracking),
              status=ChainActionStatus.AWAITING_PARTY)


def _confirm_return(run: _Run, e: p.ConfirmReturnOnEscrow) -> None:
    run.chain(x.ConfirmReturnReceived(order_id=run.order_id, case_id=run.case_id,
                                      allocation=e.allocation))


def _return_disputed(run: _Run, _e: p.ReturnDisputedOnChain) -> None:
    run.chain(x.ConfirmReturnDispute(order_id=run.order_id, case_id=run.case_id),
              status=ChainActionStatus.AWAITING_PARTY)


def _bytes(hex_: str) -> bytes:
    return bytes.fromhex(hex_.removeprefix("0x"))


def _anchor_step(_run: _Run, _e: p.AnchorStep) -> None:
    """Already done when effects are interpreted: the step store wrote the step's leaf
    (a command's step by the pipeline's persist stage, a default's by the scheduler,
    which signs it first)."""


def _stage_changed(run: _Run, e: p.StageChanged) -> None:
    run.event("stage_changed", e.at, {"from": e.stage_from.value, "to": e.stage_to.value,
                                      "byDefault": e.by_default})


def _deadline_set(run: _Run, e: p.DeadlineSet) -> None:
    run.event("deadline_set", run.now, {"stage": e.stage.value, "at": p.to_jsonable(e.at)})


def _appointment_requested(run: _Run, e: p.AppointmentRequested) -> None:
    run.event("appointment_requested", run.now,
              {"role": e.role.value, "by": p.to_jsonable(e.by)})


Handler = Callable[[_Run, Any], None]
HANDLERS: Mapping[type[p.Effect], Handler] = {
    p.NotifyParties: _notify_parties,
    p.FreezeEscrow: _freeze,
    p.AppointOnChain: _appoint_on_chain,
    p.ExecuteSettlement: _execute_settlement,
    p.SubmitAwardToEscrow: _submit_award,
    p.ExecuteAwardOnEscrow: _execute_award,
    p.ObjectOnChain: _object_on_chain,
    p.AppointJuryOnChain: _appoint_jury,
    p.SubmitVerdictToEscrow: _submit_verdict,
    p.ResolveEscrowByTimeout: _resolve_by_timeout,
    p.SubmitFastTrackToEscrow: _submit_fast_track,
    p.FastTrackObjectedOnChain: _fast_track_objected,
    p.ExecuteFastTrackOnEscrow: _execute_fast_track,
    p.ReturnShippedOnChain: _return_shipped,
    p.ConfirmReturnOnEscrow: _confirm_return,
    p.ReturnDisputedOnChain: _return_disputed,
    p.AnchorStep: _anchor_step,
    p.StageChanged: _stage_changed,
    p.DeadlineSet: _deadline_set,
    p.AppointmentRequested: _appointment_requested,
}
assert set(HANDLERS) == set(p.EFFECT_TYPES), "every effect type needs exactly one handler"


class EffectInterpreter:
    """Interprets a step's effects in its transaction; knows where notices link to."""

    def __init__(self, *, base_url: str, smtp_enabled: bool) -> None:
        self.base_url = base_url
        self.smtp_enabled = smtp_enabled

    def interpret(self, session: Session, case_id: str, case: p.CaseState,
                  effects: Sequence[p.Effect], now: datetime, *, step_action: str,
                  actor: str | None, award: SignedRecord | None = None) -> list[str]:
        """Carry out ``effects`` of a step that left the case as ``case``; returns the
        kinds of the chain actions queued. Every step is notified to each party not
        notified already (evidence notices follow disclosure only)."""
        run = _Run(session, case_id, case, now, award, self)
        for e in effects:
            HANDLERS[type(e)](run, e)
        if step_action != "evidence.submitted":
            for party in case.parties:
                if party not in run.notified and party != actor:
                    self.notify(session, case_id, party, "step_recorded", now,
                                stage=case.stage.value, action=step_action)
        return run.queued

    def notify(self, session: Session, case_id: str, recipient: str, kind: str,
               now: datetime, *, stage: str, action: str = "") -> None:
        """Queue a notice in the outbox (delivered after commit by the notice worker)."""
        enqueue_notice(session, case_id=case_id, recipient=recipient, kind=kind, now=now,
                       stage=stage, action=action, base_url=self.base_url,
                       smtp_enabled=self.smtp_enabled)
