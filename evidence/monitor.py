"""`chainarb monitor`: follow the institution's log for one case and raise the alarm.

Theory of operation (docs/log.md, "The monitor"):

* A log only protects those who look. The monitor is what a party (or anyone) runs: it
  fetches the log's latest signed checkpoint and its anchored checkpoints, checks that
  each new one is consistent with the last one it saw (a consistency proof, RFC 9162), and
  that the anchored ones are anchored (on the chain, by the institution's key, when it is
  given a chain). A service that shows two parties two different logs (a split view) can
  keep each view consistent on its own, but not with the checkpoints it anchored on a
  public chain, nor with the receipts it signed for the other view: the monitor checks
  both, and every receipt it holds must be included under the latest checkpoint.
* It remembers only a small JSON state (last checkpoint, last anchored checkpoint, the
  case's records seen, the receipts proven), so it runs from cron: each run reads the
  state, fetches, checks, reports, writes the new state — and writes nothing new when it
  found an inconsistency, so the next run alarms again.
* Every case a key may see (`--all`): `run_all` runs `run_once` for each case the service
  lists for the signed-in key, all kept in one state file (`MonitorAll`); a case seen
  before that the service no longer lists is kept and reported, never dropped (its state
  is evidence).
* Core and edge: `run_once` takes the service as a `LogService` port (the HTTP client is
  `evidence._monitor_http`; tests give an in-memory one) and the time as an argument.
  Findings are data (a key and values); the CLI words them in English or Chinese.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from enum import StrEnum
from pathlib import Path
from typing import Protocol, TypedDict

from evidence import safejson
from evidence.errors import EvidenceError, FormatError
from evidence.judicial import _logapi as api
from evidence.receipts import HeldReceipt
from evidence.safejson import JsonObject

__all__ = [
    "ALL_FORMAT",
    "STATE_FORMAT",
    "AnchoredCheckpoint",
    "Finding",
    "Level",
    "LogService",
    "MonitorAll",
    "MonitorAllJson",
    "MonitorState",
    "MonitorStateJson",
    "load_all",
    "load_state",
    "run_all",
    "run_once",
    "save_all",
    "save_state",
]

STATE_FORMAT = "chainarb.monitor-state"
STATE_VERSION = 1
ALL_FORMAT = "chainarb.monitor-all"
ALL_VERSION = 1
MAX_CASES = 10_000
MAX_STATE_BYTES = 4 << 20
DEFAULT_WARN_SECONDS = 48 * 3600
OVERDUE_SECONDS = 24 * 3600
"""A receipt not yet under any checkpoint this long after acceptance is reported: the
service anchors every round (minutes), so a day means it withholds the record's checkpoint."""


class Level(StrEnum):
    OK = "ok"
    INFO = "info"
    WARN = "warn"  # a deadline approaches
    ALARM = "alarm"  # an inconsistency: exit non-zero


@dataclass(frozen=True)
class Finding:
    """One thing the run found: `key` names its message (the CLI's catalog), `values` fill
    it."""

    level: Level
    key: str
    values: JsonObject = field(default_factory=dict)


@dataclass(frozen=True)
class AnchoredCheckpoint:
    """A checkpoint the service says it anchored: the note, the batch that carries it
    (`root`, and `proof` of its leaf) and where that batch was anchored (chain, tx)."""

    note: bytes
    anchors: tuple[JsonObject, ...] = ()  # the service's rows (GET /log/checkpoints)
    batch: JsonObject = field(default_factory=dict)


class LogService(Protocol):
    """What the monitor asks the service (GET /log/...; docs/api.md)."""

    def checkpoint(self) -> bytes: ...

    def anchored(self) -> list[AnchoredCheckpoint]: ...

    def consistency(self, old: int, new: int) -> list[bytes]: ...

    def inclusion(self, index: int, size: int) -> list[bytes]: ...

    def entries(self, start: int, end: int) -> list[bytes]: ...

    def case_view(self, case_id: str) -> JsonObject | None: ...


AnchorCheck = Callable[[AnchoredCheckpoint, Sequence[str]], str | None]
"""Confirms on a chain that a checkpoint was anchored by the institution: None when it
was, else why not (`evidence._monitor_http.chain_anchor_check`)."""


class StateCheckpointJson(TypedDict):
    """The last checkpoint the monitor verified (size a decimal string)."""

    size: str
    root: str | None
    note: str | None


class StateAnchoredJson(TypedDict):
    """The last anchored checkpoint the monitor confirmed."""

    size: str
    root: str | None


class StateRecordJson(TypedDict):
    """One of the case's records the monitor saw in the log, at its index."""

    index: str
    recordHash: str


class MonitorStateJson(TypedDict):
    """The monitor's state file (``MonitorState.to_json_obj``)."""

    format: str
    version: int
    service: str
    case: str
    origin: str | None
    institution: list[str]
    checkpoint: StateCheckpointJson | None
    anchored: StateAnchoredJson | None
    records: list[StateRecordJson]
    receipts: list[str]
    checkedAt: str | None


class MonitorAllJson(TypedDict):
    """The state file of ``monitor --all``: one state per case."""

    format: str
    version: int
    service: str
    cases: list[MonitorStateJson]


@dataclass(frozen=True)
class MonitorState:
    """What the monitor remembers between runs (the state file)."""

    service: str
    case_id: str
    origin: str | None = None
    institution: tuple[str, ...] = ()
    size: int | None = None
    root: bytes | None = None
    note: bytes | None = None
    anchored_size: int | None = None
    anchored_root: bytes | None = None
    records: tuple[tuple[int, str], ...] = ()  # (log index, record hash hex) of the case
    receipts: tuple[str, ...] = ()  # receipt files proven included
    checked_at: str | None = None

    def to_json_obj(self) -> MonitorStateJson:
        def hx(b: bytes | None) -> str | None:
            return "0x" + b.hex() if b is not None else None

        return {
            "format": STATE_FORMAT, "version": STATE_VERSION, "service": self.service,
            "case": self.case_id, "origin": self.origin,
            "institution": list(self.institution),
            "checkpoint": None if self.size is None else {
                "size": str(self.size), "root": hx(self.root),
                "note": self.note.decode() if self.note else None},
            "anchored": None if self.anchored_size is None else {
                "size": str(self.anchored_size), "root": hx(self.anchored_root)},
            "records": [{"index": str(i), "recordHash": h} for i, h in self.records],
            "receipts": list(self.receipts),
            "checkedAt": self.checked_at,
        }

    @classmethod
    def from_json_obj(cls, obj: object) -> MonitorState:
        if not isinstance(obj, dict) or obj.get("format") != STATE_FORMAT:
            raise FormatError(f"not a monitor state file (format {STATE_FORMAT!r})")
        if obj.get("version") != STATE_VERSION:
            raise FormatError(f"monitor state version {obj.get('version')!r}; this monitor "
                              f"reads version {STATE_VERSION}")
        try:
            cp = obj.get("checkpoint")
            an = obj.get("anchored")
            return cls(
                service=str(obj["service"]), case_id=str(obj["case"]).lower(),
                origin=obj.get("origin"),
                institution=tuple(str(a) for a in obj.get("institution", [])),
                size=int(cp["size"]) if cp else None,
                root=bytes.fromhex(cp["root"][2:]) if cp else None,
                note=cp["note"].encode() if cp and cp.get("note") else None,
                anchored_size=int(an["size"]) if an else None,
                anchored_root=bytes.fromhex(an["root"][2:]) if an else None,
                records=tuple((int(r["index"]), str(r["recordHash"]))
                              for r in obj.get("records", [])),
                receipts=tuple(str(r) for r in obj.get("receipts", [])),
                checked_at=obj.get("checkedAt"))
        except (KeyError, TypeError, ValueError, AttributeError) as exc:
            raise FormatError(f"monitor state malformed ({type(exc).__name__})") from None


def load_state(path: Path, *, service: str, case_id: str) -> MonitorState:
    """The state file, or a fresh state when it does not exist yet. A state kept for
    another service or case is refused (FormatError): one file per (service, case)."""
    if not path.exists():
        return MonitorState(service=service, case_id=case_id.lower())
    if path.stat().st_size > MAX_STATE_BYTES:
        raise FormatError(f"more than {MAX_STATE_BYTES} bytes")
    state = MonitorState.from_json_obj(
        safejson.loads(path.read_bytes(), what=path.name, max_bytes=MAX_STATE_BYTES))
    if state.service.rstrip("/") != service.rstrip("/") or state.case_id != case_id.lower():
        raise FormatError(f"kept for case {state.case_id} at {state.service}, not this one")
    return state


def save_state(path: Path, state: MonitorState) -> None:
    """Write the state atomically (a crash leaves the old file or the new one)."""
    _write(path, state.to_json_obj())


def _write(path: Path, obj: Mapping[str, object]) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(obj, indent=2, sort_keys=True, ensure_ascii=False) + "\n")
    tmp.replace(path)


@dataclass(frozen=True)
class MonitorAll:
    """What `monitor --all` remembers: one `MonitorState` per case, in one file, sorted by
    case."""

    service: str
    cases: tuple[MonitorState, ...] = ()

    def to_json_obj(self) -> MonitorAllJson:
        return {"format": ALL_FORMAT, "version": ALL_VERSION, "service": self.service,
                "cases": [c.to_json_obj() for c in self.cases]}

    @classmethod
    def from_json_obj(cls, obj: object) -> MonitorAll:
        if not isinstance(obj, dict) or obj.get("format") != ALL_FORMAT:
            raise FormatError(f"not a monitor state file for every case (format "
                              f"{ALL_FORMAT!r})")
        if obj.get("version") != ALL_VERSION:
            raise FormatError(f"monitor state version {obj.get('version')!r}; this monitor "
                              f"reads version {ALL_VERSION}")
        rows = obj.get("cases")
        if not isinstance(rows, list) or len(rows) > MAX_CASES:
            raise FormatError(f"monitor state: cases must be a list of at most {MAX_CASES}")
        service = str(obj.get("service"))
        cases = tuple(MonitorState.from_json_obj(r) for r in rows)
        ids = [c.case_id for c in cases]
        if len(set(ids)) != len(ids) or any(c.service != service for c in cases):
            raise FormatError("monitor state malformed (a case twice, or another service)")
        return cls(service, tuple(sorted(cases, key=lambda c: c.case_id)))


def load_all(path: Path, *, service: str) -> MonitorAll:
    """The `--all` state file, or an empty one when it does not exist yet; one kept for
    another service is refused (FormatError)."""
    if not path.exists():
        return MonitorAll(service=service)
    if path.stat().st_size > MAX_STATE_BYTES * 16:
        raise FormatError(f"more than {MAX_STATE_BYTES * 16} bytes")
    state = MonitorAll.from_json_obj(
        safejson.loads(path.read_bytes(), what=path.name, max_bytes=MAX_STATE_BYTES * 16))
    if state.service.rstrip("/") != service.rstrip("/"):
        raise FormatError(f"kept for {state.service}, not this service")
    return state


def save_all(path: Path, state: MonitorAll) -> None:
    """Write the `--all` state atomically."""
    _write(path, state.to_json_obj())


def run_all(state: MonitorAll, service: LogService, case_ids: Sequence[str], *,
            now: datetime, institution: Sequence[str] = (),
            receipts: Sequence[HeldReceipt] = (), anchor_check: AnchorCheck | None = None,
            warn_seconds: int = DEFAULT_WARN_SECONDS,
            ) -> tuple[MonitorAll, list[tuple[str, list[Finding]]]]:
    """`run_once` for each case in `case_ids` (those the service lists for the key), each
    from its own state (a new case starts fresh with the institution's key the others
    learnt). A case of the state the service no longer lists is kept and reported
    (`case_unlisted`): access may have ended, or the service hides it. Findings per case,
    in case order."""
    keys = list(institution) or next((list(c.institution) for c in state.cases
                                      if c.institution), [])
    kept = {c.case_id: c for c in state.cases}
    wanted = sorted({c.lower() for c in case_ids})
    if len(wanted) > MAX_CASES:
        raise FormatError(f"the service lists more than {MAX_CASES} cases")
    results: list[tuple[str, list[Finding]]] = []
    for case in wanted:
        before = kept.get(case) or MonitorState(service=state.service, case_id=case)
        kept[case], found = run_once(before, service, now=now, institution=keys,
                                     receipts=receipts, anchor_check=anchor_check,
                                     warn_seconds=warn_seconds)
        results.append((case, found))
    for case in sorted(set(kept) - set(wanted)):
        results.append((case, [Finding(Level.WARN, "case_unlisted")]))
    results.sort(key=lambda r: r[0])
    return MonitorAll(state.service, tuple(kept[c] for c in sorted(kept))), results


def _iso(t: datetime) -> str:
    return t.astimezone(UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


def _keys(state: MonitorState, institution: Sequence[str]) -> list[str]:
    return list(institution) or list(state.institution)


def run_once(state: MonitorState, service: LogService, *, now: datetime,
             institution: Sequence[str] = (), receipts: Sequence[HeldReceipt] = (),
             anchor_check: AnchorCheck | None = None,
             warn_seconds: int = DEFAULT_WARN_SECONDS) -> tuple[MonitorState, list[Finding]]:
    """One round: fetch, check, report. Returns the state to keep (unchanged but for the
    time when an alarm was raised: the next run starts from the last good view) and the
    findings, alarms first."""
    findings: list[Finding] = []
    alarm = findings.append
    keys = _keys(state, institution)
    if not keys:
        return state, [Finding(Level.ALARM, "no_institution")]

    # 1. the latest checkpoint: signed by the institution, consistent with the last seen
    note = service.checkpoint()
    try:
        cp = api.open_checkpoint(note, keys)
    except EvidenceError as exc:
        return state, [Finding(Level.ALARM, "checkpoint_forged", {"err": str(exc)})]
    if state.origin is not None and cp.origin != state.origin:
        return state, [Finding(Level.ALARM, "origin_changed",
                               {"was": state.origin, "now": cp.origin})]
    bad = _consistent(service, state.size, state.root, cp)
    if bad is not None:
        return state, [Finding(Level.ALARM, "inconsistent", {
            "old": state.size, "new": cp.size, "why": bad})]
    if state.size is None:
        findings.append(Finding(Level.INFO, "first_run", {"size": cp.size, "origin": cp.origin}))
    elif cp.size > state.size:
        findings.append(Finding(Level.OK, "grew", {"old": state.size, "new": cp.size}))
    else:
        findings.append(Finding(Level.OK, "same", {"size": cp.size}))

    # 2. anchored checkpoints: signed, anchored on the chain, consistent with the latest
    anchored_size, anchored_root = state.anchored_size, state.anchored_root
    opened = []
    for a in service.anchored():
        try:
            opened.append((api.open_checkpoint(a.note, keys), a))
        except EvidenceError as exc:
            alarm(Finding(Level.ALARM, "checkpoint_forged", {"err": str(exc)}))
    for acp, a in sorted(opened, key=lambda pair: pair[0].size):
        if anchored_size is not None and acp.size <= anchored_size and \
                not (acp.size == anchored_size and acp.root != anchored_root):
            continue  # seen before
        if acp.size > cp.size:
            alarm(Finding(Level.ALARM, "anchored_ahead", {"anchored": acp.size, "size": cp.size}))
            continue
        why = _consistent(service, acp.size, acp.root, cp)
        if why is not None:
            alarm(Finding(Level.ALARM, "anchored_inconsistent",
                          {"anchored": acp.size, "size": cp.size, "why": why}))
            continue
        if anchor_check is not None:
            problem = anchor_check(a, keys)
            if problem is not None:
                alarm(Finding(Level.ALARM, "not_anchored", {"size": acp.size, "why": problem}))
                continue
        anchored_size, anchored_root = acp.size, acp.root
        findings.append(Finding(Level.OK, "anchored", {"size": acp.size}))
    if anchor_check is None:
        findings.append(Finding(Level.INFO, "no_chain"))

    # 3. receipts held: each of this case included under the latest checkpoint
    proven = set(state.receipts)
    for held in receipts:
        try:
            r = api.open_receipt(held.obj, keys)
        except EvidenceError as exc:
            alarm(Finding(Level.ALARM, "receipt_refused", {"name": held.name, "err": str(exc)}))
            continue
        if "0x" + r.entry.case_id.hex() != state.case_id:
            continue
        if r.origin != cp.origin:
            alarm(Finding(Level.ALARM, "receipt_other_log",
                          {"name": held.name, "origin": r.origin, "log": cp.origin}))
            continue
        if r.index >= cp.size:
            waited = now - datetime.fromisoformat(r.accepted_at.replace("Z", "+00:00"))
            late = waited.total_seconds() > OVERDUE_SECONDS
            findings.append(Finding(Level.WARN if late else Level.INFO,
                                    "receipt_overdue" if late else "receipt_pending",
                                    {"name": held.name, "index": r.index,
                                     "hours": int(waited.total_seconds()) // 3600}))
            continue
        try:
            proof = service.inclusion(r.index, cp.size)
            ok = api.inclusion_ok(r.entry_bytes, r.index, cp.size, proof, cp.root)
        except EvidenceError:
            ok = False
        if not ok:
            alarm(Finding(Level.ALARM, "receipt_missing", {
                "name": held.name, "index": r.index, "record": "0x" + r.entry.record_hash.hex(),
                "size": cp.size}))
            continue
        proven.add(held.name)

    # 4. the case's new records since the last run: through the checkpoint's signed
    # per-case index when it signs one (the case's own entries only), else every entry
    records = list(state.records)
    grew = state.size is not None and cp.size > state.size
    found = _by_index(service, note, cp.size, state, alarm, findings.append) if grew else []
    if found is None:
        found = _by_scan(service, cp.size, state, findings.append)
    for index, raw in found:
        entry = api.decode_entry(raw)
        proof = service.inclusion(index, cp.size)
        if not api.inclusion_ok(raw, index, cp.size, proof, cp.root):
            alarm(Finding(Level.ALARM, "entry_unproven", {"index": index}))
            continue
        records.append((index, "0x" + entry.record_hash.hex()))
        findings.append(Finding(Level.INFO, "new_record", {
            "index": index, "kind": entry.kind, "record": "0x" + entry.record_hash.hex()}))

    # 5. deadlines (from the case as the service shows it to a signed-in party)
    view = service.case_view(state.case_id)
    if view is None:
        findings.append(Finding(Level.INFO, "no_case_view"))
    else:
        findings += _deadline(view, now, warn_seconds)

    if any(f.level is Level.ALARM for f in findings):
        findings.sort(key=lambda f: f.level is not Level.ALARM)
        return replace(state, checked_at=_iso(now)), findings
    kept = replace(state, origin=cp.origin, institution=tuple(keys), size=cp.size,
                   root=cp.root, note=note, anchored_size=anchored_size,
                   anchored_root=anchored_root, records=tuple(records),
                   receipts=tuple(sorted(proven)), checked_at=_iso(now))
    return kept, findings


def _by_scan(service: LogService, size: int, state: MonitorState,
             report: Callable[[Finding], None]) -> list[tuple[int, bytes]]:
    """The case's entries appended since the last run, found by reading every entry of the
    log since then (a checkpoint without the per-case index)."""
    start = state.size or 0
    try:
        new = service.entries(start, size)
    except EvidenceError:
        new = []
    if len(new) < size - start:
        report(Finding(Level.WARN, "entries_unread", {
            "n": size - start - len(new), "start": start + len(new), "end": size}))
    out = []
    for n, raw in enumerate(new):
        try:
            entry = api.decode_entry(raw)
        except EvidenceError:
            continue
        if "0x" + entry.case_id.hex() == state.case_id:
            out.append((start + n, raw))
    return out


def _by_index(service: LogService, note: bytes, size: int, state: MonitorState,
              alarm: Callable[[Finding], None], report: Callable[[Finding], None]
              ) -> list[tuple[int, bytes]] | None:
    """The case's entries appended since the last run, read through the per-case index of
    the checkpoint of `size` (docs/log.md §14): the service lists the case's entries and its
    head (or neighbours) in the signed index; the entries must recompute the head, and
    every record seen before must still be among them. None when the checkpoint signs no
    index or the service does not answer this (the caller reads every entry instead); []
    after an alarm."""
    case_log = getattr(service, "case_log", None)
    if case_log is None or api.index_line(note) is None:
        return None
    case = bytes.fromhex(state.case_id[2:])
    heads, listed = case_log(state.case_id, size)  # unreachable: the run cannot complete
    try:
        head = api.case_in_index(note, heads, case)
        entries = sorted(listed)
        ours = all(api.decode_entry(raw).case_id == case and i < size for i, raw in entries)
    except EvidenceError as exc:
        alarm(Finding(Level.ALARM, "case_index_refused", {"size": size, "err": str(exc)}))
        return []
    want, last = (0, -1) if head is None else (head.size, head.last_index)
    seen = {i: api.decode_entry(raw).record_hash.hex() for i, raw in entries}
    kept = all(seen.get(i) == h.removeprefix("0x") for i, h in state.records)
    if not ours or not kept or len(entries) != want or \
            (entries[-1][0] if entries else -1) != last or \
            (head is not None and api.case_log_root(entries) != head.root):
        alarm(Finding(Level.ALARM, "case_index_mismatch", {
            "size": size, "n": len(entries), "want": want, "last": last}))
        return []
    report(Finding(Level.OK, "case_index", {"n": len(entries), "size": size}))
    return [(i, raw) for i, raw in entries if i >= (state.size or 0)]


def _consistent(service: LogService, size: int | None, root: bytes | None,
                cp: api.Note) -> str | None:
    """None when the checkpoint `cp` extends the tree (size, root); else why not."""
    if size is None or root is None:
        return None
    if cp.size < size:
        return f"the log shrank from {size} to {cp.size} entries"
    if cp.size == size:
        return None if cp.root == root else "same size, another root"
    try:
        proof = service.consistency(size, cp.size)
    except EvidenceError as exc:
        return f"no consistency proof ({exc})"
    if not api.consistency_ok(size, cp.size, proof, root, cp.root):
        return "the consistency proof fails"
    return None


def _deadline(view: JsonObject, now: datetime, warn_seconds: int) -> list[Finding]:
    deadline = view.get("deadline")
    stage = str(view.get("stage", ""))
    if not deadline:
        return [Finding(Level.INFO, "no_deadline", {"stage": stage})]
    try:
        due = datetime.fromisoformat(str(deadline).replace("Z", "+00:00"))
    except ValueError:
        return [Finding(Level.INFO, "no_deadline", {"stage": stage})]
    left = int((due - now).total_seconds())
    when: JsonObject = {"stage": stage, "deadline": _iso(due), "hours": max(left, 0) // 3600}
    if left < 0:
        return [Finding(Level.WARN, "deadline_passed", when)]
    if left <= warn_seconds:
        return [Finding(Level.WARN, "deadline_near", when)]
    return [Finding(Level.OK, "deadline_far", when)]
