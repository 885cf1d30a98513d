"""The package's log section (`proofs/log.json`): what it holds and how a court checks it.

Theory of operation (docs/log.md, docs/judicial-package.md §4b):

* The institution appends every record it accepts to one append-only log (RFC 9162
  hashing) and signs checkpoints of it; each checkpoint rides in an anchored batch as one
  StandardMerkleTree leaf. A package cites some of those checkpoints and proves, with the
  primitives of `evidence.log` only (no Merkle code here):
  1. each cited checkpoint is signed by a key of the institution and anchored (its leaf is
     proven into a root that `proofs/anchors.json` lists and the `anchors` check proves);
  2. consecutive cited checkpoints are consistent (the log only grew between them);
  3. each record is the entry at its index under a cited checkpoint;
  4. every entry from a checkpoint at or before the case's first record up to the last
     cited checkpoint (a compact range and the entries) recomputes that checkpoint's root,
     and the entries that name the case are exactly the package's records, at their
     indices: none dropped, altered, inserted or reordered.
* Receipts a party holds (`--receipts DIR`) are the institution's own signed promises:
  one of this case that the package does not match (a record missing, another record at
  its index, a checkpoint of the receipt with a root the package's range denies) fails,
  naming the record.
* Pure: bytes and parsed JSON in, problems (strings naming the record) out.
"""

from __future__ import annotations

import itertools
from collections.abc import Collection, Mapping, Sequence
from dataclasses import dataclass
from typing import Any, NotRequired, Protocol, TypedDict

from evidence.errors import EvidenceError
from evidence.judicial import _format as fmt
from evidence.judicial import _logapi as api
from evidence.judicial.inputs import (
    LogCaseIndex,
    LogCheckpoint,
    LogConsistency,
    LogInclusion,
    LogInputs,
    LogRange,
)
from evidence.receipts import HeldReceipt
from evidence.records import ChainedRecord, SignedRecord
from evidence.safejson import JSON, JsonObject

__all__ = [
    "Cited",
    "HeldReceipt",
    "LogJson",
    "LogSection",
    "check_checkpoints",
    "check_completeness",
    "check_consistency",
    "check_inclusion",
    "check_receipts",
    "entry_names",
    "gather",
    "log_json",
    "read_section",
]

MAX_RANGE = 500_000
"""Most entries a package's completeness range may list (about 33 MB of hex): a bound on
what a court's verifier reads; a busier log needs the per-case index of docs/log.md."""


BACKFILL = "backfill"
"""The entry kind of a record accepted before the log began, appended by the backfill."""


MAX_CHECKPOINTS = 4096
"""Most checkpoints a package may cite (each costs a signature recovery per check)."""


class SectionError(EvidenceError):
    """`proofs/log.json` is malformed (the message names the member)."""


@dataclass(frozen=True)
class Cited:
    """A cited checkpoint: its signed note and what it says, and its anchoring proof."""

    note: bytes
    origin: str
    size: int
    root: bytes
    signer: str
    anchor: JsonObject  # as the package states it: check_checkpoints judges it


@dataclass(frozen=True)
class Inclusion:
    record_hash: bytes
    index: int
    entry: bytes
    size: int
    proof: tuple[bytes, ...]


@dataclass(frozen=True)
class LogSection:
    origin: str
    notes: tuple[tuple[bytes, JsonObject], ...]  # (signed note, its anchor as stated)
    inclusions: tuple[Inclusion, ...]
    consistency: tuple[tuple[int, int, tuple[bytes, ...]], ...]
    start: int
    end: int
    frontier: tuple[bytes, ...]
    entries: tuple[bytes, ...]
    case_index: CaseIndexSection | None = None


@dataclass(frozen=True)
class CaseIndexSection:
    """`proofs/log.json` "caseIndex": the case's head in the index of checkpoint `size`."""

    size: int
    count: int
    position: int
    head: bytes
    proof: tuple[bytes, ...]


def _int(v: object, what: str) -> int:
    if not isinstance(v, str) or not v.isdigit() or len(v) > 20:
        raise SectionError(f"{fmt.LOG}: {what}: expected a decimal string, found {v!r}")
    return int(v)


def _hexes(v: object, what: str, size: int | None = 32) -> tuple[bytes, ...]:
    if not isinstance(v, list):
        raise SectionError(f"{fmt.LOG}: {what}: expected a list")
    return tuple(fmt.from_hex(x, what, size) for x in v)


def _listed(v: JSON) -> list[JSON]:
    """``list(v)`` of a JSON value, as Python makes it (a string's characters, an object's
    member names) and with the TypeError it raises for a value it cannot iterate."""
    if isinstance(v, list | str | dict):
        return [*v]
    raise TypeError(f"{type(v).__name__!r} object is not iterable")


def read_section(data: object) -> LogSection:
    """Parse `proofs/log.json` (shape only; the checks below judge the content)."""
    if not isinstance(data, dict):
        raise SectionError(f"{fmt.LOG}: expected an object")
    try:
        origin = data["origin"]
        if not isinstance(origin, str) or not origin:
            raise SectionError(f"{fmt.LOG}: origin: expected a non-empty string")
        notes = []
        if len(data["checkpoints"]) > MAX_CHECKPOINTS:
            raise SectionError(f"{fmt.LOG}: more than {MAX_CHECKPOINTS} checkpoints")
        for n, c in enumerate(data["checkpoints"], 1):
            if not isinstance(c, dict) or not isinstance(c.get("note"), str) \
                    or not isinstance(c.get("anchor"), dict):
                raise SectionError(f"{fmt.LOG}: checkpoint {n}: expected {{note, anchor}}")
            notes.append((c["note"].encode(), c["anchor"]))
        inclusions = tuple(
            Inclusion(fmt.from_hex(i["recordHash"], "recordHash", 32),
                      _int(i["index"], "index"), fmt.from_hex(i["entry"], "entry"),
                      _int(i["size"], "size"), _hexes(i["proof"], "proof"))
            for i in data["records"])
        consistency = tuple((_int(c["from"], "from"), _int(c["to"], "to"),
                             _hexes(c["proof"], "proof")) for c in data["consistency"])
        rng = data["range"]
        entries = rng["entries"]
        if not isinstance(entries, list) or len(entries) > MAX_RANGE:
            raise SectionError(f"{fmt.LOG}: range.entries: expected a list of at most "
                               f"{MAX_RANGE}")
        index = data.get("caseIndex")
        case_index = None
        if index is not None:
            if not isinstance(index, dict):
                raise SectionError(f"{fmt.LOG}: caseIndex: expected an object")
            case_index = CaseIndexSection(
                _int(index["size"], "caseIndex.size"), _int(index["count"], "caseIndex.count"),
                _int(index["position"], "caseIndex.position"),
                fmt.from_hex(index["head"], "caseIndex.head", 80),
                _hexes(index["proof"], "caseIndex.proof"))
        return LogSection(origin, tuple(notes), inclusions, consistency,
                          _int(rng["from"], "range.from"), _int(rng["to"], "range.to"),
                          _hexes(rng["frontier"], "range.frontier"),
                          _hexes(entries, "range.entries", None), case_index)
    except (KeyError, TypeError) as exc:
        raise SectionError(f"{fmt.LOG}: malformed ({type(exc).__name__}: {exc})") from exc


# -- what the builder writes ---------------------------------------------------------------


class LogAnchorJson(TypedDict):
    """Where a checkpoint's leaf was anchored: the batch's root and the leaf's proof."""

    recordHash: str
    root: str
    leafEncoding: list[str]
    value: list[Any]  # the leaf's values, as its encoding's types (MerkleLeafProof.value)
    proof: list[str]


class LogCheckpointJson(TypedDict):
    """A signed checkpoint note the package cites, with its anchor."""

    note: str
    anchor: LogAnchorJson


class LogRecordJson(TypedDict):
    """A record's entry in the log and its inclusion proof (numbers as decimal strings)."""

    recordHash: str
    index: str
    entry: str
    size: str
    proof: list[str]


class LogCaseIndexJson(TypedDict):
    """The case's head in the last cited checkpoint's per-case index (docs/log.md §14)."""

    size: str
    count: str
    position: str
    head: str
    proof: list[str]


# "from" is a Python keyword, hence the functional forms
LogConsistencyJson = TypedDict("LogConsistencyJson",
                               {"from": str, "to": str, "proof": list[str]})
LogRangeJson = TypedDict("LogRangeJson", {"from": str, "to": str, "frontier": list[str],
                                          "entries": list[str]})


class LogJson(TypedDict):
    """`proofs/log.json`, the package's log section (docs/judicial-package.md)."""

    origin: str
    checkpoints: list[LogCheckpointJson]
    records: list[LogRecordJson]
    consistency: list[LogConsistencyJson]
    range: LogRangeJson
    caseIndex: NotRequired[LogCaseIndexJson]


def log_json(log: LogInputs) -> LogJson:
    """`proofs/log.json` from `inputs.LogInputs` (sorted, so the bytes are deterministic)."""
    doc: LogJson = {
        "origin": log.origin,
        "checkpoints": [
            {"note": c.note.decode(),
             "anchor": {"recordHash": fmt.hex0x(c.anchor.record_hash),
                        "root": fmt.hex0x(c.anchor.root),
                        "leafEncoding": list(c.anchor.encoding),
                        "value": list(c.anchor.value),
                        "proof": [fmt.hex0x(n) for n in c.anchor.proof]}}
            for c in log.checkpoints],
        "records": [
            {"recordHash": fmt.hex0x(i.record_hash), "index": str(i.index),
             "entry": fmt.hex0x(i.entry), "size": str(i.size),
             "proof": [fmt.hex0x(n) for n in i.proof]}
            for i in sorted(log.inclusions, key=lambda i: i.index)],
        "consistency": [
            {"from": str(c.old), "to": str(c.new), "proof": [fmt.hex0x(n) for n in c.proof]}
            for c in sorted(log.consistency, key=lambda c: (c.old, c.new))],
        "range": {"from": str(log.range.start), "to": str(log.range.end),
                  "frontier": [fmt.hex0x(n) for n in log.range.frontier],
                  "entries": [fmt.hex0x(e) for e in log.range.entries]},
    }
    if log.case_index is not None:
        doc["caseIndex"] = {
            "size": str(log.case_index.size), "count": str(log.case_index.count),
            "position": str(log.case_index.position),
            "head": fmt.hex0x(log.case_index.head),
            "proof": [fmt.hex0x(n) for n in log.case_index.proof]}
    return doc


# -- naming records and entries --------------------------------------------------------------


def entry_names(signed: SignedRecord) -> set[bytes]:
    """The record hashes a log entry may carry for this record: its EIP-712 digest (a
    LogEntry holds the values of the record's anchored leaf, docs/log.md)."""
    return {signed.record_hash}


def record_name(signed: SignedRecord) -> str:
    rec = signed.record
    if isinstance(rec, ChainedRecord):
        action = getattr(rec, "action", None)
        return (f"step {rec.sequence} ({rec.TYPE_NAME}{' ' + action if action else ''}, "
                f"0x{signed.record_hash.hex()[:16]}…)")
    return f"{rec.TYPE_NAME} 0x{signed.record_hash.hex()[:16]}…"


# -- the checks ------------------------------------------------------------------------------


Problems = list[str]


def cited_checkpoints(section: LogSection, keys: Sequence[str]) -> tuple[dict[int, Cited],
                                                                         Problems]:
    """Each note opened with the institution's keys; problems for a forged or foreign one,
    and for two notes of one size with different roots (a split view, signed twice)."""
    cited: dict[int, Cited] = {}
    problems: Problems = []
    for note, anchor in section.notes:
        try:
            cp = api.open_checkpoint(note, keys)
        except EvidenceError as exc:
            problems.append(f"checkpoint {api.note_headline(note)}: refused ({exc})")
            continue
        if cp.origin != section.origin:
            problems.append(f"checkpoint of size {cp.size}: origin {cp.origin!r}, the package's "
                            f"log is {section.origin!r}")
            continue
        prior = cited.get(cp.size)
        if prior is not None and prior.root != cp.root:
            problems.append(
                f"two checkpoints of size {cp.size} signed by the institution with different "
                f"roots 0x{prior.root.hex()[:16]}… and 0x{cp.root.hex()[:16]}…: the log was "
                "shown two ways (split view)")
            continue
        cited[cp.size] = Cited(note, cp.origin, cp.size, cp.root, cp.signer, anchor)
    return cited, problems


def check_checkpoints(section: LogSection, keys: Sequence[str],
                      anchored_roots: set[bytes]) -> tuple[Problems, list[str]]:
    """Every cited checkpoint is signed by the institution and anchored: its note's leaf
    (`evidence.log` checkpoint leaf) is proven into a root `proofs/anchors.json` lists."""
    cited, problems = cited_checkpoints(section, keys)
    details = []
    for size, c in sorted(cited.items()):
        a = c.anchor
        try:
            encoding, value = api.checkpoint_leaf(c.note)
            if _listed(a.get("leafEncoding", [])) != list(encoding) or \
                    [str(v).lower() for v in _listed(a.get("value", []))] != \
                    [str(v).lower() for v in value]:
                raise SectionError("its anchored leaf is not this note's leaf")
            root = fmt.from_hex(a.get("root"), "anchor.root", 32)
            proof = [fmt.from_hex(n, "anchor.proof", 32) for n in _listed(a.get("proof", []))]
            if not api.oz_leaf_proven(encoding, value, proof, root):
                raise SectionError(f"its leaf's proof does not lead to root 0x{root.hex()}")
            if root not in anchored_roots:
                raise SectionError(f"root 0x{root.hex()} is not among the anchors")
        except (EvidenceError, TypeError, ValueError) as exc:
            problems.append(f"checkpoint of size {size}: not anchored ({exc})")
            continue
        details.append(f"checkpoint size {size} root 0x{c.root.hex()[:16]}… signed by "
                       f"{c.signer}, anchored in root 0x{root.hex()[:16]}…")
    if not cited and not problems:
        problems.append(f"{fmt.LOG} cites no checkpoint")
    return problems, details


def check_consistency(section: LogSection, keys: Sequence[str]) -> tuple[Problems, list[str]]:
    """Each cited checkpoint is consistent with the next larger one (RFC 9162 §2.1.4)."""
    cited, problems = cited_checkpoints(section, keys)
    proofs = {(old, new): proof for old, new, proof in section.consistency}
    sizes = sorted(cited)
    details = []
    for old, new in itertools.pairwise(sizes):
        proof = proofs.get((old, new))
        if proof is None:
            problems.append(f"no consistency proof from the checkpoint of size {old} to that "
                            f"of size {new}")
            continue
        if not api.consistency_ok(old, new, proof, cited[old].root, cited[new].root):
            problems.append(f"the checkpoint of size {new} is not consistent with that of size "
                            f"{old}: the log was rewritten between them")
            continue
        details.append(f"size {old} -> {new}: consistent")
    return problems, details


def _inclusions_by_record(section: LogSection) -> dict[bytes, list[Inclusion]]:
    out: dict[bytes, list[Inclusion]] = {}
    for inc in section.inclusions:
        out.setdefault(inc.record_hash, []).append(inc)
    return out


def check_inclusion(section: LogSection, keys: Sequence[str], case_id: bytes,
                    chained: Sequence[SignedRecord],
                    unchained: Sequence[SignedRecord],
                    extra: Mapping[bytes, str] | None = None) -> tuple[Problems, int]:
    """Each chained record (and each escrow record the log holds) is the entry at its index
    under a cited checkpoint; the chained records' indices rise with their sequence (the
    log's order is the order the service accepted them), except a record the backfill
    appended late (kind ``backfill``: accepted before the log began, docs/log.md §12).
    `extra` names records carried outside the record files by their entry's record hash
    (performance evidence: ``performance_names``); each entry the log holds for one is
    checked like an escrow record's."""
    cited, problems = cited_checkpoints(section, keys)
    by_record = _inclusions_by_record(section)
    last_index, last_name = -1, ""
    proven = 0
    for signed, required in [*((s, True) for s in chained), *((s, False) for s in unchained)]:
        name = record_name(signed)
        incs = by_record.get(signed.record_hash, [])
        if not incs:
            if required:
                problems.append(f"{name}: no inclusion proof in the log")
            continue
        bad = [p for inc in incs
               if (p := _included(inc, entry_names(signed), name, case_id, cited))]
        problems += bad
        if bad:
            continue
        proven += 1
        inc = min(incs, key=lambda i: i.index)  # where the service first accepted it
        if required and api.decode_entry(inc.entry).kind == BACKFILL:
            continue  # accepted before the log began: its batch's anchor dates it
        if required:
            if inc.index <= last_index:
                problems.append(f"{name}: at log index {inc.index}, not after {last_name} "
                                f"(index {last_index}): reordered")
            last_index, last_name = inc.index, name
    for value, name in (extra or {}).items():
        incs = by_record.get(value, [])
        bad = [p for inc in incs if (p := _included(inc, {value}, name, case_id, cited))]
        problems += bad
        if incs and not bad:
            proven += 1
    return problems, proven


def _included(inc: Inclusion, names: Collection[bytes], name: str, case_id: bytes,
              cited: Mapping[int, Cited]) -> str | None:
    """Why `inc` does not prove `signed` in the log (None when it does)."""
    try:
        entry = api.decode_entry(inc.entry)
    except EvidenceError as exc:
        return f"{name}: its log entry at index {inc.index} is unreadable ({exc})"
    if entry.case_id != case_id or entry.record_hash not in names:
        return (f"{name}: the log entry at index {inc.index} names case "
                f"0x{entry.case_id.hex()[:16]}… record 0x{entry.record_hash.hex()}, not this "
                "record (altered?)")
    cp = cited.get(inc.size)
    if cp is None:
        return (f"{name}: its proof leads to a checkpoint of size {inc.size} the package does "
                "not cite")
    if not api.inclusion_ok(inc.entry, inc.index, inc.size, inc.proof, cp.root):
        return (f"{name}: not the entry at index {inc.index} of the log of size {inc.size} "
                "(the inclusion proof fails)")
    return None


def check_completeness(section: LogSection, keys: Sequence[str], case_id: bytes,
                       chained: Sequence[SignedRecord],
                       unchained: Sequence[SignedRecord],
                       extra: Mapping[bytes, str] | None = None) -> tuple[Problems, str]:
    """The range recomputes its end checkpoint's root from its start's compact range, and
    the case's entries in it are exactly the package's records at their indices. With a
    case index (docs/log.md §14) the last cited checkpoint's signed index names the case's
    head instead, and the package's entries of the case must recompute it. `extra` names
    the records carried outside the record files (``check_inclusion``)."""
    cited, problems = cited_checkpoints(section, keys)
    if section.case_index is not None:
        return _complete_by_index(section, cited, problems, case_id, [*chained, *unchained],
                                  extra or {})
    start, end = cited.get(section.start), cited.get(section.end)
    if start is None and section.start == 0:  # the empty tree: nothing to sign or anchor
        start = Cited(b"", section.origin, 0, api.frontier_root((), 0), "", {})
    if start is None or end is None:
        return [*problems, f"the completeness range {section.start}..{section.end} does not "
                           "run between two cited checkpoints"], ""
    if end.size != max(cited) or end.size - start.size != len(section.entries):
        return [*problems, f"the completeness range must end at the last cited checkpoint "
                           f"({max(cited)}) and list its {end.size - start.size} entries; it "
                           f"lists {len(section.entries)}"], ""
    try:
        if api.frontier_root(section.frontier, start.size) != start.root:
            return [*problems, f"the compact range given for size {start.size} is not that "
                               "checkpoint's tree"], ""
        if api.root_after(section.frontier, start.size, section.entries) != end.root:
            return [*problems, f"the {len(section.entries)} entries from {start.size} do not "
                               f"recompute the checkpoint of size {end.size}: an entry was "
                               "dropped, altered or reordered"], ""
    except EvidenceError as exc:
        return [*problems, f"the completeness range cannot be recomputed ({exc})"], ""
    ours: dict[int, bytes] = {}
    for n, raw in enumerate(section.entries):
        try:
            entry = api.decode_entry(raw)
        except EvidenceError:
            continue  # another kind of entry, not this case's: the root binds it anyway
        if entry.case_id == case_id:
            ours[start.size + n] = raw
    included = {inc.index: inc for inc in section.inclusions}
    names: dict[bytes, str] = dict(extra or {})
    for signed in [*chained, *unchained]:
        for value in entry_names(signed):
            names[value] = record_name(signed)
    for index, raw in sorted(ours.items()):
        entry = api.decode_entry(raw)
        inc = included.get(index)
        if inc is None or inc.entry != raw or entry.record_hash not in names:
            problems.append(f"the log holds an entry of this case at index {index} (record "
                            f"0x{entry.record_hash.hex()}, kind {entry.kind}) that the package "
                            "does not carry: a record was left out")
    first = min((i.index for i in section.inclusions), default=None)
    if first is not None and first < start.size:
        problems.append(f"the completeness range starts at {start.size}, after the case's "
                        f"first entry (index {first})")
    for signed in chained:
        incs = [i for i in section.inclusions if i.record_hash == signed.record_hash]
        if incs and incs[0].index >= start.size and incs[0].index not in ours:
            problems.append(f"{record_name(signed)}: at index {incs[0].index}, which the log "
                            "range shows holds no entry of this case")
    return problems, (f"{len(ours)} entries of the case among {len(section.entries)} from size "
                      f"{start.size} to {end.size}, each a record of the package")


def _complete_by_index(section: LogSection, cited: Mapping[int, Cited], problems: Problems,
                       case_id: bytes, records: Sequence[SignedRecord],
                       extra: Mapping[bytes, str]) -> tuple[Problems, str]:
    """Completeness from the case's head in the signed index of the last cited checkpoint:
    the package's entries of the case below that size recompute the head's case log."""
    ci = section.case_index
    assert ci is not None
    end = cited.get(ci.size)
    if end is None or ci.size != max(cited, default=-1):
        return [*problems, f"the case index is of size {ci.size}, not the last cited "
                           "checkpoint's"], ""
    try:
        line = api.index_line(end.note)
        if line is None:
            return [*problems, f"the checkpoint of size {ci.size} names no case index"], ""
        count, root = line
        if ci.count != count:
            return [*problems, f"the case index has {count} heads, the package says "
                               f"{ci.count}"], ""
        head = api.case_head(ci.head, ci.position, count, ci.proof, root)
    except EvidenceError as exc:
        return [*problems, f"the case's head is not in the checkpoint's signed case index "
                           f"({exc})"], ""
    if head.case_id != case_id:
        return [*problems, f"the case index head names case 0x{head.case_id.hex()[:16]}…, "
                           "not this case"], ""
    names: dict[bytes, str] = dict(extra)
    for signed in records:
        for value in entry_names(signed):
            names[value] = record_name(signed)
    ours: dict[int, bytes] = {}
    for inc in section.inclusions:
        try:
            entry = api.decode_entry(inc.entry)
        except EvidenceError:
            continue
        if entry.case_id == case_id and inc.index < ci.size:
            ours[inc.index] = inc.entry
            if entry.record_hash not in names:
                problems.append(f"the log holds an entry of this case at index {inc.index} "
                                f"(record 0x{entry.record_hash.hex()}, kind {entry.kind}) "
                                "that the package does not carry")
    carried = sorted(ours.items())
    last = carried[-1][0] if carried else -1
    if len(carried) != head.size or last != head.last_index or \
            api.case_log_root(carried) != head.root:
        problems.append(
            f"the signed case index gives this case {head.size} entries up to index "
            f"{head.last_index} in the log of {ci.size}; the package's {len(carried)} entries "
            f"(up to index {last}) do not recompute its case log: a record was left out, "
            "added or moved")
    return problems, (f"{len(carried)} entries of the case in the log of {ci.size}, exactly "
                      f"those of its signed case index (head {ci.position + 1} of {ci.count})")


def check_receipts(section: LogSection, keys: Sequence[str], case_id: bytes,
                   records: Sequence[SignedRecord], receipts: Sequence[HeldReceipt],
                   extra: Mapping[bytes, str] | None = None) -> tuple[Problems, list[str]]:
    """Each receipt of this case, signed by the institution, names a record the package
    carries at the receipt's index of the same log; a receipt's checkpoint inside the
    package's range has the root the range recomputes. Receipts of other cases are listed,
    not judged; one not signed by the institution is refused (it proves nothing)."""
    problems: Problems = []
    details: list[str] = []
    cited, _ = cited_checkpoints(section, keys)
    included = {inc.index: inc for inc in section.inclusions}
    names: dict[bytes, str] = dict(extra or {})
    for signed in records:
        for value in entry_names(signed):
            names[value] = record_name(signed)
    ranged = section.start == 0 or section.start in cited  # the range recomputes roots
    proven = {inc.record_hash for inc in section.inclusions}
    for held in receipts:
        try:
            r = api.open_receipt(held.obj, keys)
        except EvidenceError as exc:
            problems.append(f"receipt {held.name}: refused, not the institution's ({exc})")
            continue
        what = (f"receipt {held.name}: record 0x{r.entry.record_hash.hex()} ({r.entry.kind}) "
                f"accepted at {r.accepted_at} as log index {r.index}")
        if r.entry.case_id != case_id:
            details.append(f"receipt {held.name}: case 0x{r.entry.case_id.hex()[:16]}…, "
                           "another case (not checked)")
            continue
        if r.origin != section.origin:
            problems.append(f"{what}: in log {r.origin!r}, but the package's log is "
                            f"{section.origin!r} (the case was shown two logs)")
            continue
        carried = names.get(r.entry.record_hash)
        inc = included.get(r.index)
        if carried is None:
            instead = ("" if inc is None else f"; at that index it cites record 0x"
                       f"{api.decode_entry(inc.entry).record_hash.hex()} instead (altered "
                       "or replaced)")
            later = ("" if r.index < section.end else f"; the package's log ends at size "
                     f"{section.end}: it was exported before this record was accepted (ask "
                     "for a package exported since)")
            problems.append(f"{what}: the package does not carry this record (omitted)"
                            f"{instead}{later}")
            continue
        if inc is None and r.index >= section.end and r.entry.record_hash not in proven:
            details.append(f"{what}: carried ({carried}); accepted after the package's last "
                           f"checkpoint (size {section.end}), so not proven in its log")
            continue
        if inc is None or inc.entry != r.entry_bytes:
            found = (f"holds 0x{api.decode_entry(inc.entry).record_hash.hex()}"
                     if inc is not None else "cites nothing")
            problems.append(f"{what}: the package's log {found} at index {r.index} "
                            f"({carried} altered or moved)")
            continue
        if r.checkpoint is not None and ranged:
            size, root = r.checkpoint
            if size in cited and cited[size].root != root:
                problems.append(f"{what}: its checkpoint of size {size} has root "
                                f"0x{root.hex()[:16]}…, the package's 0x"
                                f"{cited[size].root.hex()[:16]}… (split view)")
                continue
            if section.start <= size <= section.end:
                try:
                    want = api.root_after(section.frontier, section.start,
                                          section.entries[:size - section.start])
                except EvidenceError:
                    want = root
                if want != root:
                    problems.append(f"{what}: its checkpoint of size {size} has root "
                                    f"0x{root.hex()[:16]}…, but the package's log gives "
                                    f"0x{want.hex()[:16]}… at that size (split view)")
                    continue
        details.append(f"{what}: carried ({carried})")
    return problems, details



# -- what the service (or a test) gathers for the builder -------------------------------------


class LogTree(Protocol):
    """The proofs the builder asks of the log (`evidence.log.MerkleLog` answers them)."""

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]: ...

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]: ...

    def frontier(self, size: int | None = None) -> list[bytes]: ...


def note_size(note: bytes) -> int:
    """The tree size a signed checkpoint note states (no signature check: the builder's
    notes are the institution's own)."""
    from evidence.log import Checkpoint
    from evidence.log.note import Note

    return Checkpoint.parse_body(Note.parse(note).text).size


def gather(tree: LogTree, *, origin: str, checkpoints: Sequence[LogCheckpoint],
           records: Sequence[tuple[bytes, int, bytes]], start: int,
           entries: Sequence[bytes], case_index: LogCaseIndex | None = None) -> LogInputs:
    """`inputs.LogInputs` for a package: each entry of the case's records (record hash,
    index, encoded entry: a record appended twice, e.g. a Settlement that gained a
    signature, has two) proven to the first cited checkpoint covering it, consistency proofs between
    consecutive cited checkpoints, and the range from `start` (0 or a cited checkpoint's
    size, at or before the case's first entry) to the last cited checkpoint with its
    `entries` (the log's entries start..end-1, in order).

    Raises ValueError when a record lies beyond every checkpoint or the range is short.
    """
    by_size = sorted(((note_size(c.note), c) for c in checkpoints), key=lambda p: p[0])
    sizes = [s for s, _ in by_size]
    if not sizes:
        raise ValueError("a package's log cites at least one anchored checkpoint")
    inclusions = []
    for record_hash, index, entry in records:
        size = next((s for s in sizes if s > index), None)
        if size is None:
            raise ValueError(f"record 0x{record_hash.hex()} (log index {index}) is in no "
                             "anchored checkpoint yet")
        inclusions.append(LogInclusion(record_hash=record_hash, index=index, entry=entry,
                                       size=size, proof=tree.inclusion_proof(index, size)))
    consistency = [LogConsistency(old=a, new=b, proof=tree.consistency_proof(a, b))
                   for a, b in itertools.pairwise(sizes) if a != b]
    end = sizes[-1]
    if case_index is not None:  # the signed index proves completeness: an empty range
        start, entries = end, []
    if len(entries) != end - start:
        raise ValueError(f"the range {start}..{end} needs {end - start} entries, "
                         f"{len(entries)} given")
    return LogInputs(origin=origin, checkpoints=[c for _, c in by_size], inclusions=inclusions,
                     consistency=consistency,
                     range=LogRange(start=start, end=end, frontier=tree.frontier(start),
                                    entries=list(entries)), case_index=case_index)
