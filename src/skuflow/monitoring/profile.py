"""Reference profiles: what a model's inputs, predictions and confidences looked like at training time.

Saved with every model version, so drift needs no training data at serving time. Numeric columns keep
decile bin edges, bin shares and a capped random sample (for the two-sample KS test); categorical columns
keep the frequencies of their most common values plus one bucket for the rest.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np
import pandas as pd

SAMPLE_CAP = 5000  # values kept per numeric column for KS; enough for windows up to the small-sample limit
TOP_K = 300  # categories kept per categorical column; the rest share one bucket
OTHER = "__other__"
MISSING = "__missing__"
CONFIDENCE_EDGES = [round(x, 1) for x in np.linspace(0.0, 1.0, 11)]


@dataclass
class NumericProfile:
    n: int
    edges: list[float]
    shares: list[float]
    sample: list[float]
    missing_share: float
    mean: float
    std: float


@dataclass
class CategoricalProfile:
    n: int
    frequencies: dict[str, float]


@dataclass
class Profile:
    task: str
    n_rows: int
    numeric: dict[str, NumericProfile] = field(default_factory=dict)
    categorical: dict[str, CategoricalProfile] = field(default_factory=dict)
    # the held-out calibration that estimates performance before labels arrive (skuflow.monitoring.estimate)
    performance: dict[str, Any] | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)

    @classmethod
    def from_dict(cls, raw: dict[str, Any]) -> Profile:
        return cls(task=raw["task"], n_rows=raw["n_rows"],
                   numeric={k: NumericProfile(**v) for k, v in raw.get("numeric", {}).items()},
                   categorical={k: CategoricalProfile(**v) for k, v in raw.get("categorical", {}).items()},
                   performance=raw.get("performance"))


def quantile_edges(values: np.ndarray, bins: int = 10) -> list[float]:
    """Inner edges of equal-frequency bins (duplicates removed: heavy ties make fewer bins)."""
    inner = np.quantile(values, np.linspace(0, 1, bins + 1)[1:-1])
    return sorted(set(float(x) for x in inner))


def bin_shares(values: np.ndarray, edges: list[float]) -> np.ndarray:
    counts = np.bincount(np.searchsorted(np.asarray(edges), values, side="right"), minlength=len(edges) + 1)
    return counts / max(1, len(values))


def numeric_profile(values: pd.Series | np.ndarray, edges: list[float] | None = None, seed: int = 0) -> NumericProfile:
    raw = np.asarray(pd.to_numeric(pd.Series(values), errors="coerce"), dtype=float)
    present = raw[~np.isnan(raw)]
    if edges is None:
        edges = quantile_edges(present) if len(present) else []
    rng = np.random.default_rng(seed)
    sample = present if len(present) <= SAMPLE_CAP else rng.choice(present, SAMPLE_CAP, replace=False)
    return NumericProfile(
        n=int(len(present)), edges=edges, shares=bin_shares(present, edges).tolist(),
        sample=[float(x) for x in sample], missing_share=float(np.isnan(raw).mean()) if len(raw) else 0.0,
        mean=float(present.mean()) if len(present) else 0.0, std=float(present.std()) if len(present) else 0.0)


def as_categories(values: pd.Series | np.ndarray | list) -> pd.Series:
    s = pd.Series(values, dtype=object)
    return s.where(s.notna(), MISSING).astype(str)


def categorical_profile(values: pd.Series | np.ndarray | list, top_k: int = TOP_K, min_count: int = 15,
                        seed: int = 0) -> CategoricalProfile:
    """Shares of the frequent values plus one bucket for the rest (and for values never seen).

    When some values must be pooled (high cardinality: sellers, brands), the frequent ones are chosen
    on one random half and their shares measured on the other: choosing and measuring on the same rows
    overstates the chosen values' shares (the winner's curse), and every fresh window would then look
    drifted.
    """
    s = as_categories(values)
    counts = s.value_counts()
    if len(counts) <= top_k and (counts >= min_count).all():
        measured = s
        keep = list(counts.index)
    else:
        order = np.random.default_rng(seed).permutation(len(s))
        choose, measured = s.iloc[order[: len(s) // 2]], s.iloc[order[len(s) // 2:]]
        chosen = choose.value_counts()
        keep = list(chosen[chosen >= min_count].index[:top_k])
    shares = measured.value_counts(normalize=True)
    freqs = {str(k): float(shares.get(k, 0.0)) for k in keep}
    rest = 1.0 - sum(freqs.values())
    if rest > 1e-12:
        freqs[OTHER] = rest
    return CategoricalProfile(n=int(len(measured)), frequencies=freqs)


def monitored_frame(task: Any, X: Any) -> pd.DataFrame:
    """The task's monitored features, beside every other input column as it came (a model's declared
    catalogue attributes are watched raw; a profile reads only the columns it holds)."""
    features = task.monitored_features(X)
    if isinstance(X, pd.DataFrame):
        extra = X[[c for c in X.columns if c not in features.columns]].reset_index(drop=True)
    else:
        names = dict.fromkeys(k for row in X for k in row if k not in features.columns)
        extra = pd.DataFrame({n: [row.get(n) for row in X] for n in names})
    return pd.concat([features.reset_index(drop=True), extra], axis=1) if len(extra.columns) else features


def build_profile(task: str, features: pd.DataFrame, numeric: list[str], categorical: list[str],
                  predictions: list[str] | None = None, confidences: list[float] | None = None) -> Profile:
    """Profile of monitored feature columns, plus a classifier's predictions and confidences when given
    (other kinds of output add their own columns: ``Predictions.add_to_profile``)."""
    prof = Profile(task=task, n_rows=len(features))
    for col in numeric:
        prof.numeric[col] = numeric_profile(features[col])
    for col in categorical:
        prof.categorical[col] = categorical_profile(features[col])
    if predictions is not None:
        prof.categorical["prediction"] = categorical_profile(predictions)
    if confidences is not None:
        prof.numeric["confidence"] = numeric_profile(np.asarray(confidences), edges=CONFIDENCE_EDGES[1:-1])
    return prof
