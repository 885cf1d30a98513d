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

Every table here is generated from the step table ``evidence/steps.py`` (one row per
step: action, record type, command, payload and document fields, signers, endpoint); the
procedure's command classes are this module's concern and never leave it (the vocabulary
outside is the action).

The record's own binding (domain, case, link to the previous record, signer) is checked by
the caller; the command's ``sequence`` is the record's position in the chain, which the
procedure checks (``p.admit``: the one replay counter), before the content is read.
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from eth_utils import keccak as keccak256

from backend import procedure as p
from evidence.errors import EvidenceError
from evidence.records import (
    Award,
    ChainedRecord,
    CourtConfirmation,
    EvidenceSubmission,
    Objection,
    ProceduralStep,
    Record,
    ReturnAward,
    ReturnSettlement,
    Settlement,
    SettlementOffer,
    SignedRecord,
    canonical_json,
    checksum_address,
    recover_signer,
)
from evidence.steps import STEPS, StepSpec, step_of_record

from .errors import AccessDenied, BadSubmission, Conflict
from .fields import check_payload, decimal_uint, unix_time

__all__ = [
    "ACTIONS",
    "COMMAND_OF_STEP",
    "CONFIDENTIAL_ACTIONS",
    "INSTITUTION_ACTIONS",
    "PAYLOAD_KEYS",
    "STEP_ENDPOINTS",
    "Translated",
    "payload_hash",
    "translate",
]

ZERO32 = "0x" + "00" * 32


def _command_class(spec: StepSpec) -> type[p.Command]:
    cls = p.COMMANDS_BY_NAME.get(spec.command or "")
    assert cls is not None, f"{spec.action}: no procedure command {spec.command!r}"
    return cls


# Everything below is generated from evidence/steps.py (STEPS): one row per step.
# The steps the procedure applies (a service record such as appoint.court has no command).
_SPECS: Mapping[str, StepSpec] = {s.action: s for s in STEPS if s.command is not None}
# action -> procedure command type (ProceduralStep records)
ACTIONS: Mapping[str, type[p.Command]] = {
    a: _command_class(s) for a, s in _SPECS.items() if s.record == "ProceduralStep"}
# Steps the institution takes: an admin signs the request, the institution key the record.
INSTITUTION_ACTIONS = frozenset(a for a, s in _SPECS.items() if s.institution)
# Exact payload keys per action (camelCase, uints as decimal strings).
PAYLOAD_KEYS: Mapping[str, frozenset[str]] = {
    a: frozenset(s.payload) for a, s in _SPECS.items() if s.payload is not None}
APPOINTEE_ROLES: Mapping[str, tuple[str, int | None]] = {
    a: s.appointees for a, s in _SPECS.items() if s.appointees is not None}
# Steps whose records only the parties and the mediator read (offers and proposals).
CONFIDENTIAL_ACTIONS = frozenset(a for a, s in _SPECS.items() if s.confidential)


def _snake(key: str) -> str:
    """A signed field's name (camelCase) as the command's field (snake_case)."""
    return re.sub(r"(?<!^)(?=[A-Z])", "_", key).lower()


# Which command field a body document must hash to.
DOCUMENT_FIELDS: Mapping[type[p.Command], str] = {
    _command_class(s): _snake(s.document) for s in _SPECS.values() if s.document is not None}
# Every step a client may take (it has an endpoint): action -> command type.
COMMAND_OF_STEP: Mapping[str, type[p.Command]] = {
    a: _command_class(s) for a, s in _SPECS.items() if s.endpoint is not None}
# action -> the path under /cases/{id}/ that takes it (backend/api/routes/cases.py).
STEP_ENDPOINTS: Mapping[str, str] = {
    a: s.endpoint for a, s in _SPECS.items() if s.endpoint is not None}
# The procedure's command type -> its step (the core's class never leaves this module).
_STEP_OF_COMMAND: Mapping[type[p.Command], StepSpec] = {
    _command_class(s): s for s in _SPECS.values()}
assert set(_STEP_OF_COMMAND) == set(p.COMMAND_TYPES), \
    "every procedure command is one step of evidence/steps.py and back"


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


def step_names(commands: Sequence[type[p.Command]]) -> list[str]:
    """The step actions (``STEP_ENDPOINTS`` keys) that carry these commands, in order,
    without duplicates; ``enforcement.recorded`` is the service's own and never listed."""
    names = [_STEP_OF_COMMAND[c] for c in commands]
    return list(dict.fromkeys(s.action for s in names if s.endpoint is not None))


def payload_hash(payload: Mapping[str, object]) -> str:
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


def _fallback(rec: Settlement | ReturnSettlement) -> p.Allocation | None:
    """A ReturnSettlement's fallback (None: an ordinary Settlement)."""
    if not isinstance(rec, ReturnSettlement):
        return None
    return p.Allocation(to_buyer=rec.no_return_to_buyer, to_seller=rec.no_return_to_seller,
                        compensation=rec.no_return_compensation)


def _settlement_of(records: Sequence[SignedRecord], case: p.CaseState, actor: str,
                   allocation: p.Allocation | None, offer: p.Offer | None = None
                   ) -> SignedRecord:
    """The one escrow Settlement (or, for "return and refund", ReturnSettlement) the step
    carries, signed by ``actor`` alone; accepting, it must be of the offer's kind and terms."""
    found = [r for r in records if isinstance(r.record, Settlement | ReturnSettlement)]
    if len(found) != 1:
        raise BadSubmission("attachments: expected the escrow Settlement signed by you "
                            f"(one), found {len(found)}", code="settlement_signature_missing")
    s = found[0]
    rec = s.record
    assert isinstance(rec, Settlement | ReturnSettlement)  # found holds settlements only
    if offer is not None and _fallback(rec) != offer.no_return:
        raise BadSubmission(f"{rec.TYPE_NAME}: the offer's return terms (fallback "
                            f"{offer.no_return}) differ from the signed ones",
                            code="invalid_allocation")
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
    """The one Award (or, for the sole arbitrator, ReturnAward) the step carries."""
    found = [r for r in records if isinstance(r.record, Award | ReturnAward)]
    if len(found) != 1:
        raise BadSubmission(f"attachments: expected one Award record, found {len(found)}",
                            code="award_missing")
    a = found[0]
    rec = a.record
    assert isinstance(rec, Award | ReturnAward)  # found holds awards only
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
              payload: Mapping[str, object] | None, attachments: Sequence[Mapping[str, object]],
              reasons: str | None, award_record_hash: str | None, now: datetime
              ) -> Translated:
    """The command for ``signed`` (already verified to be by ``actor``), once the
    procedure admits its step ``now`` (``admit``; refusals as ``apply`` gives them).

    ``award_record_hash`` is the record hash of the case's binding award (for objections
    and confirmations).
    """
    admit(case, actor, signed.record, now)
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


def step_of(rec: Record) -> StepSpec | None:
    """The table's row for a signed record the procedure applies, or None (no such step:
    the translation then gives its own precise refusal)."""
    spec = step_of_record(rec.TYPE_NAME, getattr(rec, "action", None),
                          confirmed=getattr(rec, "confirmed", None))
    return spec if spec is not None and spec.command is not None else None


def institution_actor(action: str, signer: str, *, is_admin: Callable[[str], bool],
                      institution: str) -> str:
    """Who the procedure sees taking ``action`` signed by ``signer``: for the institution's
    steps an admin signs the request and the institution (its key countersigns) acts, so
    the institution; anyone else acts for themselves. The one place of this rule (the step
    path, ``steps/prepare`` and the case view's ``allowedSteps`` ask it)."""
    spec = _SPECS.get(action)
    if spec is None or not spec.institution or signer == institution:
        return signer
    if not is_admin(signer):
        raise p.WrongActor(f"{action} is the institution's act; {signer} is not an "
                           "institution admin")
    return institution


def admit(case: p.CaseState, actor: str, rec: Record, now: datetime) -> None:
    """The procedure's admission of the step ``rec`` is (``p.admit``: closed, who, the
    record's position in the chain, stage, deadline), before its content is read."""
    spec = step_of(rec)
    if spec is None or not isinstance(rec, ChainedRecord):
        return  # unknown actions (and unchained records) get their own, precise refusal
    p.admit(case, actor, _command_class(spec), now, sequence=rec.sequence)


def _translate(case: p.CaseState, signed: SignedRecord, *, actor: str,
               payload: Mapping[str, Any] | None, attachments: list[SignedRecord],
               reasons: str | None, award_record_hash: str | None) -> Translated:
    rec = signed.record
    if isinstance(rec, ProceduralStep):
        return _procedural(case, signed, rec, actor, payload, attachments)
    spec = step_of(rec)
    if spec is None or not isinstance(rec, ChainedRecord):
        raise BadSubmission(f"{rec.TYPE_NAME} cannot be posted as a step; post a "
                            "ProceduralStep that binds it", code="wrong_record_type")
    seq = rec.sequence  # its position: the replay counter
    if isinstance(rec, SettlementOffer):
        if rec.order_id != case.order.order_id:
            raise Conflict(f"SettlementOffer.orderId {rec.order_id}: the case's order is "
                                f"{case.order.order_id}", code="replay")
        alloc = p.Allocation(to_buyer=rec.to_buyer, to_seller=rec.to_seller,
                             compensation=rec.compensation)
        offer_id = _h(signed.record_hash)
        settlement = _settlement_of(attachments, case, actor, alloc)
        assert isinstance(settlement.record, Settlement | ReturnSettlement)
        cmd: p.Command = p.MakeOffer(
            actor=actor, sequence=seq, offer_id=offer_id, allocation=alloc,
            expires_at=unix_time(rec.expires_at, "SettlementOffer.expiresAt",
                                 code="invalid_record"),
            no_return=_fallback(settlement.record))
        return Translated(cmd, spec.action, attachments=(settlement,), settlement=settlement,
                          offer_id=offer_id)
    if isinstance(rec, EvidenceSubmission):
        check_payload(payload or {})
        kind = (payload or {}).get("kind", "other")
        evidence_id = (payload or {}).get("evidenceId") or _h(signed.record_hash)
        cmd = p.SubmitEvidence(actor=actor, sequence=seq, evidence_id=evidence_id, kind=kind,
                               commitment=_h(rec.commitment), content_cid=rec.content_cid)
        return Translated(cmd, spec.action)
    if isinstance(rec, Objection):
        if award_record_hash is None or _h(rec.award_record_hash) != award_record_hash:
            raise BadSubmission(f"Objection.awardRecordHash {_h(rec.award_record_hash)}: "
                                f"expected the award's record hash {award_record_hash}",
                                code="wrong_award")
        cmd = p.Object(actor=actor, sequence=seq, reasons_hash=_h(rec.reasons_hash))
        return Translated(cmd, spec.action)
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
            return Translated(cmd, spec.action)
        text = reasons or ""
        if "0x" + hashlib.sha256(text.encode()).hexdigest() != _h(rec.reasons_hash):
            raise BadSubmission("reasons: their SHA-256 differs from the record's reasonsHash; "
                                "send the exact reasons text that was signed",
                                code="reasons_mismatch")
        cmd = p.RefuseConfirmation(actor=actor, sequence=seq, package_hash=_h(rec.package_hash),
                                   court_reference=rec.court_reference,
                                   reasons_hash=_h(rec.reasons_hash), reasons=text)
        return Translated(cmd, spec.action)
    raise BadSubmission(f"{rec.TYPE_NAME} cannot be posted as a step; post a "
                        "ProceduralStep that binds it", code="wrong_record_type")


def _procedural(case: p.CaseState, signed: SignedRecord, rec: ProceduralStep, actor: str,
                payload: Mapping[str, Any] | None, attachments: list[SignedRecord]
                ) -> Translated:
    action = rec.action
    seq = rec.sequence
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
        assert isinstance(a, Award | ReturnAward)  # _award_of found an award
        alloc = p.Allocation(to_buyer=a.to_buyer, to_seller=a.to_seller,
                             compensation=a.compensation)
        cmd: p.Command
        if isinstance(a, ReturnAward):  # round 0 only (the record refuses another round)
            cmd = p.IssueAward(actor=actor, sequence=seq, allocation=alloc,
                               award_hash=_h(a.award_hash), no_return=p.Allocation(
                                   to_buyer=a.no_return_to_buyer,
                                   to_seller=a.no_return_to_seller,
                                   compensation=a.no_return_compensation))
        else:
            cls = p.IssueAward if action == "award.issued" else p.IssuePanelAward
            cmd = cls(actor=actor, sequence=seq, allocation=alloc,
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
    if action == "jury.vote_committed":
        _check_vote_signature(signed, actor, payload)
    cmd = _command(case, action, actor, seq, payload)
    settlement = None
    offer_id = None
    if action == "offer.accepted":
        offer = case.offer(payload["offerId"])
        settlement = _settlement_of(attachments, case, actor,
                                    offer.allocation if offer is not None else None, offer)
        if _h(settlement.record_hash) != payload["settlementHash"]:
            raise BadSubmission("payload.settlementHash: differs from the carried Settlement's "
                                "record hash", code="payload_mismatch")
        offer_id = payload["offerId"]
    return Translated(cmd, action, payload=raw,
                      attachments=(settlement,) if settlement else (),
                      settlement=settlement, offer_id=offer_id)


def _addresses(value: object, field: str) -> tuple[str, ...]:
    if not isinstance(value, list):
        raise BadSubmission(f"{field}: expected a list of addresses", code="bad_payload")
    try:
        return tuple(checksum_address(a) for a in value)
    except EvidenceError as exc:
        raise BadSubmission(f"{field}: {exc}", code="bad_payload") from None


def _check_vote_signature(signed: SignedRecord, actor: str,
                          payload: Mapping[str, Any]) -> None:
    """A juror's commitment carries the juror's own EIP-712 signature of it (a ``JuryVote``
    under this deployment's domain): the escrow counts the vote by it (docs/jury.md §7),
    so a signature by anyone else is refused here, not when the verdict is executed."""
    digest = keccak256(b"\x19\x01" + signed.domain.separator()
                       + bytes.fromhex(payload["commitment"][2:]))
    try:
        signer = recover_signer(digest, payload["signature"])
    except EvidenceError:
        signer = None
    if signer != actor:
        raise AccessDenied(f"payload.signature: the JuryVote signature of the commitment is "
                           f"{signer or 'no valid signature'}'s, not the juror {actor}'s",
                           code="wrong_signer")


def _jury_command(case: p.CaseState, action: str, actor: str, seq: int,
                  payload: Mapping[str, Any]) -> p.Command:
    """The jury track's steps (docs/jury.md): lists and numbers in their JSON forms."""
    if action == "jury.seed_committed":
        return p.CommitJurySeed(actor=actor, sequence=seq, seed_hash=payload["seedHash"],
                                draw_block=decimal_uint(payload["drawBlock"],
                                                        "payload.drawBlock", bits=64),
                                pool=_addresses(payload["pool"], "payload.pool"),
                                pool_hash=payload["poolHash"])
    if action == "jury.drawn":
        if payload["role"] != "juror":
            raise BadSubmission(f"payload.role: expected 'juror', found {payload['role']!r}",
                                code="bad_payload")
        sitting = _addresses(payload["appointees"], "payload.appointees")
        kept = case.jury.jurors
        if sitting[:len(kept)] != kept:
            raise BadSubmission("payload.appointees: the sitting jurors first, in draw order "
                                f"({', '.join(kept) or 'none'}), then those drawn now",
                                code="bad_payload")
        options = payload["options"]
        if not isinstance(options, list):
            raise BadSubmission("payload.options: expected a list of allocations",
                                code="bad_payload")
        return p.DrawJury(actor=actor, sequence=seq, seed=payload["seed"],
                          block_hash=payload["blockHash"], prevrandao=payload["prevrandao"],
                          jurors=sitting[len(kept):],
                          options=tuple(_alloc(o) for o in options))
    if action == "jury.vote_revealed":
        return p.RevealVote(actor=actor, sequence=seq,
                            choice=decimal_uint(payload["choice"], "payload.choice", bits=8),
                            reason_code=decimal_uint(payload["reasonCode"],
                                                     "payload.reasonCode", bits=16),
                            salt=payload["salt"])
    if action == "jury.tallied":
        counts = payload["counts"]
        if not isinstance(counts, list):
            raise BadSubmission("payload.counts: expected a list of decimal strings",
                                code="bad_payload")
        winner = payload["winner"]
        return p.RecordTally(actor=actor, sequence=seq,
                             counts=tuple(decimal_uint(n, f"payload.counts[{i}]", bits=16)
                                          for i, n in enumerate(counts)),
                             winner=None if winner == "none" else
                             decimal_uint(winner, "payload.winner", bits=8))
    cls = ACTIONS[action]  # the rest take their payload as it is
    return cls(actor=actor, sequence=seq, **{_snake(k): v for k, v in payload.items()})


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
    if action.startswith("jury."):
        return _jury_command(case, action, actor, seq, payload)
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
    if action == "settlement.proposed":
        expires = payload["expiresAt"]
        return p.ProposeSettlement(
            actor=actor, sequence=seq, offer_id=payload["offerId"], allocation=_alloc(payload),
            expires_at=None if expires == "0" else unix_time(
                _uint(payload, "expiresAt"), "payload.expiresAt"))
    if action == "fasttrack.proposed":
        return p.ProposeFastTrack(actor=actor, sequence=seq, recommended=payload["recommended"],
                                  allocation=_alloc(payload), report_hash=payload["reportHash"])
    if action == "enforcement.recorded":
        return p.RecordEnforcement(actor=actor, sequence=seq, tx_hash=payload["txHash"],
                                   allocation=_alloc(payload),
                                   compensation_shortfall=_uint(payload, "compensationShortfall"))
    # the rest take their payload as it is: each key (camelCase) is the command's field
    return cls(actor=actor, sequence=seq,
               **{_snake(k): v for k, v in payload.items()})
