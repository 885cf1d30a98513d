"""Response models: what each route answers, as /openapi.json declares it.

A client (or schemathesis) can check every response against these. Each model names the
fields a client relies on, with their types; ``Open`` models also let through fields not
listed (a view may gain a field without breaking the declared contract, and a timeline
event carries its own data). Field names are the JSON's camelCase.
"""

# ruff: noqa: N815  (JSON field names are camelCase)

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict, Field

from backend.answers import AS_OBJECT, FreeJson
from backend.services.performance import OriginJson
from backend.services.pipeline import ChainActionJson
from evidence.log.absence_index import HeadsJson
from evidence.records import DomainJson, Eip712Field, SignedRecordJson

__all__ = [
    "CaseOut",
    "CourtAccessOut",
    "CourtOut",
    "HealthOut",
    "LogAbsenceOut",
    "MeOut",
    "ProvenanceOut",
    "StepOut",
    "TimelineItemOut",
    "TypedDataOut",
]


class Open(BaseModel):
    """A response object: the listed fields, typed; other fields allowed."""

    model_config = ConfigDict(extra="allow")


class HealthOut(Open):
    ok: bool
    chainId: int
    escrow: str
    institution: str


class MeOut(Open):
    address: str
    admin: bool
    displayName: str
    email: str | None
    preferredLanguage: str



class CaseOut(Open):
    """The case as the viewer may see it (``offers``/``preEvaluation`` for their readers)."""

    caseId: str
    orderId: str
    stage: str
    stageEnteredAt: str | None
    deadline: str | None
    yourRoles: list[str]
    buyer: str
    seller: str
    amount: str
    guarantee: str
    token: str | None  # the order's token (0x0…0 for ether); None: the escrow unreadable
    currency: str | None  # its ERC-20 symbol(), "ETH" for ether
    decimals: int | None  # its ERC-20 decimals(), 18 for ether
    claimant: str | None
    respondent: str | None
    disputeType: str | None
    remedy: str | None
    claimedAmount: str
    mediator: str | None
    arbitrator: str | None
    panel: list[str]
    panelSignedBy: list[str]
    arbitrationAgreed: bool
    award: FreeJson | None  # the final award (procedure's Award) as JSON
    awardRecordHash: str | None
    courtDecision: FreeJson | None
    evidence: list[FreeJson]
    allowedSteps: list[str]
    allowedEndpoints: dict[str, str]
    now: str
    nextSequence: int
    prevHash: str
    domain: Annotated[DomainJson, AS_OBJECT]
    institution: str
    chainActions: list[ChainActionJson]


class TimelineItemOut(Open):
    """A step, a stage change or deadline event, or a published encryption key."""

    at: str | None
    type: str


class StepOut(Open):
    sequence: int
    action: str
    record: Annotated[SignedRecordJson, AS_OBJECT]
    recordHash: str
    cid: str | None
    payload: FreeJson | str | None
    """The payload the record's ``payloadHash`` covers (an object, or its canonical JSON
    text as stored)."""
    attachments: list[FreeJson]
    authorization: FreeJson | None




class CourtOut(Open):
    address: str
    name: str


class CourtAccessOut(Open):
    caseId: str
    court: str




class TypedDataOut(Open):
    """EIP-712 typed data for ``eth_signTypedData_v4``."""

    types: Annotated[dict[str, list[Eip712Field]], AS_OBJECT]
    primaryType: str
    domain: Annotated[DomainJson, AS_OBJECT]
    message: FreeJson




class ProvenanceOut(Open):
    itemId: int
    commitment: str
    origin: OriginJson
    entries: list[Any]








class LogAbsenceOut(Open):
    """A signed ``chainarb.log-absence`` statement (docs/log.md §8): version 1 lists the
    entries between the checkpoints (``frontier``, ``entries``), version 2 the case's heads
    in their signed per-case indexes (``consistency``, ``heads``)."""

    format: str
    version: int
    origin: str
    caseId: str
    from_: str = Field(alias="from")
    to: str
    frontier: list[str] | None = None
    entries: list[str] | None = None
    consistency: list[str] | None = None
    heads: HeadsJson | None = None
    issuedAt: str
    signer: str
    signature: str
