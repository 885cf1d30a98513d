"""Rotating the institution key: a signed, anchored handover (issue 11 §4).

Why a module: the handover touches three stores that must agree, in an order that survives a
crash at any point (each phase is idempotent, so running the command again finishes it):

1. **Every case's chain** gets an ``institution.key_rotated`` step signed by the *old* key,
   payload ``{"role": "institution", "appointees": [new]}``, stored and queued for anchoring
   like any step; the case's institution set swaps the old key for the new. A court's
   verifier follows the handover from the order's on-chain institution (docs/judicial-
   package.md §3). A case with no step yet (not filed) has no chain to extend; its state
   takes the new key, and the escrow's rotation (2) is the record of the handover.
2. **The escrow**: ``rotateInstitutionKey(new)`` sent by the old key hands the role and every
   order naming the old key to the new one (``institutionOf``); the escrow's admin role
   follows when the old key held it (the embedded deployment), so a leaked old key can
   neither act for an order nor revoke its successor.
3. **Data keys at rest**: the service's X25519 key is derived from the institution key
   (``keys.py``), so every stored wrap (evidence items, step bundles, documents a step
   carries) gains a wrap for the new service key, without reading any container.

The caller then switches the configured key (``chainarb institution rotate-key`` replaces
the data dir's ``institution.key``, or tells the operator to set ``CHAINARB_INSTITUTION_KEY``);
the service refuses to start with a rotated key. ``drop_old_wraps`` (run by the service
with the new key) removes the old key's wraps, so the old key opens nothing stored.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from eth_account import Account as EthAccount
from sqlalchemy.orm import sessionmaker
from sqlmodel import Session, col, select
from typing_extensions import TypedDict

from backend.db import Case, EvidenceItem, begin_exclusive
from backend.db.service_models import StepDetail
from backend.db.types import WrappedKeysJson
from evidence.encryption import KeyWraps
from evidence.records import canonical_json

from .keys import ServiceKey

if TYPE_CHECKING:
    from .cases import CaseService

__all__ = ["KEY_ROTATED", "Rotation", "RotationRefusedError", "add_wraps", "drop_old_wraps",
           "handover_payload", "rotate_institution_key"]

KEY_ROTATED = "institution.key_rotated"


class RotationRefusedError(ValueError):
    """The new key cannot take over (it is the current key, or takes part in a case)."""


class HandoverJson(TypedDict):
    """The ``institution.key_rotated`` payload: the institution's role and its new key."""

    role: str
    appointees: list[str]


def handover_payload(new: str) -> HandoverJson:
    """The ``institution.key_rotated`` payload: an appointment of the institution's role."""
    return {"role": "institution", "appointees": [new]}


@dataclass(frozen=True)
class Rotation:
    """What a rotation did (nothing secret): the keys' addresses, the escrow transaction
    (None when an earlier run had sent it), the cases whose chain got the handover step,
    the cases without a chain yet, and how many stored wraps gained the new key."""

    old: str
    new: str
    tx_hash: str | None
    handed_over: tuple[str, ...]
    unfiled: tuple[str, ...]
    wraps_added: int


def rotate_institution_key(service: CaseService, new_key: str) -> Rotation:
    """Hand the institution over from the service's key to ``new_key`` (phases 1-3 of the
    module's docstring); the service keeps signing with the old key until it is rebuilt
    with the new one. Refuses a new key that is the old one or takes part in a case."""
    new = str(EthAccount.from_key(new_key).address)
    old = service.institution_address
    if new == old:
        raise RotationRefusedError("the new institution key is the current one")
    handed, unfiled = _hand_over_cases(service, old, new)
    tx_hash = None
    if service.port.institution_of(old) != new:
        tx_hash = service.port.rotate_institution_key(new)
    added = add_wraps(service.sessions, service.keys, ServiceKey.from_institution_key(new_key))
    return Rotation(old=old, new=new, tx_hash=tx_hash, handed_over=tuple(handed),
                    unfiled=tuple(unfiled), wraps_added=added)


def _case_ids(sessions: sessionmaker[Session]) -> list[str]:
    with sessions() as session:
        return list(session.exec(select(Case.id).order_by(col(Case.id))).all())


def _hand_over_cases(service: CaseService, old: str, new: str) -> tuple[list[str], list[str]]:
    """Phase 1: the handover step in every case that still names the old key, one write
    unit per case (a case handed over before is left as it is)."""
    repo, store = service.repository, service.store
    handed: list[str] = []
    unfiled: list[str] = []
    for case_id in _case_ids(service.sessions):
        now = service.now()
        with repo.write_session() as session:
            row, case = repo.load(session, case_id, lock=True)
            if old not in case.institution:
                session.rollback()
                continue
            takes_part = {case.order.buyer, case.order.seller, *case.neutrals, *case.courts}
            if new in takes_part:
                raise RotationRefusedError(f"the new institution key {new} takes part in case "
                                      f"{case_id}; use a fresh key")
            head = repo.chain_head(session, row.id)
            new_case = replace(case, institution=(case.institution - {old}) | {new})
            if head[0] == 0:  # no chain yet: its first record is the claimant's filing
                unfiled.append(case_id)
            else:
                payload = handover_payload(new)
                signed = service.institution.sign_step(row.id, head, KEY_ROTATED, payload, now)
                store.insert(session, row.id, case, signed, KEY_ROTATED, now,
                             payload=canonical_json(payload))
                new_case = replace(new_case, next_sequence=case.next_sequence + 1)
                handed.append(case_id)
            repo.save(session, row, new_case, now)
            session.commit()
    return handed, unfiled


# --- data keys at rest ---------------------------------------------------------------------


def _rewrap(text: str, change: Callable[[KeyWraps], KeyWraps]) -> str | None:
    """The wraps JSON after ``change``, or None when nothing changed."""
    wraps = KeyWraps.from_json(text)
    changed = change(wraps)
    return None if changed.stanzas == wraps.stanzas else changed.to_json().decode()


def _each_wrap(sessions: sessionmaker[Session],
               change: Callable[[KeyWraps], KeyWraps], service: bytes | None = None) -> int:
    """Apply ``change`` to every stored service wrap, in one write unit (all or none);
    ``service``: the service public key an evidence item's wraps now name."""
    count = 0
    with sessions() as session:
        begin_exclusive(session)
        for item in session.exec(select(EvidenceItem)).all():
            wk = item.wrapped_keys
            if "keywraps" in wk and (text := _rewrap(str(wk["keywraps"]), change)):
                rewrapped: WrappedKeysJson = {**wk, "keywraps": text}
                if service is not None:
                    rewrapped["service"] = "0x" + service.hex()
                item.wrapped_keys = rewrapped
                session.add(item)
                count += 1
        for detail in session.exec(select(StepDetail)).all():
            touched = False
            if detail.data_key_wraps and (text := _rewrap(detail.data_key_wraps, change)):
                detail.data_key_wraps = text
                count += 1
                touched = True
            attachments = [dict(a) for a in detail.attachments]
            for att in attachments:
                if "keywraps" in att and (text := _rewrap(str(att["keywraps"]), change)):
                    att["keywraps"] = text
                    count += 1
                    touched = True
            if touched:
                detail.attachments = attachments  # a new list: the JSON column sees it
                session.add(detail)
        session.commit()
    return count


def add_wraps(sessions: sessionmaker[Session], old: ServiceKey, new: ServiceKey) -> int:
    """Phase 3: every wrap the old service key opens gains one for the new key (the data
    key is unwrapped in memory only); returns the number of wraps changed."""
    def change(wraps: KeyWraps) -> KeyWraps:
        if old.public not in wraps.recipients():
            return wraps
        return wraps.add(wraps.unwrap(old.private), new.public)
    return _each_wrap(sessions, change, service=new.public)


def drop_old_wraps(sessions: sessionmaker[Session], current: ServiceKey,
                   retired: Iterable[bytes]) -> int:
    """After the switch: remove the wraps of retired service keys (X25519 public keys)
    wherever the current key has one, so a leaked old key opens nothing stored."""
    gone = set(retired) - {current.public}

    def change(wraps: KeyWraps) -> KeyWraps:
        if current.public not in wraps.recipients():
            return wraps
        kept = tuple(s for s in wraps.stanzas if s[:32] not in gone)
        return KeyWraps(wraps.header_hash, kept)
    return _each_wrap(sessions, change)
