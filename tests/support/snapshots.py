"""Stage snapshots: each stage of the API world's case is built through HTTP once per
session, and every later test that asks for it gets its own copy.

A driver of ``tests.support.world`` (``to_filed`` ... ``to_awarded``) called on a fresh
world (no case yet, nothing written, the clock and the escrow as ``make_world`` left them)
restores the snapshot of that stage instead of replaying the steps: the SQLite database
(through SQLite's backup API, so the copy is consistent), the IPFS blocks, the in-memory
escrow's state and the clock (the actors sign in again). The first test to reach a stage builds
it (from the previous stage's snapshot) and stores it. A world on PostgreSQL, or one a
test has already changed, replays as before, so a test never sees a state it did not ask for.
"""

from __future__ import annotations

import copy
import shutil
import sqlite3
from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from evidence.ipfs import LocalBlockstore, MemoryBlockstore

if TYPE_CHECKING:
    from tests.support.world import World


W = TypeVar("W")
S = TypeVar("S")


@dataclass(frozen=True)
class Snapshot:
    database: Path
    blocks: Path | dict[bytes, bytes]
    escrow: dict[str, Any]
    now: datetime
    case_id: str
    result: Any  # what the driver returned


def sqlite_path(url: str) -> Path | None:
    prefix = "sqlite:///"
    return Path(url[len(prefix):]) if url.startswith(prefix) else None


def _database_path(w: World) -> Path:
    path = sqlite_path(w.db_url)
    assert path is not None, "only SQLite worlds are snapshotted (can_snapshot)"
    return path


def _escrow_state(w: World) -> dict[str, Any]:
    """The in-memory escrow's own state (it also holds the world's clock: not copied)."""
    return copy.deepcopy({k: v for k, v in vars(w.port).items() if v is not w.clock})


def copy_database(src: Path, dst: Path) -> None:
    with sqlite3.connect(src) as a, sqlite3.connect(dst) as b:
        a.backup(b)
    a.close()
    b.close()


class Stages(ABC, Generic[W, S]):
    """Snapshots of worlds of kind ``W`` (``S`` each), keyed by stage and by how the world
    was made: the first to reach a stage builds it and takes it, the later ones restore it."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self._snapshots: dict[tuple[Any, ...], S] = {}

    @abstractmethod
    def key(self, stage: str, w: W) -> tuple[Any, ...] | None:
        """None when ``w`` cannot take a snapshot: it builds."""

    @abstractmethod
    def take(self, where: Path, w: W, result: Any) -> S:
        """Store ``w``'s state under ``where``, with what the driver returned."""

    @abstractmethod
    def restore(self, snapshot: S, w: W) -> Any:
        """Restore ``snapshot`` into ``w``; returns what the driver had returned."""

    def reach(self, stage: str, w: W, build: Callable[[W], Any]) -> Any:
        key = self.key(stage, w)
        if key is None:
            return build(w)
        snapshot = self._snapshots.get(key)
        if snapshot is None:
            result = build(w)
            where = self.root / f"s{len(self._snapshots)}"
            where.mkdir(parents=True)
            self._snapshots[key] = self.take(where, w, result)
            return result
        return self.restore(snapshot, w)


class StageSnapshots(Stages["World", Snapshot]):
    """The session's snapshots of the API world."""

    def key(self, stage: str, w: World) -> tuple[Any, ...] | None:
        """None when ``w`` cannot take a snapshot (not SQLite, or already changed)."""
        if (w.case_id or w.touched or sqlite_path(w.db_url) is None
                or not isinstance(w.blockstore, LocalBlockstore | MemoryBlockstore)):
            return None
        try:
            escrow = _escrow_state(w)
        except TypeError:  # state that cannot be copied: replay instead
            return None
        return (stage, w.recipe, w.clock.now, repr(sorted(escrow.items(), key=str)))

    def take(self, where: Path, w: World, result: Any) -> Snapshot:
        database = where / "db.sqlite3"
        copy_database(_database_path(w), database)
        blocks: Path | dict[bytes, bytes]
        if isinstance(w.blockstore, LocalBlockstore):
            blocks = where / "blocks"
            shutil.copytree(w.blockstore.root, blocks)
        else:
            assert isinstance(w.blockstore, MemoryBlockstore)  # can_snapshot checked both
            blocks = dict(w.blockstore.blocks)
        return Snapshot(database=database, blocks=blocks, escrow=_escrow_state(w),
                        now=w.clock.now, case_id=w.case_id,
                        result=copy.deepcopy(result))

    def restore(self, s: Snapshot, w: World) -> Any:
        copy_database(s.database, _database_path(w))
        if isinstance(s.blocks, Path):
            assert isinstance(w.blockstore, LocalBlockstore)  # a world like the one saved
            shutil.copytree(s.blocks, w.blockstore.root, dirs_exist_ok=True)
        else:
            assert isinstance(w.blockstore, MemoryBlockstore)
            w.blockstore.blocks = dict(s.blocks)
        vars(w.port).update(copy.deepcopy(s.escrow))
        w.clock.now = s.now
        w.case_id = s.case_id
        for actor in w.actors.values():  # sessions are signed with this app's own secret
            actor.token = None
        return copy.deepcopy(s.result)
