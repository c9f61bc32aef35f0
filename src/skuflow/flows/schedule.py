"""Keep the pipelines on schedules: daily training (00:00) and nightly batch scoring (02:00) per task,
cron strings from settings, one active run per deployment."""

from __future__ import annotations

from typing import Any

from skuflow.flows.pipelines import batch_flow, train_flow
from skuflow.settings import Settings


def deployments(settings: Settings, tasks: list[str], config_path: str | None = None) -> list[Any]:
    out = []
    for name in tasks:
        out.append(train_flow.to_deployment(
            name=f"daily-train-{name}", cron=settings.train_cron, concurrency_limit=1,
            parameters={"task_name": name, "config_path": config_path},
            description=f"generate/ingest -> version -> train -> champion gate for {name}"))
        out.append(batch_flow.to_deployment(
            name=f"nightly-batch-{name}", cron=settings.batch_cron, concurrency_limit=1,
            parameters={"task_name": name}, description=f"score the catalogue with the {name} champion"))
    return out


def serve_forever(settings: Settings, tasks: list[str], config_path: str | None = None) -> None:
    from prefect import serve

    serve(*deployments(settings, tasks, config_path))
