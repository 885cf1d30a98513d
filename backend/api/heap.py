"""A server process's heap after startup, out of the cyclic garbage collector's way.

Why (issue 10): a started service holds about 285,000 objects that live as long as the
process (modules, classes, the app, compiled statements, the caches' first entries), and
CPython's full collection walks all of them: 139–151 ms of CPU in one stop, measured with
``gc.callbacks`` around ``bench/inprocess.py`` (one full collection per run of 290 to
1,200 offers), every request of the worker waiting behind it. After ``gc.freeze()`` a
collection walks only what requests left (39,000 objects tracked at the end of such a run
instead of 300,000), and none of those runs needed a full one. The startup's objects are
not garbage: those that die later are freed by reference counting as before; only a
reference cycle among them would now be kept. Tests build many apps in one process and do
not freeze (``chainarb serve`` and the API benchmark's server do).

Full collections a tenth as often (``FULL_COLLECTION_AFTER``): what requests leave alive
grows with the caches (decoded states, compiled statements), and a full collection walks
all of it. With two workers at 50 clients each worker ran seven in one run of the API
benchmark, 25-96 ms each, none collecting anything (``gc.callbacks``, 2026-12-07); with
100 instead of CPython's 10 it ran none. Young collections, which free a request's
cycles, run as before.
"""

from __future__ import annotations

import gc

__all__ = ["FULL_COLLECTION_AFTER", "settle_heap"]

FULL_COLLECTION_AFTER = 100  # collections of the middle generation before a full one


def settle_heap() -> int:
    """Collect what startup left, then move every object still alive out of the
    collector's generations, and make full collections rarer; how many objects are
    frozen."""
    gc.collect()
    gc.freeze()
    young, middle, _ = gc.get_threshold()
    gc.set_threshold(young, middle, FULL_COLLECTION_AFTER)
    return gc.get_freeze_count()
