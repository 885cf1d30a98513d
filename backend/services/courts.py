"""Court access as a signed step: ``appoint.court`` by the institution.

The judicial package's verifier trusts nothing from the database, so a court's role must
be on the hash chain like every other appointment: granting access appends an
institution-signed ``appoint.court`` step whose payload is ``{"role": "court",
"appointees": [...every court of the case, sorted...]}`` (each grant names the full set,
as ``appoint.panel`` does), stored in IPFS and anchored like any step. Without it a
package exported after the court's decision fails the role check.

Kept beside ``CaseService`` so the admin route gets the step in the same transaction as
the access rows.
"""

from __future__ import annotations

from dataclasses import replace

from backend.db import Participant
from backend.db.service_models import CourtAccess, CourtAccount
from evidence.records import canonical_json

from .cases import CaseService
from .errors import AccessDenied, BadSubmission, NotFound

__all__ = ["APPOINT_COURT", "court_appointment", "grant_court"]

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
    with service._writer(), service.sessions() as session:
        service._begin_write(session)
        if session.get(CourtAccount, court) is None:
            raise NotFound(f"court {court} is not registered; register it first")
        row, case = service._load(session, case_id, lock=True)
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
        signed = service._institution_step(session, row, APPOINT_COURT, payload, now)
        service._insert_step(session, row, case, signed, APPOINT_COURT, now,
                             payload=canonical_json(payload))
        service._save_case(session, row, new_case, now)
        for party in new_case.parties:
            service._notice(session, row.id, party, "court_access_granted", now, new_case)
        service._notice(session, row.id, court, "court_access_granted", now, new_case)
        session.commit()
    return True

