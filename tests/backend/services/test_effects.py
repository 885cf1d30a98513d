"""The effect interpreter's table is complete: every effect type of the core has exactly
one handler (as the core's own command-handler table is checked against COMMAND_TYPES)."""

from __future__ import annotations

import inspect

from backend import procedure as p
from backend.procedure import _effects
from backend.services.effects import HANDLERS


def _declared_effects() -> set[type[p.Effect]]:
    """Every concrete effect class the core's effects module defines."""
    return {obj for _name, obj in inspect.getmembers(_effects, inspect.isclass)
            if issubclass(obj, p.Effect) and obj is not p.Effect}


def test_the_core_lists_every_effect_it_defines_once() -> None:
    assert len(p.EFFECT_TYPES) == len(set(p.EFFECT_TYPES))
    assert set(p.EFFECT_TYPES) == _declared_effects()


def test_every_effect_type_has_exactly_one_handler() -> None:
    assert set(HANDLERS) == set(p.EFFECT_TYPES)
    assert all(callable(h) for h in HANDLERS.values())
    # one handler per type, and no handler serves two types (each says what it does)
    assert len(set(HANDLERS.values())) == len(HANDLERS)


def test_dispatch_is_by_type_not_by_name() -> None:
    import backend.services.effects as effects_module

    source = inspect.getsource(effects_module)
    assert "type(e).__name__" not in source and "isinstance(e," not in source
