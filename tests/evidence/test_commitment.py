"""Streaming SHA-256 and salted commitments: against hashlib and openssl, a literal vector,
and the property the salt exists for (a guessed document cannot be confirmed)."""

from __future__ import annotations

import hashlib
import io
import os
import subprocess
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from evidence.commitment import (
    COMMITMENT_TAG,
    SALT_SIZE,
    Opening,
    commit,
    commitment_of,
    open_commitment,
    sha256_chunks,
    sha256_file,
    sha256_stream,
)
from evidence.errors import FormatError, TamperedError

# literal vector: salt 00..1f, the file "invoice INV-2026-0001\n"
VECTOR_FILE = b"invoice INV-2026-0001\n"
VECTOR_SALT = bytes(range(32))
VECTOR_COMMITMENT = "e57090d93c32e6b8bd0d2488bd0283c152c4af72832db378cd57ee25a19264a3"


def test_tag_is_fixed_length_ascii() -> None:
    assert COMMITMENT_TAG == b"chainarb.commitment.v1"
    assert len(COMMITMENT_TAG) == 22
    assert SALT_SIZE == 32


def test_literal_vector() -> None:
    file_hash = hashlib.sha256(VECTOR_FILE).digest()
    opening = commit(file_hash, VECTOR_SALT)
    assert opening.commitment.hex() == VECTOR_COMMITMENT
    assert opening.commitment == hashlib.sha256(COMMITMENT_TAG + VECTOR_SALT + file_hash).digest()


def test_openssl_recomputes_the_commitment(tmp_path: Path) -> None:
    """The construction documented for courts: only openssl and a shell."""
    (tmp_path / "invoice.txt").write_bytes(VECTOR_FILE)
    (tmp_path / "salt.bin").write_bytes(VECTOR_SALT)
    script = (
        "(printf chainarb.commitment.v1; cat salt.bin; "
        "openssl dgst -sha256 -binary invoice.txt) | openssl dgst -sha256 -r"
    )
    out = subprocess.run(
        ["sh", "-c", script], cwd=tmp_path, capture_output=True, text=True, check=True
    )
    assert out.stdout.split()[0] == VECTOR_COMMITMENT


def test_guessed_document_cannot_be_confirmed() -> None:
    """What is public (the commitment) does not match any hash of the guess without the salt,
    and the same document committed twice gives unrelated commitments."""
    file_hash = hashlib.sha256(VECTOR_FILE).digest()
    a, b = commit(file_hash), commit(file_hash)
    assert a.salt != b.salt and a.commitment != b.commitment
    guesses = [b"invoice INV-2026-%04d\n" % i for i in range(2000)]
    public = {a.commitment, b.commitment}
    for g in guesses:
        gh = hashlib.sha256(g).digest()
        assert gh not in public
        assert hashlib.sha256(COMMITMENT_TAG + gh).digest() not in public
        assert commitment_of(gh, bytes(32)) not in public
    # with the opening, the right file is confirmed and no other one is
    open_commitment(a.commitment, a, file_hash)
    with pytest.raises(TamperedError, match="not the one"):
        open_commitment(a.commitment, a, hashlib.sha256(guesses[2]).digest())


def test_wrong_openings_refused() -> None:
    file_hash = hashlib.sha256(VECTOR_FILE).digest()
    opening = commit(file_hash)
    with pytest.raises(TamperedError, match="does not open"):
        open_commitment(opening.commitment, Opening(os.urandom(32), file_hash))
    with pytest.raises(TamperedError):
        open_commitment(os.urandom(32), opening)
    with pytest.raises(FormatError):
        commitment_of(file_hash[:31], opening.salt)
    with pytest.raises(FormatError):
        commit(file_hash, b"short salt")
    assert Opening.from_json_obj(opening.to_json_obj()) == opening
    with pytest.raises(FormatError):
        Opening.from_json_obj({"salt": "zz", "sha256": "00"})
    with pytest.raises(FormatError):
        Opening.from_json_obj({"salt": "0x00"})


@settings(max_examples=100, deadline=None)
@given(data=st.binary(max_size=5000), buffer_size=st.integers(min_value=1, max_value=700))
def test_streaming_hash_matches_hashlib(data: bytes, buffer_size: int) -> None:
    digest, size = sha256_stream(io.BytesIO(data), buffer_size)
    assert digest == hashlib.sha256(data).digest()
    assert size == len(data)
    pieces = [data[i : i + buffer_size] for i in range(0, len(data), buffer_size)]
    assert sha256_chunks(pieces) == digest


class ReadOnly:
    """A source with only read() (no readinto), e.g. a decompressor."""

    def __init__(self, data: bytes) -> None:
        self._f = io.BytesIO(data)

    def read(self, n: int) -> bytes:
        return self._f.read(n)


def test_read_only_source() -> None:
    data = os.urandom(3000)
    digest, size = sha256_stream(ReadOnly(data), 1024)  # type: ignore[arg-type]
    assert (digest, size) == (hashlib.sha256(data).digest(), 3000)


@pytest.mark.parametrize("size", [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 5_000_000])
def test_file_hash_matches_openssl(tmp_path: Path, size: int) -> None:
    path = tmp_path / "f"
    path.write_bytes(os.urandom(size))
    out = subprocess.run(
        ["openssl", "dgst", "-sha256", "-r", str(path)], capture_output=True, text=True, check=True
    )
    assert sha256_file(path).hex() == out.stdout.split()[0]
