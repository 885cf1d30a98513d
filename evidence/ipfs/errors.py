"""Errors of `evidence.ipfs`: one base under `evidence.errors.EvidenceError`, specific
subclasses, messages with expected vs found.

Subclasses also derive from the library's categories (FormatError, TamperedError,
TruncatedError) and from the stdlib type a caller would naturally catch (ValueError for
bad input, LookupError for a missing block, OSError for a failing node). Each has a
stable `code` for the CLI's exit codes and the backend's HTTP statuses.
"""

from __future__ import annotations

from evidence.errors import EvidenceError, FormatError, TamperedError, TruncatedError

__all__ = [
    "BlockNotFoundError",
    "BlockTooLargeError",
    "CarError",
    "CorruptBlockError",
    "IpfsError",
    "KuboError",
    "KuboMismatchError",
    "LimitExceededError",
    "MalformedBlockError",
    "MalformedCarError",
    "MalformedCidError",
    "TruncatedCarError",
    "UnsupportedCidError",
]


class IpfsError(EvidenceError):
    """Base of every error raised by `evidence.ipfs`; not raised itself."""

    code = "ipfs"

    def __init__(self, *args: object) -> None:
        if type(self) is IpfsError:
            raise TypeError("IpfsError is abstract: raise a specific subclass")
        super().__init__(*args)


class MalformedCidError(IpfsError, FormatError):
    """A CID string or binary CID that does not parse."""

    code = "malformed_cid"


class UnsupportedCidError(IpfsError, FormatError):
    """A well-formed CID this library cannot verify (hash other than sha2-256, codec other
    than dag-pb/raw)."""

    code = "unsupported_cid"


class MalformedBlockError(IpfsError, FormatError):
    """A block whose bytes match its CID but are not valid dag-pb/UnixFS for a file."""

    code = "malformed_block"


class LimitExceededError(IpfsError, FormatError):
    """A DAG beyond the reader's bounds (depth, links per node, total size)."""

    code = "limit_exceeded"


class BlockTooLargeError(LimitExceededError):
    """A block larger than the maximum block size."""

    code = "block_too_large"


class CorruptBlockError(IpfsError, TamperedError):
    """Stored bytes do not hash to the CID they are stored under. Never served."""

    code = "corrupt_block"

    def __init__(self, cid: object, where: str, found_digest: str) -> None:
        self.cid = cid
        super().__init__(
            f"corrupted block {cid} in {where}: its bytes hash to sha2-256 {found_digest}, "
            f"not to the CID's digest; restore the block from a good copy (CAR file or "
            f"another node) and re-run"
        )


class BlockNotFoundError(IpfsError, LookupError):
    """The blockstore has no block for this CID."""

    code = "block_not_found"

    def __init__(self, cid: object, where: str) -> None:
        self.cid = cid
        super().__init__(f"block {cid} not found in {where}")


class CarError(IpfsError, FormatError):
    """Base of CAR parsing errors."""

    code = "car"


class MalformedCarError(CarError):
    """A CAR header or section that breaks the CARv1 format."""

    code = "malformed_car"


class TruncatedCarError(CarError, TruncatedError):
    """A CAR that ends inside its header or a section."""

    code = "truncated_car"


class KuboError(IpfsError, OSError):
    """The kubo RPC API answered with an error, or could not be reached."""

    code = "kubo"


class KuboMismatchError(KuboError, TamperedError):
    """The node returned a CID other than the one computed locally for the same bytes."""

    code = "kubo_mismatch"
