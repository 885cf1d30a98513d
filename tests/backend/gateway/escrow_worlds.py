"""One escrow per implementation of the port, driven the same way by the behaviour suite.

``EscrowWorld`` gives the suite the port (the institution's side) and what the parties'
wallets and time do around it: open and pay an order with a guarantee, raise the dispute,
object, sign settlements and awards, move time. ``fake`` is the in-memory model
(``FakeEscrowPort``), ``evm`` the real contract on the in-process EVM (eth-tester/py-evm),
``anvil`` the real contract on anvil; the last two share ``Web3EscrowPort``.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import UTC, datetime, timedelta
from typing import Any, Protocol

from eth_account.signers.local import LocalAccount
from web3 import Web3

from backend.chain import (
    ETH,
    Allocation,
    Timeouts,
    Transactor,
    award_typed_data,
    deploy_escrow,
    settlement_typed_data,
    sign_typed_data,
)
from backend.chain import Domain as TypedDomain
from backend.chain.devchain import advance_time, chain_time, dev_accounts, fund
from backend.gateway.escrow import Web3EscrowPort, _refusals
from backend.services.chain import FakeEscrowPort, OrderInfo
from backend.services.escrow import EscrowPort, Sent

DAY = 86_400
ETHER = 10**18
TIMEOUTS = Timeouts(appointment=3 * DAY, award=5 * DAY, objection=2 * DAY,
                    panel_appointment=4 * DAY, panel_award=6 * DAY)
NAMES = ("institution", "buyer", "seller", "arbitrator", "panel1", "panel2", "panel3",
         "stranger")
CHAIN_ID = 31337
FAKE_ESCROW = "0x" + "e5" * 20


@dataclass(frozen=True)
class People:
    institution: LocalAccount
    buyer: LocalAccount
    seller: LocalAccount
    arbitrator: LocalAccount
    panel1: LocalAccount
    panel2: LocalAccount
    panel3: LocalAccount
    stranger: LocalAccount


def people() -> People:
    return People(*dev_accounts(len(NAMES), seed="escrow-port"))


class EscrowWorld(Protocol):
    port: EscrowPort
    who: People

    def open_order(self, amount: int, guarantee: int) -> int: ...

    def raise_dispute(self, order_id: int, case_id: str) -> None: ...

    def object(self, order_id: int) -> None: ...

    def ship_return(self, order_id: int, tracking: str, sender: LocalAccount) -> None:
        """The buyer's wallet records the return shipment (recordReturnShipment)."""
        ...

    def dispute_return(self, order_id: int, sender: LocalAccount) -> None:
        """The seller's wallet disputes the return's receipt (disputeReturnReceipt)."""
        ...

    def advance(self, seconds: int) -> None: ...

    def now(self) -> int:
        """Time as the escrow sees it: the next act happens at ``now()`` or later."""
        ...

    def mined_at(self, sent: Sent[Any]) -> int: ...

    def port_as(self, sender: LocalAccount) -> EscrowPort:
        """The same escrow, acts sent by ``sender`` instead of the institution."""
        ...


def _typed(world: EscrowWorld) -> TypedDomain:
    d = world.port.domain()
    return TypedDomain(chain_id=d.chain_id, verifying_contract=d.verifying_contract)


def sign_settlement(world: EscrowWorld, signer: LocalAccount, order_id: int, case_id: str,
                    allocation: Allocation) -> bytes:
    typed = settlement_typed_data(_typed(world), order_id, bytes.fromhex(case_id[2:]),
                                  allocation)
    return sign_typed_data(signer, typed)


def sign_award(world: EscrowWorld, signer: LocalAccount, order_id: int, case_id: str,
               allocation: Allocation, award_hash: str, round_: int) -> bytes:
    typed = award_typed_data(_typed(world), order_id, bytes.fromhex(case_id[2:]), allocation,
                             bytes.fromhex(award_hash[2:]), round_)
    return sign_typed_data(signer, typed)


# --- the in-memory model ---------------------------------------------------------------


@dataclass
class FakeWorld:
    who: People = field(default_factory=people)
    time: datetime = field(default_factory=lambda: datetime.now(UTC).replace(microsecond=0))

    def __post_init__(self) -> None:
        self.fake = FakeEscrowPort(chain_id=CHAIN_ID, escrow=FAKE_ESCROW,
                                   institution=self.who.institution.address,
                                   clock=lambda: self.time, timeouts=TIMEOUTS)
        self.port: EscrowPort = self.fake
        self._next = 0

    def open_order(self, amount: int, guarantee: int) -> int:
        self._next += 1
        self.fake.add_order(OrderInfo(
            order_id=self._next, buyer=self.who.buyer.address, seller=self.who.seller.address,
            amount=amount, token=ETH, institution=self.who.institution.address, status="Paid",
            case_id="0x" + "00" * 32, guarantee=guarantee,
            delivery_deadline=self.now() + 30 * DAY))
        return self._next

    def raise_dispute(self, order_id: int, case_id: str) -> None:
        self.fake.party_raises_dispute(order_id, case_id)

    def object(self, order_id: int) -> None:
        self.fake.party_objects(order_id)

    def ship_return(self, order_id: int, tracking: str, sender: LocalAccount) -> None:
        self.fake.party_ships_return(order_id, tracking, sender.address)

    def dispute_return(self, order_id: int, sender: LocalAccount) -> None:
        self.fake.party_disputes_return(order_id, sender.address)

    def advance(self, seconds: int) -> None:
        self.time += timedelta(seconds=seconds)

    def now(self) -> int:
        return int(self.time.timestamp())

    def mined_at(self, sent: Sent[Any]) -> int:
        return self.now()  # the model's acts take no time

    def port_as(self, sender: LocalAccount) -> EscrowPort:
        return replace(self.fake, institution=sender.address)  # shares the orders


# --- the real contract -------------------------------------------------------------------


class ChainWorld:
    """ArbitrationEscrow deployed on ``w3`` (in-process EVM or anvil)."""

    def __init__(self, w3: Web3) -> None:
        self.w3 = w3
        self.who = people()
        fund(w3, [a.address for a in vars(self.who).values()], 100 * ETHER)
        tx = Transactor(w3)
        self.escrow = deploy_escrow(tx, self.who.institution, timeouts=TIMEOUTS,
                                    institutions=[self.who.institution.address])
        self.port: EscrowPort = Web3EscrowPort(self.escrow, self.who.institution)

    def open_order(self, amount: int, guarantee: int) -> int:
        order_id, _ = self.escrow.open_order(
            self.who.buyer, seller=self.who.seller.address, amount=amount,
            delivery_deadline=chain_time(self.w3) + 30 * DAY,
            institution=self.who.institution.address)
        if guarantee:
            self.escrow.deposit_guarantee(self.who.seller, ETH, guarantee)
        return order_id

    def raise_dispute(self, order_id: int, case_id: str) -> None:
        self.escrow.raise_dispute(self.who.buyer, order_id, bytes.fromhex(case_id[2:]))

    def object(self, order_id: int) -> None:
        self.escrow.object_to_award(self.who.seller, order_id)

    def ship_return(self, order_id: int, tracking: str, sender: LocalAccount) -> None:
        with _refusals(order_id):
            self.escrow.record_return_shipment(sender, order_id, bytes.fromhex(tracking[2:]))

    def dispute_return(self, order_id: int, sender: LocalAccount) -> None:
        with _refusals(order_id):
            self.escrow.dispute_return_receipt(sender, order_id)

    def advance(self, seconds: int) -> None:
        advance_time(self.w3, seconds)

    def now(self) -> int:
        return chain_time(self.w3)

    def mined_at(self, sent: Sent[Any]) -> int:
        return int(self.w3.eth.get_block(sent.block_number)["timestamp"])

    def port_as(self, sender: LocalAccount) -> EscrowPort:
        return Web3EscrowPort(self.escrow, sender)
