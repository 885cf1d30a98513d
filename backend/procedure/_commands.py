"""Commands: what a signer asks the procedure to do (imperative names, STYLE §7).

Each command is a frozen, keyword-only dataclass checked when it is built, so an invalid
command cannot exist (h11 ``_events.py``). ``actor`` is the address the edge recovered
from the EIP-712 signature; ``sequence`` must equal the case's ``next_sequence``. Whether
the actor may issue the command, and in which stage, is decided by the tables in
``_machine.py``, never here.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import datetime

from ._errors import InvalidCommand
from ._states import (
    Allocation,
    DisputeType,
    EvidenceKind,
    Outcome,
    Remedy,
    check_address,
    check_amount,
    check_enum,
    check_hash,
    check_id,
)

__all__ = [
    "COMMAND_TYPES",
    "AcceptJuryDuty",
    "AcceptOffer",
    "AgreeToArbitrate",
    "AppointArbitrator",
    "AppointMediator",
    "AppointPanel",
    "ChooseJuryTrack",
    "CloseRecord",
    "Command",
    "CommitJurySeed",
    "CommitVote",
    "ConfirmJudicially",
    "ConfirmReturnReceipt",
    "DeclareImpasse",
    "DisputeReturnReceipt",
    "DrawJury",
    "Enforce",
    "FileClaim",
    "IssueAward",
    "IssuePanelAward",
    "MakeOffer",
    "MarkForJury",
    "Object",
    "ObjectToFastTrack",
    "ProposeFastTrack",
    "ProposeSettlement",
    "PublishPreEvaluation",
    "RecordEnforcement",
    "RecordReturnDelivery",
    "RecordTally",
    "RefuseConfirmation",
    "RequestFacilitation",
    "RevealVote",
    "ShipReturn",
    "SubmitAnswer",
    "SubmitEvidence",
    "WithdrawOffer",
]

MAX_REASONS_CHARS = 4000
MAX_CID_CHARS = 128
MAX_COURT_REFERENCE_BYTES = 256
_ACTION_RE = re.compile(r"^[a-z][a-z0-9_.]{0,63}$")
_CONTROL = re.compile(r"[\x00-\x1f\x7f]")


def _check_allocation(value: object) -> Allocation:
    if not isinstance(value, Allocation):
        raise InvalidCommand(f"allocation: expected an Allocation, found {type(value).__name__}")
    return value


@dataclass(frozen=True, kw_only=True)
class Command:
    """Common fields. Abstract: only the concrete commands below can be built."""

    actor: str
    sequence: int

    def __post_init__(self) -> None:
        if type(self) is Command:
            raise TypeError("Command is abstract; build one of its subclasses")
        check_address("actor", self.actor)
        check_amount("sequence", self.sequence)
        self._check()

    def _check(self) -> None:
        """Field checks of one command type (override)."""

    @classmethod
    def action(cls) -> str:
        """The core's own name of the command (snake_case), in its ``AnchorStep`` effect.
        Outside the core a step is named by its action in the step table
        (evidence/steps.py: ``award.issued``), never by this."""
        return re.sub(r"(?<!^)(?=[A-Z])", "_", cls.__name__).lower()


def _check_text(name: str, value: object, *, max_bytes: int, required: bool) -> None:
    if not isinstance(value, str) or (required and not value.strip()):
        raise InvalidCommand(f"{name}: expected text, found {value!r}")
    if len(value.encode("utf-8")) > max_bytes:
        raise InvalidCommand(
            f"{name}: at most {max_bytes} UTF-8 bytes, found {len(value.encode('utf-8'))}"
        )
    if _CONTROL.search(value):
        raise InvalidCommand(f"{name}: control characters are not allowed, found {value!r}")


def _check_expiry(value: object) -> None:
    if value is None:
        return
    if not isinstance(value, datetime) or value.tzinfo is None:
        raise InvalidCommand(f"expires_at: expected a timezone-aware datetime, found {value!r}")


def _set(obj: object, name: str, value: object) -> None:
    """Store a normalised value on a frozen instance (only from its own __post_init__)."""
    object.__setattr__(obj, name, value)


@dataclass(frozen=True, kw_only=True)
class FileClaim(Command):
    dispute_type: DisputeType
    remedy: Remedy
    claimed_amount: int
    statement_hash: str

    def _check(self) -> None:
        _set(self, "dispute_type", check_enum("dispute_type", DisputeType, self.dispute_type))
        _set(self, "remedy", check_enum("remedy", Remedy, self.remedy))
        check_amount("claimed_amount", self.claimed_amount, positive=True)
        _set(self, "statement_hash", check_hash("statement_hash", self.statement_hash))
        seller_claim = self.dispute_type is DisputeType.BUYER_REFUSES_TO_PAY
        if seller_claim != (self.remedy is Remedy.RELEASE_PAYMENT):
            raise InvalidCommand(
                "remedy: release_payment goes with buyer_refuses_to_pay and only with it; "
                f"found dispute_type={self.dispute_type}, remedy={self.remedy}"
            )


@dataclass(frozen=True, kw_only=True)
class MakeOffer(Command):
    """A party's signed offer (record ``SettlementOffer``); ``offer_id`` may be its hash.
    With ``no_return`` it says "return and refund": ``allocation`` is the refund once the
    goods are back, ``no_return`` what is paid if the buyer does not ship them back."""

    offer_id: str
    allocation: Allocation
    expires_at: datetime | None = None
    no_return: Allocation | None = None  # "return and refund": the fallback

    def _check(self) -> None:
        check_id("offer_id", self.offer_id)
        _check_allocation(self.allocation)
        _check_expiry(self.expires_at)
        if self.no_return is not None:
            _check_allocation(self.no_return)


@dataclass(frozen=True, kw_only=True)
class AcceptOffer(Command):
    offer_id: str

    def _check(self) -> None:
        check_id("offer_id", self.offer_id)


@dataclass(frozen=True, kw_only=True)
class WithdrawOffer(Command):
    offer_id: str

    def _check(self) -> None:
        check_id("offer_id", self.offer_id)


@dataclass(frozen=True, kw_only=True)
class RequestFacilitation(Command):
    """A party ends negotiation early (UNCITRAL TN: either party may move on)."""


@dataclass(frozen=True, kw_only=True)
class AppointMediator(Command):
    mediator: str

    def _check(self) -> None:
        check_address("mediator", self.mediator)


@dataclass(frozen=True, kw_only=True)
class PublishPreEvaluation(Command):
    recommended: Outcome
    report_hash: str

    def _check(self) -> None:
        _set(self, "recommended", check_enum("recommended", Outcome, self.recommended))
        _set(self, "report_hash", check_hash("report_hash", self.report_hash))


@dataclass(frozen=True, kw_only=True)
class ProposeSettlement(Command):
    offer_id: str
    allocation: Allocation
    expires_at: datetime | None = None
    no_return: Allocation | None = None  # "return and refund": the fallback

    def _check(self) -> None:
        check_id("offer_id", self.offer_id)
        _check_allocation(self.allocation)
        _check_expiry(self.expires_at)
        if self.no_return is not None:
            _check_allocation(self.no_return)


@dataclass(frozen=True, kw_only=True)
class DeclareImpasse(Command):
    """The mediator ends facilitation early; the case goes on as at the deadline."""


@dataclass(frozen=True, kw_only=True)
class AgreeToArbitrate(Command):
    pass


@dataclass(frozen=True, kw_only=True)
class AppointArbitrator(Command):
    arbitrator: str

    def _check(self) -> None:
        check_address("arbitrator", self.arbitrator)


@dataclass(frozen=True, kw_only=True)
class SubmitEvidence(Command):
    """Record ``EvidenceSubmission``: the salted commitment and the encrypted file's CID."""

    evidence_id: str
    kind: EvidenceKind
    commitment: str
    content_cid: str | None = None

    def _check(self) -> None:
        check_id("evidence_id", self.evidence_id)
        _set(self, "kind", check_enum("kind", EvidenceKind, self.kind))
        _set(self, "commitment", check_hash("commitment", self.commitment))
        if self.content_cid is not None:
            _check_text("content_cid", self.content_cid, max_bytes=MAX_CID_CHARS, required=True)
            if not self.content_cid.isascii() or " " in self.content_cid:
                raise InvalidCommand(f"content_cid: expected an ASCII CID, found "
                                     f"{self.content_cid!r}")


@dataclass(frozen=True, kw_only=True)
class SubmitAnswer(Command):
    answer_hash: str

    def _check(self) -> None:
        _set(self, "answer_hash", check_hash("answer_hash", self.answer_hash))


@dataclass(frozen=True, kw_only=True)
class CloseRecord(Command):
    pass


@dataclass(frozen=True, kw_only=True)
class IssueAward(Command):
    """``no_return``: a return-and-refund award's fallback (signed as the escrow's
    ``ReturnAward``); ``allocation`` is then the refund paid once the goods are back."""

    allocation: Allocation
    award_hash: str
    no_return: Allocation | None = None

    def _check(self) -> None:
        _check_allocation(self.allocation)
        _set(self, "award_hash", check_hash("award_hash", self.award_hash))
        if self.no_return is not None:
            _check_allocation(self.no_return)


@dataclass(frozen=True, kw_only=True)
class Object(Command):
    """Record ``Objection``: ``reasons_hash`` is the SHA-256 of the reasons document."""

    reasons_hash: str

    def _check(self) -> None:
        _set(self, "reasons_hash", check_hash("reasons_hash", self.reasons_hash))


@dataclass(frozen=True, kw_only=True)
class AppointPanel(Command):
    panel: tuple[str, str, str]

    def _check(self) -> None:
        if not isinstance(self.panel, tuple) or len(self.panel) != 3:
            raise InvalidCommand(f"panel: expected a tuple of 3 addresses, found {self.panel!r}")
        for i, member in enumerate(self.panel):
            check_address(f"panel[{i}]", member)
        if len(set(self.panel)) != 3:
            raise InvalidCommand(f"panel: expected 3 distinct neutrals, found {self.panel!r}")


@dataclass(frozen=True, kw_only=True)
class IssuePanelAward(Command):
    """One panelist's signature on the panel award; two identical ones make it."""

    allocation: Allocation
    award_hash: str

    def _check(self) -> None:
        _check_allocation(self.allocation)
        _set(self, "award_hash", check_hash("award_hash", self.award_hash))


@dataclass(frozen=True, kw_only=True)
class Enforce(Command):
    """Anyone asks the edge to submit the final award to the escrow."""


@dataclass(frozen=True, kw_only=True)
class RecordEnforcement(Command):
    """The edge (institution key) reports the escrow's on-chain execution of the award."""

    tx_hash: str
    allocation: Allocation
    compensation_shortfall: int = 0  # the escrow's OrderResolved event: unpaid compensation

    def _check(self) -> None:
        _set(self, "tx_hash", check_hash("tx_hash", self.tx_hash))
        _check_allocation(self.allocation)
        check_amount("compensation_shortfall", self.compensation_shortfall)
        if self.compensation_shortfall > self.allocation.compensation:
            raise InvalidCommand(
                f"compensation_shortfall: at most the compensation "
                f"{self.allocation.compensation}, found {self.compensation_shortfall}"
            )


@dataclass(frozen=True, kw_only=True)
class ConfirmJudicially(Command):
    """Record ``CourtConfirmation`` with ``confirmed = true``."""

    package_hash: str
    court_reference: str

    def _check(self) -> None:
        _set(self, "package_hash", check_hash("package_hash", self.package_hash))
        _check_text("court_reference", self.court_reference,
                    max_bytes=MAX_COURT_REFERENCE_BYTES, required=True)


@dataclass(frozen=True, kw_only=True)
class RefuseConfirmation(Command):
    """Record ``CourtConfirmation`` with ``confirmed = false``: reasons are required."""

    package_hash: str
    court_reference: str
    reasons_hash: str
    reasons: str

    def _check(self) -> None:
        _set(self, "package_hash", check_hash("package_hash", self.package_hash))
        _check_text("court_reference", self.court_reference,
                    max_bytes=MAX_COURT_REFERENCE_BYTES, required=True)
        _set(self, "reasons_hash", check_hash("reasons_hash", self.reasons_hash))
        if int(self.reasons_hash, 16) == 0:
            raise InvalidCommand("reasons_hash: a refusal needs the hash of its reasons; "
                                 "found zero")
        if not isinstance(self.reasons, str) or not self.reasons.strip():
            raise InvalidCommand("reasons: a refusal must state its reasons; found none")
        if len(self.reasons) > MAX_REASONS_CHARS:
            raise InvalidCommand(
                f"reasons: at most {MAX_REASONS_CHARS} characters, found {len(self.reasons)}"
            )


# -- the jury track (docs/jury.md) --------------------------------------------------------

MAX_POOL = 10_000  # evidence.jury.MAX_POOL: a snapshot's bound
MAX_OPTIONS = 4


def _check_addresses(name: str, value: object, *, low: int, high: int) -> tuple[str, ...]:
    if not isinstance(value, tuple) or not low <= len(value) <= high:
        raise InvalidCommand(f"{name}: expected a tuple of {low}..{high} addresses, "
                             f"found {value!r:.200}")
    for i, a in enumerate(value):
        check_address(f"{name}[{i}]", a)
    if len(set(value)) != len(value):
        raise InvalidCommand(f"{name}: an address appears twice")
    return value


@dataclass(frozen=True, kw_only=True)
class ChooseJuryTrack(Command):
    """A party agrees that a jury of public assessors decides (both must sign, unless the
    order's terms carry a jury clause)."""


@dataclass(frozen=True, kw_only=True)
class CommitJurySeed(Command):
    """The institution commits to a secret seed for this round's draw, names the future
    block whose randomness it will be mixed with, and fixes the eligible pool snapshot."""

    seed_hash: str
    draw_block: int
    pool: tuple[str, ...]
    pool_hash: str

    def _check(self) -> None:
        _set(self, "seed_hash", check_hash("seed_hash", self.seed_hash))
        check_amount("draw_block", self.draw_block, positive=True)
        _set(self, "pool", tuple(sorted(_check_addresses("pool", self.pool, low=1,
                                                          high=MAX_POOL),
                                        key=lambda a: bytes.fromhex(a[2:]))))
        _set(self, "pool_hash", check_hash("pool_hash", self.pool_hash))


@dataclass(frozen=True, kw_only=True)
class DrawJury(Command):
    """The reveal and the draw: the seed, the draw block's hash and prevrandao, the jurors
    it selects (recomputed by the core) and, at the first draw, the allocation options."""

    seed: str
    block_hash: str
    prevrandao: str
    jurors: tuple[str, ...]
    options: tuple[Allocation, ...] = ()

    def _check(self) -> None:
        _set(self, "seed", check_hash("seed", self.seed))
        _set(self, "block_hash", check_hash("block_hash", self.block_hash))
        _set(self, "prevrandao", check_hash("prevrandao", self.prevrandao))
        _check_addresses("jurors", self.jurors, low=1, high=31)
        if not isinstance(self.options, tuple) or len(self.options) > MAX_OPTIONS:
            raise InvalidCommand(f"options: expected a tuple of at most {MAX_OPTIONS} "
                                 f"allocations, found {self.options!r}")
        for o in self.options:
            _check_allocation(o)


@dataclass(frozen=True, kw_only=True)
class MarkForJury(Command):
    """A party puts one of its own evidence items before the jury (never a caucus item)."""

    evidence_id: str

    def _check(self) -> None:
        check_id("evidence_id", self.evidence_id)


@dataclass(frozen=True, kw_only=True)
class AcceptJuryDuty(Command):
    """A drawn juror accepts to sit (and declares no tie to either party)."""


@dataclass(frozen=True, kw_only=True)
class CommitVote(Command):
    """A juror's hidden vote: the ``JuryVote`` hash (evidence.jury.vote_commitment) and the
    juror's EIP-712 signature of it under the deployment's domain (the edge checks that it
    is the juror's; the escrow counts it with the reveal: docs/jury.md §7)."""

    commitment: str
    signature: str

    def _check(self) -> None:
        _set(self, "commitment", check_hash("commitment", self.commitment))
        sig = self.signature
        if not isinstance(sig, str) or len(sig) != 132 or not sig.startswith("0x") \
                or any(ch not in "0123456789abcdefABCDEF" for ch in sig[2:]):
            raise InvalidCommand(f"signature: expected 65 bytes (0x + 130 hex), found {sig!r}")
        _set(self, "signature", sig.lower())


@dataclass(frozen=True, kw_only=True)
class RevealVote(Command):
    """A juror opens the commitment after the vote deadline."""

    choice: int
    reason_code: int
    salt: str

    def _check(self) -> None:
        check_amount("choice", self.choice)
        if self.choice >= MAX_OPTIONS:
            raise InvalidCommand(f"choice: expected 0..{MAX_OPTIONS - 1}, found {self.choice}")
        check_amount("reason_code", self.reason_code)
        if self.reason_code > 0xFFFF:
            raise InvalidCommand(f"reason_code: expected 0..65535, found {self.reason_code}")
        _set(self, "salt", check_hash("salt", self.salt))


@dataclass(frozen=True, kw_only=True)
class RecordTally(Command):
    """The institution signs the tally the core computed (counts per option, winner)."""

    counts: tuple[int, ...]
    winner: int | None

    def _check(self) -> None:
        if not isinstance(self.counts, tuple) or not 1 <= len(self.counts) <= MAX_OPTIONS:
            raise InvalidCommand(f"counts: expected 1..{MAX_OPTIONS} counts, found "
                                 f"{self.counts!r}")
        for i, n in enumerate(self.counts):
            check_amount(f"counts[{i}]", n)
        if self.winner is not None:
            check_amount("winner", self.winner)


# -- the fast track (docs/jury.md "Fast track") -----------------------------------------


@dataclass(frozen=True, kw_only=True)
class ProposeFastTrack(Command):
    """The mediator proposes the rule-based pre-evaluation (its outcome, its allocation, its
    report's hash: the reasons) as the resolution; it binds unless a party objects."""

    recommended: Outcome
    allocation: Allocation
    report_hash: str

    def _check(self) -> None:
        _set(self, "recommended", check_enum("recommended", Outcome, self.recommended))
        _check_allocation(self.allocation)
        _set(self, "report_hash", check_hash("report_hash", self.report_hash))


@dataclass(frozen=True, kw_only=True)
class ObjectToFastTrack(Command):
    """A party objects to the fast track's proposal within its window (no reasons needed:
    the proposal binds only by silence)."""


# -- the return stage (docs/procedure.md "Return and refund") ------------------------------

MAX_TRACKING_CHARS = 64


@dataclass(frozen=True, kw_only=True)
class ShipReturn(Command):
    """The buyer shipped the goods back: the carrier, the return shipment's tracking number
    (the carrier's webhook events for it are the performance evidence) and the salted
    commitment to its tracking record that the buyer's wallet records on the escrow."""

    carrier: str
    tracking_number: str
    tracking: str

    def _check(self) -> None:
        for name in ("carrier", "tracking_number"):
            _check_text(name, getattr(self, name), max_bytes=MAX_TRACKING_CHARS,
                        required=True)
        _set(self, "tracking", check_hash("tracking", self.tracking))
        if int(self.tracking, 16) == 0:
            raise InvalidCommand("tracking: a salted commitment, never zero")


@dataclass(frozen=True, kw_only=True)
class ConfirmReturnReceipt(Command):
    """The seller confirms the returned goods arrived: the refund is paid."""


@dataclass(frozen=True, kw_only=True)
class RecordReturnDelivery(Command):
    """The institution records the carrier's origin-verified delivered event of the return
    shipment (its tracking number): the goods are back, the refund is paid."""

    tracking_number: str

    def _check(self) -> None:
        _check_text("tracking_number", self.tracking_number, max_bytes=MAX_TRACKING_CHARS,
                    required=True)


@dataclass(frozen=True, kw_only=True)
class DisputeReturnReceipt(Command):
    """The seller disputes the receipt (nothing arrived, or not the goods): an arbitrator
    decides the return."""


COMMAND_TYPES: tuple[type[Command], ...] = (
    FileClaim,
    MakeOffer,
    AcceptOffer,
    WithdrawOffer,
    RequestFacilitation,
    AppointMediator,
    PublishPreEvaluation,
    ProposeSettlement,
    DeclareImpasse,
    AgreeToArbitrate,
    AppointArbitrator,
    SubmitEvidence,
    SubmitAnswer,
    CloseRecord,
    IssueAward,
    Object,
    AppointPanel,
    IssuePanelAward,
    Enforce,
    RecordEnforcement,
    ConfirmJudicially,
    RefuseConfirmation,
    ChooseJuryTrack,
    CommitJurySeed,
    DrawJury,
    MarkForJury,
    AcceptJuryDuty,
    CommitVote,
    RevealVote,
    RecordTally,
    ProposeFastTrack,
    ObjectToFastTrack,
    ShipReturn,
    ConfirmReturnReceipt,
    RecordReturnDelivery,
    DisputeReturnReceipt,
)
_NAMES = {cls.action() for cls in COMMAND_TYPES}
assert len(_NAMES) == len(COMMAND_TYPES) and all(_ACTION_RE.match(a) for a in _NAMES), \
    "one name per command, of the form a step's action takes"
