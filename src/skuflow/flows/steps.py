"""The steps of the daily pipelines as plain functions with JSON-able arguments and results.

Prefect flows (pipelines.py) and the Airflow DAG (deploy/airflow/) call exactly these; no orchestrator
holds pipeline logic of its own. Data moves between steps as paths, never as in-memory frames, so any
step can run in another process or on another machine.
"""

from __future__ import annotations

import time
from datetime import UTC, date, datetime
from typing import Any

from skuflow.data.ingest import SYNTHETIC_PREFIX, read_table, write_table
from skuflow.settings import Settings
from skuflow.tasks.base import get_task
from skuflow.training.config import load_config
from skuflow.training.train import (
    Candidate,
    check_and_promote,
    fit_and_register,
    load_dataset,
    prepare,
    result_of,
    save_dataset,
)


def resolve_source(data: str, day: date | None = None) -> str:
    """``synthetic:N`` without a seed becomes today's catalogue (a new seed per day, as new data arrives)."""
    parts = data.split(":")
    if parts[0] == SYNTHETIC_PREFIX and len(parts) == 2:
        return f"{data}:{(day or date.today()).toordinal()}"
    return data


def generate_data(data: str, settings: Settings) -> dict[str, Any]:
    """Materialise the day's raw data: synthetic rows are generated and written under ``raw/``;
    a real location is passed through untouched."""
    source = resolve_source(data)
    if not source.startswith(SYNTHETIC_PREFIX):
        return {"raw_path": source, "generated": False}
    folder = settings.ensure_home() / "raw"
    folder.mkdir(exist_ok=True)
    path = folder / f"{source.replace(':', '-')}.parquet"
    if not path.exists():
        write_table(read_table(source), str(path))
    return {"raw_path": str(path), "generated": True}


def save_and_version_data(task: str, raw_path: str, config_path: str | None, settings: Settings) -> dict[str, Any]:
    """Validate, dedupe and store the rows under their content digest."""
    t = get_task(task)
    prepared = prepare(t, raw_path, load_config(config_path))
    path = save_dataset(t, prepared, settings)
    return {"dataset_path": path, "digest": prepared.digest, "rows": len(prepared.frame),
            "validation": prepared.report.to_dict()}


def train_model(task: str, dataset_path: str, config_path: str | None, settings: Settings) -> dict[str, Any]:
    """Fit, evaluate and register a candidate version from a versioned dataset."""
    t = get_task(task)
    cand = fit_and_register(t, load_dataset(dataset_path), load_config(config_path), settings)
    return {"run_id": cand.run_id, "model_name": cand.model_name, "version": cand.version,
            "metrics": cand.metrics, "rows": cand.rows}


def check_and_register(task: str, dataset_path: str, config_path: str | None, candidate: dict[str, Any],
                       settings: Settings) -> dict[str, Any]:
    """The champion gate for a candidate; returns the decision and the champion before and after."""
    t = get_task(task)
    cand = Candidate(candidate["run_id"], candidate["model_name"], int(candidate["version"]),
                     candidate["metrics"], candidate["rows"])
    prepared = load_dataset(dataset_path)
    decision = check_and_promote(t, cand, prepared, load_config(config_path), settings)
    result = result_of(cand, decision, prepared, settings, 0.0)
    return {"decision": decision.to_dict(), "promoted": decision.promoted,
            "champion_before": decision.champion_version, "champion_after": result.champion_version}


def pipeline_summary(task: str, data: dict[str, Any], version: dict[str, Any], candidate: dict[str, Any],
                     gate: dict[str, Any], started: float) -> dict[str, Any]:
    """One record of what the run did: data rows and digest, metrics, champion before and after, and why."""
    primary = get_task(task).primary_metric
    return {
        "task": task, "finished_at": datetime.now(UTC).isoformat(timespec="seconds"),
        "seconds": round(time.time() - started, 1), "raw": data.get("raw_path"),
        "dataset": {"path": version["dataset_path"], "digest": version["digest"], "rows": version["rows"],
                    "rejected": version["validation"]["rows_rejected"]},
        "candidate": {"version": candidate["version"], "run_id": candidate["run_id"],
                      primary: candidate["metrics"][primary]},
        "champion_before": gate["champion_before"], "champion_after": gate["champion_after"],
        "promoted": gate["promoted"], "reason": gate["decision"]["reason"],
        "evidence": {k: gate["decision"].get(k) for k in ("verdict", "rows_compared", "gain", "interval",
                                                          "confidence", "champion_score", "challenger_score")},
    }
