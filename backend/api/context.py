"""What the app holds for its lifetime: database, case service, senders, the clock."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.engine import Engine
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from typing_extensions import TypedDict

from backend.answers import open_answer
from backend.log import LogService
from backend.notices.smtp import SmtpSender
from backend.services.auth import SessionCache
from backend.services.cases import CaseService
from backend.settings import Settings
from backend.worker.anchoring import AnchoringWorker

__all__ = ["AppContext", "TickReport"]

log = logging.getLogger(__name__)


@open_answer
class TickJson(TypedDict):
    """What one run of the background work did (counts by kind)."""

    advanced: list[str]
    chain_done: int
    chain_errors: list[str]
    anchored_batches: int
    notices_sent: int
    notices_failed: int


@dataclass
class TickReport:
    advanced: list[str] = field(default_factory=list)
    chain_done: int = 0
    chain_errors: list[str] = field(default_factory=list)
    anchored_batches: int = 0
    notices_sent: int = 0
    notices_failed: int = 0

    def as_dict(self) -> TickJson:
        return {"advanced": self.advanced, "chain_done": self.chain_done,
                "chain_errors": self.chain_errors, "anchored_batches": self.anchored_batches,
                "notices_sent": self.notices_sent, "notices_failed": self.notices_failed}


@dataclass
class AppContext:
    settings: Settings
    engine: Engine
    sessions: sessionmaker[Session]
    service: CaseService
    clock: Callable[[], datetime]
    auth_cache: SessionCache  # live tokens; holds the session secret (docs/api.md)
    smtp: SmtpSender | None = None
    anchoring: AnchoringWorker | None = None  # when a chain is configured
    tick_seconds: float = 5.0
    anchor_interval: float = 30.0  # seconds between anchoring runs (0: every tick)
    chain_rpc_url: str | None = None  # the service's chain node (the pages' relay, web/wallet.py)
    log: LogService | None = None  # the institution's log: receipts, checkpoints, proofs
    closers: list[Callable[[], None]] = field(default_factory=list)
    _stop: threading.Event = field(default_factory=threading.Event)
    _thread: threading.Thread | None = None
    _tick_lock: threading.Lock = field(default_factory=threading.Lock)
    _last_anchoring: float = float("-inf")

    def tick(self, *, force: bool = False) -> TickReport:
        """One round of background work: deadlines, chain actions, anchoring (every
        ``anchor_interval`` seconds, or now when ``force``), e-mail."""
        report = TickReport()
        with self._tick_lock:
            report.advanced = self.service.run_due()
            chain = self.service.executor.run()
            self.service.reconcile_enforcement()
            report.chain_done = len(chain.done)
            report.chain_errors = chain.errors
            due = time.monotonic() - self._last_anchoring >= self.anchor_interval
            if self.anchoring is not None and (force or due):
                self._last_anchoring = time.monotonic()
                run = self.anchoring.run_once()
                report.anchored_batches = len(run.completed)  # on every anchoring chain
            if self.smtp is not None:
                report.notices_sent, report.notices_failed = self.smtp.deliver_pending()
        return report

    def start(self) -> None:
        def loop() -> None:
            while not self._stop.wait(self.tick_seconds):
                try:
                    self.tick()
                except Exception:  # keep the service alive; the next tick retries
                    log.exception("background tick failed")

        self._thread = threading.Thread(target=loop, name="chainarb-tick", daemon=True)
        self._thread.start()

    def close(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=30)
        for closer in reversed(self.closers):
            try:
                closer()
            except Exception:
                log.exception("while closing")
        self.engine.dispose()
