# ruff: noqa: N818  -- AwaitingParty and NotYet are states to wait in, not failures.
"""The escrow port: one typed method per act of ArbitrationEscrow the service performs.

Theory of operation:

* Each act the service asks of the escrow is a frozen payload dataclass (``AppointArbitrator``,
  ``SubmitAward``, ``ExecuteSettlement`` ...) whose ``KIND`` is the ``ChainAction.kind`` it is
  stored under and whose ``to_json``/``from_json`` are the row's payload, in the format rows
  have always had (old rows still decode). ``ACTIONS`` declares the kinds once.
* ``EscrowPort`` has one method per act. A sent transaction returns ``Sent``: its hash, its
  block and the escrow event read back from its receipt (``ArbitratorAppointed``,
  ``PanelAppointed``, ``AwardSubmitted``, ``OrderResolved``). Acts only a party's wallet can
  perform (raiseDispute, objectToAward) are observed: ``Observed`` once the order shows them,
  ``AwaitingParty`` before.
* The escrow's custom errors become ``EscrowRefusal`` subclasses, one per rule the contract
  enforces (``NotYet`` for ``ArbitrationEscrowTooEarly`` ...), so every implementation (the
  deployed contract through web3, the in-memory model of ``escrow_fake``) refuses the same
  input with the same type; tests/backend/gateway/test_escrow_port_behaviour.py holds them to it.

This module is pure: no web3, no database.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, ClassVar, Generic, Protocol, TypeVar

from evidence.orders import Allocation
from evidence.records import Domain
from evidence.safejson import JSON, JsonObject

__all__ = [
    "ACTIONS",
    "ActionPayload",
    "AdvanceAboveCap",
    "AdvanceRefund",
    "AdvanceRefunded",
    "AllocationMismatch",
    "AppointArbitrator",
    "AppointJury",
    "AppointPanel",
    "ArbitratorAppointed",
    "AwaitingParty",
    "AwardSubmitted",
    "Ballot",
    "CompensationAboveCap",
    "ConfirmDispute",
    "ConfirmObjection",
    "ConfirmReturnDispute",
    "ConfirmReturnReceived",
    "ConfirmReturnShipment",
    "DecisionSubmitted",
    "EscrowEvent",
    "EscrowPort",
    "EscrowRefusal",
    "ExecuteAward",
    "ExecuteSettlement",
    "InsufficientGuarantee",
    "InvalidJury",
    "InvalidNeutral",
    "InvalidTimeouts",
    "JuryAppointed",
    "JuryMismatch",
    "NoJuryMajority",
    "NotAuthorized",
    "NotYet",
    "Observed",
    "OrderInfo",
    "OrderResolved",
    "Outcome",
    "PanelAppointed",
    "QuorumNotReached",
    "RefundOnTimeout",
    "ReturnRequested",
    "Sent",
    "SettlementUsed",
    "SubmitAward",
    "SubmitFastTrack",
    "SubmitJuryVerdict",
    "SubmitPanelAward",
    "SubmitReturnAward",
    "SubmitReturnSettlement",
    "TokenMeta",
    "TooLate",
    "UnknownOrder",
    "WrongSigner",
    "WrongStatus",
    "WrongToken",
    "ZeroAmount",
    "appointment",
    "decode_action",
    "perform",
]

# The escrow's Status enum names (contracts/ArbitrationEscrow.sol), as OrderInfo.status holds them.
STATUSES = ("None", "Paid", "Disputed", "ArbitratorAppointed", "AwardSubmitted", "Objected",
            "PanelAppointed", "Resolved", "JuryAppointed", "DecisionPending",
            "ReturnPending", "ReturnShipped")
DISPUTED_OR_LATER = frozenset(STATUSES[2:])
OBJECTED_OR_LATER = frozenset({"Objected", "PanelAppointed", "Resolved"})
# The return stage of a return-and-refund award (docs/contracts.md "Return and refund").
RETURN_STATUSES = frozenset({"ReturnPending", "ReturnShipped"})


# --- what the service reads --------------------------------------------------------------


@dataclass(frozen=True)
class OrderInfo:
    """What the service reads of an escrow order through the port, from any implementation.

    Not `backend.chain.contracts.Order` (the contract's row, web3 side) nor
    `evidence.orders.OrderTerms` (what a verifier reads from ``OrderOpened``): the port
    answers with the status by name, the case id as hex, and the seller's guarantee balance,
    which no order row holds; the in-memory escrow builds it without a chain. The service
    turns it into the procedure's `Order` when it opens a case.
    """

    order_id: int
    buyer: str
    seller: str
    amount: int
    token: str
    institution: str
    status: str  # one of STATUSES
    case_id: str  # 0x-hex bytes32 (zero before a dispute)
    guarantee: int  # the seller's guarantee balance in the order's token
    delivery_deadline: int = 0  # unix time
    rules_hash: str = "0x" + "00" * 32  # 0x-hex bytes32
    contract_hash: str = "0x" + "00" * 32  # the contract of sale it binds (zero: none)
    advanced: int = 0  # advance refunds paid to the buyer from the seller's guarantee


@dataclass(frozen=True)
class TokenMeta:
    """How an order's token is written: its symbol and decimals (ETH for the zero address;
    a token that does not say is shown by its address, 18 decimals)."""

    symbol: str
    decimals: int


ETH_META = TokenMeta("ETH", 18)


# --- refusals: the contract's custom errors, one type per rule ----------------------------


class AwaitingParty(Exception):
    """The act is a party's (its wallet must send it); not yet seen on-chain."""


class EscrowRefusal(Exception):
    """The escrow refuses the act (a revert with one of its custom errors). Abstract."""

    def __new__(cls, *args: object, **kwargs: object) -> EscrowRefusal:
        if cls is EscrowRefusal:
            raise TypeError("EscrowRefusal is abstract; raise one of its subclasses")
        return super().__new__(cls)

    def __init__(self, order_id: int, message: str) -> None:
        super().__init__(f"order {order_id}: {message}")
        self.order_id = order_id


class UnknownOrder(EscrowRefusal, LookupError):
    """No such order on the escrow."""

    def __init__(self, order_id: int) -> None:
        Exception.__init__(self, f"order {order_id} does not exist on the escrow")
        self.order_id = order_id


class NotYet(EscrowRefusal):
    """``ArbitrationEscrowTooEarly``: a window is open until ``not_before`` (unix time); the
    act waits for it, spending no attempt (the procedure's deadline can fall before the
    contract's)."""

    def __init__(self, order_id: int, not_before: int) -> None:
        super().__init__(order_id, f"the escrow's window is open until unix time {not_before}")
        self.not_before = not_before


class TooLate(EscrowRefusal):
    """``ArbitrationEscrowTooLate``: the deadline for this act has passed."""

    def __init__(self, order_id: int, deadline: int) -> None:
        super().__init__(order_id, f"the deadline (unix time {deadline}) has passed")
        self.deadline = deadline


class WrongStatus(EscrowRefusal):
    """``ArbitrationEscrowInvalidStatus``: the order is not in a status that allows the act
    (paying twice ends here: a resolved order refuses every payout)."""

    def __init__(self, order_id: int, status: str) -> None:
        super().__init__(order_id, f"the order is {status}, which does not allow this act")
        self.status = status


class WrongSigner(EscrowRefusal):
    """``ArbitrationEscrowInvalidSignature``: ``expected`` did not sign these terms."""

    def __init__(self, order_id: int, expected: str) -> None:
        super().__init__(order_id, f"the signature is not {expected}'s over these terms")
        self.expected = expected


class AllocationMismatch(EscrowRefusal):
    """``ArbitrationEscrowAllocationMismatch``: to_buyer + to_seller != the escrowed amount."""

    def __init__(self, order_id: int, amount: int, allocated: int) -> None:
        super().__init__(order_id, f"expected to_buyer + to_seller = {amount}, found {allocated}")
        self.amount, self.allocated = amount, allocated


class CompensationAboveCap(EscrowRefusal):
    """``ArbitrationEscrowCompensationAboveCap``: an award's compensation exceeds the amount."""

    def __init__(self, order_id: int, cap: int, compensation: int) -> None:
        super().__init__(order_id, f"compensation {compensation} is above the cap {cap}")
        self.cap, self.compensation = cap, compensation


class InsufficientGuarantee(EscrowRefusal):
    """``ArbitrationEscrowInsufficientGuarantee``: a settlement's compensation exceeds the
    seller's guarantee (a settlement is never paid short)."""

    def __init__(self, order_id: int, available: int, needed: int) -> None:
        super().__init__(order_id, f"the guarantee holds {available}, the settlement needs "
                                   f"{needed}")
        self.available, self.needed = available, needed


class SettlementUsed(EscrowRefusal):
    """``ArbitrationEscrowReturnSettlementUsed``: these signatures already started a return
    stage (after a disputed receipt the parties must sign another return settlement)."""

    def __init__(self, order_id: int, digest: str) -> None:
        super().__init__(order_id, f"the return settlement {digest} was already used")
        self.digest = digest


class NotAuthorized(EscrowRefusal):
    """``ArbitrationEscrowUnauthorizedCaller``: the sender may not perform this act."""

    def __init__(self, order_id: int, caller: str) -> None:
        super().__init__(order_id, f"{caller} may not perform this act")
        self.caller = caller


class InvalidNeutral(EscrowRefusal):
    """``ArbitrationEscrowInvalidNeutral``: a party, the zero address, a repeated panelist or
    the sole arbitrator named to the panel."""

    def __init__(self, order_id: int, neutral: str) -> None:
        super().__init__(order_id, f"{neutral} cannot be appointed")
        self.neutral = neutral


class InvalidTimeouts(EscrowRefusal):
    """``ArbitrationEscrowInvalidTimeouts``: a fast track's window of 0 or longer than the
    escrow's objection window."""

    def __init__(self, order_id: int) -> None:
        super().__init__(order_id, "the window is 0 or longer than the escrow's objection "
                                   "window")


class QuorumNotReached(EscrowRefusal):
    """``ArbitrationEscrowPanelQuorumNotReached``: fewer than two panelists signed."""

    def __init__(self, order_id: int, valid: int) -> None:
        super().__init__(order_id, f"{valid} valid panel signature(s), 2 needed")
        self.valid = valid


class InvalidJury(EscrowRefusal):
    """ArbitrationEscrowInvalidJury: a zero jury hash, or the order already had a jury."""

    def __init__(self, order_id: int) -> None:
        super().__init__(order_id, "a jury hash must be non-zero, and an order has one jury")


class JuryMismatch(EscrowRefusal):
    """ArbitrationEscrowJuryMismatch: not the appointed jurors and options, or a choice
    outside the options."""

    def __init__(self, order_id: int) -> None:
        super().__init__(order_id, "not the appointed jury and options, or a choice outside "
                                   "the options")


class NoJuryMajority(EscrowRefusal):
    """ArbitrationEscrowNoJuryMajority: no quorum, or no option holds more than half."""

    def __init__(self, order_id: int, revealed: int, top: int) -> None:
        super().__init__(order_id, f"{revealed} vote(s) revealed, {top} for the winner: no "
                                   "majority of a quorum")
        self.revealed = revealed
        self.top = top


class AdvanceAboveCap(EscrowRefusal):
    """``ArbitrationEscrowAdvanceAboveCap``: an advance refund above what the order's amount
    leaves after earlier advances, or above the seller's guarantee balance."""

    def __init__(self, order_id: int, cap: int, requested: int) -> None:
        super().__init__(order_id, f"advance refund {requested} is above the cap {cap}")
        self.cap, self.requested = cap, requested


class WrongToken(EscrowRefusal):
    """``ArbitrationEscrowInvalidToken``: the act names another token than the order's."""

    def __init__(self, order_id: int, token: str) -> None:
        super().__init__(order_id, f"{token} is not the order's token")
        self.token = token


class ZeroAmount(EscrowRefusal):
    """``ArbitrationEscrowZeroAmount``: an amount of zero."""

    def __init__(self, order_id: int) -> None:
        super().__init__(order_id, "the amount must be positive")


# --- what the escrow reports back ---------------------------------------------------------


@dataclass(frozen=True)
class ArbitratorAppointed:
    order_id: int
    case_id: str
    arbitrator: str
    deadline: int


@dataclass(frozen=True)
class PanelAppointed:
    order_id: int
    case_id: str
    panel: tuple[str, str, str]
    deadline: int


@dataclass(frozen=True)
class AwardSubmitted:
    order_id: int
    case_id: str
    round: int
    allocation: Allocation
    award_hash: str
    deadline: int  # end of the objection window (0 for the panel's final award)


@dataclass(frozen=True)
class DecisionSubmitted:
    """An institution-signed decision is pending (``kind``: JuryVerdict or FastTrack); the
    parties may object until ``deadline``."""

    order_id: int
    case_id: str
    kind: str
    allocation: Allocation
    decision_hash: str
    deadline: int


@dataclass(frozen=True)
class OrderResolved:
    """The order paid out; ``resolution`` is the contract's Resolution name."""

    order_id: int
    resolution: str
    allocation: Allocation  # what was paid (compensation capped by the guarantee)
    shortfall: int  # awarded compensation the guarantee could not cover


@dataclass(frozen=True)
class JuryAppointed:
    order_id: int
    case_id: str
    jury_hash: str
    deadline: int  # the verdict is due before it


@dataclass(frozen=True)
class AdvanceRefunded:
    """The buyer was paid ``amount`` in advance from the seller's guarantee; the order's
    advances now total ``total``."""

    order_id: int
    case_id: str
    amount: int
    total: int


@dataclass(frozen=True)
class ReturnRequested:
    """A return-and-refund award was executed: the escrow holds the money while the buyer
    ships the goods back by ``deadline`` (status ReturnPending; nothing paid yet)."""

    order_id: int
    case_id: str
    deadline: int


EscrowEvent = (ArbitratorAppointed | PanelAppointed | AwardSubmitted | OrderResolved
               | JuryAppointed | DecisionSubmitted | AdvanceRefunded | ReturnRequested)
E = TypeVar("E", ArbitratorAppointed, PanelAppointed, AwardSubmitted, OrderResolved,
            JuryAppointed, DecisionSubmitted, AdvanceRefunded, ReturnRequested)


@dataclass(frozen=True)
class Sent(Generic[E]):
    """A mined transaction of the institution and the escrow event it emitted."""

    tx_hash: str
    block_number: int
    event: E


@dataclass(frozen=True)
class Observed:
    """A party's own act, seen on-chain (the service sent nothing)."""

    order: OrderInfo


# --- the acts (ChainAction payloads) --------------------------------------------------------


def _hex(value: bytes) -> str:
    return "0x" + value.hex()


# An act's JSON is what its ``to_json`` wrote (a ChainAction row's payload): the readers
# below take its members as JSON and refuse a member of another kind (TypeError).


def _bytes(value: JSON) -> bytes:
    return bytes.fromhex(_text(value).removeprefix("0x"))


def _text(value: JSON) -> str:
    if not isinstance(value, str):
        raise TypeError(f"expected a string, found {value!r}")
    return value


def _int(value: JSON) -> int:
    """An integer member: a uint as a decimal string, or a small int as a JSON number."""
    if isinstance(value, bool) or not isinstance(value, int | str):
        raise TypeError(f"expected an integer, found {value!r}")
    return int(value)


def _list(value: JSON) -> list[JSON]:
    if not isinstance(value, list):
        raise TypeError(f"expected a list, found {value!r}")
    return value


def _object(value: JSON) -> JsonObject:
    if not isinstance(value, dict):
        raise TypeError(f"expected an object, found {value!r}")
    return value


def _allocation(value: JSON) -> Allocation:
    obj = _object(value)
    return Allocation(_int(obj["to_buyer"]), _int(obj["to_seller"]), _int(obj["compensation"]))


def _allocation_json(a: Allocation) -> JsonObject:
    return {"to_buyer": a.to_buyer, "to_seller": a.to_seller, "compensation": a.compensation}


@dataclass(frozen=True, kw_only=True)
class _Act:
    """Every act names its order and the case (0x-hex bytes32) it is done for."""

    KIND: ClassVar[str] = ""
    order_id: int
    case_id: str

    def _json(self) -> JsonObject:
        return {"orderId": str(self.order_id), "caseId": self.case_id}

    def to_json(self) -> JsonObject:
        return self._json()

    @classmethod
    def _ids(cls, obj: Mapping[str, JSON]) -> dict[str, Any]:
        return {"order_id": _int(obj["orderId"]), "case_id": str(obj.get("caseId", ""))}


@dataclass(frozen=True, kw_only=True)
class ConfirmDispute(_Act):
    """The claimant's wallet raised the dispute (raiseDispute) under this case id."""

    KIND: ClassVar[str] = "freeze"

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> ConfirmDispute:
        return cls(**cls._ids(obj))


@dataclass(frozen=True, kw_only=True)
class ConfirmObjection(_Act):
    """A party's wallet objected to the round-0 award, or (``decision``) to the pending
    decision: a jury's verdict or a fast-track proposal (objectToAward)."""

    KIND: ClassVar[str] = "object"
    party: str | None = None
    decision: bool = False

    def to_json(self) -> JsonObject:
        return {**self._json(), "party": self.party,
                **({"decision": True} if self.decision else {})}

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> ConfirmObjection:
        party = obj.get("party")
        return cls(**cls._ids(obj), party=None if party is None else _text(party),
                   decision=bool(obj.get("decision", False)))


@dataclass(frozen=True, kw_only=True)
class AppointArbitrator(_Act):
    KIND: ClassVar[str] = "appoint_arbitrator"
    arbitrator: str

    def to_json(self) -> JsonObject:
        return {**self._json(), "arbitrators": [self.arbitrator]}

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> AppointArbitrator:
        return cls(**cls._ids(obj), arbitrator=str(_list(obj["arbitrators"])[0]))


@dataclass(frozen=True, kw_only=True)
class AppointPanel(_Act):
    KIND: ClassVar[str] = "appoint_panel"
    panel: tuple[str, str, str]

    def to_json(self) -> JsonObject:
        return {**self._json(), "arbitrators": list(self.panel)}

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> AppointPanel:
        a, b, c = (str(x) for x in _list(obj["arbitrators"]))
        return cls(**cls._ids(obj), panel=(a, b, c))


@dataclass(frozen=True, kw_only=True)
class ExecuteSettlement(_Act):
    """The allocation both parties signed (EIP-712 ``Settlement``)."""

    KIND: ClassVar[str] = "execute_settlement"
    allocation: Allocation
    buyer_signature: bytes
    seller_signature: bytes

    def to_json(self) -> JsonObject:
        return {**self._json(), "allocation": _allocation_json(self.allocation),
                "buyerSignature": _hex(self.buyer_signature) if self.buyer_signature else "",
                "sellerSignature": _hex(self.seller_signature) if self.seller_signature else ""}

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> ExecuteSettlement:
        return cls(**cls._ids(obj), allocation=_allocation(obj["allocation"]),
                   buyer_signature=_bytes(obj["buyerSignature"]),
                   seller_signature=_bytes(obj["sellerSignature"]))


@dataclass(frozen=True, kw_only=True)
class SubmitAward(_Act):
    """The sole arbitrator's round-0 award and signature (EIP-712 ``Award``, round 0)."""

    KIND: ClassVar[str] = "submit_award"
    allocation: Allocation
    award_hash: str
    signature: bytes

    def to_json(self) -> JsonObject:
        return {**self._json(), "allocation": _allocation_json(self.allocation),
                "awardHash": self.award_hash, "signature": _hex(self.signature)}

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> SubmitAward:
        return cls(**cls._ids(obj), allocation=_allocation(obj["allocation"]),
                   award_hash=str(obj["awardHash"]), signature=_bytes(obj["signature"]))


@dataclass(frozen=True, kw_only=True)
class ExecuteAward(_Act):
    """Execute the round-0 award, or (``decision``) the pending decision (a jury's verdict, a
    fast-track proposal), once its objection window has passed (executeAward); ``allocation``
    is the award's or decision's (what the service records; the escrow pays what it stored).
    A decision's execution is refused unless the order holds a pending decision."""

    KIND: ClassVar[str] = "execute_award"
    allocation: Allocation | None = None
    decision: bool = False

    def to_json(self) -> JsonObject:
        return {**self._json(), "allocation": None if self.allocation is None
                else _allocation_json(self.allocation),
                **({"decision": True} if self.decision else {})}

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> ExecuteAward:
        raw = obj.get("allocation")
        return cls(**cls._ids(obj), allocation=None if raw is None else _allocation(raw),
                   decision=bool(obj.get("decision", False)))


@dataclass(frozen=True, kw_only=True)
class SubmitPanelAward(_Act):
    """The panel's round-1 award; ``signatures[i]`` is panelist i's (None: did not sign)."""

    KIND: ClassVar[str] = "submit_panel_award"
    allocation: Allocation
    award_hash: str
    signatures: tuple[bytes | None, bytes | None, bytes | None]

    def to_json(self) -> JsonObject:
        return {**self._json(), "allocation": _allocation_json(self.allocation),
                "awardHash": self.award_hash,
                "signatures": [_hex(s) if s else "" for s in self.signatures]}

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> SubmitPanelAward:
        a, b, c = (_bytes(s) if s else None for s in _list(obj["signatures"]))
        return cls(**cls._ids(obj), allocation=_allocation(obj["allocation"]),
                   award_hash=str(obj["awardHash"]), signatures=(a, b, c))


@dataclass(frozen=True, kw_only=True)
class RefundOnTimeout(_Act):
    """Refund the buyer in full: an appointment or award is overdue; or end the return stage
    as its award said: the fallback when not shipped, the refund when deemed received
    (resolveByTimeout; the ``OrderResolved`` event names which)."""

    KIND: ClassVar[str] = "resolve_by_timeout"

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> RefundOnTimeout:
        return cls(**cls._ids(obj))


@dataclass(frozen=True)
class Ballot:
    """One juror's vote as the escrow counts it: the revealed choice, reason code and salt
    and the juror's EIP-712 ``JuryVote`` signature (None: absent)."""

    juror: str
    choice: int = 0
    reason_code: int = 0
    salt: str = "0x" + "00" * 32
    signature: bytes | None = None

    def to_json(self) -> JsonObject:
        return {"juror": self.juror, "choice": self.choice, "reasonCode": self.reason_code,
                "salt": self.salt,
                "signature": None if self.signature is None else _hex(self.signature)}

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> Ballot:
        sig = obj.get("signature")
        return cls(str(obj["juror"]), _int(obj["choice"]), _int(obj["reasonCode"]),
                   str(obj["salt"]), None if sig is None else _bytes(sig))


@dataclass(frozen=True, kw_only=True)
class AppointJury(_Act):
    """Fix the drawn jury and its allocation options on the escrow (appointJury)."""

    KIND: ClassVar[str] = "appoint_jury"
    jurors: tuple[str, ...]
    options: tuple[Allocation, ...]

    def to_json(self) -> JsonObject:
        return {**self._json(), "jurors": list(self.jurors),
                "options": [_allocation_json(o) for o in self.options]}

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> AppointJury:
        return cls(**cls._ids(obj), jurors=tuple(str(j) for j in _list(obj["jurors"])),
                   options=tuple(_allocation(o) for o in _list(obj["options"])))


@dataclass(frozen=True, kw_only=True)
class SubmitJuryVerdict(_Act):
    """The jury's verdict: the appointed jury and options, the winning option and every
    juror's ballot; the port signs the ``Decision`` as the institution (docs/jury.md)."""

    KIND: ClassVar[str] = "submit_jury_verdict"
    jurors: tuple[str, ...]
    options: tuple[Allocation, ...]
    winner: int
    ballots: tuple[Ballot, ...]

    def to_json(self) -> JsonObject:
        return {**self._json(), "jurors": list(self.jurors),
                "options": [_allocation_json(o) for o in self.options], "winner": self.winner,
                "ballots": [b.to_json() for b in self.ballots]}

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> SubmitJuryVerdict:
        return cls(**cls._ids(obj), jurors=tuple(str(j) for j in _list(obj["jurors"])),
                   options=tuple(_allocation(o) for o in _list(obj["options"])),
                   winner=_int(obj["winner"]),
                   ballots=tuple(Ballot.from_json(_object(b)) for b in _list(obj["ballots"])))
# -- the fast track (docs/jury.md "Fast track") ------------------------------------------


@dataclass(frozen=True, kw_only=True)
class SubmitFastTrack(_Act):
    """The fast track's proposal as the escrow's pending decision (``submitFastTrack``): its
    allocation, the report's hash and the window, signed by the institution (EIP-712
    ``Decision`` of kind FastTrack; the port signs with the institution key)."""

    KIND: ClassVar[str] = "submit_fast_track"
    allocation: Allocation
    report_hash: str
    window_seconds: int

    def to_json(self) -> JsonObject:
        return {**self._json(), "allocation": _allocation_json(self.allocation),
                "reportHash": self.report_hash, "windowSeconds": self.window_seconds}

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> SubmitFastTrack:
        return cls(**cls._ids(obj), allocation=_allocation(obj["allocation"]),
                   report_hash=str(obj["reportHash"]),
                   window_seconds=_int(obj["windowSeconds"]))


@dataclass(frozen=True, kw_only=True)
class AdvanceRefund(_Act):
    """Pay the buyer ``amount`` of ``token`` (the order's, named again) in advance from the
    seller's guarantee: the seller missed the delivery deadline (advanceRefund)."""

    KIND: ClassVar[str] = "advance_refund"
    token: str
    amount: int

    def to_json(self) -> JsonObject:
        return {**self._json(), "token": self.token, "amount": str(self.amount)}

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> AdvanceRefund:
        return cls(**cls._ids(obj), token=str(obj["token"]), amount=_int(obj["amount"]))


# -- the return stage (docs/contracts.md "Return and refund") ------------------------------


@dataclass(frozen=True, kw_only=True)
class SubmitReturnAward(_Act):
    """The sole arbitrator's return-and-refund award (EIP-712 ``ReturnAward``): the refund
    (``allocation``), paid once the goods are back, and the fallback (``no_return``), paid if
    the buyer misses the return window (``submitReturnAward``)."""

    KIND: ClassVar[str] = "submit_return_award"
    allocation: Allocation
    no_return: Allocation
    award_hash: str
    signature: bytes

    def to_json(self) -> JsonObject:
        return {**self._json(), "allocation": _allocation_json(self.allocation),
                "noReturn": _allocation_json(self.no_return), "awardHash": self.award_hash,
                "signature": _hex(self.signature)}

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> SubmitReturnAward:
        return cls(**cls._ids(obj), allocation=_allocation(obj["allocation"]),
                   no_return=_allocation(obj["noReturn"]), award_hash=str(obj["awardHash"]),
                   signature=_bytes(obj["signature"]))


@dataclass(frozen=True, kw_only=True)
class SubmitReturnSettlement(_Act):
    """A return-and-refund settlement both parties signed (EIP-712 ``ReturnSettlement``): the
    refund (``allocation``) once the goods are back, the fallback (``no_return``) if the buyer
    misses the return window; the return stage starts at once (``submitReturnSettlement``)."""

    KIND: ClassVar[str] = "submit_return_settlement"
    allocation: Allocation
    no_return: Allocation
    buyer_signature: bytes
    seller_signature: bytes

    def to_json(self) -> JsonObject:
        return {**self._json(), "allocation": _allocation_json(self.allocation),
                "noReturn": _allocation_json(self.no_return),
                "buyerSignature": _hex(self.buyer_signature),
                "sellerSignature": _hex(self.seller_signature)}

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> SubmitReturnSettlement:
        return cls(**cls._ids(obj), allocation=_allocation(obj["allocation"]),
                   no_return=_allocation(obj["noReturn"]),
                   buyer_signature=_bytes(obj["buyerSignature"]),
                   seller_signature=_bytes(obj["sellerSignature"]))


@dataclass(frozen=True, kw_only=True)
class ConfirmReturnShipment(_Act):
    """The buyer's wallet recorded the return shipment's tracking commitment
    (``recordReturnShipment``: the escrow takes only the buyer as sender)."""

    KIND: ClassVar[str] = "return_shipped"
    tracking: str

    def to_json(self) -> JsonObject:
        return {**self._json(), "tracking": self.tracking}

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> ConfirmReturnShipment:
        return cls(**cls._ids(obj), tracking=str(obj["tracking"]))


@dataclass(frozen=True, kw_only=True)
class ConfirmReturnReceived(_Act):
    """The institution confirms the return arrived (``confirmReturnReceived``, on the
    seller's signed step or the carrier's delivered event); the escrow pays the refund,
    ``allocation`` (what the service records)."""

    KIND: ClassVar[str] = "confirm_return_received"
    allocation: Allocation

    def to_json(self) -> JsonObject:
        return {**self._json(), "allocation": _allocation_json(self.allocation)}

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> ConfirmReturnReceived:
        return cls(**cls._ids(obj), allocation=_allocation(obj["allocation"]))


@dataclass(frozen=True, kw_only=True)
class ConfirmReturnDispute(_Act):
    """The seller's wallet disputed the return's receipt (``disputeReturnReceipt``: the
    order is Disputed again)."""

    KIND: ClassVar[str] = "return_disputed"

    @classmethod
    def from_json(cls, obj: Mapping[str, JSON]) -> ConfirmReturnDispute:
        return cls(**cls._ids(obj))


ActionPayload = (ConfirmDispute | ConfirmObjection | AppointArbitrator | AppointPanel
                 | ExecuteSettlement | SubmitAward | ExecuteAward | SubmitPanelAward
                 | RefundOnTimeout | AppointJury | SubmitJuryVerdict | SubmitFastTrack
                 | AdvanceRefund | SubmitReturnAward | SubmitReturnSettlement
                 | ConfirmReturnShipment | ConfirmReturnReceived | ConfirmReturnDispute)
ACTIONS: Mapping[str, type[ActionPayload]] = {
    t.KIND: t for t in (ConfirmDispute, ConfirmObjection, AppointArbitrator, AppointPanel,
                        ExecuteSettlement, SubmitAward, ExecuteAward, SubmitPanelAward,
                        RefundOnTimeout, AppointJury, SubmitJuryVerdict, SubmitFastTrack,
                        AdvanceRefund, SubmitReturnAward, SubmitReturnSettlement,
                        ConfirmReturnShipment, ConfirmReturnReceived, ConfirmReturnDispute)}
"""Every chain action kind, declared once: ``ChainAction.kind`` -> its payload type."""


def appointment(order_id: int, case_id: str, round_: int,
                neutrals: Sequence[str]) -> AppointArbitrator | AppointPanel:
    """The appointment act: round 0 names the sole arbitrator, round 1 the panel of three."""
    if round_ == 0:
        (arbitrator,) = neutrals
        return AppointArbitrator(order_id=order_id, case_id=case_id, arbitrator=arbitrator)
    a, b, c = neutrals
    return AppointPanel(order_id=order_id, case_id=case_id, panel=(a, b, c))


def decode_action(kind: str, payload: Mapping[str, JSON]) -> ActionPayload:
    """The typed act of a stored ``ChainAction`` row."""
    try:
        act = ACTIONS[kind]
    except KeyError:
        raise ValueError(f"unknown chain action {kind!r}; expected one of "
                         f"{', '.join(sorted(ACTIONS))}") from None
    return act.from_json(payload)


# --- the port ------------------------------------------------------------------------------


class EscrowPort(Protocol):
    """ArbitrationEscrow as the service uses it: one method per act; synchronous.

    Every method raises an ``EscrowRefusal`` subclass when the escrow refuses the act, and
    any other exception (``ConnectionError`` ...) when the chain could not be asked.
    """

    @property
    def institution_address(self) -> str: ...  # read-only: a fake may hold it as a field

    def domain(self) -> Domain: ...

    def institution_of(self, institution: str) -> str:
        """The key acting today for orders naming ``institution`` (after its rotations)."""
        ...

    def rotate_institution_key(self, successor: str) -> str:
        """Hand the institution's role and orders to ``successor`` (signed by the port's
        key); returns the transaction hash. Raises ``EscrowRefusal`` when refused."""
        ...

    def read_order(self, order_id: int) -> OrderInfo:
        """Raises UnknownOrder when there is no such order."""
        ...

    def order_of_contract(self, contract_hash: str) -> int:
        """The order that binds the contract of sale ``contract_hash`` (0 when none)."""
        ...

    def orders_of(self, account: str) -> list[OrderInfo]:
        """The orders whose buyer or seller is ``account`` (each once), newest first: what a
        party's page lists. Read from the escrow's ``OrderOpened`` events."""
        ...

    def token_meta(self, token: str) -> TokenMeta:
        """The token's symbol and decimals (``ETH_META`` for the zero address)."""
        ...

    def confirm_dispute(self, act: ConfirmDispute) -> Observed:
        """Raises AwaitingParty until the order is disputed under ``act.case_id``."""
        ...

    def confirm_objection(self, act: ConfirmObjection) -> Observed:
        """Raises AwaitingParty until a party has objected to the round-0 award."""
        ...

    def appoint_arbitrator(self, act: AppointArbitrator) -> Sent[ArbitratorAppointed]: ...

    def appoint_panel(self, act: AppointPanel) -> Sent[PanelAppointed]: ...

    def submit_award(self, act: SubmitAward) -> Sent[AwardSubmitted]: ...

    def execute_award(self, act: ExecuteAward) -> Sent[OrderResolved] | Sent[ReturnRequested]:
        """The award pays out; a return award starts the return stage instead."""
        ...

    def submit_panel_award(self, act: SubmitPanelAward) -> Sent[OrderResolved]: ...

    def execute_settlement(self, act: ExecuteSettlement) -> Sent[OrderResolved]: ...

    def refund_on_timeout(self, act: RefundOnTimeout) -> Sent[OrderResolved]:
        """The buyer refunded after an overdue appointment or award; in the return stage the
        return award's fallback (``ReturnNotShipped``) or refund (``ReturnDeemedReceived``)."""
        ...

    def appoint_jury(self, act: AppointJury) -> Sent[JuryAppointed]: ...

    def submit_jury_verdict(self, act: SubmitJuryVerdict) -> Sent[DecisionSubmitted]: ...
    def submit_fast_track(self, act: SubmitFastTrack) -> Sent[DecisionSubmitted]:
        """Sign the fast track's ``Decision`` with the institution key and submit it."""
        ...

    def advance_refund(self, act: AdvanceRefund) -> Sent[AdvanceRefunded]: ...

    def submit_return_award(self, act: SubmitReturnAward) -> Sent[AwardSubmitted]: ...

    def submit_return_settlement(self, act: SubmitReturnSettlement) -> Sent[ReturnRequested]:
        """Both parties' return settlement: the return stage starts at once."""
        ...

    def confirm_return_shipment(self, act: ConfirmReturnShipment) -> Observed:
        """Raises AwaitingParty until the buyer's wallet recorded the return shipment."""
        ...

    def confirm_return_received(self, act: ConfirmReturnReceived) -> Sent[OrderResolved]: ...

    def confirm_return_dispute(self, act: ConfirmReturnDispute) -> Observed:
        """Raises AwaitingParty until the seller's wallet disputed the return's receipt."""
        ...


Outcome = Sent[Any] | Observed


def perform(port: EscrowPort, act: ActionPayload) -> Outcome:
    """Send one act through the port's method for it."""
    match act:
        case ConfirmDispute():
            return port.confirm_dispute(act)
        case ConfirmObjection():
            return port.confirm_objection(act)
        case AppointArbitrator():
            return port.appoint_arbitrator(act)
        case AppointPanel():
            return port.appoint_panel(act)
        case SubmitAward():
            return port.submit_award(act)
        case ExecuteAward():
            return port.execute_award(act)
        case SubmitPanelAward():
            return port.submit_panel_award(act)
        case ExecuteSettlement():
            return port.execute_settlement(act)
        case RefundOnTimeout():
            return port.refund_on_timeout(act)
        case AppointJury():
            return port.appoint_jury(act)
        case SubmitJuryVerdict():
            return port.submit_jury_verdict(act)
        case SubmitFastTrack():
            return port.submit_fast_track(act)
        case AdvanceRefund():
            return port.advance_refund(act)
        case SubmitReturnAward():
            return port.submit_return_award(act)
        case SubmitReturnSettlement():
            return port.submit_return_settlement(act)
        case ConfirmReturnShipment():
            return port.confirm_return_shipment(act)
        case ConfirmReturnReceived():
            return port.confirm_return_received(act)
        case ConfirmReturnDispute():
            return port.confirm_return_dispute(act)
