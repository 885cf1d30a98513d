"""The jury track in the core: the draw, acceptance and replacement, hidden votes, the tally,
and the objection that sends the case to a sole arbitrator (docs/jury.md).

The attacks of issue 14 are tests here: a juror cannot vote twice, vote after the deadline,
reveal a different choice, or vote in a case they were not drawn for; a wrong seed reveal
and a draw that is not the recomputed one are refused.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from backend import procedure as p
from evidence import jury as public_jury
from tests.backend.procedure.procedure_helpers import (
    ADMIN,
    AMOUNT,
    ARBITRATOR,
    BUYER,
    CASE_ID,
    DAY,
    JURY_OPTIONS,
    JURY_POOL,
    JURY_RULES,
    MEDIATOR,
    SELLER,
    SPARE,
    STRANGER,
    VOTE_SIGNATURE,
    alloc,
    blank,
    deadline_of,
    drawn_jurors,
    entered_at,
    fields_for,
    h,
    salt_of,
    seed_of,
    step,
    to_facilitation,
    to_jury_acceptance,
    to_jury_decided,
    to_jury_draw,
    to_jury_final,
    to_jury_reveal,
    to_jury_tally,
    to_jury_voting,
    to_negotiation,
)

S = p.Stage


def _refused(case: p.CaseState, cls: type[p.Command], actor: str, error, now=None, **fields):
    now = now or case.stage_entered_at
    cmd = cls(actor=actor, sequence=case.next_sequence,
              **{**fields_for(case, cls, actor), **fields})
    with pytest.raises(error) as info:
        p.apply(case, cmd, now)
    return info.value


def _commit(case: p.CaseState, juror: str, choice: int, reason: int = 2) -> p.CaseState:
    c = public_jury.vote_commitment(CASE_ID, juror, choice, reason, salt_of(juror))
    return step(case, p.CommitVote, juror, entered_at(case), commitment="0x" + c.hex(),
                signature=VOTE_SIGNATURE)


# -- choosing the track ---------------------------------------------------------------------


def test_both_parties_choose_the_jury_track_below_the_limit() -> None:
    case = to_negotiation(rules=JURY_RULES)
    case = step(case, p.ChooseJuryTrack, BUYER)
    assert not case.jury_track  # one party is not enough
    case = step(case, p.ChooseJuryTrack, SELLER)
    assert case.jury_track
    case = step(case, p.RequestFacilitation, BUYER)
    case = step(case, p.AppointMediator, ADMIN, mediator=MEDIATOR)
    assert step(case, p.DeclareImpasse, MEDIATOR).stage is S.JURY_DRAW


def test_above_the_limit_the_jury_track_is_refused() -> None:
    rules = replace(JURY_RULES, jury_max_amount=AMOUNT - 1)
    err = _refused(to_negotiation(rules=rules), p.ChooseJuryTrack, BUYER, p.InvalidCommand)
    assert "at most" in str(err)
    # the order's clause does not apply above the limit either: arbitration as agreed
    case = to_facilitation(rules=rules, jury=True)
    assert not case.jury_track
    assert step(case, p.DeclareImpasse, MEDIATOR).stage is S.ARBITRATOR_APPOINTMENT


def test_the_order_clause_chooses_the_track_and_facilitation_deadline_leads_to_the_draw() -> None:
    case = to_facilitation(agreed=False, jury=True)
    assert case.jury_track
    case, _ = p.advance(case, deadline_of(case))
    assert case.stage is S.JURY_DRAW
    assert deadline_of(case) == entered_at(case) + 3 * DAY
    _refused(case, p.ChooseJuryTrack, BUYER, p.WrongStage)


# -- the draw ---------------------------------------------------------------------------------


def test_the_draw_is_the_recomputed_one() -> None:
    case = to_jury_acceptance()
    j = case.jury
    assert j.pool_hash is not None
    randomness = public_jury.draw_randomness(CASE_ID, 0, seed_of(0), h(0xB10C), h(0x4A4D),
                                             j.pool_hash)
    assert j.jurors == public_jury.draw(j.pool, 3, randomness)
    assert j.options == JURY_OPTIONS and j.seeds == ((0, seed_of(0), h(0xB10C), h(0x4A4D)),)
    assert case.roles_of(j.jurors[0]) >= {p.Role.JUROR}


def test_a_wrong_seed_reveal_is_refused() -> None:
    case = to_jury_draw()
    case = step(case, p.CommitJurySeed, ADMIN, **fields_for(case, p.CommitJurySeed, ADMIN))
    err = _refused(case, p.DrawJury, ADMIN, p.WrongReveal, seed=h(0xBAD))
    assert err.code == "wrong_reveal"


def test_a_draw_naming_other_jurors_is_refused() -> None:
    """The institution cannot pick the jury: the core recomputes it from the public data."""
    rules = replace(JURY_RULES, jury_size=3)
    case = to_jury_draw(rules=rules)
    pool = JURY_POOL[:6]
    case = step(case, p.CommitJurySeed, ADMIN, seed_hash="0x" + public_jury.seed_commitment(
        CASE_ID, 0, seed_of(0)).hex(), draw_block=5, pool=pool,
        pool_hash="0x" + public_jury.pool_snapshot_hash(pool).hex())
    right = drawn_jurors(case, seed_of(0))
    wrong = tuple(a for a in pool if a not in right)[:3]
    err = _refused(case, p.DrawJury, ADMIN, p.InvalidCommand, jurors=wrong)
    assert "selects" in str(err)
    # and the same public data always gives the same jury
    assert step(case, p.DrawJury, ADMIN, **fields_for(case, p.DrawJury, ADMIN)).jury.jurors \
        == right


def test_draw_before_the_seed_is_committed_is_refused() -> None:
    err = _refused(to_jury_draw(), p.DrawJury, ADMIN, p.InvalidCommand)
    assert "commit the seed" in str(err)


def test_the_seed_is_committed_once_per_round() -> None:
    case = to_jury_draw()
    case = step(case, p.CommitJurySeed, ADMIN, **fields_for(case, p.CommitJurySeed, ADMIN))
    _refused(case, p.CommitJurySeed, ADMIN, p.DuplicateAction)


@pytest.mark.parametrize("who", [BUYER, SELLER, ADMIN, MEDIATOR])
def test_the_pool_excludes_parties_admins_and_neutrals(who: str) -> None:
    case = to_jury_draw()
    pool = (*JURY_POOL[:3], who)
    err = _refused(case, p.CommitJurySeed, ADMIN, p.ConflictOfInterest, pool=pool,
                   pool_hash="0x" + public_jury.pool_snapshot_hash(pool).hex())
    assert who in str(err)


def test_the_pool_hash_must_be_the_snapshot_hash() -> None:
    err = _refused(to_jury_draw(), p.CommitJurySeed, ADMIN, p.InvalidCommand,
                   pool_hash=h(0x1234))
    assert "hashes to" in str(err)


def test_first_draw_fixes_distinct_valid_options() -> None:
    case = to_jury_draw()
    case = step(case, p.CommitJurySeed, ADMIN, **fields_for(case, p.CommitJurySeed, ADMIN))
    _refused(case, p.DrawJury, ADMIN, p.InvalidCommand, options=())
    _refused(case, p.DrawJury, ADMIN, p.InvalidCommand, options=(alloc(0), alloc(0)))
    bad = p.Allocation(to_buyer=1, to_seller=1, compensation=0)
    _refused(case, p.DrawJury, ADMIN, p.InvalidAllocation, options=(bad,))


def test_jurors_who_do_not_accept_are_replaced_by_the_same_procedure() -> None:
    case = to_jury_acceptance()
    first = case.jury.jurors
    case = step(case, p.AcceptJuryDuty, first[0])
    _refused(case, p.AcceptJuryDuty, first[0], p.DuplicateAction)
    case, _ = p.advance(case, deadline_of(case))
    assert case.stage is S.JURY_DRAW and case.jury.round == 1
    assert case.jury.jurors == (first[0],) and case.jury.former_jurors == first[1:]
    assert p.Role.JUROR not in case.roles_of(first[1])
    # a replaced juror may not be in the next snapshot
    pool = (*JURY_POOL[3:5], first[1])
    _refused(case, p.CommitJurySeed, ADMIN, p.ConflictOfInterest, pool=pool,
             pool_hash="0x" + public_jury.pool_snapshot_hash(pool).hex())
    case = step(case, p.CommitJurySeed, ADMIN, entered_at(case),
                **fields_for(case, p.CommitJurySeed, ADMIN))
    # round 1's seed commitment differs from round 0's: a reused seed reveal fails
    assert case.jury.seed_hash != "0x" + public_jury.seed_commitment(CASE_ID, 0, seed_of(0)).hex()
    case = step(case, p.DrawJury, ADMIN, entered_at(case),
                **fields_for(case, p.DrawJury, ADMIN))
    assert case.stage is S.JURY_ACCEPTANCE and len(case.jury.jurors) == 3
    assert case.jury.options == JURY_OPTIONS  # fixed at the first draw
    assert not set(case.jury.jurors[1:]) & set(first)


def test_replacement_is_bounded_then_the_sole_arbitrator_decides() -> None:
    case = to_jury_acceptance(rules=replace(JURY_RULES, max_jury_redraws=0))
    case, _ = p.advance(case, deadline_of(case))
    assert case.stage is S.ARBITRATOR_APPOINTMENT


def test_no_draw_in_time_goes_to_the_sole_arbitrator() -> None:
    case = to_jury_draw()
    case, _ = p.advance(case, deadline_of(case))
    assert case.stage is S.ARBITRATOR_APPOINTMENT


# -- hidden votes --------------------------------------------------------------------------------


def test_all_accepted_opens_the_vote() -> None:
    case = to_jury_voting()
    assert case.stage is S.JURY_VOTING and case.jury.accepted == set(case.jury.jurors)


def test_a_juror_cannot_vote_twice() -> None:
    case = to_jury_voting()
    juror = case.jury.jurors[0]
    case = _commit(case, juror, 1)
    err = _refused(case, p.CommitVote, juror, p.DuplicateAction)
    assert "already committed" in str(err)


def test_a_juror_cannot_vote_after_the_deadline() -> None:
    case = to_jury_voting()
    late = deadline_of(case)
    _refused(case, p.CommitVote, case.jury.jurors[0], p.DeadlinePassed, now=late)
    case, _ = p.advance(case, late)
    assert case.stage is S.JURY_REVEAL
    _refused(case, p.CommitVote, case.jury.jurors[0], p.WrongStage, now=late)


def test_a_vote_in_a_case_not_drawn_for_is_refused() -> None:
    case = to_jury_voting()
    outsider = next(a for a in JURY_POOL if a not in case.jury.jurors)
    err = _refused(case, p.CommitVote, outsider, p.WrongActor)
    assert "juror" in str(err)
    # a juror of another case is nobody here: the case id is in every commitment too
    other = public_jury.vote_commitment(h(0xD1FF), case.jury.jurors[0], 1, 2,
                                        salt_of(case.jury.jurors[0]))
    case = step(case, p.CommitVote, case.jury.jurors[0], entered_at(case),
                commitment="0x" + other.hex(), signature=VOTE_SIGNATURE)
    case, _ = p.advance(case, deadline_of(case))
    _refused(case, p.RevealVote, case.jury.jurors[0], p.WrongReveal)


def test_a_juror_cannot_reveal_a_different_choice() -> None:
    case = to_jury_reveal()
    juror = case.jury.jurors[0]
    err = _refused(case, p.RevealVote, juror, p.WrongReveal, choice=0)
    assert err.code == "wrong_reveal"
    _refused(case, p.RevealVote, juror, p.WrongReveal, reason_code=3)
    _refused(case, p.RevealVote, juror, p.WrongReveal, salt=h(0x5A17))
    case = step(case, p.RevealVote, juror, entered_at(case),
                **fields_for(case, p.RevealVote, juror))
    _refused(case, p.RevealVote, juror, p.DuplicateAction)


def test_reveals_before_the_vote_deadline_are_refused() -> None:
    case = to_jury_voting()
    juror = case.jury.jurors[0]
    case = _commit(case, juror, 1)
    _refused(case, p.RevealVote, juror, p.WrongStage)


def test_unrevealed_votes_count_as_absent_and_no_majority_goes_to_the_arbitrator() -> None:
    case = to_jury_voting()
    a, b, c = case.jury.jurors
    case = _commit(case, a, 1)
    case = _commit(case, b, 0)
    case, _ = p.advance(case, deadline_of(case))  # c never voted
    case = step(case, p.RevealVote, a, entered_at(case), choice=1, reason_code=2,
                salt=salt_of(a))
    _refused(case, p.RevealVote, c, p.InvalidCommand)  # nothing to reveal
    case, _ = p.advance(case, deadline_of(case))  # b never revealed
    assert case.stage is S.JURY_TALLY
    # one vote of three revealed: no quorum, so the signed tally has no winner
    _refused(case, p.RecordTally, ADMIN, p.InvalidCommand, counts=(0, 1, 0), winner=1)
    case = step(case, p.RecordTally, ADMIN, entered_at(case), counts=(0, 1, 0),
                winner=None)
    assert case.stage is S.ARBITRATOR_APPOINTMENT and case.jury.tallied
    assert case.jury_verdict is None


def test_the_majority_decides_among_the_fixed_options() -> None:
    case = to_jury_voting()
    a, b, c = case.jury.jurors
    case = _commit(case, a, 2, reason=4)
    case = _commit(case, b, 2, reason=4)
    assert case.stage is S.JURY_VOTING  # one juror has not voted: the vote stays open
    case = _commit(case, c, 0, reason=1)
    assert case.stage is S.JURY_REVEAL  # every juror committed: the reveals open at once
    for juror, choice, reason in ((a, 2, 4), (b, 2, 4), (c, 0, 1)):
        case = step(case, p.RevealVote, juror, entered_at(case), choice=choice,
                    reason_code=reason, salt=salt_of(juror))
    assert case.stage is S.JURY_TALLY  # all revealed: no need to wait
    err = _refused(case, p.RecordTally, ADMIN, p.InvalidCommand, counts=(1, 0, 2), winner=0)
    assert "winner 2" in str(err)
    case = step(case, p.RecordTally, ADMIN, entered_at(case), counts=(1, 0, 2), winner=2)
    assert case.stage is S.JURY_DECIDED
    assert case.jury_verdict == JURY_OPTIONS[2]
    assert case.final_award is not None
    assert case.final_award.allocation == JURY_OPTIONS[2]
    assert case.final_award.award_hash == "0x" + public_jury.tally_hash(
        CASE_ID, (1, 0, 2), 2).hex()


def test_an_unsigned_tally_applies_by_default() -> None:
    case = to_jury_tally()
    case, effects = p.advance(case, deadline_of(case))
    assert case.stage is S.JURY_DECIDED and case.jury.counts == (0, 3, 0)
    assert any(isinstance(e, p.AnchorStep) and e.step == "deadline_missed.jury_tally"
               for e in effects)


def test_a_choice_outside_the_options_is_refused() -> None:
    case = to_jury_voting()
    juror = case.jury.jurors[0]
    c = public_jury.vote_commitment(CASE_ID, juror, 3, 2, salt_of(juror))
    case = step(case, p.CommitVote, juror, entered_at(case), commitment="0x" + c.hex(),
                signature=VOTE_SIGNATURE)
    case, _ = p.advance(case, deadline_of(case))
    err = _refused(case, p.RevealVote, juror, p.InvalidCommand, choice=3)
    assert "option" in str(err)


# -- after the verdict ---------------------------------------------------------------------------


def test_no_objection_makes_the_verdict_final_and_enforcement_checks_it() -> None:
    case = to_jury_final()
    assert case.stage is S.JURY_FINAL and p.next_deadline(case) is None
    _refused(case, p.RecordEnforcement, ADMIN, p.InvalidAllocation, allocation=alloc(0))
    case = step(case, p.RecordEnforcement, ADMIN, entered_at(case),
                **fields_for(case, p.RecordEnforcement, ADMIN))
    assert case.stage is S.ENFORCED


def test_an_objection_goes_to_a_sole_arbitrator_who_sees_the_tally() -> None:
    case = to_jury_decided()
    jurors = case.jury.jurors
    case = step(case, p.Object, SELLER, entered_at(case), reasons_hash=h(0x0B))
    assert case.stage is S.ARBITRATOR_APPOINTMENT
    assert case.jury.tallied and case.jury.counts == (0, 3, 0)  # in the arbitrator's record
    _refused(case, p.AppointArbitrator, ADMIN, p.ConflictOfInterest, arbitrator=jurors[0])
    case = step(case, p.AppointArbitrator, ADMIN, entered_at(case), arbitrator=ARBITRATOR)
    case = step(case, p.CloseRecord, ARBITRATOR, entered_at(case))
    case = step(case, p.IssueAward, ARBITRATOR, entered_at(case),
                allocation=alloc(AMOUNT // 3), award_hash=h(0xA))
    assert case.final_award is not None
    assert case.final_award.allocation == alloc(AMOUNT // 3)  # the arbitrator's, not the jury's
    # the one objection is spent
    _refused(case, p.Object, BUYER, p.DuplicateAction, reasons_hash=h(0x0C))


def test_jurors_are_not_told_of_the_parties_steps() -> None:
    case = to_jury_voting()
    jurors = set(case.jury.jurors)
    _, effects = p.apply(case, p.CommitVote(actor=case.jury.jurors[0],
                                            sequence=case.next_sequence, commitment=h(1),
                                            signature=VOTE_SIGNATURE),
                         entered_at(case))
    for e in effects:
        if isinstance(e, p.NotifyParties):
            assert not jurors & set(e.recipients) or e.kind == "jury_drawn"


def test_the_jury_serialises_and_round_trips() -> None:
    case = to_jury_decided()
    assert p.case_from_dict(p.case_to_dict(case)) == case


def test_rules_refuse_even_or_out_of_range_jury_sizes() -> None:
    for size in (2, 4, 1, 33):
        with pytest.raises(p.InvalidCommand, match="jury_size"):
            p.CaseRules(jury_size=size)
    with pytest.raises(p.InvalidCommand, match="jury_max_amount"):
        p.CaseRules(jury_max_amount=-1)


def test_strangers_and_spare_neutrals_hold_no_juror_role() -> None:
    case = to_jury_voting()
    for who in (STRANGER, SPARE, BUYER):
        assert p.Role.JUROR not in case.roles_of(who)
    assert blank().jury == p.Jury()


def test_parties_put_their_own_non_caucus_items_before_the_jury() -> None:
    case = to_negotiation(jury=True)
    case = step(case, p.SubmitEvidence, BUYER, evidence_id="open1", kind=p.EvidenceKind.PHOTO,
                commitment=h(0xE1))
    case = step(case, p.RequestFacilitation, BUYER)
    case = step(case, p.AppointMediator, ADMIN, mediator=MEDIATOR)
    case = step(case, p.SubmitEvidence, BUYER, evidence_id="caucus1",
                kind=p.EvidenceKind.PHOTO, commitment=h(0xE2))
    case = step(case, p.DeclareImpasse, MEDIATOR)
    assert case.stage is S.JURY_DRAW
    err = _refused(case, p.MarkForJury, BUYER, p.InvalidCommand, evidence_id="caucus1")
    assert "caucus" in str(err)
    _refused(case, p.MarkForJury, SELLER, p.InvalidCommand, evidence_id="open1")
    case = step(case, p.MarkForJury, BUYER, entered_at(case), evidence_id="open1")
    _refused(case, p.MarkForJury, BUYER, p.DuplicateAction, evidence_id="open1")
    case = step(case, p.SubmitEvidence, SELLER, entered_at(case), evidence_id="s1",
                kind=p.EvidenceKind.TRACKING_RECORD, commitment=h(0xE3))
    case = step(case, p.MarkForJury, SELLER, entered_at(case), evidence_id="s1")
    assert case.jury.marked == ("open1", "s1")
    # the respondent answers once before the vote
    case = step(case, p.SubmitAnswer, SELLER, entered_at(case), answer_hash=h(0xA5))
    _refused(case, p.SubmitAnswer, SELLER, p.DuplicateAction, answer_hash=h(0xA6))
    _refused(case, p.SubmitAnswer, BUYER, p.WrongActor, answer_hash=h(0xA6))


def test_no_marking_once_the_vote_is_open() -> None:
    case = to_jury_voting()
    _refused(case, p.MarkForJury, BUYER, p.WrongStage, evidence_id="x")
