"""chainarb evidence: signed, encrypted, IPFS-stored, Merkle-anchored evidence.

The library a party or a court installs alone: it never imports the backend.
"""

__version__ = "0.1.0"
