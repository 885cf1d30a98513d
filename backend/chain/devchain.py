"""Local chains for the demo and tests: the in-process EVM and an anvil node on loopback.

Time travel, snapshots and funding differ between eth-tester and anvil; these helpers hide
the difference so one test body runs on both.
"""

from __future__ import annotations

import contextlib
import shutil
import socket
import subprocess
import time
from pathlib import Path
from typing import Any

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_utils import keccak
from web3 import EthereumTesterProvider, Web3
from web3.providers import HTTPProvider
from web3.types import RPCEndpoint, Wei

from backend.chain.anvil import find_anvil, missing_anvil
from backend.chain.errors import TransactionError

__all__ = [
    "AnvilNode",
    "advance_time",
    "chain_time",
    "dev_accounts",
    "fund",
    "in_process_web3",
    "is_in_process",
    "revert_to",
    "set_next_timestamp",
    "snapshot",
]


ETHER = 10**18


def in_process_web3() -> Web3:
    """A fresh py-evm chain in this process (chain id 131277322940537). py-evm's `eth`
    raises the recursion limit to 12,288 on import; it is put back (evidence/__init__.py
    says why), as our contracts never nest calls deeply."""
    from evidence import restore_recursion_limit

    w3 = Web3(EthereumTesterProvider())
    restore_recursion_limit()
    return w3


def is_in_process(w3: Web3) -> bool:
    return isinstance(w3.provider, EthereumTesterProvider)


def _tester(w3: Web3) -> Any:
    """The in-process chain's EthereumTester (eth-tester has no type information)."""
    return w3.provider.ethereum_tester  # type: ignore[attr-defined]  # web3 declares None


def dev_accounts(count: int, seed: str = "chainarb") -> list[LocalAccount]:
    """`count` deterministic accounts (keys = keccak(seed/i)); test and demo use only."""
    return [Account.from_key(keccak(text=f"{seed}/{i}")) for i in range(count)]


def fund(w3: Web3, addresses: list[str], wei: int = 1_000 * ETHER) -> None:
    """Give each address `wei` of ETH (anvil: set the balance; eth-tester: a transfer)."""
    for address in addresses:
        if is_in_process(w3):
            source = w3.eth.accounts[0]
            tx_hash = w3.eth.send_transaction({"from": source, "to": address, "value": Wei(wei)})
            w3.eth.wait_for_transaction_receipt(tx_hash)
        else:
            w3.provider.make_request(RPCEndpoint("anvil_setBalance"), [address, hex(wei)])


def chain_time(w3: Web3) -> int:
    """The chain's present: the latest block's timestamp.

    On eth-tester the block being built takes the wall clock when it is ahead (e.g. after a
    snapshot was reverted minutes later); then this is that block's time minus one, so that
    `chain_time(w3) + n` is always a valid future for `set_next_timestamp`.
    """
    latest = int(w3.eth.get_block("latest")["timestamp"])
    if is_in_process(w3):
        pending = int(w3.eth.get_block("pending")["timestamp"])
        return max(latest, pending - 1)
    return latest


def advance_time(w3: Web3, seconds: int) -> int:
    """Mine an empty block `seconds` after the latest one; returns its timestamp."""
    target = chain_time(w3) + seconds
    if is_in_process(w3):
        # eth-tester's time_travel(t) mines a block at t - 1 and makes t the next block's time.
        _tester(w3).time_travel(target + 1)
    else:
        _rpc(w3, "evm_setNextBlockTimestamp", [target])
        _rpc(w3, "evm_mine", [])
    return chain_time(w3)


def set_next_timestamp(w3: Web3, timestamp: int) -> None:
    """Make the next block (the next transaction's) carry exactly `timestamp`.

    Both chains first mine an empty block at `timestamp - 1` (eth-tester's time_travel does so
    by itself), so the latest block's time is just before the next transaction's: code that
    reads "now" from the latest block sees the same on both. `timestamp` must be at least two
    seconds after the latest block.
    """
    if is_in_process(w3):
        _tester(w3).time_travel(timestamp)
    else:
        _rpc(w3, "evm_setNextBlockTimestamp", [timestamp - 1])
        _rpc(w3, "evm_mine", [])
        _rpc(w3, "evm_setNextBlockTimestamp", [timestamp])


def snapshot(w3: Web3) -> object:
    """Take a snapshot of the chain state; pass the result to `revert_to`."""
    if is_in_process(w3):
        return _tester(w3).take_snapshot()
    return _rpc(w3, "evm_snapshot", [])


def revert_to(w3: Web3, snapshot_id: object) -> None:
    """Return the chain to `snapshot_id` (anvil consumes the snapshot: take a new one)."""
    if is_in_process(w3):
        _tester(w3).revert_to_snapshot(snapshot_id)
        return
    if _rpc(w3, "evm_revert", [snapshot_id]) is not True:
        raise TransactionError(f"anvil refused to revert to snapshot {snapshot_id}")


def _rpc(w3: Web3, method: str, params: list[Any]) -> Any:
    response = w3.provider.make_request(RPCEndpoint(method), params)
    if "error" in response:
        raise TransactionError(f"{method} failed: {response['error']}")
    return response.get("result")


def _free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class AnvilNode:
    """An anvil process on 127.0.0.1 (cancun, chain id 31337, never dials out).

    Use as a context manager or call `start()`/`stop()`. `state_path` makes the chain persist
    across restarts (anvil --state).
    """

    def __init__(
        self,
        port: int | None = None,
        *,
        binary: Path | str | None = None,
        state_path: Path | None = None,
        extra_args: tuple[str, ...] = (),
    ) -> None:
        self.port = port or _free_port()
        self.binary = Path(binary) if binary else find_anvil()
        self.state_path = state_path
        self.extra_args = extra_args
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def web3(self) -> Web3:
        return Web3(HTTPProvider(self.url, request_kwargs={"timeout": 30}))

    def start(self, timeout: float = 20.0) -> AnvilNode:
        if self.binary is None:
            raise TransactionError(missing_anvil())
        if not self.binary.exists() and shutil.which(str(self.binary)) is None:
            raise TransactionError(f"expected the anvil binary at {self.binary}, found none")
        args = [
            str(self.binary),
            "--host",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--hardfork",
            "cancun",
            "--silent",
            *self.extra_args,
        ]
        if self.state_path is not None:
            args += ["--state", str(self.state_path)]
        self.process = subprocess.Popen(
            args, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, start_new_session=True
        )
        deadline = time.monotonic() + timeout
        w3 = self.web3()
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                err = self.process.stderr.read().decode() if self.process.stderr else ""
                raise TransactionError(f"anvil exited with {self.process.returncode}: {err}")
            with contextlib.suppress(Exception):
                if w3.is_connected() and w3.eth.chain_id:
                    return self
            time.sleep(0.05)
        self.stop()
        raise TransactionError(f"anvil did not answer on {self.url} within {timeout} s")

    def stop(self) -> None:
        if self.process is None:
            return
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout=10)
        if self.process.stderr:
            self.process.stderr.close()
        self.process = None

    def __enter__(self) -> AnvilNode:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()
