"""Chain effects of the procedure: what the escrow must do, sent in order, retried.

Theory of operation:

* A command's effects (``FreezeEscrow``, ``AppointOnChain``, ``ExecuteSettlement``,
  ``SubmitAwardToEscrow`` ...) and the service's own relays (submitting a round-0 award when
  it is issued, so the escrow's objection window opens) become ``ChainAction`` rows in the
  same transaction that stores the step: the typed act of ``backend.services.escrow``
  (``AppointArbitrator`` ...) stored as its ``KIND`` and ``to_json()``. After the commit,
  ``ChainExecutor.run`` decodes each row back into its act and sends it through the
  ``EscrowPort`` method for it, in order, per case (an appointment never overtakes the freeze
  it depends on), records the transaction hash, and retries failures on the next run up to
  ``max_attempts``.
* Some acts only a party's own wallet can perform (``raiseDispute``, ``objectToAward``: the
  escrow checks ``msg.sender``). Those rows are ``awaiting_party``: the port reads the order
  and the row is done once the chain shows the party did it. The server holds no party key.
* A window the escrow still keeps open (``NotYet``) is waited for without spending an
  attempt; any other refusal or chain error spends one.
* The port's implementations: ``Web3EscrowPort`` (``backend.gateway.escrow``: the deployed
  contract, in-process EVM or a node) and ``FakeEscrowPort`` (``escrow_fake``: a model of
  the contract for fast tests), held to the same behaviour by one suite.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from backend.db import begin_exclusive
from backend.db.service_models import ChainAction, ChainActionStatus

from .escrow import (
    AwaitingParty,
    EscrowPort,
    NotYet,
    OrderInfo,
    Outcome,
    Sent,
    decode_action,
    perform,
)
from .escrow_fake import FakeEscrowPort

__all__ = [
    "AwaitingParty",
    "ChainExecutor",
    "EscrowPort",
    "FakeEscrowPort",
    "NotYet",
    "OrderInfo",
]

log = logging.getLogger(__name__)


# --- the executor ---------------------------------------------------------------------


@dataclass
class ExecutorReport:
    done: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


DoneHook = Callable[[ChainAction, Outcome], None]


class ChainExecutor:
    """Sends pending chain actions in id order per case; retries; records tx hashes.

    ``on_done(action, outcome)`` runs after an action is recorded done (in a fresh
    transaction of its own) with what the port returned (the escrow's event): the service
    uses it to record the escrow's execution of an award as a step.
    """

    def __init__(self, sessions: sessionmaker[Session], port: EscrowPort, *,
                 clock: Callable[[], datetime], max_attempts: int = 5,
                 on_done: DoneHook | None = None) -> None:
        self.sessions = sessions
        self.port = port
        self.clock = clock
        self.max_attempts = max_attempts
        self.on_done = on_done
        self._lock = threading.Lock()

    def run(self, case_id: str | None = None) -> ExecutorReport:
        report = ExecutorReport()
        with self._lock:
            with self.sessions() as session:
                query = select(ChainAction).where(col(ChainAction.status).in_(
                    [ChainActionStatus.PENDING, ChainActionStatus.AWAITING_PARTY]))
                if case_id is not None:
                    query = query.where(col(ChainAction.case_id) == case_id)
                actions = list(session.exec(query.order_by(col(ChainAction.id))).all())
            blocked: set[str] = set()
            for action in actions:
                if action.case_id in blocked:
                    continue
                if not self._run_one(action, report):
                    blocked.add(action.case_id)
        return report

    def _run_one(self, action: ChainAction, report: ExecutorReport) -> bool:
        """Try one action; True when it is done (the case's next action may go)."""
        assert action.id is not None
        now = self.clock()
        try:
            outcome = perform(self.port, decode_action(action.kind, action.payload))
        except AwaitingParty as exc:
            self._update(action.id, error=str(exc), updated_at=now)
            return False
        except NotYet as exc:  # a window still open on-chain: wait, no attempt spent
            self._update(action.id, error=str(exc), updated_at=now)
            return False
        except Exception as exc:  # any chain error is recorded and retried
            attempts = action.attempts + 1
            status = ChainActionStatus.FAILED if attempts >= self.max_attempts \
                else ChainActionStatus.PENDING
            why = f"{type(exc).__name__}: {exc}"
            log.warning("chain action %s (%s) attempt %s failed: %s", action.id, action.kind,
                        attempts, why)
            self._update(action.id, attempts=attempts, status=status, error=why, updated_at=now)
            report.errors.append(f"{action.kind} #{action.id}: {why}")
            if status is ChainActionStatus.FAILED:
                report.failed.append(action.id)
            return False
        tx_hash = outcome.tx_hash if isinstance(outcome, Sent) else None
        self._update(action.id, attempts=action.attempts + 1, status=ChainActionStatus.DONE,
                     tx_hash=tx_hash, error=None, updated_at=now)
        report.done.append(action.id)
        if self.on_done is not None:
            with self.sessions() as session:
                done = session.get(ChainAction, action.id)
            assert done is not None
            try:
                self.on_done(done, outcome)
            except Exception as exc:  # the chain act stands; its record is retried later
                log.exception("after chain action %s", action.id)
                report.errors.append(f"after {action.kind} #{action.id}: {exc}")
        return True

    def _update(self, action_id: int, **values: Any) -> None:
        with self.sessions() as session:
            begin_exclusive(session)
            row = session.get(ChainAction, action_id)
            assert row is not None
            for k, v in values.items():
                setattr(row, k, v)
            session.add(row)
            session.commit()
