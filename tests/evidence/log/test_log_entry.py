"""Log entries: the 98-byte encoding as literal bytes, both ways, from a signed record's
anchored leaf, and every malformed entry refused."""

from __future__ import annotations

import hashlib

import pytest
from eth_account import Account
from hypothesis import given
from hypothesis import strategies as st

from evidence.log import ENTRY_SIZE, EntryKind, LogEntry, LogEntryError, leaf_hash
from evidence.records import ZERO_HASH, Domain, ProceduralStep

CASE = bytes.fromhex("c0ffee00" + "00" * 28)
RECORD = bytes(range(32))
SIGS = bytes(range(32, 64))

# The literal encoding: version 1, kind 2 (evidence), caseId, recordHash, signaturesHash.
VECTOR = bytes.fromhex(
    "0102"
    "c0ffee0000000000000000000000000000000000000000000000000000000000"
    "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
    "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
)


def test_encoding_vector() -> None:
    entry = LogEntry(EntryKind.EVIDENCE, CASE, RECORD, SIGS)
    assert entry.encode() == VECTOR and len(VECTOR) == ENTRY_SIZE
    assert LogEntry.decode(VECTOR) == entry
    assert entry.leaf_hash() == hashlib.sha256(b"\x00" + VECTOR).digest() == leaf_hash(VECTOR)
    assert entry.to_json() == {
        "kind": "evidence",
        "caseId": "0x" + CASE.hex(),
        "recordHash": "0x" + RECORD.hex(),
        "signaturesHash": "0x" + SIGS.hex(),
    }
    assert LogEntry.from_json(entry.to_json()) == entry


def test_entry_from_a_signed_records_anchored_leaf() -> None:
    key = "0x" + "4c" * 32
    domain = Domain(chain_id=31337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3")
    signed = ProceduralStep(
        case_id=CASE, sequence=0, prev_hash=ZERO_HASH, actor=Account.from_key(key).address,
        action="claim.filed", payload_hash=RECORD, signed_at=1764000000,
    ).sign(key, domain)
    entry = LogEntry.of("step", *signed.merkle_leaf())
    assert (entry.kind, entry.case_id, entry.record_hash, entry.signatures_hash) == (
        EntryKind.STEP, signed.case_id, signed.record_hash, signed.signatures_hash)


@given(st.sampled_from(list(EntryKind)), st.binary(min_size=32, max_size=32),
       st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_round_trip(kind: EntryKind, case: bytes, record: bytes, sigs: bytes) -> None:
    entry = LogEntry(kind, case, record, sigs)
    assert LogEntry.decode(entry.encode()) == entry
    assert LogEntry.from_json(entry.to_json()) == entry


@pytest.mark.parametrize(("data", "message"), [
    (VECTOR[:-1], "expected 98 bytes, found 97"),
    (VECTOR + b"\x00", "expected 98 bytes, found 99"),
    (b"\x02" + VECTOR[1:], "version 2"),
    (VECTOR[:1] + b"\x09" + VECTOR[2:], "unknown kind 9"),
    (VECTOR[:1] + b"\x00" + VECTOR[2:], "unknown kind 0"),
])
def test_malformed_encodings(data: bytes, message: str) -> None:
    with pytest.raises(LogEntryError, match=message):
        LogEntry.decode(data)


def test_malformed_fields() -> None:
    with pytest.raises(LogEntryError, match="entry kind"):
        LogEntry.of("award", CASE, RECORD, SIGS)
    with pytest.raises(LogEntryError, match="caseId"):
        LogEntry.of("step", "0x" + "00" * 31, RECORD, SIGS)
    with pytest.raises(LogEntryError, match="recordHash"):
        LogEntry.of("step", CASE, "0x" + "zz" * 32, SIGS)
    with pytest.raises(LogEntryError, match="signaturesHash"):
        LogEntry.of("step", CASE, RECORD, " " + "00" * 32)
    with pytest.raises(LogEntryError, match="unknown kind"):
        LogEntry(9, CASE, RECORD, SIGS)  # type: ignore[arg-type]
    with pytest.raises(LogEntryError, match="exactly kind"):
        LogEntry.from_json({"kind": "step", "caseId": "0x" + CASE.hex()})
    with pytest.raises(LogEntryError, match="expected bytes"):
        LogEntry.decode("01")  # type: ignore[arg-type]


def test_the_logs_refusals_have_distinct_documented_codes() -> None:
    """Each error class of evidence.log has its own code, no other evidence error uses it,
    and docs/log.md §9 lists it."""
    from pathlib import Path

    import evidence.log.errors as log_errors
    from evidence.errors import EvidenceError

    def subclasses(cls: type) -> set[type]:
        out: set[type] = set(cls.__subclasses__())
        for sub in list(out):
            out |= subclasses(sub)
        return out

    ours = [getattr(log_errors, name) for name in log_errors.__all__ if name != "REFUSALS"]
    assert set(log_errors.REFUSALS) == {cls.code for cls in ours}
    assert all(en and zh and en != zh for en, zh in log_errors.REFUSALS.values())
    codes = {cls.code for cls in ours}
    assert len(codes) == len(ours)
    others = {cls.code for cls in subclasses(EvidenceError) if cls not in ours}  # type: ignore[attr-defined]
    assert not codes & others
    page = (Path(__file__).resolve().parents[3] / "docs/log.md").read_text()
    table = page.split("## 9. Refusals")[1].split("## 10.")[0]
    for cls in ours:
        assert f"| `{cls.code}` | `{cls.__name__}`" in table, cls
