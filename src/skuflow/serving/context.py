"""What a serving process holds, handed to every router as one typed object (no ``app.state`` lookups in
routes): settings, the champions, metrics, the scorer and experiment router, the registry, the retrainer."""

from __future__ import annotations

import hmac
import logging
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from skuflow.errors import ForbiddenError, NotReadyError, UnauthorizedError
from skuflow.monitoring.metrics import ApiMetrics
from skuflow.monitoring.prediction_log import PredictionLog
from skuflow.registry.store import RegistryStore
from skuflow.serving.batching import AdaptiveBatcher
from skuflow.serving.bounds import RecordBounds
from skuflow.serving.runtime import ModelHolder
from skuflow.serving.scoring import Scorer
from skuflow.serving.traffic import ExperimentRouter
from skuflow.settings import Settings
from skuflow.tasks.base import get_task, task_names

log = logging.getLogger("skuflow.serving")


@dataclass
class ServingContext:
    settings: Settings
    holder: ModelHolder = field(default_factory=ModelHolder)
    metrics: ApiMetrics = field(default_factory=ApiMetrics)
    registry: RegistryStore | None = None  # set at start-up when the server loads models
    retrainer: Any = None  # a RetrainRunner, set at start-up
    scorer: Scorer = field(init=False)
    router: ExperimentRouter = field(init=False)
    bounds: RecordBounds = field(init=False)

    def __post_init__(self) -> None:
        self.bounds = RecordBounds(self.settings.max_columns, self.settings.max_record_bytes)
        s = self.settings
        batched = frozenset(name for name in task_names() if s.batching == "on"
                            or (s.batching == "auto" and get_task(name).input_kind == "image"))
        batcher = AdaptiveBatcher(self.metrics, s.max_batch_size, s.max_batch_wait_ms) if batched else None
        self.scorer = Scorer(self.metrics, None, batcher, batched)  # the prediction log is opened at start-up
        self.router = ExperimentRouter(self.scorer, self.settings.shadow_queue)

    def store(self) -> RegistryStore:
        if self.registry is None:
            raise NotReadyError("This server was started without the registry")
        return self.registry

    def log(self) -> PredictionLog:
        if self.scorer.plog is None:
            raise NotReadyError("The prediction log is off (SKUFLOW_LOG_PREDICTIONS=false)")
        return self.scorer.plog

    def require_admin(self, request: Request) -> None:
        """State-changing routes need ``X-API-Key`` equal to ``SKUFLOW_ADMIN_API_KEY`` (off when unset)."""
        self._require(request, {"x-api-key": self.settings.admin_api_key}, "SKUFLOW_ADMIN_API_KEY")

    def require_feedback(self, request: Request) -> None:
        """Labels steer live accuracy and retraining: ``X-Feedback-Key`` (``SKUFLOW_FEEDBACK_API_KEY``, for a
        labelling client without admin rights) or the admin key; refused while neither is set."""
        self._require(request, {"x-feedback-key": self.settings.feedback_api_key,
                                "x-api-key": self.settings.admin_api_key},
                      "SKUFLOW_FEEDBACK_API_KEY or SKUFLOW_ADMIN_API_KEY")

    def require_reader(self, request: Request) -> None:
        """Reads that show a model's traffic (drift, retraining and experiment status): public unless
        ``SKUFLOW_READ_API_KEY`` is set; then ``X-Read-Key`` or the admin key."""
        if self.settings.read_api_key:
            self._require(request, {"x-read-key": self.settings.read_api_key,
                                    "x-api-key": self.settings.admin_api_key}, "SKUFLOW_READ_API_KEY")

    def _require(self, request: Request, keys: dict[str, str | None], setting: str) -> None:
        """Compared in constant time; a refusal is counted by route and reason and logged without the key."""
        configured = {header: key for header, key in keys.items() if key}
        route = getattr(request.scope.get("route"), "path", request.url.path)
        if not configured:
            self._refuse(request, route, "disabled")
            raise ForbiddenError(f"This route is disabled: set {setting}")
        given = {header: request.headers.get(header, "") for header in configured}
        # every configured key is compared, whichever matched: the time taken says nothing about which
        matched = [hmac.compare_digest(given[h].encode(), key.encode()) for h, key in configured.items()]
        if not any(matched):
            self._refuse(request, route, "wrong" if any(given.values()) else "missing")
            raise UnauthorizedError(f"Missing or wrong {' or '.join(h.title() for h in configured)}")

    def _refuse(self, request: Request, route: str, reason: str) -> None:
        self.metrics.auth_failures.labels(route, reason).inc()
        host = request.client.host if request.client else "unknown"
        log.warning("refused %s %s from %s: key %s", request.method, route, host, reason)
