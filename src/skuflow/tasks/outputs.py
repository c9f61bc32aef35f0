"""What a task's prediction *is*: the output contract every generic layer goes through.

A task declares one ``output`` (classification or regression). The contract owns everything that depends on
the kind of target and nothing else: the fields of a response and its OpenAPI model, the metrics and which
way each one is better (the gate promotes on a higher macro-F1 and on a lower RMSE), what the prediction log
keeps of a prediction and how feedback scores it, the prediction's part of a drift profile, what Prometheus
observes (label sets bounded: classes are a task's fixed set, numbers go into a histogram, never a label),
the columns a batch writes and what its summary counts, and the paired-bootstrap inputs of the gate.

Training, the registry, the gate, serving, batch, monitoring, flows, the CLI and the dashboard call these;
none of them asks which task it is holding.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections import Counter
from dataclasses import dataclass
from typing import Any, ClassVar

import numpy as np
import orjson
from pydantic import BaseModel, Field

from skuflow.evidence import paired_bootstrap, paired_bootstrap_labels, paired_bootstrap_values


class Predictions(ABC):
    """Predictions for a batch of rows, in the shape of their output kind."""

    @property
    @abstractmethod
    def values(self) -> list[Any]:
        """One value per row: what the log stores, batch writes and an experiment compares."""

    def __len__(self) -> int:
        return len(self.values)

    @abstractmethod
    def bodies(self) -> list[dict[str, Any]]:
        """Each row's response fields (``prediction`` first); the route adds model, version, request id."""

    @abstractmethod
    def columns(self) -> dict[str, list[Any]]:
        """Batch output columns, ``prediction`` first."""

    @abstractmethod
    def logged(self) -> list[tuple[str, float | None]]:
        """What the prediction log keeps of each row: the prediction as text and a score (confidence)."""

    @abstractmethod
    def take(self, start: int, stop: int) -> Predictions:
        """Rows ``start:stop`` (a micro-batch answering several requests is split back)."""

    @abstractmethod
    def add_to_profile(self, profile: Any) -> None:
        """Put the predictions into a reference profile, in the form their drift is measured."""

    @abstractmethod
    def headline(self, i: int) -> dict[str, str]:
        """Row ``i`` as a few named figures for a person (the dashboard's prediction panel)."""

    def chart(self, i: int) -> dict[str, float] | None:
        """Row ``i`` as bars worth drawing (class probabilities), or None."""
        return None


@dataclass
class ClassPredictions(Predictions):
    """Labels, their probability and the top-k per row; for category paths (``skuflow.label_paths``) also
    each level of the predicted path with its marginal probability."""

    labels: list[str]
    confidences: list[float]
    top_k: list[list[tuple[str, float]]]
    levels: list[list[tuple[str, float]]] | None = None

    @property
    def values(self) -> list[Any]:
        return self.labels

    def bodies(self) -> list[dict[str, Any]]:
        out = [{"prediction": label, "confidence": conf,
                "top_k": [{"label": lab, "probability": p} for lab, p in top]}
               for label, conf, top in zip(self.labels, self.confidences, self.top_k, strict=True)]
        if self.levels is not None:
            for body, levels in zip(out, self.levels, strict=True):
                body["path"] = [name for name, _ in levels]
                body["levels"] = [{"level": d, "label": name, "confidence": p}
                                  for d, (name, p) in enumerate(levels, start=1)]
        return out

    def columns(self) -> dict[str, list[Any]]:
        out: dict[str, list[Any]] = {"prediction": self.labels, "confidence": self.confidences}
        for d in range(self.depth):
            out[f"level_{d + 1}"] = [row[d][0] if d < len(row) else None for row in self.levels or []]
            out[f"level_{d + 1}_confidence"] = [row[d][1] if d < len(row) else None for row in self.levels or []]
        return out

    @property
    def depth(self) -> int:
        return max((len(row) for row in self.levels), default=0) if self.levels else 0

    def logged(self) -> list[tuple[str, float | None]]:
        return list(zip(self.labels, self.confidences, strict=True))

    def take(self, start: int, stop: int) -> ClassPredictions:
        return ClassPredictions(self.labels[start:stop], self.confidences[start:stop], self.top_k[start:stop],
                                self.levels[start:stop] if self.levels is not None else None)

    def headline(self, i: int) -> dict[str, str]:
        out = {"Prediction": self.labels[i], "Confidence": f"{self.confidences[i]:.1%}"}
        for d, (name, p) in enumerate(self.levels[i] if self.levels else [], start=1):
            out[f"Level {d}"] = f"{name} ({p:.1%})"
        return out

    def chart(self, i: int) -> dict[str, float] | None:
        return {label: p for label, p in self.top_k[i]}

    def add_to_profile(self, profile: Any) -> None:
        """The class mix (chi-squared / Jensen-Shannon) and the confidences (KS / PSI on fixed deciles); for
        paths also the mix at each level above the leaf (a shift between departments shows there first)."""
        from skuflow.label_paths import PREDICTION_LEVEL, level_labels
        from skuflow.monitoring.profile import CONFIDENCE_EDGES, categorical_profile, numeric_profile

        profile.categorical["prediction"] = categorical_profile(self.labels)
        profile.numeric["confidence"] = numeric_profile(np.asarray(self.confidences), edges=CONFIDENCE_EDGES[1:-1])
        for d in range(1, self.depth):
            profile.categorical[f"{PREDICTION_LEVEL}{d}"] = categorical_profile(level_labels(self.labels, d))


@dataclass
class NumericPredictions(Predictions):
    """A number per row and, when the model was calibrated, a prediction interval around it."""

    numbers: list[float]
    lower: list[float] | None = None
    upper: list[float] | None = None

    @property
    def values(self) -> list[Any]:
        return self.numbers

    def bodies(self) -> list[dict[str, Any]]:
        if self.lower is None or self.upper is None:
            return [{"prediction": v, "interval": None} for v in self.numbers]
        return [{"prediction": v, "interval": [lo, hi]}
                for v, lo, hi in zip(self.numbers, self.lower, self.upper, strict=True)]

    def columns(self) -> dict[str, list[Any]]:
        nan = [float("nan")] * len(self.numbers)
        return {"prediction": self.numbers, "lower": self.lower or nan, "upper": self.upper or nan}

    def logged(self) -> list[tuple[str, float | None]]:
        return [(repr(float(v)), None) for v in self.numbers]

    def take(self, start: int, stop: int) -> NumericPredictions:
        def cut(xs: list[float] | None) -> list[float] | None:
            return xs[start:stop] if xs is not None else None

        return NumericPredictions(self.numbers[start:stop], cut(self.lower), cut(self.upper))

    def headline(self, i: int) -> dict[str, str]:
        out = {"Prediction": f"{self.numbers[i]:.3g}"}
        if self.lower is not None and self.upper is not None:
            out["Interval"] = f"{self.lower[i]:.3g} to {self.upper[i]:.3g}"
        return out

    def add_to_profile(self, profile: Any) -> None:
        """The predicted values as a numeric column (KS on small windows, PSI on large ones)."""
        from skuflow.monitoring.profile import numeric_profile

        profile.numeric["prediction"] = numeric_profile(np.asarray(self.numbers, dtype=float))


class TopK(BaseModel):
    label: str
    probability: float


class Level(BaseModel):
    level: int = Field(description="1 = the top of the tree")
    label: str
    confidence: float = Field(description="probability mass of every path under this node")


class ClassAnswer(BaseModel):
    prediction: str = Field(description="the class; for category paths the whole path, levels joined by ' > '")
    confidence: float
    top_k: list[TopK]
    path: list[str] | None = Field(None, description="category paths: the predicted path's levels")
    levels: list[Level] | None = Field(None, description="category paths: each level with its confidence")
    model: str
    version: int
    request_id: str


class NumberAnswer(BaseModel):
    prediction: float
    interval: list[float] | None = None
    model: str
    version: int
    request_id: str


class Output(ABC):
    """The contract of one kind of target (see the module docstring)."""

    kind: ClassVar[str]
    answer_model: ClassVar[type[BaseModel]]
    # every metric the kind reports, and whether more is better; the gate and the CLI read this
    metrics: ClassVar[dict[str, bool]]
    # the metric a feedback window reports (live accuracy, live RMSE)
    live_metric: ClassVar[str]

    @abstractmethod
    def agree(self, a: Any, b: Any) -> bool:
        """Two predictions count as the same answer (a shadow's agreement; a hit, for feedback)."""

    def format_live(self, value: float) -> str:
        """The live metric as a person reads it."""
        return f"{value:.4g}"

    def higher_is_better(self, metric: str) -> bool:
        return self.metrics.get(metric, True)

    def headline(self, primary: str) -> list[str]:
        """The metrics a one-line summary prints (the primary one first)."""
        return [primary, *[m for m in self.metrics if m != primary][:1]]

    @abstractmethod
    def gain(self, task: Any, metric: str, champion: Any, challenger: Any, rows: Any, *, confidence: float,
             resamples: int, seed: int) -> Any:
        """The challenger's paired-bootstrap gain over the champion on ``rows`` (a ``Gain``; positive is
        better whichever way the metric points). Exceptions from the champion's predict propagate: the
        gate tells an outage from changed inputs."""

    def performance_reference(self, preds: Predictions, truth: list[Any]) -> dict[str, Any] | None:
        """What estimating a window's performance without labels needs of held-out rows, or None when the
        kind has no estimator."""
        return None

    def estimate(self, reference: dict[str, Any], predictions: list[Any],
                 confidences: list[float]) -> dict[str, Any] | None:
        """A window's expected metrics from its logged predictions alone (see ``performance_reference``)."""
        return None

    @abstractmethod
    def predictions_from_log(self, values: list[str]) -> list[Any]:
        """Logged prediction texts back as values."""

    @abstractmethod
    def live_score(self, predicted: list[str], truth: list[str]) -> float | None:
        """``live_metric`` of logged predictions against the truth feedback brought."""

    @abstractmethod
    def observe(self, metrics: Any, task: str, version: int, preds: Predictions, variant: str) -> None:
        """Prometheus observations of a batch of predictions."""

    @abstractmethod
    def summary(self, values: list[Any]) -> dict[str, Any]:
        """What a batch job reports of everything it predicted (class counts, or value statistics)."""

    @abstractmethod
    def summary_metrics(self, summary: dict[str, Any]) -> dict[str, float]:
        """A job's summary as MLflow metrics (class shares; mean and spread)."""

    def merge_summaries(self, parts: list[dict[str, Any]]) -> dict[str, Any]:
        """Partition summaries into the job's (counts add up)."""
        total: Counter = Counter()
        for p in parts:
            total.update(p)
        return dict(total)

    # -- Open Inference Protocol (V2) tensors -------------------------------------------------------
    def answer_depth(self, model: Any) -> int:
        """The ``top_k`` an answer needs for its tensors to be whole (every class's probability)."""
        return 1

    @abstractmethod
    def tensors(self, bodies: list[dict[str, Any]], model: Any) -> list[dict[str, Any]]:
        """Answer bodies (from ``answer_depth`` classes) as output tensors with their data, row-major."""


class ClassificationOutput(Output):
    kind = "classification"
    answer_model = ClassAnswer
    metrics = {"accuracy": True, "macro_f1": True, "roc_auc": True, "roc_auc_ovr": True}
    live_metric = "accuracy"

    def gain(self, task: Any, metric: str, champion: Any, challenger: Any, rows: Any, *, confidence: float,
             resamples: int, seed: int) -> Any:
        if metric in ("accuracy", "macro_f1"):  # labels suffice: no rows x classes matrix for big trees
            return paired_bootstrap_labels(metric, rows[task.label].astype(str).tolist(),
                                           task.predict_labels(champion, rows), task.predict_labels(challenger, rows),
                                           confidence=confidence, resamples=resamples, seed=seed)
        champ_proba = task.predict_proba(champion, rows)
        return paired_bootstrap(metric, rows[task.label].astype(str).tolist(), champ_proba,
                                [str(c) for c in champion.classes_], task.predict_proba(challenger, rows),
                                [str(c) for c in challenger.classes_], confidence=confidence,
                                resamples=resamples, seed=seed)

    def agree(self, a: Any, b: Any) -> bool:
        return str(a) == str(b)

    def performance_reference(self, preds: Predictions, truth: list[Any]) -> dict[str, Any] | None:
        """The confidences calibrated against being right (confidence-based performance estimation)."""
        from skuflow.monitoring.estimate import fit_reference

        assert isinstance(preds, ClassPredictions)
        truth = [str(t) for t in truth]
        classes = sorted(set(truth) | set(preds.labels))
        return fit_reference(preds.labels, preds.confidences, truth, classes).to_dict()

    def estimate(self, reference: dict[str, Any], predictions: list[Any],
                 confidences: list[float]) -> dict[str, Any] | None:
        from skuflow.monitoring.estimate import PerformanceReference, estimate

        return estimate(PerformanceReference.from_dict(reference), [str(p) for p in predictions], confidences)

    def format_live(self, value: float) -> str:
        return f"{value:.1%}"

    def predictions_from_log(self, values: list[str]) -> list[Any]:
        return list(values)

    def live_score(self, predicted: list[str], truth: list[str]) -> float | None:
        if not predicted:
            return None
        return sum(p == t for p, t in zip(predicted, truth, strict=True)) / len(predicted)

    def observe(self, metrics: Any, task: str, version: int, preds: Predictions, variant: str) -> None:
        assert isinstance(preds, ClassPredictions)
        metrics.observe_classes(task, version, preds.labels, preds.confidences, variant)

    def summary(self, values: list[Any]) -> dict[str, Any]:
        return dict(Counter(values))

    def summary_metrics(self, summary: dict[str, Any]) -> dict[str, float]:
        total = max(1, sum(summary.values()))
        return {f"class_share.{k}": v / total for k, v in summary.items()}

    @staticmethod
    def _classes(model: Any) -> list[str]:
        return [str(c) for c in getattr(model, "classes_", ())]

    def answer_depth(self, model: Any) -> int:
        return max(1, len(self._classes(model)))

    def tensors(self, bodies: list[dict[str, Any]], model: Any) -> list[dict[str, Any]]:
        """``label`` (BYTES), its ``probability`` (FP32) and ``probabilities`` (FP32, rows x classes, the class
        names in the tensor's parameters as a JSON list)."""
        classes, n = self._classes(model), len(bodies)
        matrix: list[float] = []
        for body in bodies:
            row = {t["label"]: t["probability"] for t in body["top_k"]}
            matrix.extend(float(row.get(c, 0.0)) for c in classes)
        return [{"name": "label", "datatype": "BYTES", "shape": [n], "data": [b["prediction"] for b in bodies]},
                {"name": "probability", "datatype": "FP32", "shape": [n],
                 "data": [float(b["confidence"]) for b in bodies]},
                {"name": "probabilities", "datatype": "FP32", "shape": [n, len(classes)], "data": matrix,
                 "parameters": {"classes": orjson.dumps(classes).decode()}}]


class RegressionOutput(Output):
    kind = "regression"
    answer_model = NumberAnswer
    metrics = {"rmse": False, "mae": False, "r2": True}
    live_metric = "rmse"

    def __init__(self, tolerance: float = 0.5) -> None:
        self.tolerance = tolerance  # predictions this close are one answer (a shadow agrees; feedback hits)

    def agree(self, a: Any, b: Any) -> bool:
        try:
            return abs(float(a) - float(b)) <= self.tolerance
        except (TypeError, ValueError):
            return False

    def gain(self, task: Any, metric: str, champion: Any, challenger: Any, rows: Any, *, confidence: float,
             resamples: int, seed: int) -> Any:
        champ = task.predict(champion, rows).values
        return paired_bootstrap_values(metric, rows[task.label].to_numpy(dtype=float), np.asarray(champ),
                                       np.asarray(task.predict(challenger, rows).values), confidence=confidence,
                                       resamples=resamples, seed=seed)

    def predictions_from_log(self, values: list[str]) -> list[Any]:
        return [float(v) for v in values]

    def live_score(self, predicted: list[str], truth: list[str]) -> float | None:
        pairs = [(float(p), float(t)) for p, t in zip(predicted, truth, strict=True) if _number(t)]
        if not pairs:
            return None
        err = np.array([p - t for p, t in pairs])
        return float(np.sqrt(np.mean(err ** 2)))

    def observe(self, metrics: Any, task: str, version: int, preds: Predictions, variant: str) -> None:
        metrics.observe_values(task, version, [float(v) for v in preds.values], variant)

    def summary(self, values: list[Any]) -> dict[str, Any]:
        v = np.asarray(values, dtype=float)
        if not len(v):
            return {"rows": 0}
        return {"rows": int(len(v)), "sum": float(v.sum()), "sum_sq": float((v ** 2).sum()),
                "min": float(v.min()), "max": float(v.max())}

    def summary_metrics(self, summary: dict[str, Any]) -> dict[str, float]:
        return {f"prediction.{k}": float(v) for k, v in summary.items() if k != "rows"}

    def tensors(self, bodies: list[dict[str, Any]], model: Any) -> list[dict[str, Any]]:
        """``prediction`` (FP32) and, from a model with intervals, ``lower`` and ``upper``."""
        out = [{"name": "prediction", "datatype": "FP32", "shape": [len(bodies)],
                "data": [float(b["prediction"]) for b in bodies]}]
        if bodies and all(b.get("interval") for b in bodies):
            for i, name in enumerate(("lower", "upper")):
                out.append({"name": name, "datatype": "FP32", "shape": [len(bodies)],
                            "data": [float(b["interval"][i]) for b in bodies]})
        return out

    def merge_summaries(self, parts: list[dict[str, Any]]) -> dict[str, Any]:
        parts = [p for p in parts if p.get("rows")]
        if not parts:
            return {"rows": 0}
        rows = sum(p["rows"] for p in parts)
        mean = sum(p["sum"] for p in parts) / rows
        var = max(0.0, sum(p["sum_sq"] for p in parts) / rows - mean ** 2)
        return {"rows": rows, "mean": mean, "sd": var ** 0.5, "min": min(p["min"] for p in parts),
                "max": max(p["max"] for p in parts)}


def _number(text: str) -> bool:
    try:
        float(text)
    except (TypeError, ValueError):
        return False
    return True
