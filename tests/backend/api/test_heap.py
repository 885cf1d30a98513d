"""``settle_heap``: what is alive at the call is frozen, garbage is collected first, and
what the process makes later is collected as before (a frozen heap must not keep a
request's reference cycles)."""

from __future__ import annotations

import gc
import sys
import weakref
from collections.abc import Iterator

import pytest

from backend.api.heap import FULL_COLLECTION_AFTER, settle_heap


class _Node:
    def __init__(self) -> None:
        self.me = self  # a reference cycle: only the cyclic collector frees it


@pytest.fixture
def thawed() -> Iterator[None]:
    thresholds = gc.get_threshold()
    gc.unfreeze()
    yield
    gc.unfreeze()  # the test process builds many apps: never leave its heap frozen
    gc.set_threshold(*thresholds)


@pytest.fixture
def alone() -> Iterator[None]:
    """No other thread of the test process runs meanwhile: another test's thread still
    alive in this worker (a server, a time-stamping authority) that drops the last
    reference to a frozen object changes the frozen count between two reads (seen once:
    one object fewer than ``settle_heap`` counted)."""
    before = sys.getswitchinterval()
    sys.setswitchinterval(60.0)
    yield
    sys.setswitchinterval(before)


def test_startup_garbage_is_collected_and_the_rest_frozen(thawed: None, alone: None) -> None:
    garbage = _Node()
    gone = weakref.ref(garbage)
    del garbage
    kept = _Node()
    frozen = settle_heap()
    assert gone() is None  # collected before the freeze
    assert frozen == gc.get_freeze_count() > 0
    assert not any(o is kept for o in gc.get_objects())  # out of the generations
    assert gc.is_tracked(kept)


def test_cycles_made_after_the_freeze_are_still_collected(thawed: None) -> None:
    settle_heap()
    later = _Node()
    gone = weakref.ref(later)
    del later
    gc.collect()
    assert gone() is None


def test_full_collections_are_rarer_and_young_ones_unchanged(thawed: None) -> None:
    young, middle, full = gc.get_threshold()
    assert full < FULL_COLLECTION_AFTER
    settle_heap()
    assert gc.get_threshold() == (young, middle, FULL_COLLECTION_AFTER)
