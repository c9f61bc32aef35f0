"""The FastAPI app factory. Routes parse input, call the task's ``predict`` on the held champion and
format the answer; nothing here trains or computes features."""

import hmac
import logging
import threading
import time
from contextlib import asynccontextmanager
from typing import Any

import orjson
from fastapi import FastAPI, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, Field, TypeAdapter, ValidationError, create_model

from skuflow import __version__
from skuflow.allocator import keep_large_allocations
from skuflow.data.generate import generate_catalogue
from skuflow.errors import (
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    NotReadyError,
    PayloadTooLargeError,
    TaskNotFoundError,
    UnauthorizedError,
)
from skuflow.experiments import judge, record
from skuflow.flows.retrain import Monitor, RetrainRunner, window_drift
from skuflow.monitoring.metrics import CONTENT_TYPE_LATEST, ApiMetrics
from skuflow.monitoring.prediction_log import PredictionLog
from skuflow.registry.store import RegistryStore
from skuflow.serving.errors import install_error_handlers, invalid_input_from
from skuflow.serving.experiments import Answer, ExperimentRouter
from skuflow.serving.invocations import parse_invocation
from skuflow.serving.middleware import MetricsAndLimits
from skuflow.serving.runtime import ModelHolder
from skuflow.serving.scoring import Scorer, new_request_id
from skuflow.serving.uploads import ImageBatch, read_images
from skuflow.settings import Settings, get_settings
from skuflow.tasks.base import Task, get_task, task_names
from skuflow.tasks.images import ImageRecord

log = logging.getLogger("skuflow.serving")


def json_response(body: Any, status: int = 200, version: int | None = None,
                  request_id: str | None = None, headers: dict[str, str] | None = None) -> Response:
    headers = dict(headers or {})
    if version is not None:
        headers["X-Model-Version"] = str(version)
    if request_id:
        headers["X-Request-ID"] = request_id
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
    request_id: str


class ExperimentIn(BaseModel):
    challenger: int = Field(ge=1, description="Registered version to try against the champion")
    mode: str = Field("ab", pattern="^(shadow|ab)$")
    traffic: float = Field(0.1, gt=0.0, le=1.0, description="Share of callers sent (ab) or mirrored (shadow)")
    key: str | None = Field(None, max_length=64, description="Record field that identifies a caller")
    metric: str = "accuracy"
    max_requests: int | None = Field(None, ge=1)
    guardrails: dict[str, float] = Field(default_factory=dict, description="error_rate, p99_ms")
    alpha: float = Field(0.05, gt=0.0, lt=0.5)
    min_rows: int = Field(100, ge=1, description="Feedback rows per arm before a decision")


class FeedbackIn(BaseModel):
    request_id: str = Field(min_length=1, max_length=64)
    label: str = Field(min_length=1, max_length=256)


def _body_schema(model: type[BaseModel]) -> dict:
    """OpenAPI request body for a route that parses its own JSON."""
    return {"requestBody": {"required": True, "content": {"application/json": {"schema": model.model_json_schema()}}}}


def _image_body_schema(field: str, json_model: type[BaseModel]) -> dict:
    files = ({"type": "array", "items": {"type": "string", "format": "binary"}} if field == "files"
             else {"type": "string", "format": "binary"})
    return {"requestBody": {"required": True, "content": {
        "multipart/form-data": {"schema": {"type": "object", "properties": {field: files}, "required": [field]}},
        "application/json": {"schema": json_model.model_json_schema()}}}}


def _parse(model: type[BaseModel], body: bytes) -> Any:
    """Validate a JSON body in one pass (pydantic-core parses and checks together, ~5x faster than
    FastAPI's json.loads + field validation on the hot path); errors become 422 naming the field."""
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        raise invalid_input_from(exc) from exc


def _request_id(request: Request) -> str:
    given = request.headers.get("x-request-id", "")
    return given[:64] if given else new_request_id()


def _add_task_routes(app: FastAPI, task: Task, holder: ModelHolder, router: ExperimentRouter, scorer: Scorer,
                     settings: Settings) -> None:
    Record = task.record_model
    Batch = create_model(f"{Record.__name__}Batch", records=(list[Record], ...))  # type: ignore[valid-type]
    name = task.name

    def answer(request: Request, rows: list[dict[str, Any]], top_k: int, rid: str, started: float) -> Answer:
        return router.answer(task, holder.get(name), rows, top_k, rid, started,
                             request.headers.get("x-experiment-key"))

    def respond(ans: Answer, body: Any, rid: str) -> Response:
        return json_response(body, version=ans.model.version, request_id=rid, headers=ans.headers())

    async def predict(request: Request, top_k: int = Query(3, ge=1, le=50)) -> Response:
        started = time.perf_counter()
        record = _parse(Record, await request.body())
        rid = _request_id(request)
        # one row costs well under a millisecond: answering on the event loop beats a thread hop
        ans = answer(request, [record.model_dump()], top_k, rid, started)
        return respond(ans, ans.bodies[0], rid)

    async def predict_batch(request: Request, top_k: int = Query(3, ge=1, le=50)) -> Response:
        started = time.perf_counter()
        records = _parse(Batch, await request.body()).records
        if len(records) > settings.max_batch_rows:
            raise PayloadTooLargeError(
                f"Batch of {len(records)} rows exceeds the cap of {settings.max_batch_rows}",
                rows=len(records), cap=settings.max_batch_rows)
        rows = [r.model_dump() for r in records]
        rid = _request_id(request)
        ans = await run_in_threadpool(answer, request, rows, top_k, rid, started)
        return respond(ans, {"predictions": ans.bodies, "model": ans.model.name, "version": ans.model.version}, rid)

    async def info() -> Response:
        loaded = holder.get(name)
        return json_response(loaded.info(), version=loaded.version)

    async def predict_image(request: Request, top_k: int = Query(3, ge=1, le=50)) -> Response:
        started = time.perf_counter()
        images = await read_images(request, False, 1, settings.max_image_bytes)
        rid = _request_id(request)
        # decoding and a network forward pass take milliseconds: off the event loop
        ans = await run_in_threadpool(answer, request, [{"image": images[0]}], top_k, rid, started)
        return respond(ans, ans.bodies[0], rid)

    async def predict_image_batch(request: Request, top_k: int = Query(3, ge=1, le=50)) -> Response:
        started = time.perf_counter()
        images = await read_images(request, True, settings.max_batch_images, settings.max_image_bytes)
        rid = _request_id(request)
        ans = await run_in_threadpool(answer, request, [{"image": b} for b in images], top_k, rid, started)
        return respond(ans, {"predictions": ans.bodies, "model": ans.model.name, "version": ans.model.version}, rid)

    if task.input_kind == "image":
        app.add_api_route(f"/v1/{name}/predict", predict_image, methods=["POST"], response_model=PredictionOut,
                          tags=[name], summary=f"Predict one {name} image (multipart 'file' or JSON base64)",
                          openapi_extra=_image_body_schema("file", ImageRecord))
        app.add_api_route(f"/v1/{name}/predict/batch", predict_image_batch, methods=["POST"], tags=[name],
                          summary=f"Predict up to {settings.max_batch_images} {name} images",
                          openapi_extra=_image_body_schema("files", ImageBatch))
    else:
        app.add_api_route(f"/v1/{name}/predict", predict, methods=["POST"], response_model=PredictionOut,
                          tags=[name], summary=f"Predict one {name} record", openapi_extra=_body_schema(Record))
        app.add_api_route(f"/v1/{name}/predict/batch", predict_batch, methods=["POST"], tags=[name],
                          summary=f"Predict up to {settings.max_batch_rows} {name} records",
                          openapi_extra=_body_schema(Batch))
    app.add_api_route(f"/v1/{name}/info", info, methods=["GET"], tags=[name])
    if hasattr(task, "generate"):
        _add_generate_routes(app, task, holder, settings)

    async def feedback(request: Request) -> Response:
        body = _parse(FeedbackIn, await request.body())
        if scorer.plog is None:
            raise NotReadyError("The prediction log is off (SKUFLOW_LOG_PREDICTIONS=false)")
        recorded = await run_in_threadpool(scorer.plog.add_feedback, name, body.request_id, body.label)
        if not recorded:  # the prediction may still sit in the writer's queue: a client that answers at once
            await run_in_threadpool(scorer.plog.flush)
            recorded = await run_in_threadpool(scorer.plog.add_feedback, name, body.request_id, body.label)
        if not recorded:
            raise NotFoundError(f"No {name} prediction with request id '{body.request_id}'")
        return json_response({"task": name, "request_id": body.request_id, "recorded": True})

    async def drift(window: int = Query(settings.drift_window, ge=10, le=1_000_000)) -> Response:
        loaded = holder.get(name)
        if scorer.plog is None or loaded.profile is None:
            raise NotReadyError(f"Drift for {name} v{loaded.version} needs the prediction log and a reference "
                                "profile")
        report = await run_in_threadpool(window_drift, task, scorer.plog, loaded.profile, loaded.version, window)
        scorer.metrics.observe_drift(report)
        accuracy = await run_in_threadpool(scorer.plog.live_accuracy, name, window)
        return json_response({**report.to_dict(), "live_accuracy": accuracy}, version=loaded.version)

    async def retrain(request: Request) -> Response:
        _require_admin(request, settings)
        run, started = app.state.retrainer.start(name, "requested through the API")
        return json_response({**run.to_dict(), "started": started}, status=202 if started else 409)

    async def retrain_status() -> Response:
        run = app.state.retrainer.runs.get(name)
        if run is None:
            raise NotFoundError(f"No retraining of {name} has run in this server")
        return json_response(run.to_dict())

    async def experiment_start(request: Request) -> Response:
        _require_admin(request, settings)
        body = _parse(ExperimentIn, await request.body())
        exp = await run_in_threadpool(record.start, _store(app), name, body.challenger, body.mode, body.traffic,
                                      body.key, body.metric, body.max_requests, body.guardrails, body.alpha,
                                      body.min_rows, _caller(request))
        await run_in_threadpool(router.refresh, _store(app), name)  # this replica starts at once
        return json_response(exp.to_dict(), status=201)

    async def experiment_status() -> Response:
        exp = await run_in_threadpool(record.load, _store(app), name)
        if exp is None:
            raise NotFoundError(f"No experiment has run on {name}")
        if scorer.plog is None:
            return json_response(exp.to_dict())
        await run_in_threadpool(scorer.plog.flush)  # what this replica answered so far counts
        status = await run_in_threadpool(judge.analyse, scorer.plog, exp)
        scorer.metrics.experiment_p_value.labels(name, exp.id).set(status["test"]["p_value"])
        return json_response(status)

    async def experiment_stop(request: Request) -> Response:
        _require_admin(request, settings)
        exp = await run_in_threadpool(record.end, _store(app), name, "stopped",
                                      f"stopped by {_caller(request)} through the API")
        await run_in_threadpool(router.refresh, _store(app), name)
        return json_response(exp.to_dict())

    app.add_api_route(f"/v1/{name}/experiment", experiment_start, methods=["POST"], tags=[name], status_code=201,
                      summary="Start a shadow or A/B experiment of a version against the champion (admin)",
                      openapi_extra=_body_schema(ExperimentIn))
    app.add_api_route(f"/v1/{name}/experiment", experiment_status, methods=["GET"], tags=[name],
                      summary="The experiment's arms, the sequential test and the guardrails")
    app.add_api_route(f"/v1/{name}/experiment", experiment_stop, methods=["DELETE"], tags=[name],
                      summary="Stop the running experiment; the champion keeps serving (admin)")
    app.add_api_route(f"/v1/{name}/feedback", feedback, methods=["POST"], tags=[name],
                      summary="Record the true label of a logged prediction", openapi_extra=_body_schema(FeedbackIn))
    app.add_api_route(f"/v1/{name}/drift", drift, methods=["GET"], tags=[name],
                      summary="Drift of the latest predictions against the champion's reference profile")
    app.add_api_route(f"/v1/{name}/retrain", retrain, methods=["POST"], tags=[name],
                      summary="Start retraining (admin: X-API-Key)")
    app.add_api_route(f"/v1/{name}/retrain", retrain_status, methods=["GET"], tags=[name])


def _add_generate_routes(app: FastAPI, task: Any, holder: ModelHolder, settings: Settings) -> None:
    """Marketing copy for products, scored by the task's champion (``creative``)."""
    Record = task.record_model
    options = {"variants": (int, Field(4, ge=1, le=10, description="drafts to write and score")),
               "seed": (int, Field(0, ge=0, description="same product + seed -> same copy"))}
    One = create_model(f"{Record.__name__}Generate", __base__=Record, **options)  # type: ignore[call-overload]
    Many = create_model(f"{Record.__name__}GenerateBatch", products=(list[Record], ...), **options)  # type: ignore[call-overload]
    name = task.name

    def answer(loaded: Any, product: dict[str, Any], variants: int, seed: int) -> dict[str, Any]:
        copies = task.generate(loaded.model, product, variants=variants, seed=seed)
        return {"product": product["title"], **copies[0], "variants": copies}

    async def generate(request: Request) -> Response:
        body = _parse(One, await request.body())
        loaded = holder.get(name)
        product = body.model_dump(exclude={"variants", "seed"})
        out = await run_in_threadpool(answer, loaded, product, body.variants, body.seed)
        return json_response({**out, "model": loaded.name, "version": loaded.version}, version=loaded.version)

    async def generate_batch(request: Request) -> Response:
        body = _parse(Many, await request.body())
        if len(body.products) > settings.max_batch_rows:
            raise PayloadTooLargeError(f"{len(body.products)} products exceed the cap of {settings.max_batch_rows}")
        loaded = holder.get(name)

        def run() -> list[dict[str, Any]]:
            return [answer(loaded, p.model_dump(), body.variants, body.seed) for p in body.products]

        results = await run_in_threadpool(run)
        return json_response({"results": results, "model": loaded.name, "version": loaded.version},
                             version=loaded.version)

    app.add_api_route(f"/v1/{name}/generate", generate, methods=["POST"], tags=[name],
                      summary="Caption, hashtags and ad copy for one product, best of several variants",
                      openapi_extra=_body_schema(One))
    app.add_api_route(f"/v1/{name}/generate/batch", generate_batch, methods=["POST"], tags=[name],
                      summary="Copy for several products", openapi_extra=_body_schema(Many))


def _store(app: FastAPI) -> RegistryStore:
    store = getattr(app.state, "store", None)
    if store is None:
        raise NotReadyError("This server was started without the registry")
    return store


def _caller(request: Request) -> str:
    """Who made an admin call, for the audit: the client address and its user agent."""
    host = request.client.host if request.client else "unknown"
    return f"api:{host} ({request.headers.get('user-agent', '')[:60]})"


def _require_admin(request: Request, settings: Settings) -> None:
    if not settings.admin_api_key:
        raise ForbiddenError("Admin routes are disabled: set SKUFLOW_ADMIN_API_KEY")
    if not hmac.compare_digest(request.headers.get("x-api-key", ""), settings.admin_api_key):
        raise UnauthorizedError("Missing or wrong X-API-Key")


def _load(holder: ModelHolder, router: ExperimentRouter, store: RegistryStore, warmup: bool) -> None:
    holder.load_all(store, warmup=warmup)
    for name in task_names():
        try:
            router.refresh(store, name)
        except Exception:  # the champion serves alone until the next poll reads the experiment
            log.exception("reading the experiment of %s failed", name)


def create_app(settings: Settings | None = None, store: RegistryStore | None = None,
               load_models: bool = True) -> FastAPI:
    """Build the API. Champions load in a background thread; ``/ready`` answers 503 until they have
    loaded and answered a warm-up prediction."""
    settings = settings or get_settings()
    keep_large_allocations()  # uvicorn's worker processes never pass through the CLI; before any thread
    holder = ModelHolder()
    metrics = ApiMetrics()
    stop = threading.Event()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        plog = None
        if settings.log_predictions:
            settings.ensure_home()
            plog = PredictionLog(str(settings.prediction_log_url))
        scorer.plog = plog
        app.state.retrainer = RetrainRunner(
            settings, on_finish=lambda run: metrics.retrains.labels(run.task, run.state).inc())
        threads = []
        if load_models:
            reg = store or RegistryStore(settings)
            app.state.store = reg
            threads.append(threading.Thread(target=_load, args=(holder, router, reg, settings.warmup),
                                            daemon=True, name="skuflow-model-loader"))
            if settings.reload_interval > 0:
                threads.append(threading.Thread(target=holder.poll, args=(reg, settings.reload_interval, stop),
                                                kwargs={"refresh": router.refresh}, daemon=True,
                                                name="skuflow-reload"))
        if plog is not None and settings.monitor_interval > 0:
            app.state.monitor = Monitor(settings, plog, app.state.retrainer, served=lambda: {
                t: (m.task, m.version, m.profile) for t, m in holder.loaded().items()}, on_report=metrics.observe_drift)
            threads.append(threading.Thread(target=app.state.monitor.run, args=(stop,), daemon=True,
                                            name="skuflow-monitor"))
        for t in threads:
            t.start()
        yield
        stop.set()
        router.drain(timeout=5.0)
        if plog is not None:
            plog.close()
            metrics.log_dropped.set(plog.dropped)

    app = FastAPI(title="skuflow", version=__version__, lifespan=lifespan,
                  description="Product models served from the MLflow registry's champion alias.")
    app.state.settings = settings
    app.state.holder = holder
    app.state.metrics = metrics
    scorer = Scorer(metrics, None)  # the prediction log is opened at start-up
    app.state.scorer = scorer
    router = ExperimentRouter(scorer, settings.shadow_queue)
    app.state.router = router
    install_error_handlers(app)
    app.add_middleware(MetricsAndLimits, metrics=metrics, max_body_bytes=settings.max_body_bytes)

    known = task_names()
    # built once, not per request; an unknown invocations task answers 404 before it is needed
    invocation_records: Any = (TypeAdapter(list[get_task(settings.invocations_task).record_model])  # type: ignore[arg-type,misc]
                               if settings.invocations_task in known else None)

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
        if scorer.plog is not None:
            metrics.log_dropped.set(scorer.plog.dropped)
        return Response(metrics.render(), media_type=CONTENT_TYPE_LATEST)

    @app.get("/v1/data/generate", tags=["data"])
    async def generate(n: int = Query(50, ge=1, le=10_000), seed: int = Query(0, ge=0)) -> Response:
        frame = generate_catalogue(n, seed=seed)
        frame["created_at"] = frame["created_at"].astype(str)
        return json_response(frame.drop(columns=["image"]).to_dict(orient="records"))

    @app.post("/invocations", tags=["mlflow"])
    async def invocations(request: Request) -> Response:
        """MLflow scoring-server protocol, answered by the ``invocations_task`` champion."""
        started = time.perf_counter()
        task = get_task(settings.invocations_task)  # unknown task -> 404, per request
        records = parse_invocation(await request.body(), request.headers.get("content-type", ""))
        if len(records) > settings.max_batch_rows:
            raise PayloadTooLargeError(f"{len(records)} rows exceed the cap of {settings.max_batch_rows}")
        if not records:
            raise InvalidInputError("body: no rows")
        try:
            rows = [r.model_dump() for r in invocation_records.validate_python(records)]
        except ValidationError as exc:
            raise invalid_input_from(exc) from exc
        loaded = holder.get(task.name)
        rid = _request_id(request)
        bodies = await run_in_threadpool(scorer.score, task, loaded, rows, 1, rid, started)
        return json_response({"predictions": [b["prediction"] for b in bodies]}, version=loaded.version,
                             request_id=rid)

    for name in known:
        _add_task_routes(app, get_task(name), holder, router, scorer, settings)

    @app.api_route("/v1/{task}/{action:path}", methods=["GET", "POST"], include_in_schema=False)
    async def unknown(task: str, action: str) -> Response:
        if task not in known:
            raise TaskNotFoundError(task, known)
        raise NotFoundError(f"Route '/v1/{task}/{action}' not found")

    return app
