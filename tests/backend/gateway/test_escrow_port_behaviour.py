"""One behaviour suite for every implementation of the escrow port.

The same inputs go to the in-memory model (``fake``), the real ArbitrationEscrow on the
in-process EVM (``evm``) and on anvil (``anvil``); each test asserts the same outcome or the
same refusal type with the same values, including the attacks the contract stops: a wrong
signer, amounts that do not sum, paying twice, an award before the appointment, a refund
before the timeout. The fake may stand in for the chain in the API tests only because it
passes this suite.
"""

from __future__ import annotations

from collections.abc import Iterator

import pytest
from eth_account.signers.local import LocalAccount

from backend.chain import ETH, Allocation
from backend.chain.contracts import fast_track_decision_hash
from backend.chain.devchain import AnvilNode, in_process_web3, revert_to, snapshot
from backend.chain.typed_data import (
    return_award_typed_data,
    return_settlement_typed_data,
    sign_typed_data,
)
from backend.services.escrow import (
    ETH_META,
    AdvanceAboveCap,
    AdvanceRefund,
    AdvanceRefunded,
    AllocationMismatch,
    AppointArbitrator,
    AppointPanel,
    ArbitratorAppointed,
    AwaitingParty,
    AwardSubmitted,
    CompensationAboveCap,
    ConfirmDispute,
    ConfirmObjection,
    ConfirmReturnDispute,
    ConfirmReturnReceived,
    ConfirmReturnShipment,
    DecisionSubmitted,
    ExecuteAward,
    ExecuteSettlement,
    InsufficientGuarantee,
    InvalidNeutral,
    InvalidTimeouts,
    NotAuthorized,
    NotYet,
    OrderResolved,
    PanelAppointed,
    QuorumNotReached,
    RefundOnTimeout,
    ReturnRequested,
    SettlementUsed,
    SubmitAward,
    SubmitFastTrack,
    SubmitPanelAward,
    SubmitReturnAward,
    SubmitReturnSettlement,
    TooLate,
    UnknownOrder,
    WrongSigner,
    WrongStatus,
    WrongToken,
    ZeroAmount,
)
from tests.backend.gateway.escrow_worlds import (
    DAY,
    ETHER,
    TIMEOUTS,
    ChainWorld,
    EscrowWorld,
    FakeWorld,
    _typed,
    sign_award,
    sign_settlement,
)

AMOUNT = 2 * ETHER
GUARANTEE = ETHER // 2
CASE = "0x" + "ca" * 32
AWARD_HASH = "0x" + "aa" * 32
SPLIT = Allocation(AMOUNT * 3 // 4, AMOUNT // 4, ETHER // 10)


@pytest.fixture(scope="module")
def _evm_world() -> ChainWorld:
    """The escrow deployed once on an in-process EVM for the module (tests revert to it)."""
    return ChainWorld(in_process_web3())


@pytest.fixture(scope="module")
def _anvil_world(anvil_node: AnvilNode) -> Iterator[ChainWorld]:
    """The escrow deployed once on the session's anvil for the module; the chain is put back
    as it was before the deployment at the module's end."""
    w3 = anvil_node.web3()
    before = snapshot(w3)
    try:
        yield ChainWorld(w3)
    finally:
        revert_to(w3, before)


@pytest.fixture(params=["fake", "evm", pytest.param("anvil", marks=pytest.mark.anvil)])
def world(request: pytest.FixtureRequest) -> Iterator[EscrowWorld]:
    """A fresh in-memory model, or the module's deployment, each test's changes reverted
    (a snapshot right after the deployment, as tests/contracts/conftest.py's ``env``)."""
    if request.param == "fake":
        yield FakeWorld()
        return
    deployed: ChainWorld = request.getfixturevalue(f"_{request.param}_world")
    snap = snapshot(deployed.w3)
    try:
        yield deployed
    finally:
        revert_to(deployed.w3, snap)


# --- bringing an order to a status (through the port wherever the service acts) ---------


def disputed(w: EscrowWorld, guarantee: int = GUARANTEE) -> int:
    order_id = w.open_order(AMOUNT, guarantee)
    w.raise_dispute(order_id, CASE)
    return order_id


def appointed(w: EscrowWorld, guarantee: int = GUARANTEE) -> int:
    order_id = disputed(w, guarantee)
    w.port.appoint_arbitrator(AppointArbitrator(order_id=order_id, case_id=CASE,
                                                arbitrator=w.who.arbitrator.address))
    return order_id


def award(w: EscrowWorld, order_id: int, allocation: Allocation = SPLIT,
          signer: LocalAccount | None = None) -> SubmitAward:
    sig = sign_award(w, signer or w.who.arbitrator, order_id, CASE,
                     allocation, AWARD_HASH, 0)
    return SubmitAward(order_id=order_id, case_id=CASE, allocation=allocation,
                       award_hash=AWARD_HASH, signature=sig)


def submitted(w: EscrowWorld, allocation: Allocation = SPLIT,
              guarantee: int = GUARANTEE) -> int:
    order_id = appointed(w, guarantee)
    w.port.submit_award(award(w, order_id, allocation))
    return order_id


def panel_appointed(w: EscrowWorld) -> int:
    order_id = submitted(w)
    w.object(order_id)
    w.port.appoint_panel(AppointPanel(order_id=order_id, case_id=CASE, panel=(
        w.who.panel1.address, w.who.panel2.address, w.who.panel3.address)))
    return order_id


def settlement(w: EscrowWorld, order_id: int, allocation: Allocation, *,
               buyer: LocalAccount | None = None, seller: LocalAccount | None = None
               ) -> ExecuteSettlement:
    return ExecuteSettlement(
        order_id=order_id, case_id=CASE, allocation=allocation,
        buyer_signature=sign_settlement(w, buyer or w.who.buyer,
                                        order_id, CASE, allocation),
        seller_signature=sign_settlement(w, seller or w.who.seller,
                                         order_id, CASE, allocation))


# --- reads and the parties' own acts ------------------------------------------------------


def test_read_order_shows_the_paid_order_and_its_guarantee(world: EscrowWorld) -> None:
    order_id = world.open_order(AMOUNT, GUARANTEE)
    order = world.port.read_order(order_id)
    assert (order.buyer, order.seller, order.amount, order.status, order.guarantee) == (
        world.who.buyer.address, world.who.seller.address, AMOUNT, "Paid", GUARANTEE)
    assert order.institution == world.who.institution.address
    assert order.case_id == "0x" + "00" * 32


def test_orders_of_lists_each_partys_orders_newest_first(world: EscrowWorld) -> None:
    first = world.open_order(AMOUNT, GUARANTEE)
    second = disputed(world)
    for party in (world.who.buyer, world.who.seller):
        orders = world.port.orders_of(party.address)
        assert [(o.order_id, o.status) for o in orders] == [(second, "Disputed"),
                                                             (first, "Paid")]
        assert orders[0].case_id == CASE and orders[1].amount == AMOUNT
    assert world.port.orders_of(world.who.stranger.address) == []
    assert world.port.orders_of(world.who.buyer.address.lower())[0].order_id == second


def test_token_meta_of_ether_is_eth_with_18_decimals(world: EscrowWorld) -> None:
    assert world.port.token_meta("0x" + "00" * 20) == ETH_META


def test_read_order_of_an_unknown_order_is_refused(world: EscrowWorld) -> None:
    with pytest.raises(UnknownOrder):
        world.port.read_order(99)


def test_dispute_is_awaited_until_the_party_raises_it_under_the_case(world: EscrowWorld) -> None:
    order_id = world.open_order(AMOUNT, GUARANTEE)
    act = ConfirmDispute(order_id=order_id, case_id=CASE)
    with pytest.raises(AwaitingParty):
        world.port.confirm_dispute(act)
    world.raise_dispute(order_id, CASE)
    with pytest.raises(AwaitingParty):  # another case's freeze is not this one's
        world.port.confirm_dispute(ConfirmDispute(order_id=order_id, case_id="0x" + "cb" * 32))
    seen = world.port.confirm_dispute(act)
    assert (seen.order.status, seen.order.case_id) == ("Disputed", CASE)


def test_objection_is_awaited_until_a_party_objects(world: EscrowWorld) -> None:
    order_id = submitted(world)
    act = ConfirmObjection(order_id=order_id, case_id=CASE)
    with pytest.raises(AwaitingParty):
        world.port.confirm_objection(act)
    world.object(order_id)
    assert world.port.confirm_objection(act).order.status == "Objected"


# --- the sole arbitrator's award -------------------------------------------------------------


def test_appointment_award_window_and_execution(world: EscrowWorld) -> None:
    order_id = disputed(world)
    sent = world.port.appoint_arbitrator(AppointArbitrator(
        order_id=order_id, case_id=CASE, arbitrator=world.who.arbitrator.address))
    assert sent.tx_hash.startswith("0x") and len(sent.tx_hash) == 66
    assert sent.event == ArbitratorAppointed(order_id, CASE, world.who.arbitrator.address,
                                             world.mined_at(sent) + TIMEOUTS.award)
    submitted_ = world.port.submit_award(award(world, order_id))
    window_ends = world.mined_at(submitted_) + TIMEOUTS.objection
    assert submitted_.event == AwardSubmitted(order_id, CASE, 0, SPLIT, AWARD_HASH, window_ends)
    execute = ExecuteAward(order_id=order_id, case_id=CASE, allocation=SPLIT)
    with pytest.raises(NotYet) as early:
        world.port.execute_award(execute)
    assert early.value.not_before == window_ends
    world.advance(TIMEOUTS.objection + 1)
    done = world.port.execute_award(execute)
    assert done.event == OrderResolved(order_id, "AwardExecuted", SPLIT, 0)
    assert world.port.read_order(order_id).guarantee == GUARANTEE - SPLIT.compensation
    with pytest.raises(WrongStatus) as twice:  # paying twice
        world.port.execute_award(execute)
    assert twice.value.status == "Resolved"


def test_award_before_appointment_is_refused(world: EscrowWorld) -> None:
    order_id = disputed(world)
    with pytest.raises(WrongStatus) as refused:
        world.port.submit_award(award(world, order_id))
    assert refused.value.status == "Disputed"


def test_award_signed_by_another_than_the_appointed_arbitrator_is_refused(
        world: EscrowWorld) -> None:
    order_id = appointed(world)
    for signer in (world.who.stranger, world.who.buyer, world.who.panel1):
        with pytest.raises(WrongSigner) as refused:
            world.port.submit_award(award(world, order_id, signer=signer))
        assert refused.value.expected == world.who.arbitrator.address
    # a signature over other terms does not carry to these
    act = award(world, order_id)
    other = Allocation(AMOUNT, 0, 0)
    with pytest.raises(WrongSigner):
        world.port.submit_award(SubmitAward(order_id=order_id, case_id=CASE, allocation=other,
                                            award_hash=AWARD_HASH, signature=act.signature))
    assert world.port.read_order(order_id).status == "ArbitratorAppointed"


def test_award_whose_amounts_do_not_sum_to_the_escrow_is_refused(world: EscrowWorld) -> None:
    order_id = appointed(world)
    with pytest.raises(AllocationMismatch) as refused:
        world.port.submit_award(award(world, order_id, Allocation(AMOUNT, 1, 0)))
    assert (refused.value.amount, refused.value.allocated) == (AMOUNT, AMOUNT + 1)


def test_award_compensation_above_the_escrowed_amount_is_refused(world: EscrowWorld) -> None:
    order_id = appointed(world)
    with pytest.raises(CompensationAboveCap) as refused:
        world.port.submit_award(award(world, order_id, Allocation(AMOUNT, 0, AMOUNT + 1)))
    assert (refused.value.cap, refused.value.compensation) == (AMOUNT, AMOUNT + 1)


def test_award_compensation_beyond_the_guarantee_is_paid_short(world: EscrowWorld) -> None:
    terms = Allocation(AMOUNT, 0, ETHER)
    order_id = submitted(world, terms, guarantee=ETHER // 4)
    world.advance(TIMEOUTS.objection + 1)
    done = world.port.execute_award(ExecuteAward(order_id=order_id, case_id=CASE,
                                                 allocation=terms))
    assert done.event == OrderResolved(order_id, "AwardExecuted",
                                       Allocation(AMOUNT, 0, ETHER // 4), ETHER * 3 // 4)


def test_appointment_of_a_party_is_refused(world: EscrowWorld) -> None:
    order_id = disputed(world)
    for party in (world.who.buyer.address, world.who.seller.address, "0x" + "00" * 20):
        with pytest.raises(InvalidNeutral) as refused:
            world.port.appoint_arbitrator(AppointArbitrator(order_id=order_id, case_id=CASE,
                                                            arbitrator=party))
        assert refused.value.neutral.lower() == party.lower()


def test_appointment_after_its_deadline_is_refused(world: EscrowWorld) -> None:
    order_id = disputed(world)
    world.advance(TIMEOUTS.appointment + 1)
    with pytest.raises(TooLate):
        world.port.appoint_arbitrator(AppointArbitrator(
            order_id=order_id, case_id=CASE, arbitrator=world.who.arbitrator.address))


def test_appointment_before_the_dispute_is_refused(world: EscrowWorld) -> None:
    order_id = world.open_order(AMOUNT, GUARANTEE)
    with pytest.raises(WrongStatus) as refused:
        world.port.appoint_arbitrator(AppointArbitrator(
            order_id=order_id, case_id=CASE, arbitrator=world.who.arbitrator.address))
    assert refused.value.status == "Paid"


# --- objection and the panel --------------------------------------------------------------


def test_panel_with_the_sole_arbitrator_or_a_repeated_member_is_refused(
        world: EscrowWorld) -> None:
    order_id = submitted(world)
    world.object(order_id)
    who = world.who
    for panel, refused_member in (
            ((who.arbitrator.address, who.panel2.address, who.panel3.address),
             who.arbitrator.address),
            ((who.panel1.address, who.panel1.address, who.panel3.address), who.panel1.address),
            ((who.panel1.address, who.panel2.address, who.panel2.address), who.panel2.address)):
        with pytest.raises(InvalidNeutral) as refused:
            world.port.appoint_panel(AppointPanel(order_id=order_id, case_id=CASE, panel=panel))
        assert refused.value.neutral == refused_member
    sent = world.port.appoint_panel(AppointPanel(order_id=order_id, case_id=CASE, panel=(
        who.panel1.address, who.panel2.address, who.panel3.address)))
    assert sent.event == PanelAppointed(
        order_id, CASE, (who.panel1.address, who.panel2.address, who.panel3.address),
        world.mined_at(sent) + TIMEOUTS.panel_award)


def test_panel_award_needs_two_valid_signatures(world: EscrowWorld) -> None:
    order_id = panel_appointed(world)
    who = world.who
    terms = Allocation(AMOUNT // 2, AMOUNT // 2, 0)

    def sig(signer: LocalAccount) -> bytes:
        return sign_award(world, signer, order_id, CASE, terms, AWARD_HASH, 1)

    def act(*sigs: bytes | None) -> SubmitPanelAward:
        a, b, c = sigs
        return SubmitPanelAward(order_id=order_id, case_id=CASE, allocation=terms,
                                award_hash=AWARD_HASH, signatures=(a, b, c))

    with pytest.raises(QuorumNotReached) as one:
        world.port.submit_panel_award(act(sig(who.panel1), None, None))
    assert one.value.valid == 1
    with pytest.raises(WrongSigner) as wrong:  # a stranger's signature in panelist 2's seat
        world.port.submit_panel_award(act(sig(who.panel1), sig(who.stranger), None))
    assert wrong.value.expected == who.panel2.address
    round0 = sign_award(world, who.panel3, order_id, CASE, terms, AWARD_HASH, 0)
    with pytest.raises(WrongSigner):  # a round-0 signature is not a panel's
        world.port.submit_panel_award(act(sig(who.panel1), None, round0))
    done = world.port.submit_panel_award(act(sig(who.panel1), None, sig(who.panel3)))
    assert done.event == OrderResolved(order_id, "PanelAwardExecuted", terms, 0)
    with pytest.raises(WrongStatus):  # paying twice
        world.port.submit_panel_award(act(sig(who.panel1), None, sig(who.panel3)))


# --- settlement ---------------------------------------------------------------------------


def test_settlement_signed_by_both_parties_executes_once(world: EscrowWorld) -> None:
    order_id = disputed(world)
    terms = Allocation(AMOUNT // 4, AMOUNT * 3 // 4, GUARANTEE)
    act = settlement(world, order_id, terms)
    done = world.port.execute_settlement(act)
    assert done.event == OrderResolved(order_id, "Settled", terms, 0)
    assert world.port.read_order(order_id).guarantee == 0
    with pytest.raises(WrongStatus) as twice:
        world.port.execute_settlement(act)
    assert twice.value.status == "Resolved"


def test_settlement_with_a_wrong_signer_is_refused(world: EscrowWorld) -> None:
    order_id = disputed(world)
    terms = Allocation(AMOUNT // 2, AMOUNT // 2, 0)
    with pytest.raises(WrongSigner) as seller:
        world.port.execute_settlement(settlement(world, order_id, terms,
                                                 seller=world.who.stranger))
    assert seller.value.expected == world.who.seller.address
    with pytest.raises(WrongSigner) as buyer:  # the seller cannot sign for the buyer
        world.port.execute_settlement(settlement(world, order_id, terms,
                                                 buyer=world.who.seller))
    assert buyer.value.expected == world.who.buyer.address
    signed = settlement(world, order_id, terms)
    other = Allocation(AMOUNT, 0, 0)  # their signatures do not carry to other terms
    with pytest.raises(WrongSigner):
        world.port.execute_settlement(ExecuteSettlement(
            order_id=order_id, case_id=CASE, allocation=other,
            buyer_signature=signed.buyer_signature, seller_signature=signed.seller_signature))


def test_settlement_whose_amounts_do_not_sum_is_refused(world: EscrowWorld) -> None:
    order_id = disputed(world)
    with pytest.raises(AllocationMismatch) as refused:
        world.port.execute_settlement(settlement(world, order_id,
                                                 Allocation(AMOUNT // 2, AMOUNT // 4, 0)))
    assert (refused.value.amount, refused.value.allocated) == (AMOUNT, AMOUNT * 3 // 4)


def test_settlement_beyond_the_guarantee_is_refused(world: EscrowWorld) -> None:
    order_id = disputed(world)
    with pytest.raises(InsufficientGuarantee) as refused:
        world.port.execute_settlement(settlement(world, order_id,
                                                 Allocation(AMOUNT, 0, GUARANTEE + 1)))
    assert (refused.value.available, refused.value.needed) == (GUARANTEE, GUARANTEE + 1)


def test_settlement_before_the_dispute_is_refused(world: EscrowWorld) -> None:
    order_id = world.open_order(AMOUNT, GUARANTEE)
    with pytest.raises(WrongStatus) as refused:
        world.port.execute_settlement(settlement(world, order_id, Allocation(AMOUNT, 0, 0)))
    assert refused.value.status == "Paid"


# --- refund on timeout -----------------------------------------------------------------------


def test_refund_before_the_timeout_waits_then_refunds_in_full(world: EscrowWorld) -> None:
    order_id = appointed(world)
    refund = RefundOnTimeout(order_id=order_id, case_id=CASE)
    with pytest.raises(NotYet):
        world.port.refund_on_timeout(refund)
    world.advance(TIMEOUTS.award + 1)
    done = world.port.refund_on_timeout(refund)
    assert done.event == OrderResolved(order_id, "TimeoutNoAward", Allocation(AMOUNT, 0, 0), 0)
    assert world.port.read_order(order_id).guarantee == GUARANTEE  # nothing taken from it
    with pytest.raises(WrongStatus):  # paying twice
        world.port.refund_on_timeout(refund)


def test_refund_while_an_award_waits_for_its_window_is_refused(world: EscrowWorld) -> None:
    order_id = submitted(world)
    world.advance(TIMEOUTS.award + 1)
    with pytest.raises(WrongStatus) as refused:
        world.port.refund_on_timeout(RefundOnTimeout(order_id=order_id, case_id=CASE))
    assert refused.value.status == "AwardSubmitted"


def test_an_appointment_by_another_than_the_orders_institution_is_refused(
        world: EscrowWorld) -> None:
    order_id = disputed(world)
    other = world.port_as(world.who.stranger)
    with pytest.raises(NotAuthorized) as refused:
        other.appoint_arbitrator(AppointArbitrator(order_id=order_id, case_id=CASE,
                                                   arbitrator=world.who.arbitrator.address))
    assert (refused.value.order_id, refused.value.caller) == (order_id,
                                                              world.who.stranger.address)
    assert world.port.read_order(order_id).status == "Disputed"


# --- advance refunds (Trade Assurance) -------------------------------------------------------


def test_advance_refund_after_the_missed_deadline_and_its_repayment(world: EscrowWorld) -> None:
    order_id = disputed(world)
    deadline = world.port.read_order(order_id).delivery_deadline
    part = ETHER // 5
    act = AdvanceRefund(order_id=order_id, case_id=CASE, token=ETH, amount=part)
    with pytest.raises(NotYet) as early:  # the seller has not missed the deadline yet
        world.port.advance_refund(act)
    assert early.value.not_before == deadline
    world.advance(deadline - world.now() + 1)
    with pytest.raises(NotAuthorized) as refused:
        world.port_as(world.who.stranger).advance_refund(act)
    assert refused.value.caller == world.who.stranger.address
    other_token = "0x" + "11" * 20
    with pytest.raises(WrongToken) as wrong:
        world.port.advance_refund(AdvanceRefund(order_id=order_id, case_id=CASE,
                                                token=other_token, amount=part))
    assert wrong.value.token.lower() == other_token
    with pytest.raises(ZeroAmount):
        world.port.advance_refund(AdvanceRefund(order_id=order_id, case_id=CASE, token=ETH,
                                                amount=0))
    with pytest.raises(AdvanceAboveCap) as over:
        world.port.advance_refund(AdvanceRefund(order_id=order_id, case_id=CASE, token=ETH,
                                                amount=GUARANTEE + 1))
    assert (over.value.cap, over.value.requested) == (GUARANTEE, GUARANTEE + 1)
    sent = world.port.advance_refund(act)
    assert sent.event == AdvanceRefunded(order_id, CASE, part, part)
    order = world.port.read_order(order_id)
    assert (order.advanced, order.guarantee) == (part, GUARANTEE - part)
    with pytest.raises(AdvanceAboveCap) as twice:  # the second stops at what is left
        world.port.advance_refund(AdvanceRefund(order_id=order_id, case_id=CASE, token=ETH,
                                                amount=GUARANTEE - part + 1))
    assert twice.value.cap == GUARANTEE - part
    # the refund on timeout repays the guarantee from the escrowed amount
    done = world.port.refund_on_timeout(RefundOnTimeout(order_id=order_id, case_id=CASE))
    assert done.event == OrderResolved(order_id, "TimeoutNoArbitrator", Allocation(AMOUNT, 0, 0),
                                       0)
    order = world.port.read_order(order_id)
    assert (order.status, order.advanced, order.guarantee) == ("Resolved", part, GUARANTEE)
    with pytest.raises(WrongStatus):
        world.port.advance_refund(act)


def test_advance_refund_before_a_dispute_is_refused(world: EscrowWorld) -> None:
    order_id = world.open_order(AMOUNT, GUARANTEE)
    world.advance(30 * DAY + 1)
    with pytest.raises(WrongStatus) as refused:
        world.port.advance_refund(AdvanceRefund(order_id=order_id, case_id=CASE, token=ETH,
                                                amount=1))
    assert refused.value.status == "Paid"


# --- the institution's key rotation -------------------------------------------------------


def test_a_rotated_institution_acts_with_its_new_key(world: EscrowWorld) -> None:
    """The old key hands over; orders naming it follow to the new key, which appoints; the
    old key appoints and rotates no more."""
    from eth_account import Account

    from backend.chain.devchain import fund

    order_id = disputed(world)
    new = Account.create()
    if isinstance(world, ChainWorld):
        fund(world.w3, [new.address], ETHER)
    old = world.who.institution.address
    assert world.port.institution_of(old) == old
    tx = world.port.rotate_institution_key(new.address)
    assert tx.startswith("0x") and len(tx) == 66
    assert world.port.institution_of(old) == new.address
    act = AppointArbitrator(order_id=order_id, case_id=CASE,
                            arbitrator=world.who.arbitrator.address)
    with pytest.raises(NotAuthorized) as info:
        world.port.appoint_arbitrator(act)
    assert (info.value.order_id, info.value.caller) == (order_id, old)
    with pytest.raises(NotAuthorized):
        world.port.rotate_institution_key(world.who.stranger.address)
    sent = world.port_as(new).appoint_arbitrator(act)
    assert sent.event == ArbitratorAppointed(order_id, CASE, world.who.arbitrator.address,
                                             world.mined_at(sent) + TIMEOUTS.award)


# --- the fast track (docs/jury.md "Fast track") ---------------------------------------------

REPORT = "0x" + "fa" * 32
WINDOW = 86_400  # shorter than this suite's 2-day objection window


def fast_track(order_id: int, allocation: Allocation = SPLIT, window: int = WINDOW
               ) -> SubmitFastTrack:
    return SubmitFastTrack(order_id=order_id, case_id=CASE, allocation=allocation,
                           report_hash=REPORT, window_seconds=window)


def test_fast_track_waits_its_own_window_then_pays(world: EscrowWorld) -> None:
    assert TIMEOUTS.objection > WINDOW
    order_id = disputed(world)
    sent = world.port.submit_fast_track(fast_track(order_id))
    ends = world.mined_at(sent) + WINDOW
    assert sent.event == DecisionSubmitted(
        order_id, CASE, "FastTrack", SPLIT,
        "0x" + fast_track_decision_hash(bytes.fromhex(REPORT[2:]), WINDOW).hex(), ends)
    assert world.port.read_order(order_id).status == "DecisionPending"
    execute = ExecuteAward(order_id=order_id, case_id=CASE, allocation=SPLIT, decision=True)
    with pytest.raises(NotYet) as early:
        world.port.execute_award(execute)
    assert early.value.not_before == ends
    with pytest.raises(WrongStatus):  # one pending decision
        world.port.submit_fast_track(fast_track(order_id))
    world.advance(WINDOW + 1)
    done = world.port.execute_award(execute)
    assert done.event == OrderResolved(order_id, "FastTrackExecuted", SPLIT, 0)
    assert world.port.read_order(order_id).guarantee == GUARANTEE - SPLIT.compensation
    with pytest.raises(WrongStatus) as twice:  # paying twice
        world.port.execute_award(execute)
    assert twice.value.status == "Resolved"


def test_fast_track_objection_is_awaited_then_the_order_is_disputed(world: EscrowWorld
                                                                     ) -> None:
    order_id = disputed(world)
    world.port.submit_fast_track(fast_track(order_id))
    act = ConfirmObjection(order_id=order_id, case_id=CASE, decision=True)
    with pytest.raises(AwaitingParty):
        world.port.confirm_objection(act)
    world.object(order_id)
    assert world.port.confirm_objection(act).order.status == "Disputed"
    with pytest.raises(WrongStatus):
        world.port.execute_award(ExecuteAward(order_id=order_id, case_id=CASE,
                                              allocation=SPLIT, decision=True))


def test_fast_track_refusals(world: EscrowWorld) -> None:
    order_id = disputed(world)
    for window in (0, TIMEOUTS.objection + 1):
        with pytest.raises(InvalidTimeouts):
            world.port.submit_fast_track(fast_track(order_id, window=window))
    with pytest.raises(AllocationMismatch):
        world.port.submit_fast_track(fast_track(order_id, Allocation(AMOUNT, 1, 0)))
    with pytest.raises(CompensationAboveCap):
        world.port.submit_fast_track(fast_track(order_id, Allocation(AMOUNT, 0, AMOUNT + 1)))
    other = world.port_as(world.who.stranger)  # not the order's institution: its signature
    with pytest.raises(WrongSigner):
        other.submit_fast_track(fast_track(order_id))
    with pytest.raises(WrongStatus):  # an arbitrator sits already
        world.port.submit_fast_track(fast_track(appointed(world)))
    world.advance(TIMEOUTS.appointment + 1)
    with pytest.raises(TooLate):
        world.port.submit_fast_track(fast_track(order_id))
    assert world.port.read_order(order_id).status == "Disputed"


# --- the return stage (docs/contracts.md "Return and refund") ---------------------------

REFUND = Allocation(AMOUNT, 0, 0)
FALLBACK = Allocation(AMOUNT // 4, AMOUNT - AMOUNT // 4, 0)
TRACKING = "0x" + "7a" * 32


def return_award(w: EscrowWorld, order_id: int, signer: LocalAccount | None = None
                 ) -> SubmitReturnAward:
    typed = return_award_typed_data(_typed(w), order_id, bytes.fromhex(CASE[2:]), REFUND,
                                    FALLBACK, bytes.fromhex(AWARD_HASH[2:]))
    sig = sign_typed_data(signer or w.who.arbitrator, typed)
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


def return_settlement(w: EscrowWorld, order_id: int, refund: Allocation = REFUND, *,
                      buyer: LocalAccount | None = None, seller: LocalAccount | None = None
                      ) -> SubmitReturnSettlement:
    typed = return_settlement_typed_data(_typed(w), order_id, bytes.fromhex(CASE[2:]), refund,
                                         FALLBACK)
    return SubmitReturnSettlement(
        order_id=order_id, case_id=CASE, allocation=refund, no_return=FALLBACK,
        buyer_signature=sign_typed_data(buyer or w.who.buyer, typed),
        seller_signature=sign_typed_data(seller or w.who.seller,
                                         typed))


def test_a_return_settlement_opens_the_return_stage_at_once_and_pays_the_refund(
        world: EscrowWorld) -> None:
    order_id = disputed(world)
    sent = world.port.submit_return_settlement(return_settlement(world, order_id))
    assert sent.event == ReturnRequested(order_id, CASE,
                                         world.mined_at(sent) + TIMEOUTS.return_shipment)
    assert world.port.read_order(order_id).status == "ReturnPending"
    world.ship_return(order_id, TRACKING, world.who.buyer)
    done = world.port.confirm_return_received(ConfirmReturnReceived(
        order_id=order_id, case_id=CASE, allocation=REFUND))
    assert done.event == OrderResolved(order_id, "ReturnReceived", REFUND, 0)


def test_a_return_settlement_missed_by_the_buyer_pays_its_fallback(world: EscrowWorld
                                                                  ) -> None:
    order_id = appointed(world)  # any frozen status before the return stage
    world.port.submit_return_settlement(return_settlement(world, order_id))
    world.advance(TIMEOUTS.return_shipment + 1)
    done = world.port.refund_on_timeout(RefundOnTimeout(order_id=order_id, case_id=CASE))
    assert done.event == OrderResolved(order_id, "ReturnNotShipped", FALLBACK, 0)


def test_return_settlement_refusals(world: EscrowWorld) -> None:
    paid = world.open_order(AMOUNT, GUARANTEE)
    with pytest.raises(WrongStatus) as before:  # no dispute yet
        world.port.submit_return_settlement(return_settlement(world, paid))
    assert before.value.status == "Paid"
    order_id = disputed(world)
    with pytest.raises(WrongSigner) as seller:
        world.port.submit_return_settlement(return_settlement(world, order_id,
                                                              seller=world.who.stranger))
    assert seller.value.expected == world.who.seller.address
    with pytest.raises(WrongSigner) as buyer:  # the seller cannot sign for the buyer
        world.port.submit_return_settlement(return_settlement(world, order_id,
                                                              buyer=world.who.seller))
    assert buyer.value.expected == world.who.buyer.address
    with pytest.raises(AllocationMismatch):
        world.port.submit_return_settlement(return_settlement(
            world, order_id, Allocation(AMOUNT // 2, AMOUNT // 4, 0)))
    with pytest.raises(CompensationAboveCap):
        world.port.submit_return_settlement(return_settlement(
            world, order_id, Allocation(AMOUNT, 0, AMOUNT + 1)))
    act = return_settlement(world, order_id)
    world.port.submit_return_settlement(act)
    with pytest.raises(WrongStatus) as twice:  # already in the return stage
        world.port.submit_return_settlement(act)
    assert twice.value.status == "ReturnPending"
    world.ship_return(order_id, TRACKING, world.who.buyer)
    world.dispute_return(order_id, world.who.seller)  # the order is Disputed again
    with pytest.raises(SettlementUsed):  # the same signatures do not start it again
        world.port.submit_return_settlement(act)
