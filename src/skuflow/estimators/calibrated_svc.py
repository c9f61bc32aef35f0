"""LinearSVC with probabilities from temperature scaling.

Sigmoid/isotonic calibration (``CalibratedClassifierCV``) re-fits per-class maps and can change which
class wins; on PriceRunner it cost 0.2-0.4 points of macro-F1. A single softmax temperature, fitted on
out-of-fold decision scores, leaves the SVM's argmax untouched and still gives honest confidences.
"""

from __future__ import annotations

from typing import Any

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import KFold, ShuffleSplit, StratifiedKFold, StratifiedShuffleSplit
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted

from skuflow.estimators.inputs import labels_for


def fit_temperature(scores: np.ndarray, y_idx: np.ndarray) -> float:
    """The temperature T minimising the log loss of softmax(scores / T)."""

    def nll(log_t: float) -> float:
        logp = log_softmax(scores / np.exp(log_t), axis=1)
        return float(-logp[np.arange(len(y_idx)), y_idx].mean())

    res = minimize_scalar(nll, bounds=(-5.0, 5.0), method="bounded")
    return float(np.exp(res.x))


class TemperatureScaledSVC(ClassifierMixin, BaseEstimator):
    """One-vs-rest LinearSVC whose ``predict_proba`` is softmax(decision / T)."""

    def __init__(self, C: float = 1.0, max_iter: int = 5000, cv: int = 1, random_state: int = 0) -> None:
        self.C = C
        self.max_iter = max_iter
        self.cv = cv
        self.random_state = random_state

    def fit(self, X, y) -> TemperatureScaledSVC:
        y = labels_for(self, X, y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        base = LinearSVC(C=self.C, max_iter=self.max_iter)
        self.temperature_ = 1.0
        # cv=0: no temperature (tuning trials are scored on the argmax, which it never moves). cv=1: one fit on
        # two thirds, scored on the last third -- one scalar needs no more rows than that, and it costs one
        # extra fit where 3 folds cost three, at nearly the same calibration (docs/benchmarks.md).
        # cv>=2: out-of-fold scores of every row.
        if self.cv >= 1:
            rare = np.bincount(y_idx).min() < max(2, self.cv)  # a class too small to sit on both sides
            if self.cv == 1:
                split = ShuffleSplit if rare else StratifiedShuffleSplit
                folds: Any = split(n_splits=1, test_size=1 / 3, random_state=self.random_state)
            else:
                folds = (KFold if rare else StratifiedKFold)(n_splits=self.cv, shuffle=True,
                                                             random_state=self.random_state)
            scores, held = [], []
            for fit_idx, held_idx in folds.split(np.zeros(len(y)), y_idx):
                if len(np.unique(y_idx[fit_idx])) < 2:
                    continue
                fold_model = clone(base).fit(X[fit_idx], y_idx[fit_idx])
                seen = np.isin(y_idx[held_idx], fold_model.classes_)  # rows of a class the fold never saw
                if not seen.any():  # every held-out row's class is a singleton (an export's product names)
                    continue
                scores.append(self._fold_scores(fold_model, X[held_idx[seen]], len(self.classes_)))
                held.append(held_idx[seen])
            if held and sum(map(len, held)):
                self.temperature_ = fit_temperature(np.vstack(scores), y_idx[np.concatenate(held)])
        self.svc_ = clone(base).fit(X, y_idx)
        # kept as plain arrays: X @ coef.T is what decision_function computes, minus its input checks
        self.coef_ = np.asarray(self.svc_.coef_, dtype=np.float64)
        self.intercept_ = np.asarray(self.svc_.intercept_, dtype=np.float64)
        return self

    @staticmethod
    def _fold_scores(model: LinearSVC, X, n_classes: int) -> np.ndarray:
        """A fold model's scores in the full model's class columns; a class it never saw scores far below
        every class it did, so it takes no probability."""
        d = TemperatureScaledSVC._two_columns(model.decision_function(X), len(model.classes_))
        if len(model.classes_) == n_classes:
            return d
        full = np.full((d.shape[0], n_classes), (d.min() if d.size else 0.0) - 30.0)
        full[:, model.classes_] = d
        return full

    @staticmethod
    def _two_columns(d: np.ndarray, n_classes: int) -> np.ndarray:
        if n_classes == 2:  # binary SVC gives one margin: use it as the second class's score
            d = np.column_stack([-d / 2, d / 2])
        return d

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self, "coef_")
        d = np.asarray(X @ self.coef_.T) + self.intercept_
        return self._two_columns(d.ravel() if d.shape[1] == 1 else d, len(self.classes_))

    def __sklearn_tags__(self) -> Any:
        tags = super().__sklearn_tags__()
        tags.input_tags.sparse = True  # made for sparse text features
        return tags

    def predict_proba(self, X) -> np.ndarray:
        return softmax(self.decision_function(X) / self.temperature_, axis=1)

    def predict(self, X) -> np.ndarray:
        best = self.decision_function(X).argmax(axis=1)  # first: it says "not fitted" if so
        return self.classes_[best]
