"""The institution: its signing key (the records the service signs in its own name) and
its legal identity (what every judicial package states about who runs the procedure).

Why a module: three parts of the service sign as the institution (the step pipeline
countersigns an admin's authorised appointment, the scheduler records missed deadlines
and enforcement, the courts module records court access), and the key must stay in one
place that never logs it. The escrow names this key's address as every order's
institution, and the judicial package checks records signed by it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, replace
from datetime import datetime
from typing import Any

from eth_account import Account as EthAccount

from evidence.records import Domain, ProceduralStep, Record, SignedRecord, bytes32

from .steps import payload_hash

__all__ = ["Institution", "InstitutionIdentity"]


@dataclass(frozen=True, kw_only=True)
class InstitutionIdentity:
    """Who the institution is, from configuration (``CHAINARB_INSTITUTION_*``): a court
    asks which legal entity runs the platform and how its key is held (SPC Online
    Litigation Rules Arts. 16-18). The package's attestation, signed by the institution
    key, covers the manifest that states it, so the key vouches for this identity."""

    name_en: str = "chainarb ODR service"
    name_zh: str = "chainarb 在线争议解决服务"
    seat: str = ""
    registration: str = ""
    website: str = ""
    key_custody_en: str = ""
    key_custody_zh: str = ""


class Institution:
    """Signs procedural steps with the institution key for one deployment's domain."""

    def __init__(self, key_hex: str, domain: Domain) -> None:
        self._account = EthAccount.from_key(key_hex)
        self.domain = domain

    def __repr__(self) -> str:
        return f"Institution({self.address})"  # never the key

    @property
    def address(self) -> str:
        return str(self._account.address)

    def sign_step(self, case_id: str, head: tuple[int, bytes, int], action: str,
                  payload: Mapping[str, Any], now: datetime) -> SignedRecord:
        """A ``ProceduralStep`` at the chain head ``(position, prev hash, prev signedAt)``;
        signed no earlier than the previous step (the chain's time never runs back)."""
        position, prev, prev_at = head
        rec = ProceduralStep(case_id=bytes32(case_id), sequence=position, prev_hash=prev,
                             actor=self.address, action=action,
                             payload_hash=bytes32(payload_hash(payload)),
                             signed_at=max(int(now.timestamp()), prev_at))
        return rec.sign(self._account.key, self.domain)

    def sign_record(self, record: Record) -> SignedRecord:
        """Any record the institution signs in its own name (a court's profile it issues)."""
        return record.sign(self._account.key, self.domain)

    def countersign(self, record: ProceduralStep) -> SignedRecord:
        """The same step with the institution as its actor (an admin authorised it)."""
        return replace(record, actor=self.address).sign(self._account.key, self.domain)
