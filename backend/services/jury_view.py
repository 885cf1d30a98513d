"""The juror's view of a case: the dispute without the people (docs/jury.md §4).

Why a module of its own: a juror is never a reader of the case record (views.check_reader
refuses a juror), so nothing the parties' pages show may reach one by accident. This view
is built from an allow-list of facts — the claim's type, remedy and amounts, the items the
parties put before the jury (side, kind, time), the allocation options, the reason codes,
the juror's own vote — plus the texts of the claim and the answer passed through the
redaction rule (backend/jury: names, addresses and contacts masked). Every read is logged
as a case event (``jury_view``).
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select

from backend import procedure as p
from backend.db import Step, write_scope
from backend.db.service_models import CaseEvent, StepDetail
from backend.jury import Identity, redact
from evidence.jury import REASON_CODES
from evidence.records import Profile, SignedRecord

from .cases import CaseService
from .errors import AccessDenied
from .evidence import EvidenceService
from .identity import IdentityService

__all__ = ["ACCESS_EVENT", "TEXT_ACTIONS", "juror_view"]

ACCESS_EVENT = "jury_view"  # CaseEvent.kind: a juror read the juror view
TEXT_ACTIONS = {"case.filed": "claim", "answer.submitted": "answer"}
"""The steps whose documents a juror reads (redacted), and under which key."""
MAX_TEXT_BYTES = 64_000


def _identities(service: CaseService, case: p.CaseState) -> list[Identity]:
    ids = IdentityService(service)
    out = []
    with service.sessions() as session:
        for label, address in (("claimant", case.claimant), ("respondent", case.respondent)):
            if address is None:
                continue
            names: list[str] = []
            contacts: list[str] = []
            signed: SignedRecord | None = ids.profile_of(session, address)
            if signed is not None and isinstance(signed.record, Profile):
                names += [n for n in (signed.record.name, signed.record.name_zh) if n]
                contacts += [signed.record.contact] if signed.record.contact else []
            out.append(Identity(label=label, address=address, names=tuple(names),
                                contacts=tuple(contacts)))
    return out


def _texts(service: CaseService, evidence: EvidenceService, case_id: str,
           identities: list[Identity]) -> dict[str, str]:
    with service.sessions() as session:
        rows = session.exec(select(Step, StepDetail).where(
            col(Step.case_id) == case_id, col(StepDetail.step_id) == col(Step.id),
            col(Step.kind).in_(list(TEXT_ACTIONS))).order_by(col(Step.sequence))).all()
    out: dict[str, str] = {}
    for step, detail in rows:
        doc = next((a for a in detail.attachments if a.get("type") == "Document"), None)
        if doc is None:
            continue
        key = evidence.keys.document_key(doc)
        raw = b"".join(evidence.decrypt_iter(str(doc["cid"]), key, str(doc["sha256"])))
        text = raw[:MAX_TEXT_BYTES].decode("utf-8", errors="replace")
        out[TEXT_ACTIONS[step.kind]] = redact(text, identities)
    return out


def _item(case: p.CaseState, e: p.EvidenceItem) -> dict[str, str]:
    """A marked item as a juror sees it: which side gave it, its kind and when; its content
    (a file: photos, PDFs) is not shown until files can be redacted (docs/jury.md)."""
    return {"evidenceId": e.evidence_id, "kind": e.kind.value,
            "by": "claimant" if e.submitted_by == case.claimant else "respondent",
            "submittedAt": str(p.to_jsonable(e.submitted_at))}


def _alloc(a: p.Allocation) -> dict[str, str]:
    return {"toBuyer": str(a.to_buyer), "toSeller": str(a.to_seller),
            "compensation": str(a.compensation)}


def juror_view(service: CaseService, evidence: EvidenceService, case_id: str, viewer: str
               ) -> dict[str, Any]:
    """What a sitting juror of ``case_id`` reads; ``AccessDenied`` for anyone else."""
    case_id = case_id.lower()
    _row, case = service.load(case_id)
    if viewer not in case.jury.jurors:
        raise AccessDenied(f"{viewer} is not a sitting juror of case {case_id}; the juror "
                           "view is for the drawn jury only")
    identities = _identities(service, case)
    texts = _texts(service, evidence, case_id, identities)
    vote = case.jury.vote_of(viewer)
    now = service.now()
    with write_scope(service.sessions) as session:
        session.add(CaseEvent(case_id=case_id, at=now, kind=ACCESS_EVENT,
                              data={"juror": viewer}))
    return {
        "caseId": case_id,
        "stage": case.stage.value,
        "deadline": p.to_jsonable(case.deadline),
        "claim": {
            "by": "buyer" if case.claimant == case.order.buyer else "seller",
            "disputeType": case.dispute_type.value if case.dispute_type else None,
            "remedy": case.remedy.value if case.remedy else None,
            "claimedAmount": str(case.claimed_amount),
            "escrowed": str(case.order.amount),
            "text": texts.get("claim"),
        },
        "answer": {"text": texts.get("answer")},
        "evidence": [_item(case, e) for e in case.evidence if e.evidence_id in case.jury.marked],
        "options": [_alloc(o) for o in case.jury.options],
        "reasonCodes": [{"code": code, "en": en, "zh": zh}
                        for code, (en, zh) in sorted(REASON_CODES.items())],
        "myVote": {"accepted": viewer in case.jury.accepted,
                   "committed": vote is not None,
                   "revealed": vote is not None and vote.choice is not None},
    }
