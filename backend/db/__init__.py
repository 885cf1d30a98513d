"""Persistence: engines, sessions, tables and migrations (SQLite default, PostgreSQL).

Public API (see docs/persistence.md):

* `make_engine(url)`, `make_session_factory(engine)`, `session_scope(factory)`
* `read_sessions(factory)`: sessions for plain reads (PostgreSQL: in autocommit)
* `write_scope(factory)` (= `session_scope` + `begin_exclusive`): every state-changing
  command; on SQLite it takes the write lock first
* `upgrade_to_head(url)`: run at service start
* the tables: `Account`, `AuthNonce`, `AuthSession`, `Case`, `Participant`, `Step`,
  `EvidenceItem`, `AnchorBatch`, `AnchorInclusion`, `Leaf`, `Notice`, and their status enums
"""

# The service's own tables (backend/services) register on the same metadata.
from backend.db import jury_models as _jury_models  # noqa: F401  (the assessor pool, issue 14)
from backend.db import log_models as _log_models  # noqa: F401  (the log's tables, issue 15)
from backend.db import performance_models as _performance_models  # noqa: F401
from backend.db import service_models as _service_models  # noqa: F401
from backend.db.engine import (
    begin_exclusive,
    is_postgres,
    make_engine,
    make_session_factory,
    read_sessions,
    rows_changed,
    session_scope,
    write_scope,
)
from backend.db.migrate import current_revision, head_revision, upgrade_to_head
from backend.db.models import (
    Account,
    AnchorBatch,
    AnchorInclusion,
    AnchorStatus,
    AuthNonce,
    AuthSession,
    Case,
    EvidenceItem,
    Leaf,
    LeafKind,
    Notice,
    NoticeStatus,
    Participant,
    Step,
)
from backend.db.types import UTCDateTime, utcnow

__all__ = [
    "Account",
    "AnchorBatch",
    "AnchorInclusion",
    "AnchorStatus",
    "AuthNonce",
    "AuthSession",
    "Case",
    "EvidenceItem",
    "Leaf",
    "LeafKind",
    "Notice",
    "NoticeStatus",
    "Participant",
    "Step",
    "UTCDateTime",
    "begin_exclusive",
    "current_revision",
    "head_revision",
    "is_postgres",
    "make_engine",
    "make_session_factory",
    "read_sessions",
    "rows_changed",
    "session_scope",
    "upgrade_to_head",
    "utcnow",
    "write_scope",
]
