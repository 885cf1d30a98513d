"""The pre-chain provenance log of an evidence item, signed entry by entry by the service.

Why: a court examining authenticity *before* storage (SPC Online Litigation Rules 2021,
Art. 17) asks where the data came from, how it was produced and how it was kept until it
went on chain. The chain proves nothing about that period, so the service states it, one
entry per processing step, each signed with the institution key under the deployment's
EIP-712 domain (format: ``evidence.judicial.provenance``; the judicial verifier checks
every signature and the ``prevEntryHash`` chain).

Rules of this module:

* Entries are appended, never edited: ``append`` signs entry ``n`` over the digest of
  entry ``n - 1``; a stored log is a list of ``SignedProvenanceEntry`` JSON objects.
* ``at`` never goes backwards (the verifier refuses that): an entry stamped earlier than
  its predecessor takes the predecessor's time.
* Pure: the caller passes the time, the key and the stored list; nothing here touches the
  database or the clock.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from functools import lru_cache
from typing import Any

from coincurve import PrivateKey

from evidence.judicial.provenance import ProvenanceEntry, SignedProvenanceEntry
from evidence.records import Domain
from evidence.safejson import JSON, JsonObject

__all__ = ["ProvenanceStep", "append", "load", "sign_steps"]

ZERO32 = b"\x00" * 32
ZERO_ADDRESS = "0x" + "00" * 20

ProvenanceStep = tuple[str, str, str, int, Mapping[str, Any]]
"""(action, subject address or "", session reference, unix time, details)."""


@lru_cache(maxsize=8)
def _signer(service_key: str | bytes) -> Callable[[bytes], bytes]:
    """Signs a 32-byte digest with the service key as eth-account's ``unsafe_sign_hash``
    does, byte for byte (libsecp256k1, RFC 6979, low s, v = recid + 27), without deriving
    the key again for every entry (issue 13: two entries per carrier event)."""
    raw = bytes.fromhex(service_key.removeprefix("0x")) if isinstance(service_key, str) \
        else bytes(service_key)
    key = PrivateKey(raw)

    def sign(digest: bytes) -> bytes:
        rsv = key.sign_recoverable(digest, hasher=None)
        return rsv[:64] + bytes([rsv[64] + 27])

    return sign


def load(stored: Sequence[Mapping[str, JSON]]) -> list[SignedProvenanceEntry]:
    """The signed entries of a stored log (JSON objects as ``append`` returns them)."""
    return [SignedProvenanceEntry.from_json_obj(dict(e)) for e in stored]


def append(
    stored: Sequence[Mapping[str, JSON]],
    steps: Sequence[ProvenanceStep],
    *,
    case_id: bytes,
    commitment: bytes,
    domain: Domain,
    service_key: str | bytes,
) -> list[JsonObject]:
    """``stored`` plus one signed entry per step, chained to the last stored entry."""
    out = [dict(e) for e in stored]
    prev = ZERO32
    last_at = 0
    if stored:
        last = SignedProvenanceEntry.from_json_obj(dict(stored[-1])).entry
        prev = last.digest(domain)
        last_at = last.at
    sign = _signer(service_key)
    for action, subject, session, at, details in steps:
        entry = ProvenanceEntry(
            case_id=case_id,
            commitment=commitment,
            index=len(out),
            prev_entry_hash=prev,
            action=action,
            subject=subject or ZERO_ADDRESS,
            session=session[:128],
            at=max(at, last_at),
            details=details,
        )
        digest = entry.digest(domain)  # the EIP-712 digest eth_signTypedData_v4 signs
        out.append(SignedProvenanceEntry(entry, sign(digest)).to_json_obj())
        prev = digest
        last_at = entry.at
    return out


def sign_steps(
    steps: Sequence[ProvenanceStep],
    *,
    case_id: bytes,
    commitment: bytes,
    domain: Domain,
    service_key: str | bytes,
) -> list[JsonObject]:
    """A new log from its first steps (the upload pipeline's)."""
    return append([], steps, case_id=case_id, commitment=commitment, domain=domain,
                  service_key=service_key)
