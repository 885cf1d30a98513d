"""A real IPFS node for tests: Helia (scripts/ipfs-node.mjs) serving the kubo RPC subset.

``running_ipfs_node(base)`` starts one on 127.0.0.1 (port chosen by the OS, repo under
``base``) and stops it on exit; test modules wrap it in their own fixture with the scope
they need (tests/evidence/test_kubo.py, tests/backend/demo/test_closed_loop_external.py).
"""

from __future__ import annotations

import subprocess
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from multiformats import CID

from evidence.ipfs import LocalBlockstore

ROOT = Path(__file__).resolve().parents[1]
NODE_SCRIPT = ROOT / "scripts/ipfs-node.mjs"


class IpfsNode:
    def __init__(self, url: str, repo: Path, process: subprocess.Popen[str]) -> None:
        self.url = url
        self.repo = repo
        self.process = process

    def block_file(self, cid: CID) -> Path:
        """blockstore-fs names a block file by the base32 of its multihash (like flatfs)."""
        key = LocalBlockstore(self.repo.parent / "layout", fsync=False).path_of(cid).stem
        (path,) = self.repo.glob(f"*/*{key}.data")
        return path


@contextmanager
def running_ipfs_node(base: Path) -> Iterator[IpfsNode]:
    """A Helia node serving the kubo RPC API on 127.0.0.1 until the block exits."""
    repo, log = base / "repo", base / "node.log"
    with open(log, "w") as stderr:  # a file, not a pipe: a full pipe would stall the node
        process = subprocess.Popen(
            ["node", str(NODE_SCRIPT), "--repo", str(repo), "--port", "0"],
            cwd=ROOT, stdout=subprocess.PIPE, stderr=stderr, text=True,
        )
    first_line: list[str] = []
    assert process.stdout is not None
    stdout = process.stdout
    reader = threading.Thread(target=lambda: first_line.append(stdout.readline()), daemon=True)
    reader.start()
    reader.join(timeout=30)
    try:
        if not first_line or not first_line[0].startswith("listening on http://127.0.0.1:"):
            raise RuntimeError(f"IPFS node did not start: {log.read_text()[-2000:]}")
        yield IpfsNode(first_line[0].split()[-1], repo, process)
    finally:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
        stdout.close()
