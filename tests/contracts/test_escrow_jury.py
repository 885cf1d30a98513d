"""ArbitrationEscrow: the jury's verdict and the shared institution-signed decision path.

The escrow checks a jury verdict itself (docs/jury.md §7, docs/contracts.md): the jurors and
options must be the ones the institution appointed (their hash), each counted vote must carry
its juror's EIP-712 ``JuryVote`` signature, the majority is counted on chain, and the
institution signs the decision over the votes' hash. Attacks are tests: forged tallies,
minority-only tallies, jurors outside the draw. Runs on the in-process EVM and anvil.
"""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak

from backend.chain import (
    Allocation,
    DecisionKind,
    JurorBallot,
    Resolution,
    Status,
    TxResult,
    errors,
    jury_vote_typed_data,
    typed_data_digest,
)
from evidence.events import uint_of
from evidence.jury import (
    DECISION_TYPE,
    JURY_VOTE_TYPE,
    decision_struct_hash,
    jury_hash,
    jury_order,
    vote_commitment,
    votes_hash,
)
from tests.contracts.helpers import CASE, TIMEOUTS, USDC, Env

AMOUNT = 40 * USDC
OPTIONS = (
    Allocation(AMOUNT, 0, 0),  # full refund
    Allocation(AMOUNT // 2, AMOUNT - AMOUNT // 2, 0),  # partial refund
    Allocation(0, AMOUNT, 0),  # release to the seller
)
JURORS: tuple[LocalAccount, ...] = tuple(
    Account.from_key(keccak(text=f"chainarb juror {i}")) for i in range(7)
)
OUTSIDER = Account.from_key(keccak(text="chainarb not drawn"))


def _salt(i: int) -> bytes:
    return keccak(text=f"salt {i}")


def ballots(env: Env, choices: list[int | None], jurors: tuple[LocalAccount, ...] = JURORS,
            case: bytes = CASE) -> list[JurorBallot]:
    """One ballot per juror: its choice signed (reason code 1 + choice), or absent (None)."""
    out = []
    for i, (juror, choice) in enumerate(zip(jurors, choices, strict=True)):
        if choice is None:
            out.append(JurorBallot(juror.address))
            continue
        sig = env.escrow.sign_jury_vote(juror, case, choice, 1 + choice, _salt(i))
        out.append(JurorBallot(juror.address, choice, 1 + choice, _salt(i), sig))
    return out


def commitments(ballot_list: list[JurorBallot], case: bytes = CASE) -> list[bytes | None]:
    """The ballots' commitments in the escrow's (ascending) juror order."""
    by = {b.juror: b for b in ballot_list}
    return [None if by[j].signature is None else
            vote_commitment(case, j, by[j].choice, by[j].reason_code, by[j].salt)
            for j in jury_order(by)]


def jury_appointed(env: Env, jurors: tuple[LocalAccount, ...] = JURORS,
                   options: tuple[Allocation, ...] = OPTIONS) -> int:
    order_id = env.disputed("usdc", AMOUNT)
    env.escrow.appoint_jury(env.institution, order_id, [j.address for j in jurors], options)
    return order_id


def submit(env: Env, order_id: int, choices: list[int | None], winner: int, *,
           ballot_list: list[JurorBallot] | None = None,
           jurors: tuple[LocalAccount, ...] = JURORS,
           options: tuple[Allocation, ...] = OPTIONS,
           signer: LocalAccount | None = None,
           signed_allocation: Allocation | None = None,
           signed_hash: bytes | None = None) -> TxResult:
    """Submit a verdict; by default every part honest (the institution signs the tally)."""
    ballot_list = ballots(env, choices, jurors) if ballot_list is None else ballot_list
    decision_hash = votes_hash(commitments(ballot_list)) if signed_hash is None else signed_hash
    allocation = options[winner] if signed_allocation is None else signed_allocation
    signature = env.escrow.sign_decision(signer or env.institution, order_id,
                                         DecisionKind.JURY_VERDICT, allocation, decision_hash)
    return env.escrow.submit_jury_verdict(
        env.other, order_id, jurors=[j.address for j in jurors], options=options,
        winner=winner, ballots=ballot_list, signature=signature)


MAJORITY = [0, 0, 1, 0, None, 0, 2]  # 6 of 7 revealed; option 0 holds 4 of 6


# --- the hashes a wallet and the contract agree on ----------------------------------------


def test_type_hashes_match_the_contract(env: Env) -> None:
    fns = env.escrow.contract.functions
    assert bytes(fns.DECISION_TYPEHASH().call()) == keccak(text=DECISION_TYPE)
    assert bytes(fns.JURY_VOTE_TYPEHASH().call()) == keccak(text=JURY_VOTE_TYPE)


def test_a_jurors_signed_typed_data_is_the_commitment(env: Env) -> None:
    """The struct hash a wallet signs for a JuryVote is evidence.jury.vote_commitment, and
    the Decision's digest is the domain's hash of evidence.jury.decision_struct_hash."""
    domain = env.escrow.domain()
    juror = JURORS[0].address
    typed = jury_vote_typed_data(domain, CASE, juror, 2, 6, _salt(0))
    separator = domain.separator()
    assert typed_data_digest(typed) == keccak(
        b"\x19\x01" + separator + vote_commitment(CASE, juror, 2, 6, _salt(0)))
    order_id = env.disputed("usdc", AMOUNT)
    typed = env.escrow.decision_typed_data(order_id, DecisionKind.JURY_VERDICT, OPTIONS[1],
                                           b"\x07" * 32)
    assert typed_data_digest(typed) == keccak(b"\x19\x01" + separator + decision_struct_hash(
        order_id, CASE, 0, OPTIONS[1].as_tuple(), b"\x07" * 32))


# --- appointing the jury ------------------------------------------------------------------


def test_appoint_jury_fixes_the_jury_hash(env: Env) -> None:
    order_id = env.disputed("usdc", AMOUNT)
    t = env.now() + 60
    env.at(t)
    result = env.escrow.appoint_jury(env.institution, order_id, [j.address for j in JURORS],
                                     OPTIONS)
    digest = jury_hash([j.address for j in JURORS], [o.as_tuple() for o in OPTIONS])
    assert list(result.events) == [env.ev("JuryAppointed", orderId=order_id, caseId=CASE,
                                          juryHash=digest, deadline=t + TIMEOUTS.award)]
    order = env.escrow.order(order_id)
    assert (order.status, order.deadline) == (Status.JURY_APPOINTED, t + TIMEOUTS.award)
    # the guarantee stays locked while the jury sits
    assert env.escrow.guarantee(env.seller.address, env.usdc.address).locked == AMOUNT


def test_appoint_jury_refusals(env: Env) -> None:
    jurors = [j.address for j in JURORS]
    paid = env.open("usdc", AMOUNT)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus):
        env.escrow.appoint_jury(env.institution, paid, jurors, OPTIONS)
    order_id = env.disputed("usdc", AMOUNT)
    for caller in (env.buyer, env.other_institution, env.arbitrator):
        with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller):
            env.escrow.appoint_jury(caller, order_id, jurors, OPTIONS)
    with pytest.raises(errors.ArbitrationEscrowInvalidJury):
        env.escrow._send(env.institution, "appointJury", order_id, bytes(32))
    env.escrow.appoint_jury(env.institution, order_id, jurors, OPTIONS)
    deadline = env.escrow.order(order_id).deadline
    # a replacement draw names the jury again under the same deadline; only it then counts
    env.wait(60)
    replaced = [*jurors[:6], OUTSIDER.address]
    result = env.escrow.appoint_jury(env.institution, order_id, replaced, OPTIONS)
    assert result.named("JuryAppointed")[0].args["deadline"] == deadline
    assert env.escrow.order(order_id).deadline == deadline
    with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller):
        env.escrow.appoint_jury(env.buyer, order_id, jurors, OPTIONS)
    with pytest.raises(errors.ArbitrationEscrowJuryMismatch):  # the replaced jury
        submit(env, order_id, MAJORITY, 0)
    submit(env, order_id, MAJORITY, 0, jurors=(*JURORS[:6], OUTSIDER))
    late = env.disputed("usdc", AMOUNT)
    env.wait(TIMEOUTS.appointment)
    with pytest.raises(errors.ArbitrationEscrowTooLate):
        env.escrow.appoint_jury(env.institution, late, jurors, OPTIONS)


# --- the verdict --------------------------------------------------------------------------


def test_a_majority_verdict_waits_for_the_window_then_pays(env: Env) -> None:
    order_id = jury_appointed(env)
    env.escrow.deposit_guarantee(env.seller, env.usdc.address, 5 * USDC)
    t = env.now() + 60
    env.at(t)
    blist = ballots(env, MAJORITY)
    result = submit(env, order_id, MAJORITY, 0, ballot_list=blist)
    decision_hash = votes_hash(commitments(blist))
    assert list(result.events) == [env.ev(
        "DecisionSubmitted", orderId=order_id, caseId=CASE, kind=DecisionKind.JURY_VERDICT,
        toBuyer=AMOUNT, toSeller=0, compensation=0, decisionHash=decision_hash,
        deadline=t + TIMEOUTS.objection)]
    order = env.escrow.order(order_id)
    assert (order.status, order.deadline) == (Status.DECISION_PENDING, t + TIMEOUTS.objection)
    pending = env.escrow.pending_award(order_id)
    assert pending is not None and pending.award_hash == decision_hash
    with pytest.raises(errors.ArbitrationEscrowTooEarly):
        env.escrow.execute_award(env.other, order_id)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus):  # replay of the same verdict
        submit(env, order_id, MAJORITY, 0, ballot_list=blist)
    before = env.balance("usdc", env.buyer.address)
    env.wait(TIMEOUTS.objection)
    result = env.escrow.execute_award(env.other, order_id)
    assert result.named("OrderResolved")[0].args == {
        "orderId": order_id, "resolution": Resolution.JURY_VERDICT_EXECUTED, "toBuyer": AMOUNT,
        "toSeller": 0, "compensationPaid": 0, "compensationShortfall": 0}
    assert env.balance("usdc", env.buyer.address) == before + AMOUNT
    guarantee = env.escrow.guarantee(env.seller.address, env.usdc.address)
    assert (guarantee.balance, guarantee.locked) == (5 * USDC, 0)
    assert env.escrow.pending_award(order_id) is None


def test_a_verdict_with_compensation_is_paid_from_the_guarantee(env: Env) -> None:
    options = (Allocation(AMOUNT, 0, 3 * USDC), Allocation(0, AMOUNT, 0))
    order_id = jury_appointed(env, options=options)
    env.escrow.deposit_guarantee(env.seller, env.usdc.address, 2 * USDC)
    submit(env, order_id, [0, 0, 0, 0, 1, 1, 1], 0, options=options)
    env.wait(TIMEOUTS.objection)
    args = env.escrow.execute_award(env.other, order_id).named("OrderResolved")[0].args
    assert (args["compensationPaid"], args["compensationShortfall"]) == (2 * USDC, USDC)


def test_minority_only_tallies_are_refused(env: Env) -> None:
    order_id = jury_appointed(env)
    # three of seven revealed, all for option 0: no quorum
    with pytest.raises(errors.ArbitrationEscrowNoJuryMajority) as info:
        submit(env, order_id, [0, 0, 0, None, None, None, None], 0)
    assert (info.value.values["revealed"], info.value.values["topVotes"]) == (3, 3)
    # quorum, but option 0 holds 2 of 4 (not more than half)
    with pytest.raises(errors.ArbitrationEscrowNoJuryMajority) as info:
        submit(env, order_id, [0, 0, 1, 2, None, None, None], 0)
    assert (info.value.values["revealed"], info.value.values["topVotes"]) == (4, 2)
    # a tally that names the minority's option as the winner
    with pytest.raises(errors.ArbitrationEscrowNoJuryMajority) as info:
        submit(env, order_id, MAJORITY, 1)
    assert (info.value.values["revealed"], info.value.values["topVotes"]) == (6, 1)
    # a winner outside the options
    with pytest.raises(errors.ArbitrationEscrowNoJuryMajority):
        submit(env, order_id, MAJORITY, 7, signed_allocation=OPTIONS[0])
    assert env.escrow.order(order_id).status == Status.JURY_APPOINTED


def test_forged_tallies_are_refused(env: Env) -> None:
    order_id = jury_appointed(env)
    honest = ballots(env, MAJORITY)
    # a vote changed after the juror signed it (option 1 -> 0)
    forged = list(honest)
    forged[2] = JurorBallot(honest[2].juror, 0, honest[2].reason_code, honest[2].salt,
                            honest[2].signature)
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature) as info:
        submit(env, order_id, MAJORITY, 0, ballot_list=forged)
    assert info.value.values["signer"] == JURORS[2].address
    # a vote signed by someone else in the juror's name
    stolen = list(honest)
    sig = env.escrow.sign_jury_vote(OUTSIDER, CASE, 1, 2, _salt(4))
    stolen[4] = JurorBallot(JURORS[4].address, 1, 2, _salt(4), sig)
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature) as info:
        submit(env, order_id, MAJORITY, 0, ballot_list=stolen)
    assert info.value.values["signer"] == JURORS[4].address
    # a vote signed for another case
    other_case = list(honest)
    sig = env.escrow.sign_jury_vote(JURORS[1], b"\x01" * 32, 0, 1, _salt(1))
    other_case[1] = JurorBallot(JURORS[1].address, 0, 1, _salt(1), sig)
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature):
        submit(env, order_id, MAJORITY, 0, ballot_list=other_case)
    # the institution signed other votes (a tally that hides a vote) or another allocation
    hidden = votes_hash(commitments(ballots(env, [0, 0, None, 0, None, 0, 2])))
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature) as info:
        submit(env, order_id, MAJORITY, 0, ballot_list=honest, signed_hash=hidden)
    assert info.value.values["signer"] == env.institution.address
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature):
        submit(env, order_id, MAJORITY, 0, ballot_list=honest, signed_allocation=OPTIONS[2])
    # a tally signed by anyone but the order's institution
    for signer in (env.other_institution, env.arbitrator, env.buyer):
        with pytest.raises(errors.ArbitrationEscrowInvalidSignature):
            submit(env, order_id, MAJORITY, 0, ballot_list=honest, signer=signer)
    # a choice outside the options
    bad = list(honest)
    sig = env.escrow.sign_jury_vote(JURORS[6], CASE, 3, 1, _salt(6))
    bad[6] = JurorBallot(JURORS[6].address, 3, 1, _salt(6), sig)
    with pytest.raises(errors.ArbitrationEscrowJuryMismatch):
        submit(env, order_id, MAJORITY, 0, ballot_list=bad)
    submit(env, order_id, MAJORITY, 0, ballot_list=honest)  # the honest one passes


def test_jurors_outside_the_draw_are_refused(env: Env) -> None:
    order_id = jury_appointed(env)
    swapped = (*JURORS[:6], OUTSIDER)
    with pytest.raises(errors.ArbitrationEscrowJuryMismatch):
        submit(env, order_id, MAJORITY, 0, jurors=swapped)
    with pytest.raises(errors.ArbitrationEscrowJuryMismatch):  # a juror left out
        submit(env, order_id, MAJORITY[:6], 0, jurors=JURORS[:6])
    with pytest.raises(errors.ArbitrationEscrowJuryMismatch):  # other options
        submit(env, order_id, MAJORITY, 0, options=(OPTIONS[0], OPTIONS[2], OPTIONS[1]))
    with pytest.raises(errors.ArbitrationEscrowJuryMismatch):  # one vote word missing
        env.escrow._send(env.other, "submitJuryVerdict", order_id,
                         list(jury_order([j.address for j in JURORS])),
                         [v for o in OPTIONS for v in o.as_tuple()], 0, [bytes(32)] * 27, b"")


def test_a_party_or_a_duplicate_in_the_appointed_jury_is_refused(env: Env) -> None:
    """The institution cannot slip a party or a repeated juror into the jury it appoints:
    the verdict naming them is refused."""
    with_party = (*JURORS[:6], env.buyer)
    order_id = jury_appointed(env, jurors=with_party)
    with pytest.raises(errors.ArbitrationEscrowInvalidNeutral) as info:
        submit(env, order_id, MAJORITY, 0, jurors=with_party)
    assert info.value.values["neutral"] == env.buyer.address
    # a duplicate: the hash of a jury that names a juror twice
    order_id = env.disputed("usdc", AMOUNT)
    twice = sorted([j.address for j in JURORS[:6]] + [JURORS[0].address],
                   key=lambda a: bytes.fromhex(a[2:]))
    words = [len(twice).to_bytes(32, "big")] + [bytes(12) + bytes.fromhex(a[2:]) for a in twice]
    words += [v.to_bytes(32, "big") for o in OPTIONS for v in o.as_tuple()]
    env.escrow._send(env.institution, "appointJury", order_id, keccak(b"".join(words)))
    empty = [bytes(32)] * (4 * len(twice))
    with pytest.raises(errors.ArbitrationEscrowInvalidNeutral):
        env.escrow._send(env.other, "submitJuryVerdict", order_id, twice,
                         [v for o in OPTIONS for v in o.as_tuple()], 0, empty, b"")


def test_verdict_wrong_status_and_late(env: Env) -> None:
    disputed = env.disputed("usdc", AMOUNT)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus):
        submit(env, disputed, MAJORITY, 0)
    order_id = jury_appointed(env)
    env.wait(TIMEOUTS.award)
    with pytest.raises(errors.ArbitrationEscrowTooLate):
        submit(env, order_id, MAJORITY, 0)
    # the jury's deadline passed: anyone refunds the buyer
    result = env.escrow.resolve_by_timeout(env.other, order_id)
    args = result.named("OrderResolved")[0].args
    assert (args["resolution"], args["toBuyer"]) == (Resolution.TIMEOUT_NO_JURY_VERDICT, AMOUNT)


# --- objection: to a sole arbitrator, whose award is then final ----------------------------


def test_objection_sends_the_case_to_a_sole_arbitrator_whose_award_is_final(env: Env) -> None:
    order_id = jury_appointed(env)
    submit(env, order_id, MAJORITY, 0)
    for caller in (env.other, env.institution, env.arbitrator):
        with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller):
            env.escrow.object_to_award(caller, order_id)
    t = env.now() + 60
    env.at(t)
    result = env.escrow.object_to_award(env.seller, order_id)
    assert list(result.events) == [env.ev("DecisionObjected", orderId=order_id, caseId=CASE,
                                          by=env.seller.address,
                                          deadline=t + TIMEOUTS.appointment)]
    order = env.escrow.order(order_id)
    assert (order.status, order.deadline) == (Status.DISPUTED, t + TIMEOUTS.appointment)
    assert env.escrow.pending_award(order_id) is None
    with pytest.raises(errors.ArbitrationEscrowInvalidJury):  # the jury does not sit again
        env.escrow.appoint_jury(env.institution, order_id, [j.address for j in JURORS],
                                OPTIONS)
    env.escrow.appoint_arbitrator(env.institution, order_id, env.arbitrator.address)
    award = Allocation(AMOUNT - 10 * USDC, 10 * USDC, 0)
    sig = env.escrow.sign_award(env.arbitrator, order_id, award, b"\xab" * 32)
    t = env.now() + 60
    env.at(t)
    result = env.escrow.submit_award(env.other, order_id, award, b"\xab" * 32, sig)
    assert result.named("AwardSubmitted")[0].args["deadline"] == t  # no second window
    with pytest.raises(errors.ArbitrationEscrowTooLate):
        env.escrow.object_to_award(env.buyer, order_id)
    args = env.escrow.execute_award(env.other, order_id).named("OrderResolved")[0].args
    assert (args["resolution"], args["toBuyer"], args["toSeller"]) == (
        Resolution.AWARD_EXECUTED, AMOUNT - 10 * USDC, 10 * USDC)


def test_objection_after_the_window_is_too_late(env: Env) -> None:
    order_id = jury_appointed(env)
    submit(env, order_id, MAJORITY, 0)
    env.wait(TIMEOUTS.objection)
    with pytest.raises(errors.ArbitrationEscrowTooLate):
        env.escrow.object_to_award(env.buyer, order_id)


def test_no_majority_falls_back_to_the_sole_arbitrator(env: Env) -> None:
    order_id = jury_appointed(env)
    t = env.now() + 60
    env.at(t)
    result = env.escrow.appoint_arbitrator(env.institution, order_id, env.arbitrator.address)
    assert result.named("ArbitratorAppointed")[0].args["deadline"] == t + TIMEOUTS.award
    assert env.escrow.order(order_id).status == Status.ARBITRATOR_APPOINTED
    with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller):
        other = jury_appointed(env)
        env.escrow.appoint_arbitrator(env.buyer, other, env.arbitrator.address)


@pytest.mark.parametrize("stage", ["jury", "decision"])
def test_parties_may_settle_while_the_jury_sits_or_its_verdict_waits(env: Env,
                                                                      stage: str) -> None:
    order_id = jury_appointed(env)
    if stage == "decision":
        submit(env, order_id, MAJORITY, 0)
    allocation = Allocation(AMOUNT // 4, AMOUNT - AMOUNT // 4, 0)
    buyer_sig = env.escrow.sign_settlement(env.buyer, order_id, allocation)
    seller_sig = env.escrow.sign_settlement(env.seller, order_id, allocation)
    env.escrow.execute_settlement(env.other, order_id, allocation, buyer_sig, seller_sig)
    order = env.escrow.order(order_id)
    assert (order.status, order.resolution) == (Status.RESOLVED, Resolution.SETTLED)
    assert env.escrow.guarantee(env.seller.address, env.usdc.address).locked == 0
    assert env.escrow.pending_award(order_id) is None


def test_the_jury_path_costs(env: Env) -> None:
    """Gas of the jury's acts with seven jurors (bench/gas.py reports the same)."""
    order_id = env.disputed("usdc", AMOUNT)
    appoint = env.escrow.appoint_jury(env.institution, order_id, [j.address for j in JURORS],
                                      OPTIONS)
    verdict = submit(env, order_id, MAJORITY, 0)
    env.wait(TIMEOUTS.objection)
    execute = env.escrow.execute_award(env.other, order_id)
    print(f"appointJury {appoint.gas_used}, submitJuryVerdict (7 jurors, 6 votes) "
          f"{verdict.gas_used}, executeAward {execute.gas_used}")
    assert appoint.gas_used < 80_000
    assert verdict.gas_used < 250_000
    assert execute.gas_used < 120_000


def test_reentry_while_a_verdict_pays_out_is_refused(env: Env) -> None:
    """A buyer contract that, paid by a jury verdict, re-enters to execute its other order's
    verdict: the guard refuses it (executeAward, submitJuryVerdict and appointJury are all
    nonReentrant); outside the payout the same call works."""
    from backend.chain import ETH, BoundContract
    from tests.contracts.helpers import DAY, ETHER

    attacker = BoundContract(env.tx, env.extra["attacker"], "ReentrancyAttacker")
    options = (Allocation(ETHER, 0, 0), Allocation(0, ETHER, 0))
    orders = []
    for _ in range(2):
        result = attacker.send(env.admin, "openOrder", env.seller.address, ETH, ETHER,
                               env.now() + 10 * DAY, env.institution.address, value=ETHER)
        order_id = uint_of(result.named("OrderOpened")[0].args, "orderId")
        attacker.send(env.admin, "raiseDispute", order_id, CASE)
        env.escrow.appoint_jury(env.institution, order_id, [j.address for j in JURORS], options)
        submit(env, order_id, [0, 0, 0, 0, 1, 1, None], 0, options=options)
        orders.append(order_id)
    env.wait(TIMEOUTS.objection)
    reentry = env.escrow.contract.encode_abi("executeAward", args=[orders[1]])
    attacker.send(env.admin, "setReentryCall", reentry)
    env.escrow.execute_award(env.other, orders[0])
    assert attacker.call("attempts") == 1 and attacker.call("reentrySucceeded") is False
    assert bytes(attacker.call("lastError")) == keccak(text="ReentrancyGuardReentrantCall()")[:4]
    assert env.escrow.order(orders[1]).status == Status.DECISION_PENDING
    attacker.send(env.admin, "setReentryCall", b"")
    env.escrow.execute_award(env.other, orders[1])
    assert env.escrow.order(orders[1]).resolution == Resolution.JURY_VERDICT_EXECUTED
