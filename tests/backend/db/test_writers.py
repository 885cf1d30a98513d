"""backend/db/writers.py: SQLite's writers of several processes take turns on a lock file."""

from __future__ import annotations

import os
import subprocess
import sys
import threading
import time
from pathlib import Path

import pytest

from backend.db.writers import WriterLock, lock_path_of

HOLDER = """
import sys, time
from pathlib import Path
from backend.db.writers import WriterLock
lock = WriterLock(Path(sys.argv[1]))
with lock:
    print("held", flush=True)
    time.sleep(float(sys.argv[2]))
    print(f"releasing {time.time()!r}", flush=True)
print("done", flush=True)
"""


def test_lock_path_beside_the_database_file_and_none_in_memory() -> None:
    assert lock_path_of("/data/chainarb.db") == Path("/data/chainarb.db-writers")
    assert lock_path_of(":memory:") is None
    assert lock_path_of("") is None and lock_path_of(None) is None
    assert lock_path_of("file:x?mode=memory&cache=shared") is None


def test_a_writer_of_another_process_waits_for_the_holder(tmp_path: Path) -> None:
    path = tmp_path / "db.sqlite-writers"
    holder = subprocess.Popen([sys.executable, "-c", HOLDER, str(path), "0.5"],
                              stdout=subprocess.PIPE, text=True, cwd=Path.cwd())
    assert holder.stdout is not None
    assert holder.stdout.readline().strip() == "held"
    lock = WriterLock(path)
    with lock:
        acquired = time.time()
        assert lock.locked()
    released = float(holder.stdout.readline().split()[1])
    holder.wait(timeout=30)
    assert acquired >= released  # not before the other process let go
    assert not lock.locked()
    lock.close()


def test_threads_of_one_process_take_turns(tmp_path: Path) -> None:
    lock = WriterLock(tmp_path / "w")
    inside, most = 0, 0
    guard = threading.Lock()

    def writer() -> None:
        nonlocal inside, most
        for _ in range(50):
            with lock:
                with guard:
                    inside += 1
                    most = max(most, inside)
                time.sleep(0.0005)
                with guard:
                    inside -= 1

    threads = [threading.Thread(target=writer) for _ in range(4)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert most == 1
    lock.close()


def test_acquire_and_release_as_a_thread_lock_and_a_failed_open_frees_the_threads(
        tmp_path: Path) -> None:
    lock = WriterLock(tmp_path / "no such dir" / "w")
    with pytest.raises(FileNotFoundError):
        lock.acquire()
    assert not lock.locked()  # the thread lock was given back
    in_memory = WriterLock(None)
    in_memory.acquire()
    assert in_memory.locked()
    in_memory.release()
    assert not in_memory.locked()


def test_a_forked_child_opens_its_own_lock_file_description(tmp_path: Path) -> None:
    """A child's inherited descriptor would share its parent's lock: it opens its own, so
    the parent's holding it keeps the child out."""
    path = tmp_path / "w"
    lock = WriterLock(path)
    with lock:
        pass  # the descriptor is open now
    read, write = os.pipe()
    with lock:
        pid = os.fork()
        if pid == 0:  # the child: must not get the lock while the parent holds it
            code = 1
            try:
                os.close(read)
                lock._threads = threading.Lock()  # its copy of the held one: a fresh one
                with lock:
                    os.write(write, b"got it")
                code = 0
            finally:
                os._exit(code)
        os.close(write)
        time.sleep(0.3)
        got_early = os.read(read, 16) if _readable(read) else b""
    status = os.waitpid(pid, 0)[1]
    rest = os.read(read, 16)
    os.close(read)
    lock.close()
    assert got_early == b""  # not while the parent held it
    assert rest == b"got it" and os.WEXITSTATUS(status) == 0


def _readable(fd: int) -> bool:
    import select

    return bool(select.select([fd], [], [], 0)[0])
