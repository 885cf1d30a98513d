"""Court access as a signed step: ``appoint.court`` by the institution.

The judicial package's verifier trusts nothing from the database, so a court's role must
be on the hash chain like every other appointment: granting access appends an
institution-signed ``appoint.court`` step whose payload is ``{"role": "court",
"appointees": [...every court of the case, sorted...]}`` (each grant names the full set,
as ``appoint.panel`` does), stored in IPFS and anchored like any step. Without it a
package exported after the court's decision fails the role check.

Its own module because registering courts and granting them access is the institution's
administration, not a step anyone signs; the grant still writes the step in the same
write unit as the access rows, through the case repository and the step store.
"""

from __future__ import annotations

from dataclasses import replace
from typing import TYPE_CHECKING

from backend.db import Participant
from backend.db.service_models import CourtAccess, CourtAccount
from evidence.records import canonical_json

from .errors import AccessDenied, BadSubmission, NotFound
from .identity import IdentityService

if TYPE_CHECKING:
    from .cases import CaseService

__all__ = ["APPOINT_COURT", "court_appointment", "grant_court", "register_court"]

APPOINT_COURT = "appoint.court"


def court_appointment(courts: frozenset[str] | set[str]) -> dict[str, object]:
    """The ``appoint.court`` payload naming every court of the case."""
    return {"role": "court", "appointees": sorted(courts)}


def grant_court(service: CaseService, admin: str, case_id: str, court: str) -> bool:
    """Give a registered court access to a case and sign ``appoint.court`` for it.

    Returns False when the court already had access (nothing is written twice)."""
    if not service.is_admin(admin):
        raise AccessDenied("only an institution admin grants court access")
    now = service.now()
    repo, store = service.repository, service.store
    with repo.write_session() as session:
        if session.get(CourtAccount, court) is None:
            raise NotFound(f"court {court} is not registered; register it first")
        row, case = repo.load(session, case_id, lock=True)
        if court in (case.order.buyer, case.order.seller) or court in case.neutrals:
            raise BadSubmission(f"{court} takes part in the case; it cannot be its court",
                                code="conflict_of_interest")  # 422, as an appointment's
        if court in case.courts:
            session.rollback()
            return False
        # appoint.court is a record of the step chain: the procedure's counter moves on too
        new_case = replace(case, courts=case.courts | {court},
                           next_sequence=case.next_sequence + 1)
        session.add(CourtAccess(case_id=row.id, court=court, granted_by=admin,
                                created_at=now))
        session.add(Participant(case_id=row.id, address=court, role="court",
                                appointed_at=now))
        payload = court_appointment(new_case.courts)
        signed = service.institution.sign_step(row.id, repo.chain_head(session, row.id),
                                               APPOINT_COURT, payload, now)
        store.insert(session, row.id, case, signed, APPOINT_COURT, now,
                     payload=canonical_json(payload))
        repo.save(session, row, new_case, now)
        for recipient in (*new_case.parties, court):
            service.effects.notify(session, row.id, recipient, "court_access_granted", now,
                                   stage=new_case.stage.value)
        session.commit()
    return True


def register_court(service: CaseService, admin: str, address: str, name: str, *,
                   name_zh: str = "", country: str = "") -> None:
    """Register a court account (an admin asks; registering twice changes nothing). The
    institution issues the court's signed profile with the register's name, so packages
    name the court in words the institution's key vouches for."""
    if not service.is_admin(admin):
        raise AccessDenied("only an institution admin registers courts")
    with service.repository.write_session() as session:
        if session.get(CourtAccount, address) is not None:
            return
        session.add(CourtAccount(address=address, name=name, registered_by=admin,
                                 created_at=service.now()))
        session.commit()
    IdentityService(service).issue_profile(address, name, name_zh=name_zh, country=country)
