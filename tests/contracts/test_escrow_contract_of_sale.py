"""ArbitrationEscrow.openOrderWithContract: an order binds the digest of its signed contract of
sale (docs/contract-of-sale.md); the escrow refuses a zero hash and a contract that already
escrows an order. Both chains (in-process EVM and anvil)."""

from __future__ import annotations

import pytest

from backend.chain import Status, errors
from backend.chain.contracts import TxResult
from evidence.events import bytes_of
from tests.contracts.helpers import DAY, USDC, Env

CONTRACT = b"\xc0" * 32


def _open(env: Env, contract_hash: bytes, amount: int = 100 * USDC) -> tuple[int, TxResult]:
    env.usdc.approve(env.buyer, env.escrow.address, amount)
    return env.escrow.open_order(
        env.buyer, seller=env.seller.address, amount=amount,
        delivery_deadline=env.now() + 10 * DAY, institution=env.institution.address,
        token=env.usdc.address, rules_hash=b"\x01" * 32, contract_hash=contract_hash)


def test_open_order_with_contract_binds_its_hash(env: Env) -> None:
    order_id, result = _open(env, CONTRACT)
    names = [e.name for e in result.events]
    assert names == ["OrderOpened", "ContractOfSaleBound", "Transfer"]
    bound = result.named("ContractOfSaleBound")[0].args
    assert (bound["orderId"], bytes_of(bound, "contractHash")) == (order_id, CONTRACT)
    order = env.escrow.order(order_id)
    assert order.contract_hash == CONTRACT and order.status == Status.PAID
    assert order.amount == 100 * USDC and order.rules_hash == b"\x01" * 32
    assert env.escrow.order_of_contract(CONTRACT) == order_id
    assert env.escrow.order_of_contract(b"\xc1" * 32) == 0


def test_plain_open_order_binds_no_contract(env: Env) -> None:
    order_id = env.open()
    assert env.escrow.order(order_id).contract_hash == bytes(32)


def test_zero_contract_hash_is_refused(env: Env) -> None:
    with pytest.raises(errors.ArbitrationEscrowInvalidContractHash):
        _open(env, bytes(32))


def test_a_contract_escrows_one_order_only(env: Env) -> None:
    first, _ = _open(env, CONTRACT)
    with pytest.raises(errors.ArbitrationEscrowContractAlreadyBound) as caught:
        _open(env, CONTRACT)
    assert caught.value.values == {"contractHash": CONTRACT, "orderId": first}
    assert env.escrow.order_count() == first


def test_contract_order_keeps_the_usual_checks(env: Env) -> None:
    with pytest.raises(errors.ArbitrationEscrowZeroAmount):
        _open(env, CONTRACT, amount=0)
    assert env.escrow.order_of_contract(CONTRACT) == 0
