"""What was made from an immutable object, found again by the object's identity."""

from __future__ import annotations

from collections.abc import Hashable
from typing import Generic, TypeVar

__all__ = ["KeptByIdentity"]

K = TypeVar("K")
V = TypeVar("V")


class KeptByIdentity(Generic[K, V]):
    """A bounded table of values made from immutable objects (a state part's JSON text, an
    offer's view), keyed by the object's identity and, optionally, a hashable ``part``
    (a viewer, a side of a deadline).

    The object is held while its entry lives, so its id names it and no other. Two
    generations of at most ``size`` entries each: when the new one is full it becomes the
    old one and the old one goes; an entry found in the old generation moves to the new.
    So what is used at least once per ``size`` new entries stays. Why not empty the table
    when full, as before: the working set went with it at once, and with 50 cases of 165
    offers on one worker that was every few dozen steps, each case's next save then
    encoding it whole (3.1 instead of 0.5 ms of CPU; issue 10, sixteenth round)."""

    __slots__ = ("_new", "_old", "size")

    def __init__(self, size: int) -> None:
        if size < 1:
            raise ValueError(f"size must be at least 1, found {size}")
        self.size = size
        self._new: dict[Hashable, tuple[K, V]] = {}
        self._old: dict[Hashable, tuple[K, V]] = {}

    def get(self, obj: K, part: Hashable = None) -> V | None:
        """The value kept for ``obj`` (and ``part``), or None (so a value is never None)."""
        key = id(obj) if part is None else (id(obj), part)
        hit = self._new.get(key)
        if hit is not None and hit[0] is obj:
            return hit[1]
        hit = self._old.get(key)
        if hit is None or hit[0] is not obj:
            return None
        self._put(key, hit)
        return hit[1]

    def put(self, obj: K, value: V, part: Hashable = None) -> V:
        """Keep ``value`` for ``obj`` (and ``part``); returns it."""
        self._put(id(obj) if part is None else (id(obj), part), (obj, value))
        return value

    def _put(self, key: Hashable, entry: tuple[K, V]) -> None:
        if len(self._new) >= self.size:
            self._old, self._new = self._new, {}
        self._new[key] = entry

    def clear(self) -> None:
        self._new, self._old = {}, {}

    def __len__(self) -> int:
        """Entries held (an entry moved to the new generation may also be in the old)."""
        return len(self._new) + len(self._old)
