"""Read an EvidenceAnchor record from any EVM node: when was a Merkle root anchored, by whom.

Read-only and self-contained: it needs web3 and the ABI in evidence/abi/EvidenceAnchor.json
(written by scripts/compile.py), never the backend, so a court can check an anchor with
`evidence` alone against any node it trusts.

    from web3 import Web3, HTTPProvider
    record = lookup_anchor(Web3(HTTPProvider(url)), anchor_address, root)
    if record is None: ...  # never anchored
    record.timestamp, record.block_number, record.anchorer

Which chain to ask when the user names none is decided here too, once, for every command
(`discover_chain`): `--rpc URL`, else `$CHAINARB_CHAIN_RPC_URL`, else the embedded node that
the service runs on `$CHAINARB_DATA_DIR`, else a chain an installed component registers
under the `chainarb.chain` entry-point group (the backend's embedded chain).
"""

from __future__ import annotations

import json
import os
from collections.abc import Mapping
from dataclasses import dataclass, replace
from functools import cache
from importlib import resources
from importlib.metadata import entry_points
from pathlib import Path
from typing import TYPE_CHECKING
from urllib.parse import urlsplit

from evidence.errors import EvidenceError, InvalidAddress, InvalidRecord
from evidence.safejson import JsonObject

if TYPE_CHECKING:  # web3 loads when a chain is opened: checking an --rpc URL needs none
    from web3 import Web3
    from web3.providers import BaseProvider

__all__ = [
    "CHAIN_ENTRY_POINT_GROUP",
    "LEGACY_RPC_ENV",
    "RPC_ENV",
    "AnchorContractMissing",
    "AnchorRecord",
    "ChainSource",
    "ConfiguredChainError",
    "InvalidRpcUrl",
    "anchor_abi",
    "check_rpc_url",
    "discover_chain",
    "is_unreachable",
    "lookup_anchor",
]

RPC_ENV = "CHAINARB_CHAIN_RPC_URL"
"""The one name of the chain setting: the service, `chainarb verify` and `chainarb evidence
verify` all read it."""
LEGACY_RPC_ENV = "CHAINARB_RPC_URL"
"""An earlier name `chainarb verify` read; no longer read (the CLI says so when it is set)."""
CHAIN_ENTRY_POINT_GROUP = "chainarb.chain"
RPC_TIMEOUT_SECONDS = 30


class InvalidRpcUrl(EvidenceError, ValueError):  # noqa: N818 (a refusal, like its siblings)
    """A chain URL that is not an http(s) JSON-RPC URL (a usage error, not a failed check)."""

    code = "invalid_rpc_url"

    def __init__(self, source: str, value: str) -> None:
        super().__init__(
            f"{source}: expected an http(s) JSON-RPC URL such as http://127.0.0.1:8545, "
            f"found {value!r}"
        )
        self.source = source
        self.value = value


class ConfiguredChainError(EvidenceError):
    """The installation's configured chain exists but could not be opened (its node does not
    start, its settings are unusable): the checks that need it could not run."""

    code = "configured_chain_unavailable"


def check_rpc_url(value: str, source: str = "--rpc") -> str:
    """`value` if it is an http(s) URL with a host; else InvalidRpcUrl naming `source`."""
    text = value.strip()
    try:
        parts = urlsplit(text)
        host = parts.hostname
        parts.port  # noqa: B018 (raises ValueError on a port that is not a number)
    except ValueError:
        raise InvalidRpcUrl(source, value) from None
    if parts.scheme not in ("http", "https") or not host:
        raise InvalidRpcUrl(source, value)
    return text


def is_unreachable(exc: BaseException) -> bool:
    """True when `exc` (or what caused it) says the node could not be asked at all: a
    refused or dropped connection, a timeout, an HTTP error. Such a check could not run;
    it did not fail."""
    from web3.exceptions import ProviderConnectionError

    seen: set[int] = set()
    cur: BaseException | None = exc
    while cur is not None and id(cur) not in seen:
        if isinstance(cur, OSError | TimeoutError | ProviderConnectionError):
            return True
        seen.add(id(cur))
        cur = cur.__cause__ or cur.__context__
    return False


@dataclass(frozen=True)
class ChainSource:
    """The chain a command will ask, and where that choice came from (for messages).

    `origin` is "option" (--rpc), "env" ($CHAINARB_CHAIN_RPC_URL), "embedded" (the
    service's running node on the data dir) or "component" (an installed component's
    `chainarb.chain` factory); `url` is None for "component"."""

    w3: Web3
    origin: str
    url: str | None = None


def _http_web3(url: str) -> Web3:
    from web3 import HTTPProvider, Web3

    return Web3(HTTPProvider(url, request_kwargs={"timeout": RPC_TIMEOUT_SECONDS}))


def _embedded_node_url(environ: Mapping[str, str]) -> str | None:
    """The URL of the embedded chain's node if the service runs it on this data dir: the
    backend writes `<data dir>/chain/node.json` ({"pid", "url", ...}) while its node runs.
    Read as plain JSON: `evidence` never imports the backend."""
    data_dir = Path(environ.get("CHAINARB_DATA_DIR", ".chainarb"))
    try:
        info = json.loads((data_dir / "chain" / "node.json").read_text())
        url = info["url"]
    except (OSError, ValueError, KeyError, TypeError):
        return None
    if not isinstance(url, str) or not url.startswith("http://127.0.0.1:"):
        return None
    return url


def discover_chain(
    explicit: str | None = None,
    *,
    environ: Mapping[str, str] | None = None,
    components: bool = True,
) -> ChainSource | None:
    """The chain to verify against, or None when none is configured anywhere.

    In order: `explicit` (the --rpc option); `$CHAINARB_CHAIN_RPC_URL`; the embedded
    node the service runs on `$CHAINARB_DATA_DIR` (its `chain/node.json`); with
    `components`, a factory registered under the `chainarb.chain` entry-point group (the
    backend starts its embedded chain from the data dir there).

    Raises:
        InvalidRpcUrl: the option or the variable is not an http(s) URL (naming which).
        ConfiguredChainError: an installed component's chain is configured but does not open.
    """
    env = os.environ if environ is None else environ
    if explicit is not None:
        url = check_rpc_url(explicit, "--rpc")
        return ChainSource(_http_web3(url), "option", url)
    value = env.get(RPC_ENV, "").strip()
    if value:
        url = check_rpc_url(value, RPC_ENV)
        return ChainSource(_http_web3(url), "env", url)
    node = _embedded_node_url(env)
    if node is not None:
        return ChainSource(_http_web3(node), "embedded", node)
    if not components:
        return None
    for ep in entry_points(group=CHAIN_ENTRY_POINT_GROUP):
        try:
            factory = ep.load()
            w3 = factory()
        except ImportError:  # the component is installed without its extras
            continue
        except Exception as exc:  # its chain is configured but does not open
            raise ConfiguredChainError(
                f"the installation's chain ({ep.name}) could not be opened: "
                f"{type(exc).__name__}: {exc}"
            ) from exc
        if w3 is not None:
            return ChainSource(w3, "component")
    return None


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
def anchor_abi() -> list[JsonObject]:
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
    from eth_utils import is_address, to_checksum_address
    from web3 import Web3

    from evidence.events import ROOT_ANCHORED, find_events, uint_of

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
        events = find_events(w3, ROOT_ANCHORED, address, from_block=block_number,
                             to_block=block_number, root=bytes(root))
    except Exception:  # a pruned node or a provider without logs: the record still stands
        return record
    for event in events:
        if event.args["root"] == record.root:
            return replace(record, count=uint_of(event.args, "count"), tx_hash=event.tx_hash)
    return record
