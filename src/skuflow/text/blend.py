"""A stacked blend of binary text classifiers: members fit on most of the training rows, a logistic
regression learns how much to trust each member's log-odds on the rest, and cheap members are refit on
every row afterwards."""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split

from skuflow.features.tabular import Table

log = logging.getLogger("skuflow.text")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _rows(X: Table, idx: np.ndarray) -> Table:
    return X.iloc[idx] if hasattr(X, "iloc") else [X[i] for i in idx]


class BlendClassifier(ClassifierMixin, BaseEstimator):
    """``members``: ``[(name, estimator), ...]``; ``refit``: names refit on all rows once the weights are
    known (the expensive fine-tuned encoder keeps its first fit)."""

    def __init__(self, members: list[tuple[str, Any]], refit: tuple[str, ...] = (), holdout: float = 0.15,
                 seed: int = 0) -> None:
        self.members = members
        self.refit = refit
        self.holdout = holdout
        self.seed = seed

    def fit(self, X: Table, y: Any) -> BlendClassifier:
        y = np.asarray(y).astype(str)
        self.classes_ = np.array(sorted(set(y.tolist())))
        if len(self.classes_) != 2:
            raise ValueError("the blend combines binary classifiers")
        idx = np.arange(len(y))
        fit_idx, hold_idx = train_test_split(idx, test_size=self.holdout, random_state=self.seed, stratify=y)
        self.fitted_: list[tuple[str, Any]] = []
        hold_logits = []
        self.member_seconds_: dict[str, float] = {}
        for name, est in self.members:
            t0 = time.perf_counter()
            model = clone(est).fit(_rows(X, fit_idx), y[fit_idx])
            hold_logits.append(_logit(self._positive(model, _rows(X, hold_idx))))
            self.fitted_.append((name, model))
            self.member_seconds_[name] = time.perf_counter() - t0
            log.info("blend member %s fitted in %.0fs", name, self.member_seconds_[name])
        stack = np.column_stack(hold_logits)
        self.stacker_ = LogisticRegression(C=1.0).fit(stack, y[hold_idx] == self.classes_[1])
        self.weights_ = dict(zip([n for n, _ in self.members], self.stacker_.coef_.ravel().tolist(), strict=True))
        log.info("blend weights %s", {k: round(v, 3) for k, v in self.weights_.items()})
        for i, (name, _) in enumerate(self.fitted_):
            if name in self.refit:
                t0 = time.perf_counter()
                self.fitted_[i] = (name, clone(dict(self.members)[name]).fit(X, y))
                self.member_seconds_[name] += time.perf_counter() - t0
        return self

    def _positive(self, model: Any, X: Table) -> np.ndarray:
        classes = [str(c) for c in model.classes_]
        return model.predict_proba(X)[:, classes.index(str(self.classes_[1]))]

    def member_proba(self, X: Table) -> dict[str, np.ndarray]:
        """Each member's probability of the positive class (for side-by-side reports)."""
        return {name: self._positive(model, X) for name, model in self.fitted_}

    def predict_proba(self, X: Table) -> np.ndarray:
        stack = np.column_stack([_logit(self._positive(m, X)) for _, m in self.fitted_])
        pos = self.stacker_.predict_proba(stack)[:, 1]
        return np.column_stack([1 - pos, pos])

    def predict(self, X: Table) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(1)]
