"""Closed loop: drift over the prediction log -> hysteresis trigger -> retraining run -> (champion gate).

Retraining runs the task's train flow in a separate process (as a Kubernetes Job or a cron entry would),
so the serving process never trains and a failed run cannot take it down; the server notices a moved
champion through its reload poll.
"""

from __future__ import annotations

import json
import logging
import os
import subprocess
import sys
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from skuflow.monitoring.drift import DriftPolicy, DriftReport
from skuflow.monitoring.prediction_log import PredictionLog
from skuflow.monitoring.summaries import summarize_served
from skuflow.monitoring.trigger import RetrainTrigger, TriggerPolicy
from skuflow.monitoring.window import window_drift
from skuflow.settings import Settings

log = logging.getLogger("skuflow.retrain")


@dataclass
class RetrainRun:
    task: str
    reason: str
    started_at: float
    state: str = "running"  # running | succeeded | failed
    finished_at: float | None = None
    summary: dict[str, Any] | None = None
    error: str | None = None

    def to_dict(self) -> dict[str, Any]:
        return {"task": self.task, "reason": self.reason, "state": self.state, "started_at": self.started_at,
                "finished_at": self.finished_at, "summary": self.summary, "error": self.error}


class RetrainRunner:
    """Starts `skuflow flow run train` processes, at most one per task, and remembers how they ended."""

    def __init__(self, settings: Settings, on_finish: Callable[[RetrainRun], None] | None = None) -> None:
        self.settings = settings
        self.on_finish = on_finish
        self.runs: dict[str, RetrainRun] = {}
        self._lock = threading.Lock()

    def start(self, task: str, reason: str) -> tuple[RetrainRun, bool]:
        """Returns the run and whether it was started now (False: one is already running)."""
        with self._lock:
            current = self.runs.get(task)
            if current is not None and current.state == "running":
                return current, False
            run = RetrainRun(task, reason, time.time())
            self.runs[task] = run
        threading.Thread(target=self._execute, args=(run,), name=f"skuflow-retrain-{task}", daemon=True).start()
        return run, True

    def _command(self, task: str) -> list[str]:
        cmd = [sys.executable, "-m", "skuflow", "flow", "run", "train", "--task", task, "--json"]
        if self.settings.train_config:
            cmd += ["--config", self.settings.train_config]
        return cmd

    def _execute(self, run: RetrainRun) -> None:
        env = {**os.environ, **self.settings.to_env()}  # this server's settings, not only its environment
        try:
            proc = subprocess.run(self._command(run.task), env=env, capture_output=True, text=True, timeout=6 * 3600)
            lines = proc.stdout.strip().splitlines()
            run.summary = json.loads(lines[-1]) if lines else None
            if proc.returncode == 0:
                run.state = "succeeded"
            else:
                run.state = "failed"
                run.error = (proc.stderr.strip().splitlines() or [f"exit code {proc.returncode}"])[-1]
        except Exception as exc:  # a broken retrain is reported, never raised into the server
            run.state, run.error = "failed", f"{exc.__class__.__name__}: {exc}"
        run.finished_at = time.time()
        log.info("retrain %s %s: %s", run.task, run.state, run.summary or run.error)
        if self.on_finish:
            self.on_finish(run)


@dataclass
class Monitor:
    """Checks drift of every served task on a clock and starts retraining when the trigger fires."""

    settings: Settings
    plog: PredictionLog
    runner: RetrainRunner
    # task name -> the served version: anything with task, version, model, profile and novelty (LoadedModel)
    served: Callable[[], dict[str, Any]]
    on_report: Callable[[DriftReport], None] | None = None
    triggers: dict[str, RetrainTrigger] = field(default_factory=dict)
    last: dict[str, dict[str, Any]] = field(default_factory=dict)

    def _trigger(self, task: str) -> RetrainTrigger:
        if task not in self.triggers:
            s = self.settings
            self.triggers[task] = RetrainTrigger(TriggerPolicy(s.retrain_consecutive, s.retrain_min_rows,
                                                               s.retrain_cooldown))
        return self.triggers[task]

    def check_once(self, now: float | None = None) -> dict[str, dict[str, Any]]:
        now = time.time() if now is None else now
        policy = DriftPolicy.from_settings(self.settings)
        for name, served in self.served().items():
            if served.profile is None:
                continue
            summarize_served(self.plog, served)
            report = window_drift(served.task, self.plog, served.profile, served.version, self.settings.drift_window,
                                  policy, novelty=served.novelty)
            if self.on_report:
                self.on_report(report)
            fire, why = self._trigger(name).observe(report.alarm, report.n_rows, now)
            started = False
            if fire:
                _, started = self.runner.start(name, why)
            self.last[name] = {"version": served.version, "rows": report.n_rows, "drifted": report.drifted,
                               "drifted_columns": [c.column for c in report.columns if c.drifted],
                               "alerts": report.alerts,
                               "retrain": started, "reason": why, "checked_at": now}
        return self.last

    def run(self, stop: threading.Event) -> None:
        while not stop.wait(self.settings.monitor_interval):
            try:
                self.check_once()
            except Exception:  # monitoring must not stop because one check failed
                log.exception("drift check failed")
