"""Which chain the package verifier asks (the events it reads are `evidence.events`'), and
the escrow's acts on an order as a package lists them (`order_acts`, for builders)."""

from __future__ import annotations

from typing import Any

from web3 import HTTPProvider, Web3
from web3.providers import BaseProvider

from evidence.chain import check_rpc_url, discover_chain
from evidence.events import ORDER_ACTS, find_events
from evidence.judicial.inputs import ChainAct

__all__ = ["connect", "order_acts"]


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


def order_acts(w3: Web3, escrow: str, order_id: int) -> list[ChainAct]:
    """Every act of `escrow` on `order_id` (`evidence.events.ORDER_ACTS`: opening, dispute,
    appointments, award, objection, payout), each with its block, read from the logs."""
    chain_id = int(w3.eth.chain_id)
    blocks: dict[int, Any] = {}
    acts: list[ChainAct] = []
    for spec in ORDER_ACTS:
        for event in find_events(w3, spec, escrow, orderId=order_id):
            if event.tx_hash is None or event.block_number is None:
                continue  # a pending log: no block to name
            if event.block_number not in blocks:
                blocks[event.block_number] = w3.eth.get_block(event.block_number)
            block = blocks[event.block_number]
            acts.append(ChainAct(event=spec.name, chain_id=chain_id, contract=event.address,
                                 tx_hash=event.tx_hash, block_number=event.block_number,
                                 block_hash=bytes(block["hash"]),
                                 block_time=int(block["timestamp"])))
    return acts
