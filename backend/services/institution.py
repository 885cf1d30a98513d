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
from dataclasses import replace
from datetime import datetime

from eth_account import Account as EthAccount

from evidence.judicial.inputs import InstitutionInfo
from evidence.records import Domain, ProceduralStep, Record, SignedRecord, bytes32

from .steps import payload_hash

__all__ = ["Institution", "institution_info"]


INDEPENDENCE_EN = (
    "The institution administers the procedure only: it has no interest in the outcome, "
    "holds no stake in either party, and cannot alter a signed record or move escrowed funds "
    "except as a signed award or settlement directs.")
INDEPENDENCE_ZH = (
    "本机构仅负责程序管理：与案件结果无利害关系，不持有任何一方的权益，"
    "无法更改已签名记录，亦无法在裁决或和解之外动用托管资金。")
SECURITY_EN = (
    "Evidence is encrypted at upload (AES-256-GCM, per-item keys); every step and upload is "
    "signed, logged with signed provenance entries and anchored in Merkle batches on-chain; "
    "time-stamped by an RFC 3161 authority.")
SECURITY_ZH = (
    "证据上传即加密（AES-256-GCM，每件独立密钥）；每一步骤与上传均经签名并记录经签名的来源日志，"
    "以默克尔批次上链存证，并由 RFC 3161 时间戳机构加盖时间戳。")
"""What the software does, stated in every package (SPC Online Litigation Rules Arts. 17-18);
the legal identity beside them is configuration (``CHAINARB_INSTITUTION_*``)."""


def institution_info(address: str, **identity: str) -> InstitutionInfo:
    """The institution as every package states it: its key's address, its legal identity
    (the ``InstitutionInfo`` fields ``name``, ``name_zh``, ``seat``, ``registration``,
    ``website``, ``key_custody_en``, ``key_custody_zh``; from the settings) and the
    statements. A court asks which legal entity runs the platform and how its key is held;
    the package's attestation, signed by that key, covers the manifest stating it."""
    identity.setdefault("name", "chainarb ODR service")
    return InstitutionInfo(address=address, independence_en=INDEPENDENCE_EN,
                           independence_zh=INDEPENDENCE_ZH, security_en=SECURITY_EN,
                           security_zh=SECURITY_ZH, **identity)


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
                  payload: Mapping[str, object], now: datetime) -> SignedRecord:
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
