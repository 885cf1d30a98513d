"""Run the anchoring worker in a background thread of the service (the composition root's
helper): builds the real sender from the settings, the chain handle and the deployment.

    anchoring = BackgroundAnchoring.from_settings(settings, sessions, handle, deployment.anchor)
    anchoring.start()
    ...            # after a command that enqueued leaves:
    anchoring.kick()   # anchor now (interval 0) or at the next interval
    ...
    anchoring.stop()

Several service processes may each run one: workers coordinate through the database.
"""

from __future__ import annotations

import threading

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from backend.gateway import ChainHandle
from backend.settings import Settings
from backend.timestamping import pool_from_settings
from backend.worker.anchoring import AnchoringWorker, RunReport
from backend.worker.chain_sender import Web3AnchorSender

__all__ = ["BackgroundAnchoring", "build_worker"]


def build_worker(settings: Settings, sessions: sessionmaker[Session], handle: ChainHandle,
                 anchor_address: str) -> AnchoringWorker:
    """An AnchoringWorker on the configured chain, key, limits and (optional) TSAs."""
    sender = Web3AnchorSender(handle.w3, anchor_address, settings.institution_private_key(),
                              durable=handle.flush)
    return AnchoringWorker(sessions, sender, batch_limit=settings.anchor_batch_limit,
                           confirmations=settings.confirmations,
                           timestamper=pool_from_settings(settings))


class BackgroundAnchoring:
    """One worker thread: `start()`, `kick()`, `run_now()`, `stop()`."""

    def __init__(self, worker: AnchoringWorker, interval: float) -> None:
        self.worker = worker
        self.interval = interval
        self._stop = threading.Event()
        self._wake = threading.Event()
        self._thread: threading.Thread | None = None

    @classmethod
    def from_settings(cls, settings: Settings, sessions: sessionmaker[Session],
                      handle: ChainHandle, anchor_address: str) -> BackgroundAnchoring:
        return cls(build_worker(settings, sessions, handle, anchor_address),
                   settings.anchor_interval_seconds)

    def start(self) -> None:
        if self._thread is not None:
            return
        self._stop.clear()
        self._thread = threading.Thread(
            target=self.worker.run_forever, args=(self.interval, self._stop, self._wake),
            name="chainarb-anchoring", daemon=True,
        )
        self._thread.start()

    def kick(self) -> None:
        """New leaves: with interval 0 anchor them now; else they wait for the interval."""
        if self.interval == 0:
            self._wake.set()

    def run_now(self) -> RunReport:
        """Anchor synchronously in the caller's thread (the demo prints the root)."""
        return self.worker.run_once()

    def stop(self, timeout: float = 30) -> None:
        self._stop.set()
        self._wake.set()
        if self._thread is not None:
            self._thread.join(timeout)
            self._thread = None
