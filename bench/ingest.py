"""Ingest benchmark: hash + encrypt + CID of one file in a single streaming pass.

What an evidence upload does: the plaintext's SHA-256 (for the salted commitment), the
AES-256-GCM container (evidence.encryption), and the UnixFS CID of that container
(evidence.ipfs, what goes to IPFS); `--write` also writes the ciphertext to disk. The
file is read once.
Beside it, in the same run, one `openssl dgst -sha256` pass over the same file: the
machine's limit for touching every byte once (it uses the CPU's SHA instructions).

Pipeline (both cores: hashlib and AES-GCM release the GIL on large buffers):

    reader (main) --plaintext--> [hash thread]   SHA-256 -> commitment
                  --plaintext--> [seal thread]   Encryptor.seal -> ciphertext
                                      --ciphertext--> [cid thread] FileImporter.write + out.write

Plaintext buffers come from a fixed pool and are reused once both consumers are done with
them; ciphertext buffers likewise (`Encryptor.seal_into`), once the CID thread has taken
what it keeps. Memory is bounded by (2 x pool size x chunk size) whatever the file size,
and no buffer is allocated per chunk (fresh 1 MiB objects cost page faults).

Prints both throughputs, our peak RSS, and last `ingest_vs_openssl_sha256=<ratio>`.
Never fails on timing. `--size 64M` for a quick run; `--stages` also times each stage
alone (single thread) to show where the time goes.
"""

from __future__ import annotations

import argparse
import hashlib
import os
import queue
import resource
import shutil
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

from evidence.commitment import commit, sha256_chunks
from evidence.encryption import (
    TAG_SIZE,
    Encryptor,
    KeyWraps,
    generate_data_key,
    generate_recipient_key,
    public_key_bytes,
)
from evidence.ipfs import FileImporter

MiB = 1 << 20


def parse_size(text: str) -> int:
    units = {"k": 1 << 10, "m": MiB, "g": 1 << 30}
    t = text.strip().lower().removesuffix("b").removesuffix("i")
    if t and t[-1] in units:
        return int(float(t[:-1]) * units[t[-1]])
    return int(t)


def make_file(path: Path, size: int) -> None:
    """Incompressible content without spending the run in os.urandom: 1 MiB of random
    bytes, each copy made unique by its index."""
    block = bytearray(os.urandom(MiB))
    with path.open("wb") as f:
        written = 0
        i = 0
        while written < size:
            block[:8] = i.to_bytes(8, "big")
            n = min(MiB, size - written)
            f.write(memoryview(block)[:n])
            written += n
            i += 1


def peak_rss_mb() -> float:
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024  # Linux: KiB


def openssl_sha256(path: Path) -> tuple[float, float, str]:
    """Wall seconds, CPU seconds and the hex digest of one `openssl dgst -sha256` pass."""
    cpu0 = _cpu(resource.RUSAGE_CHILDREN)
    t0 = time.perf_counter()
    out = subprocess.run(["openssl", "dgst", "-sha256", "-r", str(path)], check=True,
                         capture_output=True, text=True).stdout
    wall = time.perf_counter() - t0
    return wall, _cpu(resource.RUSAGE_CHILDREN) - cpu0, out.split()[0]


def _cpu(who: int = resource.RUSAGE_SELF) -> float:
    r = resource.getrusage(who)
    return r.ru_utime + r.ru_stime


_DONE = object()


def ingest(
    path: Path, out_path: Path | None, *, chunk: int, pool: int, cid_version: int
) -> dict[str, Any]:
    """One streaming pass; returns the digests, CID and sizes."""
    size = path.stat().st_size
    data_key = generate_data_key()
    enc = Encryptor(data_key, chunk)
    free: queue.Queue[bytearray] = queue.Queue()
    for _ in range(pool):
        free.put(bytearray(chunk))
    to_hash: queue.Queue[Any] = queue.Queue()
    to_seal: queue.Queue[Any] = queue.Queue()
    to_cid: queue.Queue[Any] = queue.Queue(maxsize=pool)
    # ciphertext buffers, reused like the plaintext ones (a new 1 MiB object per chunk
    # cost page faults: up to a fifth of the CPU time)
    sealed_free: queue.Queue[bytearray] = queue.Queue()
    for _ in range(pool + 1):
        sealed_free.put(bytearray(chunk + TAG_SIZE))
    # a buffer goes back to the pool when both the hasher and the sealer released it
    pending: dict[int, int] = {}
    lock = threading.Lock()
    errors: list[BaseException] = []
    result: dict[str, Any] = {}

    def release(buf: bytearray) -> None:
        with lock:
            left = pending[id(buf)] - 1
            pending[id(buf)] = left
        if left == 0:
            free.put(buf)

    def guarded(fn: Callable[[], None]) -> Callable[[], None]:
        def run() -> None:
            try:
                fn()
            except BaseException as exc:  # surface worker errors in the main thread
                errors.append(exc)
                for q in (to_hash, to_seal, to_cid):
                    q.put(_DONE)
        return run

    def plaintext_chunks() -> Any:
        while (item := to_hash.get()) is not _DONE:
            buf, n = item
            yield memoryview(buf)[:n]
            release(buf)

    def hasher() -> None:
        result["sha256"] = sha256_chunks(plaintext_chunks())

    def sealer() -> None:
        to_cid.put((enc.header_bytes, None))
        while (item := to_seal.get()) is not _DONE:
            buf, n, final = item
            sealed = sealed_free.get()
            m = enc.seal_into(memoryview(buf)[:n], final, sealed)
            release(buf)
            to_cid.put((memoryview(sealed)[:m], sealed))
        to_cid.put(_DONE)

    def addresser() -> None:
        importer = FileImporter(cid_version=cid_version)
        out = out_path.open("wb", buffering=0) if out_path is not None else None
        written = 0
        try:
            while (item := to_cid.get()) is not _DONE:
                piece, owner = item
                importer.write(piece)  # copies what it keeps: the buffer may be reused
                if out is not None:
                    out.write(piece)
                written += len(piece)
                del piece
                if owner is not None:
                    sealed_free.put(owner)
        finally:
            if out is not None:
                out.close()
        result["cid"] = importer.finish()
        result["ciphertext_size"] = written

    threads = [threading.Thread(target=guarded(f), name=f.__name__)
               for f in (hasher, sealer, addresser)]
    for th in threads:
        th.start()
    read = 0
    with path.open("rb", buffering=0) as f:
        while not errors:
            buf = free.get()
            n = f.readinto(buf)
            read += n
            final = read >= size
            if n == 0 and read > 0:  # file shrank under us; cannot happen in the bench
                free.put(buf)
                break
            with lock:
                pending[id(buf)] = 2
            to_hash.put((buf, n))
            to_seal.put((buf, n, final))
            if final:
                break
    to_hash.put(_DONE)
    to_seal.put(_DONE)
    for th in threads:
        th.join()
    if errors:
        raise errors[0]
    opening = commit(result["sha256"])
    wraps = KeyWraps.create(data_key, enc.header, [public_key_bytes(generate_recipient_key())])
    result.update(size=size, commitment=opening.commitment, wraps=len(wraps.stanzas))
    return result


def stage_times(path: Path, chunk: int, cid_version: int) -> dict[str, float]:
    """CPU seconds of each stage alone, single-threaded, over the file (plaintext stands
    in for the ciphertext in the CID stage: same cost). CPU time, not wall time, so that
    a busy machine does not distort the split."""
    times: dict[str, float] = {}
    buf = bytearray(chunk)
    view = memoryview(buf)

    def over_file(work: Callable[[memoryview, bool], object]) -> float:
        size = path.stat().st_size
        done = 0
        t0 = time.process_time()
        with path.open("rb", buffering=0) as f:
            while n := f.readinto(view):
                done += n
                work(view[:n], done >= size)
        return time.process_time() - t0

    times["read only"] = over_file(lambda v, final: None)
    h = hashlib.sha256()
    times["sha256 (hashlib)"] = over_file(lambda v, final: h.update(v))
    enc = Encryptor(generate_data_key(), chunk)
    times["AES-GCM seal (Encryptor)"] = over_file(lambda v, final: enc.seal(v, final) and None)
    imp = FileImporter(cid_version=cid_version)
    times["CID (FileImporter, chunk-aligned)"] = over_file(lambda v, final: imp.write(v))
    imp2 = FileImporter(cid_version=cid_version)
    imp2.write(b"\0" * 54)  # the container header shifts every later chunk
    times["CID (FileImporter, misaligned)"] = over_file(lambda v, final: imp2.write(v))
    return times


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--size", default="1G", help="file size, e.g. 1G, 256M (default 1G)")
    ap.add_argument("--chunk", default="1M", help="encryption chunk = read size (default 1M)")
    ap.add_argument("--pool", type=int, default=8, help="plaintext buffers in flight")
    ap.add_argument("--cid-version", type=int, default=1, choices=(0, 1))
    ap.add_argument("--write", action="store_true",
                    help="also write the ciphertext to the temp dir (adds disk I/O that "
                    "openssl's pass does not have)")
    ap.add_argument("--stages", action="store_true", help="also time each stage alone")
    ap.add_argument("--dir", default=None, help="temporary directory (default: system tmp)")
    args = ap.parse_args()
    size, chunk = parse_size(args.size), parse_size(args.chunk)

    tmp = Path(tempfile.mkdtemp(prefix="chainarb-ingest-", dir=args.dir))
    try:
        src = tmp / "evidence.bin"
        t0 = time.perf_counter()
        make_file(src, size)
        print(f"file: {size / MiB:.0f} MiB generated in {time.perf_counter() - t0:.1f} s "
              f"({tmp})")
        ossl_s, ossl_cpu, ossl_hex = openssl_sha256(src)
        rss_before = peak_rss_mb()
        cpu0 = _cpu()
        t0 = time.perf_counter()
        res = ingest(src, tmp / "evidence.enc" if args.write else None, chunk=chunk,
                     pool=args.pool, cid_version=args.cid_version)
        ours_s = time.perf_counter() - t0
        ours_cpu = _cpu() - cpu0
        assert res["sha256"].hex() == ossl_hex, "our SHA-256 differs from openssl's"
        expected_ct = size + 54 + TAG_SIZE * max(1, -(-size // chunk))
        assert res["ciphertext_size"] == expected_ct
        mb = size / 1e6
        print(f"openssl dgst -sha256:            {mb / ossl_s:8.0f} MB/s  ({ossl_s:.3f} s)")
        print(f"ingest (sha256+encrypt+CID{'+write' if args.write else ''}): "
              f"{mb / ours_s:8.0f} MB/s  ({ours_s:.3f} s)")
        print(f"  sha256     {res['sha256'].hex()}")
        print(f"  commitment 0x{res['commitment'].hex()}")
        print(f"  CIDv{args.cid_version} of the container {res['cid']} "
              f"({res['ciphertext_size']} bytes)")
        print(f"peak RSS: {peak_rss_mb():.0f} MB (before the pass {rss_before:.0f} MB; "
              f"chunk {chunk // 1024} KiB x pool {args.pool})")
        gb = size / 1e9
        print(f"CPU time per GB: openssl {ossl_cpu / gb:.2f} s, ours {ours_cpu / gb:.2f} s "
              f"over {ours_cpu / ours_s:.2f} cores on average (a loaded machine slows wall "
              "time, not CPU time)")
        if args.write:  # not timed: the written container has the CID we computed
            from evidence.ipfs import add_file

            assert str(add_file(tmp / "evidence.enc", cid_version=args.cid_version)) == str(
                res["cid"]), "CID of the written container differs"
        if args.stages:
            for name, secs in stage_times(src, chunk, args.cid_version).items():
                print(f"  stage alone: {name:36s} {secs / gb:6.2f} CPU s per GB")
        print(f"ingest_vs_openssl_sha256={ossl_s / ours_s:.2f}")
    finally:
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
