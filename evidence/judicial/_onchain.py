"""What the verifier reads from the chain: receipts, blocks and the escrow's events.

The event ABIs are written here from the Solidity signatures in
contracts/interfaces/IArbitrationEscrow.sol and IEvidenceAnchor.sol (topic 0 is the
keccak-256 of the signature; enums are uint8), so a court needs no artifact of ours and
an expert can recompute every topic with any keccak tool.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from eth_abi import decode as abi_decode
from eth_utils import keccak, to_checksum_address
from web3 import HTTPProvider, Web3
from web3.providers import BaseProvider

from evidence.chain import check_rpc_url, discover_chain

__all__ = [
    "ORDER_OPENED",
    "ORDER_RESOLVED",
    "RESOLUTIONS",
    "ROOT_ANCHORED",
    "EventSpec",
    "connect",
    "decode_events",
]


@dataclass(frozen=True)
class EventSpec:
    """An event: its name and (name, type, indexed) parameters in declaration order."""

    name: str
    params: tuple[tuple[str, str, bool], ...]

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(t for _, t, _ in self.params)})"

    @property
    def topic0(self) -> bytes:
        return keccak(self.signature.encode())

    @property
    def indexed(self) -> list[tuple[str, str]]:
        return [(n, t) for n, t, i in self.params if i]

    @property
    def data(self) -> list[tuple[str, str]]:
        return [(n, t) for n, t, i in self.params if not i]


ROOT_ANCHORED = EventSpec(
    "RootAnchored",
    (("root", "bytes32", True), ("anchorer", "address", True), ("count", "uint32", False)),
)
ORDER_OPENED = EventSpec(
    "OrderOpened",
    (
        ("orderId", "uint256", True),
        ("buyer", "address", True),
        ("seller", "address", True),
        ("token", "address", False),
        ("amount", "uint256", False),
        ("deliveryDeadline", "uint48", False),
        ("institution", "address", False),
        ("rulesHash", "bytes32", False),
    ),
)
ORDER_RESOLVED = EventSpec(
    "OrderResolved",
    (
        ("orderId", "uint256", True),
        ("resolution", "uint8", True),  # enum Resolution
        ("toBuyer", "uint256", False),
        ("toSeller", "uint256", False),
        ("compensationPaid", "uint256", False),
        ("compensationShortfall", "uint256", False),
    ),
)

RESOLUTIONS = (
    "None",
    "DeliveryConfirmed",
    "ReleasedAfterDeadline",
    "RefundedBySeller",
    "Settled",
    "AwardExecuted",
    "PanelAwardExecuted",
    "TimeoutNoArbitrator",
    "TimeoutNoAward",
    "TimeoutNoPanel",
    "TimeoutNoPanelAward",
)
"""IArbitrationEscrow.Resolution, by value."""


def _decode_topic(sol_type: str, topic: bytes) -> Any:
    return abi_decode([sol_type], topic)[0]


def decode_events(
    logs: Sequence[Any], spec: EventSpec, *, address: str | None = None
) -> list[dict[str, Any]]:
    """The logs of `spec` (from `address`, if given) in a receipt, decoded by name."""
    out = []
    want = to_checksum_address(address) if address else None
    for log in logs:
        topics = [bytes(t) for t in log["topics"]]
        if not topics or topics[0] != spec.topic0 or len(topics) != 1 + len(spec.indexed):
            continue
        if want is not None and to_checksum_address(log["address"]) != want:
            continue
        values: dict[str, Any] = {
            name: _decode_topic(t, topic)
            for (name, t), topic in zip(spec.indexed, topics[1:], strict=True)
        }
        data = bytes(log["data"])
        decoded = abi_decode([t for _, t in spec.data], data)
        values.update({name: v for (name, _), v in zip(spec.data, decoded, strict=True)})
        values["_address"] = to_checksum_address(log["address"])
        out.append(values)
    return out


def connect(chain: Web3 | BaseProvider | str | None) -> Web3 | None:
    """A Web3 for `chain`: a Web3 or provider, a JSON-RPC URL, or None for the configured chain.

    The configured chain is found by `evidence.chain.discover_chain`, the one discovery
    every command uses (`$CHAINARB_CHAIN_RPC_URL`, the data dir's embedded node, or an
    installed component's `chainarb.chain` factory); None when there is none.
    """
    if isinstance(chain, Web3):
        return chain
    if isinstance(chain, BaseProvider):
        return Web3(chain)
    if isinstance(chain, str):
        return Web3(HTTPProvider(check_rpc_url(chain), request_kwargs={"timeout": 30}))
    found = discover_chain(None)
    return found.w3 if found is not None else None
