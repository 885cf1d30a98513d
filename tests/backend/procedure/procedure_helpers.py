"""Factories for procedure tests: fixed actors, an injected clock, and drivers to each stage."""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from eth_utils import to_checksum_address

from backend import procedure as p
from evidence import jury as public_jury


def addr(n: int) -> str:
    return to_checksum_address(f"0x{n:040x}")


def h(n: int) -> str:
    return f"0x{n:064x}"


BUYER, SELLER = addr(0xB0), addr(0x5E)
ADMIN, COURT = addr(0xAD), addr(0xC0)
MEDIATOR, ARBITRATOR = addr(0x3E), addr(0xA1)
PANEL = (addr(0xF1), addr(0xF2), addr(0xF3))
SPARE = addr(0xA2)  # a second arbitrator for reappointment
CONFLICTED = addr(0xBAD)  # declared a relationship with the seller
STRANGER = addr(0x999)
AMOUNT, GUARANTEE = 1_000_000_000, 300_000_000
T0 = datetime(2026, 1, 5, 9, 0, tzinfo=UTC)
DAY = timedelta(days=1)
VOTE_SIGNATURE = "0x" + "1b" * 65  # a juror's JuryVote signature (not checked by the core)
CASE_ID = h(0xCA5E)
# the jury track: a pool of assessors (sorted), rules that let this order go to a jury of 3
JURY_POOL = tuple(sorted((addr(0x1001 + i) for i in range(9)), key=lambda a: a.lower()))
JURY_RULES = p.CaseRules(jury_max_amount=AMOUNT, jury_size=3)
DRAW_BLOCK = 1_000


def order(*, arbitration_agreed: bool = False, jury: bool = False) -> p.Order:
    return p.Order(order_id=7, buyer=BUYER, seller=SELLER, amount=AMOUNT, guarantee=GUARANTEE,
                   arbitration_agreed=arbitration_agreed, jury_agreed=jury)


def blank(*, arbitration_agreed: bool = False, rules: p.CaseRules | None = None,
          jury: bool = False) -> p.CaseState:
    if rules is None:
        rules = JURY_RULES if jury else p.DEFAULT_RULES
    return p.new_case(
        case_id=CASE_ID,
        order=order(arbitration_agreed=arbitration_agreed, jury=jury),
        institution={ADMIN},
        courts={COURT},
        relationships={p.Relationship(neutral=CONFLICTED, party=SELLER, nature="employee")},
        rules=rules,
    )


def alloc(to_buyer: int, compensation: int = 0) -> p.Allocation:
    return p.Allocation(to_buyer=to_buyer, to_seller=AMOUNT - to_buyer, compensation=compensation)


def step(case: p.CaseState, cls: type[p.Command], actor: str, now: datetime = T0, **fields
         ) -> p.CaseState:
    """Apply one command signed by ``actor`` with the right sequence; return the new case."""
    new, _ = p.apply(case, cls(actor=actor, sequence=case.next_sequence, **fields), now)
    return new


def file_claim(case: p.CaseState | None = None, *, now: datetime = T0,
               dispute: p.DisputeType = p.DisputeType.NOT_AS_DESCRIBED,
               remedy: p.Remedy = p.Remedy.PARTIAL_REFUND, claimed: int = AMOUNT // 2,
               **kw) -> p.CaseState:
    case = case if case is not None else blank(**kw)
    return step(case, p.FileClaim, BUYER, now, dispute_type=dispute, remedy=remedy,
                claimed_amount=claimed, statement_hash=h(1))


def to_negotiation(**kw) -> p.CaseState:
    case = file_claim(**kw)
    return step(case, p.MakeOffer, SELLER, offer_id="s1", allocation=alloc(AMOUNT // 10))


def to_facilitation(*, agreed: bool = True, mediator: bool = True, **kw) -> p.CaseState:
    case = to_negotiation(**kw)
    if agreed and not case.order.arbitration_agreed:
        case = step(case, p.AgreeToArbitrate, BUYER)
        case = step(case, p.AgreeToArbitrate, SELLER)
    case = step(case, p.RequestFacilitation, BUYER)
    return step(case, p.AppointMediator, ADMIN, mediator=MEDIATOR) if mediator else case


def to_appointment(**kw) -> p.CaseState:
    case = to_facilitation(**kw)
    return step(case, p.DeclareImpasse, MEDIATOR)


def to_evidence(**kw) -> p.CaseState:
    return step(to_appointment(**kw), p.AppointArbitrator, ADMIN, arbitrator=ARBITRATOR)


def to_record_closed(**kw) -> p.CaseState:
    return step(to_evidence(**kw), p.CloseRecord, ARBITRATOR)


AWARD: dict[str, Any] = dict(allocation=alloc(AMOUNT // 2, compensation=GUARANTEE // 3),
                             award_hash=h(0xA4A))


def deadline_of(case: p.CaseState) -> datetime:
    """The case's deadline, where the test's own steps put it in a stage with a clock."""
    assert case.deadline is not None, case.stage
    return case.deadline


def entered_at(case: p.CaseState) -> datetime:
    """When the case entered its stage (every step after the opening sets it)."""
    assert case.stage_entered_at is not None, case.stage
    return case.stage_entered_at


def to_awarded(**kw) -> p.CaseState:
    return step(to_record_closed(**kw), p.IssueAward, ARBITRATOR, **AWARD)


def to_final(**kw) -> p.CaseState:
    case = to_awarded(**kw)
    case, _ = p.advance(case, deadline_of(case))
    return case


def to_panel_appointment(**kw) -> p.CaseState:
    return step(to_awarded(**kw), p.Object, SELLER, reasons_hash=h(0x0B))


def to_panel(**kw) -> p.CaseState:
    return step(to_panel_appointment(**kw), p.AppointPanel, ADMIN, panel=PANEL)


PANEL_AWARD: dict[str, Any] = dict(allocation=alloc(AMOUNT // 4), award_hash=h(0x9A4))


def to_awarded_by_panel(**kw) -> p.CaseState:
    case = step(to_panel(**kw), p.IssuePanelAward, PANEL[0], **PANEL_AWARD)
    return step(case, p.IssuePanelAward, PANEL[2], **PANEL_AWARD)


def to_enforced(**kw) -> p.CaseState:
    case = to_final(**kw)
    case = step(case, p.Enforce, STRANGER, entered_at(case))
    return step(case, p.RecordEnforcement, ADMIN, entered_at(case), tx_hash=h(0x7),
                allocation=AWARD["allocation"])


def to_settled(**kw) -> p.CaseState:
    case = to_negotiation(**kw)
    return step(case, p.AcceptOffer, BUYER, offer_id="s1")


def to_litigation(**kw) -> p.CaseState:
    case = to_facilitation(agreed=False, **kw)
    case, _ = p.advance(case, deadline_of(case))
    return case


def to_confirmed(**kw) -> p.CaseState:
    case = to_enforced(**kw)
    return step(case, p.ConfirmJudicially, COURT, entered_at(case),
                package_hash=h(0xC), court_reference="(2026) Zhe 0192 Min Te 1")


def to_refused(**kw) -> p.CaseState:
    case = to_settled(**kw)
    return step(case, p.RefuseConfirmation, COURT, package_hash=h(0xD), court_reference="R-1",
                reasons_hash=h(0xE),
                reasons="the settlement exceeds the escrow's terms")


# -- the jury track ----------------------------------------------------------------------


def seed_of(round_: int) -> str:
    return h(0x5EED00 + round_)


def salt_of(juror: str) -> str:
    return "0x" + public_jury.keccak256(bytes.fromhex(juror[2:])).hex()  # type: ignore[attr-defined]


def pool_for(case: p.CaseState) -> tuple[str, ...]:
    """The next draw's snapshot: exactly the missing number of assessors never drawn here
    (so the builders' drawn jurors are known: JURY_POOL's first three)."""
    j = case.jury
    needed = case.rules.jury_size - len(j.jurors)
    fresh = [a for a in JURY_POOL if a not in j.jurors and a not in j.former_jurors]
    return tuple(fresh[:max(needed, 1)])


JURY_OPTIONS = (alloc(AMOUNT), alloc(AMOUNT // 2), alloc(0))


def drawn_jurors(case: p.CaseState, seed: str) -> tuple[str, ...]:
    j = case.jury
    if j.pool_hash is None or len(j.jurors) >= case.rules.jury_size:
        return (JURY_POOL[0],)
    randomness = public_jury.draw_randomness(CASE_ID, j.round, seed, h(0xB10C), h(0x4A4D),
                                             j.pool_hash)
    return public_jury.draw(j.pool, case.rules.jury_size - len(j.jurors), randomness)


def to_jury_draw(**kw) -> p.CaseState:
    case = to_negotiation(jury=True, **kw)
    case = step(case, p.RequestFacilitation, BUYER)
    case = step(case, p.AppointMediator, ADMIN, mediator=MEDIATOR)
    return step(case, p.DeclareImpasse, MEDIATOR)


def to_jury_acceptance(**kw) -> p.CaseState:
    case = to_jury_draw(**kw)
    case = step(case, p.CommitJurySeed, ADMIN, **fields_for(case, p.CommitJurySeed, ADMIN))
    return step(case, p.DrawJury, ADMIN, **fields_for(case, p.DrawJury, ADMIN))


def to_jury_voting(**kw) -> p.CaseState:
    case = to_jury_acceptance(**kw)
    for juror in case.jury.jurors:
        case = step(case, p.AcceptJuryDuty, juror)
    return case


def to_jury_reveal(**kw) -> p.CaseState:
    case = to_jury_voting(**kw)
    for juror in case.jury.jurors:
        case = step(case, p.CommitVote, juror, **fields_for(case, p.CommitVote, juror))
    assert case.stage is p.Stage.JURY_REVEAL  # every juror committed: the reveals open at once
    return case


def to_jury_tally(**kw) -> p.CaseState:
    case = to_jury_reveal(**kw)
    for juror in case.jury.jurors:
        case = step(case, p.RevealVote, juror, entered_at(case),
                    **fields_for(case, p.RevealVote, juror))
    return case


def to_jury_decided(**kw) -> p.CaseState:
    case = to_jury_tally(**kw)
    return step(case, p.RecordTally, ADMIN, entered_at(case),
                **fields_for(case, p.RecordTally, ADMIN))


def to_jury_final(**kw) -> p.CaseState:
    case = to_jury_decided(**kw)
    case, _ = p.advance(case, deadline_of(case))
    return case


# -- the fast track ----------------------------------------------------------------------

FAST_RULES = p.CaseRules(fast_track_max_amount=AMOUNT)
# the pre-evaluation of the claim to_negotiation files (not as described, partial refund)
FAST_PROPOSAL: dict[str, Any] = dict(recommended=p.Outcome.PARTIAL_REFUND,
                                     allocation=alloc(AMOUNT // 2), report_hash=h(0xFA57))


# a return-and-refund award (docs/procedure.md "Return and refund"): the whole price back
# once the goods are back; the fallback if the buyer never ships them (a tenth back)
RETURN_AWARD: dict[str, Any] = dict(allocation=alloc(AMOUNT), award_hash=h(0x4E7),
                                    no_return=alloc(AMOUNT // 10))
RETURN_SHIPMENT = dict(carrier="sim-post", tracking_number="RT-0001", tracking=h(0x7AC))


def to_return_final(**kw) -> p.CaseState:
    """A return award, final (its objection window passed)."""
    case = step(to_record_closed(**kw), p.IssueAward, ARBITRATOR, **RETURN_AWARD)
    case, _ = p.advance(case, deadline_of(case))
    return case


def to_return_pending(**kw) -> p.CaseState:
    """The escrow executed the return award: the buyer's return window runs."""
    case = to_return_final(**kw)
    case = step(case, p.Enforce, STRANGER, entered_at(case))
    return step(case, p.RecordEnforcement, ADMIN, entered_at(case), tx_hash=h(0x7),
                allocation=RETURN_AWARD["allocation"])


def to_return_shipped(**kw) -> p.CaseState:
    case = to_return_pending(**kw)
    return step(case, p.ShipReturn, BUYER, entered_at(case), **RETURN_SHIPMENT)


def to_fast_track_proposed(**kw) -> p.CaseState:
    kw.setdefault("rules", FAST_RULES)
    case = to_facilitation(**kw)
    return step(case, p.ProposeFastTrack, MEDIATOR, entered_at(case), **FAST_PROPOSAL)


def to_fast_track_final(**kw) -> p.CaseState:
    case = to_fast_track_proposed(**kw)
    case, _ = p.advance(case, deadline_of(case))
    return case


STAGE_BUILDERS: dict[p.Stage, Callable[..., p.CaseState]] = {
    p.Stage.NOT_FILED: blank,
    p.Stage.FILED: file_claim,
    p.Stage.NEGOTIATION: to_negotiation,
    p.Stage.FACILITATION: to_facilitation,
    p.Stage.ARBITRATOR_APPOINTMENT: to_appointment,
    p.Stage.EVIDENCE: to_evidence,
    p.Stage.RECORD_CLOSED: to_record_closed,
    p.Stage.AWARDED: to_awarded,
    p.Stage.PANEL_APPOINTMENT: to_panel_appointment,
    p.Stage.PANEL: to_panel,
    p.Stage.AWARDED_BY_PANEL: to_awarded_by_panel,
    p.Stage.FINAL: to_final,
    p.Stage.ENFORCED: to_enforced,
    p.Stage.SETTLED: to_settled,
    p.Stage.CLOSED_FOR_LITIGATION: to_litigation,
    p.Stage.JUDICIALLY_CONFIRMED: to_confirmed,
    p.Stage.CONFIRMATION_REFUSED: to_refused,
    p.Stage.JURY_DRAW: to_jury_draw,
    p.Stage.JURY_ACCEPTANCE: to_jury_acceptance,
    p.Stage.JURY_VOTING: to_jury_voting,
    p.Stage.JURY_REVEAL: to_jury_reveal,
    p.Stage.JURY_TALLY: to_jury_tally,
    p.Stage.JURY_DECIDED: to_jury_decided,
    p.Stage.JURY_FINAL: to_jury_final,
    p.Stage.FAST_TRACK_PROPOSED: to_fast_track_proposed,
    p.Stage.FAST_TRACK_FINAL: to_fast_track_final,
    p.Stage.RETURN_PENDING: to_return_pending,
    p.Stage.RETURN_SHIPPED: to_return_shipped,
}
# The return steps are one side's: the party table admits both, the handler the side.
SIDE_OF_RETURN_STEP = {p.ShipReturn: BUYER, p.ConfirmReturnReceipt: SELLER,
                       p.DisputeReturnReceipt: SELLER}

ACTOR_OF_ROLE = {
    p.Role.CLAIMANT: BUYER,
    p.Role.RESPONDENT: SELLER,
    p.Role.MEDIATOR: MEDIATOR,
    p.Role.ARBITRATOR: ARBITRATOR,
    p.Role.PANELIST: PANEL[1],
    p.Role.INSTITUTION: ADMIN,
    p.Role.COURT: COURT,
    p.Role.JUROR: JURY_POOL[0],
    p.Role.ANYONE: STRANGER,
}


def other_party(case: p.CaseState, actor: str) -> str:
    return SELLER if actor == BUYER else BUYER


def fields_for(case: p.CaseState, cls: type[p.Command], actor: str) -> dict:
    """Valid fields for ``cls`` by ``actor`` in ``case`` (its preconditions must hold)."""
    n = case.next_sequence
    live = [o for o in case.offers if not o.withdrawn]
    match cls:
        case p.FileClaim:
            if actor == SELLER:
                return dict(dispute_type=p.DisputeType.BUYER_REFUSES_TO_PAY,
                            remedy=p.Remedy.RELEASE_PAYMENT, claimed_amount=AMOUNT,
                            statement_hash=h(n + 1))
            return dict(dispute_type=p.DisputeType.NOT_AS_DESCRIBED,
                        remedy=p.Remedy.PARTIAL_REFUND, claimed_amount=AMOUNT // 3,
                        statement_hash=h(n + 1))
        case p.MakeOffer | p.ProposeSettlement:
            return dict(offer_id=f"o{n}", allocation=alloc(AMOUNT // 7 + n))
        case p.AcceptOffer:
            offer = next((o for o in live if actor not in o.accepted_by), None)
            return dict(offer_id=offer.offer_id if offer else "none")
        case p.WithdrawOffer:
            offer = next((o for o in live if o.made_by == actor), None)
            return dict(offer_id=offer.offer_id if offer else "none")
        case p.AppointMediator:
            return dict(mediator=MEDIATOR)
        case p.PublishPreEvaluation:
            return dict(recommended=p.Outcome.PARTIAL_REFUND, report_hash=h(n + 1))
        case p.AppointArbitrator:
            return dict(arbitrator=SPARE if ARBITRATOR in case.former_arbitrators else ARBITRATOR)
        case p.SubmitEvidence:
            return dict(evidence_id=f"e{n}", kind=p.EvidenceKind.PHOTO, commitment=h(n + 1))
        case p.SubmitAnswer:
            return dict(answer_hash=h(n + 1))
        case p.IssueAward:
            return dict(AWARD)
        case p.Object:
            return dict(reasons_hash=h(n + 1))
        case p.AppointPanel:
            return dict(panel=PANEL)
        case p.IssuePanelAward:
            return dict(PANEL_AWARD)
        case p.RecordEnforcement:
            award = case.final_award
            return dict(tx_hash=h(n + 1), allocation=award.allocation if award else alloc(0))
        case p.ConfirmJudicially:
            return dict(package_hash=h(n + 1), court_reference=f"ref-{n}")
        case p.RefuseConfirmation:
            return dict(package_hash=h(n + 1), court_reference=f"ref-{n}",
                        reasons_hash=h(n + 2), reasons="not verifiable")
        case p.CommitJurySeed:
            r = case.jury.round
            pool = pool_for(case)
            return dict(seed_hash="0x" + public_jury.seed_commitment(CASE_ID, r, seed_of(r)).hex(),
                        draw_block=DRAW_BLOCK + r, pool=pool,
                        pool_hash="0x" + public_jury.pool_snapshot_hash(pool).hex())
        case p.DrawJury:
            seed = seed_of(case.jury.round)
            return dict(seed=seed, block_hash=h(0xB10C), prevrandao=h(0x4A4D),
                        jurors=drawn_jurors(case, seed),
                        options=JURY_OPTIONS if case.jury.round == 0 else ())
        case p.MarkForJury:
            mine = [e.evidence_id for e in case.evidence if e.submitted_by == actor
                    and e.stage is not p.Stage.FACILITATION
                    and e.evidence_id not in case.jury.marked]
            return dict(evidence_id=mine[-1] if mine else "none")
        case p.CommitVote:
            commitment = public_jury.vote_commitment(CASE_ID, actor, 1, 2, salt_of(actor))
            # the core stores the juror's JuryVote signature; the edge checks whose it is
            return dict(commitment="0x" + commitment.hex(), signature=VOTE_SIGNATURE)
        case p.RevealVote:
            return dict(choice=1, reason_code=2, salt=salt_of(actor))
        case p.ProposeFastTrack:
            return dict(FAST_PROPOSAL)
        case p.ShipReturn:
            return dict(RETURN_SHIPMENT)
        case p.RecordReturnDelivery:
            return dict(tracking_number=case.return_tracking_number or "none")
        case p.RecordTally:
            j = case.jury
            t = public_jury.tally(len(j.jurors), max(len(j.options), 1),
                                  [(v.choice, v.reason_code or 0) for v in j.votes
                                   if v.choice is not None])
            return dict(counts=t.counts, winner=t.winner)
    return {}


def prepare(case: p.CaseState, cls: type[p.Command], actor: str) -> p.CaseState:
    """Create what ``cls`` needs first (an offer to accept or withdraw), if it is missing."""
    live = [o for o in case.offers if not o.withdrawn]
    if cls is p.AcceptOffer and not any(actor not in o.accepted_by for o in live):
        maker = other_party(case, actor)
        return step(case, p.MakeOffer, maker, case.stage_entered_at or T0,
                    **fields_for(case, p.MakeOffer, maker))
    if cls is p.MarkForJury and fields_for(case, cls, actor)["evidence_id"] == "none" and \
            case.stage in (p.Stage.JURY_DRAW, p.Stage.JURY_ACCEPTANCE):
        return step(case, p.SubmitEvidence, actor, case.stage_entered_at or T0,
                    **fields_for(case, p.SubmitEvidence, actor))
    if cls is p.DrawJury and case.jury.seed_hash is None and case.stage is p.Stage.JURY_DRAW:
        return step(case, p.CommitJurySeed, ADMIN, case.stage_entered_at or T0,
                    **fields_for(case, p.CommitJurySeed, ADMIN))
    if cls is p.WithdrawOffer and not any(o.made_by == actor for o in live):
        make = p.ProposeSettlement if actor == MEDIATOR else p.MakeOffer
        return step(case, make, actor, case.stage_entered_at or T0, **fields_for(case, make, actor))
    return case


def command(case: p.CaseState, cls: type[p.Command], actor: str, **over) -> p.Command:
    return cls(actor=actor, sequence=case.next_sequence, **{**fields_for(case, cls, actor), **over})


def now_of(case: p.CaseState) -> datetime:
    """A time inside the current stage (before its deadline)."""
    return case.stage_entered_at or T0
