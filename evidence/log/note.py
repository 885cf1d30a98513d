"""C2SP signed notes (c2sp.org/signed-note) signed by the institution's EVM key.

A signed note is a UTF-8 text ending in a newline, a blank line, and signature lines

    — <key name> base64(key ID (4 bytes) ‖ signature)

The spec assigns type bytes to Ed25519 (0x01), NIST ECDSA (0x02) and others; an Ethereum
secp256k1 key has none, so chainarb uses the spec's escape, type byte 0xff followed by a
longer identifier (docs/log.md, "Signed notes"):

    signature type  = 0xff ‖ "chainarb/eip191-secp256k1"
    public key      = the 20-byte Ethereum address (what the escrow contract and every
                      verifier already hold for the institution, and what a rotation names)
    key ID          = SHA-256(key name ‖ 0x0A ‖ signature type ‖ address)[:4]
    signature       = 65 bytes r ‖ s ‖ v (v 27/28, low s) over the EIP-191 personal message
                      of the note text: keccak256("\\x19Ethereum Signed Message:\\n" ‖
                      len(text) ‖ text), what `personal_sign` and eth-account's
                      `sign_message(encode_defunct(...))` sign

So any wallet or HSM holding the institution key can sign a checkpoint (eth-account's
`sign_message(encode_defunct(primitive=text))` gives the same bytes, tested).
Verification follows the spec's rules: signatures by unknown (name, key ID) pairs are
ignored; a signature that claims an accepted key and fails rejects the whole note; a note
with no verified signature by an accepted key is rejected.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Callable, Collection
from dataclasses import dataclass, field
from hashlib import sha256

from coincurve import PrivateKey

from evidence._keccak import keccak256
from evidence.errors import InvalidSignature
from evidence.log.errors import NoteForged, NoteFormatError, NoteUnsigned
from evidence.records import checksum_address, normalize_signature, recover_signer

__all__ = [
    "MAX_NOTE_BYTES",
    "MAX_NOTE_SIGNATURES",
    "SIGNATURE_TYPE",
    "Note",
    "NoteSignature",
    "NoteSigner",
    "VerifiedNote",
    "eip191_digest",
    "key_id",
    "sign_note",
    "verify_note",
]

SIGNATURE_TYPE = b"\xff" + b"chainarb/eip191-secp256k1"
MAX_NOTE_BYTES = 1 << 16
MAX_NOTE_SIGNATURES = 64  # the spec: accept at least 16
EM_DASH = "\u2014"
_KEY_NAME = re.compile(r"[^\s+\x00-\x1f]+\Z")
_CONTROL = re.compile(r"[\x00-\x09\x0b-\x1f]")
_SIGNATURE_LINE = re.compile(EM_DASH + r" ([^\s+]+) ([A-Za-z0-9+/=]+)\Z")


def eip191_digest(message: bytes) -> bytes:
    """keccak256("\\x19Ethereum Signed Message:\\n" ‖ decimal length ‖ message)."""
    return keccak256(b"\x19Ethereum Signed Message:\n" + str(len(message)).encode() + message)


def _address_bytes(address: str) -> bytes:
    return bytes.fromhex(checksum_address(address)[2:])


def key_id(name: str, address: str) -> bytes:
    """The 4-byte key ID of `address` signing under key name `name`."""
    return sha256(name.encode() + b"\n" + SIGNATURE_TYPE + _address_bytes(address)).digest()[:4]


@dataclass(frozen=True)
class NoteSigner:
    """The institution key as a signer: its address and a function that signs a message as
    EIP-191 `personal_sign` does (65 bytes r ‖ s ‖ v). The function may call a wallet or an
    HSM; `from_private_key` signs in process."""

    address: str
    sign_message: Callable[[bytes], bytes]
    # set by `from_private_key` only: the signature is made here, by libsecp256k1, with the
    # key whose address `address` was derived from, so no wallet can return another key's
    # signature and `sign` need not recover it again (about 60 us a receipt, issue 10)
    own_key: bool = field(default=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "address", checksum_address(self.address, "signer address"))

    @classmethod
    def from_private_key(cls, private_key: bytes | str) -> NoteSigner:
        raw = bytes.fromhex(private_key.removeprefix("0x")) if isinstance(private_key, str) \
            else bytes(private_key)
        key = PrivateKey(raw)
        address = "0x" + keccak256(key.public_key.format(compressed=False)[1:])[12:].hex()

        def sign(message: bytes) -> bytes:
            # libsecp256k1 signs deterministically (RFC 6979) with low s; v = recid + 27
            rsv = key.sign_recoverable(eip191_digest(message), hasher=None)
            return rsv[:64] + bytes([rsv[64] + 27])

        return cls(address, sign, own_key=True)

    def sign(self, message: bytes) -> bytes:
        """Sign `message` and check the result recovers to this signer (a wallet or HSM
        that returned another key's signature is caught here, not by a verifier later;
        a signer made by `from_private_key` signs with that very key)."""
        signature = normalize_signature(self.sign_message(message))
        if self.own_key:
            return signature
        if recover_signer(eip191_digest(message), signature) != self.address:
            raise InvalidSignature(f"the signer for {self.address} returned a signature by "
                                   "another key")
        return signature


@dataclass(frozen=True)
class NoteSignature:
    """One signature line: key name, key ID and the signature bytes after it."""

    name: str
    key_id: bytes
    signature: bytes

    def line(self) -> str:
        payload = base64.b64encode(self.key_id + self.signature).decode()
        return f"{EM_DASH} {self.name} {payload}\n"


@dataclass(frozen=True)
class Note:
    """A parsed (not yet verified) signed note: its text and signature lines."""

    text: str
    signatures: tuple[NoteSignature, ...]

    @classmethod
    def parse(cls, data: str | bytes) -> Note:
        """Split a signed note into text and signatures; NoteFormatError if it does not
        follow the signed-note format (UTF-8, no control characters but newline, text,
        blank line, one or more signature lines)."""
        if isinstance(data, bytes | bytearray):
            if len(data) > MAX_NOTE_BYTES:
                raise NoteFormatError(f"note: {len(data)} bytes, more than {MAX_NOTE_BYTES}")
            try:
                data = bytes(data).decode("utf-8")
            except UnicodeDecodeError:
                raise NoteFormatError("note: not valid UTF-8") from None
        if not isinstance(data, str):
            raise NoteFormatError(f"note: expected text, found {type(data).__name__}")
        if len(data.encode()) > MAX_NOTE_BYTES:
            raise NoteFormatError(f"note: more than {MAX_NOTE_BYTES} bytes")
        if _CONTROL.search(data):
            raise NoteFormatError("note: contains a control character other than newline")
        split = data.rfind("\n\n")
        if split < 0:
            raise NoteFormatError("note: no blank line between the text and the signatures")
        text, block = data[: split + 1], data[split + 2:]
        if not block.endswith("\n"):
            raise NoteFormatError("note: the last signature line does not end in a newline")
        lines = block[:-1].split("\n")
        if len(lines) > MAX_NOTE_SIGNATURES:
            raise NoteFormatError(f"note: {len(lines)} signatures, more than "
                                  f"{MAX_NOTE_SIGNATURES}")
        signatures = []
        for i, line in enumerate(lines):
            m = _SIGNATURE_LINE.match(line)
            if m is None:
                raise NoteFormatError(f"note: signature line {i + 1} is not "
                                      f"'{EM_DASH} <key name> <base64>': {line[:80]!r}")
            try:
                raw = base64.b64decode(m.group(2), validate=True)
            except (binascii.Error, ValueError):
                raise NoteFormatError(f"note: signature line {i + 1} is not base64") from None
            if len(raw) < 5:
                raise NoteFormatError(f"note: signature line {i + 1} has {len(raw)} bytes, "
                                      "fewer than a key ID and a signature")
            signatures.append(NoteSignature(m.group(1), raw[:4], raw[4:]))
        return cls(text, tuple(signatures))

    def format(self) -> str:
        """The note as text: the text, a blank line, the signature lines."""
        return self.text + "\n" + "".join(s.line() for s in self.signatures)


def _check_text(text: str) -> None:
    if not text.endswith("\n") or text.startswith("\n"):
        raise NoteFormatError("note text: must be non-empty and end in a newline")
    if _CONTROL.search(text):
        raise NoteFormatError("note text: contains a control character other than newline")
    if len(text.encode()) > MAX_NOTE_BYTES // 2:
        raise NoteFormatError(f"note text: more than {MAX_NOTE_BYTES // 2} bytes")


def sign_note(text: str | Note, name: str, signer: NoteSigner) -> str:
    """The signed note of `text` (or `text` with one more signature, if it is a Note) under
    key name `name`."""
    if not _KEY_NAME.match(name):
        raise NoteFormatError(f"key name {name!r}: must be non-empty, without spaces or '+'")
    body, existing = (text.text, text.signatures) if isinstance(text, Note) else (text, ())
    _check_text(body)
    signature = NoteSignature(name, key_id(name, signer.address),
                              signer.sign(body.encode()))
    return Note(body, (*existing, signature)).format()


@dataclass(frozen=True)
class VerifiedNote:
    """A note whose text an accepted key signed: the text and the addresses that did."""

    text: str
    signers: tuple[str, ...]


def verify_note(note: str | bytes | Note, name: str, accepted: Collection[str]) -> VerifiedNote:
    """Check `note` is signed under key name `name` by at least one of the `accepted`
    addresses (several after a key rotation).

    Raises:
        NoteFormatError: not a signed note.
        NoteForged: a signature line claims an accepted key and does not verify.
        NoteUnsigned: no signature by an accepted key (others are ignored, per the spec).
    """
    parsed = note if isinstance(note, Note) else Note.parse(note)
    keys = {key_id(name, a): checksum_address(a, "accepted address") for a in accepted}
    digest = eip191_digest(parsed.text.encode())
    signers: list[str] = []
    for sig in parsed.signatures:
        address = keys.get(sig.key_id)
        if sig.name != name or address is None:
            continue  # an unknown key (a witness, a retired key): ignored
        try:
            found = recover_signer(digest, sig.signature)
        except InvalidSignature as exc:
            raise NoteForged(f"note: the signature of {address} under {name} is malformed "
                             f"({exc})") from None
        if found != address:
            raise NoteForged(
                f"note: the signature line for {address} under {name} does not verify (it "
                f"recovers {found}): the text was changed after signing or the signature "
                "is forged"
            )
        if address not in signers:
            signers.append(address)
    if not signers:
        names = ", ".join(sorted(keys.values())) or "(none given)"
        raise NoteUnsigned(f"note: no signature under key name {name} by an accepted "
                           f"institution key ({names})")
    return VerifiedNote(parsed.text, tuple(signers))
