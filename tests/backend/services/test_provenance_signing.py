"""The provenance log's signatures: the cached libsecp256k1 signer signs exactly as
eth-account's ``unsafe_sign_hash`` (issue 13: the webhook path signs two entries per event
and no longer derives the key for each), and every entry still recovers to the service."""

from __future__ import annotations

import os

from eth_account import Account
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.services import provenance
from evidence.judicial.provenance import SignedProvenanceEntry
from evidence.records import Domain

KEY = "0x" + "4c" * 32


@settings(max_examples=60, deadline=None)
@given(st.binary(min_size=32, max_size=32), st.binary(min_size=32, max_size=32))
def test_the_cached_signer_signs_as_eth_account(digest: bytes, key: bytes) -> None:
    if not 0 < int.from_bytes(key, "big") < 2**256 - 2**32 - 977:  # inside the curve order
        key = os.urandom(32)
    for k in (key, "0x" + key.hex()):
        assert provenance._signer(k)(digest) == \
            bytes(Account.unsafe_sign_hash(digest, key).signature)


def test_a_signed_log_recovers_to_the_service_key() -> None:
    domain = Domain(chain_id=1, verifying_contract="0x" + "22" * 20)
    log = provenance.sign_steps(
        [("performance.captured", "", "webhook:x", 100, {"a": "1"}),
         ("origin.verified", "", "webhook:x", 99, {"b": "2"})],
        case_id=b"\x01" * 32, commitment=b"\x02" * 32, domain=domain, service_key=KEY)
    entries = provenance.load(log)
    assert [e.entry.at for e in entries] == [100, 100]  # never backwards
    assert {Account._recover_hash(e.entry.digest(domain), signature=e.signature)
            for e in entries} == {Account.from_key(KEY).address}
    assert entries[1].entry.prev_entry_hash == entries[0].entry.digest(domain)
    assert isinstance(SignedProvenanceEntry.from_json_obj(log[0]), SignedProvenanceEntry)
