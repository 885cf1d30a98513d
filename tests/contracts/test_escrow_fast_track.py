"""ArbitrationEscrow: the fast track's proposal as the order's pending decision
(``submitFastTrack``; docs/jury.md "Fast track", docs/contracts.md), on the in-process EVM
and anvil.

The institution signs a ``Decision`` of kind FastTrack over
``keccak256(abi.encode(reportHash, window))``; anyone relays it; it binds unless a party
objects within its own window (never longer than the objection window), then
``executeAward`` pays it. Attacks are tests: a forged or re-targeted signature, a window the
institution did not sign, a longer or zero window, a wrong status, a late submission, an
allocation that does not sum, an objection by an outsider or after the window.
"""

from __future__ import annotations

import pytest
from eth_abi import encode
from eth_utils import keccak

from backend.chain import Allocation, DecisionKind, Resolution, Status, errors
from backend.chain.contracts import fast_track_decision_hash
from tests.contracts.helpers import CASE, DAY, TIMEOUTS, USDC, Env

AMOUNT = 40 * USDC
PROPOSAL = Allocation(AMOUNT // 2, AMOUNT - AMOUNT // 2, 0)
REPORT = keccak(text="the pre-evaluation report")
WINDOW = 3 * DAY


def _submit(env: Env, order_id: int, *, allocation: Allocation = PROPOSAL,
            window: int = WINDOW, signed_window: int | None = None,
            signed_allocation: Allocation | None = None, signer=None,
            report: bytes = REPORT):
    sig = env.escrow.sign_fast_track(signer or env.institution, order_id,
                                     signed_allocation or allocation, report,
                                     window if signed_window is None else signed_window)
    return env.escrow.submit_fast_track(env.other, order_id, allocation, report, window, sig)


def test_the_decision_hash_binds_the_report_and_the_window() -> None:
    assert fast_track_decision_hash(REPORT, WINDOW) == keccak(
        encode(["bytes32", "uint256"], [REPORT, WINDOW]))
    assert fast_track_decision_hash(REPORT, WINDOW) != fast_track_decision_hash(REPORT, 1)


def test_no_objection_within_the_window_then_it_pays(env: Env) -> None:
    assert TIMEOUTS.objection > WINDOW
    order_id = env.disputed("usdc", AMOUNT)
    t = env.now() + 60
    env.at(t)
    result = _submit(env, order_id)
    assert list(result.events) == [
        env.ev("DecisionSubmitted", orderId=order_id, caseId=CASE, kind=DecisionKind.FAST_TRACK,
               toBuyer=PROPOSAL.to_buyer, toSeller=PROPOSAL.to_seller, compensation=0,
               decisionHash=fast_track_decision_hash(REPORT, WINDOW),
               deadline=t + TIMEOUTS.objection),
        env.ev("FastTrackSubmitted", orderId=order_id, reportHash=REPORT, deadline=t + WINDOW)]
    order = env.escrow.order(order_id)
    assert (order.status, order.deadline) == (Status.DECISION_PENDING, t + WINDOW)
    with pytest.raises(errors.ArbitrationEscrowTooEarly):
        env.escrow.execute_award(env.other, order_id)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus):  # no second proposal
        _submit(env, order_id)
    buyer, seller = (env.balance("usdc", a.address) for a in (env.buyer, env.seller))
    env.at(t + WINDOW)
    with pytest.raises(errors.ArbitrationEscrowTooLate):  # the window is the fast track's
        env.escrow.object_to_award(env.buyer, order_id)
    result = env.escrow.execute_award(env.other, order_id)
    assert result.named("OrderResolved")[0].args == {
        "orderId": order_id, "resolution": Resolution.FAST_TRACK_EXECUTED,
        "toBuyer": PROPOSAL.to_buyer, "toSeller": PROPOSAL.to_seller, "compensationPaid": 0,
        "compensationShortfall": 0}
    assert env.balance("usdc", env.buyer.address) == buyer + PROPOSAL.to_buyer
    assert env.balance("usdc", env.seller.address) == seller + PROPOSAL.to_seller
    assert env.escrow.order(order_id).status == Status.RESOLVED


def test_an_objection_returns_the_order_to_disputed_and_spends_the_objection(env: Env) -> None:
    order_id = env.disputed("usdc", AMOUNT)
    _submit(env, order_id)
    for caller in (env.other, env.institution, env.arbitrator):
        with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller):
            env.escrow.object_to_award(caller, order_id)
    t = env.now() + 60
    env.at(t)
    result = env.escrow.object_to_award(env.buyer, order_id)
    assert list(result.events) == [env.ev("DecisionObjected", orderId=order_id, caseId=CASE,
                                          by=env.buyer.address,
                                          deadline=t + TIMEOUTS.appointment)]
    assert env.escrow.order(order_id).status == Status.DISPUTED
    assert env.escrow.pending_award(order_id) is None
    env.escrow.appoint_arbitrator(env.institution, order_id, env.arbitrator.address)
    award = Allocation(AMOUNT, 0, 0)
    sig = env.escrow.sign_award(env.arbitrator, order_id, award, b"\xab" * 32)
    t = env.now() + 60
    env.at(t)
    submitted = env.escrow.submit_award(env.other, order_id, award, b"\xab" * 32, sig)
    assert submitted.named("AwardSubmitted")[0].args["deadline"] == t  # final: no window
    args = env.escrow.execute_award(env.other, order_id).named("OrderResolved")[0].args
    assert (args["resolution"], args["toBuyer"]) == (Resolution.AWARD_EXECUTED, AMOUNT)


def test_forged_or_retargeted_proposals_are_refused(env: Env) -> None:
    order_id = env.disputed("usdc", AMOUNT)
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature):  # not the institution
        _submit(env, order_id, signer=env.arbitrator)
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature):  # another institution
        _submit(env, order_id, signer=env.other_institution)
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature):  # a window it did not sign
        _submit(env, order_id, window=60, signed_window=WINDOW)
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature):  # other figures
        _submit(env, order_id, allocation=Allocation(AMOUNT, 0, 0), signed_allocation=PROPOSAL)
    other = env.disputed("usdc", AMOUNT)
    sig = env.escrow.sign_fast_track(env.institution, other, PROPOSAL, REPORT, WINDOW)
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature):  # signed for another order
        env.escrow.submit_fast_track(env.other, order_id, PROPOSAL, REPORT, WINDOW, sig)
    assert env.escrow.order(order_id).status == Status.DISPUTED


def test_windows_allocations_statuses_and_deadlines_are_checked(env: Env) -> None:
    order_id = env.disputed("usdc", AMOUNT)
    for window in (0, TIMEOUTS.objection + 1):
        with pytest.raises(errors.ArbitrationEscrowInvalidTimeouts):
            _submit(env, order_id, window=window)
    with pytest.raises(errors.ArbitrationEscrowAllocationMismatch):
        _submit(env, order_id, allocation=Allocation(AMOUNT, 1, 0))
    with pytest.raises(errors.ArbitrationEscrowCompensationAboveCap):
        _submit(env, order_id, allocation=Allocation(AMOUNT, 0, AMOUNT + 1))
    paid = env.open("usdc", AMOUNT)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus):
        _submit(env, paid)
    appointed = env.appointed("usdc", AMOUNT)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus):  # an arbitrator sits already
        _submit(env, appointed)
    env.wait(TIMEOUTS.appointment)
    with pytest.raises(errors.ArbitrationEscrowTooLate):
        _submit(env, order_id)
    # the objection window itself is allowed, and settles at it
    fresh = env.disputed("usdc", AMOUNT)
    t = env.now() + 60
    env.at(t)
    _submit(env, fresh, window=TIMEOUTS.objection)
    assert env.escrow.order(fresh).deadline == t + TIMEOUTS.objection


def test_the_parties_may_still_settle_while_it_waits(env: Env) -> None:
    order_id = env.disputed("usdc", AMOUNT)
    _submit(env, order_id)
    allocation = Allocation(AMOUNT - USDC, USDC, 0)
    sigs = [env.escrow.sign_settlement(p, order_id, allocation) for p in (env.buyer, env.seller)]
    result = env.escrow.execute_settlement(env.other, order_id, allocation, *sigs)
    assert result.named("OrderResolved")[0].args["resolution"] == Resolution.SETTLED
