"""The consent log's Merkle tree, in the shape of RFC 9162 (Certificate Transparency 2.0).

Leaf hash SHA-256(0x00 || entry), node hash SHA-256(0x01 || left || right), and the Merkle Tree
Hash of a list split at the largest power of two below its length (§2.1.1). Proofs are built
from the hashes of *aligned* subtrees (§2.1.3.1, §2.1.4.1): every subtree a proof needs starts
at a multiple of a power of two at least its size, so it is the fold of the perfect subtrees
its length's binary digits name (`perfect_parts`). Those perfect subtrees are what the log
stores (consent/tree.py), so a proof reads O(log² n) stored hashes, never the whole log.

Pure functions only: no database, so the receipt page and the tests can use them alone.
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable, Sequence

Range = tuple[int, int]  # [start, end) of the log's leaves
Node = tuple[int, int]  # (level, index): the perfect subtree of 2**level leaves at index << level

EMPTY_ROOT = hashlib.sha256(b"").digest()


def leaf_hash(entry: bytes) -> bytes:
    """SHA-256(0x00 || entry)."""
    return hashlib.sha256(b"\x00" + entry).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    """SHA-256(0x01 || left || right)."""
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than n (n > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def perfect_parts(start: int, end: int) -> list[Node]:
    """The perfect subtrees an aligned range is made of, largest (leftmost) first."""
    parts: list[Node] = []
    while start < end:
        level = (end - start).bit_length() - 1
        while start % (1 << level):
            level -= 1
        parts.append((level, start >> level))
        start += 1 << level
    return parts


def fold(hashes: Sequence[bytes]) -> bytes:
    """The Merkle Tree Hash of an aligned range from its perfect parts' hashes (largest first)."""
    if not hashes:
        return EMPTY_ROOT
    acc = hashes[-1]
    for h in reversed(hashes[:-1]):
        acc = node_hash(h, acc)
    return acc


def inclusion_ranges(index: int, size: int) -> list[Range]:
    """The subtrees whose hashes make the audit path of leaf `index` in a tree of `size`
    (RFC 9162 §2.1.3.1: PATH), nearest the leaf first."""
    path: list[Range] = []
    start, end = 0, size
    while end - start > 1:
        k = _split(end - start)
        if index - start < k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start += k
    return list(reversed(path))


def consistency_ranges(first: int, second: int) -> list[Range]:
    """The subtrees whose hashes prove a tree of `first` leaves is a prefix of one of `second`
    (RFC 9162 §2.1.4.1: PROOF / SUBPROOF), in the RFC's order."""
    if not 0 < first < second:
        return []
    path: list[Range] = []
    start, end, whole = 0, second, True
    m = first
    while True:
        n = end - start
        if m == n:
            if not whole:
                path.append((start, end))
            break
        k = _split(n)
        if m <= k:
            path.append((start + k, end))
            end = start + k
        else:
            path.append((start, start + k))
            start, m, whole = start + k, m - k, False
    return list(reversed(path))


def hashes_for(ranges: list[Range], node: Callable[[Node], bytes]) -> list[bytes]:
    """Each range's Merkle Tree Hash, from the stored perfect subtrees `node` returns."""
    return [fold([node(p) for p in perfect_parts(s, e)]) for s, e in ranges]


def verify_inclusion(
    index: int, size: int, leaf: bytes, path: Sequence[bytes], root: bytes
) -> bool:
    """RFC 9162 §2.1.3.2: whether `path` proves `leaf` is entry `index` of the tree `root`."""
    if index >= size:
        return False
    fn, sn, r = index, size - 1, leaf
    for p in path:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            r = node_hash(p, r)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            r = node_hash(r, p)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and r == root


def verify_consistency(
    first: int, second: int, first_root: bytes, second_root: bytes, proof: Sequence[bytes]
) -> bool:
    """RFC 9162 §2.1.4.2: whether `proof` shows tree `first_root` is a prefix of `second_root`."""
    if first == second:
        return not proof and first_root == second_root
    if first == 0:
        return not proof
    if first > second or not proof:
        return False
    path = list(proof)
    if first & (first - 1) == 0:  # a power of two: the first tree is itself a node
        path.insert(0, first_root)
    fn, sn = first - 1, second - 1
    while fn & 1:
        fn, sn = fn >> 1, sn >> 1
    fr = sr = path[0]
    for c in path[1:]:
        if sn == 0:
            return False
        if fn & 1 or fn == sn:
            fr, sr = node_hash(c, fr), node_hash(c, sr)
            while not fn & 1 and fn != 0:
                fn, sn = fn >> 1, sn >> 1
        else:
            sr = node_hash(sr, c)
        fn, sn = fn >> 1, sn >> 1
    return sn == 0 and fr == first_root and sr == second_root


class Frontier:
    """The perfect subtrees that make up a growing tree, largest first: appending a leaf
    merges equal neighbours, so memory stays O(log n). Used by the sequencer and `verify`."""

    def __init__(self, size: int = 0, parts: list[bytes] | None = None) -> None:
        self.size = size
        self.parts: list[tuple[int, bytes]] = []  # (level, hash)
        if parts is not None:
            levels = [lv for lv, _ in perfect_parts(0, size)]
            self.parts = list(zip(levels, parts, strict=True))

    def append(self, leaf: bytes) -> list[tuple[Node, bytes]]:
        """Add a leaf; returns every perfect subtree it completes (the leaf's own included)."""
        index, made = self.size, []
        level, h = 0, leaf
        made.append(((0, index), h))
        while self.parts and self.parts[-1][0] == level:
            _, left = self.parts.pop()
            h, level = node_hash(left, h), level + 1
            made.append(((level, index >> level), h))
        self.parts.append((level, h))
        self.size += 1
        return made

    def root(self) -> bytes:
        """The Merkle Tree Hash of the tree so far."""
        return fold([h for _, h in self.parts])
