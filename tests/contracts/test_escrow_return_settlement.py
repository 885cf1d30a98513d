"""ArbitrationEscrow: a settlement that says "return and refund" (issue 13 item 3).

Buyer and seller sign a ReturnSettlement: the refund once the goods are back and the fallback if
the buyer does not ship them back. `submitReturnSettlement` starts the return stage at once from
any dispute status before it; the stage then ends as a return award's does. Events compared
exactly, every refusal by custom error and arguments, on the in-process EVM and on anvil.
"""

from __future__ import annotations

import pytest
from eth_utils import keccak

from backend.chain import ETH, Allocation, BoundContract, Resolution, Status, errors
from backend.chain.typed_data import RETURN_SETTLEMENT_TYPE, typed_data_digest
from evidence.events import uint_of
from tests.contracts.helpers import CASE, DAY, ETHER, TIMEOUTS, TRACKING, USDC, Env

AMOUNT = 250 * USDC
REENTRANT_SELECTOR = keccak(text="ReentrancyGuardReentrantCall()")[:4]
REFUND = Allocation(AMOUNT, 0, 5 * USDC)
NO_RETURN = Allocation(0, AMOUNT, 0)
BEFORE_THE_RETURN = ["DISPUTED", "ARBITRATOR_APPOINTED", "AWARD_SUBMITTED", "OBJECTED",
                     "PANEL_APPOINTED"]


def _signatures(env: Env, order_id: int, refund: Allocation = REFUND,
                no_return: Allocation = NO_RETURN) -> tuple[bytes, bytes]:
    return (env.escrow.sign_return_settlement(env.buyer, order_id, refund, no_return),
            env.escrow.sign_return_settlement(env.seller, order_id, refund, no_return))


def _settle(env: Env, order_id: int, refund: Allocation = REFUND,
            no_return: Allocation = NO_RETURN):
    buyer_sig, seller_sig = _signatures(env, order_id, refund, no_return)
    return env.escrow.submit_return_settlement(env.other, order_id, refund, no_return,
                                               buyer_sig, seller_sig)


def test_return_settlement_type_hash_matches_docs(env: Env) -> None:
    fns = env.escrow.contract.functions
    assert bytes(fns.RETURN_SETTLEMENT_TYPEHASH().call()) == keccak(text=RETURN_SETTLEMENT_TYPE)
    assert RETURN_SETTLEMENT_TYPE == (
        "ReturnSettlement(uint256 orderId,bytes32 caseId,uint256 toBuyer,uint256 toSeller,"
        "uint256 compensation,uint256 noReturnToBuyer,uint256 noReturnToSeller,"
        "uint256 noReturnCompensation)"
    )


@pytest.mark.parametrize("status", BEFORE_THE_RETURN)
def test_return_settlement_starts_the_return_stage_at_once(env: Env, status: str) -> None:
    order_id = env.reach(status)
    env.escrow.deposit_guarantee(env.seller, env.usdc.address, 10 * USDC)
    typed = env.escrow.return_settlement_typed_data(order_id, REFUND, NO_RETURN)
    t = env.now() + 60
    env.at(t)
    result = _settle(env, order_id)
    digest = typed_data_digest(typed)
    assert env.escrow_events(result) == [
        env.ev("ReturnSettlementAgreed", orderId=order_id, caseId=CASE,
               refund=REFUND.as_tuple(), settlementHash=digest),
        env.ev("ReturnTermsRecorded", orderId=order_id, caseId=CASE,
               noReturn=NO_RETURN.as_tuple()),
        env.ev("ReturnRequested", orderId=order_id, caseId=CASE,
               deadline=t + TIMEOUTS.return_shipment),
    ]
    order = env.escrow.order(order_id)
    assert (order.status, order.deadline) == (Status.RETURN_PENDING, t + TIMEOUTS.return_shipment)
    pending = env.escrow.pending_award(order_id)
    assert pending is not None and (pending.allocation, pending.award_hash) == (REFUND, digest)


def test_goods_back_pay_the_refund_with_its_compensation(env: Env) -> None:
    order_id = env.disputed()
    env.escrow.deposit_guarantee(env.seller, env.usdc.address, 10 * USDC)
    _settle(env, order_id)
    env.escrow.record_return_shipment(env.buyer, order_id, TRACKING)
    before = env.usdc.balance_of(env.buyer.address)
    result = env.escrow.confirm_return_received(env.seller, order_id)
    assert env.escrow_events(result) == [
        env.ev("OrderResolved", orderId=order_id, resolution=Resolution.RETURN_RECEIVED,
               toBuyer=AMOUNT, toSeller=0, compensationPaid=5 * USDC, compensationShortfall=0)
    ]
    assert env.usdc.balance_of(env.buyer.address) == before + AMOUNT + 5 * USDC
    assert env.escrow.guarantee(env.seller.address, env.usdc.address).balance == 5 * USDC
    assert env.escrow.pending_award(order_id) is None


def test_a_buyer_who_does_not_ship_back_gets_the_fallback(env: Env) -> None:
    order_id = env.disputed()
    _settle(env, order_id)
    env.wait(TIMEOUTS.return_shipment)
    before = env.usdc.balance_of(env.seller.address)
    result = env.escrow.resolve_by_timeout(env.other, order_id)
    assert env.escrow_events(result) == [
        env.ev("OrderResolved", orderId=order_id, resolution=Resolution.RETURN_NOT_SHIPPED,
               toBuyer=0, toSeller=AMOUNT, compensationPaid=0, compensationShortfall=0)
    ]
    assert env.usdc.balance_of(env.seller.address) == before + AMOUNT
    assert env.usdc.balance_of(env.escrow.address) == 0


def test_compensation_is_paid_up_to_the_guarantee_when_the_stage_ends(env: Env) -> None:
    """Paid like an award's: the seller's guarantee (none here) pays what it holds, the rest
    is reported as the shortfall."""
    order_id = env.disputed()
    _settle(env, order_id)
    env.escrow.record_return_shipment(env.buyer, order_id, TRACKING)
    env.wait(TIMEOUTS.return_receipt)
    result = env.escrow.resolve_by_timeout(env.other, order_id)
    assert env.escrow_events(result) == [
        env.ev("OrderResolved", orderId=order_id, resolution=Resolution.RETURN_DEEMED_RECEIVED,
               toBuyer=AMOUNT, toSeller=0, compensationPaid=0,
               compensationShortfall=5 * USDC)
    ]


@pytest.mark.parametrize("status", ["PAID", "RETURN_PENDING", "RETURN_SHIPPED"])
def test_outside_a_dispute_or_inside_the_return_stage_it_is_refused(env: Env,
                                                                     status: str) -> None:
    order_id = env.reach(status)
    current = env.escrow.order(order_id).status
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus) as info:
        _settle(env, order_id)
    assert info.value.values == {"orderId": order_id, "current": current}


def test_resolved_and_unknown_orders_are_refused(env: Env) -> None:
    order_id = env.disputed()
    env.escrow.refund_by_seller(env.seller, order_id)
    for target in (order_id, 999):
        with pytest.raises(errors.ArbitrationEscrowInvalidStatus):
            _settle(env, target)


def test_allocation_and_signature_refusals(env: Env) -> None:
    order_id = env.disputed()
    short = Allocation(AMOUNT - 1, 0, 0)
    with pytest.raises(errors.ArbitrationEscrowAllocationMismatch) as info:
        _settle(env, order_id, short)
    assert info.value.values == {"orderId": order_id, "escrowed": AMOUNT, "allocated": AMOUNT - 1}
    with pytest.raises(errors.ArbitrationEscrowAllocationMismatch):
        _settle(env, order_id, REFUND, Allocation(0, AMOUNT + 1, 0))
    with pytest.raises(errors.ArbitrationEscrowCompensationAboveCap) as cap:
        _settle(env, order_id, REFUND, Allocation(0, AMOUNT, AMOUNT + 1))
    assert cap.value.values == {"orderId": order_id, "cap": AMOUNT, "compensation": AMOUNT + 1}
    buyer_sig, seller_sig = _signatures(env, order_id)
    submit = env.escrow.submit_return_settlement
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature) as bad:
        submit(env.other, order_id, REFUND, NO_RETURN, seller_sig, seller_sig)
    assert bad.value.values == {"orderId": order_id, "signer": env.buyer.address}
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature) as bad:
        submit(env.other, order_id, REFUND, NO_RETURN, buyer_sig, buyer_sig)
    assert bad.value.values == {"orderId": order_id, "signer": env.seller.address}
    # Other terms than those signed (the fallback swapped for the refund), a plain Settlement's
    # signatures, another order's: all refused.
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature):
        submit(env.other, order_id, NO_RETURN, REFUND, buyer_sig, seller_sig)
    plain = (env.escrow.sign_settlement(env.buyer, order_id, REFUND),
             env.escrow.sign_settlement(env.seller, order_id, REFUND))
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature):
        submit(env.other, order_id, REFUND, NO_RETURN, *plain)
    other_id = env.disputed()
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature):
        submit(env.other, other_id, REFUND, NO_RETURN, buyer_sig, seller_sig)
    assert env.escrow.order(order_id).status == Status.DISPUTED


def test_a_disputed_receipt_cannot_restart_the_return_with_the_same_signatures(env: Env) -> None:
    order_id = env.disputed()
    buyer_sig, seller_sig = _signatures(env, order_id)
    env.escrow.submit_return_settlement(env.other, order_id, REFUND, NO_RETURN, buyer_sig,
                                        seller_sig)
    pending = env.escrow.pending_award(order_id)
    assert pending is not None
    digest = pending.award_hash
    env.escrow.record_return_shipment(env.buyer, order_id, TRACKING)
    env.escrow.dispute_return_receipt(env.seller, order_id)
    assert env.escrow.order(order_id).status == Status.DISPUTED
    with pytest.raises(errors.ArbitrationEscrowReturnSettlementUsed) as info:
        env.escrow.submit_return_settlement(env.other, order_id, REFUND, NO_RETURN, buyer_sig,
                                            seller_sig)
    assert info.value.values == {"orderId": order_id, "settlementHash": digest}
    # New terms, newly signed, start it again.
    again = Allocation(AMOUNT - USDC, USDC, 0)
    _settle(env, order_id, again)
    assert env.escrow.order(order_id).status == Status.RETURN_PENDING


def test_reentry_while_a_return_settlement_pays_out_is_refused(env: Env) -> None:
    """A buyer contract (EIP-1271 signer) that re-enters the escrow when the settlement's
    fallback pays it is refused by the guard, and still receives what the settlement gives."""
    attacker = BoundContract(env.tx, env.extra["attacker"], "ReentrancyAttacker")

    def attacker_order(amount: int) -> int:
        result = attacker.send(env.admin, "openOrder", env.seller.address, ETH, amount,
                               env.now() + 10 * DAY, env.institution.address, value=amount)
        return uint_of(result.named("OrderOpened")[0].args, "orderId")

    order_id = attacker_order(2 * ETHER)
    second = attacker_order(ETHER)
    attacker.send(env.admin, "raiseDispute", order_id, CASE)
    refund, fallback = Allocation(2 * ETHER, 0, 0), Allocation(ETHER // 2, ETHER + ETHER // 2, 0)
    seller_sig = env.escrow.sign_return_settlement(env.seller, order_id, refund, fallback)
    env.escrow.submit_return_settlement(env.other, order_id, refund, fallback, b"", seller_sig)
    attacker.send(env.admin, "setReentryCall",
                  env.escrow.contract.encode_abi("confirmDelivery", args=[second]))
    env.wait(TIMEOUTS.return_shipment)
    env.escrow.resolve_by_timeout(env.other, order_id)
    assert attacker.call("attempts") == 1
    assert attacker.call("reentrySucceeded") is False
    assert bytes(attacker.call("lastError")) == REENTRANT_SELECTOR
    assert env.w3.eth.get_balance(attacker.address) == ETHER // 2
    assert env.escrow.order(order_id).resolution == Resolution.RETURN_NOT_SHIPPED
    assert env.escrow.order(second).status == Status.PAID
