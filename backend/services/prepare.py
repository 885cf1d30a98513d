"""Prepare a step: the exact EIP-712 typed data a signer signs next, built by the service.

Why: a client (the web pages, a wallet front-end, a script) should not have to rebuild the
record types, the case's position in the step chain, the award's record hash or the escrow
``Settlement`` of an offer itself; any difference is a refused step. ``prepare_step`` builds
the unsigned records from the action name and its fields, checks them as the step endpoint
would (payload form, then a dry run of ``procedure.apply`` on the current state, so a step
the viewer may not take now is refused here, precisely), and returns:

* ``typedData``: what ``eth_signTypedData_v4`` signs (uints as decimal strings);
* ``unsignedRecord``: the record JSON to post, once its ``signatures`` holds the signature;
* ``payload``: the body's ``payload`` (ProceduralStep actions; its SHA-256 is signed);
* ``attachments``: the escrow ``Settlement`` (offers and acceptances) or ``Award`` (awards)
  to sign too and post as ``attachments``;
* ``endpoint``: where to post it.

The service never signs anything here and keeps nothing: a prepared step that is never
posted leaves no trace. The clock is the service's (``signedAt`` = now, never before the
previous step's). The action vocabulary, fields and endpoints are the step table's
(evidence/steps.py); who may prepare what now is the procedure's admission (``p.admit``).
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import UTC
from typing import Annotated, Any

from typing_extensions import TypedDict

from backend import procedure as p
from backend.answers import AS_OBJECT, FreeJson, open_answer
from evidence.records import (
    Award,
    CourtConfirmation,
    Domain,
    Objection,
    ProceduralStep,
    Record,
    ReturnAward,
    ReturnSettlement,
    Settlement,
    SettlementOffer,
    SignedRecord,
    SignedRecordJson,
    TypedDataJson,
    bytes32,
    checksum_address,
)
from evidence.steps import ANYONE, STEPS

from .cases import CaseService
from .errors import BadSubmission
from .fields import check_payload, unix_time
from .steps import (
    COMMAND_OF_STEP,
    STEP_ENDPOINTS,
    ZERO32,
    _command,
    _uint,
    institution_actor,
    payload_hash,
)
from .views import check_reader

__all__ = ["OPEN_TO_ANYONE", "PREPARE_FIELDS", "PreparedStepJson", "prepare_step"]


class PreparedRecordJson(TypedDict):
    """A record to sign: its type, typed data, unsigned record and EIP-712 hash."""

    recordType: str
    typedData: Annotated[TypedDataJson, AS_OBJECT]
    unsignedRecord: Annotated[SignedRecordJson, AS_OBJECT]
    recordHash: str


class _StepTarget(TypedDict):
    action: str
    endpoint: str


class _StepPlace(TypedDict):
    payload: FreeJson | None
    reasons: str | None
    attachments: list[PreparedRecordJson]  # to sign too (an offer's Settlement, the Award)
    sequence: int
    prevHash: str
    signedAt: int
    now: str


@open_answer
class PreparedStepJson(_StepTarget, PreparedRecordJson, _StepPlace):
    """``POST /cases/{id}/steps/prepare``: the action's endpoint, the record to sign, its
    payload and attachments, and its place in the case's chain."""

# Steps anyone may take (the escrow executes a final award for whoever asks), so anyone
# may have them prepared; every other preparation is for the case's readers only.
OPEN_TO_ANYONE = frozenset(s.action for s in STEPS if s.signers == {ANYONE})
# A juror's own steps: a juror reads no case record, but may have these prepared.
JUROR_ACTIONS = frozenset(s.action for s in STEPS if s.signers == {"juror"})

# The fields a caller gives per action (the table's ``fields``, else its payload keys;
# what the service fills in itself is not asked for).
PREPARE_FIELDS: Mapping[str, frozenset[str]] = {
    s.action: frozenset(s.prepare_fields) for s in STEPS if s.action in STEP_ENDPOINTS}
# Fields a caller may add (all or none): a return award's fallback.
OPTIONAL_FIELDS: Mapping[str, frozenset[str]] = {
    s.action: frozenset(s.optional) for s in STEPS if s.optional}


def _h(b: bytes) -> str:
    return "0x" + b.hex()


def _entry(record: Record, domain: Domain) -> PreparedRecordJson:
    return {"recordType": record.TYPE_NAME, "typedData": record.typed_data_json(domain),
            "unsignedRecord": SignedRecord(domain=domain, record=record).to_json_obj(),
            "recordHash": _h(record.digest(domain))}


def _alloc(payload: Mapping[str, Any]) -> p.Allocation:
    return p.Allocation(to_buyer=_uint(payload, "toBuyer"), to_seller=_uint(payload, "toSeller"),
                        compensation=_uint(payload, "compensation"))


def _fallback(fields: Mapping[str, Any]) -> p.Allocation:
    """The ``noReturn*`` fields: a return-and-refund's fallback."""
    return p.Allocation(to_buyer=_uint(fields, "noReturnToBuyer"),
                        to_seller=_uint(fields, "noReturnToSeller"),
                        compensation=_uint(fields, "noReturnCompensation"))


def _settlement(order: int, case_id: Any, a: p.Allocation, fallback: p.Allocation | None
                ) -> Settlement | ReturnSettlement:
    """The escrow record both parties sign for an offer: a ReturnSettlement when it has a
    fallback ("return and refund"), else a Settlement."""
    if fallback is None:
        return Settlement(order_id=order, case_id=case_id, to_buyer=a.to_buyer,
                          to_seller=a.to_seller, compensation=a.compensation)
    return ReturnSettlement(order_id=order, case_id=case_id, to_buyer=a.to_buyer,
                            to_seller=a.to_seller, compensation=a.compensation,
                            no_return_to_buyer=fallback.to_buyer,
                            no_return_to_seller=fallback.to_seller,
                            no_return_compensation=fallback.compensation)


def prepare_step(service: CaseService, case_id: str, viewer: str, action: str,
                 fields: Mapping[str, object] | None) -> PreparedStepJson:
    """The unsigned record(s) ``viewer`` signs to take ``action`` now (see the module doc).

    Raises AccessDenied (not a reader of the case), BadSubmission (``unknown_action``,
    ``use_evidence_upload``, malformed fields), the procedure's refusals (wrong actor,
    wrong stage, deadline passed, …), record refusals (a field out of range) and the
    step's admission refusal (``unknown_package``: a court decision naming a package
    never exported to that court for the case).
    """
    with service.sessions() as session:
        row, case = service.load_in(session, case_id)
        if action not in OPEN_TO_ANYONE and not (
                action in JUROR_ACTIONS and viewer in case.jury.jurors):
            check_reader(service, session, case, viewer)  # a juror prepares only its own
        position, prev, prev_at = service.chain_head(session, row.id)
        award_hash = service.award_record_hash(session, row.id, case)
    if action == "evidence.submitted":
        raise BadSubmission("evidence.submitted: upload the file with POST /cases/{id}/evidence"
                            "; its answer carries the typed data to sign",
                            code="use_evidence_upload")
    if action not in STEP_ENDPOINTS:
        raise BadSubmission(f"action {action!r}: expected one of {', '.join(STEP_ENDPOINTS)}",
                            code="unknown_action")
    now = service.now()
    actor = institution_actor(action, viewer, is_admin=service.is_admin,
                              institution=service.institution_address)
    p.admit(case, actor, COMMAND_OF_STEP[action], now)  # who, then when: before the fields
    if fields is None:
        fields = {}
    if not isinstance(fields, Mapping):
        raise BadSubmission(f"payload of {action}: expected an object")
    want = PREPARE_FIELDS[action]
    extra = OPTIONAL_FIELDS.get(action, frozenset())
    if extra and extra <= set(fields):
        want = want | extra
    if set(fields) != want:
        raise BadSubmission(f"payload of {action}: expected keys {sorted(want)}, found "
                            f"{sorted(fields)}", code="bad_payload")
    check_payload(fields)  # every field's kind and range (fields.py), before any is used
    if action == "jury.seed_committed":  # the pool snapshot is the service's, never typed
        snap = service.pool.snapshot(row.id)
        fields = {**fields, "pool": list(snap.pool), "poolHash": snap.pool_hash or ZERO32}
    signed_at = max(int(now.timestamp()), prev_at)
    domain = service.domain
    chain = {"case_id": bytes32(row.id), "sequence": position, "prev_hash": prev,
             "signed_at": signed_at}
    seq = position  # the record's place in the chain is the command's sequence
    try:
        built = _build(case, domain, action, viewer, actor, seq, dict(fields), chain,
                       award_hash)
    except KeyError as exc:
        raise BadSubmission(f"payload: missing {exc}", code="bad_payload") from None
    except BadSubmission as exc:  # the step's own value checks (decimal strings, parties…)
        if exc.code == BadSubmission.code:
            exc.code = "bad_payload"
        raise
    record, payload, attachments, command, reasons = built
    p.apply(case, command, now)  # dry run: refuses exactly as the step would; nothing kept
    if isinstance(record, CourtConfirmation):  # and as its admission will (unknown_package)
        from .package import require_exported

        with service.sessions() as session:
            require_exported(session, row.id, viewer, _h(record.package_hash))
    main = _entry(record, domain)
    return {"action": action, "endpoint": f"/cases/{row.id}/{STEP_ENDPOINTS[action]}",
            **main, "payload": payload, "reasons": reasons,
            "attachments": [_entry(a, domain) for a in attachments],
            "sequence": position, "prevHash": _h(prev), "signedAt": signed_at,
            "now": now.astimezone(UTC).isoformat().replace("+00:00", "Z")}


def _build(case: p.CaseState, domain: Domain, action: str, viewer: str, actor: str, seq: int,
           fields: dict[str, Any], chain: dict[str, Any], award_hash: str | None
           ) -> tuple[Record, dict[str, Any] | None, list[Record], p.Command, str | None]:
    """(record to sign, payload to post, attachments to sign, the command, reasons text)."""
    order = case.order.order_id
    if action == "offer.made":
        alloc = _alloc(fields)
        expires = _uint(fields, "expiresAt")
        proposal = SettlementOffer(offeror=viewer, order_id=order, to_buyer=alloc.to_buyer,
                                   to_seller=alloc.to_seller, compensation=alloc.compensation,
                                   expires_at=expires, **chain)
        fallback = _fallback(fields) if "noReturnToBuyer" in fields else None
        make_offer = p.MakeOffer(actor=actor, sequence=seq,
                                 offer_id=_h(proposal.digest(domain)), allocation=alloc,
                                 expires_at=unix_time(expires, "payload.expiresAt"),
                                 no_return=fallback)
        return proposal, None, [_settlement(order, chain["case_id"], alloc, fallback)], \
            make_offer, None
    if action == "award.issued" and "noReturnToBuyer" in fields:  # a return award
        alloc = _alloc(fields)
        fallback = _fallback(fields)
        ret = ReturnAward(order_id=order, case_id=chain["case_id"], to_buyer=alloc.to_buyer,
                          to_seller=alloc.to_seller, compensation=alloc.compensation,
                          no_return_to_buyer=fallback.to_buyer,
                          no_return_to_seller=fallback.to_seller,
                          no_return_compensation=fallback.compensation,
                          award_hash=fields["awardHash"], round=0)
        carrier = ProceduralStep(actor=viewer, action=action,
                                 payload_hash=ret.digest(domain), **chain)
        return carrier, None, [ret], p.IssueAward(
            actor=actor, sequence=seq, allocation=alloc, award_hash=_h(ret.award_hash),
            no_return=fallback), None
    if action in ("award.issued", "award.panel_signed"):
        alloc = _alloc(fields)
        award = Award(order_id=order, case_id=chain["case_id"], to_buyer=alloc.to_buyer,
                      to_seller=alloc.to_seller, compensation=alloc.compensation,
                      award_hash=fields["awardHash"],
                      round=0 if action == "award.issued" else 1)
        carrier = ProceduralStep(actor=viewer, action=action,
                                 payload_hash=award.digest(domain), **chain)
        cls = p.IssueAward if action == "award.issued" else p.IssuePanelAward
        return carrier, None, [award], cls(actor=actor, sequence=seq, allocation=alloc,
                                       award_hash=_h(award.award_hash)), None
    if action == "award.objected":
        objection = Objection(objector=viewer, award_record_hash=bytes32(award_hash or ZERO32),
                              reasons_hash=fields["reasonsHash"], **chain)
        return objection, None, [], p.Object(actor=actor, sequence=seq,
                                             reasons_hash=_h(objection.reasons_hash)), None
    if action in ("court.confirmed", "court.refused"):
        confirmed = action == "court.confirmed"
        reasons = None if confirmed else fields["reasons"]
        if reasons is not None and (not isinstance(reasons, str) or not reasons.strip()
                                    or len(reasons) > 4000):
            raise BadSubmission("payload.reasons: the refusal's reasons, 1 to 4000 characters",
                                code="bad_payload")
        reasons_hash = ZERO32 if reasons is None else \
            "0x" + hashlib.sha256(reasons.encode()).hexdigest()
        decision = CourtConfirmation(court=viewer, package_hash=fields["packageHash"],
                                     award_record_hash=bytes32(award_hash or ZERO32),
                                     confirmed=confirmed, reasons_hash=bytes32(reasons_hash),
                                     court_reference=fields["courtReference"], **chain)
        court_cmd: p.Command
        if confirmed:
            court_cmd = p.ConfirmJudicially(
                actor=actor, sequence=seq, package_hash=_h(decision.package_hash),
                court_reference=decision.court_reference)
        else:
            court_cmd = p.RefuseConfirmation(actor=actor, sequence=seq,
                                             package_hash=_h(decision.package_hash),
                                             court_reference=decision.court_reference,
                                             reasons_hash=reasons_hash, reasons=reasons or "")
        return decision, None, [], court_cmd, reasons
    attachments: list[Record] = []
    if action == "offer.accepted":
        offer = case.offer(str(fields["offerId"]))
        if offer is None:
            raise p.UnknownOffer(f"offer {fields['offerId']!r} does not exist in this case")
        settlement = _settlement(order, chain["case_id"], offer.allocation, offer.no_return)
        fields = {"offerId": offer.offer_id,
                  "settlementHash": _h(settlement.digest(domain))}
        attachments.append(settlement)
    try:
        cmd = _command(case, action, actor, seq, fields)
    except (TypeError, ValueError, AttributeError) as exc:
        raise BadSubmission(f"payload of {action}: {exc}", code="bad_payload") from None
    if action.startswith("appoint."):  # sign the addresses in their EIP-55 form
        fields = {**fields, "appointees": [checksum_address(a) for a in fields["appointees"]]}
    step = ProceduralStep(actor=viewer, action=action,
                          payload_hash=bytes32(payload_hash(fields)), **chain)
    return step, fields, attachments, cmd, None
