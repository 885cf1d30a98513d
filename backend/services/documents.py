"""The documents steps carry (the statement of claim, an answer, the pre-evaluation report,
the reasoned award, an objection's reasons), read by those who may read the step.

Why a module of its own: a step's document is stored encrypted in IPFS with its data key
wrapped for the service key (``step_store._put_document``); nobody could read it back
through the API, so the pages could not link the award to its reasons. Who may read a
document is exactly who may read its step: ``views.step_view`` decides, once, for both.
"""

from __future__ import annotations

from typing import Any

from sqlmodel import col, select
from typing_extensions import TypedDict

from backend import procedure as p
from backend.db import Step
from backend.db.service_models import StepDetail

from .cases import CaseService
from .errors import AccessDenied, NotFound
from .evidence import EvidenceService
from .views import step_view

__all__ = ["DocumentJson", "list_documents", "read_document"]


class DocumentJson(TypedDict):
    """A step's document as listed: its step, signer, name, type and hashes (no key)."""

    sequence: int
    action: str
    signer: str
    recordedAt: str | None
    filename: str
    mediaType: str
    sha256: str
    cid: str


def _document(attachments: list[dict[str, Any]]) -> dict[str, Any] | None:
    return next((a for a in attachments if a.get("type") == "Document"), None)


def _documents_of(service: CaseService, case_id: str) -> list[tuple[Step, dict[str, Any]]]:
    with service.sessions() as session:
        rows = session.exec(select(Step, StepDetail).where(
            col(Step.case_id) == case_id, col(StepDetail.step_id) == col(Step.id))
            .order_by(col(Step.sequence))).all()
    return [(step, doc) for step, detail in rows
            if (doc := _document(list(detail.attachments))) is not None]


def list_documents(service: CaseService, case_id: str, viewer: str) -> list[DocumentJson]:
    """The documents of the steps ``viewer`` may read, in step order (no key material)."""
    case_id = case_id.lower()
    out: list[DocumentJson] = []
    for step, doc in _documents_of(service, case_id):
        try:
            step_view(service, case_id, step.sequence, viewer)
        except (AccessDenied, NotFound):
            continue
        out.append(_meta(step, doc))
    if not out:
        _check_reader(service, case_id, viewer)
    return out


def _check_reader(service: CaseService, case_id: str, viewer: str) -> None:
    from .views import check_reader

    with service.sessions() as session:
        _row, case = service.load_in(session, case_id)
        check_reader(service, session, case, viewer)


def _meta(step: Step, doc: dict[str, Any]) -> DocumentJson:
    return {"sequence": step.sequence, "action": step.kind, "signer": step.signer,
            "recordedAt": p.to_jsonable(step.created_at),
            "filename": str(doc.get("filename", "document")),
            "mediaType": str(doc.get("mediaType", "application/octet-stream")),
            "sha256": str(doc.get("sha256", "")), "cid": str(doc.get("cid", ""))}


def read_document(service: CaseService, evidence: EvidenceService, case_id: str,
                  sequence: int, viewer: str) -> tuple[DocumentJson, bytes]:
    """The document of step ``sequence`` (metadata, plain bytes) for a viewer who may read
    the step; ``NotFound`` when the step carries none. The bytes are checked against the
    SHA-256 the step signed before they are returned."""
    case_id = case_id.lower()
    step_view(service, case_id, sequence, viewer)  # AccessDenied / NotFound as for the step
    found = next(((s, d) for s, d in _documents_of(service, case_id) if s.sequence == sequence),
                 None)
    if found is None:
        raise NotFound(f"step {sequence} of case {case_id} carries no document")
    step, doc = found
    key = evidence.keys.document_key(doc)
    content = b"".join(evidence.decrypt_iter(str(doc["cid"]), key, str(doc["sha256"])))
    return _meta(step, doc), content
