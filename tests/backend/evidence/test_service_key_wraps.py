"""The service's key wraps (evidence items, encrypted step records and documents; the
step side is tested end to end in tests/backend/api/test_keys_at_rest.py): only the
service's X25519 key opens them, and a wrap is bound to its container's header."""

from __future__ import annotations

import io
from datetime import UTC, datetime
from types import SimpleNamespace

import pytest

from backend.services.evidence import EvidenceService
from evidence.encryption import Header, encrypt_stream, generate_data_key
from evidence.errors import EvidenceError
from tests.keys import INSTITUTION_KEY


def _service(key: str) -> EvidenceService:
    cases = SimpleNamespace(config=SimpleNamespace(institution_key=key))
    return EvidenceService(None, cases, blockstore=None,  # type: ignore[arg-type]
                           max_upload_bytes=1, clock=lambda: datetime.now(UTC))


def _container(data_key: bytes) -> Header:
    return encrypt_stream(io.BytesIO(b"a step record"), io.BytesIO(), data_key,
                          hash_in_thread=False).header


def test_wrap_unwrap_round_trip_and_refusals() -> None:
    svc = _service(INSTITUTION_KEY)
    data_key = generate_data_key()
    wrapped = svc.wrap(data_key, _container(data_key))
    assert data_key.hex() not in wrapped  # the key is not stored in the clear
    assert svc.unwrap(wrapped) == data_key
    # another service key cannot open it
    other = _service("0x" + "22" * 32)
    with pytest.raises(EvidenceError):
        other.unwrap(wrapped)
    # a key that does not open the container is refused before wrapping
    with pytest.raises(EvidenceError):
        svc.wrap(generate_data_key(), _container(data_key))
