"""The FastAPI app factory. Routes parse input, call the task's ``predict`` on the held champion and
format the answer; nothing here trains or computes features."""

import logging
import threading
import time
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, TypeAdapter, ValidationError, create_model

from skuflow import __version__
from skuflow.data.generate import generate_catalogue
from skuflow.errors import InvalidInputError, NotFoundError, PayloadTooLargeError, TaskNotFoundError
from skuflow.monitoring.metrics import CONTENT_TYPE_LATEST, ApiMetrics
from skuflow.registry.store import RegistryStore
from skuflow.serving.errors import install_error_handlers, invalid_input_from
from skuflow.serving.invocations import parse_invocation
from skuflow.serving.middleware import MetricsAndLimits
from skuflow.serving.runtime import LoadedModel, ModelHolder
from skuflow.settings import Settings, get_settings
from skuflow.tasks.base import Task, get_task, task_names

log = logging.getLogger("skuflow.serving")


def json_response(body: Any, status: int = 200, version: int | None = None) -> Response:
    headers = {"X-Model-Version": str(version)} if version is not None else None
    return Response(orjson.dumps(body, option=orjson.OPT_SERIALIZE_NUMPY), status_code=status,
                    media_type="application/json", headers=headers)


class TopK(BaseModel):
    label: str
    probability: float


class PredictionOut(BaseModel):
    prediction: str
    confidence: float
    top_k: list[TopK]
    model: str
    version: int


def _prediction_bodies(task: Task, loaded: LoadedModel, records: list[dict], top_k: int,
                       metrics: ApiMetrics) -> list[dict]:
    preds = task.predict(loaded.model, records, top_k=top_k)
    metrics.observe_predictions(task.name, loaded.version, preds.labels)
    return [{"prediction": label, "confidence": conf,
             "top_k": [{"label": lab, "probability": p} for lab, p in top],
             "model": loaded.name, "version": loaded.version}
            for label, conf, top in zip(preds.labels, preds.confidences, preds.top_k, strict=True)]


def _body_schema(model: type[BaseModel]) -> dict:
    """OpenAPI request body for a route that parses its own JSON."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


def _parse(model: type[BaseModel], body: bytes) -> Any:
    """Validate a JSON body in one pass (pydantic-core parses and checks together, ~5x faster than
    FastAPI's json.loads + field validation on the hot path); errors become 422 naming the field."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise invalid_input_from(exc) from exc


def _add_task_routes(app: FastAPI, task: Task, holder: ModelHolder, metrics: ApiMetrics,
                     settings: Settings) -> None:
    Record = task.record_model
    Batch = create_model(f"{Record.__name__}Batch", records=(list[Record], ...))  # type: ignore[valid-type]
    name = task.name

    async def predict(request: Request, top_k: int = Query(3, ge=1, le=50)) -> Response:
        record = _parse(Record, await request.body())
        loaded = holder.get(name)
        # one row costs well under a millisecond: answering on the event loop beats a thread hop
        body = _prediction_bodies(task, loaded, [record.model_dump()], top_k, metrics)[0]
        return json_response(body, version=loaded.version)

    async def predict_batch(request: Request, top_k: int = Query(3, ge=1, le=50)) -> Response:
        records = _parse(Batch, await request.body()).records
        if len(records) > settings.max_batch_rows:
            raise PayloadTooLargeError(
                f"Batch of {len(records)} rows exceeds the cap of {settings.max_batch_rows}",
                rows=len(records), cap=settings.max_batch_rows)
        loaded = holder.get(name)
        rows = [r.model_dump() for r in records]
        bodies = await run_in_threadpool(_prediction_bodies, task, loaded, rows, top_k, metrics)
        return json_response({"predictions": bodies, "model": loaded.name, "version": loaded.version},
                             version=loaded.version)

    async def info() -> Response:
        loaded = holder.get(name)
        return json_response(loaded.info(), version=loaded.version)

    app.add_api_route(f"/v1/{name}/predict", predict, methods=["POST"], response_model=PredictionOut,
                      tags=[name], summary=f"Predict one {name} record", openapi_extra=_body_schema(Record))
    app.add_api_route(f"/v1/{name}/predict/batch", predict_batch, methods=["POST"], tags=[name],
                      summary=f"Predict up to {settings.max_batch_rows} {name} records",
                      openapi_extra=_body_schema(Batch))
    app.add_api_route(f"/v1/{name}/info", info, methods=["GET"], tags=[name])


def create_app(settings: Settings | None = None, store: RegistryStore | None = None,
               load_models: bool = True) -> FastAPI:
    """Build the API. Champions load in a background thread; ``/ready`` answers 503 until they have
    loaded and answered a warm-up prediction."""
    settings = settings or get_settings()
    holder = ModelHolder()
    metrics = ApiMetrics()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if load_models:
            reg = store or RegistryStore(settings)
            app.state.store = reg
            threading.Thread(target=holder.load_all, args=(reg,), kwargs={"warmup": settings.warmup},
                             daemon=True, name="skuflow-model-loader").start()
        yield

    app = FastAPI(title="skuflow", version=__version__, lifespan=lifespan,
                  description="Product models served from the MLflow registry's champion alias.")
    app.state.settings = settings
    app.state.holder = holder
    app.state.metrics = metrics
    install_error_handlers(app)
    app.add_middleware(MetricsAndLimits, metrics=metrics, max_body_bytes=settings.max_body_bytes)

    known = task_names()

    @app.get("/health", tags=["probes"])
    @app.get("/livez", include_in_schema=False)
    async def health() -> Response:
        return json_response({"status": "ok"})

    @app.get("/ready", tags=["probes"])
    @app.get("/readyz", include_in_schema=False)
    async def ready() -> Response:
        loaded = {t: m.version for t, m in holder.loaded().items()}
        if holder.ready:
            return json_response({"status": "ready", "models": loaded})
        return json_response({"error_code": "not_ready", "status": "loading" if not holder.load_error
                              else "failed", "message": holder.load_error or "loading champions",
                              "models": loaded}, status=503)

    @app.get("/info", tags=["models"])
    async def info() -> Response:
        return json_response({"skuflow": __version__, "tasks": known,
                              "models": {t: m.info() for t, m in holder.loaded().items()}})

    @app.get("/metrics", tags=["probes"])
    async def prometheus() -> Response:
        for t, m in holder.loaded().items():
            metrics.model_version.labels(t).set(m.version)
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/data/generate", tags=["data"])
    async def generate(n: int = Query(50, ge=1, le=10_000), seed: int = Query(0, ge=0)) -> Response:
        frame = generate_catalogue(n, seed=seed)
        frame["created_at"] = frame["created_at"].astype(str)
        return json_response(frame.drop(columns=["image"]).to_dict(orient="records"))

    @app.post("/invocations", tags=["mlflow"])
    async def invocations(request: Request) -> Response:
        """MLflow scoring-server protocol, answered by the ``invocations_task`` champion."""
        task = get_task(settings.invocations_task)
        records = parse_invocation(await request.body(), request.headers.get("content-type", ""))
        if len(records) > settings.max_batch_rows:
            raise PayloadTooLargeError(f"{len(records)} rows exceed the cap of {settings.max_batch_rows}")
        if not records:
            raise InvalidInputError("body: no rows")
        try:
            rows = [r.model_dump() for r in _records_adapter(task).validate_python(records)]
        except ValidationError as exc:
            raise invalid_input_from(exc) from exc
        loaded = holder.get(task.name)
        preds = await run_in_threadpool(task.predict, loaded.model, rows, 1)
        metrics.observe_predictions(task.name, loaded.version, preds.labels)
        return json_response({"predictions": preds.labels}, version=loaded.version)

    for name in known:
        _add_task_routes(app, get_task(name), holder, metrics, settings)

    @app.api_route("/v1/{task}/{action:path}", methods=["GET", "POST"], include_in_schema=False)
    async def unknown(task: str, action: str) -> Response:
        if task not in known:
            raise TaskNotFoundError(task, known)
        raise NotFoundError(f"Route '/v1/{task}/{action}' not found")

    app.state.started_at = time.time()
    return app


_ADAPTERS: dict[str, TypeAdapter] = {}


def _records_adapter(task: Task) -> TypeAdapter:
    if task.name not in _ADAPTERS:
        _ADAPTERS[task.name] = TypeAdapter(list[task.record_model])  # type: ignore[name-defined]
    return _ADAPTERS[task.name]
