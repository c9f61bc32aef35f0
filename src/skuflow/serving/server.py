"""Run the API with uvicorn."""

from __future__ import annotations

import json

from skuflow.settings import Settings


def curl_example(host: str, port: int) -> str:
    body = {"title": "Kovari wireless headphones - noise cancelling", "description": "Bluetooth, 30h battery.",
            "brand": "Kovari", "seller_id": "S10042", "price": 129.0}
    return (f"curl -s -X POST http://{host}:{port}/v1/category/predict "
            f"-H 'content-type: application/json' -d '{json.dumps(body)}'")


def run_server(settings: Settings, host: str, port: int, workers: int = 1) -> None:
    import uvicorn

    from skuflow.serving.app import create_app

    if workers > 1:
        # each worker builds its own app (and loads the champion) from the environment
        uvicorn.run("skuflow.serving.server:app_from_env", host=host, port=port, workers=workers,
                    factory=True, log_level="warning", access_log=False)
        return
    uvicorn.run(create_app(settings), host=host, port=port, log_level="warning", access_log=False)


def app_from_env():
    from skuflow.serving.app import create_app

    return create_app()
