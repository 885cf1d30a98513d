"""tests/vectors/log.json: literal bytes for every log format (entries, roots, a consistency
proof, checkpoint notes, a receipt, a proof of absence), for independent verifiers. Read
back and verified here, and regenerated: deterministic signatures give the same bytes."""

from __future__ import annotations

import json
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from evidence.log import (
    Checkpoint,
    LogEntry,
    MerkleLog,
    NoteSigner,
    issue_absence,
    issue_receipt,
    key_id,
    sign_checkpoint,
    verify_absence,
    verify_checkpoint,
    verify_checkpoints_consistent,
    verify_receipt,
)
from evidence.records import canonical_json

VECTORS: dict[str, Any] = json.loads(
    (Path(__file__).resolve().parents[2] / "vectors/log.json").read_text())


def _b(value: str) -> bytes:
    return bytes.fromhex(value[2:])


@pytest.fixture(scope="module")
def log() -> MerkleLog:
    return MerkleLog.of(_b(e) for e in VECTORS["entries"])


def test_entries_leaves_and_roots(log: MerkleLog) -> None:
    entries = [LogEntry.decode(_b(e)) for e in VECTORS["entries"]]
    assert ["0x" + e.leaf_hash().hex() for e in entries] == VECTORS["leafHashes"]
    assert ["0x" + log.root(n).hex() for n in range(len(entries) + 1)] == VECTORS["roots"]


def test_the_signed_vectors_verify(log: MerkleLog) -> None:
    accepted = [VECTORS["address"]]
    a = verify_checkpoint(VECTORS["checkpoints"]["6"], accepted, VECTORS["origin"])
    b = verify_checkpoint(VECTORS["checkpoints"]["11"], accepted, VECTORS["origin"])
    verify_checkpoints_consistent(a, b, [_b(p) for p in VECTORS["consistency_6_11"]])
    r = verify_receipt(VECTORS["receipt"], accepted, require_inclusion=True)
    assert r.receipt.index == 3 and r.checkpoint is not None and r.checkpoint.size == 6
    v = verify_absence(VECTORS["absence"], accepted, case_id=b"\x0a" * 32,
                       first=a.checkpoint, second=b.checkpoint)
    assert len(v.proof.entries) == 5
    assert VECTORS["keyId"] == "0x" + key_id(VECTORS["origin"], VECTORS["address"]).hex()


def test_regenerated_bytes_are_the_vectors(log: MerkleLog) -> None:
    signer = NoteSigner.from_private_key(VECTORS["key"])
    assert signer.address == VECTORS["address"]
    origin = VECTORS["origin"]
    entries = [LogEntry.decode(_b(e)) for e in VECTORS["entries"]]
    notes = {n: sign_checkpoint(Checkpoint(origin, n, log.root(n)), signer) for n in (6, 11)}
    assert notes == {int(k): v for k, v in VECTORS["checkpoints"].items()}
    assert ["0x" + p.hex() for p in log.consistency_proof(6, 11)] == VECTORS["consistency_6_11"]
    when = datetime(2026, 12, 6, 4, 35, 2, tzinfo=UTC)
    receipt = issue_receipt(origin=origin, index=3, entry=entries[3], accepted_at=when,
                            signer=signer).with_inclusion(notes[6], log.inclusion_proof(3, 6))
    assert receipt.dumps() == canonical_json(VECTORS["receipt"])
    absence = issue_absence(origin=origin, case_id=b"\x0a" * 32, first=notes[6],
                            second=notes[11], frontier=log.frontier(6), entries=entries[6:],
                            issued_at=when, signer=signer)
    assert absence.dumps() == canonical_json(VECTORS["absence"])
