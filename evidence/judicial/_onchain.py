"""Which chain the package verifier asks (the events it reads are `evidence.events`')."""

from __future__ import annotations

from web3 import HTTPProvider, Web3
from web3.providers import BaseProvider

from evidence.chain import check_rpc_url, discover_chain

__all__ = ["connect"]


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
