"""The real contracts on an EVM, set up the one way the end-to-end worlds need them.

Why: the package world (tests/backend/package) and the judicial world (tests/judicial) both
fund their people, deploy EvidenceAnchor and ArbitrationEscrow with an institution, open an
order and deposit the seller's guarantee; this is that setup, once.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from eth_account.signers.local import LocalAccount
from web3 import Web3

from backend.chain.contracts import (
    AnchorContract,
    EscrowContract,
    Timeouts,
    Transactor,
    TxResult,
    deploy_anchor,
    deploy_escrow,
)
from backend.chain.devchain import chain_time, fund

__all__ = ["ETHER", "Contracts", "deploy_contracts"]

ETHER = 10**18
ETH = "0x" + "00" * 20  # the guarantee's token: native ETH


@dataclass(frozen=True)
class Contracts:
    w3: Web3
    escrow: EscrowContract
    anchor: AnchorContract

    def open_order(self, buyer: LocalAccount, seller: LocalAccount, institution: str, *,
                   amount: int, guarantee: int, deliver_in: int, rules_hash: bytes
                   ) -> tuple[int, TxResult]:
        """The buyer opens and pays an ETH order; the seller deposits its guarantee."""
        opened = self.escrow.open_order(
            buyer, seller=seller.address, amount=amount,
            delivery_deadline=chain_time(self.w3) + deliver_in, institution=institution,
            rules_hash=rules_hash)
        self.escrow.deposit_guarantee(seller, ETH, guarantee)
        return opened


def deploy_contracts(w3: Web3, deployer: LocalAccount, *, institution: str,
                     funded: Iterable[str]) -> Contracts:
    """Fund `funded` with 100 ETH each, then deploy EvidenceAnchor and ArbitrationEscrow
    (default timeouts, `deployer` its admin, `institution` granted)."""
    fund(w3, list(funded), 100 * ETHER)
    tx = Transactor(w3)
    anchor = deploy_anchor(tx, deployer)
    escrow = deploy_escrow(tx, deployer, timeouts=Timeouts(), institutions=[institution])
    return Contracts(w3=w3, escrow=escrow, anchor=anchor)
