"""The case view's threads (``backend/api/lane.py``): what the awaiting task gets is
``run_in_threadpool``'s (the value, the exception, the caller's contextvars), the work runs
off the event loop's thread, and a caller that stops waiting leaves the lane working."""

from __future__ import annotations

import asyncio
import contextvars
import threading

import pytest

from backend.api.lane import Lane
from backend.services.errors import NotFound

WHO: contextvars.ContextVar[str] = contextvars.ContextVar("who", default="nobody")


def test_the_value_comes_back_from_another_thread() -> None:
    lane = Lane(2, "view-lane")

    async def main() -> tuple[int, str, str]:
        here = threading.current_thread().name
        value = await lane.run(lambda a, b: a * b, 6, 7)
        there = await lane.run(lambda: threading.current_thread().name)
        return value, here, there

    value, here, there = asyncio.run(main())
    assert value == 42
    assert there.startswith("view-lane-") and there != here


def test_the_exception_is_raised_in_the_caller() -> None:
    lane = Lane(1)

    def refuse() -> None:
        raise NotFound("case 0x00 does not exist")

    async def main() -> None:
        await lane.run(refuse)

    with pytest.raises(NotFound, match="does not exist"):
        asyncio.run(main())


def test_a_stop_iteration_is_an_error_not_a_hang() -> None:
    lane = Lane(1)

    async def main() -> None:
        await lane.run(next, iter(()))

    with pytest.raises(RuntimeError, match="StopIteration"):
        asyncio.run(asyncio.wait_for(main(), 10))


def test_the_callers_context_is_seen() -> None:
    lane = Lane(1)

    async def main() -> str:
        WHO.set("reader")
        return await lane.run(WHO.get)

    assert asyncio.run(main()) == "reader"


def test_a_cancelled_caller_leaves_the_lane_working() -> None:
    lane = Lane(1)
    release = threading.Event()

    async def main() -> int:
        slow = asyncio.ensure_future(lane.run(release.wait, 10))
        await asyncio.sleep(0.05)
        slow.cancel()
        with pytest.raises(asyncio.CancelledError):
            await slow
        release.set()  # the dropped call ends; the next one is answered
        return await asyncio.wait_for(lane.run(lambda: 5), 10)

    assert asyncio.run(main()) == 5


def test_many_callers_on_few_threads() -> None:
    lane = Lane(2)
    seen: set[str] = set()

    def work(i: int) -> int:
        seen.add(threading.current_thread().name)
        return i * i

    async def main() -> list[int]:
        return list(await asyncio.gather(*(lane.run(work, i) for i in range(50))))

    assert asyncio.run(main()) == [i * i for i in range(50)]
    assert len(seen) <= 2


def test_a_lane_needs_a_thread() -> None:
    with pytest.raises(ValueError, match="at least one thread"):
        Lane(0)
