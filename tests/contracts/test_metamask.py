"""MetaMask's signer and eth-account sign the same EIP-712 bytes, and the escrow accepts them.

`@metamask/eth-sig-util` (`signTypedData`, V4: what MetaMask's `eth_signTypedData_v4` runs)
signs in Node (tests/js/eth-sig-util-sign.mjs); eth-account signs here. Both get the same
payload from backend.chain.typed_data, the node side as the wallet JSON (integers as decimal
strings, since JavaScript numbers stop being exact at 2**53 and one ETH is 10**18 wei). The
signatures must be byte-identical, the digest must equal the contract's own `hashAward` /
`hashSettlement`, and the escrow must execute the award or settlement they sign, on the
in-process chain and on anvil.

Address case in the typed data (decision): an `address` is encoded as its 20 bytes, so the
case of its hex digits is not signed. Lower-case, upper-case and even wrongly check-summed
spellings of the verifying contract give the same signature in both libraries, and the
escrow accepts it; we do not refuse a payload for its case, and our builders always emit the
EIP-55 checksummed form (what wallets display). An address without its `0x` prefix is
different: eth-account still reads it as hex, but eth-sig-util parses a non-`0x` string as a
decimal-ish number and signs another domain; the escrow refuses that signature. So the
`0x` prefix is required, and our builders always write it.
"""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import pytest
from eth_account.signers.local import LocalAccount

from backend.chain import Allocation, Status, errors
from backend.chain.typed_data import sign_typed_data, typed_data_digest, typed_data_json
from evidence.records import TypedData
from tests.contracts.helpers import AWARD_HASH, CASE, ETHER, USDC, Env

ROOT = Path(__file__).resolve().parents[2]
SIGNER = ROOT / "tests" / "js" / "eth-sig-util-sign.mjs"

pytestmark = pytest.mark.node


def metamask_sign(jobs: list[tuple[LocalAccount, TypedData]]) -> list[dict[str, str]]:
    """Sign each (account, typed data) with @metamask/eth-sig-util in one node process."""
    payload = [
        {"privateKey": "0x" + bytes(account.key).hex(), "data": json.loads(typed_data_json(td))}
        for account, td in jobs
    ]
    proc = subprocess.run(
        ["node", str(SIGNER)],
        input=json.dumps(payload),
        capture_output=True,
        text=True,
        cwd=ROOT,
        timeout=300,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    out: list[dict[str, str]] = json.loads(proc.stdout)
    assert len(out) == len(jobs)
    return out


def _sig(hex_signature: str) -> bytes:
    return bytes.fromhex(hex_signature.removeprefix("0x"))


def _with_domain_address(typed: TypedData, address: str) -> TypedData:
    return {**typed, "domain": {**typed["domain"], "verifyingContract": address}}


def test_award_signed_by_metamask_and_eth_account_executes(env: Env) -> None:
    amount = 2 * ETHER + 12345  # above 2**53: exact only because uints travel as strings
    allocation = Allocation(to_buyer=amount // 3, to_seller=amount - amount // 3, compensation=0)
    orders = [env.appointed("eth", amount) for _ in range(2)]
    typed = [env.escrow.award_typed_data(o, allocation, AWARD_HASH) for o in orders]

    mm = metamask_sign([(env.arbitrator, t) for t in typed])
    py = [sign_typed_data(env.arbitrator, t) for t in typed]
    for order_id, t, m, p in zip(orders, typed, mm, py, strict=True):
        assert _sig(m["signature"]) == p
        contract_digest = env.escrow.hash_award(order_id, CASE, allocation, AWARD_HASH, 0)
        assert bytes.fromhex(m["digest"][2:]) == contract_digest == typed_data_digest(t)
        assert m["recovered"].lower() == env.arbitrator.address.lower()

    # Order 1 carries MetaMask's signature, order 2 eth-account's: both execute.
    env.escrow.submit_award(env.other, orders[0], allocation, AWARD_HASH, _sig(mm[0]["signature"]))
    env.escrow.submit_award(env.other, orders[1], allocation, AWARD_HASH, py[1])
    env.wait(env.escrow.timeouts().objection + 1)
    buyer_before = env.balance("eth", env.buyer.address)
    seller_before = env.balance("eth", env.seller.address)
    for order_id in orders:
        env.escrow.execute_award(env.other, order_id)
        assert env.escrow.order(order_id).status == Status.RESOLVED
    assert env.balance("eth", env.buyer.address) == buyer_before + 2 * allocation.to_buyer
    assert env.balance("eth", env.seller.address) == seller_before + 2 * allocation.to_seller


def test_settlement_signed_by_both_parties_in_metamask_executes(env: Env) -> None:
    amount = 250 * USDC
    env.escrow.deposit_guarantee(env.seller, env.usdc.address, 40 * USDC)
    order_id = env.disputed("usdc", amount)
    allocation = Allocation(to_buyer=100 * USDC, to_seller=150 * USDC, compensation=25 * USDC)
    typed = env.escrow.settlement_typed_data(order_id, allocation)

    buyer_mm, seller_mm = metamask_sign([(env.buyer, typed), (env.seller, typed)])
    assert _sig(buyer_mm["signature"]) == sign_typed_data(env.buyer, typed)
    assert _sig(seller_mm["signature"]) == sign_typed_data(env.seller, typed)
    digest = env.escrow.hash_settlement(order_id, CASE, allocation)
    assert bytes.fromhex(buyer_mm["digest"][2:]) == digest

    buyer_before = env.balance("usdc", env.buyer.address)
    seller_before = env.balance("usdc", env.seller.address)
    env.escrow.execute_settlement(
        env.other, order_id, allocation, _sig(buyer_mm["signature"]), _sig(seller_mm["signature"])
    )
    assert env.escrow.order(order_id).status == Status.RESOLVED
    assert env.balance("usdc", env.buyer.address) == buyer_before + 125 * USDC
    assert env.balance("usdc", env.seller.address) == seller_before + 150 * USDC
    assert env.escrow.guarantee(env.seller.address, env.usdc.address).balance == 15 * USDC


def test_panel_award_signed_in_metamask_by_two_of_three_executes(env: Env) -> None:
    amount = 90 * USDC
    order_id = env.panel_appointed("usdc", amount)
    allocation = Allocation(to_buyer=amount, to_seller=0)
    typed = env.escrow.award_typed_data(order_id, allocation, AWARD_HASH, round_=1)
    first, _, third = env.panel
    signed = metamask_sign([(first, typed), (third, typed)])
    for account, m in zip((first, third), signed, strict=True):
        assert _sig(m["signature"]) == sign_typed_data(account, typed)
    sigs = [_sig(signed[0]["signature"]), None, _sig(signed[1]["signature"])]
    env.escrow.submit_panel_award(env.other, order_id, allocation, AWARD_HASH, sigs)
    assert env.escrow.order(order_id).status == Status.RESOLVED


def test_address_case_is_not_signed(env: Env) -> None:
    order_id = env.appointed("usdc", 80 * USDC)
    allocation = Allocation(to_buyer=30 * USDC, to_seller=50 * USDC)
    typed = env.escrow.award_typed_data(order_id, allocation, AWARD_HASH)
    checksummed = typed["domain"]["verifyingContract"]
    hex_part = checksummed[2:]
    assert hex_part != hex_part.lower(), "want a contract address with letters in it"
    # Flip the case of the first letter: a mixed-case spelling with a wrong EIP-55 checksum.
    first = next(i for i, ch in enumerate(hex_part) if ch.isalpha())
    bad_checksum = "0x" + hex_part[:first] + hex_part[first].swapcase() + hex_part[first + 1 :]
    spellings = [checksummed, "0x" + hex_part.lower(), "0x" + hex_part.upper(), bad_checksum]
    variants = [_with_domain_address(typed, a) for a in spellings]

    mm = metamask_sign([(env.arbitrator, v) for v in variants])
    expected = sign_typed_data(env.arbitrator, typed)
    assert {_sig(m["signature"]) for m in mm} == {expected}
    assert {sign_typed_data(env.arbitrator, v) for v in variants} == {expected}
    # Any of them (they are one signature) executes on the escrow.
    env.escrow.submit_award(env.other, order_id, allocation, AWARD_HASH, _sig(mm[3]["signature"]))
    assert env.escrow.order(order_id).status == Status.AWARD_SUBMITTED


def test_address_without_0x_prefix_signs_another_domain_in_metamask(env: Env) -> None:
    order_id = env.appointed("usdc", 80 * USDC)
    allocation = Allocation(to_buyer=80 * USDC, to_seller=0)
    typed = env.escrow.award_typed_data(order_id, allocation, AWARD_HASH)
    unprefixed = _with_domain_address(typed, typed["domain"]["verifyingContract"][2:])
    (mm,) = metamask_sign([(env.arbitrator, unprefixed)])
    # eth-account reads the bare hex as the same address; eth-sig-util does not.
    assert sign_typed_data(env.arbitrator, unprefixed) == sign_typed_data(env.arbitrator, typed)
    assert _sig(mm["signature"]) != sign_typed_data(env.arbitrator, typed)
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature):
        env.escrow.submit_award(env.other, order_id, allocation, AWARD_HASH, _sig(mm["signature"]))
    assert env.escrow.order(order_id).status == Status.ARBITRATOR_APPOINTED


def test_metamask_signature_for_another_chain_is_refused(env: Env) -> None:
    order_id = env.appointed("usdc", 80 * USDC)
    allocation = Allocation(to_buyer=80 * USDC, to_seller=0)
    typed = env.escrow.award_typed_data(order_id, allocation, AWARD_HASH)
    chain_id = typed["domain"]["chainId"]
    other_chain: TypedData = {
        **typed, "domain": {**typed["domain"], "chainId": 1 if chain_id != 1 else 10}}
    (mm,) = metamask_sign([(env.arbitrator, other_chain)])
    with pytest.raises(errors.ArbitrationEscrowInvalidSignature):
        env.escrow.submit_award(env.other, order_id, allocation, AWARD_HASH, _sig(mm["signature"]))
    assert env.escrow.order(order_id).status == Status.ARBITRATOR_APPOINTED
