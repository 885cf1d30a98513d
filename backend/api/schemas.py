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
from backend.services.pipeline import ChainActionJson
from evidence.log.absence_index import HeadsJson
from evidence.log.receipt import ReceiptJson
from evidence.records import DomainJson, Eip712Field, SignedRecordJson, TypedDataJson

__all__ = [
    "CaseOut",
    "CaseSummaryOut",
    "CourtAccessOut",
    "CourtOut",
    "FastTrackOut",
    "HealthOut",
    "LogAbsenceOut",
    "MeOut",
    "NoticeOut",
    "OriginOut",
    "PackageCheckOut",
    "PackageVerificationOut",
    "PerformanceCapturedOut",
    "PerformanceItemOut",
    "PerformanceListOut",
    "PreEvaluationOut",
    "PreparedStepOut",
    "ProvenanceOut",
    "StepOut",
    "TickOut",
    "TimelineItemOut",
    "TypedDataOut",
    "WebhookRefusalOut",
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


class CaseSummaryOut(Open):
    caseId: str
    orderId: str | int
    stage: str
    nextDeadline: str | None
    buyer: str | None = None
    seller: str | None = None
    claimant: str | None = None
    respondent: str | None = None
    amount: str | None = Field(default=None, description="escrowed, in the token's units")
    token: str | None = None
    currency: str | None = Field(default=None, description="the token's symbol (ETH: ether)")
    decimals: int | None = Field(default=None, description="the token's decimals")
    disputeType: str | None = None
    remedy: str | None = None
    yourRoles: list[str] = Field(default_factory=list,
                                 description="your seats in the case (none: an admin's view)")



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



class PreparedStepOut(Open):
    action: str
    endpoint: str
    recordType: str
    typedData: Annotated[TypedDataJson, AS_OBJECT]
    unsignedRecord: Annotated[SignedRecordJson, AS_OBJECT]
    recordHash: str
    payload: FreeJson | None
    reasons: str | None
    attachments: list[FreeJson]
    sequence: int
    prevHash: str
    signedAt: int
    now: str


class PreEvaluationOut(Open):
    report: FreeJson
    canonical: str
    sha256: str
    recommended: str


class FastTrackOut(Open):
    report: FreeJson
    canonical: str
    sha256: str
    recommended: str
    payload: dict[str, str]


class NoticeOut(Open):
    id: int | None
    kind: str
    language: str
    subject: str
    body: str
    status: str
    attempts: int
    error: str | None
    createdAt: str | None
    deliveredAt: str | None


class CourtOut(Open):
    address: str
    name: str


class CourtAccessOut(Open):
    caseId: str
    court: str


class AdvanceRefundOut(Open):
    """An advance refund signed on the case's hash chain and sent to the escrow."""

    caseId: str
    orderId: int
    token: str
    amount: str  # integer of the token's smallest unit, as a string
    totalAdvanced: str
    recordHash: str


class TickOut(Open):
    """What one run of the background work did (counts by kind)."""



class TypedDataOut(Open):
    """EIP-712 typed data for ``eth_signTypedData_v4``."""

    types: Annotated[dict[str, list[Eip712Field]], AS_OBJECT]
    primaryType: str
    domain: Annotated[DomainJson, AS_OBJECT]
    message: FreeJson



class OriginOut(Open):
    """Where an item came from, in both languages (docs/performance-evidence.md)."""

    label: str = Field(description="origin-verified | party-submitted")
    en: str
    zh_Hans: str = Field(alias="zh-Hans")
    sender: FreeJson | None = Field(default=None, description="origin-verified: the "
                                          "sender's id, names, scheme and key id")


class ProvenanceOut(Open):
    itemId: int
    commitment: str
    origin: OriginOut
    entries: list[Any]


class PerformanceItemOut(Open):
    id: int
    orderId: str
    caseId: str
    attached: bool
    eventId: str
    type: str
    typeLabel: dict[str, str]
    shipment: str
    sequence: int
    occurredAt: str
    capturedAt: str
    origin: OriginOut
    sha256: str
    commitment: str
    cid: str
    size: int


class PerformanceCapturedOut(PerformanceItemOut):
    """A recorded item, with the receipt of its ``performance`` entry in the log and one
    for each of its other provenance entries (kind ``provenance``)."""

    receipt: ReceiptJson
    provenanceReceipts: list[ReceiptJson]


class PerformanceListOut(Open):
    items: list[PerformanceItemOut]


class WebhookRefusalOut(Open):
    id: int
    at: str
    sender: str
    code: str
    detail: str
    eventId: str
    orderId: str
    bodySha256: str
    signedTimestamp: str
    remote: str



class PackageCheckOut(Open):
    """One check of ``POST /verify``: its label and reason in both languages; ``status`` is
    ``passed``, ``failed`` or ``not_run``."""

    name: str
    label: dict[str, str]
    status: str
    reason: dict[str, str]
    details: list[str]


class PackageVerificationOut(Open):
    """``POST /verify``: the checks ``chainarb verify`` runs, run by the service on the
    uploaded file (``runBy`` is ``service``), and the blocks left for the court to confirm."""

    runBy: str
    statement: dict[str, str]
    file: FreeJson
    outcome: str
    ok: bool
    failed: list[str]
    unreadable: str | None
    packageDigest: str | None
    manifestSha256: str | None
    chainId: int | None
    checks: list[PackageCheckOut]
    blocks: list[dict[str, str]]
    blocksToConfirm: bool
    confirmHow: dict[str, str]
    notes: list[dict[str, str]]
    yourPackages: list[FreeJson]



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
