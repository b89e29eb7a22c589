"""A student's model file checked before LightGBM reads it: a folder from elsewhere is untrusted input.

LightGBM trusts the sizes a model file declares: a 360-byte file that declares a tree of two billion leaves
aborts the process ("terminate called"), and others allocate or loop without end. The text format is simple
(a header of ``key=value`` lines, then ``Tree=N`` blocks of the same), so every size and index is checked
against what the file holds, in one pass, before LightGBM sees it.
"""

from __future__ import annotations

import os
from itertools import takewhile

from prox.errors import UsageError

MAX_FILE_BYTES = 64 << 20  # the shipped student's models are a few hundred KB
MAX_TREES = 100_000
MAX_LEAVES = 1 << 16
# per tree: the arrays LightGBM sizes from num_leaves, with how many values each must hold
LEAF_ARRAYS = ("leaf_value",)
NODE_ARRAYS = ("split_feature", "threshold", "decision_type", "left_child", "right_child")


def check_model_file(path: str, features: int) -> None:
    """Raise ValueError naming ``path`` when it is not a LightGBM text model of ``features`` features and sane sizes."""
    size = os.path.getsize(path)
    if size > MAX_FILE_BYTES:
        raise UsageError(f"{path}: {size:,} bytes, more than a student's model file ({MAX_FILE_BYTES:,})")
    with open(path, "rb") as handle:
        text = handle.read().decode("utf-8", "replace")
    blocks = text.split("\nTree=")
    header = _pairs(blocks[0])
    if not blocks[0].startswith("tree\n"):
        raise UsageError(f"{path}: not a LightGBM text model (it must begin with 'tree')")
    if header.get("num_class") != "1" or header.get("num_tree_per_iteration") != "1":
        raise UsageError(f"{path}: a student's model has one class and one tree per iteration")
    if header.get("max_feature_idx") != str(features - 1) or len(header.get("feature_names", "").split()) != features:
        raise UsageError(f"{path}: made for other features than this prox computes ({features})")
    trees = blocks[1:]
    if len(trees) > MAX_TREES:
        raise UsageError(f"{path}: {len(trees):,} trees, more than {MAX_TREES:,}")
    for block in trees:
        _check_tree(path, block.split("end of trees", 1)[0], features)


def _check_tree(path: str, block: str, features: int) -> None:
    name, _, body = block.partition("\n")
    lines = takewhile(str.strip, body.split("\n"))  # LightGBM reads a tree's lines up to the first blank one
    tree = _pairs("\n".join(lines))
    leaves = tree.get("num_leaves", "")
    if not leaves.isdigit() or not 1 <= int(leaves) <= MAX_LEAVES:
        raise UsageError(f"{path}: tree {name.strip()[:20]} declares {leaves[:20]!r} leaves (at most {MAX_LEAVES:,})")
    leaves = int(leaves)
    if tree.get("num_cat", "0") != "0" or tree.get("is_linear", "0") != "0":
        raise UsageError(f"{path}: tree {name.strip()[:20]} uses categorical or linear leaves, which students never write")
    expected = {**{key: leaves for key in LEAF_ARRAYS}, **({key: leaves - 1 for key in NODE_ARRAYS} if leaves > 1 else {})}
    for key, count in expected.items():
        values = tree.get(key, "").split()
        if len(values) != count:
            raise UsageError(f"{path}: tree {name.strip()[:20]} has {len(values)} {key} values for {leaves} leaves")
    if leaves > 1:
        for key, low, high in (("split_feature", 0, features - 1), ("left_child", -leaves, leaves - 2), ("right_child", -leaves, leaves - 2)):
            for value in tree[key].split():
                if not value.lstrip("-").isdigit() or not low <= int(value) <= high:
                    raise UsageError(f"{path}: tree {name.strip()[:20]} has {key} {value[:20]!r} out of range")


def _pairs(block: str) -> dict[str, str]:
    pairs = {}
    for line in block.split("\n"):
        key, sep, value = line.partition("=")
        if sep:
            pairs[key.strip()] = value.strip()
    return pairs
