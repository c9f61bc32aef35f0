"""Drift statistics: pure functions of a reference profile and a current window.

Policy (from Evidently's and NannyML's users' complaints):
- small windows (<= ``small_sample`` rows): two-sample KS for numeric columns and a chi-squared
  contingency test for categorical ones, each at alpha / number-of-columns (Bonferroni), so that the
  dataset-level false-alarm rate stays at alpha;
- large windows: p-values call every tiny difference significant, so effect sizes decide instead —
  PSI (0.1 warn, 0.2 alert) for numeric columns, Jensen-Shannon distance (0.1) for categorical ones.
- The effect size (PSI, normed Wasserstein, JS distance) is reported in both regimes.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd
from scipy import stats
from scipy.spatial.distance import jensenshannon

from skuflow.label_paths import PREDICTION_LEVEL, level_labels
from skuflow.monitoring.profile import (
    MISSING,
    OTHER,
    CategoricalProfile,
    NumericProfile,
    Profile,
    as_categories,
    bin_shares,
)

EPS = 1e-4


@dataclass(frozen=True)
class DriftPolicy:
    alpha: float = 0.05
    small_sample: int = 5000
    psi_warn: float = 0.1
    psi_alert: float = 0.2
    js_alert: float = 0.1
    min_rows: int = 100
    # beyond column drift, a window alarms when its estimated accuracy falls this far below the held-out
    # accuracy (0 = never) or when it holds more outliers than the 1% rate allows
    estimated_drop_alert: float = 0.05
    outlier_alert: bool = True

    @classmethod
    def from_settings(cls, settings: Any) -> DriftPolicy:
        return cls(estimated_drop_alert=settings.estimated_drop_alert, outlier_alert=settings.outlier_alert)


@dataclass
class ColumnDrift:
    column: str
    kind: str
    method: str
    effect: float
    effect_name: str
    p_value: float | None
    threshold: float
    drifted: bool
    severity: str
    n_ref: int
    n_cur: int
    extra: dict[str, float] = field(default_factory=dict)


@dataclass
class DriftReport:
    task: str
    n_rows: int
    columns: list[ColumnDrift]
    drifted: bool
    share_drifted: float
    model_version: int | None = None
    # expected metrics without labels (skuflow.monitoring.estimate) and the outlier share (.novelty)
    performance: dict[str, Any] | None = None
    outliers: dict[str, Any] | None = None
    alerts: list[str] = field(default_factory=list)  # why the window alarms besides drifted columns

    @property
    def alarm(self) -> bool:
        """Whether the window counts towards retraining: drifted columns, or an alert."""
        return self.drifted or bool(self.alerts)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self) | {"alarm": self.alarm}

    def add_performance(self, estimate: dict[str, Any] | None, policy: DriftPolicy) -> None:
        self.performance = estimate
        if estimate is None or estimate.get("accuracy_drop") is None:
            return
        drop = estimate["accuracy_drop"]
        if policy.estimated_drop_alert > 0 and estimate["n"] >= policy.min_rows and drop > policy.estimated_drop_alert:
            self.alerts.append(f"estimated accuracy {estimate['accuracy']:.1%} is {drop:.1%} below the held-out "
                               f"{estimate['reference_accuracy']:.1%} (alert above {policy.estimated_drop_alert:.1%})")

    def add_outliers(self, outliers: dict[str, Any] | None, policy: DriftPolicy) -> None:
        self.outliers = outliers
        if outliers and policy.outlier_alert and outliers["flagged"]:
            self.alerts.append(f"{outliers['share']:.1%} of rows are outliers, more than the "
                               f"{outliers['expected_share']:.0%} of held-out rows allows "
                               f"(p={outliers['p_value']:.1e})")

    def column(self, name: str) -> ColumnDrift:
        return next(c for c in self.columns if c.column == name)


def psi(ref_shares: np.ndarray, cur_shares: np.ndarray) -> float:
    r = np.clip(ref_shares, EPS, None)
    c = np.clip(cur_shares, EPS, None)
    return float(np.sum((c - r) * np.log(c / r)))


def normed_wasserstein(ref_sample: np.ndarray, cur: np.ndarray) -> float:
    """Wasserstein distance in units of the reference's standard deviation."""
    sd = float(np.std(ref_sample)) or 1.0
    return float(stats.wasserstein_distance(ref_sample, cur) / sd)


def numeric_drift(name: str, ref: NumericProfile, values: np.ndarray, policy: DriftPolicy,
                  alpha: float) -> ColumnDrift:
    cur = values[~np.isnan(values)]
    shares = bin_shares(cur, ref.edges)
    value_psi = psi(np.asarray(ref.shares), shares)
    sample = np.asarray(ref.sample)
    extra = {"psi": value_psi}
    if len(cur) and len(sample):
        extra["wasserstein_normed"] = normed_wasserstein(sample, cur if len(cur) <= 200_000 else
                                                         np.random.default_rng(0).choice(cur, 200_000))
    if len(cur) <= policy.small_sample and len(sample) >= 2 and len(cur) >= 2:
        ks = stats.ks_2samp(sample, cur)
        drifted = bool(ks.pvalue < alpha)
        return ColumnDrift(name, "numeric", "ks", float(ks.statistic), "ks_statistic", float(ks.pvalue), alpha,
                           drifted, "alert" if drifted else "ok", ref.n, len(cur), extra)
    severity = "alert" if value_psi >= policy.psi_alert else "warn" if value_psi >= policy.psi_warn else "ok"
    return ColumnDrift(name, "numeric", "psi", value_psi, "psi", None, policy.psi_warn, severity != "ok", severity,
                       ref.n, len(cur), extra)


def _aligned(ref: CategoricalProfile, values: pd.Series) -> tuple[list[str], np.ndarray, np.ndarray]:
    """Reference and current shares over the reference's categories; unseen values count as other."""
    known = [k for k in ref.frequencies if k != OTHER]
    cur = as_categories(values)
    cur = cur.where(cur.isin(known) | (cur == MISSING), OTHER)
    counts = cur.value_counts()
    cats = known + [OTHER]
    ref_shares = np.array([ref.frequencies.get(c, 0.0) for c in cats])
    cur_counts = np.array([float(counts.get(c, 0)) for c in cats])
    return cats, ref_shares, cur_counts


def categorical_drift(name: str, ref: CategoricalProfile, values: pd.Series, policy: DriftPolicy,
                      alpha: float, kind: str = "categorical") -> ColumnDrift:
    _, ref_shares, cur_counts = _aligned(ref, values)
    n_cur = int(cur_counts.sum())
    cur_shares = cur_counts / max(1, n_cur)
    js = float(jensenshannon(ref_shares + EPS, cur_shares + EPS, base=2))
    if n_cur <= policy.small_sample:
        # chi-squared on the 2 x k table, categories expected fewer than 5 times pooled into one
        ref_counts = ref_shares * ref.n
        expected_cur = ref_shares * n_cur
        rare = (expected_cur < 5) | (ref_counts < 5)
        table = np.vstack([ref_counts[~rare], cur_counts[~rare]])
        if rare.any():
            table = np.column_stack([table, [ref_counts[rare].sum(), cur_counts[rare].sum()]])
        table = table[:, table.sum(axis=0) > 0]
        if table.shape[1] >= 2:
            chi2, p, _, _ = stats.chi2_contingency(table, correction=False)
            drifted = bool(p < alpha)
            return ColumnDrift(name, kind, "chi2", js, "js_distance", float(p), alpha, drifted,
                               "alert" if drifted else "ok", ref.n, n_cur, {"chi2": float(chi2)})
    drifted = js >= policy.js_alert
    return ColumnDrift(name, kind, "jensen_shannon", js, "js_distance", None, policy.js_alert, drifted,
                       "alert" if drifted else "ok", ref.n, n_cur)


def detect_drift(profile: Profile, features: pd.DataFrame, predictions: list[Any] | None = None,
                 confidences: list[float] | None = None, policy: DriftPolicy | None = None,
                 model_version: int | None = None) -> DriftReport:
    """Compare a window (monitored feature columns, predictions, confidences) with the reference."""
    policy = policy or DriftPolicy()
    plan: list[tuple[str, str, Any, bool]] = []  # column, kind, values, numeric
    for col in profile.numeric:
        if col == "confidence":
            if confidences is not None:
                plan.append((col, "confidence", np.asarray(confidences, dtype=float), True))
        elif col == "prediction":  # a regression model's predicted values
            if predictions is not None:
                plan.append((col, "prediction", pd.to_numeric(pd.Series(predictions), errors="coerce")
                             .to_numpy(dtype=float), True))
        elif col in features:
            plan.append((col, "numeric", pd.to_numeric(features[col], errors="coerce").to_numpy(dtype=float), True))
    for col in profile.categorical:
        if col == "prediction":
            if predictions is not None:
                plan.append((col, "prediction", pd.Series(predictions), False))
        elif col.startswith(PREDICTION_LEVEL):  # one level of predicted category paths
            if predictions is not None:
                depth = int(col.removeprefix(PREDICTION_LEVEL))
                plan.append((col, "prediction", pd.Series(level_labels([str(p) for p in predictions], depth)),
                             False))
        elif col in features:
            plan.append((col, "categorical", features[col], False))
    alpha = policy.alpha / max(1, len(plan))  # Bonferroni: the dataset-level false-alarm rate is alpha
    columns: list[ColumnDrift] = []
    for col, kind, values, numeric in plan:
        if numeric:
            d = numeric_drift(col, profile.numeric[col], values, policy, alpha)
            d.kind = kind
        else:
            d = categorical_drift(col, profile.categorical[col], values, policy, alpha, kind=kind)
        columns.append(d)
    n_drifted = sum(c.drifted for c in columns)
    enough = len(features) >= policy.min_rows
    return DriftReport(profile.task, len(features), columns, bool(enough and n_drifted > 0),
                       n_drifted / max(1, len(columns)), model_version)


def window_figures(report: DriftReport) -> dict[str, float]:
    """A window's estimated metrics and outlier share as flat figures (MLflow metrics, the CLI's JSON)."""
    out: dict[str, float] = {}
    for key in ("accuracy", "macro_f1", "accuracy_drop"):
        value = (report.performance or {}).get(key)
        if value is not None:
            out[f"estimated.{key}"] = float(value)
    if report.outliers:
        out["outlier_share"] = float(report.outliers["share"])
    return out
