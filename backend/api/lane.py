"""Threads of their own for the shortcuts' blocking parts (``shortcut.Shortcuts``): the
case view's few, and the signed steps'.

Why (issue 10): a case view is a short blocking read (the session cache, one SELECT, a
kept text), and the way Starlette's ``run_in_threadpool`` hands it to a thread (anyio's
``to_thread.run_sync``: the async library sniffed, a capacity limiter, a cancel scope, a
worker picked among up to 40) cost the event loop more than the view itself. Worse, at 50
concurrent readers anyio kept some ten threads busy, each taking a pooled connection and
contending for the GIL: on SQLite the pool's overflow connections were opened and closed
again (a connect and its pragmas every few reads) and the server made some 160 futex calls
per read (strace). Here the reads queue for ``VIEW_THREADS`` threads that take them one
after the other: one future per read, set from the thread through
``loop.call_soon_threadsafe``.

What the caller sees is ``run_in_threadpool``'s: the function's value, or its exception
raised in the awaiting task, run in a copy of the caller's context (contextvars). One
difference, on purpose: a cancelled caller stops waiting at once (anyio shields it until the
thread is done); the read still runs to its end in the thread and its answer is dropped.
The signed steps take the same kind of trip in a lane of their own, ``STEP_THREADS``
wide (anyio's default limiter gave every request 40, and a group commit gathers the steps
waiting at once), so that a burst of steps never waits behind reads, nor reads behind steps.
The threads are daemons, started on first use, shared by every app of the process (a test
session builds many) and started again in a forked child.
"""

from __future__ import annotations

import asyncio
import contextlib
import contextvars
import os
import queue
import threading
from collections.abc import Callable
from typing import Any, TypeVar

__all__ = ["STEP_THREADS", "VIEW_THREADS", "Lane", "step_lane", "view_lane"]

T = TypeVar("T")

# Enough to overlap a few PostgreSQL round trips, no more than SQLite's pool keeps open
# (sqlalchemy's QueuePool: 5), so a burst of reads never opens overflow connections.
VIEW_THREADS = 4
# As many as anyio's default capacity limiter let run at once: the steps a group gathers
STEP_THREADS = 40

_Job = tuple[asyncio.AbstractEventLoop, "asyncio.Future[Any]", contextvars.Context,
             Callable[..., Any], tuple[object, ...]]


class Lane:
    """``threads`` worker threads taking blocking calls from one queue, in order."""

    def __init__(self, threads: int, name: str = "lane") -> None:
        if threads < 1:
            raise ValueError(f"a lane needs at least one thread, not {threads}")
        self.threads = threads
        self.name = name
        self._jobs: queue.SimpleQueue[_Job] = queue.SimpleQueue()
        self._started = 0
        self._lock = threading.Lock()
        os.register_at_fork(after_in_child=self._forked)

    def _forked(self) -> None:
        """A forked child has none of the parent's threads: start them anew."""
        self._jobs = queue.SimpleQueue()
        self._started = 0
        self._lock = threading.Lock()

    async def run(self, fn: Callable[..., T], *args: object) -> T:
        """``fn(*args)`` in one of the lane's threads; its value or its exception."""
        if self._started < self.threads:
            self._start()
        loop = asyncio.get_running_loop()
        answer: asyncio.Future[T] = loop.create_future()
        self._jobs.put((loop, answer, contextvars.copy_context(), fn, args))
        return await answer

    def _start(self) -> None:
        with self._lock:
            if self._started < self.threads:
                self._started += 1
                threading.Thread(target=self._work, args=(self._jobs,),
                                 name=f"{self.name}-{self._started}", daemon=True).start()

    @staticmethod
    def _work(jobs: queue.SimpleQueue[_Job]) -> None:
        while True:
            loop, answer, context, fn, args = jobs.get()
            try:
                value, error = context.run(fn, *args), None
            except BaseException as exc:  # the caller's to raise, as anyio's
                value, error = None, exc
            # a closed loop (RuntimeError): nobody waits for the answer any more
            with contextlib.suppress(RuntimeError):
                loop.call_soon_threadsafe(_settle, answer, value, error)
            del loop, answer, value, error, fn, args, context  # hold nothing idle


def _settle(answer: asyncio.Future[Any], value: Any, error: BaseException | None) -> None:
    """On the loop: the answer, unless its caller stopped waiting (cancelled)."""
    if answer.done():
        return
    if isinstance(error, StopIteration):  # a future cannot hold one (as a coroutine's)
        error = RuntimeError(f"{error!r} raised in the lane")
    if error is not None:
        answer.set_exception(error)
    else:
        answer.set_result(value)


view_lane = Lane(VIEW_THREADS, "view-lane")
step_lane = Lane(STEP_THREADS, "step-lane")
