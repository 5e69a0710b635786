"""The IC's hash trees: how certified state is written, pruned and proven.

A hash tree (IC Interface Specification, "Certificate" and "Encoding of certificates")
is one of ``Empty``, ``Fork(left, right)``, ``Labeled(label, subtree)``, ``Leaf(value)``
and ``Pruned(hash)``. Its root hash covers every part of it:

- ``reconstruct(Empty) = H(domain_sep("ic-hashtree-empty"))``
- ``reconstruct(Fork(l, r)) = H(domain_sep("ic-hashtree-fork") . reconstruct(l) . reconstruct(r))``
- ``reconstruct(Labeled(l, t)) = H(domain_sep("ic-hashtree-labeled") . l . reconstruct(t))``
- ``reconstruct(Leaf(v)) = H(domain_sep("ic-hashtree-leaf") . v)``
- ``reconstruct(Pruned(h)) = h``

with SHA-256 for H and ``domain_sep(s)`` one length byte, then ``s``. A subtree replaced
by its hash (pruning) leaves the root unchanged, so a few paths can be proven without the
rest. In CBOR a tree is an array: ``[0]``, ``[1, l, r]``, ``[2, label, t]``, ``[3, v]``,
``[4, h]``. The subnet certifies its state as such a tree (``vocab.certificate``), and a
canister's query receives a pruned copy proving its certified data and the time.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from vocab.crypto import domain
from vocab.errors import SubnetError

__all__ = [
    "EMPTY",
    "Empty",
    "Fork",
    "HashTree",
    "HashTreeError",
    "Labeled",
    "Leaf",
    "Pruned",
    "from_cbor_value",
    "labeled_tree",
    "lookup",
    "prune",
    "reconstruct",
    "to_cbor_value",
]


class HashTreeError(SubnetError):
    """A value that is not a well-formed hash tree."""


@dataclass(frozen=True)
class Empty:
    pass


@dataclass(frozen=True)
class Fork:
    left: HashTree
    right: HashTree


@dataclass(frozen=True)
class Labeled:
    label: bytes
    subtree: HashTree


@dataclass(frozen=True)
class Leaf:
    value: bytes


@dataclass(frozen=True)
class Pruned:
    digest: bytes


HashTree = Empty | Fork | Labeled | Leaf | Pruned
EMPTY = Empty()

_EMPTY_DOMAIN = domain("ic-hashtree-empty")
_FORK_DOMAIN = domain("ic-hashtree-fork")
_LABELED_DOMAIN = domain("ic-hashtree-labeled")
_LEAF_DOMAIN = domain("ic-hashtree-leaf")
MAX_DEPTH = 128
"""How deep a tree read from outside may nest (a certificate's tree is a few levels)."""


def reconstruct(tree: HashTree) -> bytes:
    """The root hash of ``tree``."""
    if isinstance(tree, Empty):
        return hashlib.sha256(_EMPTY_DOMAIN).digest()
    if isinstance(tree, Fork):
        return hashlib.sha256(_FORK_DOMAIN + reconstruct(tree.left) + reconstruct(tree.right)).digest()
    if isinstance(tree, Labeled):
        return hashlib.sha256(_LABELED_DOMAIN + tree.label + reconstruct(tree.subtree)).digest()
    if isinstance(tree, Leaf):
        return hashlib.sha256(_LEAF_DOMAIN + tree.value).digest()
    return tree.digest


def labeled_tree(children: Sequence[tuple[bytes, HashTree]]) -> HashTree:
    """The labeled subtrees as one tree: sorted by label and joined by forks into a
    balanced binary tree (the IC's shape); no children is ``Empty``."""
    ordered = sorted(children, key=lambda child: child[0])
    labels = [label for label, _ in ordered]
    if len(set(labels)) != len(labels):
        raise HashTreeError("a label appears twice among siblings")

    def join(items: Sequence[tuple[bytes, HashTree]]) -> HashTree:
        if not items:
            return EMPTY
        if len(items) == 1:
            return Labeled(items[0][0], items[0][1])
        middle = (len(items) + 1) // 2
        return Fork(join(items[:middle]), join(items[middle:]))

    return join(ordered)


def _wanted_below(tree: HashTree, wanted: dict[bytes, list[Sequence[bytes]]]) -> bool:
    """Whether a labeled node of this level, under forks, has a wanted label."""
    if isinstance(tree, Fork):
        return _wanted_below(tree.left, wanted) or _wanted_below(tree.right, wanted)
    return isinstance(tree, Labeled) and tree.label in wanted


def prune(tree: HashTree, paths: Sequence[Sequence[bytes]]) -> HashTree:
    """``tree`` with every part that none of ``paths`` enters replaced by its hash (the
    root hash stays the same). A path is kept down to where it ends, and what is under
    its end is kept whole. Labels next to a path that is not in the tree are not kept, so
    a pruned tree proves what is there, not what is absent (``lookup`` then says
    unknown); the IC's witnesses keep them, which a data certificate does not need."""
    if any(len(path) == 0 for path in paths):
        return tree
    wanted: dict[bytes, list[Sequence[bytes]]] = {}
    for path in paths:
        wanted.setdefault(path[0], []).append(path[1:])
    return _prune_level(tree, wanted)


def _prune_level(tree: HashTree, wanted: dict[bytes, list[Sequence[bytes]]]) -> HashTree:
    if isinstance(tree, (Empty, Pruned)):
        return tree
    if not _wanted_below(tree, wanted):
        return Pruned(reconstruct(tree))
    if isinstance(tree, Fork):
        return Fork(_prune_level(tree.left, wanted), _prune_level(tree.right, wanted))
    assert isinstance(tree, Labeled)
    return Labeled(tree.label, prune(tree.subtree, wanted[tree.label]))


def lookup(tree: HashTree, path: Sequence[bytes]) -> tuple[str, bytes | None]:
    """Look ``path`` up as the specification's ``lookup_path`` does: ``("found", value)``
    for a leaf, ``("absent", None)`` when the tree proves the path is not there (sorted
    neighbouring labels, or an empty level), ``("unknown", None)`` when a pruned part may
    hide it, ``("error", None)`` when the path ends somewhere that is not a leaf."""
    node: HashTree = tree
    for label in path:
        outcome, found = _find_label(label, _flatten_forks(node))
        if found is None:
            return outcome, None
        node = found
    if isinstance(node, Leaf):
        return "found", node.value
    if isinstance(node, Empty):
        return "absent", None
    if isinstance(node, Pruned):
        return "unknown", None
    return "error", None


def _flatten_forks(tree: HashTree) -> list[HashTree]:
    if isinstance(tree, Empty):
        return []
    if isinstance(tree, Fork):
        return _flatten_forks(tree.left) + _flatten_forks(tree.right)
    return [tree]


def _find_label(label: bytes, nodes: list[HashTree]) -> tuple[str, HashTree | None]:
    """The specification's ``find_label`` over one flattened level."""
    if not nodes:
        return "absent", None
    for position, node in enumerate(nodes):
        if isinstance(node, Labeled):
            if node.label == label:
                return "found", node.subtree
            if label < node.label:
                before = nodes[position - 1] if position else None
                if before is None or (isinstance(before, Labeled) and before.label < label):
                    return "absent", None
        if isinstance(node, Leaf) and len(nodes) == 1:
            return "error", None
    last = nodes[-1]
    if isinstance(last, Labeled) and last.label < label:
        return "absent", None
    return "unknown", None


def to_cbor_value(tree: HashTree) -> list[Any]:
    """The tree as the CBOR arrays of the specification (for ``cbor2`` to encode)."""
    if isinstance(tree, Empty):
        return [0]
    if isinstance(tree, Fork):
        return [1, to_cbor_value(tree.left), to_cbor_value(tree.right)]
    if isinstance(tree, Labeled):
        return [2, tree.label, to_cbor_value(tree.subtree)]
    if isinstance(tree, Leaf):
        return [3, tree.value]
    return [4, tree.digest]


def from_cbor_value(value: Any, depth: int = 0) -> HashTree:
    """A tree from decoded CBOR arrays; ``HashTreeError`` naming what is malformed."""
    if depth > MAX_DEPTH:
        raise HashTreeError(f"the tree nests deeper than {MAX_DEPTH} levels")
    if not isinstance(value, (list, tuple)) or not value or not isinstance(value[0], int):
        raise HashTreeError(f"a hash tree node is an array starting with its tag, not {value!r:.40}")
    tag, rest = value[0], value[1:]
    shapes = {0: 0, 1: 2, 2: 2, 3: 1, 4: 1}
    if tag not in shapes or len(rest) != shapes[tag]:
        raise HashTreeError(f"hash tree node [{tag}, ...] with {len(rest)} fields is not a known node")
    if tag == 0:
        return EMPTY
    if tag == 1:
        return Fork(from_cbor_value(rest[0], depth + 1), from_cbor_value(rest[1], depth + 1))
    if tag == 2:
        if not isinstance(rest[0], bytes):
            raise HashTreeError("a label is a byte string")
        return Labeled(rest[0], from_cbor_value(rest[1], depth + 1))
    if not isinstance(rest[0], bytes):
        raise HashTreeError("a leaf's value and a pruned hash are byte strings")
    if tag == 4 and len(rest[0]) != 32:
        raise HashTreeError(f"a pruned hash is 32 bytes, not {len(rest[0])}")
    return Leaf(rest[0]) if tag == 3 else Pruned(rest[0])
