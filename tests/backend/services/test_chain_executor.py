"""The executor over the typed port: rows decode into acts, windows are waited for, refusals
spend attempts, and the escrow's event reaches the after-hook.

The escrow is the fake, which enforces the contract's rules (the behaviour suite in
tests/backend/gateway holds it to the real contract), so these are the contract's refusals.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount
from sqlmodel import col, select

from backend.chain import Allocation, award_typed_data, sign_typed_data
from backend.chain import Domain as TypedDomain
from backend.chain.devchain import dev_accounts
from backend.db import Case, make_engine, make_session_factory, write_scope
from backend.db.service_models import ChainAction, ChainActionStatus
from backend.services.chain import ChainExecutor, FakeEscrowPort, OrderInfo
from backend.services.escrow import (
    ActionPayload,
    AppointArbitrator,
    ConfirmDispute,
    ExecuteAward,
    Outcome,
    Sent,
    SubmitAward,
    decode_action,
)
from tests.support.migrated import migrated

CASE = "0x" + "ca" * 32
AWARD_HASH = "0x" + "aa" * 32
AMOUNT = 1_000
TERMS = Allocation(600, 400, 50)
T0 = datetime(2026, 3, 1, tzinfo=UTC)


class World:
    def __init__(self, tmp_path: Path) -> None:
        url = f"sqlite:///{tmp_path / 'exec.sqlite3'}"
        migrated(url)
        self.sessions = make_session_factory(make_engine(url))
        self.now = T0
        self.institution, self.buyer, self.seller, self.arbitrator = dev_accounts(
            4, seed="executor")
        self.port = FakeEscrowPort(chain_id=31337, escrow="0x" + "e5" * 20,
                                   institution=self.institution.address,
                                   clock=lambda: self.now)
        self.port.add_order(OrderInfo(
            order_id=1, buyer=self.buyer.address, seller=self.seller.address, amount=AMOUNT,
            token="0x" + "11" * 20, institution=self.institution.address, status="Paid",
            case_id="0x" + "00" * 32, guarantee=100))
        self.done: list[tuple[str, Outcome]] = []
        self.executor = ChainExecutor(self.sessions, self.port, clock=lambda: self.now,
                                      on_done=lambda a, o: self.done.append((a.kind, o)))
        with write_scope(self.sessions) as s:
            s.add(Case(id=CASE, order_id="1", claimant=self.buyer.address,
                       respondent=self.seller.address, stage="filed"))

    def queue(self, act: ActionPayload,
              status: ChainActionStatus = ChainActionStatus.PENDING) -> None:
        with write_scope(self.sessions) as s:
            s.add(ChainAction(case_id=CASE, kind=act.KIND, payload=act.to_json(),
                              status=status))

    def rows(self) -> list[ChainAction]:
        with self.sessions() as s:
            return list(s.exec(select(ChainAction).order_by(col(ChainAction.id))).all())

    def award(self, signer: LocalAccount) -> SubmitAward:
        typed = award_typed_data(TypedDomain(chain_id=31337, verifying_contract="0x" + "e5" * 20),
                                 1, bytes.fromhex(CASE[2:]), TERMS,
                                 bytes.fromhex(AWARD_HASH[2:]), 0)
        return SubmitAward(order_id=1, case_id=CASE, allocation=TERMS, award_hash=AWARD_HASH,
                           signature=sign_typed_data(signer, typed))


@pytest.fixture
def world(tmp_path: Path) -> World:
    return World(tmp_path)


def test_rows_round_trip_through_their_typed_acts() -> None:
    acts: list[ActionPayload] = [
        ConfirmDispute(order_id=7, case_id=CASE),
        AppointArbitrator(order_id=7, case_id=CASE, arbitrator="0x" + "ab" * 20),
        SubmitAward(order_id=7, case_id=CASE, allocation=TERMS, award_hash=AWARD_HASH,
                    signature=b"\x01" * 65),
        ExecuteAward(order_id=7, case_id=CASE, allocation=TERMS),
    ]
    for act in acts:
        assert decode_action(act.KIND, act.to_json()) == act
    # the format rows have always had
    assert ExecuteAward(order_id=7, case_id=CASE, allocation=TERMS).to_json() == {
        "orderId": "7", "caseId": CASE,
        "allocation": {"to_buyer": 600, "to_seller": 400, "compensation": 50}}
    with pytest.raises(ValueError, match="unknown chain action 'pay'"):
        decode_action("pay", {"orderId": "7"})


def test_a_party_act_waits_and_blocks_the_case_until_seen_on_chain(world: World) -> None:
    world.queue(ConfirmDispute(order_id=1, case_id=CASE), ChainActionStatus.AWAITING_PARTY)
    world.queue(AppointArbitrator(order_id=1, case_id=CASE,
                                  arbitrator=world.arbitrator.address))
    report = world.executor.run()
    assert report.done == [] and report.errors == []
    freeze, appoint = world.rows()
    assert freeze.status == ChainActionStatus.AWAITING_PARTY and freeze.error is not None \
        and "raiseDispute" in freeze.error
    assert (appoint.status, appoint.attempts) == (ChainActionStatus.PENDING, 0)
    world.port.party_raises_dispute(1, CASE)
    report = world.executor.run()
    freeze, appoint = world.rows()
    assert (freeze.status, freeze.tx_hash) == (ChainActionStatus.DONE, None)
    assert appoint.status == ChainActionStatus.DONE and appoint.tx_hash is not None \
        and appoint.tx_hash.startswith("0x")


def test_the_objection_window_is_waited_for_without_spending_attempts(world: World) -> None:
    world.port.party_raises_dispute(1, CASE)
    world.queue(AppointArbitrator(order_id=1, case_id=CASE,
                                  arbitrator=world.arbitrator.address))
    world.queue(world.award(world.arbitrator))
    world.queue(ExecuteAward(order_id=1, case_id=CASE, allocation=TERMS))
    for _ in range(7):  # more runs than max_attempts
        world.executor.run()
    execute = world.rows()[-1]
    assert (execute.status, execute.attempts) == (ChainActionStatus.PENDING, 0)
    assert execute.error is not None and "window is open" in execute.error
    world.now += timedelta(seconds=world.port.timeouts.objection)
    assert world.executor.run().done == [execute.id]
    kind, outcome = world.done[-1]
    assert kind == "execute_award" and isinstance(outcome, Sent)
    assert (outcome.event.resolution, outcome.event.allocation, outcome.event.shortfall) == (
        "AwardExecuted", Allocation(600, 400, 50), 0)


def test_a_refused_act_spends_its_attempts_and_fails(world: World) -> None:
    world.port.party_raises_dispute(1, CASE)
    world.queue(AppointArbitrator(order_id=1, case_id=CASE,
                                  arbitrator=world.arbitrator.address))
    world.queue(world.award(world.buyer))  # not the appointed arbitrator's signature
    for _ in range(world.executor.max_attempts):
        world.executor.run()
    submit = world.rows()[-1]
    assert (submit.status, submit.attempts) == (ChainActionStatus.FAILED, 5)
    assert submit.error is not None
    assert submit.error.startswith("WrongSigner: order 1: the signature is not "
                                   f"{world.arbitrator.address}'s")
    assert world.port.read_order(1).status == "ArbitratorAppointed"
