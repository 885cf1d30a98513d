# ruff: noqa: N818  -- AwaitingParty is a state to wait in, not a failure.
"""Chain effects of the procedure: what the escrow must do, and a port to do it.

Theory of operation:

* A command's effects (``FreezeEscrow``, ``AppointOnChain``, ``ExecuteSettlement``,
  ``SubmitAwardToEscrow``) and the service's own relays (submitting a round-0 award when it
  is issued, so the escrow's objection window opens) become ``ChainAction`` rows in the
  same transaction that stores the step. After the commit, ``ChainExecutor.run`` sends them
  in order, per case (an appointment never overtakes the freeze it depends on), records the
  transaction hash, and retries failures on the next run up to ``max_attempts``.
* Some acts only a party's own wallet can perform (``raiseDispute``, ``objectToAward``: the
  escrow checks ``msg.sender``). Those rows are ``awaiting_party``: the executor reads the
  order and marks them done once the chain shows the party did it. The server holds no
  party key, ever.
* ``EscrowPort`` is the chain side (a Protocol): ``Web3EscrowPort`` talks to the deployed
  ArbitrationEscrow with the institution key; ``FakeEscrowPort`` is an in-memory stand-in
  for tests that also fails on demand, to exercise retries.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Protocol

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select

from backend.db import begin_exclusive
from backend.db.service_models import ChainAction, ChainActionStatus
from evidence.records import Domain

from .errors import NotFound

__all__ = [
    "AwaitingParty",
    "ChainExecutor",
    "EscrowPort",
    "FakeEscrowPort",
    "NotYet",
    "OrderInfo",
    "Web3EscrowPort",
]

log = logging.getLogger(__name__)

# The escrow's Status enum names (contracts/ArbitrationEscrow.sol).
DISPUTED_OR_LATER = frozenset({"Disputed", "ArbitratorAppointed", "AwardSubmitted", "Objected",
                               "PanelAppointed", "Resolved"})


class AwaitingParty(Exception):
    """The act is a party's (its wallet must send it); not yet seen on-chain."""


class NotYet(Exception):
    """The escrow keeps a window open until ``not_before`` (unix time): the act waits for
    it, spending no attempt (the procedure's deadline can fall before the contract's)."""

    def __init__(self, not_before: int) -> None:
        super().__init__(f"the escrow's window is open until unix time {not_before}")
        self.not_before = not_before


@dataclass(frozen=True)
class OrderInfo:
    """What the service needs of an escrow order."""

    order_id: int
    buyer: str
    seller: str
    amount: int
    token: str
    institution: str
    status: str
    case_id: str  # 0x-hex bytes32 (zero before a dispute)
    guarantee: int  # the seller's guarantee balance in the order's token


class EscrowPort(Protocol):
    """The escrow as the service uses it; every method is synchronous and may raise."""

    institution_address: str

    def domain(self) -> Domain: ...

    def read_order(self, order_id: int) -> OrderInfo: ...

    def execute(self, kind: str, payload: dict[str, Any]) -> str | None:
        """Carry out one chain action; returns the transaction hash (None: observed only).
        Raises AwaitingParty while a party's own act is not on-chain yet."""
        ...


# --- the executor ---------------------------------------------------------------------


@dataclass
class ExecutorReport:
    done: list[int] = field(default_factory=list)
    failed: list[int] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


DoneHook = Callable[[ChainAction], None]


class ChainExecutor:
    """Sends pending chain actions in id order per case; retries; records tx hashes.

    ``on_done(action)`` runs after an action is recorded done (in a fresh transaction of
    its own): the service uses it to record the escrow's execution of an award as a step.
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
            tx_hash = self.port.execute(action.kind, action.payload)
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
        self._update(action.id, attempts=action.attempts + 1, status=ChainActionStatus.DONE,
                     tx_hash=tx_hash, error=None, updated_at=now)
        report.done.append(action.id)
        if self.on_done is not None:
            with self.sessions() as session:
                done = session.get(ChainAction, action.id)
            assert done is not None
            try:
                self.on_done(done)
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


# --- an in-memory escrow for tests -----------------------------------------------------


class FakeEscrowPort:
    """An escrow in memory: orders, the calls made, and failures on demand."""

    def __init__(self, *, chain_id: int, escrow: str, institution: str) -> None:
        self._domain = Domain(chain_id=chain_id, verifying_contract=escrow)
        self.institution_address = institution
        self.orders: dict[int, OrderInfo] = {}
        self.calls: list[tuple[str, dict[str, Any]]] = []
        self.fail_next: list[str] = []  # kinds whose next call raises
        self._tx = 0

    def domain(self) -> Domain:
        return self._domain

    def add_order(self, info: OrderInfo) -> None:
        self.orders[info.order_id] = info

    def party_raises_dispute(self, order_id: int, case_id: str) -> None:
        """What the party's wallet does on-chain (raiseDispute)."""
        o = self.orders[order_id]
        self.orders[order_id] = OrderInfo(**{**o.__dict__, "status": "Disputed",
                                             "case_id": case_id})

    def party_objects(self, order_id: int) -> None:
        o = self.orders[order_id]
        self.orders[order_id] = OrderInfo(**{**o.__dict__, "status": "Objected"})

    def read_order(self, order_id: int) -> OrderInfo:
        if order_id not in self.orders:
            raise NotFound(f"order {order_id} does not exist on the escrow")
        return self.orders[order_id]

    def execute(self, kind: str, payload: dict[str, Any]) -> str | None:
        if kind in self.fail_next:
            self.fail_next.remove(kind)
            raise ConnectionError(f"node unreachable while sending {kind} (injected)")
        order = self.orders[int(payload["orderId"])]
        if kind == "freeze":
            if order.status not in DISPUTED_OR_LATER or order.case_id != payload["caseId"]:
                raise AwaitingParty(f"order {order.order_id} is {order.status}; the claimant's "
                                    f"wallet must call raiseDispute(orderId, caseId)")
            self.calls.append((kind, payload))
            return None
        if kind == "object":
            if order.status not in ("Objected", "PanelAppointed", "Resolved"):
                raise AwaitingParty(f"order {order.order_id} is {order.status}; the objecting "
                                    f"party's wallet must call objectToAward(orderId)")
            self.calls.append((kind, payload))
            return None
        self.calls.append((kind, payload))
        self._tx += 1
        return "0x" + f"{self._tx:064x}"


# --- the deployed escrow ---------------------------------------------------------------


class Web3EscrowPort:
    """ArbitrationEscrow through backend.chain, signing with the institution key."""

    def __init__(self, escrow: Any, institution: Any, *, flush: Callable[[], None] | None = None
                 ) -> None:
        self.escrow = escrow  # backend.chain.EscrowContract
        self.account = institution  # eth_account LocalAccount (never logged)
        self.institution_address = institution.address
        self._flush = flush or (lambda: None)
        self._domain: Domain | None = None
        self.shortfalls: dict[str, int] = {}  # tx hash -> unpaid compensation

    def __repr__(self) -> str:
        return f"Web3EscrowPort({self.escrow.address}, institution={self.institution_address})"

    def domain(self) -> Domain:
        if self._domain is None:
            d = self.escrow.domain()
            self._domain = Domain(chain_id=d.chain_id, verifying_contract=d.verifying_contract)
        return self._domain

    def read_order(self, order_id: int) -> OrderInfo:
        o = self.escrow.order(order_id)
        if o.buyer == "0x" + "0" * 40:
            raise NotFound(f"order {order_id} does not exist on the escrow")
        g = self.escrow.guarantee(o.seller, o.token)
        return OrderInfo(order_id=order_id, buyer=o.buyer, seller=o.seller, amount=o.amount,
                         token=o.token, institution=o.institution,
                         status="".join(w.capitalize() for w in o.status.name.split("_")),
                         case_id="0x" + o.case_id.hex(), guarantee=g.balance)

    def execute(self, kind: str, payload: dict[str, Any]) -> str | None:
        from backend.chain import Allocation

        order_id = int(payload["orderId"])
        if kind in ("freeze", "object"):
            order = self.read_order(order_id)
            wanted = DISPUTED_OR_LATER if kind == "freeze" else \
                frozenset({"Objected", "PanelAppointed", "Resolved"})
            if order.status not in wanted or (kind == "freeze"
                                              and order.case_id != payload["caseId"]):
                act = "raiseDispute(orderId, caseId)" if kind == "freeze" else \
                    "objectToAward(orderId)"
                raise AwaitingParty(f"order {order_id} is {order.status}; the party's wallet "
                                    f"must call {act}")
            return None

        def alloc() -> Any:
            a = payload["allocation"]
            return Allocation(int(a["to_buyer"]), int(a["to_seller"]), int(a["compensation"]))

        def b(hex_: str) -> bytes:
            return bytes.fromhex(hex_.removeprefix("0x"))

        from backend.chain.errors import ArbitrationEscrowTooEarly

        try:
            acct = self.account
            if kind == "appoint_arbitrator":
                result = self.escrow.appoint_arbitrator(acct, order_id,
                                                        payload["arbitrators"][0])
            elif kind == "appoint_panel":
                result = self.escrow.appoint_panel(acct, order_id, payload["arbitrators"])
            elif kind == "execute_settlement":
                result = self.escrow.execute_settlement(acct, order_id, alloc(),
                                                        b(payload["buyerSignature"]),
                                                        b(payload["sellerSignature"]))
            elif kind == "submit_award":
                result = self.escrow.submit_award(acct, order_id, alloc(),
                                                  b(payload["awardHash"]),
                                                  b(payload["signature"]))
            elif kind == "execute_award":
                result = self.escrow.execute_award(acct, order_id)
            elif kind == "resolve_by_timeout":
                result = self.escrow.resolve_by_timeout(acct, order_id)
            elif kind == "submit_panel_award":
                sigs = [b(s) if s else None for s in payload["signatures"]]
                result = self.escrow.submit_panel_award(acct, order_id, alloc(),
                                                        b(payload["awardHash"]), sigs)
            else:
                raise ValueError(f"unknown chain action {kind!r}")
        except ArbitrationEscrowTooEarly as exc:
            raise NotYet(int(exc.values.get("notBefore", 0))) from exc
        self._flush()  # the chain is on disk before the database says it happened
        tx_hash = "0x" + bytes(result.tx_hash).hex()
        for event in result.named("OrderResolved"):
            self.shortfalls[tx_hash] = int(event.args.get("compensationShortfall", 0))
        return tx_hash
