"""Streaming AES-256-GCM containers and X25519 key wraps: round trips across chunk
boundaries, an independent decoder written from docs/evidence.md, a literal vector, every
tampering we can think of, and a multi-GB stream in constant memory."""

from __future__ import annotations

import hashlib
import hmac
import io
import os
import struct
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF
from eth_account import Account
from hypothesis import example, given, settings
from hypothesis import strategies as st

from evidence.encryption import (
    HEADER_SIZE,
    STANZA_SIZE,
    Encryptor,
    Header,
    KeyWraps,
    decrypt_file,
    decrypt_stream,
    encrypt_file,
    encrypt_stream,
    generate_data_key,
    generate_recipient_key,
    iter_decrypt,
    iter_encrypt,
    key_derivation_typed_data,
    public_key_bytes,
    unwrap_key,
    wrap_key,
    x25519_key_from_signature,
)
from evidence.errors import (
    BadMagicError,
    CiphertextTampered,
    DecryptionError,
    EvidenceError,
    FormatError,
    InvalidSignature,
    NotARecipient,
    TruncatedError,
    UnsupportedVersion,
)
from evidence.records import Domain

KEY = bytes(range(32))
PREFIX = bytes(range(8))
CS = 16  # tiny chunks so that boundaries are cheap to cross


def seal(data: bytes, key: bytes = KEY, chunk_size: int = CS, prefix: bytes = PREFIX) -> bytes:
    out = io.BytesIO()
    encrypt_stream(io.BytesIO(data), out, key, chunk_size, nonce_prefix=prefix)
    return out.getvalue()


def unseal(container: bytes, key: bytes = KEY) -> bytes:
    out = io.BytesIO()
    decrypt_stream(io.BytesIO(container), out, key)
    return out.getvalue()


def chunks_of(container: bytes, chunk_size: int = CS) -> list[bytes]:
    body = container[HEADER_SIZE:]
    block = chunk_size + 16
    return [body[i : i + block] for i in range(0, len(body), block)]


# --- an independent decoder, from docs/evidence.md only ---------------------------------


def reference_decrypt(container: bytes, data_key: bytes) -> bytes:
    """Decode as the spec says, with raw primitives (no code from evidence.encryption)."""
    magic, version, suite, chunk_size, prefix = struct.unpack(">8sBBI8s", container[:22])
    assert (magic, version, suite) == (b"CHARBENC", 1, 1)
    commit = hmac.new(data_key, b"chainarb.enc.v1.commit" + container[:22], "sha256").digest()
    assert commit == container[22:54]
    payload_key = hmac.new(data_key, b"chainarb.enc.v1.payload" + container[:22], "sha256")
    aead = AESGCM(payload_key.digest())
    header_hash = hashlib.sha256(container[:54]).digest()
    body = container[54:]
    block = chunk_size + 16
    count = max(1, -(-len(body) // block))
    plain = b""
    for i in range(count):
        final = i == count - 1
        aad = header_hash + i.to_bytes(8, "big") + bytes([final])
        nonce = prefix + i.to_bytes(4, "big")
        plain += aead.decrypt(nonce, body[i * block : (i + 1) * block], aad)
    return plain


def reference_unwrap(stanza: bytes, header_hash: bytes, private: X25519PrivateKey) -> bytes:
    rcpt, eph, sealed = stanza[:32], stanza[32:64], stanza[64:]
    shared = private.exchange(X25519PublicKey.from_public_bytes(eph))
    kek = HKDF(SHA256(), 32, eph + rcpt, b"chainarb.keywrap.v1" + header_hash).derive(shared)
    return AESGCM(kek).decrypt(bytes(12), sealed, header_hash)


# literal vector: key 00..1f, prefix 00..07, chunk size 16, 34-byte plaintext (3 chunks)
VECTOR_PLAINTEXT = b"chainarb evidence vector, 35 bytes"
VECTOR_CONTAINER = bytes.fromhex(
    "4348415242454e4301010000001000010203040506076d8e1640075a874e2371b09ca1f11dd2b198"
    "18e39217e6b068a7159bc5417f8d36c3c9f8199260bbcf6c72f5dbe797685d7a79dd30a15f088ecf"
    "ff478e2b90f0760a2b13a8031fa2bae220298cb4fce3c6d1d5c37ce9b9ae83d1cd8cb77ee80d93b7"
    "af7d7041bcea6b5037f31e07ae1e9d12"
)


def test_literal_vector_and_reference_decoder() -> None:
    container = seal(VECTOR_PLAINTEXT)
    assert container == VECTOR_CONTAINER
    assert container[:22] == b"CHARBENC\x01\x01" + (16).to_bytes(4, "big") + PREFIX
    assert len(container) == HEADER_SIZE + 2 * (16 + 16) + (2 + 16)
    assert reference_decrypt(VECTOR_CONTAINER, KEY) == VECTOR_PLAINTEXT
    assert unseal(VECTOR_CONTAINER) == VECTOR_PLAINTEXT


# --- round trips ------------------------------------------------------------------------


@settings(max_examples=200, deadline=None)
@given(
    data=st.binary(max_size=200),
    chunk_size=st.integers(min_value=16, max_value=48),
)
@example(data=b"", chunk_size=16)
@example(data=b"x" * 16, chunk_size=16)
@example(data=b"x" * 32, chunk_size=16)
@example(data=b"x" * 33, chunk_size=16)
@example(data=b"x" * 15, chunk_size=16)
def test_round_trip_across_chunk_boundaries(data: bytes, chunk_size: int) -> None:
    key = generate_data_key()
    prefix = os.urandom(8)
    container = seal(data, key, chunk_size, prefix=prefix)
    for threaded in (False, True):
        out = io.BytesIO()
        res = encrypt_stream(
            io.BytesIO(data), out, key, chunk_size, nonce_prefix=prefix, hash_in_thread=threaded
        )
        assert out.getvalue() == container
        assert res.plaintext_sha256 == hashlib.sha256(data).digest()
        assert res.plaintext_size == len(data) and res.ciphertext_size == len(container)
    full, rest = divmod(len(data), chunk_size)
    n_chunks = max(1, full + (1 if rest else 0))
    assert len(container) == HEADER_SIZE + len(data) + 16 * n_chunks
    assert unseal(container, key) == data
    assert reference_decrypt(container, key) == data
    assert b"".join(iter_decrypt(io.BytesIO(container), key)) == data


@pytest.mark.parametrize("size", [0, 1, (1 << 20) - 1, 1 << 20, (1 << 20) + 1, 2 << 20])
def test_round_trip_default_chunk_size(size: int) -> None:
    data = os.urandom(size)
    key = generate_data_key()
    hasher = hashlib.sha256()
    pieces = list(iter_encrypt(io.BytesIO(data), key, plaintext_hasher=hasher))
    assert hasher.digest() == hashlib.sha256(data).digest()
    assert len(pieces) == 1 + max(1, -(-size // (1 << 20)))
    assert unseal(b"".join(pieces), key) == data


class Trickle(io.RawIOBase):
    """A pipe-like source that returns at most 7 bytes per read."""

    def __init__(self, data: bytes) -> None:
        self._data = memoryview(data)

    def readable(self) -> bool:
        return True

    def readinto(self, buffer: memoryview) -> int:  # type: ignore[override]
        n = min(7, len(buffer), len(self._data))
        buffer[:n] = self._data[:n]
        self._data = self._data[n:]
        return n


def test_short_reads_do_not_change_the_layout() -> None:
    data = os.urandom(100)
    out = io.BytesIO()
    res = encrypt_stream(Trickle(data), out, KEY, CS, nonce_prefix=PREFIX)
    assert out.getvalue() == seal(data)
    assert res.plaintext_sha256 == hashlib.sha256(data).digest()
    back = io.BytesIO()
    decrypt_stream(Trickle(out.getvalue()), back, KEY)
    assert back.getvalue() == data


class ReadOnly:
    """A source with only read(), e.g. a decompressor or an HTTP body."""

    def __init__(self, data: bytes) -> None:
        self._f = io.BytesIO(data)

    def read(self, n: int) -> bytes:
        return self._f.read(min(n, 5))


def test_read_only_sources() -> None:
    data = os.urandom(77)
    out = io.BytesIO()
    encrypt_stream(ReadOnly(data), out, KEY, CS, nonce_prefix=PREFIX)  # type: ignore[arg-type]
    assert out.getvalue() == seal(data)
    assert b"".join(iter_decrypt(ReadOnly(out.getvalue()), KEY)) == data  # type: ignore[arg-type]


def test_fresh_nonce_prefix_and_key_every_time() -> None:
    data = b"same plaintext"
    a = io.BytesIO()
    b = io.BytesIO()
    encrypt_stream(io.BytesIO(data), a, KEY)
    encrypt_stream(io.BytesIO(data), b, KEY)
    assert a.getvalue()[14:22] != b.getvalue()[14:22]
    assert generate_data_key() != generate_data_key()


def test_encryptor_enforces_chunk_rules() -> None:
    enc = Encryptor(KEY, CS)
    with pytest.raises(FormatError, match="exactly"):
        enc.seal(b"short", final=False)
    with pytest.raises(FormatError):
        enc.seal(b"x" * (CS + 1), final=True)
    enc.seal(b"x" * CS, final=False)
    with pytest.raises(FormatError, match="empty final"):
        enc.seal(b"", final=True)
    enc.seal(b"end", final=True)
    with pytest.raises(FormatError, match="already"):
        enc.seal(b"more", final=True)
    with pytest.raises(FormatError, match="chunk size"):
        Encryptor(KEY, 8)


# --- tampering --------------------------------------------------------------------------

DATA = bytes(range(256)) * 2 + b"tail"  # 516 bytes: 32 full chunks of 16 + 4


@settings(max_examples=300, deadline=None)
@given(position=st.integers(min_value=0), bit=st.integers(min_value=0, max_value=7))
def test_any_flipped_bit_is_detected(position: int, bit: int) -> None:
    container = bytearray(seal(DATA))
    position %= len(container)
    container[position] ^= 1 << bit
    with pytest.raises(EvidenceError) as info:
        unseal(bytes(container))
    if position >= HEADER_SIZE:
        assert isinstance(info.value, CiphertextTampered)
    else:  # header: magic, version, sizes or the key commitment
        assert isinstance(info.value, FormatError | DecryptionError)


def test_flipped_tag_and_ciphertext_name_the_chunk() -> None:
    container = bytearray(seal(DATA))
    tag_pos = HEADER_SIZE + 3 * 32 + 20  # inside chunk 3's tag
    container[tag_pos] ^= 1
    with pytest.raises(CiphertextTampered, match="chunk 3 failed authentication"):
        unseal(bytes(container))
    container = bytearray(seal(DATA))
    container[HEADER_SIZE + 5 * 32 + 2] ^= 0x80  # chunk 5's ciphertext
    with pytest.raises(CiphertextTampered, match="chunk 5"):
        unseal(bytes(container))


def test_swapped_chunks_detected() -> None:
    container = seal(DATA)
    parts = chunks_of(container)
    parts[0], parts[1] = parts[1], parts[0]
    with pytest.raises(CiphertextTampered, match="chunk 0"):
        unseal(container[:HEADER_SIZE] + b"".join(parts))


def test_chunk_from_another_file_detected() -> None:
    """Same key, same positions: still refused (other nonce prefix and header hash)."""
    a = seal(DATA, prefix=b"A" * 8)
    b = seal(DATA, prefix=b"B" * 8)
    pa, pb = chunks_of(a), chunks_of(b)
    pa[2] = pb[2]
    with pytest.raises(CiphertextTampered, match="chunk 2"):
        unseal(a[:HEADER_SIZE] + b"".join(pa))


def test_truncation_detected() -> None:
    container = seal(DATA)
    parts = chunks_of(container)
    dropped_last = container[:HEADER_SIZE] + b"".join(parts[:-1])
    with pytest.raises(CiphertextTampered, match="truncated"):
        unseal(dropped_last)
    dropped_two = container[:HEADER_SIZE] + b"".join(parts[:-2])
    with pytest.raises(CiphertextTampered, match="truncated"):
        unseal(dropped_two)
    with pytest.raises(CiphertextTampered):
        unseal(container[: HEADER_SIZE + 32 * 4 + 9])  # cut in the middle of chunk 4
    with pytest.raises(CiphertextTampered, match="tag"):
        unseal(container[: HEADER_SIZE + 32 * 4 + 5])  # less than a tag left
    with pytest.raises(CiphertextTampered, match="no chunk"):
        unseal(container[:HEADER_SIZE])
    with pytest.raises(TruncatedError):
        unseal(container[: HEADER_SIZE - 1])
    with pytest.raises(CiphertextTampered):  # even an empty file has its final chunk
        unseal(seal(b"")[:HEADER_SIZE])


@pytest.mark.parametrize("extra", [b"\x00", b"x" * 17, b"y" * 32, None], ids=str)
def test_trailing_data_detected(extra: bytes | None) -> None:
    container = seal(DATA)
    tail = chunks_of(container)[-1] if extra is None else extra  # None: replay last chunk
    with pytest.raises(CiphertextTampered):
        unseal(container + tail)
    full = seal(b"z" * 64)  # ends on a full chunk: a whole extra block after it
    with pytest.raises(CiphertextTampered, match="trailing data"):
        unseal(full + (tail if len(tail) == 32 else tail.ljust(32, b"\x00")))


def test_wrong_key_is_named_not_garbage() -> None:
    container = seal(DATA)
    with pytest.raises(DecryptionError, match="wrong data key") as info:
        unseal(container, generate_data_key())
    assert not isinstance(info.value, CiphertextTampered)
    with pytest.raises(DecryptionError):
        unseal(container, KEY[:16])


def test_header_errors() -> None:
    container = seal(DATA)
    with pytest.raises(BadMagicError, match="not a chainarb"):
        unseal(b"%PDF-1.7" + container[8:])
    with pytest.raises(BadMagicError):
        unseal(b"%PDF")
    with pytest.raises(UnsupportedVersion, match="upgrade"):
        unseal(container[:8] + b"\x02" + container[9:])
    with pytest.raises(FormatError, match="chunk size"):
        Header.from_bytes(container[:10] + (1 << 30).to_bytes(4, "big") + container[14:54])


# --- key wrapping -----------------------------------------------------------------------


def test_key_wraps_for_every_recipient(tmp_path: Path) -> None:
    parties = [generate_recipient_key() for _ in range(3)]  # buyer, seller, tribunal
    src = tmp_path / "invoice.pdf"
    src.write_bytes(os.urandom(70_000))
    item = encrypt_file(src, tmp_path / "c.bin", [p.public_key() for p in parties], chunk_size=4096)
    assert item.plaintext_sha256 == hashlib.sha256(src.read_bytes()).digest()
    assert item.wraps.header_hash == item.header.hash
    wraps = KeyWraps.from_json(item.wraps.to_json())
    assert wraps == item.wraps
    for i, p in enumerate(parties):
        out = tmp_path / f"out{i}"
        res = decrypt_file(tmp_path / "c.bin", out, private_key=p, wraps=wraps)
        assert out.read_bytes() == src.read_bytes()
        assert res.plaintext_sha256 == item.plaintext_sha256
        stanza = next(s for s in wraps.stanzas if s[:32] == public_key_bytes(p))
        data_key = reference_unwrap(stanza, wraps.header_hash, p)
        assert reference_decrypt((tmp_path / "c.bin").read_bytes(), data_key) == src.read_bytes()


def test_court_added_later_without_changing_the_container(tmp_path: Path) -> None:
    buyer, court = generate_recipient_key(), generate_recipient_key()
    src = tmp_path / "f"
    src.write_bytes(b"trade secret")
    item = encrypt_file(src, tmp_path / "c", [buyer.public_key()])
    before = (tmp_path / "c").read_bytes()
    with pytest.raises(NotARecipient):
        decrypt_file(tmp_path / "c", tmp_path / "o", private_key=court, wraps=item.wraps)
    data_key = item.wraps.unwrap(buyer)
    wraps = item.wraps.add(data_key, court.public_key())
    assert wraps.add(data_key, court.public_key()) == wraps  # idempotent
    decrypt_file(tmp_path / "c", tmp_path / "o", private_key=court, wraps=wraps)
    assert (tmp_path / "o").read_bytes() == b"trade secret"
    assert (tmp_path / "c").read_bytes() == before


def test_wrong_recipient_and_tampered_wraps(tmp_path: Path) -> None:
    alice, mallory = generate_recipient_key(), generate_recipient_key()
    header = Header.create(KEY, CS)
    wraps = KeyWraps.create(KEY, header, [alice.public_key()])
    with pytest.raises(NotARecipient, match="not among the 1"):
        wraps.unwrap(mallory)
    bad = bytearray(wraps.stanzas[0])
    bad[-1] ^= 1
    with pytest.raises(CiphertextTampered, match="key wrap"):
        unwrap_key([bytes(bad)], header.hash, alice)
    # a wrap moved to another container: its header hash is authenticated
    with pytest.raises(CiphertextTampered):
        unwrap_key(wraps.stanzas, Header.create(KEY, CS).hash, alice)
    # mallory relabels a stanza with her own public key: still cannot open it
    relabeled = public_key_bytes(mallory) + wraps.stanzas[0][32:]
    with pytest.raises(CiphertextTampered):
        unwrap_key([relabeled], header.hash, mallory)
    with pytest.raises(DecryptionError, match="wrong data key"):
        KeyWraps.create(generate_data_key(), header, [alice.public_key()])
    with pytest.raises(FormatError, match="twice"):
        KeyWraps(header.hash, (wraps.stanzas[0], wraps.stanzas[0]))
    with pytest.raises(FormatError):
        KeyWraps(header.hash, (b"\x00" * (STANZA_SIZE - 1),))
    with pytest.raises(FormatError):
        wrap_key(KEY, header.hash, bytes(32))  # a low-order point
    with pytest.raises(UnsupportedVersion):
        KeyWraps.from_json(wraps.to_json().replace(b'"v":1', b'"v":9'))


def test_decrypt_file_with_the_data_key(tmp_path: Path) -> None:
    me = generate_recipient_key()
    src = tmp_path / "f"
    src.write_bytes(b"abc" * 1000)
    item = encrypt_file(src, tmp_path / "c", [me.public_key()], chunk_size=512)
    data_key = item.wraps.unwrap(me)
    decrypt_file(tmp_path / "c", tmp_path / "o", data_key=data_key)
    assert (tmp_path / "o").read_bytes() == src.read_bytes()
    with pytest.raises(DecryptionError, match="give private_key"):
        decrypt_file(tmp_path / "c", tmp_path / "o2")
    with pytest.raises(FormatError, match="at least one recipient"):
        encrypt_file(src, tmp_path / "c2", [])
    assert not (tmp_path / "c2").exists() and not (tmp_path / "o2").exists()


def test_wraps_of_another_container_refused(tmp_path: Path) -> None:
    me = generate_recipient_key()
    src = tmp_path / "f"
    src.write_bytes(b"a")
    one = encrypt_file(src, tmp_path / "one", [me.public_key()])
    encrypt_file(src, tmp_path / "two", [me.public_key()])
    with pytest.raises(DecryptionError, match="another container"):
        decrypt_file(tmp_path / "two", tmp_path / "o", private_key=me, wraps=one.wraps)
    assert not (tmp_path / "o").exists()


def test_failed_decryption_leaves_no_plaintext(tmp_path: Path) -> None:
    me = generate_recipient_key()
    src = tmp_path / "f"
    src.write_bytes(os.urandom(50_000))
    item = encrypt_file(src, tmp_path / "c", [me.public_key()], chunk_size=1024)
    container = bytearray((tmp_path / "c").read_bytes())
    container[-5] ^= 1  # the very last chunk: everything before it authenticates
    (tmp_path / "c").write_bytes(bytes(container))
    with pytest.raises(CiphertextTampered):
        decrypt_file(tmp_path / "c", tmp_path / "out", private_key=me, wraps=item.wraps)
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "f"]
    # an existing destination is left as it was
    (tmp_path / "out").write_bytes(b"previous")
    with pytest.raises(CiphertextTampered):
        decrypt_file(tmp_path / "c", tmp_path / "out", private_key=me, wraps=item.wraps)
    assert (tmp_path / "out").read_bytes() == b"previous"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["c", "f", "out"]


def test_key_from_wallet_signature_is_stable() -> None:
    """A deterministic (RFC 6979) signature of the fixed message gives the same X25519 key,
    whichever v convention the wallet uses."""
    key = "0x" + "77" * 32
    me = Account.from_key(key).address
    domain = Domain(chain_id=31337, verifying_contract="0x5FbDB2315678afecb367f032d93F642f64180aa3")
    message = key_derivation_typed_data(domain, me.lower())
    assert message["message"] == {"purpose": "chainarb evidence encryption key v1", "account": me}
    sig1 = Account.sign_typed_data(key, full_message=message).signature
    sig2 = Account.sign_typed_data(key, full_message=message).signature
    k1, k2 = x25519_key_from_signature(sig1), x25519_key_from_signature(sig2)
    assert public_key_bytes(k1) == public_key_bytes(k2)
    zero_one = bytes(sig1[:64]) + bytes([sig1[64] - 27])
    assert public_key_bytes(x25519_key_from_signature(zero_one)) == public_key_bytes(k1)
    other = Account.sign_typed_data("0x" + "78" * 32, full_message=message).signature
    assert public_key_bytes(x25519_key_from_signature(other)) != public_key_bytes(k1)
    other_domain = Domain(chain_id=1, verifying_contract=domain.verifying_contract)
    sig3 = Account.sign_typed_data(key, full_message=key_derivation_typed_data(other_domain, me))
    assert public_key_bytes(x25519_key_from_signature(sig3.signature)) != public_key_bytes(k1)
    with pytest.raises(InvalidSignature):
        x25519_key_from_signature(b"\x00" * 64)


# --- constant memory --------------------------------------------------------------------

STREAM_SCRIPT = textwrap.dedent(
    """
    import hashlib, io, os, resource, sys, time
    from evidence.commitment import sha256_stream
    from evidence.encryption import generate_data_key, iter_decrypt, iter_encrypt

    TOTAL = int(sys.argv[1])
    PATTERN = os.urandom((1 << 20) + 7)

    class Generated(io.RawIOBase):
        # TOTAL bytes cut from a repeating pattern whose period is not the chunk size
        def __init__(self):
            self.pos = 0
        def readable(self):
            return True
        def readinto(self, b):
            n = min(len(b), TOTAL - self.pos, len(PATTERN) - self.pos % len(PATTERN))
            start = self.pos % len(PATTERN)
            b[:n] = PATTERN[start:start + n]
            self.pos += n
            return n

    class Pieces(io.RawIOBase):
        # a file-like view of a generator of bytes (the ciphertext, never stored)
        def __init__(self, it):
            self.it, self.buf = it, b""
        def readable(self):
            return True
        def readinto(self, b):
            while not self.buf:
                self.buf = next(self.it, b"")
                if not self.buf:
                    return 0
            n = min(len(b), len(self.buf))
            b[:n] = self.buf[:n]
            self.buf = self.buf[n:]
            return n

    def rss():
        return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss // 1024  # MiB

    key = generate_data_key()
    warm = b"".join(iter_decrypt(Pieces(iter_encrypt(io.BytesIO(b"w" * 3_000_000), key)), key))
    del warm
    before = rss()
    t = time.perf_counter()
    plain_hash, size = sha256_stream(Generated())
    assert size == TOTAL
    enc_hasher, dec_hasher = hashlib.sha256(), hashlib.sha256()
    out = 0
    pieces = iter_encrypt(Generated(), key, plaintext_hasher=enc_hasher, hash_in_thread=True)
    for chunk in iter_decrypt(Pieces(pieces), key):
        dec_hasher.update(chunk)
        out += len(chunk)
    assert out == TOTAL
    assert enc_hasher.digest() == dec_hasher.digest() == plain_hash
    print(before, rss(), round(time.perf_counter() - t, 1))
    """
)


@pytest.mark.slow
def test_multi_gb_stream_in_constant_memory() -> None:
    """4 GiB (past 2**32 bytes) hashed, then encrypted and decrypted as one pipeline, with
    no file on disk; peak RSS must not grow with the size."""
    total = (4 << 30) + 12345
    proc = subprocess.run(
        [sys.executable, "-c", STREAM_SCRIPT, str(total)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert proc.returncode == 0, proc.stderr
    before, after, seconds = proc.stdout.split()
    assert int(after) - int(before) < 24, (before, after)
    assert float(seconds) < 120
