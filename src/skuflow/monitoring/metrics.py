"""Prometheus metrics of one API process, on a registry of its own (two apps in one test process
must not share counters)."""

from __future__ import annotations

from prometheus_client import (
    CONTENT_TYPE_LATEST,  # noqa: F401  (re-exported for the API)
    CollectorRegistry,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
)
from prometheus_client.process_collector import ProcessCollector

LATENCY_BUCKETS = (0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)


class ApiMetrics:
    def __init__(self) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        ProcessCollector(registry=self.registry)  # CPU seconds, resident memory, open fds
        self.requests = Counter("skuflow_requests_total", "HTTP requests", ["route", "method", "status"],
                                registry=self.registry)
        self.latency = Histogram("skuflow_request_latency_seconds", "HTTP request latency", ["route", "method"],
                                 buckets=LATENCY_BUCKETS, registry=self.registry)
        self.predictions = Counter("skuflow_predictions_total", "Predictions by class",
                                   ["task", "model_version", "label"], registry=self.registry)
        self.model_version = Gauge("skuflow_model_version", "Served champion version", ["task"],
                                   registry=self.registry)

    def observe_request(self, route: str, method: str, status: int, seconds: float) -> None:
        self.requests.labels(route, method, str(status)).inc()
        self.latency.labels(route, method).observe(seconds)

    def observe_predictions(self, task: str, version: int, labels: list[str]) -> None:
        if len(labels) == 1:
            self.predictions.labels(task, str(version), labels[0]).inc()
            return
        counts: dict[str, int] = {}
        for label in labels:
            counts[label] = counts.get(label, 0) + 1
        for label, n in counts.items():
            self.predictions.labels(task, str(version), label).inc(n)

    def render(self) -> bytes:
        return generate_latest(self.registry)
