"""Performance evidence recorded as it happens (issue 13 item 2; docs/performance-evidence.md).

Pure parts, no I/O: the event vocabulary (``_events``), the signed webhook format and its
three signature schemes with the per-sender configuration (``_webhook``), and what the
pre-evaluation reads from the recorded events (``_tracking``). The service edge is
``backend.services.performance``; the local carrier simulator is ``simulator``.
"""

from ._events import (
    EVENT_TYPES,
    EventType,
    MalformedEvent,
    PerformanceEvent,
    PerformanceEventJson,
    parse_event,
)
from ._tracking import (
    PerformanceFacts,
    RecordedEvent,
    TrackingBasisJson,
    evidence_facts,
    performance_facts,
)
from ._webhook import (
    SIGNATURE_HEADER,
    SIGNED_PREFIX,
    TIMESTAMP_HEADER,
    Scheme,
    SenderConfig,
    SenderViewJson,
    WebhookRefused,
    check_window,
    key_id,
    public_view,
    senders_by_id,
    sign_webhook,
    signed_message,
    verify_signature,
)

__all__ = [
    "EVENT_TYPES",
    "SIGNATURE_HEADER",
    "SIGNED_PREFIX",
    "TIMESTAMP_HEADER",
    "EventType",
    "MalformedEvent",
    "PerformanceEvent",
    "PerformanceEventJson",
    "PerformanceFacts",
    "RecordedEvent",
    "Scheme",
    "SenderConfig",
    "SenderViewJson",
    "TrackingBasisJson",
    "WebhookRefused",
    "check_window",
    "evidence_facts",
    "key_id",
    "parse_event",
    "performance_facts",
    "public_view",
    "senders_by_id",
    "sign_webhook",
    "signed_message",
    "verify_signature",
]
