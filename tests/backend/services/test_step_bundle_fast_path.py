"""A step's bundle spliced from its records' canonical texts (``StepStore.bundle``) is byte
for byte the canonical JSON of the bundle object (``StepStore.bundle_json``), and a
record's kept canonical text is what encoding it afresh gives (issue 10)."""

from __future__ import annotations

import json

import pytest
from coincurve import PrivateKey
from eth_account import Account

from backend.services.step_store import StepStore
from evidence.records import (
    DOMAIN_NAME,
    DOMAIN_VERSION,
    Domain,
    ProceduralStep,
    Record,
    Settlement,
    SettlementOffer,
    SignedRecord,
    canonical_json,
)

KEY = bytes.fromhex("31" * 32)
ADDRESS = Account.from_key(KEY).address
DOMAIN = Domain(chain_id=31337, verifying_contract="0x" + "12" * 20, name=DOMAIN_NAME,
                version=DOMAIN_VERSION)
CASE = b"\x07" * 32


def _signed(record: Record) -> SignedRecord:
    sig = PrivateKey(KEY).sign_recoverable(record.digest(DOMAIN), hasher=None)
    return SignedRecord(domain=DOMAIN, record=record,
                        signatures=(sig[:64] + bytes([sig[64] + 27]),))


def _offer(seq: int) -> SignedRecord:
    return _signed(SettlementOffer(case_id=CASE, sequence=seq, prev_hash=b"\x09" * 32,
                                   offeror=ADDRESS, order_id=5, to_buyer=1000 * seq,
                                   to_seller=9000, compensation=0, expires_at=1800000000,
                                   signed_at=1765000000))


def _settlement() -> SignedRecord:
    return _signed(Settlement(order_id=5, case_id=CASE, to_buyer=1000, to_seller=9000,
                              compensation=0))


def _step(action: str) -> SignedRecord:
    return _signed(ProceduralStep(case_id=CASE, sequence=4, prev_hash=b"\x01" * 32,
                                  actor=ADDRESS, action=action, payload_hash=b"\x02" * 32,
                                  signed_at=1765000001))


PAYLOADS = [None, b"null", b"{}", b'{"b": 1, "a": [1, 2, {"z": "\\u00e9\\u2028"}]}',
            json.dumps({"reasons": "Grüße, 日本語 \" \\ \n", "n": -5}).encode(),
            json.dumps({"big": 2**80, "f": 1.5, "nested": {"y": None, "x": True}}).encode()]


@pytest.mark.parametrize("payload", PAYLOADS)
@pytest.mark.parametrize("action", ["settlement.offered", "facilitation.note", "ünï\"code"])
@pytest.mark.parametrize("shape", ["bare", "attached", "authorized", "both"])
def test_bundle_is_the_canonical_json_of_its_object(payload: bytes | None, action: str,
                                                    shape: str) -> None:
    signed = _offer(3)
    attachments = [_settlement(), _step("x.attached")] if shape in ("attached", "both") \
        else []
    authorization = _step("admin.authorized") if shape in ("authorized", "both") else None
    fresh = StepStore.bundle(signed, action, payload, attachments, authorization)
    assert fresh == StepStore.bundle_json(signed, action, payload, attachments, authorization)
    # again, now with every record's text kept: the same bytes
    assert StepStore.bundle(signed, action, payload, attachments, authorization) == fresh
    assert json.loads(fresh)["record"] == signed.to_json_obj()


def test_a_records_kept_text_is_its_canonical_json() -> None:
    for signed in (_offer(1), _settlement(), _step("case.filed")):
        first = signed.to_json()
        assert first == canonical_json(signed.to_json_obj())
        assert signed.to_json() is first  # kept
        assert SignedRecord.from_json(first) == signed
        assert SignedRecord.from_json(first).to_json() == first
        cosigned = signed.add_signature(bytes.fromhex("32" * 32)) \
            if isinstance(signed.record, Settlement) else None
        if cosigned is not None:  # a new record object: its own text, with both signatures
            assert cosigned.to_json() == canonical_json(cosigned.to_json_obj()) != first
