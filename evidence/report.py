"""The one model of a verification's outcome: named checks, each with a status and reason.

Both verifiers report with it: `evidence.verify` (one anchored item, `chainarb evidence
verify`) and `evidence.judicial.verify` (a court's package, `chainarb verify`), and the
package verifier runs the item verifier's checks inside its own (`check_inclusion`).

Rules of this module:

1. A status says what a court may conclude, never more: `SKIPPED` (does not apply, or
   could not run: no chain, the node does not answer) and `NOT_RUN` (an earlier check
   failed) are not passes. Each verifier states when its report is `ok` (the item
   verifier: nothing failed; the package verifier: everything passed).
2. A result is plain data, frozen. Its `reason` names what was checked and, on a failure,
   what was expected and found; `details` lists every problem when there are several.
3. The words users read are the verifiers' own (their JSON formats and CLI message
   catalogs, each documented); the message key of a status is `mark_<status>` in both
   CLIs' catalogs.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum
from typing import TypedDict

__all__ = ["CheckResult", "Note", "NoteJson", "Report", "Status"]


class Status(StrEnum):
    """What became of one check."""

    PASSED = "passed"
    FAILED = "failed"
    SKIPPED = "skipped"  # does not apply, was not asked for, or could not run
    NOT_RUN = "not_run"  # an earlier check failed and this one depends on it

    @property
    def message_key(self) -> str:
        """The key of this status's mark in the CLIs' message catalogs."""
        return f"mark_{self.value}"


@dataclass(frozen=True)
class CheckResult:
    """One named check's outcome."""

    name: str
    status: Status
    reason: str
    details: tuple[str, ...] = ()
    expected: str | None = None
    found: str | None = None

    @property
    def passed(self) -> bool:
        return self.status is Status.PASSED

    def not_run(self, reason: str) -> CheckResult:
        """This check as not run (an earlier one failed), keeping its name."""
        return CheckResult(self.name, Status.NOT_RUN, reason)


class NoteJson(TypedDict):
    """A note in a report's JSON: its name and its text in both languages ("en", "zh")."""

    name: str
    text: dict[str, str]


@dataclass(frozen=True)
class Note:
    """What a court must know beside the checks: a limit of what they prove (e.g. anchors
    only on the operator's own chains). Not a failure; stated in both languages."""

    name: str
    en: str
    zh: str

    def to_json_obj(self) -> NoteJson:
        return {"name": self.name, "text": {"en": self.en, "zh": self.zh}}


@dataclass(frozen=True)
class Report:
    """The results of a verifier's checks, in the order they ran."""

    checks: Sequence[CheckResult] = field(default_factory=tuple)

    def check(self, name: str) -> CheckResult:
        """The result of the check called `name`."""
        for c in self.checks:
            if c.name == name:
                return c
        raise KeyError(name)

    @property
    def failure(self) -> CheckResult | None:
        """The first failed check, if any."""
        return next((c for c in self.checks if c.status is Status.FAILED), None)

    def named(self, status: Status) -> tuple[str, ...]:
        """The names of the checks with `status`, in order."""
        return tuple(c.name for c in self.checks if c.status is status)

    def failed(self) -> list[str]:
        """The names of the checks that did not pass (failed, skipped or not run)."""
        return [c.name for c in self.checks if not c.passed]
