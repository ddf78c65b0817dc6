"""A Merkle tree over seal leaves, as RFC 6962 (Certificate Transparency) defines it.

Leaves and inner nodes are hashed with different one-byte prefixes (``0x00`` and ``0x01``), so a
node can never pass for a leaf (the second-preimage attack on plain Merkle trees). The tree of
``n`` leaves splits at the largest power of two below ``n``; an inclusion proof is the list of
sibling hashes from the leaf to the root (RFC 6962 §2.1.1), checked by RFC 9162 §2.1.3.2.
Hashes are raw 32-byte sha256 digests here; callers show them in hex.
"""

from __future__ import annotations

import hashlib


def leaf_hash(data: bytes) -> bytes:
    return hashlib.sha256(b"\x00" + data).digest()


def node_hash(left: bytes, right: bytes) -> bytes:
    return hashlib.sha256(b"\x01" + left + right).digest()


def _split(n: int) -> int:
    """The largest power of two smaller than ``n`` (``n`` > 1)."""
    return 1 << ((n - 1).bit_length() - 1)


def root(leaves: list[bytes]) -> bytes:
    """The tree head of ``leaves`` (already leaf-hashed); the hash of nothing for no leaf."""
    if not leaves:
        return hashlib.sha256(b"").digest()
    if len(leaves) == 1:
        return leaves[0]
    k = _split(len(leaves))
    return node_hash(root(leaves[:k]), root(leaves[k:]))


def inclusion_proof(index: int, leaves: list[bytes]) -> list[bytes]:
    """The audit path of leaf ``index`` in the tree of ``leaves``, nearest sibling first."""
    if not 0 <= index < len(leaves):
        raise IndexError(f"leaf {index} is not in a tree of {len(leaves)}")
    if len(leaves) == 1:
        return []
    k = _split(len(leaves))
    if index < k:
        return inclusion_proof(index, leaves[:k]) + [root(leaves[k:])]
    return inclusion_proof(index - k, leaves[k:]) + [root(leaves[:k])]


def verify_inclusion(leaf: bytes, index: int, size: int, path: list[bytes], expected_root: bytes) -> bool:
    """Whether ``path`` proves that ``leaf`` is leaf ``index`` of the tree of ``size`` leaves
    whose head is ``expected_root``."""
    if not 0 <= index < size:
        return False
    fn, sn, value = index, size - 1, leaf
    for sibling in path:
        if sn == 0:
            return False  # a path longer than the tree is deep
        if fn & 1 or fn == sn:
            value = node_hash(sibling, value)
            while not fn & 1 and fn != 0:  # the last node of its level: climb past empty right sides
                fn >>= 1
                sn >>= 1
        else:
            value = node_hash(value, sibling)
        fn >>= 1
        sn >>= 1
    return sn == 0 and value == expected_root
