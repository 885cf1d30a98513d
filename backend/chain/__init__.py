"""chainarb's chain gateway: deploy and call EvidenceAnchor and ArbitrationEscrow.

Public API (re-exported here):
  - `Transactor(w3)`: signs locally, sends raw, decodes reverts into named errors.
  - `deploy_anchor`, `deploy_escrow`, `deploy_token`, `deploy_contract`.
  - `AnchorContract`, `EscrowContract`, `TokenContract`: typed wrappers.
  - `Allocation`, `Domain`, `settlement_typed_data`, `award_typed_data`, `sign_typed_data`,
    `typed_data_digest`, `typed_data_json`: the EIP-712 payloads of docs/eip712.md.
  - `Status`, `Resolution`, `Order`, `Guarantee`, `PendingAward`, `Timeouts`, `Event`,
    `TxResult`.
  - errors: `ChainError` and its subclasses in `backend.chain.errors`.
Local chains for the demo and tests are in `backend.chain.devchain`.
"""

from backend.chain.artifacts import ARTIFACTS_DIR, Artifact, artifact_names, load_artifact
from backend.chain.contracts import (
    ETH,
    ZERO_ADDRESS,
    ZERO_BYTES32,
    AnchorContract,
    BoundContract,
    DecisionKind,
    EscrowContract,
    Event,
    Guarantee,
    JurorBallot,
    Order,
    PendingAward,
    Resolution,
    Status,
    Timeouts,
    TokenContract,
    Transactor,
    TxResult,
    decode_logs,
    decode_revert,
    deploy_anchor,
    deploy_contract,
    deploy_escrow,
    deploy_token,
    revert_data,
)
from backend.chain.errors import ChainError, RevertError, TransactionError
from backend.chain.typed_data import (
    Allocation,
    Domain,
    award_typed_data,
    decision_typed_data,
    jury_vote_typed_data,
    settlement_typed_data,
    sign_typed_data,
    typed_data_digest,
    typed_data_json,
)

__all__ = [
    "ARTIFACTS_DIR",
    "ETH",
    "ZERO_ADDRESS",
    "ZERO_BYTES32",
    "Allocation",
    "AnchorContract",
    "Artifact",
    "BoundContract",
    "ChainError",
    "DecisionKind",
    "Domain",
    "EscrowContract",
    "Event",
    "Guarantee",
    "JurorBallot",
    "Order",
    "PendingAward",
    "Resolution",
    "RevertError",
    "Status",
    "Timeouts",
    "TokenContract",
    "TransactionError",
    "Transactor",
    "TxResult",
    "artifact_names",
    "award_typed_data",
    "decision_typed_data",
    "decode_logs",
    "decode_revert",
    "deploy_anchor",
    "deploy_contract",
    "deploy_escrow",
    "deploy_token",
    "jury_vote_typed_data",
    "load_artifact",
    "revert_data",
    "settlement_typed_data",
    "sign_typed_data",
    "typed_data_digest",
    "typed_data_json",
]
