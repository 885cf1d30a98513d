"""Errors of `evidence.ipfs`: one base, specific subclasses, messages with expected vs found.

Subclasses also derive from the stdlib type a caller would naturally catch (ValueError for
bad input, LookupError for a missing block, OSError for a failing node), so generic code
keeps working.
"""

from __future__ import annotations

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


class IpfsError(Exception):
    """Base of every error raised by `evidence.ipfs`; not raised itself."""

    def __init__(self, *args: object) -> None:
        if type(self) is IpfsError:
            raise TypeError("IpfsError is abstract: raise a specific subclass")
        super().__init__(*args)


class MalformedCidError(IpfsError, ValueError):
    """A CID string or binary CID that does not parse."""


class UnsupportedCidError(IpfsError, ValueError):
    """A well-formed CID this library cannot verify (hash other than sha2-256, codec other
    than dag-pb/raw)."""


class MalformedBlockError(IpfsError, ValueError):
    """A block whose bytes match its CID but are not valid dag-pb/UnixFS for a file."""


class LimitExceededError(IpfsError, ValueError):
    """A DAG beyond the reader's bounds (depth, links per node, total size)."""


class BlockTooLargeError(LimitExceededError):
    """A block larger than the maximum block size."""


class CorruptBlockError(IpfsError):
    """Stored bytes do not hash to the CID they are stored under. Never served."""

    def __init__(self, cid: object, where: str, found_digest: str) -> None:
        self.cid = cid
        super().__init__(
            f"corrupted block {cid} in {where}: its bytes hash to sha2-256 {found_digest}, "
            f"not to the CID's digest; restore the block from a good copy (CAR file or "
            f"another node) and re-run"
        )


class BlockNotFoundError(IpfsError, LookupError):
    """The blockstore has no block for this CID."""

    def __init__(self, cid: object, where: str) -> None:
        self.cid = cid
        super().__init__(f"block {cid} not found in {where}")


class CarError(IpfsError, ValueError):
    """Base of CAR parsing errors."""


class MalformedCarError(CarError):
    """A CAR header or section that breaks the CARv1 format."""


class TruncatedCarError(CarError):
    """A CAR that ends inside its header or a section."""


class KuboError(IpfsError, OSError):
    """The kubo RPC API answered with an error, or could not be reached."""


class KuboMismatchError(KuboError):
    """The node returned a CID other than the one computed locally for the same bytes."""
