"""ArbitrationEscrow: the institution rotates its key, and its open orders follow.

An order names its institution at opening; `rotateInstitutionKey(successor)`, sent by that
key, hands the role and every order naming it (or a key before it) to the successor. The old
key can then act for no order; the successor appoints for all of them. Refusals by custom
error and arguments, events compared exactly (docs/contracts.md, "Institution key rotation").
"""

from __future__ import annotations

import pytest
from eth_account import Account
from eth_account.signers.local import LocalAccount

from backend.chain import ZERO_ADDRESS, Allocation, Resolution, Status, errors
from backend.chain.devchain import fund
from tests.contracts.helpers import AWARD_HASH, ETHER, USDC, Env

AMOUNT = 250 * USDC


def _role(env: Env) -> bytes:
    return bytes(env.escrow.contract.functions.INSTITUTION_ROLE().call())


def _fresh(env: Env) -> LocalAccount:
    """A new key with gas money: the successor sends its own transactions."""
    account: LocalAccount = Account.create()
    fund(env.w3, [account.address], 10 * ETHER)
    return account


def test_rotation_moves_the_role_and_emits_the_handover(env: Env) -> None:
    new = _fresh(env)
    old = env.institution
    result = env.escrow.rotate_institution_key(old, new.address)
    role = _role(env)
    assert list(result.events) == [
        env.ev("RoleRevoked", role=role, account=old.address, sender=old.address),
        env.ev("RoleGranted", role=role, account=new.address, sender=old.address),
        env.ev("InstitutionKeyRotated", previous=old.address, successor=new.address),
    ]
    assert not env.escrow.is_institution(old.address)
    assert env.escrow.is_institution(new.address)
    assert env.escrow.successor_of(old.address) == new.address
    assert env.escrow.successor_of(new.address) == ZERO_ADDRESS
    assert env.escrow.institution_of(old.address) == new.address
    assert env.escrow.institution_of(new.address) == new.address
    # an institution that never rotated is its own current key
    assert env.escrow.institution_of(env.other_institution.address) == \
        env.other_institution.address


def test_an_open_order_is_appointed_by_the_successor_not_the_old_key(env: Env) -> None:
    order_id = env.disputed()
    new = _fresh(env)
    env.escrow.rotate_institution_key(env.institution, new.address)
    assert env.escrow.order(order_id).institution == env.institution.address  # fixed at opening
    with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller) as info:
        env.escrow.appoint_arbitrator(env.institution, order_id, env.arbitrator.address)
    assert info.value.values == {"orderId": order_id, "caller": env.institution.address}
    result = env.escrow.appoint_arbitrator(new, order_id, env.arbitrator.address)
    assert [e.name for e in env.escrow_events(result)] == ["ArbitratorAppointed"]
    assert env.escrow.order(order_id).status == Status.ARBITRATOR_APPOINTED
    # the award the arbitrator signs executes as before: the rotation changes no signature
    allocation = Allocation(AMOUNT // 2, AMOUNT - AMOUNT // 2, 0)
    sig = env.escrow.sign_award(env.arbitrator, order_id, allocation, AWARD_HASH)
    env.escrow.submit_award(env.other, order_id, allocation, AWARD_HASH, sig)
    env.wait(env.escrow.timeouts().objection)
    done = env.escrow.execute_award(env.other, order_id)
    assert done.named("OrderResolved")[0].args["resolution"] == Resolution.AWARD_EXECUTED


def test_a_panel_after_a_rotation_mid_case(env: Env) -> None:
    order_id = env.objected()
    new = _fresh(env)
    env.escrow.rotate_institution_key(env.institution, new.address)
    panel = [p.address for p in env.panel]
    with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller):
        env.escrow.appoint_panel(env.institution, order_id, panel)
    env.escrow.appoint_panel(new, order_id, panel)
    assert env.escrow.panel(order_id) == tuple(panel)


def test_two_rotations_chain_and_only_the_last_key_acts(env: Env) -> None:
    order_id = env.disputed()
    second, third = _fresh(env), _fresh(env)
    env.escrow.rotate_institution_key(env.institution, second.address)
    env.escrow.rotate_institution_key(second, third.address)
    assert env.escrow.institution_of(env.institution.address) == third.address
    assert env.escrow.institution_of(second.address) == third.address
    for stale in (env.institution, second):
        with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller):
            env.escrow.appoint_arbitrator(stale, order_id, env.arbitrator.address)
    env.escrow.appoint_arbitrator(third, order_id, env.arbitrator.address)


def test_rotation_refusals(env: Env) -> None:
    new = _fresh(env)
    # only an institution rotates, and only its own key
    info: pytest.ExceptionInfo[errors.RevertError]
    for who in (env.other, env.admin, env.buyer):
        with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller) as info:
            env.escrow.rotate_institution_key(who, new.address)
        assert info.value.values == {"orderId": 0, "caller": who.address}
    # the successor must be a fresh key
    for bad in (ZERO_ADDRESS, env.institution.address, env.other_institution.address):
        with pytest.raises(errors.ArbitrationEscrowInvalidSuccessor) as info:
            env.escrow.rotate_institution_key(env.institution, bad)
        assert info.value.values == {"successor": bad}
    env.escrow.rotate_institution_key(env.institution, new.address)
    # the old key rotates no more, even when the admin grants it the role again
    with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller):
        env.escrow.rotate_institution_key(env.institution, env.other.address)
    env.escrow.grant_institution(env.admin, env.institution.address)
    with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller):
        env.escrow.rotate_institution_key(env.institution, env.other.address)
    # a retired key is never a successor again: no cycle, no merging of two key chains
    with pytest.raises(errors.ArbitrationEscrowInvalidSuccessor) as info:
        env.escrow.rotate_institution_key(env.other_institution, env.institution.address)
    assert info.value.values == {"successor": env.institution.address}


def test_no_new_order_names_a_retired_key(env: Env) -> None:
    new = _fresh(env)
    env.escrow.rotate_institution_key(env.institution, new.address)
    for _ in range(2):  # without the role, then with it granted again by the admin
        with pytest.raises(errors.ArbitrationEscrowUnknownInstitution) as info:
            env.escrow.open_order(env.buyer, seller=env.seller.address, amount=AMOUNT,
                                  delivery_deadline=env.now() + 86_400,
                                  institution=env.institution.address,
                                  token=env.usdc.address)
        assert info.value.values == {"institution": env.institution.address}
        env.escrow.grant_institution(env.admin, env.institution.address)
    order_id, _ = env.escrow.open_order(env.buyer, seller=env.seller.address, amount=AMOUNT,
                                        delivery_deadline=env.now() + 86_400,
                                        institution=new.address, token=env.usdc.address)
    assert env.escrow.order(order_id).institution == new.address


def test_the_admin_still_revokes_a_successor(env: Env) -> None:
    order_id = env.disputed()
    new = _fresh(env)
    env.escrow.rotate_institution_key(env.institution, new.address)
    env.escrow._send(env.admin, "revokeRole", _role(env), new.address)
    with pytest.raises(errors.ArbitrationEscrowUnauthorizedCaller):
        env.escrow.appoint_arbitrator(new, order_id, env.arbitrator.address)


def test_the_admin_role_is_handed_over_too(env: Env) -> None:
    """The embedded deployment's institution is also the escrow's admin: the port moves
    that role as well, so a retired key cannot revoke its successor."""
    new = _fresh(env)
    assert env.escrow.is_admin(env.admin.address)
    granted, renounced = env.escrow.hand_over_admin(env.admin, new.address)
    assert [e.name for e in granted.events] == ["RoleGranted"]
    assert [e.name for e in renounced.events] == ["RoleRevoked"]
    assert env.escrow.is_admin(new.address) and not env.escrow.is_admin(env.admin.address)
    with pytest.raises(errors.AccessControlUnauthorizedAccount):
        env.escrow.grant_institution(env.admin, env.other.address)
