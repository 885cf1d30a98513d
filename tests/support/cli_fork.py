"""The ``chainarb`` command as real processes that skip the interpreter's start and imports.

Why: a test that runs ``chainarb verify`` twenty times as a court does (a process each:
its exit code, its output, its working folder, nothing written outside) spent ~1.3 s of
CPU per run importing the same modules and ~0.1 s verifying. ``CliForks`` starts one
process (``python -m tests.support.cli_fork``) that imports the command's modules once
and then forks a child per run: each run is still its own process, with the given
arguments, working folder and environment, stdin from /dev/null, stdout and stderr
captured, and the exit code the command (or an uncaught exception: traceback, code 1)
gives it, as ``subprocess.run([chainarb, ...])`` would.

The protocol: one JSON line per run in (``argv``, ``cwd``, ``env``), one JSON line out
(``returncode``, ``stdout``, ``stderr``).
"""

from __future__ import annotations

import importlib
import json
import os
import signal
import subprocess
import sys
import tempfile
import threading
import traceback
from pathlib import Path
from typing import Any

__all__ = ["CliForks"]

REPO = Path(__file__).resolve().parents[2]


class CliForks:
    """A forking ``chainarb`` (module doc); ``run`` is ``subprocess.run``'s answer."""

    def __init__(self, env: dict[str, str] | None = None, preload: tuple[str, ...] = ()) -> None:
        """``env``: the server's (and by default each run's); ``preload``: modules besides
        the command's that the runs would import (e.g. ``web3`` for a run that opens a
        chain), imported once in the server."""
        self._proc = subprocess.Popen(
            [sys.executable, "-m", "tests.support.cli_fork", *preload], cwd=REPO,
            env=env if env is not None else dict(os.environ),
            stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True)
        self._lock = threading.Lock()

    def run(self, argv: list[str], cwd: Path, env: dict[str, str] | None = None,
            timeout: float = 120) -> subprocess.CompletedProcess[str]:
        """``chainarb *argv`` in ``cwd`` with ``env`` (default: the server's), in a child."""
        assert self._proc.stdin is not None and self._proc.stdout is not None
        ask = {"argv": argv, "cwd": str(cwd), "env": env, "timeout": timeout}
        with self._lock:
            self._proc.stdin.write(json.dumps(ask) + "\n")
            self._proc.stdin.flush()
            line = self._proc.stdout.readline()
        if not line:
            raise RuntimeError(f"the chainarb fork server ended (code {self._proc.poll()})")
        out = json.loads(line)
        return subprocess.CompletedProcess(["chainarb", *argv], out["returncode"],
                                           out["stdout"], out["stderr"])

    def close(self) -> None:
        if self._proc.stdin is not None:
            self._proc.stdin.close()
        try:
            self._proc.wait(timeout=30)
        except subprocess.TimeoutExpired:
            self._proc.kill()
            self._proc.wait()
        if self._proc.stdout is not None:
            self._proc.stdout.close()

    def __enter__(self) -> CliForks:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _child(ask: dict[str, Any], out_fd: int, err_fd: int) -> None:
    """In the forked child: become ``chainarb *argv`` and exit with its code."""
    code = 1
    try:
        null = os.open(os.devnull, os.O_RDONLY)
        os.dup2(null, 0)
        os.dup2(out_fd, 1)
        os.dup2(err_fd, 2)
        if ask["env"] is not None:
            os.environ.clear()
            os.environ.update(ask["env"])
        os.chdir(ask["cwd"])
        signal.alarm(max(1, int(ask["timeout"])))  # subprocess.run's timeout: killed, code -14
        sys.argv = ["chainarb", *ask["argv"]]
        from evidence.cli import app

        try:
            app(args=ask["argv"], prog_name="chainarb")
            code = 0
        except SystemExit as exc:
            code = exc.code if isinstance(exc.code, int) else (0 if exc.code is None else 1)
            if exc.code is not None and not isinstance(exc.code, int):
                print(exc.code, file=sys.stderr)
        except BaseException:  # what the interpreter does with an uncaught exception
            traceback.print_exc()
            code = 1
    finally:
        try:
            sys.stdout.flush()
            sys.stderr.flush()
        finally:
            os._exit(code)


def _serve() -> None:
    """Import the command once (its plugins, the verifier, rich), then fork per request."""
    from evidence import cli

    cli._load_plugins()
    import rich.console  # what `verify` imports when it runs
    import rich.table  # noqa: F401

    import evidence.judicial.verify  # noqa: F401

    for name in sys.argv[1:]:
        importlib.import_module(name)

    asks, answers = sys.stdin, os.fdopen(os.dup(1), "w")
    for line in asks:
        ask = json.loads(line)
        with tempfile.TemporaryFile() as out, tempfile.TemporaryFile() as err:
            pid = os.fork()
            if pid == 0:
                _child(ask, out.fileno(), err.fileno())
            _, status = os.waitpid(pid, 0)
            out.seek(0)
            err.seek(0)
            answers.write(json.dumps({
                "returncode": os.waitstatus_to_exitcode(status),
                "stdout": out.read().decode(), "stderr": err.read().decode()}) + "\n")
            answers.flush()


if __name__ == "__main__":
    _serve()
