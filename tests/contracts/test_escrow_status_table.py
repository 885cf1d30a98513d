"""Every order function refuses every status it does not accept, naming the current status.

The table below is the contract's transition table (docs/contracts.md) seen from the refusing
side: for each function, the statuses in which it may run; in every other status (including
Resolved and a non-existent order) it must revert ArbitrationEscrowInvalidStatus(id, status).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from backend.chain import Allocation, Status, errors
from tests.contracts.helpers import AWARD_HASH, CASE, USDC, Env

FROZEN = {
    Status.DISPUTED,
    Status.ARBITRATOR_APPOINTED,
    Status.AWARD_SUBMITTED,
    Status.OBJECTED,
    Status.PANEL_APPOINTED,
}
RETURN = {Status.RETURN_PENDING, Status.RETURN_SHIPPED}
ALLOWED: dict[str, set[Status]] = {
    "confirm_delivery": {Status.PAID},
    "release_after_deadline": {Status.PAID},
    "refund_by_seller": {Status.PAID} | FROZEN | RETURN,
    "raise_dispute": {Status.PAID},
    "appoint_arbitrator": {Status.DISPUTED},
    "submit_award": {Status.ARBITRATOR_APPOINTED},
    "object_to_award": {Status.AWARD_SUBMITTED},
    "execute_award": {Status.AWARD_SUBMITTED},
    "appoint_panel": {Status.OBJECTED},
    "submit_panel_award": {Status.PANEL_APPOINTED},
    "execute_settlement": FROZEN | RETURN,
    "resolve_by_timeout": (FROZEN - {Status.AWARD_SUBMITTED}) | RETURN,
    "submit_return_award": {Status.ARBITRATOR_APPOINTED},
    "record_return_shipment": {Status.RETURN_PENDING},
    "confirm_return_received": {Status.RETURN_SHIPPED},
    "dispute_return_receipt": {Status.RETURN_SHIPPED},
    "submit_return_settlement": FROZEN,
}
SIG = b"\x11" * 65


def calls(env: Env) -> dict[str, Callable[[int], Any]]:
    esc, alloc = env.escrow, Allocation(250 * USDC, 0, 0)
    panel = [p.address for p in env.panel]
    return {
        "confirm_delivery": lambda i: esc.confirm_delivery(env.buyer, i),
        "release_after_deadline": lambda i: esc.release_after_deadline(env.other, i),
        "refund_by_seller": lambda i: esc.refund_by_seller(env.seller, i),
        "raise_dispute": lambda i: esc.raise_dispute(env.buyer, i, CASE),
        "appoint_arbitrator": lambda i: esc.appoint_arbitrator(
            env.institution, i, env.arbitrator.address
        ),
        "submit_award": lambda i: esc.submit_award(env.other, i, alloc, AWARD_HASH, SIG),
        "object_to_award": lambda i: esc.object_to_award(env.buyer, i),
        "execute_award": lambda i: esc.execute_award(env.other, i),
        "appoint_panel": lambda i: esc.appoint_panel(env.institution, i, panel),
        "submit_panel_award": lambda i: esc.submit_panel_award(
            env.other, i, alloc, AWARD_HASH, [SIG, SIG, None]
        ),
        "execute_settlement": lambda i: esc.execute_settlement(env.other, i, alloc, SIG, SIG),
        "resolve_by_timeout": lambda i: esc.resolve_by_timeout(env.other, i),
        "submit_return_award": lambda i: esc.submit_return_award(
            env.other, i, alloc, Allocation(0, 250 * USDC, 0), AWARD_HASH, SIG
        ),
        "record_return_shipment": lambda i: esc.record_return_shipment(env.buyer, i, b"\x7e" * 32),
        "confirm_return_received": lambda i: esc.confirm_return_received(env.seller, i),
        "dispute_return_receipt": lambda i: esc.dispute_return_receipt(env.seller, i),
        "submit_return_settlement": lambda i: esc.submit_return_settlement(
            env.other, i, alloc, alloc, SIG, SIG),
    }


def test_every_function_refuses_every_other_status(env: Env) -> None:
    orders = {
        Status[name]: env.reach(name)
        for name in (
            "PAID",
            "DISPUTED",
            "ARBITRATOR_APPOINTED",
            "AWARD_SUBMITTED",
            "OBJECTED",
            "PANEL_APPOINTED",
            "RETURN_PENDING",
            "RETURN_SHIPPED",
        )
    }
    resolved = env.open()
    env.escrow.confirm_delivery(env.buyer, resolved)
    orders[Status.RESOLVED] = resolved
    orders[Status.NONE] = 10_000
    assert set(ALLOWED) == set(calls(env))
    refused = 0
    for name, call in calls(env).items():
        for status, order_id in orders.items():
            if status in ALLOWED[name]:
                continue
            try:
                call(order_id)
            except errors.ArbitrationEscrowInvalidStatus as exc:
                assert exc.values == {"orderId": order_id, "current": status}, name
                refused += 1
            else:
                raise AssertionError(f"{name} accepted an order in {status.name}")
    assert refused == sum(len(orders) - len(allowed) for allowed in ALLOWED.values())
    for status, order_id in orders.items():
        if status != Status.NONE:
            assert env.escrow.order(order_id).status == status
