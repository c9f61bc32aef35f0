"""Category paths: a label that names a node of a tree ("Apparel > Topwear > Tshirts").

A path model is a classifier over the tree's leaf paths, so every prediction is a path that exists in the
training tree. The confidence of a level is the probability mass of every path under that node (the
marginal), not the leaf's own probability: a model torn between two kinds of T-shirt is still sure the
product is topwear. Serving, batch, drift and evaluation read paths through these helpers.
"""

from __future__ import annotations

import json
from collections import Counter
from functools import lru_cache

import numpy as np
import scipy.sparse as sp

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


@lru_cache(maxsize=16)
def _level_maps(classes: tuple[str, ...]) -> tuple[tuple[list[str], sp.csr_matrix], ...]:
    """For each level: its node names and a sparse (paths x nodes) 0/1 matrix (probabilities @ matrix =
    marginals); sparse because a 3,000-leaf tree would need 72 MB a level dense."""
    out = []
    for d in range(1, depth_of(classes) + 1):
        nodes = sorted({prefix(c, d) for c in classes})
        index = {n: j for j, n in enumerate(nodes)}
        cols = np.asarray([index[prefix(c, d)] for c in classes])
        member = sp.csr_matrix((np.ones(len(classes)), (np.arange(len(classes)), cols)),
                               shape=(len(classes), len(nodes)))
        out.append((nodes, member))
    return tuple(out)


def level_predictions(proba: np.ndarray, classes: list[str], best: np.ndarray) -> list[list[tuple[str, float]]]:
    """Per row, each level of the predicted path with its marginal probability."""
    rows: list[list[tuple[str, float]]] = [[] for _ in range(proba.shape[0])]
    predicted = [classes[j] for j in best.tolist()]
    for depth, (nodes, member) in enumerate(_level_maps(tuple(classes)), start=1):
        marginal = np.asarray((member.T @ proba.T).T)
        index = {n: j for j, n in enumerate(nodes)}
        for i, path in enumerate(predicted):
            node = prefix(path, depth)
            rows[i].append((node.rsplit(SEPARATOR, 1)[-1], float(marginal[i, index[node]])))
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
    counts = Counter(paths)
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
