"""Who is who: signed profiles and neutrals' disclosures, received, kept and looked up.

Rules:

* A person declares their own ``Profile`` (name in English and Chinese, country, language,
  contact), signed with their wallet: the service stores it as received and never edits
  it. The newest (by ``signedAt``, then arrival) is the one in effect; the portal and the
  judicial package read that one.
* The institution issues a court's profile when an admin registers the court (the name is
  the register's), signed with the institution key; a court or neutral may still declare
  its own, which then wins if newer.
* A neutral answers an appointment with a signed ``Disclosure`` naming that appointment
  step; only the person the step appoints, while still holding the role, may post it.
* Everything is checked before it is stored: the record's type, the deployment's domain,
  the signature (recovering to the issuer or appointee), the signed-in wallet, and a
  ``signedAt`` not in the future.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from sqlmodel import Session, col, select

from backend import procedure as p
from backend.db import Step, write_scope
from backend.db.service_models import IdentityRecord
from backend.log.store import Appended, append_entry
from evidence.errors import FormatError
from evidence.records import Disclosure, Profile, SignedRecord
from evidence.steps import APPOINTMENTS

from .errors import AccessDenied, BadSubmission

if TYPE_CHECKING:
    from .cases import CaseService

__all__ = ["MAX_CLOCK_SKEW", "IdentityService"]

MAX_CLOCK_SKEW = timedelta(minutes=5)
"""How far in the future a signedAt may be (a wallet's clock runs a little fast)."""


@dataclass
class IdentityService:
    """Receives and looks up profiles and disclosures of one deployment."""

    cases: CaseService
    appended: Appended | None = field(default=None, init=False, compare=False)
    """Where the last record this object stored went in the log (None: already held)."""

    # -- receiving -------------------------------------------------------------------------

    def declare_profile(self, user: str, record: object) -> SignedRecord:
        """Store the signed-in person's own profile."""
        signed = self._checked(record, Profile)
        rec = signed.record
        assert isinstance(rec, Profile)
        if rec.issuer != user or not rec.self_declared:
            raise AccessDenied(f"a person declares only their own profile: signed in as {user}, "
                               f"the profile is about {rec.subject}, signed by {rec.issuer}")
        self._store(signed, subject=rec.subject, issuer=rec.issuer, case_id=None)
        return signed

    def issue_profile(self, subject: str, name: str, *, name_zh: str = "", country: str = "",
                      language: str = "", contact: str = "") -> SignedRecord:
        """The institution's profile of a court or neutral it registers (its key signs)."""
        rec = Profile(subject=subject, issuer=self.cases.institution_address, name=name,
                      name_zh=name_zh, country=country, language=language, contact=contact,
                      signed_at=int(self.cases.now().timestamp()))
        signed = self.cases.institution.sign_record(rec)
        self._store(signed, subject=subject, issuer=rec.issuer, case_id=None)
        return signed

    def record_disclosure(self, user: str, case_id: str, record: object
                          ) -> SignedRecord:
        """Store an appointee's disclosure on the appointment step it names."""
        signed = self._checked(record, Disclosure)
        rec = signed.record
        assert isinstance(rec, Disclosure)
        case_id = case_id.lower()
        if rec.appointee != user:
            raise AccessDenied(f"signed in as {user}; a disclosure by {rec.appointee} is "
                               "posted by its appointee")
        if "0x" + rec.case_id.hex() != case_id:
            raise BadSubmission(f"the disclosure is for case 0x{rec.case_id.hex()}, posted to "
                                f"case {case_id}")
        _row, case = self.cases.load(case_id)
        if user not in _holders(case, rec.role):
            raise AccessDenied(f"{user} is not the case's {rec.role}: only an appointee "
                               "discloses", code="wrong_actor")
        with self.cases.sessions() as session:
            step = session.exec(select(Step).where(
                col(Step.case_id) == case_id,
                col(Step.record_hash) == "0x" + rec.appointment_hash.hex())).first()
            payload = _payload(session, step.id) if step is not None and step.id else None
        if step is None or APPOINTMENTS.get(step.kind) != rec.role or payload is None \
                or user not in payload.get("appointees", []):
            raise AccessDenied(f"appointmentHash 0x{rec.appointment_hash.hex()} names no step "
                               f"of case {case_id} appointing {user} as {rec.role}",
                               code="wrong_actor")
        self._store(signed, subject=user, issuer=user, case_id=case_id)
        return signed

    # -- reading ---------------------------------------------------------------------------

    def profile_of(self, session: Session, address: str, *, own: bool = False
                   ) -> SignedRecord | None:
        """The profile in effect for `address`: the newest signed, then the latest received;
        with `own`, only one the person signed (a party's: the institution names no party)."""
        query = select(IdentityRecord).where(
            col(IdentityRecord.kind) == "Profile", col(IdentityRecord.subject) == address)
        if own:
            query = query.where(col(IdentityRecord.issuer) == address)
        row = session.exec(query.order_by(col(IdentityRecord.signed_at).desc(),
                                          col(IdentityRecord.id).desc())).first()
        return SignedRecord.from_json_obj(row.record) if row is not None else None

    def issued_profiles(self, session: Session, limit: int = 500) -> list[SignedRecord]:
        """The institution's register: the newest profile it signed for each person
        (neutrals and courts it registered), newest first, at most `limit`."""
        rows = session.exec(select(IdentityRecord).where(
            col(IdentityRecord.kind) == "Profile",
            col(IdentityRecord.issuer) == self.cases.institution_address)
            .order_by(col(IdentityRecord.signed_at).desc(), col(IdentityRecord.id).desc())
            .limit(limit * 4)).all()
        seen: dict[str, SignedRecord] = {}
        for row in rows:
            if row.subject not in seen and len(seen) < limit:
                seen[row.subject] = SignedRecord.from_json_obj(row.record)
        return list(seen.values())

    def appointment_of(self, session: Session, case_id: str, address: str
                       ) -> tuple[str, str] | None:
        """The latest step of the case appointing `address` as a neutral who discloses:
        (role, the step's record hash), which a ``Disclosure`` names; None if none."""
        from evidence.records import DISCLOSING_ROLES

        kinds = [k for k, role in APPOINTMENTS.items() if role in DISCLOSING_ROLES]
        steps = session.exec(select(Step).where(
            col(Step.case_id) == case_id, col(Step.kind).in_(kinds))
            .order_by(col(Step.sequence).desc())).all()
        for step in steps:
            payload = _payload(session, step.id) if step.id else None
            if payload is not None and address in payload.get("appointees", []):
                return APPOINTMENTS[step.kind], step.record_hash
        return None

    def disclosure_of(self, session: Session, case_id: str, address: str, role: str,
                      appointment: str | None) -> SignedRecord | None:
        """The appointee's newest disclosure on `appointment` (a record hash) in the case."""
        rows = session.exec(select(IdentityRecord).where(
            col(IdentityRecord.kind) == "Disclosure", col(IdentityRecord.case_id) == case_id,
            col(IdentityRecord.subject) == address)
            .order_by(col(IdentityRecord.signed_at).desc(), col(IdentityRecord.id).desc())).all()
        for row in rows:
            signed = SignedRecord.from_json_obj(row.record)
            rec = signed.record
            if isinstance(rec, Disclosure) and rec.role == role and \
                    "0x" + rec.appointment_hash.hex() == appointment:
                return signed
        return None

    # -- parts -----------------------------------------------------------------------------

    def _checked(self, record: object, kind: type[Profile | Disclosure]) -> SignedRecord:
        try:
            signed = SignedRecord.from_json_obj(record)
        except FormatError as exc:  # not a signed record at all: say so in the API's words
            if exc.code != FormatError.code:
                raise  # a documented refusal of its own (invalid_address, unsupported_version)
            raise BadSubmission(f"record: {exc}", code="invalid_record") from exc
        if not isinstance(signed.record, kind):
            raise BadSubmission(f"expected a signed {kind.TYPE_NAME}, found "
                                f"{signed.record.TYPE_NAME}", code="wrong_record_type")
        if signed.domain != self.cases.domain:
            raise BadSubmission(
                f"signed for chain {signed.domain.chain_id} contract "
                f"{signed.domain.verifying_contract}; this service's domain is chain "
                f"{self.cases.domain.chain_id} contract {self.cases.domain.verifying_contract}",
                code="invalid_record")
        signed.verify()  # WrongSigner (403) when it does not recover to its signer field
        signed_at = datetime.fromtimestamp(_signed_at(signed), UTC)
        if signed_at > self.cases.now() + MAX_CLOCK_SKEW:
            raise BadSubmission(f"signedAt {signed_at.isoformat()} is in the future; check "
                                "the device's clock and sign again", code="clock_skew")
        return signed

    def _store(self, signed: SignedRecord, *, subject: str, issuer: str,
               case_id: str | None) -> None:
        """Keep the record and append its ``identity`` entry to the institution's log in the
        same write unit (docs/log.md §12): a Disclosure under its case, a Profile under the
        zero case id (it is bound to no case). ``self.appended`` says where it went."""
        record_hash = "0x" + signed.record_hash.hex()
        self.appended = None
        with write_scope(self.cases.sessions) as session:
            if session.exec(select(IdentityRecord).where(
                    col(IdentityRecord.record_hash) == record_hash)).first() is not None:
                return  # the same signed record twice: kept once (and logged once)
            now = self.cases.now()
            row = IdentityRecord(
                kind=signed.record.TYPE_NAME, subject=subject, issuer=issuer, case_id=case_id,
                record_hash=record_hash, record=signed.to_json_obj(),
                signed_at=datetime.fromtimestamp(_signed_at(signed), UTC), received_at=now)
            session.add(row)
            session.flush()
            self.appended = append_entry(session, kind="identity",
                                         case_id=identity_case(signed), value=identity_leaf(
                                             signed), ref_id=row.id, now=now)


ZERO_CASE = "0x" + "00" * 32
"""The case id of a Profile's log entry: a profile is bound to no case."""


def identity_case(signed: SignedRecord) -> str:
    """The case a Profile's or Disclosure's log entry names (zero for a profile)."""
    rec = signed.record
    return "0x" + rec.case_id.hex() if isinstance(rec, Disclosure) else ZERO_CASE


def identity_leaf(signed: SignedRecord) -> tuple[str, str, str]:
    """(caseId, recordHash, signaturesHash) of an identity record's log entry."""
    return (identity_case(signed), "0x" + signed.record_hash.hex(),
            "0x" + signed.signatures_hash.hex())


def _holders(case: p.CaseState, role: str) -> set[str]:
    """Who holds a neutral's role in the case now."""
    if role == "panelist":
        return set(case.panel)
    holder = case.mediator if role == "mediator" else case.arbitrator
    return {holder} if holder is not None and role in ("mediator", "arbitrator") else set()


def _payload(session: Session, step_id: int) -> dict[str, Any] | None:
    from backend.db.service_models import StepDetail

    detail = session.get(StepDetail, step_id)
    if detail is None or detail.payload is None:
        return None
    payload = json.loads(detail.payload)
    return payload if isinstance(payload, dict) else None


def _signed_at(signed: SignedRecord) -> int:
    rec = signed.record
    assert isinstance(rec, Profile | Disclosure)
    return rec.signed_at
