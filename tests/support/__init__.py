"""What every test package shares, imported as ``tests.support.<module>`` (no sys.path edits).

- ``clock``: the one injected clock (fixed or following the wall time, moved forward by tests).
- ``world``: the one API test world (app + clients holding their own keys + in-memory escrow)
  and the drivers that bring its case to each stage; ``snapshots`` builds each stage once per
  session and hands every test its own copy.
- ``evidence``: uploads and signed evidence submissions on a world.
- ``tsa``: the one local RFC 3161 time-stamping authority (``openssl ts``): the product's
  ``backend.local_tsa`` (the demo's) with a /reject endpoint and ``openssl ts -verify``.
- ``evm``: the real contracts deployed, an order opened and guaranteed (the package and
  judicial worlds' common setup).
- ``anchor_chain``: ``FakeChain``, the anchoring worker's in-memory node.
"""
