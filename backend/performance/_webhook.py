"""Signed webhooks: the per-sender configuration, the signed message and its three schemes.

A carrier or marketplace (a *sender*) posts one event per request to
``POST /webhooks/{sender}``. It signs ``SIGNED_PREFIX ‖ sender ‖ "\\n" ‖ timestamp ‖ "\\n" ‖
body`` (the raw body bytes, as sent) with the scheme the institution configured for it:

* ``hmac-sha256``: HMAC-SHA256 with a shared secret (what most carriers offer);
* ``ed25519``: an Ed25519 signature, checked against the sender's public key;
* ``secp256k1``: an EIP-191 ``personal_sign`` of the message's SHA-256 (what an EVM wallet
  or HSM signs), recovered to the sender's configured address.

Why the scheme comes from the configuration and never from the request: a header naming it
would let a forger choose the weakest. Why the timestamp is signed and checked against a
window: a captured request cannot be replayed later, and the event id (unique per sender)
refuses it within the window (docs/performance-evidence.md, "Refusals").
"""

from __future__ import annotations

import hashlib
import hmac
import re
from collections.abc import Iterable
from enum import StrEnum
from typing import TypedDict

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import (
    Ed25519PrivateKey,
    Ed25519PublicKey,
)
from eth_account import Account
from eth_account.messages import encode_defunct
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator, model_validator

from ._events import EventType

__all__ = [
    "SIGNATURE_HEADER",
    "SIGNED_PREFIX",
    "TIMESTAMP_HEADER",
    "Scheme",
    "SenderConfig",
    "SenderViewJson",
    "WebhookRefused",
    "check_window",
    "key_id",
    "sign_webhook",
    "signed_message",
    "verify_signature",
]

SIGNED_PREFIX = b"chainarb-webhook-v1\n"
TIMESTAMP_HEADER = "Chainarb-Timestamp"
SIGNATURE_HEADER = "Chainarb-Signature"
_SENDER_ID = re.compile(r"[a-z0-9][a-z0-9-]{0,39}")
_HEX = re.compile(r"(0x)?([0-9a-fA-F]+)")


class Scheme(StrEnum):
    HMAC_SHA256 = "hmac-sha256"
    ED25519 = "ed25519"
    SECP256K1 = "secp256k1"


class WebhookRefused(Exception):  # noqa: N818 - names the refusal, as the service's errors
    """A webhook the service does not record as evidence; ``code`` is the API's error code."""

    def __init__(self, code: str, message: str) -> None:
        super().__init__(message)
        self.code = code


class SenderConfig(BaseModel):
    """One sender the institution accepts webhooks from (an item of
    ``CHAINARB_WEBHOOK_SENDERS``, a JSON list). Every field is read at capture."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    id: str = Field(description="The path segment: POST /webhooks/{id}; lower-case letters, "
                    "digits and '-'.")
    name: str = Field(min_length=1, max_length=100, description="Shown in the provenance log "
                      "and on every label, e.g. 'SF Express'.")
    name_zh: str = Field(min_length=1, max_length=100, description="The same in Chinese.")
    scheme: Scheme
    secret: SecretStr | None = Field(default=None, description="hmac-sha256: the shared "
                                     "secret, at least 32 characters.")
    public_key: str | None = Field(default=None, description="ed25519: 0x + 64 hex digits.")
    address: str | None = Field(default=None, description="secp256k1: the signer's address.")
    window_seconds: int = Field(default=300, ge=1, le=86_400, description="How far the "
                                "signed timestamp may be from the service's clock.")
    events: tuple[EventType, ...] = Field(default=tuple(EventType), min_length=1,
                                          description="The event types it may send.")

    @field_validator("id")
    @classmethod
    def _id(cls, value: str) -> str:
        if not _SENDER_ID.fullmatch(value):
            raise ValueError(f"CHAINARB_WEBHOOK_SENDERS id: expected lower-case letters, "
                             f"digits and '-' (1..40), found {value!r}")
        return value

    @model_validator(mode="after")
    def _key_fits_scheme(self) -> SenderConfig:
        given = {n for n in ("secret", "public_key", "address") if getattr(self, n) is not None}
        need = {Scheme.HMAC_SHA256: "secret", Scheme.ED25519: "public_key",
                Scheme.SECP256K1: "address"}[self.scheme]
        if given != {need}:
            raise ValueError(f"CHAINARB_WEBHOOK_SENDERS {self.id}: scheme {self.scheme.value} "
                             f"takes exactly '{need}' (found {sorted(given) or 'none'})")
        if self.secret is not None and len(self.secret.get_secret_value()) < 32:
            raise ValueError(f"CHAINARB_WEBHOOK_SENDERS {self.id}: secret shorter than 32 "
                             "characters")
        if self.public_key is not None:
            m = _HEX.fullmatch(self.public_key)
            if m is None or len(m.group(2)) != 64:
                raise ValueError(f"CHAINARB_WEBHOOK_SENDERS {self.id}: public_key must be "
                                 "0x + 64 hex digits (Ed25519)")
            object.__setattr__(self, "public_key", "0x" + m.group(2).lower())
        if self.address is not None:
            from eth_utils import is_address, to_checksum_address
            if not is_address(self.address):
                raise ValueError(f"CHAINARB_WEBHOOK_SENDERS {self.id}: address is not an "
                                 "EVM address")
            object.__setattr__(self, "address", to_checksum_address(self.address))
        return self


def key_id(sender: SenderConfig) -> str:
    """Which key verified (written in the provenance log): the public key or address, or
    a fingerprint of the shared secret (never the secret)."""
    if sender.secret is not None:
        digest = hashlib.sha256(sender.secret.get_secret_value().encode()).hexdigest()
        return f"hmac-sha256:{digest[:16]}"
    return str(sender.public_key or sender.address)


def signed_message(sender_id: str, timestamp: str, body: bytes) -> bytes:
    return SIGNED_PREFIX + sender_id.encode() + b"\n" + timestamp.encode() + b"\n" + body


def sign_webhook(scheme: Scheme, key: bytes | str, sender_id: str, timestamp: str,
                 body: bytes) -> str:
    """The signature header's value (0x-hex): what a sender computes (the simulator)."""
    msg = signed_message(sender_id, timestamp, body)
    if scheme is Scheme.HMAC_SHA256:
        secret = key.encode() if isinstance(key, str) else key
        return "0x" + hmac.new(secret, msg, hashlib.sha256).hexdigest()
    raw = bytes.fromhex(key.removeprefix("0x")) if isinstance(key, str) else key
    if scheme is Scheme.ED25519:
        return "0x" + Ed25519PrivateKey.from_private_bytes(raw).sign(msg).hex()
    signed = Account.sign_message(encode_defunct(primitive=hashlib.sha256(msg).digest()), raw)
    return "0x" + bytes(signed.signature).hex()


def verify_signature(sender: SenderConfig, timestamp: str, body: bytes,
                     signature: str | None) -> None:
    """Raise ``WebhookRefused`` unless ``signature`` is the sender's over this request."""
    if not signature or not timestamp:
        raise WebhookRefused("webhook_unsigned", f"send the {TIMESTAMP_HEADER} and "
                             f"{SIGNATURE_HEADER} headers (docs/performance-evidence.md)")
    m = _HEX.fullmatch(signature.strip())
    if m is None or len(m.group(2)) % 2:
        raise WebhookRefused("webhook_forged", f"{SIGNATURE_HEADER}: not hex")
    sig = bytes.fromhex(m.group(2))
    msg = signed_message(sender.id, timestamp, body)
    if sender.scheme is Scheme.HMAC_SHA256:
        assert sender.secret is not None
        want = hmac.new(sender.secret.get_secret_value().encode(), msg, hashlib.sha256).digest()
        ok = hmac.compare_digest(want, sig)
    elif sender.scheme is Scheme.ED25519:
        assert sender.public_key is not None
        try:
            Ed25519PublicKey.from_public_bytes(bytes.fromhex(sender.public_key[2:])).verify(
                sig, msg)
            ok = True
        except (InvalidSignature, ValueError):
            ok = False
    else:
        try:
            signer = Account.recover_message(
                encode_defunct(primitive=hashlib.sha256(msg).digest()), signature=sig)
            ok = signer == sender.address
        except Exception:
            ok = False
    if not ok:
        raise WebhookRefused("webhook_forged", f"the signature is not {sender.name}'s "
                             f"({sender.scheme.value}, key {key_id(sender)}) over this "
                             "timestamp and body")


def check_window(sender: SenderConfig, timestamp: str, now: int) -> int:
    """The signed timestamp as unix seconds, if within the sender's window of ``now``."""
    if not re.fullmatch(r"[0-9]{1,12}", timestamp):
        raise WebhookRefused("webhook_stale", f"{TIMESTAMP_HEADER}: expected unix seconds, "
                             f"found {timestamp!r:.40}")
    at = int(timestamp)
    if abs(now - at) > sender.window_seconds:
        raise WebhookRefused("webhook_stale", f"signed at {at}, {now - at:+d} s from the "
                             f"service's clock; {sender.name} is allowed "
                             f"±{sender.window_seconds} s (a replayed or delayed request)")
    return at


def senders_by_id(senders: Iterable[SenderConfig]) -> dict[str, SenderConfig]:
    out: dict[str, SenderConfig] = {}
    for s in senders:
        if s.id in out:
            raise ValueError(f"CHAINARB_WEBHOOK_SENDERS names the sender {s.id!r} twice")
        out[s.id] = s
    return out


class SenderViewJson(TypedDict):
    """A sender as the provenance log and the refusal log name it (no secret)."""

    id: str
    name: str
    nameZh: str
    scheme: str
    keyId: str


def public_view(sender: SenderConfig) -> SenderViewJson:
    """What the provenance log and the refusal log say of a sender (no secret)."""
    return {"id": sender.id, "name": sender.name, "nameZh": sender.name_zh,
            "scheme": sender.scheme.value, "keyId": key_id(sender)}
