"""Shared pieces of the contract tests: the deployment, its actors, ways to reach each status."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from eth_account.signers.local import LocalAccount
from web3 import Web3

from backend.chain import (
    ETH,
    Allocation,
    AnchorContract,
    EscrowContract,
    Event,
    Timeouts,
    TokenContract,
    Transactor,
    TxResult,
    deploy_anchor,
    deploy_contract,
    deploy_escrow,
    deploy_token,
)
from backend.chain.devchain import (
    advance_time,
    chain_time,
    dev_accounts,
    fund,
    set_next_timestamp,
)

DAY = 86_400
USDC = 10**6  # one unit of the 6-decimal stablecoin
ETHER = 10**18
TIMEOUTS = Timeouts(
    max_delivery_period=30 * DAY,
    release_grace=2 * DAY,
    appointment=3 * DAY,
    award=5 * DAY,
    objection=4 * DAY,
    panel_appointment=3 * DAY,
    panel_award=6 * DAY,
    return_shipment=5 * DAY,
    return_receipt=4 * DAY,
)
CASE = b"\xca" * 32
OTHER_CASE = b"\xcb" * 32
AWARD_HASH = bytes.fromhex("aa" * 32)
TRACKING = bytes.fromhex("7e" * 32)  # a return shipment's tracking commitment
MINT = 1_000_000 * USDC


@dataclass
class Env:
    """A deployment and its actors on one chain."""

    name: str
    w3: Web3
    tx: Transactor
    escrow: EscrowContract
    anchor: AnchorContract
    usdc: TokenContract
    fee_token: TokenContract
    false_token: TokenContract
    admin: LocalAccount
    buyer: LocalAccount
    seller: LocalAccount
    institution: LocalAccount
    arbitrator: LocalAccount
    panel: tuple[LocalAccount, LocalAccount, LocalAccount]
    other: LocalAccount
    other_institution: LocalAccount
    extra: dict[str, Any] = field(default_factory=dict)

    # --- time ---------------------------------------------------------------------------

    def now(self) -> int:
        return chain_time(self.w3)

    def at(self, timestamp: int) -> None:
        """The next transaction runs at exactly `timestamp`."""
        set_next_timestamp(self.w3, timestamp)

    def wait(self, seconds: int) -> None:
        advance_time(self.w3, seconds)

    # --- reaching each status -----------------------------------------------------------

    def open(
        self, token: str = "usdc", amount: int = 250 * USDC, deadline_in: int = 10 * DAY
    ) -> int:
        address = self.token_address(token)
        order_id, _ = self.escrow.open_order(
            self.buyer,
            seller=self.seller.address,
            amount=amount,
            delivery_deadline=self.now() + deadline_in,
            institution=self.institution.address,
            token=address,
            rules_hash=b"\x01" * 32,
        )
        return order_id

    def token_address(self, token: str) -> str:
        return {"usdc": self.usdc.address, "eth": ETH}.get(token, token)

    def disputed(self, token: str = "usdc", amount: int = 250 * USDC, by: str = "buyer") -> int:
        order_id = self.open(token, amount)
        self.escrow.raise_dispute(getattr(self, by), order_id, CASE)
        return order_id

    def appointed(self, token: str = "usdc", amount: int = 250 * USDC) -> int:
        order_id = self.disputed(token, amount)
        self.escrow.appoint_arbitrator(self.institution, order_id, self.arbitrator.address)
        return order_id

    def award_submitted(
        self, allocation: Allocation, token: str = "usdc", amount: int = 250 * USDC
    ) -> int:
        order_id = self.appointed(token, amount)
        sig = self.escrow.sign_award(self.arbitrator, order_id, allocation, AWARD_HASH)
        self.escrow.submit_award(self.other, order_id, allocation, AWARD_HASH, sig)
        return order_id

    def objected(self, token: str = "usdc", amount: int = 250 * USDC) -> int:
        order_id = self.award_submitted(Allocation(amount, 0, 0), token, amount)
        self.escrow.object_to_award(self.seller, order_id)
        return order_id

    def panel_appointed(self, token: str = "usdc", amount: int = 250 * USDC) -> int:
        order_id = self.objected(token, amount)
        self.escrow.appoint_panel(self.institution, order_id, [p.address for p in self.panel])
        return order_id

    def return_award_submitted(
        self,
        refund: Allocation,
        no_return: Allocation,
        token: str = "usdc",
        amount: int = 250 * USDC,
    ) -> int:
        """An order whose sole arbitrator's return-and-refund award is in its objection window."""
        order_id = self.appointed(token, amount)
        sig = self.escrow.sign_return_award(
            self.arbitrator, order_id, refund, no_return, AWARD_HASH
        )
        self.escrow.submit_return_award(self.other, order_id, refund, no_return, AWARD_HASH, sig)
        return order_id

    def return_pending(self, token: str = "usdc", amount: int = 250 * USDC) -> int:
        """An order in the return stage: full refund on return, the seller paid if not."""
        order_id = self.return_award_submitted(
            Allocation(amount, 0, 0), Allocation(0, amount, 0), token, amount
        )
        self.wait(TIMEOUTS.objection)
        self.escrow.execute_award(self.other, order_id)
        return order_id

    def return_shipped(self, token: str = "usdc", amount: int = 250 * USDC) -> int:
        order_id = self.return_pending(token, amount)
        self.escrow.record_return_shipment(self.buyer, order_id, TRACKING)
        return order_id

    def reach(self, status: str, token: str = "usdc", amount: int = 250 * USDC) -> int:
        """An order in `status` (by the Status member name)."""
        if status == "PAID":
            return self.open(token, amount)
        if status == "DISPUTED":
            return self.disputed(token, amount)
        if status == "ARBITRATOR_APPOINTED":
            return self.appointed(token, amount)
        if status == "AWARD_SUBMITTED":
            return self.award_submitted(
                Allocation(amount // 2, amount - amount // 2, 0), token, amount
            )
        if status == "OBJECTED":
            return self.objected(token, amount)
        if status == "PANEL_APPOINTED":
            return self.panel_appointed(token, amount)
        if status == "RETURN_PENDING":
            return self.return_pending(token, amount)
        if status == "RETURN_SHIPPED":
            return self.return_shipped(token, amount)
        raise ValueError(status)

    # --- reading ------------------------------------------------------------------------

    def balance(self, token: str, account: str) -> int:
        address = self.token_address(token)
        if int(address, 16) == 0:
            return int(self.w3.eth.get_balance(account))  # type: ignore[arg-type]
        return TokenContract(self.tx, address).balance_of(account)

    def ev(self, name: str, address: str | None = None, **args: Any) -> Event:
        """An expected event (escrow's by default)."""
        return Event(name, address or self.escrow.address, args)

    def escrow_events(self, result: TxResult) -> list[Event]:
        return [e for e in result.events if e.address == self.escrow.address]


def deploy_env(name: str, w3: Web3) -> Env:
    accounts = dev_accounts(11, seed="chainarb-tests")
    fund(w3, [a.address for a in accounts], 10_000 * ETHER)
    admin, buyer, seller, institution, arbitrator, p1, p2, p3, other, other_inst, _ = accounts
    tx = Transactor(w3)
    escrow = deploy_escrow(
        tx, admin, timeouts=TIMEOUTS, institutions=[institution.address, other_inst.address]
    )
    anchor = deploy_anchor(tx, admin)
    usdc = deploy_token(tx, admin, "TestStablecoin")
    fee_token = deploy_token(tx, admin, "FeeOnTransferToken")
    false_token = deploy_token(tx, admin, "FalseReturningToken")
    for token in (usdc, fee_token, false_token):
        for party in (buyer, seller):
            token.mint(admin, party.address, MINT)
            token.approve(party, escrow.address, 2**256 - 1)
    env = Env(
        name=name,
        w3=w3,
        tx=tx,
        escrow=escrow,
        anchor=anchor,
        usdc=usdc,
        fee_token=fee_token,
        false_token=false_token,
        admin=admin,
        buyer=buyer,
        seller=seller,
        institution=institution,
        arbitrator=arbitrator,
        panel=(p1, p2, p3),
        other=other,
        other_institution=other_inst,
    )
    env.extra["attacker"] = deploy_contract(tx, admin, "ReentrancyAttacker", escrow.address)
    return env
