"""Hash trees against the IC Interface Specification's worked example ("Certificate":
the example tree, its CBOR, its root hash, and its pruned form with the hashes of the
pruned parts), which agent-js and other implementations test against too."""

from __future__ import annotations

import cbor2
import pytest

from vocab.hash_tree import (
    EMPTY,
    Fork,
    HashTreeError,
    Labeled,
    Leaf,
    Pruned,
    from_cbor_value,
    labeled_tree,
    lookup,
    prune,
    reconstruct,
    to_cbor_value,
)

SPEC_CBOR = bytes.fromhex(
    "8301830183024161830183018302417882034568656c6c6f810083024179820345776f726c64"
    "83024162820344676f6f648301830241638100830241648203476d6f726e696e67"
)
SPEC_ROOT = "eb5c5b2195e62d996b84c9bcc8259d19a83786a2f59e0878cec84c811f669aa0"
SPEC_PRUNED_CBOR = bytes.fromhex(
    "83018301830241618301820458201b4feff9bef8131788b0c9dc6dbad6e81e524249c879e9f1"
    "0f71ce3749f5a63883024179820345776f726c6483024162820458207b32ac0c6ba8ce35ac"
    "82c255fc7906f7fc130dab2a090f80fe12f9c2cae83ba6830182045820ec8324b8a1f1ac16"
    "bd2e806edba78006479c9877fed4eb464a25485465af601d830241648203476d6f726e696e67"
)
# the spec's tree, as it draws it
SPEC_TREE = Fork(
    Fork(
        Labeled(b"a", Fork(Fork(Labeled(b"x", Leaf(b"hello")), EMPTY), Labeled(b"y", Leaf(b"world")))),
        Labeled(b"b", Leaf(b"good")),
    ),
    Fork(Labeled(b"c", EMPTY), Labeled(b"d", Leaf(b"morning"))),
)


def test_the_specification_example_tree_its_cbor_and_root_hash() -> None:
    assert cbor2.dumps(to_cbor_value(SPEC_TREE)) == SPEC_CBOR
    assert from_cbor_value(cbor2.loads(SPEC_CBOR)) == SPEC_TREE
    assert reconstruct(SPEC_TREE).hex() == SPEC_ROOT


def test_the_specification_pruned_tree_keeps_the_root_and_its_pruned_hashes() -> None:
    pruned = from_cbor_value(cbor2.loads(SPEC_PRUNED_CBOR))
    assert reconstruct(pruned).hex() == SPEC_ROOT
    # the spec's pruned parts are the hashes of these subtrees
    assert reconstruct(Fork(Labeled(b"x", Leaf(b"hello")), EMPTY)).hex().startswith("1b4feff9")
    assert reconstruct(Leaf(b"good")).hex().startswith("7b32ac0c")
    assert reconstruct(Labeled(b"c", EMPTY)).hex().startswith("ec8324b8")
    # lookups as the spec's lookup_path gives them on that tree
    assert lookup(pruned, [b"a", b"y"]) == ("found", b"world")
    assert lookup(pruned, [b"d"]) == ("found", b"morning")
    assert lookup(pruned, [b"ax"]) == ("absent", None)  # between "a" and "b"
    assert lookup(pruned, [b"b"]) == ("unknown", None)  # its content is pruned
    assert lookup(pruned, [b"c"]) == ("unknown", None)  # hidden in a pruned part
    assert lookup(pruned, [b"a", b"x"]) == ("unknown", None)
    assert lookup(pruned, [b"e"]) == ("absent", None)  # after the last label
    assert lookup(pruned, [b"a"]) == ("error", None)  # not a leaf


def test_pruning_keeps_the_paths_asked_for_and_the_root() -> None:
    pruned = prune(SPEC_TREE, [[b"a", b"y"], [b"d"]])
    assert reconstruct(pruned) == reconstruct(SPEC_TREE)
    assert lookup(pruned, [b"a", b"y"]) == ("found", b"world")
    assert lookup(pruned, [b"d"]) == ("found", b"morning")
    assert lookup(pruned, [b"b"]) == ("unknown", None)
    assert b"hello" not in cbor2.dumps(to_cbor_value(pruned))  # what was not asked for is gone
    assert prune(SPEC_TREE, []) == Pruned(reconstruct(SPEC_TREE))


def test_labeled_trees_are_sorted_and_balanced() -> None:
    tree = labeled_tree([(b"d", Leaf(b"4")), (b"a", Leaf(b"1")), (b"c", Leaf(b"3")), (b"b", Leaf(b"2"))])
    assert tree == Fork(
        Fork(Labeled(b"a", Leaf(b"1")), Labeled(b"b", Leaf(b"2"))),
        Fork(Labeled(b"c", Leaf(b"3")), Labeled(b"d", Leaf(b"4"))),
    )
    assert labeled_tree([]) == EMPTY
    with pytest.raises(HashTreeError, match="twice"):
        labeled_tree([(b"a", EMPTY), (b"a", EMPTY)])


@pytest.mark.parametrize(
    ("value", "message"),
    [
        ([], "array starting with its tag"),
        ([9], "not a known node"),
        ([1, [0]], "not a known node"),
        ([2, "a", [0]], "label is a byte string"),
        ([4, b"short"], "pruned hash is 32 bytes"),
        ([3, 5], "byte strings"),
    ],
)
def test_malformed_trees_are_refused_by_name(value: object, message: str) -> None:
    with pytest.raises(HashTreeError, match=message):
        from_cbor_value(value)
