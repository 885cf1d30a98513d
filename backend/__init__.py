"""chainarb backend: the online dispute resolution service."""

# First, before any module here imports eth_account: `evidence` imports py_ecc once and
# undoes the recursion limit it sets (see evidence/__init__.py).
import evidence  # noqa: F401
