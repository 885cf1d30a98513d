"""Thread CPU per stage of the step path, for ``bench/inprocess.py --stages``.

Why not a profiler: cProfile's per-call cost inflates code made of many small calls several
fold, and a sampling profiler on two shared cores counts waits as work. Here each stage
(a method named below) is wrapped to add the calling thread's CPU time (``time.thread_time``)
it took; nested stages are counted in their own row and in their caller's. A stage's wrap
costs about a microsecond, so the figures are the code's own.
"""

from __future__ import annotations

import collections
import functools
import importlib
import inspect
import time
from collections.abc import Callable
from typing import Any

# (module, class or "" for a module function, attribute): the step path's stages, outside in
STAGES: tuple[tuple[str, str, str], ...] = (
    ("backend.services.pipeline", "StepPipeline", "submit"),
    ("backend.services.pipeline", "StepPipeline", "decode"),
    ("backend.services.pipeline", "StepPipeline", "authorize"),
    ("backend.services.pipeline", "StepPipeline", "prestore"),
    ("backend.services.step_store", "StepStore", "put_bundle"),
    ("evidence.ipfs.blockstore", "LocalBlockstore", "put"),
    ("backend.services.keys", "ServiceKey", "wrap"),
    ("backend.services.transactions", "StepTransactions", "commit"),
    ("backend.services.repository", "CaseRepository", "load"),
    ("backend.services.pipeline", "StepPipeline", "locate"),
    ("backend.services.pipeline", "StepPipeline", "translate"),
    ("backend.procedure", "", "apply"),
    ("backend.services.pipeline", "StepPipeline", "persist"),
    ("backend.services.step_store", "StepStore", "insert"),
    ("backend.db.blocks", "ServiceBlockstore", "write"),
    ("backend.worker.anchoring", "", "enqueue_and_log"),
    ("backend.log.store", "", "append_entry"),
    ("backend.log.store", "", "flush_appends"),  # a group's entries, at its end (rule 8)
    ("backend.services.step_store", "StepStore", "offer_signature"),
    ("backend.services.effects", "EffectInterpreter", "interpret"),
    ("backend.services.repository", "CaseRepository", "save"),
    ("sqlalchemy.orm", "Session", "commit"),
    ("backend.services.pipeline", "StepPipeline", "after_commit"),
    ("backend.log.service", "LogService", "receipt"),
    ("backend.services.views", "", "case_view_json"),
)


class StageClock:
    """Installs the wraps; ``report(n)`` gives each stage's calls and CPU ms per unit."""

    def __init__(self) -> None:
        self.cpu: dict[str, float] = collections.defaultdict(float)
        self.calls: collections.Counter[str] = collections.Counter()
        self.missing: list[str] = []

    def install(self) -> None:
        for module_name, owner_name, attr in STAGES:
            module = importlib.import_module(module_name)
            owner: Any = getattr(module, owner_name) if owner_name else module
            label = f"{owner_name or module_name.rsplit('.', 1)[-1]}.{attr}"
            if not hasattr(owner, attr):
                self.missing.append(label)  # the code moved on: say so, do not fail
                continue
            raw = inspect.getattr_static(owner, attr)
            fn = getattr(owner, attr)
            wrapped = self._wrap(fn, label)
            setattr(owner, attr, staticmethod(wrapped) if isinstance(raw, staticmethod)
                    else wrapped)
            if not owner_name:  # callers that imported the function by name
                self._rebind(module_name, attr, fn, wrapped)

    @staticmethod
    def _rebind(module_name: str, attr: str, old: Any, new: Any) -> None:
        import sys

        for name, mod in list(sys.modules.items()):
            if name.startswith(("backend", "evidence")) and getattr(mod, attr, None) is old:
                setattr(mod, attr, new)

    def _wrap(self, fn: Callable[..., Any], label: str) -> Callable[..., Any]:
        cpu, calls = self.cpu, self.calls

        @functools.wraps(fn)
        def timed(*args: Any, **kwargs: Any) -> Any:
            t0 = time.thread_time()
            try:
                return fn(*args, **kwargs)
            finally:
                cpu[label] += time.thread_time() - t0
                calls[label] += 1

        return timed

    def reset(self) -> None:
        self.cpu.clear()
        self.calls.clear()

    def report(self, units: int, unit: str) -> list[str]:
        lines = [f"thread CPU by stage, per {unit} ({units} {unit}s; nested stages also "
                 f"count in their caller's row):",
                 f"  {'stage':38s} {'calls':>7s} {'ms/call':>8s} {'ms/' + unit:>10s}"]
        for label, _ in sorted(self.cpu.items(), key=lambda kv: -kv[1]):
            n = self.calls[label]
            lines.append(f"  {label:38s} {n:7d} {1000 * self.cpu[label] / n:8.3f} "
                         f"{1000 * self.cpu[label] / max(1, units):10.3f}")
        if self.missing:
            lines.append(f"  (not found, not timed: {', '.join(self.missing)})")
        return lines
