"""The escrow port's return acts (docs/contracts.md "Return and refund") on every
implementation: the in-memory model, the in-process EVM and anvil give the same outcomes
and refusals (the fake may stand in for the chain only because it passes this)."""

from __future__ import annotations

import pytest

from backend.chain import Allocation
from backend.chain.typed_data import return_award_typed_data, sign_typed_data
from backend.services.escrow import (
    AwaitingParty,
    AwardSubmitted,
    ConfirmReturnDispute,
    ConfirmReturnReceived,
    ConfirmReturnShipment,
    ExecuteAward,
    NotAuthorized,
    NotYet,
    OrderResolved,
    RefundOnTimeout,
    ReturnRequested,
    SubmitReturnAward,
    TooLate,
    WrongSigner,
    WrongStatus,
)
from tests.backend.gateway.escrow_worlds import TIMEOUTS, EscrowWorld, _typed
from tests.backend.gateway.test_escrow_port_behaviour import (  # noqa: F401 - the fixture
    AMOUNT,
    AWARD_HASH,
    CASE,
    GUARANTEE,
    appointed,
    world,
)

REFUND = Allocation(AMOUNT, 0, 0)
FALLBACK = Allocation(AMOUNT // 4, AMOUNT - AMOUNT // 4, 0)
TRACKING = "0x" + "7a" * 32


def return_award(w: EscrowWorld, order_id: int, signer: object = None) -> SubmitReturnAward:
    typed = return_award_typed_data(_typed(w), order_id, bytes.fromhex(CASE[2:]), REFUND,
                                    FALLBACK, bytes.fromhex(AWARD_HASH[2:]))
    sig = sign_typed_data(signer or w.who.arbitrator, typed)  # type: ignore[arg-type]
    return SubmitReturnAward(order_id=order_id, case_id=CASE, allocation=REFUND,
                             no_return=FALLBACK, award_hash=AWARD_HASH, signature=sig)


def return_pending(w: EscrowWorld) -> int:
    order_id = appointed(w)
    w.port.submit_return_award(return_award(w, order_id))
    w.advance(TIMEOUTS.objection + 1)
    w.port.execute_award(ExecuteAward(order_id=order_id, case_id=CASE, allocation=REFUND))
    return order_id


def test_a_return_award_opens_the_return_stage_instead_of_paying(world: EscrowWorld) -> None:
    order_id = appointed(world)
    with pytest.raises(WrongSigner):  # another than the appointed arbitrator
        world.port.submit_return_award(return_award(world, order_id, world.who.stranger))
    sent = world.port.submit_return_award(return_award(world, order_id))
    assert sent.event == AwardSubmitted(order_id, CASE, 0, REFUND, AWARD_HASH,
                                        world.mined_at(sent) + TIMEOUTS.objection)
    world.advance(TIMEOUTS.objection + 1)
    done = world.port.execute_award(ExecuteAward(order_id=order_id, case_id=CASE,
                                                 allocation=REFUND))
    assert done.event == ReturnRequested(order_id, CASE,
                                         world.mined_at(done) + TIMEOUTS.return_shipment)
    assert world.port.read_order(order_id).status == "ReturnPending"


def test_the_buyer_ships_and_the_institution_confirms_the_receipt(world: EscrowWorld) -> None:
    order_id = return_pending(world)
    shipped = ConfirmReturnShipment(order_id=order_id, case_id=CASE, tracking=TRACKING)
    with pytest.raises(AwaitingParty):
        world.port.confirm_return_shipment(shipped)
    with pytest.raises(WrongStatus):  # nothing shipped: no receipt to confirm
        world.port.confirm_return_received(ConfirmReturnReceived(
            order_id=order_id, case_id=CASE, allocation=REFUND))
    with pytest.raises(NotAuthorized):  # only the buyer records the return shipment
        world.ship_return(order_id, TRACKING, world.who.seller)
    world.ship_return(order_id, TRACKING, world.who.buyer)
    assert world.port.confirm_return_shipment(shipped).order.status == "ReturnShipped"
    confirm = ConfirmReturnReceived(order_id=order_id, case_id=CASE, allocation=REFUND)
    with pytest.raises(NotAuthorized):  # a stranger is neither the seller nor the institution
        world.port_as(world.who.stranger).confirm_return_received(confirm)
    done = world.port.confirm_return_received(confirm)
    assert done.event == OrderResolved(order_id, "ReturnReceived", REFUND, 0)
    with pytest.raises(WrongStatus):  # paying twice
        world.port.confirm_return_received(confirm)


def test_the_return_window_missed_pays_the_fallback(world: EscrowWorld) -> None:
    order_id = return_pending(world)
    refund = RefundOnTimeout(order_id=order_id, case_id=CASE)
    with pytest.raises(NotYet):
        world.port.refund_on_timeout(refund)
    world.advance(TIMEOUTS.return_shipment + 1)
    with pytest.raises(TooLate):  # too late to ship
        world.ship_return(order_id, TRACKING, world.who.buyer)
    done = world.port.refund_on_timeout(refund)
    assert done.event == OrderResolved(order_id, "ReturnNotShipped", FALLBACK, 0)
    assert world.port.read_order(order_id).guarantee == GUARANTEE


def test_a_silent_seller_is_deemed_to_have_received(world: EscrowWorld) -> None:
    order_id = return_pending(world)
    world.ship_return(order_id, TRACKING, world.who.buyer)
    world.advance(TIMEOUTS.return_receipt + 1)
    done = world.port.refund_on_timeout(RefundOnTimeout(order_id=order_id, case_id=CASE))
    assert done.event == OrderResolved(order_id, "ReturnDeemedReceived", REFUND, 0)


def test_the_sellers_dispute_of_the_receipt_is_awaited_then_disputed(world: EscrowWorld
                                                                     ) -> None:
    order_id = return_pending(world)
    world.ship_return(order_id, TRACKING, world.who.buyer)
    disputed = ConfirmReturnDispute(order_id=order_id, case_id=CASE)
    with pytest.raises(AwaitingParty):
        world.port.confirm_return_dispute(disputed)
    with pytest.raises(NotAuthorized):  # only the seller disputes the receipt
        world.dispute_return(order_id, world.who.buyer)
    world.dispute_return(order_id, world.who.seller)
    assert world.port.confirm_return_dispute(disputed).order.status == "Disputed"
