"""Category paths: a label that names a node of a tree ("Apparel > Topwear > Tshirts").

A path model is a classifier over the tree's leaf paths, so every prediction is a path that exists in the
training tree. The confidence of a level is the probability mass of every path under that node (the
marginal), not the leaf's own probability: a model torn between two kinds of T-shirt is still sure the
product is topwear. Serving, batch, drift and evaluation read paths through these helpers.
"""

from __future__ import annotations

from functools import lru_cache

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


@lru_cache(maxsize=16)
def _level_maps(classes: tuple[str, ...]) -> tuple[tuple[list[str], np.ndarray], ...]:
    """For each level: its node names and a (paths x nodes) 0/1 matrix (probabilities @ matrix = marginals)."""
    out = []
    for d in range(1, depth_of(classes) + 1):
        nodes = sorted({prefix(c, d) for c in classes})
        index = {n: j for j, n in enumerate(nodes)}
        member = np.zeros((len(classes), len(nodes)))
        member[np.arange(len(classes)), [index[prefix(c, d)] for c in classes]] = 1.0
        out.append((nodes, member))
    return tuple(out)


def level_predictions(proba: np.ndarray, classes: list[str], best: np.ndarray) -> list[list[tuple[str, float]]]:
    """Per row, each level of the predicted path with its marginal probability."""
    rows: list[list[tuple[str, float]]] = [[] for _ in range(proba.shape[0])]
    predicted = [classes[j] for j in best.tolist()]
    for depth, (nodes, member) in enumerate(_level_maps(tuple(classes)), start=1):
        marginal = proba @ member
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
