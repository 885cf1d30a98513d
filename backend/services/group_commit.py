"""Group commit: concurrent writers share one transaction and one commit.

Why: on SQLite one writer writes at a time, so concurrent step submissions used to queue
for the write lock and each paid its own ``BEGIN IMMEDIATE``, session, commit and WAL
fsync inside the serialised section. With group commit the first waiting request becomes
the *leader*: it takes every queued unit of work (its own first), runs them in one
transaction (a refusal is reported to its own request and stores nothing of it:
``StepTransactions`` rolls back and runs the others again), commits once, and answers
every request of the group.
Requests that arrive meanwhile queue for the next group; the leader hands leadership to
the oldest of them, so nobody polls and every request is woken exactly once.

A ``gate`` (SQLite's writers' lock, shared with the other processes on the database file)
is taken by the leader *before* it takes its group: the requests that queue while another
process writes join the group that waits for it, instead of waiting for it and then for
that group too (issue 10: with two workers at half the saturating rate, each group held
the shared lock for about 3 ms, most of them alone).

Guarantees (tests/backend/services/test_group_commit.py):

* a unit's result is returned only after the commit that made it durable succeeded;
* units run one after the other in arrival order, each seeing the flushed work of the
  units before it in the group (so two requests for one position: the first wins, the
  second is refused as stale, exactly as with separate transactions);
* if the group fails (an exception ``run_group`` does not settle, e.g. the commit itself),
  every unit of the group fails with ``GroupCommitFailed`` and nothing of it is stored;
  the next group starts afresh.

The committer knows nothing about cases: ``run_group`` is the transaction (see
``StepTransactions._run_group`` in ``transactions``).
"""

from __future__ import annotations

import threading
from collections.abc import Callable, Sequence
from contextlib import AbstractContextManager, nullcontext
from typing import Any, Generic, TypeVar

from .errors import GroupCommitFailed

__all__ = ["GroupCommitter", "Unit"]

T = TypeVar("T")
DEFAULT_MAX_GROUP = 64


class Unit(Generic[T]):
    """One request's unit of work: ``fn(session)`` and, once settled, its outcome."""

    __slots__ = ("_result", "_settled", "_woken", "error", "fn")

    def __init__(self, fn: Callable[[Any], T]) -> None:
        self.fn = fn
        self._result: tuple[T] | None = None  # boxed: a unit's result may itself be None
        self.error: BaseException | None = None
        self._settled = False
        self._woken = threading.Event()

    def succeed(self, result: T) -> None:
        self._result, self._settled = (result,), True

    def outcome(self) -> T:
        """The settled unit's result, or its refusal raised."""
        if self.error is not None:
            raise self.error
        assert self._result is not None, "a unit is settled before its outcome is read"
        return self._result[0]

    def fail(self, error: BaseException) -> None:
        self.error, self._settled = error, True

    @property
    def settled(self) -> bool:
        return self._settled


class GroupCommitter(Generic[T]):
    """Runs units in groups through ``run_group(units)``, which must settle each unit
    (``succeed`` or ``fail``) and commit; if it raises instead, every unit of the group
    not yet failed fails with ``GroupCommitFailed`` (its results were never committed)."""

    def __init__(self, run_group: Callable[[Sequence[Unit[T]]], None], *,
                 max_group: int = DEFAULT_MAX_GROUP,
                 gate: Callable[[], AbstractContextManager[object]] = nullcontext) -> None:
        if max_group < 1:
            raise ValueError(f"max_group must be >= 1, found {max_group}")
        self._run_group = run_group
        self._gate = gate
        self._max_group = max_group
        self._lock = threading.Lock()
        self._queue: list[Unit[T]] = []
        self._busy = False  # a leader is running a group
        self.groups = 0  # committed or failed groups (for tests and the benchmark)
        self.units = 0

    @property
    def pending(self) -> int:
        """Units queued for the next group (not yet taken by a leader)."""
        with self._lock:
            return len(self._queue)

    def submit(self, fn: Callable[[Any], T]) -> T:
        """Run ``fn(session)`` in the next group; returns its result once committed, or
        raises its refusal (or ``GroupCommitFailed``)."""
        unit: Unit[T] = Unit(fn)
        with self._lock:
            self._queue.append(unit)
            lead = not self._busy
            self._busy = True
        if not lead:
            unit._woken.wait()  # settled by a leader, or handed the leadership
        if not unit.settled:
            self._lead()  # this unit is now first in the queue
        return unit.outcome()

    def _take(self) -> list[Unit[T]]:
        with self._lock:
            group = self._queue[:self._max_group]
            del self._queue[:self._max_group]
        return group

    def _lead(self) -> None:
        """Through the gate, run one group (the head of the queue as it is then), then
        wake its units and hand over (also when the group or the gate fails: nobody may be
        left waiting)."""
        group: list[Unit[T]] = []
        try:
            with self._gate():
                group = self._take()
                self._run_group(group)
                unsettled = [u for u in group if not u.settled]
                if unsettled:
                    raise RuntimeError(f"run_group left {len(unsettled)} unit(s) unsettled")
        except BaseException as exc:  # every waiter must hear of it
            group = group or self._take()  # the gate failed: the queue's head hears it
            for u in group:
                if u.error is None:
                    err = GroupCommitFailed(
                        "the group transaction holding this step failed and was rolled "
                        f"back ({type(exc).__name__}: {exc}); nothing of it was stored; "
                        "send it again")
                    err.__cause__ = exc
                    u.fail(err)
            if not isinstance(exc, Exception):
                raise  # KeyboardInterrupt & co.: the waiters are answered in finally
        finally:
            self._hand_over(group)

    def _hand_over(self, group: Sequence[Unit[T]]) -> None:
        with self._lock:
            self.groups += 1
            self.units += len(group)
            nxt = self._queue[0] if self._queue else None
            if nxt is None:
                self._busy = False
        for u in group:
            u._woken.set()
        if nxt is not None:
            nxt._woken.set()  # not settled: it leads the next group
