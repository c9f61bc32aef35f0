"""What the dashboard pages show, as frames and dicts: thin reads over the registry, the prediction
log and the drift code (no Streamlit here, so the same functions are testable and reusable)."""

from __future__ import annotations

import json
from typing import Any

import numpy as np
import pandas as pd

from skuflow.monitoring import summaries
from skuflow.monitoring.drift import DriftPolicy
from skuflow.monitoring.prediction_log import PredictionLog
from skuflow.monitoring.profile import Profile, bin_shares
from skuflow.monitoring.window import latest_window, window_drift
from skuflow.registry.aliases import evidence_columns
from skuflow.registry.store import RegistryStore
from skuflow.tasks.base import get_task, task_names


def served_tasks(store: RegistryStore) -> list[str]:
    """Tasks with a champion, in name order."""
    return [t for t in task_names() if store.champion(t) is not None]


def versions_frame(store: RegistryStore, task: str) -> pd.DataFrame:
    rows = []
    for v in store.versions(task):
        d = v.to_dict()
        rows.append({"version": v.version, "champion": "champion" in v.aliases,
                     "created": pd.Timestamp(v.created_at, unit="s").strftime("%Y-%m-%d %H:%M"),
                     **{k: round(m, 4) for k, m in d["metrics"].items() if not k.startswith(("f1.", "epoch."))},
                     **evidence_columns(json.loads(v.tags.get("skuflow.evidence") or "{}")),
                     "dataset": d["dataset_digest"]})
    return pd.DataFrame(rows)


def history_frame(store: RegistryStore, task: str) -> pd.DataFrame:
    """Every alias move, newest first, with the gate's evidence: gain, its interval and the rows compared."""
    rows = [{"time": e.get("time", ""), "action": e.get("action"), "from": e.get("from"), "to": e.get("to"),
             **evidence_columns(e.get("metrics") or {}), "reason": e.get("reason")} for e in store.audit(task)]
    return pd.DataFrame(rows[::-1])



EVALUATION_FIGURES = {"confusion_matrix.png": "confusion matrix", "roc_pr_curves.png": "ROC and precision-recall",
                      "reliability.png": "reliability", "importance.png": "what the model leans on",
                      "saliency.png": "where the model looks", "residuals.png": "residuals"}


def evaluation_view(store: RegistryStore, task: str, version: int) -> dict[str, Any]:
    """One version's evaluation as the Models page shows it: its figures (PNG bytes, test split) and the
    headline numbers read from their JSON data."""
    info = store.version(store.model_name(task), version)
    if not info.run_id:
        return {"version": version, "figures": {}, "summary": {}}
    figures = {caption: png for name, caption in EVALUATION_FIGURES.items()
               if (png := store.artifact_bytes(info.run_id, name))}
    summary: dict[str, Any] = {}
    raw = store.artifact_bytes(info.run_id, "roc_pr_curves.json")
    if raw:
        curves = json.loads(raw)
        summary.update({f"{avg} ROC-AUC": curves["roc"][avg]["auc"] for avg in ("macro", "micro")
                        if avg in curves["roc"]})
        summary.update({f"{avg} AP": curves["pr"][avg]["average_precision"] for avg in ("macro", "micro")
                        if avg in curves["pr"]})
    raw = store.artifact_bytes(info.run_id, "reliability.json")
    if raw:
        summary["ECE"] = json.loads(raw)["ece"]
    return {"version": version, "figures": figures, "summary": {k: round(v, 4) for k, v in summary.items()}}


def traffic(plog: PredictionLog, task: str, last: int = 5000, freq: str = "1min") -> pd.DataFrame:
    """Requests and latency (mean, p95) per time bucket from the prediction log."""
    frame = plog.window(task, last=last)
    if frame.empty:
        return pd.DataFrame(columns=["requests", "latency_ms_mean", "latency_ms_p95"])
    ts = pd.to_datetime(frame["ts"], unit="s").dt.floor(freq)
    grouped = frame.assign(bucket=ts).groupby("bucket")["latency_ms"]
    return pd.DataFrame({"requests": grouped.size(), "latency_ms_mean": grouped.mean(),
                         "latency_ms_p95": grouped.quantile(0.95)})


def prediction_mix(profile: Profile | None, predictions: list[Any]) -> pd.DataFrame:
    """Share of each predicted class, or of each bin of predicted values: reference (held-out rows at
    training) against live traffic."""
    if profile is not None and "prediction" in profile.numeric:
        ref_bins = profile.numeric["prediction"]
        edges = ref_bins.edges
        live_shares = bin_shares(pd.to_numeric(pd.Series(predictions), errors="coerce").dropna().to_numpy(), edges)
        bounds = [float("-inf"), *edges, float("inf")]
        names = [f"{lo:.3g} to {hi:.3g}" for lo, hi in zip(bounds[:-1], bounds[1:], strict=True)]
        return pd.DataFrame({"reference": ref_bins.shares, "live": live_shares}, index=names)
    live = pd.Series(predictions, dtype=object).value_counts(normalize=True)
    ref = pd.Series(profile.categorical["prediction"].frequencies) if profile and \
        "prediction" in profile.categorical else pd.Series(dtype=float)
    out = pd.DataFrame({"reference": ref, "live": live}).fillna(0.0)
    return out.drop(index=[i for i in out.index if str(i).startswith("__")], errors="ignore")


def confidence_histogram(confidences: list[float], bins: int = 10) -> pd.DataFrame | None:
    """Rows per confidence decile (None for outputs without a confidence, such as numbers)."""
    values = pd.to_numeric(pd.Series(confidences, dtype=object), errors="coerce").dropna()
    if values.empty:
        return None
    counts, edges = np.histogram(values.to_numpy(dtype=float), bins=bins, range=(0.0, 1.0))
    return pd.DataFrame({"rows": counts}, index=[f"{edges[i]:.1f}-{edges[i + 1]:.1f}" for i in range(bins)])


def monitoring(store: RegistryStore, plog: PredictionLog, task_name: str, window: int = 1000,
               served: Any = None, policy: DriftPolicy | None = None) -> dict[str, Any]:
    """Everything the Monitoring page shows for one task's champion. ``served``: the champion as loaded
    (``skuflow.serving.runtime.load_version``), for the outlier share; without it, drift and estimates only."""
    task = get_task(task_name)
    champ = store.champion(task_name)
    if champ is None:
        return {"version": None}
    if served is not None and served.version == champ.version:
        profile, model, novelty = served.profile, served.model, served.novelty
    else:
        raw = store.load_profile(champ.name, champ.version)
        profile, model, novelty = (Profile.from_dict(raw) if raw else None), None, None
    if profile is not None and model is not None:  # without the model a summary would lack its novelty score
        summaries.summarize(task, plog, champ.version, profile, model, novelty)
    latest = latest_window(task, plog, champ.version, window)
    drift, estimated, outliers, alerts = None, None, None, []
    if profile is not None and len(latest.predictions) >= 10:
        report = window_drift(task, plog, profile, champ.version, window, policy, latest=latest, novelty=novelty)
        drift = pd.DataFrame([{"feature": c.column, "method": c.method, c.effect_name: round(c.effect, 4),
                               "p_value": None if c.p_value is None else round(c.p_value, 5),
                               "threshold": c.threshold, "drifted": c.drifted} for c in report.columns])
        estimated, outliers, alerts = report.performance, report.outliers, report.alerts
    return {"version": champ.version, "rows": len(latest.predictions), "traffic": traffic(plog, task_name),
            "mix": prediction_mix(profile, latest.predictions), "confidence": confidence_histogram(latest.confidences),
            "drift": drift, "estimated": estimated, "outliers": outliers, "alerts": alerts,
            "live": plog.live_score(task_name, get_task(task_name).output, window)}


def batch_jobs(store: RegistryStore, task: str, limit: int = 20) -> pd.DataFrame:
    rows = []
    for r in store.recent_runs(task, kind="batch", limit=limit):
        m = r["metrics"]
        # what the output's summary logged: class shares, or the predicted values' mean and spread
        summary = {k.split(".", 1)[1]: round(v, 3) for k, v in m.items()
                   if k.startswith(("class_share.", "prediction."))}
        rows.append({"started": pd.Timestamp(r["start_time"], unit="s").strftime("%Y-%m-%d %H:%M"),
                     "model_version": r["tags"].get("model_version"), "rows": int(m.get("rows", 0)),
                     "rows_per_s": round(m.get("rows_per_s", 0.0), 1), "invalid_rows": int(m.get("invalid_rows", 0)),
                     "output": r["tags"].get("output"), "summary": summary})
    return pd.DataFrame(rows)


def experiment_view(store: RegistryStore, plog: PredictionLog, task: str) -> dict[str, Any] | None:
    """The task's latest experiment with its arms and test, as the status route gives it (None: none yet)."""
    from skuflow.experiments import judge, record

    exp = record.load(store, task)
    if exp is None:
        return None
    status = judge.analyse(plog, exp)
    arms = pd.DataFrame([{"variant": name, "attempts": v["attempts"], "errors": v["errors"],
                          "feedback": v["feedback"], status["metric"]: v[status["metric"]],
                          "mean confidence": v["mean_confidence"], "p99 ms": v["p99_ms"]}
                         for name, v in status["variants"].items()])
    mix = pd.DataFrame({name: pd.Series(v["class_mix"]) for name, v in status["variants"].items()}).fillna(0.0)
    return {**status, "arms": arms, "mix": mix}
