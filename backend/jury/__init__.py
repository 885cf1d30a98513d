"""chainarb's jury track outside the procedure core: the assessor pool (pure).

The case's jury stages live in backend/procedure (the tables); the draw and vote
arithmetic anyone recomputes lives in evidence/jury.py; this package holds who may be
drawn (docs/jury.md).
"""

from ._files import JurorFile, redact_file
from ._pool import (
    DEFAULT_CRITERIA,
    POOL_ID,
    POOL_STEPS,
    AdmissionCriteria,
    Assessor,
    AssessorStatus,
    Pool,
    PoolStepSpec,
    apply_pool,
    conflicts,
    eligible,
    new_pool,
    pool_from_records,
    snapshot,
)
from ._redact import FILE_RULE, REDACTION_RULE, Identity, redact
from ._standing import (
    DEFAULT_STANDING_RULE,
    Seat,
    Standing,
    StandingRule,
    seats_of,
    standing,
)

__all__ = [
    "DEFAULT_CRITERIA",
    "DEFAULT_STANDING_RULE",
    "FILE_RULE",
    "POOL_ID",
    "POOL_STEPS",
    "REDACTION_RULE",
    "AdmissionCriteria",
    "Assessor",
    "AssessorStatus",
    "Identity",
    "JurorFile",
    "Pool",
    "PoolStepSpec",
    "Seat",
    "Standing",
    "StandingRule",
    "apply_pool",
    "conflicts",
    "eligible",
    "new_pool",
    "pool_from_records",
    "redact",
    "redact_file",
    "seats_of",
    "snapshot",
    "standing",
]
