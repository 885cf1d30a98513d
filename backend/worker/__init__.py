"""Background work of the service: the anchoring worker (see anchoring.py's rules).

Public API: `AnchoringWorker`, `claim_pending_leaves`, `enqueue_leaf`, `retry_failed`,
the `AnchorSender` protocol with `Web3AnchorSender` (real chain), `BackgroundAnchoring`
(a worker thread built from the settings), `anchor_senders`/`chain_labels`/
`extra_chain_web3` (the configured anchoring chains) and the errors.
"""

from backend.worker.anchoring import (
    AnchoringError,
    AnchoringWorker,
    AnchorSender,
    BroadcastError,
    Inclusion,
    LeafMismatchError,
    NonceConflictError,
    RunReport,
    SignedTx,
    claim_pending_leaves,
    enqueue_leaf,
    retry_failed,
)
from backend.worker.chain_sender import Web3AnchorSender
from backend.worker.runner import (
    BackgroundAnchoring,
    ChainLabel,
    anchor_senders,
    build_worker,
    chain_labels,
    extra_chain_web3,
)

__all__ = [
    "AnchorSender",
    "AnchoringError",
    "AnchoringWorker",
    "BackgroundAnchoring",
    "BroadcastError",
    "ChainLabel",
    "Inclusion",
    "LeafMismatchError",
    "NonceConflictError",
    "RunReport",
    "SignedTx",
    "Web3AnchorSender",
    "anchor_senders",
    "build_worker",
    "chain_labels",
    "claim_pending_leaves",
    "enqueue_leaf",
    "extra_chain_web3",
    "retry_failed",
]
