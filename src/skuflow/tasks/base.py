"""The Task plug-in interface and the registry of tasks by name.

A task declares its input record, its label, how to build its model and its primary metric.
Training, the registry, serving and batch scoring are generic over this interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from dataclasses import dataclass
from importlib.metadata import entry_points
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel
from sklearn.pipeline import Pipeline

from skuflow.errors import TaskNotFoundError
from skuflow.features.tabular import Table, column


@dataclass
class Predictions:
    """Class predictions for a batch of rows: labels, their probability and the top-k per row."""

    labels: list[str]
    confidences: list[float]
    top_k: list[list[tuple[str, float]]]


def predict_proba(model: Any, X: Table) -> np.ndarray:
    """``model.predict_proba(X)``, walking a pipeline's steps directly.

    sklearn's Pipeline spends ~80 us per call on metadata routing, a third of a one-row prediction.
    Steps without ``transform`` (imblearn samplers) only act during fit, as in imblearn's Pipeline.
    """
    if isinstance(model, Pipeline):
        for _, step in model.steps[:-1]:
            if step is not None and step != "passthrough" and hasattr(step, "transform"):
                X = step.transform(X)
        return np.asarray(model.steps[-1][1].predict_proba(X))
    return np.asarray(model.predict_proba(X))


def predict_classes(model: Any, X: Table, top_k: int = 3) -> Predictions:
    """Score rows with a fitted classifier pipeline. Online, batch and evaluation all call this."""
    return predictions_from_proba(predict_proba(model, X), model.classes_, top_k)


def predictions_from_proba(proba: np.ndarray, model_classes: Any, top_k: int = 3) -> Predictions:
    """Labels, confidences and top-k from a probability matrix whose columns follow ``model_classes``."""
    classes = [str(c) for c in model_classes]  # python strings: numpy str scalars are slow to build
    best = proba.argmax(axis=1)
    k = min(top_k, proba.shape[1])
    order = np.argsort(-proba, axis=1)[:, :k].tolist()
    rows = proba.tolist()
    return Predictions(
        labels=[classes[j] for j in best.tolist()],
        confidences=[rows[i][j] for i, j in enumerate(best.tolist())],
        top_k=[[(classes[j], rows[i][j]) for j in row] for i, row in enumerate(order)],
    )


class Task(ABC):
    """A model family. Subclasses set the class attributes and build the model."""

    name: ClassVar[str]
    label: ClassVar[str]
    required_fields: ClassVar[tuple[str, ...]]
    primary_metric: ClassVar[str]
    record_model: ClassVar[type[BaseModel]]
    description: ClassVar[str] = ""
    # "record": JSON fields in, "image": one image per row (multipart upload or base64 online)
    input_kind: ClassVar[str] = "record"
    default_kind: ClassVar[str] = ""  # the model family used when the config names none
    # distributions the logged model needs besides the core ones (pinned at their installed versions)
    pip_requirements: ClassVar[tuple[str, ...]] = ()

    @abstractmethod
    def build_model(self, model_config: dict[str, Any], feature_config: dict[str, Any]) -> Any:
        """Return an unfitted estimator that holds all preprocessing (sklearn ``Pipeline``)."""

    @abstractmethod
    def evaluate(self, model: Any,
                 frame: pd.DataFrame) -> tuple[dict[str, float], dict[str, Any], np.ndarray]:
        """Metrics on labelled rows, artifacts (name -> matplotlib figure or JSON-able dict), and the rows'
        class probabilities (columns as ``model.classes_``: the reference profile reuses them)."""

    @abstractmethod
    def example_records(self, n: int = 2) -> list[dict[str, Any]]:
        """A few valid input records, for the signature, warm-up and docs."""

    # what drift monitoring watches: columns of ``monitored_features`` by kind
    monitor_numeric: ClassVar[tuple[str, ...]] = ()
    monitor_categorical: ClassVar[tuple[str, ...]] = ()

    def monitored_features(self, X: Table) -> pd.DataFrame:
        """The columns drift is computed on (raw inputs and simple statistics of text or images)."""
        cols = {c: column(X, c) for c in (*self.monitor_numeric, *self.monitor_categorical)}
        return pd.DataFrame(cols)

    def predict(self, model: Any, X: Table, top_k: int = 3) -> Predictions:
        return predict_classes(model, X, top_k=top_k)

    def predict_proba(self, model: Any, X: Table) -> np.ndarray:
        """Class probabilities, columns as ``model.classes_`` (the gate and cross-validation score these)."""
        return predict_proba(model, X)

    def score(self, model: Any, frame: pd.DataFrame) -> dict[str, float]:
        """Metrics on labelled rows without artifacts: what cross-validation computes on each fold."""
        from skuflow.tasks.classification import classification_metrics

        classes = [str(c) for c in model.classes_]
        return classification_metrics(frame[self.label].astype(str).tolist(), self.predict_proba(model, frame),
                                      classes)

    def read(self, source: str) -> pd.DataFrame:
        """Training rows from a path or URL (tables by default; image tasks read image folders)."""
        from skuflow.data.ingest import read_table

        return read_table(source)

    def validate(self, frame: pd.DataFrame, where: str = "data", config: Any = None) -> tuple[pd.DataFrame, Any]:
        """Valid rows and a ``ValidationReport`` counting every rejected row by reason (``config``: the
        training config's ``data`` section, for tasks that derive their label)."""
        from skuflow.data.schema import validate_records

        return validate_records(frame, self.required_fields, label=self.label, where=where)

    def strata(self, frame: pd.DataFrame) -> pd.Series:
        """What a random split stratifies on (the label, unless the task says otherwise)."""
        return frame[self.label]

    def search_space(self, model_config: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """What tuning may change for this model family (dotted config path -> range or choices, see
        ``skuflow.tuning.space``); ``model_config`` is the config's ``model`` section with its ``kind``."""
        return {}

    def trial_settings(self, model_config: dict[str, Any]) -> dict[str, Any]:
        """Settings for tuning trials only, never for the best recipe: each trial runs on one Dask worker
        thread, so a family that would spread over every core is told to use one."""
        return {}

    def log_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """What the prediction log keeps of an input (image tasks keep statistics, not pixels)."""
        return record

    def input_columns(self) -> list[str]:
        return list(self.record_model.model_fields)


_REGISTRY: dict[str, Callable[[], Task]] = {}


def register_task(name: str, factory: Callable[[], Task]) -> None:
    """Make a task available by name (users add their own through this or the
    ``skuflow.tasks`` entry-point group)."""
    _REGISTRY[name] = factory


def _load_builtin_and_plugins() -> None:
    if "category" not in _REGISTRY:
        from skuflow.tasks.category import CategoryTask
        from skuflow.tasks.creative import CreativeTask
        from skuflow.tasks.images import EngagementTask, ReturnsTask

        register_task("category", CategoryTask)
        register_task("creative", CreativeTask)
        register_task("returns", ReturnsTask)
        register_task("engagement", EngagementTask)
    for ep in entry_points(group="skuflow.tasks"):
        if ep.name not in _REGISTRY:
            register_task(ep.name, ep.load())


def task_names() -> list[str]:
    _load_builtin_and_plugins()
    return sorted(_REGISTRY)


def get_task(name: str) -> Task:
    """The task registered under ``name``; unknown names raise ``TaskNotFoundError`` (404)."""
    _load_builtin_and_plugins()
    if name not in _REGISTRY:
        raise TaskNotFoundError(name, list(_REGISTRY))
    return _REGISTRY[name]()
