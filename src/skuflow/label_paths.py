"""Category paths: a label that names a node of a tree ("Apparel > Topwear > Tshirts").

A path model is a classifier over the tree's leaf paths, so every prediction is a path that exists in the
training tree. The confidence of a level is the probability mass of every path under that node (the
marginal), not the leaf's own probability: a model torn between two kinds of T-shirt is still sure the
product is topwear. Serving, batch, drift and evaluation read paths through these helpers.
"""

from __future__ import annotations

import json
from collections import Counter, OrderedDict
from dataclasses import dataclass

import numpy as np

SEPARATOR = " > "  # how a path is written in labels, responses, the prediction log and batch output
PREDICTION_LEVEL = "prediction_level_"  # drift columns of the levels above the leaf: prediction_level_1, ...


def is_path_labels(classes: list[str] | tuple[str, ...]) -> bool:
    """Labels are paths when every one of them has at least two levels."""
    return bool(classes) and all(SEPARATOR in c for c in classes)


def parts(path: str) -> list[str]:
    return path.split(SEPARATOR)


def prefix(path: str, depth: int) -> str:
    """The node at ``depth`` (1 = the root level); a shorter path is its own node at deeper levels."""
    return SEPARATOR.join(parts(path)[:depth])


def depth_of(classes: list[str] | tuple[str, ...]) -> int:
    return max(len(parts(c)) for c in classes)


def join(values: list[str]) -> str:
    """A path from its level names, each stripped of the separator's own characters at the ends."""
    return SEPARATOR.join(str(v).strip() for v in values)


@dataclass(frozen=True)
class Tree:
    """A model's classes read as a tree, built once per class list: each level's node names, which node each
    class falls under, and each node's classes (a served request reads only its predicted node's)."""

    classes: list[str]
    levels: list[tuple[list[str], np.ndarray, list[np.ndarray]]]  # (node names, node of each class, members)

    @staticmethod
    def of(classes: list[str]) -> Tree:
        levels = []
        for d in range(1, depth_of(classes) + 1):
            names = [prefix(c, d) for c in classes]
            nodes = sorted(set(names))
            index = {n: j for j, n in enumerate(nodes)}
            node_of = np.asarray([index[n] for n in names])
            order = np.argsort(node_of, kind="stable")
            bounds = np.searchsorted(node_of[order], np.arange(len(nodes) + 1))
            levels.append(([n.rsplit(SEPARATOR, 1)[-1] for n in nodes], node_of,
                           [order[bounds[j]:bounds[j + 1]] for j in range(len(nodes))]))
        return Tree(list(classes), levels)


_READ: OrderedDict[int, tuple[object, list[str], Tree | None]] = OrderedDict()


def _read(model_classes: object) -> tuple[list[str], Tree | None]:
    """A model's ``classes_`` as Python strings and as a ``Tree`` (None when they are not paths), remembered per
    classes object: a 3,000-leaf model would otherwise rebuild both (milliseconds) on every request. The cache
    holds the object, so its id is not reused while cached."""
    key = id(model_classes)
    hit = _READ.get(key)
    if hit is not None and hit[0] is model_classes:
        _READ.move_to_end(key)
        return hit[1], hit[2]
    names = [str(c) for c in model_classes]  # type: ignore[attr-defined]
    tree = Tree.of(names) if is_path_labels(names) else None
    _READ[key] = (model_classes, names, tree)
    while len(_READ) > 16:
        _READ.popitem(last=False)
    return names, tree


def tree_of(model_classes: object) -> Tree | None:
    return _read(model_classes)[1]


def class_names(model_classes: object) -> list[str]:
    """Python strings: numpy str scalars are slow to build."""
    return _read(model_classes)[0]


def level_predictions(proba: np.ndarray, tree: Tree, best: np.ndarray) -> list[list[tuple[str, float]]]:
    """Per row, each level of the predicted path with its marginal probability (the sum over the node's
    classes; only the predicted node's are read)."""
    rows: list[list[tuple[str, float]]] = [[] for _ in range(proba.shape[0])]
    for i, j in enumerate(best.tolist()):
        for names, node_of, members in tree.levels:  # a shorter path is its own node at deeper levels
            node = int(node_of[j])
            rows[i].append((names[node], float(proba[i, members[node]].sum())))
    return rows


def level_labels(paths: list[str], depth: int) -> list[str]:
    return [prefix(p, depth) for p in paths]


def leaves(paths: list[str]) -> list[str]:
    """The last level's own name ("Tshirts"): a leaf name may sit under several parents."""
    return [p.rsplit(SEPARATOR, 1)[-1] for p in paths]


def unwrap(value: str) -> str:
    """An exported path without its wrappers: a JSON list of one string (``["A >> B"]``) and surrounding
    quotes, as shop exports write the tree column."""
    text = value.strip()
    if text.startswith("[") and text.endswith("]"):
        try:
            loaded = json.loads(text)
        except ValueError:
            loaded = None
        if isinstance(loaded, list) and len(loaded) == 1 and isinstance(loaded[0], str):
            text = loaded[0].strip()
        else:
            text = text[1:-1].strip()
    while len(text) >= 2 and text[0] == text[-1] and text[0] in "\"'":
        text = text[1:-1].strip()
    return text


def truncate(levels: list[str], depth: int | None) -> list[str]:
    """The top ``depth`` levels; a shorter path stays whole."""
    return levels[:depth] if depth else levels


def fold_rare(paths: list[str], min_rows: int) -> dict[str, str]:
    """Paths with fewer than ``min_rows`` rows, each mapped to the nearest ancestor that ends up with enough
    (counting the rows folded into it). Deepest paths fold first, so a thin branch collapses level by level;
    a top-level node keeps its rows whatever their number."""
    return fold_rare_counts(Counter(paths), min_rows)


def fold_rare_counts(rows_per_path: Counter, min_rows: int) -> dict[str, str]:
    """``fold_rare`` from each path's row count (partitions count their rows, the client folds)."""
    counts = Counter(rows_per_path)
    folded: dict[str, str] = {}
    for depth in range(max((len(parts(p)) for p in counts), default=1), 1, -1):
        for path in [p for p in counts if len(parts(p)) == depth and counts[p] < min_rows]:
            parent = prefix(path, depth - 1)
            counts[parent] += counts.pop(path)
            folded[path] = parent
    # a path folded into a parent that later folded too ends at that parent's target
    for path in folded:
        target = folded[path]
        while target in folded:
            target = folded[target]
        folded[path] = target
    return folded
