"""The juror's view of a case: the dispute without the people (docs/jury.md §4).

Why a module of its own: a juror is never a reader of the case record (views.check_reader
refuses a juror), so nothing the parties' pages show may reach one by accident. This view
is built from an allow-list of facts — the claim's type, remedy and amounts, the items the
parties put before the jury (side, kind, time), the allocation options, the reason codes,
the juror's own vote — plus the texts of the claim and the answer passed through the
redaction rule (backend/jury: names, addresses and contacts masked), and the files of the
marked items under the rule for files (``juror_file``: metadata stripped, or withheld with
a reason). Every read is logged as a case event (``jury_view``, ``jury_file``).
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from dataclasses import dataclass

from sqlmodel import col, select
from typing_extensions import TypedDict

from backend import procedure as p
from backend.db import EvidenceItem, Step, write_scope
from backend.db.service_models import CaseEvent, StepDetail
from backend.jury import Identity, JurorFile, redact, redact_file
from evidence.jury import REASON_CODES
from evidence.records import Profile, SignedRecord

from .cases import CaseService
from .errors import AccessDenied, NotFound
from .evidence import EvidenceService
from .identity import IdentityService

__all__ = ["ACCESS_EVENT", "FILE_EVENT", "TEXT_ACTIONS", "JurorFileOut", "JuryViewJson",
           "juror_file", "juror_view"]


class JuryClaimJson(TypedDict):
    by: str  # buyer | seller: the side, never the person
    disputeType: str | None
    remedy: str | None
    claimedAmount: str
    escrowed: str
    text: str | None  # the statement of claim, redacted


class JuryAnswerJson(TypedDict):
    text: str | None


class JuryOptionJson(TypedDict):
    toBuyer: str
    toSeller: str
    compensation: str


class ReasonCodeJson(TypedDict):
    code: int
    en: str
    zh: str


class MyVoteJson(TypedDict):
    accepted: bool
    committed: bool
    revealed: bool


class JuryFileJson(TypedDict):
    shown: bool  # the file is shown under the rule for files (else withheld: ``reason``)
    mediaType: str | None  # of the cleaned file
    href: str | None  # GET it (a sitting juror only; logged)
    reason: str | None  # why it is withheld
    reasonZh: str | None


class JuryEvidenceJson(TypedDict):
    evidenceId: str
    kind: str
    by: str  # claimant | respondent
    submittedAt: str
    file: JuryFileJson


class JuryViewJson(TypedDict):
    """``GET /cases/{id}/jury/view``: the case as a sitting juror sees it (the dispute,
    never the parties)."""

    caseId: str
    stage: str
    deadline: str | None
    claim: JuryClaimJson
    answer: JuryAnswerJson
    evidence: list[JuryEvidenceJson]
    options: list[JuryOptionJson]
    reasonCodes: list[ReasonCodeJson]
    myVote: MyVoteJson

ACCESS_EVENT = "jury_view"  # CaseEvent.kind: a juror read the juror view
FILE_EVENT = "jury_file"  # CaseEvent.kind: a juror read a file put before the jury
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


_EXTENSIONS = {"image/jpeg": "jpg", "image/png": "png", "application/pdf": "pdf",
               "text/plain": "txt"}
_CACHE_SIZE = 16
_CACHE_MAX_BYTES = 4 * 1024 * 1024  # a larger file is cleaned again on each read
_cache: OrderedDict[tuple[str, str, tuple[Identity, ...]], JurorFile] = OrderedDict()
_cache_lock = threading.Lock()


@dataclass(frozen=True)
class JurorFileOut:
    """A file as a juror receives it: the cleaned bytes and a neutral file name."""

    content: bytes
    media_type: str
    filename: str


def _redacted(evidence: EvidenceService, item: EvidenceItem,
              identities: list[Identity]) -> JurorFile:
    """The item's file under the rule for files; the last few kept (a juror's view and its
    files read the same items again), keyed by content hash and the identities masked."""
    key = (item.sha256, item.media_type, tuple(identities))
    with _cache_lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
    content = b"".join(evidence.decrypt_iter(item.cid, evidence.data_key(item), item.sha256))
    done = redact_file(content, item.media_type, identities)
    if item.size > _CACHE_MAX_BYTES:
        return done
    with _cache_lock:
        _cache[key] = done
        while len(_cache) > _CACHE_SIZE:
            _cache.popitem(last=False)
    return done


def _stored(service: CaseService, case: p.CaseState) -> dict[str, EvidenceItem]:
    """The stored upload of each marked item, by evidence id."""
    commitments = {e.commitment: e.evidence_id for e in case.evidence
                   if e.evidence_id in case.jury.marked}
    if not commitments:
        return {}
    with service.sessions() as session:
        rows = session.exec(select(EvidenceItem).where(
            col(EvidenceItem.case_id) == case.case_id,
            col(EvidenceItem.commitment).in_(list(commitments)))).all()
    return {commitments[r.commitment]: r for r in rows}


def _file(f: JurorFile | None, case_id: str, evidence_id: str) -> JuryFileJson:
    if f is None:
        return {"shown": False, "mediaType": None, "href": None,
                "reason": "the file is not stored with the service",
                "reasonZh": "服务未存储该文件"}
    if f.shown:
        return {"shown": True, "mediaType": f.media_type,
                "href": f"/cases/{case_id}/jury/files/{evidence_id}",
                "reason": None, "reasonZh": None}
    assert f.reason is not None
    return {"shown": False, "mediaType": None, "href": None, "reason": f.reason[0],
            "reasonZh": f.reason[1]}


def _item(case: p.CaseState, e: p.EvidenceItem, f: JurorFile | None) -> JuryEvidenceJson:
    """A marked item as a juror sees it: which side gave it, its kind and when, and its
    file under the rule for files (never its name: a file name may name a party)."""
    return {"evidenceId": e.evidence_id, "kind": e.kind.value,
            "by": "claimant" if e.submitted_by == case.claimant else "respondent",
            "submittedAt": str(p.to_jsonable(e.submitted_at)),
            "file": _file(f, case.case_id, e.evidence_id)}


def _sitting(service: CaseService, case_id: str, viewer: str) -> p.CaseState:
    _row, case = service.load(case_id)
    if viewer not in case.jury.jurors:
        raise AccessDenied(f"{viewer} is not a sitting juror of case {case_id}; the juror "
                           "view is for the drawn jury only")
    return case


def juror_file(service: CaseService, evidence: EvidenceService, case_id: str,
               evidence_id: str, viewer: str) -> JurorFileOut:
    """The file of a marked item as a sitting juror may read it (logged); ``NotFound`` for
    an item not before the jury, ``AccessDenied`` (``file_withheld``) for a withheld one."""
    case_id = case_id.lower()
    case = _sitting(service, case_id, viewer)
    item = _stored(service, case).get(evidence_id)
    if item is None:
        raise NotFound(f"evidence {evidence_id} is not before the jury of case {case_id}")
    f = _redacted(evidence, item, _identities(service, case))
    with write_scope(service.sessions) as session:
        session.add(CaseEvent(case_id=case_id, at=service.now(), kind=FILE_EVENT,
                              data={"juror": viewer, "evidenceId": evidence_id,
                                    "shown": f.shown}))
    if f.content is None or f.media_type is None:
        assert f.reason is not None
        raise AccessDenied(f"{f.reason[0]} / {f.reason[1]}", code="file_withheld")
    number = case.jury.marked.index(evidence_id) + 1
    return JurorFileOut(content=f.content, media_type=f.media_type,
                        filename=f"item-{number}.{_EXTENSIONS.get(f.media_type, 'bin')}")


def _alloc(a: p.Allocation) -> JuryOptionJson:
    return {"toBuyer": str(a.to_buyer), "toSeller": str(a.to_seller),
            "compensation": str(a.compensation)}


def juror_view(service: CaseService, evidence: EvidenceService, case_id: str, viewer: str
               ) -> JuryViewJson:
    """What a sitting juror of ``case_id`` reads; ``AccessDenied`` for anyone else."""
    case_id = case_id.lower()
    case = _sitting(service, case_id, viewer)
    identities = _identities(service, case)
    texts = _texts(service, evidence, case_id, identities)
    stored = _stored(service, case)
    files = {eid: _redacted(evidence, item, identities) for eid, item in stored.items()}
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
        "evidence": [_item(case, e, files.get(e.evidence_id)) for e in case.evidence
                     if e.evidence_id in case.jury.marked],
        "options": [_alloc(o) for o in case.jury.options],
        "reasonCodes": [{"code": code, "en": en, "zh": zh}
                        for code, (en, zh) in sorted(REASON_CODES.items())],
        "myVote": {"accepted": viewer in case.jury.accepted,
                   "committed": vote is not None,
                   "revealed": vote is not None and vote.choice is not None},
    }
