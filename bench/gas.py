"""Gas benchmark: every escrow operation, and what anchoring evidence costs per item.

Deploys EvidenceAnchor, ArbitrationEscrow and a 6-decimal test stablecoin on an anvil node
it starts itself (node_modules anvil, 127.0.0.1, a free port, cancun) and stops at the end,
then prints the gas used by each operation as mined (receipt gasUsed, so intrinsic and
calldata gas included).

Anchoring: one Merkle root per batch of N items (N = 1, 10, 100, 1,000, 10,000; trees built
with evidence.merkle.StandardMerkleTree over signed-record leaves) costs one `anchor`
transaction whatever N is, so the cost per item is that transaction's gas / N. Beside it,
in the same run, 100 items anchored one transaction each (each item's leaf as its own root),
averaged. The last line is `gas_per_item_at_1000=<integer>` (the goal is <= 50).

    .venv/bin/python bench/gas.py          (or `make bench`)

Timing is printed for information only; nothing here fails on time.
"""

from __future__ import annotations

import json
import os
import sys
import time

from eth_account.signers.local import LocalAccount

from backend.chain import (
    ETH,
    Allocation,
    DecisionKind,
    EscrowContract,
    JurorBallot,
    Timeouts,
    Transactor,
    TxResult,
    deploy_anchor,
    deploy_escrow,
    deploy_token,
)
from backend.chain.artifacts import load_artifact
from backend.chain.devchain import AnvilNode, advance_time, chain_time, dev_accounts, fund
from evidence.jury import vote_commitment, votes_hash
from evidence.merkle import StandardMerkleTree, record_leaf

DAY = 86_400
USDC = 10**6
ETHER = 10**18
BATCH_SIZES = (1, 10, 100, 1_000, 10_000)
SINGLE_ANCHORS = 100
TIMEOUTS = Timeouts(
    max_delivery_period=30 * DAY,
    release_grace=2 * DAY,
    appointment=3 * DAY,
    award=5 * DAY,
    objection=4 * DAY,
    panel_appointment=3 * DAY,
    panel_award=5 * DAY,
    return_shipment=6 * DAY,
    return_receipt=4 * DAY,
)


def leaves(n: int, batch: int) -> list[tuple[str, ...]]:
    """`n` distinct signed-record leaves (case id, record hash, signatures hash)."""
    return [
        record_leaf(
            batch.to_bytes(16, "big") + i.to_bytes(16, "big"),
            os.urandom(32),
            os.urandom(32),
        )
        for i in range(n)
    ]


class Bench:
    """The deployment and the accounts that act in it."""

    def __init__(self, tx: Transactor) -> None:
        self.tx = tx
        (self.admin, self.buyer, self.seller, self.institution, self.arbitrator, *rest) = (
            dev_accounts(10, seed="chainarb-bench")
        )
        self.panel: list[LocalAccount] = rest[:3]
        self.relayer = rest[3]
        fund(tx.w3, [a.address for a in (self.admin, self.buyer, self.seller, self.institution,
                                         self.arbitrator, *self.panel, self.relayer)],
             10_000 * ETHER)
        self.anchor = deploy_anchor(tx, self.admin)
        self.escrow: EscrowContract = deploy_escrow(
            tx, self.admin, timeouts=TIMEOUTS, institutions=[self.institution.address]
        )
        self.usdc = deploy_token(tx, self.admin, "TestStablecoin")
        for party in (self.buyer, self.seller):
            self.usdc.mint(self.admin, party.address, 10**9 * USDC)
        self.gas: dict[str, int] = {}
        self.cases = 0

    def record(self, label: str, result: TxResult) -> TxResult:
        self.gas[label] = result.gas_used
        return result

    def now(self) -> int:
        return chain_time(self.tx.w3)

    def open(self, token: str = ETH, amount: int = ETHER, label: str | None = None,
             contract_hash: bytes | None = None, deadline_in: int = 10 * DAY) -> int:
        order_id, result = self.escrow.open_order(
            self.buyer,
            seller=self.seller.address,
            amount=amount,
            delivery_deadline=self.now() + deadline_in,
            institution=self.institution.address,
            token=token,
            rules_hash=b"\x01" * 32,
            contract_hash=contract_hash,
        )
        if label:
            self.record(label, result)
        return order_id

    def dispute(self, order_id: int, label: str | None = None) -> bytes:
        self.cases += 1
        case = self.cases.to_bytes(32, "big")
        result = self.escrow.raise_dispute(self.buyer, order_id, case)
        if label:
            self.record(label, result)
        return case

    def appoint(self, order_id: int, label: str | None = None) -> None:
        result = self.escrow.appoint_arbitrator(self.institution, order_id, self.arbitrator.address)
        if label:
            self.record(label, result)

    def submit_award(self, order_id: int, allocation: Allocation, label: str | None = None) -> None:
        award_hash = b"\xaa" * 32
        sig = self.escrow.sign_award(self.arbitrator, order_id, allocation, award_hash)
        result = self.escrow.submit_award(self.relayer, order_id, allocation, award_hash, sig)
        if label:
            self.record(label, result)


def escrow_operations(b: Bench) -> None:
    e = b.escrow
    usdc = b.usdc.address
    b.record("approve stablecoin (once per party)", b.usdc.approve(b.buyer, e.address, 2**255))
    b.usdc.approve(b.seller, e.address, 2**255)

    b.record("deposit guarantee (stablecoin, first)",
             e.deposit_guarantee(b.seller, usdc, 500 * USDC))
    b.record("deposit guarantee (stablecoin, top-up)",
             e.deposit_guarantee(b.seller, usdc, 100 * USDC))
    b.record("deposit guarantee (ETH)", e.deposit_guarantee(b.seller, ETH, ETHER))

    order = b.open(ETH, ETHER, "open + pay order (ETH)")
    b.record("confirm delivery (ETH payout)", e.confirm_delivery(b.buyer, order))
    order = b.open(usdc, 250 * USDC, "open + pay order (stablecoin)")
    b.record("confirm delivery (stablecoin payout)", e.confirm_delivery(b.buyer, order))
    b.open(usdc, 250 * USDC, "open + pay order under a contract of sale",
           contract_hash=b"\xc0" * 32)

    # Settlement: both parties sign, anyone submits; compensation from the guarantee.
    order = b.open(usdc, 250 * USDC)
    b.dispute(order, "raise dispute")
    allocation = Allocation(100 * USDC, 150 * USDC, 20 * USDC)
    sigs = [e.sign_settlement(p, order, allocation) for p in (b.buyer, b.seller)]
    b.record("execute settlement (2 signatures)",
             e.execute_settlement(b.relayer, order, allocation, *sigs))

    # Sole arbitrator's award, executed after the objection window.
    order = b.open(usdc, 250 * USDC)
    b.dispute(order)
    b.appoint(order, "appoint arbitrator")
    b.submit_award(order, Allocation(200 * USDC, 50 * USDC, 10 * USDC),
                   "submit award (1 signature)")
    advance_time(b.tx.w3, TIMEOUTS.objection + 1)
    b.record("execute award (after objection window)", e.execute_award(b.relayer, order))

    # Advance refund: the seller missed the delivery deadline of a disputed order; the
    # institution pays the buyer from the guarantee; the award for the seller repays it.
    order = b.open(usdc, 250 * USDC, deadline_in=DAY)
    b.dispute(order)
    advance_time(b.tx.w3, DAY + 1)
    b.appoint(order)
    b.record("advance refund (from the guarantee)",
             e.advance_refund(b.institution, order, usdc, 60 * USDC))
    b.submit_award(order, Allocation(0, 250 * USDC, 0))
    advance_time(b.tx.w3, TIMEOUTS.objection + 1)
    b.record("execute award repaying an advance", e.execute_award(b.relayer, order))

    # Objection, panel of three, panel award signed by two.
    order = b.open(usdc, 250 * USDC)
    b.dispute(order)
    b.appoint(order)
    b.submit_award(order, Allocation(0, 250 * USDC, 0))
    b.record("object to award", e.object_to_award(b.buyer, order))
    b.record("appoint panel of three",
             e.appoint_panel(b.institution, order, [p.address for p in b.panel]))
    allocation = Allocation(125 * USDC, 125 * USDC, 0)
    panel_hash = b"\xbb" * 32
    psigs: list[bytes | None] = [
        e.sign_award(b.panel[0], order, allocation, panel_hash, round_=1),
        None,
        e.sign_award(b.panel[2], order, allocation, panel_hash, round_=1),
    ]
    b.record("panel award (2 of 3 signatures, executes)",
             e.submit_panel_award(b.relayer, order, allocation, panel_hash, psigs))

    # A jury of 7 (docs/jury.md): appointed, 6 signed votes counted on chain, executed.
    order = b.open(usdc, 250 * USDC)
    case = b.dispute(order)
    jurors = dev_accounts(7, seed="chainarb-bench-jurors")
    options = (Allocation(250 * USDC, 0, 0), Allocation(0, 250 * USDC, 0))
    b.record("appoint jury of 7", e.appoint_jury(b.institution, order,
                                                 [j.address for j in jurors], options))
    choices = (0, 0, 1, 0, None, 0, 0)
    ballots = []
    for i, (juror, choice) in enumerate(zip(jurors, choices, strict=True)):
        if choice is None:
            ballots.append(JurorBallot(juror.address))
            continue
        salt = i.to_bytes(32, "big")
        ballots.append(JurorBallot(juror.address, choice, 1, salt,
                                   e.sign_jury_vote(juror, case, choice, 1, salt)))
    commitments = [None if bl.signature is None else
                   vote_commitment(case, bl.juror, bl.choice, bl.reason_code, bl.salt)
                   for bl in sorted(ballots, key=lambda bl: bytes.fromhex(bl.juror[2:]))]
    decision = e.sign_decision(b.institution, order, DecisionKind.JURY_VERDICT, options[0],
                               votes_hash(commitments))
    b.record("submit jury verdict (7 jurors, 6 signed votes)", e.submit_jury_verdict(
        b.relayer, order, jurors=[j.address for j in jurors], options=options, winner=0,
        ballots=ballots, signature=decision))
    advance_time(b.tx.w3, TIMEOUTS.objection + 1)
    b.record("execute jury verdict (after objection window)", e.execute_award(b.relayer, order))

    # The fast track: the institution's signed proposal, executed after its own window.
    order = b.open(usdc, 40 * USDC)
    b.dispute(order)
    proposal, report, window = Allocation(20 * USDC, 20 * USDC, 0), b"\xfa" * 32, 3 * DAY
    sig = e.sign_fast_track(b.institution, order, proposal, report, window)
    b.record("submit fast-track proposal (institution signature)",
             e.submit_fast_track(b.relayer, order, proposal, report, window, sig))
    advance_time(b.tx.w3, window + 1)
    b.record("execute fast track (after its window)", e.execute_award(b.relayer, order))

    # Return and refund: a return award, the return stage, the seller confirms receipt.
    refund, fallback = Allocation(250 * USDC, 0, 5 * USDC), Allocation(0, 250 * USDC, 0)
    returned = []
    for _ in range(3):
        order = b.open(usdc, 250 * USDC)
        b.dispute(order)
        b.appoint(order)
        sig = e.sign_return_award(b.arbitrator, order, refund, fallback, b"\xaa" * 32)
        result = e.submit_return_award(b.relayer, order, refund, fallback, b"\xaa" * 32, sig)
        returned.append(order)
    b.record("submit return award (1 signature)", result)
    advance_time(b.tx.w3, TIMEOUTS.objection + 1)
    b.record("execute return award (starts the return stage)",
             e.execute_award(b.relayer, returned[0]))
    e.execute_award(b.relayer, returned[1])
    e.execute_award(b.relayer, returned[2])
    b.record("record return shipment",
             e.record_return_shipment(b.buyer, returned[0], b"\x7e" * 32))
    e.record_return_shipment(b.buyer, returned[1], b"\x7e" * 32)
    b.record("confirm return received (refund)", e.confirm_return_received(b.seller, returned[0]))
    advance_time(b.tx.w3, TIMEOUTS.return_receipt + 1)
    b.record("return deemed received by timeout (refund)",
             e.resolve_by_timeout(b.relayer, returned[1]))
    advance_time(b.tx.w3, TIMEOUTS.return_shipment)
    b.record("return window missed by timeout (fallback)",
             e.resolve_by_timeout(b.relayer, returned[2]))

    # Timeout: the institution never appoints; anyone refunds the buyer.
    order = b.open(usdc, 250 * USDC)
    b.dispute(order)
    advance_time(b.tx.w3, TIMEOUTS.appointment + 1)
    b.record("resolve by timeout (refund)", e.resolve_by_timeout(b.relayer, order))

    b.record("withdraw guarantee (stablecoin)", e.withdraw_guarantee(b.seller, usdc, 100 * USDC))
    b.record("withdraw guarantee (ETH)", e.withdraw_guarantee(b.seller, ETH, ETHER // 2))


def anchoring(b: Bench) -> tuple[dict[int, int], list[int], int]:
    """(gas of the anchor tx per batch size, gas of each single-item anchor, repeat gas)."""
    batch_gas: dict[int, int] = {}
    for n in BATCH_SIZES:
        tree = StandardMerkleTree.of(leaves(n, n))
        result = b.anchor.anchor(b.admin, tree.root, n)
        assert result.named("RootAnchored"), "a new root must be recorded"
        batch_gas[n] = result.gas_used
    singles = []
    for item in leaves(SINGLE_ANCHORS, 0):
        root = StandardMerkleTree.of([item]).root  # a one-leaf tree's root is its leaf hash
        singles.append(b.anchor.anchor(b.admin, root, 1).gas_used)
    b.gas["anchor new root"] = singles[0]
    repeat = b.anchor.anchor(b.admin, StandardMerkleTree.of([item]).root, 1)
    assert not repeat.named("RootAnchored"), "a repeated root must not be recorded twice"
    b.gas["anchor existing root (no-op)"] = repeat.gas_used
    return batch_gas, singles, repeat.gas_used


def main() -> int:
    started = time.monotonic()
    with AnvilNode() as node:
        w3 = node.web3()
        tx = Transactor(w3)
        optimizer = json.loads(load_artifact("ArbitrationEscrow").metadata)["settings"]["optimizer"]
        print(f"anvil {node.url} chain {w3.eth.chain_id} (cancun), solc 0.8.30 optimizer "
              f"{optimizer['runs']} runs")
        b = Bench(tx)
        escrow_operations(b)
        batch_gas, singles, _repeat = anchoring(b)

    width = max(len(k) for k in b.gas) + 2
    print()
    print(f"{'operation':<{width}}{'gas':>10}")
    for label, gas in b.gas.items():
        print(f"{label:<{width}}{gas:>10,}")

    single_avg = sum(singles) / len(singles)
    print()
    print(f"anchoring one Merkle root per batch vs one transaction per item "
          f"({SINGLE_ANCHORS} single-item anchors, mean {single_avg:,.0f} gas, "
          f"min {min(singles):,}, max {max(singles):,})")
    print(f"{'items':>8}{'anchor tx gas':>15}{'gas/item':>12}{'one tx per item':>18}{'ratio':>10}")
    for n, gas in batch_gas.items():
        per_item = gas / n
        print(f"{n:>8,}{gas:>15,}{per_item:>12,.1f}{single_avg * n:>18,.0f}"
              f"{single_avg / per_item:>9,.0f}x")
    at_1000 = batch_gas[1_000] / 1_000
    print()
    print(f"ratio: at 1,000 items a batch costs {at_1000:.1f} gas per item, "
          f"one transaction per item {single_avg:,.0f}: {single_avg / at_1000:,.0f}x less")
    print(f"elapsed {time.monotonic() - started:.1f} s (information only)")
    print(f"gas_per_item_at_1000={round(at_1000)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
