"""ArbitrationEscrow: advance refunds (Trade Assurance). When the seller has missed the delivery
deadline of a disputed order, its institution pays the buyer in advance from the seller's
guarantee, capped at the order's amount and at what the guarantee holds; the resolution repays
the guarantee from the escrowed amount, the buyer's share first. Both chains (in-process EVM
and anvil)."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from backend.chain import ETH, Allocation, BoundContract, Resolution, Status, errors
from evidence.events import uint_of
from tests.contracts.helpers import AWARD_HASH, CASE, DAY, ETHER, TIMEOUTS, USDC, Env

AMOUNT = 250 * USDC


def _late(env: Env, guarantee: int = 100 * USDC, status: str = "DISPUTED") -> int:
    """A disputed order (or one whose arbitrator is appointed) whose delivery deadline (a day
    after opening) has passed; the seller's guarantee holds `guarantee`."""
    if guarantee:
        env.escrow.deposit_guarantee(env.seller, env.usdc.address, guarantee)
    order_id = env.open("usdc", AMOUNT, deadline_in=DAY)
    env.escrow.raise_dispute(env.buyer, order_id, CASE)
    env.wait(DAY)
    if status == "ARBITRATOR_APPOINTED":
        env.escrow.appoint_arbitrator(env.institution, order_id, env.arbitrator.address)
    return order_id


def _advance(env: Env, order_id: int, amount: int, token: str = "usdc"):
    return env.escrow.advance_refund(env.institution, order_id, env.token_address(token), amount)


def test_advance_refund_pays_the_buyer_from_the_guarantee(env: Env) -> None:
    order_id = _late(env)
    buyer0 = env.usdc.balance_of(env.buyer.address)
    result = _advance(env, order_id, 60 * USDC)
    assert list(result.events) == [
        env.ev("AdvanceRefunded", orderId=order_id, caseId=CASE, amount=60 * USDC,
               totalAdvanced=60 * USDC),
        env.ev("Transfer", env.usdc.address,
               **{"from": env.escrow.address, "to": env.buyer.address, "value": 60 * USDC}),
    ]
    assert env.usdc.balance_of(env.buyer.address) == buyer0 + 60 * USDC
    assert env.escrow.advanced(order_id) == 60 * USDC
    guarantee = env.escrow.guarantee(env.seller.address, env.usdc.address)
    assert (guarantee.balance, guarantee.locked) == (40 * USDC, AMOUNT)
    # the escrow still holds the order's amount and what is left of the guarantee
    assert env.usdc.balance_of(env.escrow.address) == AMOUNT + 40 * USDC
    assert env.escrow.order(order_id).status == Status.DISPUTED


def test_advance_refund_at_the_deadline_itself(env: Env) -> None:
    env.escrow.deposit_guarantee(env.seller, env.usdc.address, 100 * USDC)
    order_id = env.disputed("usdc", AMOUNT)
    deadline = env.escrow.order(order_id).delivery_deadline
    env.at(deadline - 1)
    with pytest.raises(errors.ArbitrationEscrowTooEarly) as info:
        _advance(env, order_id, USDC)
    assert info.value.values == {"orderId": order_id, "notBefore": deadline}
    env.at(deadline)
    _advance(env, order_id, USDC)
    assert env.escrow.advanced(order_id) == USDC


def test_advance_refund_refusals(env: Env) -> None:
    order_id = _late(env)
    # not the institution: a party, a stranger, another institution
    info: pytest.ExceptionInfo[errors.RevertError]
    for caller in (env.buyer, env.seller, env.other, env.other_institution):
        with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller) as info:
            env.escrow.advance_refund(caller, order_id, env.usdc.address, USDC)
        assert info.value.values == {"orderId": order_id, "caller": caller.address}
    # the wrong token: ETH named for a USDC order
    with pytest.raises(errors.ArbitrationEscrowInvalidToken) as info:
        _advance(env, order_id, USDC, "eth")
    assert info.value.values == {"token": ETH}
    with pytest.raises(errors.ArbitrationEscrowZeroAmount):
        _advance(env, order_id, 0)
    # over the cap: the guarantee holds 100
    with pytest.raises(errors.ArbitrationEscrowAdvanceAboveCap) as info:
        _advance(env, order_id, 100 * USDC + 1)
    assert info.value.values == {"orderId": order_id, "cap": 100 * USDC,
                                 "requested": 100 * USDC + 1}
    assert env.escrow.advanced(order_id) == 0
    assert env.escrow.guarantee(env.seller.address, env.usdc.address).balance == 100 * USDC


def test_advance_refund_before_the_deadline_is_refused(env: Env) -> None:
    env.escrow.deposit_guarantee(env.seller, env.usdc.address, 100 * USDC)
    order_id = env.disputed("usdc", AMOUNT)
    deadline = env.escrow.order(order_id).delivery_deadline
    with pytest.raises(errors.ArbitrationEscrowTooEarly) as info:
        _advance(env, order_id, USDC)
    assert info.value.values == {"orderId": order_id, "notBefore": deadline}


@pytest.mark.parametrize("status", ["PAID", "RESOLVED"])
def test_advance_refund_needs_an_open_dispute(env: Env, status: str) -> None:
    env.escrow.deposit_guarantee(env.seller, env.usdc.address, 100 * USDC)
    order_id = env.open("usdc", AMOUNT, deadline_in=DAY)
    if status == "RESOLVED":
        env.escrow.refund_by_seller(env.seller, order_id)
    env.wait(2 * DAY)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus) as info:
        _advance(env, order_id, USDC)
    assert info.value.values == {"orderId": order_id, "current": Status[status]}
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus):
        _advance(env, 999, USDC)  # no such order


def test_advances_twice_stop_at_the_orders_amount(env: Env) -> None:
    order_id = _late(env, guarantee=1_000 * USDC)
    _advance(env, order_id, 200 * USDC)
    with pytest.raises(errors.ArbitrationEscrowAdvanceAboveCap) as info:
        _advance(env, order_id, 50 * USDC + 1)
    assert info.value.values == {"orderId": order_id, "cap": 50 * USDC,
                                 "requested": 50 * USDC + 1}
    result = _advance(env, order_id, 50 * USDC)
    assert env.escrow_events(result)[0] == env.ev(
        "AdvanceRefunded", orderId=order_id, caseId=CASE, amount=50 * USDC,
        totalAdvanced=AMOUNT)
    with pytest.raises(errors.ArbitrationEscrowAdvanceAboveCap) as info:
        _advance(env, order_id, 1)
    assert info.value.values["cap"] == 0


def test_advances_twice_stop_at_the_guarantee(env: Env) -> None:
    order_id = _late(env, guarantee=100 * USDC)
    _advance(env, order_id, 70 * USDC)
    with pytest.raises(errors.ArbitrationEscrowAdvanceAboveCap) as info:
        _advance(env, order_id, 31 * USDC)
    assert info.value.values == {"orderId": order_id, "cap": 30 * USDC,
                                 "requested": 31 * USDC}
    # without any guarantee there is nothing to advance
    other = _late(env, guarantee=0)
    _advance(env, order_id, 30 * USDC)
    with pytest.raises(errors.ArbitrationEscrowAdvanceAboveCap) as info:
        _advance(env, other, 1)
    assert info.value.values["cap"] == 0


def _execute(env: Env, order_id: int, allocation: Allocation):
    sig = env.escrow.sign_award(env.arbitrator, order_id, allocation, AWARD_HASH)
    env.escrow.submit_award(env.other, order_id, allocation, AWARD_HASH, sig)
    env.wait(TIMEOUTS.objection)
    return env.escrow.execute_award(env.other, order_id)


def test_an_award_for_the_seller_restores_the_guarantee(env: Env) -> None:
    order_id = _late(env, status="ARBITRATOR_APPOINTED")
    _advance(env, order_id, 80 * USDC)
    seller0 = env.usdc.balance_of(env.seller.address)
    buyer0 = env.usdc.balance_of(env.buyer.address)
    result = _execute(env, order_id, Allocation(0, AMOUNT, 0))
    assert env.escrow_events(result) == [
        env.ev("AdvanceRepaid", orderId=order_id, fromBuyerShare=0, fromSellerShare=80 * USDC),
        env.ev("OrderResolved", orderId=order_id, resolution=Resolution.AWARD_EXECUTED,
               toBuyer=0, toSeller=AMOUNT, compensationPaid=0, compensationShortfall=0),
    ]
    assert env.usdc.balance_of(env.seller.address) == seller0 + AMOUNT - 80 * USDC
    assert env.usdc.balance_of(env.buyer.address) == buyer0
    guarantee = env.escrow.guarantee(env.seller.address, env.usdc.address)
    assert (guarantee.balance, guarantee.locked) == (100 * USDC, 0)
    assert env.usdc.balance_of(env.escrow.address) == 100 * USDC
    env.escrow.withdraw_guarantee(env.seller, env.usdc.address, 100 * USDC)
    assert env.usdc.balance_of(env.escrow.address) == 0


def test_an_award_for_the_buyer_counts_the_advance_as_paid(env: Env) -> None:
    order_id = _late(env, status="ARBITRATOR_APPOINTED")
    _advance(env, order_id, 100 * USDC)  # the whole guarantee
    buyer0 = env.usdc.balance_of(env.buyer.address)
    # compensation is paid from the guarantee as the resolution leaves it (advance repaid)
    result = _execute(env, order_id, Allocation(AMOUNT, 0, 30 * USDC))
    assert env.escrow_events(result) == [
        env.ev("AdvanceRepaid", orderId=order_id, fromBuyerShare=100 * USDC, fromSellerShare=0),
        env.ev("OrderResolved", orderId=order_id, resolution=Resolution.AWARD_EXECUTED,
               toBuyer=AMOUNT, toSeller=0, compensationPaid=30 * USDC, compensationShortfall=0),
    ]
    assert env.usdc.balance_of(env.buyer.address) == buyer0 + AMOUNT - 100 * USDC + 30 * USDC
    assert env.escrow.guarantee(env.seller.address, env.usdc.address).balance == 70 * USDC
    assert env.usdc.balance_of(env.escrow.address) == 70 * USDC


def test_a_split_award_repays_from_both_shares(env: Env) -> None:
    order_id = _late(env, status="ARBITRATOR_APPOINTED")
    _advance(env, order_id, 80 * USDC)
    seller0 = env.usdc.balance_of(env.seller.address)
    buyer0 = env.usdc.balance_of(env.buyer.address)
    result = _execute(env, order_id, Allocation(50 * USDC, 200 * USDC, 0))
    assert env.escrow_events(result)[0] == env.ev(
        "AdvanceRepaid", orderId=order_id, fromBuyerShare=50 * USDC, fromSellerShare=30 * USDC)
    assert env.usdc.balance_of(env.buyer.address) == buyer0
    assert env.usdc.balance_of(env.seller.address) == seller0 + 170 * USDC
    assert env.escrow.guarantee(env.seller.address, env.usdc.address).balance == 100 * USDC


@pytest.mark.parametrize("path", ["timeout", "settlement", "seller_refund", "panel"])
def test_every_resolution_repays_the_advance(env: Env, path: str) -> None:
    order_id = _late(env, guarantee=300 * USDC)
    _advance(env, order_id, 120 * USDC)
    if path == "timeout":
        env.wait(TIMEOUTS.appointment)
        result = env.escrow.resolve_by_timeout(env.other, order_id)
        shares = (120 * USDC, 0)
    elif path == "settlement":
        allocation = Allocation(100 * USDC, 150 * USDC, 0)
        buyer_sig = env.escrow.sign_settlement(env.buyer, order_id, allocation)
        seller_sig = env.escrow.sign_settlement(env.seller, order_id, allocation)
        result = env.escrow.execute_settlement(env.other, order_id, allocation, buyer_sig,
                                               seller_sig)
        shares = (100 * USDC, 20 * USDC)
    elif path == "seller_refund":
        result = env.escrow.refund_by_seller(env.seller, order_id)
        shares = (120 * USDC, 0)
    else:
        env.escrow.appoint_arbitrator(env.institution, order_id, env.arbitrator.address)
        allocation = Allocation(AMOUNT, 0, 0)
        sig = env.escrow.sign_award(env.arbitrator, order_id, allocation, AWARD_HASH)
        env.escrow.submit_award(env.other, order_id, allocation, AWARD_HASH, sig)
        env.escrow.object_to_award(env.seller, order_id)
        _advance(env, order_id, 10 * USDC)  # still in dispute: a second advance is allowed
        env.escrow.appoint_panel(env.institution, order_id, [p.address for p in env.panel])
        allocation = Allocation(0, AMOUNT, 0)
        sigs = [env.escrow.sign_award(p, order_id, allocation, AWARD_HASH, 1)
                for p in env.panel[:2]]
        result = env.escrow.submit_panel_award(env.other, order_id, allocation, AWARD_HASH,
                                               [*sigs, None])
        shares = (0, 130 * USDC)
    assert env.ev("AdvanceRepaid", orderId=order_id, fromBuyerShare=shares[0],
                  fromSellerShare=shares[1]) in env.escrow_events(result)
    guarantee = env.escrow.guarantee(env.seller.address, env.usdc.address)
    assert (guarantee.balance, guarantee.locked) == (300 * USDC, 0)
    assert env.usdc.balance_of(env.escrow.address) == 300 * USDC


def test_a_refusing_buyer_is_credited_the_advance(env: Env) -> None:
    """An ETH order whose buyer (a contract) rejects payments: the advance is credited, not
    blocked; a buyer that re-enters the escrow on receiving it is refused by the guard."""
    attacker = BoundContract(env.tx, env.extra["attacker"], "ReentrancyAttacker")
    env.escrow.deposit_guarantee(env.seller, ETH, 2 * ETHER)
    result = attacker.send(env.admin, "openOrder", env.seller.address, ETH, 3 * ETHER,
                           env.now() + DAY, env.institution.address, value=3 * ETHER)
    order_id = uint_of(result.named("OrderOpened")[0].args, "orderId")
    attacker.send(env.admin, "raiseDispute", order_id, CASE)
    env.wait(DAY)
    attacker.send(env.admin, "setRejectPayments", True)
    result = _advance(env, order_id, ETHER, "eth")
    assert env.escrow_events(result)[-1] == env.ev(
        "PayoutDeferred", account=attacker.address, token=ETH, amount=ETHER)
    assert env.escrow.owed(attacker.address, ETH) == ETHER
    attacker.send(env.admin, "setRejectPayments", False)
    # On the next advance the buyer tries to release another order of its own from inside the
    # payout; it is that order's buyer, so only the re-entrancy guard can stop it.
    result = attacker.send(env.admin, "openOrder", env.seller.address, ETH, ETHER,
                           env.now() + DAY, env.institution.address, value=ETHER)
    second = uint_of(result.named("OrderOpened")[0].args, "orderId")
    reentry = env.escrow.contract.encode_abi("confirmDelivery", args=[second])
    attacker.send(env.admin, "setReentryCall", reentry)
    _advance(env, order_id, ETHER // 2, "eth")
    assert attacker.call("attempts") == 1
    assert attacker.call("reentrySucceeded") is False
    assert bytes(attacker.call("lastError")) == keccak(text="ReentrancyGuardReentrantCall()")[:4]
    assert env.escrow.order(second).status == Status.PAID
    assert env.escrow.advanced(order_id) == ETHER + ETHER // 2
    # escrowed 3 + 1, guarantee 2 - 1.5, credited 1
    assert env.w3.eth.get_balance(env.escrow.address) == 4 * ETHER + ETHER // 2 + ETHER
