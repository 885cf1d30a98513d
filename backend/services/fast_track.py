"""The fast track at the edge (docs/jury.md "Fast track"): the report the mediator proposes,
and the check that a proposal is that report.

Why here and not in the core: the pre-evaluation reads the order's performance evidence
(carrier events, the parties' delivery records: ``backend.services.performance``), which
only the edge holds. The core (``ProposeFastTrack``) checks the threshold, the agreement,
the allocation and its outcome; this module checks that the mediator proposes exactly the
rule-based pre-evaluation of the evidence as recorded now — never a what-if, never the
mediator's own figures — so the reasons in the record are the reasons of the proposal.

The check runs before the step's write lock (reading the evidence opens its own session):
evidence recorded between the check and the step is not in the proposal; the report's
``basis`` names the tracking event it read, so the record shows what it rested on.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from datetime import timedelta
from typing import Annotated

from typing_extensions import TypedDict

from backend import procedure as p
from backend.answers import AS_OBJECT, open_answer
from backend.performance import PerformanceFacts, TrackingBasisJson, evidence_facts
from evidence.records import canonical_json

from .errors import BadSubmission

__all__ = ["CheckedReportJson", "FastTrackJson", "FastTrackReportJson", "PreEvaluationJson",
           "check_proposal", "proposal", "window_words"]


class CheckedReportJson(p.PreEvaluationReportJson):
    """The core's pre-evaluation report with the ``basis`` its tracking status rests on."""

    basis: TrackingBasisJson


class FastTrackReportJson(CheckedReportJson):
    """A fast-track proposal's report: with the objection window, in seconds."""

    windowSeconds: int  # noqa: N815 (JSON field names are camelCase)


@open_answer
class PreEvaluationJson(TypedDict):
    """A rule-based pre-evaluation report, its canonical JSON and SHA-256 (``reportHash``)
    and the outcome it recommends."""

    # described as an object, as the free JSON it was declared before (backend/answers.py)
    report: Annotated[CheckedReportJson, AS_OBJECT]
    canonical: str
    sha256: str
    recommended: str


@open_answer
class FastTrackJson(PreEvaluationJson):
    """The fast track's proposal: the report and the payload of ``fasttrack.proposed``."""

    payload: dict[str, str]


def window_words(window: timedelta) -> tuple[str, str]:
    """The objection window in words (English, Chinese): days when whole, else seconds."""
    seconds = int(window.total_seconds())
    if seconds % 86_400 == 0:
        days = seconds // 86_400
        return (f"{days} day{'s' if days != 1 else ''}", f"{days} 天")
    return (f"{seconds} seconds", f"{seconds} 秒")


def proposal(case: p.CaseState, facts: PerformanceFacts) -> FastTrackJson:
    """What the mediator signs for ``fasttrack.proposed``: the report (the reasons, by rule,
    in both languages, and its basis), its canonical JSON and SHA-256 (``reportHash``), and
    the payload's outcome and allocation (decimal strings, as signed)."""
    pre_facts, basis = evidence_facts(case, facts)
    window = case.rules.period("fast_track_days")
    report: FastTrackReportJson = {
        **p.pre_evaluate(pre_facts).as_dict(fast_track_window=window_words(window)),
        "basis": basis, "windowSeconds": int(window.total_seconds())}
    raw = canonical_json(report)
    a = report["allocation"]
    return {"report": report, "canonical": raw.decode(),
            "sha256": "0x" + hashlib.sha256(raw).hexdigest(),
            "recommended": report["outcome"],
            "payload": {"recommended": report["outcome"], "toBuyer": str(a["to_buyer"]),
                        "toSeller": str(a["to_seller"]),
                        "compensation": str(a["compensation"]),
                        "reportHash": "0x" + hashlib.sha256(raw).hexdigest()}}


def check_proposal(case: p.CaseState, facts: PerformanceFacts,
                   payload: Mapping[str, object] | None) -> None:
    """Refuse (``not_the_pre_evaluation``) a ``fasttrack.proposed`` payload other than the
    pre-evaluation of the evidence as recorded now. Only the figures are compared; whether
    the case admits the step at all is the procedure's answer (asked after this)."""
    if not isinstance(payload, Mapping):
        return  # the pipeline refuses a missing payload with its own code
    if case.dispute_type is None:
        return  # no claim: the procedure refuses the step (wrong stage)
    expected = proposal(case, facts)["payload"]
    differs = sorted(k for k, v in expected.items() if payload.get(k) != v)
    if differs:
        raise BadSubmission(
            f"payload: {', '.join(differs)} differ from the rule-based pre-evaluation of the "
            "order's performance evidence as recorded now (GET /cases/{id}/fast-track gives "
            "it); the fast track proposes that report and nothing else",
            code="not_the_pre_evaluation")
