"""Service options read beside ``backend.settings.Settings`` (same ``CHAINARB_`` prefix).

Kept here so the service's own options do not change the shared settings module:
``CHAINARB_INSTITUTION_ADMINS`` (comma-separated addresses of the institution's staff who
may appoint neutrals and register courts) and ``CHAINARB_TICK_SECONDS`` (how often the
background task runs the scheduler, the chain actions, the anchoring worker and SMTP).
"""

from __future__ import annotations

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

from evidence.records import checksum_address

__all__ = ["ServiceOptions"]


class ServiceOptions(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="CHAINARB_", env_file=".env", extra="ignore",
                                      case_sensitive=False)

    institution_admins: str = Field(default="", description="Comma-separated addresses.")
    tick_seconds: float = Field(default=5.0, ge=0.05, le=3600)

    @field_validator("institution_admins")
    @classmethod
    def _addresses(cls, value: str) -> str:
        parts = [v.strip() for v in value.split(",") if v.strip()]
        return ",".join(checksum_address(v, "CHAINARB_INSTITUTION_ADMINS") for v in parts)

    @property
    def admins(self) -> frozenset[str]:
        return frozenset(a for a in self.institution_admins.split(",") if a)
