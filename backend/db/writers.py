"""SQLite's writers queue in the kernel, not in SQLite's busy handler.

Why (issue 10, fourteenth round): SQLite has one writer at a time. A second writer that
finds the database locked sleeps in SQLite's busy handler and tries again after 1, 2, 5,
10 ... up to 100 ms, whether or not the lock came free meanwhile. With two service
processes on one database file, their group commits therefore waited in those sleeps:
with two workers the saturating p99 was 1.3-1.5 s, 0.23-0.31 s with this lock
(bench/README.md, fourteenth round). Here a process's
writer takes a ``flock`` on a file beside the database before its ``BEGIN IMMEDIATE`` and
gives it back after its COMMIT: a waiting writer sleeps in the kernel and is woken the
moment the holder lets go, in turn. Inside a process, threads queue on a thread lock first
(one writer per process holds the file lock at a time). Writers that do not take it (a
CLI command, a migration) are still ordered by SQLite's own lock and busy timeout: the
file lock only orders the writers that share it, it guards nothing by itself.
"""

from __future__ import annotations

import fcntl
import os
import threading
from pathlib import Path
from types import TracebackType

__all__ = ["WriterLock", "lock_path_of"]


def lock_path_of(database: str | None) -> Path | None:
    """The lock file of a SQLite database file (``<file>-writers``); None for an
    in-memory database (nothing else can open it) or one named by a ``file:`` URI (its
    path is not the name: left to SQLite's busy handler)."""
    if not database or database == ":memory:" or database.startswith("file:"):
        return None
    return Path(database + "-writers")


class WriterLock:
    """A process's thread lock, then (with a path) an exclusive ``flock`` on that file
    while held. Re-opens the file in a forked child, whose inherited descriptor would
    share the parent's lock."""

    def __init__(self, path: Path | None) -> None:
        self.path = path
        self._threads = threading.Lock()
        self._fd: int | None = None
        self._pid = 0

    def locked(self) -> bool:
        return self._threads.locked()

    def acquire(self) -> None:
        self.__enter__()

    def release(self) -> None:
        self.__exit__(None, None, None)

    def __enter__(self) -> WriterLock:
        self._threads.acquire()
        if self.path is None:
            return self
        try:
            if self._fd is None or self._pid != os.getpid():
                if self._fd is not None:  # a forked child's copy of its parent's
                    os.close(self._fd)
                self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o600)
                self._pid = os.getpid()
            fcntl.flock(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._threads.release()
            raise
        return self

    def __exit__(self, kind: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        try:
            if self.path is not None and self._fd is not None:
                fcntl.flock(self._fd, fcntl.LOCK_UN)
        finally:
            self._threads.release()

    def close(self) -> None:
        """Close the lock file's descriptor (the service is shutting down)."""
        with self._threads:
            if self._fd is not None and self._pid == os.getpid():
                os.close(self._fd)
            self._fd = None
