"""ArbitrationEscrow: opening, paying, releasing and refunding orders; every refusal by name."""

from __future__ import annotations

from typing import Any

import pytest

from backend.chain import ETH, ZERO_ADDRESS, Resolution, Status, errors
from tests.contracts.helpers import DAY, ETHER, TIMEOUTS, USDC, Env


def test_open_order_in_usdc_escrows_the_amount(env: Env) -> None:
    before = env.usdc.balance_of(env.buyer.address)
    deadline = env.now() + 10 * DAY
    order_id, result = env.escrow.open_order(
        env.buyer,
        seller=env.seller.address,
        amount=250 * USDC,
        delivery_deadline=deadline,
        institution=env.institution.address,
        token=env.usdc.address,
        rules_hash=b"\x01" * 32,
    )
    assert order_id == env.escrow.order_count()
    assert list(result.events) == [
        env.ev(
            "OrderOpened",
            orderId=order_id,
            buyer=env.buyer.address,
            seller=env.seller.address,
            token=env.usdc.address,
            amount=250 * USDC,
            deliveryDeadline=deadline,
            institution=env.institution.address,
            rulesHash=b"\x01" * 32,
        ),
        env.ev(
            "Transfer",
            env.usdc.address,
            **{"from": env.buyer.address, "to": env.escrow.address, "value": 250 * USDC},
        ),
    ]
    order = env.escrow.order(order_id)
    assert (order.status, order.resolution, order.amount) == (
        Status.PAID,
        Resolution.NONE,
        250 * USDC,
    )
    assert (order.buyer, order.seller, order.token) == (
        env.buyer.address,
        env.seller.address,
        env.usdc.address,
    )
    assert order.delivery_deadline == deadline and order.case_id == bytes(32)
    assert env.usdc.balance_of(env.buyer.address) == before - 250 * USDC
    assert env.usdc.balance_of(env.escrow.address) == 250 * USDC


def test_open_order_in_eth_escrows_msg_value(env: Env) -> None:
    order_id = env.open("eth", 3 * ETHER)
    assert env.w3.eth.get_balance(env.escrow.address) == 3 * ETHER
    assert env.escrow.order(order_id).token == ETH


def test_order_ids_are_sequential(env: Env) -> None:
    first = env.open()
    second = env.open("eth", ETHER)
    assert (first, second) == (1, 2)


@pytest.mark.parametrize(
    ("case", "error", "values"),
    [
        (
            "seller_zero",
            errors.ArbitrationEscrowInvalidSeller,
            lambda env: {"seller": ZERO_ADDRESS},
        ),
        (
            "seller_is_buyer",
            errors.ArbitrationEscrowInvalidSeller,
            lambda env: {"seller": env.buyer.address},
        ),
        (
            "token_not_contract",
            errors.ArbitrationEscrowInvalidToken,
            lambda env: {"token": env.other.address},
        ),
        ("zero_amount", errors.ArbitrationEscrowZeroAmount, lambda env: {}),
        (
            "unknown_institution",
            errors.ArbitrationEscrowUnknownInstitution,
            lambda env: {"institution": env.other.address},
        ),
    ],
)
def test_open_order_refuses_bad_terms(env: Env, case: str, error: type[errors.RevertError],
                                      values) -> None:
    kwargs: dict[str, Any] = {
        "seller": env.seller.address,
        "amount": 10 * USDC,
        "delivery_deadline": env.now() + DAY,
        "institution": env.institution.address,
        "token": env.usdc.address,
    }
    if case == "seller_zero":
        kwargs["seller"] = ZERO_ADDRESS
    elif case == "seller_is_buyer":
        kwargs["seller"] = env.buyer.address
    elif case == "token_not_contract":
        kwargs["token"] = env.other.address
    elif case == "zero_amount":
        kwargs["amount"] = 0
    elif case == "unknown_institution":
        kwargs["institution"] = env.other.address
    with pytest.raises(error) as info:
        env.escrow.open_order(env.buyer, **kwargs)
    assert info.value.values == values(env)
    assert env.escrow.order_count() == 0


def test_open_order_refuses_deadline_in_the_past_or_too_far(env: Env) -> None:
    t = env.now()
    for offset in (0, -1, TIMEOUTS.max_delivery_period + 1):
        t += 600
        latest = t + TIMEOUTS.max_delivery_period
        deadline = t + offset
        env.at(t)
        with pytest.raises(errors.ArbitrationEscrowInvalidDeliveryDeadline) as info:
            env.escrow.open_order(
                env.buyer,
                seller=env.seller.address,
                amount=USDC,
                delivery_deadline=deadline,
                institution=env.institution.address,
                token=env.usdc.address,
            )
        assert info.value.values == {"deliveryDeadline": deadline, "latest": latest}
    t += 600
    env.at(t)
    order_id, _ = env.escrow.open_order(
        env.buyer,
        seller=env.seller.address,
        amount=USDC,
        delivery_deadline=t + TIMEOUTS.max_delivery_period,
        institution=env.institution.address,
        token=env.usdc.address,
    )
    assert env.escrow.order(order_id).status == Status.PAID


def test_open_order_refuses_wrong_value(env: Env) -> None:
    contract = env.escrow.contract
    deadline = env.now() + DAY
    args = (env.seller.address, ETH, ETHER, deadline, env.institution.address, bytes(32))
    data = contract.encode_abi("openOrder", args=list(args))
    with pytest.raises(errors.ArbitrationEscrowWrongValue) as info:
        env.tx.send(env.buyer, to=env.escrow.address, data=data, value=ETHER - 1)
    assert info.value.values == {"expected": ETHER, "received": ETHER - 1}
    token_args = (
        env.seller.address,
        env.usdc.address,
        USDC,
        deadline,
        env.institution.address,
        bytes(32),
    )
    data = contract.encode_abi("openOrder", args=list(token_args))
    with pytest.raises(errors.ArbitrationEscrowWrongValue) as info:
        env.tx.send(env.buyer, to=env.escrow.address, data=data, value=1)
    assert info.value.values == {"expected": 0, "received": 1}


def test_open_order_refuses_fee_on_transfer_token(env: Env) -> None:
    with pytest.raises(errors.ArbitrationEscrowTransferAmountMismatch) as info:
        env.open(env.fee_token.address, 1000 * USDC)
    assert info.value.values == {
        "token": env.fee_token.address,
        "expected": 1000 * USDC,
        "received": 990 * USDC,
    }


def test_open_order_refuses_token_returning_false(env: Env) -> None:
    env.false_token.contract  # noqa: B018 (the wrapper is bound to the FalseReturningToken ABI)
    env.false_token._send(env.admin, "setFailing", True)
    with pytest.raises(errors.SafeERC20FailedOperation) as info:
        env.open(env.false_token.address, 5 * USDC)
    assert info.value.values == {"token": env.false_token.address}


def test_open_order_without_allowance_bubbles_the_token_error(env: Env) -> None:
    env.usdc.approve(env.buyer, env.escrow.address, USDC - 1)
    with pytest.raises(errors.RevertError) as info:
        env.open("usdc", USDC)
    assert info.value.error_name == "ERC20InsufficientAllowance"
    assert info.value.values == {
        "spender": env.escrow.address,
        "allowance": USDC - 1,
        "needed": USDC,
    }


# --- release ----------------------------------------------------------------------------


def test_confirm_delivery_pays_the_seller(env: Env) -> None:
    order_id = env.open("usdc", 250 * USDC)
    seller_before = env.usdc.balance_of(env.seller.address)
    result = env.escrow.confirm_delivery(env.buyer, order_id)
    assert list(result.events) == [
        env.ev(
            "OrderResolved",
            orderId=order_id,
            resolution=Resolution.DELIVERY_CONFIRMED,
            toBuyer=0,
            toSeller=250 * USDC,
            compensationPaid=0,
            compensationShortfall=0,
        ),
        env.ev(
            "Transfer",
            env.usdc.address,
            **{"from": env.escrow.address, "to": env.seller.address, "value": 250 * USDC},
        ),
    ]
    assert env.usdc.balance_of(env.seller.address) == seller_before + 250 * USDC
    order = env.escrow.order(order_id)
    assert (order.status, order.resolution, order.deadline) == (
        Status.RESOLVED,
        Resolution.DELIVERY_CONFIRMED,
        0,
    )


def test_confirm_delivery_only_by_the_buyer(env: Env) -> None:
    order_id = env.open()
    for who in (env.seller, env.other, env.institution):
        with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller) as info:
            env.escrow.confirm_delivery(who, order_id)
        assert info.value.values == {"orderId": order_id, "caller": who.address}


def test_confirm_delivery_twice_is_refused(env: Env) -> None:
    order_id = env.open()
    env.escrow.confirm_delivery(env.buyer, order_id)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus) as info:
        env.escrow.confirm_delivery(env.buyer, order_id)
    assert info.value.values == {"orderId": order_id, "current": Status.RESOLVED}


def test_unknown_order_is_refused_with_status_none(env: Env) -> None:
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus) as info:
        env.escrow.confirm_delivery(env.buyer, 99)
    assert info.value.values == {"orderId": 99, "current": Status.NONE}


def test_release_after_deadline_plus_grace_by_anyone(env: Env) -> None:
    order_id = env.open("eth", 2 * ETHER)
    releasable = env.escrow.order(order_id).delivery_deadline + TIMEOUTS.release_grace
    env.at(releasable - 1)
    with pytest.raises(errors.ArbitrationEscrowTooEarly) as info:
        env.escrow.release_after_deadline(env.other, order_id)
    assert info.value.values == {"orderId": order_id, "notBefore": releasable}
    before = env.w3.eth.get_balance(env.seller.address)
    env.at(releasable)
    result = env.escrow.release_after_deadline(env.other, order_id)
    assert env.escrow_events(result) == [
        env.ev(
            "OrderResolved",
            orderId=order_id,
            resolution=Resolution.RELEASED_AFTER_DEADLINE,
            toBuyer=0,
            toSeller=2 * ETHER,
            compensationPaid=0,
            compensationShortfall=0,
        )
    ]
    assert env.w3.eth.get_balance(env.seller.address) == before + 2 * ETHER
    assert env.w3.eth.get_balance(env.escrow.address) == 0
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus):
        env.escrow.release_after_deadline(env.other, order_id)


def test_release_after_deadline_refused_once_disputed(env: Env) -> None:
    order_id = env.disputed()
    env.wait(40 * DAY)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus) as info:
        env.escrow.release_after_deadline(env.other, order_id)
    assert info.value.values == {"orderId": order_id, "current": Status.DISPUTED}


# --- refund by the seller -----------------------------------------------------------------


@pytest.mark.parametrize(
    "status",
    ["PAID", "DISPUTED", "ARBITRATOR_APPOINTED", "AWARD_SUBMITTED", "OBJECTED", "PANEL_APPOINTED"],
)
def test_refund_by_seller_from_every_open_status(env: Env, status: str) -> None:
    order_id = env.reach(status, "usdc", 100 * USDC)
    before = env.usdc.balance_of(env.buyer.address)
    result = env.escrow.refund_by_seller(env.seller, order_id)
    assert env.escrow_events(result) == [
        env.ev(
            "OrderResolved",
            orderId=order_id,
            resolution=Resolution.REFUNDED_BY_SELLER,
            toBuyer=100 * USDC,
            toSeller=0,
            compensationPaid=0,
            compensationShortfall=0,
        )
    ]
    assert env.usdc.balance_of(env.buyer.address) == before + 100 * USDC
    assert env.escrow.guarantee(env.seller.address, env.usdc.address).locked == 0
    assert env.escrow.pending_award(order_id) is None


def test_refund_by_seller_only_by_the_seller_and_once(env: Env) -> None:
    order_id = env.open()
    with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller):
        env.escrow.refund_by_seller(env.buyer, order_id)
    env.escrow.refund_by_seller(env.seller, order_id)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus) as info:
        env.escrow.refund_by_seller(env.seller, order_id)
    assert info.value.values["current"] == Status.RESOLVED
