"""Chain gateway: which chain the service talks to (embedded anvil or any JSON-RPC node).

Public API: `open_chain(settings) -> ChainHandle`, `open_rpc(url)`, `ChainHandle`
(`w3`, `chain_id`, `flush()`, `increase_time(s)`, `close()`), the deployment file
(`load_deployment`, `save_deployment`, `ensure_deployment`) and the errors. See docs/chain.md.
"""

from backend.gateway.deployment import (
    DEV_CHAIN_TIMEOUTS,
    DEV_OBJECTION_SECONDS,
    Deployment,
    DeploymentMismatchError,
    check_deployment,
    contracts_deployer,
    ensure_deployment,
    load_deployment,
    save_deployment,
)
from backend.gateway.embedded import (
    ChainHandle,
    EmbeddedNode,
    GatewayError,
    NodeStartError,
    TimeControlUnavailableError,
    WrongChainError,
    open_chain,
    open_rpc,
)

__all__ = [
    "DEV_CHAIN_TIMEOUTS",
    "DEV_OBJECTION_SECONDS",
    "ChainHandle",
    "Deployment",
    "DeploymentMismatchError",
    "EmbeddedNode",
    "GatewayError",
    "NodeStartError",
    "TimeControlUnavailableError",
    "WrongChainError",
    "check_deployment",
    "contracts_deployer",
    "ensure_deployment",
    "load_deployment",
    "open_chain",
    "open_rpc",
    "save_deployment",
]
