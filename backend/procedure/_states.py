"""Named constants and immutable value objects of the procedure.

Stages are ``StrEnum`` members because they are stored in the database and shown in the
timeline; their values never change once released. Everything here is a frozen dataclass
or a tuple, so a ``CaseState`` can be shared freely and a refused command provably
changes nothing (there is nothing to change).

Theory: a case belongs to one escrowed order (``Order``). Before a claim is filed the case
is ``NOT_FILED`` and either side of the order may file; the filer becomes the claimant.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum
from functools import lru_cache
from typing import TYPE_CHECKING, TypeVar

from eth_utils import is_checksum_address

from evidence.jury import tally_hash
from evidence.orders import Allocation

from ._errors import InvalidCommand

if TYPE_CHECKING:
    from ._rules import CaseRules

__all__ = [
    "ENFORCEABLE_STAGES",
    "RETURN_STAGES",
    "TERMINAL_STAGES",
    "Allocation",
    "AwardTerms",
    "CaseState",
    "CourtDecision",
    "DisputeType",
    "EvidenceItem",
    "EvidenceKind",
    "FastTrack",
    "Jury",
    "JuryVote",
    "Offer",
    "Order",
    "Outcome",
    "Relationship",
    "Remedy",
    "Role",
    "Side",
    "Stage",
]


class Stage(StrEnum):
    """Where a case is. Arbitration is split into the sub-stages the rules distinguish."""

    NOT_FILED = "not_filed"
    FILED = "filed"  # claim notified; waiting for the respondent to engage
    NEGOTIATION = "negotiation"
    FACILITATION = "facilitation"
    ARBITRATOR_APPOINTMENT = "arbitrator_appointment"
    EVIDENCE = "evidence"
    RECORD_CLOSED = "record_closed"
    AWARDED = "awarded"  # the objection window runs while the case is here
    PANEL_APPOINTMENT = "panel_appointment"
    PANEL = "panel"
    AWARDED_BY_PANEL = "awarded_by_panel"  # final: an objection is allowed only once
    FINAL = "final"
    ENFORCED = "enforced"
    SETTLED = "settled"
    CLOSED_FOR_LITIGATION = "closed_for_litigation"
    JUDICIALLY_CONFIRMED = "judicially_confirmed"
    CONFIRMATION_REFUSED = "confirmation_refused"
    # the jury track (docs/jury.md): small claims decided by drawn public assessors
    JURY_DRAW = "jury_draw"  # the institution commits a seed, then draws after its block
    JURY_ACCEPTANCE = "jury_acceptance"  # drawn jurors accept; non-accepters are replaced
    JURY_VOTING = "jury_voting"  # hidden votes: commitments only
    JURY_REVEAL = "jury_reveal"  # after the vote deadline: reveals
    JURY_TALLY = "jury_tally"  # the institution signs the tally (or it applies by default)
    JURY_DECIDED = "jury_decided"  # the objection window runs on the jury's verdict
    JURY_FINAL = "jury_final"  # binding; waits for the escrow's execution of the tally
    # the fast track (docs/jury.md "Fast track"): the mediator's rule-based pre-evaluation of
    # a small claim, proposed as the resolution; it binds unless a party objects in time
    FAST_TRACK_PROPOSED = "fast_track_proposed"  # the short objection window runs
    FAST_TRACK_FINAL = "fast_track_final"  # binding; waits for the escrow's execution
    # the return stage of a return-and-refund award (docs/procedure.md "Return and refund")
    RETURN_PENDING = "return_pending"  # the buyer ships the goods back, records the tracking
    RETURN_SHIPPED = "return_shipped"  # the seller confirms (or disputes) the receipt


TERMINAL_STAGES: frozenset[Stage] = frozenset(
    {Stage.CLOSED_FOR_LITIGATION, Stage.JUDICIALLY_CONFIRMED, Stage.CONFIRMATION_REFUSED}
)
ENFORCEABLE_STAGES: frozenset[Stage] = frozenset({
    Stage.FINAL, Stage.AWARDED_BY_PANEL, Stage.JURY_FINAL, Stage.FAST_TRACK_FINAL})
# The escrow holds the money while the goods travel back (ReturnPending / ReturnShipped).
RETURN_STAGES: frozenset[Stage] = frozenset({Stage.RETURN_PENDING, Stage.RETURN_SHIPPED})


class Role(StrEnum):
    """A signer's role in one case. ANYONE matches every address (enforcement is open)."""

    CLAIMANT = "claimant"
    RESPONDENT = "respondent"
    MEDIATOR = "mediator"
    ARBITRATOR = "arbitrator"
    PANELIST = "panelist"
    INSTITUTION = "institution"
    COURT = "court"
    JUROR = "juror"  # drawn for the case's current jury (docs/jury.md)
    ANYONE = "anyone"


class Side(StrEnum):
    """The side of the order a party is on (claimant and respondent are roles in the case)."""

    BUYER = "buyer"
    SELLER = "seller"


class DisputeType(StrEnum):
    GOODS_NOT_RECEIVED = "goods_not_received"
    NOT_AS_DESCRIBED = "not_as_described"
    LOGISTICS_LOSS_OR_DAMAGE = "logistics_loss_or_damage"
    BUYER_REFUSES_TO_PAY = "buyer_refuses_to_pay"


class Remedy(StrEnum):
    """What the claimant asks for. RELEASE_PAYMENT is the seller's remedy (our addition)."""

    FULL_REFUND = "full_refund"
    PARTIAL_REFUND = "partial_refund"
    RETURN_AND_REFUND = "return_and_refund"
    COMPENSATION = "compensation"
    RELEASE_PAYMENT = "release_payment"


class EvidenceKind(StrEnum):
    PHOTO = "photo"
    VIDEO = "video"
    TRACKING_RECORD = "tracking_record"
    DELIVERY_CONFIRMATION = "delivery_confirmation"
    INSPECTION_REPORT = "inspection_report"
    COMMUNICATION = "communication"
    CONTRACT = "contract"
    INVOICE = "invoice"
    OTHER = "other"


class Outcome(StrEnum):
    """A recommended or decided outcome, in the remedies' vocabulary."""

    FULL_REFUND = "full_refund"
    PARTIAL_REFUND = "partial_refund"
    RETURN_AND_REFUND = "return_and_refund"
    RELEASE_TO_SELLER = "release_to_seller"


_HASH_RE = re.compile(r"^0x[0-9a-fA-F]{64}$")
_ID_RE = re.compile(r"^[A-Za-z0-9_.:-]{1,80}$")


@lru_cache(maxsize=4096)
def _is_checksummed(value: str) -> bool:
    """Remembered: every command checks its actor, and a case has a few addresses (through
    eth_utils ~0.1 ms each, issue 10)."""
    return bool(is_checksum_address(value))


def check_address(name: str, value: object) -> str:
    """Accept only EIP-55 checksummed addresses: a wrong-case typo must not pass as a party."""
    if not isinstance(value, str) or not _is_checksummed(value):
        raise InvalidCommand(
            f"{name}: expected an EIP-55 checksummed address (0x + 40 hex), found {value!r}"
        )
    return value


def check_hash(name: str, value: object) -> str:
    if not isinstance(value, str) or not _HASH_RE.match(value):
        raise InvalidCommand(f"{name}: expected a 32-byte hex string 0x…(64 hex), found {value!r}")
    return value.lower()


def check_id(name: str, value: object) -> str:
    if not isinstance(value, str) or not _ID_RE.match(value):
        raise InvalidCommand(
            f"{name}: expected 1-80 characters of [A-Za-z0-9_.:-], found {value!r}"
        )
    return value


def check_amount(name: str, value: object, *, positive: bool = False) -> int:
    """Amounts are integers in the token's smallest unit; floats and bools are refused."""
    if type(value) is not int or value < 0 or (positive and value == 0):
        want = "a positive" if positive else "a non-negative"
        raise InvalidCommand(
            f"{name}: expected {want} integer in the token's smallest unit, found {value!r}"
        )
    return value


_Enum = TypeVar("_Enum", bound=StrEnum)


def check_enum(name: str, enum: type[_Enum], value: object) -> _Enum:
    if isinstance(value, str):  # members are str too; anything else is no member's value
        try:
            return enum(value)
        except ValueError:
            pass
    allowed = ", ".join(m.value for m in enum)
    raise InvalidCommand(f"{name}: expected one of {allowed}; found {value!r}")


@dataclass(frozen=True, kw_only=True)
class Relationship:
    """A relationship a neutral declared with a party (the conflict check refuses it)."""

    neutral: str
    party: str
    nature: str = "declared"

    def __post_init__(self) -> None:
        check_address("neutral", self.neutral)
        check_address("party", self.party)


@dataclass(frozen=True, kw_only=True)
class Order:
    """The escrowed order as the case sees it: the facts the procedure's rules read.

    Not `evidence.orders.OrderTerms` (what the escrow fixed on opening): the core needs
    neither the token, the institution (the case's own) nor the rules hash, and it needs
    two facts the order row does not hold: the seller's ``guarantee`` deposit (the cap on
    compensation) and whether the terms carry an arbitration clause. Its checks refuse a
    bad value as a command error (``InvalidCommand``) when a case is opened.
    """

    order_id: int
    buyer: str
    seller: str
    amount: int
    guarantee: int = 0
    arbitration_agreed: bool = False  # an arbitration clause in the order's terms
    jury_agreed: bool = False  # a jury clause in the order's terms (small claims)

    def __post_init__(self) -> None:
        check_amount("order_id", self.order_id)
        check_address("buyer", self.buyer)
        check_address("seller", self.seller)
        check_amount("amount", self.amount, positive=True)
        check_amount("guarantee", self.guarantee)
        if self.buyer == self.seller:
            raise InvalidCommand(f"buyer and seller must differ, found {self.buyer} for both")


@dataclass(frozen=True, kw_only=True)
class Offer:
    """A settlement offer: by a party (it counts as accepted by its maker) or the mediator."""

    offer_id: str
    made_by: str
    allocation: Allocation
    accepted_by: frozenset[str] = frozenset()
    withdrawn: bool = False
    expires_at: datetime | None = None
    # "return and refund": ``allocation`` is the refund once the goods are back, this the
    # fallback if the buyer misses the return window (signed as the escrow's ReturnSettlement)
    no_return: Allocation | None = None


@dataclass(frozen=True, kw_only=True)
class EvidenceItem:
    """One evidence submission: its salted commitment, never its content (that is in IPFS)."""

    evidence_id: str
    submitted_by: str
    stage: Stage
    kind: EvidenceKind
    commitment: str
    submitted_at: datetime
    content_cid: str | None = None


@dataclass(frozen=True, kw_only=True)
class AwardTerms:
    """What an arbitrator (or panelist) signs: the allocation and the award document hash.

    ``no_return``: a return-and-refund award's fallback (the escrow's ``ReturnAward``), paid
    if the buyer misses the return window; ``allocation`` is then the refund, paid once the
    goods are back (or deemed back). None: an ordinary award, paid on execution."""

    allocation: Allocation
    award_hash: str
    no_return: Allocation | None = None


@dataclass(frozen=True, kw_only=True)
class CourtDecision:
    """A court's signed confirmation or refusal (record ``CourtConfirmation``)."""

    court: str
    confirmed: bool
    package_hash: str
    court_reference: str
    reasons_hash: str | None = None
    reasons: str = ""


@dataclass(frozen=True, kw_only=True)
class JuryVote:
    """One juror's hidden vote: the commitment, then (after the deadline) what it opened to."""

    juror: str
    commitment: str
    signature: str = ""  # the juror's EIP-712 JuryVote signature (what the escrow counts)
    choice: int | None = None
    reason_code: int | None = None
    salt: str | None = None


@dataclass(frozen=True, kw_only=True)
class Jury:
    """The jury track's record in the case (docs/jury.md). ``round`` counts draws: a round
    after the first replaces jurors who did not accept in time, by the same procedure."""

    round: int = 0
    seed_hash: str | None = None  # committed for this round, before ``draw_block``
    draw_block: int | None = None
    pool: tuple[str, ...] = ()  # this round's eligible pool snapshot (sorted)
    pool_hash: str | None = None
    seeds: tuple[tuple[int, str, str, str], ...] = ()  # (round, seed, blockHash, prevrandao)
    jurors: tuple[str, ...] = ()  # the sitting jury, in draw order
    accepted: frozenset[str] = frozenset()
    former_jurors: tuple[str, ...] = ()  # drawn, did not accept in time: never redrawn
    options: tuple[Allocation, ...] = ()  # fixed at the first draw
    marked: tuple[str, ...] = ()  # evidence ids the parties put before the jury
    votes: tuple[JuryVote, ...] = ()
    counts: tuple[int, ...] = ()  # the tally, once recorded (or applied by default)
    winner: int | None = None
    tallied: bool = False

    def vote_of(self, juror: str) -> JuryVote | None:
        for v in self.votes:
            if v.juror == juror:
                return v
        return None


@dataclass(frozen=True, kw_only=True)
class FastTrack:
    """The fast track's proposed resolution: the pre-evaluation's outcome and allocation,
    and the hash of its report (the reasons, by rule). ``bound`` once the window passed
    with no objection; ``objected_by`` the party whose objection ended it."""

    recommended: Outcome
    allocation: Allocation
    report_hash: str
    proposed_at: datetime
    objected_by: str | None = None
    bound: bool = False


@dataclass(frozen=True, kw_only=True)
class CaseState:
    """The whole state of one case. Build it with :func:`new_case`; change it with apply()."""

    case_id: str
    order: Order
    institution: frozenset[str]
    courts: frozenset[str]
    relationships: frozenset[Relationship]
    rules: CaseRules
    stage: Stage = Stage.NOT_FILED
    stage_entered_at: datetime | None = None
    deadline: datetime | None = None
    next_sequence: int = 0
    # the claim
    claimant: str | None = None
    respondent: str | None = None
    dispute_type: DisputeType | None = None
    remedy: Remedy | None = None
    claimed_amount: int = 0
    statement_hash: str | None = None
    filed_at: datetime | None = None
    # settlement
    offers: tuple[Offer, ...] = ()
    settlement: Allocation | None = None
    return_settlement: Offer | None = None  # the accepted return-and-refund offer
    # facilitation
    mediator: str | None = None
    pre_evaluation: tuple[Outcome, str] | None = None
    arbitration_agreed_by: frozenset[str] = frozenset()
    # arbitration
    arbitrator: str | None = None
    former_arbitrators: tuple[str, ...] = ()
    reappointments: int = 0
    evidence: tuple[EvidenceItem, ...] = ()
    answer_hash: str | None = None
    record_closed_at: datetime | None = None
    award: AwardTerms | None = None
    objection_by: str | None = None
    objection_hash: str | None = None
    panel: tuple[str, ...] = ()
    panel_signatures: tuple[tuple[str, AwardTerms], ...] = ()
    panel_award: AwardTerms | None = None
    # enforcement and the court
    enforcement_requested: bool = False
    enforcement_tx: str | None = None
    compensation_shortfall: int = 0
    court_decision: CourtDecision | None = None
    # the return stage (a return-and-refund award): the buyer's salted commitment to the
    # return shipment's tracking, and how the stage ended (received, deemed, not shipped)
    return_tracking: str | None = None
    return_carrier: str | None = None
    return_tracking_number: str | None = None
    return_outcome: str | None = None  # received, delivered, deemed_received, not_shipped,
    # disputed
    # the jury track
    jury_chosen_by: frozenset[str] = frozenset()
    jury: Jury = Jury()
    # the fast track
    fast_track: FastTrack | None = None

    # -- derived facts the rules and guards read ---------------------------------------
    @property
    def parties(self) -> tuple[str, ...]:
        """The claimant and respondent (buyer and seller before filing)."""
        if self.claimant is None or self.respondent is None:
            return (self.order.buyer, self.order.seller)
        return (self.claimant, self.respondent)

    @property
    def arbitration_agreed(self) -> bool:
        """Agreed in the order's terms, or signed later by both parties."""
        return self.order.arbitration_agreed or set(self.parties) <= self.arbitration_agreed_by

    @property
    def return_refund(self) -> Allocation | None:
        """What the return stage pays once the goods are back: the accepted return
        settlement's refund, else the return award's."""
        if self.return_settlement is not None:
            return self.return_settlement.allocation
        award = self.final_award
        return award.allocation if award is not None and award.no_return is not None else None

    @property
    def final_award(self) -> AwardTerms | None:
        """The award that binds (the panel's if there was an objection; the fast track's
        proposal once bound, its document hash the report's; the jury's verdict as an award
        whose document hash is the tally's, when no arbitrator decided)."""
        if self.panel_award is not None:
            return self.panel_award
        if self.award is None and self.fast_track is not None and self.fast_track.bound:
            return AwardTerms(allocation=self.fast_track.allocation,
                              award_hash=self.fast_track.report_hash)
        if self.award is None and self.jury_verdict is not None:
            return AwardTerms(allocation=self.jury_verdict, award_hash=self.jury_tally_hash)
        return self.award

    @property
    def jury_track(self) -> bool:
        """The jury track applies: chosen by the order's clause or by both parties, and the
        order's amount is at most the rules' limit (0: no jury track)."""
        chosen = self.order.jury_agreed or set(self.parties) <= self.jury_chosen_by
        return chosen and self.order.amount <= self.rules.jury_max_amount

    @property
    def fast_track_open(self) -> bool:
        """The fast track may be proposed: the order's amount is at most the rules' limit
        (0: no fast track) and the parties agreed to a binding decision (an arbitration
        clause or signatures, or the jury track), whose decider hears an objection."""
        limit = self.rules.fast_track_max_amount
        return 0 < self.order.amount <= limit and (self.arbitration_agreed or self.jury_track)

    @property
    def jury_verdict(self) -> Allocation | None:
        """The allocation option the tallied majority chose (None: no verdict)."""
        j = self.jury
        if not j.tallied or j.winner is None:
            return None
        return j.options[j.winner]

    @property
    def jury_tally_hash(self) -> str:
        """The tally's hash (evidence.jury.tally_hash): the award hash of a jury verdict."""
        return "0x" + tally_hash(self.case_id, self.jury.counts, self.jury.winner).hex()

    @property
    def neutrals(self) -> tuple[str, ...]:
        found = [a for a in (self.mediator, self.arbitrator) if a is not None]
        return (*found, *self.former_arbitrators, *self.panel)

    def side_of(self, address: str) -> Side | None:
        if address == self.order.buyer:
            return Side.BUYER
        if address == self.order.seller:
            return Side.SELLER
        return None

    def offer(self, offer_id: str) -> Offer | None:
        for o in self.offers:
            if o.offer_id == offer_id:
                return o
        return None

    def roles_of(self, address: str) -> frozenset[Role]:
        """Every role ``address`` holds in this case (ANYONE always)."""
        roles = {Role.ANYONE}
        if self.claimant is None:
            if address in (self.order.buyer, self.order.seller):
                roles.add(Role.CLAIMANT)  # before filing, either side may claim
        elif address == self.claimant:
            roles.add(Role.CLAIMANT)
        elif address == self.respondent:
            roles.add(Role.RESPONDENT)
        if address == self.mediator:
            roles.add(Role.MEDIATOR)
        if address == self.arbitrator:
            roles.add(Role.ARBITRATOR)
        if address in self.panel:
            roles.add(Role.PANELIST)
        if address in self.institution:
            roles.add(Role.INSTITUTION)
        if address in self.courts:
            roles.add(Role.COURT)
        if address in self.jury.jurors:
            roles.add(Role.JUROR)
        return frozenset(roles)
