"""The demo's side of the chain: the real clock read against the latest block, the parties'
gas, balances read back, and the refusal of a data dir the demo cannot finish in real time."""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from eth_account.signers.local import LocalAccount
from eth_account.types import TransactionDictType
from eth_typing import HexStr

from backend.demo.common import DemoError

if TYPE_CHECKING:
    from web3 import Web3

    from backend.chain import EscrowContract, TokenContract
    from backend.gateway import ChainHandle, Deployment

__all__ = ["MAX_OBJECTION_WAIT", "balances", "chain_label", "chain_now", "check_real_time",
           "deployed", "hex_hash", "send_eth", "wait_until", "wall_clock"]

MAX_OBJECTION_WAIT = 60  # seconds the demo will wait for an escrow's objection window


def chain_label(handle: ChainHandle) -> str:
    """How a printed line names the chain: embedded, or by its RPC URL."""
    if handle.embedded:
        return f"the embedded chain {handle.chain_id}"
    return f"the chain {handle.chain_id} at {handle.rpc_url}"


def chain_now(handle: ChainHandle) -> datetime:
    """The latest block's time."""
    return datetime.fromtimestamp(int(handle.w3.eth.get_block("latest")["timestamp"]), UTC)


def wall_clock(handle: ChainHandle) -> Callable[[], datetime]:
    """What the clients sign ``signedAt`` with: the real time, or the latest block's time if
    that is later (a step's records come after the blocks it names; on a healthy node the
    two agree to the second)."""
    def now() -> datetime:
        return max(datetime.now(UTC), chain_now(handle))

    return now


def wait_until(epoch_seconds: int) -> float:
    """Sleep until the real time passes ``epoch_seconds``; returns the seconds waited."""
    started = time.monotonic()
    while (left := epoch_seconds - time.time()) > 0:
        time.sleep(min(left, 0.5))
    return time.monotonic() - started


def hex_hash(value: bytes) -> str:
    """A transaction hash (bytes) as ``0x…`` hex."""
    return "0x" + bytes(value).hex()


def send_eth(w3: Web3, sender: LocalAccount, to: str, value: int) -> str:
    """A plain value transfer signed locally (the institution funds the parties' gas)."""
    tx: TransactionDictType = {
        "to": HexStr(to), "value": value, "gas": 21_000,
        "nonce": w3.eth.get_transaction_count(sender.address, "pending"),
        "chainId": int(w3.eth.chain_id),
        "maxFeePerGas": 2 * int(w3.eth.gas_price) + 1, "maxPriorityFeePerGas": 1}
    raw = sender.sign_transaction(tx).raw_transaction
    h = w3.eth.send_raw_transaction(raw)
    receipt = w3.eth.wait_for_transaction_receipt(h, timeout=30)
    if receipt["status"] != 1:
        raise DemoError(f"funding {to} failed (tx 0x{bytes(h).hex()})")
    return "0x" + bytes(h).hex()


def balances(token: TokenContract, escrow: EscrowContract, buyer: str,
             seller: str) -> dict[str, int]:
    """The token balances the result line is computed from (before and after the award)."""
    return {"buyer": token.balance_of(buyer), "seller": token.balance_of(seller),
            "guarantee": escrow.guarantee(seller, token.address).balance,
            "escrow": token.balance_of(escrow.address)}


def deployed(deployment: Deployment) -> tuple[str, str, str]:
    """The (anchor, escrow, token) addresses, which ``ensure_deployment`` fills."""
    if deployment.anchor is None or deployment.escrow is None or deployment.token is None:
        raise DemoError(f"the deployment {deployment} names no anchor, escrow or token; "
                        "point CHAINARB_DATA_DIR at a new directory")
    return deployment.anchor, deployment.escrow, deployment.token


def check_real_time(handle: ChainHandle, deployment: Deployment) -> None:
    """Refuse a data dir the demo cannot finish in real time (made by a version of the demo
    that moved the clock): an escrow whose objection window is days long, or blocks dated
    ahead of the real time. Says what to do instead."""
    from backend.chain import EscrowContract, Transactor

    ahead = (chain_now(handle) - datetime.now(UTC)).total_seconds()
    if ahead > MAX_OBJECTION_WAIT:
        raise DemoError(
            f"{chain_label(handle)} has blocks dated {ahead / 86_400:.1f} days ahead of the "
            "real time (an earlier demo moved its clock); the demo now runs on the real "
            "time: point CHAINARB_DATA_DIR at a new directory")
    _anchor, escrow, _token = deployed(deployment)
    window = EscrowContract(Transactor(handle.w3), escrow).timeouts().objection
    if window > MAX_OBJECTION_WAIT:
        raise DemoError(
            f"the escrow {escrow} on {chain_label(handle)} has an objection window "
            f"of {window} s; the demo waits the window out in real time (at most "
            f"{MAX_OBJECTION_WAIT} s) and moves no clock: point CHAINARB_DATA_DIR at a new "
            "directory (its contracts get a short window) or deploy a development escrow")
