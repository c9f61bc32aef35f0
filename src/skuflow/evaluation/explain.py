"""Why a model said what it said: signed contributions to the raw score of the predicted class, per input
feature, named as the user knows them, and what the model leans on overall.

Exact decompositions only, no sampling and no SHAP dependency:
- gradient-boosted trees: LightGBM's native ``pred_contrib`` (TreeSHAP inside the booster); the
  contributions plus the bias equal the booster's raw score (the class's log-odds margin);
- linear models: coefficient x value per feature, plus the intercept, equal the decision score.
A feature the model never uses (a constant in training) gets exactly zero. For a binary model the raw
score is the margin in favour of the predicted class (negated when class 0 is predicted).

The featurizer names its columns (``feature_name(j, record)``, ``blocks()``: see ProductFeaturizer).
"""

from __future__ import annotations

import re
import weakref
from typing import Any

import numpy as np
import scipy.sparse as sp

from skuflow.errors import NotSupportedError
from skuflow.estimators.pipeline import final_estimator, is_pipeline, transform_features

TOP_FEATURES = 20  # named in the global importance
DENSE_CELLS = 200_000  # inputs up to this size go to LightGBM's contributions as a dense array


def _parts(model: Any) -> tuple[Any, Any]:
    """The naming featurizer and the final estimator, or NotSupportedError."""
    if not is_pipeline(model) or not hasattr(model.steps[0][1], "feature_name"):
        raise NotSupportedError("Explanations need a pipeline whose featurizer names its columns")
    est = final_estimator(model)
    if not (hasattr(est, "booster_") or hasattr(est, "coef_")):
        raise NotSupportedError(f"No exact explanation for a {type(est).__name__} (LightGBM and linear models "
                                "have one)")
    return model.steps[0][1], est


_CLASS_BOOSTERS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def class_booster(booster: Any, k: int) -> Any:
    """The trees of class ``k`` of a multiclass booster, as a booster of their own.

    A multiclass model grows one tree per class per round (tree i belongs to class i mod K), and class k's
    raw score is the sum of its trees alone. TreeSHAP over all K classes' trees costs K times what the
    predicted class needs, so each class's trees are cut
    out of the model text once, on first use, and kept beside the booster. Only the tree count changes: the
    contributions equal the full model's for that class (tests compare them)."""
    import lightgbm as lgb

    per_model = _CLASS_BOOSTERS.setdefault(booster, {})
    if k not in per_model:
        text = booster.model_to_string()  # the trees prediction uses (the best round, after early stopping)
        head, rest = text.split("\nTree=0\n", 1)
        body, tail = rest.split("\nend of trees", 1)
        trees = [t.strip("\n") for t in ("Tree=0\n" + body).split("\nTree=")]
        n = booster.num_model_per_iteration()
        mine = [re.sub(r"^(Tree=)?\d+\n", f"Tree={j}\n", t, count=1) for j, t in enumerate(trees[k::n])]
        head = re.sub(r"\nnum_class=\d+", "\nnum_class=1", head)
        head = re.sub(r"\nnum_tree_per_iteration=\d+", "\nnum_tree_per_iteration=1", head)
        head = re.sub(r"\nobjective=[^\n]*", "\nobjective=regression", head)  # raw sums, no link function
        head = re.sub(r"\ntree_sizes=[^\n]*", "", head)  # sizes of the old tree list; the parser reads on
        per_model[k] = lgb.Booster(model_str=head + "\n\n" + "\n\n".join(mine) + "\n\nend of trees" + tail)
    return per_model[k]


def contributions(est: Any, X: sp.csr_matrix, k: int) -> tuple[np.ndarray, np.ndarray, float, str]:
    """One row's contributions to class ``k``'s raw score as (columns, values) of the nonzero ones, the bias,
    and the method's name. Kept sparse: a row touches tens of the hundreds of thousands of columns."""
    n_classes = len(est.classes_)
    if hasattr(est, "booster_"):
        booster = class_booster(est.booster_, k) if n_classes > 2 else est.booster_
        # one row: a dense input on one thread is 4x faster than the sparse path (which builds sparse output)
        # and than waking OpenMP threads
        dense = X.shape[0] * X.shape[1] <= DENSE_CELLS
        part = sp.csr_matrix(booster.predict(X.toarray() if dense else X, pred_contrib=True, num_threads=1))
        sign = -1.0 if n_classes == 2 and k == 0 else 1.0
        cols, vals = part.indices, np.asarray(part.data, dtype=float)
        bias_at = cols == X.shape[1]  # the last column is the expected value
        bias = float(vals[bias_at].sum())
        return cols[~bias_at], sign * vals[~bias_at], sign * bias, "lightgbm pred_contrib"
    coef = np.asarray(est.coef_, dtype=float)
    intercept = np.atleast_1d(np.asarray(est.intercept_, dtype=float))
    if coef.shape[0] == 1:  # binary: one margin, in favour of class 1
        sign = -1.0 if k == 0 else 1.0
        w, b = coef[0], sign * float(intercept[0])
    else:
        sign, w, b = 1.0, coef[k], float(intercept[k])
    row = X.tocsr()
    return row.indices, sign * row.data.astype(float) * w[row.indices], b, "coefficient x value"


def explain_record(model: Any, record: dict[str, Any], top: int = 10) -> dict[str, Any]:
    """The prediction for one record and the ``top`` inputs that pushed its raw score most, either way; the
    rest are summed so that bias + contributions + rest = raw score."""
    featurizer, est = _parts(model)
    X = sp.csr_matrix(transform_features(model, [record]))
    proba = np.asarray(est.predict_proba(X))[0]
    k = int(proba.argmax())
    cols, values, bias, method = contributions(est, X, k)
    keep = values != 0
    cols, values = cols[keep], values[keep]
    x = dict(zip(X.indices.tolist(), X.data.tolist(), strict=True))
    cols, values, pooled = _pool_blocks(featurizer, cols, values, x)
    order = np.argsort(-np.abs(values), kind="stable")[:top]
    shown: list[dict[str, Any]] = []
    for i in order.tolist():
        j = int(cols[i])
        if j in pooled:
            family, value = pooled[j]
            shown.append({"feature": family, "family": family, "value": value, "contribution": float(values[i])})
            continue
        family, name = featurizer.feature_name(j, record)
        shown.append({"feature": name, "family": family, "value": float(x.get(j, 0.0)),
                      "contribution": float(values[i])})
    total = float(values.sum())
    return {"prediction": str(est.classes_[k]), "confidence": float(proba[k]), "raw_score": bias + total,
            "bias": bias, "contributions": shown, "rest": total - sum(c["contribution"] for c in shown),
            "method": method}


def _pooled_spans(featurizer: Any) -> list[tuple[str, int, int]]:
    """(family, first column, end) of each block whose single columns mean nothing to a person (a sentence
    embedding's dimensions): explanations sum them into one contribution and never name one alone."""
    families = set(getattr(featurizer, "pooled_families", ()))
    spans, start = [], 0
    for family, width in featurizer.blocks() if families else ():
        if family in families:
            spans.append((family, start, start + width))
        start += width
    return spans


def _pool_blocks(featurizer: Any, cols: np.ndarray, values: np.ndarray,
                 x: dict[int, float]) -> tuple[np.ndarray, np.ndarray, dict[int, tuple[str, float]]]:
    """Each pooled block's contributions summed onto its first column; returns the columns, their values,
    and {pooled column: (family, the block's norm in the input)}."""
    pooled: dict[int, tuple[str, float]] = {}
    for family, start, end in _pooled_spans(featurizer):
        inside = (cols >= start) & (cols < end)
        if inside.any():
            norm = float(np.sqrt(sum(v * v for j, v in x.items() if start <= j < end)))
            cols = np.append(cols[~inside], start)
            values = np.append(values[~inside], values[inside].sum())
            pooled[start] = (family, norm)
    return cols, values, pooled


def global_importance(model: Any, per_class: int = 10) -> dict[str, Any] | None:
    """What the model leans on, in the user's terms: gain (trees) or coefficient mass (linear) summed per
    feature family, the strongest single features, and for linear models each class's strongest features
    (None when the model has no exact decomposition)."""
    try:
        featurizer, est = _parts(model)
    except NotSupportedError:
        return None
    blocks = featurizer.blocks()
    starts = np.cumsum([0] + [w for _, w in blocks[:-1]])
    if hasattr(est, "booster_"):
        weight = np.asarray(est.booster_.feature_importance(importance_type="gain"), dtype=float)
        measure = "total gain"
    else:
        weight = np.abs(np.asarray(est.coef_, dtype=float)).sum(axis=0)
        measure = "sum of |coefficient| over classes"
    by_family: dict[str, float] = {}
    for (fam, _), total_of_block in zip(blocks, np.add.reduceat(weight, starts), strict=True):
        by_family[fam] = by_family.get(fam, 0.0) + float(total_of_block)
    total = sum(by_family.values()) or 1.0
    family_of = np.repeat(np.arange(len(blocks)), [w for _, w in blocks])
    named = np.ones(len(weight), dtype=bool)  # a pooled block counts in its family's share, never by column
    for _, start, end in _pooled_spans(featurizer):
        named[start:end] = False
    out: dict[str, Any] = {
        "measure": measure,
        "families": {f: v / total for f, v in sorted(by_family.items(), key=lambda kv: -kv[1])},
        "features": [{"feature": featurizer.feature_name(j)[1], "family": blocks[family_of[j]][0],
                      "share": float(weight[j] / total)} for j in _top(np.where(named, weight, 0.0), TOP_FEATURES)
                     if weight[j] > 0 and named[j]]}
    if hasattr(est, "coef_") and np.asarray(est.coef_).shape[0] == len(est.classes_):
        coef = np.asarray(est.coef_, dtype=float)
        out["per_class"] = {str(c): [{"feature": featurizer.feature_name(j)[1], "weight": float(coef[i, j])}
                                     for j in _top(np.where(named, coef[i], -np.inf), per_class)]
                            for i, c in enumerate(est.classes_)}
    return out


def _top(values: np.ndarray, n: int) -> list[int]:
    """Indices of the ``n`` largest values, largest first (a partition, not a sort of a million columns)."""
    n = min(n, len(values))
    part = np.argpartition(-values, n - 1)[:n] if n else np.array([], dtype=int)
    return [int(j) for j in part[np.argsort(-values[part], kind="stable")]]


def importance_figure(data: dict[str, Any], title: str):
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fams, feats = data["families"], data["features"]
    fig, (ax_f, ax_t) = plt.subplots(1, 2, figsize=(12, max(3.5, 0.28 * len(feats) + 1)),
                                     gridspec_kw={"width_ratios": [1, 2]})
    ax_f.barh(list(fams), list(fams.values()), color="#2980b9")
    ax_f.invert_yaxis()
    ax_f.set(title="share by feature family", xlabel=data["measure"])
    ax_t.barh([f"{f['feature']} ({f['family']})" for f in feats], [f["share"] for f in feats], color="#16a085")
    ax_t.invert_yaxis()
    ax_t.tick_params(axis="y", labelsize=7)
    ax_t.set(title="strongest features", xlabel="share")
    fig.suptitle(title)
    fig.tight_layout()
    return fig
