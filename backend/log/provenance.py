"""Provenance entries in the institution's log (kind ``provenance``, docs/log.md §12).

Rule: every provenance entry the service signs for an item (evidence or performance,
``backend.services.provenance``) is appended to the log as an entry of its own, in the
write unit that stores it, with the entry's three values (the item's case, the entry's
EIP-712 digest, keccak256 of its signature). Two exceptions, both decisions of docs/log.md:

* a staged upload is not in the record: its entries (``upload.received`` …
  ``ipfs.stored``) enter the log with its submission, in the step's transaction, before
  ``record.signed``;
* a performance item's first entry (``performance.captured``) is its ``performance``
  entry already: its provenance entries start at the second.

``logged_entries`` finds an item's provenance entries again (the receipts of an answer).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import datetime

from sqlmodel import Session, col, select

from backend.db.log_models import LogEntry
from evidence.judicial.provenance import provenance_entry_values
from evidence.log.entry import LogEntry as EncodedEntry
from evidence.records import Domain
from evidence.safejson import JSON

from .store import Appended, append_entry

__all__ = ["PROVENANCE_KIND", "log_provenance", "logged_entries"]

PROVENANCE_KIND = "provenance"


def _h(b: bytes) -> str:
    return "0x" + b.hex()


def log_provenance(session: Session, *, case_id: str, entries: Sequence[Mapping[str, JSON]],
                   logged: int, domain: Domain, ref_id: int | None,
                   now: datetime) -> list[Appended]:
    """Append the item's provenance entries from position ``logged`` on (those before are
    in the log already; one the log holds anyway, e.g. a binding redone for a row of an
    older version, is not appended twice), in the caller's write unit."""
    values = [(_h(r), _h(g)) for r, g in provenance_entry_values(entries[logged:], domain)]
    have = set(session.exec(select(LogEntry.record_hash).where(
        col(LogEntry.case_id) == case_id,
        col(LogEntry.record_hash).in_([r for r, _ in values]))).all()) if values else set()
    return [append_entry(session, kind=PROVENANCE_KIND, case_id=case_id,
                         value=(case_id, record_hash, signatures_hash), ref_id=ref_id, now=now)
            for record_hash, signatures_hash in values if record_hash not in have]


def logged_entries(session: Session, case_id: str, entries: Sequence[Mapping[str, JSON]],
             domain: Domain) -> list[Appended]:
    """The log's ``provenance`` entries of these signed entries (those it holds), in
    index order: what an answer's receipts name."""
    hashes = [_h(r) for r, _ in provenance_entry_values(entries, domain)]
    rows = session.exec(select(LogEntry).where(
        col(LogEntry.case_id) == case_id, col(LogEntry.kind) == PROVENANCE_KIND,
        col(LogEntry.record_hash).in_(hashes)).order_by(col(LogEntry.idx))).all()
    return [Appended(r.idx, EncodedEntry.decode(bytes.fromhex(r.entry[2:])), r.accepted_at)
            for r in rows]
