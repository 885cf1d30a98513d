"""The escrow's events alone rebuild its state: orders, guarantees and credited balances."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping
from typing import Any

from backend.chain import ETH, Allocation, BoundContract, Resolution, Status, decode_logs
from evidence.events import uint_of
from tests.contracts.helpers import CASE, DAY, ETHER, TIMEOUTS, USDC, Env

PHASE = {
    "DisputeRaised": Status.DISPUTED,
    "ArbitratorAppointed": Status.ARBITRATOR_APPOINTED,
    "AwardObjected": Status.OBJECTED,
    "PanelAppointed": Status.PANEL_APPOINTED,
}


def rebuild(env: Env) -> tuple[dict[int, dict[str, Any]], dict[tuple[str, str], list[int]], dict]:
    """Fold every escrow log since genesis into orders, guarantees and owed balances."""
    logs = env.w3.eth.get_logs({"address": env.escrow.address, "fromBlock": 0, "toBlock": "latest"})
    orders: dict[int, dict[str, Any]] = {}
    guarantees: dict[tuple[str, str], list[int]] = defaultdict(lambda: [0, 0])
    owed: dict[tuple[str, str], int] = defaultdict(int)
    for event in decode_logs(logs):
        a: Mapping[str, Any] = event.args  # read as the ABI declares each
        if event.name == "OrderOpened":
            orders[a["orderId"]] = {
                "status": Status.PAID,
                "resolution": Resolution.NONE,
                "deadline": 0,
                "caseId": bytes(32),
                "arbitrator": "0x" + "00" * 20,
                **{k: a[k] for k in ("buyer", "seller", "token", "amount", "institution")},
            }
        elif event.name in PHASE:
            order = orders[a["orderId"]]
            order.update(status=PHASE[event.name], deadline=a["deadline"])
            if event.name == "DisputeRaised":
                order["caseId"] = a["caseId"]
                guarantees[(order["seller"], order["token"])][1] += order["amount"]
            if event.name == "ArbitratorAppointed":
                order["arbitrator"] = a["arbitrator"]
        elif event.name == "AwardSubmitted" and a["round"] == 0:
            orders[a["orderId"]].update(status=Status.AWARD_SUBMITTED, deadline=a["deadline"])
        elif event.name == "OrderResolved":
            order = orders[a["orderId"]]
            if order["status"] != Status.PAID:
                g = guarantees[(order["seller"], order["token"])]
                g[0] -= a["compensationPaid"]
                g[1] -= order["amount"]
            order.update(status=Status.RESOLVED, resolution=a["resolution"], deadline=0)
        elif event.name == "GuaranteeDeposited":
            guarantees[(a["seller"], a["token"])][0] += a["amount"]
        elif event.name == "GuaranteeWithdrawn":
            guarantees[(a["seller"], a["token"])][0] -= a["amount"]
        elif event.name == "PayoutDeferred":
            owed[(a["account"], a["token"])] += a["amount"]
        elif event.name == "Withdrawn":
            owed[(a["account"], a["token"])] -= a["amount"]
    return orders, guarantees, owed


def test_events_rebuild_every_order_guarantee_and_credit(env: Env) -> None:
    esc = env.escrow
    esc.deposit_guarantee(env.seller, env.usdc.address, 500 * USDC)
    esc.deposit_guarantee(env.seller, ETH, 3 * ETHER)
    esc.withdraw_guarantee(env.seller, env.usdc.address, 100 * USDC)
    # a mix of paths, several left open in different statuses
    env.escrow.confirm_delivery(env.buyer, env.open())
    settled = env.disputed()
    split = Allocation(50 * USDC, 200 * USDC, 20 * USDC)
    esc.execute_settlement(
        env.other,
        settled,
        split,
        esc.sign_settlement(env.buyer, settled, split),
        esc.sign_settlement(env.seller, settled, split),
    )
    awarded = env.award_submitted(Allocation(250 * USDC, 0, 100 * USDC))
    for status in ("PAID", "DISPUTED", "ARBITRATOR_APPOINTED", "AWARD_SUBMITTED", "OBJECTED"):
        env.reach(status)
    panel = env.panel_appointed("eth", ETHER)
    env.wait(TIMEOUTS.objection)
    esc.execute_award(env.other, awarded)
    timed_out = env.disputed("eth", ETHER)
    attacker = BoundContract(env.tx, env.extra["attacker"], "ReentrancyAttacker")
    attacker.send(env.admin, "setRejectPayments", True)
    opened = attacker.send(
        env.admin,
        "openOrder",
        env.seller.address,
        ETH,
        ETHER,
        env.now() + 5 * DAY,
        env.institution.address,
        value=ETHER,
    )
    esc.refund_by_seller(env.seller, uint_of(opened.named("OrderOpened")[0].args, "orderId"))
    env.wait(TIMEOUTS.appointment)
    esc.resolve_by_timeout(env.other, timed_out)

    orders, guarantees, owed = rebuild(env)
    assert sorted(orders) == list(range(1, esc.order_count() + 1))
    for order_id, rebuilt in orders.items():
        on_chain = esc.order(order_id)
        for key, attr in [
            ("status", "status"),
            ("resolution", "resolution"),
            ("deadline", "deadline"),
            ("caseId", "case_id"),
            ("arbitrator", "arbitrator"),
            ("buyer", "buyer"),
            ("seller", "seller"),
            ("token", "token"),
            ("amount", "amount"),
        ]:
            assert rebuilt[key] == getattr(on_chain, attr), (order_id, key)
    for (seller, token), (balance, locked) in guarantees.items():
        g = esc.guarantee(seller, token)
        assert (g.balance, g.locked) == (balance, locked), (seller, token)
    assert dict(owed) == {(attacker.address, ETH): ETHER}
    assert esc.owed(attacker.address, ETH) == ETHER
    assert esc.order(panel).status == Status.PANEL_APPOINTED
    assert esc.order(timed_out).resolution == Resolution.TIMEOUT_NO_ARBITRATOR
    assert orders[awarded]["caseId"] == CASE
    assert esc.pending_award(awarded) is None
