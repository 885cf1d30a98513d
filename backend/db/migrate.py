"""Run Alembic from code: the service upgrades its database at start.

`upgrade_to_head(url)` is idempotent and safe when several processes start at once on
PostgreSQL (Alembic's version table update is transactional; a concurrent upgrader waits on
its lock). On SQLite the file and its directory are created.
"""

from __future__ import annotations

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory

from backend.db.engine import make_engine

__all__ = ["SCRIPT_LOCATION", "alembic_config", "current_revision", "head_revision",
           "upgrade_to_head"]

SCRIPT_LOCATION = "backend:migrations"
"""Package data, found through the import system wherever the package is installed (no ini
file, no path relative to the working directory; backend/alembic.ini is for developers'
`alembic -c backend/alembic.ini revision`)."""


def alembic_config(url: str | None = None) -> Config:
    """An Alembic Config for chainarb's migrations, bound to `url` when given."""
    cfg = Config()
    cfg.set_main_option("script_location", SCRIPT_LOCATION)
    cfg.set_main_option("path_separator", "os")
    if url is not None:
        cfg.attributes["url"] = url
    return cfg


def head_revision() -> str:
    head = ScriptDirectory.from_config(alembic_config()).get_current_head()
    assert head is not None, "backend/migrations has no revisions"
    return head


def current_revision(url: str) -> str | None:
    engine = make_engine(url)
    try:
        with engine.connect() as conn:
            return MigrationContext.configure(conn).get_current_revision()
    finally:
        engine.dispose()


def upgrade_to_head(url: str) -> str:
    """Bring the database at `url` to the newest schema; returns the head revision."""
    command.upgrade(alembic_config(url), "head")
    return head_revision()
