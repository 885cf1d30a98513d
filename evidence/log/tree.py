"""The log's Merkle tree over a node store: append, roots, proofs and frontiers.

Theory of operation:

* A node is named by (level, index): it is the root of the perfect subtree over leaves
  [index·2^level, (index+1)·2^level). Level 0 holds the leaf hashes. Only **complete**
  nodes are ever stored, so a stored node never changes: the store is append-only too,
  and a database can keep it as plain INSERTs (no UPDATE, nothing to lose on a crash but
  the unfinished transaction).
* Appending leaf n stores (0, n) and then, for each trailing 1-bit of n, the parent that
  the new leaf completes: on average one leaf hash and one node hash per append. The tree
  keeps its **frontier** (the complete nodes of its right edge, evidence.log.proofs) in
  memory, so an append reads nothing from the store.
* Any subtree that RFC 6962 / RFC 9162 recursion needs, [lo, hi) with lo aligned, is a row
  of complete nodes (one per set bit of hi - lo) folded from the right; a proof is computed
  from one batched `get_nodes` call.
* The tree size is the caller's: the service keeps it (and the entries) in its own rows and
  opens the tree at that size; the tree never reads a clock or a database by itself.

The `NodeStore` protocol is the one seam: `MemoryNodeStore` here (tests, benchmark,
rebuilds in memory), a database table of (level, index, hash) in the service.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Mapping, Sequence
from hashlib import sha256
from typing import Protocol, runtime_checkable

from evidence.log.errors import LogRangeError, MissingNode
from evidence.log.hashing import EMPTY_ROOT, HASH_SIZE
from evidence.log.proofs import MAX_TREE_SIZE, root_from_frontier

__all__ = [
    "MemoryNodeStore",
    "MerkleLog",
    "NodeKey",
    "NodeStore",
    "consistency_ranges",
    "inclusion_ranges",
]

NodeKey = tuple[int, int]  # (level, index)


@runtime_checkable
class NodeStore(Protocol):
    """Where the complete nodes live. Both methods take batches (one round trip per proof
    or per append for a database)."""

    def get_nodes(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        """The hashes of those of `keys` that are stored (absent keys are left out)."""
        ...

    def put_nodes(self, nodes: Sequence[tuple[int, int, bytes]]) -> None:
        """Store complete nodes, given as (level, index, hash), in the caller's transaction.
        A node is written once: writing it again with another hash means the log was
        rewritten (a database store refuses it with its unique key)."""
        ...


class MemoryNodeStore:
    """One bytearray per level, 32 bytes per node: nodes arrive in index order within each
    level, so a write is an in-place extend and the store holds no Python object per node
    (a million leaves take 64 MB, not three times that). A node written out of order, or
    again with another hash, is refused as a database's unique key would."""

    def __init__(self) -> None:
        # 64 levels: a tree of at most 2**63 leaves is 64 levels high
        self._levels: list[bytearray] = [bytearray() for _ in range(64)]
        self._owned = False

    def put_nodes(self, nodes: Sequence[tuple[int, int, bytes]]) -> None:
        if self._owned:
            raise ValueError("this node store belongs to the tree that made it (MerkleLog() "
                             "without a store) and only that tree writes to it; open other "
                             "trees on it to read, or give each writer its own store")
        levels = self._levels
        for level, index, h in nodes:
            row = levels[level]
            if index << 5 != len(row) or len(h) != HASH_SIZE:
                self._put_other(level, index, h)
            else:
                row += h

    def _put_other(self, level: int, index: int, h: bytes) -> None:
        """Not the next node of its level: the same node again (a no-op), or a refusal."""
        if len(h) != HASH_SIZE:
            raise ValueError(f"node ({level}, {index}): expected {HASH_SIZE} bytes")
        row = self._levels[level]
        stored = len(row) >> 5
        if index > stored:
            raise ValueError(f"node ({level}, {index}) written before ({level}, {stored}): "
                             "nodes of a level arrive in order")
        if row[index << 5:(index + 1) << 5] != h:
            raise ValueError(f"node ({level}, {index}) is already stored with another hash: "
                             "the log was rewritten")

    def get_nodes(self, keys: Sequence[NodeKey]) -> dict[NodeKey, bytes]:
        out: dict[NodeKey, bytes] = {}
        levels = self._levels
        for level, index in keys:
            if 0 <= level < len(levels) and index >= 0 and (index + 1) << 5 <= len(levels[level]):
                out[(level, index)] = bytes(levels[level][index << 5:(index + 1) << 5])
        return out

    @property
    def levels(self) -> list[list[bytes]]:
        """Every stored hash, one list per non-empty level, in index order (a copy: what a
        rebuild compares with or writes to another store)."""
        return [self.level(k) for k, row in enumerate(self._levels) if row]

    def level(self, level: int) -> list[bytes]:
        """The hashes stored at `level`, in index order (tests, debugging)."""
        row = self._levels[level]
        return [bytes(row[i:i + HASH_SIZE]) for i in range(0, len(row), HASH_SIZE)]

    def appenders(self) -> list[Callable[[bytes], None]]:
        """Each level's append, unchecked, for the one tree that made this store: from then
        on the store is that tree's alone (`put_nodes` refuses anyone else's writes)."""
        self._owned = True
        return [row.extend for row in self._levels]

    def leaf_count(self) -> int:
        """The number of leaf hashes stored (the size of the tree they make)."""
        return len(self._levels[0]) >> 5


def _largest_power_below(n: int) -> int:
    """The largest power of two strictly less than n (n >= 2): RFC 6962's split point."""
    return 1 << ((n - 1).bit_length() - 1)


def _row(lo: int, hi: int) -> list[NodeKey]:
    """The complete nodes that make up [lo, hi), lo aligned to the top bit of hi - lo."""
    keys = []
    n = hi - lo
    for b in range(n.bit_length() - 1, -1, -1):
        if n >> b & 1:
            keys.append((b, lo >> b))
            lo += 1 << b
    return keys


def inclusion_ranges(index: int, size: int) -> list[tuple[int, int]]:
    """The leaf ranges whose subtree hashes form PATH(index, D[0:size]) (RFC 9162 §2.1.3.1),
    in proof order (nearest the leaf first)."""
    out = []
    lo, hi = 0, size
    while hi - lo > 1:
        k = _largest_power_below(hi - lo)
        if index < lo + k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
    out.reverse()
    return out


def consistency_ranges(size1: int, size2: int) -> list[tuple[int, int]]:
    """The leaf ranges whose subtree hashes form PROOF(size1, D[0:size2]) (RFC 9162
    §2.1.4.1, SUBPROOF with b = true), in proof order."""
    out: list[tuple[int, int]] = []
    if size1 == 0 or size1 == size2:
        return out
    m, lo, hi, complete = size1, 0, size2, True
    while True:
        n = hi - lo
        if m == n:
            if not complete:
                out.append((lo, hi))
            break
        k = _largest_power_below(n)
        if m <= k:
            out.append((lo + k, hi))
            hi = lo + k
        else:
            out.append((lo, lo + k))
            lo += k
            m -= k
            complete = False
    out.reverse()
    return out


class MerkleLog:
    """An append-only RFC 6962 tree of `size` leaves whose complete nodes are in `store`.

    Build one with `MerkleLog(store)` (empty) or `MerkleLog.open(store, size)`; append with
    `append_leaf_hash` (or `append`, which hashes an encoded entry); ask `root`,
    `inclusion_proof`, `consistency_proof` and `frontier` of this or any earlier size.
    """

    def __init__(self, store: NodeStore | None = None) -> None:
        # A tree given no store keeps its nodes in a MemoryNodeStore of its own, which it
        # alone writes, always the next node of each level: it writes there through the
        # levels' own C-level appenders, without a Python call per append (the benchmark's
        # configuration). Any store given goes through `put_nodes`, which checks each write.
        self._sinks: list[Callable[[bytes], None]] | None = None
        if store is None:
            memory = MemoryNodeStore()
            self._sinks = memory.appenders()
            store = memory
        self.store: NodeStore = store
        self._put = store.put_nodes
        self._size = 0
        self._frontier: list[bytes] = []

    @classmethod
    def open(cls, store: NodeStore, size: int) -> MerkleLog:
        """The tree of `size` leaves kept in `store` (reads its frontier: one batch)."""
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_TREE_SIZE:
            raise LogRangeError(f"tree size: expected an integer in [0, 2**63), found {size!r}")
        log = cls(store)
        log._frontier = [b"\x01" + h for h in log._subtree_nodes(0, size)]
        log._size = size
        return log

    @classmethod
    def resume(cls, store: NodeStore, size: int, frontier: Sequence[bytes]) -> MerkleLog:
        """The tree of `size` leaves kept in `store`, given its frontier (``frontier()`` of
        that size, which the caller kept from its own last append): nothing is read. Why:
        a service appending one entry per request would otherwise read the same frontier
        back from its database each time (issue 10)."""
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= MAX_TREE_SIZE:
            raise LogRangeError(f"tree size: expected an integer in [0, 2**63), found {size!r}")
        if len(frontier) != size.bit_count() or any(len(h) != HASH_SIZE for h in frontier):
            raise ValueError(f"frontier of a tree of {size} leaves: expected {size.bit_count()} "
                             f"hashes of {HASH_SIZE} bytes")
        log = cls(store)
        log._frontier = [b"\x01" + h for h in frontier]
        log._size = size
        return log

    @classmethod
    def of(cls, entries: Iterable[bytes], store: NodeStore | None = None) -> MerkleLog:
        """A tree rebuilt from encoded entries, in order (into `store`, or in memory)."""
        log = cls(store)
        log.extend(entries)
        return log

    @property
    def size(self) -> int:
        return self._size

    def __len__(self) -> int:
        return self._size

    # -- appending --

    def append(self, entry: bytes) -> int:
        """Append an encoded entry (hashed with the 0x00 prefix); returns its index. Stores
        the leaf and each node it completes (one `put_nodes` call); if the store refuses,
        the tree is left as it was."""
        # The benchmark's hot path (bench/log.py), kept flat: no call but the store's, and
        # the frontier changed only after the store took the nodes. The frontier holds its
        # hashes with the node prefix already in front (0x01 ‖ hash), so a node hash is one
        # concatenation. An even index completes no node (half of all appends); an odd one
        # completes one node per trailing 1-bit (one on average).
        n = self._size
        leaf = sha256(b"\x00" + entry).digest()
        frontier = self._frontier
        sinks = self._sinks
        if not n & 1:
            if sinks is None:
                self._put(((0, n, leaf),))
            else:
                sinks[0](leaf)
            frontier.append(b"\x01" + leaf)
        elif not n & 2:  # exactly one node completed (half of the odd appends)
            h = sha256(frontier[-1] + leaf).digest()
            if sinks is None:
                self._put(((0, n, leaf), (1, n >> 1, h)))
            else:
                sinks[0](leaf)
                sinks[1](h)
            frontier[-1] = b"\x01" + h
        else:
            return self._push_odd(n, leaf)
        self._size = n + 1
        return n

    def append_leaf_hash(self, leaf: bytes) -> int:
        """Append a leaf hash (an entry already hashed with the 0x00 prefix); as `append`."""
        if len(leaf) != HASH_SIZE:
            raise ValueError(f"leaf hash: expected {HASH_SIZE} bytes, found {len(leaf)}")
        n = self._size
        if n & 1:
            return self._push_odd(n, leaf)
        self._write(((0, n, leaf),))
        self._frontier.append(b"\x01" + leaf)
        self._size = n + 1
        return n

    def _push_odd(self, n: int, leaf: bytes) -> int:
        if n >= MAX_TREE_SIZE:  # 2**63 - 1 is odd: an even size is always below it
            raise LogRangeError("the log is full (2**63 - 1 leaves)")
        frontier = self._frontier
        sinks = self._sinks
        if sinks is not None:  # the tree's own memory: nothing can refuse the writes
            sinks[0](leaf)
            h, level, index, i = leaf, 0, n, len(frontier)
            while index & 1:
                i -= 1
                h = sha256(frontier[i] + h).digest()
                level += 1
                index >>= 1
                sinks[level](h)
            del frontier[i:]
            frontier.append(b"\x01" + h)
            self._size = n + 1
            return n
        nodes = [(0, n, leaf)]
        h = leaf
        level, index, i = 0, n, len(frontier)
        while index & 1:
            i -= 1
            h = sha256(frontier[i] + h).digest()
            level += 1
            index >>= 1
            nodes.append((level, index, h))
        self._put(nodes)
        del frontier[i:]
        frontier.append(b"\x01" + h)
        self._size = n + 1
        return n

    def extend(self, entries: Iterable[bytes]) -> range:
        """Append encoded entries in order with one `put_nodes` call; returns their indices."""
        return self.extend_leaf_hashes([sha256(b"\x00" + e).digest() for e in entries])

    def extend_leaf_hashes(self, leaves: Iterable[bytes]) -> range:
        """Append leaf hashes in order with one `put_nodes` call; returns their indices."""
        start = n = self._size
        frontier = list(self._frontier)
        nodes: list[tuple[int, int, bytes]] = []
        put = nodes.append
        for leaf in leaves:
            if len(leaf) != HASH_SIZE:
                raise ValueError(f"leaf hash: expected {HASH_SIZE} bytes, found {len(leaf)}")
            if n >= MAX_TREE_SIZE:
                raise LogRangeError("the log is full (2**63 - 1 leaves)")
            put((0, n, leaf))
            h = leaf
            level, index = 0, n
            while index & 1:
                h = sha256(frontier.pop() + h).digest()
                level += 1
                index >>= 1
                put((level, index, h))
            frontier.append(b"\x01" + h)
            n += 1
        if nodes:
            self._write(nodes)
        self._frontier = frontier
        self._size = n
        return range(start, n)

    def _write(self, nodes: Sequence[tuple[int, int, bytes]]) -> None:
        sinks = self._sinks
        if sinks is None:
            self._put(nodes)
        else:
            for level, _, h in nodes:
                sinks[level](h)

    # -- reading --

    def _check_size(self, size: int | None) -> int:
        if size is None:
            return self._size
        if isinstance(size, bool) or not isinstance(size, int) or not 0 <= size <= self._size:
            raise LogRangeError(f"tree size {size!r} is not in [0, {self._size}] (this log's "
                                "size)")
        return size

    def _fetch(self, keys: Sequence[NodeKey]) -> Mapping[NodeKey, bytes]:
        found = self.store.get_nodes(keys) if keys else {}
        for key in keys:
            h = found.get(key)
            if h is None or len(h) != HASH_SIZE:
                raise MissingNode(
                    f"node {key} (level, index) is missing from the node store of a log of "
                    f"{self._size} leaves: the store is damaged; rebuild it from the entries"
                )
        return found

    def _subtree_nodes(self, lo: int, hi: int) -> list[bytes]:
        keys = _row(lo, hi)
        found = self._fetch(keys)
        return [found[k] for k in keys]

    def _range_hashes(self, ranges: Sequence[tuple[int, int]]) -> list[bytes]:
        rows = [_row(lo, hi) for lo, hi in ranges]
        found = self._fetch([k for row in rows for k in row])
        out = []
        for row in rows:
            h = found[row[-1]]
            for key in reversed(row[:-1]):
                h = sha256(b"\x01" + found[key] + h).digest()
            out.append(h)
        return out

    def frontier(self, size: int | None = None) -> list[bytes]:
        """The frontier (compact range [0, size)) of the tree at `size` (default: now)."""
        size = self._check_size(size)
        if size == self._size:
            return [h[1:] for h in self._frontier]
        return self._subtree_nodes(0, size)

    def root(self, size: int | None = None) -> bytes:
        """The RFC 6962 root of the first `size` leaves (default: all)."""
        size = self._check_size(size)
        if size == 0:
            return EMPTY_ROOT
        return root_from_frontier(size, self.frontier(size))

    def leaf_hash(self, index: int) -> bytes:
        """The leaf hash at `index`."""
        if isinstance(index, bool) or not isinstance(index, int) or \
                not 0 <= index < self._size:
            raise LogRangeError(f"leaf index {index!r} is not below the log's size {self._size}")
        return self._fetch([(0, index)])[(0, index)]

    def inclusion_proof(self, index: int, size: int | None = None) -> list[bytes]:
        """PATH(index, D[0:size]) (RFC 9162 §2.1.3.1), nearest the leaf first."""
        size = self._check_size(size)
        if isinstance(index, bool) or not isinstance(index, int) or not 0 <= index < size:
            raise LogRangeError(f"leaf index {index!r} is not below tree size {size}")
        return self._range_hashes(inclusion_ranges(index, size))

    def consistency_proof(self, size1: int, size2: int | None = None) -> list[bytes]:
        """PROOF(size1, D[0:size2]) (RFC 9162 §2.1.4.1); empty when size1 is 0 or size2."""
        size2 = self._check_size(size2)
        if isinstance(size1, bool) or not isinstance(size1, int) or not 0 <= size1 <= size2:
            raise LogRangeError(f"first tree size {size1!r} is not in [0, {size2}]")
        return self._range_hashes(consistency_ranges(size1, size2))
