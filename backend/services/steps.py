"""From a signed record to a procedure command: the step vocabulary of the service.

Pure functions (no database, no clock): given the case, the signed record and what the
body carries beside it, return the command the procedure must apply and what to keep.

A step is one of these signed records (docs/evidence.md §1.2, docs/api.md):

* ``SettlementOffer`` → ``MakeOffer`` (offer id = the record hash); it must carry the
  offeror's signature on the escrow ``Settlement`` of the same allocation, so that an
  acceptance can execute on-chain with no further signature from the offeror.
* ``EvidenceSubmission`` → ``SubmitEvidence`` (the evidence service builds these).
* ``Objection`` → ``Object``; ``awardRecordHash`` must name the award objected to.
* ``CourtConfirmation`` → ``ConfirmJudicially`` / ``RefuseConfirmation`` (the reasons'
  text comes in the body; its SHA-256 must be ``reasonsHash``).
* ``ProceduralStep`` with an ``action`` from ``ACTIONS``: ``payloadHash`` is the SHA-256 of
  the canonical JSON ``payload`` in the body (exact keys per action), except for
  ``award.issued``/``award.panel_signed``, whose ``payloadHash`` is the record hash of the
  carried ``Award`` (so the award record is bound into the chain, as the judicial
  verifier requires). Appointments (``appoint.*``) carry ``{"role", "appointees"}``, the
  form the judicial package's role check reads.

The record's own binding (domain, case, position in the chain, signer) is checked by the
caller; ``sequence`` of the command is the procedure's own counter, filled in here.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from backend import procedure as p
from evidence.errors import EvidenceError
from evidence.records import (
    Award,
    CourtConfirmation,
    EvidenceSubmission,
    Objection,
    ProceduralStep,
    Settlement,
    SettlementOffer,
    SignedRecord,
    canonical_json,
    checksum_address,
)

from .errors import BadSubmission, Conflict
from .fields import check_payload, decimal_uint, unix_time

__all__ = [
    "ACTIONS",
    "COMMAND_OF_STEP",
    "INSTITUTION_ACTIONS",
    "PAYLOAD_KEYS",
    "STEP_ENDPOINTS",
    "Translated",
    "payload_hash",
    "translate",
]

ZERO32 = "0x" + "00" * 32

# action -> procedure command type (ProceduralStep records)
ACTIONS: Mapping[str, type[p.Command]] = {
    "case.filed": p.FileClaim,
    "offer.accepted": p.AcceptOffer,
    "offer.withdrawn": p.WithdrawOffer,
    "facilitation.requested": p.RequestFacilitation,
    "appoint.mediator": p.AppointMediator,
    "preevaluation.published": p.PublishPreEvaluation,
    "settlement.proposed": p.ProposeSettlement,
    "impasse.declared": p.DeclareImpasse,
    "arbitration.agreed": p.AgreeToArbitrate,
    "appoint.arbitrator": p.AppointArbitrator,
    "answer.submitted": p.SubmitAnswer,
    "record.closed": p.CloseRecord,
    "award.issued": p.IssueAward,
    "appoint.panel": p.AppointPanel,
    "award.panel_signed": p.IssuePanelAward,
    "enforcement.requested": p.Enforce,
    "enforcement.recorded": p.RecordEnforcement,
}
# Steps the institution takes: an admin signs the request, the institution key the record.
INSTITUTION_ACTIONS = frozenset({"appoint.mediator", "appoint.arbitrator", "appoint.panel",
                                 "enforcement.recorded"})
# Exact payload keys per action (camelCase, uints as decimal strings).
PAYLOAD_KEYS: Mapping[str, frozenset[str]] = {
    "case.filed": frozenset({"claimant", "respondent", "orderId", "disputeType", "remedy",
                             "claimedAmount", "statementHash"}),
    "offer.accepted": frozenset({"offerId", "settlementHash"}),
    "offer.withdrawn": frozenset({"offerId"}),
    "facilitation.requested": frozenset(),
    "appoint.mediator": frozenset({"role", "appointees"}),
    "preevaluation.published": frozenset({"recommended", "reportHash"}),
    "settlement.proposed": frozenset({"offerId", "toBuyer", "toSeller", "compensation",
                                      "expiresAt"}),
    "impasse.declared": frozenset(),
    "arbitration.agreed": frozenset(),
    "appoint.arbitrator": frozenset({"role", "appointees"}),
    "answer.submitted": frozenset({"answerHash"}),
    "record.closed": frozenset(),
    "appoint.panel": frozenset({"role", "appointees"}),
    "enforcement.requested": frozenset(),
    "enforcement.recorded": frozenset({"txHash", "toBuyer", "toSeller", "compensation",
                                       "compensationShortfall"}),
}
APPOINTEE_ROLES = {"appoint.mediator": ("mediator", 1), "appoint.arbitrator": ("arbitrator", 1),
                   "appoint.panel": ("panelist", 3)}
# Which command field a body document must hash to.
DOCUMENT_FIELDS: Mapping[type[p.Command], str] = {
    p.FileClaim: "statement_hash",
    p.PublishPreEvaluation: "report_hash",
    p.SubmitAnswer: "answer_hash",
    p.IssueAward: "award_hash",
    p.IssuePanelAward: "award_hash",
    p.Object: "reasons_hash",
}


@dataclass(frozen=True)
class Translated:
    """The command and what the service keeps beside the step."""

    command: p.Command
    action: str
    payload: bytes | None = None  # the canonical JSON signed over (ProceduralStep)
    attachments: tuple[SignedRecord, ...] = ()
    settlement: SignedRecord | None = None  # the escrow Settlement signed by the actor
    offer_id: str | None = None  # the offer a settlement signature belongs to
    award: SignedRecord | None = None


# Steps whose record is not a ProceduralStep, named as the timeline names them (the
# ``action`` of the stored step), so one vocabulary serves the case view's
# ``allowedSteps``, ``POST /cases/{id}/steps/prepare`` and the timeline.
_ACTION_OF_COMMAND: Mapping[type[p.Command], str] = {
    p.MakeOffer: "offer.made",
    p.SubmitEvidence: "evidence.submitted",
    p.Object: "award.objected",
    p.ConfirmJudicially: "court.confirmed",
    p.RefuseConfirmation: "court.refused",
}
# Every step a client may take: action -> command type.
COMMAND_OF_STEP: Mapping[str, type[p.Command]] = {
    **{a: c for a, c in ACTIONS.items() if a != "enforcement.recorded"},
    **{a: c for c, a in _ACTION_OF_COMMAND.items()},
}
# action -> the path under /cases/{id}/ that takes it (backend/api/routes/cases.py).
STEP_ENDPOINTS: Mapping[str, str] = {
    "case.filed": "filing",
    "offer.made": "offers",
    "offer.accepted": "offers/accept",
    "offer.withdrawn": "offers/withdraw",
    "facilitation.requested": "facilitation",
    "appoint.mediator": "mediator",
    "preevaluation.published": "pre-evaluation",
    "settlement.proposed": "proposals",
    "impasse.declared": "impasse",
    "arbitration.agreed": "arbitration-agreement",
    "appoint.arbitrator": "arbitrator",
    "evidence.submitted": "evidence-submissions",
    "answer.submitted": "answer",
    "record.closed": "close-record",
    "award.issued": "award",
    "award.objected": "objection",
    "appoint.panel": "panel",
    "award.panel_signed": "panel-award",
    "enforcement.requested": "enforcement",
    "court.confirmed": "court-decision",
    "court.refused": "court-decision",
}


def step_names(commands: Sequence[type[p.Command]]) -> list[str]:
    """The step actions (``STEP_ENDPOINTS`` keys) that carry these commands, in order,
    without duplicates; ``enforcement.recorded`` is the service's own and never listed."""
    by_command = {cls: action for action, cls in COMMAND_OF_STEP.items()}
    names = [by_command.get(c) for c in commands]
    return list(dict.fromkeys(n for n in names if n))


def payload_hash(payload: Mapping[str, Any]) -> str:
    """SHA-256 (0x-hex) of a payload's canonical JSON, what ``payloadHash`` must be."""
    return "0x" + hashlib.sha256(canonical_json(dict(payload))).hexdigest()


def _h(b: bytes) -> str:
    return "0x" + b.hex()


def _uint(payload: Mapping[str, Any], key: str) -> int:
    """A payload's uint256 field (ASCII decimal string, in range: fields.py)."""
    return decimal_uint(payload[key], f"payload.{key}")


def _alloc(payload: Mapping[str, Any]) -> p.Allocation:
    return p.Allocation(to_buyer=_uint(payload, "toBuyer"), to_seller=_uint(payload, "toSeller"),
                        compensation=_uint(payload, "compensation"))


def _parse_attachments(raw: Sequence[Mapping[str, Any]]) -> list[SignedRecord]:
    if len(raw) > 4:
        raise BadSubmission(f"attachments: at most 4, found {len(raw)}")
    return [SignedRecord.from_json_obj(dict(a)) for a in raw]


def _settlement_of(records: Sequence[SignedRecord], case: p.CaseState, actor: str,
                   allocation: p.Allocation | None) -> SignedRecord:
    found = [r for r in records if isinstance(r.record, Settlement)]
    if len(found) != 1:
        raise BadSubmission("attachments: expected the escrow Settlement signed by you "
                            f"(one), found {len(found)}", code="settlement_signature_missing")
    s = found[0]
    rec = s.record
    assert isinstance(rec, Settlement)  # found holds Settlements only
    if rec.order_id != case.order.order_id or _h(rec.case_id) != case.case_id:
        raise Conflict(f"Settlement: made for order {rec.order_id} case "
                            f"{_h(rec.case_id)}, expected order {case.order.order_id} case "
                            f"{case.case_id}", code="replay")
    s.verify([actor], threshold=1)
    if len(s.signatures) != 1:
        raise BadSubmission("Settlement: carry only your own signature")
    if allocation is not None and (rec.to_buyer, rec.to_seller, rec.compensation) != (
            allocation.to_buyer, allocation.to_seller, allocation.compensation):
        raise BadSubmission("Settlement: its allocation differs from the offer's",
                            code="invalid_allocation")
    return s


def _award_of(records: Sequence[SignedRecord], case: p.CaseState, actor: str, round_: int
              ) -> SignedRecord:
    found = [r for r in records if isinstance(r.record, Award)]
    if len(found) != 1:
        raise BadSubmission(f"attachments: expected one Award record, found {len(found)}",
                            code="award_missing")
    a = found[0]
    rec = a.record
    assert isinstance(rec, Award)  # found holds Awards only
    if rec.order_id != case.order.order_id or _h(rec.case_id) != case.case_id:
        raise Conflict(f"Award: made for order {rec.order_id} case {_h(rec.case_id)}",
                            code="replay")
    if rec.round != round_:
        raise BadSubmission(f"Award: expected round {round_}, found {rec.round}")
    a.verify([actor], threshold=1)
    if len(a.signatures) != 1:
        raise BadSubmission("Award: carry only your own signature")
    return a


def translate(case: p.CaseState, signed: SignedRecord, *, actor: str,
              payload: Mapping[str, Any] | None, attachments: Sequence[Mapping[str, Any]],
              reasons: str | None, award_record_hash: str | None) -> Translated:
    """The command for ``signed`` (already verified to be by ``actor``).

    ``award_record_hash`` is the record hash of the case's binding award (for objections
    and confirmations).
    """
    parsed = _parse_attachments(attachments)
    for a in parsed:
        if a.domain != signed.domain:
            raise Conflict(f"attachment {a.record.TYPE_NAME}: signed for chain "
                                f"{a.domain.chain_id} contract {a.domain.verifying_contract}, "
                                f"not this deployment", code="replay")
    try:
        return _translate(case, signed, actor=actor, payload=payload,
                          attachments=parsed, reasons=reasons,
                          award_record_hash=award_record_hash)
    except KeyError as exc:
        raise BadSubmission(f"payload: missing {exc}") from None


def _command_type(rec: Any) -> type[p.Command] | None:
    if isinstance(rec, SettlementOffer):
        return p.MakeOffer
    if isinstance(rec, EvidenceSubmission):
        return p.SubmitEvidence
    if isinstance(rec, Objection):
        return p.Object
    if isinstance(rec, CourtConfirmation):
        return p.ConfirmJudicially if rec.confirmed else p.RefuseConfirmation
    if isinstance(rec, ProceduralStep):
        return ACTIONS.get(rec.action)
    return None


def check_may_ever(case: p.CaseState, actor: str, rec: Any) -> None:
    """Refuse, before looking at the content, a signer who may never take this step
    (the procedure's check order: who first, then what)."""
    cls = _command_type(rec)
    if cls is None or case.stage in p.TERMINAL_STAGES:
        return  # unknown actions and closed cases get their own, more precise refusal
    roles = case.roles_of(actor)
    for role in roles:
        if any(cls in by_stage for by_stage in p.COMMAND_TRANSITIONS.get(role, {}).values()):
            return
    raise p.WrongActor(f"{cls.__name__} is never open to {actor} in this case (roles: "
                       f"{', '.join(sorted(r.value for r in roles))})")


def _translate(case: p.CaseState, signed: SignedRecord, *, actor: str,
               payload: Mapping[str, Any] | None, attachments: list[SignedRecord],
               reasons: str | None, award_record_hash: str | None) -> Translated:
    rec = signed.record
    seq = case.next_sequence
    check_may_ever(case, actor, rec)
    if isinstance(rec, SettlementOffer):
        if rec.order_id != case.order.order_id:
            raise Conflict(f"SettlementOffer.orderId {rec.order_id}: the case's order is "
                                f"{case.order.order_id}", code="replay")
        alloc = p.Allocation(to_buyer=rec.to_buyer, to_seller=rec.to_seller,
                             compensation=rec.compensation)
        offer_id = _h(signed.record_hash)
        settlement = _settlement_of(attachments, case, actor, alloc)
        cmd: p.Command = p.MakeOffer(
            actor=actor, sequence=seq, offer_id=offer_id, allocation=alloc,
            expires_at=unix_time(rec.expires_at, "SettlementOffer.expiresAt",
                                 code="invalid_record"))
        return Translated(cmd, "offer.made", attachments=(settlement,), settlement=settlement,
                          offer_id=offer_id)
    if isinstance(rec, EvidenceSubmission):
        check_payload(payload or {})
        kind = (payload or {}).get("kind", "other")
        evidence_id = (payload or {}).get("evidenceId") or _h(signed.record_hash)
        cmd = p.SubmitEvidence(actor=actor, sequence=seq, evidence_id=evidence_id, kind=kind,
                               commitment=_h(rec.commitment), content_cid=rec.content_cid)
        return Translated(cmd, "evidence.submitted")
    if isinstance(rec, Objection):
        if award_record_hash is None or _h(rec.award_record_hash) != award_record_hash:
            raise BadSubmission(f"Objection.awardRecordHash {_h(rec.award_record_hash)}: "
                                f"expected the award's record hash {award_record_hash}",
                                code="wrong_award")
        cmd = p.Object(actor=actor, sequence=seq, reasons_hash=_h(rec.reasons_hash))
        return Translated(cmd, "award.objected")
    if isinstance(rec, CourtConfirmation):
        want = award_record_hash or ZERO32
        if _h(rec.award_record_hash) != want:
            raise BadSubmission(f"CourtConfirmation.awardRecordHash "
                                f"{_h(rec.award_record_hash)}: expected {want}",
                                code="wrong_award")
        if rec.confirmed:
            cmd = p.ConfirmJudicially(actor=actor, sequence=seq,
                                      package_hash=_h(rec.package_hash),
                                      court_reference=rec.court_reference)
            return Translated(cmd, "court.confirmed")
        text = reasons or ""
        if "0x" + hashlib.sha256(text.encode()).hexdigest() != _h(rec.reasons_hash):
            raise BadSubmission("reasons: their SHA-256 differs from the record's reasonsHash; "
                                "send the exact reasons text that was signed",
                                code="reasons_mismatch")
        cmd = p.RefuseConfirmation(actor=actor, sequence=seq, package_hash=_h(rec.package_hash),
                                   court_reference=rec.court_reference,
                                   reasons_hash=_h(rec.reasons_hash), reasons=text)
        return Translated(cmd, "court.refused")
    if not isinstance(rec, ProceduralStep):
        raise BadSubmission(f"{rec.TYPE_NAME} cannot be posted as a step; post a "
                            "ProceduralStep that binds it", code="wrong_record_type")
    return _procedural(case, signed, rec, actor, payload, attachments)


def _procedural(case: p.CaseState, signed: SignedRecord, rec: ProceduralStep, actor: str,
                payload: Mapping[str, Any] | None, attachments: list[SignedRecord]
                ) -> Translated:
    action = rec.action
    seq = case.next_sequence
    if action not in ACTIONS:
        raise BadSubmission(f"action {action!r}: expected one of {', '.join(ACTIONS)}",
                            code="unknown_action")
    if action in ("award.issued", "award.panel_signed"):
        award = _award_of(attachments, case, actor, 0 if action == "award.issued" else 1)
        if award.record_hash != rec.payload_hash:
            raise BadSubmission("payloadHash: expected the carried Award's record hash "
                                f"{_h(award.record_hash)}, found {_h(rec.payload_hash)}",
                                code="payload_mismatch")
        a = award.record
        assert isinstance(a, Award)  # _award_of found an Award
        alloc = p.Allocation(to_buyer=a.to_buyer, to_seller=a.to_seller,
                             compensation=a.compensation)
        cls = p.IssueAward if action == "award.issued" else p.IssuePanelAward
        cmd: p.Command = cls(actor=actor, sequence=seq, allocation=alloc,
                             award_hash=_h(a.award_hash))
        return Translated(cmd, action, attachments=(award,), award=award)
    if payload is None or not isinstance(payload, Mapping):
        raise BadSubmission(f"{action}: the body must carry the payload whose canonical JSON "
                            "hashes to payloadHash", code="payload_missing")
    if set(payload) != PAYLOAD_KEYS[action]:
        raise BadSubmission(f"payload of {action}: expected keys "
                            f"{sorted(PAYLOAD_KEYS[action])}, found {sorted(payload)}")
    check_payload(payload)  # every field's kind and range, before any is used
    raw = canonical_json(dict(payload))
    if hashlib.sha256(raw).digest() != rec.payload_hash:
        raise BadSubmission(f"payloadHash {_h(rec.payload_hash)}: the payload's canonical JSON "
                            f"hashes to {payload_hash(payload)}", code="payload_mismatch")
    cmd = _command(case, action, actor, seq, payload)
    settlement = None
    offer_id = None
    if action == "offer.accepted":
        offer = case.offer(payload["offerId"])
        settlement = _settlement_of(attachments, case, actor,
                                    offer.allocation if offer is not None else None)
        if _h(settlement.record_hash) != payload["settlementHash"]:
            raise BadSubmission("payload.settlementHash: differs from the carried Settlement's "
                                "record hash", code="payload_mismatch")
        offer_id = payload["offerId"]
    return Translated(cmd, action, payload=raw,
                      attachments=(settlement,) if settlement else (),
                      settlement=settlement, offer_id=offer_id)


def _command(case: p.CaseState, action: str, actor: str, seq: int,
             payload: Mapping[str, Any]) -> p.Command:
    cls = ACTIONS[action]
    if action == "case.filed":
        if payload["claimant"] != actor:
            raise BadSubmission(f"payload.claimant {payload['claimant']}: the signer {actor} "
                                "files, so it is the claimant")
        other = case.order.seller if actor == case.order.buyer else case.order.buyer
        if payload["respondent"] != other:
            raise BadSubmission(f"payload.respondent: expected {other}")
        if _uint(payload, "orderId") != case.order.order_id:
            raise Conflict(f"payload.orderId: expected {case.order.order_id}", code="replay")
        return p.FileClaim(actor=actor, sequence=seq, dispute_type=payload["disputeType"],
                           remedy=payload["remedy"],
                           claimed_amount=_uint(payload, "claimedAmount"),
                           statement_hash=payload["statementHash"])
    if action == "offer.accepted":  # settlementHash binds the attached Settlement only
        return p.AcceptOffer(actor=actor, sequence=seq, offer_id=payload["offerId"])
    if action == "offer.withdrawn":
        return p.WithdrawOffer(actor=actor, sequence=seq, offer_id=payload["offerId"])
    if action in APPOINTEE_ROLES:
        role, count = APPOINTEE_ROLES[action]
        people = payload["appointees"]
        if payload["role"] != role or not isinstance(people, list) or len(people) != count:
            raise BadSubmission(f"payload of {action}: expected role {role!r} and {count} "
                                f"appointee(s), found {payload['role']!r}, {people!r}")
        try:
            people = [checksum_address(a) for a in people]
        except EvidenceError as exc:
            raise BadSubmission(f"payload.appointees: {exc}") from None
        if action == "appoint.mediator":
            return p.AppointMediator(actor=actor, sequence=seq, mediator=people[0])
        if action == "appoint.arbitrator":
            return p.AppointArbitrator(actor=actor, sequence=seq, arbitrator=people[0])
        return p.AppointPanel(actor=actor, sequence=seq, panel=tuple(people))
    if action == "preevaluation.published":
        return p.PublishPreEvaluation(actor=actor, sequence=seq,
                                      recommended=payload["recommended"],
                                      report_hash=payload["reportHash"])
    if action == "settlement.proposed":
        expires = payload["expiresAt"]
        return p.ProposeSettlement(
            actor=actor, sequence=seq, offer_id=payload["offerId"], allocation=_alloc(payload),
            expires_at=None if expires == "0" else unix_time(
                _uint(payload, "expiresAt"), "payload.expiresAt"))
    if action == "answer.submitted":
        return p.SubmitAnswer(actor=actor, sequence=seq, answer_hash=payload["answerHash"])
    if action == "enforcement.recorded":
        return p.RecordEnforcement(actor=actor, sequence=seq, tx_hash=payload["txHash"],
                                   allocation=_alloc(payload),
                                   compensation_shortfall=_uint(payload, "compensationShortfall"))
    return cls(actor=actor, sequence=seq)
