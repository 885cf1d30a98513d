"""Where the contracts are: the deployment file in the data dir, overridden by settings.

The first deploy on a chain writes ``<data_dir>/deployment.json`` (``save_deployment``);
later processes read it (``load_deployment``). Explicit ``CHAINARB_*_ADDRESS`` settings win
field by field. A deployment is bound to its chain id: a file made on another chain (an
embedded chain whose state file was deleted, another node) is refused by
``check_deployment``, which also checks that code exists at each address.

Format (JSON, version 1)::

    {"version": 1, "chain_id": 31415926, "anchor": "0x..", "escrow": "0x..",
     "token": "0x..", "block_number": 1, "deployer": "0x.."}
"""

from __future__ import annotations

import fcntl
import json
import os
from collections.abc import Callable
from dataclasses import asdict, dataclass, replace
from pathlib import Path

from backend.chain.contracts import Timeouts
from backend.gateway.embedded import ChainHandle, GatewayError
from backend.settings import Settings

__all__ = [
    "DEV_CHAIN_TIMEOUTS",
    "DEV_OBJECTION_SECONDS",
    "Deployment",
    "DeploymentMismatchError",
    "check_deployment",
    "contracts_deployer",
    "ensure_deployment",
    "load_deployment",
    "save_deployment",
]

FORMAT_VERSION = 1

# The objection window of the escrow deployed on the embedded chain (or a dev node the demo
# is pointed at). A development chain: the demo waits the window out in real time instead of
# moving any clock, and the service's objection window follows it (create_app). Every other
# timeout keeps its default (days). A hosting institution deploys its production escrow with
# its own terms (docs/contracts.md, Timeouts).
DEV_OBJECTION_SECONDS = 5
DEV_CHAIN_TIMEOUTS = Timeouts(objection=DEV_OBJECTION_SECONDS)


class DeploymentMismatchError(GatewayError):
    """The deployment does not belong to this chain (or its contracts are gone)."""


@dataclass(frozen=True)
class Deployment:
    chain_id: int
    anchor: str | None = None
    escrow: str | None = None
    token: str | None = None
    block_number: int | None = None
    deployer: str | None = None


def save_deployment(path: Path, deployment: Deployment) -> None:
    """Write the file atomically (a half-written file would lose the addresses)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_suffix(f".tmp{os.getpid()}")
    tmp.write_text(json.dumps({"version": FORMAT_VERSION, **asdict(deployment)}, indent=2))
    os.replace(tmp, path)


def _read(path: Path) -> Deployment | None:
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError:
        return None
    except ValueError as exc:
        raise DeploymentMismatchError(
            f"{path} is not JSON ({exc}); delete it to redeploy"
        ) from None
    if raw.get("version") != FORMAT_VERSION:
        raise DeploymentMismatchError(
            f"{path}: expected version {FORMAT_VERSION}, found {raw.get('version')!r}"
        )
    fields = {k: raw.get(k) for k in Deployment.__dataclass_fields__}
    return Deployment(**fields)


def load_deployment(settings: Settings) -> Deployment | None:
    """The file's deployment with the settings' explicit addresses on top (None if neither)."""
    found = _read(settings.deployment_path)
    anchor, escrow, token = settings.anchor_address, settings.escrow_address, \
        settings.token_address
    if found is None:
        if not (anchor or escrow or token):
            return None
        chain_id = settings.expected_chain_id
        if chain_id is None:
            raise DeploymentMismatchError(
                "contract addresses are configured but CHAINARB_CHAIN_ID is not: set it so "
                "the addresses are bound to one chain"
            )
        found = Deployment(chain_id=chain_id)
    return replace(found, anchor=anchor or found.anchor, escrow=escrow or found.escrow,
                   token=token or found.token)


def check_deployment(handle: ChainHandle, deployment: Deployment) -> None:
    """Refuse a deployment made on another chain or whose contracts have no code."""
    if deployment.chain_id != handle.chain_id:
        raise DeploymentMismatchError(
            f"deployment is for chain {deployment.chain_id}, the node is chain "
            f"{handle.chain_id}: wrong data dir or node"
        )
    for name in ("anchor", "escrow", "token"):
        address = getattr(deployment, name)
        if address and len(handle.w3.eth.get_code(address)) == 0:
            raise DeploymentMismatchError(
                f"no contract code at the {name} address {address} on chain "
                f"{handle.chain_id}: the chain was reset; delete the deployment file to "
                "redeploy"
            )


def contracts_deployer(institution_key: str) -> Callable[[ChainHandle], Deployment]:
    """What ``ensure_deployment`` runs once per data dir on a development chain: the
    EvidenceAnchor, the ArbitrationEscrow (``DEV_CHAIN_TIMEOUTS``: a short objection
    window) with the institution granted ``INSTITUTION_ROLE``, and a 6-decimal test
    stablecoin, all deployed by the institution key (which the embedded chain funds). No
    published account signs anything: the deployer and escrow admin is the institution."""

    def deploy(handle: ChainHandle) -> Deployment:
        from eth_account import Account

        from backend.chain.contracts import (
            Transactor,
            deploy_anchor,
            deploy_escrow,
            deploy_token,
        )

        institution = Account.from_key(institution_key)
        tx = Transactor(handle.w3)
        anchor = deploy_anchor(tx, institution)
        escrow = deploy_escrow(tx, institution, timeouts=DEV_CHAIN_TIMEOUTS,
                               institutions=[institution.address])
        token = deploy_token(tx, institution, "TestStablecoin")
        return Deployment(chain_id=handle.chain_id, anchor=anchor.address,
                          escrow=escrow.address, token=token.address,
                          block_number=int(handle.w3.eth.block_number),
                          deployer=institution.address)

    return deploy


def ensure_deployment(
    handle: ChainHandle,
    settings: Settings,
    deploy: Callable[[ChainHandle], Deployment],
    *,
    allow_deploy: bool | None = None,
) -> Deployment:
    """The deployment to use, deploying first if there is none (or the chain was reset).

    `deploy(handle)` deploys the contracts and returns their addresses; it runs at most once
    across processes (a file lock in the data dir), its result is saved and the chain
    flushed. By default deploying is allowed only on the embedded chain; against an
    external node a missing deployment is an error unless `allow_deploy=True` (tests on
    anvil, a first install). Configured addresses are never replaced.
    """
    if allow_deploy is None:
        allow_deploy = handle.embedded
    path = settings.deployment_path
    path.parent.mkdir(parents=True, exist_ok=True)
    with (path.parent / (path.name + ".lock")).open("a+") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # one deployer; the others wait and read its file
        found = load_deployment(settings)
        if found is not None:
            try:
                check_deployment(handle, found)
                return found
            except DeploymentMismatchError:
                configured = settings.anchor_address or settings.escrow_address \
                    or settings.token_address
                if configured or not allow_deploy:
                    raise
        elif not allow_deploy:
            raise DeploymentMismatchError(
                f"no contracts known for chain {handle.chain_id}: set CHAINARB_ANCHOR_ADDRESS, "
                f"CHAINARB_ESCROW_ADDRESS and CHAINARB_TOKEN_ADDRESS, or a deployment file "
                f"at {path}"
            )
        deployment = deploy(handle)
        if deployment.chain_id != handle.chain_id:
            raise DeploymentMismatchError(
                f"deploy() returned a deployment for chain {deployment.chain_id}, "
                f"expected {handle.chain_id}"
            )
        check_deployment(handle, deployment)
        handle.flush()  # the contracts are on disk before the file names them
        save_deployment(path, deployment)
        return deployment
