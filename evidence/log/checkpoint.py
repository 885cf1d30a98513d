"""Checkpoints: C2SP tlog-checkpoint bodies in institution-signed notes.

    chainarb.example/log          origin: the log's name (also the note's key name)
    1024                          tree size, decimal, no leading zeros
    3q2+7w...=                    RFC 6962 root, standard base64 of 32 bytes
    [extension lines]             optional, non-empty, opaque

    — chainarb.example/log <base64(key ID ‖ 65-byte signature)>

The origin must start with a letter or digit and contain no space or '+' (the spec's
recommendation made a rule): a note text then never starts with '{', so no checkpoint
signature can be replayed as a receipt's or absence statement's (JSON objects,
evidence.log.statements). The service signs a checkpoint only if it is consistent with every
checkpoint signed before (the tlog-checkpoint rule); `verify_checkpoint` lets a verifier
hold it to that with a consistency proof.
"""

from __future__ import annotations

import base64
import binascii
import re
from collections.abc import Collection, Sequence
from dataclasses import dataclass

from evidence.log.errors import NoteFormatError, OriginMismatch
from evidence.log.hashing import HASH_SIZE
from evidence.log.note import Note, NoteSigner, sign_note, verify_note
from evidence.log.proofs import MAX_TREE_SIZE, verify_consistency

__all__ = [
    "MAX_EXTENSION_LINES",
    "Checkpoint",
    "SignedCheckpoint",
    "check_origin",
    "sign_checkpoint",
    "verify_checkpoint",
    "verify_checkpoints_consistent",
]

MAX_EXTENSION_LINES = 16
_ORIGIN = re.compile(r"[A-Za-z0-9][^\s+\x00-\x1f]{0,254}\Z")
_SIZE = re.compile(r"(0|[1-9][0-9]{0,18})\Z")


def check_origin(origin: object) -> str:
    """`origin` if it is a valid log origin (letter or digit first, no spaces or '+', at
    most 255 characters); NoteFormatError otherwise."""
    if not isinstance(origin, str) or not _ORIGIN.match(origin):
        raise NoteFormatError(
            f"origin {origin!r}: expected a letter or digit, then up to 254 characters "
            "without spaces, control characters or '+' (e.g. chainarb.example/log)"
        )
    return origin


@dataclass(frozen=True)
class Checkpoint:
    """A tree head: origin, size and root (plus opaque extension lines)."""

    origin: str
    size: int
    root: bytes
    extensions: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        check_origin(self.origin)
        if isinstance(self.size, bool) or not isinstance(self.size, int) or \
                not 0 <= self.size <= MAX_TREE_SIZE:
            raise NoteFormatError(f"checkpoint size: expected an integer in [0, 2**63), found "
                                  f"{self.size!r}")
        if not isinstance(self.root, bytes) or len(self.root) != HASH_SIZE:
            raise NoteFormatError(f"checkpoint root: expected {HASH_SIZE} bytes")
        if len(self.extensions) > MAX_EXTENSION_LINES:
            raise NoteFormatError(f"checkpoint: more than {MAX_EXTENSION_LINES} extension lines")
        for line in self.extensions:
            if not isinstance(line, str) or not line or "\n" in line or \
                    any(ord(c) < 0x20 for c in line):
                raise NoteFormatError(f"checkpoint extension line {line!r}: must be non-empty "
                                      "text without control characters")

    def body(self) -> str:
        """The note text: origin, size, base64 root, extension lines, each ending in \\n."""
        lines = [self.origin, str(self.size), base64.b64encode(self.root).decode(),
                 *self.extensions]
        return "".join(line + "\n" for line in lines)

    @classmethod
    def parse_body(cls, text: str) -> Checkpoint:
        """The checkpoint in a note text; NoteFormatError if it is not a tlog-checkpoint."""
        if not text.endswith("\n"):
            raise NoteFormatError("checkpoint: the text does not end in a newline")
        lines = text[:-1].split("\n")
        if len(lines) < 3:
            raise NoteFormatError(f"checkpoint: expected at least 3 lines (origin, size, root), "
                                  f"found {len(lines)}")
        origin, size, root, *extensions = lines
        check_origin(origin)
        if not _SIZE.match(size):
            raise NoteFormatError(f"checkpoint size: expected a decimal without leading zeros, "
                                  f"found {size!r}")
        try:
            raw = base64.b64decode(root, validate=True)
        except (binascii.Error, ValueError):
            raise NoteFormatError(f"checkpoint root: not base64: {root!r}") from None
        if len(raw) != HASH_SIZE or base64.b64encode(raw).decode() != root:
            raise NoteFormatError(f"checkpoint root: expected the base64 of {HASH_SIZE} bytes, "
                                  f"found {root!r}")
        if int(size) > MAX_TREE_SIZE:
            raise NoteFormatError(f"checkpoint size {size} exceeds 2**63 - 1")
        return cls(origin, int(size), raw, tuple(extensions))


@dataclass(frozen=True)
class SignedCheckpoint:
    """A checkpoint with its signed note, as verified: `signers` are the accepted addresses
    whose signatures verified."""

    checkpoint: Checkpoint
    note: str
    signers: tuple[str, ...]

    @property
    def origin(self) -> str:
        return self.checkpoint.origin

    @property
    def size(self) -> int:
        return self.checkpoint.size

    @property
    def root(self) -> bytes:
        return self.checkpoint.root


def sign_checkpoint(checkpoint: Checkpoint, signer: NoteSigner) -> str:
    """The signed note of `checkpoint`, key name = its origin."""
    return sign_note(checkpoint.body(), checkpoint.origin, signer)


def verify_checkpoint(note: str | bytes, accepted: Collection[str],
                      origin: str | None = None) -> SignedCheckpoint:
    """Parse and verify a checkpoint note signed (key name = origin) by one of the `accepted`
    institution addresses. With `origin`, a checkpoint of another log is refused
    (OriginMismatch) before its signatures are looked at.

    Raises NoteFormatError, OriginMismatch, NoteForged, NoteUnsigned.
    """
    parsed = Note.parse(note)
    checkpoint = Checkpoint.parse_body(parsed.text)
    if origin is not None and checkpoint.origin != origin:
        raise OriginMismatch(f"checkpoint of log {checkpoint.origin!r}, expected {origin!r}")
    verified = verify_note(parsed, checkpoint.origin, accepted)
    text = note if isinstance(note, str) else bytes(note).decode()
    return SignedCheckpoint(checkpoint, text, verified.signers)


def verify_checkpoints_consistent(first: Checkpoint | SignedCheckpoint,
                                  second: Checkpoint | SignedCheckpoint,
                                  proof: Sequence[bytes]) -> None:
    """Check that `second` extends `first` (same origin, consistency proof): what a monitor
    asks of every new checkpoint. Raises OriginMismatch or ConsistencyProofError."""
    a = first.checkpoint if isinstance(first, SignedCheckpoint) else first
    b = second.checkpoint if isinstance(second, SignedCheckpoint) else second
    if a.origin != b.origin:
        raise OriginMismatch(f"checkpoints of two logs: {a.origin!r} and {b.origin!r}")
    verify_consistency(a.size, b.size, a.root, b.root, proof)
