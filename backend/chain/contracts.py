"""Deploy and call chainarb's contracts: thin typed wrappers over web3.

Rules of this module:
  1. Transactions are signed locally with the sender's key and sent raw (eth_sendRawTransaction):
     web3's `transact()` makes ~9 RPC calls per transaction; this makes four (nonce, gas price,
     gas estimate, send) plus the receipt.
  2. Every revert is decoded by its 4-byte selector against all committed ABIs and raised as the
     Python class of the same name (`backend.chain.errors`); a mined transaction's logs are
     decoded the same way into `Event`s, so tests compare events exactly.
  3. Amounts are Python ints in the token's smallest unit. Never floats.

The read-only anchor lookup lives in `evidence.chain` (a court installs `evidence` alone);
`AnchorContract.record` delegates to it.
"""

from __future__ import annotations

import ast
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from enum import IntEnum
from functools import cache
from typing import Any

from eth_abi import decode as abi_decode
from eth_account.signers.local import LocalAccount
from eth_utils import function_signature_to_4byte_selector
from eth_utils import to_checksum_address as checksum
from hexbytes import HexBytes
from web3 import Web3
from web3.types import LogReceipt

from backend.chain.artifacts import artifact_names, load_artifact
from backend.chain.errors import (
    RevertError,
    TransactionError,
    UnknownRevertError,
    revert_class,
)
from backend.chain.typed_data import (
    Allocation,
    Domain,
    award_typed_data,
    decision_typed_data,
    jury_vote_typed_data,
    return_award_typed_data,
    return_settlement_typed_data,
    settlement_typed_data,
    sign_typed_data,
)
from evidence.chain import AnchorRecord, lookup_anchor
from evidence.events import Event, EventSpec, abi_type, decode_log, normalize, uint_of
from evidence.jury import jury_hash, jury_order
from evidence.orders import OrderTerms
from evidence.records import TypedData

__all__ = [
    "ETH",
    "ZERO_ADDRESS",
    "ZERO_BYTES32",
    "AnchorContract",
    "BoundContract",
    "DecisionKind",
    "EscrowContract",
    "Event",
    "Guarantee",
    "JurorBallot",
    "Order",
    "PendingAward",
    "Resolution",
    "Status",
    "Timeouts",
    "TokenContract",
    "Transactor",
    "TxResult",
    "decode_logs",
    "decode_revert",
    "deploy_anchor",
    "deploy_contract",
    "deploy_escrow",
    "deploy_token",
    "fast_track_decision_hash",
    "revert_data",
]

ZERO_ADDRESS = "0x0000000000000000000000000000000000000000"
ETH = ZERO_ADDRESS
"""The escrow's token address for ETH."""
ZERO_BYTES32 = bytes(32)

DAY = 86_400
IN_PROCESS_GAS = 12_000_000
"""Gas limit of every transaction on the in-process chain (which skips estimation)."""


class Status(IntEnum):
    """ArbitrationEscrow.Status (same order as the Solidity enum)."""

    NONE = 0
    PAID = 1
    DISPUTED = 2
    ARBITRATOR_APPOINTED = 3
    AWARD_SUBMITTED = 4
    OBJECTED = 5
    PANEL_APPOINTED = 6
    RESOLVED = 7
    JURY_APPOINTED = 8
    DECISION_PENDING = 9
    RETURN_PENDING = 10
    RETURN_SHIPPED = 11


class Resolution(IntEnum):
    """ArbitrationEscrow.Resolution (same order as the Solidity enum)."""

    NONE = 0
    DELIVERY_CONFIRMED = 1
    RELEASED_AFTER_DEADLINE = 2
    REFUNDED_BY_SELLER = 3
    SETTLED = 4
    AWARD_EXECUTED = 5
    PANEL_AWARD_EXECUTED = 6
    TIMEOUT_NO_ARBITRATOR = 7
    TIMEOUT_NO_AWARD = 8
    TIMEOUT_NO_PANEL = 9
    TIMEOUT_NO_PANEL_AWARD = 10
    JURY_VERDICT_EXECUTED = 11
    FAST_TRACK_EXECUTED = 12
    TIMEOUT_NO_JURY_VERDICT = 13
    RETURN_RECEIVED = 14
    RETURN_DEEMED_RECEIVED = 15
    RETURN_NOT_SHIPPED = 16


def fast_track_decision_hash(report_hash: bytes, window: int) -> bytes:
    """``keccak256(abi.encode(reportHash, uint256(window)))``: what the institution signs as a
    fast-track proposal's ``decisionHash``, binding the report and the window together."""
    from eth_abi import encode
    from eth_utils import keccak

    return bytes(keccak(encode(["bytes32", "uint256"], [_b32(report_hash, "report_hash"),
                                                       int(window)])))


class DecisionKind(IntEnum):
    """ArbitrationEscrow.DecisionKind: what an institution-signed decision is."""

    JURY_VERDICT = 0
    FAST_TRACK = 1


@dataclass(frozen=True)
class JurorBallot:
    """One juror's vote as the escrow reads it (``submitJuryVerdict``): the revealed choice,
    reason code and salt, and the juror's EIP-712 ``JuryVote`` signature (None: absent, the
    juror did not commit or did not reveal)."""

    juror: str
    choice: int = 0
    reason_code: int = 0
    salt: bytes = ZERO_BYTES32
    signature: bytes | None = None

    def words(self) -> list[bytes]:
        """Four words: salt, r, s, ``v << 24 | choice << 16 | reasonCode`` (all zero when
        absent)."""
        if self.signature is None:
            return [ZERO_BYTES32] * 4
        sig = bytes(self.signature)
        if len(sig) != 65:
            raise ValueError(f"a juror's signature is 65 bytes, found {len(sig)}")
        v = sig[64] if sig[64] >= 27 else sig[64] + 27
        packed = (v << 24) | (self.choice << 16) | self.reason_code
        return [_b32(self.salt, "salt"), sig[:32], sig[32:64], packed.to_bytes(32, "big")]


@dataclass(frozen=True)
class Timeouts:
    """Durations in seconds fixed at the escrow's deployment (see docs/contracts.md)."""

    max_delivery_period: int = 365 * DAY
    release_grace: int = 7 * DAY
    appointment: int = 30 * DAY
    award: int = 30 * DAY
    objection: int = 10 * DAY
    panel_appointment: int = 10 * DAY
    panel_award: int = 30 * DAY
    return_shipment: int = 15 * DAY
    return_receipt: int = 10 * DAY

    def as_tuple(self) -> tuple[int, ...]:
        return (
            self.max_delivery_period,
            self.release_grace,
            self.appointment,
            self.award,
            self.objection,
            self.panel_appointment,
            self.panel_award,
            self.return_shipment,
            self.return_receipt,
        )


@dataclass(frozen=True, kw_only=True)
class Order(OrderTerms):
    """ArbitrationEscrow.Order as read from the chain (``getOrder``): the terms the escrow
    fixed on opening (`evidence.orders.OrderTerms`, declared once) and where the order
    stands now."""

    status: Status
    resolution: Resolution
    deadline: int  # the current waiting status's deadline (unix time)
    arbitrator: str
    case_id: bytes
    contract_hash: bytes = ZERO_BYTES32  # the signed contract of sale it binds (zero: none)


@dataclass(frozen=True)
class Guarantee:
    """A seller's guarantee in one token; `locked` is what open disputes hold back."""

    balance: int
    locked: int

    @property
    def withdrawable(self) -> int:
        return max(self.balance - self.locked, 0)


@dataclass(frozen=True)
class PendingAward:
    """The round-0 award waiting for its objection window."""

    allocation: Allocation
    award_hash: bytes


@dataclass(frozen=True)
class TxResult:
    """A mined, successful transaction."""

    tx_hash: bytes
    block_number: int
    gas_used: int
    events: tuple[Event, ...]
    contract_address: str | None = None

    def named(self, name: str) -> list[Event]:
        """The events called `name`, in log order."""
        return [e for e in self.events if e.name == name]


# --------------------------------------------------------------------------------------
# ABI registry: every error and event of every committed artifact, by selector / topic.
# --------------------------------------------------------------------------------------


@cache
def _errors() -> dict[bytes, tuple[str, tuple[str, ...], tuple[str, ...]]]:
    found: dict[bytes, tuple[str, tuple[str, ...], tuple[str, ...]]] = {
        bytes.fromhex("08c379a0"): ("Error", ("string",), ("reason",)),
        bytes.fromhex("4e487b71"): ("Panic", ("uint256",), ("code",)),
    }
    for name in artifact_names():
        for item in load_artifact(name).abi:
            if item["type"] != "error":
                continue
            types = tuple(abi_type(i) for i in item["inputs"])
            selector = function_signature_to_4byte_selector(f"{item['name']}({','.join(types)})")
            found[selector] = (item["name"], types, tuple(i["name"] for i in item["inputs"]))
    return found


@cache
def _events() -> dict[tuple[bytes, int], EventSpec]:
    """Every committed artifact's events by (topic0, number of indexed inputs): ERC-20 and
    ERC-721 Transfer share a topic0 but not the count of indexed inputs."""
    found: dict[tuple[bytes, int], EventSpec] = {}
    for name in artifact_names():
        for item in load_artifact(name).abi:
            if item["type"] == "event" and not item.get("anonymous"):
                spec = EventSpec.from_abi(item)
                found[(spec.topic0, len(spec.indexed))] = spec
    return found


def decode_revert(data: bytes) -> RevertError:
    """The exception for revert data `data` (selector + ABI-encoded arguments)."""
    if len(data) < 4:
        return UnknownRevertError("<no revert data>", {}, data)
    entry = _errors().get(data[:4])
    if entry is None:
        return UnknownRevertError(f"<selector 0x{data[:4].hex()}>", {}, data)
    name, types, names = entry
    try:
        values = abi_decode(list(types), data[4:])
    except Exception:
        return UnknownRevertError(f"{name}<undecodable>", {}, data)
    triples = enumerate(zip(names, types, values, strict=True))
    args = {n or f"arg{i}": normalize(t, v) for i, (n, t, v) in triples}
    return revert_class(name)(name, args, data)


def revert_data(exc: BaseException) -> bytes | None:
    """Revert data carried by a web3 or eth-tester exception, if any.

    web3 over JSON-RPC (anvil) puts it in `.data` as hex. web3's eth-tester provider re-raises
    eth-tester's TransactionFailed with the bytes in a message string; the original exception
    (with the bytes) is its `__context__`.
    """
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        data = getattr(current, "data", None)
        if isinstance(data, str) and data.startswith("0x"):
            return bytes.fromhex(data[2:])
        if isinstance(data, (bytes, bytearray)):
            return bytes(data)
        if current.args:
            first = current.args[0]
            if isinstance(first, (bytes, bytearray)):
                return bytes(first)
            if isinstance(first, str) and first.startswith("execution reverted: b"):
                literal = ast.literal_eval(first[len("execution reverted: ") :])
                if isinstance(literal, bytes):
                    return literal
        current = current.__cause__ or current.__context__
    return None


def decode_logs(logs: Iterable[LogReceipt]) -> tuple[Event, ...]:
    """Decode receipt logs with every committed event ABI (through `evidence.events`' one
    decoder); logs of no known event, or that do not decode, are kept as `<unknown>`."""
    events = []
    for log in logs:
        topics = [bytes(t) for t in log["topics"]]
        spec = _events().get((topics[0], len(topics) - 1)) if topics else None
        event = decode_log(spec, log) if spec is not None else None
        if event is None:
            args = {"topics": tuple(topics), "data": bytes(log["data"])}
            event = Event("<unknown>", checksum(log["address"]), args,
                          int(log.get("logIndex", 0)))
        events.append(event)
    return tuple(events)


# --------------------------------------------------------------------------------------
# Sending
# --------------------------------------------------------------------------------------


class Transactor:
    """Signs transactions locally and sends them raw; decodes reverts into named errors.

    On the in-process chain every transaction carries IN_PROCESS_GAS (no estimate), so a sender
    needs IN_PROCESS_GAS x gas price of ETH (about 0.012 ETH) even though only gas used is paid.

    Args:
        w3: any web3 instance (eth-tester in-process, anvil, a real node).
        gas_margin: multiplier on the gas estimate (estimates are exact on these chains; the
            margin absorbs state changes between estimate and inclusion).
    """

    def __init__(self, w3: Web3, *, gas_margin: float = 1.2) -> None:
        self.w3 = w3
        self.gas_margin = gas_margin
        self.chain_id = w3.eth.chain_id
        # JSON-RPC nodes estimate on "pending" so that a timestamp set for the next block
        # (evm_setNextBlockTimestamp) applies. eth-tester runs calls on its pending block anyway
        # and its estimate is a binary search of ~10 executions: there a single eth_call finds
        # reverts and a fixed gas limit replaces the estimate (only gas used is charged).
        self._in_process = _is_eth_tester(w3)

    def send(
        self,
        account: LocalAccount,
        *,
        to: str | None,
        data: bytes | str = b"",
        value: int = 0,
        gas: int | None = None,
    ) -> TxResult:
        """Sign and send one transaction, wait for its receipt.

        Raises:
            RevertError subclass: the transaction would revert (decoded from the estimate) or
                did revert with data.
            TransactionError: the node refused it, or it was mined with status 0.
        """
        payload = HexBytes(data)
        tx: dict[str, Any] = {
            "from": account.address,
            "value": value,
            "data": payload,
            "chainId": self.chain_id,
        }
        if to is not None:
            tx["to"] = checksum(to)
        eth = self.w3.eth
        # web3 types the node's calls with its TxParams; this one dict is also what the
        # account signs (a plain dict), hence the two ignores below.
        if gas is None:
            try:
                if self._in_process:
                    eth.call(tx, "pending")  # type: ignore[arg-type]
                    gas = IN_PROCESS_GAS
                else:
                    estimate = eth.estimate_gas(tx, "pending")  # type: ignore[arg-type]
                    gas = int(estimate * self.gas_margin) + 10_000
            except Exception as exc:
                raise _as_chain_error(exc) from exc
        tx["gas"] = gas
        tx["nonce"] = eth.get_transaction_count(account.address, "pending")
        tx["gasPrice"] = eth.gas_price
        del tx["from"]
        signed = account.sign_transaction(tx)
        try:
            tx_hash = eth.send_raw_transaction(signed.raw_transaction)
        except Exception as exc:
            raise _as_chain_error(exc) from exc
        try:
            receipt = eth.get_transaction_receipt(tx_hash)
        except Exception:
            receipt = eth.wait_for_transaction_receipt(tx_hash, timeout=120, poll_latency=0.05)
        if receipt["status"] != 1:
            raise TransactionError(
                f"transaction 0x{bytes(tx_hash).hex()} was mined with status 0 in block "
                f"{receipt['blockNumber']} (gas used {receipt['gasUsed']} of {gas}); expected "
                f"success: retry with more gas or check the state it depends on"
            )
        created = receipt.get("contractAddress")
        return TxResult(
            tx_hash=bytes(tx_hash),
            block_number=int(receipt["blockNumber"]),
            gas_used=int(receipt["gasUsed"]),
            events=decode_logs(receipt["logs"]),
            contract_address=checksum(created) if created else None,
        )

    def call(self, to: str, data: bytes | str, *, sender: str | None = None) -> bytes:
        """eth_call; reverts raise the decoded error."""
        tx: dict[str, Any] = {"to": checksum(to), "data": HexBytes(data)}
        if sender is not None:
            tx["from"] = checksum(sender)
        try:  # a plain dict where web3 types its TxParams (as in send above)
            return bytes(self.w3.eth.call(tx))  # type: ignore[arg-type]
        except Exception as exc:
            raise _as_chain_error(exc) from exc


def _is_eth_tester(w3: Web3) -> bool:
    return type(w3.provider).__name__ == "EthereumTesterProvider"


def _as_chain_error(exc: BaseException) -> Exception:
    data = revert_data(exc)
    if data is not None:
        return decode_revert(data)
    if isinstance(exc, RevertError | TransactionError):
        return exc
    message = str(exc)
    if "revert" in message.lower():
        return UnknownRevertError("<no revert data>", {"message": message}, b"")
    return TransactionError(f"the node refused the transaction: {message}")


def deploy_contract(tx: Transactor, deployer: LocalAccount, name: str, *args: object) -> str:
    """Deploy artifact `name` with constructor `args`; returns the checksummed address."""
    artifact = load_artifact(name)
    if not artifact.deployable:
        raise TransactionError(f"{name} has no creation code (an interface?); expected a contract")
    factory = tx.w3.eth.contract(abi=list(artifact.abi), bytecode=artifact.bytecode)
    data = factory.constructor(*args).data_in_transaction
    result = tx.send(deployer, to=None, data=data)
    assert result.contract_address is not None
    return result.contract_address


# --------------------------------------------------------------------------------------
# Wrappers
# --------------------------------------------------------------------------------------


class _Bound:
    artifact_name = ""

    def __init__(self, tx: Transactor, address: str) -> None:
        self.tx = tx
        self.address = checksum(address)
        self.contract = tx.w3.eth.contract(
            address=self.address, abi=list(load_artifact(self.artifact_name).abi)
        )

    def _send(self, account: LocalAccount, fn: str, *args: object, value: int = 0) -> TxResult:
        data = self.contract.encode_abi(fn, args=list(args))
        return self.tx.send(account, to=self.address, data=data, value=value)

    def _call(self, fn: str, *args: object) -> Any:
        try:
            return self.contract.functions[fn](*args).call()
        except Exception as exc:
            raise _as_chain_error(exc) from exc


class BoundContract(_Bound):
    """Any committed artifact at an address, with generic `send` and `call` (test contracts)."""

    def __init__(self, tx: Transactor, address: str, artifact_name: str) -> None:
        self.artifact_name = artifact_name
        super().__init__(tx, address)

    def send(self, account: LocalAccount, fn: str, *args: object, value: int = 0) -> TxResult:
        """Call `fn(*args)` in a transaction from `account`."""
        return self._send(account, fn, *args, value=value)

    def call(self, fn: str, *args: object) -> Any:
        """Call the view `fn(*args)`; reverts raise the decoded error. Its value is what the
        artifact's ABI declares for `fn`, decoded by web3: typed by the caller, which knows
        the function (the typed wrappers below name each one)."""
        return self._call(fn, *args)


class AnchorContract(_Bound):
    """EvidenceAnchor: one record per Merkle root."""

    artifact_name = "EvidenceAnchor"

    def anchor(self, account: LocalAccount, root: bytes, count: int) -> TxResult:
        """Anchor `root` of a batch of `count` items. A root that already has a record succeeds
        without a new record or event (`result.named("RootAnchored") == []`)."""
        return self._send(account, "anchor", _b32(root, "root"), count)

    def record(self, root: bytes) -> AnchorRecord | None:
        """The root's record, or None when never anchored (see `evidence.chain`)."""
        return lookup_anchor(self.tx.w3, self.address, root)


class TokenContract(_Bound):
    """An ERC-20 (the test tokens add `mint`)."""

    artifact_name = "TestStablecoin"

    def __init__(self, tx: Transactor, address: str, artifact_name: str = "TestStablecoin") -> None:
        self.artifact_name = artifact_name
        super().__init__(tx, address)

    def balance_of(self, account: str) -> int:
        return int(self._call("balanceOf", checksum(account)))

    def decimals(self) -> int:
        return int(self._call("decimals"))

    def symbol(self) -> str:
        return str(self._call("symbol"))

    def approve(self, account: LocalAccount, spender: str, amount: int) -> TxResult:
        return self._send(account, "approve", checksum(spender), amount)

    def transfer(self, account: LocalAccount, to: str, amount: int) -> TxResult:
        return self._send(account, "transfer", checksum(to), amount)

    def mint(self, account: LocalAccount, to: str, amount: int) -> TxResult:
        """Test tokens only: mint `amount` to `to`."""
        return self._send(account, "mint", checksum(to), amount)


class EscrowContract(_Bound):
    """ArbitrationEscrow: orders, guarantees, disputes, settlements and awards."""

    artifact_name = "ArbitrationEscrow"

    # --- orders -------------------------------------------------------------------------

    def open_order(
        self,
        buyer: LocalAccount,
        *,
        seller: str,
        amount: int,
        delivery_deadline: int,
        institution: str,
        token: str = ETH,
        rules_hash: bytes = ZERO_BYTES32,
        contract_hash: bytes | None = None,
    ) -> tuple[int, TxResult]:
        """Open and pay an order (ETH: value is sent; token: approve the escrow first).

        With ``contract_hash`` (a signed contract of sale's record hash) the order binds it
        (``openOrderWithContract``). Returns the new order id and the transaction result.
        """
        value = amount if _is_eth(token) else 0
        args: list[Any] = [checksum(seller), checksum(token), amount, delivery_deadline,
                           checksum(institution), _b32(rules_hash, "rules_hash")]
        fn = "openOrder"
        if contract_hash is not None:
            fn = "openOrderWithContract"
            args.append(_b32(contract_hash, "contract_hash"))
        result = self._send(buyer, fn, *args, value=value)
        return uint_of(result.named("OrderOpened")[0].args, "orderId"), result

    def confirm_delivery(self, buyer: LocalAccount, order_id: int) -> TxResult:
        return self._send(buyer, "confirmDelivery", order_id)

    def release_after_deadline(self, account: LocalAccount, order_id: int) -> TxResult:
        return self._send(account, "releaseAfterDeadline", order_id)

    def refund_by_seller(self, seller: LocalAccount, order_id: int) -> TxResult:
        return self._send(seller, "refundBySeller", order_id)

    # --- dispute ------------------------------------------------------------------------

    def raise_dispute(self, party: LocalAccount, order_id: int, case_id: bytes) -> TxResult:
        return self._send(party, "raiseDispute", order_id, _b32(case_id, "case_id"))

    def appoint_arbitrator(
        self, institution: LocalAccount, order_id: int, arbitrator: str
    ) -> TxResult:
        return self._send(institution, "appointArbitrator", order_id, checksum(arbitrator))

    def submit_award(
        self,
        account: LocalAccount,
        order_id: int,
        allocation: Allocation,
        award_hash: bytes,
        signature: bytes,
    ) -> TxResult:
        """Submit the sole arbitrator's round-0 award (anyone may relay it)."""
        return self._send(
            account,
            "submitAward",
            order_id,
            allocation.as_tuple(),
            _b32(award_hash, "award_hash"),
            bytes(signature),
        )

    def object_to_award(self, party: LocalAccount, order_id: int) -> TxResult:
        return self._send(party, "objectToAward", order_id)

    def execute_award(self, account: LocalAccount, order_id: int) -> TxResult:
        return self._send(account, "executeAward", order_id)

    def appoint_panel(
        self, institution: LocalAccount, order_id: int, panel: Sequence[str]
    ) -> TxResult:
        if len(panel) != 3:
            raise ValueError(f"a panel has 3 members, found {len(panel)}")
        return self._send(institution, "appointPanel", order_id, [checksum(a) for a in panel])

    def submit_panel_award(
        self,
        account: LocalAccount,
        order_id: int,
        allocation: Allocation,
        award_hash: bytes,
        signatures: Sequence[bytes | None],
    ) -> TxResult:
        """Submit the panel's round-1 award; `signatures[i]` is panelist i's (None if absent)."""
        if len(signatures) != 3:
            raise ValueError(f"give one entry per panelist (3), found {len(signatures)}")
        sigs = [bytes(s) if s else b"" for s in signatures]
        return self._send(
            account,
            "submitPanelAward",
            order_id,
            allocation.as_tuple(),
            _b32(award_hash, "award_hash"),
            sigs,
        )

    def submit_fast_track(self, account: LocalAccount, order_id: int, allocation: Allocation,
                          report_hash: bytes, window: int, signature: bytes) -> TxResult:
        """Submit the fast track's proposal (anyone may relay it): the institution's
        ``Decision`` of kind FastTrack over ``fast_track_decision_hash(report_hash, window)``
        (docs/jury.md "Fast track"); it binds unless a party objects within ``window`` s."""
        return self._send(account, "submitFastTrack", order_id, allocation.as_tuple(),
                          _b32(report_hash, "report_hash"), int(window), bytes(signature))

    def appoint_jury(self, institution: LocalAccount, order_id: int, jurors: Sequence[str],
                     options: Sequence[Allocation]) -> TxResult:
        """Fix the drawn jury and its options on the escrow (``appointJury``)."""
        digest = jury_hash(jurors, [o.as_tuple() for o in options])
        return self._send(institution, "appointJury", order_id, digest)

    def submit_jury_verdict(
        self,
        account: LocalAccount,
        order_id: int,
        *,
        jurors: Sequence[str],
        options: Sequence[Allocation],
        winner: int,
        ballots: Sequence[JurorBallot],
        signature: bytes,
    ) -> TxResult:
        """Submit the jury's verdict (anyone may relay it): the appointed jurors (put in
        ascending order here, their ballots with them), the options, the winning option, and
        the institution's ``Decision`` signature over it."""
        by_juror: dict[str, JurorBallot] = {str(checksum(b.juror)): b for b in ballots}
        ordered = jury_order([str(checksum(j)) for j in jurors])
        words: list[bytes] = []
        for juror in ordered:
            words.extend(by_juror.get(juror, JurorBallot(juror)).words())
        flat = [v for o in options for v in o.as_tuple()]
        return self._send(account, "submitJuryVerdict", order_id, list(ordered), flat, winner,
                          words, bytes(signature))

    def execute_settlement(
        self,
        account: LocalAccount,
        order_id: int,
        allocation: Allocation,
        buyer_signature: bytes,
        seller_signature: bytes,
    ) -> TxResult:
        return self._send(
            account,
            "executeSettlement",
            order_id,
            allocation.as_tuple(),
            bytes(buyer_signature),
            bytes(seller_signature),
        )

    def resolve_by_timeout(self, account: LocalAccount, order_id: int) -> TxResult:
        """Anyone moves an order whose deadline passed: a refund when a neutral is overdue; in
        the return stage the award's fallback (not shipped) or its refund (deemed received)."""
        return self._send(account, "resolveByTimeout", order_id)

    # --- return and refund ----------------------------------------------------------------

    def submit_return_award(
        self,
        account: LocalAccount,
        order_id: int,
        refund: Allocation,
        no_return: Allocation,
        award_hash: bytes,
        signature: bytes,
    ) -> TxResult:
        """Submit the sole arbitrator's round-0 return-and-refund award (anyone may relay it);
        after the objection window `execute_award` starts the return stage."""
        return self._send(
            account,
            "submitReturnAward",
            order_id,
            refund.as_tuple(),
            no_return.as_tuple(),
            _b32(award_hash, "award_hash"),
            bytes(signature),
        )

    def submit_return_settlement(
        self,
        account: LocalAccount,
        order_id: int,
        refund: Allocation,
        no_return: Allocation,
        buyer_signature: bytes,
        seller_signature: bytes,
    ) -> TxResult:
        """Submit a return-and-refund settlement both parties signed (anyone may relay it): the
        return stage starts at once, ending in `refund` or, if the buyer does not ship the
        goods back in time, `no_return`."""
        return self._send(
            account,
            "submitReturnSettlement",
            order_id,
            refund.as_tuple(),
            no_return.as_tuple(),
            bytes(buyer_signature),
            bytes(seller_signature),
        )

    def record_return_shipment(
        self, buyer: LocalAccount, order_id: int, tracking: bytes
    ) -> TxResult:
        """The buyer records the return shipment (a salted commitment to its tracking record)."""
        return self._send(buyer, "recordReturnShipment", order_id, _b32(tracking, "tracking"))

    def confirm_return_received(self, account: LocalAccount, order_id: int) -> TxResult:
        """The seller, or the order's institution on the carrier's delivered event, confirms
        the returned goods arrived: the refund is paid."""
        return self._send(account, "confirmReturnReceived", order_id)

    def dispute_return_receipt(self, seller: LocalAccount, order_id: int) -> TxResult:
        """The seller disputes the return's receipt: the order is Disputed again."""
        return self._send(seller, "disputeReturnReceipt", order_id)
    def advance_refund(
        self, institution: LocalAccount, order_id: int, token: str, amount: int
    ) -> TxResult:
        """The institution pays the buyer an advance refund from the seller's guarantee
        (``advanceRefund``; `token` must be the order's)."""
        return self._send(institution, "advanceRefund", order_id, checksum(token), amount)

    # --- guarantees and withdrawals -----------------------------------------------------

    def deposit_guarantee(self, seller: LocalAccount, token: str, amount: int) -> TxResult:
        value = amount if _is_eth(token) else 0
        return self._send(seller, "depositGuarantee", checksum(token), amount, value=value)

    def withdraw_guarantee(self, seller: LocalAccount, token: str, amount: int) -> TxResult:
        return self._send(seller, "withdrawGuarantee", checksum(token), amount)

    def withdraw(self, account: LocalAccount, token: str) -> TxResult:
        return self._send(account, "withdraw", checksum(token))

    def rotate_institution_key(self, institution: LocalAccount, successor: str) -> TxResult:
        """The institution (its current key signs) hands its role and orders to `successor`."""
        return self._send(institution, "rotateInstitutionKey", checksum(successor))

    def is_admin(self, account: str) -> bool:
        """Whether `account` holds DEFAULT_ADMIN_ROLE (grants and revokes institutions)."""
        return bool(self._call("hasRole", ZERO_BYTES32, checksum(account)))

    def hand_over_admin(self, admin: LocalAccount, successor: str) -> tuple[TxResult, TxResult]:
        """DEFAULT_ADMIN_ROLE from `admin` to `successor`: granted, then renounced."""
        granted = self._send(admin, "grantRole", ZERO_BYTES32, checksum(successor))
        return granted, self._send(admin, "renounceRole", ZERO_BYTES32, admin.address)

    def grant_institution(self, admin: LocalAccount, institution: str) -> TxResult:
        role = self._call("INSTITUTION_ROLE")
        return self._send(admin, "grantRole", role, checksum(institution))

    # --- views --------------------------------------------------------------------------

    def order(self, order_id: int) -> Order:
        raw = self._call("getOrder", order_id)
        return Order(
            order_id=order_id,
            buyer=checksum(raw[0]),
            delivery_deadline=int(raw[1]),
            status=Status(raw[2]),
            resolution=Resolution(raw[3]),
            seller=checksum(raw[4]),
            deadline=int(raw[5]),
            token=checksum(raw[6]),
            institution=checksum(raw[7]),
            arbitrator=checksum(raw[8]),
            amount=int(raw[9]),
            rules_hash=bytes(raw[10]),
            case_id=bytes(raw[11]),
            contract_hash=bytes(raw[12]),
        )

    def order_of_contract(self, contract_hash: bytes) -> int:
        """The order the contract of sale ``contract_hash`` binds (0 when none)."""
        return int(self._call("orderOfContract", _b32(contract_hash, "contract_hash")))

    def advanced(self, order_id: int) -> int:
        """What advance refunds paid the order's buyer from the seller's guarantee."""
        return int(self._call("advancedOf", order_id))

    def order_count(self) -> int:
        return int(self._call("orderCount"))

    def pending_award(self, order_id: int) -> PendingAward | None:
        (to_buyer, to_seller, compensation), award_hash = self._call("pendingAward", order_id)
        if bytes(award_hash) == ZERO_BYTES32 and to_buyer == to_seller == compensation == 0:
            return None
        return PendingAward(Allocation(to_buyer, to_seller, compensation), bytes(award_hash))

    def panel(self, order_id: int) -> tuple[str, str, str]:
        a, b, c = self._call("panelOf", order_id)
        return (checksum(a), checksum(b), checksum(c))

    def guarantee(self, seller: str, token: str) -> Guarantee:
        balance, locked = self._call("guaranteeOf", checksum(seller), checksum(token))
        return Guarantee(int(balance), int(locked))

    def owed(self, account: str, token: str) -> int:
        return int(self._call("owedTo", checksum(account), checksum(token)))

    def timeouts(self) -> Timeouts:
        return Timeouts(*(int(v) for v in self._call("timeouts")))

    def is_institution(self, account: str) -> bool:
        return bool(self._call("hasRole", self._call("INSTITUTION_ROLE"), checksum(account)))

    def institution_of(self, institution: str) -> str:
        """The key acting today for orders naming `institution` (after its rotations)."""
        return checksum(self._call("institutionOf", checksum(institution)))

    def successor_of(self, institution: str) -> str:
        """The key `institution` rotated to (ZERO_ADDRESS when it did not rotate)."""
        return checksum(self._call("successorOf", checksum(institution)))

    def domain(self) -> Domain:
        """The EIP-712 domain as the contract reports it (ERC-5267 `eip712Domain()`)."""
        return Domain.from_eip5267(self._call("eip712Domain"))

    def hash_award(
        self, order_id: int, case_id: bytes, allocation: Allocation, award_hash: bytes, round_: int
    ) -> bytes:
        """The contract's own EIP-712 digest of an Award (for cross-checks)."""
        return bytes(
            self._call(
                "hashAward",
                order_id,
                _b32(case_id, "case_id"),
                allocation.as_tuple(),
                _b32(award_hash, "award_hash"),
                round_,
            )
        )

    def hash_settlement(self, order_id: int, case_id: bytes, allocation: Allocation) -> bytes:
        """The contract's own EIP-712 digest of a Settlement (for cross-checks)."""
        return bytes(
            self._call("hashSettlement", order_id, _b32(case_id, "case_id"), allocation.as_tuple())
        )

    # --- typed data (what wallets sign) -------------------------------------------------

    def settlement_typed_data(
        self, order_id: int, allocation: Allocation, case_id: bytes | None = None
    ) -> TypedData:
        """`eth_signTypedData_v4` payload; `case_id` defaults to the order's bound case."""
        case = self._case_of(order_id, case_id)
        return settlement_typed_data(self.domain(), order_id, case, allocation)

    def _case_of(self, order_id: int, case_id: bytes | None) -> bytes:
        """The case id a typed record names: the one given, else the order's bound case."""
        return case_id if case_id is not None else self.order(order_id).case_id

    def award_typed_data(
        self,
        order_id: int,
        allocation: Allocation,
        award_hash: bytes,
        round_: int = 0,
        case_id: bytes | None = None,
    ) -> TypedData:
        """`eth_signTypedData_v4` payload; `case_id` defaults to the order's bound case."""
        case = self._case_of(order_id, case_id)
        return award_typed_data(self.domain(), order_id, case, allocation, award_hash, round_)

    def sign_settlement(
        self,
        account: LocalAccount,
        order_id: int,
        allocation: Allocation,
        case_id: bytes | None = None,
    ) -> bytes:
        """Sign a Settlement with a local key (demo and tests; parties sign in their wallets)."""
        return sign_typed_data(account, self.settlement_typed_data(order_id, allocation, case_id))

    def decision_typed_data(self, order_id: int, kind: DecisionKind, allocation: Allocation,
                            decision_hash: bytes, case_id: bytes | None = None
                            ) -> TypedData:
        """`eth_signTypedData_v4` payload of a ``Decision`` (signed by the institution)."""
        case = self._case_of(order_id, case_id)
        return decision_typed_data(self.domain(), order_id, case, int(kind), allocation,
                                   decision_hash)

    def sign_fast_track(self, account: LocalAccount, order_id: int, allocation: Allocation,
                        report_hash: bytes, window: int, case_id: bytes | None = None) -> bytes:
        """The institution's ``Decision`` (kind FastTrack) over a fast-track proposal."""
        return self.sign_decision(account, order_id, DecisionKind.FAST_TRACK, allocation,
                                  fast_track_decision_hash(report_hash, window), case_id)

    def sign_decision(self, account: LocalAccount, order_id: int, kind: DecisionKind,
                      allocation: Allocation, decision_hash: bytes,
                      case_id: bytes | None = None) -> bytes:
        """Sign a Decision with a local key (the institution's, or a test's)."""
        typed = self.decision_typed_data(order_id, kind, allocation, decision_hash, case_id)
        return sign_typed_data(account, typed)

    def sign_jury_vote(self, juror: LocalAccount, case_id: bytes, choice: int,
                       reason_code: int, salt: bytes) -> bytes:
        """A juror's ``JuryVote`` signature (demo and tests; jurors sign in their wallets)."""
        typed = jury_vote_typed_data(self.domain(), case_id, juror.address, choice,
                                     reason_code, salt)
        return sign_typed_data(juror, typed)

    def return_award_typed_data(
        self,
        order_id: int,
        refund: Allocation,
        no_return: Allocation,
        award_hash: bytes,
        case_id: bytes | None = None,
    ) -> TypedData:
        """`eth_signTypedData_v4` payload of a ReturnAward; `case_id` defaults to the order's."""
        case = self._case_of(order_id, case_id)
        return return_award_typed_data(self.domain(), order_id, case, refund, no_return, award_hash)

    def sign_return_award(
        self,
        account: LocalAccount,
        order_id: int,
        refund: Allocation,
        no_return: Allocation,
        award_hash: bytes,
        case_id: bytes | None = None,
    ) -> bytes:
        """Sign a ReturnAward with a local key (demo and tests)."""
        typed = self.return_award_typed_data(order_id, refund, no_return, award_hash, case_id)
        return sign_typed_data(account, typed)

    def return_settlement_typed_data(
        self,
        order_id: int,
        refund: Allocation,
        no_return: Allocation,
        case_id: bytes | None = None,
    ) -> TypedData:
        """`eth_signTypedData_v4` payload of a ReturnSettlement; `case_id` defaults to the
        order's."""
        case = self._case_of(order_id, case_id)
        return return_settlement_typed_data(self.domain(), order_id, case, refund, no_return)

    def sign_return_settlement(
        self,
        account: LocalAccount,
        order_id: int,
        refund: Allocation,
        no_return: Allocation,
        case_id: bytes | None = None,
    ) -> bytes:
        """Sign a ReturnSettlement with a local key (demo and tests; parties sign in wallets)."""
        typed = self.return_settlement_typed_data(order_id, refund, no_return, case_id)
        return sign_typed_data(account, typed)

    def sign_award(
        self,
        account: LocalAccount,
        order_id: int,
        allocation: Allocation,
        award_hash: bytes,
        round_: int = 0,
        case_id: bytes | None = None,
    ) -> bytes:
        """Sign an Award with a local key (demo and tests; neutrals sign in their wallets)."""
        typed = self.award_typed_data(order_id, allocation, award_hash, round_, case_id)
        return sign_typed_data(account, typed)


def _is_eth(token: str) -> bool:
    return int(token, 16) == 0


def _b32(value: bytes, what: str) -> bytes:
    if not isinstance(value, (bytes, bytearray)) or len(value) != 32:
        raise ValueError(f"{what} must be 32 bytes, found {value!r}")
    return bytes(value)


# --------------------------------------------------------------------------------------
# Deployment
# --------------------------------------------------------------------------------------


def deploy_anchor(tx: Transactor, deployer: LocalAccount) -> AnchorContract:
    """Deploy EvidenceAnchor."""
    return AnchorContract(tx, deploy_contract(tx, deployer, "EvidenceAnchor"))


def deploy_escrow(
    tx: Transactor,
    deployer: LocalAccount,
    *,
    admin: str | None = None,
    timeouts: Timeouts | None = None,
    institutions: Sequence[str] = (),
) -> EscrowContract:
    """Deploy ArbitrationEscrow and grant INSTITUTION_ROLE to `institutions`.

    `admin` (default: the deployer) receives DEFAULT_ADMIN_ROLE. Granting institutions needs the
    deployer to be the admin.
    """
    admin_address = checksum(admin or deployer.address)
    if institutions and admin_address != deployer.address:
        raise ValueError("to grant institutions at deployment, the deployer must be the admin")
    address = deploy_contract(
        tx, deployer, "ArbitrationEscrow", admin_address, (timeouts or Timeouts()).as_tuple()
    )
    escrow = EscrowContract(tx, address)
    for institution in institutions:
        escrow.grant_institution(deployer, institution)
    return escrow


def deploy_token(
    tx: Transactor, deployer: LocalAccount, name: str = "TestStablecoin", *args: object
) -> TokenContract:
    """Deploy a test token (TestStablecoin, FeeOnTransferToken, FalseReturningToken)."""
    return TokenContract(tx, deploy_contract(tx, deployer, name, *args), artifact_name=name)
