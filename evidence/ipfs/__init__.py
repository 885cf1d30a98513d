"""IPFS for evidence: UnixFS CIDs identical to kubo's, verified blockstores, CAR, kubo RPC.

Everything read from any store is checked against its CID before it is used.
See docs/evidence-ipfs.md for the formats and bounds.
"""

from evidence.ipfs._cid import CidLike
from evidence.ipfs.blockstore import Blockstore, LocalBlockstore, MemoryBlockstore
from evidence.ipfs.car import CarReader, export_car, import_car
from evidence.ipfs.errors import (
    BlockNotFoundError,
    BlockTooLargeError,
    CarError,
    CorruptBlockError,
    IpfsError,
    KuboError,
    KuboMismatchError,
    LimitExceededError,
    MalformedBlockError,
    MalformedCarError,
    MalformedCidError,
    TruncatedCarError,
    UnsupportedCidError,
)
from evidence.ipfs.kubo import KuboBlockstore
from evidence.ipfs.unixfs import (
    CHUNK_SIZE,
    MAX_LINKS,
    FileImporter,
    add_bytes,
    add_bytes_text,
    add_file,
    cat,
)

__all__ = [
    "CHUNK_SIZE",
    "MAX_LINKS",
    "BlockNotFoundError",
    "BlockTooLargeError",
    "Blockstore",
    "CarError",
    "CarReader",
    "CidLike",
    "CorruptBlockError",
    "FileImporter",
    "IpfsError",
    "KuboBlockstore",
    "KuboError",
    "KuboMismatchError",
    "LimitExceededError",
    "LocalBlockstore",
    "MalformedBlockError",
    "MalformedCarError",
    "MalformedCidError",
    "MemoryBlockstore",
    "TruncatedCarError",
    "UnsupportedCidError",
    "add_bytes",
    "add_bytes_text",
    "add_file",
    "cat",
    "export_car",
    "import_car",
]
