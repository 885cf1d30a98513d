"""Run the anchoring worker in a background thread of the service (the composition root's
helper): builds the real senders from the settings (the service's chain handle and
deployment, then each of ``CHAINARB_ANCHOR_CHAINS``).

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
from dataclasses import dataclass

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session
from web3 import Web3
from web3.providers.rpc import HTTPProvider

from backend.gateway import ChainHandle
from backend.log import checkpointer_from_settings
from backend.settings import Settings
from backend.timestamping import pool_from_settings
from backend.worker.anchoring import AnchoringWorker, AnchorSender, RunReport
from backend.worker.chain_sender import Web3AnchorSender

__all__ = ["BackgroundAnchoring", "ChainLabel", "anchor_senders", "build_worker",
           "chain_labels", "extra_chain_web3"]

RPC_TIMEOUT_SECONDS = 10  # an anchoring chain that hangs holds up only its own round


@dataclass(frozen=True)
class ChainLabel:
    """What a package says of an anchoring chain beside its id (anchors.json row)."""

    name: str
    operated_by_institution: bool


def chain_labels(settings: Settings, service_chain_id: int) -> dict[int, ChainLabel]:
    """Chain id -> name and operator of every configured anchoring chain, the service's own
    chain first. A chain no longer configured has no label: a package then names it
    "chain <id>" and counts it as the institution's (independence is never assumed)."""
    if settings.embedded_chain:
        own = ChainLabel(settings.chain_name or "embedded chain", True)
    else:
        own = ChainLabel(settings.chain_name or f"chain {service_chain_id}",
                         settings.chain_operated_by_institution)
    labels = {service_chain_id: own}
    for c in settings.anchor_chains:
        labels[c.chain_id] = ChainLabel(c.name, c.operated_by_institution)
    return labels


def extra_chain_web3(settings: Settings) -> dict[int, Web3]:
    """A Web3 per chain of ``CHAINARB_ANCHOR_CHAINS`` (no I/O: a node may be down now)."""
    # no retries inside web3: the worker's next round is the retry, and a node that is down
    # must not cost the other chains seconds of back-off each round
    return {c.chain_id: Web3(HTTPProvider(c.rpc_url,
                                          request_kwargs={"timeout": RPC_TIMEOUT_SECONDS},
                                          exception_retry_configuration=None))
            for c in settings.anchor_chains}


def anchor_senders(settings: Settings, handle: ChainHandle,
                   anchor_address: str) -> list[AnchorSender]:
    """The service chain's sender, then one per ``CHAINARB_ANCHOR_CHAINS`` entry."""
    key = settings.institution_private_key()
    senders: list[AnchorSender] = [Web3AnchorSender(handle.w3, anchor_address, key,
                                                    durable=handle.flush)]
    w3s = extra_chain_web3(settings)
    for c in settings.anchor_chains:
        if c.chain_id == handle.chain_id:
            raise ValueError(f"CHAINARB_ANCHOR_CHAINS: {c.name} has the service chain's id "
                             f"{c.chain_id}; the service's own chain is always anchored on")
        senders.append(Web3AnchorSender(w3s[c.chain_id], c.contract, key,
                                        chain_id=c.chain_id))
    return senders


def build_worker(settings: Settings, sessions: sessionmaker[Session], handle: ChainHandle,
                 anchor_address: str) -> AnchoringWorker:
    """An AnchoringWorker on the configured chains, key, limits and (optional) TSAs."""
    sender = anchor_senders(settings, handle, anchor_address)
    checkpointer = checkpointer_from_settings(settings)
    return AnchoringWorker(sessions, sender, batch_limit=settings.anchor_batch_limit,
                           confirmations=settings.confirmations,
                           timestamper=pool_from_settings(settings),
                           checkpointer=checkpointer)


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
