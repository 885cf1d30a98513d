"""Advance refund (Trade Assurance): the institution pays the buyer before the award.

Alibaba's Trade Assurance lets the platform refund a buyer in advance when the seller
breaches, up to the guarantee the seller holds with it. Here: when the order's contract of
sale names rules that provide for it (``RulesVersion.advance_refund``) and the seller has
missed the delivery deadline of an order in dispute, an institution admin asks for an
advance of ``amount``; the service checks what the escrow will check (in dispute, the
deadline passed, the order's token, at most the amount less earlier advances and at most
the guarantee's balance), signs an institution ``advance.refunded`` step on the case's hash
chain (stored, anchored and logged like any step) and queues the escrow's ``advanceRefund``
in the same write unit; the executor sends it after the commit.

The step changes no stage (the procedure does not apply it, as ``appoint.court``): the
dispute goes on, and the escrow repays the advance to the guarantee out of whatever the
case ends with, the buyer's share first (docs/contracts.md "Advance refund").
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from sqlmodel import Session, col, select
from typing_extensions import TypedDict

from backend.answers import open_answer
from backend.db.service_models import SaleContract, SaleContractStatus
from evidence.records import ContractOfSale, SignedRecord, canonical_json
from evidence.sale_terms import RULES_VERSIONS

from .effects import queue_chain_action
from .errors import AccessDenied, BadSubmission, Conflict
from .escrow import AdvanceRefund, OrderInfo

if TYPE_CHECKING:
    from .cases import CaseService

__all__ = ["ADVANCE_REFUNDED", "IN_DISPUTE", "AdvanceTerms", "advance_cap", "advance_terms",
           "release_advance_refund"]

ADVANCE_REFUNDED = "advance.refunded"
IN_DISPUTE = frozenset({"Disputed", "ArbitratorAppointed", "AwardSubmitted", "Objected",
                        "PanelAppointed"})


def advance_cap(order: OrderInfo) -> int:
    """What one more advance may be: the amount less earlier advances, and at most what the
    seller's guarantee holds (the escrow's ``ArbitrationEscrowAdvanceAboveCap``)."""
    return max(min(order.amount - order.advanced, order.guarantee), 0)


@dataclass(frozen=True)
class AdvanceTerms:
    """What the institution's page offers for a case whose contract provides for advances:
    ``ready`` when one may be released now (in dispute, the delivery deadline passed)."""

    order: OrderInfo
    cap: int
    deadline: datetime
    rules_version: str
    ready: bool


def advance_terms(service: CaseService, case_id: str) -> AdvanceTerms | None:
    """The case's advance-refund terms as the release would check them now; None when its
    contract of sale provides for no advance (or there is none)."""
    with service.repository.sessions() as session:
        row, case = service.repository.load(session, case_id)
        contract = _contract_of(session, row.id)
    if contract is None or not RULES_VERSIONS[contract.rules_version].advance_refund:
        return None
    order = service.port.read_order(case.order.order_id)
    deadline = datetime.fromtimestamp(order.delivery_deadline, UTC)
    return AdvanceTerms(order=order, cap=advance_cap(order), deadline=deadline,
                        rules_version=contract.rules_version,
                        ready=order.status in IN_DISPUTE and service.now() >= deadline)


def _contract_of(session: Session, case_id: str) -> ContractOfSale | None:
    row = session.exec(select(SaleContract).where(
        col(SaleContract.case_id) == case_id,
        col(SaleContract.status) == SaleContractStatus.BOUND)).first()
    if row is None:
        return None
    record = SignedRecord.from_json_obj(row.record).record
    return record if isinstance(record, ContractOfSale) else None


@open_answer
class AdvanceRefundJson(TypedDict):
    """An advance refund signed on the case's hash chain and sent to the escrow."""

    caseId: str
    orderId: int
    token: str
    amount: str  # integer of the token's smallest unit, as a string
    totalAdvanced: str
    recordHash: str


def release_advance_refund(service: CaseService, admin: str, case_id: str, amount: int,
                           token: str) -> AdvanceRefundJson:
    """Sign ``advance.refunded`` and queue the escrow's ``advanceRefund`` (sent at once).

    Refusals (``Conflict``/``BadSubmission`` codes, docs/api.md): ``advance_not_in_terms``
    (no bound contract of sale, or its rules provide for no advance), ``advance_not_in_dispute``,
    ``advance_deadline_not_missed``, ``advance_wrong_token``, ``advance_above_cap``.
    """
    if not service.is_admin(admin):
        raise AccessDenied("only an institution admin releases an advance refund")
    if amount <= 0:
        raise BadSubmission("an advance refund is a positive amount in the token's smallest "
                            "unit", code="bad_submission")
    now = service.now()
    repo, store = service.repository, service.store
    with repo.write_session() as session:
        row, case = repo.load(session, case_id, lock=True)
        contract = _contract_of(session, row.id)
        if contract is None or not RULES_VERSIONS[contract.rules_version].advance_refund:
            raise Conflict("the order's contract of sale does not provide for advance refunds "
                           "(its rules version has no advance refund)",
                           code="advance_not_in_terms")
        order = service.port.read_order(case.order.order_id)
        if order.status not in IN_DISPUTE:
            raise Conflict(f"order {order.order_id} is {order.status} on the escrow: an "
                           "advance refund is paid while the order is in dispute",
                           code="advance_not_in_dispute")
        deadline = datetime.fromtimestamp(order.delivery_deadline, UTC)
        if now < deadline:
            raise Conflict(f"the seller has until {deadline.isoformat()} to deliver: no "
                           "advance refund before the delivery deadline has passed",
                           code="advance_deadline_not_missed")
        if token.lower() != order.token.lower():
            raise BadSubmission(f"order {order.order_id} escrows token {order.token}, not "
                                f"{token}", code="advance_wrong_token")
        cap = advance_cap(order)
        if amount > cap:
            raise Conflict(f"an advance of {amount} is above the cap {cap} (the amount "
                           f"{order.amount} less {order.advanced} advanced, and at most the "
                           f"guarantee's {order.guarantee})", code="advance_above_cap")
        payload = {"orderId": str(order.order_id), "token": order.token,
                   "amount": str(amount), "totalAdvanced": str(order.advanced + amount),
                   "deliveryDeadline": deadline.isoformat().replace("+00:00", "Z"),
                   "rulesVersion": contract.rules_version}
        # a record of the step chain the procedure does not apply: its counter moves on
        new_case = replace(case, next_sequence=case.next_sequence + 1)
        signed = service.institution.sign_step(row.id, repo.chain_head(session, row.id),
                                               ADVANCE_REFUNDED, payload, now)
        store.insert(session, row.id, case, signed, ADVANCE_REFUNDED, now,
                     payload=canonical_json(payload))
        queue_chain_action(session, row.id, AdvanceRefund(
            order_id=order.order_id, case_id=row.id, token=order.token, amount=amount),
            now)
        repo.save(session, row, new_case, now)
        for recipient in new_case.parties:
            service.effects.notify(session, row.id, recipient, "step_recorded", now,
                                   stage=new_case.stage.value, action=ADVANCE_REFUNDED)
        session.commit()
    service.executor.run(case_id=row.id)
    return {"caseId": row.id, "orderId": order.order_id, "token": order.token,
            "amount": str(amount), "totalAdvanced": str(order.advanced + amount),
            "recordHash": "0x" + signed.record_hash.hex()}
