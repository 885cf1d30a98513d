"""What receipts and proofs of absence share: canonical JSON bodies signed as EIP-191
messages by the institution key, strict field readers, UTC times.

The signed bytes are `canonical_json(body)` (sorted keys, no whitespace, UTF-8), where body
is the statement without `signature` (and, for a receipt, without the unsigned `inclusion`
part). Its `format` field names the statement, so a receipt's signature never verifies as
an absence statement's, and JSON starts with '{' where a note text starts with an origin
(evidence.log.checkpoint), so neither verifies as a checkpoint.
"""

from __future__ import annotations

import re
from collections.abc import Collection, Mapping
from datetime import UTC, datetime
from typing import NoReturn

from evidence import safejson
from evidence.errors import FormatError, InvalidAddress, InvalidSignature
from evidence.log.errors import StatementForged, StatementFormatError
from evidence.log.note import NoteSigner, eip191_digest
from evidence.records import canonical_json, checksum_address, recover_signer
from evidence.safejson import JSON, JsonObject

_HEX32 = re.compile(r"0x[0-9a-f]{64}\Z")
_HEX_SIG = re.compile(r"0x[0-9a-f]{130}\Z")
_TIME = re.compile(r"[0-9]{4}-[0-9]{2}-[0-9]{2}T[0-9]{2}:[0-9]{2}:[0-9]{2}Z\Z")
TIME_TEXT = _TIME  # the form ``parse_time`` reads (``iso_time`` writes it from year 1000)


def iso_time(when: datetime) -> str:
    """A UTC time to the second, ISO 8601 with Z (naive times refused: no guessing zones)."""
    if when.tzinfo is None or when.utcoffset() is None:
        raise StatementFormatError("time: expected a timezone-aware datetime (UTC)")
    return when.astimezone(UTC).replace(microsecond=0).strftime("%Y-%m-%dT%H:%M:%SZ")


def parse_time(value: object, what: str) -> datetime:
    if not isinstance(value, str) or not _TIME.match(value):
        raise StatementFormatError(f"{what}: expected UTC ISO 8601 like 2026-12-06T04:35:02Z, "
                                   f"found {value!r}")
    try:
        return datetime.strptime(value, "%Y-%m-%dT%H:%M:%SZ").replace(tzinfo=UTC)
    except ValueError:
        raise StatementFormatError(f"{what}: {value!r} is not a calendar time") from None


def hex32(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not _HEX32.match(value):
        raise StatementFormatError(f"{what}: expected 0x + 64 lower-case hex digits, found "
                                   f"{str(value)[:80]!r}")
    return bytes.fromhex(value[2:])


def integer(value: object, what: str, limit: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not 0 <= value <= limit:
        raise StatementFormatError(f"{what}: expected an integer in [0, {limit}], found "
                                   f"{value!r}")
    return value


def load(data: bytes | str | Mapping[str, object], what: str, max_bytes: int
         ) -> Mapping[str, object]:
    """A statement's JSON object (bounded, no duplicate keys, integers only); one already
    parsed (a statement's TypedDict or a JSON object) is read as it is, as a copy."""
    if isinstance(data, Mapping):
        return dict(data)

    def no_duplicates(pairs: list[tuple[str, JSON]]) -> JsonObject:
        obj = dict(pairs)
        if len(obj) != len(pairs):
            raise StatementFormatError(f"{what}: duplicate key")
        return obj

    def refuse(token: str) -> NoReturn:
        raise StatementFormatError(f"{what}: numbers must be integers, found {token}")

    try:
        obj = safejson.loads(data, what=what, max_bytes=max_bytes,
                             object_pairs_hook=no_duplicates, parse_float=refuse,
                             parse_constant=refuse)
    except StatementFormatError:
        raise
    except FormatError as exc:
        raise StatementFormatError(f"{what}: {exc}") from None
    if not isinstance(obj, dict):
        raise StatementFormatError(f"{what}: expected a JSON object")
    return obj


def check_format(obj: Mapping[str, object], fmt: str, version: int, what: str,
                 required: Collection[str], optional: Collection[str] = ()) -> None:
    if obj.get("format") != fmt:
        raise StatementFormatError(f"{what}: expected format {fmt!r}, found "
                                   f"{obj.get('format')!r}")
    if obj.get("version") != version:
        raise StatementFormatError(f"{what}: version {obj.get('version')!r} is not {version}, "
                                   "the only version this library reads")
    keys = set(obj)
    missing = set(required) - keys
    extra = keys - set(required) - set(optional)
    if missing:
        raise StatementFormatError(f"{what}: missing {', '.join(sorted(missing))}")
    if extra:
        raise StatementFormatError(f"{what}: unknown fields {', '.join(sorted(extra))}")


def sign(body: Mapping[str, object], signer: NoteSigner) -> bytes:
    """The institution's signature over canonical_json(body)."""
    return signer.sign(canonical_json(dict(body)))


def text(value: object, what: str) -> str:
    """A string field of a statement (its reader checked it already, or checks it here)."""
    if not isinstance(value, str):
        raise StatementFormatError(f"{what}: expected a string")
    return value


def signature_hex(value: object, what: str) -> bytes:
    if not isinstance(value, str) or not _HEX_SIG.match(value):
        raise StatementFormatError(f"{what}: expected 0x + 130 lower-case hex digits (65 "
                                   "bytes r ‖ s ‖ v)")
    return bytes.fromhex(value[2:])


def check_signature(body: Mapping[str, object], signer: str, signature: bytes,
                    accepted: Collection[str], what: str) -> str:
    """Check that `signature` over canonical_json(body) is by `signer`, an accepted
    institution address. Returns the checksummed signer."""
    try:
        keys = {checksum_address(a, "accepted address") for a in accepted}
        claimed = checksum_address(signer, f"{what} signer")
    except InvalidAddress as exc:
        raise StatementFormatError(str(exc)) from None
    if claimed not in keys:
        names = ", ".join(sorted(keys)) or "(none given)"
        raise StatementForged(f"{what}: signed by {claimed}, not an accepted institution key "
                              f"({names})")
    try:
        found = recover_signer(eip191_digest(canonical_json(dict(body))), signature)
    except InvalidSignature as exc:
        raise StatementForged(f"{what}: signature malformed ({exc})") from None
    if found != claimed:
        raise StatementForged(
            f"{what}: the signature is not {claimed}'s over these fields (it recovers "
            f"{found}): the statement was changed after signing"
        )
    return claimed
