"""ArbitrationEscrow: dispute, appointment, award, objection, panel, settlement, timeouts.

Every transition, every refusal by its custom error and arguments, events compared exactly.
"""

from __future__ import annotations

import pytest

from backend.chain import Allocation, Resolution, Status, errors
from tests.contracts.helpers import (
    AWARD_HASH,
    CASE,
    DAY,
    OTHER_CASE,
    TIMEOUTS,
    USDC,
    Env,
)

AMOUNT = 250 * USDC


def resolved(
    env: Env,
    order_id: int,
    resolution: Resolution,
    to_buyer: int,
    to_seller: int,
    paid: int = 0,
    shortfall: int = 0,
):
    return env.ev(
        "OrderResolved",
        orderId=order_id,
        resolution=resolution,
        toBuyer=to_buyer,
        toSeller=to_seller,
        compensationPaid=paid,
        compensationShortfall=shortfall,
    )


# --- raising a dispute ---------------------------------------------------------------------


@pytest.mark.parametrize("by", ["buyer", "seller"])
def test_raise_dispute_freezes_and_locks_the_guarantee(env: Env, by: str) -> None:
    order_id = env.open("usdc", AMOUNT)
    t = env.now() + 600
    env.at(t)
    result = env.escrow.raise_dispute(getattr(env, by), order_id, CASE)
    assert list(result.events) == [
        env.ev(
            "DisputeRaised",
            orderId=order_id,
            caseId=CASE,
            by=getattr(env, by).address,
            deadline=t + TIMEOUTS.appointment,
        )
    ]
    order = env.escrow.order(order_id)
    assert (order.status, order.case_id, order.deadline) == (
        Status.DISPUTED,
        CASE,
        t + TIMEOUTS.appointment,
    )
    guarantee = env.escrow.guarantee(env.seller.address, env.usdc.address)
    assert (guarantee.balance, guarantee.locked) == (0, AMOUNT)


def test_raise_dispute_refusals(env: Env) -> None:
    order_id = env.open("usdc", AMOUNT)
    info: pytest.ExceptionInfo[errors.RevertError]
    with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller) as info:
        env.escrow.raise_dispute(env.other, order_id, CASE)
    assert info.value.values == {"orderId": order_id, "caller": env.other.address}
    with pytest.raises(errors.ArbitrationEscrowInvalidCaseId):
        env.escrow.raise_dispute(env.buyer, order_id, bytes(32))
    env.escrow.raise_dispute(env.buyer, order_id, CASE)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus) as info:
        env.escrow.raise_dispute(env.seller, order_id, OTHER_CASE)
    assert info.value.values == {"orderId": order_id, "current": Status.DISPUTED}


def test_raise_dispute_window_closes_at_deadline_plus_grace(env: Env) -> None:
    order_id = env.open()
    closes = env.escrow.order(order_id).delivery_deadline + TIMEOUTS.release_grace
    env.at(closes)
    with pytest.raises(errors.ArbitrationEscrowTooLate) as info:
        env.escrow.raise_dispute(env.buyer, order_id, CASE)
    assert info.value.values == {"orderId": order_id, "deadline": closes}
    other_id = env.open()
    closes = env.escrow.order(other_id).delivery_deadline + TIMEOUTS.release_grace
    env.at(closes - 1)
    env.escrow.raise_dispute(env.buyer, other_id, CASE)
    assert env.escrow.order(other_id).status == Status.DISPUTED


def test_raise_dispute_refused_after_release(env: Env) -> None:
    order_id = env.open()
    env.escrow.confirm_delivery(env.buyer, order_id)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus) as info:
        env.escrow.raise_dispute(env.buyer, order_id, CASE)
    assert info.value.values["current"] == Status.RESOLVED


# --- appointing the arbitrator -----------------------------------------------------------


def test_appoint_arbitrator(env: Env) -> None:
    order_id = env.disputed()
    t = env.now() + 600
    env.at(t)
    result = env.escrow.appoint_arbitrator(env.institution, order_id, env.arbitrator.address)
    assert list(result.events) == [
        env.ev(
            "ArbitratorAppointed",
            orderId=order_id,
            caseId=CASE,
            arbitrator=env.arbitrator.address,
            deadline=t + TIMEOUTS.award,
        )
    ]
    order = env.escrow.order(order_id)
    assert (order.status, order.arbitrator, order.deadline) == (
        Status.ARBITRATOR_APPOINTED,
        env.arbitrator.address,
        t + TIMEOUTS.award,
    )


def test_appoint_arbitrator_only_by_the_orders_institution(env: Env) -> None:
    order_id = env.disputed()
    for who in (env.other, env.admin, env.other_institution, env.buyer):
        with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller) as info:
            env.escrow.appoint_arbitrator(who, order_id, env.arbitrator.address)
        assert info.value.values == {"orderId": order_id, "caller": who.address}


def test_revoked_institution_can_no_longer_appoint(env: Env) -> None:
    order_id = env.disputed()
    role = env.escrow.contract.functions.INSTITUTION_ROLE().call()
    env.escrow._send(env.admin, "revokeRole", role, env.institution.address)
    with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller):
        env.escrow.appoint_arbitrator(env.institution, order_id, env.arbitrator.address)


def test_only_the_admin_grants_institutions(env: Env) -> None:
    with pytest.raises(errors.AccessControlUnauthorizedAccount) as info:
        env.escrow.grant_institution(env.institution, env.other.address)
    assert info.value.values == {"account": env.institution.address, "neededRole": bytes(32)}


def test_appoint_arbitrator_refuses_parties_and_zero(env: Env) -> None:
    order_id = env.disputed()
    for neutral in (env.buyer.address, env.seller.address, "0x" + "00" * 20):
        with pytest.raises(errors.ArbitrationEscrowInvalidNeutral) as info:
            env.escrow.appoint_arbitrator(env.institution, order_id, neutral)
        assert info.value.values == {"orderId": order_id, "neutral": neutral}


def test_appoint_arbitrator_wrong_status_and_late(env: Env) -> None:
    paid = env.open()
    info: pytest.ExceptionInfo[errors.RevertError]
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus) as info:
        env.escrow.appoint_arbitrator(env.institution, paid, env.arbitrator.address)
    assert info.value.values == {"orderId": paid, "current": Status.PAID}
    order_id = env.disputed()
    deadline = env.escrow.order(order_id).deadline
    env.at(deadline)
    with pytest.raises(errors.ArbitrationEscrowTooLate) as info:
        env.escrow.appoint_arbitrator(env.institution, order_id, env.arbitrator.address)
    assert info.value.values == {"orderId": order_id, "deadline": deadline}


# --- the sole arbitrator's award -----------------------------------------------------------


def test_submit_award_opens_the_objection_window(env: Env) -> None:
    order_id = env.appointed()
    allocation = Allocation(100 * USDC, 150 * USDC, 30 * USDC)
    sig = env.escrow.sign_award(env.arbitrator, order_id, allocation, AWARD_HASH)
    t = env.now() + 600
    env.at(t)
    result = env.escrow.submit_award(env.other, order_id, allocation, AWARD_HASH, sig)
    assert list(result.events) == [
        env.ev(
            "AwardSubmitted",
            orderId=order_id,
            caseId=CASE,
            round=0,
            toBuyer=100 * USDC,
            toSeller=150 * USDC,
            compensation=30 * USDC,
            awardHash=AWARD_HASH,
            deadline=t + TIMEOUTS.objection,
        )
    ]
    order = env.escrow.order(order_id)
    assert (order.status, order.deadline) == (Status.AWARD_SUBMITTED, t + TIMEOUTS.objection)
    pending = env.escrow.pending_award(order_id)
    assert pending is not None and pending.allocation == allocation
    assert pending.award_hash == AWARD_HASH


def test_submit_award_refuses_wrong_signatures(env: Env) -> None:
    order_id = env.appointed()
    second = env.appointed()
    allocation = Allocation(100 * USDC, 150 * USDC, 0)
    esc = env.escrow
    bad = {
        "signed by someone else": esc.sign_award(env.other, order_id, allocation, AWARD_HASH),
        "signed by a party": esc.sign_award(env.buyer, order_id, allocation, AWARD_HASH),
        "for another order": esc.sign_award(env.arbitrator, second, allocation, AWARD_HASH),
        "for another case": esc.sign_award(
            env.arbitrator, order_id, allocation, AWARD_HASH, case_id=OTHER_CASE
        ),
        "for round 1": esc.sign_award(env.arbitrator, order_id, allocation, AWARD_HASH, 1),
        "for another allocation": esc.sign_award(
            env.arbitrator, order_id, Allocation(150 * USDC, 100 * USDC, 0), AWARD_HASH
        ),
        "for another award document": esc.sign_award(
            env.arbitrator, order_id, allocation, b"\xbb" * 32
        ),
        "truncated": esc.sign_award(env.arbitrator, order_id, allocation, AWARD_HASH)[:64],
        "empty": b"",
    }
    for label, sig in bad.items():
        with pytest.raises(errors.ArbitrationEscrowInvalidSignature) as info:
            esc.submit_award(env.other, order_id, allocation, AWARD_HASH, sig)
        assert info.value.values == {"orderId": order_id, "signer": env.arbitrator.address}, label
    assert esc.order(order_id).status == Status.ARBITRATOR_APPOINTED


def test_submit_award_refuses_bad_allocations(env: Env) -> None:
    order_id = env.appointed("usdc", AMOUNT)
    info: pytest.ExceptionInfo[errors.RevertError]
    for allocation in (Allocation(AMOUNT, 1, 0), Allocation(AMOUNT - 1, 0, 0)):
        sig = env.escrow.sign_award(env.arbitrator, order_id, allocation, AWARD_HASH)
        with pytest.raises(errors.ArbitrationEscrowAllocationMismatch) as info:
            env.escrow.submit_award(env.other, order_id, allocation, AWARD_HASH, sig)
        allocated = allocation.to_buyer + allocation.to_seller
        assert info.value.values == {
            "orderId": order_id,
            "escrowed": AMOUNT,
            "allocated": allocated,
        }
    above = Allocation(AMOUNT, 0, AMOUNT + 1)
    sig = env.escrow.sign_award(env.arbitrator, order_id, above, AWARD_HASH)
    with pytest.raises(errors.ArbitrationEscrowCompensationAboveCap) as info:
        env.escrow.submit_award(env.other, order_id, above, AWARD_HASH, sig)
    assert info.value.values == {"orderId": order_id, "cap": AMOUNT, "compensation": AMOUNT + 1}


def test_submit_award_overflowing_allocation_panics(env: Env) -> None:
    order_id = env.appointed()
    allocation = Allocation(2**256 - 1, 2, 0)
    sig = env.escrow.sign_award(env.arbitrator, order_id, allocation, AWARD_HASH)
    with pytest.raises(errors.PanicError) as info:
        env.escrow.submit_award(env.other, order_id, allocation, AWARD_HASH, sig)
    assert info.value.values == {"code": 0x11}


def test_submit_award_after_the_award_deadline_is_refused(env: Env) -> None:
    order_id = env.appointed()
    allocation = Allocation(AMOUNT, 0, 0)
    sig = env.escrow.sign_award(env.arbitrator, order_id, allocation, AWARD_HASH)
    deadline = env.escrow.order(order_id).deadline
    env.at(deadline)
    with pytest.raises(errors.ArbitrationEscrowTooLate) as info:
        env.escrow.submit_award(env.other, order_id, allocation, AWARD_HASH, sig)
    assert info.value.values == {"orderId": order_id, "deadline": deadline}


def test_submit_award_replayed_is_refused(env: Env) -> None:
    order_id = env.appointed()
    allocation = Allocation(AMOUNT, 0, 0)
    sig = env.escrow.sign_award(env.arbitrator, order_id, allocation, AWARD_HASH)
    env.escrow.submit_award(env.other, order_id, allocation, AWARD_HASH, sig)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus) as info:
        env.escrow.submit_award(env.other, order_id, allocation, AWARD_HASH, sig)
    assert info.value.values == {"orderId": order_id, "current": Status.AWARD_SUBMITTED}


def test_submit_award_before_appointment_is_refused(env: Env) -> None:
    order_id = env.disputed()
    allocation = Allocation(AMOUNT, 0, 0)
    sig = env.escrow.sign_award(env.arbitrator, order_id, allocation, AWARD_HASH)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus) as info:
        env.escrow.submit_award(env.other, order_id, allocation, AWARD_HASH, sig)
    assert info.value.values["current"] == Status.DISPUTED


# --- executing the award -------------------------------------------------------------------


def test_execute_award_after_the_window_pays_refund_and_compensation(env: Env) -> None:
    env.escrow.deposit_guarantee(env.seller, env.usdc.address, 100 * USDC)
    allocation = Allocation(100 * USDC, 150 * USDC, 30 * USDC)
    order_id = env.award_submitted(allocation)
    deadline = env.escrow.order(order_id).deadline
    buyer0 = env.usdc.balance_of(env.buyer.address)
    seller0 = env.usdc.balance_of(env.seller.address)
    env.at(deadline - 1)
    info: pytest.ExceptionInfo[errors.RevertError]
    with pytest.raises(errors.ArbitrationEscrowTooEarly) as info:
        env.escrow.execute_award(env.other, order_id)
    assert info.value.values == {"orderId": order_id, "notBefore": deadline}
    env.at(deadline)
    result = env.escrow.execute_award(env.other, order_id)
    transfer = env.usdc.address
    assert list(result.events) == [
        resolved(env, order_id, Resolution.AWARD_EXECUTED, 100 * USDC, 150 * USDC, 30 * USDC),
        env.ev(
            "Transfer",
            transfer,
            **{"from": env.escrow.address, "to": env.buyer.address, "value": 130 * USDC},
        ),
        env.ev(
            "Transfer",
            transfer,
            **{"from": env.escrow.address, "to": env.seller.address, "value": 150 * USDC},
        ),
    ]
    assert env.usdc.balance_of(env.buyer.address) == buyer0 + 130 * USDC
    assert env.usdc.balance_of(env.seller.address) == seller0 + 150 * USDC
    guarantee = env.escrow.guarantee(env.seller.address, env.usdc.address)
    assert (guarantee.balance, guarantee.locked) == (70 * USDC, 0)
    assert env.usdc.balance_of(env.escrow.address) == 70 * USDC
    assert env.escrow.pending_award(order_id) is None
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus) as info:
        env.escrow.execute_award(env.other, order_id)
    assert info.value.values["current"] == Status.RESOLVED


def test_execute_award_pays_compensation_only_up_to_the_guarantee(env: Env) -> None:
    env.escrow.deposit_guarantee(env.seller, env.usdc.address, 20 * USDC)
    order_id = env.award_submitted(Allocation(AMOUNT, 0, 50 * USDC))
    env.wait(TIMEOUTS.objection)
    result = env.escrow.execute_award(env.other, order_id)
    assert env.escrow_events(result) == [
        resolved(env, order_id, Resolution.AWARD_EXECUTED, AMOUNT, 0, 20 * USDC, 30 * USDC)
    ]
    assert env.escrow.guarantee(env.seller.address, env.usdc.address).balance == 0


def test_execute_award_with_no_guarantee_reports_the_whole_shortfall(env: Env) -> None:
    order_id = env.award_submitted(Allocation(0, AMOUNT, 10 * USDC))
    env.wait(TIMEOUTS.objection)
    result = env.escrow.execute_award(env.other, order_id)
    assert env.escrow_events(result) == [
        resolved(env, order_id, Resolution.AWARD_EXECUTED, 0, AMOUNT, 0, 10 * USDC)
    ]


def test_execute_award_before_any_award_is_refused(env: Env) -> None:
    order_id = env.appointed()
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus) as info:
        env.escrow.execute_award(env.other, order_id)
    assert info.value.values["current"] == Status.ARBITRATOR_APPOINTED


# --- objection and the panel ---------------------------------------------------------------


@pytest.mark.parametrize("by", ["buyer", "seller"])
def test_object_to_award_within_the_window(env: Env, by: str) -> None:
    order_id = env.award_submitted(Allocation(AMOUNT, 0, 0))
    deadline = env.escrow.order(order_id).deadline
    env.at(deadline - 1)
    result = env.escrow.object_to_award(getattr(env, by), order_id)
    assert list(result.events) == [
        env.ev(
            "AwardObjected",
            orderId=order_id,
            caseId=CASE,
            by=getattr(env, by).address,
            deadline=deadline - 1 + TIMEOUTS.panel_appointment,
        )
    ]
    assert env.escrow.order(order_id).status == Status.OBJECTED
    assert env.escrow.pending_award(order_id) is None
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus) as info:
        env.escrow.object_to_award(env.buyer, order_id)
    assert info.value.values["current"] == Status.OBJECTED
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus):
        env.escrow.execute_award(env.other, order_id)


def test_object_to_award_refusals(env: Env) -> None:
    order_id = env.award_submitted(Allocation(AMOUNT, 0, 0))
    for who in (env.other, env.arbitrator, env.institution):
        with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller):
            env.escrow.object_to_award(who, order_id)
    deadline = env.escrow.order(order_id).deadline
    env.at(deadline)
    with pytest.raises(errors.ArbitrationEscrowTooLate) as info:
        env.escrow.object_to_award(env.buyer, order_id)
    assert info.value.values == {"orderId": order_id, "deadline": deadline}


def test_appoint_panel(env: Env) -> None:
    order_id = env.objected()
    panel = [p.address for p in env.panel]
    t = env.now() + 600
    env.at(t)
    result = env.escrow.appoint_panel(env.institution, order_id, panel)
    assert list(result.events) == [
        env.ev(
            "PanelAppointed",
            orderId=order_id,
            caseId=CASE,
            panel=tuple(panel),
            deadline=t + TIMEOUTS.panel_award,
        )
    ]
    assert env.escrow.panel(order_id) == tuple(panel)
    assert env.escrow.order(order_id).status == Status.PANEL_APPOINTED


def test_appoint_panel_refusals(env: Env) -> None:
    order_id = env.objected()
    p1, p2, p3 = (p.address for p in env.panel)
    with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller):
        env.escrow.appoint_panel(env.other, order_id, [p1, p2, p3])
    invalid = {
        p2: [p1, p2, p2],
        p1: [p1, p1, p3],
        env.arbitrator.address: [p1, env.arbitrator.address, p3],
        env.buyer.address: [env.buyer.address, p2, p3],
        env.seller.address: [p1, p2, env.seller.address],
    }
    for neutral, panel in invalid.items():
        with pytest.raises(errors.ArbitrationEscrowInvalidNeutral) as info:
            env.escrow.appoint_panel(env.institution, order_id, panel)
        assert info.value.values == {"orderId": order_id, "neutral": neutral}
    with pytest.raises(errors.ArbitrationEscrowInvalidNeutral) as info:
        env.escrow.appoint_panel(env.institution, order_id, [p1, p3, p1])
    assert info.value.values["neutral"] == p1
    deadline = env.escrow.order(order_id).deadline
    env.at(deadline)
    with pytest.raises(errors.ArbitrationEscrowTooLate):
        env.escrow.appoint_panel(env.institution, order_id, [p1, p2, p3])


def _panel_sigs(
    env: Env, order_id: int, allocation: Allocation, signers: tuple[int, ...], round_: int = 1
) -> list[bytes | None]:
    sigs: list[bytes | None] = [None, None, None]
    for i in signers:
        sigs[i] = env.escrow.sign_award(env.panel[i], order_id, allocation, AWARD_HASH, round_)
    return sigs


@pytest.mark.parametrize("signers", [(0, 1), (0, 2), (1, 2), (0, 1, 2)])
def test_panel_award_with_two_of_three_executes_at_once(env: Env, signers: tuple[int, ...]) -> None:
    env.escrow.deposit_guarantee(env.seller, env.usdc.address, 40 * USDC)
    order_id = env.panel_appointed()
    allocation = Allocation(200 * USDC, 50 * USDC, 25 * USDC)
    sigs = _panel_sigs(env, order_id, allocation, signers)
    buyer0 = env.usdc.balance_of(env.buyer.address)
    result = env.escrow.submit_panel_award(env.other, order_id, allocation, AWARD_HASH, sigs)
    assert env.escrow_events(result) == [
        env.ev(
            "AwardSubmitted",
            orderId=order_id,
            caseId=CASE,
            round=1,
            toBuyer=200 * USDC,
            toSeller=50 * USDC,
            compensation=25 * USDC,
            awardHash=AWARD_HASH,
            deadline=0,
        ),
        resolved(env, order_id, Resolution.PANEL_AWARD_EXECUTED, 200 * USDC, 50 * USDC, 25 * USDC),
    ]
    assert env.usdc.balance_of(env.buyer.address) == buyer0 + 225 * USDC
    # final: no second objection, no second award
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus):
        env.escrow.object_to_award(env.seller, order_id)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus):
        env.escrow.submit_panel_award(env.other, order_id, allocation, AWARD_HASH, sigs)


def test_panel_award_needs_two_signatures(env: Env) -> None:
    order_id = env.panel_appointed()
    allocation = Allocation(AMOUNT, 0, 0)
    for signers in ((), (0,), (2,)):
        sigs = _panel_sigs(env, order_id, allocation, signers)
        with pytest.raises(errors.ArbitrationEscrowPanelQuorumNotReached) as info:
            env.escrow.submit_panel_award(env.other, order_id, allocation, AWARD_HASH, sigs)
        assert info.value.values == {"orderId": order_id, "validSignatures": len(signers)}


def test_panel_award_refuses_round_0_and_outsider_signatures(env: Env) -> None:
    order_id = env.panel_appointed()
    allocation = Allocation(AMOUNT, 0, 0)
    round0 = _panel_sigs(env, order_id, allocation, (0, 1), round_=0)
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature) as info:
        env.escrow.submit_panel_award(env.other, order_id, allocation, AWARD_HASH, round0)
    assert info.value.values == {"orderId": order_id, "signer": env.panel[0].address}
    sigs = _panel_sigs(env, order_id, allocation, (0,))
    sigs[1] = env.escrow.sign_award(env.arbitrator, order_id, allocation, AWARD_HASH, 1)
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature) as info:
        env.escrow.submit_panel_award(env.other, order_id, allocation, AWARD_HASH, sigs)
    assert info.value.values == {"orderId": order_id, "signer": env.panel[1].address}
    swapped = _panel_sigs(env, order_id, allocation, (0, 1))
    swapped[0], swapped[1] = swapped[1], swapped[0]
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature):
        env.escrow.submit_panel_award(env.other, order_id, allocation, AWARD_HASH, swapped)


def test_panel_award_refuses_bad_allocation_and_late(env: Env) -> None:
    order_id = env.panel_appointed()
    bad = Allocation(AMOUNT, 1, 0)
    with pytest.raises(errors.ArbitrationEscrowAllocationMismatch):
        env.escrow.submit_panel_award(
            env.other, order_id, bad, AWARD_HASH, _panel_sigs(env, order_id, bad, (0, 1))
        )
    above = Allocation(AMOUNT, 0, AMOUNT + 1)
    with pytest.raises(errors.ArbitrationEscrowCompensationAboveCap):
        env.escrow.submit_panel_award(
            env.other, order_id, above, AWARD_HASH, _panel_sigs(env, order_id, above, (0, 1))
        )
    good = Allocation(AMOUNT, 0, 0)
    sigs = _panel_sigs(env, order_id, good, (0, 1))
    deadline = env.escrow.order(order_id).deadline
    env.at(deadline)
    with pytest.raises(errors.ArbitrationEscrowTooLate) as info:
        env.escrow.submit_panel_award(env.other, order_id, good, AWARD_HASH, sigs)
    assert info.value.values == {"orderId": order_id, "deadline": deadline}


# --- settlement ----------------------------------------------------------------------------

FROZEN = ["DISPUTED", "ARBITRATOR_APPOINTED", "AWARD_SUBMITTED", "OBJECTED", "PANEL_APPOINTED"]


@pytest.mark.parametrize("status", FROZEN)
def test_settlement_signed_by_both_executes_at_once(env: Env, status: str) -> None:
    env.escrow.deposit_guarantee(env.seller, env.usdc.address, 10 * USDC)
    order_id = env.reach(status)
    allocation = Allocation(120 * USDC, 130 * USDC, 10 * USDC)
    buyer_sig = env.escrow.sign_settlement(env.buyer, order_id, allocation)
    seller_sig = env.escrow.sign_settlement(env.seller, order_id, allocation)
    buyer0 = env.usdc.balance_of(env.buyer.address)
    seller0 = env.usdc.balance_of(env.seller.address)
    result = env.escrow.execute_settlement(env.other, order_id, allocation, buyer_sig, seller_sig)
    assert env.escrow_events(result) == [
        resolved(env, order_id, Resolution.SETTLED, 120 * USDC, 130 * USDC, 10 * USDC)
    ]
    assert env.usdc.balance_of(env.buyer.address) == buyer0 + 130 * USDC
    assert env.usdc.balance_of(env.seller.address) == seller0 + 130 * USDC
    guarantee = env.escrow.guarantee(env.seller.address, env.usdc.address)
    assert (guarantee.balance, guarantee.locked) == (0, 0)
    assert env.escrow.pending_award(order_id) is None
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus) as info:
        env.escrow.execute_settlement(env.other, order_id, allocation, buyer_sig, seller_sig)
    assert info.value.values["current"] == Status.RESOLVED


def test_settlement_refused_before_a_dispute(env: Env) -> None:
    order_id = env.open()
    allocation = Allocation(AMOUNT, 0, 0)
    buyer_sig = env.escrow.sign_settlement(env.buyer, order_id, allocation, case_id=CASE)
    seller_sig = env.escrow.sign_settlement(env.seller, order_id, allocation, case_id=CASE)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus) as info:
        env.escrow.execute_settlement(env.other, order_id, allocation, buyer_sig, seller_sig)
    assert info.value.values == {"orderId": order_id, "current": Status.PAID}


def test_settlement_refuses_wrong_signatures(env: Env) -> None:
    order_id = env.disputed()
    second = env.disputed()
    allocation = Allocation(AMOUNT, 0, 0)
    esc = env.escrow
    good_buyer = esc.sign_settlement(env.buyer, order_id, allocation)
    good_seller = esc.sign_settlement(env.seller, order_id, allocation)
    cases = [
        (good_buyer, good_buyer, env.seller),  # buyer signed twice
        (good_seller, good_seller, env.buyer),  # seller signed twice
        (esc.sign_settlement(env.other, order_id, allocation), good_seller, env.buyer),
        (esc.sign_settlement(env.buyer, second, allocation), good_seller, env.buyer),
        (esc.sign_settlement(env.buyer, order_id, allocation, OTHER_CASE), good_seller, env.buyer),
        (
            good_buyer,
            esc.sign_settlement(env.seller, order_id, Allocation(0, AMOUNT, 0)),
            env.seller,
        ),
        (b"", good_seller, env.buyer),
    ]
    for buyer_sig, seller_sig, blamed in cases:
        with pytest.raises(errors.ArbitrationEscrowInvalidSignature) as info:
            esc.execute_settlement(env.other, order_id, allocation, buyer_sig, seller_sig)
        assert info.value.values == {"orderId": order_id, "signer": blamed.address}
    # an award signature (another type) is not a settlement signature
    award_sig = esc.sign_award(env.buyer, order_id, allocation, AWARD_HASH)
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature):
        esc.execute_settlement(env.other, order_id, allocation, award_sig, good_seller)


def test_settlement_refuses_bad_sum_and_compensation_above_the_guarantee(env: Env) -> None:
    env.escrow.deposit_guarantee(env.seller, env.usdc.address, 5 * USDC)
    order_id = env.disputed()
    bad = Allocation(AMOUNT, 1, 0)
    with pytest.raises(errors.ArbitrationEscrowAllocationMismatch):
        env.escrow.execute_settlement(
            env.other,
            order_id,
            bad,
            env.escrow.sign_settlement(env.buyer, order_id, bad),
            env.escrow.sign_settlement(env.seller, order_id, bad),
        )
    above = Allocation(AMOUNT, 0, 5 * USDC + 1)
    with pytest.raises(errors.ArbitrationEscrowInsufficientGuarantee) as info:
        env.escrow.execute_settlement(
            env.other,
            order_id,
            above,
            env.escrow.sign_settlement(env.buyer, order_id, above),
            env.escrow.sign_settlement(env.seller, order_id, above),
        )
    assert info.value.values == {
        "seller": env.seller.address,
        "token": env.usdc.address,
        "available": 5 * USDC,
        "needed": 5 * USDC + 1,
    }


def test_settlement_may_exceed_the_award_cap_when_covered(env: Env) -> None:
    env.escrow.deposit_guarantee(env.seller, env.usdc.address, 2 * AMOUNT)
    order_id = env.disputed()
    allocation = Allocation(AMOUNT, 0, 2 * AMOUNT)
    env.escrow.execute_settlement(
        env.other,
        order_id,
        allocation,
        env.escrow.sign_settlement(env.buyer, order_id, allocation),
        env.escrow.sign_settlement(env.seller, order_id, allocation),
    )
    assert env.escrow.guarantee(env.seller.address, env.usdc.address).balance == 0


# --- timeouts ------------------------------------------------------------------------------

TIMEOUT_CASES = [
    ("DISPUTED", Resolution.TIMEOUT_NO_ARBITRATOR),
    ("ARBITRATOR_APPOINTED", Resolution.TIMEOUT_NO_AWARD),
    ("OBJECTED", Resolution.TIMEOUT_NO_PANEL),
    ("PANEL_APPOINTED", Resolution.TIMEOUT_NO_PANEL_AWARD),
]


@pytest.mark.parametrize(("status", "resolution"), TIMEOUT_CASES)
def test_timeout_refunds_the_buyer(env: Env, status: str, resolution: Resolution) -> None:
    order_id = env.reach(status, "eth", 10**18)
    deadline = env.escrow.order(order_id).deadline
    env.at(deadline - 1)
    with pytest.raises(errors.ArbitrationEscrowTooEarly) as info:
        env.escrow.resolve_by_timeout(env.other, order_id)
    assert info.value.values == {"orderId": order_id, "notBefore": deadline}
    buyer0 = env.w3.eth.get_balance(env.buyer.address)
    env.at(deadline)
    result = env.escrow.resolve_by_timeout(env.other, order_id)
    assert list(result.events) == [resolved(env, order_id, resolution, 10**18, 0)]
    assert env.w3.eth.get_balance(env.buyer.address) == buyer0 + 10**18
    order = env.escrow.order(order_id)
    assert (order.status, order.resolution) == (Status.RESOLVED, resolution)
    assert env.escrow.guarantee(env.seller.address, "0x" + "00" * 20).locked == 0
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus):
        env.escrow.resolve_by_timeout(env.other, order_id)


@pytest.mark.parametrize("status", ["PAID", "AWARD_SUBMITTED"])
def test_timeout_not_available_where_another_way_out_exists(env: Env, status: str) -> None:
    order_id = env.reach(status)
    env.wait(60 * DAY)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus) as info:
        env.escrow.resolve_by_timeout(env.other, order_id)
    assert info.value.values == {"orderId": order_id, "current": Status[status]}


def test_every_waiting_status_has_a_way_out_by_anyone(env: Env) -> None:
    """After enough time, a stranger can end an order from every non-terminal status."""
    ways = {
        "PAID": env.escrow.release_after_deadline,
        "DISPUTED": env.escrow.resolve_by_timeout,
        "ARBITRATOR_APPOINTED": env.escrow.resolve_by_timeout,
        "AWARD_SUBMITTED": env.escrow.execute_award,
        "OBJECTED": env.escrow.resolve_by_timeout,
        "PANEL_APPOINTED": env.escrow.resolve_by_timeout,
    }
    orders = {status: env.reach(status) for status in ways}
    env.wait(TIMEOUTS.max_delivery_period + TIMEOUTS.release_grace)
    for status, way in ways.items():
        way(env.other, orders[status])
        assert env.escrow.order(orders[status]).status == Status.RESOLVED, status
    assert env.usdc.balance_of(env.escrow.address) == 0
