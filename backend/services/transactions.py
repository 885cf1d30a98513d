"""Step transactions: a step's locked part runs in a transaction that commits, or not at all.

Why apart from the pipeline: how steps share transactions is a property of the database,
not of a step. Concurrent steps of one process share one transaction (``group_commit``:
one commit per group of up to ``GROUP_COMMIT_MAX``), each still accepted or refused on its
own. SQLite has one writer, so a group also holds this process's write lock. PostgreSQL
locks each step's case row (``FOR UPDATE``) until the group commits, so workers in several
processes still write different cases at once. Two processes' groups can lock two cases
in opposite orders: PostgreSQL then aborts one lock wait as a deadlock (``40P01``), and
that step runs again after its group, alone in a transaction of its own. Either way a
unique ``(case_id, sequence)`` conflict is reported as a stale step, and the after-commit
hooks (cache fills) run only once the step is durable. A group's log entries are appended
at its end, just before its COMMIT (``backend.log.store`` rule 8): the log's counter row,
which every process's appends share, is locked for that statement and the COMMIT only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from typing import Generic, TypeVar

from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlmodel import Session

from backend.db import begin_exclusive
from backend.log.store import defer_appends, flush_appends

from .errors import StaleStep
from .group_commit import GroupCommitter, Unit
from .repository import CaseRepository

__all__ = ["GROUP_COMMIT_MAX", "StepTransactions", "after_commit", "stale_step"]

log = logging.getLogger(__name__)

# Steps per group commit. Measured with bench/api.py at 50 clients: 8 gave the
# best rate and tail (p99 ~0.6 s); 32-64 made the tail 4x longer and the rate lower (a
# step's answer waits for its whole group, and a long group holds the GIL in long runs).
GROUP_COMMIT_MAX = 8

R = TypeVar("R")
_HOOKS = "after_commit"
# PostgreSQL's SQLSTATEs of a lock wait it aborted: the step is run again on its own
_LOCK_CONFLICTS = frozenset({"40P01", "40001"})  # deadlock_detected, serialization_failure


def after_commit(session: Session, fn: Callable[[], None]) -> None:
    """Run ``fn`` once the transaction holding this step has committed; dropped if the
    step (or its group) rolls back."""
    session.info.setdefault(_HOOKS, []).append(fn)


def stale_step() -> StaleStep:
    return StaleStep("another step took this position in the case first; reload and sign "
                     "again")


class StepTransactions(Generic[R]):
    """Commits units of step work (``unit(session) -> R``) in the database's way."""

    def __init__(self, repository: CaseRepository, *, max_group: int = GROUP_COMMIT_MAX
                 ) -> None:
        self.repository = repository
        self.sessions = repository.sessions
        # the writers' queue (SQLite) is the committer's gate: a group is taken once the
        # leader may write, with whatever queued while it waited (group_commit)
        self.committer: GroupCommitter[R] = GroupCommitter(self._run_group,
                                                           max_group=max_group,
                                                           gate=repository.writer)

    def commit(self, unit: Callable[[Session], R]) -> R:
        """Run a step's locked part and commit it; returns its result once durable, or
        raises its refusal (``StaleStep`` for a position taken meanwhile)."""
        return self.committer.submit(unit)

    def _run_group(self, units: Sequence[Unit[R]]) -> None:
        """One transaction for a group of steps (``GroupCommitter``'s run_group; see
        ``_transaction``). Results are settled after the commit; if the transaction fails
        outside a unit, the committer fails the whole group and the session's rollback
        stores none of it. A unit of a group of several whose lock wait PostgreSQL aborted
        (a deadlock with another process's group) runs again once the group is settled,
        in a transaction of its own."""
        retry = self._transaction(units)
        for u in retry:  # alone now: nothing of this process holds a lock it waits for
            try:
                self._transaction([u])
            except Exception as exc:  # its own failure; the group's steps are committed
                u.fail(exc)

    def _transaction(self, units: Sequence[Unit[R]]) -> list[Unit[R]]:
        """Run ``units`` in one transaction; returns those to run again (lock conflicts
        in a group of several), every other unit settled.

        No SAVEPOINT per unit (issue 10: two statements, on PostgreSQL two round trips, per
        step): a unit that fails rolls the transaction back; it hears its own refusal and
        the others run again, in a new transaction, on the state as it then is (a step
        is decided on what is committed, so running it again is running it once).
        PostgreSQL unreachable (at BEGIN, inside a unit, at COMMIT): nothing of the group
        is stored and each of its requests hears the database's own error (503
        ``database_unavailable``), as with a transaction per step."""
        retry: list[Unit[R]] = []
        pending = list(units)
        done: list[tuple[Unit[R], R]] = []
        try:
            while pending:
                with self.repository.writer_session() as session:  # inside the gate
                    begin_exclusive(session)  # PostgreSQL: a marked write unit
                    defer_appends(session)  # the group's log entries go last (log rule 8)
                    hooks: list[Callable[[], None]] = session.info.setdefault(_HOOKS, [])
                    done = []
                    failed: tuple[Unit[R], BaseException | None] | None = None
                    for u in pending:
                        try:
                            done.append((u, u.fn(session)))
                            continue
                        except IntegrityError:
                            failed = (u, stale_step())
                        except DBAPIError as exc:
                            if exc.connection_invalidated:
                                raise  # the connection, and the group's work on it, is gone
                            lock = len(pending) > 1 and _lock_conflict(exc)
                            failed = (u, None if lock else exc)
                            if lock:
                                retry.append(u)
                        except Exception as exc:  # the step's refusal: its request hears it
                            failed = (u, exc)
                        break
                    if failed is not None:
                        session.rollback()
                        unit, error = failed
                        if error is not None:
                            unit.fail(error)
                        pending = [x for x in pending if x is not unit]
                        done = []
                        continue  # the others again, in a new transaction
                    try:
                        # the group's entries, numbered in the units' order: the log's
                        # counter row is locked from here to the COMMIT only
                        flush_appends(session)
                    except DBAPIError as exc:
                        if exc.connection_invalidated or not _lock_conflict(exc):
                            raise
                        session.rollback()  # a deadlock at the counter: all again
                        done = []
                        continue
                    try:
                        session.commit()
                    except IntegrityError:  # a conflict found at commit
                        if len(pending) > 1:
                            raise  # the committer fails the group: nothing of it stored
                        session.rollback()
                        pending[0].fail(stale_step())
                        done = []
                    pending = []
        except DBAPIError as exc:
            if self.repository.sqlite:
                raise  # the committer fails the group (503 commit_failed)
            for u in units:
                if not u.settled:
                    u.fail(exc)
            return []
        if done:
            _run_hooks(hooks)
        for u, result in done:
            u.succeed(result)
        return retry


def _lock_conflict(exc: DBAPIError) -> bool:
    """PostgreSQL aborted this statement's lock wait (deadlock or serialization)."""
    return getattr(exc.orig, "sqlstate", None) in _LOCK_CONFLICTS


def _run_hooks(hooks: Sequence[Callable[[], None]]) -> None:
    """After-commit hooks only fill caches: one that fails must not turn a committed
    step into an error (the cache then misses and the next step reads the database)."""
    for hook in hooks:
        try:
            hook()
        except Exception:
            log.exception("after-commit hook failed (a cache miss follows)")
