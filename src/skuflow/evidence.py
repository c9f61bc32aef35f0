"""How sure is a gain? A paired bootstrap of the difference between two models' metric on the same rows.

Each resample draws the rows with replacement once and scores *both* models on that draw, so the noise the
two share (hard rows, easy rows) cancels in the difference. Resamples are count vectors (multinomial
weights), and every metric is written as a function of weighted sums, so one matrix product scores a
thousand resamples at once: accuracy, macro-F1 and ROC-AUC (binary, or one-vs-rest macro) all go through
the same code, and with unit weights each equals scikit-learn's figure on the rows.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
import scipy.sparse as sp

METRICS = ("accuracy", "macro_f1", "roc_auc", "roc_auc_ovr")
_CHUNK = 250  # resamples scored per block: bounds memory at 250 x rows weights


@dataclass(frozen=True)
class Gain:
    """Challenger minus champion on the compared rows (champion minus challenger for an error such as RMSE:
    a positive gain is always an improvement), with a bootstrap interval.

    ``lower`` is the one-sided lower bound at ``confidence`` (the gain exceeds it with that probability);
    ``upper`` the matching upper bound, so ``[lower, upper]`` is the central 2*confidence-1 interval."""

    metric: str
    rows: int
    champion: float
    challenger: float
    gain: float
    lower: float
    upper: float
    confidence: float
    resamples: int

    def to_dict(self) -> dict[str, Any]:
        return {k: (round(v, 6) if isinstance(v, float) else v) for k, v in asdict(self).items()}


def _aligned(proba: np.ndarray, classes: list[str], labels: list[str]) -> np.ndarray:
    """Columns of ``proba`` reordered to ``labels`` (a class the model never learned scores 0)."""
    out = np.zeros((proba.shape[0], len(labels)))
    where = {c: j for j, c in enumerate(classes)}
    for k, label in enumerate(labels):
        if label in where:
            out[:, k] = proba[:, where[label]]
    return out


def _accuracy(w: np.ndarray, truth: np.ndarray, proba: np.ndarray) -> np.ndarray:
    return _label_accuracy(w, truth, proba.argmax(axis=1))


def _macro_f1(w: np.ndarray, truth: np.ndarray, proba: np.ndarray) -> np.ndarray:
    return _label_macro_f1(w, truth, proba.argmax(axis=1), proba.shape[1])


def _label_accuracy(w: np.ndarray, truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    return (w @ (pred == truth).astype(float)) / w.sum(axis=1)


def _label_macro_f1(w: np.ndarray, truth: np.ndarray, pred: np.ndarray, k: int) -> np.ndarray:
    """Mean per-class F1 over the classes that occur in the truth or the predictions (0 when undefined).
    Class indicators are sparse (one entry a row), so thousands of classes cost rows, not rows x classes."""
    n = len(truth)

    def per_class(cls: np.ndarray, keep: np.ndarray | None = None) -> np.ndarray:
        rows = np.arange(n) if keep is None else np.flatnonzero(keep)
        onehot = sp.csr_matrix((np.ones(len(rows)), (rows, cls[rows])), shape=(n, k))
        return np.asarray((onehot.T @ w.T).T)

    tp = per_class(truth, pred == truth)
    fp = per_class(pred) - tp
    fn = per_class(truth) - tp
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(denom), where=denom > 0)
    used = (np.bincount(truth, minlength=k) + np.bincount(pred, minlength=k)) > 0
    return f1[:, used].mean(axis=1)


def _binary_auc(w: np.ndarray, positive: np.ndarray, score: np.ndarray) -> np.ndarray:
    """Weighted ROC-AUC: the weighted share of (positive, negative) pairs ranked right, ties counting 1/2."""
    order = np.argsort(score, kind="mergesort")
    s, pos = score[order], positive[order].astype(float)
    ws = w[:, order]
    starts = np.flatnonzero(np.r_[True, s[1:] != s[:-1]])  # one block per distinct score
    neg_block = np.add.reduceat(ws * (1 - pos), starts, axis=1)
    pos_block = np.add.reduceat(ws * pos, starts, axis=1)
    neg_below = np.cumsum(neg_block, axis=1) - neg_block
    right = (pos_block * (neg_below + 0.5 * neg_block)).sum(axis=1)
    pairs = pos_block.sum(axis=1) * neg_block.sum(axis=1)
    return np.divide(right, pairs, out=np.full_like(right, np.nan), where=pairs > 0)


def _roc_auc(w: np.ndarray, truth: np.ndarray, proba: np.ndarray) -> np.ndarray:
    return _binary_auc(w, truth == 1, proba[:, 1])


def _roc_auc_ovr(w: np.ndarray, truth: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """One-vs-rest macro ROC-AUC over the classes present, on probabilities renormalised over them."""
    present = np.unique(truth)
    sub = proba[:, present]
    sub = sub / np.clip(sub.sum(axis=1, keepdims=True), 1e-12, None)
    aucs = np.column_stack([_binary_auc(w, truth == c, sub[:, j]) for j, c in enumerate(present)])
    return np.nanmean(aucs, axis=1)


_SCORERS = {"accuracy": _accuracy, "macro_f1": _macro_f1, "roc_auc": _roc_auc, "roc_auc_ovr": _roc_auc_ovr}


def weighted_metric(metric: str, weights: np.ndarray, truth: np.ndarray, proba: np.ndarray) -> np.ndarray:
    """``metric`` under each row of ``weights`` (resamples x rows); ``truth`` indexes ``proba``'s columns."""
    if metric not in _SCORERS:
        raise ValueError(f"no bootstrap for metric '{metric}' (have {', '.join(METRICS)})")
    return _SCORERS[metric](np.atleast_2d(weights).astype(float), truth, proba)


def paired_bootstrap(metric: str, y_true: list[str] | np.ndarray, champion_proba: np.ndarray,
                     champion_classes: list[str], challenger_proba: np.ndarray, challenger_classes: list[str],
                     confidence: float = 0.95, resamples: int = 1000, seed: int = 0) -> Gain:
    """The challenger's gain over the champion on the same rows, with a seeded paired-bootstrap interval."""
    y = np.asarray([str(v) for v in y_true])
    labels = sorted(set(y) | set(map(str, champion_classes)) | set(map(str, challenger_classes)))
    index = {c: i for i, c in enumerate(labels)}
    truth = np.asarray([index[v] for v in y])
    a = _aligned(np.asarray(champion_proba, dtype=float), [str(c) for c in champion_classes], labels)
    b = _aligned(np.asarray(challenger_proba, dtype=float), [str(c) for c in challenger_classes], labels)
    return _bootstrap(metric, lambda w: (weighted_metric(metric, w, truth, a), weighted_metric(metric, w, truth, b)),
                      len(y), True, confidence, resamples, seed)


def paired_bootstrap_labels(metric: str, y_true: list[str], champion_pred: list[str], challenger_pred: list[str],
                            confidence: float = 0.95, resamples: int = 1000, seed: int = 0) -> Gain:
    """The same from predicted labels alone (accuracy and macro-F1 read nothing else): with thousands of classes
    no rows x classes probability matrix is built."""
    scorers = {"accuracy": lambda w, t, p, k: _label_accuracy(w, t, p), "macro_f1": _label_macro_f1}
    if metric not in scorers:
        raise ValueError(f"metric '{metric}' needs probabilities (labels alone give {', '.join(scorers)})")
    y = [str(v) for v in y_true]
    labels = sorted(set(y) | set(map(str, champion_pred)) | set(map(str, challenger_pred)))
    index = {c: i for i, c in enumerate(labels)}
    truth, a, b = (np.asarray([index[str(v)] for v in vals]) for vals in (y, champion_pred, challenger_pred))
    score = scorers[metric]
    return _bootstrap(metric, lambda w: (score(w, truth, a, len(labels)), score(w, truth, b, len(labels))),
                      len(y), True, confidence, resamples, seed)


def _rmse(w: np.ndarray, truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    return np.sqrt((w @ (pred - truth) ** 2) / w.sum(axis=1))


def _mae(w: np.ndarray, truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    return (w @ np.abs(pred - truth)) / w.sum(axis=1)


def _r2(w: np.ndarray, truth: np.ndarray, pred: np.ndarray) -> np.ndarray:
    total = w.sum(axis=1)
    mean = (w @ truth) / total
    ss_tot = w @ truth ** 2 - total * mean ** 2
    ss_res = w @ (pred - truth) ** 2
    return 1.0 - np.divide(ss_res, ss_tot, out=np.full_like(ss_res, np.nan), where=ss_tot > 0)


_VALUE_SCORERS = {"rmse": (_rmse, False), "mae": (_mae, False), "r2": (_r2, True)}


def paired_bootstrap_values(metric: str, y_true: np.ndarray, champion_pred: np.ndarray,
                            challenger_pred: np.ndarray, confidence: float = 0.95, resamples: int = 1000,
                            seed: int = 0) -> Gain:
    """The same for numeric predictions (RMSE, MAE, R²). For an error, the gain is how much *lower* the
    challenger's is: a positive gain is an improvement whichever way the metric points."""
    if metric not in _VALUE_SCORERS:
        raise ValueError(f"no bootstrap for metric '{metric}' (have {', '.join(_VALUE_SCORERS)})")
    score, higher = _VALUE_SCORERS[metric]
    truth = np.asarray(y_true, dtype=float)
    a, b = np.asarray(champion_pred, dtype=float), np.asarray(challenger_pred, dtype=float)
    return _bootstrap(metric, lambda w: (score(w, truth, a), score(w, truth, b)), len(truth), higher,
                      confidence, resamples, seed)


def _bootstrap(metric: str, both: Any, n: int, higher: bool, confidence: float, resamples: int,
               seed: int) -> Gain:
    """``both(weights)`` scores champion and challenger under each resample's weights (resamples x rows)."""
    sign = 1.0 if higher else -1.0
    champ_one, chall_one = both(np.ones((1, n)))
    champ, chall = float(champ_one[0]), float(chall_one[0])
    rng = np.random.default_rng(seed)
    gains = []
    for start in range(0, resamples, _CHUNK):
        w = rng.multinomial(n, np.full(n, 1.0 / n), size=min(_CHUNK, resamples - start)).astype(float)
        a, b = both(w)
        gains.append(sign * (b - a))
    diffs = np.concatenate(gains)
    diffs = diffs[~np.isnan(diffs)]
    alpha = 1.0 - confidence
    point = sign * (chall - champ)
    lower, upper = (np.quantile(diffs, [alpha, confidence]) if len(diffs) and 0 < confidence < 1
                    else (point, point))
    return Gain(metric, n, champ, chall, point, float(lower), float(upper), confidence, resamples)


def conformal_half_width(residuals: np.ndarray, coverage: float) -> float:
    """Split-conformal half-width: the ``coverage`` quantile of absolute residuals on rows the model did
    not train on, with the finite-sample correction ceil((n + 1) * coverage) / n."""
    n = len(residuals)
    return float(np.quantile(np.abs(residuals), min(1.0, np.ceil((n + 1) * coverage) / n), method="higher"))
