"""Streaming authenticated encryption of evidence files and per-recipient key wrapping.

Theory of operation (the byte layouts are normative in docs/evidence.md, "Encryption"):

* Every item gets a fresh random 32-byte **data key**. The file is split into chunks of
  `chunk_size` plaintext bytes (1 MiB by default); every chunk but the last is full, the
  last holds 1..chunk_size bytes (0 only when the whole file is empty). Each chunk is
  sealed with AES-256-GCM under a payload key derived from the data key, with
  nonce = `nonce_prefix(8) ‖ uint32_be(index)` and
  AAD = `SHA-256(header) ‖ uint64_be(index) ‖ final_flag(1)`. Hence (STREAM construction):
  a flipped bit anywhere fails that chunk's tag; reordered chunks fail (index in nonce and
  AAD); chunks moved from another file fail (other header hash and key); dropping the
  final chunk fails (the new last chunk was sealed as non-final); trailing data fails
  (the real final chunk is then read as non-final).
* The header carries a **key commitment** HMAC-SHA256(data key, ...). AES-GCM alone is
  not key-committing: without it a malicious submitter could craft one ciphertext (one
  CID) that decrypts validly to different files under different keys given to different
  readers. The commitment also tells a wrong key from a tampered file before any chunk.
* Key wraps live **outside** the container, bound to it by the header hash: the
  container's bytes (and its IPFS CID) never change when a reader - the tribunal, later
  the court - is added. Recipient model: X25519 keys (ECIES: ephemeral X25519, HKDF-SHA256,
  AES-256-GCM). A recipient may derive its X25519 key from a deterministic wallet
  signature (`x25519_key_from_signature`) so that a MetaMask user needs no extra secret.
* **Reusing an ephemeral key** (`EphemeralWrapper`, the service's own wraps): a sender
  may make several stanzas for one recipient with one ephemeral key, for a bounded count
  and time. The stanza format does not change (readers cannot tell, and need not). Why
  the zero nonce stays safe: `kek = HKDF(shared, salt = E ‖ R, info = label ‖
  header_hash)`, so with `E` and `R` fixed a `kek` repeats only if the header hash does.
  Every header carries 8 random bytes (the nonce prefix) and the HMAC-SHA256 commitment
  to a fresh random 32-byte data key, so two containers' header hashes differ unless
  SHA-256 or that HMAC collides; and a key is wrapped only against a header it opens
  (`payload_key` checks the commitment first), so one `kek` can only ever seal the one
  data key of its container: the same (key, nonce) never seals two plaintexts. Someone
  holding the reused ephemeral private key can open the stanzas made with it, which is
  what the recipient's private key opens anyway; the wrapper lives in the process that
  holds that private key (the service), so nothing is exposed that was not. Stanzas made
  with one `E` show they were made by one process within its bound; the rows that hold
  them carry their times already.
* Memory is constant: two chunk buffers for look-ahead (to know which chunk is final).
  A failed decryption never hands out unauthenticated plaintext; `decrypt_file` writes to a
  temporary file and renames it only after the final chunk authenticated.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import os
import secrets
import struct
import tempfile
import threading
import time
from collections.abc import Callable, Iterable, Iterator
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any, BinaryIO, Protocol, TypeVar

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.asymmetric.x25519 import X25519PrivateKey, X25519PublicKey
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.hashes import SHA256
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

from evidence import safejson
from evidence.errors import (
    BadMagicError,
    CiphertextTampered,
    DecryptionError,
    FormatError,
    NotARecipient,
    TruncatedError,
    UnsupportedVersion,
)
from evidence.records import Domain, TypedDataJson, checksum_address, normalize_signature

__all__ = [
    "DEFAULT_CHUNK_SIZE",
    "HEADER_SIZE",
    "MAGIC",
    "STANZA_SIZE",
    "DecryptResult",
    "Decryptor",
    "EncryptResult",
    "EncryptedItem",
    "Encryptor",
    "EphemeralWrapper",
    "Header",
    "KeyWraps",
    "Readable",
    "decrypt_file",
    "decrypt_stream",
    "encrypt_bytes",
    "encrypt_file",
    "encrypt_stream",
    "generate_data_key",
    "generate_recipient_key",
    "iter_decrypt",
    "iter_encrypt",
    "key_derivation_typed_data",
    "public_key_bytes",
    "unwrap_key",
    "wrap_key",
    "x25519_key_from_signature",
]

_Result = TypeVar("_Result")

MAGIC = b"CHARBENC"
VERSION = 1
SUITE_AES256GCM_HMACSHA256 = 1
HEADER_SIZE = 54
TAG_SIZE = 16
DEFAULT_CHUNK_SIZE = 1 << 20
MIN_CHUNK_SIZE = 16
MAX_CHUNK_SIZE = 1 << 24
MAX_CHUNKS = 1 << 32
DATA_KEY_SIZE = 32
STANZA_SIZE = 112
KEYWRAPS_FORMAT = "chainarb.keywraps"
KEYWRAPS_VERSION = 1
MAX_RECIPIENTS = 64
MAX_KEYWRAPS_JSON = 1 << 20  # 64 stanzas of a few hundred bytes each, with room

_COMMIT_LABEL = b"chainarb.enc.v1.commit"
_PAYLOAD_LABEL = b"chainarb.enc.v1.payload"
_WRAP_INFO = b"chainarb.keywrap.v1"
_WRAP_NONCE = bytes(12)  # safe: every wrap key is used once (see "Reusing an ephemeral key")
_SIGKEY_SALT = b"chainarb.x25519-from-signature.v1"


class _Hasher(Protocol):
    def update(self, data: bytes | bytearray | memoryview, /) -> None: ...


class Readable(Protocol):
    """What the streaming functions read: a binary file, or any object with `read(n)`
    (a progress-counting wrapper, a generator's adapter); `readinto` is used if present."""

    def read(self, n: int = -1, /) -> bytes: ...


def generate_data_key() -> bytes:
    """A fresh random 32-byte data key (one per item, never reused)."""
    return secrets.token_bytes(DATA_KEY_SIZE)


def _check_data_key(data_key: bytes) -> None:
    if not isinstance(data_key, bytes | bytearray) or len(data_key) != DATA_KEY_SIZE:
        raise DecryptionError(f"data key: expected {DATA_KEY_SIZE} bytes")


# --- header -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Header:
    """The 54-byte container header: magic, version, suite, chunk size, nonce prefix and
    the key commitment."""

    chunk_size: int
    nonce_prefix: bytes
    key_commitment: bytes

    _FIXED = struct.Struct(">8sBBI8s")  # 22 bytes before the key commitment

    @classmethod
    def _prefix(cls, chunk_size: int, nonce_prefix: bytes) -> bytes:
        return cls._FIXED.pack(MAGIC, VERSION, SUITE_AES256GCM_HMACSHA256, chunk_size, nonce_prefix)

    @classmethod
    def create(cls, data_key: bytes, chunk_size: int, nonce_prefix: bytes | None = None) -> Header:
        _check_data_key(data_key)
        if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
            raise FormatError(
                f"chunk size: expected {MIN_CHUNK_SIZE}..{MAX_CHUNK_SIZE} bytes, found {chunk_size}"
            )
        prefix = secrets.token_bytes(8) if nonce_prefix is None else nonce_prefix
        if len(prefix) != 8:
            raise FormatError(f"nonce prefix: expected 8 bytes, found {len(prefix)}")
        fixed = cls._prefix(chunk_size, prefix)
        commitment = hmac.digest(data_key, _COMMIT_LABEL + fixed, "sha256")
        return cls(chunk_size, prefix, commitment)

    def to_bytes(self) -> bytes:
        return self._prefix(self.chunk_size, self.nonce_prefix) + self.key_commitment

    @property
    def hash(self) -> bytes:
        """SHA-256 of the header bytes: binds every chunk and every key wrap to it."""
        return hashlib.sha256(self.to_bytes()).digest()

    @classmethod
    def from_bytes(cls, data: bytes | bytearray) -> Header:
        if len(data) < HEADER_SIZE:
            if not MAGIC.startswith(bytes(data[: len(MAGIC)])):
                raise BadMagicError(f"expected magic {MAGIC!r}, found {bytes(data[:8])!r}")
            raise TruncatedError(
                f"container header: expected {HEADER_SIZE} bytes, found {len(data)}"
            )
        magic, version, suite, chunk_size, prefix = cls._FIXED.unpack_from(data)
        if magic != MAGIC:
            raise BadMagicError(
                f"expected magic 0x{MAGIC.hex()} ({MAGIC.decode()}), found 0x{magic.hex()}: "
                "not a chainarb encrypted container"
            )
        if version != VERSION:
            raise UnsupportedVersion(
                f"container version: this library reads {VERSION}, found {version}; "
                "upgrade the evidence library"
            )
        if suite != SUITE_AES256GCM_HMACSHA256:
            raise UnsupportedVersion(f"container suite: expected 1 (AES-256-GCM), found {suite}")
        if not MIN_CHUNK_SIZE <= chunk_size <= MAX_CHUNK_SIZE:
            raise FormatError(
                f"chunk size: expected {MIN_CHUNK_SIZE}..{MAX_CHUNK_SIZE}, found {chunk_size}"
            )
        return cls(chunk_size, prefix, bytes(data[22:HEADER_SIZE]))

    def payload_key(self, data_key: bytes) -> bytes:
        """Check the key commitment, then derive the AES key for the chunks."""
        _check_data_key(data_key)
        fixed = self._prefix(self.chunk_size, self.nonce_prefix)
        expected = hmac.digest(data_key, _COMMIT_LABEL + fixed, "sha256")
        if not hmac.compare_digest(expected, self.key_commitment):
            raise DecryptionError(
                "wrong data key: it does not match the container's key commitment "
                "(a key for another item, or the header was changed)"
            )
        return hmac.digest(data_key, _PAYLOAD_LABEL + fixed, "sha256")


def _aad(header_hash: bytes, index: int, final: bool) -> bytes:
    return header_hash + index.to_bytes(8, "big") + (b"\x01" if final else b"\x00")


# --- push API ---------------------------------------------------------------------------


class Encryptor:
    """Seals chunks in order. `seal(chunk, final)` is called once per chunk; every chunk but
    the final one must be exactly `chunk_size` bytes."""

    def __init__(
        self,
        data_key: bytes,
        chunk_size: int = DEFAULT_CHUNK_SIZE,
        *,
        nonce_prefix: bytes | None = None,
    ) -> None:
        self.header = Header.create(data_key, chunk_size, nonce_prefix)
        self.header_bytes = self.header.to_bytes()
        self._hash = hashlib.sha256(self.header_bytes).digest()
        self._aead = AESGCM(self.header.payload_key(data_key))
        self._index = 0
        self._done = False

    def seal(self, plaintext: bytes | bytearray | memoryview, final: bool) -> bytes:
        nonce, aad = self._next(len(plaintext), final)
        out = self._aead.encrypt(nonce, plaintext, aad)
        self._index += 1
        self._done = final
        return out

    def seal_into(
        self, plaintext: bytes | bytearray | memoryview, final: bool, out: bytearray | memoryview
    ) -> int:
        """`seal`, writing ciphertext ‖ tag to the start of `out` instead of a new object;
        returns its length (plaintext + 16). For streaming callers that reuse their
        buffers: a fresh 1 MiB object per chunk costs page faults. Same bytes as `seal`."""
        nonce, aad = self._next(len(plaintext), final)
        n = len(plaintext) + TAG_SIZE
        if len(out) < n:
            raise ValueError(f"seal_into: output buffer of {len(out)} bytes, {n} needed")
        target = memoryview(out)[:n]
        encrypt_into = getattr(self._aead, "encrypt_into", None)
        if encrypt_into is not None:  # recent cryptography (AEAD *_into methods)
            encrypt_into(nonce, plaintext, aad, target)
        else:  # pragma: no cover - older cryptography
            target[:] = self._aead.encrypt(nonce, plaintext, aad)
        self._index += 1
        self._done = final
        return n

    def _next(self, n: int, final: bool) -> tuple[bytes, bytes]:
        """Check the next chunk's length and position; its nonce and AAD."""
        if self._done:
            raise FormatError("encryptor: the final chunk was already sealed")
        if n > self.header.chunk_size or (not final and n != self.header.chunk_size):
            raise FormatError(
                f"chunk {self._index}: {n} bytes; non-final chunks must be exactly "
                f"{self.header.chunk_size} and the final one at most that"
            )
        if final and n == 0 and self._index > 0:
            raise FormatError("an empty final chunk is only allowed for an empty file")
        if self._index >= MAX_CHUNKS:
            raise FormatError(f"more than {MAX_CHUNKS} chunks: use a larger chunk size")
        nonce = self.header.nonce_prefix + self._index.to_bytes(4, "big")
        return nonce, _aad(self._hash, self._index, final)


class Decryptor:
    """Opens chunks in order after checking the key commitment of the header."""

    def __init__(self, data_key: bytes, header: Header) -> None:
        self.header = header
        self._hash = header.hash
        self._aead = AESGCM(header.payload_key(data_key))
        self._index = 0

    def open(self, ciphertext: bytes | bytearray | memoryview, final: bool) -> bytes:
        i = self._index
        if len(ciphertext) < TAG_SIZE:
            raise CiphertextTampered(
                f"chunk {i}: {len(ciphertext)} bytes, shorter than its 16-byte tag "
                "(the container was truncated)"
            )
        if i >= MAX_CHUNKS:
            raise CiphertextTampered(f"chunk {i}: more than {MAX_CHUNKS} chunks")
        nonce = self.header.nonce_prefix + i.to_bytes(4, "big")
        try:
            plaintext = self._aead.decrypt(nonce, ciphertext, _aad(self._hash, i, final))
        except InvalidTag:
            raise self._diagnose(nonce, ciphertext, final) from None
        if final and not plaintext and i > 0:
            raise CiphertextTampered(f"chunk {i}: empty final chunk after chunk 0 (not canonical)")
        self._index += 1
        return plaintext

    def _diagnose(self, nonce: bytes, ciphertext: Any, final: bool) -> CiphertextTampered:
        """Name what failed: a chunk that authenticates with the other final flag tells
        truncation (or trailing data) from a changed chunk."""
        i = self._index
        try:
            self._aead.decrypt(nonce, ciphertext, _aad(self._hash, i, not final))
        except InvalidTag:
            return CiphertextTampered(
                f"chunk {i} failed authentication: its bytes, its tag or the chunk order "
                "were changed; the file is not what was encrypted"
            )
        if final:
            return CiphertextTampered(
                f"the container ends after chunk {i}, which is not the final chunk: "
                "it was truncated (chunks are missing at the end)"
            )
        return CiphertextTampered(
            f"chunk {i} is the final chunk but more data follows it: trailing data was "
            "appended to the container"
        )


# --- streaming over files ---------------------------------------------------------------


def _read_full(stream: Readable, view: memoryview) -> int:
    """Fill `view` unless the stream ends first (pipes and sockets return short reads).
    Sources without `readinto` (generators wrapped in a `read()` object) work too."""
    total = 0
    size = len(view)
    readinto = getattr(stream, "readinto", None)
    while total < size:
        if readinto is not None:
            n = readinto(view[total:])
        else:
            data = stream.read(size - total)
            n = len(data)
            view[total : total + n] = data
        if not n:
            break
        total += n
    return total


def iter_encrypt(
    src: Readable,
    data_key: bytes,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    plaintext_hasher: _Hasher | None = None,
    nonce_prefix: bytes | None = None,
    hash_in_thread: bool = False,
) -> Iterator[bytes]:
    """Yield the header, then each sealed chunk. Updates `plaintext_hasher` on the way so
    one pass gives the file's SHA-256 too (needed for its commitment).

    With `hash_in_thread`, the plaintext hash runs on a second core (hashlib releases the
    GIL) while this thread seals and the consumer addresses the ciphertext. Buffers rotate
    so that a buffer is refilled only after its hash update finished; the hasher is
    complete when the iteration ends.
    """
    enc = Encryptor(data_key, chunk_size, nonce_prefix=nonce_prefix)
    yield enc.header_bytes
    threaded = hash_in_thread and plaintext_hasher is not None
    count = 3 if threaded else 2
    views = [memoryview(bytearray(chunk_size)) for _ in range(count)]
    pending: list[Future[None] | None] = [None] * count
    pool = ThreadPoolExecutor(1, thread_name_prefix="evidence-hash") if threaded else None

    def fill(slot: int) -> int:
        job = pending[slot]
        if job is not None:  # the hash of what this buffer held must be done first
            job.result()
            pending[slot] = None
        return _read_full(src, views[slot])

    try:
        cur = 0
        n = fill(cur)
        while True:
            nxt_slot = (cur + 1) % count
            nxt = fill(nxt_slot) if n == chunk_size else 0
            chunk = views[cur][:n]
            if pool is not None and plaintext_hasher is not None:  # pool only with a hasher
                pending[cur] = pool.submit(plaintext_hasher.update, chunk)
            elif plaintext_hasher is not None:
                plaintext_hasher.update(chunk)
            yield enc.seal(chunk, final=nxt == 0)
            if nxt == 0:
                for job in pending:
                    if job is not None:
                        job.result()
                return
            cur, n = nxt_slot, nxt
    finally:
        if pool is not None:
            pool.shutdown(wait=True)


def iter_decrypt(src: Readable, data_key: bytes) -> Iterator[bytes]:
    """Yield authenticated plaintext chunk by chunk.

    Each yielded chunk is authentic, but only a completed iteration proves the file is
    complete (truncation shows at the end): consumers that persist plaintext must discard
    it on error, as `decrypt_file` does.
    """
    head = bytearray(HEADER_SIZE)
    header = Header.from_bytes(head[: _read_full(src, memoryview(head))])
    dec = Decryptor(data_key, header)
    block = header.chunk_size + TAG_SIZE
    bufs = (bytearray(block), bytearray(block))
    views = (memoryview(bufs[0]), memoryview(bufs[1]))
    cur = 0
    n = _read_full(src, views[cur])
    if n == 0:
        raise CiphertextTampered(
            "the container has a header but no chunk (even an empty file has one): truncated"
        )
    while True:
        nxt = _read_full(src, views[1 - cur]) if n == block else 0
        yield dec.open(views[cur][:n], final=nxt == 0)
        if nxt == 0:
            return
        cur, n = 1 - cur, nxt


@dataclass(frozen=True)
class EncryptResult:
    header: Header
    plaintext_sha256: bytes
    plaintext_size: int
    ciphertext_size: int


@dataclass(frozen=True)
class DecryptResult:
    plaintext_sha256: bytes
    plaintext_size: int


def encrypt_stream(
    src: Readable,
    dst: BinaryIO,
    data_key: bytes,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    *,
    nonce_prefix: bytes | None = None,
    hash_in_thread: bool = True,
) -> EncryptResult:
    """Encrypt `src` into `dst` in one pass, hashing the plaintext on the way (on a second
    core by default, while this thread encrypts and writes)."""
    hasher = hashlib.sha256()
    header: Header | None = None
    size = out = 0
    pieces = iter_encrypt(
        src,
        data_key,
        chunk_size,
        plaintext_hasher=hasher,
        nonce_prefix=nonce_prefix,
        hash_in_thread=hash_in_thread,
    )
    for i, piece in enumerate(pieces):
        if i == 0:
            header = Header.from_bytes(piece)
        else:
            size += len(piece) - TAG_SIZE
        dst.write(piece)
        out += len(piece)
    assert header is not None
    return EncryptResult(header, hasher.digest(), size, out)


def encrypt_bytes(
    data: bytes, data_key: bytes, chunk_size: int = DEFAULT_CHUNK_SIZE, *,
    nonce_prefix: bytes | None = None,
) -> tuple[Header, bytes]:
    """The container of bytes already in memory: the same bytes as `encrypt_stream` over
    them (same key and nonce prefix), without its stream, buffers and generator, which
    cost more than sealing a step's few-KiB bundle. Returns the header and the container."""
    enc = Encryptor(data_key, chunk_size, nonce_prefix=nonce_prefix)
    view = memoryview(data)
    n = len(view)
    pieces = [enc.header_bytes]
    start = 0
    while True:  # every chunk full but the last, which holds 1..chunk_size (0: empty file)
        end = start + chunk_size
        final = end >= n
        pieces.append(enc.seal(view[start:end], final))
        if final:
            return enc.header, b"".join(pieces)
        start = end


def decrypt_stream(src: Readable, dst: BinaryIO, data_key: bytes) -> DecryptResult:
    """Decrypt into `dst`. On error `dst` holds partial authentic plaintext: discard it."""
    hasher = hashlib.sha256()
    size = 0
    for chunk in iter_decrypt(src, data_key):
        hasher.update(chunk)
        dst.write(chunk)
        size += len(chunk)
    return DecryptResult(hasher.digest(), size)


# --- key wrapping (ECIES over X25519) ---------------------------------------------------


def generate_recipient_key() -> X25519PrivateKey:
    return X25519PrivateKey.generate()


def public_key_bytes(key: X25519PrivateKey | X25519PublicKey | bytes) -> bytes:
    """The 32-byte raw X25519 public key (what a recipient publishes)."""
    if isinstance(key, X25519PrivateKey):
        key = key.public_key()
    if isinstance(key, X25519PublicKey):
        return key.public_bytes_raw()
    if len(key) != 32:
        raise FormatError(f"X25519 public key: expected 32 bytes, found {len(key)}")
    return bytes(key)


KEY_DERIVATION_PURPOSE = "chainarb evidence encryption key v1"


def key_derivation_typed_data(domain: Domain, account: str) -> TypedDataJson:
    """What a wallet signs (`eth_signTypedData_v4`) to derive its evidence key:
    `KeyDerivation(string purpose,address account)` under the deployment's domain."""
    return {
        "types": {
            "EIP712Domain": Domain.TYPE,
            "KeyDerivation": [
                {"name": "purpose", "type": "string"},
                {"name": "account", "type": "address"},
            ],
        },
        "primaryType": "KeyDerivation",
        "domain": domain.to_json_obj(),
        "message": {
            "purpose": KEY_DERIVATION_PURPOSE,
            "account": checksum_address(account, "account"),
        },
    }


def x25519_key_from_signature(signature: bytes | str) -> X25519PrivateKey:
    """Derive a recipient key from a wallet's signature of `key_derivation_typed_data`:
    X25519 private key = HKDF-SHA256(ikm = signature with v as 27/28, salt, info = "").

    Safe only because RFC 6979 wallets sign deterministically; anyone who sees this
    signature can decrypt for you, so it must never be sent anywhere.
    """
    sig = normalize_signature(signature)
    seed = HKDF(SHA256(), 32, _SIGKEY_SALT, b"").derive(sig)
    return X25519PrivateKey.from_private_bytes(seed)


def _wrap_key_for(shared: bytes, eph_pub: bytes, rcpt_pub: bytes, header_hash: bytes) -> bytes:
    return HKDF(SHA256(), 32, eph_pub + rcpt_pub, _WRAP_INFO + header_hash).derive(shared)


def wrap_key(
    data_key: bytes, header_hash: bytes, recipient: X25519PublicKey | bytes
) -> bytes:
    """One 112-byte stanza: recipient public key ‖ ephemeral public key ‖ sealed data key."""
    _check_data_key(data_key)
    rcpt_pub = public_key_bytes(recipient)
    eph = X25519PrivateKey.generate()
    eph_pub = eph.public_key().public_bytes_raw()
    try:
        shared = eph.exchange(X25519PublicKey.from_public_bytes(rcpt_pub))
    except ValueError:
        raise FormatError("recipient key is a low-order X25519 point; refuse it") from None
    kek = _wrap_key_for(shared, eph_pub, rcpt_pub, header_hash)
    return rcpt_pub + eph_pub + AESGCM(kek).encrypt(_WRAP_NONCE, bytes(data_key), header_hash)


class EphemeralWrapper:
    """Makes stanzas for one recipient, reusing an ephemeral key (and its X25519 shared
    secret, the costly part of a wrap) for at most ``max_uses`` stanzas and ``max_age``
    seconds; then a fresh one. Safe only as argued in the module docstring ("Reusing an
    ephemeral key"): use it where the recipient's private key lives (the service's own
    wraps), and only through `wrap`, which refuses a key that does not open its header.
    Thread-safe."""

    def __init__(self, recipient: X25519PublicKey | bytes, *, max_uses: int = 1000,
                 max_age: float = 60.0, clock: Callable[[], float] = time.monotonic) -> None:
        if max_uses < 1 or max_age <= 0:
            raise ValueError("max_uses must be at least 1 and max_age positive")
        self.recipient = public_key_bytes(recipient)
        self._recipient_key = X25519PublicKey.from_public_bytes(self.recipient)
        self.max_uses, self.max_age, self._clock = max_uses, max_age, clock
        self._lock = threading.Lock()
        self._current: tuple[bytes, bytes] | None = None  # (ephemeral public, shared)
        self._uses = 0
        self._expires = 0.0

    def _ephemeral(self) -> tuple[bytes, bytes]:
        with self._lock:
            now = self._clock()
            if self._current is None or self._uses >= self.max_uses or now >= self._expires:
                eph = X25519PrivateKey.generate()
                try:
                    shared = eph.exchange(self._recipient_key)
                except ValueError:
                    raise FormatError("recipient key is a low-order X25519 point; "
                                      "refuse it") from None
                self._current = (eph.public_key().public_bytes_raw(), shared)
                self._uses, self._expires = 0, now + self.max_age
            self._uses += 1
            return self._current

    def stanza(self, data_key: bytes, header: Header) -> tuple[bytes, bytes]:
        """The header's hash and this recipient's stanza for ``data_key``, which must open
        ``header`` (checked: the argument for reuse needs one key per header)."""
        header.payload_key(data_key)
        header_hash = header.hash
        eph_pub, shared = self._ephemeral()
        kek = _wrap_key_for(shared, eph_pub, self.recipient, header_hash)
        return header_hash, self.recipient + eph_pub + AESGCM(kek).encrypt(
            _WRAP_NONCE, bytes(data_key), header_hash)

    def wrap(self, data_key: bytes, header: Header) -> KeyWraps:
        """`KeyWraps.create(data_key, header, [recipient])`, the ephemeral key reused."""
        header_hash, stanza = self.stanza(data_key, header)
        return KeyWraps(header_hash, (stanza,))


def unwrap_key(
    stanzas: Iterable[bytes], header_hash: bytes, private_key: X25519PrivateKey
) -> bytes:
    """Find this key's stanza and open it; NotARecipient if there is none."""
    my_pub = private_key.public_key().public_bytes_raw()
    count = 0
    for stanza in stanzas:
        count += 1
        if len(stanza) != STANZA_SIZE:
            raise FormatError(f"key wrap: expected {STANZA_SIZE} bytes, found {len(stanza)}")
        if not hmac.compare_digest(stanza[:32], my_pub):
            continue
        eph_pub = stanza[32:64]
        try:
            shared = private_key.exchange(X25519PublicKey.from_public_bytes(eph_pub))
            kek = _wrap_key_for(shared, eph_pub, my_pub, header_hash)
            return AESGCM(kek).decrypt(_WRAP_NONCE, stanza[64:], header_hash)
        except (InvalidTag, ValueError):
            raise CiphertextTampered(
                f"key wrap for recipient {my_pub.hex()} failed authentication: the wrap was "
                "changed or belongs to another container"
            ) from None
    raise NotARecipient(
        f"public key {my_pub.hex()} is not among the {count} recipient(s) of this item; "
        "ask someone who can read it to wrap the key for you"
    )


@dataclass(frozen=True)
class KeyWraps:
    """The key wraps of one container (stored beside it, not inside it)."""

    header_hash: bytes
    stanzas: tuple[bytes, ...]

    def __post_init__(self) -> None:
        if len(self.header_hash) != 32:
            raise FormatError("key wraps: header hash must be 32 bytes")
        if len(self.stanzas) > MAX_RECIPIENTS:
            raise FormatError(f"key wraps: more than {MAX_RECIPIENTS} recipients")
        for s in self.stanzas:
            if len(s) != STANZA_SIZE:
                raise FormatError(f"key wrap: expected {STANZA_SIZE} bytes, found {len(s)}")
        recipients = [s[:32] for s in self.stanzas]
        if len(set(recipients)) != len(recipients):
            raise FormatError("key wraps: a recipient appears twice")
        object.__setattr__(self, "stanzas", tuple(sorted(bytes(s) for s in self.stanzas)))

    @classmethod
    def create(
        cls,
        data_key: bytes,
        header: Header,
        recipients: Iterable[X25519PublicKey | bytes],
    ) -> KeyWraps:
        header.payload_key(data_key)  # refuse to wrap a key that does not open the container
        h = header.hash
        return cls(h, tuple(wrap_key(data_key, h, r) for r in recipients))

    def add(self, data_key: bytes, recipient: X25519PublicKey | bytes) -> KeyWraps:
        """Give one more reader (e.g. the court) access, without touching the container."""
        if public_key_bytes(recipient) in self.recipients():
            return self
        return KeyWraps(
            self.header_hash, (*self.stanzas, wrap_key(data_key, self.header_hash, recipient))
        )

    def recipients(self) -> tuple[bytes, ...]:
        return tuple(s[:32] for s in self.stanzas)

    def unwrap(self, private_key: X25519PrivateKey) -> bytes:
        return unwrap_key(self.stanzas, self.header_hash, private_key)

    def to_json(self) -> bytes:
        obj = {
            "format": KEYWRAPS_FORMAT,
            "v": KEYWRAPS_VERSION,
            "headerHash": "0x" + self.header_hash.hex(),
            "wraps": ["0x" + s.hex() for s in self.stanzas],
        }
        return json.dumps(obj, sort_keys=True, separators=(",", ":")).encode()

    @classmethod
    def from_json(cls, data: bytes | str) -> KeyWraps:
        try:
            obj = safejson.loads(data, what="key wraps", max_bytes=MAX_KEYWRAPS_JSON)
        except safejson.JsonTooDeep:
            raise
        except FormatError:
            raise FormatError("key wraps: not JSON") from None
        if not isinstance(obj, dict) or obj.get("format") != KEYWRAPS_FORMAT:
            raise FormatError(f'key wraps: expected "format": "{KEYWRAPS_FORMAT}"')
        if obj.get("v") != KEYWRAPS_VERSION:
            raise UnsupportedVersion(
                f"key wraps: this library reads version {KEYWRAPS_VERSION}, found {obj.get('v')!r}"
            )
        if set(obj) != {"format", "v", "headerHash", "wraps"} or not isinstance(obj["wraps"], list):
            raise FormatError("key wraps: expected keys format, v, headerHash, wraps (a list)")
        header, wraps = obj["headerHash"], [w for w in obj["wraps"] if isinstance(w, str)]
        try:
            if not isinstance(header, str) or len(wraps) != len(obj["wraps"]):
                raise ValueError("not a string")
            return cls(
                bytes.fromhex(header.removeprefix("0x")),
                tuple(bytes.fromhex(w.removeprefix("0x")) for w in wraps),
            )
        except ValueError:
            raise FormatError("key wraps: headerHash and wraps must be hex strings") from None


# --- whole files ------------------------------------------------------------------------


@dataclass(frozen=True)
class EncryptedItem:
    """What `encrypt_file` produced: the container's header, its key wraps and the
    plaintext's SHA-256 and size (inputs to the commitment; keep them confidential)."""

    header: Header
    wraps: KeyWraps
    plaintext_sha256: bytes
    plaintext_size: int
    ciphertext_size: int


def _atomic_output(dst: Path) -> tuple[BinaryIO, Path]:
    fd, tmp = tempfile.mkstemp(dir=dst.parent, prefix=f".{dst.name}.", suffix=".partial")
    return os.fdopen(fd, "wb", buffering=0), Path(tmp)


def _write_atomically(dst: Path, produce: Callable[[BinaryIO], _Result]) -> _Result:
    """Run `produce(stream)` into a temp file beside `dst`; rename only on success."""
    out, tmp = _atomic_output(dst)
    try:
        with out:
            result = produce(out)
            os.fsync(out.fileno())
        os.replace(tmp, dst)
    except BaseException:
        tmp.unlink(missing_ok=True)
        raise
    return result


def encrypt_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    recipients: Iterable[X25519PublicKey | bytes],
    *,
    chunk_size: int = DEFAULT_CHUNK_SIZE,
    data_key: bytes | None = None,
) -> EncryptedItem:
    """Encrypt a file for the given recipients with a fresh data key."""
    key = generate_data_key() if data_key is None else data_key
    recipients = list(recipients)
    if not recipients:
        raise FormatError("encrypt: at least one recipient is needed, or nobody can read it")
    with Path(src).open("rb", buffering=0) as inp:
        res: EncryptResult = _write_atomically(
            Path(dst), lambda out: encrypt_stream(inp, out, key, chunk_size)
        )
    wraps = KeyWraps.create(key, res.header, recipients)
    return EncryptedItem(
        res.header, wraps, res.plaintext_sha256, res.plaintext_size, res.ciphertext_size
    )


def decrypt_file(
    src: str | os.PathLike[str],
    dst: str | os.PathLike[str],
    *,
    private_key: X25519PrivateKey | None = None,
    wraps: KeyWraps | None = None,
    data_key: bytes | None = None,
) -> DecryptResult:
    """Decrypt a container to `dst` with a recipient key (+ its wraps) or the data key.

    `dst` appears only if the whole container authenticated; on any error nothing is left.
    """
    with Path(src).open("rb", buffering=0) as inp:
        if data_key is None:
            if private_key is None or wraps is None:
                raise DecryptionError("decrypt: give private_key and wraps, or data_key")
            header = Header.from_bytes(inp.read(HEADER_SIZE))
            if header.hash != wraps.header_hash:
                raise DecryptionError(
                    "the key wraps belong to another container, or its header was changed "
                    "(header hash differs)"
                )
            data_key = wraps.unwrap(private_key)
            inp.seek(0)
        key = data_key
        return _write_atomically(Path(dst), lambda out: decrypt_stream(inp, out, key))
