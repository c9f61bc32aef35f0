"""Cross-fitted, stacked blends of text models: binary classifiers (log-odds) and regressors.

The training rows are cut into disjoint stratified folds of ``holdout`` of the rows each; in each of
``rounds`` rounds every member fits on the rows outside one fold and predicts that fold. A logistic
regression learns, on the union of those held-out folds, how much to trust each member's log-odds. Then
cheap members (``refit``) are refit on every row, and the expensive ones (fine-tuned encoders) keep their
fold fits and predict as the mean log-odds of those copies: with several rounds, the copies together have
seen every row the stacker was not sure about, at the price of one fit per round, never a second pass.
"""

from __future__ import annotations

import logging
import time
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, RegressorMixin, clone
from sklearn.linear_model import LogisticRegression

from skuflow.evidence import conformal_half_width
from skuflow.features.tabular import Table

log = logging.getLogger("skuflow.text")


def _logit(p: np.ndarray) -> np.ndarray:
    p = np.clip(p, 1e-6, 1 - 1e-6)
    return np.log(p / (1 - p))


def _rows(X: Table, idx: np.ndarray) -> Table:
    return X.iloc[idx] if hasattr(X, "iloc") else [X[i] for i in idx]


def stratified_folds(y: np.ndarray, share: float, rounds: int, seed: int) -> list[np.ndarray]:
    """``rounds`` disjoint folds, each holding ``share`` of every class's rows (shuffled with ``seed``)."""
    if rounds < 1 or rounds * share > 1 + 1e-9:
        raise ValueError(f"{rounds} folds of {share:.0%} of the rows do not fit in the data")
    rng = np.random.default_rng(seed)
    folds: list[list[np.ndarray]] = [[] for _ in range(rounds)]
    for cls in np.unique(y):
        idx = rng.permutation(np.flatnonzero(y == cls))
        size = max(1, int(round(share * len(idx))))
        for r in range(rounds):
            folds[r].append(idx[r * size:(r + 1) * size])
    return [np.sort(np.concatenate(f)) for f in folds]


def _reseeded(est: Any, offset: int) -> Any:
    """A fresh copy of ``est``; a seeded estimator gets its seed moved by ``offset`` (copies differ)."""
    model = clone(est)
    if offset and "seed" in model.get_params(deep=False):
        model.set_params(seed=int(model.get_params(deep=False)["seed"]) + offset)
    return model


def cross_fit(members: list[tuple[str, Any]], X: Table, y: np.ndarray, folds: list[np.ndarray],
              refit: tuple[str, ...], held_out: Any) -> tuple[np.ndarray, dict[str, list[Any]], dict[str, float]]:
    """Every member fitted on the rows outside each fold, ``held_out(model, rows)`` of the fold kept as its
    column of the out-of-fold matrix; the fold copies of members not in ``refit`` are kept. Returns the
    matrix, the copies and each member's fit seconds."""
    everyone = np.arange(len(y))
    oof = np.zeros((len(y), len(members)))
    copies: dict[str, list[Any]] = {name: [] for name, _ in members}
    seconds: dict[str, float] = {name: 0.0 for name, _ in members}
    for r, fold in enumerate(folds):
        fit_idx = np.setdiff1d(everyone, fold, assume_unique=True)
        for j, (name, est) in enumerate(members):
            t0 = time.perf_counter()
            model = _reseeded(est, r).fit(_rows(X, fit_idx), y[fit_idx])
            oof[fold, j] = held_out(model, _rows(X, fold))
            if name not in refit:
                copies[name].append(model)
            seconds[name] += time.perf_counter() - t0
            log.info("blend member %s, fold %d/%d, fitted in %.0fs", name, r + 1, len(folds),
                     time.perf_counter() - t0)
    return oof, copies, seconds


def refit_members(members: list[tuple[str, Any]], X: Table, y: np.ndarray, refit: tuple[str, ...],
                  copies: dict[str, list[Any]], seconds: dict[str, float]) -> list[tuple[str, list[Any]]]:
    """The cheap members refit on every row; each member with the models it predicts with."""
    for name, est in members:
        if name in refit:
            t0 = time.perf_counter()
            copies[name] = [clone(est).fit(X, y)]
            seconds[name] += time.perf_counter() - t0
    return [(name, copies[name]) for name, _ in members]


class BlendClassifier(ClassifierMixin, BaseEstimator):
    """``members``: ``[(name, estimator), ...]``; ``refit``: names refit on all rows once the weights are
    known; ``holdout``: each fold's share of the rows; ``rounds``: how many folds get their own fit."""

    def __init__(self, members: list[tuple[str, Any]], refit: tuple[str, ...] = (), holdout: float = 0.15,
                 rounds: int = 1, seed: int = 0) -> None:
        self.members = members
        self.refit = refit
        self.holdout = holdout
        self.rounds = rounds
        self.seed = seed

    def fit(self, X: Table, y: Any) -> BlendClassifier:
        y = np.asarray(y).astype(str)
        self.classes_ = np.array(sorted(set(y.tolist())))
        if len(self.classes_) != 2:
            raise ValueError("the blend combines binary classifiers")
        folds = stratified_folds(y, self.holdout, int(self.rounds), self.seed)
        held = np.concatenate(folds)
        oof, copies, self.member_seconds_ = cross_fit(self.members, X, y, folds, self.refit,
                                                      lambda model, rows: _logit(self._positive(model, rows)))
        self.stacker_ = LogisticRegression(C=1.0).fit(oof[held], y[held] == self.classes_[1])
        self.weights_ = dict(zip([n for n, _ in self.members], self.stacker_.coef_.ravel().tolist(), strict=True))
        log.info("blend weights %s on %d held-out rows", {k: round(v, 3) for k, v in self.weights_.items()},
                 len(held))
        self.fitted_ = refit_members(self.members, X, y, self.refit, copies, self.member_seconds_)
        return self

    def _positive(self, model: Any, X: Table) -> np.ndarray:
        classes = [str(c) for c in model.classes_]
        return model.predict_proba(X)[:, classes.index(str(self.classes_[1]))]

    def _member_logit(self, models: Any, X: Table) -> np.ndarray:
        if not isinstance(models, list):  # blends pickled before cross-fitting kept one model per member
            models = [models]
        return np.mean([_logit(self._positive(m, X)) for m in models], axis=0)

    def member_logits(self, X: Table) -> dict[str, np.ndarray]:
        """Each member's log-odds of the positive class (its copies averaged)."""
        return {name: self._member_logit(models, X) for name, models in self.fitted_}

    def proba_from_logits(self, logits: dict[str, np.ndarray]) -> np.ndarray:
        """The blend's class probabilities from ``member_logits`` (evaluation scores members and blend once)."""
        stack = np.column_stack([logits[name] for name, _ in self.fitted_])
        pos = self.stacker_.predict_proba(stack)[:, 1]
        return np.column_stack([1 - pos, pos])

    def predict_proba(self, X: Table) -> np.ndarray:
        return self.proba_from_logits(self.member_logits(X))

    def predict(self, X: Table) -> np.ndarray:
        return self.classes_[self.predict_proba(X).argmax(1)]


class BlendRegressor(RegressorMixin, BaseEstimator):
    """The same cross-fitted stacking for regressors: members predict held-out folds, a linear regression
    learns their weights on those predictions, cheap members are refit on every row and fine-tuned ones
    keep their fold copies (predicting as their mean). The stacked held-out residuals set a prediction
    interval (split-conformal: rows no member saw when it predicted them) at ``coverage``."""

    def __init__(self, members: list[tuple[str, Any]], refit: tuple[str, ...] = (), holdout: float = 0.15,
                 rounds: int = 1, coverage: float = 0.9, seed: int = 0) -> None:
        self.members = members
        self.refit = refit
        self.holdout = holdout
        self.rounds = rounds
        self.coverage = coverage
        self.seed = seed

    def fit(self, X: Table, y: Any) -> BlendRegressor:
        from sklearn.linear_model import LinearRegression

        y = np.asarray(y, dtype=float)
        # folds keep each target value's share (stars 1-5): round the target to stratify on it
        folds = stratified_folds(np.round(y).astype(int), self.holdout, int(self.rounds), self.seed)
        held = np.concatenate(folds)
        oof, copies, self.member_seconds_ = cross_fit(self.members, X, y, folds, self.refit,
                                                      lambda model, rows: model.predict(rows))
        self.range_ = (float(y.min()), float(y.max()))
        self.stacker_ = LinearRegression().fit(oof[held], y[held])
        self.weights_ = dict(zip([n for n, _ in self.members], self.stacker_.coef_.ravel().tolist(), strict=True))
        residuals = np.clip(self.stacker_.predict(oof[held]), *self.range_) - y[held]
        self.half_width_ = conformal_half_width(residuals, self.coverage)
        self.member_oof_rmse_ = {name: float(np.sqrt(np.mean((oof[held, j] - y[held]) ** 2)))
                                 for j, (name, _) in enumerate(self.members)}
        log.info("blend weights %s on %d held-out rows", {k: round(v, 3) for k, v in self.weights_.items()},
                 len(held))
        self.fitted_ = refit_members(self.members, X, y, self.refit, copies, self.member_seconds_)
        return self

    def member_predictions(self, X: Table) -> dict[str, np.ndarray]:
        """Each member's prediction (its copies averaged)."""
        return {name: np.mean([m.predict(X) for m in models], axis=0) for name, models in self.fitted_}

    def predict_from_members(self, members: dict[str, np.ndarray]) -> np.ndarray:
        stack = np.column_stack([members[name] for name, _ in self.fitted_])
        return np.clip(self.stacker_.predict(stack), *self.range_)

    def predict(self, X: Table) -> np.ndarray:
        return self.predict_from_members(self.member_predictions(X))

    def interval_from_members(self, members: dict[str, np.ndarray]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Predictions and interval ends from ``member_predictions`` (evaluation predicts with members once)."""
        values = self.predict_from_members(members)
        return (values, np.clip(values - self.half_width_, *self.range_),
                np.clip(values + self.half_width_, *self.range_))

    def predict_interval(self, X: Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        return self.interval_from_members(self.member_predictions(X))
