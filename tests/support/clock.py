"""The one clock of the tests: the service's injected clock, which tests move.

Fixed (the default, at ``T0``): time stands still unless a test moves it, so every date a
test asserts is exact. Running (``Clock.running()``): the wall time plus an offset, for
worlds where something outside the service reads the real time too (a browser signing
``signedAt`` with ``Date.now()``, a chain whose blocks carry real timestamps).
"""

from __future__ import annotations

import threading
from datetime import UTC, datetime, timedelta

T0 = datetime(2026, 11, 24, 8, 0, tzinfo=UTC)


class Clock:
    """Call it for the time; ``advance`` moves it; ``now`` may be set outright."""

    def __init__(self, now: datetime = T0, *, running: bool = False) -> None:
        self._running = running
        self._offset = now - datetime.now(UTC) if running else timedelta(0)
        self._fixed = now
        self._lock = threading.Lock()  # the service calls it from its worker threads

    @classmethod
    def running(cls) -> Clock:
        """The wall time, until a test moves it forward."""
        return cls(datetime.now(UTC), running=True)

    @property
    def now(self) -> datetime:
        with self._lock:
            return datetime.now(UTC) + self._offset if self._running else self._fixed

    @now.setter
    def now(self, value: datetime) -> None:
        with self._lock:
            if self._running:
                self._offset = value - datetime.now(UTC)
            else:
                self._fixed = value

    def __call__(self) -> datetime:
        return self.now

    def seconds(self) -> float:
        """The time as seconds since the epoch: for parts that take a monotonic clock (the
        TSA pool's rests), so that they move with the same clock as the rest."""
        return self.now.timestamp()

    def advance(self, seconds: float = 0, **delta: float) -> datetime:
        """Move by ``seconds`` plus any ``timedelta`` fields (days=, hours=, ...); a test
        may step back too (to show what an earlier request would have been answered)."""
        step = timedelta(seconds=seconds, **delta)
        with self._lock:
            if self._running:
                self._offset += step
            else:
                self._fixed += step
        return self.now
