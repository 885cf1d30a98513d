"""Records accepted before the log began (revision 0009), appended late.

Rule (docs/log.md §12, "Records from before the log"): a database upgraded to 0009 holds
records anchored item by item (their `leaf` rows) and identity records that have no log
entry. ``chainarb log check`` counts them; ``chainarb log check --repair`` appends each
once, in the order the service accepted it (leaves by id, then identity records by id),
as an entry of kind ``backfill`` with the record's own three hashes, at the end of the log.
Why a kind of its own: the log's order is the order of acceptance, and these were
accepted before entries that precede them now. A verifier exempts a ``backfill`` entry
from the order check (its anchored batch dates it) and from nothing else: it must be
included, and a package must carry it, like any entry of its case.

Idempotent: a record whose three hashes already form an entry (under any kind) is
skipped, so running it twice, or after the service logged the record itself, appends
nothing more. It runs in the caller's write unit, after the tree is repaired (an append
needs the stored nodes).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from backend.db.log_models import LogEntry
from backend.db.models import Leaf
from backend.db.service_models import IdentityRecord
from evidence.records import Disclosure, SignedRecord

from .store import Appended, append_entry

__all__ = ["BACKFILL_KIND", "Unlogged", "backfill", "unlogged"]

BACKFILL_KIND = "backfill"
_ZERO_CASE = "0x" + "00" * 32


@dataclass(frozen=True)
class Unlogged:
    """A record with no log entry: where it comes from and its entry's three values."""

    source: str  # "leaf" or "identity"
    ref_id: int
    value: tuple[str, str, str]  # caseId, recordHash, signaturesHash (0x-hex, lower case)


def _logged(session: Session) -> set[tuple[str, str, str]]:
    rows = session.exec(select(LogEntry.case_id, LogEntry.record_hash,
                               LogEntry.signatures_hash)).all()
    return {(c.lower(), r.lower(), s.lower()) for c, r, s in rows}


def _candidates(session: Session) -> Iterator[Unlogged]:
    for leaf in session.exec(select(Leaf).order_by(col(Leaf.id))).all():
        v = [str(x).lower() for x in leaf.value]
        yield Unlogged("leaf", leaf.id or 0, (v[0], v[1], v[2]))
    for row in session.exec(select(IdentityRecord).order_by(col(IdentityRecord.id))).all():
        signed = SignedRecord.from_json_obj(row.record)
        rec = signed.record
        case = "0x" + rec.case_id.hex() if isinstance(rec, Disclosure) else _ZERO_CASE
        yield Unlogged("identity", row.id or 0, (case, "0x" + signed.record_hash.hex(),
                                                 "0x" + signed.signatures_hash.hex()))


def unlogged(session: Session) -> list[Unlogged]:
    """Every record (anchored leaf or identity record) with no entry, in acceptance order."""
    have = _logged(session)
    out = []
    for found in _candidates(session):
        if found.value not in have:
            have.add(found.value)
            out.append(found)
    return out


def backfill(session: Session, now: datetime) -> list[Appended]:
    """Append an entry of kind ``backfill`` for every record ``unlogged`` finds (in the
    caller's write unit)."""
    return [append_entry(session, kind=BACKFILL_KIND, case_id=u.value[0], value=u.value,
                         ref_id=u.ref_id, now=now) for u in unlogged(session)]
