"""The Task plug-in interface and the registry of tasks by name.

A task declares its input record, its label, how to build its model and its primary metric.
Training, the registry, serving and batch scoring are generic over this interface.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Callable
from importlib.metadata import entry_points
from typing import Any, ClassVar

import numpy as np
import pandas as pd
from pydantic import BaseModel

from skuflow.errors import TaskNotFoundError
from skuflow.features.declared import DeclaredInputs
from skuflow.features.tabular import Table, column
from skuflow.tasks.outputs import Output, Predictions


class Task(ABC):
    """A model family. Subclasses set the class attributes and build the model."""

    name: ClassVar[str]
    label: ClassVar[str]
    output: ClassVar[Output]  # the kind of target: response, metrics and their direction, log, drift, batch
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
    def evaluate(self, model: Any, frame: pd.DataFrame) -> tuple[dict[str, float], dict[str, Any], Predictions]:
        """Metrics on labelled rows, artifacts (name -> matplotlib figure or JSON-able dict), and the rows'
        predictions (the reference profile reuses them)."""

    @abstractmethod
    def example_records(self, n: int = 2) -> list[dict[str, Any]]:
        """A few valid input records, for the signature, warm-up and docs."""

    # keys a training config's ``data`` section may add for this task (name -> what it means)
    data_options: ClassVar[dict[str, str]] = {}

    # what drift monitoring watches: columns of ``monitored_features`` by kind
    monitor_numeric: ClassVar[tuple[str, ...]] = ()
    monitor_categorical: ClassVar[tuple[str, ...]] = ()

    def monitored_features(self, X: Table) -> pd.DataFrame:
        """The columns drift is computed on (raw inputs and simple statistics of text or images)."""
        cols = {c: column(X, c) for c in (*self.monitor_numeric, *self.monitor_categorical)}
        return pd.DataFrame(cols)

    @abstractmethod
    def predict(self, model: Any, X: Table, top_k: int = 3) -> Predictions:
        """Predictions for rows (records or a frame). Online, batch, the gate and evaluation all call this."""

    def predict_rows(self, model: Any, frame: pd.DataFrame, top_k: int = 1) -> tuple[Predictions | None, pd.Series]:
        """Predictions for the rows that can be scored, in order, and for every row the reason it cannot be
        (None where it can). Batch scoring calls this, so one bad row keeps its reason instead of failing the
        rows beside it. Here: a required field missing or blank."""
        reason = pd.Series(None, index=frame.index, dtype=object)
        for col in self.required_fields:
            if col in frame:
                missing = frame[col].isna() | (frame[col].astype(str).str.strip() == "")
            else:
                missing = pd.Series(True, index=frame.index)
            reason = reason.where(~(missing & reason.isna()), f"{col}: missing value")
        valid = frame[reason.isna()]
        return (self.predict(model, valid, top_k=top_k) if len(valid) else None), reason

    @abstractmethod
    def score(self, model: Any, frame: pd.DataFrame) -> dict[str, float]:
        """Metrics on labelled rows without artifacts: what cross-validation computes on each fold."""

    def target(self, frame: pd.DataFrame) -> np.ndarray:
        """The label column as the model fits it (text classes, or numbers)."""
        return frame[self.label].astype(str).to_numpy()

    def read(self, source: str) -> pd.DataFrame:
        """Training rows from a path or URL (tables by default; image tasks read image folders)."""
        from skuflow.data.ingest import read_table

        return read_table(source)

    def validate(self, frame: pd.DataFrame, where: str = "data", config: Any = None,
                 features: dict[str, Any] | None = None) -> tuple[pd.DataFrame, Any]:
        """Valid rows and a ``ValidationReport`` counting every rejected row by reason (``config``: the
        training config's ``data`` section, for tasks that derive their label; ``features``: its
        ``features`` section, whose declared inputs are checked too)."""
        from skuflow.data.schema import validate_records

        declared = DeclaredInputs.of(features).check(self.record_model.model_fields)
        return validate_records(frame, self.required_fields, label=self.label, where=where, declared=declared)

    def strata(self, frame: pd.DataFrame) -> pd.Series:
        """What a random split stratifies on (the label, unless the task says otherwise)."""
        return frame[self.label]

    # the model family that learns from chunks of rows, for training partition by partition on a cluster
    # (``skuflow.training.partitioned``); None: this task trains in one process only
    chunked_kind: ClassVar[str | None] = None

    def default_model(self, frame: pd.DataFrame) -> tuple[str, dict[str, Any], str]:
        """The model family and parameters for a config that names none, chosen from the training rows, and
        why (the run logs it and the CLI prints it)."""
        return self.default_kind, {}, f"the {self.name} task's default"

    def search_space(self, model_config: dict[str, Any]) -> dict[str, dict[str, Any]]:
        """What tuning may change for this model family (dotted config path -> range or choices, see
        ``skuflow.tuning.space``); ``model_config`` is the config's ``model`` section with its ``kind``."""
        return {}

    def trial_settings(self, model_config: dict[str, Any]) -> dict[str, Any]:
        """Settings for tuning trials only, never for the best recipe: each trial runs on one Dask worker
        thread, so a family that would spread over every core is told to use one."""
        return {}

    # a task that writes content for a record (``generate``) gets generate routes and a dashboard panel
    can_generate: ClassVar[bool] = False

    def generate(self, model: Any, product: dict[str, Any], variants: int = 4, seed: int = 0) -> list[dict[str, Any]]:
        """Variants of generated content for one record, best first, each scored by ``model``."""
        raise NotImplementedError(f"task '{self.name}' does not generate content")

    def explain(self, model: Any, record: dict[str, Any], top: int = 10) -> dict[str, Any]:
        """The prediction for one record and the inputs that pushed it (``skuflow.evaluation.explain``);
        NotSupportedError (501) when the model has no exact explanation."""
        from skuflow.evaluation.explain import explain_record

        return explain_record(model, record, top)

    def importance(self, model: Any) -> dict[str, Any] | None:
        """What the model leans on overall, in the user's terms (None when it cannot say)."""
        from skuflow.evaluation.explain import global_importance

        return global_importance(model)

    def novelty_features(self, model: Any, X: Table) -> Any:
        """Rows in the space outliers are measured in (``skuflow.monitoring.novelty``), or None when the
        task has none: by default the features a pipeline's last step reads."""
        from skuflow.estimators.pipeline import is_pipeline, transform_features

        return transform_features(model, X) if is_pipeline(model) else None

    def inputs_of(self, model: Any) -> DeclaredInputs:
        """The catalogue attributes a fitted model was trained to read (``skuflow.features.declared``): the
        first pipeline step that declares any."""
        for _, step in getattr(model, "steps", ()):
            if hasattr(step, "declared_inputs"):
                return step.declared_inputs()
        return DeclaredInputs()

    def record_model_for(self, model: Any) -> type[BaseModel]:
        """The request model of a fitted model: the task's record with the model's declared inputs."""
        return self.inputs_of(model).record_model(self.record_model)

    def monitored_columns(self, model: Any) -> tuple[list[str], list[str]]:
        """(numeric, categorical) columns a model's drift profile watches: the task's and its declared ones."""
        declared = self.inputs_of(model)
        return [*self.monitor_numeric, *declared.numeric], [*self.monitor_categorical, *declared.categorical]

    def log_record(self, record: dict[str, Any]) -> dict[str, Any]:
        """What the prediction log keeps of an input (image tasks keep statistics, not pixels)."""
        return record

    def input_columns(self, model: Any = None) -> list[str]:
        """The columns a model reads (with ``model``, its declared inputs too)."""
        return list(self.record_model.model_fields) + (self.inputs_of(model).names if model is not None else [])


_REGISTRY: dict[str, Callable[[], Task]] = {}
_DISCOVERED = False
# the built-in tasks, as module:class (imported on first use, like plug-ins)
BUILTIN_TASKS = {"category": "skuflow.tasks.category:CategoryTask", "creative": "skuflow.tasks.creative:CreativeTask",
                 "returns": "skuflow.tasks.images:ReturnsTask", "engagement": "skuflow.tasks.images:EngagementTask",
                 "rating": "skuflow.tasks.rating:RatingTask"}


def register_task(name: str, factory: Callable[[], Task]) -> None:
    """Make a task available by name (users add their own through this or the ``skuflow.tasks``
    entry-point group). A task registered by hand wins over a built-in or plug-in of the same name."""
    _REGISTRY[name] = factory


def _import(target: str) -> Callable[[], Task]:
    import importlib

    module, _, attr = target.partition(":")
    return getattr(importlib.import_module(module), attr)


def _load_builtin_and_plugins() -> None:
    """Built-ins, then the entry points, once per process; neither replaces a task already registered."""
    global _DISCOVERED
    if _DISCOVERED:
        return
    for name, target in BUILTIN_TASKS.items():
        _REGISTRY.setdefault(name, _import(target))
    for ep in entry_points(group="skuflow.tasks"):
        if ep.name not in _REGISTRY:
            register_task(ep.name, ep.load())
    _DISCOVERED = True


def task_names() -> list[str]:
    _load_builtin_and_plugins()
    return sorted(_REGISTRY)


def get_task(name: str) -> Task:
    """The task registered under ``name``; unknown names raise ``TaskNotFoundError`` (404)."""
    _load_builtin_and_plugins()
    if name not in _REGISTRY:
        raise TaskNotFoundError(name, list(_REGISTRY))
    return _REGISTRY[name]()
