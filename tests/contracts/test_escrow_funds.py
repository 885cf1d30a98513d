"""ArbitrationEscrow: guarantee deposits and locks, deferred payouts, hostile receivers and
tokens, re-entry, EIP-1271 signers, the EIP-712 domain and digests."""

from __future__ import annotations

import pytest
from eth_utils import keccak

from backend.chain import (
    ETH,
    Allocation,
    BoundContract,
    Domain,
    Resolution,
    Status,
    Timeouts,
    award_typed_data,
    deploy_contract,
    deploy_escrow,
    errors,
    settlement_typed_data,
    typed_data_digest,
)
from backend.chain.typed_data import AWARD_TYPE, SETTLEMENT_TYPE
from evidence.events import uint_of
from tests.contracts.helpers import AWARD_HASH, CASE, DAY, ETHER, TIMEOUTS, USDC, Env

REENTRANT_SELECTOR = keccak(text="ReentrancyGuardReentrantCall()")[:4]


# --- guarantee deposits --------------------------------------------------------------------


def test_deposit_and_withdraw_guarantee_in_usdc(env: Env) -> None:
    result = env.escrow.deposit_guarantee(env.seller, env.usdc.address, 100 * USDC)
    assert list(result.events) == [
        env.ev(
            "GuaranteeDeposited",
            seller=env.seller.address,
            token=env.usdc.address,
            amount=100 * USDC,
        ),
        env.ev(
            "Transfer",
            env.usdc.address,
            **{"from": env.seller.address, "to": env.escrow.address, "value": 100 * USDC},
        ),
    ]
    result = env.escrow.withdraw_guarantee(env.seller, env.usdc.address, 40 * USDC)
    assert env.escrow_events(result) == [
        env.ev(
            "GuaranteeWithdrawn",
            seller=env.seller.address,
            token=env.usdc.address,
            amount=40 * USDC,
        )
    ]
    guarantee = env.escrow.guarantee(env.seller.address, env.usdc.address)
    assert (guarantee.balance, guarantee.locked) == (60 * USDC, 0)
    assert env.usdc.balance_of(env.escrow.address) == 60 * USDC


def test_deposit_guarantee_in_eth(env: Env) -> None:
    env.escrow.deposit_guarantee(env.seller, ETH, 2 * ETHER)
    assert env.escrow.guarantee(env.seller.address, ETH).balance == 2 * ETHER
    assert env.w3.eth.get_balance(env.escrow.address) == 2 * ETHER
    data = env.escrow.contract.encode_abi("depositGuarantee", args=[ETH, ETHER])
    with pytest.raises(errors.ArbitrationEscrowWrongValue) as info:
        env.tx.send(env.seller, to=env.escrow.address, data=data, value=ETHER + 1)
    assert info.value.values == {"expected": ETHER, "received": ETHER + 1}


def test_deposit_guarantee_refusals(env: Env) -> None:
    with pytest.raises(errors.ArbitrationEscrowZeroAmount):
        env.escrow.deposit_guarantee(env.seller, env.usdc.address, 0)
    info: pytest.ExceptionInfo[errors.RevertError]
    with pytest.raises(errors.ArbitrationEscrowInvalidToken) as info:
        env.escrow.deposit_guarantee(env.seller, env.other.address, 5)
    assert info.value.values == {"token": env.other.address}
    with pytest.raises(errors.ArbitrationEscrowTransferAmountMismatch) as info:
        env.escrow.deposit_guarantee(env.seller, env.fee_token.address, 100 * USDC)
    assert info.value.values == {
        "token": env.fee_token.address,
        "expected": 100 * USDC,
        "received": 99 * USDC,
    }
    assert env.escrow.guarantee(env.seller.address, env.fee_token.address).balance == 0


def test_open_disputes_lock_the_guarantee(env: Env) -> None:
    env.escrow.deposit_guarantee(env.seller, env.usdc.address, 300 * USDC)
    first = env.disputed("usdc", 100 * USDC)
    second = env.disputed("usdc", 150 * USDC)
    guarantee = env.escrow.guarantee(env.seller.address, env.usdc.address)
    assert (guarantee.balance, guarantee.locked) == (300 * USDC, 250 * USDC)
    assert (
        env.escrow.contract.functions.withdrawableGuarantee(
            env.seller.address, env.usdc.address
        ).call()
        == 50 * USDC
    )
    with pytest.raises(errors.ArbitrationEscrowGuaranteeLocked) as info:
        env.escrow.withdraw_guarantee(env.seller, env.usdc.address, 50 * USDC + 1)
    assert info.value.values == {
        "seller": env.seller.address,
        "token": env.usdc.address,
        "withdrawable": 50 * USDC,
        "requested": 50 * USDC + 1,
    }
    env.escrow.withdraw_guarantee(env.seller, env.usdc.address, 50 * USDC)
    env.escrow.refund_by_seller(env.seller, first)
    assert env.escrow.guarantee(env.seller.address, env.usdc.address).locked == 150 * USDC
    env.escrow.withdraw_guarantee(env.seller, env.usdc.address, 100 * USDC)
    with pytest.raises(errors.ArbitrationEscrowGuaranteeLocked):
        env.escrow.withdraw_guarantee(env.seller, env.usdc.address, 1)
    env.escrow.refund_by_seller(env.seller, second)
    env.escrow.withdraw_guarantee(env.seller, env.usdc.address, 150 * USDC)
    assert env.usdc.balance_of(env.escrow.address) == 0


def test_locks_above_the_balance_leave_nothing_withdrawable(env: Env) -> None:
    env.escrow.deposit_guarantee(env.seller, env.usdc.address, 10 * USDC)
    env.disputed("usdc", 100 * USDC)
    with pytest.raises(errors.ArbitrationEscrowGuaranteeLocked) as info:
        env.escrow.withdraw_guarantee(env.seller, env.usdc.address, 1)
    assert info.value.values["withdrawable"] == 0
    with pytest.raises(errors.ArbitrationEscrowZeroAmount):
        env.escrow.withdraw_guarantee(env.seller, env.usdc.address, 0)


def test_guarantees_are_per_token(env: Env) -> None:
    env.escrow.deposit_guarantee(env.seller, env.usdc.address, 10 * USDC)
    env.disputed("eth", ETHER)
    env.escrow.withdraw_guarantee(env.seller, env.usdc.address, 10 * USDC)
    assert env.escrow.guarantee(env.seller.address, ETH).locked == ETHER


# --- tokens that return false, deferred payouts ------------------------------------------


def test_false_returning_token_payout_is_credited_not_blocking(env: Env) -> None:
    token = env.false_token.address
    order_id = env.open(token, 70 * USDC)
    env.false_token._send(env.admin, "setFailing", True)
    result = env.escrow.confirm_delivery(env.buyer, order_id)
    assert list(result.events) == [
        env.ev(
            "OrderResolved",
            orderId=order_id,
            resolution=Resolution.DELIVERY_CONFIRMED,
            toBuyer=0,
            toSeller=70 * USDC,
            compensationPaid=0,
            compensationShortfall=0,
        ),
        env.ev("PayoutDeferred", account=env.seller.address, token=token, amount=70 * USDC),
    ]
    assert env.escrow.owed(env.seller.address, token) == 70 * USDC
    info: pytest.ExceptionInfo[errors.RevertError]
    with pytest.raises(errors.ArbitrationEscrowTransferFailed) as info:
        env.escrow.withdraw(env.seller, token)
    assert info.value.values == {"account": env.seller.address, "token": token, "amount": 70 * USDC}
    env.false_token._send(env.admin, "setFailing", False)
    before = env.false_token.balance_of(env.seller.address)
    result = env.escrow.withdraw(env.seller, token)
    assert env.escrow_events(result) == [
        env.ev("Withdrawn", account=env.seller.address, token=token, amount=70 * USDC)
    ]
    assert env.false_token.balance_of(env.seller.address) == before + 70 * USDC
    assert env.escrow.owed(env.seller.address, token) == 0
    with pytest.raises(errors.ArbitrationEscrowNothingToWithdraw) as info:
        env.escrow.withdraw(env.seller, token)
    assert info.value.values == {"account": env.seller.address, "token": token}


def _attacker(env: Env) -> BoundContract:
    return BoundContract(env.tx, env.extra["attacker"], "ReentrancyAttacker")


def _attacker_order(env: Env, attacker: BoundContract, amount: int = ETHER) -> int:
    result = attacker.send(
        env.admin,
        "openOrder",
        env.seller.address,
        ETH,
        amount,
        env.now() + 10 * DAY,
        env.institution.address,
        value=amount,
    )
    return uint_of(result.named("OrderOpened")[0].args, "orderId")


def test_rejecting_receiver_is_credited_and_does_not_block_the_other_party(env: Env) -> None:
    attacker = _attacker(env)
    attacker.send(env.admin, "setRejectPayments", True)
    order_id = _attacker_order(env, attacker, 10 * ETHER)
    attacker.send(env.admin, "raiseDispute", order_id, CASE)
    env.escrow.appoint_arbitrator(env.institution, order_id, env.arbitrator.address)
    allocation = Allocation(4 * ETHER, 6 * ETHER, 0)
    sig = env.escrow.sign_award(env.arbitrator, order_id, allocation, AWARD_HASH)
    env.escrow.submit_award(env.other, order_id, allocation, AWARD_HASH, sig)
    env.wait(TIMEOUTS.objection)
    seller0 = env.w3.eth.get_balance(env.seller.address)
    result = env.escrow.execute_award(env.other, order_id)
    assert list(result.events)[-1] == env.ev(
        "PayoutDeferred", account=attacker.address, token=ETH, amount=4 * ETHER
    )
    assert env.w3.eth.get_balance(env.seller.address) == seller0 + 6 * ETHER
    assert env.escrow.owed(attacker.address, ETH) == 4 * ETHER
    assert env.w3.eth.get_balance(env.escrow.address) == 4 * ETHER
    with pytest.raises(errors.ArbitrationEscrowTransferFailed):
        attacker.send(env.admin, "withdrawFromEscrow", ETH)
    attacker.send(env.admin, "setRejectPayments", False)
    attacker.send(env.admin, "withdrawFromEscrow", ETH)
    assert env.w3.eth.get_balance(attacker.address) == 4 * ETHER
    assert env.w3.eth.get_balance(env.escrow.address) == 0


# --- re-entry ------------------------------------------------------------------------------


def test_reentry_during_a_payout_is_refused(env: Env) -> None:
    attacker = _attacker(env)
    victim_order = _attacker_order(env, attacker, 3 * ETHER)
    second_order = _attacker_order(env, attacker, 5 * ETHER)
    # On receiving the refund of the first order, the attacker (buyer of both) tries to
    # release the second one; without the guard this call would succeed.
    reentry = env.escrow.contract.encode_abi("confirmDelivery", args=[second_order])
    attacker.send(env.admin, "setReentryCall", reentry)
    # confirmDelivery must come from the buyer; the attacker is the buyer, so the only thing
    # that can stop it is the re-entrancy guard.
    env.escrow.refund_by_seller(env.seller, victim_order)
    assert attacker.call("attempts") == 1
    assert attacker.call("reentrySucceeded") is False
    assert bytes(attacker.call("lastError")) == REENTRANT_SELECTOR
    assert env.w3.eth.get_balance(attacker.address) == 3 * ETHER  # the refund itself arrived
    assert env.escrow.order(second_order).status == Status.PAID
    assert env.escrow.owed(attacker.address, ETH) == 0
    # outside a payout the same call works: the guard, not the caller check, stopped it
    attacker.send(env.admin, "confirmDelivery", second_order)
    assert env.escrow.order(second_order).status == Status.RESOLVED


def test_reentry_during_a_withdrawal_is_refused(env: Env) -> None:
    attacker = _attacker(env)
    attacker.send(env.admin, "setRejectPayments", True)
    order_id = _attacker_order(env, attacker, 2 * ETHER)
    env.escrow.refund_by_seller(env.seller, order_id)
    assert env.escrow.owed(attacker.address, ETH) == 2 * ETHER
    attacker.send(env.admin, "setRejectPayments", False)
    attacker.send(
        env.admin, "setReentryCall", env.escrow.contract.encode_abi("withdraw", args=[ETH])
    )
    result = attacker.send(env.admin, "withdrawFromEscrow", ETH)
    assert env.escrow_events(result) == [
        env.ev("Withdrawn", account=attacker.address, token=ETH, amount=2 * ETHER)
    ]
    assert bytes(attacker.call("lastError")) == REENTRANT_SELECTOR
    assert env.w3.eth.get_balance(attacker.address) == 2 * ETHER
    assert env.w3.eth.get_balance(env.escrow.address) == 0


# --- EIP-1271 signers ----------------------------------------------------------------------


def test_contract_arbitrator_signs_by_eip1271(env: Env) -> None:
    wallet = deploy_contract(env.tx, env.admin, "ERC1271Signer", env.arbitrator.address)
    order_id = env.disputed()
    env.escrow.appoint_arbitrator(env.institution, order_id, wallet)
    allocation = Allocation(250 * USDC, 0, 0)
    wrong = env.escrow.sign_award(env.other, order_id, allocation, AWARD_HASH)
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature) as info:
        env.escrow.submit_award(env.other, order_id, allocation, AWARD_HASH, wrong)
    assert info.value.values == {"orderId": order_id, "signer": wallet}
    sig = env.escrow.sign_award(env.arbitrator, order_id, allocation, AWARD_HASH)
    env.escrow.submit_award(env.other, order_id, allocation, AWARD_HASH, sig)
    assert env.escrow.order(order_id).status == Status.AWARD_SUBMITTED


# --- EIP-712 domain and digests ------------------------------------------------------------


def test_domain_is_read_from_the_contract(env: Env) -> None:
    assert env.escrow.domain() == Domain(
        chain_id=env.w3.eth.chain_id, verifying_contract=env.escrow.address
    )


def test_type_hashes_match_docs(env: Env) -> None:
    fns = env.escrow.contract.functions
    assert bytes(fns.SETTLEMENT_TYPEHASH().call()) == keccak(text=SETTLEMENT_TYPE)
    assert bytes(fns.AWARD_TYPEHASH().call()) == keccak(text=AWARD_TYPE)
    assert SETTLEMENT_TYPE == (
        "Settlement(uint256 orderId,bytes32 caseId,uint256 toBuyer,uint256 toSeller,"
        "uint256 compensation)"
    )
    assert AWARD_TYPE == (
        "Award(uint256 orderId,bytes32 caseId,uint256 toBuyer,uint256 toSeller,"
        "uint256 compensation,bytes32 awardHash,uint8 round)"
    )


@pytest.mark.parametrize("round_", [0, 1])
def test_python_digests_equal_the_contracts(env: Env, round_: int) -> None:
    domain = env.escrow.domain()
    allocation = Allocation(2**255, 7, 3)
    ours = typed_data_digest(award_typed_data(domain, 42, CASE, allocation, AWARD_HASH, round_))
    assert ours == env.escrow.hash_award(42, CASE, allocation, AWARD_HASH, round_)
    other_round = typed_data_digest(
        award_typed_data(domain, 42, CASE, allocation, AWARD_HASH, 1 - round_)
    )
    assert other_round != ours
    settled = typed_data_digest(settlement_typed_data(domain, 42, CASE, allocation))
    assert settled == env.escrow.hash_settlement(42, CASE, allocation)


def test_constructor_refuses_zero_timeouts(env: Env) -> None:
    with pytest.raises(errors.ArbitrationEscrowInvalidTimeouts):
        deploy_escrow(env.tx, env.admin, timeouts=Timeouts(objection=0))
    assert env.escrow.timeouts() == TIMEOUTS


def test_wallet_json_keeps_large_integers_exact(env: Env) -> None:
    import json

    from backend.chain import typed_data_json

    allocation = Allocation(10**18 + 1, 2**255, 3)
    typed = env.escrow.award_typed_data(7, allocation, AWARD_HASH, 0, case_id=CASE)
    wallet = json.loads(typed_data_json(typed))
    assert wallet["message"]["toBuyer"] == str(10**18 + 1)
    assert wallet["message"]["toSeller"] == str(2**255)
    assert wallet["domain"]["chainId"] == str(env.w3.eth.chain_id)
    assert typed_data_digest(wallet) == typed_data_digest(typed)
    assert typed_data_digest(wallet) == env.escrow.hash_award(7, CASE, allocation, AWARD_HASH, 0)
