"""One scoring path for every route: predict with the held champion, count it, log it."""

from __future__ import annotations

import time
import uuid
from typing import Any

from skuflow.monitoring.metrics import ApiMetrics
from skuflow.monitoring.prediction_log import PredictionLog
from skuflow.serving.runtime import LoadedModel
from skuflow.tasks.base import Task


def new_request_id() -> str:
    return uuid.uuid4().hex


class Scorer:
    def __init__(self, metrics: ApiMetrics, plog: PredictionLog | None) -> None:
        self.metrics = metrics
        self.plog = plog

    def score(self, task: Task, loaded: LoadedModel, records: list[dict[str, Any]], top_k: int,
              request_id: str, started: float) -> list[dict[str, Any]]:
        """Predictions as response bodies; each row is logged under ``request_id`` (``-i`` per batch row)."""
        preds = task.predict(loaded.model, records, top_k=top_k)
        self.metrics.observe_predictions(task.name, loaded.version, preds.labels, preds.confidences)
        ids = [request_id] if len(records) == 1 else [f"{request_id}-{i}" for i in range(len(records))]
        if self.plog is not None:
            latency_ms = (time.perf_counter() - started) * 1000.0
            for rid, rec, label, conf in zip(ids, records, preds.labels, preds.confidences, strict=True):
                self.plog.record(rid, task.name, loaded.version, task.log_record(rec), label, conf, latency_ms)
        return [{"prediction": label, "confidence": conf,
                 "top_k": [{"label": lab, "probability": p} for lab, p in top],
                 "model": loaded.name, "version": loaded.version, "request_id": rid}
                for rid, label, conf, top in zip(ids, preds.labels, preds.confidences, preds.top_k, strict=True)]
