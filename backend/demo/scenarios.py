"""The demo's scenarios, declared once: ``chainarb demo --scenario NAME`` plays one.

Each scenario (``world.Scenario``: its title, its acts, its result line) but ``main`` lives in
its own module, ``scenario_<name>.py``, and is registered here with one line, so the CLI's
choices and its help come from this table alone.
"""

from __future__ import annotations

from backend.demo.scenario_main import MAIN
from backend.demo.world import Scenario

__all__ = ["DEFAULT_SCENARIO", "SCENARIOS", "scenario_named"]

SCENARIOS: dict[str, Scenario] = {s.name: s for s in (
    MAIN,
)}
DEFAULT_SCENARIO = MAIN.name


def scenario_named(name: str) -> Scenario:
    """The scenario called ``name``; a ``KeyError`` naming the choices when there is none."""
    try:
        return SCENARIOS[name]
    except KeyError:
        raise KeyError(f"no demo scenario {name!r}; choose one of: "
                       + ", ".join(SCENARIOS)) from None
