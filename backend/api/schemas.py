"""The response models left: answers whose writer has no TypedDict yet.

An answer is declared once, as the TypedDict of the service that writes it, which the route
names as its response model (backend/answers.py, docs/architecture.md §1). The models here
document answers not converted yet: the case view (built and cached as JSON text on the
read path, ``views.case_view_json``), the timeline (each event carries its own members), a
step (``jury_masks.mask_step`` rewrites it generically), the typed data of an evidence
submission (``evidence.records.TypedDataJson``, whose free ``message`` pydantic cannot
build) and a provenance log (whose ``origin`` ``evidence.judicial.provenance.origin_of``
writes as free JSON). ``Open`` models let through fields not listed. Field names are the
JSON's camelCase.
"""

# ruff: noqa: N815  (JSON field names are camelCase)

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict

from backend.answers import AS_OBJECT, FreeJson
from backend.services.performance import OriginJson
from backend.services.pipeline import ChainActionJson
from evidence.records import DomainJson, Eip712Field, SignedRecordJson

__all__ = [
    "CaseOut",
    "ProvenanceOut",
    "StepOut",
    "TimelineItemOut",
    "TypedDataOut",
]


class Open(BaseModel):
    """A response object: the listed fields, typed; other fields allowed."""

    model_config = ConfigDict(extra="allow")


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


