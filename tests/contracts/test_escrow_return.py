"""ArbitrationEscrow: the return-and-refund stage (issue 13 item 3).

A sole arbitrator's ReturnAward names two allocations: the refund, paid once the goods are back
(the seller confirms, the institution relays the carrier's delivered event, or nobody disputes
the receipt in time), and the award's fallback, paid when the buyer misses the return window.
Every transition, every refusal by custom error and arguments, events compared exactly, on the
in-process EVM and on anvil.
"""

from __future__ import annotations

import pytest
from eth_utils import keccak

from backend.chain import ETH, Allocation, BoundContract, Resolution, Status, errors
from backend.chain.typed_data import RETURN_AWARD_TYPE
from evidence.events import uint_of
from tests.contracts.helpers import (
    AWARD_HASH,
    CASE,
    DAY,
    ETHER,
    TIMEOUTS,
    TRACKING,
    USDC,
    Env,
)

AMOUNT = 250 * USDC
REENTRANT_SELECTOR = keccak(text="ReentrancyGuardReentrantCall()")[:4]
REFUND = Allocation(AMOUNT, 0, 0)
NO_RETURN = Allocation(0, AMOUNT, 0)


def resolved(env: Env, order_id: int, resolution: Resolution, to_buyer: int, to_seller: int,
             paid: int = 0, shortfall: int = 0):
    return env.ev("OrderResolved", orderId=order_id, resolution=resolution, toBuyer=to_buyer,
                  toSeller=to_seller, compensationPaid=paid, compensationShortfall=shortfall)


def test_return_award_type_hash_matches_docs(env: Env) -> None:
    fns = env.escrow.contract.functions
    assert bytes(fns.RETURN_AWARD_TYPEHASH().call()) == keccak(text=RETURN_AWARD_TYPE)
    assert RETURN_AWARD_TYPE == (
        "ReturnAward(uint256 orderId,bytes32 caseId,uint256 toBuyer,uint256 toSeller,"
        "uint256 compensation,uint256 noReturnToBuyer,uint256 noReturnToSeller,"
        "uint256 noReturnCompensation,bytes32 awardHash,uint8 round)"
    )


def test_return_award_opens_the_objection_window_with_its_terms(env: Env) -> None:
    order_id = env.appointed()
    sig = env.escrow.sign_return_award(env.arbitrator, order_id, REFUND, NO_RETURN, AWARD_HASH)
    t = env.now() + 600
    env.at(t)
    result = env.escrow.submit_return_award(env.other, order_id, REFUND, NO_RETURN, AWARD_HASH, sig)
    assert list(result.events) == [
        env.ev("AwardSubmitted", orderId=order_id, caseId=CASE, round=0, toBuyer=AMOUNT,
               toSeller=0, compensation=0, awardHash=AWARD_HASH, deadline=t + TIMEOUTS.objection),
        env.ev("ReturnTermsRecorded", orderId=order_id, caseId=CASE, noReturn=(0, AMOUNT, 0)),
    ]
    order = env.escrow.order(order_id)
    assert (order.status, order.deadline) == (Status.AWARD_SUBMITTED, t + TIMEOUTS.objection)
    pending = env.escrow.pending_award(order_id)
    assert pending is not None and pending.allocation == REFUND


def test_executing_a_return_award_starts_the_return_stage_not_a_payout(env: Env) -> None:
    order_id = env.return_award_submitted(REFUND, NO_RETURN)
    deadline = env.escrow.order(order_id).deadline
    env.at(deadline)
    before = env.usdc.balance_of(env.escrow.address)
    result = env.escrow.execute_award(env.other, order_id)
    assert list(result.events) == [
        env.ev("ReturnRequested", orderId=order_id, caseId=CASE,
               deadline=deadline + TIMEOUTS.return_shipment)
    ]
    order = env.escrow.order(order_id)
    assert (order.status, order.deadline) == (
        Status.RETURN_PENDING, deadline + TIMEOUTS.return_shipment)
    assert env.usdc.balance_of(env.escrow.address) == before  # nothing paid yet
    guarantee = env.escrow.guarantee(env.seller.address, env.usdc.address)
    assert guarantee.locked == AMOUNT  # the dispute's lock holds through the return


def test_buyer_records_the_return_shipment_within_the_window(env: Env) -> None:
    order_id = env.return_pending()
    deadline = env.escrow.order(order_id).deadline
    info: pytest.ExceptionInfo[errors.RevertError]
    for who in (env.seller, env.other, env.institution):
        with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller) as info:
            env.escrow.record_return_shipment(who, order_id, TRACKING)
        assert info.value.values == {"orderId": order_id, "caller": who.address}
    with pytest.raises(errors.ArbitrationEscrowInvalidReturn) as info:
        env.escrow.record_return_shipment(env.buyer, order_id, bytes(32))
    assert info.value.values == {"orderId": order_id}
    env.at(deadline - 1)
    result = env.escrow.record_return_shipment(env.buyer, order_id, TRACKING)
    assert list(result.events) == [
        env.ev("ReturnShipped", orderId=order_id, caseId=CASE, tracking=TRACKING,
               deadline=deadline - 1 + TIMEOUTS.return_receipt)
    ]
    order = env.escrow.order(order_id)
    assert (order.status, order.deadline) == (
        Status.RETURN_SHIPPED, deadline - 1 + TIMEOUTS.return_receipt)


def test_return_shipment_after_the_window_is_refused(env: Env) -> None:
    order_id = env.return_pending()
    deadline = env.escrow.order(order_id).deadline
    env.at(deadline)
    with pytest.raises(errors.ArbitrationEscrowTooLate) as info:
        env.escrow.record_return_shipment(env.buyer, order_id, TRACKING)
    assert info.value.values == {"orderId": order_id, "deadline": deadline}


@pytest.mark.parametrize("by", ["seller", "institution"])
def test_confirmed_receipt_pays_the_refund(env: Env, by: str) -> None:
    order_id = env.return_shipped()
    buyer0 = env.usdc.balance_of(env.buyer.address)
    result = env.escrow.confirm_return_received(getattr(env, by), order_id)
    assert env.escrow_events(result) == [
        resolved(env, order_id, Resolution.RETURN_RECEIVED, AMOUNT, 0)
    ]
    assert env.usdc.balance_of(env.buyer.address) == buyer0 + AMOUNT
    order = env.escrow.order(order_id)
    assert (order.status, order.resolution, order.deadline) == (
        Status.RESOLVED, Resolution.RETURN_RECEIVED, 0)
    assert env.escrow.pending_award(order_id) is None
    assert env.escrow.guarantee(env.seller.address, env.usdc.address).locked == 0


def test_only_the_seller_or_the_orders_institution_confirms_receipt(env: Env) -> None:
    order_id = env.return_shipped()
    for who in (env.buyer, env.other, env.other_institution, env.arbitrator):
        with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller) as info:
            env.escrow.confirm_return_received(who, order_id)
        assert info.value.values == {"orderId": order_id, "caller": who.address}


def test_missed_return_window_pays_the_awards_fallback_by_anyone(env: Env) -> None:
    refund, fallback = Allocation(AMOUNT, 0, 0), Allocation(AMOUNT // 5, AMOUNT - AMOUNT // 5, 0)
    order_id = env.return_award_submitted(refund, fallback)
    env.wait(TIMEOUTS.objection)
    env.escrow.execute_award(env.other, order_id)
    deadline = env.escrow.order(order_id).deadline
    env.at(deadline - 1)
    with pytest.raises(errors.ArbitrationEscrowTooEarly) as info:
        env.escrow.resolve_by_timeout(env.other, order_id)
    assert info.value.values == {"orderId": order_id, "notBefore": deadline}
    seller0 = env.usdc.balance_of(env.seller.address)
    env.at(deadline)
    result = env.escrow.resolve_by_timeout(env.other, order_id)
    assert env.escrow_events(result) == [
        resolved(env, order_id, Resolution.RETURN_NOT_SHIPPED, AMOUNT // 5, AMOUNT - AMOUNT // 5)
    ]
    assert env.usdc.balance_of(env.seller.address) == seller0 + AMOUNT - AMOUNT // 5
    assert env.escrow.order(order_id).resolution == Resolution.RETURN_NOT_SHIPPED


def test_unanswered_receipt_is_deemed_received_after_the_window(env: Env) -> None:
    env.escrow.deposit_guarantee(env.seller, env.usdc.address, 40 * USDC)
    refund = Allocation(AMOUNT, 0, 30 * USDC)
    order_id = env.return_award_submitted(refund, NO_RETURN)
    env.wait(TIMEOUTS.objection)
    env.escrow.execute_award(env.other, order_id)
    env.escrow.record_return_shipment(env.buyer, order_id, TRACKING)
    deadline = env.escrow.order(order_id).deadline
    env.at(deadline - 1)
    with pytest.raises(errors.ArbitrationEscrowTooEarly):
        env.escrow.resolve_by_timeout(env.other, order_id)
    buyer0 = env.usdc.balance_of(env.buyer.address)
    env.at(deadline)
    result = env.escrow.resolve_by_timeout(env.other, order_id)
    assert env.escrow_events(result) == [
        resolved(env, order_id, Resolution.RETURN_DEEMED_RECEIVED, AMOUNT, 0, paid=30 * USDC)
    ]
    assert env.usdc.balance_of(env.buyer.address) == buyer0 + AMOUNT + 30 * USDC
    guarantee = env.escrow.guarantee(env.seller.address, env.usdc.address)
    assert (guarantee.balance, guarantee.locked) == (10 * USDC, 0)


def test_seller_disputes_receipt_and_the_order_is_disputed_again(env: Env) -> None:
    order_id = env.return_shipped()
    with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller):
        env.escrow.dispute_return_receipt(env.buyer, order_id)
    t = env.now() + 60
    env.at(t)
    result = env.escrow.dispute_return_receipt(env.seller, order_id)
    assert list(result.events) == [
        env.ev("ReturnReceiptDisputed", orderId=order_id, caseId=CASE,
               deadline=t + TIMEOUTS.appointment)
    ]
    order = env.escrow.order(order_id)
    assert (order.status, order.deadline) == (Status.DISPUTED, t + TIMEOUTS.appointment)
    assert env.escrow.pending_award(order_id) is None
    # The institution appoints again and a plain award (no return) pays out as usual.
    env.escrow.appoint_arbitrator(env.institution, order_id, env.arbitrator.address)
    half = Allocation(AMOUNT // 2, AMOUNT - AMOUNT // 2, 0)
    sig = env.escrow.sign_award(env.arbitrator, order_id, half, AWARD_HASH)
    env.escrow.submit_award(env.other, order_id, half, AWARD_HASH, sig)
    env.wait(TIMEOUTS.objection)
    result = env.escrow.execute_award(env.other, order_id)
    assert env.escrow_events(result) == [
        resolved(env, order_id, Resolution.AWARD_EXECUTED, AMOUNT // 2, AMOUNT - AMOUNT // 2)
    ]


def test_receipt_dispute_after_the_window_is_refused(env: Env) -> None:
    order_id = env.return_shipped()
    deadline = env.escrow.order(order_id).deadline
    env.at(deadline)
    with pytest.raises(errors.ArbitrationEscrowTooLate) as info:
        env.escrow.dispute_return_receipt(env.seller, order_id)
    assert info.value.values == {"orderId": order_id, "deadline": deadline}


def test_an_objected_return_award_gives_way_to_the_panels_award(env: Env) -> None:
    order_id = env.return_award_submitted(REFUND, NO_RETURN)
    env.escrow.object_to_award(env.seller, order_id)
    env.escrow.appoint_panel(env.institution, order_id, [p.address for p in env.panel])
    half = Allocation(AMOUNT // 2, AMOUNT - AMOUNT // 2, 0)
    digest_sigs = [env.escrow.sign_award(p, order_id, half, AWARD_HASH, 1) for p in env.panel]
    result = env.escrow.submit_panel_award(env.other, order_id, half, AWARD_HASH,
                                           [digest_sigs[0], digest_sigs[1], None])
    assert env.escrow.order(order_id).resolution == Resolution.PANEL_AWARD_EXECUTED
    assert result.named("ReturnRequested") == []


def test_return_award_refusals(env: Env) -> None:
    order_id = env.appointed()
    good = env.escrow.sign_return_award(env.arbitrator, order_id, REFUND, NO_RETURN, AWARD_HASH)
    # An ordinary Award signature over the refund is not a ReturnAward signature.
    plain = env.escrow.sign_award(env.arbitrator, order_id, REFUND, AWARD_HASH)
    other_fallback = Allocation(AMOUNT // 2, AMOUNT // 2, 0)
    info: pytest.ExceptionInfo[errors.RevertError]
    for sig, fallback in ((plain, NO_RETURN), (good, other_fallback)):
        with pytest.raises(errors.ArbitrationEscrowInvalidSignature) as info:
            env.escrow.submit_return_award(env.other, order_id, REFUND, fallback, AWARD_HASH, sig)
        assert info.value.values == {"orderId": order_id, "signer": env.arbitrator.address}
    by_buyer = env.escrow.sign_return_award(env.buyer, order_id, REFUND, NO_RETURN, AWARD_HASH)
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature):
        env.escrow.submit_return_award(env.other, order_id, REFUND, NO_RETURN, AWARD_HASH, by_buyer)
    bad_sum = Allocation(AMOUNT, 1, 0)
    with pytest.raises(errors.ArbitrationEscrowAllocationMismatch) as info:
        env.escrow.submit_return_award(env.other, order_id, REFUND, bad_sum, AWARD_HASH, good)
    assert info.value.values == {"orderId": order_id, "escrowed": AMOUNT, "allocated": AMOUNT + 1}
    over_cap = Allocation(0, AMOUNT, AMOUNT + 1)
    with pytest.raises(errors.ArbitrationEscrowCompensationAboveCap):
        env.escrow.submit_return_award(env.other, order_id, over_cap, NO_RETURN, AWARD_HASH, good)
    bad_fallback = Allocation(0, AMOUNT, AMOUNT + 1)
    with pytest.raises(errors.ArbitrationEscrowCompensationAboveCap):
        env.escrow.submit_return_award(env.other, order_id, REFUND, bad_fallback, AWARD_HASH, good)
    env.at(env.escrow.order(order_id).deadline)
    with pytest.raises(errors.ArbitrationEscrowTooLate):
        env.escrow.submit_return_award(env.other, order_id, REFUND, NO_RETURN, AWARD_HASH, good)


def test_return_award_replayed_on_another_order_is_refused(env: Env) -> None:
    first = env.appointed()
    second = env.appointed()
    sig = env.escrow.sign_return_award(env.arbitrator, first, REFUND, NO_RETURN, AWARD_HASH)
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature):
        env.escrow.submit_return_award(env.other, second, REFUND, NO_RETURN, AWARD_HASH, sig)
    env.escrow.submit_return_award(env.other, first, REFUND, NO_RETURN, AWARD_HASH, sig)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus):
        env.escrow.submit_return_award(env.other, first, REFUND, NO_RETURN, AWARD_HASH, sig)


@pytest.mark.parametrize("status", ["RETURN_PENDING", "RETURN_SHIPPED"])
def test_settlement_and_seller_refund_end_the_return_stage(env: Env, status: str) -> None:
    order_id = env.reach(status)
    split = Allocation(AMOUNT - 10 * USDC, 10 * USDC, 0)
    buyer_sig = env.escrow.sign_settlement(env.buyer, order_id, split)
    seller_sig = env.escrow.sign_settlement(env.seller, order_id, split)
    result = env.escrow.execute_settlement(env.other, order_id, split, buyer_sig, seller_sig)
    assert env.escrow_events(result) == [
        resolved(env, order_id, Resolution.SETTLED, AMOUNT - 10 * USDC, 10 * USDC)
    ]
    assert env.escrow.pending_award(order_id) is None
    other_id = env.reach(status)
    env.escrow.refund_by_seller(env.seller, other_id)
    assert env.escrow.order(other_id).resolution == Resolution.REFUNDED_BY_SELLER
    assert env.escrow.guarantee(env.seller.address, env.usdc.address).locked == 0
    assert env.usdc.balance_of(env.escrow.address) == 0


def test_every_return_status_has_a_way_out_by_anyone(env: Env) -> None:
    orders = {status: env.reach(status) for status in ("RETURN_PENDING", "RETURN_SHIPPED")}
    env.wait(TIMEOUTS.return_shipment + TIMEOUTS.return_receipt)
    for status, order_id in orders.items():
        env.escrow.resolve_by_timeout(env.other, order_id)
        assert env.escrow.order(order_id).status == Status.RESOLVED, status
    assert env.usdc.balance_of(env.escrow.address) == 0


def test_reentry_during_a_return_stage_payout_is_refused(env: Env) -> None:
    """A buyer contract that re-enters the escrow when the return stage pays it is refused by
    the guard (its own other order stays Paid), and still receives what the award gives it."""
    attacker = BoundContract(env.tx, env.extra["attacker"], "ReentrancyAttacker")

    def attacker_order(amount: int) -> int:
        result = attacker.send(env.admin, "openOrder", env.seller.address, ETH, amount,
                               env.now() + 10 * DAY, env.institution.address, value=amount)
        return uint_of(result.named("OrderOpened")[0].args, "orderId")

    order_id = attacker_order(2 * ETHER)
    second = attacker_order(ETHER)
    attacker.send(env.admin, "raiseDispute", order_id, CASE)
    env.escrow.appoint_arbitrator(env.institution, order_id, env.arbitrator.address)
    refund, fallback = Allocation(2 * ETHER, 0, 0), Allocation(ETHER // 2, ETHER + ETHER // 2, 0)
    sig = env.escrow.sign_return_award(env.arbitrator, order_id, refund, fallback, AWARD_HASH)
    env.escrow.submit_return_award(env.other, order_id, refund, fallback, AWARD_HASH, sig)
    env.wait(TIMEOUTS.objection)
    env.escrow.execute_award(env.other, order_id)
    attacker.send(env.admin, "setReentryCall",
                  env.escrow.contract.encode_abi("confirmDelivery", args=[second]))
    env.wait(TIMEOUTS.return_shipment)
    env.escrow.resolve_by_timeout(env.other, order_id)  # missed window: the fallback
    assert attacker.call("attempts") == 1
    assert attacker.call("reentrySucceeded") is False
    assert bytes(attacker.call("lastError")) == REENTRANT_SELECTOR
    assert env.w3.eth.get_balance(attacker.address) == ETHER // 2
    assert env.escrow.order(order_id).resolution == Resolution.RETURN_NOT_SHIPPED
    assert env.escrow.order(second).status == Status.PAID


def test_return_event_specs_decode_the_contracts_logs(env: Env) -> None:
    """evidence.events declares the return stage's events as the compiled ABI emits them."""
    from evidence.events import RETURN_REQUESTED, RETURN_SHIPPED, decode_log

    order_id = env.return_award_submitted(REFUND, NO_RETURN)
    env.wait(TIMEOUTS.objection)
    requested = env.escrow.execute_award(env.other, order_id)
    shipped = env.escrow.record_return_shipment(env.buyer, order_id, TRACKING)
    for result, spec in ((requested, RETURN_REQUESTED), (shipped, RETURN_SHIPPED)):
        receipt = env.w3.eth.get_transaction_receipt(result.tx_hash)  # type: ignore[arg-type]
        decoded = [e for e in (decode_log(spec, log) for log in receipt["logs"]) if e]
        assert [e.args for e in decoded] == [result.named(spec.name)[0].args]
