"""What the signed records of a package say, in the few numbers a judge reads first.

index.html and certificate.pdf show the award's allocation, the settlement, the payout the
service recorded and the court's decision. They take them from here, and this reads them
only from signed records (the Award and Settlement the escrow executes, the institution's
``enforcement.recorded`` step, the court's ``CourtConfirmation``) and, for the escrow's
acts, from the receipts and block headers the package proves (check ``block_proofs``),
never from a value nothing covers: what the views print is what the verifier checks.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any, TypedDict

from evidence.judicial.inputs import StepEntry
from evidence.records import Award, CourtConfirmation, ProceduralStep, ReturnAward, Settlement

__all__ = ["CourtDecision", "EscrowActJson", "Facts", "signed_facts"]


class CourtDecision(TypedDict):
    """A court's signed CourtConfirmation, as the package's pages show it."""

    court: str
    confirmed: bool
    courtReference: str
    signedAt: str  # unix seconds, a decimal string


class EscrowActJson(TypedDict):
    """An escrow act the package proves: its event, chain and transaction, and the block it
    is proven in (blockNumber and blockTime empty when the inputs lack its proof)."""

    event: str
    chainId: str
    txHash: str
    blockNumber: str  # a decimal string, or ""
    blockTime: str  # unix seconds, a decimal string, or ""


@dataclass(frozen=True)
class Facts:
    """Amounts are decimal strings in the token's smallest unit; times unix seconds."""

    claimed: str | None = None  # case.filed: claimedAmount
    award: dict[str, str] | None = None  # toBuyer, toSeller, compensation, round, awardHash
    settlement: dict[str, str] | None = None  # toBuyer, toSeller, compensation
    payout: dict[str, str] | None = None  # enforcement.recorded's payload, as signed
    decisions: list[CourtDecision] = field(default_factory=list)
    acts: list[EscrowActJson] = field(default_factory=list)
    """The escrow's proven acts: event, chainId, txHash, blockNumber, blockTime (the
    builder reads them from escrow.json's acts and the block proofs)."""


def _payload(entry: StepEntry) -> dict[str, Any]:
    if entry.payload is None:
        return {}
    try:
        value = json.loads(entry.payload)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def signed_facts(entries: Sequence[StepEntry], acts: Sequence[EscrowActJson] = ()) -> Facts:
    """The facts of a case's records (chained and unchained, as the builder holds them),
    with the escrow's acts as the block proofs place them."""
    claimed = None
    award: dict[str, str] | None = None
    settlement = None
    payout = None
    decisions: list[CourtDecision] = []
    for e in entries:
        rec = e.record.record
        if isinstance(rec, ProceduralStep) and rec.action == "case.filed":
            value = _payload(e).get("claimedAmount")
            claimed = str(value) if value is not None else None
        elif isinstance(rec, ProceduralStep) and rec.action == "enforcement.recorded":
            payout = {k: str(v) for k, v in _payload(e).items()}
        elif isinstance(rec, Award | ReturnAward) and (
                award is None or rec.round >= int(award["round"])):
            award = {"toBuyer": str(rec.to_buyer), "toSeller": str(rec.to_seller),
                     "compensation": str(rec.compensation), "round": str(rec.round),
                     "awardHash": "0x" + rec.award_hash.hex()}
            if isinstance(rec, ReturnAward):  # the fallback, if the goods never went back
                award |= {"noReturnToBuyer": str(rec.no_return_to_buyer),
                          "noReturnToSeller": str(rec.no_return_to_seller),
                          "noReturnCompensation": str(rec.no_return_compensation)}
        elif isinstance(rec, Settlement):
            settlement = {"toBuyer": str(rec.to_buyer), "toSeller": str(rec.to_seller),
                          "compensation": str(rec.compensation)}
        elif isinstance(rec, CourtConfirmation):
            decisions.append({"court": rec.court, "confirmed": rec.confirmed,
                              "courtReference": rec.court_reference,
                              "signedAt": str(rec.signed_at)})
    return Facts(claimed=claimed, award=award, settlement=settlement, payout=payout,
                 decisions=decisions, acts=list(acts))
