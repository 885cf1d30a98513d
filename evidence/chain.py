"""Read an EvidenceAnchor record from any EVM node: when was a Merkle root anchored, by whom.

Read-only and self-contained: it needs web3 and the ABI in evidence/abi/EvidenceAnchor.json
(written by scripts/compile.py), never the backend, so a court can check an anchor with
`evidence` alone against any node it trusts.

    from web3 import Web3, HTTPProvider
    record = lookup_anchor(Web3(HTTPProvider(url)), anchor_address, root)
    if record is None: ...  # never anchored
    record.timestamp, record.block_number, record.anchorer
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from functools import cache
from importlib import resources
from typing import Any

from eth_utils import is_address, to_checksum_address
from web3 import Web3
from web3.providers import BaseProvider

from evidence.errors import EvidenceError, InvalidAddress, InvalidRecord

__all__ = ["AnchorContractMissing", "AnchorRecord", "anchor_abi", "lookup_anchor"]


class AnchorContractMissing(EvidenceError):  # noqa: N818 (names the situation, like its siblings)
    """No contract code at the given anchor address on this chain (wrong address or chain)."""

    code = "anchor_contract_missing"


@dataclass(frozen=True)
class AnchorRecord:
    """An anchored root: first anchoring block's time and number, and its sender.

    `count` (items in the batch, as the anchorer claimed) and `tx_hash` come from the
    `RootAnchored` event and are None when the node cannot serve that block's logs.
    """

    root: bytes
    timestamp: int
    block_number: int
    anchorer: str
    count: int | None = None
    tx_hash: bytes | None = None


@cache
def anchor_abi() -> list[dict[str, Any]]:
    """The EvidenceAnchor ABI shipped with `evidence`."""
    text = resources.files("evidence").joinpath("abi/EvidenceAnchor.json").read_text()
    return list(json.loads(text))


def lookup_anchor(
    w3_or_provider: Web3 | BaseProvider,
    anchor_address: str,
    root: bytes,
    *,
    with_event: bool = True,
) -> AnchorRecord | None:
    """The record of `root` in the EvidenceAnchor at `anchor_address`, or None if never anchored.

    Args:
        w3_or_provider: a Web3 instance or a provider (HTTPProvider, EthereumTesterProvider...).
        anchor_address: the EvidenceAnchor contract.
        root: the 32-byte Merkle root.
        with_event: also fetch the RootAnchored event (count, tx hash) from the record's block.

    Raises:
        InvalidRecord: `root` is not 32 bytes.
        InvalidAddress: `anchor_address` is not an address.
        AnchorContractMissing: there is no contract at the address on this chain.
    """
    if not isinstance(root, (bytes, bytearray)) or len(root) != 32:
        raise InvalidRecord(f"expected a 32-byte Merkle root, found {root!r}")
    if not is_address(anchor_address):
        raise InvalidAddress(f"expected an anchor contract address, found {anchor_address!r}")
    w3 = w3_or_provider if isinstance(w3_or_provider, Web3) else Web3(w3_or_provider)
    address = to_checksum_address(anchor_address)
    if len(w3.eth.get_code(address)) == 0:
        raise AnchorContractMissing(
            f"expected the EvidenceAnchor contract at {address} on chain {w3.eth.chain_id}, "
            "found no code; check the address and the node's chain"
        )
    contract = w3.eth.contract(address=address, abi=anchor_abi())
    timestamp, block_number, anchorer = contract.functions.recordOf(bytes(root)).call()
    if timestamp == 0:
        return None
    record = AnchorRecord(
        root=bytes(root),
        timestamp=int(timestamp),
        block_number=int(block_number),
        anchorer=to_checksum_address(anchorer),
    )
    if not with_event:
        return record
    try:
        logs = contract.events.RootAnchored().get_logs(
            from_block=block_number, to_block=block_number, argument_filters={"root": bytes(root)}
        )
    except Exception:  # a pruned node or a provider without logs: the record still stands
        return record
    for log in logs:
        if bytes(log["args"]["root"]) == bytes(root):
            return AnchorRecord(
                root=record.root,
                timestamp=record.timestamp,
                block_number=record.block_number,
                anchorer=record.anchorer,
                count=int(log["args"]["count"]),
                tx_hash=bytes(log["transactionHash"]),
            )
    return record
