"""The latest online predictions of one served version, and their drift, estimated performance and outlier
share against the version's reference profile: what the monitor loop, the drift route, the dashboard and the
drift report all read. Windows are read from the drift summaries (``skuflow.monitoring.summaries``), which
``summarize_served`` brings up to date off the request path."""

from __future__ import annotations

from typing import TYPE_CHECKING

from skuflow.monitoring import summaries
from skuflow.monitoring.drift import DriftPolicy, DriftReport, detect_drift
from skuflow.monitoring.novelty import NoveltyDetector
from skuflow.monitoring.prediction_log import PredictionLog
from skuflow.monitoring.profile import Profile
from skuflow.monitoring.summaries import Window

if TYPE_CHECKING:  # monitoring sits below the tasks: it calls a task's methods, never imports one
    from skuflow.tasks.base import Task

def latest_window(task: Task, plog: PredictionLog, version: int, window: int) -> Window:
    return summaries.read(task, plog, version, window)


def window_drift(task: Task, plog: PredictionLog, profile: Profile, version: int, window: int,
                 policy: DriftPolicy | None = None, latest: Window | None = None,
                 novelty: NoveltyDetector | None = None) -> DriftReport:
    """Drift of the latest ``window`` summarized online predictions of the served version against its
    profile, with the window's estimated performance (from the profile's calibration) and, given the
    version's ``novelty`` detector, its outlier share."""
    policy = policy or DriftPolicy()
    w = latest or latest_window(task, plog, version, window)
    report = detect_drift(profile, w.features, w.predictions, w.confidences, policy, model_version=version)
    if profile.performance is not None:
        report.add_performance(task.output.estimate(profile.performance, w.predictions, w.confidences), policy)
    if novelty is not None and w.novelty is not None and len(w.novelty):
        report.add_outliers(novelty.judge(w.novelty), policy)
    return report
