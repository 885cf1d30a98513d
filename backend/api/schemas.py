"""The response models left: answers whose writer has no TypedDict yet.

An answer is declared once, as the TypedDict of the service that writes it, which the route
names as its response model (backend/answers.py, docs/architecture.md §1). The models here
document answers not converted yet: the timeline (each event carries its own members), the
typed data of an evidence submission (``evidence.records.TypedDataJson``, whose free
``message`` pydantic cannot build) and a provenance log (whose ``origin``
``evidence.judicial.provenance.origin_of`` writes as free JSON). ``Open`` models let
through fields not listed. Field names are the JSON's camelCase.
"""

# ruff: noqa: N815  (JSON field names are camelCase)

from __future__ import annotations

from typing import Annotated, Any

from pydantic import BaseModel, ConfigDict

from backend.answers import AS_OBJECT, FreeJson
from backend.services.performance import OriginJson
from evidence.records import DomainJson, Eip712Field

__all__ = [
    "ProvenanceOut",
    "TimelineItemOut",
    "TypedDataOut",
]


class Open(BaseModel):
    """A response object: the listed fields, typed; other fields allowed."""

    model_config = ConfigDict(extra="allow")


class TimelineItemOut(Open):
    """A step, a stage change or deadline event, or a published encryption key."""

    at: str | None
    type: str


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


