"""The drift report of a served champion: an HTML page of its latest predictions against its reference
profile, logged to MLflow with the window's figures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

from skuflow.errors import ModelNotFoundError
from skuflow.monitoring import summaries
from skuflow.monitoring.drift import DriftPolicy, window_figures
from skuflow.monitoring.novelty import NOVELTY_ARTIFACT, NoveltyDetector
from skuflow.monitoring.prediction_log import PredictionLog
from skuflow.monitoring.profile import Profile
from skuflow.monitoring.report import render_html
from skuflow.monitoring.window import latest_window, window_drift
from skuflow.registry.store import RegistryStore
from skuflow.settings import Settings

if TYPE_CHECKING:
    from skuflow.tasks.base import Task


def references(store: RegistryStore, name: str, version: int) -> tuple[Profile | None, NoveltyDetector | None]:
    """A version's reference profile and outlier detector, as training logged them (None: not logged)."""
    raw_profile = store.load_profile(name, version)
    raw_novelty = store.version_artifact(name, version, NOVELTY_ARTIFACT)
    return (Profile.from_dict(raw_profile) if raw_profile else None,
            NoveltyDetector.from_bytes(raw_novelty) if raw_novelty else None)


def write_drift_report(settings: Settings, task: Task, window: int, out: Path) -> dict[str, Any]:
    """Write the champion's drift report to ``out``, log it to MLflow, and return its summary."""
    store = RegistryStore(settings)
    champ = store.champion(task.name)
    if champ is None:
        raise ModelNotFoundError(f"Task '{task.name}' has no champion")
    profile, novelty = references(store, champ.name, champ.version)
    if profile is None:
        raise ModelNotFoundError(f"{champ.name} v{champ.version} has no reference profile")
    model = store.load_model(champ.name, champ.version)
    plog = PredictionLog(str(settings.prediction_log_url))
    try:
        summaries.summarize(task, plog, champ.version, profile, model, novelty)
        latest = latest_window(task, plog, champ.version, window)
        report = window_drift(task, plog, profile, champ.version, window, DriftPolicy.from_settings(settings),
                              latest=latest, novelty=novelty)
    finally:
        plog.close()
    out.write_text(render_html(report, profile, latest.features, latest.predictions, latest.confidences))
    with store.run(task.name, run_name=f"drift-{champ.name}-v{champ.version}") as run:
        run.set_tags({"skuflow.kind": "drift", "model_version": champ.version})
        run.log_metrics({"drifted": float(report.drifted), "share_drifted": report.share_drifted,
                         "rows": report.n_rows, "alarm": float(report.alarm),
                         **{f"effect.{c.column}": c.effect for c in report.columns}, **window_figures(report)})
        run.log_artifacts({"drift_report.json": report.to_dict()})
        run.log_file(str(out))
    return {"task": task.name, "model_version": champ.version, "rows": report.n_rows, "drifted": report.drifted,
            "drifted_columns": [c.column for c in report.columns if c.drifted], "alerts": report.alerts,
            **window_figures(report), "report": str(out), "run_id": run.run_id}
