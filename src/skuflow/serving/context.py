"""What a serving process holds, handed to every router as one typed object (no ``app.state`` lookups in
routes): settings, the champions, metrics, the scorer and experiment router, the registry, the retrainer."""

from __future__ import annotations

import hmac
from dataclasses import dataclass, field
from typing import Any

from fastapi import Request

from skuflow.errors import ForbiddenError, NotReadyError, UnauthorizedError
from skuflow.monitoring.metrics import ApiMetrics
from skuflow.monitoring.prediction_log import PredictionLog
from skuflow.registry.store import RegistryStore
from skuflow.serving.experiments import ExperimentRouter
from skuflow.serving.runtime import ModelHolder
from skuflow.serving.scoring import Scorer
from skuflow.settings import Settings


@dataclass
class ServingContext:
    settings: Settings
    holder: ModelHolder = field(default_factory=ModelHolder)
    metrics: ApiMetrics = field(default_factory=ApiMetrics)
    registry: RegistryStore | None = None  # set at start-up when the server loads models
    retrainer: Any = None  # a RetrainRunner, set at start-up
    scorer: Scorer = field(init=False)
    router: ExperimentRouter = field(init=False)

    def __post_init__(self) -> None:
        self.scorer = Scorer(self.metrics, None)  # the prediction log is opened at start-up
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
        key = self.settings.admin_api_key
        if not key:
            raise ForbiddenError("Admin routes are disabled: set SKUFLOW_ADMIN_API_KEY")
        if not hmac.compare_digest(request.headers.get("x-api-key", ""), key):
            raise UnauthorizedError("Missing or wrong X-API-Key")
