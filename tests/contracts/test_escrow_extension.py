"""ArbitrationEscrow's code in two contracts: the escrow forwards the later stages to the
ArbitrationEscrowExtension it deployed (DELEGATECALL; docs/contracts.md "Code size").

The forwarders name exactly the extension's functions; the extension at the escrow's first
CREATE address is the compiled one; called directly it runs on its own, empty storage and
refuses (no order, no role). On the in-process EVM and on anvil.
"""

from __future__ import annotations

import pytest
import rlp
from eth_typing import ABIFunction, ChecksumAddress
from eth_utils import keccak, to_canonical_address, to_checksum_address

from backend.chain import Allocation, BoundContract, Status, errors, load_artifact
from tests.contracts.helpers import Env

FORWARDED = {
    "appointPanel", "submitPanelAward", "appointJury", "submitJuryVerdict", "submitFastTrack",
    "submitReturnAward", "submitReturnSettlement", "recordReturnShipment",
    "confirmReturnReceived", "disputeReturnReceipt", "advanceRefund", "rotateInstitutionKey",
}


def _functions(name: str) -> dict[str, ABIFunction]:
    return {f["name"]: f for f in load_artifact(name).abi if f["type"] == "function"}


def _extension_of(env: Env) -> ChecksumAddress:
    """The contract the escrow's constructor created: its CREATE address at nonce 1."""
    sender = to_canonical_address(env.escrow.address)
    return to_checksum_address(keccak(rlp.encode([sender, 1]))[12:])


def test_every_forwarder_names_an_extension_function_of_the_same_signature() -> None:
    escrow, extension = _functions("ArbitrationEscrow"), _functions("ArbitrationEscrowExtension")
    own = set(extension) - set(escrow)
    assert own == set(), own  # the extension has nothing the escrow does not forward or share
    moved = {n for n, f in extension.items() if f["stateMutability"] == "nonpayable"
             and n not in ("grantRole", "revokeRole", "renounceRole")}
    assert moved == FORWARDED
    for name in FORWARDED:
        assert [i["type"] for i in escrow[name]["inputs"]] == \
            [i["type"] for i in extension[name]["inputs"]], name
        assert escrow[name]["stateMutability"] == "nonpayable"


def test_the_extension_is_the_compiled_one_and_refuses_direct_calls(env: Env) -> None:
    address = _extension_of(env)
    code = bytes(env.w3.eth.get_code(address))
    compiled = load_artifact("ArbitrationEscrowExtension").deployed_bytecode
    assert len(code) == len(bytes.fromhex(compiled.removeprefix("0x")))
    extension = BoundContract(env.tx, address, "ArbitrationEscrowExtension")
    order_id = env.disputed()  # an order on the escrow; the extension's storage has none
    allocation = Allocation(250 * 10**6, 0, 0)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus) as info:
        extension.send(env.other, "submitReturnSettlement", order_id, allocation.as_tuple(),
                       allocation.as_tuple(), b"", b"")
    assert info.value.values == {"orderId": order_id, "current": Status.NONE}
    with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller):
        extension.send(env.institution, "rotateInstitutionKey", env.other.address)
    with pytest.raises(errors.ArbitrationEscrowInvalidStatus):
        extension.send(env.institution, "advanceRefund", order_id, env.usdc.address, 1)
    # the escrow's own order is untouched, and the escrow still knows its institution
    assert env.escrow.order(order_id).status == Status.DISPUTED
    assert env.escrow.is_institution(env.institution.address)
