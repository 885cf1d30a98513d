"""Hostile input: the log's parsers answer anything with their documented refusal (a
`FormatError` naming the part), never another exception, and round-trip what they accept."""

from __future__ import annotations

import base64
import contextlib
import json

from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.errors import EvidenceError, FormatError
from evidence.log import (
    AbsenceProof,
    Checkpoint,
    LogEntry,
    Note,
    NoteSigner,
    Receipt,
    sign_checkpoint,
    verify_absence,
    verify_checkpoint,
    verify_receipt,
)

SIGNER = NoteSigner.from_private_key("0x" + "4c" * 32)  # a published test key
NOTE_TEXT = st.text(alphabet=st.characters(codec="utf-8"), max_size=300)
JSONISH = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=12), inner,
                                                                max_size=6),
    max_leaves=20,
)


@settings(max_examples=200, deadline=None)
@given(NOTE_TEXT)
def test_note_parser_refuses_cleanly(text: str) -> None:
    try:
        note = Note.parse(text)
    except FormatError:
        return
    assert note.format() == text
    with contextlib.suppress(FormatError):
        Checkpoint.parse_body(note.text)


@settings(max_examples=200, deadline=None)
@given(st.binary(max_size=200))
def test_entry_decoder_refuses_cleanly(data: bytes) -> None:
    try:
        entry = LogEntry.decode(data)
    except FormatError:
        return
    assert entry.encode() == data


@settings(max_examples=40, deadline=None)
@given(st.text(min_size=1, max_size=30).filter(lambda s: "\n" not in s),
       st.integers(min_value=0, max_value=(1 << 63) - 1), st.binary(min_size=32, max_size=32),
       st.lists(st.text(min_size=1, max_size=30).filter(lambda s: "\n" not in s), max_size=3))
def test_checkpoints_round_trip(origin: str, size: int, root: bytes, ext: list[str]) -> None:
    try:
        cp = Checkpoint(origin, size, root, tuple(ext))
    except FormatError:
        return
    assert Checkpoint.parse_body(cp.body()) == cp
    note = sign_checkpoint(cp, SIGNER)
    assert verify_checkpoint(note, [SIGNER.address], origin).checkpoint == cp
    assert base64.b64decode(cp.body().split("\n")[2]) == root


@settings(max_examples=100, deadline=None)
@given(JSONISH)
def test_statement_readers_refuse_cleanly(obj: object) -> None:
    for cls, check in ((Receipt, verify_receipt), (AbsenceProof, verify_absence)):
        for data in (json.dumps(obj), obj if isinstance(obj, dict) else None):
            if data is None:
                continue
            try:
                check(data, [SIGNER.address])
            except EvidenceError:
                pass
            else:
                raise AssertionError(f"{cls.__name__} accepted {obj!r}")
