"""A local carrier simulator: signs its webhooks as a real carrier or marketplace would.

It stands in for a real carrier in the tests and for a demonstration against a running
service; it holds its own key (a shared HMAC secret, an Ed25519 key or a secp256k1 key),
prints the sender configuration the institution enters in ``CHAINARB_WEBHOOK_SENDERS``,
numbers each shipment's events and signs each request exactly as
docs/performance-evidence.md specifies. Nothing in the service trusts it more than any
other sender.

Command line (a running ``chainarb serve``; 中文说明见 --help)::

    python -m backend.performance.simulator config --sender sim-express --scheme ed25519 \\
        --key-file sim.key                    # prints the sender's JSON config
    python -m backend.performance.simulator send --url http://127.0.0.1:8000 \\
        --sender sim-express --scheme ed25519 --key-file sim.key --order 7 \\
        --shipment SIM1 shipped in_transit delivered_signed --signed-by "Li Wei"
"""

from __future__ import annotations

import argparse
import hashlib
import json
import secrets
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import TYPE_CHECKING, Any, Protocol

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat
from eth_account import Account

from ._events import EventType, PerformanceEvent
from ._webhook import SIGNATURE_HEADER, TIMESTAMP_HEADER, Scheme, SenderConfig, sign_webhook

if TYPE_CHECKING:
    import httpx

__all__ = ["CarrierSimulator", "main"]


def _now() -> float:
    return time.time()


class Poster(Protocol):
    """What sends the request: an ``httpx.Client`` or a FastAPI ``TestClient``."""

    def post(self, url: str, *, content: bytes, headers: dict[str, str]) -> httpx.Response: ...


@dataclass
class CarrierSimulator:
    """One sender: its id, scheme and private key; it numbers events per shipment."""

    sender_id: str
    scheme: Scheme
    key: bytes  # HMAC secret (ASCII), Ed25519 seed or secp256k1 private key
    clock: Callable[[], float] = _now
    _sequences: dict[str, int] = field(default_factory=dict)

    @classmethod
    def new(cls, sender_id: str, scheme: Scheme | str,
            clock: Callable[[], float] = _now) -> CarrierSimulator:
        """A simulator with a fresh key of its scheme."""
        scheme = Scheme(scheme)
        key = secrets.token_hex(32).encode() if scheme is Scheme.HMAC_SHA256 \
            else secrets.token_bytes(32)
        return cls(sender_id, scheme, key, clock)

    def config(self, name: str = "Simulated Express", name_zh: str = "模拟快递",
               **extra: Any) -> SenderConfig:
        """The configuration the institution enters for this sender."""
        keyed: dict[str, Any]
        if self.scheme is Scheme.HMAC_SHA256:
            keyed = {"secret": self.key.decode()}
        elif self.scheme is Scheme.ED25519:
            pub = Ed25519PrivateKey.from_private_bytes(self.key).public_key()
            keyed = {"public_key": "0x" + pub.public_bytes(Encoding.Raw, PublicFormat.Raw).hex()}
        else:
            keyed = {"address": Account.from_key(self.key).address}
        return SenderConfig(id=self.sender_id, name=name, name_zh=name_zh,
                            scheme=self.scheme, **keyed, **extra)

    def config_json(self, **kw: Any) -> dict[str, object]:
        cfg = self.config(**kw).model_dump(mode="json", exclude_none=True)
        if self.scheme is Scheme.HMAC_SHA256:
            cfg["secret"] = self.key.decode()
        return dict(cfg)

    def event(self, order_id: int, shipment: str, type: EventType | str, *,
              occurred_at: datetime | None = None, sequence: int | None = None,
              event_id: str | None = None, **fields: str) -> PerformanceEvent:
        """The shipment's next event (its sequence one above the last one made)."""
        seq = sequence if sequence is not None else self._sequences.get(shipment, 0) + 1
        self._sequences[shipment] = max(seq, self._sequences.get(shipment, 0))
        at = occurred_at or datetime.fromtimestamp(int(self.clock()), UTC)
        return PerformanceEvent(
            event_id=event_id or f"{self.sender_id}:{shipment}:{seq}", order_id=order_id,
            shipment=shipment, sequence=seq, type=EventType(type), occurred_at=at,
            location=fields.get("location", ""), signed_by=fields.get("signed_by", ""),
            note=fields.get("note", ""))

    @staticmethod
    def body(event: PerformanceEvent) -> bytes:
        return json.dumps(event.to_json_obj(), separators=(",", ":"),
                          ensure_ascii=False).encode()

    def request(self, event: PerformanceEvent | bytes, *, timestamp: int | None = None
                ) -> tuple[str, dict[str, str], bytes]:
        """(path, headers, body) of the signed webhook for ``event`` (or raw body bytes)."""
        body = event if isinstance(event, bytes) else self.body(event)
        ts = str(timestamp if timestamp is not None else int(self.clock()))
        key: bytes | str = self.key
        sig = sign_webhook(self.scheme, key, self.sender_id, ts, body)
        return (f"/webhooks/{self.sender_id}",
                {TIMESTAMP_HEADER: ts, SIGNATURE_HEADER: sig,
                 "Content-Type": "application/json"}, body)

    def send(self, client: Poster, event: PerformanceEvent | bytes, *,
             base_url: str = "", timestamp: int | None = None) -> httpx.Response:
        path, headers, body = self.request(event, timestamp=timestamp)
        return client.post(base_url + path, content=body, headers=headers)


def _load_key(path: Path, scheme: Scheme) -> bytes:
    """The key file's key, made (and written, mode 0600) when the file does not exist."""
    if path.exists():
        text = path.read_text().strip()
        return text.encode() if scheme is Scheme.HMAC_SHA256 else bytes.fromhex(text)
    sim = CarrierSimulator.new("x", scheme)
    path.touch(mode=0o600)
    path.write_text(sim.key.decode() if scheme is Scheme.HMAC_SHA256 else sim.key.hex())
    return sim.key


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m backend.performance.simulator",
        description="A local carrier that signs its webhooks (stands in for a real carrier). "
        "本地承运人模拟器：像真实承运人一样为其回调签名（仅用于测试与演示）。")
    sub = parser.add_subparsers(dest="command", required=True)
    for name in ("config", "send"):
        p = sub.add_parser(name)
        p.add_argument("--sender", required=True, help="sender id / 发送方标识")
        p.add_argument("--scheme", choices=[s.value for s in Scheme], default="ed25519")
        p.add_argument("--key-file", type=Path, required=True,
                       help="the simulator's key (made if missing) / 模拟器密钥文件")
        p.add_argument("--name", default="Simulated Express")
        p.add_argument("--name-zh", default="模拟快递")
    send = sub.choices["send"]
    send.add_argument("--url", required=True, help="the service / 服务地址")
    send.add_argument("--order", type=int, required=True)
    send.add_argument("--shipment", required=True)
    send.add_argument("--signed-by", default="")
    send.add_argument("--first-sequence", type=int, default=1)
    send.add_argument("events", nargs="+", choices=[t.value for t in EventType])
    args = parser.parse_args(argv)
    scheme = Scheme(args.scheme)
    sim = CarrierSimulator(args.sender, scheme, _load_key(args.key_file, scheme))
    if args.command == "config":
        print(json.dumps(sim.config_json(name=args.name, name_zh=args.name_zh),
                         ensure_ascii=False))
        return 0
    import httpx

    failed = 0
    with httpx.Client(timeout=30) as client:
        for n, kind in enumerate(args.events):
            event = sim.event(args.order, args.shipment, kind,
                              sequence=args.first_sequence + n,
                              signed_by=args.signed_by if kind == "delivered_signed" else "")
            r = sim.send(client, event, base_url=args.url.rstrip("/"))
            ok = r.status_code == 201
            failed += not ok
            body = r.json()
            what = f"item {body.get('id')}" if ok else f"{body.get('code')}: {body.get('detail')}"
            print(f"{event.event_id} {kind}: {r.status_code} {what} "
                  f"({'recorded / 已记录' if ok else 'refused / 被拒绝'})")
    digest = hashlib.sha256(sim.key).hexdigest()[:8]
    print(f"sender {args.sender} ({scheme.value}, key {digest}…): {len(args.events) - failed} "
          f"recorded, {failed} refused / 已记录 {len(args.events) - failed}，被拒绝 {failed}")
    return 1 if failed else 0


if __name__ == "__main__":  # pragma: no cover
    sys.exit(main())
