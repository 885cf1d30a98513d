"""backend.chain.Transactor: what the caller sees when a transaction fails outside the contract."""

from __future__ import annotations

import pytest
from eth_account import Account

from backend.chain import Allocation, TransactionError
from tests.contracts.helpers import Env


def test_out_of_gas_is_reported_as_mined_with_status_0(env: Env) -> None:
    data = env.escrow.contract.encode_abi("confirmDelivery", args=[env.open()])
    with pytest.raises(TransactionError) as info:
        env.tx.send(env.buyer, to=env.escrow.address, data=data, gas=23_000)
    assert "status 0" in str(info.value)


def test_an_unfunded_sender_is_refused_by_the_node(env: Env) -> None:
    pauper = Account.from_key(b"\x42" * 32)
    with pytest.raises(TransactionError) as info:
        env.anchor.anchor(pauper, b"\x01" * 32, 1)
    assert "refused" in str(info.value)


def test_bad_arguments_are_refused_before_sending(env: Env) -> None:
    with pytest.raises(ValueError, match="32 bytes"):
        env.escrow.raise_dispute(env.buyer, env.open(), b"short")
    with pytest.raises(ValueError, match="3 members"):
        env.escrow.appoint_panel(env.institution, 1, [env.other.address])
    with pytest.raises(ValueError, match="round"):
        env.escrow.award_typed_data(1, Allocation(1, 2, 3), b"\x00" * 32, 2, case_id=bytes(32))
