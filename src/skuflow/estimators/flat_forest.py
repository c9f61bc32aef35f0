"""A LightGBM booster's trees laid out in a few small arrays and walked by compiled code.

A fitted booster keeps each tree as a handful of separately allocated vectors. Timed in a loop they stay in
cache, but a server touches megabytes of other memory between two requests, and a big model's trees are then
fetched again. Here the trees are compact enough to stay in a core's L2 beside
everything else a server does:

- Each split compares a feature's *bin* with a one-byte cut. A feature's thresholds, sorted, are its cuts;
  a row's value becomes the number of cuts below it, once per row, and ``x <= threshold_j`` holds exactly
  when that count is at most ``j``. Decisions are LightGBM's to the bit, with 1 byte per node instead of 8.
- Only the features some split uses get a bin (a small part of a text model's columns), so the row the
  walk reads is small.
- A node is 12 bytes (feature, cut, default side, two children), and the child is picked by index
  arithmetic, not a branch.

Missing values follow LightGBM: with missing type None a NaN counts as zero; with Zero or NaN the missing
value takes the split's default side (a reserved bin). The scores are summed in tree order, so probabilities
agree with the booster's to rounding (tests hold them within 1e-9).

Models this layout cannot express (categorical splits, linear trees, more than 254 cuts on a feature, objectives
other than binary and softmax multiclass) are left to the booster: ``FlatForest.from_booster`` returns None.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

import numpy as np

try:  # numba ships in the `serving` extra; without it the booster predicts, as before
    from numba import njit
except ImportError:  # pragma: no cover - exercised only where numba is absent
    njit = None  # type: ignore[assignment]

_NONE, _ZERO_MISSING, _NAN_MISSING = 0, 1, 2  # a feature's missing type, as LightGBM's bin mapper keeps it
_MISSING_BIN = 255  # a value that takes the split's default side; real bins are 0..254
_MAX_CUTS = _MISSING_BIN - 1
_ZERO = 1e-35  # LightGBM's kZeroThreshold: |x| at or below it counts as zero


def available() -> bool:
    return njit is not None


@dataclass(frozen=True)
class FlatForest:
    roots: np.ndarray  # per tree: a node index, or ~leaf for a tree that is a single leaf
    feature: np.ndarray  # per node: the split's feature, numbered among the used features (uint16)
    cut: np.ndarray  # per node: the threshold's position among its feature's cuts (uint8)
    default_right: np.ndarray  # per node: 1 when a missing value goes right (uint8)
    children: np.ndarray  # per node: left then right child, each a node index or ~leaf (int32)
    leaf_value: np.ndarray
    columns: np.ndarray  # per input column: its used-feature number, or -1 when no split reads it
    cut_start: np.ndarray  # used feature f's cuts are cuts[cut_start[f]:cut_start[f + 1]], ascending
    cuts: np.ndarray
    missing: np.ndarray  # per used feature: _NONE, _ZERO_MISSING or _NAN_MISSING
    zero_bin: np.ndarray  # per used feature: the bin of 0.0, which a sparse row's absent entries hold
    num_class: int  # trees per iteration
    sigmoid: float  # binary: the objective's sigmoid scale; 0 for softmax

    @classmethod
    def from_booster(cls, booster: Any, num_iteration: int | None = None) -> FlatForest | None:
        """The rounds of ``booster`` its ``predict`` would use (the first ``num_iteration``; None: the best
        iteration, else all), or None when the layout cannot reproduce its predictions."""
        if njit is None:
            return None
        dump = booster.dump_model(num_iteration=num_iteration)  # None: the best iteration, as predict uses
        if dump.get("average_output"):  # random-forest boosting averages its trees
            return None
        objective = str(dump.get("objective", "")).split()
        num_class = int(dump.get("num_tree_per_iteration", 1))
        if not objective or objective[0] not in ("binary", "multiclass") or \
                (objective[0] == "binary") != (num_class == 1):
            return None
        sigmoid = 0.0
        if objective[0] == "binary":
            sigmoid = next((float(p.split(":")[1]) for p in objective[1:] if p.startswith("sigmoid:")), 1.0)
        try:
            return _build(dump, num_class, sigmoid)
        except _Unsupported:
            return None

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities for a CSR matrix (the featurizer's output), shaped as the booster's."""
        X = X.tocsr() if hasattr(X, "tocsr") else X
        raw = _raw_scores(self.roots, self.feature, self.cut, self.default_right, self.children, self.leaf_value,
                          self.columns, self.cut_start, self.cuts, self.missing, self.zero_bin, self.num_class,
                          X.indptr.astype(np.int64, copy=False), X.indices.astype(np.int64, copy=False),
                          X.data.astype(np.float64, copy=False))
        if self.num_class == 1:
            return 1.0 / (1.0 + np.exp(-self.sigmoid * raw[:, 0]))
        raw -= raw.max(axis=1, keepdims=True)
        np.exp(raw, out=raw)
        raw /= raw.sum(axis=1, keepdims=True)
        return raw


class _Unsupported(Exception):
    pass


def _build(dump: dict, num_class: int, sigmoid: float) -> FlatForest:
    splits: list[tuple[int, float, bool]] = []  # (input column, threshold, default left) per node
    children: list[int] = []
    leaves: list[float] = []
    missing_of: dict[int, int] = {}  # input column -> missing type; LightGBM keeps one per feature

    def add(node: dict) -> int:
        if "leaf_value" in node or "split_feature" not in node:
            leaves.append(float(node.get("leaf_value", 0.0)))
            return ~(len(leaves) - 1)
        if node.get("decision_type") != "<=":  # a categorical split
            raise _Unsupported
        column = int(node["split_feature"])
        kind = {"Zero": _ZERO_MISSING, "NaN": _NAN_MISSING}.get(node.get("missing_type", "None"), _NONE)
        if missing_of.setdefault(column, kind) != kind:
            raise _Unsupported
        i = len(splits)
        splits.append((column, float(node["threshold"]), bool(node.get("default_left"))))
        children.extend((0, 0))
        children[2 * i] = add(node["left_child"])
        children[2 * i + 1] = add(node["right_child"])
        return i

    roots = []
    for tree in dump["tree_info"]:
        if tree.get("is_linear"):
            raise _Unsupported
        roots.append(add(tree["tree_structure"]))
    used = sorted(missing_of)
    if len(used) > np.iinfo(np.uint16).max:
        raise _Unsupported
    thresholds: dict[int, set[float]] = {}
    for column, threshold, _ in splits:
        thresholds.setdefault(column, set()).add(threshold)
    cuts_of = {column: sorted(thresholds[column]) for column in used}
    if any(len(c) > _MAX_CUTS for c in cuts_of.values()):
        raise _Unsupported
    position = {column: {t: j for j, t in enumerate(c)} for column, c in cuts_of.items()}
    columns = np.full(int(dump["max_feature_idx"]) + 1, -1, np.int32)
    columns[used] = np.arange(len(used), dtype=np.int32)
    cut_start = np.zeros(len(used) + 1, np.int64)
    cut_start[1:] = np.cumsum([len(cuts_of[c]) for c in used])
    cuts = np.asarray([t for c in used for t in cuts_of[c]], np.float64)
    missing = np.asarray([missing_of[c] for c in used], np.uint8)
    zero_bin = np.asarray([_bin(cuts, cut_start[f], cut_start[f + 1], missing[f], 0.0) for f in range(len(used))],
                          np.uint8)
    split_columns = np.asarray([c for c, _, _ in splits], np.int64)
    return FlatForest(np.asarray(roots, np.int32), columns[split_columns].astype(np.uint16),
                      np.asarray([position[c][t] for c, t, _ in splits], np.uint8),
                      np.asarray([0 if left else 1 for _, _, left in splits], np.uint8),
                      np.asarray(children, np.int32), np.asarray(leaves, np.float64), columns, cut_start, cuts,
                      missing, zero_bin, num_class, sigmoid)


def _bin(cuts, lo, hi, missing, x):  # pragma: no cover - compiled; tested through the walk
    """The number of the feature's cuts below ``x`` (so ``x <= cut_j`` iff the result is at most j), or the
    missing bin when the feature's missing type says ``x`` is missing."""
    if math.isnan(x):
        if missing == _NAN_MISSING:
            return _MISSING_BIN
        x = 0.0
    if missing == _ZERO_MISSING and -_ZERO <= x <= _ZERO:
        return _MISSING_BIN
    start = lo
    while lo < hi:  # the first cut not below x
        mid = (lo + hi) >> 1
        if cuts[mid] < x:
            lo = mid + 1
        else:
            hi = mid
    return lo - start


def _walk(roots, feature, cut, default_right, children, leaf_value, columns, cut_start, cuts, missing, zero_bin,
          num_class, indptr, indices, data):  # pragma: no cover - compiled; its behaviour is tested against the booster
    n = indptr.shape[0] - 1
    out = np.zeros((n, num_class))
    bins = np.empty(zero_bin.shape[0], np.uint8)
    for r in range(n):
        bins[:] = zero_bin
        for k in range(indptr[r], indptr[r + 1]):
            j = indices[k]
            if j < columns.shape[0]:
                f = columns[j]
                if f >= 0:
                    bins[f] = _bin_c(cuts, cut_start[f], cut_start[f + 1], missing[f], data[k])
        for t in range(roots.shape[0]):
            node = roots[t]
            while node >= 0:
                b = bins[feature[node]]
                if b == _MISSING_BIN:
                    side = default_right[node]
                else:
                    side = 1 if b > cut[node] else 0
                node = children[2 * node + side]
            out[r, t % num_class] += leaf_value[~node]
    return out


# compiled once per machine (cached beside the module); nogil: a batch scored in a thread leaves the GIL free
_bin_c = njit(cache=True, nogil=True, inline="always")(_bin) if njit is not None else _bin
_raw_scores = njit(cache=True, nogil=True)(_walk) if njit is not None else _walk
