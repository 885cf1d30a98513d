"""Per-case index benchmark (docs/log.md §14): what a package's completeness proof costs by
a range of entries (before) and by the case's head in the signed index (after).

Setup (not timed): a log of `--entries` entries over `--cases` other cases, and one case of
`--case-entries` entries spread from 5 % to 95 % of the log (a case that ran while the
institution was busy); checkpoints at 0 and at the end.

Measured, each on the process CPU clock (the machine is shared):
- before: the range from the checkpoint before the case's first entry to the end: its
  entries, the JSON bytes they take in `proofs/log.json`, and the verifier's fold of them
  (`evidence.log.root_after`) plus its scan for the case's entries;
- after: the case's head and its proof (JSON bytes), the verifier's work (one inclusion
  proof in the index tree, the case log's root over the case's own entries); and the
  service's work per checkpoint: the index tree over every case's head (`index_tree`, the
  checkpointer signs its root), and an auditor's recomputation of every head from the
  entries (`heads_of`, what a monitor holding the log does).
- with `--db URL` (a migrated database, e.g. sqlite:///tmp/x.sqlite3): the service's
  append (`backend.log.append_entry`, which leaves the index alone) per call, and the
  checkpointer's `extend_index` over each block of `--appends` new entries.

- proof of absence over the case's longest silence (checkpoints at both ends): the range
  statement (version 1: every entry between) against the index statement (version 2: a
  consistency proof and the case's heads), bytes and verification; and the monitor
  following the case across that span: requests and bytes by reading every entry, and by
  ``GET /log/case`` (its own entries and head) plus one proof for its new entry.

Last line: `case_index_proof_vs_range=<bytes after / bytes before>`. Never fails on timing.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import random
import time
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from evidence.log import EntryKind, LogEntry, MerkleLog, root_after
from evidence.log.caseindex import case_root, heads_of, index_tree, verify_case_head


def _entry(case: bytes, n: int) -> bytes:
    h = hashlib.sha256(n.to_bytes(8, "big")).digest()
    return LogEntry(EntryKind.STEP, case, h, h[::-1]).encode()


def _cpu(fn: Callable[[], Any]) -> tuple[float, Any]:
    t = time.process_time()
    out = fn()
    return (time.process_time() - t) * 1000, out


def _log(entries_n: int, cases: int, k: int, seed: int
         ) -> tuple[bytes, list[int], list[bytes], MerkleLog]:
    """The benchmark's log: the case's id, its entries' indices, every entry, the tree."""
    rng = random.Random(seed)
    ours = hashlib.sha256(b"the case").digest()
    at = sorted(rng.sample(range(entries_n // 20, entries_n * 19 // 20), k))
    others = [hashlib.sha256(i.to_bytes(4, "big")).digest() for i in range(cases)]
    chosen = set(at)
    entries = [_entry(ours if i in chosen else rng.choice(others), i) for i in range(entries_n)]
    return ours, at, entries, MerkleLog.of(entries)


def pure(entries_n: int, cases: int, k: int, seed: int) -> dict[str, float]:
    ours, at, entries, tree = _log(entries_n, cases, k, seed)
    end = tree.size
    # before: the range from the empty tree (the checkpoint before the first entry is at
    # most as good as that in the worst case; take the first entry's position, generous)
    start = at[0]
    rng_entries = entries[start:end]
    frontier = tree.frontier(start)
    range_json = len(json.dumps(["0x" + e.hex() for e in rng_entries]))
    ms_range, _ = _cpu(lambda: (root_after(start, frontier, rng_entries),
                                [e for e in rng_entries if e[2:34] == ours]))
    # after
    ms_heads, heads = _cpu(lambda: heads_of(enumerate(entries)))
    ms_index, index = _cpu(lambda: index_tree(heads))
    pos = next(i for i, h in enumerate(heads) if h.case_id == ours)
    proof = index.inclusion_proof(pos)
    index_json = len(json.dumps({"size": str(end), "count": str(len(heads)),
                                 "position": str(pos), "head": "0x" + heads[pos].encode().hex(),
                                 "proof": ["0x" + p.hex() for p in proof]}))
    mine = [(i, entries[i]) for i in at]
    def check() -> bytes:
        verify_case_head(heads[pos], pos, len(heads), proof, index.root())
        return case_root(mine)

    ms_verify, _ = _cpu(check)
    return {"entries": entries_n, "cases": len(heads), "case_entries": k,
            "range_entries": len(rng_entries), "range_json_bytes": range_json,
            "range_verify_ms": ms_range, "index_json_bytes": index_json,
            "index_verify_ms": ms_verify, "index_tree_ms_per_checkpoint": ms_index,
            "heads_recomputed_ms": ms_heads}


def absence(entries_n: int, cases: int, k: int, seed: int) -> dict[str, float]:
    """Proof of absence and the monitor, before (a range of entries) and after (the
    per-case index): the case is silent over the largest gap between two of its entries,
    checkpoints A and B at the gap's ends; the monitor's new checkpoint is B, its last A."""
    from evidence.log import Checkpoint, NoteSigner, issue_absence, verify_absence
    from evidence.log.absence_index import issue_index_absence, placed_heads
    from evidence.log.caseindex import index_extension
    from evidence.log.checkpoint import sign_checkpoint

    ours, at, entries, tree = _log(entries_n, cases, k, seed)
    gap = max(range(k - 1), key=lambda i: at[i + 1] - at[i])
    a, b = at[gap] + 1, at[gap + 1]  # no entry of the case in [a, b)
    signer = NoteSigner.from_private_key(b"\x4c" * 32)  # the published test key of §6
    origin, now = "chainarb.example/log", datetime(2026, 12, 6, tzinfo=UTC)
    sides = {}
    for size in (a, b):
        heads = heads_of(enumerate(entries[:size]))
        index = index_tree(heads)
        note = sign_checkpoint(Checkpoint(origin, size, tree.root(size),
                                          (index_extension(len(heads), index.root()),)), signer)
        sides[size] = (note, placed_heads(heads, index.inclusion_proof, ours))
    v1 = issue_absence(origin=origin, case_id=ours, first=sides[a][0], second=sides[b][0],
                       frontier=tree.frontier(a),
                       entries=[LogEntry.decode(e) for e in entries[a:b]], issued_at=now,
                       signer=signer).to_json()
    v2 = issue_index_absence(origin=origin, case_id=ours, first=sides[a][0],
                             second=sides[b][0], consistency=tree.consistency_proof(a, b),
                             heads_first=sides[a][1], heads_second=sides[b][1], issued_at=now,
                             signer=signer).to_json()
    ms_v1, _ = _cpu(lambda: verify_absence(v1, [signer.address]))
    ms_v2, _ = _cpu(lambda: verify_absence(v2, [signer.address]))
    # the monitor from checkpoint A to B: before, every entry of the log in between (one
    # GET /log/proof/inclusion each: the entry and its proof); after, one GET /log/case
    # (the case's entries below B and its head with the proof; it has no new entry)
    per_entry = len(json.dumps({"entry": {"kind": "step", "caseId": "0x" + ours.hex(),
                                          "recordHash": "0x" + ours.hex(),
                                          "signaturesHash": "0x" + ours.hex()},
                                "inclusion": {"proof": ["0x" + ours.hex()] *
                                              len(tree.inclusion_proof(a, b))}}))
    mine = [{"index": i, "entry": "0x" + entries[i].hex()} for i in at if i < b]
    case_log = len(json.dumps({"heads": [h.to_json() for h in sides[b][1]],
                               "entries": mine}))
    return {"absence_span_entries": b - a,
            "absence_v1_json_bytes": len(json.dumps(v1)), "absence_v1_verify_ms": ms_v1,
            "absence_v2_json_bytes": len(json.dumps(v2)), "absence_v2_verify_ms": ms_v2,
            "monitor_requests_before": b - a, "monitor_bytes_before": (b - a) * per_entry,
            "monitor_requests_after": 1, "monitor_bytes_after": case_log}


def db(url: str, appends: int, rounds: int) -> dict[str, float]:
    """The service's append (`backend.log.append_entry`, which does nothing for the index)
    per call, and the checkpointer's `extend_index` over each round's `appends` entries."""
    from backend.db import make_engine, make_session_factory, write_scope
    from backend.log.caseindex import extend_index
    from backend.log.store import append_entry, log_size

    engine = make_engine(url)
    sessions = make_session_factory(engine)
    now = datetime.now(UTC)
    per_append: list[float] = []
    per_round: list[float] = []
    n = 0
    for _ in range(rounds):
        t = time.process_time()
        for _ in range(appends):
            case = "0x" + hashlib.sha256(str(n % 50).encode()).hexdigest()
            v = [case, "0x" + hashlib.sha256(f"r{n}".encode()).hexdigest(),
                 "0x" + hashlib.sha256(f"s{n}".encode()).hexdigest()]
            with write_scope(sessions) as s:
                append_entry(s, kind="step", case_id=case, value=v, ref_id=n, now=now)
            n += 1
        per_append.append((time.process_time() - t) * 1000 / appends)
        t = time.process_time()
        with write_scope(sessions) as s:
            extend_index(s, log_size(s))
        per_round.append((time.process_time() - t) * 1000)
    engine.dispose()
    return {"append_ms": sorted(per_append)[len(per_append) // 2],
            f"extend_index_ms_per_{appends}_appends": sorted(per_round)[len(per_round) // 2]}


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--entries", type=int, default=200_000)
    ap.add_argument("--cases", type=int, default=5_000)
    ap.add_argument("--case-entries", type=int, default=30)
    ap.add_argument("--seed", type=int, default=15)
    ap.add_argument("--db", default=None)
    ap.add_argument("--appends", type=int, default=200)
    ap.add_argument("--rounds", type=int, default=3)
    a = ap.parse_args()
    out: dict[str, float] = pure(a.entries, a.cases, a.case_entries, a.seed)
    out |= absence(a.entries, a.cases, a.case_entries, a.seed)
    if a.db:
        out |= db(a.db, a.appends, a.rounds)
    for key, value in out.items():
        print(f"{key}={value:.3f}" if isinstance(value, float) else f"{key}={value}")
    print(f"case_index_proof_vs_range={out['index_json_bytes'] / out['range_json_bytes']:.6f}")


if __name__ == "__main__":
    main()
