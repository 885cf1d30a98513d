# ruff: noqa: N818  -- names state the refusal (InvalidSignature, WrongSigner), as in
# python-opentimestamps (UnsupportedMajorVersion); the common base makes them errors.
"""Errors raised by the `evidence` library.

Rules for this module:

* `EvidenceError` is the one base for everything the library raises on bad input, so a
  caller (the CLI, the backend, a court's script) can catch the library's refusals with one
  `except`. It is abstract: raise a specific subclass, never the base.
* Subclasses that describe malformed input also derive from `ValueError`, so code that
  catches the stdlib type still works (web3.py's `Web3ValueError` habit).
* Messages say what was expected, what was found and, where it helps, what to do.
* Every error carries a stable, machine-readable `code` (the CLI maps codes to exit codes
  and the backend maps them to HTTP statuses; the library itself does neither).
* Other modules (IPFS, verification) may add subclasses in their own files; they must
  derive from one of the classes here or from `EvidenceError`.
"""

from __future__ import annotations

from typing import ClassVar

__all__ = [
    "BadMagicError",
    "CiphertextTampered",
    "DecryptionError",
    "EvidenceError",
    "FormatError",
    "InvalidAddress",
    "InvalidRecord",
    "InvalidSignature",
    "MalleableSignature",
    "NotARecipient",
    "ProofError",
    "ReplayError",
    "TamperedError",
    "TrailingDataError",
    "TruncatedError",
    "UnsupportedVersion",
    "WrongSigner",
]


class EvidenceError(Exception):
    """Base of every refusal raised by `evidence`. Abstract: raise a subclass."""

    code: ClassVar[str] = "evidence_error"

    def __new__(cls, *args: object, **kwargs: object) -> EvidenceError:
        if cls is EvidenceError:
            raise TypeError("EvidenceError is abstract; raise one of its subclasses")
        return super().__new__(cls, *args, **kwargs)


# --- input and format -------------------------------------------------------------------


class FormatError(EvidenceError, ValueError):
    """Bytes or JSON that do not follow a documented format (docs/evidence.md)."""

    code = "format"


class BadMagicError(FormatError):
    """A container does not start with the expected magic bytes."""

    code = "bad_magic"


class UnsupportedVersion(FormatError):
    """A format's major version is one this library does not know."""

    code = "unsupported_version"


class TruncatedError(FormatError):
    """Data ends before the format says it should (e.g. a missing final chunk)."""

    code = "truncated"


class TrailingDataError(FormatError):
    """Extra bytes after the end of a well-formed object."""

    code = "trailing_data"


class InvalidRecord(FormatError):
    """A record's fields are out of range, missing, or of the wrong type."""

    code = "invalid_record"


class InvalidAddress(FormatError):
    """An Ethereum address that is malformed or has a wrong EIP-55 checksum."""

    code = "invalid_address"


# --- signatures -------------------------------------------------------------------------


class InvalidSignature(EvidenceError, ValueError):
    """A signature that is malformed or from which no signer can be recovered."""

    code = "invalid_signature"


class MalleableSignature(InvalidSignature):
    """A signature with s in the upper half of the curve order (EIP-2), refused."""

    code = "malleable_signature"


class WrongSigner(EvidenceError):
    """A valid signature, but by someone other than the expected signer."""

    code = "wrong_signer"


class ReplayError(EvidenceError):
    """A record bound to another domain, case, sequence number or previous step."""

    code = "replay"


# --- encryption -------------------------------------------------------------------------


class DecryptionError(EvidenceError):
    """Decryption failed: wrong key, wrong recipient or tampered ciphertext.

    The message names the part that failed (header, key wrap, chunk N, final chunk).
    No plaintext from a failed decryption is ever returned or left on disk.
    """

    code = "decryption"


class NotARecipient(DecryptionError):
    """The given private key is not one of the recipients of an encrypted item."""

    code = "not_a_recipient"


class TamperedError(EvidenceError):
    """Content does not match what authenticates it (a hash, a commitment, a GCM tag)."""

    code = "tampered"


class CiphertextTampered(DecryptionError, TamperedError):
    """An encrypted container's header, chunk, chunk order or length was changed."""

    code = "ciphertext_tampered"


# --- Merkle proofs ----------------------------------------------------------------------


class ProofError(EvidenceError):
    """A Merkle proof that is malformed or does not lead to the expected root."""

    code = "proof"
