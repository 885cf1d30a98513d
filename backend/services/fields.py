"""Range checks for every number, time and identifier that comes from outside: one place.

Why: each value a client sends reaches Python ints, ``datetime`` and the database, and each
of those has a range the client does not know (``datetime`` ends in year 9999, a
``time_t`` earlier, SQLite's INTEGER at 2**63 - 1). A value out of range must be a 422 that
names the field, never an OverflowError (a 500). So:

* amounts and ids are decimal strings of **ASCII** digits (``str.isdigit`` also accepts
  "²" and "٣", which ``int`` refuses), no leading zero, at most 78 digits, below 2**bits;
* unix times are in ``[0, MAX_UNIX_TIME]`` (2100-01-01T00:00:00Z: every deadline and
  expiry of this procedure is days or weeks away);
* database ids in paths are in ``[0, MAX_DB_ID]`` (``backend.api.deps.DbId``);
* the payload of a ProceduralStep is checked field by field against ``PAYLOAD_FIELD_KINDS``
  (one table: the key's kind) before any field is used, in prepare and in the step path.

Refusals are ``BadSubmission`` with code ``bad_payload`` (payload fields) or the code the
caller gives (``invalid_record`` for a signed record's field), each naming the field.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Mapping
from datetime import UTC, datetime
from typing import TypeGuard

from .errors import BadSubmission

__all__ = [
    "MAX_DB_ID",
    "MAX_UNIX_TIME",
    "PAYLOAD_FIELD_KINDS",
    "check_payload",
    "decimal_uint",
    "is_ascii_decimal",
    "unix_time",
]

MAX_DB_ID = 2**63 - 1  # SQLite INTEGER and PostgreSQL BIGINT
MAX_UNIX_TIME = 4_102_444_800  # 2100-01-01T00:00:00Z
MAX_DECIMAL_DIGITS = 78  # len(str(2**256 - 1))
_DECIMAL = re.compile(r"(?:0|[1-9][0-9]{0,77})\Z")  # [0-9] is ASCII only in Python's re
_HEX32 = re.compile(r"0x[0-9a-fA-F]{64}\Z")
_ADDRESS = re.compile(r"0x[0-9a-fA-F]{40}\Z")
_SIG65 = re.compile(r"0x[0-9a-fA-F]{130}\Z")


def is_ascii_decimal(value: object) -> TypeGuard[str]:
    """A canonical decimal string of ASCII digits ("0", "12"; not "012", "²", "1.5")."""
    return isinstance(value, str) and _DECIMAL.match(value) is not None


def decimal_uint(value: object, field: str, *, bits: int = 256,
                 code: str = "bad_payload") -> int:
    """``value`` as an int: a canonical ASCII decimal string below ``2**bits``."""
    if not is_ascii_decimal(value):
        shown = value if not isinstance(value, str) or len(value) <= 80 else value[:80] + "…"
        raise BadSubmission(f"{field}: expected a decimal string of ASCII digits (uint{bits}),"
                            f" found {shown!r}", code=code)
    number = int(value)
    if number >= 1 << bits:
        raise BadSubmission(f"{field}: {value} is outside uint{bits} [0, 2**{bits})", code=code)
    return number


def unix_time(seconds: int, field: str, *, code: str = "bad_payload") -> datetime:
    """A unix time in ``[0, MAX_UNIX_TIME]`` as an aware UTC datetime."""
    if isinstance(seconds, bool) or not isinstance(seconds, int) or \
            not 0 <= seconds <= MAX_UNIX_TIME:
        raise BadSubmission(f"{field}: {seconds!r} is not a unix time in [0, {MAX_UNIX_TIME}] "
                            "(up to 2100-01-01T00:00:00Z)", code=code)
    return datetime.fromtimestamp(seconds, UTC)


def _string(max_len: int) -> Callable[[object, str], None]:
    def check(value: object, field: str) -> None:
        if not isinstance(value, str) or not 0 < len(value) <= max_len:
            raise BadSubmission(f"{field}: expected a string of 1 to {max_len} characters, "
                                f"found {type(value).__name__}", code="bad_payload")
    return check


def _pattern(regex: re.Pattern[str], what: str) -> Callable[[object, str], None]:
    def check(value: object, field: str) -> None:
        if not isinstance(value, str) or regex.match(value) is None:
            shown = value if isinstance(value, str) and len(value) <= 80 else \
                type(value).__name__
            raise BadSubmission(f"{field}: expected {what}, found {shown!r}",
                                code="bad_payload")
    return check


def _uint256(value: object, field: str) -> None:
    decimal_uint(value, field)


def _time_or_zero(value: object, field: str) -> None:
    """An expiry: "0" (none, proposals) or a unix time within range."""
    unix_time(decimal_uint(value, field, bits=64), field)


def _address_list(high: int) -> Callable[[object, str], None]:
    def check(value: object, field: str) -> None:
        if not isinstance(value, list) or not 1 <= len(value) <= high:
            raise BadSubmission(f"{field}: expected a list of 1 to {high} addresses",
                                code="bad_payload")
        for i, a in enumerate(value):
            _pattern(_ADDRESS, "an address (0x + 40 hex digits)")(a, f"{field}[{i}]")
    return check


def _options(value: object, field: str) -> None:
    """A jury's allocation options: 1 to 4 objects of three uint256 decimal strings."""
    keys = {"toBuyer", "toSeller", "compensation"}
    if not isinstance(value, list) or not 0 <= len(value) <= 4:
        raise BadSubmission(f"{field}: expected a list of at most 4 allocations",
                            code="bad_payload")
    for i, o in enumerate(value):
        if not isinstance(o, dict) or set(o) != keys:
            raise BadSubmission(f"{field}[{i}]: expected an object with keys {sorted(keys)}",
                                code="bad_payload")
        for k in sorted(keys):
            decimal_uint(o[k], f"{field}[{i}].{k}")


def _uint_of(bits: int) -> Callable[[object, str], None]:
    def check(value: object, field: str) -> None:
        decimal_uint(value, field, bits=bits)
    return check


def _counts(value: object, field: str) -> None:
    if not isinstance(value, list) or not 1 <= len(value) <= 4:
        raise BadSubmission(f"{field}: expected a list of 1 to 4 counts", code="bad_payload")
    for i, n in enumerate(value):
        decimal_uint(n, f"{field}[{i}]", bits=16)


def _winner(value: object, field: str) -> None:
    if value != "none":
        decimal_uint(value, field, bits=8)


def _addresses(value: object, field: str) -> None:
    # up to a jury of 31 (jury.drawn); each appointment checks its own count (steps.py)
    if not isinstance(value, list) or not 1 <= len(value) <= 31:
        raise BadSubmission(f"{field}: expected a list of 1 to 31 addresses",
                            code="bad_payload")
    for i, a in enumerate(value):
        _pattern(_ADDRESS, "an address (0x + 40 hex digits)")(a, f"{field}[{i}]")


# The kind of every payload key any action uses (PAYLOAD_KEYS and PREPARE_FIELDS say which
# keys each action takes; this says what each key may hold). Checked before use. The fields
# prepare copies into a signed record as they are (awardHash, reasonsHash, packageHash,
# courtReference) are the record's to check: 422 ``invalid_record`` naming the field.
PAYLOAD_FIELD_KINDS: Mapping[str, Callable[[object, str], None]] = {
    "claimant": _pattern(_ADDRESS, "an address (0x + 40 hex digits)"),
    "respondent": _pattern(_ADDRESS, "an address (0x + 40 hex digits)"),
    "orderId": _uint256,
    "claimedAmount": _uint256,
    "toBuyer": _uint256,
    "toSeller": _uint256,
    "compensation": _uint256,
    "compensationShortfall": _uint256,
    "expiresAt": _time_or_zero,
    "disputeType": _string(64),
    "remedy": _string(64),
    "recommended": _string(64),
    "role": _string(32),
    "appointees": _addresses,
    "statementHash": _pattern(_HEX32, "0x + 64 hex digits"),
    "reportHash": _pattern(_HEX32, "0x + 64 hex digits"),
    "answerHash": _pattern(_HEX32, "0x + 64 hex digits"),
    "settlementHash": _pattern(_HEX32, "0x + 64 hex digits"),
    "txHash": _pattern(_HEX32, "0x + 64 hex digits"),
    "tracking": _pattern(_HEX32, "0x + 64 hex digits"),  # a salted commitment
    "carrier": _string(64),
    "trackingNumber": _string(64),
    "noReturnToBuyer": _uint256,
    "noReturnToSeller": _uint256,
    "noReturnCompensation": _uint256,
    "offerId": _string(100),  # an offer's record hash, or the mediator's proposal id
    "kind": _string(32),  # an EvidenceSubmission's payload
    "evidenceId": _string(100),
    # the jury track (docs/jury.md)
    "seedHash": _pattern(_HEX32, "0x + 64 hex digits"),
    "poolHash": _pattern(_HEX32, "0x + 64 hex digits"),
    "seed": _pattern(_HEX32, "0x + 64 hex digits"),
    "blockHash": _pattern(_HEX32, "0x + 64 hex digits"),
    "prevrandao": _pattern(_HEX32, "0x + 64 hex digits"),
    "commitment": _pattern(_HEX32, "0x + 64 hex digits"),
    # a juror's EIP-712 JuryVote signature of the commitment (r || s || v)
    "signature": _pattern(_SIG65, "65 bytes: 0x + 130 hex digits"),
    "salt": _pattern(_HEX32, "0x + 64 hex digits"),
    "drawBlock": _uint_of(64),
    "pool": _address_list(10_000),
    "options": _options,
    "choice": _uint_of(8),
    "reasonCode": _uint_of(16),
    "counts": _counts,
    "winner": _winner,
}


def check_payload(payload: Mapping[str, object], prefix: str = "payload") -> None:
    """Check every key of ``payload`` against its kind (``bad_payload`` naming the field);
    keys this table does not know are left to the key-set checks of the caller."""
    for key, value in payload.items():
        kind = PAYLOAD_FIELD_KINDS.get(key)
        if kind is not None:
            kind(value, f"{prefix}.{key}")
