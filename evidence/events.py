"""The events of chainarb's contracts and the one decoder of their logs.

Rules of this module:

1. Every event a verifier, the anchoring worker, the package builder or the service reads
   (`RootAnchored` and the escrow's acts, `ESCROW_ACTS`) is declared here once, from the
   Solidity signatures in contracts/interfaces/IEvidenceAnchor.sol and
   IArbitrationEscrow.sol (topic 0 is the keccak-256 of the signature; enums are uint8),
   so a court needs no artifact of ours and an expert can recompute every topic with any
   keccak tool. The tests hold these declarations equal to the compiled ABIs.
2. There is one decoder, `decode_log`: the backend's gateway decodes every event of every
   committed artifact through it too (`EventSpec.from_abi`), so a log reads the same
   wherever it is read. Addresses come out checksummed, bytesN as `bytes`, arrays as
   tuples.
3. A log that is not the event asked for (another topic 0, another count of indexed
   topics, data that does not decode) is not that event: it is passed over, never a crash.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, TypeVar

from eth_abi import decode as abi_decode
from eth_abi import encode as abi_encode
from eth_typing import ABIComponent, ABIEvent
from eth_utils import to_checksum_address

from evidence._keccak import keccak256

if TYPE_CHECKING:
    from web3 import Web3
    from web3.types import BlockIdentifier

_V = TypeVar("_V")

__all__ = [
    "ARBITRATOR_APPOINTED",
    "AWARD_OBJECTED",
    "AWARD_SUBMITTED",
    "CONTRACT_OF_SALE_BOUND",
    "DISPUTE_RAISED",
    "ESCROW_ACTS",
    "INSTITUTION_KEY_ROTATED",
    "ORDER_OPENED",
    "ORDER_RESOLVED",
    "PANEL_APPOINTED",
    "RESOLUTIONS",
    "RETURN_RECEIPT_DISPUTED",
    "RETURN_REQUESTED",
    "RETURN_SHIPPED",
    "ROOT_ANCHORED",
    "Event",
    "EventSpec",
    "abi_type",
    "address_of",
    "bytes_of",
    "decode_events",
    "decode_log",
    "find_events",
    "normalize",
    "tuple_of",
    "uint_of",
]


@dataclass(frozen=True)
class EventSpec:
    """An event: its name and (name, type, indexed) parameters in declaration order."""

    name: str
    params: tuple[tuple[str, str, bool], ...]

    @classmethod
    def from_abi(cls, item: ABIEvent) -> EventSpec:
        """The spec of an ABI `event` entry (tuple types written out, `(uint256,...)[3]`)."""
        return cls(item["name"], tuple(
            (i["name"], abi_type(i), bool(i["indexed"])) for i in item["inputs"]))

    @property
    def signature(self) -> str:
        return f"{self.name}({','.join(t for _, t, _ in self.params)})"

    @property
    def topic0(self) -> bytes:
        return keccak256(self.signature.encode())

    @property
    def indexed(self) -> list[tuple[str, str]]:
        return [(n, t) for n, t, i in self.params if i]

    @property
    def data(self) -> list[tuple[str, str]]:
        return [(n, t) for n, t, i in self.params if not i]


@dataclass(frozen=True)
class Event:
    """A decoded log. `args` uses the Solidity parameter names, in declaration order.

    Where it was found (`log_index`, `tx_hash`, `block_number`) does not take part in
    equality: tests compare what was emitted."""

    name: str
    address: str
    args: Mapping[str, object]  # each as `normalize` makes its ABI type: read by *_of below
    log_index: int = field(default=0, compare=False)
    tx_hash: bytes | None = field(default=None, compare=False)
    block_number: int | None = field(default=None, compare=False)


# A decoded event's (or custom error's) argument as its ABI type decodes: uintN, intN and
# enums an int, bool a bool, address a checksummed str, bytesN and bytes `bytes`, arrays and
# tuples a tuple. Reading one as another kind is a reader's mistake, not a log's: TypeError.

def _arg(args: Mapping[str, object], name: str, kind: type[_V], what: str) -> _V:
    value = args[name]
    if isinstance(value, kind):
        return value
    raise TypeError(f"argument {name}: expected {what}, found {type(value).__name__}")


def uint_of(args: Mapping[str, object], name: str) -> int:
    """Argument `name`, of an integer or enum type."""
    return _arg(args, name, int, "an integer")


def bytes_of(args: Mapping[str, object], name: str) -> bytes:
    """Argument `name`, of a bytesN or bytes type."""
    return _arg(args, name, bytes, "bytes")


def address_of(args: Mapping[str, object], name: str) -> str:
    """Argument `name`, of the address type (checksummed)."""
    return _arg(args, name, str, "an address")


def tuple_of(args: Mapping[str, object], name: str) -> tuple[object, ...]:
    """Argument `name`, of an array or tuple type."""
    return _arg(args, name, tuple, "an array")


def abi_type(item: ABIComponent) -> str:
    """The canonical type of an ABI input, tuples written out (`(uint256,address)[]`)."""
    kind = str(item["type"])
    if kind.startswith("tuple"):
        inner = ",".join(abi_type(c) for c in item["components"])
        return f"({inner}){kind[len('tuple'):]}"
    return kind


def normalize(kind: str, value: object) -> object:
    """An eth_abi value of type `kind` in the form every reader compares: addresses
    checksummed, bytesN as `bytes`, arrays and tuples as tuples."""
    if isinstance(value, list | tuple):
        inner = kind[: kind.rindex("[")] if kind.endswith("]") else kind
        return tuple(normalize(inner, v) for v in value)
    if kind == "address" and isinstance(value, str | bytes):  # eth_abi decodes it as str
        return to_checksum_address(value)
    if isinstance(value, bytes | bytearray):
        return bytes(value)
    return value


def _raw(value: object, what: str) -> bytes:
    """A log's bytes (web3's HexBytes, or bytes) as `bytes`; another kind is refused with
    the TypeError `bytes()` raises for a str."""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value)
    raise TypeError(f"log {what}: expected bytes, found {type(value).__name__}")


def _count(value: object, what: str) -> int:
    """A log's number (logIndex, blockNumber) as `int()` reads it."""
    if isinstance(value, int | str | bytes | bytearray):
        return int(value)
    raise TypeError(f"log {what}: expected an integer, found {type(value).__name__}")


def decode_log(spec: EventSpec, log: Mapping[str, object]) -> Event | None:
    """`log` (a receipt's or `eth_getLogs`' entry) as `spec`, or None when it is not one.

    `log` is a node's answer as web3 formats it (`web3.types.LogReceipt`) or
    `evidence.blockproof.RpcLog`: topics and data bytes, the address a hex string."""
    listed = log["topics"]
    if not isinstance(listed, Iterable):
        raise TypeError(f"log topics: expected a list, found {type(listed).__name__}")
    topics = [_raw(t, "topic") for t in listed]
    indexed, plain = spec.indexed, spec.data
    if not topics or topics[0] != spec.topic0 or len(topics) != 1 + len(indexed):
        return None
    try:
        values = {n: normalize(t, abi_decode([t], topic)[0])
                  for (n, t), topic in zip(indexed, topics[1:], strict=True)}
        decoded = abi_decode([t for _, t in plain], _raw(log["data"], "data"))
    except Exception:  # eth_abi's DecodingError family: data of another shape
        return None
    values.update({n: normalize(t, v) for (n, t), v in zip(plain, decoded, strict=True)})
    tx = log.get("transactionHash")
    block = log.get("blockNumber")
    address = log["address"]
    if not isinstance(address, str | bytes):
        raise TypeError(f"log address: expected a hex string, found {type(address).__name__}")
    return Event(
        name=spec.name,
        address=to_checksum_address(address),
        args={n: values[n] for n, _, _ in spec.params},
        log_index=_count(log.get("logIndex") or 0, "logIndex"),
        tx_hash=_raw(tx, "transactionHash") if tx is not None else None,
        block_number=_count(block, "blockNumber") if block is not None else None,
    )


def decode_events(
    logs: Iterable[Mapping[str, object]], spec: EventSpec, *, address: str | None = None
) -> list[Event]:
    """The logs of `spec` (emitted by `address`, if given) among `logs`, in log order."""
    want = to_checksum_address(address) if address else None
    out = []
    for log in logs:
        event = decode_log(spec, log)
        if event is not None and (want is None or event.address == want):
            out.append(event)
    return out


def find_events(
    w3: Web3,
    spec: EventSpec,
    address: str,
    *,
    from_block: BlockIdentifier = 0,
    to_block: BlockIdentifier = "latest",
    **indexed: object,
) -> list[Event]:
    """`eth_getLogs` for `spec` from `address`, filtered on indexed parameters by value
    (`orderId=7`, `root=b"..."`): one query, decoded by `decode_log`."""
    names = [n for n, _ in spec.indexed]
    unknown = set(indexed) - set(names)
    if unknown:
        raise ValueError(f"{spec.name}: {sorted(unknown)} are not indexed parameters")
    topics: list[str | None] = ["0x" + spec.topic0.hex()]
    for name, sol_type in spec.indexed:
        value = indexed.get(name)
        topics.append(None if value is None else "0x" + abi_encode([sol_type], [value]).hex())
    while topics[-1] is None:
        topics.pop()
    logs = w3.eth.get_logs({"address": to_checksum_address(address), "fromBlock": from_block,
                            "toBlock": to_block, "topics": topics})
    return decode_events(logs, spec, address=address)


def _spec(signature: str, indexed: Sequence[str]) -> EventSpec:
    """An EventSpec from a Solidity declaration `Name(type name, ...)` and the names of its
    indexed parameters (the form the interfaces are written in)."""
    name, _, rest = signature.partition("(")
    params = []
    for part in rest.rstrip(")").split(","):
        sol_type, param = part.split()
        params.append((param, sol_type, param in indexed))
    return EventSpec(name, tuple(params))


ROOT_ANCHORED = _spec("RootAnchored(bytes32 root,address anchorer,uint32 count)",
                      ("root", "anchorer"))
ORDER_OPENED = _spec(
    "OrderOpened(uint256 orderId,address buyer,address seller,address token,uint256 amount,"
    "uint48 deliveryDeadline,address institution,bytes32 rulesHash)",
    ("orderId", "buyer", "seller"))
ORDER_RESOLVED = _spec(
    "OrderResolved(uint256 orderId,uint8 resolution,uint256 toBuyer,uint256 toSeller,"
    "uint256 compensationPaid,uint256 compensationShortfall)",
    ("orderId", "resolution"))  # resolution: enum Resolution

DISPUTE_RAISED = _spec(
    "DisputeRaised(uint256 orderId,bytes32 caseId,address by,uint48 deadline)",
    ("orderId", "caseId", "by"))
ARBITRATOR_APPOINTED = _spec(
    "ArbitratorAppointed(uint256 orderId,bytes32 caseId,address arbitrator,uint48 deadline)",
    ("orderId", "caseId", "arbitrator"))
AWARD_SUBMITTED = _spec(
    "AwardSubmitted(uint256 orderId,bytes32 caseId,uint8 round,uint256 toBuyer,"
    "uint256 toSeller,uint256 compensation,bytes32 awardHash,uint48 deadline)",
    ("orderId", "caseId", "round"))
AWARD_OBJECTED = _spec(
    "AwardObjected(uint256 orderId,bytes32 caseId,address by,uint48 deadline)",
    ("orderId", "caseId", "by"))
PANEL_APPOINTED = _spec(
    "PanelAppointed(uint256 orderId,bytes32 caseId,address[3] panel,uint48 deadline)",
    ("orderId", "caseId"))

INSTITUTION_KEY_ROTATED = _spec(
    "InstitutionKeyRotated(address previous,address successor)", ("previous", "successor"))
"""The escrow's record of an institution handing its role and orders to a new key (signed
by the old key: it is the sender); not an act of one order."""

CONTRACT_OF_SALE_BOUND = _spec(
    "ContractOfSaleBound(uint256 orderId,bytes32 contractHash)", ("orderId", "contractHash"))
"""``openOrderWithContract``: the order binds the signed contract of sale with this EIP-712
digest (docs/contract-of-sale.md); emitted right after its ``OrderOpened``."""

RETURN_REQUESTED = _spec(
    "ReturnRequested(uint256 orderId,bytes32 caseId,uint48 deadline)", ("orderId", "caseId"))
"""The return stage began (status ReturnPending): the buyer ships back by ``deadline``."""

RETURN_SHIPPED = _spec(
    "ReturnShipped(uint256 orderId,bytes32 caseId,bytes32 tracking,uint48 deadline)",
    ("orderId", "caseId"))
"""The buyer recorded the return shipment's tracking commitment (status ReturnShipped)."""

RETURN_RECEIPT_DISPUTED = _spec(
    "ReturnReceiptDisputed(uint256 orderId,bytes32 caseId,uint48 deadline)",
    ("orderId", "caseId"))
"""The seller disputed the return's receipt: the order is Disputed again."""

ESCROW_ACTS = (ORDER_OPENED, DISPUTE_RAISED, ARBITRATOR_APPOINTED, AWARD_SUBMITTED,
               AWARD_OBJECTED, PANEL_APPOINTED, RETURN_REQUESTED, RETURN_SHIPPED,
               RETURN_RECEIPT_DISPUTED, ORDER_RESOLVED)
"""The escrow's events of one order's life, in the order its status machine allows them:
the on-chain acts a judicial package proves (each with its receipt)."""

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
    "JuryVerdictExecuted",
    "FastTrackExecuted",
    "TimeoutNoJuryVerdict",
    "ReturnReceived",
    "ReturnDeemedReceived",
    "ReturnNotShipped",
)
"""IArbitrationEscrow.Resolution, by value."""
