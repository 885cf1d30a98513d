"""The chain a user never starts: an anvil node this program runs, its state on disk.

Theory of operation (figures and the alternatives weighed are in docs/chain.md):

* ``open_chain(settings)`` with an empty ``CHAIN_RPC_URL`` opens the *embedded* chain of
  ``<data_dir>/chain``. The first process to open it takes an exclusive ``flock`` on
  ``chain/node.lock``, starts anvil on 127.0.0.1 from the newest intact state file with a port
  the OS picks, and writes ``chain/node.json`` (pid, url). Any other process on the same
  data dir finds the lock taken and attaches to that node's URL instead of starting a second
  chain from the same file (two writers would fork the history).
* Durability. anvil keeps the chain in memory. Its state file holds every block, transaction
  and receipt. Two files hold it: ``state.json``, which anvil writes when it exits on
  SIGTERM (``--dump-state``), and ``state.flushed.json``, written by ``ChainHandle.flush()``
  and by the owner's flusher thread every ``STATE_INTERVAL_SECONDS`` when the chain moved,
  from ``anvil_dumpState``, atomically (temp file, fsync, rename). anvil writes in place
  (truncate, then write), so a kill during its exit dump tears ``state.json``; at start the
  newest file that parses (highest block number) is loaded and a torn one is set aside.
  anvil's own ``--state-interval`` is not used for the same reason. Writers of state that other
  records depend on (the anchoring worker before it marks a batch confirmed, the service
  after an escrow transaction) call ``flush()``: the chain is on disk before the database
  says it happened. The owner's process exit (normal, exception, SIGTERM, even SIGKILL via
  ``PR_SET_PDEATHSIG``) makes anvil exit gracefully and dump; only a SIGKILL of anvil itself
  or a machine crash loses what happened since the last flush (see docs/chain.md).
* Time. anvil does not persist its clock offset, so after a restart the wall clock could be
  behind the last block's timestamp (the demo moves time forward by days). On start the
  node's clock is moved to max(saved offset, last block time + 1 - now): block times never
  go backwards. ``increase_time`` records the new offset in ``chain/time.json``.
* The embedded chain's id is fixed (``EMBEDDED_CHAIN_ID``) and its hardfork is cancun
  (OpenZeppelin 5 needs ``mcopy``; anvil's newer default differs from our target chains).
"""

from __future__ import annotations

import atexit
import contextlib
import ctypes
import fcntl
import gzip
import json
import logging
import os
import re
import signal
import subprocess
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, Any

from web3 import Web3
from web3.providers.rpc import HTTPProvider
from web3.types import RPCEndpoint

from backend.chain.anvil import INSTALL_HINT, find_anvil, missing_anvil
from backend.settings import EMBEDDED_CHAIN_ID, Settings

__all__ = [
    "ChainHandle",
    "EmbeddedNode",
    "GatewayError",
    "NodeStartError",
    "TimeControlUnavailableError",
    "WrongChainError",
    "open_chain",
    "open_rpc",
]

STATE_INTERVAL_SECONDS = 5
START_TIMEOUT_SECONDS = 20.0
DEV_BALANCE_WEI = 10**24  # 1,000,000 ETH for the embedded institution account
_PR_SET_PDEATHSIG = 1
log = logging.getLogger(__name__)


class GatewayError(Exception):
    """Base of the chain gateway's errors."""


class NodeStartError(GatewayError):
    """The embedded node could not be started or reached."""


class WrongChainError(GatewayError):
    """The node's chain id is not the configured one."""


class TimeControlUnavailableError(GatewayError):
    """Only the embedded chain or a dev node (anvil, Hardhat) can move time."""


@dataclass
class ChainHandle:
    """An open chain: a `Web3`, its id, time control and `close()`.

    `flush()` makes the embedded chain's state durable (no-op on an external node);
    `increase_time(s)` moves block time forward and mines a block (dev chains only).
    """

    w3: Web3
    chain_id: int
    rpc_url: str
    embedded: bool
    _node: EmbeddedNode | None = field(default=None, repr=False)
    _closed: bool = field(default=False, repr=False)

    def flush(self) -> None:
        if self._node is not None:
            self._node.flush()

    def increase_time(self, seconds: int) -> int:
        """Advance block time by `seconds` and mine a block; returns its timestamp."""
        if seconds < 0:
            raise ValueError(f"time only moves forward: expected seconds >= 0, found {seconds}")
        try:
            self._rpc("evm_increaseTime", [int(seconds)])
            self._rpc("evm_mine", [])
        except GatewayError as exc:
            raise TimeControlUnavailableError(
                f"{self.rpc_url} refused evm_increaseTime/evm_mine ({exc}); time can be moved "
                "only on the embedded chain or a development node"
            ) from None
        ts = int(self.w3.eth.get_block("latest")["timestamp"])
        if self._node is not None:
            self._node.save_time_offset(ts)
            self._node.flush()
        return ts

    def mine(self) -> None:
        self._rpc("evm_mine", [])

    def _rpc(self, method: str, params: list[Any]) -> Any:
        response = self.w3.provider.make_request(RPCEndpoint(method), params)
        if "error" in response:
            raise GatewayError(f"{method}: {response['error']}")
        return response.get("result")

    def close(self) -> None:
        """Stop the embedded node if this handle started it (its state is dumped first)."""
        if self._closed:
            return
        self._closed = True
        if self._node is not None:
            self._node.stop()

    def __enter__(self) -> ChainHandle:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def _set_pdeathsig() -> None:  # runs in the child between fork and exec
    with contextlib.suppress(Exception):
        ctypes.CDLL("libc.so.6", use_errno=True).prctl(_PR_SET_PDEATHSIG, signal.SIGTERM)


class EmbeddedNode:
    """The anvil process behind the embedded chain of one data directory."""

    def __init__(self, chain_dir: Path, *, anvil_bin: Path | None = None,
                 chain_id: int = EMBEDDED_CHAIN_ID) -> None:
        self.dir = chain_dir.resolve()
        self.state_file = self.dir / "state.json"  # anvil's exit dump
        self.flushed_file = self.dir / "state.flushed.json"  # our atomic flushes
        self.info_file = chain_dir / "node.json"
        self.time_file = chain_dir / "time.json"
        self.anvil_bin = anvil_bin  # None: found when the node starts (backend.chain.anvil)
        self.chain_id = chain_id
        self.url = ""
        self.owner = False
        self._proc: subprocess.Popen[str] | None = None
        self._lock_fh: IO[str] | None = None
        self._flush_lock = threading.Lock()
        self._stop_flusher = threading.Event()
        self._flusher: threading.Thread | None = None

    # -- start / attach ------------------------------------------------------------------
    def start(self) -> str:
        """Start (or attach to) the node; returns its URL."""
        self.dir.mkdir(parents=True, exist_ok=True)
        fh = (self.dir / "node.lock").open("a+")
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            fh.close()
            self.url = self._attach()
            return self.url
        self._lock_fh = fh
        self.owner = True
        try:
            self.url = self._spawn()
        except BaseException:
            self._release()
            raise
        atexit.register(self.stop)
        self._flusher = threading.Thread(target=self._flush_periodically,
                                         name="chainarb-chain-flush", daemon=True)
        self._flusher.start()
        return self.url

    def _flush_periodically(self) -> None:
        last: object = None
        while not self._stop_flusher.wait(STATE_INTERVAL_SECONDS):
            try:
                w3 = Web3(HTTPProvider(self.url, request_kwargs={"timeout": 10}))
                latest = w3.eth.get_block("latest")
                mark = (latest["number"], bytes(latest["hash"]))
                if mark != last:
                    self.flush()
                    last = mark
            except Exception:  # node stopping or busy: the next tick, or the exit dump
                continue

    def _stop_orphan(self) -> None:
        """Stop a node left running by an owner that died without stopping it.

        Its lock is gone with its owner, but the node may still hold newer state than the
        file (or be writing it): SIGTERM makes it dump, and we wait before loading the file.
        """
        try:
            pid = int(json.loads(self.info_file.read_text())["pid"])
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except (OSError, ValueError, KeyError):
            return
        if b"anvil" not in cmdline or str(self.state_file).encode() not in cmdline:
            return  # the pid was reused by another program
        with contextlib.suppress(ProcessLookupError):
            os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            if Path(f"/proc/{pid}/stat").read_text().split()[2] == "Z":
                return  # exited; its parent (gone) never reaped it
            time.sleep(0.02)
        raise NodeStartError(f"an orphaned anvil (pid {pid}) on {self.state_file} did not stop")

    def _load_args(self) -> list[str]:
        """`--load-state` of the newest state file that parses; torn files are set aside."""
        best: tuple[int, Path] | None = None
        for path in (self.state_file, self.flushed_file):
            if not path.exists():
                continue
            try:
                raw = json.loads(path.read_bytes())
                number = raw.get("best_block_number", 0)
                number = int(number, 16) if isinstance(number, str) else int(number)
            except (ValueError, TypeError, AttributeError):
                aside = path.with_name(f"{path.name}.torn-{int(time.time())}")
                os.replace(path, aside)
                log.warning("chain state %s is unreadable; moved to %s", path, aside)
                continue
            if best is None or number > best[0]:
                best = (number, path)
        return [] if best is None else ["--load-state", str(best[1])]

    def _spawn(self) -> str:
        self._stop_orphan()
        anvil = self.anvil_bin or find_anvil()
        if anvil is None or not anvil.is_file():
            raise NodeStartError(missing_anvil() if anvil is None
                                 else f"anvil not found at {anvil}; {INSTALL_HINT}")
        args = [
            str(anvil), "--host", "127.0.0.1", "--port", "0",
            "--chain-id", str(self.chain_id), "--hardfork", "cancun",
            *self._load_args(), "--dump-state", str(self.state_file),
            "--accounts", "1", "--no-request-size-limit",
        ]
        in_main_thread = threading.current_thread() is threading.main_thread()
        # PDEATHSIG fires when the *thread* that forked exits: only safe from the main thread.
        self._proc = subprocess.Popen(
            args, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
            stdin=subprocess.DEVNULL, start_new_session=True,
            preexec_fn=_set_pdeathsig if in_main_thread else None,
        )
        url = self._read_listen_address(self._proc)
        # Drain anvil's output so a full pipe never blocks it.
        threading.Thread(target=self._drain, args=(self._proc,), daemon=True).start()
        tmp = self.info_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"pid": self._proc.pid, "url": url, "owner": os.getpid()}))
        os.replace(tmp, self.info_file)
        return url

    @staticmethod
    def _drain(proc: subprocess.Popen[str]) -> None:
        assert proc.stdout is not None
        for _ in proc.stdout:
            pass

    def _read_listen_address(self, proc: subprocess.Popen[str]) -> str:
        assert proc.stdout is not None
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        seen: list[str] = []
        while time.monotonic() < deadline:
            line = proc.stdout.readline()
            if not line:
                break
            seen.append(line.rstrip())
            m = re.search(r"Listening on (127\.0\.0\.1:\d+)", line)
            if m:
                return f"http://{m.group(1)}"
        proc.kill()
        proc.wait()
        tail = "\n".join(seen[-10:])
        raise NodeStartError(
            f"anvil did not report a listening address within {START_TIMEOUT_SECONDS:.0f} s "
            f"(state file {self.state_file}); its last output:\n{tail}\nIf the state file is "
            "corrupt, move it away (the chain then starts empty and contracts are redeployed)."
        )

    def _attach(self) -> str:
        deadline = time.monotonic() + START_TIMEOUT_SECONDS
        while time.monotonic() < deadline:
            try:
                info = json.loads(self.info_file.read_text())
                url = str(info["url"])
                w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": 2}))
                if w3.is_connected():
                    return url
            except (OSError, ValueError, KeyError):
                pass
            time.sleep(0.05)
        raise NodeStartError(
            f"another process holds {self.dir / 'node.lock'} but its node is not reachable "
            f"(see {self.info_file}); stop that process or remove a stale data dir"
        )

    # -- state ---------------------------------------------------------------------------
    def flush(self) -> None:
        """Write the node's full state to disk now, atomically.

        An attached process may flush too: each write is a complete snapshot renamed into
        place, so concurrent flushes cannot tear the file.
        """
        if not self.url or (self.owner and (self._proc is None or self._proc.poll() is not None)):
            return
        with self._flush_lock:
            w3 = Web3(HTTPProvider(self.url, request_kwargs={"timeout": 60}))
            response = w3.provider.make_request(RPCEndpoint("anvil_dumpState"), [])
            if "error" in response:
                raise GatewayError(f"anvil_dumpState: {response['error']}")
            data = gzip.decompress(bytes.fromhex(str(response["result"]).removeprefix("0x")))
            tmp = self.dir / f"state.flush{os.getpid()}.tmp"
            with tmp.open("wb") as fh:
                fh.write(data)
                fh.flush()
                os.fsync(fh.fileno())
            os.replace(tmp, self.flushed_file)
            dir_fd = os.open(self.dir, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def saved_time_offset(self) -> int:
        try:
            return int(json.loads(self.time_file.read_text())["offset"])
        except (OSError, ValueError, KeyError):
            return 0

    def save_time_offset(self, latest_block_time: int) -> None:
        offset = max(0, latest_block_time - int(time.time()))
        tmp = self.time_file.with_suffix(".tmp")
        tmp.write_text(json.dumps({"offset": offset}))
        os.replace(tmp, self.time_file)

    # -- stop ----------------------------------------------------------------------------
    def stop(self) -> None:
        """SIGTERM the node (anvil dumps its state on exit), wait, release the lock."""
        self._stop_flusher.set()
        if self._flusher is not None and self._flusher is not threading.current_thread():
            self._flusher.join(timeout=30)
        self._flusher = None
        proc, self._proc = self._proc, None
        if proc is not None and proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(timeout=30)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait()
        if self.owner:
            with contextlib.suppress(OSError):
                self.info_file.unlink()
        self._release()

    def _release(self) -> None:
        if self._lock_fh is not None:
            with contextlib.suppress(OSError):
                fcntl.flock(self._lock_fh, fcntl.LOCK_UN)
            self._lock_fh.close()
            self._lock_fh = None


def open_rpc(url: str, *, expected_chain_id: int | None = None, timeout: float = 30) -> ChainHandle:
    """A handle on any JSON-RPC node (anvil in tests, an L2, mainnet)."""
    w3 = Web3(HTTPProvider(url, request_kwargs={"timeout": timeout}))
    try:
        chain_id = int(w3.eth.chain_id)
    except Exception as exc:
        raise NodeStartError(f"no JSON-RPC node answers at {url}: {exc}") from None
    if expected_chain_id is not None and chain_id != expected_chain_id:
        raise WrongChainError(
            f"expected chain id {expected_chain_id} (CHAINARB_CHAIN_ID), the node at {url} "
            f"reports {chain_id}: wrong node or wrong setting"
        )
    return ChainHandle(w3=w3, chain_id=chain_id, rpc_url=url, embedded=False)


def open_chain(settings: Settings) -> ChainHandle:
    """The chain the settings choose: the embedded one in the data dir, or `CHAIN_RPC_URL`.

    On the embedded chain the institution account is funded (it is a private dev chain).
    """
    if not settings.embedded_chain:
        return open_rpc(settings.chain_rpc_url, expected_chain_id=settings.chain_id)
    node = EmbeddedNode(settings.chain_dir)
    url = node.start()
    try:
        handle = open_rpc(url, expected_chain_id=EMBEDDED_CHAIN_ID)
        handle.embedded = True
        handle._node = node
        if node.owner:
            _restore_clock(handle, node)
            from eth_account import Account

            institution = Account.from_key(settings.institution_private_key()).address
            if handle.w3.eth.get_balance(institution) < DEV_BALANCE_WEI // 2:
                handle._rpc("anvil_setBalance", [institution, hex(DEV_BALANCE_WEI)])
    except BaseException:
        node.stop()
        raise
    return handle


def _restore_clock(handle: ChainHandle, node: EmbeddedNode) -> None:
    """Never let block time run backwards across restarts (anvil forgets its offset)."""
    latest = int(handle.w3.eth.get_block("latest")["timestamp"])
    now = int(time.time())
    offset = max(node.saved_time_offset(), latest + 1 - now)
    if offset > 0:
        handle._rpc("evm_increaseTime", [offset])
