"""Commands: what a signer asks the procedure to do (imperative names, STYLE §7).

Each command is a frozen, keyword-only dataclass checked when it is built, so an invalid
command cannot exist (h11 ``_events.py``). ``actor`` is the address the edge recovered
from the EIP-712 signature; ``sequence`` must equal the case's ``next_sequence``. Whether
the actor may issue the command, and in which stage, is decided by the tables in
``_machine.py``, never here.
"""

from __future__ import annotations

from dataclasses import dataclass

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
    "AcceptOffer",
    "AgreeToArbitrate",
    "AppointArbitrator",
    "AppointMediator",
    "AppointPanel",
    "CloseRecord",
    "Command",
    "ConfirmJudicially",
    "DeclareImpasse",
    "Enforce",
    "FileClaim",
    "IssueAward",
    "IssuePanelAward",
    "MakeOffer",
    "Object",
    "ProposeSettlement",
    "PublishPreEvaluation",
    "RecordEnforcement",
    "RefuseConfirmation",
    "RequestFacilitation",
    "SubmitAnswer",
    "SubmitEvidence",
    "WithdrawOffer",
]

MAX_REASONS_CHARS = 4000
_TX_HASH = "tx_hash"


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
    offer_id: str
    allocation: Allocation

    def _check(self) -> None:
        check_id("offer_id", self.offer_id)
        _check_allocation(self.allocation)


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

    def _check(self) -> None:
        check_id("offer_id", self.offer_id)
        _check_allocation(self.allocation)


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
    evidence_id: str
    kind: EvidenceKind
    commitment: str

    def _check(self) -> None:
        check_id("evidence_id", self.evidence_id)
        _set(self, "kind", check_enum("kind", EvidenceKind, self.kind))
        _set(self, "commitment", check_hash("commitment", self.commitment))


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
    allocation: Allocation
    award_hash: str

    def _check(self) -> None:
        _check_allocation(self.allocation)
        _set(self, "award_hash", check_hash("award_hash", self.award_hash))


@dataclass(frozen=True, kw_only=True)
class Object(Command):
    grounds_hash: str

    def _check(self) -> None:
        _set(self, "grounds_hash", check_hash("grounds_hash", self.grounds_hash))


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

    def _check(self) -> None:
        _set(self, _TX_HASH, check_hash(_TX_HASH, self.tx_hash))
        _check_allocation(self.allocation)


@dataclass(frozen=True, kw_only=True)
class ConfirmJudicially(Command):
    decision_hash: str

    def _check(self) -> None:
        _set(self, "decision_hash", check_hash("decision_hash", self.decision_hash))


@dataclass(frozen=True, kw_only=True)
class RefuseConfirmation(Command):
    decision_hash: str
    reasons: str

    def _check(self) -> None:
        _set(self, "decision_hash", check_hash("decision_hash", self.decision_hash))
        if not isinstance(self.reasons, str) or not self.reasons.strip():
            raise InvalidCommand("reasons: a refusal must state its reasons; found none")
        if len(self.reasons) > MAX_REASONS_CHARS:
            raise InvalidCommand(
                f"reasons: at most {MAX_REASONS_CHARS} characters, found {len(self.reasons)}"
            )


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
)
