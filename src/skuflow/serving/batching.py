"""Adaptive batching: concurrent requests for the same model scored in one call.

A network's forward pass costs nearly the same for one photo as for thirty, so answering thirty callers
with thirty passes wastes most of the CPU. Each served model gets a queue and one worker thread: the worker
takes the first waiting request, gathers more until ``max_rows`` rows or ``max_wait`` seconds since that
first one, predicts once and hands each caller its own rows back. A failed batch is retried request by
request, so one bad photo fails only its own request. Callers block on a future: routes call from the
thread pool, never from the event loop.
"""

from __future__ import annotations

import queue
import threading
import time
from concurrent.futures import Future
from dataclasses import dataclass, field
from typing import Any

from skuflow.tasks.base import Task
from skuflow.tasks.outputs import Predictions

IDLE_EXIT_S = 60.0  # a worker whose model gets no traffic this long stops (a replaced champion's, say)


@dataclass
class _Request:
    records: list[dict[str, Any]]
    top_k: int
    enqueued: float = field(default_factory=time.perf_counter)
    future: Future = field(default_factory=Future)


class _ModelQueue:
    def __init__(self, task: Task, model: Any, owner: AdaptiveBatcher) -> None:
        self.task, self.model, self.owner = task, model, owner
        self.requests: queue.Queue[_Request] = queue.Queue()
        self.worker: threading.Thread | None = None

    def run(self) -> None:
        while True:
            try:
                first = self.requests.get(timeout=IDLE_EXIT_S)
            except queue.Empty:
                if self.owner.retire(self):
                    return
                continue
            batch, rows = [first], len(first.records)
            deadline = first.enqueued + self.owner.max_wait
            while rows < self.owner.max_rows:
                try:
                    nxt = self.requests.get(timeout=max(0.0, deadline - time.perf_counter()))
                except queue.Empty:
                    break
                batch.append(nxt)
                rows += len(nxt.records)
            self.score(batch)

    def score(self, batch: list[_Request]) -> None:
        started = time.perf_counter()
        metrics = self.owner.metrics
        for r in batch:
            metrics.batch_wait.labels(self.task.name).observe(started - r.enqueued)
        by_depth: dict[int, list[_Request]] = {}
        for r in batch:  # callers asking for different top-k are scored apart (rarely: most ask the default)
            by_depth.setdefault(r.top_k, []).append(r)
        for top_k, group in by_depth.items():
            metrics.batch_rows.labels(self.task.name).observe(sum(len(r.records) for r in group))
            try:
                called = time.perf_counter()
                preds = self.task.predict(self.model, [rec for r in group for rec in r.records], top_k=top_k)
                metrics.observe_model(self.task.name, time.perf_counter() - called)
            except Exception:
                for r in group:  # one bad request must not fail the others: each again on its own
                    self._alone(r)
                continue
            i = 0
            for r in group:
                r.future.set_result(preds.take(i, i + len(r.records)))
                i += len(r.records)

    def _alone(self, r: _Request) -> None:
        try:
            r.future.set_result(self.task.predict(self.model, r.records, top_k=r.top_k))
        except Exception as exc:
            r.future.set_exception(exc)


class AdaptiveBatcher:
    """One queue and worker per served model object; ``predict`` is a drop-in for ``task.predict``."""

    def __init__(self, metrics: Any, max_rows: int, max_wait_ms: float) -> None:
        self.metrics = metrics
        self.max_rows = max_rows
        self.max_wait = max_wait_ms / 1000.0
        self._queues: dict[int, _ModelQueue] = {}
        self._lock = threading.Lock()

    def predict(self, task: Task, model: Any, records: list[dict[str, Any]], top_k: int) -> Predictions:
        request = _Request(records, top_k)
        with self._lock:
            q = self._queues.get(id(model))
            if q is None or q.model is not model:
                q = self._queues[id(model)] = _ModelQueue(task, model, self)
            q.requests.put(request)
            if q.worker is None:
                q.worker = threading.Thread(target=q.run, daemon=True, name=f"skuflow-batch-{task.name}")
                q.worker.start()
        return request.future.result()

    def retire(self, q: _ModelQueue) -> bool:
        """Stop an idle worker, unless a request slipped in meanwhile."""
        with self._lock:
            if not q.requests.empty():
                return False
            if self._queues.get(id(q.model)) is q:
                del self._queues[id(q.model)]
            q.worker = None
            return True
