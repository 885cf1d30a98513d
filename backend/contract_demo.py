"""The contract-level closed loop on the in-process chain (what `chainarb demo` runs for now).

Order paid into escrow in a 6-decimal stablecoin, dispute, arbitrator appointed by the
institution, award signed (EIP-712, eth-account) with a partial refund and compensation
from the seller's guarantee, objection window passed, award executed by anyone, balances
printed before and after. Amounts are integers in the token's smallest unit, shown as
Decimals: never floats.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass
from decimal import Decimal

from rich.console import Console
from rich.table import Table

from backend.chain import (
    Allocation,
    Resolution,
    Transactor,
    deploy_anchor,
    deploy_escrow,
    deploy_token,
)
from backend.chain.devchain import advance_time, chain_time, dev_accounts, fund, in_process_web3
from evidence.events import uint_of

__all__ = ["DemoResult", "run_contract_demo"]

DAY = 86_400
DECIMALS = 6
UNIT = 10**DECIMALS


@dataclass(frozen=True)
class DemoResult:
    """Balances (smallest units) before and after, keyed by holder name."""

    before: dict[str, int]
    after: dict[str, int]
    order_id: int
    resolution: Resolution


def _fmt(amount: int) -> str:
    return f"{Decimal(amount).scaleb(-DECIMALS):,.{DECIMALS}f} tUSD"


def _delta(amount: int) -> str:
    if amount == 0:
        return "—"
    sign = "+" if amount > 0 else "−"
    return f"{sign}{_fmt(abs(amount))}"


def run_contract_demo(console: Console | None = None) -> DemoResult:
    """Run the loop on a fresh in-process chain and print what happened."""
    out = console or Console()
    w3 = in_process_web3()
    institution, buyer, seller, arbitrator, relayer = dev_accounts(5, seed="chainarb-demo")
    fund(w3, [a.address for a in (institution, buyer, seller, arbitrator, relayer)])
    tx = Transactor(w3)

    out.rule("[bold]chainarb — contract-level demo (in-process EVM)")
    escrow = deploy_escrow(tx, institution, institutions=[institution.address])
    anchor = deploy_anchor(tx, institution)
    usdc = deploy_token(tx, institution, "TestStablecoin")
    timeouts = escrow.timeouts()
    out.print(f"ArbitrationEscrow {escrow.address}   EvidenceAnchor {anchor.address}")
    out.print(
        f"stablecoin {usdc.symbol()} ({usdc.decimals()} decimals) {usdc.address}; chain id "
        f"{w3.eth.chain_id}; objection window {timeouts.objection // DAY} days"
    )

    usdc.mint(institution, buyer.address, 1_000 * UNIT)
    usdc.mint(institution, seller.address, 500 * UNIT)
    usdc.approve(seller, escrow.address, 200 * UNIT)
    escrow.deposit_guarantee(seller, usdc.address, 200 * UNIT)

    def balances() -> dict[str, int]:
        return {
            "buyer": usdc.balance_of(buyer.address),
            "seller": usdc.balance_of(seller.address),
            "seller's guarantee": escrow.guarantee(seller.address, usdc.address).balance,
            "escrow contract": usdc.balance_of(escrow.address),
        }

    before = balances()
    steps = Table(title="steps", show_lines=False)
    for column in ("#", "step", "by", "gas"):
        steps.add_column(column, justify="right" if column in ("#", "gas") else "left")

    numbered: list[str] = []

    def step(text: str, by: str, gas: int) -> None:
        numbered.append(text)
        steps.add_row(str(len(numbered)), text, by, f"{gas:,}")

    price = 250 * UNIT
    usdc.approve(buyer, escrow.address, price)
    rules_hash = hashlib.sha256(b"chainarb arbitration rules, version 1").digest()
    order_id, result = escrow.open_order(
        buyer,
        seller=seller.address,
        amount=price,
        delivery_deadline=chain_time(w3) + 10 * DAY,
        institution=institution.address,
        token=usdc.address,
        rules_hash=rules_hash,
    )
    step(f"order {order_id} opened and paid: {_fmt(price)} into escrow", "buyer", result.gas_used)

    case_id = hashlib.sha256(b"chainarb case 2026-0001").digest()
    result = escrow.raise_dispute(buyer, order_id, case_id)
    step(
        f"dispute raised, case 0x{case_id.hex()[:12]}…: goods not as described",
        "buyer",
        result.gas_used,
    )

    result = escrow.appoint_arbitrator(institution, order_id, arbitrator.address)
    step(f"arbitrator {arbitrator.address[:10]}… appointed", "institution", result.gas_used)

    award_document = (
        b"Award in case 2026-0001. The goods were partly defective. The buyer receives a "
        b"partial refund of 100 tUSD and 30 tUSD compensation from the seller's guarantee; "
        b"the seller receives 150 tUSD."
    )
    award_hash = hashlib.sha256(award_document).digest()
    allocation = Allocation(to_buyer=100 * UNIT, to_seller=150 * UNIT, compensation=30 * UNIT)
    signature = escrow.sign_award(arbitrator, order_id, allocation, award_hash)
    result = escrow.submit_award(relayer, order_id, allocation, award_hash, signature)
    step(
        f"award signed (EIP-712) and submitted: refund {_fmt(allocation.to_buyer)}, "
        f"seller {_fmt(allocation.to_seller)}, compensation {_fmt(allocation.compensation)}",
        "arbitrator → relayer",
        result.gas_used,
    )
    result = anchor.anchor(institution, award_hash, 1)
    step("award document's SHA-256 anchored", "institution", result.gas_used)

    advance_time(w3, timeouts.objection)
    steps.add_row("", f"[dim]{timeouts.objection // DAY} days pass, no objection[/dim]", "", "")
    result = escrow.execute_award(relayer, order_id)
    resolved = result.named("OrderResolved")[0].args
    step(
        f"award executed: compensation paid {_fmt(uint_of(resolved, 'compensationPaid'))}, "
        f"shortfall {_fmt(uint_of(resolved, 'compensationShortfall'))}",
        "anyone",
        result.gas_used,
    )
    after = balances()
    order = escrow.order(order_id)

    out.print(steps)
    table = Table(title=f"balances of {usdc.symbol()} (exact, {DECIMALS} decimals)")
    table.add_column("holder")
    for column in ("before", "after", "change"):
        table.add_column(column, justify="right")
    for name in before:
        table.add_row(
            name, _fmt(before[name]), _fmt(after[name]), _delta(after[name] - before[name])
        )
    out.print(table)
    out.print(
        f"order {order_id}: {order.status.name}, {order.resolution.name}; nothing created or "
        f"lost: escrow holds exactly the remaining guarantee ({_fmt(after['escrow contract'])})."
    )
    return DemoResult(before=before, after=after, order_id=order_id, resolution=order.resolution)
