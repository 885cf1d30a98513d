"""Random sequences of escrow actions keep the books exact (Hypothesis stateful test).

A plain-Python model of ArbitrationEscrow (orders, guarantee deposits, credited balances and
every account's holdings of ETH and two tokens) runs beside the real contract on the
in-process chain. Each rule takes an action with random arguments, many of them wrong on
purpose (wrong caller, wrong state, too early or too late, allocation that does not sum,
compensation above the cap or the guarantee, a signature by the wrong key or over another
order, case, round or award), and the model says whether the contract must accept it or which
custom error it must revert with, and what moves where.

Invariant after every step: what the escrow holds of each token equals what it owes, i.e.
escrowed orders + guarantee deposits + credited withdrawable balances (nothing created,
nothing lost). At the end of every example: every account's balance of every token, every
order (with the contract of sale it binds, if any), guarantee and credit on chain equals the
model. Orders open with ``openOrder`` or, bound to a contract-of-sale hash,
``openOrderWithContract`` (a zero or already bound hash is refused).

Jury verdicts (docs/jury.md): the institution appoints a jury of three (its hash), anyone
submits the verdict with each juror's signed vote and the institution's Decision signature
(flaws: a juror outside the draw, a forged vote, a minority-only tally, a wrong winner, a
signature by another key); a verdict waits for the objection window like an award, an
objection sends the order back to Disputed and spends the order's one objection.

Tokens: ETH, a 6-decimal stablecoin, and a token that returns false while switched to
"failing", which makes payouts be credited (PayoutDeferred) and withdrawn later.

Speed: one chain per module; each example starts from a snapshot taken after deployment.
Transactions are sent straight to eth-tester (no web3 middleware); a refused action is first
run as eth_call on the pending block to read its custom error, then sent to prove that it
reverts on chain too (its gas is charged in the model).
"""

from __future__ import annotations

import ast
import os
from collections.abc import Iterator
from dataclasses import dataclass
from enum import IntEnum
from typing import Any, ClassVar

import pytest
from eth_account import Account
from eth_account.messages import encode_typed_data
from eth_tester import EthereumTester, PyEVMBackend
from eth_tester.exceptions import TransactionFailed
from eth_utils import keccak, to_checksum_address
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, invariant, rule
from web3 import EthereumTesterProvider, Web3

from backend.chain.artifacts import load_artifact
from backend.chain.typed_data import decision_typed_data, jury_vote_typed_data
from evidence.jury import jury_hash, jury_order, vote_commitment, votes_hash
from evidence.orders import Allocation
from evidence.records import RECORD_TYPES, Domain, TypedData

DAY = 86_400
# Long windows next to the objection window, so that an objected order usually survives the
# time jumps other orders' steps make (every window still expires within the random walks).
TIMEOUTS = {
    "maxDeliveryPeriod": 30 * DAY,
    "releaseGrace": 3 * DAY,
    "appointment": 7 * DAY,
    "award": 10 * DAY,
    "objection": 4 * DAY,
    "panelAppointment": 10 * DAY,
    "panelAward": 10 * DAY,
    "returnShipment": 6 * DAY,
    "returnReceipt": 5 * DAY,
}
ETH = "0x0000000000000000000000000000000000000000"
ZERO_ADDR = ETH
ZERO32 = b"\x00" * 32
GAS = 1_500_000
MINT = 10**24  # of each token to each party


class St(IntEnum):
    NONE = 0
    PAID = 1
    DISPUTED = 2
    APPOINTED = 3
    AWARD_SUBMITTED = 4
    OBJECTED = 5
    PANEL = 6
    RESOLVED = 7
    JURY = 8
    DECISION = 9
    RETURN_PENDING = 10
    RETURN_SHIPPED = 11


RETURN = (St.RETURN_PENDING, St.RETURN_SHIPPED)
FROZEN = (St.DISPUTED, St.APPOINTED, St.AWARD_SUBMITTED, St.OBJECTED, St.PANEL, St.JURY,
          St.DECISION, *RETURN)
BEFORE_RETURN = tuple(s for s in FROZEN if s not in RETURN)  # a return settlement's statuses
TIMEOUT_STATES = (St.DISPUTED, St.APPOINTED, St.OBJECTED, St.PANEL, St.JURY, *RETURN)
LIVE = (St.PAID, *FROZEN)
# Jurors sign only (they send no transaction): keys of their own, four of them, juries of three.
JUROR_KEYS = [keccak(b"stateful juror %d" % i) for i in range(4)]
JUROR_ADDRS = [Account.from_key(k).address for k in JUROR_KEYS]
OUTSIDER_KEY = keccak(b"stateful outsider")

def _revert_data(exc: TransactionFailed) -> bytes:
    """eth-tester hands the revert data over as the repr of a bytes object."""
    raw = exc.args[0] if exc.args else b""
    if isinstance(raw, bytes):
        return raw
    if isinstance(raw, str) and raw.startswith(("b'", 'b"')):
        value = ast.literal_eval(raw)
        assert isinstance(value, bytes)
        return value
    return str(raw).encode()


class Chain:
    """Deployed escrow and tokens on one eth-tester chain, driven without web3 middleware."""

    def __init__(self) -> None:
        self.tester = EthereumTester(PyEVMBackend())
        self.w3 = Web3(EthereumTesterProvider(self.tester))
        self.accounts: list[str] = [to_checksum_address(a) for a in self.tester.get_accounts()]
        self.keys: dict[str, bytes] = {
            a: bytes(k.to_bytes() if hasattr(k, "to_bytes") else k)
            for a, k in zip(self.accounts, self.tester.backend.account_keys, strict=True)
        }
        self.chain_id = self.w3.eth.chain_id
        self.admin, self.institution = self.accounts[0], self.accounts[1]
        self.buyers = self.accounts[2:4]
        self.sellers = self.accounts[4:6]
        self.neutrals = self.accounts[6:10]
        self.parties = self.buyers + self.sellers

        self.escrow = self._deploy("ArbitrationEscrow", self.admin, tuple(TIMEOUTS.values()))
        self.usd = self._deploy("TestStablecoin")
        self.flaky = self._deploy("FalseReturningToken")
        self.tokens = (ETH, self.usd.address, self.flaky.address)
        self.errors = self._error_names()

        role = self.escrow.functions.INSTITUTION_ROLE().call()
        self.must(self.admin, self.escrow, "grantRole", [role, self.institution])
        for token in (self.usd, self.flaky):
            for party in self.parties:
                self.must(self.admin, token, "mint", [party, MINT])
                self.must(party, token, "approve", [self.escrow.address, 2**256 - 1])
        # Jump far past wall-clock time: from here on every block is its parent + 1 s, so the
        # pending block's timestamp is known exactly when the model judges a deadline.
        latest = self.tester.get_block_by_number("latest")["timestamp"]
        self.tester.time_travel(latest + 365 * DAY)
        self.snapshot = self.tester.take_snapshot()
        self.initial = {(a, t): self.balance(a, t) for a in self.accounts for t in self.tokens}

    def _deploy(self, name: str, *args: Any) -> Any:
        art = load_artifact(name)
        factory = self.w3.eth.contract(abi=list(art.abi), bytecode=art.bytecode)
        tx_hash = factory.constructor(*args).transact({"from": self.admin, "gas": 8_000_000})
        receipt = self.w3.eth.get_transaction_receipt(tx_hash)
        assert receipt["status"] == 1, f"deploying {name} failed"
        return self.w3.eth.contract(address=receipt["contractAddress"], abi=list(art.abi))

    def _error_names(self) -> dict[bytes, str]:
        names = {}
        for contract in (self.escrow, self.usd, self.flaky):
            for entry in contract.abi:
                if entry["type"] == "error":
                    sig = f"{entry['name']}({','.join(i['type'] for i in entry['inputs'])})"
                    names[keccak(text=sig)[:4]] = entry["name"]
        return names

    def reset(self) -> None:
        self.tester.revert_to_snapshot(self.snapshot)

    def now(self) -> int:
        """Timestamp of the block the next transaction lands in."""
        return int(self.tester.get_block_by_number("pending")["timestamp"])

    def travel(self, seconds: int) -> None:
        self.tester.time_travel(self.now() + seconds)

    def tx(self, sender: str, contract: Any, fn: str, args: list[Any], value: int = 0) -> dict:
        return {
            "from": sender,
            "to": contract.address,
            "gas": GAS,
            "value": value,
            "data": contract.encode_abi(fn, args=args),
        }

    def send(self, tx: dict) -> tuple[bool, int]:
        """Mine `tx`; (succeeded, fee paid in wei)."""
        receipt = self.tester.get_transaction_receipt(self.tester.send_transaction(tx))
        return receipt["status"] == 1, receipt["gas_used"] * receipt["effective_gas_price"]

    def must(self, sender: str, contract: Any, fn: str, args: list[Any], value: int = 0) -> int:
        ok, fee = self.send(self.tx(sender, contract, fn, args, value))
        assert ok, f"{fn}{tuple(args)} from {sender} reverted"
        return fee

    def error_of(self, tx: dict) -> str | None:
        """Name of the custom error `tx` reverts with on the pending block, None if it succeeds."""
        try:
            self.tester.call(tx, "pending")
        except TransactionFailed as exc:
            data = _revert_data(exc)
            return self.errors.get(data[:4], f"unknown revert 0x{data.hex()}")
        return None

    def balance(self, account: str, token: str) -> int:
        if token == ETH:
            return int(self.tester.get_balance(account))
        contract = self.usd if token == self.usd.address else self.flaky
        tx = {"from": self.admin, "to": contract.address, "gas": 100_000,
              "data": contract.encode_abi("balanceOf", args=[account])}
        out = self.tester.call(tx, "latest")
        return int(out, 16) if isinstance(out, str) else int.from_bytes(out, "big")

    def sign_digest_typed(self, signer: str, typed: TypedData) -> bytes:
        """Sign a full typed-data payload with a chain account's key."""
        signable = encode_typed_data(full_message=dict(typed))
        return bytes(Account.sign_message(signable, self.keys[signer]).signature)

    def sign(self, signer: str, primary: str, message: dict[str, Any]) -> bytes:
        fields = [{"name": n, "type": t} for n, t in RECORD_TYPES[primary].FIELDS]
        domain = Domain(chain_id=self.chain_id, verifying_contract=self.escrow.address)
        data = {
            "types": {"EIP712Domain": Domain.TYPE, primary: fields},
            "primaryType": primary,
            "domain": domain.as_dict(),
            "message": message,
        }
        signed = Account.sign_message(encode_typed_data(full_message=data), self.keys[signer])
        return bytes(signed.signature)


@dataclass
class Order:
    """The model's copy of one order."""

    id: int
    buyer: str
    seller: str
    token: str
    amount: int
    delivery: int
    status: St = St.PAID
    deadline: int = 0
    case: bytes = ZERO32
    arbitrator: str = ZERO_ADDR
    panel: tuple[str, str, str] | None = None
    pending: tuple[int, int, int] | None = None  # a round-0 award's (or a return's refund)
    no_return: tuple[int, int, int] | None = None  # a return award's fallback
    contract: bytes = ZERO32  # the contract of sale it binds (openOrderWithContract)
    jury: tuple[str, ...] = ()  # the appointed jury (ascending), once appointed
    options: tuple[tuple[int, int, int], ...] = ()
    spent: bool = False  # a party objected to a decision: later awards have no window
    advanced: int = 0  # advance refunds paid from the seller's guarantee (advanceRefund)


def _nonexistent(order_id: int) -> Order:
    return Order(order_id, ZERO_ADDR, ZERO_ADDR, ETH, 0, 0, status=St.NONE)


picks = st.integers(min_value=0, max_value=2**16)
fractions = st.integers(min_value=0, max_value=1000)
# Most actions are meant to be right (so that random walks get deep into disputes, awards
# and objections); the rest carry exactly one flaw, chosen from the rule's own list.
OK: list[str | None] = [None] * 10


def flaws(*names: str) -> st.SearchStrategy[str | None]:
    return st.sampled_from([*OK, *names])


# "right": the account entitled to act; otherwise any account (often a wrong one).
callers = st.sampled_from(["right"] * 10 + list(range(10)))
fit = st.sampled_from([True] * 4 + [False])  # prefer an order in the rule's status
tokens = st.sampled_from([0, 0, 1, 1, 2])
allocation_flaws = ("sum_over", "sum_under")


class EscrowMachine(RuleBasedStateMachine):
    """Model-checked random walks through the escrow's state machine."""

    chain: ClassVar[Chain]

    def __init__(self) -> None:
        super().__init__()
        self.c = self.chain
        self.c.reset()
        self.orders: list[Order] = []
        self.guarantees: dict[tuple[str, str], list[int]] = {}  # -> [balance, locked]
        self.owed: dict[tuple[str, str], int] = {}
        self.held = dict(self.c.initial)
        self.failing = False
        self.cases = 0
        self.steps = 0
        self.touched: set[str] = set(self.c.tokens)  # tokens the invariant checks next
        self.return_settlements: set[tuple[Any, ...]] = set()  # the terms that started a return

    # -- model helpers -----------------------------------------------------------------------

    def _pick(self, pick: int, fit: bool = False, statuses: tuple[St, ...] = ()) -> Order:
        """An order: one in `statuses` when `fit` and there is one, else any or a missing id."""
        fitting = [o for o in self.orders if o.status in statuses] if fit else []
        if fitting:
            return fitting[pick % len(fitting)]
        index = pick % (len(self.orders) + 1)
        return self.orders[index] if index < len(self.orders) else _nonexistent(index + 1)

    def _caller(self, caller: int | str, right: str) -> str:
        if caller == "right":
            # For a missing order nobody is right; a buyer account stands in.
            return right if right != ZERO_ADDR else self.c.buyers[0]
        return self.c.accounts[int(caller)]

    def _guarantee(self, seller: str, token: str) -> list[int]:
        return self.guarantees.setdefault((seller, token), [0, 0])

    def _act(self, sender: str, contract: Any, fn: str, args: list[Any], error: str | None,
             value: int = 0, token: str | None = None) -> None:
        """Send the action; it must succeed iff `error` is None, else revert with `error`.

        `token`: the token whose books the action may change (checked by the invariant).
        """
        if token is not None and error is None:
            self.touched.add(token)
        tx = self.c.tx(sender, contract, fn, args, value)
        event(f"{fn}: {'ok' if error is None else error}")
        self.steps += 1
        if error is not None:
            assert self.c.error_of(tx) == error, f"{fn}{tuple(args)}: expected {error}"
        ok, fee = self.c.send(tx)
        assert ok == (error is None), f"{fn}{tuple(args)} from {sender}: expected {error}"
        self.held[(sender, ETH)] -= fee

    def _pay(self, token: str, to: str, amount: int) -> None:
        if amount == 0:
            return
        if token == self.c.flaky.address and self.failing:
            event("payout deferred")
            self.owed[(to, token)] = self.owed.get((to, token), 0) + amount
        else:
            self.held[(to, token)] += amount

    def _finish(self, order: Order, to_buyer: int, to_seller: int, compensation: int) -> None:
        # The escrowed amount repays the advances to the guarantee: buyer's share first.
        from_buyer = min(order.advanced, to_buyer)
        to_buyer, to_seller = to_buyer - from_buyer, to_seller - (order.advanced - from_buyer)
        self._guarantee(order.seller, order.token)[0] += order.advanced
        if order.status in FROZEN:
            guarantee = self._guarantee(order.seller, order.token)
            guarantee[1] -= order.amount
            guarantee[0] -= compensation
        order.status, order.deadline, order.pending = St.RESOLVED, 0, None
        order.no_return = None
        self._pay(order.token, order.buyer, to_buyer + compensation)
        self._pay(order.token, order.seller, to_seller)

    def _capped_finish(self, order: Order, allocation: tuple[int, int, int]) -> None:
        to_buyer, to_seller, awarded = allocation
        available = self._guarantee(order.seller, order.token)[0] + order.advanced
        self._finish(order, to_buyer, to_seller, min(awarded, available))

    @staticmethod
    def _allocation(order: Order, split: int, comp_frac: int, comp_cap: int,
                    flaw: str | None) -> tuple[int, int, int]:
        """toBuyer + toSeller = amount unless a sum flaw; compensation <= cap unless comp_over."""
        to_buyer = order.amount * split // 1000
        to_seller = order.amount - to_buyer
        if flaw == "sum_over":
            to_seller += 1
        elif flaw == "sum_under" and to_seller > 0:
            to_seller -= 1
        elif flaw == "sum_under" and to_buyer > 0:
            to_buyer -= 1
        compensation = comp_cap + 1 if flaw == "comp_over" else comp_cap * comp_frac // 1000
        return to_buyer, to_seller, compensation

    def _amount_for(self, token: str, frac: int) -> int:
        unit = {ETH: 10**15, self.c.usd.address: 10**4, self.c.flaky.address: 10**15}[token]
        return unit * frac

    def _token_error(self, token: str) -> str | None:
        """Error of pulling `token` from a caller into the escrow, if it fails."""
        if token == self.c.flaky.address and self.failing:
            return "SafeERC20FailedOperation"
        return None

    # -- rules: orders -------------------------------------------------------------------------

    @rule(buyer=st.sampled_from([2, 3]), seller=st.sampled_from([4, 5]), token=tokens,
          frac=st.integers(min_value=1, max_value=1000),
          offset=st.sampled_from([1, DAY, 3 * DAY, 10 * DAY, 30 * DAY]),
          flaw=flaws("self_seller", "zero_seller", "eoa_token", "zero_amount", "past",
                     "too_far", "institution", "value", "zero_contract", "bound_contract"),
          contract=st.sampled_from([None, None, 0, 1, 2, 3]))
    def open_order(self, buyer: int, seller: int, token: int, frac: int, offset: int,
                   flaw: str | None, contract: int | None = None) -> None:
        """``contract``: None opens with ``openOrder``; a number opens with
        ``openOrderWithContract`` under contract hash ``keccak(number, opened so far)`` (fresh),
        or a zero or already bound hash (the flaws)."""
        c = self.c
        buyer_addr, seller_addr, token_addr = c.accounts[buyer], c.accounts[seller], c.tokens[token]
        amount = self._amount_for(token_addr, frac)
        institution = c.institution
        now = c.now()
        delivery = now + offset
        error: str | None = None
        if flaw in ("self_seller", "zero_seller"):
            seller_addr = buyer_addr if flaw == "self_seller" else ZERO_ADDR
            error = "ArbitrationEscrowInvalidSeller"
        elif flaw == "eoa_token":
            token_addr, amount = c.neutrals[1], frac
            error = "ArbitrationEscrowInvalidToken"
        elif flaw == "zero_amount":
            amount, error = 0, "ArbitrationEscrowZeroAmount"
        elif flaw in ("past", "too_far"):
            delivery = now if flaw == "past" else now + TIMEOUTS["maxDeliveryPeriod"] + 1
            error = "ArbitrationEscrowInvalidDeliveryDeadline"
        elif flaw == "institution":
            institution, error = c.neutrals[0], "ArbitrationEscrowUnknownInstitution"
        elif flaw == "value":
            error = "ArbitrationEscrowWrongValue"
        else:
            error = self._token_error(token_addr)
        bound = [o.contract for o in self.orders if o.contract != ZERO32]
        contract_hash = ZERO32
        if flaw in ("zero_contract", "bound_contract") or contract is not None:
            contract_hash = keccak(f"contract {contract} {len(self.orders)}".encode())
            if flaw == "zero_contract":
                contract_hash, error = ZERO32, "ArbitrationEscrowInvalidContractHash"
            elif flaw == "bound_contract" and bound:
                contract_hash, error = bound[0], "ArbitrationEscrowContractAlreadyBound"
        value = (amount if token_addr == ETH else 0) + (1 if flaw == "value" else 0)
        args = [seller_addr, token_addr, amount, delivery, institution, keccak(b"rules")]
        fn = "openOrder"
        if contract_hash != ZERO32 or flaw == "zero_contract":
            fn = "openOrderWithContract"
            args.append(contract_hash)
        self._act(buyer_addr, c.escrow, fn, args, error, value, token_addr)
        if error is None:
            self.orders.append(
                Order(len(self.orders) + 1, buyer_addr, seller_addr, token_addr, amount, delivery,
                      contract=contract_hash)
            )
            self.held[(buyer_addr, token_addr)] -= amount

    @rule(pick=picks, fit=fit, caller=callers)
    def confirm_delivery(self, pick: int, fit: bool, caller: int | str) -> None:
        order = self._pick(pick, fit, (St.PAID,))
        sender = self._caller(caller, order.buyer)
        error = None
        if order.status != St.PAID:
            error = "ArbitrationEscrowInvalidStatus"
        elif sender != order.buyer:
            error = "ArbitrationEscrowUnauthorizedCaller"
        self._act(sender, self.c.escrow, "confirmDelivery", [order.id], error, 0, order.token)
        if error is None:
            self._finish(order, 0, order.amount, 0)

    @rule(pick=picks, fit=fit, caller=st.integers(min_value=0, max_value=9))
    def release_after_deadline(self, pick: int, fit: bool, caller: int) -> None:
        order = self._pick(pick, fit, (St.PAID,))
        sender = self.c.accounts[caller]
        error = None
        if order.status != St.PAID:
            error = "ArbitrationEscrowInvalidStatus"
        elif self.c.now() < order.delivery + TIMEOUTS["releaseGrace"]:
            error = "ArbitrationEscrowTooEarly"
        self._act(sender, self.c.escrow, "releaseAfterDeadline", [order.id], error, 0, order.token)
        if error is None:
            self._finish(order, 0, order.amount, 0)

    @rule(pick=picks, fit=fit, caller=callers)
    def refund_by_seller(self, pick: int, fit: bool, caller: int | str) -> None:
        order = self._pick(pick, fit, (St.PAID, *FROZEN))
        sender = self._caller(caller, order.seller)
        error = None
        if order.status in (St.NONE, St.RESOLVED):
            error = "ArbitrationEscrowInvalidStatus"
        elif sender != order.seller:
            error = "ArbitrationEscrowUnauthorizedCaller"
        self._act(sender, self.c.escrow, "refundBySeller", [order.id], error, 0, order.token)
        if error is None:
            self._finish(order, order.amount, 0, 0)

    # -- rules: dispute, appointment, award, objection -------------------------------------------

    @rule(pick=picks, fit=fit, caller=callers, by_seller=st.booleans(), flaw=flaws("zero_case"))
    def raise_dispute(self, pick: int, fit: bool, caller: int | str, by_seller: bool,
                      flaw: str | None) -> None:
        order = self._pick(pick, fit, (St.PAID,))
        sender = self._caller(caller, order.seller if by_seller else order.buyer)
        self.cases += 1
        case = ZERO32 if flaw == "zero_case" else keccak(b"case-%d" % self.cases)
        now = self.c.now()
        error = None
        if order.status != St.PAID:
            error = "ArbitrationEscrowInvalidStatus"
        elif sender not in (order.buyer, order.seller):
            error = "ArbitrationEscrowUnauthorizedCaller"
        elif now >= order.delivery + TIMEOUTS["releaseGrace"]:
            error = "ArbitrationEscrowTooLate"
        elif flaw == "zero_case":
            error = "ArbitrationEscrowInvalidCaseId"
        self._act(sender, self.c.escrow, "raiseDispute", [order.id, case], error)
        if error is None:
            order.status, order.case = St.DISPUTED, case
            order.deadline = now + TIMEOUTS["appointment"]
            self._guarantee(order.seller, order.token)[1] += order.amount

    @rule(pick=picks, fit=fit, caller=callers, choice=st.integers(min_value=0, max_value=3),
          flaw=flaws("zero", "buyer", "seller"))
    def appoint_arbitrator(self, pick: int, fit: bool, caller: int | str, choice: int,
                           flaw: str | None) -> None:
        c = self.c
        order = self._pick(pick, fit, (St.DISPUTED, St.JURY))
        sender = self._caller(caller, c.institution)
        arbitrator = {"zero": ZERO_ADDR, "buyer": order.buyer, "seller": order.seller}.get(
            flaw or "", c.neutrals[choice]
        )
        now = c.now()
        error = None
        if order.status not in (St.DISPUTED, St.JURY):
            error = "ArbitrationEscrowInvalidStatus"
        elif sender != c.institution:
            error = "ArbitrationEscrowUnauthorizedCaller"
        elif now >= order.deadline:
            error = "ArbitrationEscrowTooLate"
        elif arbitrator in (ZERO_ADDR, order.buyer, order.seller):
            error = "ArbitrationEscrowInvalidNeutral"
        self._act(sender, c.escrow, "appointArbitrator", [order.id, arbitrator], error)
        if error is None:
            order.status, order.arbitrator = St.APPOINTED, arbitrator
            order.deadline = now + TIMEOUTS["award"]

    @staticmethod
    def _award_error(order: Order, status: St, now: int,
                     allocation: tuple[int, int, int]) -> str | None:
        """The checks submitAward and submitPanelAward make, in the contract's order, before
        they look at signatures."""
        if order.status != status:
            return "ArbitrationEscrowInvalidStatus"
        if now >= order.deadline:
            return "ArbitrationEscrowTooLate"
        if allocation[0] + allocation[1] != order.amount:
            return "ArbitrationEscrowAllocationMismatch"
        if allocation[2] > order.amount:
            return "ArbitrationEscrowCompensationAboveCap"
        return None

    def _award_signature(self, order: Order, signer: str, allocation: tuple[int, int, int],
                         award_hash: bytes, round_: int, tamper: str | None) -> bytes:
        message = {
            "orderId": order.id + (1 if tamper == "order" else 0),
            "caseId": keccak(b"other case") if tamper == "case" else order.case,
            "toBuyer": allocation[0],
            "toSeller": allocation[1],
            "compensation": allocation[2],
            "awardHash": keccak(b"other award") if tamper == "hash" else award_hash,
            "round": 1 - round_ if tamper == "round" else round_,
        }
        return self.c.sign(signer, "Award", message)

    @rule(pick=picks, fit=fit, caller=st.integers(min_value=0, max_value=9), split=fractions,
          comp_frac=fractions,
          flaw=flaws(*allocation_flaws, "comp_over", "order", "case", "round", "hash", "key"))
    def submit_award(self, pick: int, fit: bool, caller: int, split: int, comp_frac: int,
                     flaw: str | None) -> None:
        c = self.c
        order = self._pick(pick, fit, (St.APPOINTED,))
        sender = c.accounts[caller]
        allocation = self._allocation(order, split, comp_frac, order.amount, flaw)
        award_hash = keccak(b"award-%d" % order.id)
        appointed = order.arbitrator if order.arbitrator != ZERO_ADDR else c.neutrals[0]
        signer = c.sellers[0] if flaw == "key" else appointed
        signature = self._award_signature(order, signer, allocation, award_hash, 0, flaw)
        now = c.now()
        error = self._award_error(order, St.APPOINTED, now, allocation)
        if error is None and flaw is not None:
            error = "ArbitrationEscrowInvalidSignature"
        args = [order.id, allocation, award_hash, signature]
        self._act(sender, c.escrow, "submitAward", args, error)
        if error is None:
            order.status, order.pending = St.AWARD_SUBMITTED, allocation
            order.deadline = now if order.spent else now + TIMEOUTS["objection"]

    @rule(pick=picks, fit=fit, caller=st.integers(min_value=0, max_value=9), split=fractions,
          comp_frac=fractions, window=st.sampled_from([60, DAY, 3 * DAY, TIMEOUTS["objection"]]),
          flaw=flaws(*allocation_flaws, "comp_over", "key", "zero_window", "long_window",
                     "unsigned_window"))
    def submit_fast_track(self, pick: int, fit: bool, caller: int, split: int, comp_frac: int,
                          window: int, flaw: str | None) -> None:
        """The fast track's proposal: the institution's Decision over (report, window)."""
        from backend.chain import Allocation
        from backend.chain.contracts import DecisionKind, fast_track_decision_hash
        from backend.chain.typed_data import decision_typed_data

        c = self.c
        order = self._pick(pick, fit, (St.DISPUTED,))
        sender = c.accounts[caller]
        allocation = self._allocation(order, split, comp_frac, order.amount, flaw)
        sent_window = {"zero_window": 0, "long_window": TIMEOUTS["objection"] + 1}.get(
            flaw or "", window)
        signed_window = window + 1 if flaw == "unsigned_window" else sent_window
        report = keccak(b"report-%d" % order.id)
        domain = Domain(chain_id=c.chain_id, verifying_contract=c.escrow.address)
        typed = decision_typed_data(domain, order.id,
                                    order.case, int(DecisionKind.FAST_TRACK),
                                    Allocation(*allocation),
                                    fast_track_decision_hash(report, signed_window))
        signer = c.sellers[0] if flaw == "key" else c.institution
        signature = bytes(Account.sign_message(encode_typed_data(full_message=dict(typed)),
                                               c.keys[signer]).signature)
        now = c.now()
        error = None
        if order.status != St.DISPUTED:
            error = "ArbitrationEscrowInvalidStatus"
        elif now >= order.deadline:
            error = "ArbitrationEscrowTooLate"
        elif not 0 < sent_window <= TIMEOUTS["objection"]:
            error = "ArbitrationEscrowInvalidTimeouts"
        elif allocation[0] + allocation[1] != order.amount:
            error = "ArbitrationEscrowAllocationMismatch"
        elif allocation[2] > order.amount:
            error = "ArbitrationEscrowCompensationAboveCap"
        elif flaw in ("key", "unsigned_window"):
            error = "ArbitrationEscrowInvalidSignature"
        args = [order.id, allocation, report, sent_window, signature]
        self._act(sender, c.escrow, "submitFastTrack", args, error)
        if error is None:
            order.status, order.pending = St.DECISION, allocation
            order.deadline = min(now if order.spent else now + TIMEOUTS["objection"],
                                 now + sent_window)

    @rule(pick=picks, fit=fit, caller=callers, by_seller=st.booleans())
    def object_to_award(self, pick: int, fit: bool, caller: int | str, by_seller: bool) -> None:
        order = self._pick(pick, fit, (St.AWARD_SUBMITTED, St.DECISION))
        sender = self._caller(caller, order.seller if by_seller else order.buyer)
        now = self.c.now()
        error = None
        if order.status not in (St.AWARD_SUBMITTED, St.DECISION):
            error = "ArbitrationEscrowInvalidStatus"
        elif sender not in (order.buyer, order.seller):
            error = "ArbitrationEscrowUnauthorizedCaller"
        elif now >= order.deadline:
            error = "ArbitrationEscrowTooLate"
        self._act(sender, self.c.escrow, "objectToAward", [order.id], error)
        if error is None and order.status == St.DECISION:
            order.status, order.pending, order.spent = St.DISPUTED, None, True
            order.deadline = now + TIMEOUTS["appointment"]
        elif error is None:
            order.status, order.pending, order.no_return = St.OBJECTED, None, None
            order.deadline = now + TIMEOUTS["panelAppointment"]

    @rule(pick=picks, fit=fit, caller=st.integers(min_value=0, max_value=9))
    def execute_award(self, pick: int, fit: bool, caller: int) -> None:
        order = self._pick(pick, fit, (St.AWARD_SUBMITTED, St.DECISION))
        sender = self.c.accounts[caller]
        now = self.c.now()
        error = None
        if order.status not in (St.AWARD_SUBMITTED, St.DECISION):
            error = "ArbitrationEscrowInvalidStatus"
        elif now < order.deadline:
            error = "ArbitrationEscrowTooEarly"
        self._act(sender, self.c.escrow, "executeAward", [order.id], error, 0, order.token)
        if error is None and order.no_return is not None:  # a return award: the return stage
            order.status = St.RETURN_PENDING
            order.deadline = now + TIMEOUTS["returnShipment"]
        elif error is None:
            assert order.pending is not None
            self._capped_finish(order, order.pending)

    @rule(pick=picks, fit=fit, caller=callers, rotate=st.integers(min_value=0, max_value=2),
          flaw=flaws("arbitrator", "duplicate", "party"))
    def appoint_panel(self, pick: int, fit: bool, caller: int | str, rotate: int,
                      flaw: str | None) -> None:
        c = self.c
        order = self._pick(pick, fit, (St.OBJECTED,))
        sender = self._caller(caller, c.institution)
        others = [n for n in c.neutrals if n != order.arbitrator][:3]
        panel = others[rotate:] + others[:rotate]
        if flaw == "arbitrator":
            panel[rotate] = order.arbitrator
        elif flaw == "duplicate":
            panel[2] = panel[0]
        elif flaw == "party":
            panel[1] = order.buyer
        valid = len(set(panel)) == 3 and all(
            p not in (ZERO_ADDR, order.buyer, order.seller, order.arbitrator) for p in panel
        )
        now = c.now()
        error = None
        if order.status != St.OBJECTED:
            error = "ArbitrationEscrowInvalidStatus"
        elif sender != c.institution:
            error = "ArbitrationEscrowUnauthorizedCaller"
        elif now >= order.deadline:
            error = "ArbitrationEscrowTooLate"
        elif not valid:
            error = "ArbitrationEscrowInvalidNeutral"
        self._act(sender, c.escrow, "appointPanel", [order.id, panel], error)
        if error is None:
            order.status, order.panel = St.PANEL, (panel[0], panel[1], panel[2])
            order.deadline = now + TIMEOUTS["panelAward"]

    @rule(pick=picks, fit=fit, caller=st.integers(min_value=0, max_value=9), split=fractions,
          comp_frac=fractions, signers=st.sampled_from([3, 5, 6, 7, 3, 5, 6, 7, 0, 1, 2, 4]),
          bad=st.integers(min_value=0, max_value=2),
          flaw=flaws(*allocation_flaws, "comp_over", "key", "round", "order", "case", "hash"))
    def submit_panel_award(self, pick: int, fit: bool, caller: int, split: int, comp_frac: int,
                           signers: int, bad: int, flaw: str | None) -> None:
        c = self.c
        order = self._pick(pick, fit, (St.PANEL,))
        sender = c.accounts[caller]
        allocation = self._allocation(order, split, comp_frac, order.amount, flaw)
        award_hash = keccak(b"panel-award-%d" % order.id)
        panel = order.panel or (c.neutrals[1], c.neutrals[2], c.neutrals[3])
        # A signature flaw hits the `bad`-th signing panelist: another key (a seller's), or a
        # round-0 award, or a signature over another order, case or award document.
        sig_flaw = flaw in ("key", "round", "order", "case", "hash")
        signing = [i for i in range(3) if signers >> i & 1]
        spoiled = signing[bad % len(signing)] if sig_flaw and signing else None
        signatures: list[bytes] = []
        for i, member in enumerate(panel):
            if i not in signing:
                signatures.append(b"")
                continue
            wrong = i == spoiled
            signer = c.sellers[0] if wrong and flaw == "key" else member
            tamper = flaw if wrong and flaw != "key" else None
            signatures.append(
                self._award_signature(order, signer, allocation, award_hash, 1, tamper)
            )
        now = c.now()
        error = self._award_error(order, St.PANEL, now, allocation)
        if error is None and spoiled is not None:
            error = "ArbitrationEscrowInvalidSignature"
        elif error is None and len(signing) < 2:
            error = "ArbitrationEscrowPanelQuorumNotReached"
        args = [order.id, allocation, award_hash, signatures]
        self._act(sender, c.escrow, "submitPanelAward", args, error, 0, order.token)
        if error is None:
            self._capped_finish(order, allocation)

    # -- rules: the jury ----------------------------------------------------------------------

    @staticmethod
    def _jury_of(rotate: int) -> tuple[str, ...]:
        return jury_order([JUROR_ADDRS[(rotate + i) % 4] for i in range(3)])

    def _options(self, order: Order, split: int, comp_frac: int) -> tuple[tuple[int, int, int],
                                                                            ...]:
        first = self._allocation(order, split, comp_frac, order.amount, None)
        return (first, (order.amount, 0, 0), (0, order.amount, 0))

    @rule(pick=picks, fit=fit, caller=callers, rotate=st.integers(min_value=0, max_value=3),
          split=fractions, comp_frac=fractions, flaw=flaws("zero"))
    def appoint_jury(self, pick: int, fit: bool, caller: int | str, rotate: int, split: int,
                     comp_frac: int, flaw: str | None) -> None:
        c = self.c
        order = self._pick(pick, fit, (St.DISPUTED, St.JURY))
        sender = self._caller(caller, c.institution)
        jurors, options = self._jury_of(rotate), self._options(order, split, comp_frac)
        digest = ZERO32 if flaw == "zero" else jury_hash(jurors, options)
        again = order.status == St.JURY  # a replacement: the same deadline
        now = c.now()
        error = None
        if order.status not in (St.DISPUTED, St.JURY):
            error = "ArbitrationEscrowInvalidStatus"
        elif sender != c.institution:
            error = "ArbitrationEscrowUnauthorizedCaller"
        elif now >= order.deadline:
            error = "ArbitrationEscrowTooLate"
        elif flaw == "zero" or (order.jury and not again):
            error = "ArbitrationEscrowInvalidJury"
        self._act(sender, c.escrow, "appointJury", [order.id, digest], error)
        if error is None:
            order.status, order.jury, order.options = St.JURY, jurors, options
            if not again:
                order.deadline = now + TIMEOUTS["award"]

    def _typed_sign(self, key: bytes, typed: TypedData) -> bytes:
        signable = encode_typed_data(full_message=dict(typed))
        return bytes(Account.sign_message(signable, key).signature)

    @rule(pick=picks, fit=fit, caller=st.integers(min_value=0, max_value=9),
          votes=st.lists(st.sampled_from([None, 0, 0, 1, 2]), min_size=3, max_size=3),
          winner=st.integers(min_value=0, max_value=2),
          flaw=flaws("outsider", "forged", "institution_key", "options"))
    def submit_jury_verdict(self, pick: int, fit: bool, caller: int, votes: list[int | None],
                            winner: int, flaw: str | None) -> None:
        c = self.c
        order = self._pick(pick, fit, (St.JURY,))
        sender = c.accounts[caller]
        jurors = order.jury or self._jury_of(0)
        options = order.options or ((order.amount, 0, 0),)
        domain = Domain(chain_id=c.chain_id, verifying_contract=c.escrow.address)
        keys = {Account.from_key(k).address: k for k in JUROR_KEYS}
        named = list(jurors)
        if flaw == "outsider":  # a juror not in the draw takes a seat, signing its own vote
            outsider = Account.from_key(OUTSIDER_KEY).address
            keys[outsider] = OUTSIDER_KEY
            named = list(jury_order([*jurors[:2], outsider]))
        words: list[bytes] = []
        commitments: list[bytes | None] = []
        for i, juror in enumerate(named):
            choice = votes[i]
            if choice is None:
                words += [ZERO32] * 4
                commitments.append(None)
                continue
            salt = keccak(b"salt %d %d" % (order.id, i))
            sig = self._typed_sign(keys[juror], jury_vote_typed_data(
                domain, order.case, juror, choice, 7, salt))
            signed_choice = choice
            if flaw == "forged" and i == 0:  # the vote is changed after the juror signed it
                signed_choice, choice = choice, (choice + 1) % 3
            packed = (sig[64] << 24) | (choice << 16) | 7
            words += [salt, sig[:32], sig[32:64], packed.to_bytes(32, "big")]
            commitments.append(vote_commitment(order.case, juror, signed_choice, 7, salt))
        given = list(options) if flaw != "options" else [options[-1], *options[:-1]]
        revealed = [v for v in votes if v is not None]
        allocation = options[winner] if winner < len(options) else options[0]
        signer = c.sellers[0] if flaw == "institution_key" else c.institution
        decision = decision_typed_data(domain, order.id, order.case, 0,
                                       Allocation(*allocation), votes_hash(commitments))
        signature = c.sign_digest_typed(signer, decision)
        now = c.now()
        error = None
        if order.status != St.JURY:
            error = "ArbitrationEscrowInvalidStatus"
        elif now >= order.deadline:
            error = "ArbitrationEscrowTooLate"
        elif flaw in ("outsider", "options") and tuple(named) + tuple(given) != (
                tuple(jurors) + tuple(options)):
            error = "ArbitrationEscrowJuryMismatch"
        elif flaw == "forged" and votes[0] is not None:
            error = "ArbitrationEscrowInvalidSignature"
        elif 2 * len(revealed) <= 3 or 2 * revealed.count(winner) <= len(revealed):
            error = "ArbitrationEscrowNoJuryMajority"
        elif flaw == "institution_key":
            error = "ArbitrationEscrowInvalidSignature"
        if error == "ArbitrationEscrowJuryMismatch" and flaw == "forged":
            pass
        flat = [v for o in given for v in o]
        args = [order.id, named, flat, winner, words, signature]
        self._act(sender, c.escrow, "submitJuryVerdict", args, error)
        if error is None:
            order.status, order.pending = St.DECISION, options[winner]
            order.deadline = now if order.spent else now + TIMEOUTS["objection"]

    # -- rules: settlement and timeouts -----------------------------------------------------------

    @rule(pick=picks, fit=fit, caller=st.integers(min_value=0, max_value=9), split=fractions,
          comp_frac=fractions,
          flaw=flaws(*allocation_flaws, "comp_over", "buyer_key", "seller_key", "order", "case"))
    def execute_settlement(self, pick: int, fit: bool, caller: int, split: int, comp_frac: int,
                           flaw: str | None) -> None:
        c = self.c
        order = self._pick(pick, fit, FROZEN)
        sender = c.accounts[caller]
        available = self.guarantees.get((order.seller, order.token), [0, 0])[0] + order.advanced
        allocation = self._allocation(order, split, comp_frac, available, flaw)
        message = {
            "orderId": order.id + (1 if flaw == "order" else 0),
            "caseId": keccak(b"other case") if flaw == "case" else order.case,
            "toBuyer": allocation[0],
            "toSeller": allocation[1],
            "compensation": allocation[2],
        }
        buyer = order.buyer if order.buyer != ZERO_ADDR else c.buyers[0]
        seller = order.seller if order.seller != ZERO_ADDR else c.sellers[0]
        # A wrong key spoils one signature; a message for another order or case spoils both.
        buyer_sig = c.sign(seller if flaw == "buyer_key" else buyer, "Settlement", message)
        seller_sig = c.sign(buyer if flaw == "seller_key" else seller, "Settlement", message)
        error = None
        if order.status not in FROZEN:
            error = "ArbitrationEscrowInvalidStatus"
        elif allocation[0] + allocation[1] != order.amount:
            error = "ArbitrationEscrowAllocationMismatch"
        elif allocation[2] > available:
            error = "ArbitrationEscrowInsufficientGuarantee"
        elif flaw in ("buyer_key", "seller_key", "order", "case"):
            error = "ArbitrationEscrowInvalidSignature"
        args = [order.id, allocation, buyer_sig, seller_sig]
        self._act(sender, c.escrow, "executeSettlement", args, error, 0, order.token)
        if error is None:
            self._finish(order, *allocation)

    @rule(pick=picks, fit=fit, caller=st.integers(min_value=0, max_value=9))
    def resolve_by_timeout(self, pick: int, fit: bool, caller: int) -> None:
        order = self._pick(pick, fit, TIMEOUT_STATES)
        sender = self.c.accounts[caller]
        error = None
        if order.status not in TIMEOUT_STATES:
            error = "ArbitrationEscrowInvalidStatus"
        elif self.c.now() < order.deadline:
            error = "ArbitrationEscrowTooEarly"
        self._act(sender, self.c.escrow, "resolveByTimeout", [order.id], error, 0, order.token)
        if error is None and order.status == St.RETURN_SHIPPED:  # deemed received: the refund
            assert order.pending is not None
            self._capped_finish(order, order.pending)
        elif error is None and order.status == St.RETURN_PENDING:  # not shipped: the fallback
            assert order.no_return is not None
            self._capped_finish(order, order.no_return)
        elif error is None:
            self._finish(order, order.amount, 0, 0)

    # -- rules: return and refund ---------------------------------------------------------------

    @rule(pick=picks, fit=fit, caller=st.integers(min_value=0, max_value=9), split=fractions,
          comp_frac=fractions, fallback_split=fractions,
          flaw=flaws(*allocation_flaws, "comp_over", "order", "case", "hash", "key",
                     "fallback"))
    def submit_return_award(self, pick: int, fit: bool, caller: int, split: int,
                            comp_frac: int, fallback_split: int, flaw: str | None) -> None:
        c = self.c
        order = self._pick(pick, fit, (St.APPOINTED,))
        sender = c.accounts[caller]
        refund = self._allocation(order, split, comp_frac, order.amount, flaw)
        to_buyer = order.amount * fallback_split // 1000
        no_return = (to_buyer, order.amount - to_buyer, 0)
        award_hash = keccak(b"return-award-%d" % order.id)
        appointed = order.arbitrator if order.arbitrator != ZERO_ADDR else c.neutrals[0]
        signer = c.sellers[0] if flaw == "key" else appointed
        signed_fallback = (no_return[0], no_return[1] + 1, 0) if flaw == "fallback" else no_return
        message = {
            "orderId": order.id + (1 if flaw == "order" else 0),
            "caseId": keccak(b"other case") if flaw == "case" else order.case,
            "toBuyer": refund[0], "toSeller": refund[1], "compensation": refund[2],
            "noReturnToBuyer": signed_fallback[0], "noReturnToSeller": signed_fallback[1],
            "noReturnCompensation": signed_fallback[2],
            "awardHash": keccak(b"other award") if flaw == "hash" else award_hash,
            "round": 0,
        }
        signature = c.sign(signer, "ReturnAward", message)
        now = c.now()
        error = self._award_error(order, St.APPOINTED, now, refund)
        if error is None and flaw in ("order", "case", "hash", "key", "fallback"):
            error = "ArbitrationEscrowInvalidSignature"
        args = [order.id, refund, no_return, award_hash, signature]
        self._act(sender, c.escrow, "submitReturnAward", args, error)
        if error is None:
            order.status, order.pending, order.no_return = St.AWARD_SUBMITTED, refund, no_return
            order.deadline = now + TIMEOUTS["objection"]

    @rule(pick=picks, fit=fit, caller=st.integers(min_value=0, max_value=9), split=fractions,
          comp_frac=fractions, fallback_split=fractions,
          flaw=flaws(*allocation_flaws, "comp_over", "order", "case", "buyer_key", "seller_key",
                     "fallback"))
    def submit_return_settlement(self, pick: int, fit: bool, caller: int, split: int,
                                 comp_frac: int, fallback_split: int, flaw: str | None) -> None:
        """Both parties' return-and-refund settlement: the return stage starts at once; the
        same signed terms start it once (after a disputed receipt they are refused)."""
        c = self.c
        order = self._pick(pick, fit, BEFORE_RETURN)
        sender = c.accounts[caller]
        refund = self._allocation(order, split, comp_frac, order.amount, flaw)
        to_buyer = order.amount * fallback_split // 1000
        no_return = (to_buyer, order.amount - to_buyer, 0)
        signed_fallback = (no_return[0], no_return[1] + 1, 0) if flaw == "fallback" else no_return
        message = {
            "orderId": order.id + (1 if flaw == "order" else 0),
            "caseId": keccak(b"other case") if flaw == "case" else order.case,
            "toBuyer": refund[0], "toSeller": refund[1], "compensation": refund[2],
            "noReturnToBuyer": signed_fallback[0], "noReturnToSeller": signed_fallback[1],
            "noReturnCompensation": signed_fallback[2],
        }
        buyer = order.buyer if order.buyer != ZERO_ADDR else c.buyers[0]
        seller = order.seller if order.seller != ZERO_ADDR else c.sellers[0]
        buyer_sig = c.sign(seller if flaw == "buyer_key" else buyer, "ReturnSettlement", message)
        seller_sig = c.sign(buyer if flaw == "seller_key" else seller, "ReturnSettlement", message)
        terms = (order.id, order.case, refund, no_return)
        error = None
        if order.status not in BEFORE_RETURN:
            error = "ArbitrationEscrowInvalidStatus"
        elif refund[0] + refund[1] != order.amount:
            error = "ArbitrationEscrowAllocationMismatch"
        elif refund[2] > order.amount:
            error = "ArbitrationEscrowCompensationAboveCap"
        elif flaw in ("buyer_key", "seller_key", "order", "case", "fallback"):
            error = "ArbitrationEscrowInvalidSignature"
        elif terms in self.return_settlements:
            error = "ArbitrationEscrowReturnSettlementUsed"
        now = c.now()
        args = [order.id, refund, no_return, buyer_sig, seller_sig]
        self._act(sender, c.escrow, "submitReturnSettlement", args, error)
        if error is None:
            self.return_settlements.add(terms)
            order.status, order.pending, order.no_return = St.RETURN_PENDING, refund, no_return
            order.deadline = now + TIMEOUTS["returnShipment"]

    @rule(pick=picks, fit=fit, caller=callers, flaw=flaws("zero_tracking"))
    def record_return_shipment(self, pick: int, fit: bool, caller: int | str,
                               flaw: str | None) -> None:
        order = self._pick(pick, fit, (St.RETURN_PENDING,))
        sender = self._caller(caller, order.buyer)
        tracking = ZERO32 if flaw == "zero_tracking" else keccak(b"tracking-%d" % order.id)
        now = self.c.now()
        error = None
        if order.status != St.RETURN_PENDING:
            error = "ArbitrationEscrowInvalidStatus"
        elif sender != order.buyer:
            error = "ArbitrationEscrowUnauthorizedCaller"
        elif now >= order.deadline:
            error = "ArbitrationEscrowTooLate"
        elif flaw == "zero_tracking":
            error = "ArbitrationEscrowInvalidReturn"
        self._act(sender, self.c.escrow, "recordReturnShipment", [order.id, tracking], error)
        if error is None:
            order.status, order.deadline = St.RETURN_SHIPPED, now + TIMEOUTS["returnReceipt"]

    @rule(pick=picks, fit=fit, caller=callers, by_institution=st.booleans())
    def confirm_return_received(self, pick: int, fit: bool, caller: int | str,
                                by_institution: bool) -> None:
        c = self.c
        order = self._pick(pick, fit, (St.RETURN_SHIPPED,))
        sender = self._caller(caller, c.institution if by_institution else order.seller)
        error = None
        if order.status != St.RETURN_SHIPPED:
            error = "ArbitrationEscrowInvalidStatus"
        elif sender not in (order.seller, c.institution):
            error = "ArbitrationEscrowUnauthorizedCaller"
        self._act(sender, c.escrow, "confirmReturnReceived", [order.id], error, 0, order.token)
        if error is None:
            assert order.pending is not None
            self._capped_finish(order, order.pending)

    @rule(pick=picks, fit=fit, caller=callers)
    def dispute_return_receipt(self, pick: int, fit: bool, caller: int | str) -> None:
        order = self._pick(pick, fit, (St.RETURN_SHIPPED,))
        sender = self._caller(caller, order.seller)
        now = self.c.now()
        error = None
        if order.status != St.RETURN_SHIPPED:
            error = "ArbitrationEscrowInvalidStatus"
        elif sender != order.seller:
            error = "ArbitrationEscrowUnauthorizedCaller"
        elif now >= order.deadline:
            error = "ArbitrationEscrowTooLate"
        self._act(sender, self.c.escrow, "disputeReturnReceipt", [order.id], error)
        if error is None:
            order.status, order.pending, order.no_return = St.DISPUTED, None, None
            order.deadline = now + TIMEOUTS["appointment"]

    @rule(pick=picks, fit=fit, caller=callers, frac=fractions,
          flaw=flaws("token", "zero", "over"))
    def advance_refund(self, pick: int, fit: bool, caller: int | str, frac: int,
                       flaw: str | None) -> None:
        """The institution's advance refund from the seller's guarantee once the delivery
        deadline has passed; capped at the amount less earlier advances and at the balance."""
        c = self.c
        order = self._pick(pick, fit, FROZEN)
        sender = self._caller(caller, c.institution)
        balance = self.guarantees.get((order.seller, order.token), [0, 0])[0]
        cap = min(order.amount - order.advanced, balance)
        amount = {"zero": 0, "over": cap + 1}.get(flaw or "", cap * frac // 1000)
        token = c.tokens[(c.tokens.index(order.token) + 1) % 3] if flaw == "token" \
            else order.token
        error = None
        if order.status not in FROZEN:
            error = "ArbitrationEscrowInvalidStatus"
        elif sender != c.institution:
            error = "ArbitrationEscrowUnauthorizedCaller"
        elif c.now() < order.delivery:
            error = "ArbitrationEscrowTooEarly"
        elif token != order.token:
            error = "ArbitrationEscrowInvalidToken"
        elif amount == 0:
            error = "ArbitrationEscrowZeroAmount"
        elif amount > cap:
            error = "ArbitrationEscrowAdvanceAboveCap"
        self._act(sender, c.escrow, "advanceRefund", [order.id, token, amount], error, 0,
                  order.token)
        if error is None:
            order.advanced += amount
            self._guarantee(order.seller, order.token)[0] -= amount
            self._pay(order.token, order.buyer, amount)

    @rule(seconds=st.sampled_from([60, 3600, 3600, DAY, DAY, 2 * DAY, 3 * DAY, 6 * DAY, 11 * DAY]))
    def advance_time(self, seconds: int) -> None:
        self.c.travel(seconds)

    # -- the driver: takes a live order one step along its lifecycle -------------------------

    def _index_in(self, order: Order, statuses: tuple[St, ...]) -> int:
        """The `pick` that makes `_pick(pick, True, statuses)` choose `order`."""
        return [o for o in self.orders if o.status in statuses].index(order)

    def progress(self, pick: int, branch: int, data: st.DataObject) -> None:
        """Random walks rarely chain seven right actions in a row; this rule does, so that
        objections, panels and panel awards are reached in most examples. It is registered
        under several names (below the class) because Hypothesis picks rules uniformly."""
        c = self.c
        if branch % 10 == 0:  # now and then the token starts or stops failing
            self.switch_failing_token(not self.failing)
        credits = [key for key, owed in self.owed.items() if owed]
        if credits and not self.failing and branch < 20:
            account, token = credits[pick % len(credits)]
            self.withdraw_credit(c.accounts.index(account), c.tokens.index(token))
            return
        live = [o for o in self.orders if o.status in LIVE]
        if not live:
            self.open_order(
                buyer=data.draw(st.sampled_from([2, 3])),
                seller=data.draw(st.sampled_from([4, 5])),
                token=data.draw(tokens),
                frac=data.draw(st.integers(min_value=1, max_value=1000)),
                offset=data.draw(st.sampled_from([3 * DAY, 10 * DAY, 20 * DAY])),
                flaw=None,
                contract=data.draw(st.sampled_from([None, 1])),
            )
            return
        # Half the time push the most advanced order on, so that some get to the panel.
        order = max(live, key=lambda o: o.status) if pick % 2 else live[pick // 2 % len(live)]
        split, comp = data.draw(fractions), data.draw(fractions)
        anyone = data.draw(st.integers(min_value=0, max_value=9))

        def past(deadline: int) -> None:
            if self.c.now() < deadline:
                self.c.travel(deadline - self.c.now())

        if order.status == St.PAID:
            index = self._index_in(order, (St.PAID,))
            if branch < 60:
                self.raise_dispute(index, True, "right", branch % 2 == 0, None)
            elif branch < 80:
                self.confirm_delivery(index, True, "right")
            elif branch < 90:
                self.refund_by_seller(self._index_in(order, (St.PAID, *FROZEN)), True, "right")
            else:
                past(order.delivery + TIMEOUTS["releaseGrace"])
                self.release_after_deadline(index, True, anyone)
            return
        if branch >= 85:
            self.execute_settlement(self._index_in(order, FROZEN), True, anyone, split, comp, None)
            return
        if 70 <= branch < 75 and order.status in BEFORE_RETURN:
            self.submit_return_settlement(self._index_in(order, BEFORE_RETURN), True, anyone,
                                          split, comp, data.draw(fractions), None)
            return
        if branch >= 75 and order.status in TIMEOUT_STATES:
            past(order.deadline)
            self.resolve_by_timeout(self._index_in(order, TIMEOUT_STATES), True, anyone)
            return
        if branch % 7 == 2:  # now and then the institution advances a refund (once late)
            if not self.guarantees.get((order.seller, order.token), [0, 0])[0]:
                self.deposit_guarantee(c.accounts.index(order.seller),
                                       c.tokens.index(order.token),
                                       data.draw(st.integers(min_value=1, max_value=2000)), None)
            past(order.delivery)
            if order.status in FROZEN:
                self.advance_refund(self._index_in(order, FROZEN), True, "right", comp, None)
            return
        if order.status == St.DISPUTED and branch % 5 == 1 and not order.spent:
            window = data.draw(st.sampled_from([60, DAY, 3 * DAY]))
            self.submit_fast_track(self._index_in(order, (St.DISPUTED,)), True, anyone, split,
                                   comp, window, None)
        elif order.status == St.DECISION:
            index = self._index_in(order, (St.AWARD_SUBMITTED, St.DECISION))
            if branch < 45:
                self.object_to_award(index, True, "right", branch % 2 == 0)
            else:
                past(order.deadline)
                self.execute_award(index, True, anyone)
        elif order.status == St.DISPUTED:
            if branch % 3 == 0:  # the seller tops up the guarantee that awards draw on
                self.deposit_guarantee(c.accounts.index(order.seller), c.tokens.index(order.token),
                                       data.draw(st.integers(min_value=1, max_value=2000)), None)
            if not order.jury and branch % 2:  # the jury track
                self.appoint_jury(self._index_in(order, (St.DISPUTED,)), True, "right",
                                  branch % 4, split, comp, None)
                return
            self.appoint_arbitrator(
                self._index_in(order, (St.DISPUTED, St.JURY)), True, "right", branch % 4, None
            )
        elif order.status == St.JURY:
            if branch < 10:  # no majority: the sole arbitrator
                self.appoint_arbitrator(self._index_in(order, (St.DISPUTED, St.JURY)), True,
                                        "right", branch % 4, None)
                return
            votes: list[int | None] = data.draw(st.sampled_from(
                [[0, 0, 1], [1, 1, None], [2, None, 2], [0, 0, 0], [0, 1, 2]]))
            top = max(range(3), key=votes.count)
            self.submit_jury_verdict(self._index_in(order, (St.JURY,)), True, anyone, votes,
                                     top, None)
        elif order.status == St.DECISION:  # type: ignore[comparison-overlap]
            index = self._index_in(order, (St.AWARD_SUBMITTED, St.DECISION))
            if branch < 45:
                self.object_to_award(index, True, "right", branch % 2 == 0)
            else:
                past(order.deadline)
                self.execute_award(index, True, anyone)
        elif order.status == St.APPOINTED and branch % 3 == 0:
            self.submit_return_award(self._index_in(order, (St.APPOINTED,)), True, anyone,
                                     split, comp, data.draw(fractions), None)
        elif order.status == St.APPOINTED:
            self.submit_award(self._index_in(order, (St.APPOINTED,)), True, anyone, split, comp,
                              None)
        elif order.status == St.RETURN_PENDING:
            self.record_return_shipment(self._index_in(order, (St.RETURN_PENDING,)), True,
                                        "right", None)
        elif order.status == St.RETURN_SHIPPED:
            index = self._index_in(order, (St.RETURN_SHIPPED,))
            if branch < 30:
                self.dispute_return_receipt(index, True, "right")
            else:
                self.confirm_return_received(index, True, "right", branch % 2 == 0)
        elif order.status == St.AWARD_SUBMITTED:
            index = self._index_in(order, (St.AWARD_SUBMITTED, St.DECISION))
            if branch < 45:
                self.object_to_award(index, True, "right", branch % 2 == 0)
            else:
                past(order.deadline)
                self.execute_award(index, True, anyone)
        elif order.status == St.OBJECTED:
            self.appoint_panel(self._index_in(order, (St.OBJECTED,)), True, "right", branch % 3,
                               None)
        elif order.status == St.PANEL:
            signers = data.draw(st.sampled_from([3, 5, 6, 7]))
            self.submit_panel_award(self._index_in(order, (St.PANEL,)), True, anyone, split,
                                    comp, signers, 0, None)

    # -- rules: guarantees, credits, the failing token ----------------------------------------

    @rule(who=st.sampled_from([4, 5, 4, 5, 2]), token=tokens,
          frac=st.integers(min_value=1, max_value=2000),
          flaw=flaws("eoa_token", "zero_amount", "value"))
    def deposit_guarantee(self, who: int, token: int, frac: int, flaw: str | None) -> None:
        c = self.c
        sender, token_addr = c.accounts[who], c.tokens[token]
        amount = self._amount_for(token_addr, frac)
        error: str | None
        if flaw == "eoa_token":
            token_addr, error = c.neutrals[1], "ArbitrationEscrowInvalidToken"
        elif flaw == "zero_amount":
            amount, error = 0, "ArbitrationEscrowZeroAmount"
        elif flaw == "value":
            error = "ArbitrationEscrowWrongValue"
        else:
            error = self._token_error(token_addr)
        value = (amount if token_addr == ETH else 0) + (1 if flaw == "value" else 0)
        self._act(sender, c.escrow, "depositGuarantee", [token_addr, amount], error, value,
                  token_addr)
        if error is None:
            self._guarantee(sender, token_addr)[0] += amount
            self.held[(sender, token_addr)] -= amount

    @rule(who=st.sampled_from([4, 5, 4, 5, 2]), token=tokens,
          mode=st.sampled_from(["all", "part", "part", "over", "zero"]), frac=fractions)
    def withdraw_guarantee(self, who: int, token: int, mode: str, frac: int) -> None:
        c = self.c
        sender, token_addr = c.accounts[who], c.tokens[token]
        balance, locked = self.guarantees.get((sender, token_addr), [0, 0])
        free = max(balance - locked, 0)
        amount = {"all": free, "part": free * frac // 1000, "over": free + 1, "zero": 0}[mode]
        error = None
        if amount == 0:
            error = "ArbitrationEscrowZeroAmount"
        elif amount > free:
            error = "ArbitrationEscrowGuaranteeLocked"
        elif token_addr == c.flaky.address and self.failing:
            error = "ArbitrationEscrowTransferFailed"
        self._act(sender, c.escrow, "withdrawGuarantee", [token_addr, amount], error, 0, token_addr)
        if error is None:
            self._guarantee(sender, token_addr)[0] -= amount
            self.held[(sender, token_addr)] += amount

    @rule(who=st.sampled_from([2, 3, 4, 5, 2, 3, 4, 5, 0, 6]), token=st.sampled_from([2, 2, 0, 1]))
    def withdraw_credit(self, who: int, token: int) -> None:
        c = self.c
        sender, token_addr = c.accounts[who], c.tokens[token]
        owed = self.owed.get((sender, token_addr), 0)
        error = None
        if owed == 0:
            error = "ArbitrationEscrowNothingToWithdraw"
        elif token_addr == c.flaky.address and self.failing:
            error = "ArbitrationEscrowTransferFailed"
        self._act(sender, c.escrow, "withdraw", [token_addr], error, 0, token_addr)
        if error is None:
            self.owed[(sender, token_addr)] = 0
            self.held[(sender, token_addr)] += owed

    @rule(failing=st.booleans())
    def switch_failing_token(self, failing: bool) -> None:
        self.held[(self.c.admin, ETH)] -= self.c.must(
            self.c.admin, self.c.flaky, "setFailing", [failing]
        )
        self.failing = failing

    # -- invariants ----------------------------------------------------------------------------

    def _owes(self, token: str) -> int:
        escrowed = sum(
            o.amount for o in self.orders if o.token == token and o.status in LIVE
        )
        deposits = sum(g[0] for (_, t), g in self.guarantees.items() if t == token)
        credits = sum(v for (_, t), v in self.owed.items() if t == token)
        return escrowed + deposits + credits

    @invariant()
    def holdings_equal_obligations(self) -> None:
        # Only tokens the last step could move are read (a balanceOf costs ~7 ms on py-evm);
        # teardown reads everything.
        for token in sorted(self.touched):
            held = self.c.balance(self.c.escrow.address, token)
            owes = self._owes(token)
            assert held == owes, f"escrow holds {held} of {token} but owes {owes}"
        self.touched = set()

    def teardown(self) -> None:
        c = self.c
        event(f"actions: {self.steps // 10 * 10}+")
        self.touched = set(c.tokens)
        self.holdings_equal_obligations()
        for order in self.orders:
            on_chain = c.escrow.functions.getOrder(order.id).call()
            assert on_chain[2] == order.status, f"order {order.id}: {on_chain} vs {order}"
            assert on_chain[5] == order.deadline
            assert on_chain[11] == order.case
            assert on_chain[8] == order.arbitrator
            assert on_chain[12] == order.contract
            assert c.escrow.functions.advancedOf(order.id).call() == order.advanced
            if order.contract != ZERO32:
                assert c.escrow.functions.orderOfContract(order.contract).call() == order.id
        for (seller, token), (balance, locked) in self.guarantees.items():
            assert tuple(c.escrow.functions.guaranteeOf(seller, token).call()) == (balance, locked)
        for (account, token), owed in self.owed.items():
            assert c.escrow.functions.owedTo(account, token).call() == owed
        for (account, token), expected in self.held.items():
            assert c.balance(account, token) == expected, f"{account} holds wrong {token}"
        # Nothing created or lost overall: parties + escrow hold what they started with (ETH
        # less the fees the model charged).
        for token in c.tokens:
            start = sum(v for (_, t), v in c.initial.items() if t == token)
            now = sum(v for (_, t), v in self.held.items() if t == token) + self._owes(token)
            if token != ETH:
                assert now == start


PROGRESS_WEIGHT = 10
for _i in range(PROGRESS_WEIGHT):

    def _progress(self: EscrowMachine, pick: int, branch: int, data: st.DataObject) -> None:
        self.progress(pick, branch, data)

    _progress.__name__ = f"progress_{_i}"
    setattr(
        EscrowMachine,
        _progress.__name__,
        rule(pick=picks, branch=st.integers(min_value=0, max_value=99), data=st.data())(_progress),
    )

EscrowMachine.TestCase.settings = settings(
    max_examples=int(os.environ.get("CHAINARB_STATEFUL_EXAMPLES", "30")),  # more: a deeper run
    stateful_step_count=40,
    deadline=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.filter_too_much],
)


@pytest.fixture(scope="module", autouse=True)
def _chain() -> Iterator[None]:
    EscrowMachine.chain = Chain()
    yield


TestEscrowStateful = EscrowMachine.TestCase
