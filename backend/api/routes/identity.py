"""Who is who: a person's signed profile, and a neutral's signed disclosure on a case.

``PUT /profile`` takes the signed-in person's own ``Profile`` record (EIP-712, signed with
their wallet); ``GET /profiles/{address}`` answers the profile in effect (any signed-in
user: names are shown beside addresses in cases and packages). ``POST
/cases/{id}/disclosures`` takes an appointed neutral's ``Disclosure`` on their appointment.
The rules are ``backend/services/identity.py``'s; the formats docs/evidence.md's.
"""

from __future__ import annotations

from typing import Annotated, Required

from fastapi import APIRouter
from pydantic import Field
from starlette.concurrency import run_in_threadpool
from typing_extensions import TypedDict

from backend.answers import AS_OBJECT, FreeJson
from backend.services.errors import NotFound
from backend.services.identity import IdentityService
from evidence.log.receipt import ReceiptJson
from evidence.records import (
    Disclosure,
    DomainJson,
    Profile,
    SignedRecord,
    SignedRecordJson,
    checksum_address,
)

from ..deps import Ctx, CurrentUser
from ..errors import StrictBody, errors
from .log import get_log

router = APIRouter(tags=["identity"], responses=errors(403, 404, 409))


class SignedIn(StrictBody):
    record: FreeJson = Field(description="canonical JSON of the signed record")


class ProfileJson(TypedDict):
    """A profile as the API shows it: its words, who signed, and the record itself."""

    address: str
    name: str
    nameZh: str
    country: str
    language: str
    contact: str
    issuer: str
    signedAt: str
    recordHash: str
    record: SignedRecordJson


class LoggedJson(TypedDict, total=False):
    """The log receipt of a record just stored (absent: the same record was held)."""

    receipt: ReceiptJson


class ProfileDeclaredJson(ProfileJson, LoggedJson):
    """``PUT /profile``: the profile and its receipt."""


class DisclosedJson(LoggedJson):
    """``POST /cases/{id}/disclosures``: the disclosure's words and its receipt."""

    caseId: Required[str]
    appointee: Required[str]
    role: Required[str]
    appointmentHash: Required[str]
    independent: Required[bool]
    conflicts: Required[str]
    recordHash: Required[str]


def profile_view(signed: SignedRecord) -> ProfileJson:
    """A profile as the API shows it: its words, who signed, and the record itself."""
    rec = signed.record
    assert isinstance(rec, Profile)
    return {"address": rec.subject, "name": rec.name, "nameZh": rec.name_zh,
            "country": rec.country, "language": rec.language, "contact": rec.contact,
            "issuer": rec.issuer, "signedAt": str(rec.signed_at),
            "recordHash": "0x" + signed.record_hash.hex(), "record": signed.to_json_obj()}


@router.get("/eip712-domain")
def eip712_domain(ctx: Ctx) -> Annotated[DomainJson, AS_OBJECT]:
    """The EIP-712 domain every record of this deployment is signed under (no sign-in): a
    wallet needs it to sign a profile before any case exists."""
    return ctx.service.domain.to_json_obj()


@router.put("/profile")
async def declare_profile(ctx: Ctx, user: CurrentUser, body: SignedIn
                          ) -> Annotated[ProfileDeclaredJson, AS_OBJECT]:
    """Declare your own profile: a ``Profile`` record with you as subject and issuer."""
    identities = IdentityService(ctx.service)
    signed = await run_in_threadpool(identities.declare_profile, user, body.record)
    return {**profile_view(signed), **_receipt(ctx, identities)}


def _receipt(ctx: Ctx, identities: IdentityService) -> LoggedJson:
    """The log receipt of the record just stored (none when the same record was held)."""
    if identities.appended is None:
        return {}
    return {"receipt": get_log(ctx).receipt(identities.appended)}


@router.get("/profiles/{address}")
def read_profile(ctx: Ctx, _user: CurrentUser, address: str
                 ) -> Annotated[ProfileJson, AS_OBJECT]:
    """The profile in effect for an address (its own, or the institution's for a court)."""
    who = checksum_address(address)
    with ctx.sessions() as session:
        signed = IdentityService(ctx.service).profile_of(session, who)
    if signed is None:
        raise NotFound(f"{who} has declared no profile")
    return profile_view(signed)


@router.post("/cases/{case_id}/disclosures", status_code=201)
async def disclose(ctx: Ctx, user: CurrentUser, case_id: str, body: SignedIn
                   ) -> Annotated[DisclosedJson, AS_OBJECT]:
    """An appointed neutral's signed disclosure (independence, conflicts)."""
    identities = IdentityService(ctx.service)
    signed = await run_in_threadpool(identities.record_disclosure, user, case_id, body.record)
    rec = signed.record
    assert isinstance(rec, Disclosure)
    return {"caseId": case_id.lower(), "appointee": rec.appointee, "role": rec.role,
            "appointmentHash": "0x" + rec.appointment_hash.hex(),
            "independent": rec.independent, "conflicts": rec.conflicts,
            "recordHash": "0x" + signed.record_hash.hex(), **_receipt(ctx, identities)}
