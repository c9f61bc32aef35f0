"""Everything shared by regression tasks: a number per row with a calibrated prediction interval, RMSE, MAE
and R², residual and predicted-vs-actual plots.

Intervals come from :class:`ConformalRegressor`, which wraps any regressor: the absolute residuals of rows
the model did not train on (out-of-fold, so every training row serves) set the half-width at the level
asked for. With exchangeable rows, a 90% interval covers about 90% of new rows, whatever the model.
"""

from __future__ import annotations

from typing import Any, ClassVar

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, RegressorMixin, clone
from sklearn.metrics import mean_absolute_error, mean_squared_error, r2_score
from sklearn.model_selection import KFold
from sklearn.utils.validation import check_is_fitted

from skuflow.estimators.inputs import labels_for
from skuflow.evidence import conformal_half_width
from skuflow.features.tabular import Table
from skuflow.tasks.base import Task
from skuflow.tasks.outputs import NumericPredictions, RegressionOutput


class ConformalRegressor(RegressorMixin, BaseEstimator):
    """``estimator`` refit on every row, its interval half-width the ``coverage`` quantile of ``folds``-fold
    out-of-fold absolute residuals (cross-conformal, "CV+" style with one width)."""

    def __init__(self, estimator: Any, coverage: float = 0.9, folds: int = 5, seed: int = 0,
                 clip: tuple[float, float] | None = None) -> None:
        self.estimator = estimator
        self.coverage = coverage
        self.folds = folds
        self.seed = seed
        self.clip = clip

    def fit(self, X: Table, y: Any) -> ConformalRegressor:
        y = labels_for(self, X, y).astype(float)
        frame = X if isinstance(X, pd.DataFrame) else pd.DataFrame(list(X))
        residuals = np.empty(len(y))
        for train_idx, held_idx in KFold(self.folds, shuffle=True, random_state=self.seed).split(frame):
            model = clone(self.estimator).fit(frame.iloc[train_idx], y[train_idx])
            residuals[held_idx] = np.abs(self._clipped(model.predict(frame.iloc[held_idx])) - y[held_idx])
        self.half_width_ = conformal_half_width(residuals, self.coverage)
        self.oof_rmse_ = float(np.sqrt(np.mean(residuals ** 2)))
        self.estimator_ = clone(self.estimator).fit(frame, y)
        return self

    def _clipped(self, values: np.ndarray) -> np.ndarray:
        return np.clip(values, *self.clip) if self.clip else np.asarray(values, dtype=float)

    def predict(self, X: Table) -> np.ndarray:
        check_is_fitted(self, "estimator_")
        return self._clipped(self.estimator_.predict(X))

    def predict_interval(self, X: Table) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Predictions and their interval's lower and upper ends."""
        values = self.predict(X)
        lower, upper = values - self.half_width_, values + self.half_width_
        if self.clip:
            lower, upper = np.clip(lower, *self.clip), np.clip(upper, *self.clip)
        return values, lower, upper


def regression_metrics(y_true: Any, y_pred: Any) -> dict[str, float]:
    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    return {"rmse": float(np.sqrt(mean_squared_error(y_true, y_pred))),
            "mae": float(mean_absolute_error(y_true, y_pred)),
            "r2": float(r2_score(y_true, y_pred)) if len(y_true) > 1 else float("nan")}


def residual_figures(y_true: np.ndarray, y_pred: np.ndarray, title: str) -> dict[str, Any]:
    """Predicted against actual (a point per row, jittered where the truth is discrete) and residuals
    against the prediction."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    y_true, y_pred = np.asarray(y_true, dtype=float), np.asarray(y_pred, dtype=float)
    jitter = np.random.default_rng(0).uniform(-0.15, 0.15, len(y_true)) if len(np.unique(y_true)) <= 20 else 0.0
    fig1, ax = plt.subplots(figsize=(6, 5))
    ax.scatter(y_true + jitter, y_pred, s=4, alpha=0.3)
    lo, hi = float(min(y_true.min(), y_pred.min())), float(max(y_true.max(), y_pred.max()))
    ax.plot([lo, hi], [lo, hi], color="black", lw=1)
    ax.set_xlabel("actual")
    ax.set_ylabel("predicted")
    ax.set_title(f"{title}: predicted vs actual")
    fig1.tight_layout()
    fig2, ax = plt.subplots(figsize=(6, 4))
    ax.scatter(y_pred, y_true - y_pred, s=4, alpha=0.3)
    ax.axhline(0, color="black", lw=1)
    ax.set_xlabel("predicted")
    ax.set_ylabel("actual - predicted")
    ax.set_title(f"{title}: residuals")
    fig2.tight_layout()
    return {"predicted_vs_actual.png": fig1, "residuals.png": fig2}


class RegressionTask(Task):
    """A task whose model predicts a number for ``label``; its model may offer ``predict_interval``."""

    output: ClassVar[RegressionOutput] = RegressionOutput()  # type: ignore[misc]
    primary_metric: ClassVar[str] = "rmse"

    def target(self, frame: pd.DataFrame) -> np.ndarray:
        return pd.to_numeric(frame[self.label], errors="coerce").to_numpy(dtype=float)

    def strata(self, frame: pd.DataFrame) -> pd.Series:
        """Quantile bins of the target (a random split keeps its spread on both sides)."""
        values = pd.to_numeric(frame[self.label], errors="coerce")
        if values.nunique() <= 20:
            return values.astype(str)
        return pd.qcut(values, 10, labels=False, duplicates="drop").astype(str)

    def predict(self, model: Any, X: Table, top_k: int = 3) -> NumericPredictions:
        if hasattr(model, "predict_interval"):
            values, lower, upper = model.predict_interval(X)
            return NumericPredictions([float(v) for v in values], [float(v) for v in lower],
                                      [float(v) for v in upper])
        return NumericPredictions([float(v) for v in model.predict(X)])

    def score(self, model: Any, frame: pd.DataFrame) -> dict[str, float]:
        return regression_metrics(self.target(frame), self.predict(model, frame).numbers)

    def evaluate(self, model: Any,
                 frame: pd.DataFrame) -> tuple[dict[str, float], dict[str, Any], NumericPredictions]:
        preds = self.predict(model, frame)
        metrics, artifacts = self.evaluate_predictions(frame, preds)
        return metrics, artifacts, preds

    def evaluate_predictions(self, frame: pd.DataFrame,
                             preds: NumericPredictions) -> tuple[dict[str, float], dict[str, Any]]:
        """Metrics and plots from predictions already made (subclasses predict once)."""
        truth = self.target(frame)
        metrics = regression_metrics(truth, preds.numbers)
        if preds.lower is not None and preds.upper is not None:
            lower, upper = np.asarray(preds.lower), np.asarray(preds.upper)
            metrics["interval_coverage"] = float(np.mean((truth >= lower) & (truth <= upper)))
            metrics["interval_width"] = float(np.mean(upper - lower))
        return metrics, residual_figures(truth, np.asarray(preds.numbers), self.name)
