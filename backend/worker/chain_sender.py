"""`AnchorSender` on a real chain: EvidenceAnchor through web3, signed locally.

Why not `backend.chain.contracts.AnchorContract.anchor`: it signs, sends and waits in one
call, and the worker must record the signed bytes *between* signing and sending (write
ahead, see anchoring.py rule 2). Reading a root's record reuses `evidence.chain`.
The institution's key lives only in the `LocalAccount`; it is never logged.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime

from eth_account import Account
from eth_account.signers.local import LocalAccount
from eth_typing import HexStr
from eth_utils import to_checksum_address
from web3 import Web3
from web3.exceptions import TransactionNotFound
from web3.types import TxReceipt

from backend.chain.artifacts import load_artifact
from backend.worker.anchoring import (
    BroadcastError,
    Inclusion,
    NonceConflictError,
    SignedTx,
    node_unreachable,
)
from evidence.chain import lookup_anchor

__all__ = ["ANCHOR_GAS_LIMIT", "Web3AnchorSender"]

# anchor() costs 45,881 gas for a new root and 28,781 for a known one (ENVIRONMENT.md);
# a fixed limit saves an eth_estimateGas round trip per batch.
ANCHOR_GAS_LIMIT = 100_000

_NONCE_MESSAGES = ("nonce too low", "replacement transaction underpriced", "nonce too high",
                   "already used", "invalid nonce")
_KNOWN_MESSAGES = ("already known", "known transaction", "already imported")


class Web3AnchorSender:
    """Anchors roots from one account on one EvidenceAnchor contract."""

    def __init__(self, w3: Web3, contract: str, private_key: str, *,
                 durable: Callable[[], None] | None = None, chain_id: int | None = None
                 ) -> None:
        """`chain_id`: the configured id of a chain that may be down at start (no I/O
        here); the node's id is compared with it before the first signature. None: ask
        the node now."""
        self.w3 = w3
        self._checked = chain_id is None
        self.chain_id = int(w3.eth.chain_id) if chain_id is None else chain_id
        self.contract = to_checksum_address(contract)
        self._account: LocalAccount = Account.from_key(private_key)
        self._durable = durable or (lambda: None)
        self._abi = list(load_artifact("EvidenceAnchor").abi)
        self._c = w3.eth.contract(address=self.contract, abi=self._abi)

    def __repr__(self) -> str:  # never the key
        return f"Web3AnchorSender(chain={self.chain_id}, contract={self.contract}, " \
               f"from={self._account.address})"

    def _endpoint(self) -> str:
        return str(getattr(self.w3.provider, "endpoint_uri", "") or "the configured node")

    @property
    def address(self) -> str:
        return self._account.address

    def next_nonce(self) -> int:
        if not self._checked:  # before anything is signed for this chain
            served = int(self.w3.eth.chain_id)
            if served != self.chain_id:
                raise BroadcastError(f"the node at {self._endpoint()} serves chain {served}, "
                                     f"configured as chain {self.chain_id}: fix its rpc_url")
            self._checked = True
        return int(self.w3.eth.get_transaction_count(self._account.address, "pending"))

    def sign_anchor(self, root: bytes, count: int, nonce: int) -> SignedTx:
        tx = {
            "to": self.contract,
            "data": self._c.encode_abi("anchor", args=[root, count]),
            "value": 0,
            "gas": ANCHOR_GAS_LIMIT,
            "gasPrice": int(self.w3.eth.gas_price),
            "nonce": nonce,
            "chainId": self.chain_id,
        }
        signed = self._account.sign_transaction(tx)
        return SignedTx(raw=bytes(signed.raw_transaction),
                        tx_hash="0x" + bytes(signed.hash).hex(), nonce=nonce)

    def broadcast(self, raw: bytes) -> None:
        try:
            self.w3.eth.send_raw_transaction(raw)
        except Exception as exc:
            if node_unreachable(exc):
                raise  # the node is down, the transaction not refused: no attempt spent
            message = str(exc).lower()
            if any(m in message for m in _KNOWN_MESSAGES):
                return
            if any(m in message for m in _NONCE_MESSAGES):
                raise NonceConflictError(f"nonce conflict: {exc}") from None
            raise BroadcastError(f"node refused the anchor transaction: {exc}") from None

    def _inclusion(self, receipt: TxReceipt) -> Inclusion:
        block = self.w3.eth.get_block(receipt["blockNumber"])
        return Inclusion(
            tx_hash="0x" + bytes(receipt["transactionHash"]).hex(),
            block_number=int(receipt["blockNumber"]),
            block_hash="0x" + bytes(receipt["blockHash"]).hex(),
            block_time=datetime.fromtimestamp(int(block["timestamp"]), UTC),
            succeeded=int(receipt["status"]) == 1,
        )

    def receipt(self, tx_hash: str) -> Inclusion | None:
        try:
            receipt = self.w3.eth.get_transaction_receipt(HexStr(tx_hash))
        except TransactionNotFound:
            return None
        if receipt is None or receipt.get("blockNumber") is None:
            return None
        return self._inclusion(receipt)

    def find_anchor(self, root: bytes) -> Inclusion | None:
        record = lookup_anchor(self.w3, self.contract, root)
        if record is None:
            return None
        if record.tx_hash is not None:
            found = self.receipt("0x" + record.tx_hash.hex())
            if found is not None:
                return found
        # Logs unavailable: the record alone gives block and time.
        block = self.w3.eth.get_block(record.block_number)
        return Inclusion(tx_hash="0x" + "00" * 32, block_number=record.block_number,
                         block_hash="0x" + bytes(block["hash"]).hex(),
                         block_time=datetime.fromtimestamp(record.timestamp, UTC))

    def head(self) -> int:
        return int(self.w3.eth.block_number)

    def block_hash(self, number: int) -> str | None:
        try:
            return "0x" + bytes(self.w3.eth.get_block(number)["hash"]).hex()
        except Exception:
            return None

    def make_durable(self) -> None:
        self._durable()
