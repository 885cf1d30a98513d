"""The monitor's edge: the service's public log API over HTTP, and the chain's anchors.

`HttpLogService` answers the `evidence.monitor.LogService` port with GET requests to
`/log/...` (docs/api.md); `chain_anchor_check` confirms on a chain the monitor's user
chooses that a checkpoint's batch root was anchored by the institution's key and that the
checkpoint is a leaf of that batch. Every answer is read through the bounded JSON reader.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

import httpx

from evidence import safejson
from evidence.errors import EvidenceError, FormatError
from evidence.judicial import _logapi as api
from evidence.monitor import AnchorCheck, AnchoredCheckpoint
from evidence.safejson import JsonObject

if TYPE_CHECKING:
    from web3 import Web3

__all__ = ["HttpLogService", "ServiceUnreachable", "chain_anchor_check"]

MAX_ANSWER = 64 << 20
PAGE = 100
MAX_PAGES = 10_000
MAX_SCAN = 20_000
"""Most new entries one run reads (one request each); the rest are reported unread."""


class ServiceUnreachable(EvidenceError):  # noqa: N818 - names the situation
    """The service did not answer (or answered an error): the run could not complete."""


def _hexes(value: Any) -> list[bytes]:
    if not isinstance(value, list):
        raise FormatError("expected a list of 0x-hex strings")
    return [bytes.fromhex(str(v).removeprefix("0x")) for v in value]


class HttpLogService:
    """GET /log/... of one service (and GET /cases/{id} with a bearer token, if given)."""

    def __init__(self, base_url: str, *, token: str | None = None,
                 client: httpx.Client | None = None, timeout: float = 20.0) -> None:
        self.base = base_url.rstrip("/")
        self.token = token
        self.http = client or httpx.Client(timeout=timeout)

    def _get(self, path: str, **params: Any) -> Any:
        headers = {"Accept": "application/json"}
        if self.token and (path == "/cases" or path.startswith("/cases/")):
            headers["Authorization"] = f"Bearer {self.token}"
        try:
            r = self.http.get(self.base + path, params=params or None, headers=headers)
        except httpx.HTTPError as exc:
            raise ServiceUnreachable(f"GET {path}: {type(exc).__name__}") from None
        if r.status_code != 200:
            raise ServiceUnreachable(f"GET {path}: HTTP {r.status_code}")
        if "json" not in r.headers.get("content-type", ""):
            return r.text
        return safejson.loads(r.content, what=path, max_bytes=MAX_ANSWER)

    @staticmethod
    def _note(obj: Any) -> bytes:
        if isinstance(obj, str):
            return obj.encode()
        if isinstance(obj, dict):
            for key in ("checkpoint", "note", "signedNote"):
                if isinstance(obj.get(key), str):
                    return str(obj[key]).encode()
        raise FormatError("the answer holds no signed checkpoint")

    def checkpoint(self) -> bytes:
        return self._note(self._get("/log/checkpoint"))

    def anchored(self) -> list[AnchoredCheckpoint]:
        """Every anchored checkpoint, page by page (`after` = the last size seen)."""
        out: list[AnchoredCheckpoint] = []
        after = -1
        for _ in range(MAX_PAGES):
            data = self._get("/log/checkpoints", after=after, limit=PAGE)
            rows = data.get("checkpoints", []) if isinstance(data, dict) else []
            if not isinstance(rows, list):
                raise FormatError("/log/checkpoints: expected a list of checkpoints")
            for row in rows:
                if not isinstance(row, dict):
                    continue
                anchors = row.get("anchors", [])
                batch = row.get("batch")
                out.append(AnchoredCheckpoint(
                    self._note(row), tuple(a for a in anchors if isinstance(a, dict))
                    if isinstance(anchors, list) else (),
                    batch if isinstance(batch, dict) else {}))
                after = max(after, int(row.get("size", after)))
            if len(rows) < PAGE:
                break
        return out

    def _proof(self, path: str, **params: Any) -> list[bytes]:
        data = self._get(path, **params)
        if not isinstance(data, dict):
            raise FormatError(f"{path}: expected an object")
        return _hexes(data.get("proof"))

    def consistency(self, old: int, new: int) -> list[bytes]:
        return self._proof("/log/proof/consistency", **{"from": old, "to": new})

    def _inclusion(self, index: int, size: int) -> dict[str, Any]:
        data = self._get("/log/proof/inclusion", index=index, size=size)
        if not isinstance(data, dict) or not isinstance(data.get("inclusion"), dict):
            raise FormatError("/log/proof/inclusion: expected {entry, inclusion}")
        return data

    def inclusion(self, index: int, size: int) -> list[bytes]:
        return _hexes(self._inclusion(index, size)["inclusion"].get("proof"))

    def entries(self, start: int, end: int) -> list[bytes]:
        """The entries start..end-1, each as the service states it with its proof (the
        monitor checks each case entry's proof itself); at most MAX_SCAN per run."""
        from evidence.log import LogEntry

        out = []
        for index in range(start, min(end, start + MAX_SCAN)):
            e = self._inclusion(index, end).get("entry")
            if not isinstance(e, dict):
                raise FormatError(f"/log/proof/inclusion: entry {index} missing")
            out.append(LogEntry.from_json({k: e.get(k) for k in
                                           ("kind", "caseId", "recordHash", "signaturesHash")}
                                          ).encode())
        return out

    def case_log(self, case_id: str, size: int) -> tuple[list[Any], list[tuple[int, bytes]]]:
        """The case's place in the signed per-case index of the checkpoint of `size` (its
        head, or its neighbours) and its entries below `size` (GET /log/case/{case})."""
        data = self._get(f"/log/case/{case_id}", size=size)
        if not isinstance(data, dict) or not isinstance(data.get("heads"), list) or \
                not isinstance(data.get("entries"), list):
            raise FormatError("/log/case: expected {heads, entries}")
        out = []
        for e in data["entries"]:
            if not isinstance(e, dict) or not isinstance(e.get("index"), int):
                raise FormatError("/log/case: an entry without its index")
            out.append((e["index"], _hexes([e.get("entry")])[0]))
        return data["heads"], out

    def cases(self) -> list[str]:
        """The cases the token's key may see (GET /cases): their ids, checked in shape."""
        if not self.token:
            raise ServiceUnreachable("listing the cases needs a session token")
        rows = self._get("/cases")
        if not isinstance(rows, list):
            raise FormatError("GET /cases: expected a list")
        out = []
        for row in rows:
            case = row.get("caseId") if isinstance(row, dict) else None
            if not isinstance(case, str) or len(case) != 66 or not case.startswith("0x") \
                    or any(ch not in "0123456789abcdef" for ch in case[2:].lower()):
                raise FormatError("GET /cases: a row without a case id")
            out.append(case.lower())
        return out

    def case_view(self, case_id: str) -> JsonObject | None:
        if not self.token:
            return None
        data = self._get(f"/cases/{case_id}")
        return data if isinstance(data, dict) else None


def chain_anchor_check(w3: Web3) -> AnchorCheck:
    """An `AnchorCheck` over `w3`: for each anchor row of the checkpoint on `w3`'s chain,
    the transaction's receipt holds `RootAnchored(batch root)` sent by an institution key,
    and the checkpoint's leaf is proven into that root (the batch's `proof`). Rows of
    other chains are not judged; a checkpoint with no row on this chain is "not anchored
    here"."""
    from eth_typing import HexStr
    from eth_utils import to_checksum_address

    from evidence.events import ROOT_ANCHORED, address_of, decode_events

    chain_id = int(w3.eth.chain_id)

    def check(a: AnchoredCheckpoint, keys: Sequence[str]) -> str | None:
        rows = [r for r in a.anchors if str(r.get("chainId")) == str(chain_id)]
        if not rows:
            return f"no anchoring on chain {chain_id}"
        encoding, value = api.checkpoint_leaf(a.note)
        for row in rows:
            try:
                root = bytes.fromhex(str(a.batch["root"]).removeprefix("0x"))
                proof = _hexes(a.batch.get("proof", []))
                receipt = w3.eth.get_transaction_receipt(HexStr(str(row["txHash"])))
                contract = to_checksum_address(str(row["contract"]))
            except Exception as exc:  # a node error or a malformed row: not confirmed
                return f"anchor row unreadable or unknown to the chain ({type(exc).__name__})"
            if not api.oz_leaf_proven(encoding, value, proof, root):
                return f"the checkpoint is not a leaf of root 0x{root.hex()}"
            logs = [dict(log) for log in receipt["logs"]]
            events = decode_events(logs, ROOT_ANCHORED, address=contract)
            anchorers = {to_checksum_address(address_of(e.args, "anchorer")) for e in events
                         if e.args["root"] == root}
            if int(receipt["status"]) != 1 or not anchorers & set(keys):
                return (f"transaction {row['txHash']} did not anchor root 0x{root.hex()} from "
                        "the institution's key")
        return None

    return check
