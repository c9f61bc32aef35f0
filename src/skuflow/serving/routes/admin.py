"""Admin: what changes state — retraining and online experiments. Every write needs ``X-API-Key`` and is
audited (experiments in the registry's audit; retraining runs through the gate, which audits any move)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter, Request
from fastapi.concurrency import run_in_threadpool
from fastapi.responses import Response
from pydantic import BaseModel, ConfigDict, Field

from skuflow.errors import NotFoundError
from skuflow.experiments import judge, record
from skuflow.serving.context import ServingContext
from skuflow.serving.http import body_schema, caller, error_responses, json_response, parse
from skuflow.tasks.base import Task


class Guardrails(BaseModel):
    """Limits on the challenger's arm; crossing one ends the experiment as harmed."""

    model_config = ConfigDict(extra="forbid")

    error_rate: float | None = Field(None, ge=0.0, le=1.0, description="largest share of failed requests")
    p99_ms: float | None = Field(None, gt=0.0, description="largest p99 latency in milliseconds")


class ExperimentIn(BaseModel):
    challenger: int = Field(ge=1, description="Registered version to try against the champion")
    mode: str = Field("ab", pattern="^(shadow|ab)$")
    traffic: float = Field(0.1, gt=0.0, le=1.0, description="Share of callers sent (ab) or mirrored (shadow)")
    key: str | None = Field(None, max_length=64, description="Record field that identifies a caller")
    metric: Literal[record.METRICS] = "accuracy"  # type: ignore[valid-type]
    max_requests: int | None = Field(None, ge=1)
    guardrails: Guardrails = Field(default_factory=lambda: Guardrails.model_validate({}))
    alpha: float = Field(0.05, gt=0.0, lt=0.5)
    min_rows: int = Field(100, ge=1, description="Feedback rows per arm before a decision")


async def _experiment_status(ctx: ServingContext, name: str) -> dict[str, Any]:
    """The running or last experiment of a task, read with the sequential test over the prediction log."""
    exp = await run_in_threadpool(record.load, ctx.store(), name)
    if exp is None:
        raise NotFoundError(f"No experiment has run on {name}")
    plog = ctx.scorer.plog
    if plog is None:
        return exp.to_dict()
    await run_in_threadpool(plog.flush)  # what this replica answered so far counts
    status = await run_in_threadpool(judge.analyse, plog, exp)
    ctx.metrics.experiment_p_value.labels(name, exp.id).set(status["test"]["p_value"])
    return status


def task_admin_router(task: Task, ctx: ServingContext) -> APIRouter:
    api = APIRouter(prefix=f"/v1/{task.name}", tags=[task.name], responses=error_responses(400, 401, 403, 409))
    name = task.name

    async def retrain(request: Request) -> Response:
        ctx.require_admin(request)
        run, started = ctx.retrainer.start(name, "requested through the API")
        return json_response({**run.to_dict(), "started": started}, status=202 if started else 409)

    async def retrain_status(request: Request) -> Response:
        ctx.require_reader(request)
        run = ctx.retrainer.runs.get(name)
        if run is None:
            raise NotFoundError(f"No retraining of {name} has run in this server")
        return json_response(run.to_dict())

    async def experiment_start(request: Request) -> Response:
        ctx.require_admin(request)
        body = parse(ExperimentIn, await request.body(), ctx.bounds)
        store = ctx.store()
        exp = await run_in_threadpool(record.start, store, name, body.challenger, body.mode, body.traffic,
                                      body.key, body.metric, body.max_requests,
                                      body.guardrails.model_dump(exclude_none=True), body.alpha,
                                      body.min_rows, caller(request))
        await run_in_threadpool(ctx.router.refresh, store, name)  # this replica starts at once
        return json_response(exp.to_dict(), status=201)

    async def experiment_status(request: Request) -> Response:
        ctx.require_reader(request)
        return json_response(await _experiment_status(ctx, name))

    async def experiment_stop(request: Request) -> Response:
        ctx.require_admin(request)
        store = ctx.store()
        exp = await run_in_threadpool(record.end, store, name, "stopped",
                                      f"stopped by {caller(request)} through the API")
        await run_in_threadpool(ctx.router.refresh, store, name)
        return json_response(exp.to_dict())

    api.add_api_route("/experiment", experiment_start, methods=["POST"], status_code=201,
                      summary="Start a shadow or A/B experiment of a version against the champion (admin)",
                      openapi_extra=body_schema(ExperimentIn))
    api.add_api_route("/experiment", experiment_status, methods=["GET"],
                      summary="The experiment's arms, the sequential test and the guardrails")
    api.add_api_route("/experiment", experiment_stop, methods=["DELETE"],
                      summary="Stop the running experiment; the champion keeps serving (admin)")
    run = {"application/json": {"schema": {"type": "object", "description": "the retraining run"}}}
    api.add_api_route("/retrain", retrain, methods=["POST"], summary="Start retraining (admin: X-API-Key)",
                      status_code=202, responses={202: {"description": "started: the run", "content": run},
                                                  409: {"description": "one is already running: that run",
                                                        "content": run}})
    api.add_api_route("/retrain", retrain_status, methods=["GET"])
    return api
