"""Per-app overrides of two settings, for tests and the demo that build an app in-process.

``CHAINARB_INSTITUTION_ADMINS`` and ``CHAINARB_TICK_SECONDS`` are fields of
``backend.settings.Settings`` (the one typed configuration object, documented in the
README). ``ServiceOptions`` is not read from the environment: a value set here replaces the
settings' value for one ``create_app`` call; prefer ``Settings(institution_admins=...)``.
"""

from __future__ import annotations

from dataclasses import dataclass

from evidence.records import checksum_address

__all__ = ["ServiceOptions"]


@dataclass(frozen=True)
class ServiceOptions:
    institution_admins: str | None = None
    tick_seconds: float | None = None

    def __post_init__(self) -> None:
        if self.institution_admins is not None:
            parts = [v.strip() for v in self.institution_admins.split(",") if v.strip()]
            object.__setattr__(self, "institution_admins", ",".join(
                checksum_address(v, "institution_admins") for v in parts))

    @property
    def admins(self) -> frozenset[str] | None:
        if self.institution_admins is None:
            return None
        return frozenset(a for a in self.institution_admins.split(",") if a)
