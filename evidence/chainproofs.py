"""Read block headers and receipt proofs from a JSON-RPC node (the I/O edge of blockproof).

The builder's side: for each transaction a package relies on, fetch its block and every
receipt of that block, rebuild the header's RLP and the receipts trie
(`evidence.blockproof`), and keep them only when they reproduce the node's own block
hash and `receiptsRoot`, so a package never carries a proof its verifier would refuse.
`eth_getBlockReceipts` is used where the node has it (anvil, geth, reth); otherwise each
receipt is read with `eth_getTransactionReceipt` (eth-tester, older nodes).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from hexbytes import HexBytes

from evidence.blockproof import (
    BlockHeader,
    ChainHeader,
    ProvenReceipt,
    Receipt,
    prove_receipts,
    receipts_root,
)
from evidence.errors import ProofError
from evidence.events import ESCROW_ACTS, INSTITUTION_KEY_ROTATED, find_events

if TYPE_CHECKING:
    from web3 import Web3

__all__ = ["collect_proofs", "escrow_acts", "header_of", "institution_rotations"]


def _hex(value: object) -> bytes:
    return bytes(value) if isinstance(value, bytes | bytearray) else bytes.fromhex(
        str(value).removeprefix("0x"))


def _rpc(w3: Web3, method: str, params: list[Any]) -> Any:
    answer = w3.provider.make_request(method, params)  # type: ignore[arg-type]
    if "error" in answer:
        raise LookupError(f"{method}: {answer['error']}")
    return answer.get("result")


def header_of(block: Mapping[str, object]) -> BlockHeader:
    """The RLP header of a node's block answer, checked against the node's hash.

    eth-tester pads an empty `extraData` to 32 zero bytes in its answers; when the fields
    as given do not hash to the block, that one known variant is tried. Nothing that does
    not hash to the node's own block hash is ever returned."""
    want = _hex(block["hash"])
    header = BlockHeader.from_rpc(block)
    if header.hash == want:
        return header
    if _hex(block.get("extraData", b"")) == bytes(32):
        header = BlockHeader.from_rpc({**block, "extraData": b""})
        if header.hash == want:
            return header
    raise ProofError(f"block {block.get('number')}: its fields do not hash to its hash "
                     f"0x{want.hex()} (a fork's header field this library does not know?)")


def _block_receipts(w3: Web3, block: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    try:
        got = _rpc(w3, "eth_getBlockReceipts", [hex(int(block["number"]))])
    except LookupError:
        got = None
    if isinstance(got, list):
        return got
    return [w3.eth.get_transaction_receipt(HexBytes(_hex(t))) for t in block["transactions"]]


def collect_proofs(w3: Web3, tx_hashes: Iterable[bytes]
                   ) -> tuple[list[ChainHeader], list[ProvenReceipt]]:
    """Headers of the blocks holding `tx_hashes` and each transaction's proven receipt.

    Raises ProofError when a node's block does not reproduce its hash or receiptsRoot."""
    chain_id = int(w3.eth.chain_id)
    headers: dict[bytes, BlockHeader] = {}
    trie_of: dict[bytes, tuple[list[bytes], list[tuple[bytes, ...]]]] = {}
    out: list[ProvenReceipt] = []
    for tx in dict.fromkeys(tx_hashes):
        mined = w3.eth.get_transaction_receipt(HexBytes(tx))
        block_hash = _hex(mined["blockHash"])
        if block_hash not in headers:
            block = w3.eth.get_block(HexBytes(block_hash))
            header = header_of(block)
            encoded = [Receipt.from_rpc(r).encode() for r in _block_receipts(w3, block)]
            if receipts_root(encoded) != header.receipts_root:
                raise ProofError(f"block {header.number}: its receipts do not rebuild its "
                                 f"receiptsRoot 0x{header.receipts_root.hex()}")
            headers[block_hash] = header
            trie_of[block_hash] = (encoded, prove_receipts(encoded))
        index = int(mined["transactionIndex"])
        encoded, proofs = trie_of[block_hash]
        out.append(ProvenReceipt(chain_id=chain_id, tx_hash=bytes(tx), block_hash=block_hash,
                                 index=index, receipt=encoded[index], proof=proofs[index]))
    return [ChainHeader(chain_id=chain_id, header=h) for h in headers.values()], out


def escrow_acts(w3: Web3, escrow: str, order_id: int) -> list[tuple[str, bytes]]:
    """Every act of the escrow for `order_id` (`evidence.events.ESCROW_ACTS`), found by its
    event: (event name, transaction hash), in chain order."""
    found = []
    for spec in ESCROW_ACTS:
        for event in find_events(w3, spec, escrow, orderId=order_id):
            assert event.tx_hash is not None, "eth_getLogs names each log's transaction"
            found.append((event.block_number or 0, event.log_index, spec.name, event.tx_hash))
    return [(name, tx) for _, _, name, tx in sorted(found)]



def institution_rotations(w3: Web3, escrow: str, institution: str) -> list[tuple[str, bytes]]:
    """The escrow's `InstitutionKeyRotated` handovers from `institution` on, one key after
    the other: (event name, transaction hash), in order. The escrow names a key once as a
    successor and lets a key hand over once, so the walk ends."""
    found: list[tuple[str, bytes]] = []
    current, seen = institution, {institution.lower()}
    while True:
        events = find_events(w3, INSTITUTION_KEY_ROTATED, escrow, previous=current)
        if not events:
            return found
        event = events[0]
        assert event.tx_hash is not None, "eth_getLogs names each log's transaction"
        found.append((INSTITUTION_KEY_ROTATED.name, event.tx_hash))
        current = str(event.args["successor"])
        if current.lower() in seen:  # not possible on the escrow; never loop on a node's word
            return found
        seen.add(current.lower())
