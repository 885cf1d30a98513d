"""The scheduler: what happens to a case without anyone's request.

Why its own module: these steps are signed by the institution key and start from the
clock or the chain, not from a request body, but they are stored like any step (the step
store, the effect interpreter, the case repository) in one write unit each.

* ``run_due``: every case whose ``next_deadline`` has passed is advanced
  (``procedure.advance``); each default is recorded as an institution-signed
  ``deadline_missed.<stage>`` step, anchored like any other.
* ``record_enforcement``: the ``ChainExecutor``'s after-send hook; when the escrow has
  executed an award, ``enforcement.recorded`` is signed and applied (stage ``enforced``).
* ``reconcile_enforcement``: the same for awards executed while that hook failed or was
  cut off.
* ``record_return_delivery``: the carrier's origin-verified delivered event of a return
  shipment arrived (the webhook path): ``return.delivered`` is signed and applied, and the
  escrow pays the refund (docs/procedure.md "Return and refund").
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from sqlmodel import col, select

from backend import procedure as p
from backend.db import Case
from backend.db.service_models import ChainAction, ChainActionStatus
from evidence.records import canonical_json

from .chain import ChainExecutor, EscrowPort
from .escrow import OrderResolved, Outcome, Sent, decode_action
from .institution import Institution
from .pipeline import StepPipeline
from .repository import CaseRepository
from .steps import translate

__all__ = ["ENFORCING_ACTIONS", "Scheduler"]

ENFORCING_ACTIONS = ("execute_award", "submit_panel_award")


class Scheduler:
    """Defaults after missed deadlines, and the enforcement record after a payout."""

    def __init__(self, *, pipeline: StepPipeline, port: EscrowPort,
                 clock: Callable[[], datetime]) -> None:
        self.pipeline = pipeline
        self.port = port
        self.clock = clock

    @property
    def repository(self) -> CaseRepository:
        return self.pipeline.repository

    @property
    def institution(self) -> Institution:
        return self.pipeline.institution

    @property
    def executor(self) -> ChainExecutor:
        return self.pipeline.executor

    def now(self) -> datetime:
        return self.clock().astimezone(UTC)

    def run_due(self, now: datetime | None = None) -> list[str]:
        """Advance every case whose deadline has passed (default proceedings)."""
        now = now or self.now()
        with self.repository.sessions() as session:
            due = list(session.exec(select(Case.id).where(
                col(Case.next_deadline).is_not(None), col(Case.next_deadline) <= now)).all())
        advanced = []
        for case_id in due:
            if self.advance_case(case_id, now):
                advanced.append(case_id)
            self.executor.run(case_id=case_id)
        return advanced

    def advance_case(self, case_id: str, now: datetime | None = None) -> bool:
        """Apply the case's missed deadlines, if any; False when nothing was due."""
        now = now or self.now()
        repo, store = self.repository, self.pipeline.store
        with repo.write_session() as session:
            row, case = repo.load(session, case_id, lock=True)
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
                    signed = self.institution.sign_step(
                        row.id, repo.chain_head(session, row.id), action, payload, now)
                    store.insert(session, row.id, case, signed, action, now,
                                 payload=canonical_json(payload))
            self.pipeline.effects.interpret(session, row.id, new_case, effects, now,
                                            step_action="deadline_missed", actor=None)
            repo.save(session, row, new_case, now)
            session.commit()
        return True

    def record_enforcement(self, action: ChainAction, outcome: Outcome | None = None) -> None:
        """The escrow executed an award: sign and apply ``enforcement.recorded`` (with the
        shortfall the escrow reported, when this process saw the transaction)."""
        if action.kind not in ENFORCING_ACTIONS or not action.tx_hash:
            return
        act = decode_action(action.kind, action.payload)
        a = getattr(act, "allocation", None)
        assert a is not None, "an executed award has its allocation"
        shortfall = outcome.event.shortfall if isinstance(outcome, Sent) \
            and isinstance(outcome.event, OrderResolved) else 0
        payload = {"txHash": action.tx_hash, "toBuyer": str(a.to_buyer),
                   "toSeller": str(a.to_seller), "compensation": str(a.compensation),
                   "compensationShortfall": str(shortfall)}
        self._institution_step(action.case_id, "enforcement.recorded", payload,
                               lambda case: case.stage in p.ENFORCEABLE_STAGES)

    def record_return_delivery(self, order_id: int, tracking_number: str) -> bool:
        """The carrier delivered a return shipment: if it is the one the buyer recorded in
        the order's case (in ``return_shipped``), sign and apply ``return.delivered``.
        False when no case waits for that shipment (nothing is written)."""
        with self.repository.sessions() as session:
            case_id = session.exec(select(Case.id).where(
                col(Case.order_id) == str(order_id),
                col(Case.stage) == p.Stage.RETURN_SHIPPED.value)).first()
        if case_id is None:
            return False
        done = self._institution_step(
            case_id, "return.delivered", {"trackingNumber": tracking_number},
            lambda case: case.stage is p.Stage.RETURN_SHIPPED
            and case.return_tracking_number == tracking_number)
        if done:
            self.executor.run(case_id=case_id)  # the institution's confirmReturnReceived
        return done

    def _institution_step(self, case_id: str, action: str, payload: dict[str, str],
                          due: Callable[[p.CaseState], bool]) -> bool:
        """Sign ``action`` with the institution key and apply it in one write unit, when
        ``due(case)`` still holds under the case's lock (False: nothing written)."""
        now = self.now()
        repo = self.repository
        with repo.write_session() as session:
            row, case = repo.load(session, case_id, lock=True)
            if not due(case):
                session.rollback()
                return False
            signed = self.institution.sign_step(row.id, repo.chain_head(session, row.id),
                                                action, payload, now)
            t = translate(case, signed, actor=self.institution.address, payload=payload,
                          attachments=[], reasons=None, award_record_hash=None, now=now)
            new_case, effects = p.apply(case, t.command, now)
            self.pipeline.persist(session, row, case, new_case, effects, signed, t, now)
            session.commit()
        return True

    def reconcile_enforcement(self) -> list[str]:
        """Record ``enforcement.recorded`` for every award the escrow has executed but the
        case has not recorded yet (the step after a chain action failed or was cut off)."""
        with self.repository.sessions() as session:
            rows = session.exec(select(ChainAction).join(Case, col(Case.id) == col(
                ChainAction.case_id)).where(
                col(ChainAction.status) == ChainActionStatus.DONE,
                col(ChainAction.kind).in_(list(ENFORCING_ACTIONS)),
                col(Case.stage).in_([s.value for s in p.ENFORCEABLE_STAGES]))).all()
        done = []
        for action in rows:
            self.record_enforcement(action)
            done.append(action.case_id)
        return done
