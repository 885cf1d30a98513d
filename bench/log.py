"""Log benchmark: 1,000,000 appends to the institution's log (evidence.log, in-memory node
store), then inclusion and consistency proofs at that size.

Setup (not timed): N encoded 98-byte log entries (evidence.log.LogEntry, cases and kinds
varied).

Timed, in the same run and interleaved chunk by chunk (`--chunk`), so both see the same
machine:
- bare SHA-256: `hashlib.sha256(entry).digest()` over the same entries, the machine's rate
  for the one hash an append cannot avoid;
- `MerkleLog.append(entry)`, one call per entry, on a tree that keeps its nodes in memory
  itself (`MerkleLog()`: each leaf and each node it completes appended to its level's
  bytearray directly), the headline;
- the same on a tree given a `MemoryNodeStore` (`MerkleLog(MemoryNodeStore())`): every
  append goes through the `NodeStore` protocol's `put_nodes` call with its checks, as the
  service's database store is written.
Both are timed on the process's CPU clock (`time.process_time`): the machine is shared,
and time spent waiting for a core is not the log's. Wall-clock rates are printed beside.
Then `extend` (a batch in one call), proofs at size N (`--proofs` random leaves and
random earlier sizes): their size and the time to make and to verify one, and the
checkpoint and receipt signing and checking the service does per round and per record.

An append hashes its leaf and, amortized, one inner node (n - 1 nodes for n leaves): two
hashes. The last line is `log_append_vs_sha256=<appends/s over bare SHA-256/s>`; the goal
is >= 0.25 (an append costs at most four bare hashes' worth of work). Never fails on timing.
`--leaves 100000` for a quick run.
"""

from __future__ import annotations

import argparse
import hashlib
import random
import resource
import time
from datetime import UTC, datetime

from evidence.log import (
    Checkpoint,
    EntryKind,
    LogEntry,
    MemoryNodeStore,
    MerkleLog,
    NoteSigner,
    issue_receipt,
    leaf_hash,
    sign_checkpoint,
    verify_checkpoint,
    verify_consistency,
    verify_inclusion,
    verify_receipt,
)

ORIGIN = "bench.chainarb.example/log"
# A throwaway key made for this run: it signs nothing outside it.
KEY = random.Random(1).randbytes(32)


def _entries(n: int) -> list[bytes]:
    rng = random.Random(15)
    cases = [rng.randbytes(32) for _ in range(1000)]
    kinds = list(EntryKind)
    return [
        LogEntry(kinds[i % 3], cases[i % 1000], rng.randbytes(32), rng.randbytes(32)).encode()
        for i in range(n)
    ]


def _rss_mib() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--leaves", type=int, default=1_000_000)
    ap.add_argument("--chunk", type=int, default=50_000)
    ap.add_argument("--proofs", type=int, default=1000)
    args = ap.parse_args()
    n = args.leaves

    entries = _entries(n)
    print(f"setup: {n:,} entries of {len(entries[0])} bytes, RSS {_rss_mib():.0f} MiB")

    log = MerkleLog()
    checked = MerkleLog(MemoryNodeStore())
    sha256 = hashlib.sha256
    runs = {"sha": None, "append": log.append, "checked": checked.append}
    cpu = dict.fromkeys(runs, 0.0)
    wall = dict.fromkeys(runs, 0.0)
    for start in range(0, n, args.chunk):
        chunk = entries[start:start + args.chunk]
        for name, append in runs.items():
            w0, c0 = time.perf_counter(), time.process_time()
            if append is None:
                for e in chunk:
                    sha256(e).digest()
            else:
                for e in chunk:
                    append(e)
            cpu[name] += time.process_time() - c0
            wall[name] += time.perf_counter() - w0
    assert log.size == checked.size == n and log.root() == checked.root()
    rate = {name: n / seconds for name, seconds in cpu.items()}
    sha_rate, append_rate = rate["sha"], rate["append"]
    print(f"bare SHA-256 (98 B):       {sha_rate:12,.0f} hashes/s CPU  "
          f"({n / wall['sha']:,.0f}/s wall)")
    print(f"MerkleLog().append:        {append_rate:12,.0f} appends/s CPU "
          f"({n / wall['append']:,.0f}/s wall), {1e6 / append_rate:.2f} us each, "
          f"{sha_rate / append_rate:.2f} bare hashes' worth")
    print(f"... through put_nodes:     {rate['checked']:12,.0f} appends/s CPU "
          f"({n / wall['checked']:,.0f}/s wall), {1e6 / rate['checked']:.2f} us each, "
          f"ratio {rate['checked'] / sha_rate:.3f}")
    del checked

    batch = MerkleLog()
    c0 = time.process_time()
    batch.extend(entries)
    extend_s = time.process_time() - c0
    assert batch.root() == log.root()
    print(f"MerkleLog.extend (1 call): {n / extend_s:12,.0f} appends/s CPU")

    c0 = time.process_time()
    root = log.root()
    print(f"root at {n:,}:             {(time.process_time() - c0) * 1e6:10.0f} us  "
          f"({len(log.frontier())} frontier hashes); RSS {_rss_mib():.0f} MiB")

    rng = random.Random(7)
    picks = [rng.randrange(n) for _ in range(args.proofs)]
    c0 = time.process_time()
    proofs = [log.inclusion_proof(i) for i in picks]
    make_s = time.process_time() - c0
    leaves = [leaf_hash(entries[i]) for i in picks]
    c0 = time.process_time()
    for i, leaf, proof in zip(picks, leaves, proofs, strict=True):
        verify_inclusion(i, n, leaf, proof, root)
    check_s = time.process_time() - c0
    sizes = [len(p) for p in proofs]
    print(f"inclusion proof at {n:,}: {min(sizes)}-{max(sizes)} hashes "
          f"({max(sizes) * 32} B max); make {make_s / len(picks) * 1e6:.0f} us, "
          f"verify {check_s / len(picks) * 1e6:.0f} us")

    olds = [rng.randrange(1, n) for _ in range(args.proofs)]
    roots = {m: log.root(m) for m in olds}
    c0 = time.process_time()
    cproofs = [log.consistency_proof(m) for m in olds]
    make_s = time.process_time() - c0
    c0 = time.process_time()
    for m, proof in zip(olds, cproofs, strict=True):
        verify_consistency(m, n, roots[m], root, proof)
    check_s = time.process_time() - c0
    sizes = [len(p) for p in cproofs]
    print(f"consistency proof m..{n:,}: {min(sizes)}-{max(sizes)} hashes "
          f"({max(sizes) * 32} B max); make {make_s / len(olds) * 1e6:.0f} us, "
          f"verify {check_s / len(olds) * 1e6:.0f} us")

    signer = NoteSigner.from_private_key(KEY)
    k = 200
    c0 = time.process_time()
    notes = [sign_checkpoint(Checkpoint(ORIGIN, n - j, log.root(n - j)), signer)
             for j in range(k)]
    sign_s = time.process_time() - c0
    c0 = time.process_time()
    for note in notes:
        verify_checkpoint(note, [signer.address], ORIGIN)
    vcp_s = time.process_time() - c0
    when = datetime(2026, 12, 6, tzinfo=UTC)
    c0 = time.process_time()
    receipts = [issue_receipt(origin=ORIGIN, index=i, entry=LogEntry.decode(entries[i]),
                              accepted_at=when, signer=signer) for i in picks[:k]]
    issue_s = time.process_time() - c0
    c0 = time.process_time()
    for i, r in zip(picks[:k], receipts, strict=True):
        verify_receipt(r.with_inclusion(notes[0], log.inclusion_proof(i)), [signer.address],
                       require_inclusion=True)
    vr_s = time.process_time() - c0
    print(f"checkpoint: sign {sign_s / k * 1e6:.0f} us (with its root), verify "
          f"{vcp_s / k * 1e6:.0f} us; receipt: issue {issue_s / k * 1e6:.0f} us, verify with "
          f"its inclusion proof {vr_s / k * 1e6:.0f} us; note {len(notes[0].encode())} B, "
          f"receipt {len(receipts[0].with_inclusion(notes[0], proofs[0]).dumps())} B")
    print(f"peak RSS {_rss_mib():.0f} MiB")
    print(f"log_append_vs_sha256={append_rate / sha_rate:.3f}")


if __name__ == "__main__":
    main()
