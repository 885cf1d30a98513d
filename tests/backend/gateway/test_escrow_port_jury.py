"""The escrow port's jury acts, the same on every implementation (docs/jury.md §7).

The in-memory model, the contract on the in-process EVM and on anvil must accept the same
verdict and refuse the same attacks with the same refusal: a juror outside the draw, a vote
not signed by its juror, a minority-only tally, a decision the port's key may not sign.
"""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from backend.chain import Allocation, jury_vote_typed_data, sign_typed_data
from backend.chain import errors as chain_errors
from backend.services.escrow import (
    AppointArbitrator,
    AppointJury,
    Ballot,
    ConfirmObjection,
    DecisionSubmitted,
    ExecuteAward,
    InvalidJury,
    JuryMismatch,
    NoJuryMajority,
    NotYet,
    SubmitAward,
    SubmitJuryVerdict,
    TooLate,
    WrongSigner,
    WrongStatus,
)
from tests.backend.gateway.escrow_worlds import TIMEOUTS, EscrowWorld, _typed, sign_award
from tests.backend.gateway.test_escrow_port_behaviour import (  # noqa: F401 - the fixtures
    AMOUNT,
    CASE,
    _anvil_world,
    _evm_world,
    disputed,
    world,
)

JURORS: tuple[LocalAccount, ...] = tuple(
    Account.from_key(keccak(text=f"port juror {i}")) for i in range(7))
OUTSIDER = Account.from_key(keccak(text="port outsider"))
OPTIONS = (Allocation(AMOUNT, 0, 0), Allocation(AMOUNT // 2, AMOUNT // 2, 0),
           Allocation(0, AMOUNT, 0))
MAJORITY = (0, 0, 1, 0, None, 0, 2)


def _ballots(w: EscrowWorld, choices: tuple[int | None, ...],
             jurors: tuple[LocalAccount, ...] = JURORS) -> tuple[Ballot, ...]:
    out = []
    for i, (juror, choice) in enumerate(zip(jurors, choices, strict=True)):
        if choice is None:
            out.append(Ballot(juror.address))
            continue
        salt = keccak(text=f"salt {i}")
        typed = jury_vote_typed_data(_typed(w), bytes.fromhex(CASE[2:]), juror.address, choice,
                                     4, salt)
        out.append(Ballot(juror.address, choice, 4, "0x" + salt.hex(),
                          sign_typed_data(juror, typed)))
    return tuple(out)


def _verdict(w: EscrowWorld, order_id: int, choices: tuple[int | None, ...] = MAJORITY,
             winner: int = 0, jurors: tuple[LocalAccount, ...] = JURORS,
             ballots: tuple[Ballot, ...] | None = None) -> SubmitJuryVerdict:
    return SubmitJuryVerdict(order_id=order_id, case_id=CASE,
                             jurors=tuple(j.address for j in jurors), options=OPTIONS,
                             winner=winner,
                             ballots=_ballots(w, choices, jurors) if ballots is None else ballots)


def jury_sits(w: EscrowWorld) -> int:
    order_id = disputed(w)
    w.port.appoint_jury(AppointJury(order_id=order_id, case_id=CASE,
                                    jurors=tuple(j.address for j in JURORS), options=OPTIONS))
    return order_id


def test_a_verdict_waits_for_its_window_then_executes(world: EscrowWorld) -> None:  # noqa: F811
    order_id = jury_sits(world)
    assert world.port.read_order(order_id).status == "JuryAppointed"
    sent = world.port.submit_jury_verdict(_verdict(world, order_id))
    assert isinstance(sent.event, DecisionSubmitted)
    assert (sent.event.kind, sent.event.allocation) == ("JuryVerdict", OPTIONS[0])
    assert sent.event.deadline == world.mined_at(sent) + TIMEOUTS.objection
    assert world.port.read_order(order_id).status == "DecisionPending"
    with pytest.raises(NotYet):
        world.port.execute_award(ExecuteAward(order_id=order_id, case_id=CASE))
    world.advance(TIMEOUTS.objection + 1)
    done = world.port.execute_award(ExecuteAward(order_id=order_id, case_id=CASE))
    assert (done.event.resolution, done.event.allocation) == ("JuryVerdictExecuted", OPTIONS[0])  # type: ignore[union-attr]


def test_forged_minority_and_outside_tallies_are_refused(world: EscrowWorld) -> None:  # noqa: F811
    order_id = jury_sits(world)
    with pytest.raises(JuryMismatch):  # a juror outside the draw
        world.port.submit_jury_verdict(_verdict(world, order_id,
                                                jurors=(*JURORS[:6], OUTSIDER)))
    honest = _ballots(world, MAJORITY)
    changed = list(honest)
    changed[2] = Ballot(honest[2].juror, 0, honest[2].reason_code, honest[2].salt,
                        honest[2].signature)
    with pytest.raises(WrongSigner) as info:  # a vote changed after its juror signed it
        world.port.submit_jury_verdict(_verdict(world, order_id, ballots=tuple(changed)))
    assert info.value.expected == JURORS[2].address
    with pytest.raises(NoJuryMajority) as minority:
        world.port.submit_jury_verdict(_verdict(world, order_id,
                                                (0, 0, 0, None, None, None, None)))
    assert (minority.value.revealed, minority.value.top) == (3, 3)
    with pytest.raises(NoJuryMajority):  # the minority's option named the winner
        world.port.submit_jury_verdict(_verdict(world, order_id, winner=1))
    with pytest.raises(WrongSigner):  # a Decision signed by another key than the institution
        world.port_as(world.who.stranger).submit_jury_verdict(_verdict(world, order_id))
    assert world.port.read_order(order_id).status == "JuryAppointed"


def test_objection_to_the_verdict_leads_to_a_final_sole_arbitrator(
        world: EscrowWorld) -> None:  # noqa: F811
    order_id = jury_sits(world)
    world.port.submit_jury_verdict(_verdict(world, order_id))
    objection = ConfirmObjection(order_id=order_id, case_id=CASE, decision=True)
    with pytest.raises(Exception, match="objectToAward"):
        world.port.confirm_objection(objection)
    world.object(order_id)
    assert world.port.confirm_objection(objection).order.status == "Disputed"
    with pytest.raises(InvalidJury):  # the jury does not sit twice
        world.port.appoint_jury(AppointJury(order_id=order_id, case_id=CASE,
                                            jurors=tuple(j.address for j in JURORS),
                                            options=OPTIONS))
    world.port.appoint_arbitrator(AppointArbitrator(order_id=order_id, case_id=CASE,
                                                    arbitrator=world.who.arbitrator.address))
    award = Allocation(AMOUNT // 4, AMOUNT - AMOUNT // 4, 0)
    sig = sign_award(world, world.who.arbitrator, order_id, CASE, award, "0x" + "ab" * 32, 0)
    sent = world.port.submit_award(SubmitAward(order_id=order_id, case_id=CASE,
                                               allocation=award, award_hash="0x" + "ab" * 32,
                                               signature=sig))
    assert sent.event.deadline == world.mined_at(sent)  # final: no second window
    world.advance(1)
    with pytest.raises((TooLate, chain_errors.ArbitrationEscrowTooLate)):  # a party's wallet
        world.object(order_id)
    done = world.port.execute_award(ExecuteAward(order_id=order_id, case_id=CASE))
    assert done.event.resolution == "AwardExecuted"  # type: ignore[union-attr]


def test_no_majority_falls_back_to_the_arbitrator_and_appointments_are_checked(
        world: EscrowWorld) -> None:  # noqa: F811
    order_id = jury_sits(world)
    first = world.port.read_order(order_id)
    again = world.port.appoint_jury(AppointJury(  # a replacement draw: the same deadline
        order_id=order_id, case_id=CASE, jurors=tuple(j.address for j in JURORS[1:]),
        options=OPTIONS))
    assert world.port.read_order(order_id).status == first.status == "JuryAppointed"
    with pytest.raises(JuryMismatch):  # the replaced jury no longer counts
        world.port.submit_jury_verdict(_verdict(world, order_id))
    with pytest.raises(WrongStatus):
        world.port.appoint_jury(AppointJury(order_id=order_id + 1, case_id=CASE,
                                            jurors=tuple(j.address for j in JURORS),
                                            options=OPTIONS))
    assert again.event.deadline > 0
    sent = world.port.appoint_arbitrator(AppointArbitrator(
        order_id=order_id, case_id=CASE, arbitrator=world.who.arbitrator.address))
    assert sent.event.deadline == world.mined_at(sent) + TIMEOUTS.award
