"""GroupCommitter on its own: grouping, per-unit refusals, failed groups, hand-over.

The ``run_group`` here is a stand-in transaction over a list (the real one is
``StepTransactions._run_group`` in backend/services/transactions.py, tested through the
API in tests/backend/api): it records which units ran in which group and "commits" by
extending the list.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from backend.services.errors import GroupCommitFailed, StaleStep
from backend.services.group_commit import GroupCommitter, Unit


class Ledger:
    """A toy store: units append to a pending list; commit publishes it."""

    def __init__(self) -> None:
        self.committed: list[Any] = []
        self.groups: list[list[Any]] = []
        self.gate = threading.Event()
        self.gate.set()
        self.fail_group: int | None = None  # index of the group whose commit fails
        self.running = threading.Event()

    def run_group(self, units: Sequence[Unit[Any]]) -> None:
        self.running.set()
        self.gate.wait(10)
        pending: list[Any] = []
        ran: list[Any] = []
        done = []
        for u in units:
            try:
                value = u.fn(pending)  # the unit sees the group's earlier work
                done.append((u, value))
            except StaleStep as exc:
                u.fail(exc)
            ran.append(getattr(u.fn, "tag", None))
        self.groups.append(ran)
        if self.fail_group == len(self.groups) - 1:
            raise OSError("disk full")
        self.committed.extend(pending)
        for u, value in done:
            u.succeed(value)


def _put(tag: Any, *, position: int | None = None) -> Any:
    """A unit storing ``tag``; with ``position`` it is refused unless that position is
    free in the committed list plus the group's earlier work (a stale step)."""

    def fn(pending: list[Any]) -> Any:
        if position is not None and position != len(pending) + len(LEDGER_REF[0].committed):
            raise StaleStep(f"{tag}: position {position} is taken")
        pending.append(tag)
        return tag

    fn.tag = tag  # type: ignore[attr-defined]
    return fn


LEDGER_REF: list[Ledger] = []


@pytest.fixture
def ledger() -> Ledger:
    LEDGER_REF[:] = [Ledger()]
    return LEDGER_REF[0]


def _wait_queued(committer: GroupCommitter[Any], n: int) -> None:
    deadline = time.monotonic() + 10
    while committer.pending < n:
        assert time.monotonic() < deadline, f"only {committer.pending} of {n} queued"
        time.sleep(0.005)


def test_one_unit_alone_is_its_own_group(ledger: Ledger) -> None:
    c: GroupCommitter[Any] = GroupCommitter(ledger.run_group)
    assert c.submit(_put("a")) == "a"
    assert ledger.committed == ["a"] and c.groups == 1 and c.units == 1


def test_units_queued_during_a_group_share_the_next_one_in_arrival_order(
        ledger: Ledger) -> None:
    c: GroupCommitter[Any] = GroupCommitter(ledger.run_group)
    ledger.gate.clear()  # the first group holds the "transaction" open
    with ThreadPoolExecutor(12) as pool:
        first = pool.submit(c.submit, _put("first"))
        assert ledger.running.wait(10)
        later = []
        for i in range(10):
            later.append(pool.submit(c.submit, _put(i)))
            _wait_queued(c, i + 1)  # submitted one by one: a known arrival order
        ledger.gate.set()
        assert first.result(10) == "first"
        assert [f.result(10) for f in later] == list(range(10))
    assert ledger.groups == [["first"], list(range(10))]
    assert ledger.committed == ["first", *range(10)]
    assert (c.groups, c.units, c.pending) == (2, 11, 0)


def test_a_refusal_in_a_group_touches_only_its_own_request(ledger: Ledger) -> None:
    c: GroupCommitter[Any] = GroupCommitter(ledger.run_group)
    ledger.gate.clear()
    with ThreadPoolExecutor(8) as pool:
        blocker = pool.submit(c.submit, _put("blocker"))
        assert ledger.running.wait(10)
        # three claims on position 1 and one on 2: the first claim of 1 wins, the other
        # two are stale, and the claim of 2 (after the winner) is accepted
        futures = []
        for i, (tag, pos) in enumerate([("x", 1), ("y", 1), ("z", 2), ("w", 1)]):
            futures.append(pool.submit(c.submit, _put(tag, position=pos)))
            _wait_queued(c, i + 1)
        ledger.gate.set()
        assert blocker.result(10) == "blocker"
        outcomes = []
        for f in futures:
            try:
                outcomes.append(f.result(10))
            except StaleStep as exc:
                outcomes.append(f"stale: {exc}")
    assert outcomes == ["x", "stale: y: position 1 is taken", "z",
                        "stale: w: position 1 is taken"]
    assert ledger.committed == ["blocker", "x", "z"]


def test_a_failed_group_fails_every_waiter_and_the_next_group_works(ledger: Ledger) -> None:
    c: GroupCommitter[Any] = GroupCommitter(ledger.run_group)
    ledger.gate.clear()
    with ThreadPoolExecutor(8) as pool:
        blocker = pool.submit(c.submit, _put("blocker"))
        assert ledger.running.wait(10)
        doomed = []
        for i in range(5):
            doomed.append(pool.submit(c.submit, _put(i)))
            _wait_queued(c, i + 1)
        ledger.fail_group = 1  # the group after the blocker's
        ledger.gate.set()
        assert blocker.result(10) == "blocker"
        for f in doomed:
            with pytest.raises(GroupCommitFailed, match="disk full") as info:
                f.result(10)
            assert isinstance(info.value.__cause__, OSError)
            assert info.value.http_status == 503 and info.value.code == "commit_failed"
    assert ledger.committed == ["blocker"]  # nothing of the failed group
    assert c.submit(_put("again")) == "again"  # the committer is not stuck
    assert ledger.committed == ["blocker", "again"] and c.pending == 0


def test_a_crash_in_the_first_group_with_nobody_waiting(ledger: Ledger) -> None:
    c: GroupCommitter[Any] = GroupCommitter(ledger.run_group)
    ledger.fail_group = 0
    with pytest.raises(GroupCommitFailed):
        c.submit(_put("a"))
    assert c.submit(_put("b")) == "b" and ledger.committed == ["b"]


def test_run_group_must_settle_every_unit() -> None:
    def forgetful(units: Sequence[Unit[Any]]) -> None:
        units[0].succeed("only the first")

    c: GroupCommitter[Any] = GroupCommitter(forgetful)
    assert c.submit(lambda _s: None) == "only the first"
    c2: GroupCommitter[Any] = GroupCommitter(lambda units: None)
    with pytest.raises(GroupCommitFailed, match="unsettled"):
        c2.submit(lambda _s: None)


def test_groups_are_capped_and_the_rest_waits_for_the_next(ledger: Ledger) -> None:
    c: GroupCommitter[Any] = GroupCommitter(ledger.run_group, max_group=3)
    ledger.gate.clear()
    with ThreadPoolExecutor(10) as pool:
        blocker = pool.submit(c.submit, _put("blocker"))
        assert ledger.running.wait(10)
        futures = []
        for i in range(7):
            futures.append(pool.submit(c.submit, _put(i)))
            _wait_queued(c, i + 1)
        ledger.gate.set()
        assert [f.result(10) for f in futures] == list(range(7))
        blocker.result(10)
    assert ledger.groups == [["blocker"], [0, 1, 2], [3, 4, 5], [6]]
    with pytest.raises(ValueError):
        GroupCommitter(ledger.run_group, max_group=0)


def test_many_threads_every_unit_answered_exactly_once(ledger: Ledger) -> None:
    c: GroupCommitter[Any] = GroupCommitter(ledger.run_group, max_group=8)
    with ThreadPoolExecutor(32) as pool:
        results = list(pool.map(lambda i: c.submit(_put(i)), range(500)))
    assert results == list(range(500))
    assert sorted(ledger.committed) == list(range(500))
    assert c.units == 500 and c.pending == 0 and c.groups <= 500


def test_units_queued_while_the_leader_waits_at_the_gate_join_its_group(
        ledger: Ledger) -> None:
    """The gate (SQLite's writers' lock, held by another process meanwhile) is passed
    before the group is taken: what queued behind the waiting leader commits with it."""
    other_writer = threading.Lock()
    c: GroupCommitter[Any] = GroupCommitter(ledger.run_group, gate=lambda: other_writer)
    other_writer.acquire()
    with ThreadPoolExecutor(6) as pool:
        futures = []
        for i in range(5):
            futures.append(pool.submit(c.submit, _put(i)))
            _wait_queued(c, i + 1)  # the leader's own unit waits in the queue too
        assert not ledger.running.is_set()  # nothing runs while the gate is shut
        other_writer.release()
        assert [f.result(10) for f in futures] == list(range(5))
    assert ledger.groups == [list(range(5))] and (c.groups, c.units) == (1, 5)


def test_a_gate_that_fails_answers_every_queued_unit_and_the_next_group_runs(
        ledger: Ledger) -> None:
    class Broken:
        def __enter__(self) -> None:
            raise OSError("lock file gone")

        def __exit__(self, *exc: object) -> None:
            return None

    gates: list[Any] = [Broken()]
    c: GroupCommitter[Any] = GroupCommitter(
        ledger.run_group, gate=lambda: gates.pop() if gates else threading.Lock())
    with pytest.raises(GroupCommitFailed, match="lock file gone"):
        c.submit(_put("lost"))
    assert ledger.groups == [] and c.pending == 0
    assert c.submit(_put("next")) == "next"
    assert ledger.committed == ["next"]
