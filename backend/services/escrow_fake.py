"""An in-memory ArbitrationEscrow for fast tests: a model of the contract, not a stub.

Rules of this file:
  1. Every act checks what contracts/ArbitrationEscrow.sol checks, in the contract's order
     (status, caller, time, arguments, signatures), and refuses with the same
     ``EscrowRefusal`` type the web3 port maps the contract's custom error to. The behaviour
     suite (tests/backend/gateway/test_escrow_port_behaviour.py) runs the same inputs against
     this model, the in-process EVM and anvil, and asserts the same outcomes and refusals.
  2. Signatures are real: Settlement and Award digests are the EIP-712 ones of
     ``backend.chain.typed_data`` under this escrow's domain, recovered like OpenZeppelin's
     ECDSA (65 bytes, v 27/28, low s). Only EOA signers (no EIP-1271 wallets).
  3. Time is the injected ``clock`` (the service's), so the objection window and the timeouts
     follow the tests' clock; the durations are the contract's ``Timeouts``.
  4. ``fail_next`` injects a transport failure (``ConnectionError``) for a kind's next call,
     before any check: the executor's retries are tested with it.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any

from eth_account import Account
from eth_utils import to_checksum_address

from backend.chain.contracts import Timeouts, fast_track_decision_hash
from backend.chain.typed_data import (
    Allocation,
    award_typed_data,
    jury_vote_typed_data,
    return_award_typed_data,
    return_settlement_typed_data,
    settlement_typed_data,
    typed_data_digest,
)
from backend.chain.typed_data import Domain as TypedDomain
from evidence.jury import jury_hash, jury_order
from evidence.records import Domain
from evidence.safejson import JsonObject

from .escrow import (
    DISPUTED_OR_LATER,
    ETH_META,
    OBJECTED_OR_LATER,
    ActionPayload,
    AdvanceAboveCap,
    AdvanceRefund,
    AdvanceRefunded,
    AllocationMismatch,
    AppointArbitrator,
    AppointJury,
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
    InvalidJury,
    InvalidNeutral,
    InvalidTimeouts,
    JuryAppointed,
    JuryMismatch,
    NoJuryMajority,
    NotAuthorized,
    NotYet,
    Observed,
    OrderInfo,
    OrderResolved,
    PanelAppointed,
    QuorumNotReached,
    RefundOnTimeout,
    ReturnRequested,
    Sent,
    SettlementUsed,
    SubmitAward,
    SubmitFastTrack,
    SubmitJuryVerdict,
    SubmitPanelAward,
    SubmitReturnAward,
    SubmitReturnSettlement,
    TokenMeta,
    TooLate,
    UnknownOrder,
    WrongSigner,
    WrongStatus,
    WrongToken,
    ZeroAmount,
)

__all__ = ["FakeEscrowPort"]

ZERO_ADDRESS = "0x" + "00" * 20
ZERO_CASE = "0x" + "00" * 32
_HALF_N = 0x7FFFFFFFFFFFFFFFFFFFFFFFFFFFFFFF5D576E7357A4501DDFE92F46681B20A0
_FROZEN = ("Disputed", "ArbitratorAppointed", "AwardSubmitted", "Objected", "PanelAppointed",
           "JuryAppointed", "DecisionPending", "ReturnPending", "ReturnShipped")
_TIMEOUT_RESOLUTIONS = {"Disputed": "TimeoutNoArbitrator", "ArbitratorAppointed": "TimeoutNoAward",
                        "Objected": "TimeoutNoPanel", "PanelAppointed": "TimeoutNoPanelAward",
                        "JuryAppointed": "TimeoutNoJuryVerdict"}
_DECISION_RESOLUTIONS = {"JuryVerdict": "JuryVerdictExecuted", "FastTrack": "FastTrackExecuted"}


@dataclass
class _Order:
    info: OrderInfo
    deadline: int = 0
    arbitrator: str = ZERO_ADDRESS
    panel: tuple[str, str, str] = (ZERO_ADDRESS, ZERO_ADDRESS, ZERO_ADDRESS)
    award: tuple[Allocation, str] | None = None
    resolution: str = "None"
    jury: str = ZERO_CASE  # the appointed jury's hash
    objection_spent: bool = False  # a party objected to a decision: no later window
    decision_kind: str | None = None  # of the pending decision (DecisionPending)
    advanced: int = 0  # advance refunds paid from the seller's guarantee
    no_return: Allocation | None = None  # a return award's fallback (``_returns``)


@dataclass
class _Guarantee:
    balance: int = 0
    locked: int = 0


def _same(a: str, b: str) -> bool:
    return a.lower() == b.lower()


def _recover(digest: bytes, signature: bytes) -> str | None:
    """The signer of ``digest``, or None where OpenZeppelin's ECDSA.tryRecover fails."""
    if len(signature) != 65 or signature[64] not in (27, 28):
        return None
    if int.from_bytes(signature[32:64], "big") > _HALF_N:
        return None  # malleable (high s)
    try:
        return str(Account._recover_hash(digest, signature=signature))
    except Exception:  # not a point on the curve
        return None


@dataclass
class FakeEscrowPort:
    """The escrow in memory: orders, guarantees, the calls made and failures on demand."""

    chain_id: int
    escrow: str
    institution: str
    clock: Callable[[], datetime] = field(default=lambda: datetime.now(UTC))
    timeouts: Timeouts = field(default_factory=Timeouts)
    _orders: dict[int, _Order] = field(default_factory=dict)
    guarantees: dict[tuple[str, str], _Guarantee] = field(default_factory=dict)
    calls: list[tuple[str, JsonObject]] = field(default_factory=list)  # kind, row payload
    fail_next: list[str] = field(default_factory=list)  # kinds whose next call raises
    tokens: dict[str, TokenMeta] = field(default_factory=dict)  # by lower-case address
    successors: dict[str, str] = field(default_factory=dict)  # rotated key -> its successor
    return_settlements_used: set[bytes] = field(default_factory=set)  # their digests
    _tx: int = 0

    @property
    def institution_address(self) -> str:
        return self.institution

    def domain(self) -> Domain:
        return Domain(chain_id=self.chain_id, verifying_contract=self.escrow)

    def institution_of(self, institution: str) -> str:
        current: str = to_checksum_address(institution)
        while current in self.successors:
            current = self.successors[current]
        return current

    def rotate_institution_key(self, successor: str) -> str:
        """As the contract: a fresh successor takes the role and the orders. This port keeps
        signing as the old key (as the web3 port): the service builds a new one."""
        self._transport("rotate_institution_key")
        if self.institution_of(self.institution) != to_checksum_address(self.institution):
            raise NotAuthorized(0, self.institution)  # a retired key rotates no more
        new = to_checksum_address(successor)
        known = {*self.successors, *self.successors.values(), self.institution}
        if int(new, 16) == 0 or new in known:
            raise ValueError(f"rotateInstitutionKey: {new} is no fresh key "
                             "(ArbitrationEscrowInvalidSuccessor)")
        self.successors[to_checksum_address(self.institution)] = new
        self._tx += 1
        return "0x" + f"{self._tx:064x}"

    @property
    def orders(self) -> dict[int, OrderInfo]:
        """Every order as ``read_order`` shows it (a copy: change orders through acts)."""
        return {order_id: self.read_order(order_id) for order_id in self._orders}

    def _typed_domain(self) -> TypedDomain:
        return TypedDomain(chain_id=self.chain_id, verifying_contract=self.escrow)

    def _now(self) -> int:
        return int(self.clock().timestamp())

    # -- what tests and the parties' wallets do ----------------------------------------

    def add_order(self, info: OrderInfo) -> None:
        """An order opened and paid (``info.guarantee``: the seller's guarantee balance).
        A non-zero ``info.contract_hash`` binds a contract of sale, once, as
        ``openOrderWithContract`` does."""
        if int(info.contract_hash, 16) and self.order_of_contract(info.contract_hash):
            raise ValueError("this contract of sale already binds an order "
                             "(ArbitrationEscrowContractAlreadyBound)")
        self._orders[info.order_id] = _Order(info)
        g = self.guarantees.setdefault((info.seller.lower(), info.token.lower()), _Guarantee())
        g.balance = info.guarantee

    def party_raises_dispute(self, order_id: int, case_id: str) -> None:
        """What the party's wallet does on-chain (raiseDispute)."""
        o = self._order(order_id, "Paid")
        if int(case_id, 16) == 0:
            raise ValueError("the zero case id is refused (ArbitrationEscrowInvalidCaseId)")
        o.deadline = self._now() + self.timeouts.appointment
        self._guarantee(o).locked += o.info.amount
        self._set(o, status="Disputed", case_id=case_id.lower())

    def party_objects(self, order_id: int) -> None:
        """What a party's wallet does on-chain within the objection window (objectToAward):
        to an award (the panel follows) or to a pending decision (Disputed again)."""
        decision = self._known(order_id).info.status == "DecisionPending"
        o = self._order(order_id, "DecisionPending" if decision else "AwardSubmitted")
        self._before(o)
        o.award = None
        if decision:
            o.deadline = self._now() + self.timeouts.appointment
            o.objection_spent = True
            self._set(o, status="Disputed")
            return
        o.deadline = self._now() + self.timeouts.panel_appointment
        self._set(o, status="Objected")

    def party_ships_return(self, order_id: int, tracking: str, sender: str) -> None:
        """What the buyer's wallet does on-chain in the return window (recordReturnShipment)."""
        o = self._order(order_id, "ReturnPending")
        if not _same(sender, o.info.buyer):
            raise NotAuthorized(order_id, sender)
        self._before(o)
        if int(tracking, 16) == 0:
            raise ValueError("a zero tracking commitment is refused "
                             "(ArbitrationEscrowInvalidReturn)")
        o.deadline = self._now() + self.timeouts.return_receipt
        self._set(o, status="ReturnShipped")

    def party_disputes_return(self, order_id: int, sender: str) -> None:
        """What the seller's wallet does on-chain in the receipt window (disputeReturnReceipt):
        Disputed again, the return terms dropped."""
        o = self._order(order_id, "ReturnShipped")
        if not _same(sender, o.info.seller):
            raise NotAuthorized(order_id, sender)
        self._before(o)
        o.deadline = self._now() + self.timeouts.appointment
        o.award = None
        o.no_return = None
        self._set(o, status="Disputed")

    def advance(self, seconds: int) -> None:
        """Nothing to do: time is the injected clock (kept for the suite's symmetry)."""

    # -- reads --------------------------------------------------------------------------

    def read_order(self, order_id: int) -> OrderInfo:
        if order_id not in self._orders:
            raise UnknownOrder(order_id)
        o = self._orders[order_id]
        return replace(o.info, guarantee=self._guarantee(o).balance, advanced=o.advanced)

    def order_of_contract(self, contract_hash: str) -> int:
        wanted = contract_hash.lower()
        return next((i for i, o in self._orders.items()
                     if int(wanted, 16) and o.info.contract_hash.lower() == wanted), 0)

    def orders_of(self, account: str) -> list[OrderInfo]:
        self._transport("orders_of")
        return [self.read_order(i) for i in sorted(self._orders, reverse=True)
                if account.lower() in (self._orders[i].info.buyer.lower(),
                                       self._orders[i].info.seller.lower())]

    def token_meta(self, token: str) -> TokenMeta:
        if int(token, 16) == 0:
            return ETH_META
        return self.tokens.get(token.lower(), TokenMeta(to_checksum_address(token), 18))

    # -- party acts, observed -----------------------------------------------------------

    def confirm_dispute(self, act: ConfirmDispute) -> Observed:
        self._transport(act.KIND)
        order = self.read_order(act.order_id)
        if order.status not in DISPUTED_OR_LATER or not _same(order.case_id, act.case_id):
            raise AwaitingParty(f"order {order.order_id} is {order.status}; the claimant's "
                                f"wallet must call raiseDispute(orderId, caseId)")
        self.calls.append((act.KIND, act.to_json()))
        return Observed(order)

    def confirm_objection(self, act: ConfirmObjection) -> Observed:
        self._transport(act.KIND)
        order = self.read_order(act.order_id)
        left_decision = act.decision and order.status not in ("JuryAppointed", "DecisionPending")
        if not left_decision and (act.decision or order.status not in OBJECTED_OR_LATER):
            raise AwaitingParty(f"order {order.order_id} is {order.status}; the objecting "
                                f"party's wallet must call objectToAward(orderId)")
        self.calls.append((act.KIND, act.to_json()))
        return Observed(order)

    # -- the institution's acts ----------------------------------------------------------

    def appoint_arbitrator(self, act: AppointArbitrator) -> Sent[ArbitratorAppointed]:
        self._transport(act.KIND)
        jury_sits = self._known(act.order_id).info.status == "JuryAppointed"
        o = self._order(act.order_id, "JuryAppointed" if jury_sits else "Disputed")
        self._institution_only(o)
        self._before(o)
        self._neutral(o, act.arbitrator)
        o.deadline = self._now() + self.timeouts.award
        o.arbitrator = to_checksum_address(act.arbitrator)
        self._set(o, status="ArbitratorAppointed")
        return self._sent(act, ArbitratorAppointed(act.order_id, o.info.case_id, o.arbitrator,
                                                   o.deadline))

    def appoint_panel(self, act: AppointPanel) -> Sent[PanelAppointed]:
        self._transport(act.KIND)
        o = self._order(act.order_id, "Objected")
        self._institution_only(o)
        self._before(o)
        for member in act.panel:
            self._neutral(o, member)
            if _same(member, o.arbitrator):
                raise InvalidNeutral(act.order_id, member)
        a, b, c = act.panel
        if _same(a, b):
            raise InvalidNeutral(act.order_id, b)
        if _same(a, c) or _same(b, c):
            raise InvalidNeutral(act.order_id, c)
        o.deadline = self._now() + self.timeouts.panel_award
        o.panel = (to_checksum_address(a), to_checksum_address(b), to_checksum_address(c))
        self._set(o, status="PanelAppointed")
        return self._sent(act, PanelAppointed(act.order_id, o.info.case_id, o.panel, o.deadline))

    def submit_award(self, act: SubmitAward) -> Sent[AwardSubmitted]:
        self._transport(act.KIND)
        o = self._order(act.order_id, "ArbitratorAppointed")
        self._before(o)
        self._award_allocation(o, act.allocation)
        digest = self._award_digest(o, act.allocation, act.award_hash, 0)
        if not _same(_recover(digest, act.signature) or "", o.arbitrator):
            raise WrongSigner(act.order_id, o.arbitrator)
        o.deadline = self._objection_deadline(o)
        o.award = (act.allocation, act.award_hash.lower())
        self._set(o, status="AwardSubmitted")
        return self._sent(act, AwardSubmitted(act.order_id, o.info.case_id, 0, act.allocation,
                                              act.award_hash.lower(), o.deadline))

    def execute_award(self, act: ExecuteAward) -> Sent[OrderResolved] | Sent[ReturnRequested]:
        """``executeAward``: the round-0 award, or the pending decision (by its kind); a
        decision's execution is refused unless the order holds one; a return award starts the
        return stage instead of paying out."""
        self._transport(act.KIND)
        decision = self._known(act.order_id).info.status == "DecisionPending"
        if act.decision and not decision:
            raise WrongStatus(act.order_id, self._known(act.order_id).info.status)
        o = self._order(act.order_id, "DecisionPending" if decision else "AwardSubmitted")
        if self._now() < o.deadline:
            raise NotYet(act.order_id, o.deadline)
        assert o.award is not None
        if o.no_return is not None:  # _hasReturn: the buyer's return window opens
            o.deadline = self._now() + self.timeouts.return_shipment
            self._set(o, status="ReturnPending")
            return self._sent(act, ReturnRequested(act.order_id, o.info.case_id, o.deadline))
        resolution = _DECISION_RESOLUTIONS[o.decision_kind or "JuryVerdict"] if decision \
            else "AwardExecuted"
        return self._sent(act, self._resolve_capped(o, resolution, o.award[0]))

    # -- the return stage (docs/contracts.md "Return and refund") -----------------------

    def submit_return_award(self, act: SubmitReturnAward) -> Sent[AwardSubmitted]:
        """As ``submitReturnAward``: both allocations checked, the arbitrator's ReturnAward
        signature; the objection window opens and the fallback is stored."""
        self._transport(act.KIND)
        o = self._order(act.order_id, "ArbitratorAppointed")
        self._before(o)
        self._award_allocation(o, act.allocation)
        self._award_allocation(o, act.no_return)
        typed = return_award_typed_data(self._typed_domain(), o.info.order_id, self._case(o),
                                        act.allocation, act.no_return,
                                        bytes.fromhex(act.award_hash.removeprefix("0x")))
        if not _same(_recover(typed_data_digest(typed), act.signature) or "", o.arbitrator):
            raise WrongSigner(act.order_id, o.arbitrator)
        o.deadline = self._objection_deadline(o)
        o.award = (act.allocation, act.award_hash.lower())
        o.no_return = act.no_return
        self._set(o, status="AwardSubmitted")
        return self._sent(act, AwardSubmitted(act.order_id, o.info.case_id, 0, act.allocation,
                                              act.award_hash.lower(), o.deadline))

    def submit_return_settlement(self, act: SubmitReturnSettlement) -> Sent[ReturnRequested]:
        """As ``submitReturnSettlement``: a frozen order outside the return stage, both
        allocations checked, both parties' signatures, each settlement used once; the refund
        waits as the pending award and the buyer's return window opens."""
        self._transport(act.KIND)
        o = self._known(act.order_id)
        if o.info.status not in _FROZEN or o.info.status in ("ReturnPending", "ReturnShipped"):
            raise WrongStatus(act.order_id, o.info.status)
        self._award_allocation(o, act.allocation)
        self._award_allocation(o, act.no_return)
        digest = typed_data_digest(return_settlement_typed_data(
            self._typed_domain(), act.order_id, self._case(o), act.allocation, act.no_return))
        for signer, signature in ((o.info.buyer, act.buyer_signature),
                                  (o.info.seller, act.seller_signature)):
            if not _same(_recover(digest, signature) or "", signer):
                raise WrongSigner(act.order_id, signer)
        if digest in self.return_settlements_used:
            raise SettlementUsed(act.order_id, "0x" + digest.hex())
        self.return_settlements_used.add(digest)
        o.award = (act.allocation, "0x" + digest.hex())
        o.no_return = act.no_return
        o.decision_kind = None
        o.deadline = self._now() + self.timeouts.return_shipment
        self._set(o, status="ReturnPending")
        return self._sent(act, ReturnRequested(act.order_id, o.info.case_id, o.deadline))

    def confirm_return_shipment(self, act: ConfirmReturnShipment) -> Observed:
        self._transport(act.KIND)
        order = self.read_order(act.order_id)
        if order.status == "ReturnPending":
            raise AwaitingParty(f"order {order.order_id} is {order.status}; the buyer's wallet "
                                "must call recordReturnShipment(orderId, tracking)")
        self.calls.append((act.KIND, act.to_json()))
        return Observed(order)

    def confirm_return_received(self, act: ConfirmReturnReceived) -> Sent[OrderResolved]:
        """As ``confirmReturnReceived`` sent by the institution: the refund, capped."""
        self._transport(act.KIND)
        o = self._order(act.order_id, "ReturnShipped")
        self._institution_only(o)
        assert o.award is not None
        return self._sent(act, self._resolve_capped(o, "ReturnReceived", o.award[0]))

    def confirm_return_dispute(self, act: ConfirmReturnDispute) -> Observed:
        self._transport(act.KIND)
        order = self.read_order(act.order_id)
        if order.status == "ReturnShipped":
            raise AwaitingParty(f"order {order.order_id} is {order.status}; the seller's "
                                "wallet must call disputeReturnReceipt(orderId)")
        self.calls.append((act.KIND, act.to_json()))
        return Observed(order)

    def appoint_jury(self, act: AppointJury) -> Sent[JuryAppointed]:
        self._transport(act.KIND)
        again = self._known(act.order_id).info.status == "JuryAppointed"
        o = self._order(act.order_id, "JuryAppointed" if again else "Disputed")
        self._institution_only(o)
        self._before(o)
        digest = "0x" + jury_hash(act.jurors, [a.as_tuple() for a in act.options]).hex()
        if int(o.jury, 16) and not again:
            raise InvalidJury(act.order_id)
        if not again:  # a replacement keeps the verdict's deadline
            o.deadline = self._now() + self.timeouts.award
        o.jury = digest
        self._set(o, status="JuryAppointed")
        return self._sent(act, JuryAppointed(act.order_id, o.info.case_id, digest, o.deadline))

    def submit_jury_verdict(self, act: SubmitJuryVerdict) -> Sent[DecisionSubmitted]:
        """As the contract: the appointed jury, each vote signed by its juror, a majority
        of a quorum for the winner, an award's allocation, the institution's signature."""
        from evidence.jury import vote_commitment, votes_hash

        self._transport(act.KIND)
        o = self._order(act.order_id, "JuryAppointed")
        self._before(o)
        try:
            ordered = jury_order(act.jurors)
            given = "0x" + jury_hash(ordered, [a.as_tuple() for a in act.options]).hex()
        except Exception:  # a duplicate or zero juror: the contract's ascending check
            raise InvalidNeutral(act.order_id, act.jurors[0]) from None
        if not act.options or given != o.jury:
            raise JuryMismatch(act.order_id)
        by_juror = {to_checksum_address(b.juror): b for b in act.ballots}
        case = self._case(o)
        revealed = majority = 0
        commitments: list[bytes | None] = []
        for juror in ordered:
            self._neutral(o, juror)
            b = by_juror.get(to_checksum_address(juror))
            if b is None or b.signature is None:
                commitments.append(None)
                continue
            salt = bytes.fromhex(b.salt.removeprefix("0x"))
            typed = jury_vote_typed_data(self._typed_domain(), case, juror, b.choice,
                                         b.reason_code, salt)
            if not _same(_recover(typed_data_digest(typed), b.signature) or "", juror):
                raise WrongSigner(act.order_id, juror)
            if b.choice >= len(act.options):
                raise JuryMismatch(act.order_id)
            commitments.append(vote_commitment(case, juror, b.choice, b.reason_code, salt))
            revealed += 1
            majority += b.choice == act.winner
        if 2 * revealed <= len(ordered) or 2 * majority <= revealed:
            raise NoJuryMajority(act.order_id, revealed, majority)
        allocation = act.options[act.winner]
        self._award_allocation(o, allocation)
        current = self.institution_of(o.info.institution)
        if not _same(self.institution, current):  # the Decision is signed by this port's key
            raise WrongSigner(act.order_id, current)
        decision_hash = "0x" + votes_hash(commitments).hex()
        o.deadline = self._objection_deadline(o)
        o.award = (allocation, decision_hash)
        o.decision_kind = "JuryVerdict"
        self._set(o, status="DecisionPending")
        return self._sent(act, DecisionSubmitted(act.order_id, o.info.case_id, "JuryVerdict",
                                                 allocation,
                                                 decision_hash, o.deadline))

    # -- the fast track (docs/jury.md "Fast track") -------------------------------------

    def submit_fast_track(self, act: SubmitFastTrack) -> Sent[DecisionSubmitted]:
        """``submitFastTrack``; the port signs the institution's ``Decision`` itself, so a
        port whose key is not the order's institution is refused as the contract refuses
        its signature (``WrongSigner``)."""
        self._transport(act.KIND)
        o = self._order(act.order_id, "Disputed")
        self._before(o)
        if not 0 < act.window_seconds <= self.timeouts.objection:
            raise InvalidTimeouts(act.order_id)
        self._award_allocation(o, act.allocation)
        current = self.institution_of(o.info.institution)
        if not _same(self.institution, current):
            raise WrongSigner(act.order_id, current)
        now = self._now()
        o.deadline = min(self._objection_deadline(o), now + act.window_seconds)
        o.award = (act.allocation, act.report_hash.lower())
        o.decision_kind = "FastTrack"
        self._set(o, status="DecisionPending")
        return self._sent(act, DecisionSubmitted(
            act.order_id, o.info.case_id, "FastTrack", act.allocation,
            "0x" + fast_track_decision_hash(bytes.fromhex(act.report_hash[2:]),
                                            act.window_seconds).hex(), o.deadline))

    def submit_panel_award(self, act: SubmitPanelAward) -> Sent[OrderResolved]:
        self._transport(act.KIND)
        o = self._order(act.order_id, "PanelAppointed")
        self._before(o)
        self._award_allocation(o, act.allocation)
        digest = self._award_digest(o, act.allocation, act.award_hash, 1)
        valid = 0
        for member, signature in zip(o.panel, act.signatures, strict=True):
            if not signature:
                continue
            if not _same(_recover(digest, signature) or "", member):
                raise WrongSigner(act.order_id, member)
            valid += 1
        if valid < 2:
            raise QuorumNotReached(act.order_id, valid)
        return self._sent(act, self._resolve_capped(o, "PanelAwardExecuted", act.allocation))

    def execute_settlement(self, act: ExecuteSettlement) -> Sent[OrderResolved]:
        self._transport(act.KIND)
        o = self._known(act.order_id)
        if o.info.status not in _FROZEN:
            raise WrongStatus(act.order_id, o.info.status)
        self._sum(o, act.allocation)
        available = self._guarantee(o).balance + o.advanced
        if act.allocation.compensation > available:
            raise InsufficientGuarantee(act.order_id, available, act.allocation.compensation)
        typed = settlement_typed_data(self._typed_domain(), act.order_id, self._case(o),
                                      act.allocation)
        digest = typed_data_digest(typed)
        for signer, signature in ((o.info.buyer, act.buyer_signature),
                                  (o.info.seller, act.seller_signature)):
            if not _same(_recover(digest, signature) or "", signer):
                raise WrongSigner(act.order_id, signer)
        return self._sent(act, self._finish(o, "Settled", act.allocation, 0))

    def refund_on_timeout(self, act: RefundOnTimeout) -> Sent[OrderResolved]:
        self._transport(act.KIND)
        o = self._known(act.order_id)
        status = o.info.status
        if status == "ReturnShipped" and o.award is not None:  # deemed received: the refund
            resolution, allocation = "ReturnDeemedReceived", o.award[0]
        elif status == "ReturnPending" and o.no_return is not None:  # not shipped: fallback
            resolution, allocation = "ReturnNotShipped", o.no_return
        else:
            resolution, allocation = _TIMEOUT_RESOLUTIONS.get(status, ""), Allocation(
                o.info.amount, 0, 0)
        if not resolution:
            raise WrongStatus(act.order_id, o.info.status)
        if self._now() < o.deadline:
            raise NotYet(act.order_id, o.deadline)
        if status in ("ReturnPending", "ReturnShipped"):
            return self._sent(act, self._resolve_capped(o, resolution, allocation))
        return self._sent(act, self._finish(o, resolution, allocation, 0))

    def advance_refund(self, act: AdvanceRefund) -> Sent[AdvanceRefunded]:
        """As ``advanceRefund``: in dispute, by the order's institution, once the delivery
        deadline has come, in the order's token, at most the amount less earlier advances
        and at most the guarantee's balance."""
        self._transport(act.KIND)
        o = self._known(act.order_id)
        if o.info.status not in _FROZEN:
            raise WrongStatus(act.order_id, o.info.status)
        self._institution_only(o)
        if self._now() < o.info.delivery_deadline:
            raise NotYet(act.order_id, o.info.delivery_deadline)
        if not _same(act.token, o.info.token):
            raise WrongToken(act.order_id, to_checksum_address(act.token))
        if act.amount == 0:
            raise ZeroAmount(act.order_id)
        g = self._guarantee(o)
        cap = min(o.info.amount - o.advanced, g.balance)
        if act.amount > cap:
            raise AdvanceAboveCap(act.order_id, cap, act.amount)
        g.balance -= act.amount
        o.advanced += act.amount
        return self._sent(act, AdvanceRefunded(act.order_id, o.info.case_id, act.amount,
                                               o.advanced))

    # -- the contract's checks and effects --------------------------------------------

    def _transport(self, kind: str) -> None:
        if kind in self.fail_next:
            self.fail_next.remove(kind)
            raise ConnectionError(f"node unreachable while sending {kind} (injected)")

    def _known(self, order_id: int) -> _Order:
        # The contract reads an unknown order as all zero with status None.
        return self._orders.get(order_id) or _Order(OrderInfo(
            order_id=order_id, buyer=ZERO_ADDRESS, seller=ZERO_ADDRESS, amount=0,
            token=ZERO_ADDRESS, institution=ZERO_ADDRESS, status="None", case_id=ZERO_CASE,
            guarantee=0))

    def _order(self, order_id: int, status: str) -> _Order:
        o = self._known(order_id)
        if o.info.status != status:
            raise WrongStatus(order_id, o.info.status)
        return o

    def _institution_only(self, o: _Order) -> None:
        if not _same(self.institution, self.institution_of(o.info.institution)):
            raise NotAuthorized(o.info.order_id, self.institution)

    def _before(self, o: _Order) -> None:
        if self._now() >= o.deadline:
            raise TooLate(o.info.order_id, o.deadline)

    def _neutral(self, o: _Order, neutral: str) -> None:
        if int(neutral, 16) == 0 or _same(neutral, o.info.buyer) or _same(neutral, o.info.seller):
            raise InvalidNeutral(o.info.order_id, neutral)

    def _sum(self, o: _Order, allocation: Allocation) -> None:
        allocated = allocation.to_buyer + allocation.to_seller
        if allocated != o.info.amount:
            raise AllocationMismatch(o.info.order_id, o.info.amount, allocated)

    def _award_allocation(self, o: _Order, allocation: Allocation) -> None:
        self._sum(o, allocation)
        if allocation.compensation > o.info.amount:
            raise CompensationAboveCap(o.info.order_id, o.info.amount, allocation.compensation)

    def _case(self, o: _Order) -> bytes:
        return bytes.fromhex(o.info.case_id.removeprefix("0x"))

    def _award_digest(self, o: _Order, allocation: Allocation, award_hash: str,
                      round_: int) -> bytes:
        typed = award_typed_data(self._typed_domain(), o.info.order_id, self._case(o), allocation,
                                 bytes.fromhex(award_hash.removeprefix("0x")), round_)
        return typed_data_digest(typed)

    def _objection_deadline(self, o: _Order) -> int:
        """The contract's ``_objectionDeadline``: none once the order's objection is spent."""
        now = self._now()
        return now if o.objection_spent else now + self.timeouts.objection

    def _guarantee(self, o: _Order) -> _Guarantee:
        return self.guarantees.setdefault((o.info.seller.lower(), o.info.token.lower()),
                                          _Guarantee())

    def _set(self, o: _Order, status: str, *, case_id: str | None = None) -> None:
        o.info = replace(o.info, status=status,
                         case_id=o.info.case_id if case_id is None else case_id)

    def _resolve_capped(self, o: _Order, resolution: str, allocation: Allocation
                        ) -> OrderResolved:
        available = self._guarantee(o).balance + o.advanced
        paid = min(allocation.compensation, available)
        return self._finish(o, resolution, replace(allocation, compensation=paid),
                            allocation.compensation - paid)

    def _finish(self, o: _Order, resolution: str, allocation: Allocation,
                shortfall: int) -> OrderResolved:
        if o.info.status in _FROZEN:
            g = self._guarantee(o)
            g.balance += o.advanced  # the escrowed amount repays the advances first
            g.locked -= o.info.amount
            g.balance -= allocation.compensation
        o.award = None
        o.no_return = None
        o.decision_kind = None
        o.deadline = 0
        o.resolution = resolution
        self._set(o, status="Resolved")
        return OrderResolved(o.info.order_id, resolution, allocation, shortfall)

    def _sent(self, act: ActionPayload, event: Any) -> Sent[Any]:
        self.calls.append((act.KIND, act.to_json()))
        self._tx += 1
        return Sent(tx_hash="0x" + f"{self._tx:064x}", block_number=self._tx, event=event)
