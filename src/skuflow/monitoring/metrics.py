"""Prometheus metrics of one API process, on a registry of its own (two apps in one test process
must not share counters)."""

from __future__ import annotations

from typing import Any

from prometheus_client import (
    CONTENT_TYPE_LATEST,  # noqa: F401  (re-exported for the API)
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    Summary,
    generate_latest,
)
from prometheus_client.process_collector import ProcessCollector

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


MAX_CLASS_SERIES = 200  # predicted-class series per task and version (see Metrics._class_label)
OTHER_CLASSES = "(other classes)"

class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self._children: dict[tuple, Any] = {}
        self._classes_seen: dict[tuple[str, int], set[str]] = {}
        ProcessCollector(registry=self.registry)  # CPU seconds, resident memory, open fds
        self.requests = Counter("skuflow_requests_total", "HTTP requests",
                                ["route", "method", "status", "model_version", "variant"], registry=self.registry)
        self.latency = Histogram("skuflow_request_latency_seconds", "HTTP request latency", ["route", "method"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        # the model's own work (featurizing and scoring) per call, a batch being one call: the rest of a
        # request's latency is the server's
        self.model_seconds = Histogram("skuflow_model_seconds", "Time in the model's predict per call", ["task"],
                                       buckets=LATENCY_BUCKETS, registry=self.registry)
        self.predictions = Counter("skuflow_predictions_total", "Predictions by class",
                                   ["task", "model_version", "label", "variant"], registry=self.registry)
        # numbers are observed, never labels: the series count stays bounded (count and sum give the mean)
        self.predicted_value = Summary("skuflow_prediction_value", "Predicted values of regression tasks",
                                       ["task", "model_version", "variant"], registry=self.registry)
        self.model_version = Gauge("skuflow_model_version", "Served champion version", ["task"],
                                   registry=self.registry)
        self.confidence = Histogram("skuflow_prediction_confidence", "Confidence of predictions",
                                    ["task", "model_version", "variant"], buckets=[i / 10 for i in range(1, 11)],
                                    registry=self.registry)
        self.drift_effect = Gauge("skuflow_drift_effect", "Drift effect size per monitored column",
                                  ["task", "column", "model_version", "method"], registry=self.registry)
        self.drift_detected = Gauge("skuflow_drift_detected", "1 when the latest window drifted",
                                    ["task", "model_version"], registry=self.registry)
        self.drift_window_rows = Gauge("skuflow_drift_window_rows", "Rows in the latest drift window",
                                       ["task", "model_version"], registry=self.registry)
        self.estimated_metric = Gauge("skuflow_estimated_metric", "Metric of the latest window estimated from "
                                      "confidences, before labels", ["task", "model_version", "metric"],
                                      registry=self.registry)
        self.outlier_share = Gauge("skuflow_outlier_share", "Share of the latest window's inputs that are "
                                   "outliers", ["task", "model_version"], registry=self.registry)
        self.window_alarm = Gauge("skuflow_window_alarm", "1 when the latest window alarms (drift, outliers or an "
                                  "estimated drop)", ["task", "model_version"], registry=self.registry)
        # refused keys by route template and reason (missing, wrong, disabled): a guessing client shows here
        self.auth_failures = Counter("skuflow_auth_failures_total", "State-changing calls refused",
                                     ["route", "reason"], registry=self.registry)
        # adaptive batching: rows per scoring call, and how long a request waited for its batch
        self.batch_rows = Histogram("skuflow_batch_rows", "Rows per batched scoring call", ["task"],
                                    buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256), registry=self.registry)
        self.batch_wait = Histogram("skuflow_batch_queue_wait_seconds", "Time a request waited for its batch",
                                    ["task"], buckets=(0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1),
                                    registry=self.registry)
        self.retrains = Counter("skuflow_retrains_total", "Retraining runs by outcome", ["task", "outcome"],
                                registry=self.registry)
        # online experiments (skuflow.experiments): the shadow's agreement with the champion, its dropped
        # work, the challenger's failures, and the sequential test's p-value as the status route last read it
        self.shadow_agreement = Counter("skuflow_experiment_shadow_agreement_total", "Shadow predictions by "
                                        "agreement with the champion", ["task", "agree"], registry=self.registry)
        self.shadow_dropped = Counter("skuflow_experiment_shadow_dropped_total", "Shadow predictions dropped "
                                      "because the queue was full", ["task"], registry=self.registry)
        self.experiment_errors = Counter("skuflow_experiment_errors_total", "Challenger failures (the champion "
                                         "answered instead)", ["task", "variant"], registry=self.registry)
        self.experiment_p_value = Gauge("skuflow_experiment_p_value", "Always-valid p-value of the running "
                                        "experiment", ["task", "experiment"], registry=self.registry)
        self.log_dropped = Gauge("skuflow_prediction_log_dropped", "Prediction log rows lost",
                                 registry=self.registry)

    def _child(self, metric, *values: str):
        """``metric.labels(*values)``, remembered: the client's lookup (a lock, a tuple, a dict) ran four times
        per request. Per-request series are never removed, so a remembered child stays the live one."""
        key = (metric, values)
        child = self._children.get(key)
        if child is None:
            child = self._children[key] = metric.labels(*values)
        return child

    def observe_request(self, route: str, method: str, status: int, seconds: float, version: str = "",
                        variant: str = "") -> None:
        self._child(self.requests, route, method, str(status), version, variant).inc()
        self._child(self.latency, route, method).observe(seconds)

    def observe_model(self, task: str, seconds: float) -> None:
        self._child(self.model_seconds, task).observe(seconds)

    def observe_values(self, task: str, version: int, values: list[float], variant: str = "") -> None:
        summary = self._child(self.predicted_value, task, str(version), variant)
        for v in values:
            summary.observe(v)

    def observe_classes(self, task: str, version: int, labels: list[str], confidences: list[float],
                        variant: str = "") -> None:
        hist = self._child(self.confidence, task, str(version), variant)
        for c in confidences:
            hist.observe(c)
        if len(labels) == 1:
            self._child(self.predictions, task, str(version), self._class_label(task, version, labels[0]),
                        variant).inc()
            return
        counts: dict[str, int] = {}
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
        for label, n in counts.items():
            self._child(self.predictions, task, str(version), self._class_label(task, version, label), variant).inc(n)

    def _class_label(self, task: str, version: int, label: str) -> str:
        """The class as a series label, for the first ``MAX_CLASS_SERIES`` classes a version predicts; later ones
        count under ``OTHER_CLASSES``: a 3,000-leaf tree must not make 3,000 series per version (the prediction
        log and the drift report keep every class)."""
        seen = self._classes_seen.setdefault((task, version), set())
        if label in seen:
            return label
        if len(seen) < MAX_CLASS_SERIES:
            seen.add(label)
            return label
        return OTHER_CLASSES

    def observe_drift(self, report) -> None:
        version = str(report.model_version)
        for col in report.columns:
            self.drift_effect.labels(report.task, col.column, version, col.method).set(col.effect)
        self.drift_detected.labels(report.task, version).set(1.0 if report.drifted else 0.0)
        self.drift_window_rows.labels(report.task, version).set(report.n_rows)
        self.window_alarm.labels(report.task, version).set(1.0 if report.alarm else 0.0)
        for metric in ("accuracy", "macro_f1"):
            value = (report.performance or {}).get(metric)
            if value is not None:
                self.estimated_metric.labels(report.task, version, metric).set(value)
        if report.outliers:
            self.outlier_share.labels(report.task, version).set(report.outliers["share"])

    def render(self) -> bytes:
        return generate_latest(self.registry)
