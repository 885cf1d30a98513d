"""Verification benchmark: 1,000 anchored evidence items of 100 KB each.

Setup (not timed): 1,000 files, each committed with a fresh salt and submitted in an
EIP-712 `EvidenceSubmission` signed by one of five parties; one Merkle batch
(evidence.merkle) whose root is anchored in EvidenceAnchor (backend.chain) on the
in-process EVM (default) or on anvil (`--chain anvil`); one proof file per item
(evidence.verify format, record and opening embedded).

Timed, in the same run:
- `openssl dgst -sha256` over the 1,000 files (one process, the machine's hashing limit);
- our verification of every item: read and parse its proof file, stream-hash the file,
  then every check (file hash, commitment, signature, expected signer, leaf, Merkle proof,
  root anchored, tx/block consistency). The chain is asked once per root (AnchorReader
  caches it); the pure checks run on both cores (`--workers`, fork), each worker keeping
  the batch's already hashed upper tree nodes (ProvenNodes: same verdicts, fewer hashes).

Last line `verify_1000_vs_openssl_sha256=<our items/s over openssl's>`. Never fails on
timing. `--items 200` for a quick run; `--profile` prints where one worker's time goes.
"""

from __future__ import annotations

import argparse
import gc
import os
import resource
import shutil
import subprocess
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from backend.chain import Transactor, deploy_anchor
from backend.chain.devchain import AnvilNode, dev_accounts, fund, in_process_web3
from evidence.commitment import commit, sha256_file
from evidence.merkle import StandardMerkleTree, record_leaf
from evidence.records import Domain, EvidenceSubmission
from evidence.verify import (
    AnchorReader,
    ChainObservation,
    ProofFile,
    ProvenNodes,
    evaluate,
    hash_file,
)

CASE = bytes.fromhex("ab" * 32)

# Set in the parent before the pool forks; the workers inherit them.
_OBSERVATION: ChainObservation | None = None
# Each worker's memo of the batch's upper tree nodes (a copy per forked worker).
_PROVEN = ProvenNodes()
# The items, inherited by the forked workers: each is sent only its index range (pickling
# 500 paths there and back cost ~5 us per item).
_ITEMS: list[tuple[Path, Path, str]] = []


def build(tmp: Path, items: int, size: int, w3: Any) -> tuple[list[tuple[Path, Path, str]], Any]:
    """Files, records, batch, anchor, proof files. Returns (file, proof, signer) per item."""
    deployer, *parties = dev_accounts(6, seed="bench-verify")
    fund(w3, [deployer.address])
    anchor = deploy_anchor(Transactor(w3), deployer)
    domain = Domain(chain_id=w3.eth.chain_id, verifying_contract=anchor.address)
    base = bytearray(os.urandom(size))
    signed_items = []
    for i in range(items):
        f = tmp / f"item-{i:04d}.bin"
        base[:8] = i.to_bytes(8, "big")
        f.write_bytes(base)
        opening = commit(sha256_file(f))
        party = parties[i % len(parties)]
        rec = EvidenceSubmission(
            case_id=CASE, sequence=i + 1, prev_hash=bytes(32), submitter=party.address,
            commitment=opening.commitment, content_cid=f"bafybench{i}", signed_at=1_790_000_000 + i,
        )
        signed_items.append((f, rec.sign(party.key, domain), opening, party.address))
    leaves = [record_leaf(CASE, s.record_hash, s.signatures_hash) for _, s, _, _ in signed_items]
    tree = StandardMerkleTree.of(leaves)
    result = anchor.anchor(deployer, tree.root, len(tree))
    out: list[tuple[Path, Path, str]] = []
    for i, (f, signed, opening, signer) in enumerate(signed_items):
        proof = ProofFile.build(tree, i, chain_id=domain.chain_id, contract=anchor.address,
                                tx_hash=result.tx_hash, record=signed, opening=opening)
        p = f.with_suffix(".proof.json")
        p.write_bytes(proof.to_json())
        out.append((f, p, signer))
    return out, (anchor.address, tree.root, result.tx_hash)


def verify_one(item: tuple[Path, Path, str]) -> tuple[bool, str | None]:
    """Everything a verifier does for one item, given the cached chain observation."""
    file, proof_path, signer = item
    proof = ProofFile.from_json(_read(proof_path))
    report = evaluate(proof, file_sha256=hash_file(file), expected_signers=signer,
                      observation=_OBSERVATION, proven=_PROVEN)
    return report.ok, None if report.failure is None else str(report.failure.name)


def _read(path: Path) -> bytes:
    """A small file's bytes in one read (half the cost of Path.read_bytes for a proof)."""
    fd = os.open(path, os.O_RDONLY)
    try:
        size = os.fstat(fd).st_size
        data = os.read(fd, size + 1)
        while more := os.read(fd, 1 << 16):  # usually none: this read sees the end
            data += more
        return data
    finally:
        os.close(fd)


def verify_batch(batch: list[tuple[Path, Path, str]]) -> list[tuple[bool, str | None]]:
    return [verify_one(item) for item in batch]


def verify_range(bounds: tuple[int, int]) -> list[tuple[bool, str | None]]:
    """In a forked worker: the items [start, stop) of the inherited `_ITEMS`."""
    return verify_batch(_ITEMS[bounds[0] : bounds[1]])


def _cpu() -> float:
    """CPU seconds of this process and its reaped children (the pool's workers)."""
    me, kids = resource.getrusage(resource.RUSAGE_SELF), resource.getrusage(
        resource.RUSAGE_CHILDREN)
    return me.ru_utime + me.ru_stime + kids.ru_utime + kids.ru_stime


def run_ours(items: list[tuple[Path, Path, str]], reader: AnchorReader,
             anchor: tuple[str, bytes, bytes], workers: int) -> tuple[float, float, list[Any]]:
    global _OBSERVATION, _ITEMS
    _ITEMS = items
    cpu0 = _cpu()
    t0 = time.perf_counter()
    # The chain lookup: once per root (one root here), cached by the reader.
    _OBSERVATION = reader.observe(*anchor)
    if workers <= 1:
        results = verify_batch(items)
    else:
        # 8 ranges per worker: a worker that gets less CPU (a busy machine) takes fewer
        # of them instead of finishing last
        step = max(1, -(-len(items) // (workers * 8)))
        parts = [(i, min(i + step, len(items))) for i in range(0, len(items), step)]
        gc.freeze()  # the workers' collections then skip (and do not copy) our objects
        with ProcessPoolExecutor(workers, mp_context=get_context("fork")) as pool:
            results = [r for part in pool.map(verify_range, parts) for r in part]
        gc.unfreeze()
    return time.perf_counter() - t0, _cpu() - cpu0, results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--items", type=int, default=1000)
    ap.add_argument("--size", type=int, default=100_000, help="bytes per item")
    ap.add_argument("--workers", type=int, default=os.cpu_count() or 1)
    ap.add_argument("--chain", choices=("inprocess", "anvil"), default="inprocess")
    ap.add_argument("--profile", action="store_true",
                    help="CPU time per stage, single process, after the timed run")
    args = ap.parse_args()

    tmp = Path(tempfile.mkdtemp(prefix="chainarb-verify-"))
    node = AnvilNode().start() if args.chain == "anvil" else None
    try:
        w3 = node.web3() if node is not None else in_process_web3()
        t0 = time.perf_counter()
        items, anchor = build(tmp, args.items, args.size, w3)
        print(f"setup: {args.items} items x {args.size} B, batch anchored on "
              f"{args.chain} (chain {w3.eth.chain_id}) in {time.perf_counter() - t0:.1f} s")

        files = [str(f) for f, _, _ in items]
        cpu0 = _cpu()
        t0 = time.perf_counter()
        subprocess.run(["openssl", "dgst", "-sha256", *files], check=True, capture_output=True)
        ossl_s = time.perf_counter() - t0
        ossl_cpu = _cpu() - cpu0

        reader = AnchorReader(w3)
        ours_s, ours_cpu, results = run_ours(items, reader, anchor, args.workers)
        failed = [r for r in results if not r[0]]
        assert not failed, f"{len(failed)} items failed verification: {failed[:3]}"
        n = len(items)
        print(f"openssl dgst -sha256 ({n} files):    {n / ossl_s:8.0f} items/s  "
              f"({ossl_s:.3f} s, {n * args.size / 1e6 / ossl_s:.0f} MB/s)")
        print(f"verify ({n} items, {args.workers} worker(s)): {n / ours_s:8.0f} items/s  "
              f"({ours_s:.3f} s; CPU {ours_cpu / n * 1e6:.0f} us per item, all processes)")
        print(f"CPU time: openssl {ossl_cpu / n * 1e6:.0f} us per file, ours "
              f"{ours_cpu / n * 1e6:.0f} us per item (a loaded machine slows wall time, "
              f"not CPU time)")
        if args.profile:
            profile(items)
        print(f"verify_1000_vs_openssl_sha256={ossl_s / ours_s:.2f}")
    finally:
        if node is not None:
            node.stop()
        shutil.rmtree(tmp, ignore_errors=True)


def profile(items: list[tuple[Path, Path, str]]) -> None:
    """Where one item's CPU time goes, stage by stage, single process."""
    from evidence.merkle import leaf_hash, process_proof
    from evidence.records import SignedRecord, recover_signer

    proofs = [ProofFile.from_json(p.read_bytes()) for _, p, _ in items]
    digests = [hash_file(f) for f, _, _ in items]

    def stage(name: str, fn: Any) -> None:
        t0 = time.process_time()
        for i in range(len(items)):
            fn(i)
        us = (time.process_time() - t0) / len(items) * 1e6
        print(f"  profile: {name:44s} {us:7.0f} us per item")

    stage("read + parse proof file (record, opening)",
          lambda i: ProofFile.from_json(items[i][1].read_bytes()))
    stage("SHA-256 of the 100 KB file (hash_file)", lambda i: hash_file(items[i][0]))

    def record(i: int) -> SignedRecord:
        r = proofs[i].record
        assert r is not None
        return r

    def fresh(i: int) -> SignedRecord:
        r = record(i)
        return SignedRecord(r.domain, r.record, r.signatures)

    stage("record hash (EIP-712 digest, fresh object)", lambda i: fresh(i).record_hash)
    stage("signature recovery (records.recover_signer)",
          lambda i: recover_signer(record(i).record_hash, record(i).signatures[0]))
    stage("leaf hash + full Merkle proof (10 levels)",
          lambda i: process_proof(leaf_hash(proofs[i].leaf_encoding, proofs[i].leaf),
                                  proofs[i].proof))
    stage("evaluate(), all 8 checks (fresh record)",
          lambda i: evaluate(ProofFile.from_json(items[i][1].read_bytes()),
                             file_sha256=digests[i], expected_signers=items[i][2],
                             observation=_OBSERVATION))
    stage("whole item as timed (verify_one)", lambda i: verify_one(items[i]))


if __name__ == "__main__":
    main()
