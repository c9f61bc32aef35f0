"""LinearSVC with probabilities from temperature scaling.

Sigmoid/isotonic calibration (``CalibratedClassifierCV``) re-fits per-class maps and can change which
class wins; on PriceRunner it cost 0.2-0.4 points of macro-F1. A single softmax temperature, fitted on
out-of-fold decision scores, leaves the SVM's argmax untouched and still gives honest confidences.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import minimize_scalar
from scipy.special import log_softmax, softmax
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.model_selection import StratifiedKFold
from sklearn.svm import LinearSVC
from sklearn.utils.validation import check_is_fitted


def fit_temperature(scores: np.ndarray, y_idx: np.ndarray) -> float:
    """The temperature T minimising the log loss of softmax(scores / T)."""

    def nll(log_t: float) -> float:
        logp = log_softmax(scores / np.exp(log_t), axis=1)
        return float(-logp[np.arange(len(y_idx)), y_idx].mean())

    res = minimize_scalar(nll, bounds=(-5.0, 5.0), method="bounded")
    return float(np.exp(res.x))


class TemperatureScaledSVC(ClassifierMixin, BaseEstimator):
    """One-vs-rest LinearSVC whose ``predict_proba`` is softmax(decision / T)."""

    def __init__(self, C: float = 1.0, max_iter: int = 5000, cv: int = 3, random_state: int = 0) -> None:
        self.C = C
        self.max_iter = max_iter
        self.cv = cv
        self.random_state = random_state

    def fit(self, X, y) -> TemperatureScaledSVC:
        y = np.asarray(y)
        self.classes_, y_idx = np.unique(y, return_inverse=True)
        base = LinearSVC(C=self.C, max_iter=self.max_iter)
        self.temperature_ = 1.0
        if self.cv >= 2:  # cv=0: no temperature (tuning trials are scored on the argmax, which it never moves)
            oof = np.zeros((len(y), len(self.classes_)), dtype=float)
            folds = StratifiedKFold(n_splits=self.cv, shuffle=True, random_state=self.random_state)
            for fit_idx, held_idx in folds.split(np.zeros(len(y)), y_idx):
                fold_model = clone(base).fit(X[fit_idx], y_idx[fit_idx])
                oof[held_idx] = self._scores(fold_model, X[held_idx], len(self.classes_))
            self.temperature_ = fit_temperature(oof, y_idx)
        self.svc_ = clone(base).fit(X, y_idx)
        # kept as plain arrays: X @ coef.T is what decision_function computes, minus its input checks
        self.coef_ = np.asarray(self.svc_.coef_, dtype=np.float64)
        self.intercept_ = np.asarray(self.svc_.intercept_, dtype=np.float64)
        return self

    @staticmethod
    def _scores(model: LinearSVC, X, n_classes: int) -> np.ndarray:
        return TemperatureScaledSVC._two_columns(model.decision_function(X), n_classes)

    @staticmethod
    def _two_columns(d: np.ndarray, n_classes: int) -> np.ndarray:
        if n_classes == 2:  # binary SVC gives one margin: use it as the second class's score
            d = np.column_stack([-d / 2, d / 2])
        return d

    def decision_function(self, X) -> np.ndarray:
        check_is_fitted(self, "coef_")
        d = np.asarray(X @ self.coef_.T) + self.intercept_
        return self._two_columns(d.ravel() if d.shape[1] == 1 else d, len(self.classes_))

    def predict_proba(self, X) -> np.ndarray:
        return softmax(self.decision_function(X) / self.temperature_, axis=1)

    def predict(self, X) -> np.ndarray:
        return self.classes_[self.decision_function(X).argmax(axis=1)]
