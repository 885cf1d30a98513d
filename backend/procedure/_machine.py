"""The procedure's transitions: ALL of them live in this file, as data.

Rule 1 (h11 ``_state.py``): everything that decides which stage a case goes to lives here,
in two tables — ``COMMAND_TRANSITIONS[role][stage][command type]`` for signed commands and
``DEADLINE_TRANSITIONS[stage]`` for missed deadlines (default proceedings).

Rule 2: the tables do not know who "we" are. Claimant and respondent are two keys of the
same table; the respondent differs only where the rules say so (its first engagement moves
a filed case into negotiation; it alone answers).

Theory of operation:
* ``admit(case, actor, command type, now, sequence=)`` is the one answer to "may this
  actor issue this command now": it checks, in this fixed order, that the case is not
  closed, the actor holds a role that may ever issue the command, the sequence is the
  case's next one, the current stage admits the command for one of the actor's roles and
  the stage's deadline has not passed. ``apply``, ``allowed_commands`` and the edge (its
  ``steps/prepare`` and its step path, before it reads a record's content) all ask it.
  ``apply(case, command, now)`` then checks the command's content (handlers below).
* ``next_sequence`` is the position of the case's next record in its signed step chain,
  the one replay counter: a command carries the position its record claims, ``apply``
  moves it on by one, and so does every missed deadline ``advance`` fires (the edge
  records each default as an institution-signed step of the chain). Any failure raises a
  ``ProcedureError`` and nothing changes; success returns a new case whose
  ``next_sequence`` is one higher, plus the effects for the edge.
* A table entry is a ``Stage`` or a ``Choice`` between two stages decided by a named guard
  (``GUARDS``) on the case *after* the command's own changes.
* ``advance(case, now)`` fires ``DEADLINE_TRANSITIONS`` repeatedly until nothing changes.
  A stage entered by default starts at the missed deadline, not at ``now``: the result
  depends only on (case, now), however late the scheduler runs, and
  ``advance(advance(c, t1), t2) == advance(c, t2)`` for t1 <= t2.
* ``apply`` never fires deadlines itself; a command that arrives after its stage's
  deadline is refused with ``DeadlinePassed`` until the scheduler has advanced the case.

The fast track (docs/jury.md "Fast track") is two more stages: the mediator proposes the
pre-evaluation of a small claim (``ProposeFastTrack``), which binds when its short window
passes with no objection (``fast_track_final``, executed on the escrow) or goes to the jury
or a sole arbitrator on a party's objection.

The jury track (docs/jury.md) is more rows of the same tables: a small claim whose parties
chose it (or whose order carries the clause) goes from facilitation to ``JURY_DRAW``
instead of arbitration; the draw and every vote are recomputed here from the public
arithmetic of ``evidence.jury`` (the court's verifier runs the same functions).

WARNING: scripts/procedure_diagram.py draws docs/procedure-diagram.md from these tables;
rerun it after any change (a test checks the committed diagram is current).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from typing import Any

import evidence.jury as public_jury
from evidence.errors import EvidenceError

from . import _commands as c
from ._effects import (
    AnchorStep,
    AppointJuryOnChain,
    AppointmentRequested,
    AppointOnChain,
    ConfirmReturnOnEscrow,
    DeadlineSet,
    Effect,
    ExecuteAwardOnEscrow,
    ExecuteFastTrackOnEscrow,
    ExecuteSettlement,
    FastTrackObjectedOnChain,
    FreezeEscrow,
    NotifyParties,
    ObjectOnChain,
    ResolveEscrowByTimeout,
    ReturnDisputedOnChain,
    ReturnShippedOnChain,
    StageChanged,
    SubmitAwardToEscrow,
    SubmitFastTrackToEscrow,
    SubmitVerdictToEscrow,
)
from ._errors import (
    CaseClosed,
    ConflictOfInterest,
    DeadlinePassed,
    DuplicateAction,
    InvalidAllocation,
    InvalidClock,
    InvalidCommand,
    NotAReturnAward,
    ProcedureError,
    StaleSequence,
    UnknownOffer,
    WrongActor,
    WrongReveal,
    WrongStage,
)
from ._rules import CAUCUS_STAGES, DEFAULT_RULES, CaseRules, can_see
from ._states import (
    RETURN_STAGES,
    TERMINAL_STAGES,
    Allocation,
    AwardTerms,
    CaseState,
    CourtDecision,
    DisputeType,
    EvidenceItem,
    FastTrack,
    JuryVote,
    Offer,
    Order,
    Outcome,
    Relationship,
    Remedy,
    Role,
    Side,
    Stage,
    check_address,
    check_hash,
)

__all__ = [
    "COMMAND_TRANSITIONS",
    "DEADLINE_TRANSITIONS",
    "GUARDS",
    "ROLE_ORDER",
    "STAGE_CLOCKS",
    "Choice",
    "admit",
    "advance",
    "allowed_commands",
    "apply",
    "new_case",
    "next_deadline",
    "outcomes",
]

S = Stage


@dataclass(frozen=True)
class Choice:
    """Go to ``if_true`` when ``GUARDS[guard](case)`` holds, else to ``if_false`` (which may
    itself be a Choice: the jury track is tried before arbitration)."""

    guard: str
    if_true: Stage
    if_false: Stage | Choice


Target = Stage | Choice


def outcomes(target: Target) -> frozenset[Stage]:
    """Every stage a table entry may lead to (all branches of a Choice)."""
    if isinstance(target, Choice):
        return frozenset({target.if_true}) | outcomes(target.if_false)
    return frozenset({target})

GUARDS: Mapping[str, Callable[[CaseState], bool]] = {
    "settled": lambda case: case.settlement is not None,
    "return_settled": lambda case: case.return_settlement is not None,
    "arbitration_agreed": lambda case: case.arbitration_agreed,
    "record_closed": lambda case: case.record_closed_at is not None,
    "may_reappoint": lambda case: case.reappointments <= case.rules.max_reappointments,
    "panel_decided": lambda case: case.panel_award is not None,
    "jury_track": lambda case: case.jury_track,
    "jury_complete": lambda case: bool(case.jury.jurors)
    and set(case.jury.jurors) <= case.jury.accepted,
    "may_redraw": lambda case: case.jury.round <= case.rules.max_jury_redraws,
    "all_committed": lambda case: len(case.jury.votes) == len(case.jury.jurors),
    "all_revealed": lambda case: all(v.choice is not None for v in case.jury.votes)
    and len(case.jury.votes) == len(case.jury.jurors),
    "jury_majority": lambda case: case.jury_verdict is not None,
    "return_award": lambda case: case.final_award is not None
    and case.final_award.no_return is not None,
}


def _settle_or(stay: Stage) -> Choice:
    """A completed offer settles; one that says "return and refund" starts the return stage."""
    return Choice("return_settled", S.RETURN_PENDING, Choice("settled", S.SETTLED, stay))


_TO_ARBITRATION_OR_COURT = Choice("arbitration_agreed", S.ARBITRATOR_APPOINTMENT,
                                  S.CLOSED_FOR_LITIGATION)
# After facilitation: the jury track when it applies, else arbitration or the courts.
_TO_JURY_ARBITRATION_OR_COURT = Choice("jury_track", S.JURY_DRAW, _TO_ARBITRATION_OR_COURT)
# An objection to the fast track's proposal: the jury when its track applies, else the sole
# arbitrator (the fast track is open only under a binding agreement: CaseState.fast_track_open).
_JURY_OR_ARBITRATOR = Choice("jury_track", S.JURY_DRAW, S.ARBITRATOR_APPOINTMENT)
# The jury track's fallback is the sole arbitrator (agreed with the track: docs/jury.md).
_VERDICT_OR_ARBITRATOR = Choice("jury_majority", S.JURY_DECIDED, S.ARBITRATOR_APPOINTMENT)


def _party_stages(*, respondent: bool) -> dict[Stage, dict[type[c.Command], Target]]:
    """The one rule set of both parties; ``respondent`` adds only its own entries."""
    table: dict[Stage, dict[type[c.Command], Target]] = {
        S.NEGOTIATION: {
            c.MakeOffer: S.NEGOTIATION,
            c.AcceptOffer: _settle_or(S.NEGOTIATION),
            c.WithdrawOffer: S.NEGOTIATION,
            c.SubmitEvidence: S.NEGOTIATION,
            c.AgreeToArbitrate: S.NEGOTIATION,
            c.ChooseJuryTrack: S.NEGOTIATION,
            c.RequestFacilitation: S.FACILITATION,
        },
        S.FACILITATION: {
            c.MakeOffer: S.FACILITATION,
            c.AcceptOffer: _settle_or(S.FACILITATION),
            c.WithdrawOffer: S.FACILITATION,
            c.SubmitEvidence: S.FACILITATION,
            c.AgreeToArbitrate: S.FACILITATION,
            c.ChooseJuryTrack: S.FACILITATION,
        },
        S.ARBITRATOR_APPOINTMENT: {
            c.MakeOffer: S.ARBITRATOR_APPOINTMENT,
            c.AcceptOffer: _settle_or(S.ARBITRATOR_APPOINTMENT),
            c.WithdrawOffer: S.ARBITRATOR_APPOINTMENT,
            c.SubmitEvidence: S.ARBITRATOR_APPOINTMENT,
        },
        S.EVIDENCE: {
            c.MakeOffer: S.EVIDENCE,
            c.AcceptOffer: _settle_or(S.EVIDENCE),
            c.WithdrawOffer: S.EVIDENCE,
            c.SubmitEvidence: S.EVIDENCE,
        },
        S.RECORD_CLOSED: {
            c.MakeOffer: S.RECORD_CLOSED,
            c.AcceptOffer: _settle_or(S.RECORD_CLOSED),
            c.WithdrawOffer: S.RECORD_CLOSED,
        },
        S.AWARDED: {c.Object: S.PANEL_APPOINTMENT},
        # An objection to the jury's verdict sends the case to a sole arbitrator, who sees
        # the tally (the party's one objection: none lies against that arbitrator's award).
        S.JURY_DECIDED: {c.Object: S.ARBITRATOR_APPOINTMENT},
        # the jury's record: until the vote opens, parties add evidence and mark their own
        # items for the jury; the respondent answers (below)
        S.JURY_DRAW: {c.SubmitEvidence: S.JURY_DRAW, c.MarkForJury: S.JURY_DRAW},
        S.JURY_ACCEPTANCE: {c.SubmitEvidence: S.JURY_ACCEPTANCE,
                            c.MarkForJury: S.JURY_ACCEPTANCE},
        # the fast track's proposal binds unless a party objects within its short window
        S.FAST_TRACK_PROPOSED: {c.ObjectToFastTrack: _JURY_OR_ARBITRATOR},
        # the return stage: the buyer ships back, the seller confirms or disputes the
        # receipt (whichever party claimed; the handlers check the side of the order)
        S.RETURN_PENDING: {c.ShipReturn: S.RETURN_SHIPPED},
        S.RETURN_SHIPPED: {c.ConfirmReturnReceipt: S.ENFORCED,
                           c.DisputeReturnReceipt: S.ARBITRATOR_APPOINTMENT},
    }
    if respondent:
        # The respondent's first engagement ends the wait for its response.
        table[S.FILED] = {
            c.MakeOffer: S.NEGOTIATION,
            c.AcceptOffer: _settle_or(S.NEGOTIATION),
            c.SubmitEvidence: S.NEGOTIATION,
            c.AgreeToArbitrate: S.NEGOTIATION,
            c.ChooseJuryTrack: S.NEGOTIATION,
            c.RequestFacilitation: S.FACILITATION,
        }
        table[S.EVIDENCE] = {**table[S.EVIDENCE], c.SubmitAnswer: S.EVIDENCE}
        for stage in (S.JURY_DRAW, S.JURY_ACCEPTANCE):
            table[stage] = {**table[stage], c.SubmitAnswer: stage}
    else:
        table[S.NOT_FILED] = {c.FileClaim: S.FILED}
        table[S.FILED] = {
            c.MakeOffer: S.FILED,
            c.WithdrawOffer: S.FILED,
            c.SubmitEvidence: S.FILED,
            c.AgreeToArbitrate: S.FILED,
            c.ChooseJuryTrack: S.FILED,
            c.RequestFacilitation: S.FACILITATION,
        }
    return table


COMMAND_TRANSITIONS: Mapping[Role, Mapping[Stage, Mapping[type[c.Command], Target]]] = {
    Role.CLAIMANT: _party_stages(respondent=False),
    Role.RESPONDENT: _party_stages(respondent=True),
    Role.MEDIATOR: {
        S.FACILITATION: {
            c.PublishPreEvaluation: S.FACILITATION,
            c.ProposeSettlement: S.FACILITATION,
            c.WithdrawOffer: S.FACILITATION,
            c.DeclareImpasse: _TO_JURY_ARBITRATION_OR_COURT,
            c.ProposeFastTrack: S.FAST_TRACK_PROPOSED,
        },
    },
    Role.INSTITUTION: {
        S.FACILITATION: {c.AppointMediator: S.FACILITATION},
        S.ARBITRATOR_APPOINTMENT: {
            c.AppointArbitrator: Choice("record_closed", S.RECORD_CLOSED, S.EVIDENCE),
        },
        S.PANEL_APPOINTMENT: {c.AppointPanel: S.PANEL},
        # a return award's execution starts the return stage (the escrow's ReturnRequested)
        S.FINAL: {c.RecordEnforcement: Choice("return_award", S.RETURN_PENDING, S.ENFORCED)},
        # the carrier's origin-verified delivered event of the return shipment
        S.RETURN_SHIPPED: {c.RecordReturnDelivery: S.ENFORCED},
        S.AWARDED_BY_PANEL: {c.RecordEnforcement: S.ENFORCED},
        S.JURY_DRAW: {
            c.CommitJurySeed: S.JURY_DRAW,
            c.DrawJury: S.JURY_ACCEPTANCE,
        },
        S.JURY_TALLY: {c.RecordTally: _VERDICT_OR_ARBITRATOR},
        S.JURY_FINAL: {c.RecordEnforcement: S.ENFORCED},
        S.FAST_TRACK_FINAL: {c.RecordEnforcement: S.ENFORCED},
    },
    Role.JUROR: {
        S.JURY_ACCEPTANCE: {
            c.AcceptJuryDuty: Choice("jury_complete", S.JURY_VOTING, S.JURY_ACCEPTANCE),
        },
        # every juror committed: nobody is left to vote, the reveals open at once
        S.JURY_VOTING: {c.CommitVote: Choice("all_committed", S.JURY_REVEAL, S.JURY_VOTING)},
        S.JURY_REVEAL: {c.RevealVote: Choice("all_revealed", S.JURY_TALLY, S.JURY_REVEAL)},
    },
    Role.ARBITRATOR: {
        S.EVIDENCE: {c.CloseRecord: S.RECORD_CLOSED},
        S.RECORD_CLOSED: {c.IssueAward: S.AWARDED},
    },
    Role.PANELIST: {
        S.PANEL: {c.IssuePanelAward: Choice("panel_decided", S.AWARDED_BY_PANEL, S.PANEL)},
    },
    Role.ANYONE: {
        S.FINAL: {c.Enforce: S.FINAL},
        S.AWARDED_BY_PANEL: {c.Enforce: S.AWARDED_BY_PANEL},
        S.JURY_FINAL: {c.Enforce: S.JURY_FINAL},
    },
    Role.COURT: {
        S.SETTLED: {
            c.ConfirmJudicially: S.JUDICIALLY_CONFIRMED,
            c.RefuseConfirmation: S.CONFIRMATION_REFUSED,
        },
        S.ENFORCED: {
            c.ConfirmJudicially: S.JUDICIALLY_CONFIRMED,
            c.RefuseConfirmation: S.CONFIRMATION_REFUSED,
        },
    },
}

# Where a case goes when its stage's deadline passes (default proceedings).
DEADLINE_TRANSITIONS: Mapping[Stage, Target] = {
    S.FILED: S.FACILITATION,  # the respondent stayed silent
    S.NEGOTIATION: S.FACILITATION,  # no settlement in time
    S.FACILITATION: _TO_JURY_ARBITRATION_OR_COURT,
    S.ARBITRATOR_APPOINTMENT: S.CLOSED_FOR_LITIGATION,  # no tribunal: the courts are open
    S.EVIDENCE: S.RECORD_CLOSED,  # the record closes by itself
    S.RECORD_CLOSED: Choice("may_reappoint", S.ARBITRATOR_APPOINTMENT,
                            S.CLOSED_FOR_LITIGATION),  # award late: replace the arbitrator
    S.AWARDED: S.FINAL,  # no objection in the window
    S.PANEL_APPOINTMENT: S.CLOSED_FOR_LITIGATION,  # objection stands, no panel: litigation
    S.PANEL: S.CLOSED_FOR_LITIGATION,  # no majority in time: litigation
    S.JURY_DRAW: S.ARBITRATOR_APPOINTMENT,  # no jury drawn in time: the sole arbitrator
    # jurors who did not accept are replaced by a new draw (bounded), else the arbitrator
    S.JURY_ACCEPTANCE: Choice("may_redraw", S.JURY_DRAW, S.ARBITRATOR_APPOINTMENT),
    S.JURY_VOTING: S.JURY_REVEAL,  # the vote deadline: reveals open
    S.JURY_REVEAL: S.JURY_TALLY,  # unrevealed commitments count as absent
    S.JURY_TALLY: _VERDICT_OR_ARBITRATOR,  # the core's own tally applies
    S.JURY_DECIDED: S.JURY_FINAL,  # no objection in the window
    S.FAST_TRACK_PROPOSED: S.FAST_TRACK_FINAL,  # no objection in the window: it binds
    # the return window passed unshipped: the award's fallback is paid (resolveByTimeout)
    S.RETURN_PENDING: S.ENFORCED,
    # the seller neither confirmed nor disputed: deemed received, the refund is paid
    S.RETURN_SHIPPED: S.ENFORCED,
}

# The period a stage's deadline is measured with: a CaseRules field, KEEP (the deadline of
# the stage before runs on) or absent (the stage has no deadline).
KEEP = "keep"
STAGE_CLOCKS: Mapping[Stage, str] = {
    S.FILED: "negotiation_days",
    S.NEGOTIATION: KEEP,
    S.FACILITATION: "facilitation_days",
    S.ARBITRATOR_APPOINTMENT: "appointment_days",
    S.EVIDENCE: "evidence_days",
    S.RECORD_CLOSED: "award_days",
    S.AWARDED: "objection_days",
    S.PANEL_APPOINTMENT: "appointment_days",
    S.PANEL: "award_days",
    S.JURY_DRAW: "jury_draw_days",
    S.JURY_ACCEPTANCE: "jury_accept_days",
    S.JURY_VOTING: "jury_vote_days",
    S.JURY_REVEAL: "jury_reveal_days",
    S.JURY_TALLY: "appointment_days",
    S.JURY_DECIDED: "objection_days",
    S.FAST_TRACK_PROPOSED: "fast_track_days",
    S.RETURN_PENDING: "return_shipment_days",
    S.RETURN_SHIPPED: "return_receipt_days",
}

# Party commands that only one side of the order may issue, whichever party claimed (the
# return stage: the buyer ships back, the seller confirms or disputes the receipt); admit()
# refuses the other side (WrongActor), so allowed_commands() agrees.
SIDE_COMMANDS: Mapping[type[c.Command], Side] = {
    c.ShipReturn: Side.BUYER,
    c.ConfirmReturnReceipt: Side.SELLER,
    c.DisputeReturnReceipt: Side.SELLER,
}

# Stages where the institution must appoint someone, and whom.
APPOINTMENTS: Mapping[Stage, Role] = {
    S.FACILITATION: Role.MEDIATOR,
    S.ARBITRATOR_APPOINTMENT: Role.ARBITRATOR,
    S.PANEL_APPOINTMENT: Role.PANELIST,
}

# A role that holds several roles uses the first one (in this order) that has an entry.
ROLE_ORDER: tuple[Role, ...] = (
    Role.CLAIMANT,
    Role.RESPONDENT,
    Role.MEDIATOR,
    Role.ARBITRATOR,
    Role.PANELIST,
    Role.JUROR,
    Role.INSTITUTION,
    Role.COURT,
    Role.ANYONE,
)

# --------------------------------------------------------------------------------------
# building a case


def new_case(
    *,
    case_id: str,
    order: Order,
    institution: frozenset[str] | set[str] | tuple[str, ...],
    courts: frozenset[str] | set[str] | tuple[str, ...] = frozenset(),
    relationships: frozenset[Relationship] | set[Relationship] | tuple[Relationship, ...] = (),
    rules: CaseRules = DEFAULT_RULES,
) -> CaseState:
    """An unfiled case for ``order``; either side files it with ``FileClaim``.

    Args: ``case_id`` is the bytes32 the escrow binds the dispute to; ``institution`` the
    admin addresses that appoint neutrals and report chain execution; ``courts`` the
    addresses of courts that may read and confirm; ``relationships`` the neutrals' declared
    relationships with parties (the conflict check refuses them).
    """
    if not isinstance(order, Order):
        raise InvalidCommand(f"order: expected an Order, found {type(order).__name__}")
    if not isinstance(rules, CaseRules):
        raise InvalidCommand(f"rules: expected CaseRules, found {type(rules).__name__}")
    admins = frozenset(check_address("institution", a) for a in institution)
    if not admins:
        raise InvalidCommand("institution: expected at least one admin address, found none")
    court_set = frozenset(check_address("courts", a) for a in courts)
    rels = frozenset(relationships)
    for rel in rels:
        if not isinstance(rel, Relationship):
            raise InvalidCommand(f"relationships: expected Relationship, found {rel!r}")
    outsiders = admins | court_set
    if order.buyer in outsiders or order.seller in outsiders:
        raise InvalidCommand("a party to the order cannot be an institution admin or a court")
    return CaseState(
        case_id=check_hash("case_id", case_id),
        order=order,
        institution=admins,
        courts=court_set,
        relationships=rels,
        rules=rules,
    )


# --------------------------------------------------------------------------------------
# the public entry points


def apply(case: CaseState, command: c.Command, now: datetime) -> tuple[CaseState, list[Effect]]:
    """Apply one signed command at time ``now``.

    Returns the new case (``next_sequence`` + 1) and the effects for the edge.
    Raises a ``ProcedureError`` subclass and changes nothing when the command is refused.
    """
    if not isinstance(command, c.Command):
        _check_now(case, now)
        raise InvalidCommand(f"expected a Command, found {type(command).__name__}")
    role = admit(case, command.actor, type(command), now, sequence=command.sequence)
    changes, effects = _HANDLERS[type(command)](case, command, now)
    updated = replace(case, **changes, next_sequence=case.next_sequence + 1)
    effects.append(
        AnchorStep(case_id=case.case_id, step=command.action(), sequence=command.sequence,
                   at=now)
    )
    target = _resolve(COMMAND_TRANSITIONS[role][case.stage][type(command)], updated)
    if target != case.stage:
        updated, entered = _enter(updated, target, at=now, by_default=False)
        effects.extend(entered)
    return updated, effects


def advance(case: CaseState, now: datetime) -> tuple[CaseState, list[Effect]]:
    """Fire missed deadlines until nothing changes (default proceedings); never stalls.

    Each default step starts its next stage at the missed deadline, so the result is the
    same whenever the scheduler runs. Returns the case unchanged and no effects when no
    deadline has passed. ``next_sequence`` moves on by one per default fired: the edge
    records each as a step of the chain (its ``AnchorStep`` has ``sequence`` None).
    """
    _check_now(case, now)
    effects: list[Effect] = []
    for _ in range(4 * len(Stage)):  # each step moves the deadline forward; bounded anyway
        due = next_deadline(case)
        if due is None or now < due:
            return case, effects
        stage = case.stage
        effects.append(
            AnchorStep(case_id=case.case_id, step=f"deadline_missed.{stage.value}",
                       sequence=None, at=due)
        )
        case = _ON_DEADLINE_MISSED.get(stage, _unchanged)(case)
        case = replace(case, next_sequence=case.next_sequence + 1)
        target = _resolve(DEADLINE_TRANSITIONS[stage], case)
        case, entered = _enter(case, target, at=due, by_default=True)
        effects.extend(entered)
    raise AssertionError("advance() did not settle; the deadline tables loop")  # pragma: no cover


def admit(case: CaseState, actor: str, command_type: type[c.Command], now: datetime, *,
          sequence: int | None = None) -> Role:
    """May ``actor`` issue a ``command_type`` now? The one answer to it (Theory above).

    Returns the role the command is admitted under; raises the refusal ``apply`` raises,
    checked in its fixed order: CaseClosed, WrongActor, StaleSequence (only when
    ``sequence`` is given: the position the signer's record claims in the step chain),
    WrongStage, DeadlinePassed. The command's content is not looked at (its handler does
    that in ``apply``), so the edge may ask before it has built the command.
    """
    _check_now(case, now)
    name = command_type.__name__
    if case.stage in TERMINAL_STAGES:
        raise CaseClosed(
            f"{name} refused: the case is {case.stage} (terminal); no step can follow"
        )
    roles = case.roles_of(actor)
    able = [r for r in ROLE_ORDER if r in roles and _stages_for(r, command_type)]
    if not able:
        allowed = [r.value for r in ROLE_ORDER if _stages_for(r, command_type)]
        held = sorted(r.value for r in roles)
        raise WrongActor(
            f"{name} may be issued by {', '.join(allowed)}; "
            f"{actor} holds {', '.join(held)} in this case"
        )
    side = SIDE_COMMANDS.get(command_type)
    if side is not None and case.side_of(actor) is not side:
        raise WrongActor(f"{name} is the {side.value}'s step; {actor} is not the order's "
                         f"{side.value}")
    if sequence is not None and sequence != case.next_sequence:
        raise StaleSequence(
            f"{name}: expected sequence {case.next_sequence}, found {sequence}; "
            "reload the case and sign again"
        )
    role = next(
        (r for r in able if command_type in COMMAND_TRANSITIONS[r].get(case.stage, {})), None
    )
    if role is None:
        stages = sorted({s.value for r in able for s in _stages_for(r, command_type)})
        raise WrongStage(
            f"{name} by {able[0]} is allowed in stage(s) {', '.join(stages)}; "
            f"the case is in {case.stage}"
        )
    if case.deadline is not None and case.stage in DEADLINE_TRANSITIONS and now >= case.deadline:
        raise DeadlinePassed(
            f"{name} refused: the {case.stage} deadline passed at {case.deadline.isoformat()} "
            f"(now {now.isoformat()}); the case moves on by default when advanced"
        )
    return role


def allowed_commands(case: CaseState, actor: str, now: datetime) -> tuple[type[c.Command], ...]:
    """The command types ``admit`` admits for ``actor`` now (for menus and the API), in
    the order of the actor's roles' table rows.

    Content checks still apply (an offer must exist to be accepted, …).
    """
    _check_now(case, now)
    roles = case.roles_of(actor)
    candidates = dict.fromkeys(cls for role in ROLE_ORDER if role in roles
                               for cls in COMMAND_TRANSITIONS.get(role, {}).get(case.stage, {}))
    found = []
    for cls in candidates:
        try:
            admit(case, actor, cls, now)
        except ProcedureError:
            continue
        found.append(cls)
    return tuple(found)


def next_deadline(case: CaseState) -> datetime | None:
    """When the scheduler must next call advance() for this case, or None."""
    if case.stage in DEADLINE_TRANSITIONS:
        return case.deadline
    return None


# --------------------------------------------------------------------------------------
# machinery


def _check_now(case: CaseState, now: datetime) -> None:
    if not isinstance(now, datetime) or now.tzinfo is None or now.utcoffset() is None:
        raise InvalidClock(f"now: expected a timezone-aware UTC datetime, found {now!r}")
    if now.utcoffset() != timedelta(0):
        raise InvalidClock(f"now: expected UTC (offset 0), found offset {now.utcoffset()}")
    if case.stage_entered_at is not None and now < case.stage_entered_at:
        raise InvalidClock(
            f"now: {now.isoformat()} is before the case's current stage began "
            f"({case.stage_entered_at.isoformat()}); the clock must not run backwards"
        )


def _stages_for(role: Role, command_type: type[c.Command]) -> list[Stage]:
    return [s for s, row in COMMAND_TRANSITIONS.get(role, {}).items() if command_type in row]


def _resolve(target: Target, case: CaseState) -> Stage:
    while isinstance(target, Choice):
        target = target.if_true if GUARDS[target.guard](case) else target.if_false
    return target


def _enter(
    case: CaseState, stage: Stage, *, at: datetime, by_default: bool
) -> tuple[CaseState, list[Effect]]:
    """Move into ``stage`` at ``at``: its deadline, notices and appointment requests."""
    clock = STAGE_CLOCKS.get(stage)
    if clock is None:
        deadline = None
    elif clock == KEEP:
        deadline = case.deadline
    else:
        deadline = at + case.rules.period(clock)
    changes: dict[str, Any] = {"stage": stage, "stage_entered_at": at, "deadline": deadline}
    if stage is S.RECORD_CLOSED and case.record_closed_at is None:
        changes["record_closed_at"] = at
    effects: list[Effect] = [
        StageChanged(case_id=case.case_id, stage_from=case.stage, stage_to=stage, at=at,
                     by_default=by_default),
        NotifyParties(kind=f"stage:{stage}", recipients=_everyone(case)),
    ]
    if deadline is not None:
        effects.append(DeadlineSet(case_id=case.case_id, stage=stage, at=deadline))
    if stage is S.CLOSED_FOR_LITIGATION or (by_default and case.stage in RETURN_STAGES):
        # litigation: the buyer is refunded; a return stage's deadline: the return award's
        # fallback (not shipped) or its refund (deemed received), as the escrow decides
        effects.append(ResolveEscrowByTimeout(order_id=case.order.order_id, case_id=case.case_id))
    if stage is S.JURY_ACCEPTANCE:  # each draw fixes the sitting jury on the escrow
        effects.append(AppointJuryOnChain(order_id=case.order.order_id, case_id=case.case_id,
                                          jurors=case.jury.jurors, options=case.jury.options))
    if stage is S.JURY_DECIDED:  # the verdict goes to the escrow; its window runs there too
        effects.append(SubmitVerdictToEscrow(order_id=case.order.order_id,
                                             case_id=case.case_id))
    if stage is S.FAST_TRACK_FINAL and case.fast_track is not None:
        effects.append(ExecuteFastTrackOnEscrow(order_id=case.order.order_id,
                                                case_id=case.case_id,
                                                allocation=case.fast_track.allocation))
    needed = APPOINTMENTS.get(stage)
    if needed is not None and not (needed is Role.MEDIATOR and case.mediator is not None):
        effects.append(AppointmentRequested(role=needed, by=deadline))
    return replace(case, **changes), effects


def _everyone(case: CaseState) -> tuple[str, ...]:
    """Parties and sitting neutrals, without duplicates, in a stable order."""
    people = [*case.parties, *(a for a in (case.mediator, case.arbitrator) if a), *case.panel]
    return tuple(dict.fromkeys(people))


def _jurors(case: CaseState) -> tuple[str, ...]:
    """The sitting jurors: told of their own steps, never of the parties' (docs/jury.md)."""
    return case.jury.jurors


def _other_party(case: CaseState, actor: str) -> tuple[str, ...]:
    return tuple(p for p in case.parties if p != actor)


def _unchanged(case: CaseState) -> CaseState:
    return case


def _arbitrator_missed_award(case: CaseState) -> CaseState:
    """The arbitrator who let the award deadline pass is removed and may not return."""
    assert case.arbitrator is not None
    return replace(
        case,
        arbitrator=None,
        former_arbitrators=(*case.former_arbitrators, case.arbitrator),
        reappointments=case.reappointments + 1,
    )


def _jurors_missed_acceptance(case: CaseState) -> CaseState:
    """Jurors who did not accept in time leave (never to be redrawn in this case); the next
    round draws their replacements by the same procedure."""
    j = case.jury
    gone = tuple(a for a in j.jurors if a not in j.accepted)
    kept = tuple(a for a in j.jurors if a in j.accepted)
    return replace(case, jury=replace(j, round=j.round + 1, jurors=kept,
                                      former_jurors=(*j.former_jurors, *gone),
                                      seed_hash=None, draw_block=None, pool=(),
                                      pool_hash=None))


def _tally_by_default(case: CaseState) -> CaseState:
    """The tally deadline passed unsigned: the core's own count applies (never stalls)."""
    t = _count(case)
    return replace(case, jury=replace(case.jury, counts=t.counts, winner=t.winner,
                                      tallied=True))


def _fast_track_binds(case: CaseState) -> CaseState:
    """Nobody objected within the window: the proposal binds (``final_award``)."""
    assert case.fast_track is not None
    return replace(case, fast_track=replace(case.fast_track, bound=True))


def _return_not_shipped(case: CaseState) -> CaseState:
    """The buyer missed the return window: the award's fallback applies."""
    return replace(case, return_outcome="not_shipped")


def _return_deemed_received(case: CaseState) -> CaseState:
    """The seller neither confirmed nor disputed in time: deemed received."""
    return replace(case, return_outcome="deemed_received")


_ON_DEADLINE_MISSED: Mapping[Stage, Callable[[CaseState], CaseState]] = {
    S.RETURN_PENDING: _return_not_shipped,
    S.RETURN_SHIPPED: _return_deemed_received,
    S.FAST_TRACK_PROPOSED: _fast_track_binds,
    S.RECORD_CLOSED: _arbitrator_missed_award,
    S.JURY_ACCEPTANCE: _jurors_missed_acceptance,
    S.JURY_TALLY: _tally_by_default,
}


def _check_allocation(case: CaseState, allocation: Allocation, what: str) -> None:
    total = allocation.to_buyer + allocation.to_seller
    if total != case.order.amount:
        raise InvalidAllocation(
            f"{what}: to_buyer + to_seller must equal the escrowed {case.order.amount}; "
            f"found {allocation.to_buyer} + {allocation.to_seller} = {total}"
        )
    if allocation.compensation > case.order.guarantee:
        raise InvalidAllocation(
            f"{what}: compensation is capped by the seller's guarantee {case.order.guarantee}; "
            f"found {allocation.compensation}"
        )


def _check_neutral(case: CaseState, neutral: str, role: str, *, also_barred: tuple[str, ...]
                   ) -> None:
    """The conflict check: not a party, not the institution or a court, not already a
    neutral of this case in an incompatible seat, no declared relationship with a party."""
    if neutral in (case.order.buyer, case.order.seller):
        raise ConflictOfInterest(f"{role} {neutral} is a party to the order")
    if neutral in case.institution or neutral in case.courts:
        raise ConflictOfInterest(f"{role} {neutral} is an institution admin or a court")
    if neutral in also_barred:
        raise ConflictOfInterest(
            f"{role} {neutral} already acted in this case in a seat that excludes this one"
        )
    for rel in case.relationships:
        if rel.neutral == neutral and rel.party in (case.order.buyer, case.order.seller):
            raise ConflictOfInterest(
                f"{role} {neutral} declared a relationship ({rel.nature}) with party {rel.party}"
            )


# --------------------------------------------------------------------------------------
# handlers: the command's own checks and field changes (never the stage; the table does)

Changes = tuple[dict[str, Any], list[Effect]]


def _file_claim(case: CaseState, cmd: c.FileClaim, now: datetime) -> Changes:
    seller_claim = cmd.dispute_type is DisputeType.BUYER_REFUSES_TO_PAY
    expected = case.order.seller if seller_claim else case.order.buyer
    if cmd.actor != expected:
        side = "seller" if seller_claim else "buyer"
        raise InvalidCommand(
            f"dispute_type {cmd.dispute_type} is claimed by the {side} ({expected}); "
            f"found {cmd.actor}"
        )
    amount = case.order.amount
    if cmd.remedy in (Remedy.FULL_REFUND, Remedy.RETURN_AND_REFUND, Remedy.RELEASE_PAYMENT):
        if cmd.claimed_amount != amount:
            raise InvalidCommand(
                f"claimed_amount: {cmd.remedy} claims the whole escrow {amount}; "
                f"found {cmd.claimed_amount}"
            )
    elif cmd.remedy is Remedy.PARTIAL_REFUND and cmd.claimed_amount >= amount:
        raise InvalidCommand(
            f"claimed_amount: a partial refund is less than the escrow {amount}; "
            f"found {cmd.claimed_amount} (claim full_refund instead)"
        )
    respondent = case.order.buyer if cmd.actor == case.order.seller else case.order.seller
    changes = {
        "claimant": cmd.actor,
        "respondent": respondent,
        "dispute_type": cmd.dispute_type,
        "remedy": cmd.remedy,
        "claimed_amount": cmd.claimed_amount,
        "statement_hash": cmd.statement_hash,
        "filed_at": now,
    }
    return changes, [
        FreezeEscrow(order_id=case.order.order_id, case_id=case.case_id),
        NotifyParties(kind="claim_filed", recipients=(respondent,)),
    ]


def _add_offer(case: CaseState, cmd: c.MakeOffer | c.ProposeSettlement, now: datetime,
               accepted: frozenset[str]) -> dict[str, Any]:
    if case.offer(cmd.offer_id) is not None:
        raise DuplicateAction(f"offer_id {cmd.offer_id!r} is already used in this case")
    _check_allocation(case, cmd.allocation, f"offer {cmd.offer_id}")
    if cmd.no_return is not None:
        _check_return_terms(case, cmd.allocation, cmd.no_return, f"offer {cmd.offer_id}")
    if cmd.expires_at is not None and cmd.expires_at <= now:
        raise InvalidCommand(
            f"expires_at: expected a time after now ({now.isoformat()}), "
            f"found {cmd.expires_at.isoformat()}"
        )
    offer = Offer(offer_id=cmd.offer_id, made_by=cmd.actor, allocation=cmd.allocation,
                  accepted_by=accepted, expires_at=cmd.expires_at, no_return=cmd.no_return)
    return {"offers": (*case.offers, offer)}


def _make_offer(case: CaseState, cmd: c.MakeOffer, now: datetime) -> Changes:
    changes = _add_offer(case, cmd, now, frozenset({cmd.actor}))
    return changes, [
        NotifyParties(kind="offer_made", recipients=_other_party(case, cmd.actor))
    ]


def _propose_settlement(case: CaseState, cmd: c.ProposeSettlement, now: datetime) -> Changes:
    changes = _add_offer(case, cmd, now, frozenset())
    return changes, [NotifyParties(kind="settlement_proposed", recipients=case.parties)]


def _live_offer(case: CaseState, offer_id: str, now: datetime) -> Offer:
    offer = case.offer(offer_id)
    if offer is None or offer.withdrawn:
        state = "was withdrawn" if offer else "does not exist"
        raise UnknownOffer(f"offer {offer_id!r} {state} in this case")
    if offer.expires_at is not None and now >= offer.expires_at:
        raise UnknownOffer(f"offer {offer_id!r} expired at {offer.expires_at.isoformat()}")
    return offer


def _accept_offer(case: CaseState, cmd: c.AcceptOffer, now: datetime) -> Changes:
    offer = _live_offer(case, cmd.offer_id, now)
    if cmd.actor in offer.accepted_by:
        raise DuplicateAction(f"offer {cmd.offer_id!r} is already signed by {cmd.actor}")
    accepted = replace(offer, accepted_by=offer.accepted_by | {cmd.actor})
    offers = tuple(accepted if o.offer_id == offer.offer_id else o for o in case.offers)
    changes: dict[str, Any] = {"offers": offers}
    if set(case.parties) <= accepted.accepted_by:
        execute = ExecuteSettlement(order_id=case.order.order_id, case_id=case.case_id,
                                    allocation=offer.allocation, no_return=offer.no_return)
        if offer.no_return is not None:  # the escrow's return stage starts at once
            changes["return_settlement"] = accepted
            return changes, [execute, NotifyParties(kind="return_requested",
                                                    recipients=case.parties)]
        changes["settlement"] = offer.allocation
        return changes, [execute]
    return changes, [NotifyParties(kind="offer_accepted", recipients=_everyone(case))]


def _withdraw_offer(case: CaseState, cmd: c.WithdrawOffer, now: datetime) -> Changes:
    offer = _live_offer(case, cmd.offer_id, now)
    if offer.made_by != cmd.actor:
        raise UnknownOffer(
            f"offer {cmd.offer_id!r} was made by {offer.made_by}; only its maker may withdraw it"
        )
    withdrawn = replace(offer, withdrawn=True)
    offers = tuple(withdrawn if o.offer_id == offer.offer_id else o for o in case.offers)
    return {"offers": offers}, [NotifyParties(kind="offer_withdrawn", recipients=case.parties)]


def _no_changes(case: CaseState, cmd: c.Command, now: datetime) -> Changes:
    return {}, []


def _appoint_mediator(case: CaseState, cmd: c.AppointMediator, now: datetime) -> Changes:
    if case.mediator is not None:
        raise DuplicateAction(f"a mediator ({case.mediator}) is already appointed")
    _check_neutral(case, cmd.mediator, "mediator", also_barred=())
    return {"mediator": cmd.mediator}, [
        NotifyParties(kind="mediator_appointed", recipients=(*case.parties, cmd.mediator))
    ]


def _publish_pre_evaluation(case: CaseState, cmd: c.PublishPreEvaluation, now: datetime
                            ) -> Changes:
    return {"pre_evaluation": (cmd.recommended, cmd.report_hash)}, [
        NotifyParties(kind="pre_evaluation_published", recipients=case.parties)
    ]


def _agree_to_arbitrate(case: CaseState, cmd: c.AgreeToArbitrate, now: datetime) -> Changes:
    if case.order.arbitration_agreed:
        raise DuplicateAction("arbitration is already agreed in the order's terms")
    if cmd.actor in case.arbitration_agreed_by:
        raise DuplicateAction(f"{cmd.actor} already agreed to arbitrate")
    return {"arbitration_agreed_by": case.arbitration_agreed_by | {cmd.actor}}, [
        NotifyParties(kind="arbitration_agreed", recipients=_other_party(case, cmd.actor))
    ]


def _appoint_arbitrator(case: CaseState, cmd: c.AppointArbitrator, now: datetime) -> Changes:
    # A mediator who heard private caucus material may not then decide (no med-arb), and an
    # arbitrator replaced for missing the award deadline may not come back.
    barred = (*(a for a in (case.mediator,) if a), *case.former_arbitrators,
              *case.jury.jurors, *case.jury.former_jurors)
    _check_neutral(case, cmd.arbitrator, "arbitrator", also_barred=barred)
    return {"arbitrator": cmd.arbitrator}, [
        AppointOnChain(order_id=case.order.order_id, case_id=case.case_id,
                       arbitrators=(cmd.arbitrator,), round=0),
        NotifyParties(kind="arbitrator_appointed", recipients=(*case.parties, cmd.arbitrator)),
    ]


def _submit_evidence(case: CaseState, cmd: c.SubmitEvidence, now: datetime) -> Changes:
    if any(e.evidence_id == cmd.evidence_id for e in case.evidence):
        raise DuplicateAction(f"evidence_id {cmd.evidence_id!r} is already used in this case")
    if len(case.evidence) >= case.rules.max_evidence_items:
        raise InvalidCommand(
            f"the record holds at most {case.rules.max_evidence_items} evidence items; "
            f"found {len(case.evidence)} already"
        )
    item = EvidenceItem(evidence_id=cmd.evidence_id, submitted_by=cmd.actor, stage=case.stage,
                        kind=cmd.kind, commitment=cmd.commitment, submitted_at=now,
                        content_cid=cmd.content_cid)
    updated = replace(case, evidence=(*case.evidence, item))
    # The disclosure rule decides who is told, so a notice never leaks a caucus item.
    told = tuple(p for p in _everyone(updated) if p != cmd.actor and can_see(updated, item, p))
    effects: list[Effect] = []
    if told:
        effects.append(NotifyParties(kind="evidence_submitted", recipients=told))
    return {"evidence": updated.evidence}, effects


def _submit_answer(case: CaseState, cmd: c.SubmitAnswer, now: datetime) -> Changes:
    if case.answer_hash is not None:
        raise DuplicateAction("the respondent has already answered; the answer is final")
    return {"answer_hash": cmd.answer_hash}, [
        NotifyParties(kind="answer_submitted", recipients=_everyone(case))
    ]


def _check_return_terms(case: CaseState, refund: Allocation, no_return: Allocation,
                        what: str) -> None:
    """A return award's or settlement's terms: a refund to the buyer and another fallback."""
    _check_allocation(case, no_return, f"{what}'s fallback (no return)")
    if refund.to_buyer == 0:
        raise NotAReturnAward(f"{what}: return and refund refunds the buyer once the goods "
                              f"are back; its refund gives the buyer 0 of {case.order.amount}")
    if no_return == refund:
        raise NotAReturnAward(f"{what}: the fallback equals the refund: the return would "
                              "change nothing; make it an ordinary one")


def _issue_award(case: CaseState, cmd: c.IssueAward, now: datetime) -> Changes:
    _check_allocation(case, cmd.allocation, "award")
    if cmd.no_return is not None:
        _check_return_terms(case, cmd.allocation, cmd.no_return, "award")
    terms = AwardTerms(allocation=cmd.allocation, award_hash=cmd.award_hash,
                       no_return=cmd.no_return)
    return {"award": terms}, [
        SubmitAwardToEscrow(order_id=case.order.order_id, case_id=case.case_id, award=terms,
                            round=0),
    ]


def _object(case: CaseState, cmd: c.Object, now: datetime) -> Changes:
    if case.objection_by is not None:
        raise DuplicateAction(f"{case.objection_by} already objected in this case; an "
                              "objection is allowed once")
    if case.stage is S.JURY_DECIDED:  # the party's wallet objects to the escrow's decision
        return {"objection_by": cmd.actor, "objection_hash": cmd.reasons_hash}, [
            ObjectOnChain(order_id=case.order.order_id, case_id=case.case_id, party=cmd.actor,
                          decision=True),
            NotifyParties(kind="jury_verdict_objected", recipients=_everyone(case)),
        ]
    return {"objection_by": cmd.actor, "objection_hash": cmd.reasons_hash}, [
        ObjectOnChain(order_id=case.order.order_id, case_id=case.case_id, party=cmd.actor),
        NotifyParties(kind="objection_filed", recipients=_everyone(case)),
    ]


def _appoint_panel(case: CaseState, cmd: c.AppointPanel, now: datetime) -> Changes:
    # The panel reviews the sole arbitrator's award: neither that arbitrator, a replaced
    # one, nor the mediator may sit on it.
    barred = tuple(a for a in (case.mediator, case.arbitrator, *case.former_arbitrators) if a)
    for member in cmd.panel:
        _check_neutral(case, member, "panelist", also_barred=barred)
    return {"panel": cmd.panel}, [
        AppointOnChain(order_id=case.order.order_id, case_id=case.case_id,
                       arbitrators=cmd.panel, round=1),
        NotifyParties(kind="panel_appointed", recipients=(*case.parties, *cmd.panel)),
    ]


def _issue_panel_award(case: CaseState, cmd: c.IssuePanelAward, now: datetime) -> Changes:
    if any(member == cmd.actor for member, _ in case.panel_signatures):
        raise DuplicateAction(f"panelist {cmd.actor} has already signed a panel award")
    _check_allocation(case, cmd.allocation, "panel award")
    terms = AwardTerms(allocation=cmd.allocation, award_hash=cmd.award_hash)
    signatures = (*case.panel_signatures, (cmd.actor, terms))
    changes: dict[str, Any] = {"panel_signatures": signatures}
    if sum(1 for _, t in signatures if t == terms) >= 2:  # two of three sign the same award
        changes["panel_award"] = terms
    return changes, []


def _enforce(case: CaseState, cmd: c.Enforce, now: datetime) -> Changes:
    """Round 0 was submitted at issue: execute it. Round 1 executes on submission."""
    effect: Effect
    if case.panel_award is not None:
        effect = SubmitAwardToEscrow(order_id=case.order.order_id, case_id=case.case_id,
                                     award=case.panel_award, round=1)
    else:
        effect = ExecuteAwardOnEscrow(order_id=case.order.order_id, case_id=case.case_id)
    return {"enforcement_requested": True}, [effect]


def _record_enforcement(case: CaseState, cmd: c.RecordEnforcement, now: datetime) -> Changes:
    award = case.final_award
    assert award is not None
    if cmd.allocation != award.allocation:
        raise InvalidAllocation(
            f"the escrow's execution must match the final award {award.allocation}; "
            f"found {cmd.allocation}"
        )
    if award.no_return is not None:  # the escrow started the return stage; nothing paid yet
        return {}, [NotifyParties(kind="return_requested", recipients=case.parties)]
    return {"enforcement_tx": cmd.tx_hash,
            "compensation_shortfall": cmd.compensation_shortfall}, []


def _court_decision(case: CaseState, cmd: c.ConfirmJudicially | c.RefuseConfirmation,
                    now: datetime) -> Changes:
    refused = cmd if isinstance(cmd, c.RefuseConfirmation) else None
    decision = CourtDecision(
        court=cmd.actor,
        confirmed=refused is None,
        package_hash=cmd.package_hash,
        court_reference=cmd.court_reference,
        reasons_hash=refused.reasons_hash if refused else None,
        reasons=refused.reasons if refused else "",
    )
    return {"court_decision": decision}, [
        NotifyParties(kind="court_decision", recipients=_everyone(case))
    ]


# -- the jury track ----------------------------------------------------------------------


def _choose_jury_track(case: CaseState, cmd: c.ChooseJuryTrack, now: datetime) -> Changes:
    if case.order.jury_agreed:
        raise DuplicateAction("the jury track is already chosen in the order's terms")
    if cmd.actor in case.jury_chosen_by:
        raise DuplicateAction(f"{cmd.actor} already chose the jury track")
    if case.order.amount > case.rules.jury_max_amount:
        raise InvalidCommand(
            f"the jury track decides orders of at most {case.rules.jury_max_amount}; "
            f"this order's amount is {case.order.amount}")
    return {"jury_chosen_by": case.jury_chosen_by | {cmd.actor}}, [
        NotifyParties(kind="jury_track_chosen", recipients=_other_party(case, cmd.actor))
    ]


def _check_pool_member(case: CaseState, assessor: str) -> None:
    """The core's share of the conflict check: what the case itself knows (the service's
    pool rules add the assessors' standing and history: backend/jury)."""
    j = case.jury
    if assessor in j.jurors or assessor in j.former_jurors:
        raise ConflictOfInterest(f"pool: {assessor} was already drawn in this case")
    if assessor in case.neutrals:
        raise ConflictOfInterest(f"pool: {assessor} is a neutral of this case")
    _check_neutral(case, assessor, "pool member", also_barred=())


def _commit_jury_seed(case: CaseState, cmd: c.CommitJurySeed, now: datetime) -> Changes:
    j = case.jury
    if j.seed_hash is not None:
        raise DuplicateAction(f"the seed of draw round {j.round} is already committed")
    for a in cmd.pool:
        _check_pool_member(case, a)
    try:
        computed = "0x" + public_jury.pool_snapshot_hash(cmd.pool).hex()
    except EvidenceError as exc:
        raise InvalidCommand(f"pool: {exc}") from None
    if computed != cmd.pool_hash:
        raise InvalidCommand(f"pool_hash: the pool snapshot hashes to {computed}; found "
                             f"{cmd.pool_hash}")
    needed = case.rules.jury_size - len(j.jurors)
    if len(cmd.pool) < needed:
        raise InvalidCommand(f"pool: {needed} juror(s) to draw; the snapshot holds "
                             f"{len(cmd.pool)}")
    return {"jury": replace(j, seed_hash=cmd.seed_hash, draw_block=cmd.draw_block,
                            pool=cmd.pool, pool_hash=cmd.pool_hash)}, []


def _draw_jury(case: CaseState, cmd: c.DrawJury, now: datetime) -> Changes:
    j = case.jury
    if j.seed_hash is None or j.pool_hash is None:
        raise InvalidCommand(f"commit the seed of draw round {j.round} before drawing")
    committed = "0x" + public_jury.seed_commitment(case.case_id, j.round, cmd.seed).hex()
    if committed != j.seed_hash:
        raise WrongReveal(f"seed: it hashes to {committed}; the committed seed hash is "
                          f"{j.seed_hash}")
    randomness = public_jury.draw_randomness(case.case_id, j.round, cmd.seed, cmd.block_hash,
                                             cmd.prevrandao, j.pool_hash)
    needed = case.rules.jury_size - len(j.jurors)
    try:
        drawn = public_jury.draw(j.pool, needed, randomness)
    except EvidenceError as exc:  # pragma: no cover - the commit checked the snapshot
        raise InvalidCommand(f"the draw: {exc}") from None
    if cmd.jurors != drawn:
        raise InvalidCommand(f"jurors: the draw from the revealed seed selects "
                             f"{', '.join(drawn)}; found {', '.join(cmd.jurors)}")
    options = j.options
    if j.round == 0:
        if not cmd.options:
            raise InvalidCommand("options: the first draw fixes 1..4 allocation options")
        for i, o in enumerate(cmd.options):
            _check_allocation(case, o, f"options[{i}]")
        if len(set(cmd.options)) != len(cmd.options):
            raise InvalidCommand("options: two options are the same allocation")
        options = cmd.options
    elif cmd.options and cmd.options != j.options:
        raise InvalidCommand("options: fixed at the first draw; a replacement draw repeats "
                             "them or gives none")
    jury = replace(j, jurors=(*j.jurors, *drawn), options=options,
                   seeds=(*j.seeds, (j.round, cmd.seed, cmd.block_hash, cmd.prevrandao)))
    return {"jury": jury}, [NotifyParties(kind="jury_drawn", recipients=drawn)]


MAX_MARKED = 20  # items a jury is asked to read (ours: a small claim's record)


def _mark_for_jury(case: CaseState, cmd: c.MarkForJury, now: datetime) -> Changes:
    item = next((e for e in case.evidence if e.evidence_id == cmd.evidence_id), None)
    if item is None or item.submitted_by != cmd.actor:
        raise InvalidCommand(f"evidence_id {cmd.evidence_id!r}: no item of yours in this case")
    if item.stage in CAUCUS_STAGES:
        raise InvalidCommand(f"evidence_id {cmd.evidence_id!r} was given to the mediator in "
                             "caucus; it is never relied on later")
    j = case.jury
    if cmd.evidence_id in j.marked:
        raise DuplicateAction(f"evidence_id {cmd.evidence_id!r} is already before the jury")
    if len(j.marked) >= MAX_MARKED:
        raise InvalidCommand(f"at most {MAX_MARKED} items go before the jury; found "
                             f"{len(j.marked)} already")
    return {"jury": replace(j, marked=(*j.marked, cmd.evidence_id))}, [
        NotifyParties(kind="evidence_marked_for_jury", recipients=_other_party(case, cmd.actor))
    ]


def _accept_jury_duty(case: CaseState, cmd: c.AcceptJuryDuty, now: datetime) -> Changes:
    j = case.jury
    if cmd.actor in j.accepted:
        raise DuplicateAction(f"juror {cmd.actor} already accepted")
    return {"jury": replace(j, accepted=j.accepted | {cmd.actor})}, []


def _commit_vote(case: CaseState, cmd: c.CommitVote, now: datetime) -> Changes:
    j = case.jury
    if j.vote_of(cmd.actor) is not None:
        raise DuplicateAction(f"juror {cmd.actor} already committed a vote; a vote is final")
    vote = JuryVote(juror=cmd.actor, commitment=cmd.commitment, signature=cmd.signature)
    return {"jury": replace(j, votes=(*j.votes, vote))}, []


def _reveal_vote(case: CaseState, cmd: c.RevealVote, now: datetime) -> Changes:
    j = case.jury
    vote = j.vote_of(cmd.actor)
    if vote is None:
        raise InvalidCommand(f"juror {cmd.actor} committed no vote before the deadline; "
                             "nothing to reveal (the vote counts as absent)")
    if vote.choice is not None:
        raise DuplicateAction(f"juror {cmd.actor} already revealed")
    if cmd.choice >= len(j.options):
        raise InvalidCommand(f"choice: expected an option 0..{len(j.options) - 1}, found "
                             f"{cmd.choice}")
    opened = "0x" + public_jury.vote_commitment(case.case_id, cmd.actor, cmd.choice,
                                                cmd.reason_code, cmd.salt).hex()
    if opened != vote.commitment:
        raise WrongReveal(f"the reveal hashes to {opened}; juror {cmd.actor} committed "
                          f"{vote.commitment}")
    opened_vote = replace(vote, choice=cmd.choice, reason_code=cmd.reason_code, salt=cmd.salt)
    votes = tuple(opened_vote if v.juror == cmd.actor else v for v in j.votes)
    return {"jury": replace(j, votes=votes)}, []


def _count(case: CaseState) -> public_jury.Tally:
    j = case.jury
    return public_jury.tally(len(j.jurors), len(j.options),
                             ((v.choice, v.reason_code or 0) for v in j.votes
                              if v.choice is not None))


def _record_tally(case: CaseState, cmd: c.RecordTally, now: datetime) -> Changes:
    t = _count(case)
    if (cmd.counts, cmd.winner) != (t.counts, t.winner):
        raise InvalidCommand(f"tally: the reveals count {list(t.counts)} (winner "
                             f"{t.winner}); found {list(cmd.counts)} (winner {cmd.winner})")
    return {"jury": replace(case.jury, counts=t.counts, winner=t.winner, tallied=True)}, [
        NotifyParties(kind="jury_tallied", recipients=(*case.parties, *_jurors(case)))
    ]


# -- the fast track ----------------------------------------------------------------------


def _check_outcome(case: CaseState, outcome: Outcome, allocation: Allocation) -> None:
    """The proposal's outcome must describe its allocation (a refund refunds, a release
    releases), so the words the parties read and the money the escrow moves agree."""
    amount, to_buyer = case.order.amount, allocation.to_buyer
    fits = {
        Outcome.FULL_REFUND: to_buyer == amount,
        Outcome.RETURN_AND_REFUND: to_buyer == amount,
        Outcome.RELEASE_TO_SELLER: to_buyer == 0,
        Outcome.PARTIAL_REFUND: to_buyer < amount,  # half of 1 unit is 0 (PE-NAD-3)
    }[outcome]
    if not fits:
        raise InvalidAllocation(f"recommended {outcome}: the allocation gives the buyer "
                                f"{to_buyer} of {amount}, which is not a {outcome}")


def _propose_fast_track(case: CaseState, cmd: c.ProposeFastTrack, now: datetime) -> Changes:
    limit = case.rules.fast_track_max_amount
    if limit == 0:
        raise InvalidCommand("the fast track is off under these rules "
                             "(fast_track_max_amount 0)")
    if case.order.amount > limit:
        raise InvalidCommand(f"the fast track resolves orders of at most {limit}; this "
                             f"order's amount is {case.order.amount}")
    if not case.fast_track_open:
        raise InvalidCommand("the fast track binds only where the parties agreed to a binding "
                             "decision (arbitration or the jury track), whose decider hears "
                             "an objection; neither is agreed in this case")
    _check_allocation(case, cmd.allocation, "fast-track proposal")
    _check_outcome(case, cmd.recommended, cmd.allocation)
    proposal = FastTrack(recommended=cmd.recommended, allocation=cmd.allocation,
                         report_hash=cmd.report_hash, proposed_at=now)
    window = int(case.rules.period("fast_track_days").total_seconds())
    return {"fast_track": proposal, "pre_evaluation": (cmd.recommended, cmd.report_hash)}, [
        SubmitFastTrackToEscrow(order_id=case.order.order_id, case_id=case.case_id,
                                allocation=cmd.allocation, report_hash=cmd.report_hash,
                                window_seconds=window),
        NotifyParties(kind="fast_track_proposed", recipients=case.parties),
    ]


def _object_to_fast_track(case: CaseState, cmd: c.ObjectToFastTrack, now: datetime
                          ) -> Changes:
    assert case.fast_track is not None  # the stage exists only with a proposal
    # the party's one objection, as against a jury's verdict (and on the escrow: its
    # objectToAward on the pending decision spends the order's objection)
    return {"fast_track": replace(case.fast_track, objected_by=cmd.actor),
            "objection_by": cmd.actor}, [
        FastTrackObjectedOnChain(order_id=case.order.order_id, case_id=case.case_id,
                                 party=cmd.actor),
        NotifyParties(kind="fast_track_objected", recipients=_everyone(case)),
    ]


# -- the return stage (docs/procedure.md "Return and refund") ------------------------------


def _ship_return(case: CaseState, cmd: c.ShipReturn, now: datetime) -> Changes:
    return {"return_tracking": cmd.tracking, "return_carrier": cmd.carrier,
            "return_tracking_number": cmd.tracking_number}, [
        ReturnShippedOnChain(order_id=case.order.order_id, case_id=case.case_id,
                             buyer=cmd.actor, tracking=cmd.tracking),
        NotifyParties(kind="return_shipped", recipients=(case.order.seller,)),
    ]


def _return_received(case: CaseState, outcome: str) -> Changes:
    refund = case.return_refund
    assert refund is not None  # the return stage exists only under return terms
    return {"return_outcome": outcome}, [
        ConfirmReturnOnEscrow(order_id=case.order.order_id, case_id=case.case_id,
                              allocation=refund),
    ]


def _confirm_return_receipt(case: CaseState, cmd: c.ConfirmReturnReceipt, now: datetime
                            ) -> Changes:
    return _return_received(case, "received")


def _record_return_delivery(case: CaseState, cmd: c.RecordReturnDelivery, now: datetime
                            ) -> Changes:
    if cmd.tracking_number != case.return_tracking_number:
        raise InvalidCommand(f"tracking_number: the buyer's return shipment is "
                             f"{case.return_tracking_number!r}; found {cmd.tracking_number!r}")
    return _return_received(case, "delivered")


def _dispute_return_receipt(case: CaseState, cmd: c.DisputeReturnReceipt, now: datetime
                            ) -> Changes:
    """The return's receipt is in dispute: the return terms are dropped (as on the escrow)
    and an arbitrator, the same or another, decides it on a new evidence period."""
    return {"award": None, "record_closed_at": None, "enforcement_requested": False,
            "return_settlement": None, "return_outcome": "disputed"}, [
        ReturnDisputedOnChain(order_id=case.order.order_id, case_id=case.case_id,
                              seller=cmd.actor),
        NotifyParties(kind="return_disputed", recipients=_everyone(case)),
    ]


_HANDLERS: Mapping[type[c.Command], Callable[[CaseState, Any, datetime], Changes]] = {
    c.FileClaim: _file_claim,
    c.MakeOffer: _make_offer,
    c.AcceptOffer: _accept_offer,
    c.WithdrawOffer: _withdraw_offer,
    c.RequestFacilitation: _no_changes,
    c.AppointMediator: _appoint_mediator,
    c.PublishPreEvaluation: _publish_pre_evaluation,
    c.ProposeSettlement: _propose_settlement,
    c.DeclareImpasse: _no_changes,
    c.AgreeToArbitrate: _agree_to_arbitrate,
    c.AppointArbitrator: _appoint_arbitrator,
    c.SubmitEvidence: _submit_evidence,
    c.SubmitAnswer: _submit_answer,
    c.CloseRecord: _no_changes,
    c.IssueAward: _issue_award,
    c.Object: _object,
    c.AppointPanel: _appoint_panel,
    c.IssuePanelAward: _issue_panel_award,
    c.Enforce: _enforce,
    c.RecordEnforcement: _record_enforcement,
    c.ConfirmJudicially: _court_decision,
    c.RefuseConfirmation: _court_decision,
    c.ChooseJuryTrack: _choose_jury_track,
    c.CommitJurySeed: _commit_jury_seed,
    c.DrawJury: _draw_jury,
    c.MarkForJury: _mark_for_jury,
    c.AcceptJuryDuty: _accept_jury_duty,
    c.CommitVote: _commit_vote,
    c.RevealVote: _reveal_vote,
    c.RecordTally: _record_tally,
    c.ProposeFastTrack: _propose_fast_track,
    c.ObjectToFastTrack: _object_to_fast_track,
    c.ShipReturn: _ship_return,
    c.ConfirmReturnReceipt: _confirm_return_receipt,
    c.RecordReturnDelivery: _record_return_delivery,
    c.DisputeReturnReceipt: _dispute_return_receipt,
}
assert set(_HANDLERS) == set(c.COMMAND_TYPES), "every command type needs a handler"
