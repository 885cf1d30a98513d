"""Records accepted before the log began (revision 0009), appended late.

Rule (docs/log.md §12, "Records from before the log"): a database upgraded to 0009 holds
records anchored item by item (their `leaf` rows), identity records, performance items and
signed provenance entries that have no log entry. ``chainarb log check`` counts them;
``chainarb log check --repair`` appends each once, in the order the service accepted it
(leaves by id, identity records by id, then performance items and evidence items by id,
each item's provenance entries in their order), as an entry of kind ``backfill`` with the
record's own three hashes, at the end of the log. Why a kind of its own: the log's order
is the order of acceptance, and these were accepted before entries that precede them now.
A verifier exempts a ``backfill`` entry from the order check (its anchored batch dates
it) and from nothing else: it must be included, and a package must carry it, like any
entry of its case.

A performance item's and a provenance entry's record hash is an EIP-712 digest under the
escrow's domain, which the log alone does not hold: ``domain_for`` finds it (the
operator's, the settings', or the one the stored signed records name) and checks it
against the stored items (each performance item's case id is its order's under that
domain); none fits: ``DomainNeededError``, and the command asks for it.

Idempotent: a record whose three hashes already form an entry (under any kind) is
skipped, so running it twice, or after the service logged the record itself, appends
nothing more. It runs in the caller's write unit, after the tree is repaired (an append
needs the stored nodes).
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from datetime import datetime

from sqlmodel import Session, col, select

from backend.db.log_models import LogEntry
from backend.db.models import EvidenceItem, Leaf, Step
from backend.db.performance_models import PerformanceItem
from backend.db.service_models import IdentityRecord
from evidence.errors import EvidenceError
from evidence.judicial.provenance import performance_entry_values, provenance_entry_values
from evidence.records import Disclosure, Domain, SignedRecord

from .store import Appended, append_entry

__all__ = ["BACKFILL_KIND", "DomainNeededError", "Unlogged", "backfill", "domain_for", "unlogged"]

BACKFILL_KIND = "backfill"
_ZERO_CASE = "0x" + "00" * 32


class DomainNeededError(Exception):
    """Items need the escrow's EIP-712 domain and none of the candidates fits them."""

    def __init__(self, count: int, tried: Sequence[Domain]) -> None:
        self.count, self.tried = count, tuple(tried)
        super().__init__(f"{count} performance item(s) or provenance log(s) need the "
                         "escrow's EIP-712 domain; none known fits them")


@dataclass(frozen=True)
class Unlogged:
    """A record with no log entry: where it comes from and its entry's three values."""

    source: str  # "leaf", "identity", "performance" or "provenance"
    ref_id: int
    value: tuple[str, str, str]  # caseId, recordHash, signaturesHash (0x-hex, lower case)


def _h(b: bytes) -> str:
    return "0x" + b.hex()


def _case_of_order(domain: Domain, order_id: str) -> str:
    from backend.services.cases import case_id_for_order  # the services import this module

    return case_id_for_order(domain, int(order_id))


def _needs_domain(session: Session) -> int:
    """How many items' values need the domain (performance items, submitted evidence)."""
    perf = session.exec(select(PerformanceItem.id)).all()
    items = session.exec(select(EvidenceItem.id).where(col(EvidenceItem.record).is_not(None))
                         ).all()
    return len(perf) + len(items)


def _fits(session: Session, domain: Domain) -> bool:
    """Every performance item's case id is its order's under ``domain``."""
    rows = session.exec(select(PerformanceItem.order_id, PerformanceItem.case_id)).all()
    return all(_case_of_order(domain, o) == c.lower() for o, c in rows)


def _stored_domains(session: Session) -> Iterator[Domain]:
    """The domains the stored signed records name (a step, an identity record)."""
    for model in (Step, IdentityRecord):
        record = session.exec(select(model.record).limit(1)).first()
        if isinstance(record, dict) and "domain" in record:
            try:
                yield Domain.from_json_obj(record["domain"])
            except EvidenceError:
                continue


def domain_for(session: Session, candidates: Sequence[Domain | None] = ()) -> Domain | None:
    """The escrow's domain for the items' values: the first of ``candidates`` (the
    operator's, then the settings') or of the stored records' that fits every stored
    performance item; None when nothing needs one. Raises ``DomainNeededError``."""
    count = _needs_domain(session)
    if count == 0:
        return None
    tried: list[Domain] = []
    for domain in [*(d for d in candidates if d is not None), *_stored_domains(session)]:
        if domain in tried:
            continue
        tried.append(domain)
        if _fits(session, domain):
            return domain
    raise DomainNeededError(count, tried)


def _logged(session: Session) -> set[tuple[str, str, str]]:
    rows = session.exec(select(LogEntry.case_id, LogEntry.record_hash,
                               LogEntry.signatures_hash)).all()
    return {(c.lower(), r.lower(), s.lower()) for c, r, s in rows}


def _candidates(session: Session, domain: Domain | None) -> Iterator[Unlogged]:
    for leaf in session.exec(select(Leaf).order_by(col(Leaf.id))).all():
        v = [str(x).lower() for x in leaf.value]
        yield Unlogged("leaf", leaf.id or 0, (v[0], v[1], v[2]))
    for row in session.exec(select(IdentityRecord).order_by(col(IdentityRecord.id))).all():
        signed = SignedRecord.from_json_obj(row.record)
        rec = signed.record
        case = "0x" + rec.case_id.hex() if isinstance(rec, Disclosure) else _ZERO_CASE
        yield Unlogged("identity", row.id or 0, (case, _h(signed.record_hash),
                                                 _h(signed.signatures_hash)))
    if domain is None:
        return
    for item in session.exec(select(PerformanceItem).order_by(col(PerformanceItem.id))).all():
        case = item.case_id.lower()
        record, sigs = performance_entry_values(item.provenance, domain)
        yield Unlogged("performance", item.id or 0, (case, _h(record), _h(sigs)))
        for record, sigs in provenance_entry_values(item.provenance, domain, performance=True):
            yield Unlogged("provenance", item.id or 0, (case, _h(record), _h(sigs)))
    for ev in session.exec(select(EvidenceItem).where(col(EvidenceItem.record).is_not(None))
                           .order_by(col(EvidenceItem.id))).all():
        for record, sigs in provenance_entry_values(ev.provenance, domain):
            yield Unlogged("provenance", ev.id or 0, (ev.case_id.lower(), _h(record),
                                                      _h(sigs)))


def unlogged(session: Session, domain: Domain | None = None) -> list[Unlogged]:
    """Every record (anchored leaf, identity record, and with the escrow's ``domain`` every
    performance item and provenance entry) with no entry, in acceptance order."""
    have = _logged(session)
    out = []
    for found in _candidates(session, domain):
        if found.value not in have:
            have.add(found.value)
            out.append(found)
    return out


def backfill(session: Session, now: datetime, domain: Domain | None = None) -> list[Appended]:
    """Append an entry of kind ``backfill`` for every record ``unlogged`` finds (in the
    caller's write unit)."""
    return [append_entry(session, kind=BACKFILL_KIND, case_id=u.value[0], value=u.value,
                         ref_id=u.ref_id, now=now) for u in unlogged(session, domain)]
