"""``issue_receipt_json`` (the service's per-step receipt) is ``issue_receipt(...).to_json()``
item for item, key order included, and refuses what it refuses; ``canonical_json`` with its
encoder built once is ``json.dumps`` with the canonical options."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from evidence.log.entry import LogEntry
from evidence.log.errors import NoteFormatError, StatementFormatError
from evidence.log.note import NoteSigner
from evidence.log.receipt import issue_receipt, issue_receipt_json, verify_receipt
from evidence.records import canonical_json

KEY = "0x" + "5a" * 32
SIGNER = NoteSigner.from_private_key(KEY)
ENTRY = LogEntry.of("step", b"\x01" * 32, b"\x02" * 32, b"\x03" * 32)
EVIDENCE = LogEntry.of("evidence", "0x" + "ab" * 32, "0x" + "cd" * 32, "0x" + "ef" * 32)


@pytest.mark.parametrize("origin", ["chainarb.example/log", "x", "U-nïcode.example/Лог",
                                    'q"uote\\slash/log'])
@pytest.mark.parametrize("when", [
    datetime(2026, 12, 6, 4, 35, 2, 999_999, tzinfo=UTC),
    datetime(2026, 12, 6, 6, 35, 2, tzinfo=timezone(timedelta(hours=2))),
    datetime(1000, 1, 1, tzinfo=UTC),
])
@pytest.mark.parametrize("entry", [ENTRY, EVIDENCE])
def test_issue_receipt_json_is_the_receipts_json(origin: str, when: datetime,
                                                 entry: LogEntry) -> None:
    for index in (0, 41, 2**40):
        fast = issue_receipt_json(origin=origin, index=index, entry=entry, accepted_at=when,
                                  signer=SIGNER)
        slow = issue_receipt(origin=origin, index=index, entry=entry, accepted_at=when,
                             signer=SIGNER).to_json()
        assert list(fast.items()) == list(slow.items())
        assert json.dumps(fast) == json.dumps(slow)  # nested key order too
        assert verify_receipt(fast, [SIGNER.address], origin=origin).signer == SIGNER.address


def _error(fn: Any, **kwargs: Any) -> tuple[type, str]:
    with pytest.raises((StatementFormatError, NoteFormatError)) as err:
        fn(**kwargs)
    return type(err.value), str(err.value)


@pytest.mark.parametrize("change", [
    {"origin": " bad origin"}, {"origin": ""}, {"index": -1}, {"index": 2**64},
    {"index": True}, {"accepted_at": datetime(2026, 12, 6)},  # naive
    {"accepted_at": datetime(999, 12, 31, tzinfo=UTC)},
])
def test_issue_receipt_json_refuses_what_issue_receipt_refuses(change: dict[str, Any]) -> None:
    args: dict[str, Any] = dict(origin="chainarb.example/log", index=3, entry=ENTRY,
                                accepted_at=datetime(2026, 12, 6, tzinfo=UTC), signer=SIGNER)
    args.update(change)
    assert _error(issue_receipt_json, **args) == _error(issue_receipt, **args)


@pytest.mark.parametrize("obj", [
    {}, [], "", 0, None, {"b": 1, "a": [1.5, -0.0, 1e300, True, None]},
    {"z": {"y": {"x": "ünïcode \u2028 \x00 \" \\ 😀"}}, "é": 1, "e": 2},
    [{"k": float("inf")}, {"k": float("nan")}], 2**70,
])
def test_canonical_json_is_json_dumps(obj: object) -> None:
    expected = json.dumps(obj, sort_keys=True, separators=(",", ":"),
                          ensure_ascii=False).encode()
    assert canonical_json(obj) == expected


def test_canonical_json_refuses_what_json_dumps_refuses() -> None:
    loop: list[object] = []
    loop.append(loop)
    for bad in (loop, {"k": object()}, {1: 2, "1": 3}):
        try:
            json.dumps(bad, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
        except (TypeError, ValueError) as exc:
            with pytest.raises(type(exc)):
                canonical_json(bad)
        else:  # pragma: no cover - each of these is refused
            pytest.fail(f"json.dumps took {bad!r}")
