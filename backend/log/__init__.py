"""The institution's log in the service (issue 15; docs/log.md, "Service").

Public API:

* ``append_entry`` (store): one accepted record's entry, in the record's transaction
  (``backend.worker.enqueue_and_log`` calls it for every anchored leaf)
* ``DbNodeStore``, ``open_log``, ``log_size``, ``rebuild`` (store): the tree over the
  database, and its recomputation from the entries alone
* ``Checkpointer``, ``CheckpointRefused`` (checkpoints): what the anchoring worker signs
  and refuses at each round
* ``LogService`` (service): receipts, checkpoints with anchors, inclusion and consistency
  proofs, a case's proofs for its package, signed proofs of absence
* ``checkpointer_from_settings``, ``log_service_from_settings``: built from the settings
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from sqlalchemy.orm import sessionmaker
from sqlmodel import Session

from backend.settings import Settings
from evidence.log.note import NoteSigner

from .checkpoints import Checkpointer, CheckpointRefused, PreparedCheckpoint, last_carried
from .service import AnchoredCheckpoint, LogService
from .store import (
    Appended,
    DbNodeStore,
    RebuildReport,
    append_entry,
    log_size,
    open_log,
    rebuild,
)

__all__ = [
    "AnchoredCheckpoint",
    "Appended",
    "CheckpointRefused",
    "Checkpointer",
    "DbNodeStore",
    "LogService",
    "PreparedCheckpoint",
    "RebuildReport",
    "append_entry",
    "checkpointer_from_settings",
    "last_carried",
    "log_service_from_settings",
    "log_size",
    "open_log",
    "rebuild",
]


def checkpointer_from_settings(settings: Settings) -> Checkpointer:
    """The worker's checkpointer: the log's origin and the institution key."""
    return Checkpointer(settings.log_origin_value,
                        NoteSigner.from_private_key(settings.institution_private_key()))


def log_service_from_settings(settings: Settings, sessions: sessionmaker[Session],
                              clock: Callable[[], datetime]) -> LogService:
    """The API's log service: the same origin and key as the worker's checkpointer."""
    return LogService(sessions, origin=settings.log_origin_value,
                      signer=NoteSigner.from_private_key(settings.institution_private_key()),
                      clock=clock)
