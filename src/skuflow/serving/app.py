"""The FastAPI app factory: one serving context, the routers built over it (probes; per task: predictions,
monitoring, admin; data; and the protocols of other servers: MLflow's ``/invocations``, Open Inference V2),
and a lifespan that loads the champions and starts the hot-reload and drift-monitor threads. Routes parse
input, call the task's ``predict`` on the held champion and format the answer through the task's output
contract; nothing here trains or computes features."""

import logging
import threading
from contextlib import asynccontextmanager

from fastapi import FastAPI, Request
from fastapi.responses import Response
from starlette.exceptions import HTTPException as StarletteHTTPException

from skuflow import __version__
from skuflow.allocator import keep_large_allocations
from skuflow.errors import NotFoundError, TaskNotFoundError
from skuflow.flows.retrain import Monitor, RetrainRunner
from skuflow.monitoring.prediction_log import PredictionLog
from skuflow.monitoring.summaries import keep_summarized
from skuflow.registry.store import RegistryStore
from skuflow.serving.context import ServingContext
from skuflow.serving.direct import DirectRoutes
from skuflow.serving.error_handlers import install_error_handlers
from skuflow.serving.http import COMMON_ERRORS, allowed_methods, error_responses
from skuflow.serving.middleware import MetricsAndLimits
from skuflow.serving.protocols.mlflow import invocations_router
from skuflow.serving.protocols.v2 import v2_router
from skuflow.serving.rate_limits import RateLimits, document_limits
from skuflow.serving.routes.admin import task_admin_router
from skuflow.serving.routes.observability import probes_router, task_monitoring_router
from skuflow.serving.routes.predictions import refresh_schemas, task_router
from skuflow.serving.routes.synthetic import data_router
from skuflow.settings import Settings, get_settings
from skuflow.tasks.base import get_task, task_names

log = logging.getLogger("skuflow.serving")


def _load(ctx: ServingContext, store: RegistryStore) -> None:
    ctx.holder.load_all(store, warmup=ctx.settings.warmup)
    for name in task_names():
        try:
            ctx.router.refresh(store, name)
        except Exception:  # the champion serves alone until the next poll reads the experiment
            log.exception("reading the experiment of %s failed", name)


def _background(ctx: ServingContext, stop: threading.Event, load_models: bool) -> list[threading.Thread]:
    """The champion loader, the hot-reload poll and the drift monitor, as configured."""
    settings, threads = ctx.settings, []
    if load_models:
        threads.append(threading.Thread(target=_load, args=(ctx, ctx.store()), daemon=True,
                                        name="skuflow-model-loader"))
        if settings.reload_interval > 0:
            threads.append(threading.Thread(target=ctx.holder.poll, args=(ctx.store(), settings.reload_interval, stop),
                                            kwargs={"refresh": ctx.router.refresh}, daemon=True,
                                            name="skuflow-reload"))
    if ctx.scorer.plog is not None and settings.summary_interval > 0:
        lock = settings.home / f"summaries-{ctx.scorer.plog.key}.lock"
        threads.append(threading.Thread(target=keep_summarized, args=(ctx.scorer.plog, ctx.holder.loaded,
                                                                      settings.summary_interval, stop, lock),
                                        daemon=True, name="skuflow-summarizer"))
    if ctx.scorer.plog is not None and settings.monitor_interval > 0:
        monitor = Monitor(settings, ctx.scorer.plog, ctx.retrainer, served=ctx.holder.loaded,
                          on_report=ctx.metrics.observe_drift)
        threads.append(threading.Thread(target=monitor.run, args=(stop,), daemon=True, name="skuflow-monitor"))
    return threads


def create_app(settings: Settings | None = None, store: RegistryStore | None = None,
               load_models: bool = True) -> FastAPI:
    """Build the API. Champions load in a background thread; ``/ready`` answers 503 until they have
    loaded and answered a warm-up prediction."""
    settings = settings or get_settings()
    keep_large_allocations()  # uvicorn's worker processes never pass through the CLI; before any thread
    ctx = ServingContext(settings)
    stop = threading.Event()

    @asynccontextmanager
    async def lifespan(app: FastAPI):
        if settings.log_predictions:
            settings.ensure_home()
            ctx.scorer.plog = PredictionLog(str(settings.prediction_log_url), journal_dir=settings.home / "journal"
                                            if settings.prediction_journal else None)
        ctx.retrainer = RetrainRunner(
            settings, on_finish=lambda run: ctx.metrics.retrains.labels(run.task, run.state).inc())
        if load_models:
            ctx.registry = store or RegistryStore(settings)
        for t in _background(ctx, stop, load_models):
            t.start()
        yield
        stop.set()
        ctx.router.drain(timeout=5.0)
        if ctx.scorer.plog is not None:
            ctx.scorer.plog.close()
            ctx.metrics.log_dropped.set(ctx.scorer.plog.dropped)

    app = FastAPI(title="skuflow", version=__version__, lifespan=lifespan,
                  responses=error_responses(*COMMON_ERRORS, 400, 404),
                  description="Product models served from the MLflow registry's champion alias.")
    app.state.context = ctx
    # what tests and operators poke at, by the names they had before the context existed
    app.state.settings, app.state.holder, app.state.metrics = settings, ctx.holder, ctx.metrics
    app.state.scorer, app.state.router = ctx.scorer, ctx.router
    install_error_handlers(app)
    app.add_middleware(DirectRoutes, fastapi_app=app)  # inside the metrics: direct answers are counted too
    if settings.rate_limit_writes or settings.rate_limit_reads:  # before the direct table, inside the metrics
        app.add_middleware(RateLimits, writes_per_minute=settings.rate_limit_writes,
                           reads_per_minute=settings.rate_limit_reads)
    app.add_middleware(MetricsAndLimits, metrics=ctx.metrics, max_body_bytes=settings.max_body_bytes)

    known = task_names()
    app.include_router(probes_router(ctx, known))
    app.include_router(data_router())
    app.include_router(invocations_router(ctx, known))
    app.include_router(v2_router(ctx, known))
    for name in known:
        task = get_task(name)
        for router in (task_router(task, ctx), task_monitoring_router(task, ctx), task_admin_router(task, ctx)):
            app.include_router(router)
    _serve_openapi_of_the_champions(app, ctx, known)
    _answer_unknown_routes(app, known)
    return app


def _serve_openapi_of_the_champions(app: FastAPI, ctx: ServingContext, known: list[str]) -> None:
    """The document follows the served champions: a version trained with declared inputs adds body fields,
    and a task without a champion (every call a 503) is left out until one loads."""
    default_openapi = app.openapi
    app.state.openapi_served = None

    def openapi() -> dict:
        loaded = ctx.holder.loaded()
        served = sorted(loaded)
        if refresh_schemas(app.routes, loaded) or app.state.openapi_served != served:
            app.openapi_schema = None
        if app.openapi_schema is None:
            schema = default_openapi()
            hidden = [f"/v1/{t}/" for t in known if served and t not in served]
            schema["paths"] = {p: v for p, v in schema["paths"].items() if not p.startswith(tuple(hidden))}
            document_limits(schema, bool(ctx.settings.rate_limit_writes), bool(ctx.settings.rate_limit_reads))
            app.openapi_schema, app.state.openapi_served = schema, served
        return app.openapi_schema

    app.openapi = openapi  # type: ignore[method-assign]


def _answer_unknown_routes(app: FastAPI, known: list[str]) -> None:
    """405 for a route asked with another method, 404 naming the tasks for an unknown one."""

    @app.api_route("/v1/{task}/{action:path}", methods=["GET", "POST"], include_in_schema=False)
    async def unknown(request: Request, task: str, action: str) -> Response:
        if allowed_methods(app, request.url.path):  # the route exists for other methods (GET on a POST route)
            raise StarletteHTTPException(405, f"Method {request.method} not allowed on {request.url.path}")
        if task not in known:
            raise TaskNotFoundError(task, known)
        raise NotFoundError(f"Route '/v1/{task}/{action}' not found")

    unknown.skuflow_catch_all = True  # type: ignore[attr-defined]
