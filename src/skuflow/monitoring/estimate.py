"""Accuracy before labels arrive: confidence-based performance estimation (CBPE).

At training time the champion's confidences on held-out rows are calibrated against whether it was right
(isotonic regression of "correct" on confidence: monotone, no shape assumed), per predicted class where a
class has enough held-out rows and errors to say so, pooled otherwise. A window's expected accuracy is then
the mean calibrated probability of being right; its expected macro-F1 comes from the expected confusion
matrix: a row predicted j counts p on the diagonal and 1 - p spread over the true classes j's mistakes had
on the held-out rows.

This needs only what the prediction log keeps (the predicted class and its confidence), so any logged
window can be estimated, and it stays right under covariate shift for as long as the model's calibration
(P(right | confidence, predicted class)) holds; a concept shift breaks it, which is what feedback is for.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from sklearn.isotonic import IsotonicRegression

MIN_CLASS_ROWS = 200  # a predicted class gets its own calibration map from this many held-out rows ...
MIN_CLASS_ERRORS = 10  # ... and this many mistakes among them; fewer and the pooled map is steadier
SMOOTHING = 0.5  # pseudo-count per true class when spreading a predicted class's mistakes


@dataclass
class CalibrationMap:
    """A monotone step map from confidence to the probability of being right."""

    x: list[float]
    y: list[float]

    @classmethod
    def fit(cls, confidences: np.ndarray, correct: np.ndarray) -> CalibrationMap:
        iso = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip")
        iso.fit(confidences, correct.astype(float))
        return cls([float(v) for v in iso.X_thresholds_], [float(v) for v in iso.y_thresholds_])

    def __call__(self, confidences: np.ndarray) -> np.ndarray:
        return np.interp(confidences, self.x, self.y)


@dataclass
class PerformanceReference:
    """What estimation needs of the held-out rows, stored with the version inside its reference profile."""

    classes: list[str]
    pooled: CalibrationMap
    per_class: dict[str, CalibrationMap]
    # mistakes[j][k]: the share of class j's wrong predictions whose true class was k (k != j)
    mistakes: dict[str, dict[str, float]]
    n: int
    accuracy: float  # realised on the held-out rows: the baseline an estimated drop is measured from
    macro_f1: float
    extra: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> PerformanceReference:
        return cls(classes=raw["classes"], pooled=CalibrationMap(**raw["pooled"]),
                   per_class={k: CalibrationMap(**v) for k, v in raw["per_class"].items()},
                   mistakes=raw["mistakes"], n=raw["n"], accuracy=raw["accuracy"], macro_f1=raw["macro_f1"],
                   extra=raw.get("extra", {}))

    def p_correct(self, predicted: list[str], confidences: np.ndarray) -> np.ndarray:
        """Each row's calibrated probability of being right."""
        p = self.pooled(confidences)
        pred = np.asarray(predicted, dtype=object)
        for label, cmap in self.per_class.items():
            rows = pred == label
            if rows.any():
                p[rows] = cmap(confidences[rows])
        return p


REST = "*"  # in a predicted class's mistakes: the share of each true class not listed (smoothing only)


def macro_f1_from_totals(tp: np.ndarray, predicted: np.ndarray, true: np.ndarray) -> float:
    """Macro-F1 over the classes that occur (as truth or prediction), sklearn's default label set, from each
    class's (expected) true positives, predicted count and true count: no classes x classes matrix."""
    fp, fn = predicted - tp, true - tp
    present = (predicted + true) > 1e-9
    denom = 2 * tp + fp + fn
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp, dtype=float), where=denom > 0)
    return float(f1[present].mean()) if present.any() else 0.0


def fit_reference(predicted: list[str], confidences: list[float], truth: list[str],
                  classes: list[str]) -> PerformanceReference:
    """Calibrate the model's confidences on held-out rows (never rows it trained on). A predicted class's
    mistakes keep only the true classes seen (plus the smoothing share of every other one, under ``REST``), so
    the reference grows with the mistakes made, not with classes squared."""
    conf = np.asarray(confidences, dtype=float)
    pred = np.asarray(predicted, dtype=object)
    true = np.asarray(truth, dtype=object)
    correct = pred == true
    per_class = {}
    by_pred = pd.Series(np.arange(len(pred))).groupby(pred).indices if len(pred) else {}
    for label in classes:
        rows = by_pred.get(label, np.empty(0, dtype=int))
        if len(rows) >= MIN_CLASS_ROWS and (~correct[rows]).sum() >= MIN_CLASS_ERRORS:
            per_class[label] = CalibrationMap.fit(conf[rows], correct[rows])
    wrong = pd.DataFrame({"pred": pred[~correct], "true": true[~correct]}).value_counts()
    seen: dict[str, dict[str, float]] = {}
    for (j, k), n in wrong.items():
        seen.setdefault(str(j), {})[str(k)] = float(n)
    known = set(classes)
    mistakes: dict[str, dict[str, float]] = {}
    for j in classes:
        counts = {k: n + SMOOTHING for k, n in seen.get(j, {}).items() if k in known and k != j}
        total = sum(counts.values()) + SMOOTHING * (len(classes) - 1 - len(counts))
        mistakes[j] = {k: v / total for k, v in counts.items()} | \
            ({REST: SMOOTHING / total} if total and len(classes) - 1 > len(counts) else {})
    index = {c: i for i, c in enumerate(classes)}
    ti = np.asarray([index.get(t, -1) for t in true], dtype=int)
    pi = np.asarray([index.get(p, -1) for p in pred], dtype=int)
    both = (ti >= 0) & (pi >= 0)
    k = len(classes)
    tp = np.bincount(ti[both & correct], minlength=k).astype(float)
    return PerformanceReference(classes=list(classes), pooled=CalibrationMap.fit(conf, correct),
                                per_class=per_class, mistakes=mistakes, n=len(conf),
                                accuracy=float(correct.mean()) if len(conf) else 0.0,
                                macro_f1=macro_f1_from_totals(tp, np.bincount(pi[both], minlength=k).astype(float),
                                                              np.bincount(ti[both], minlength=k).astype(float)))


def expected_totals(ref: PerformanceReference, predicted: list[str],
                    p_right: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Each class's expected true positives, predicted count and true count over a window: a predicted row is
    right with ``p_right``, and otherwise belongs to a true class in proportion to the reference's mistakes."""
    index = {c: i for i, c in enumerate(ref.classes)}
    k = len(ref.classes)
    tp, pred_n, true_n = np.zeros(k), np.zeros(k), np.zeros(k)
    spread = 0.0  # mass spread evenly over every class but the predicted one (the smoothing share)
    for label, p in zip(predicted, p_right, strict=True):
        j = index.get(label)
        if j is None:  # a class the reference never knew: it cannot be placed
            continue
        tp[j] += p
        pred_n[j] += 1.0
        true_n[j] += p
        mistakes = ref.mistakes.get(label, {})
        rest = mistakes.get(REST, 0.0)
        spread += (1.0 - p) * rest
        true_n[j] -= (1.0 - p) * rest  # the even spread lands on j and on the listed classes too: take it back
        for other, share in mistakes.items():
            if other != REST:
                true_n[index[other]] += (1.0 - p) * (share - rest)
    return tp, pred_n, true_n + spread


def estimate(ref: PerformanceReference, predicted: list[str], confidences: list[float]) -> dict[str, Any]:
    """Expected accuracy and macro-F1 of a window of unlabelled predictions, and their drop from the
    held-out figures."""
    if not predicted:
        return {"n": 0, "accuracy": None, "macro_f1": None}
    p = ref.p_correct(predicted, np.asarray(confidences, dtype=float))
    accuracy = float(p.mean())
    f1 = macro_f1_from_totals(*expected_totals(ref, predicted, p))
    return {"n": len(predicted), "accuracy": accuracy, "macro_f1": f1,
            "reference_accuracy": ref.accuracy, "reference_macro_f1": ref.macro_f1,
            "accuracy_drop": ref.accuracy - accuracy, "macro_f1_drop": ref.macro_f1 - f1}
