"""Who answers a request while an experiment runs, and the shadow that scores off the request path.

The router holds each task's live experiment and its challenger, refreshed by the same poll as the
champion's hot reload (and concluded there: see :mod:`skuflow.experiments.judge`). In A/B mode a salted
hash of the caller's key picks the arm; a challenger that fails is answered for by the champion and the
failure is logged against the challenger, so callers never see it and the guardrail does. In shadow mode
the champion answers and the same rows go on a bounded queue that one worker drains in batches.
"""

from __future__ import annotations

import logging
import queue
import threading
import time
from dataclasses import dataclass
from typing import Any

from skuflow.experiments import judge, record
from skuflow.experiments.assignment import CHALLENGER, CHAMPION, FALLBACK, SHADOW, bucket, caller_key
from skuflow.experiments.record import Experiment
from skuflow.registry.store import RegistryStore
from skuflow.serving.runtime import LoadedModel, load_version
from skuflow.serving.scoring import Scorer, row_ids
from skuflow.tasks.base import Task, get_task
from skuflow.tasks.outputs import Predictions

log = logging.getLogger("skuflow.serving")

SHADOW_BATCH = 64  # rows per shadow predict: one vectorised call instead of many small ones
SHADOW_PAUSE = 0.05  # seconds the worker waits to gather a batch; it yields the GIL meanwhile


@dataclass(frozen=True)
class Live:
    experiment: Experiment
    challenger: LoadedModel


@dataclass(frozen=True)
class Answer:
    bodies: list[dict[str, Any]]
    model: LoadedModel
    variant: str | None  # None when no experiment runs

    def headers(self) -> dict[str, str]:
        return {"X-Experiment-Variant": self.variant} if self.variant else {}


class ExperimentRouter:
    def __init__(self, scorer: Scorer, shadow_queue: int = 2048) -> None:
        self.scorer = scorer
        self._live: dict[str, Live] = {}
        self._queue: queue.Queue[tuple] = queue.Queue(maxsize=shadow_queue)
        self._worker: threading.Thread | None = None
        self._lock = threading.Lock()
        self.status: dict[str, dict[str, Any]] = {}  # the last status each task's poll computed

    # -- state, from the registry ----------------------------------------------------------------
    def live(self, task: str) -> Live | None:
        return self._live.get(task)

    def refresh(self, store: RegistryStore, name: str) -> None:
        """Read the task's experiment, conclude it if its evidence says so, and hold its challenger."""
        exp = record.load(store, name)
        if exp is not None and exp.running and self.scorer.plog is not None:
            self.scorer.plog.flush()  # the rows answered so far count
            exp, status = judge.conclude(store, self.scorer.plog, exp)
            self.status[name] = status
            self.scorer.metrics.experiment_p_value.labels(name, exp.id).set(status["test"]["p_value"])
        if exp is None or not exp.running:
            if self._live.pop(name, None) is not None:
                log.info("experiment on %s ended: %s", name, exp.outcome if exp else "record removed")
            return
        current = self._live.get(name)
        if current is not None and current.experiment.id == exp.id:
            self._live[name] = Live(exp, current.challenger)
            return
        challenger = load_version(store, get_task(name), store.version(name, exp.challenger))
        self._live[name] = Live(exp, challenger)
        log.info("experiment %s: %s v%s against the champion v%s", exp.id, exp.mode, exp.challenger, exp.champion)

    # -- the request path -------------------------------------------------------------------------
    def answer(self, task: Task, champion: LoadedModel, records: list[dict[str, Any]], top_k: int,
               request_id: str, started: float, key_header: str | None = None) -> Answer:
        live = self._live.get(task.name)
        # an experiment compares two named versions: once the alias moves, it no longer applies
        if live is None or live.experiment.champion != champion.version:
            return Answer(self.scorer.score(task, champion, records, top_k, request_id, started), champion, None)
        exp = live.experiment
        key = caller_key(exp.key, records[0] if records else None, key_header, request_id)
        chosen = bucket(exp.salt, key) < exp.traffic
        if exp.mode == "ab" and chosen:
            try:
                bodies = self.scorer.score(task, live.challenger, records, top_k, request_id, started,
                                           CHALLENGER, exp.id)
                return Answer(bodies, live.challenger, CHALLENGER)
            except Exception as exc:  # the caller gets the champion's answer; the challenger gets the blame
                self._failed(task, live, records, request_id, started, exc)
                bodies = self.scorer.score(task, champion, records, top_k, request_id, started, FALLBACK, exp.id)
                return Answer(bodies, champion, FALLBACK)
        bodies = self.scorer.score(task, champion, records, top_k, request_id, started, CHAMPION, exp.id)
        if exp.mode == "shadow" and chosen:
            self._enqueue(task, live, records, request_id, [b["prediction"] for b in bodies])
        return Answer(bodies, champion, CHAMPION)

    def _failed(self, task: Task, live: Live, records: list[dict[str, Any]], request_id: str, started: float,
                exc: Exception, variant: str = CHALLENGER) -> None:
        self.scorer.metrics.experiment_errors.labels(task.name, variant).inc(len(records))
        if self.scorer.plog is None:
            return
        latency_ms = (time.perf_counter() - started) * 1000.0
        message = f"{exc.__class__.__name__}: {exc}"[:1000]
        for rid, rec in zip(row_ids(request_id, len(records)), records, strict=True):
            self.scorer.plog.record(rid, task.name, live.challenger.version, task.log_record(rec), None, None,
                                    latency_ms, experiment=live.experiment.id, variant=variant, error=message)

    # -- shadow -----------------------------------------------------------------------------------
    def _enqueue(self, task: Task, live: Live, records: list[dict[str, Any]], request_id: str,
                 champion_said: list[Any]) -> None:
        try:
            self._queue.put_nowait((task, live, records, request_id, champion_said))
        except queue.Full:  # never block the caller: count what the shadow could not keep up with
            self.scorer.metrics.shadow_dropped.labels(task.name).inc(len(records))
            return
        if self._worker is None:
            with self._lock:
                if self._worker is None:
                    self._worker = threading.Thread(target=self._shadow_loop, daemon=True, name="skuflow-shadow")
                    self._worker.start()

    def pending(self) -> int:
        return self._queue.unfinished_tasks

    def drain(self, timeout: float = 10.0) -> bool:
        """Wait for the shadow to catch up (tests, shutdown)."""
        deadline = time.monotonic() + timeout
        while self._queue.unfinished_tasks and time.monotonic() < deadline:
            time.sleep(0.01)
        return not self._queue.unfinished_tasks

    def _shadow_loop(self) -> None:
        while True:
            items = [self._queue.get()]
            time.sleep(SHADOW_PAUSE)
            while len(items) < SHADOW_BATCH:
                try:
                    items.append(self._queue.get_nowait())
                except queue.Empty:
                    break
            groups: dict[tuple[str, str], list[tuple]] = {}
            for item in items:
                groups.setdefault((item[0].name, item[1].experiment.id), []).append(item)
            for group in groups.values():
                try:
                    self._shadow_batch(group)
                except Exception:
                    log.exception("shadow scoring failed")
            for _ in items:
                self._queue.task_done()

    def _shadow_batch(self, items: list[tuple]) -> None:
        task, live = items[0][0], items[0][1]
        rows = [r for item in items for r in item[2]]
        started = time.perf_counter()
        try:
            preds = task.predict(live.challenger.model, rows, top_k=1)
        except Exception:  # one bad row must not hide the rest: score them one by one to find it
            for item in items:
                self._shadow_one(task, live, item)
            return
        per_row_ms = (time.perf_counter() - started) * 1000.0 / max(len(rows), 1)
        i = 0
        for _, _, records, request_id, champion_said in items:
            n = len(records)
            self._log_shadow(task, live, records, request_id, champion_said, preds.take(i, i + n), per_row_ms * n)
            i += n

    def _shadow_one(self, task: Task, live: Live, item: tuple) -> None:
        _, _, records, request_id, champion_said = item
        started = time.perf_counter()
        try:
            preds = task.predict(live.challenger.model, records, top_k=1)
        except Exception as exc:
            self._failed(task, live, records, request_id, started, exc, SHADOW)
            return
        self._log_shadow(task, live, records, request_id, champion_said, preds,
                         (time.perf_counter() - started) * 1000.0)

    def _log_shadow(self, task: Task, live: Live, records: list[dict[str, Any]], request_id: str,
                    champion_said: list[Any], preds: Predictions, latency_ms: float) -> None:
        metrics = self.scorer.metrics
        task.output.observe(metrics, task.name, live.challenger.version, preds, SHADOW)
        agree = sum(task.output.agree(a, b) for a, b in zip(preds.values, champion_said, strict=True))
        metrics.shadow_agreement.labels(task.name, "yes").inc(agree)
        metrics.shadow_agreement.labels(task.name, "no").inc(len(preds) - agree)
        if self.scorer.plog is None:
            return
        for rid, rec, (text, score) in zip(row_ids(request_id, len(records)), records, preds.logged(), strict=True):
            self.scorer.plog.record(rid, task.name, live.challenger.version, task.log_record(rec), text, score,
                                    latency_ms, experiment=live.experiment.id, variant=SHADOW)
