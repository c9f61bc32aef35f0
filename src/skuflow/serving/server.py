"""Run the API with uvicorn."""

from __future__ import annotations

import json

from skuflow.settings import Settings
from skuflow.tasks.base import Task


def curl_example(task: Task, host: str, port: int) -> str:
    """A request a newcomer can paste: the task's own example record, or an image upload."""
    url = f"http://{host}:{port}/v1/{task.name}/predict"
    if task.input_kind == "image":
        return f"curl -s -X POST {url} -F file=@photo.jpg"
    return f"curl -s -X POST {url} -H 'content-type: application/json' -d '{json.dumps(task.example_records(1)[0])}'"


# A serving process polls the registry every few seconds: the poll is its retry. MLflow's own default (seven
# retries with exponential backoff) keeps a poll asleep for minutes after a registry outage, so a version
# promoted once the registry is back would be served many polls late.
REGISTRY_RETRIES = {"MLFLOW_HTTP_REQUEST_MAX_RETRIES": "2", "MLFLOW_HTTP_REQUEST_BACKOFF_FACTOR": "1"}


def run_server(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import os

    import uvicorn

    from skuflow.serving.app import create_app

    for name, value in REGISTRY_RETRIES.items():  # the operator's own setting wins
        os.environ.setdefault(name, value)

    if workers > 1:
        # each worker builds its own app (and loads the champion) from the environment
        uvicorn.run("skuflow.serving.server:app_from_env", host=host, port=port, workers=workers,
                    factory=True, log_level="warning", access_log=False)
        return
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", access_log=False)


def app_from_env():
    from skuflow.serving.app import create_app

    return create_app()
