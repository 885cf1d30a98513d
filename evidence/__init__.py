"""chainarb evidence: signed, encrypted, IPFS-stored, Merkle-anchored evidence.

The library a party or a court installs alone: it never imports the backend.
"""

import sys as _sys

# Why this import is here: importing `eth_account` (records, signatures) imports `py_ecc`,
# whose `__init__` raises `sys.setrecursionlimit` to 100,000 for the whole process. With
# that limit, C code that recurses per nesting level (the `json` scanner, `pickle`, `re`)
# overflows the C stack and kills the process with SIGSEGV on deeply nested input instead
# of raising RecursionError. We import it once, first, and put the limit back; nothing we
# call in py_ecc needs it (the evidence, records and encryption tests run at the default).
# `backend/__init__.py` imports this package first for the same reason.
# A limit above _SAFE_CEILING when we get here was left by an offender imported before us
# (`import web3; import evidence`): then CPython's default is the one to keep.
_SAFE_CEILING = 10_000
RECURSION_LIMIT = _sys.getrecursionlimit()
if RECURSION_LIMIT > _SAFE_CEILING:
    RECURSION_LIMIT = 1000
import py_ecc  # noqa: E402, F401

_sys.setrecursionlimit(RECURSION_LIMIT)


def restore_recursion_limit() -> None:
    """Put back the limit the process had before `py_ecc` (or py-evm's `eth`, which the
    in-process development chain imports) raised it; call after importing such a module."""
    _sys.setrecursionlimit(RECURSION_LIMIT)


__version__ = "0.1.0"
