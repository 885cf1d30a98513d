"""A migrated SQLite database in a millisecond: a copy of one migrated once per process.

Running Alembic's whole chain costs ~0.15 s of CPU per database (more on a loaded machine),
and hundreds of tests each want a fresh database at head. ``migrated(url)`` brings a new
SQLite file to head by copying a template that ``backend.db.upgrade_to_head`` migrated the
first time it was asked (SQLite's backup API, so the copy is the database itself, version
row included); any other URL (PostgreSQL, or a SQLite file that already exists) goes through
``upgrade_to_head`` as before. The migrations' own tests (tests/backend/db) run Alembic.
"""

from __future__ import annotations

import atexit
import shutil
import sqlite3
import tempfile
from pathlib import Path

from backend.db import upgrade_to_head

_PREFIX = "sqlite:///"
_template: list[Path] = []


def _template_file() -> Path:
    if not _template:
        where = Path(tempfile.mkdtemp(prefix="chainarb-template-"))
        atexit.register(shutil.rmtree, where, ignore_errors=True)
        upgrade_to_head(f"{_PREFIX}{where / 'head.sqlite3'}")
        _template.append(where / "head.sqlite3")
    return _template[0]


def migrated(url: str) -> str:
    """Bring the database at ``url`` to head (a template's copy for a new SQLite file);
    returns ``url``."""
    path = Path(url[len(_PREFIX):]) if url.startswith(_PREFIX) else None
    if path is None or path.exists() or "?" in url:
        upgrade_to_head(url)
        return url
    path.parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(_template_file()) as src, sqlite3.connect(path) as dst:
        src.backup(dst)
    src.close()
    dst.close()
    return url
