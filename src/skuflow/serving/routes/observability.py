"""Monitoring: the probes and Prometheus, every model's info, and per task the feedback that brings true
labels and the drift of the latest predictions against the champion's reference profile."""

from __future__ import annotations

import asyncio
import time
from collections import OrderedDict

from fastapi import APIRouter, Query, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import PlainTextResponse, Response
from pydantic import BaseModel, Field

from skuflow import __version__
from skuflow.errors import NotFoundError, NotReadyError
from skuflow.monitoring import summaries
from skuflow.monitoring.drift import DriftPolicy
from skuflow.monitoring.metrics import CONTENT_TYPE_LATEST
from skuflow.monitoring.window import window_drift
from skuflow.serving.context import ServingContext
from skuflow.serving.http import body_schema, error_responses, json_response, parse
from skuflow.tasks.base import Task


class FeedbackIn(BaseModel):
    request_id: str = Field(min_length=1, max_length=64)
    label: str = Field(min_length=1, max_length=256, description="the true answer (a class, or a number)")


def probes_router(ctx: ServingContext, known: list[str]) -> APIRouter:
    api = APIRouter()

    @api.get("/health", tags=["probes"])
    @api.get("/livez", include_in_schema=False)
    async def health() -> Response:
        return json_response({"status": "ok"})

    @api.get("/ready", tags=["probes"])
    @api.get("/readyz", include_in_schema=False)
    async def ready() -> Response:
        holder = ctx.holder
        loaded = {t: m.version for t, m in holder.loaded().items()}
        if holder.ready:
            return json_response({"status": "ready", "models": loaded})
        return json_response({"error_code": "not_ready", "status": "loading" if not holder.load_error
                              else "failed", "message": holder.load_error or "loading champions",
                              "models": loaded}, status=503)

    @api.get("/info", tags=["models"])
    async def info() -> Response:
        return json_response({"skuflow": __version__, "tasks": known,
                              "models": {t: m.info() for t, m in ctx.holder.loaded().items()}})

    @api.get("/metrics", tags=["probes"], response_class=PlainTextResponse,
             responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}},
                              "description": "Prometheus text format"}})
    async def prometheus() -> Response:
        for t, m in ctx.holder.loaded().items():
            ctx.metrics.model_version.labels(t).set(m.version)
        if ctx.scorer.plog is not None:
            ctx.metrics.log_dropped.set(ctx.scorer.plog.dropped)
        return Response(ctx.metrics.render(), media_type=CONTENT_TYPE_LATEST)

    return api


class LastAnswers:
    """The latest drift answers by (version, window, newest feedback), the least recently read dropped first:
    a fuzzer's thousand windows cannot grow it. An answer stands while the summaries have not moved, and
    for ``max_age`` seconds after they have: under steady traffic they move every summarizer pass, and a
    window recomputed that often would take the predictions' CPU."""

    def __init__(self, size: int = 32, max_age: float = 5.0) -> None:
        self.size, self.max_age = size, max_age
        self._answers = OrderedDict[tuple, tuple[int, float, bytes]]()

    def fresh(self, key: tuple, newest: int) -> bytes | None:
        if key not in self._answers:
            return None
        self._answers.move_to_end(key)
        summarized, at, body = self._answers[key]
        return body if summarized == newest or time.monotonic() - at < self.max_age else None

    def put(self, key: tuple, newest: int, body: bytes) -> None:
        self._answers[key] = (newest, time.monotonic(), body)
        while len(self._answers) > self.size:
            self._answers.popitem(last=False)


def task_monitoring_router(task: Task, ctx: ServingContext) -> APIRouter:
    api = APIRouter(prefix=f"/v1/{task.name}", tags=[task.name])
    name = task.name

    async def feedback(request: Request) -> Response:
        ctx.require_feedback(request)
        body = parse(FeedbackIn, await request.body(), ctx.bounds)
        plog = ctx.log()
        recorded = await run_in_threadpool(plog.add_feedback, name, body.request_id, body.label)
        if not recorded:  # the prediction may still sit in the writer's queue: a client that answers at once
            await run_in_threadpool(plog.flush)
            recorded = await run_in_threadpool(plog.add_feedback, name, body.request_id, body.label)
        if not recorded:
            raise NotFoundError(f"No {name} prediction with request id '{body.request_id}'")
        return json_response({"task": name, "request_id": body.request_id, "recorded": True})

    answers, computing = LastAnswers(), asyncio.Lock()

    async def drift(request: Request, window: int = Query(min(ctx.settings.drift_window,
                                                              ctx.settings.max_drift_window), ge=10,
                                                          le=ctx.settings.max_drift_window)) -> Response:
        ctx.require_reader(request)
        loaded = ctx.holder.get(name)
        if ctx.scorer.plog is None or loaded.profile is None:
            raise NotReadyError(f"Drift for {name} v{loaded.version} needs the prediction log and a reference "
                                "profile")
        plog = ctx.scorer.plog
        # read from the drift summaries the summarizer thread keeps (no featurizing on this path), and
        # answered once per window until the summaries or the feedback move: hammering it costs one lookup
        newest, feedback_mark = await run_in_threadpool(summaries.marks, plog, name, loaded.version)
        key = (loaded.version, window, feedback_mark)
        async with computing:  # readers that miss together wait for one computation, not one each
            body = answers.fresh(key, newest)
            if body is None:
                report = await run_in_threadpool(window_drift, task, plog, loaded.profile, loaded.version, window,
                                                 DriftPolicy.from_settings(ctx.settings), novelty=loaded.novelty)
                ctx.metrics.observe_drift(report)
                live = await run_in_threadpool(plog.live_score, name, task.output, window)
                body = bytes(json_response({**report.to_dict(), "live": live}).body)
                answers.put(key, newest, body)
        return Response(body, media_type="application/json", headers={"X-Model-Version": str(loaded.version)})

    api.add_api_route("/feedback", feedback, methods=["POST"], openapi_extra=body_schema(FeedbackIn),
                      summary="Record the true answer of a logged prediction (X-Feedback-Key or the admin key)",
                      responses=error_responses(401, 403))
    api.add_api_route("/drift", drift, methods=["GET"],
                      summary="Drift of the latest predictions against the champion's reference profile")
    return api
