"""One scoring path for every route: predict with the held champion, count it, log it."""

from __future__ import annotations

import itertools
import os
import time
from typing import Any

from skuflow.experiments.assignment import CHAMPION
from skuflow.monitoring.metrics import ApiMetrics
from skuflow.monitoring.prediction_log import PredictionLog
from skuflow.serving.batching import AdaptiveBatcher
from skuflow.serving.runtime import LoadedModel
from skuflow.tasks.base import Task

_ids = itertools.count()
_process_tag: list[str] = []


def new_request_id() -> str:
    """A random per-process tag + a counter: unique across workers and restarts, and a tenth of
    ``uuid4``'s cost (one urandom syscall per request showed up at 6% of a busy server's time)."""
    if not _process_tag:
        _process_tag.append(os.urandom(8).hex())
    return f"{_process_tag[0]}{next(_ids):016x}"


def row_ids(request_id: str, n: int) -> list[str]:
    return [request_id] if n == 1 else [f"{request_id}-{i}" for i in range(n)]


class Scorer:
    def __init__(self, metrics: ApiMetrics, plog: PredictionLog | None, batcher: AdaptiveBatcher | None = None,
                 batched: frozenset[str] = frozenset()) -> None:
        self.metrics = metrics
        self.plog = plog
        self.batcher = batcher
        self.batched = batched  # the tasks whose concurrent requests are batched

    def batches(self, task: Task) -> bool:
        """Whether ``task``'s requests wait for a batch: callers must then score from a thread, not the loop."""
        return self.batcher is not None and task.name in self.batched

    def score(self, task: Task, loaded: LoadedModel, records: list[dict[str, Any]], top_k: int,
              request_id: str, started: float, variant: str = CHAMPION,
              experiment: str | None = None) -> list[dict[str, Any]]:
        """Predictions as response bodies; each row is logged under ``request_id`` (``-i`` per batch row),
        with the experiment arm that answered when an experiment runs."""
        if self.batches(task):
            preds = self.batcher.predict(task, loaded.model, records, top_k)  # type: ignore[union-attr]
        else:
            called = time.perf_counter()
            preds = task.predict(loaded.model, records, top_k=top_k)
            self.metrics.observe_model(task.name, time.perf_counter() - called)
        task.output.observe(self.metrics, task.name, loaded.version, preds, variant if experiment else "")
        ids = row_ids(request_id, len(records))
        if self.plog is not None:
            latency_ms = (time.perf_counter() - started) * 1000.0
            for rid, rec, (text, score) in zip(ids, records, preds.logged(), strict=True):
                self.plog.record(rid, task.name, loaded.version, task.log_record(rec), text, score, latency_ms,
                                 experiment=experiment, variant=variant if experiment else None)
        return [{**body, "model": loaded.name, "version": loaded.version, "request_id": rid}
                for rid, body in zip(ids, preds.bodies(), strict=True)]
