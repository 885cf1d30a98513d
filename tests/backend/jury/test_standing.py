"""Jurors' standing (backend/jury/_standing.py): participation and agreement with the final
outcome, from the cases alone; the published rule that takes an assessor out of the draw."""

from __future__ import annotations

from dataclasses import replace

from eth_account import Account

from backend import jury as j
from backend import procedure as p

A = Account.create("assessor").address
OTHERS = [Account.create(f"other {i}").address for i in range(2)]
BUYER, SELLER = Account.create("buyer").address, Account.create("seller").address
FULL = p.Allocation(to_buyer=100, to_seller=0, compensation=0)
NONE = p.Allocation(to_buyer=0, to_seller=100, compensation=0)


def case(n: int, stage: p.Stage, *, choice: int | None, winner: int | None = 0,
         tallied: bool = True, former: bool = False) -> p.CaseState:
    base = p.new_case(case_id="0x" + f"{n:064x}",
                      order=p.Order(order_id=n, buyer=BUYER, seller=SELLER, amount=100,
                                    guarantee=0),
                      institution=frozenset({Account.create("inst").address}),
                      rules=p.DEFAULT_RULES)
    jurors = (*OTHERS, A) if not former else tuple(OTHERS)
    votes = tuple(p.JuryVote(juror=x, commitment="0x" + "11" * 32,
                             choice=0 if x != A else choice, reason_code=1)
                  for x in jurors if x != A or choice is not None)
    jury = p.Jury(jurors=jurors, accepted=frozenset(jurors), options=(FULL, NONE),
                  votes=votes, tallied=tallied, winner=winner if tallied else None,
                  counts=(2, 1) if tallied else (), former_jurors=(A,) if former else ())
    return replace(base, stage=stage, jury=jury, claimant=BUYER, respondent=SELLER)


def test_a_new_assessor_has_no_figures_and_is_eligible() -> None:
    s = j.standing(j.seats_of(A, []))
    assert (s.drawn, s.participation, s.agreement, s.eligible) == (0, None, None, True)


def test_agreement_counts_only_final_outcomes() -> None:
    cases = [case(1, p.Stage.JURY_FINAL, choice=0),  # agreed with the verdict that stood
             case(2, p.Stage.JURY_FINAL, choice=1),  # dissented
             case(3, p.Stage.JURY_DECIDED, choice=0),  # objection window: not final yet
             case(4, p.Stage.JURY_VOTING, choice=None, tallied=False)]  # still voting
    s = j.standing(j.seats_of(A, cases))
    assert (s.drawn, s.finished, s.revealed, s.decided, s.agreed) == (4, 3, 3, 2, 1)
    assert (s.participation, s.agreement, s.eligible) == (100, 50, True)


def test_an_arbitrators_award_after_an_objection_is_the_outcome() -> None:
    c = replace(case(5, p.Stage.FINAL, choice=0),
                award=p.AwardTerms(allocation=NONE, award_hash="0x" + "aa" * 32))
    (seat,) = j.seats_of(A, [c])
    assert seat.agreed is False  # the juror chose the full refund; the award released


def test_missing_votes_take_an_assessor_out_of_the_draw() -> None:
    cases = [case(i, p.Stage.JURY_FINAL, choice=None) for i in range(1, 3)]
    cases.append(case(3, p.Stage.JURY_FINAL, choice=None, former=True))  # never accepted
    s = j.standing(j.seats_of(A, cases))
    assert (s.finished, s.revealed, s.participation, s.eligible) == (3, 0, 0, False)
    assert "voted in 0% of 3 finished seats" in s.reasons[0]
    # below the rule's minimum of seats, nobody is judged yet
    assert j.standing(j.seats_of(A, cases[:2])).eligible


def test_rarely_agreeing_takes_an_assessor_out_after_enough_decided_votes() -> None:
    cases = [case(i, p.Stage.JURY_FINAL, choice=1) for i in range(1, 6)]
    s = j.standing(j.seats_of(A, cases))
    assert (s.decided, s.agreed, s.agreement, s.eligible) == (5, 0, 0, False)
    rule = j.StandingRule(min_agreement=0)
    assert j.standing(j.seats_of(A, cases), rule).eligible
    assert rule.hash() != j.DEFAULT_STANDING_RULE.hash()
