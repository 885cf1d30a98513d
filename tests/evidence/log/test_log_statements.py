"""Receipts and proofs of absence: issued, read back, verified; and every way of forging,
altering or mis-citing one refused with the error that names it."""

from __future__ import annotations

import json
from dataclasses import replace
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import pytest

from evidence.log import (
    AbsenceDisproved,
    AbsenceProof,
    Checkpoint,
    CheckpointMismatch,
    ConsistencyProofError,
    EntryKind,
    InclusionProofError,
    LogEntry,
    MerkleLog,
    NoteForged,
    NoteSigner,
    OriginMismatch,
    Receipt,
    StatementForged,
    StatementFormatError,
    WrongCase,
    issue_absence,
    issue_receipt,
    sign_checkpoint,
    verify_absence,
    verify_checkpoint,
    verify_receipt,
)
from evidence.log import _statement as st
from evidence.records import canonical_json

ORIGIN = "chainarb.example/log"
SIGNER = NoteSigner.from_private_key("0x" + "4c" * 32)  # test keys, published here
ROTATED = NoteSigner.from_private_key("0x" + "5d" * 32)
ATTACKER = NoteSigner.from_private_key("0x" + "6e" * 32)
ACCEPTED = [SIGNER.address]
WHEN = datetime(2026, 12, 6, 4, 35, 2, tzinfo=UTC)
CASE_X = b"\x0a" * 32  # absent between the two checkpoints
CASE_Y = b"\x0b" * 32  # present


def _entry(i: int, case: bytes) -> LogEntry:
    kind = (EntryKind.STEP, EntryKind.EVIDENCE, EntryKind.ATTACHMENT)[i % 3]
    return LogEntry(kind, case, i.to_bytes(32, "big"), (i + 1000).to_bytes(32, "big"))


# entries 0..29: X and Y alternate; 30..59 (between checkpoints A = 30 and B = 60): only Y
ENTRIES = [_entry(i, CASE_X if i < 30 and i % 2 else CASE_Y) for i in range(60)]


@pytest.fixture(scope="module")
def log() -> MerkleLog:
    return MerkleLog.of(e.encode() for e in ENTRIES)


@pytest.fixture(scope="module")
def notes(log: MerkleLog) -> dict[int, str]:
    return {n: sign_checkpoint(Checkpoint(ORIGIN, n, log.root(n)), SIGNER) for n in (30, 60)}


# --- receipts -----------------------------------------------------------------------------


def _receipt(log: MerkleLog, notes: dict[int, str], index: int = 7) -> Receipt:
    r = issue_receipt(origin=ORIGIN, index=index, entry=ENTRIES[index], accepted_at=WHEN,
                      signer=SIGNER)
    return r.with_inclusion(notes[30], log.inclusion_proof(index, 30))


def test_receipt_round_trip(log: MerkleLog, notes: dict[int, str]) -> None:
    r = _receipt(log, notes)
    obj = json.loads(r.dumps())
    assert obj["format"] == "chainarb.log-receipt" and obj["version"] == 1
    assert obj["entry"] == ENTRIES[7].to_json() and obj["acceptedAt"] == "2026-12-06T04:35:02Z"
    assert set(obj) == {"format", "version", "origin", "index", "entry", "acceptedAt", "signer",
                        "signature", "inclusion"}
    back = Receipt.from_json(r.dumps())
    assert back == r and back.dumps() == r.dumps()
    v = verify_receipt(r.dumps(), ACCEPTED, origin=ORIGIN, require_inclusion=True)
    assert v.signer == SIGNER.address and v.checkpoint is not None and v.checkpoint.size == 30
    signed_alone = replace(r, inclusion=None)
    assert verify_receipt(signed_alone, ACCEPTED).checkpoint is None


def test_receipt_signature_is_over_the_canonical_body(log: MerkleLog,
                                                      notes: dict[int, str]) -> None:
    from eth_account import Account
    from eth_account.messages import encode_defunct

    r = _receipt(log, notes)
    body = {k: v for k, v in json.loads(r.dumps()).items() if k not in ("signature",
                                                                         "inclusion")}
    assert Account.recover_message(encode_defunct(primitive=canonical_json(body)),
                                   signature=r.signature) == SIGNER.address


def _edit(r: Receipt, **changes: Any) -> dict[str, Any]:
    obj = json.loads(r.dumps())
    obj.update(changes)
    return obj


@pytest.mark.parametrize("change", [
    {"index": 8},
    {"acceptedAt": "2026-12-06T04:35:03Z"},
    {"entry": ENTRIES[8].to_json()},
    {"origin": "chainarb.example/other"},
])
def test_an_altered_receipt_is_forged(log: MerkleLog, notes: dict[int, str],
                                      change: dict[str, Any]) -> None:
    with pytest.raises(StatementForged, match="changed after signing"):
        verify_receipt(_edit(replace(_receipt(log, notes), inclusion=None), **change), ACCEPTED)


def test_a_receipt_by_another_key_is_forged(log: MerkleLog, notes: dict[int, str]) -> None:
    theirs = issue_receipt(origin=ORIGIN, index=7, entry=ENTRIES[7], accepted_at=WHEN,
                           signer=ATTACKER)
    with pytest.raises(StatementForged, match="not an accepted institution key"):
        verify_receipt(theirs, ACCEPTED)
    # the attacker's signature with the institution's address written in: the signer field
    # is signed too, so the signature recovers neither
    claimed = _edit(theirs, signer=SIGNER.address)
    with pytest.raises(StatementForged, match="is not " + SIGNER.address):
        verify_receipt(claimed, ACCEPTED)
    # after a rotation both keys' receipts verify
    rotated = issue_receipt(origin=ORIGIN, index=7, entry=ENTRIES[7], accepted_at=WHEN,
                            signer=ROTATED)
    assert verify_receipt(rotated, [SIGNER.address, ROTATED.address]).signer == ROTATED.address


def test_a_receipts_inclusion_must_hold(log: MerkleLog, notes: dict[int, str]) -> None:
    r = _receipt(log, notes)
    assert r.inclusion is not None
    bad = list(r.inclusion.proof)
    bad[0] = bytes(32)
    with pytest.raises(InclusionProofError, match="not at that index"):
        verify_receipt(r.with_inclusion(notes[30], bad), ACCEPTED)
    # the entry is not at index 7 of checkpoint 60 with checkpoint 30's proof
    with pytest.raises(InclusionProofError):
        verify_receipt(r.with_inclusion(notes[60], r.inclusion.proof), ACCEPTED)
    late = issue_receipt(origin=ORIGIN, index=45, entry=ENTRIES[45], accepted_at=WHEN,
                         signer=SIGNER)
    with pytest.raises(InclusionProofError, match="not below its checkpoint's size"):
        verify_receipt(late.with_inclusion(notes[30], []), ACCEPTED)
    forged_note = notes[30].replace("\n30\n", "\n31\n")
    with pytest.raises(NoteForged):
        verify_receipt(r.with_inclusion(forged_note, r.inclusion.proof), ACCEPTED)
    elsewhere = sign_checkpoint(Checkpoint("chainarb.example/other", 30, log.root(30)), SIGNER)
    with pytest.raises(OriginMismatch):
        verify_receipt(r.with_inclusion(elsewhere, r.inclusion.proof), ACCEPTED)
    with pytest.raises(InclusionProofError, match="carries no inclusion proof"):
        verify_receipt(replace(r, inclusion=None), ACCEPTED, require_inclusion=True)
    anchored = verify_checkpoint(notes[60], ACCEPTED)
    with pytest.raises(CheckpointMismatch, match="not the expected one"):
        verify_receipt(r, ACCEPTED, checkpoint=anchored)
    with pytest.raises(OriginMismatch):
        verify_receipt(r, ACCEPTED, origin="chainarb.example/other")


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda o: o.update(format="chainarb.log-absence"), "expected format"),
    (lambda o: o.update(version=2), "version 2"),
    (lambda o: o.pop("signer"), "missing signer"),
    (lambda o: o.update(extra=1), "unknown fields extra"),
    (lambda o: o.update(index=-1), "index"),
    (lambda o: o.update(index=True), "index"),
    (lambda o: o.update(acceptedAt="2026-12-06 04:35:02"), "acceptedAt"),
    (lambda o: o.update(acceptedAt="2026-02-30T00:00:00Z"), "not a calendar time"),
    (lambda o: o.update(signature="0x00"), "130 lower-case hex"),
    (lambda o: o["entry"].update(kind="award"), "entry kind"),
    (lambda o: o["inclusion"].update(proof=["0x00"]), "64 lower-case hex"),
    (lambda o: o["inclusion"].update(proof=["0x" + "00" * 32] * 65), "at most 64"),
    (lambda o: o.update(inclusion={"checkpoint": 1, "proof": []}), "note's text"),
    (lambda o: o.update(origin="{not an origin"), "receipt origin"),
    (lambda o: o.update(origin=7), "receipt origin"),
])
def test_malformed_receipts(log: MerkleLog, notes: dict[int, str], mutate: Any,
                            message: str) -> None:
    obj = json.loads(_receipt(log, notes).dumps())
    mutate(obj)
    with pytest.raises(StatementFormatError, match=message):
        Receipt.from_json(json.dumps(obj))


def test_receipt_json_reader_limits(log: MerkleLog, notes: dict[int, str]) -> None:
    text = _receipt(log, notes).dumps().decode()
    with pytest.raises(StatementFormatError, match="duplicate key"):
        Receipt.from_json(text[:-1] + ',"version":1}')
    with pytest.raises(StatementFormatError, match="integers"):
        Receipt.from_json(text.replace('"index":7', '"index":7.0'))
    with pytest.raises(StatementFormatError):
        Receipt.from_json(b"x" * 70000)
    with pytest.raises(StatementFormatError, match="a JSON object"):
        Receipt.from_json("[]")


def test_a_receipt_reads_back_equal_whatever_the_clocks_precision() -> None:
    r = issue_receipt(origin=ORIGIN, index=0, entry=ENTRIES[0], signer=SIGNER,
                      accepted_at=WHEN.replace(microsecond=999_999))
    assert r.accepted_at == WHEN and Receipt.from_json(r.dumps()) == r


def test_times_are_utc_to_the_second() -> None:
    assert st.iso_time(datetime(2026, 12, 6, 12, 0, 0, 999,
                                tzinfo=timezone(timedelta(hours=8)))) == "2026-12-06T04:00:00Z"
    with pytest.raises(StatementFormatError, match="timezone-aware"):
        st.iso_time(datetime(2026, 12, 6))


# --- proofs of absence --------------------------------------------------------------------


def _absence(log: MerkleLog, notes: dict[int, str], case: bytes = CASE_X,
             signer: NoteSigner = SIGNER) -> AbsenceProof:
    return issue_absence(origin=ORIGIN, case_id=case, first=notes[30], second=notes[60],
                         frontier=log.frontier(30), entries=ENTRIES[30:60], issued_at=WHEN,
                         signer=signer)


def _forge(proof: AbsenceProof, signer: NoteSigner = SIGNER, **changes: Any) -> AbsenceProof:
    """A statement changed and signed again: what a dishonest institution could issue."""
    unsigned = replace(proof, signer=signer.address, **changes)
    return replace(unsigned, signature=st.sign(unsigned.body(), signer))


def test_absence_round_trip(log: MerkleLog, notes: dict[int, str]) -> None:
    p = _absence(log, notes)
    obj = json.loads(p.dumps())
    assert set(obj) == {"format", "version", "origin", "caseId", "from", "to", "frontier",
                        "entries", "issuedAt", "signer", "signature"}
    assert obj["format"] == "chainarb.log-absence" and len(obj["entries"]) == 30
    assert obj["entries"][0] == "0x" + ENTRIES[30].encode().hex()
    back = AbsenceProof.from_json(p.dumps())
    assert back == p
    a, b = verify_checkpoint(notes[30], ACCEPTED), verify_checkpoint(notes[60], ACCEPTED)
    v = verify_absence(p.dumps(), ACCEPTED, origin=ORIGIN, case_id=CASE_X,
                       first=a.checkpoint, second=b.checkpoint)
    assert (v.signer, v.first.size, v.second.size) == (SIGNER.address, 30, 60)


def test_absence_of_a_present_case_is_never_issued(log: MerkleLog,
                                                   notes: dict[int, str]) -> None:
    with pytest.raises(AbsenceDisproved, match=r"entry 30 .* the case is not absent"):
        _absence(log, notes, case=CASE_Y)


def test_a_false_absence_statement_is_disproved(log: MerkleLog, notes: dict[int, str]) -> None:
    false = _forge(_absence(log, notes), case_id=CASE_Y)
    with pytest.raises(AbsenceDisproved, match="belongs to case"):
        verify_absence(false, ACCEPTED)


def test_an_omitted_or_replaced_entry_is_caught(log: MerkleLog, notes: dict[int, str]) -> None:
    honest = _absence(log, notes)
    dropped = _forge(honest, case_id=CASE_Y, entries=honest.entries[1:])
    with pytest.raises(ConsistencyProofError, match="expected 30"):
        verify_absence(dropped, ACCEPTED)
    replaced = _forge(honest, case_id=CASE_Y,
                      entries=(_entry(30, CASE_X), *honest.entries[1:]))
    with pytest.raises(ConsistencyProofError, match="not the log's entries between the two"):
        verify_absence(replaced, ACCEPTED)
    reordered = _forge(honest, entries=(honest.entries[1], honest.entries[0],
                                        *honest.entries[2:]))
    with pytest.raises(ConsistencyProofError, match="not the log's entries"):
        verify_absence(reordered, ACCEPTED)


def test_a_wrong_frontier_or_swapped_checkpoints_are_caught(log: MerkleLog,
                                                            notes: dict[int, str]) -> None:
    honest = _absence(log, notes)
    with pytest.raises(InclusionProofError, match="does not fold to the first"):
        verify_absence(_forge(honest, frontier=(*log.frontier(30)[:3], bytes(32))), ACCEPTED)
    with pytest.raises(InclusionProofError, match="one per set bit"):
        verify_absence(_forge(honest, frontier=()), ACCEPTED)
    with pytest.raises(ConsistencyProofError, match="older than the first"):
        verify_absence(_forge(honest, first=notes[60], second=notes[30]), ACCEPTED)


def test_a_split_view_checkpoint_is_caught_by_the_anchored_one(log: MerkleLog,
                                                               notes: dict[int, str]) -> None:
    """The institution shows the verifier a second log without case Y's entries 30..59
    (same origin, signed by its key): internally consistent, but not the anchored
    checkpoint the verifier holds."""
    shown = [*ENTRIES[:30], *(_entry(i, b"\x0c" * 32) for i in range(30, 60))]
    other = MerkleLog.of(e.encode() for e in shown)
    note = sign_checkpoint(Checkpoint(ORIGIN, 60, other.root()), SIGNER)
    split = issue_absence(origin=ORIGIN, case_id=CASE_Y, first=notes[30], second=note,
                          frontier=other.frontier(30), entries=shown[30:60], issued_at=WHEN,
                          signer=SIGNER)
    assert verify_absence(split, ACCEPTED).second.root == other.root()
    anchored = verify_checkpoint(notes[60], ACCEPTED).checkpoint
    with pytest.raises(CheckpointMismatch, match="second checkpoint"):
        verify_absence(split, ACCEPTED, second=anchored)


def test_an_altered_absence_statement_is_forged(log: MerkleLog, notes: dict[int, str]) -> None:
    honest = json.loads(_absence(log, notes).dumps())
    for key, value in (("caseId", "0x" + "0d" * 32), ("issuedAt", "2027-01-01T00:00:00Z"),
                       ("entries", honest["entries"][::-1])):
        obj = dict(honest, **{key: value})
        with pytest.raises(StatementForged, match="changed after signing"):
            verify_absence(obj, ACCEPTED)
    with pytest.raises(StatementForged, match="not an accepted"):
        verify_absence(_absence(log, notes, signer=ATTACKER), ACCEPTED)


def test_absence_checks_what_the_verifier_asked(log: MerkleLog, notes: dict[int, str]) -> None:
    p = _absence(log, notes)
    with pytest.raises(WrongCase):
        verify_absence(p, ACCEPTED, case_id=CASE_Y)
    with pytest.raises(OriginMismatch):
        verify_absence(p, ACCEPTED, origin="chainarb.example/other")
    a = verify_checkpoint(notes[30], ACCEPTED).checkpoint
    with pytest.raises(CheckpointMismatch, match="first checkpoint"):
        verify_absence(p, ACCEPTED, first=replace(a, size=29, root=log.root(29)))
    forged_note = notes[60].replace("\n60\n", "\n61\n")
    with pytest.raises(NoteForged):
        verify_absence(_forge(p, second=forged_note), ACCEPTED)


def test_a_receipt_signature_is_not_an_absence_signature(log: MerkleLog,
                                                         notes: dict[int, str]) -> None:
    r = _receipt(log, notes)
    p = _absence(log, notes)
    with pytest.raises(StatementForged):
        verify_absence(replace(p, signature=r.signature), ACCEPTED)


@pytest.mark.parametrize(("mutate", "message"), [
    (lambda o: o.update(entries=["0x00"]), "entries\\[0\\]"),
    (lambda o: o.update(entries=["0x02" + "00" * 97]), "version 2"),
    (lambda o: o.update(entries="0x"), "a list of at most"),
    (lambda o: o.update(frontier=["0x" + "00" * 32] * 64), "at most 63"),
    (lambda o: o.update(caseId="0xAB"), "caseId"),
    (lambda o: o.update({"from": 5}), "from: expected a string"),
    (lambda o: o.update(origin="two words"), "absence proof origin"),
])
def test_malformed_absence_statements(log: MerkleLog, notes: dict[int, str], mutate: Any,
                                      message: str) -> None:
    obj = json.loads(_absence(log, notes).dumps())
    mutate(obj)
    with pytest.raises(StatementFormatError, match=message):
        AbsenceProof.from_json(obj)
