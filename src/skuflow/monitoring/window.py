"""The latest online predictions of one served version, and their drift, estimated performance and outlier
share against the version's reference profile: what the monitor loop, the drift route, the dashboard and the
drift report all read."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pandas as pd

from skuflow.monitoring.drift import DriftPolicy, DriftReport, detect_drift
from skuflow.monitoring.novelty import NoveltyDetector
from skuflow.monitoring.prediction_log import PredictionLog, decode_features
from skuflow.monitoring.profile import Profile, monitored_frame

if TYPE_CHECKING:  # monitoring sits below the tasks: it calls a task's methods, never imports one
    from skuflow.tasks.base import Task


@dataclass
class Window:
    """The latest online predictions of one served version, as drift reads them."""

    features: pd.DataFrame
    predictions: list[str]
    confidences: list[float]
    records: list[dict[str, Any]] = field(default_factory=list)  # the inputs as logged


def latest_window(task: Task, plog: PredictionLog, version: int, window: int) -> Window:
    frame = plog.window(task.name, last=window, model_version=version)
    if frame.empty:
        return Window(task.monitored_features([]), [], [])
    records = decode_features(frame)
    return Window(monitored_frame(task, records), task.output.predictions_from_log(frame["prediction"].tolist()),
                  frame["confidence"].astype(float).tolist(), records)


def window_drift(task: Task, plog: PredictionLog, profile: Profile, version: int, window: int,
                 policy: DriftPolicy | None = None, latest: Window | None = None, model: Any = None,
                 novelty: NoveltyDetector | None = None) -> DriftReport:
    """Drift of the latest ``window`` online predictions of the served version against its profile, with
    the window's estimated performance (from the profile's calibration) and, given the served ``model`` and
    its ``novelty`` detector, its outlier share."""
    policy = policy or DriftPolicy()
    w = latest or latest_window(task, plog, version, window)
    report = detect_drift(profile, w.features, w.predictions, w.confidences, policy, model_version=version)
    if profile.performance is not None:
        report.add_performance(task.output.estimate(profile.performance, w.predictions, w.confidences), policy)
    if model is not None and novelty is not None and w.records:
        report.add_outliers(novelty.window(task.novelty_features(model, w.records)), policy)
    return report
