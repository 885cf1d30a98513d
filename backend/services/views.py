"""What each role may read of a case (access control for the read side).

Who may read a case at all: its parties (buyer and seller), its current neutrals (mediator,
arbitrator, panel), institution admins and the courts given access. Everyone else gets
403. Within a case:

* Evidence content follows ``procedure.can_see`` exactly; a party never sees the other's
  caucus item, not even that a step submitting it exists (the timeline leaves it out).
* Offers and proposals are for the parties and the mediator; the tribunal decides on the
  record and does not see what was offered in negotiation (the UNCITRAL Mediation Model
  Law art. 11 "without prejudice" rule), nor do courts until the result exists.
* Admins see metadata (stages, deadlines, steps, commitments), never evidence content.
* No key material is shown to anyone: a step's documents are listed without their
  (wrapped) data keys; readers get evidence keys only through their own X25519 wraps.
* Courts read only what their stage allows (``procedure._rules.COURT_READ_STAGES``).

Times are UTC ISO 8601 (``...Z``).
"""

from __future__ import annotations

import json
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from functools import lru_cache
from typing import Annotated, Any, NamedTuple, NotRequired, TypeAlias, TypeVar, cast

import sqlalchemy as sa
from pydantic import Field
from sqlmodel import Session, col, select
from typing_extensions import TypedDict, TypeIs

from backend import procedure as p
from backend.answers import AS_OBJECT, AS_OBJECTS, FreeJson, open_answer
from backend.db import Case, Participant, Step
from backend.db.rows import table_of
from backend.db.service_models import CaseEvent, ChainAction, ReaderKey, StepDetail
from evidence.records import Domain, DomainJson, Settlement, SignedRecordJson, bytes32
from evidence.safejson import JsonObject

from .cases import CaseService, chain_action_view
from .errors import AccessDenied, NotFound
from .jury_masks import mask_document, mask_step, pseudonyms, sees_jurors
from .keys import public_attachment
from .pipeline import ChainActionJson
from .repository import CaseRow, row_select
from .steps import CONFIDENTIAL_ACTIONS, STEP_ENDPOINTS

__all__ = ["AllocationJson", "AwardJson", "CaseFastTrackJson", "CaseSummaryJson",
           "CaseViewJson", "CourtDecisionJson", "EvidenceEntryJson", "FastTrackProposalJson",
           "OfferJson", "OfferViewJson", "StepViewJson", "TimelineItemJson",
           "TimelineStepJson", "TokenJson", "case_view", "case_view_json", "check_reader",
           "is_step", "list_cases", "step_view", "timeline", "token_fields"]

OFFER_READERS = frozenset({"claimant", "respondent", "party", "mediator"})


def _iso(value: Any) -> Any:
    return p.to_jsonable(value)


def check_reader(service: CaseService, session: Session, case: p.CaseState, viewer: str
                 ) -> set[str]:
    """The viewer's roles, or AccessDenied when the viewer has no business in the case."""
    roles = service.viewer_roles(case, viewer, session)
    if not roles:
        raise AccessDenied(f"{viewer} takes no part in case {case.case_id}")
    if roles == {"juror"}:  # never the parties' identities (docs/jury.md)
        raise AccessDenied(f"{viewer} is a juror of case {case.case_id}: jurors read the "
                           "redacted juror view only, never the case's record")
    return roles


def _hidden_evidence(case: p.CaseState, viewer: str, roles: set[str]) -> set[str]:
    """Commitments of evidence items whose very existence the viewer must not learn."""
    if "admin" in roles:
        return set()
    return {i.commitment for i in case.evidence if not p.can_see(case, i, viewer)
            and i.stage in (p.Stage.FACILITATION,)}


# The case view's reads as Core statements (rows, not ORM objects): the view is the most
# frequent request, and the ORM's loading cost more than the rest of the view (issue 10).
_ACTIONS = table_of(ChainAction).c
_ACTION_COLUMNS = (_ACTIONS.id, _ACTIONS.kind, _ACTIONS.status, _ACTIONS.attempts,
                   _ACTIONS.tx_hash, _ACTIONS.error)


def _row_and_actions(sqlite: bool) -> sa.Select[Any]:
    """The case row with its chain actions as one JSON array of arrays (``[id, kind,
    status, attempts, txHash, error]``, any order) in a column of its own: one statement,
    so one round trip and one snapshot of both (two SELECTs under PostgreSQL's READ
    COMMITTED could pair a row with actions a later commit wrote)."""
    if sqlite:
        agg = sa.func.json_group_array(sa.func.json_array(*_ACTION_COLUMNS))
    else:
        agg = sa.func.json_agg(sa.func.json_build_array(*_ACTION_COLUMNS))
    actions = sa.select(sa.cast(agg, sa.Text)).where(
        _ACTIONS.case_id == sa.bindparam("case_id")).scalar_subquery()
    return row_select(actions)


class _ActionRow(NamedTuple):
    """A chain action's columns as ``chain_action_view`` reads them."""

    id: int | None
    kind: str
    status: str
    attempts: int
    tx_hash: str | None
    error: str | None


def _actions_of(text: str | None) -> tuple[_ActionRow, ...]:
    """The chain actions of ``_row_and_actions``'s column, in id order (SQL's aggregates
    promise no order; PostgreSQL's is NULL over no rows)."""
    if text is None:
        return ()
    return tuple(sorted((_ActionRow(*item) for item in json.loads(text)),
                        key=lambda a: a.id or 0))


def _load_for_view(service: CaseService, session: Session | sa.Connection, case_id: str
                   ) -> tuple[CaseRow, p.CaseState, str | None]:
    """The case row, its state and its chain actions' JSON text (``_row_and_actions``)."""
    sqlite = service.repository.sqlite
    row, case, (actions,) = service.repository.load_with(
        session, case_id, ("case_view", sqlite), lambda: _row_and_actions(sqlite))
    return row, case, actions


@dataclass(frozen=True, slots=True)
class _Parts:
    """What a case view reads of the database besides the case row and its chain actions,
    and the viewer's roles: all fixed for one state and chain position (steps never change,
    a position is taken once), so a view of the same version reuses them."""

    roles: frozenset[str]
    position: int
    prev: bytes
    award_hash: str | None


def _parts(service: CaseService, session: Session, row: CaseRow, case: p.CaseState,
           viewer: str) -> _Parts:
    roles = check_reader(service, session, case, viewer)
    # the row's position: this process's last commit on the case answers without a query
    # (CaseRepository.chain_head)
    position, prev, _ = service.repository.chain_head(session, row.id,
                                                      next_sequence=row.next_sequence)
    return _Parts(frozenset(roles), position, prev,
                  service.award_record_hash(session, row.id, case))


# --- the case view's answer ---------------------------------------------------------------
# The procedure's values a view carries are ``p.to_jsonable`` of its dataclasses: their
# fields by name, in declaration order (datetimes as ISO 8601 text, enums by value,
# frozensets as sorted lists). tests/backend/services/test_view_types.py holds each
# TypedDict below to its dataclass's fields, so `_declared` may say so to mypy.

_Declared = TypeVar("_Declared")


def _declared(value: object, kind: type[_Declared]) -> _Declared:
    """``p.to_jsonable(value)`` as ``kind``, the TypedDict declared below for its dataclass."""
    return cast(_Declared, p.to_jsonable(value))


def _declared_or_none(value: object | None, kind: type[_Declared]) -> _Declared | None:
    return None if value is None else _declared(value, kind)


class AllocationJson(TypedDict):
    """``procedure.Allocation``: what each side is paid, in the token's smallest unit."""

    to_buyer: int
    to_seller: int
    compensation: int


class AwardJson(TypedDict):
    """``procedure.AwardTerms``: the binding award's allocation and document hash."""

    allocation: AllocationJson
    award_hash: str
    no_return: AllocationJson | None


class CourtDecisionJson(TypedDict):
    """``procedure.CourtDecision``: a court's confirmation or refusal."""

    court: str
    confirmed: bool
    package_hash: str
    court_reference: str
    reasons_hash: str | None
    reasons: str


class FastTrackProposalJson(TypedDict):
    """``procedure.FastTrack``: the fast track's proposed resolution."""

    recommended: str
    allocation: AllocationJson
    report_hash: str
    proposed_at: str
    objected_by: str | None
    bound: bool


class OfferJson(TypedDict):
    """``procedure.Offer``: a settlement offer."""

    offer_id: str
    made_by: str
    allocation: AllocationJson
    accepted_by: list[str]
    withdrawn: bool
    expires_at: str | None
    no_return: AllocationJson | None


class OfferViewJson(OfferJson):
    """An offer with the record hash of the ``Settlement`` its acceptance signs."""

    settlementHash: str


class EvidenceEntryJson(TypedDict):
    """An evidence item the viewer may know of; its content's CID if they may read it."""

    evidenceId: str
    submittedBy: str
    stage: str
    kind: str
    commitment: str
    submittedAt: str
    readable: bool
    contentCid: NotRequired[str | None]


class CaseFastTrackJson(TypedDict):
    """The fast track (docs/jury.md "Fast track"): open to this order under its rules, its
    window, and the proposal once made (its report's hash: the reasons)."""

    open: bool
    maxAmount: str
    windowSeconds: int
    proposal: FastTrackProposalJson | None


@open_answer
class CaseViewJson(TypedDict):
    """The case as the viewer may see it (``offers``/``preEvaluation`` for their readers,
    ``jurors`` once there is a jury).

    The members are declared in the order the ``CaseOut`` model listed them, then the ones
    it let through (``fastTrack`` and the optional three, in the order written), so the
    answer validated against this TypedDict (``POST /cases``) is the same text. The
    procedure's values are objects to the document (``AS_OBJECT``), as they were."""

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
    award: Annotated[AwardJson, AS_OBJECT] | None  # the final award
    awardRecordHash: str | None
    courtDecision: Annotated[CourtDecisionJson, AS_OBJECT] | None
    evidence: Annotated[list[EvidenceEntryJson], AS_OBJECTS]
    allowedSteps: list[str]
    allowedEndpoints: dict[str, str]
    now: str
    nextSequence: int
    prevHash: str
    domain: Annotated[DomainJson, AS_OBJECT]
    institution: str
    chainActions: list[ChainActionJson]
    fastTrack: Annotated[CaseFastTrackJson, AS_OBJECT]
    offers: NotRequired[Annotated[list[OfferViewJson], AS_OBJECTS]]
    # the pre-evaluation's published (outcome, report hash)
    preEvaluation: NotRequired[list[str] | None]
    jurors: NotRequired[list[str]]


def case_view(service: CaseService, case_id: str, viewer: str) -> CaseViewJson:
    """The case as ``viewer`` may see it now (``AccessDenied``, ``NotFound``)."""
    with service.repository.read_sessions() as session:  # PostgreSQL: autocommit
        row, case, actions_text = _load_for_view(service, session, case_id)
        parts = _parts(service, session, row, case, viewer)
    actions = _actions_of(actions_text)
    now = service.now()
    return _view(service, row, case, viewer, parts, actions,
                 token_fields(service, case.order.order_id), now, _iso(now))


def _view(service: CaseService, row: CaseRow, case: p.CaseState, viewer: str, parts: _Parts,
          actions: tuple[_ActionRow, ...], token: TokenJson, now: datetime,
          now_text: str) -> CaseViewJson:
    """The view's dict; ``now`` decides the allowed steps, ``now_text`` is shown."""
    roles = set(parts.roles)
    allowed = _allowed(service, case, viewer, now)
    hidden = _hidden_evidence(case, viewer, roles)
    evidence: list[EvidenceEntryJson] = []
    for item in case.evidence:
        if item.commitment in hidden:
            continue
        entry: EvidenceEntryJson = {
            "evidenceId": item.evidence_id, "submittedBy": item.submitted_by,
            "stage": item.stage.value, "kind": item.kind.value,
            "commitment": item.commitment, "submittedAt": _iso(item.submitted_at),
            "readable": p.can_see(case, item, viewer)}
        if entry["readable"]:
            entry["contentCid"] = item.content_cid
        evidence.append(entry)
    view: CaseViewJson = {
        "caseId": row.id,
        "orderId": str(case.order.order_id),
        "stage": case.stage.value,
        "stageEnteredAt": _iso(case.stage_entered_at),
        "deadline": _iso(case.deadline),
        "yourRoles": sorted(roles),
        "buyer": case.order.buyer,
        "seller": case.order.seller,
        "amount": str(case.order.amount),
        "guarantee": str(case.order.guarantee),
        # the token's members spelt out: mypy requires a ** item to hold every optional
        # member of the view it fills
        "token": token["token"], "currency": token["currency"], "decimals": token["decimals"],
        "claimant": case.claimant,
        "respondent": case.respondent,
        "disputeType": case.dispute_type.value if case.dispute_type else None,
        "remedy": case.remedy.value if case.remedy else None,
        "claimedAmount": str(case.claimed_amount),
        "mediator": case.mediator,
        "arbitrator": case.arbitrator,
        "panel": list(case.panel),
        # who has signed a panel award (the timeline shows these steps to readers anyway)
        "panelSignedBy": [member for member, _ in case.panel_signatures],
        "arbitrationAgreed": case.arbitration_agreed,
        # the fast track (docs/jury.md "Fast track"): open to this order under its rules,
        # its window, and the proposal once made (its report's hash: the reasons)
        "fastTrack": {"open": case.fast_track_open,
                      "maxAmount": str(case.rules.fast_track_max_amount),
                      "windowSeconds": int(case.rules.period("fast_track_days")
                                           .total_seconds()),
                      "proposal": _declared_or_none(case.fast_track, FastTrackProposalJson)},
        "award": _declared_or_none(case.final_award, AwardJson),
        "awardRecordHash": parts.award_hash,
        "courtDecision": _declared_or_none(case.court_decision, CourtDecisionJson),
        "evidence": evidence,
        "allowedSteps": allowed,
        "allowedEndpoints": {a: STEP_ENDPOINTS[a] for a in allowed},
        "now": now_text,
        "nextSequence": parts.position,
        "prevHash": "0x" + parts.prev.hex(),
        "domain": service.domain.to_json_obj(),
        "institution": service.institution_address,
        "chainActions": [chain_action_view(a) for a in actions],
    }
    if roles & OFFER_READERS:
        view["offers"] = _offer_list(service, case)
        published = case.pre_evaluation  # (outcome, report hash) as to_jsonable writes it
        view["preEvaluation"] = None if published is None else [published[0].value,
                                                                published[1]]
    if case.jury.jurors or case.jury.former_jurors:  # jurors are pseudonyms to the parties
        view["jurors"] = (list(case.jury.jurors) if sees_jurors(roles) else
                          [f"juror-{i + 1}" for i in range(len(case.jury.jurors))])
        if not sees_jurors(roles):
            view = mask_document(view, pseudonyms(case))
    return view


def _view_text(view: CaseViewJson) -> bytes:
    """A view's JSON as ``JSONResponse`` renders it, each listed offer's text kept."""
    offers = view.get("offers")
    if offers is None or list(view)[-2:] != ["offers", "preEvaluation"]:
        return _dumps(view)
    head = {k: v for k, v in view.items() if k not in ("offers", "preEvaluation")}
    return b"".join((_dumps(head)[:-1], b',"offers":[', _offers_text(offers),
                     b'],"preEvaluation":', _dumps(view["preEvaluation"]), b"}"))


@dataclass(frozen=True, slots=True)
class _KeptView:
    """One viewer's view of one case version, as its JSON text around ``now``'s value."""

    case: p.CaseState  # the decoded state (kept, so its identity is not reused)
    next_sequence: int
    context: tuple[Any, ...]  # the service's institution, admins and domain
    parts: _Parts
    actions_text: str | None  # as the database gave it: equal text, equal actions
    actions: tuple[_ActionRow, ...]
    token: TokenJson
    side: bool  # whether the stage's deadline had passed (the allowed steps' one input)
    head: bytes  # the text up to ``"now":``'s value
    tail: bytes  # the text after it


VIEW_CACHE_SIZE = 1024
OFFER_VIEW_CACHE_SIZE = 4096  # a generation of the offers' views and texts
OFFER_LIST_CACHE_SIZE = 1024  # a generation of the offer lists
# (case id, viewer) -> the text of the last view built for them (``case_view_json``)
_views: dict[tuple[str, str], _KeptView] = {}
# a value no view can hold otherwise: where ``now`` goes in a kept text
_NOW_MARK = "now:" + secrets.token_hex(16)
_NOW_QUOTED = json.dumps(_NOW_MARK).encode()


def _deadline_side(case: p.CaseState, now: datetime) -> bool | None:
    """Whether the stage's deadline has passed at ``now`` (what the allowed steps read of
    the clock, ``_allowed``); None when the procedure refuses this clock (nothing kept)."""
    offset = now.utcoffset() if isinstance(now, datetime) else None
    if offset != timedelta(0) or (case.stage_entered_at is not None
                                  and now < case.stage_entered_at):
        return None
    due = p.next_deadline(case)
    return due is not None and now >= due


def case_view_json(service: CaseService, case_id: str, viewer: str) -> bytes:
    """``case_view`` as the API sends it: byte for byte Starlette's ``JSONResponse`` body
    (``json.dumps(view, ensure_ascii=False, allow_nan=False, separators=(",", ":"))``).

    Kept per case and viewer (issue 10): a view is a function of the case's committed
    version (its decoded state, kept per stored text, and chain position), the viewer,
    the service's admins and domain, the case's chain actions (updated beside the state,
    so read on every view), the order's token, the side of the stage's deadline, and the
    clock shown as ``now``. A read whose inputs are those of the kept view answers its
    text with the new ``now``; any other input builds it again."""
    now = service.now()
    # a plain read on a connection (no ORM session unless the parts are read): on
    # PostgreSQL in autocommit, so a kept view's one round trip is its SELECT (no BEGIN,
    # no ROLLBACK: backend/db/engine.py, "PostgreSQL's round trips"); on SQLite its SELECT
    # alone, without BEGIN and ROLLBACK around it (``reading(alone=True)``)
    repository = service.repository
    with repository.reading(alone=True) as reading:
        row, case, actions_text = _load_for_view(service, reading, case_id)
        kept = _views.get((row.id, viewer))
        context = (service.institution_address, service.config.admins, service.domain)
        if kept is not None and kept.case is case and kept.next_sequence == row.next_sequence \
                and kept.context == context:
            parts = kept.parts  # the same version: roles, chain head and award as before
        else:
            kept = None
            if repository.snapshot(reading):  # SQLite: the row again, in the parts' snapshot
                row, case, actions_text = _load_for_view(service, reading, case_id)
            with repository.session_on(reading) as session:
                parts = _parts(service, session, row, case, viewer)
    # the actions as kept when their text is (decoded again only when it changed)
    actions = kept.actions if kept is not None and kept.actions_text == actions_text \
        else _actions_of(actions_text)
    token = token_fields(service, case.order.order_id)
    side = _deadline_side(case, now)
    now_text = _iso(now)
    if kept is not None and side is not None and kept.side == side \
            and kept.actions_text == actions_text and kept.token == token:
        return b"".join((kept.head, b'"', now_text.encode(), b'"', kept.tail))
    if side is None:  # the procedure refuses the clock: built for this moment only
        return _view_text(_view(service, row, case, viewer, parts, actions, token, now,
                                now_text))
    text = _view_text(_view(service, row, case, viewer, parts, actions, token, now,
                            _NOW_MARK))
    head, mark, tail = text.partition(_NOW_QUOTED)
    if not mark or _NOW_QUOTED in tail:  # cannot happen (a random mark); never guess
        return _view_text(_view(service, row, case, viewer, parts, actions, token, now,
                                now_text))
    if len(_views) >= VIEW_CACHE_SIZE:
        _views.clear()  # rare, and every entry is cheap to rebuild
    _views[(row.id, viewer)] = _KeptView(case, row.next_sequence, context, parts, actions_text,
                                         actions, token, side, head, tail)
    return b"".join((head, b'"', now_text.encode(), b'"', tail))


def _dumps(value: object) -> bytes:
    """As ``JSONResponse.render``."""
    return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=None,
                      separators=(",", ":")).encode("utf-8")


# an offer view's JSON text: the offer views are shared and never changed
_offer_texts: p.KeptByIdentity[OfferViewJson, bytes] = p.KeptByIdentity(OFFER_VIEW_CACHE_SIZE)


def _offer_text(view: OfferViewJson) -> bytes:
    hit = _offer_texts.get(view)
    return hit if hit is not None else _offer_texts.put(view, _dumps(view))


# an offer list's JSON texts joined: a case view lists the same list object for every
# read of a state (``_offer_list``), so one lookup per read
_offer_list_texts: p.KeptByIdentity[list[OfferViewJson], bytes] = \
    p.KeptByIdentity(OFFER_LIST_CACHE_SIZE)


def _offers_text(offers: list[OfferViewJson]) -> bytes:
    """The offers' JSON texts, comma-joined (a masked view's new list misses, rightly)."""
    hit = _offer_list_texts.get(offers)
    if hit is not None:
        return hit
    return _offer_list_texts.put(offers, b",".join([_offer_text(o) for o in offers]))


class TokenJson(TypedDict):
    """How a case's amounts are written (all None while the escrow cannot be read)."""

    token: str | None  # the order's token (0x0…0 for ether)
    currency: str | None  # its ERC-20 symbol(), "ETH" for ether
    decimals: int | None  # its ERC-20 decimals(), 18 for ether


@open_answer
class CaseSummaryJson(TypedDict):
    """A case as a list shows it: the order and its amount, the parties, the dispute, the
    stage and the next deadline, and your own seats in it."""

    caseId: str
    orderId: str
    stage: str
    nextDeadline: str | None
    buyer: str
    seller: str
    claimant: str | None
    respondent: str | None
    amount: Annotated[str, Field(description="escrowed, in the token's units")]
    token: str | None
    currency: Annotated[str | None, Field(description="the token's symbol (ETH: ether)")]
    decimals: Annotated[int | None, Field(description="the token's decimals")]
    disputeType: str | None
    remedy: str | None
    yourRoles: Annotated[list[str], Field(
        description="your seats in the case (none: an admin's view)")]


def token_fields(service: CaseService, order_id: int) -> TokenJson:
    """How the case's amounts are written: the order's ``token``, its ``currency`` (ERC-20
    ``symbol()``, "ETH" for ether) and ``decimals``. While the escrow cannot be read these
    are None: amounts are then integers in the token's smallest unit, never a guess."""
    found = service.order_token(order_id)
    if found is None:
        return {"token": None, "currency": None, "decimals": None}
    token, meta = found
    return {"token": token, "currency": meta.symbol, "decimals": meta.decimals}


# an offer -> (its case's (domain, order, case id), its view). Offers are immutable and
# shared by the states that follow (and decoded states are cached), so a case view lists
# its 30 offers without encoding each again per read (issue 10).
_offer_views: p.KeptByIdentity[p.Offer, tuple[tuple[Any, ...], OfferViewJson]] = \
    p.KeptByIdentity(OFFER_VIEW_CACHE_SIZE)


# a state's offers tuple -> (its case's (domain, order, case id), the offers' views). A
# decoded state is cached and its offers tuple shared by the states a step leaves it
# unchanged in: a read lists the offers with one lookup instead of one per offer.
_offer_lists: p.KeptByIdentity[tuple[p.Offer, ...], tuple[tuple[Any, ...], list[OfferViewJson]]] \
    = p.KeptByIdentity(OFFER_LIST_CACHE_SIZE)


def _offer_list(service: CaseService, case: p.CaseState) -> list[OfferViewJson]:
    """The case's offers as the view lists them (read-only: shared between views)."""
    context = (service.domain, case.order.order_id, case.case_id)
    hit = _offer_lists.get(case.offers)
    if hit is not None and hit[0] == context:
        return hit[1]
    views = [_offer_view(service, case, o) for o in case.offers]
    _offer_lists.put(case.offers, (context, views))
    return views


def _offer_view(service: CaseService, case: p.CaseState, offer: p.Offer) -> OfferViewJson:
    """An offer as the case view lists it (read-only: shared between views)."""
    context = (service.domain, case.order.order_id, case.case_id)
    hit = _offer_views.get(offer)
    if hit is not None and hit[0] == context:
        return hit[1]
    offer_json = _declared(offer, OfferJson)
    view: OfferViewJson = {**offer_json,
                           "settlementHash": _settlement_hash(service, case, offer)}
    _offer_views.put(offer, (context, view))
    return view


def _settlement_hash(service: CaseService, case: p.CaseState, offer: p.Offer) -> str:
    """Record hash of the escrow ``Settlement`` an offer's acceptance signs (and names)."""
    a = offer.allocation
    return _settlement_digest(service.domain, case.order.order_id, case.case_id, a.to_buyer,
                              a.to_seller, a.compensation)


@lru_cache(maxsize=4096)
def _settlement_digest(domain: Domain, order_id: int, case_id: str, to_buyer: int,
                       to_seller: int, compensation: int) -> str:
    """Remembered: a case view lists every offer, and an offer's terms never change."""
    s = Settlement(order_id=order_id, case_id=bytes32(case_id), to_buyer=to_buyer,
                   to_seller=to_seller, compensation=compensation)
    return "0x" + s.digest(domain).hex()


ALLOWED_CACHE_SIZE = 4096
# (a state, viewer, deadline passed) -> (the service's admins and institution, the allowed
# steps). ``allowed_commands`` reads ``now`` only to check the clock and whether the
# stage's deadline has passed (procedure._machine.admit), so for a decoded state (kept,
# immutable) the answer is one of two lists.
_allowed_steps: p.KeptByIdentity[p.CaseState, tuple[tuple[Any, ...], list[str]]] = \
    p.KeptByIdentity(ALLOWED_CACHE_SIZE)


def _allowed(service: CaseService, case: p.CaseState, viewer: str,
             now: datetime | None = None) -> list[str]:
    """What the viewer may sign at ``now`` (default: the service's clock; the procedure's
    tables; content checks still apply). An admin signs the institution's steps (the
    service countersigns them). Remembered per state, viewer and side of the deadline (a
    case view asks it on every read)."""
    now = service.now() if now is None else now
    side = _deadline_side(case, now)
    if side is None:
        return _allowed_now(service, case, viewer, now)  # the procedure refuses the clock
    context = (service.institution_address, service.config.admins)
    hit = _allowed_steps.get(case, (viewer, side))
    if hit is not None and hit[0] == context:
        return list(hit[1])
    names = _allowed_now(service, case, viewer, now)
    _allowed_steps.put(case, (context, list(names)), (viewer, side))
    return names


def _allowed_now(service: CaseService, case: p.CaseState, viewer: str, now: datetime
                 ) -> list[str]:
    """``_allowed`` computed (the procedure asked)."""
    from .steps import institution_actor, step_names

    names = step_names(p.allowed_commands(case, viewer, now))
    institution = service.institution_address
    if viewer == institution or not service.is_admin(viewer):
        return names
    for n in step_names(p.allowed_commands(case, institution, now)):
        if n not in names and institution_actor(n, viewer, is_admin=service.is_admin,
                                                institution=institution) == institution:
            names.append(n)
    return names


def _return_award(case: p.CaseState) -> bool:
    """The final award is a return award: its enforcement opened the return stage."""
    return case.final_award is not None and case.final_award.no_return is not None


class TimelineStepJson(TypedDict):
    """A signed step in the timeline (``type`` "step")."""

    at: str
    type: str
    sequence: int
    action: str
    signer: str
    recordType: str
    recordHash: str
    cid: str | None
    confidential: bool
    returnStage: NotRequired[bool]  # an enforcement that opened the return stage


#: A timeline entry: a signed step, or a service event (a stage change, a deadline, a
#: published encryption key...) whose members are its own (``CaseEvent.data``).
TimelineItemJson: TypeAlias = "TimelineStepJson | JsonObject"


def is_step(item: TimelineItemJson) -> TypeIs[TimelineStepJson]:
    """Whether a timeline entry is a signed step (no service event is of type "step")."""
    return item["type"] == "step"


def timeline(service: CaseService, case_id: str, viewer: str) -> list[TimelineItemJson]:
    """Steps and events in time order (UTC ISO 8601), as far as the viewer may know them."""
    with service.sessions() as session:
        row, case = service.load_in(session, case_id)
        roles = check_reader(service, session, case, viewer)
        steps = session.exec(select(Step, StepDetail).where(
            col(Step.case_id) == row.id, col(StepDetail.step_id) == col(Step.id))
            .order_by(col(Step.sequence))).all()
        events = session.exec(select(CaseEvent).where(col(CaseEvent.case_id) == row.id)
                              .order_by(col(CaseEvent.id))).all()
        reader_keys = session.exec(select(ReaderKey).where(col(ReaderKey.case_id) == row.id)
                                   .order_by(col(ReaderKey.id))).all()
    hidden = _hidden_evidence(case, viewer, roles)
    items: list[TimelineItemJson] = []
    for step, detail in steps:
        msg = step.record["message"]
        if step.kind == "evidence.submitted" and msg.get("commitment") in hidden:
            continue
        item: TimelineStepJson = {
            "at": _iso(detail.signed_at), "type": "step", "sequence": step.sequence,
            "action": step.kind, "signer": step.signer, "recordType": step.record["type"],
            "recordHash": step.record_hash, "cid": step.cid,
            "confidential": detail.confidential}
        if step.kind == "enforcement.recorded" and _return_award(case):
            item["returnStage"] = True
        items.append(item)
    for e in events:  # when it happened; a time the event names (a deadline) is its "due"
        items.append({"at": _iso(e.at), "type": e.kind,
                      **{("due" if k == "at" else k): v for k, v in e.data.items()}})
    for k in reader_keys:  # a member's current X25519 key (public; registered or replaced)
        items.append({"at": _iso(k.registered_at), "type": "encryption_key",
                      "address": k.address, "publicKey": k.public_key})
    # every entry's time is the ISO text of a stored (non-null) UTC time
    items.sort(key=lambda i: (str(i["at"]), 0 if i["type"] == "step" else 1))
    if not sees_jurors(roles):  # jurors are pseudonyms to the parties (jury_masks)
        names = pseudonyms(case)
        return [mask_document(i, names) for i in items] if names else items
    return items


@open_answer
class StepViewJson(TypedDict):
    """One signed step: its record, the payload its ``payloadHash`` covers (an object, or
    its canonical JSON text as stored), its attachments (without keys) and the service's
    authorization of an institution's step."""

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


def step_view(service: CaseService, case_id: str, sequence: int, viewer: str
              ) -> StepViewJson:
    """One signed record with its payload and attachments (documents without keys)."""
    with service.sessions() as session:
        row, case = service.load_in(session, case_id)
        roles = check_reader(service, session, case, viewer)
        found = session.exec(select(Step, StepDetail).where(
            col(Step.case_id) == row.id, col(Step.sequence) == sequence,
            col(StepDetail.step_id) == col(Step.id))).first()
    if found is None:
        raise NotFound(f"case {case_id} has no step {sequence}")
    step, detail = found
    if step.kind == "evidence.submitted" and \
            step.record["message"].get("commitment") in _hidden_evidence(case, viewer, roles):
        raise NotFound(f"case {case_id} has no step {sequence}")
    if detail.action in CONFIDENTIAL_ACTIONS and not roles & (OFFER_READERS | {"admin"}):
        raise AccessDenied("offers are for the parties and the mediator")
    view: StepViewJson = {
        "sequence": step.sequence, "action": step.kind, "record": step.record,
        "recordHash": step.record_hash, "cid": step.cid,
        "payload": detail.payload,
        "attachments": [public_attachment(a) for a in detail.attachments],
        "authorization": detail.authorization}
    if not sees_jurors(roles) and step.kind.startswith("jury."):
        return mask_step(view, pseudonyms(case))
    return view


def list_cases(service: CaseService, viewer: str) -> list[CaseSummaryJson]:
    """The viewer's cases (an admin's: every case), each with what a list shows: the
    order and its amount, the parties, the dispute, the stage and the next deadline, and
    the viewer's own seats in it (``yourRoles``; empty for a case an admin sees only as
    the institution's)."""
    with service.sessions() as session:
        seats = session.exec(select(Participant.case_id, Participant.role).where(
            col(Participant.address) == viewer, col(Participant.removed_at).is_(None))).all()
        mine: dict[str, set[str]] = {}
        for case_id, role in seats:
            mine.setdefault(case_id, set()).add(role)
        if service.is_admin(viewer):
            rows = session.exec(select(Case).order_by(col(Case.created_at))).all()
        else:
            ids = session.exec(select(Participant.case_id).where(
                col(Participant.address) == viewer)).all()
            rows = session.exec(select(Case).where(col(Case.id).in_(set(ids)))
                                .order_by(col(Case.created_at))).all()
    out: list[CaseSummaryJson] = []
    for r in rows:
        case = p.case_from_dict(r.state)
        out.append({
            "caseId": r.id, "orderId": r.order_id, "stage": r.stage,
            "nextDeadline": _iso(r.next_deadline),
            "buyer": case.order.buyer, "seller": case.order.seller,
            "claimant": case.claimant, "respondent": case.respondent,
            "amount": str(case.order.amount),
            **token_fields(service, case.order.order_id),
            "disputeType": case.dispute_type.value if case.dispute_type else None,
            "remedy": case.remedy.value if case.remedy else None,
            "yourRoles": sorted(mine.get(r.id, set()))})
    return out
